//! Drives the runner from dictionary fixtures alone: a `Job` and the mocks of its
//! ports. The execution reports and event streams are snapshots.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use taskotron_core::dict::Dictionary;
use taskotron_core::runner::{self, RunOptions};
use taskotron_core::{Job, TaskInput};
use taskotron_doubles::{MockPorts, Recorder, World};

#[derive(Deserialize)]
struct Scenario {
    job: serde_norway::Value,
    task: PathBuf,
    mocks: MockPorts,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs a scenario; returns the report as stable JSON and the recorded events.
fn run_scenario(name: &str) -> (serde_json::Value, Vec<String>) {
    let text = std::fs::read_to_string(
        workspace()
            .join("tests/fixtures")
            .join(format!("{name}.scenario.yml")),
    )
    .unwrap();
    let scenario: Scenario = serde_norway::from_str(&text).unwrap();
    let job = Job::from_yaml(&serde_norway::to_string(&scenario.job).unwrap()).unwrap();
    let world = World::new(&scenario.mocks).unwrap();
    let loaded =
        taskotron_core::load_task(&workspace().join(&scenario.task).join(&job.yamlfile)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = RunOptions {
        input: TaskInput {
            item: job.item.clone(),
            item_type: job.item_type,
            build_id: job.build_id.clone(),
        },
        arch: Some(job.arch),
        overrides: Vec::new(),
        artifacts_root: dir.path().join("artifacts"),
        tmpdir: dir.path().join("tmp"),
        default_timeout: std::time::Duration::from_secs(60),
        python: "python3".into(),
        task_env: Vec::new(),
        install_rpms: Default::default(),
        run_id: None,
        isolation: Default::default(),
        sandbox: Default::default(),
        remote: None,
        reporting: Default::default(),
        services: Default::default(),
    };
    let mut recorder = Recorder::default();
    let report = runner::run(&loaded.formula, &opts, world.ports(), &mut recorder).unwrap();
    // The report must survive the trip through a plain mapping unchanged.
    let back = taskotron_core::ExecutionReport::from_mapping(report.to_mapping()).unwrap();
    assert_eq!(back, report);
    let mut value = serde_json::to_value(&report).unwrap();
    value["duration_ms"] = 0.into();
    value["artifacts"] = "[ARTIFACTS]".into();
    for action in value["actions"].as_array_mut().unwrap() {
        action["duration_ms"] = 0.into();
    }
    (value, recorder.lines)
}

#[test]
fn a_job_dictionary_runs_the_example_task() {
    let (report, events) = run_scenario("nvr-check");
    assert_eq!(report["run_id"], "11111111-2222-3333-4444-555555555555");
    assert_eq!(report["started_at"], "2026-11-28T12:00:00.000Z");
    insta::assert_snapshot!(
        "nvr_check_report",
        serde_json::to_string_pretty(&report).unwrap()
    );
    insta::assert_snapshot!("nvr_check_events", events.join("\n"));
}

#[test]
fn a_failing_action_skips_the_rest() {
    let (report, events) = run_scenario("failing");
    assert_eq!(report["execution_status"], "NOT_OK");
    assert_eq!(report["run_id"], "run-1");
    insta::assert_snapshot!(
        "failing_report",
        serde_json::to_string_pretty(&report).unwrap()
    );
    insta::assert_snapshot!("failing_events", events.join("\n"));
}

#[test]
fn mock_dictionaries_are_checked() {
    assert!(World::from_yaml("now: yesterday\n").is_err());
    assert!(World::from_yaml("now: 2026-01-01T00:00:00Z\nextra: 1\n").is_err());
    let world = World::from_yaml("now: 2026-01-01T00:00:00Z\nrun_ids: [a]\n").unwrap();
    let ports = world.ports();
    assert_eq!(ports.ids.run_id(), "a");
    assert_eq!(ports.ids.run_id(), "run-2");
}
