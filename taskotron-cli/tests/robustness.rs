//! Bad input and hostile conditions at the binary's edge: every one ends in a clear
//! message and a documented exit code, never a panic (exit 101 or 134).

use std::process::Output;

mod common;
use common::{stderr, Env};

fn code(o: &Output) -> Option<i32> {
    o.status.code()
}

#[test]
fn durations_too_long_for_a_clock_are_refused_where_they_are_written() {
    let env = Env::new();
    env.write(
        "t/runtask.yml",
        "name: t\nactions:\n  - name: a\n    shell: [\"true\"]\n    timeout: 9223372036854775807s\n",
    );
    let task = env.home.path().join("t");
    let task = task.to_str().unwrap();
    for args in [
        vec!["validate", task],
        vec!["run", task, "-i", "htop-3.3.0-1.fc41", "-t", "koji_build"],
    ] {
        let o = env.run(&args);
        let err = stderr(&o, &env);
        assert_eq!(code(&o), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("invalid timeout: too long") && err.contains("runtask.yml:5:14"),
            "{err}"
        );
    }
    // The same in the configuration: the file and line, exit 2, before anything runs.
    for key in ["action_timeout", "download_timeout", "job_timeout"] {
        let config = env.write(
            "taskotron.yaml",
            &format!("python: python3\n{key}: 9223372036854775807s\n"),
        );
        for args in [
            vec![
                "--config",
                config.to_str().unwrap(),
                "run",
                "tasks/nvr-check",
                "-i",
                "htop-3.3.0-1.fc41",
                "-t",
                "koji_build",
            ],
            vec!["--config", config.to_str().unwrap(), "worker", "--once"],
        ] {
            let o = env.run(&args);
            let err = stderr(&o, &env);
            assert_eq!(code(&o), Some(2), "{key} {args:?}: {err}");
            assert!(
                err.contains("too long") && err.contains("taskotron.yaml:2:"),
                "{err}"
            );
        }
    }
}
