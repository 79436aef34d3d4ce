//! What a new user meets first: the README's config copied as is (`~` in paths),
//! and a machine someone else already ran taskotron on (issue 24, items 6 and 7).

use std::os::unix::fs::MetadataExt;
use std::process::{Command, Output};

mod common;
use common::{json, workspace, Env};

/// `taskotron` from `cwd` with HOME and a config file, nothing else of ours.
fn run(env: &Env, cwd: &std::path::Path, config: &std::path::Path, args: &[&str]) -> Output {
    run_with(env, cwd, config, args, None)
}

fn run_with(
    env: &Env,
    cwd: &std::path::Path,
    config: &std::path::Path,
    args: &[&str],
    tmpdir: Option<&std::path::Path>,
) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_taskotron"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.home.path());
    if let Some(t) = tmpdir {
        c.env("TASKOTRON_TMPDIR", t);
    }
    c.args(["--color", "never", "--config"])
        .arg(config)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

#[test]
fn a_tilde_in_config_paths_is_the_home_directory() {
    let env = Env::new();
    let cwd = env.home.path().join("elsewhere");
    std::fs::create_dir_all(&cwd).unwrap();
    let config = env.write(
        "taskotron.yaml",
        "artifacts: ~/.local/share/taskotron/artifacts\ntmpdir: $HOME/scratch\nstate_dir: ~/state\n",
    );
    let task = workspace().join("tasks/minimal");
    let o = run(
        &env,
        &cwd,
        &config,
        &[
            "run",
            task.to_str().unwrap(),
            "-i",
            "f41-updates-pending",
            "-t",
            "koji_tag",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report = json(&o);
    let artifacts = report["artifacts"].as_str().unwrap();
    assert!(
        artifacts.starts_with(
            &env.home
                .path()
                .join(".local/share/taskotron/artifacts")
                .display()
                .to_string()
        ),
        "{artifacts}"
    );
    // Nothing named `~` or `$HOME` anywhere it ran.
    assert_eq!(
        std::fs::read_dir(&cwd).unwrap().count(),
        0,
        "a literal path was made in the cwd"
    );
    // What cannot be expanded is refused, naming its key.
    let bad = env.write("bad.yaml", "state_dir: ~bob/state\n");
    let o = run(&env, &cwd, &bad, &["jobs"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("state_dir: `~bob/state` names another user's home"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&cwd).unwrap().count(), 0);
}

#[test]
fn scratch_of_another_user_is_refused_and_a_new_one_is_private() {
    let env = Env::new();
    let task = workspace().join("tasks/minimal");
    let task = task.display().to_string();
    let args = [
        "run",
        task.as_str(),
        "-i",
        "f41-updates-pending",
        "-t",
        "koji_tag",
        "--format",
        "json",
    ];
    let mine = env.home.path().join("mine/taskotron");
    let config = env.write("taskotron.yaml", "");
    let o = run_with(&env, env.home.path(), &config, &args, Some(&mine));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(std::fs::metadata(&mine).unwrap().mode() & 0o777, 0o700);
    // Only root can give a directory away; CI runs as root.
    if std::fs::metadata("/proc/self").unwrap().uid() != 0 {
        return;
    }
    let theirs = env.home.path().join("theirs");
    std::fs::create_dir_all(&theirs).unwrap();
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
    let o = run_with(&env, env.home.path(), &config, &args, Some(&theirs));
    assert_eq!(o.status.code(), Some(1));
    let report = json(&o);
    let status = report["status"].as_str().unwrap();
    assert!(
        status.contains("belongs to user 65534, not to this user (0)"),
        "{status}"
    );
}
