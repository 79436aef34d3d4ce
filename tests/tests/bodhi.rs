//! Bodhi comments: the client against the mock Bodhi (login, history, posting and
//! its errors), and the `bodhi_comment` directive's rules end to end.

use std::time::Duration;

use taskotron_core::bodhi::{BodhiClient, BodhiError};
use taskotron_core::ports::Ports;
use taskotron_core::resultsdb::Reporting;
use taskotron_core::runner::{self, Quiet, RunOptions};
use taskotron_core::{ExecutionStatus, ItemType};
use taskotron_mock::bodhi::{BodhiFixture, MockBodhi};

const UPDATE: &str = "FEDORA-2024-1a2b3c4d5e";

fn bodhi() -> MockBodhi {
    let fixture: BodhiFixture = serde_norway::from_str(&format!(
        "users:\n  - {{name: taskotron, token: t0ken}}\nupdates:\n  - alias: {UPDATE}\n    comments:\n      - {{user: ralph, text: 'Works for me', timestamp: '2024-01-01 00:00:00', karma: 1}}\n"
    ))
    .unwrap();
    MockBodhi::new(&fixture)
}

#[test]
fn the_client_logs_in_reads_history_and_posts() {
    let mock = bodhi();
    let server = mock.serve().unwrap();
    let mut client = BodhiClient::new(&server.url(), "taskotron", Duration::from_secs(5));
    assert!(matches!(
        client.login("wrong"),
        Err(BodhiError::Refused { status: 401, .. })
    ));
    let anonymous = client.comment(UPDATE, "hi");
    assert_eq!(
        anonymous,
        Err(BodhiError::Refused {
            status: 403,
            message: "You must provide an author".into()
        })
    );
    client.login("t0ken").unwrap();
    assert!(
        client.earlier(UPDATE).unwrap().is_empty(),
        "ralph's comment is not ours"
    );
    let text = taskotron_core::bodhi::text(
        "dist.upgradepath",
        taskotron_core::results::Outcome::Failed,
        "noarch",
        "https://log/1",
    );
    client.comment(UPDATE, &text).unwrap();
    let earlier = client.earlier(UPDATE).unwrap();
    assert_eq!((earlier.len(), earlier[0].outcome.as_str()), (1, "FAILED"));
    let unknown = client.comment("FEDORA-2024-0000000000", "x");
    assert_eq!(
        unknown,
        Err(BodhiError::Refused {
            status: 404,
            message: "Invalid update specified: FEDORA-2024-0000000000".into()
        })
    );
}

fn run_with(
    reporting: Reporting,
    outcome: &str,
    doreport: &str,
) -> taskotron_core::ExecutionReport {
    run_as(reporting, outcome, doreport, None)
}

/// [`run_with`] as the job `build_id` when given (what a worker's run is).
fn run_as(
    reporting: Reporting,
    outcome: &str,
    doreport: &str,
    build_id: Option<&str>,
) -> taskotron_core::ExecutionReport {
    let dir = tempfile::tempdir().unwrap();
    let formula = format!(
        "name: upgradepath\nnamespace: dist\nactions:\n  - name: check\n    shell:\n      - \"printf 'results:\\\\n  - item: %s\\\\n    type: bodhi_update\\\\n    outcome: {outcome}\\\\n' ${{item}}\"\n    export: out\n  - name: comment\n    bodhi_comment:\n      results: ${{out}}\n      doreport: {doreport}\n"
    );
    let file = dir.path().join("runtask.yml");
    std::fs::write(&file, &formula).unwrap();
    let formula = taskotron_core::formula::load(&formula, &file)
        .unwrap()
        .formula;
    let opts = RunOptions {
        input: runner::task_input(UPDATE, ItemType::BodhiUpdate, build_id.map(str::to_string)),
        arch: None,
        overrides: Vec::new(),
        artifacts_root: dir.path().join("artifacts"),
        tmpdir: std::env::temp_dir().join("taskotron-bodhi-tests"),
        default_timeout: Duration::from_secs(60),
        python: "python3".into(),
        task_env: Vec::new(),
        install_rpms: Default::default(),
        run_id: None,
        isolation: Default::default(),
        sandbox: Default::default(),
        remote: None,
        reporting,
        services: Default::default(),
    };
    runner::run(&formula, &opts, Ports::system(), &mut Quiet).unwrap()
}

