//! A task never sees a secret it was not given: credentials in the caller's
//! environment and in the configuration appear in no artifact of a run whose task
//! prints its whole environment, whether the run is a task author's `taskotron run`
//! or a worker's job.

use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::Env;

/// Every secret, each a distinct canary.
const CANARIES: &[(&str, &str)] = &[
    ("TASKOTRON_RESULTSDB_TOKEN", "canary-env-resultsdb-token"),
    (
        "TASKOTRON_RESULTSDB_PASSWORD",
        "canary-env-resultsdb-password",
    ),
    ("TASKOTRON_BODHI_TOKEN", "canary-env-bodhi-token"),
    ("AWS_SECRET_ACCESS_KEY", "canary-env-aws"),
];

fn setup(env: &Env) -> std::path::PathBuf {
    env.write(
        "t/runtask.yml",
        "name: t\nnamespace: scratch\ndesc: prints its environment\nmaintainer: tests\ninput:\n  args: [koji_build]\nactions:\n  - name: shell\n    shell:\n      - env\n      - cat /proc/self/environ > ${artifactsdir}/environ\n  - name: python\n    python: {file: check.py, callable: run, out: '${artifactsdir}/python-env.txt'}\n",
    );
    env.write(
        "t/check.py",
        "import os\n\ndef run(out):\n    with open(out, 'w') as f:\n        for k, v in sorted(os.environ.items()):\n            f.write('%s=%s\\n' % (k, v))\n    print(dict(os.environ))\n",
    );
    env.write(
        "taskotron.yaml",
        &format!(
            "state_dir: {0}/state\nartifacts: {0}/artifacts\ntmpdir: {0}/tmp\ntask_path: [{0}]\nresultsdb_password: canary-config-password\nresultsdb_username: u\nresultsdb_token: canary-config-token\nbodhi_token: canary-config-bodhi\nbodhi_url: http://taskotron:canary-config-url@127.0.0.1:9/\ntask_env: [PUBLIC_SETTING]\n",
            env.home.path().display()
        ),
    )
}

fn taskotron(env: &Env, config: &Path, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_taskotron"));
    c.args(["--color", "never", "--config"])
        .arg(config)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.home.path())
        .env("PUBLIC_SETTING", "visible");
    for (k, v) in CANARIES {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// Every file under `dir`, read.
fn contents(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(contents(&path));
        } else {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            out.push((path.display().to_string(), text));
        }
    }
    out
}

fn assert_no_canary(dir: &Path) {
    let files = contents(dir);
    assert!(files.len() >= 5, "the run wrote its artifacts: {files:?}");
    let all: String = files.iter().map(|(_, t)| t.as_str()).collect();
    // The task did print its environment, with what it was given.
    assert!(all.contains("TASKOTRON_ITEM=htop-3.3.0-1.fc41"), "{all}");
    assert!(
        all.contains("PUBLIC_SETTING=visible"),
        "task_env passes: {all}"
    );
    assert!(
        all.contains("TASKOTRON_BODHI_URL=http://taskotron:***@127.0.0.1:9/"),
        "{all}"
    );
    for (path, text) in &files {
        assert!(!text.contains("canary"), "a secret in {path}:\n{text}");
    }
}

#[test]
fn a_task_author_run_shows_the_task_no_secret() {
    let env = Env::new();
    let config = setup(&env);
    let task = env.home.path().join("t");
    let o = taskotron(
        &env,
        &config,
        &[
            "run",
            task.to_str().unwrap(),
            "-i",
            "htop-3.3.0-1.fc41",
            "-t",
            "koji_build",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_no_canary(&env.home.path().join("artifacts"));
}

#[test]
fn a_workers_job_shows_the_task_no_secret() {
    let env = Env::new();
    let config = setup(&env);
    let o = taskotron(
        &env,
        &config,
        &[
            "schedule",
            "t",
            "-i",
            "htop-3.3.0-1.fc41",
            "-t",
            "koji_build",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = taskotron(&env, &config, &["worker", "--once"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = taskotron(&env, &config, &["jobs", "--format", "json"]);
    let jobs = String::from_utf8_lossy(&o.stdout);
    assert!(jobs.contains("COMPLETED"), "{jobs}");
    assert!(!jobs.contains("canary"), "{jobs}");
    assert_no_canary(&env.home.path().join("artifacts"));
}

#[test]
fn task_env_cannot_name_a_credential() {
    let env = Env::new();
    let config = env.write(
        "taskotron.yaml",
        "python: python3\ntask_env:\n  - PUBLIC\n  - TASKOTRON_BODHI_TOKEN\n",
    );
    let o = taskotron(&env, &config, &["config"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("taskotron.yaml:4:"), "{err}");
    assert!(err.contains("TASKOTRON_"), "{err}");
}
