//! `cargo xtask bench playbooks`: a Taskotron playbook task of one task run by
//! `taskotron run` (without and with the sandbox) against `ansible-playbook` run
//! directly on the same playbook with the same variables (the same ansible-core,
//! in `target/ansible-venv`), measured in the same run.

use std::fmt::Write as _;
use std::process::Command;

use anyhow::{bail, Result};

use crate::bench::{median_wall, ms, repeat};
use crate::util::{cargo, root, step};

/// At most this much slower than ansible-playbook alone, without the sandbox.
const PLAIN_TARGET: f64 = 1.15;
/// And with it.
const SANDBOX_TARGET: f64 = 1.25;

const PLAYBOOK: &str = "- hosts: localhost\n  gather_facts: false\n  vars:\n    taskotron_generic_task: true\n  tasks:\n    - name: results\n      ansible.builtin.copy:\n        dest: \"{{ artifacts }}/taskotron/results.yml\"\n        content: \"results:\\n  - {item: '{{ taskotron_item }}', type: koji_build, checkname: dist.bench, outcome: PASSED}\\n\"\n";

pub fn run(args: &[String]) -> Result<()> {
    let runs = crate::util::runs_arg(args, 11);
    let mut build = cargo();
    build.args(["build", "--release", "--quiet", "-p", "taskotron-cli"]);
    step("cargo build --release", build)?;
    crate::integration::install_ansible()?;
    let bin = root().join("target/release/taskotron");
    let ansible = root().join("target/ansible-venv/bin/ansible-playbook");
    let work = root().join("target/bench/playbooks");
    let _ = std::fs::remove_dir_all(&work);
    let task = work.join("task");
    std::fs::create_dir_all(&task)?;
    std::fs::write(task.join("tests.yml"), PLAYBOOK)?;
    // The direct run gets what ours gives the playbook.
    let direct = work.join("direct");
    std::fs::create_dir_all(direct.join("taskotron"))?;
    let vars = work.join("vars.json");
    std::fs::write(
        &vars,
        serde_json::json!({
            "artifacts": direct.display().to_string(),
            "taskotron_item": "htop-3.3.0-1.fc41",
            "taskotron_item_type": "koji_build",
            "ansible_python_interpreter": "/usr/bin/python3",
        })
        .to_string(),
    )?;
    let theirs = || {
        let mut c = Command::new(&ansible);
        c.args(["-i", "localhost,", "-c", "local", "tests.yml", "-e"])
            .arg(format!("@{}", vars.display()))
            .current_dir(&task)
            .env("ANSIBLE_NOCOLOR", "1");
        c
    };
    let ours = |isolation: &'static str| {
        let (bin, task, work, ansible) = (bin.clone(), task.clone(), work.clone(), ansible.clone());
        move || {
            let mut c = Command::new(&bin);
            c.args(["-q", "run"])
                .arg(&task)
                .args([
                    "-i",
                    "htop-3.3.0-1.fc41",
                    "-t",
                    "koji_build",
                    "-a",
                    "x86_64",
                ])
                .args(["--isolation", isolation, "--artifacts"])
                .arg(work.join("artifacts"))
                .env("TASKOTRON_TMPDIR", work.join("tmp"))
                .env("TASKOTRON_STATE_DIR", work.join("state"))
                .env("TASKOTRON_ANSIBLE_PLAYBOOK", &ansible);
            c
        }
    };
    let t = repeat(runs, 1, theirs)?;
    let mut report = String::new();
    let mut failed = Vec::new();
    let tw = median_wall(&t);
    writeln!(report, "ansible-playbook alone: {:>7.1} ms", ms(tw))?;
    for (isolation, target) in [("none", PLAIN_TARGET), ("sandbox", SANDBOX_TARGET)] {
        let o = repeat(runs, 1, ours(isolation))?;
        let ow = median_wall(&o);
        let ratio = ow.as_secs_f64() / tw.as_secs_f64();
        writeln!(
            report,
            "taskotron run ({isolation:<7}): {:>7.1} ms | {ratio:.2}x ansible-playbook alone (target <= {target}x)",
            ms(ow)
        )?;
        if ratio > target || o.iter().chain(&t).any(|s| !s.success) {
            failed.push(isolation);
        }
    }
    print!("{report}");
    if !failed.is_empty() {
        bail!("bench playbooks: targets missed for {}", failed.join(", "));
    }
    println!("bench playbooks: all targets met");
    Ok(())
}