#[test]
fn comments_follow_the_original_rules() {
    let mock = bodhi();
    let server = mock.serve().unwrap();
    let reporting = Reporting {
        bodhi_url: Some(server.url()),
        bodhi_user: "taskotron".into(),
        bodhi_token: Some("t0ken".into()),
        bodhi_comment_span: 4320,
        ..Reporting::default()
    };
    let ours = || {
        mock.comments(UPDATE)
            .into_iter()
            .filter(|c| c.user == "taskotron")
            .count()
    };
    assert!(run_with(reporting.clone(), "PASSED", "onchange").is_ok());
    assert_eq!(ours(), 1, "the first result is said");
    assert!(run_with(reporting.clone(), "PASSED", "onchange").is_ok());
    assert_eq!(ours(), 1, "an unchanged result is not said again");
    assert!(run_with(reporting.clone(), "FAILED", "onchange").is_ok());
    assert_eq!(ours(), 2, "a change is said");
    assert!(run_with(reporting.clone(), "FAILED", "onchange").is_ok());
    assert_eq!(ours(), 2, "a FAILED inside the span is not repeated");
    assert!(run_with(reporting.clone(), "FAILED", "all").is_ok());
    assert_eq!(ours(), 3, "doreport: all says it anyway");
    assert!(run_with(reporting.clone(), "ABORTED", "all").is_ok());
    assert_eq!(ours(), 3, "ABORTED is never said");
    let last = mock.comments(UPDATE).pop().unwrap();
    assert!(
        last.text
            .starts_with("Taskotron: dist.upgradepath test FAILED on noarch. Result log:\nfile://"),
        "{}",
        last.text
    );
    assert!(last.text.ends_with("\n(results are informative only)"));
    assert_eq!(last.karma, 0);
    let bad_token = Reporting {
        bodhi_token: Some("nope".into()),
        ..reporting
    };
    let report = run_with(bad_token, "FAILED", "all");
    assert_eq!(report.execution_status, ExecutionStatus::NotOk);
    assert!(report.status.unwrap().contains("Bodhi refused (401)"));
}

/// With taskotron's web server in front (`web_url`), a job's comment links the job's
/// page, where every result and artifact is; a standalone run keeps the log link.
#[test]
fn a_jobs_comment_links_its_page_when_the_web_server_shows_it() {
    let mock = bodhi();
    let server = mock.serve().unwrap();
    let reporting = Reporting {
        bodhi_url: Some(server.url()),
        bodhi_user: "taskotron".into(),
        bodhi_token: Some("t0ken".into()),
        artifacts_base_url: Some("http://127.0.0.1:8080/artifacts".into()),
        job_url_template: Some("http://127.0.0.1:8080/jobs/{build_id}".into()),
        web_url: Some("http://127.0.0.1:8080".into()),
        ..Reporting::default()
    };
    let report = run_as(reporting.clone(), "FAILED", "all", Some("job-42"));
    assert!(report.is_ok(), "{report:?}");
    let last = mock.comments(UPDATE).pop().unwrap();
    assert_eq!(
        last.text,
        "Taskotron: dist.upgradepath test FAILED on noarch. Result log:\nhttp://127.0.0.1:8080/jobs/job-42\n(results are informative only)"
    );
    assert!(run_with(reporting, "PASSED", "all").is_ok());
    let last = mock.comments(UPDATE).pop().unwrap();
    assert!(
        last.text
            .contains("Result log:\nhttp://127.0.0.1:8080/artifacts/"),
        "{}",
        last.text
    );
}

#[test]
fn taskotron_report_comments_in_bodhi() {
    let mock = bodhi();
    let server = mock.serve().unwrap();
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("results.yml");
    std::fs::write(&file, format!("results:\n  - item: {UPDATE}\n    type: bodhi_update\n    outcome: FAILED\n    checkname: dist.upgradepath\n")).unwrap();
    std::fs::write(home.path().join("none.yaml"), "").unwrap();
    let bin = taskotron_tests::bin::taskotron();
    let out = std::process::Command::new(bin)
        .args([
            "-q",
            "report",
            file.to_str().unwrap(),
            "--bodhi",
            &server.url(),
            "--arch",
            "x86_64",
        ])
        .env("TASKOTRON_CONFIG", home.path().join("none.yaml"))
        .env("TASKOTRON_BODHI_TOKEN", "t0ken")
        .env("TASKOTRON_STATE_DIR", home.path().join("state"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours: Vec<_> = mock
        .comments(UPDATE)
        .into_iter()
        .filter(|c| c.user == "taskotron")
        .collect();
    assert_eq!(ours.len(), 1);
    assert!(
        ours[0]
            .text
            .starts_with("Taskotron: dist.upgradepath test FAILED on x86_64."),
        "{}",
        ours[0].text
    );
}
