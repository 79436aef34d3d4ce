use serde_json::json;

use super::*;
use crate::arch::Arch;
use crate::item::ItemType;

fn map(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match v {
        serde_json::Value::Object(m) => m,
        _ => unreachable!("test fixtures are objects"),
    }
}

#[test]
fn job_request_round_trips_through_a_mapping() {
    let m = map(
        json!({"item": "xchat-0.5-1.fc20", "item_type": "koji_build", "taskname": "rpmlint", "arch": "x86_64"}),
    );
    let jr = JobRequest::from_mapping(m.clone()).unwrap();
    assert_eq!(jr.item_type, ItemType::KojiBuild);
    assert_eq!(jr.arch, Arch::X86_64);
    assert_eq!(jr.to_mapping(), m);
}

#[test]
fn job_keeps_a_null_build_id_and_defaults_the_arch() {
    let m = map(
        json!({"item": "f39-updates-pending", "item_type": "koji_tag", "build_id": null, "yamlfile": "runtask.yml"}),
    );
    let job = Job::from_mapping(m).unwrap();
    assert_eq!(job.build_id, None);
    assert_eq!(job.arch, Arch::Noarch);
    assert_eq!(job.to_mapping()["build_id"], serde_json::Value::Null);
}

#[test]
fn task_input_reads_yaml() {
    let ti = TaskInput::from_yaml(
        "item: FEDORA-2024-1a2b3c4d5e\nitem_type: bodhi_update\nbuild_id: 5f0c\n",
    )
    .unwrap();
    assert_eq!(ti.build_id.as_deref(), Some("5f0c"));
}

#[test]
fn bad_dictionaries_are_rejected_with_the_reason() {
    let unknown = JobRequest::from_mapping(map(
        json!({"item": "a-1-1", "item_type": "koji_build", "taskname": "t", "arch": "x86_64", "extra": 1}),
    ));
    assert!(unknown
        .unwrap_err()
        .to_string()
        .contains("unknown field `extra`"));
    let shape = JobRequest::from_mapping(map(
        json!({"item": "a", "item_type": "koji_build", "taskname": "t", "arch": "x86_64"}),
    ));
    assert!(shape
        .unwrap_err()
        .to_string()
        .contains("not a valid koji_build"));
    let missing = Job::from_yaml("item: a-1-1\nitem_type: koji_build\n");
    assert!(missing.unwrap_err().to_string().contains("missing field"));
    let magic = TaskInput::from_mapping(map(
        json!({"item": "a-1-1", "item_type": "koji_build", "build_id": ""}),
    ));
    assert!(magic.is_err());
}

#[test]
fn not_ok_reports_must_say_why() {
    let report = ExecutionReport {
        execution_status: ExecutionStatus::NotOk,
        status: None,
        build_id: None,
        run_id: "r".into(),
        item: "a-1-1".into(),
        item_type: crate::ItemType::KojiBuild,
        arch: crate::Arch::Noarch,
        checkname: "scratch.t".into(),
        artifacts: "/tmp".into(),
        started_at: "2026-01-01T00:00:00Z".into(),
        duration_ms: 1,
        actions: vec![],
        outcome: None,
        results: vec![],
        exit_code: None,
        task_commit: None,
        failure: None,
        isolation: Some(crate::Isolation::Sandbox),
        remote: None,
        regressions: None,
        flaky: Vec::new(),
    };
    assert!(ExecutionReport::from_mapping(report.to_mapping()).is_err());
    let ok = ExecutionReport {
        execution_status: ExecutionStatus::Ok,
        ..report
    };
    let back = ExecutionReport::from_mapping(ok.to_mapping()).unwrap();
    assert_eq!(back, ok);
    assert_eq!(ok.to_mapping()["execution_status"], "OK");
}
