//! Jobs through a real Buildbot 4.3 master and two workers (x86_64, and i386 under
//! `setarch i686`) on loopback, with the master.cfg `taskotron buildbot master-cfg`
//! writes and the adapter in `taskotron_core::buildbot`. Ignored by a plain `cargo
//! test`: `cargo xtask integration` installs Buildbot into `target/buildbot-venv` and
//! runs it.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use taskotron_core::buildbot::BuildbotClient;
use taskotron_core::{Arch, ItemType, JobRequest};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn bin_dir() -> PathBuf {
    taskotron_tests::bin::taskotron();
    taskotron_tests::bin::dir()
}

fn venv() -> PathBuf {
    workspace().join("target/buildbot-venv/bin")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run(cmd: &mut Command, what: &str) {
    let o = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        o.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Stops the master and workers however the test ends.
struct Farm {
    dirs: Vec<(PathBuf, bool)>,
}

impl Drop for Farm {
    fn drop(&mut self) {
        for (dir, master) in &self.dirs {
            let tool = if *master {
                "buildbot"
            } else {
                "buildbot-worker"
            };
            let _ = Command::new(venv().join(tool))
                .args(["stop", dir.to_str().unwrap()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Copies the directory `from` (dot files too) to `to`.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
#[ignore = "needs Buildbot: run `cargo xtask integration`"]
fn jobs_run_on_the_worker_of_their_arch_and_report() {
    assert!(
        venv().join("buildbot").exists(),
        "Buildbot is not installed: run `cargo xtask integration`"
    );
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (web, pb) = (free_port(), free_port());
    let password = "loopback-only";
    // The task mirror: <mirror>/nvr-check.git, a real git repository.
    let src = root.join("src/nvr-check");
    std::fs::create_dir_all(&src).unwrap();
    for f in ["runtask.yml", "nvr_check.py"] {
        std::fs::copy(workspace().join("tasks/nvr-check").join(f), src.join(f)).unwrap();
    }
    taskotron_tests::git::publish(&src, &root.join("mirror/nvr-check.git"));
    // And an fmf tree (tmt plans), which Buildbot's step runs as it runs a formula.
    let tmt_src = root.join("src/tmt-smoke");
    copy_dir(&workspace().join("tasks/tmt-smoke"), &tmt_src);
    taskotron_tests::git::publish(&tmt_src, &root.join("mirror/tmt-smoke.git"));
    // And a playbook task (Taskotron's last generation).
    let playbook_src = root.join("src/nvr-playbook");
    copy_dir(&workspace().join("tasks/nvr-playbook"), &playbook_src);
    taskotron_tests::git::publish(&playbook_src, &root.join("mirror/nvr-playbook.git"));
    // taskotron's config, for master-cfg.
    let config = root.join("taskotron.yaml");
    std::fs::write(
        &config,
        format!(
            "buildbot_workers:\n  - {{name: w-x86_64, arch: x86_64}}\n  - {{name: w-i386, arch: i386}}\nbuildbot_web: 'tcp:{web}:interface=127.0.0.1'\nbuildbot_pb: 'tcp:{pb}:interface=127.0.0.1'\nbuildbot_url: 'http://127.0.0.1:{web}/'\nbuildbot_mirror: 'file://{}'\n",
            root.join("mirror").display()
        ),
    )
    .unwrap();
    let master = root.join("master");
    let mut farm = Farm { dirs: Vec::new() };
    run(
        Command::new(venv().join("buildbot")).args([
            "create-master",
            "-q",
            master.to_str().unwrap(),
        ]),
        "create-master",
    );
    run(
        Command::new(bin_dir().join("taskotron"))
            .args(["buildbot", "master-cfg", "--out"])
            .arg(master.join("master.cfg"))
            .env("TASKOTRON_CONFIG", &config),
        "master-cfg",
    );
    run(
        Command::new(venv().join("buildbot"))
            .args(["start", master.to_str().unwrap()])
            .env("TASKOTRON_BUILDBOT_WORKER_PASSWORD", password),
        "buildbot start",
    );
    farm.dirs.push((master.clone(), true));
    let path = format!(
        "{}:{}:{}",
        bin_dir().display(),
        venv().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for (name, setarch) in [("w-x86_64", false), ("w-i386", true)] {
        let dir = root.join(name);
        run(
            Command::new(venv().join("buildbot-worker"))
                .args([
                    "create-worker",
                    "-q",
                    "--umask=0o022",
                    dir.to_str().unwrap(),
                ])
                .arg(format!("127.0.0.1:{pb}"))
                .args([name, password]),
            "create-worker",
        );
        let mut start = if setarch {
            let mut c = Command::new("setarch");
            c.arg("i686").arg(venv().join("buildbot-worker"));
            c
        } else {
            Command::new(venv().join("buildbot-worker"))
        };
        run(
            start
                .args(["start", dir.to_str().unwrap()])
                .env("PATH", &path)
                .env("HOME", root)
                .env(
                    "TASKOTRON_ANSIBLE_PLAYBOOK",
                    workspace().join("target/ansible-venv/bin/ansible-playbook"),
                )
                .process_group(0),
            "buildbot-worker start",
        );
        farm.dirs.push((dir, false));
    }
    let client = BuildbotClient::new(&format!("http://127.0.0.1:{web}/"));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let connected = agent
            .get(&format!("http://127.0.0.1:{web}/api/v2/workers"))
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok())
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .map(|v| {
                v["workers"]
                    .as_array()
                    .map(|ws| {
                        ws.iter()
                            .filter(|w| w["connected_to"].as_array().is_some_and(|c| !c.is_empty()))
                            .count()
                    })
                    .unwrap_or(0)
            })
            .unwrap_or(0);
        if connected == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the workers did not connect");
        std::thread::sleep(Duration::from_millis(200));
    }
    let job = |arch: Arch| JobRequest {
        item: "htop-3.3.0-1.fc41".into(),
        item_type: ItemType::KojiBuild,
        taskname: "nvr-check".into(),
        arch,
        source: None,
        plan: None,
    };
    let submitted: Vec<(Arch, String, u64)> = [Arch::X86_64, Arch::I386, Arch::X86_64]
        .into_iter()
        .enumerate()
        .map(|(n, arch)| {
            let build_id = format!("bb-{n}");
            let request = client.submit(&job(arch), &build_id).unwrap();
            (arch, build_id, request)
        })
        .collect();
    for (arch, build_id, request) in submitted {
        let done = client.wait(request, Duration::from_secs(120)).unwrap();
        assert_eq!(done.results, 0, "{done:?}");
        assert_eq!(done.worker.as_deref(), Some(format!("w-{arch}").as_str()));
        let report = done.report.expect("the run's report is in the step log");
        assert_eq!(report.build_id.as_deref(), Some(build_id.as_str()));
        assert_eq!(report.arch.to_string(), arch.to_string());
        assert!(
            master
                .join("artifacts")
                .join(&build_id)
                .join(&report.run_id)
                .join("execution.json")
                .exists(),
            "the artifacts were uploaded to the master"
        );
    }
    // A task in another format goes the same way: the step runs the fmf tree's plans.
    let tmt_job = JobRequest {
        item: "tmt-smoke-1.0-1.fc41".into(),
        taskname: "tmt-smoke".into(),
        ..job(Arch::X86_64)
    };
    let request = client.submit(&tmt_job, "bb-tmt").unwrap();
    let done = client.wait(request, Duration::from_secs(120)).unwrap();
    let report = done
        .report
        .as_ref()
        .expect("the run's report is in the step log");
    let names: Vec<&str> = report
        .results
        .iter()
        .map(|r| r.checkname.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        [
            "fedora-ci.koji-build./plans/full.functional",
            "fedora-ci.koji-build./plans/smoke.functional"
        ],
        "{done:?}"
    );
    // And a playbook task: the step runs its playbooks.
    let playbook_job = JobRequest {
        taskname: "nvr-playbook".into(),
        ..job(Arch::X86_64)
    };
    let request = client.submit(&playbook_job, "bb-playbook").unwrap();
    let done = client.wait(request, Duration::from_secs(180)).unwrap();
    let report = done
        .report
        .as_ref()
        .expect("the run's report is in the step log");
    assert_eq!(
        report.results.first().and_then(|r| r.checkname.as_deref()),
        Some("dist.nvr-playbook"),
        "{done:?}"
    );
    let refused = client.submit(&job(Arch::Armhfp), "bb-x").unwrap_err();
    assert!(
        refused.to_string().starts_with("Buildbot refused the job"),
        "{refused}"
    );
    // The same through the CLI.
    let o = Command::new(bin_dir().join("taskotron"))
        .args(["--color", "never", "buildbot", "submit", "nvr-check"])
        .args(["-i", "htop-3.3.0-1.fc41", "-t", "koji_build", "-a", "i386"])
        .args(["--wait", "--format", "json"])
        .env("TASKOTRON_CONFIG", &config)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows[0]["worker"], "w-i386");
    assert_eq!(rows[0]["results"], 0);
    assert_eq!(rows[0]["report"]["build_id"], rows[0]["build_id"]);
    let o = Command::new(bin_dir().join("taskotron"))
        .args(["--color", "never", "buildbot", "submit", "nvr-check"])
        .args([
            "-i",
            "htop-3.3.0-1.fc41",
            "-t",
            "koji_build",
            "-a",
            "armhfp",
        ])
        .env("TASKOTRON_CONFIG", &config)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Buildbot refused the job"));
    drop(farm);
}
