//! `cargo xtask bench playbooks`: a Taskotron playbook task of one task run by
//! `taskotron run` (without and with the sandbox) against `ansible-playbook` run
//! directly on the same playbook with the same variables (the same ansible-core,
//! in `target/ansible-venv`), measured in the same run.

use std::fmt::Write as _;
use std::process::Command;

use anyhow::{bail, Result};

use crate::bench::{measure, median_wall, ms};
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
    // Interleaved, one of each in turn: the load of a shared machine changes
    // over a minute, and then falls on all three alike.
    let (plain, sandboxed) = (ours("none"), ours("sandbox"));
    {
        measure(&mut theirs())?;
        measure(&mut plain())?;
        measure(&mut sandboxed())?;
    }
    let (mut t, mut o_plain, mut o_sandbox) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        t.push(measure(&mut theirs())?);
        o_plain.push(measure(&mut plain())?);
        o_sandbox.push(measure(&mut sandboxed())?);
    }
    let mut report = String::new();
    let mut failed = Vec::new();
    let tw = median_wall(&t);
    writeln!(report, "ansible-playbook alone: {:>7.1} ms", ms(tw))?;
    for (isolation, target, o) in [
        ("none", PLAIN_TARGET, &o_plain),
        ("sandbox", SANDBOX_TARGET, &o_sandbox),
    ] {
        let ow = median_wall(o);
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
    // taskotron's own ansible-core, installed on first use (e2e's tools
    // directory, which a first e2e run fills): after that, a run asks PyPI
    // nothing, which a PyPI that cannot be reached shows.
    let tools = root().join("target/e2e-tools");
    let cached = |offline: bool| {
        let mut c = ours("none")();
        c.env_remove("TASKOTRON_ANSIBLE_PLAYBOOK")
            .env("TASKOTRON_TOOLS_DIR", &tools);
        if offline {
            c.env("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
                .env("PIP_NO_INDEX", "1");
        }
        c
    };
    let first = measure(&mut cached(false))?;
    let offline = measure(&mut cached(true))?;
    writeln!(
        report,
        "taskotron's ansible-core (target/e2e-tools, installed by its first run): {:>7.1} ms, with PyPI unreachable {:>7.1} ms ({})",
        ms(first.wall),
        ms(offline.wall),
        if offline.success { "no PyPI request" } else { "FAILED" }
    )?;
    if !first.success || !offline.success {
        failed.push("cached ansible-core");
    }
    print!("{report}");
    if !failed.is_empty() {
        bail!("bench playbooks: targets missed for {}", failed.join(", "));
    }
    println!("bench playbooks: all targets met");
    Ok(())
}
