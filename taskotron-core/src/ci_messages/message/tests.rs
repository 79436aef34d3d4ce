use super::*;
use crate::scheduler::JobEvent;

pub(crate) fn settings() -> CiSettings {
    CiSettings {
        prefix: "org.centos.prod.ci".into(),
        namespace: "taskotron".into(),
        category: "functional".into(),
        contact: Contact {
            name: "taskotron".into(),
            team: "Fedora QA".into(),
            docs: "https://qa.example.org/taskotron".into(),
            email: "qa-devel@lists.example.org".into(),
            irc: Some("#fedora-qa".into()),
        },
        artifacts_base_url: Some("http://127.0.0.1:8080/artifacts".into()),
        job_url_template: Some("http://127.0.0.1:8080/jobs/{build_id}".into()),
        web_url: Some("http://127.0.0.1:8080".into()),
    }
}

fn job(state: &str, report: Option<serde_json::Value>) -> QueuedJob {
    serde_json::from_value(json!({
        "build_id": "b-7",
        "request": {"item": "htop-3.3.0-1.fc41", "item_type": "koji_build",
                    "taskname": "rpmlint", "arch": "x86_64"},
        "state": state, "attempts": 1, "worker": "w1",
        "scheduled_at": "2026-12-01T10:00:00.000Z", "updated_at": "2026-12-01T10:05:00.000Z",
        "report": report, "crash": null, "run_id": "run-1",
    }))
    .unwrap()
}

fn report(status: &str, outcome: Option<&str>) -> serde_json::Value {
    json!({
        "execution_status": status, "status": (status == "NOT_OK").then_some("the check exited 2"),
        "build_id": "b-7", "run_id": "run-1",
        "item": "htop-3.3.0-1.fc41", "item_type": "koji_build", "arch": "x86_64",
        "checkname": "dist.rpmlint", "artifacts": "/srv/artifacts/run-1",
        "started_at": "2026-12-01T10:01:00.000Z", "duration_ms": 1234, "actions": [],
        "outcome": outcome,
        "results": outcome.map_or(vec![], |o| vec![json!({
            "item": "htop-3.3.0-1.fc41", "type": "koji_build", "outcome": o, "note": "",
            "checkname": "dist.rpmlint"})]),
    })
}

fn fed(event: &str, detail: Option<&str>) -> FedEvent {
    FedEvent {
        position: 9,
        build_id: "b-7".into(),
        event: JobEvent {
            at: "2026-12-01T10:05:00.000Z".into(),
            event: event.into(),
            worker: None,
            attempt: None,
            lease_until: None,
            detail: detail.map(str::to_string),
        },
    }
}

fn artifact() -> Subject {
    Subject::Build(koji())
}

fn koji() -> Artifact {
    Artifact {
        task_id: 125_000_001,
        issuer: "packager".into(),
        source: Some("git+https://src.fedoraproject.org/rpms/htop.git#abc".into()),
    }
}

fn topic_of(j: &QueuedJob, e: &FedEvent) -> Option<String> {
    message(j, e, &artifact(), &settings()).map(|m| m.topic)
}

#[test]
fn each_event_says_its_stage_and_what_cannot_be_a_result_is_an_error() {
    let scheduled = job("SCHEDULED", None);
    assert_eq!(
        topic_of(&scheduled, &fed("SCHEDULED", None)).as_deref(),
        Some("org.centos.prod.ci.koji-build.test.queued")
    );
    assert_eq!(
        topic_of(&scheduled, &fed("CLAIMED", None)),
        None,
        "a claim says nothing"
    );
    assert_eq!(
        topic_of(&scheduled, &fed("EXPIRED", None)).as_deref(),
        Some("org.centos.prod.ci.koji-build.test.queued"),
        "back in the queue"
    );
    // The STARTED event names its run as the queue writes it (the job may
    // already be on a later attempt).
    let mut retried = scheduled.clone();
    retried.run_id = Some("run-2".into());
    let running = message(
        &retried,
        &fed("STARTED", Some("run run-1")),
        &artifact(),
        &settings(),
    )
    .unwrap();
    assert_eq!(running.topic, "org.centos.prod.ci.koji-build.test.running");
    assert!(
        running.body["test"].get("result").is_none(),
        "running has no result"
    );
    assert_eq!(
        running.body["run"]["log"],
        "http://127.0.0.1:8080/artifacts/run-1/taskotron.log"
    );
    let failed = job("FINISHED", Some(report("OK", Some("FAILED"))));
    let complete = message(&failed, &fed("FINISHED", None), &artifact(), &settings()).unwrap();
    assert_eq!(complete.body["test"]["result"], "failed");
    assert_eq!(
        complete.body["test"]["xunit"],
        "http://127.0.0.1:8080/artifacts/run-1/results.junit.xml"
    );
    let not_ok = job("FINISHED", Some(report("NOT_OK", None)));
    let error = message(&not_ok, &fed("FINISHED", None), &artifact(), &settings()).unwrap();
    assert_eq!(error.topic, "org.centos.prod.ci.koji-build.test.error");
    assert_eq!(error.body["error"]["reason"], "the check exited 2");
    let crashed = job("CRASHED", None);
    let error = message(
        &crashed,
        &fed("CRASHED", Some("task: unknown task `rpmlnt`")),
        &artifact(),
        &settings(),
    )
    .unwrap();
    assert_eq!(error.body["error"]["reason"], "task: unknown task `rpmlnt`");
    let mut tag = job("SCHEDULED", None);
    tag.request.item_type = crate::ItemType::KojiTag;
    assert_eq!(
        topic_of(&tag, &fed("SCHEDULED", None)),
        None,
        "only Koji builds and Bodhi updates"
    );
    let mut plan = failed.clone();
    plan.request.plan = Some("/plans/smoke".into());
    let m = message(&plan, &fed("FINISHED", None), &artifact(), &settings()).unwrap();
    assert_eq!(m.body["test"]["type"], "rpmlint.plans.smoke");
    assert_eq!(m.id, "taskotron-b-7-9");
}

#[test]
fn a_complete_message_reads_as_fedora_ci_writes_it() {
    let passed = job("FINISHED", Some(report("OK", Some("PASSED"))));
    let m = message(&passed, &fed("FINISHED", None), &artifact(), &settings()).unwrap();
    insta::assert_snapshot!(serde_json::to_string_pretty(&m.body).unwrap());
}

#[test]
fn an_update_is_announced_as_a_fedora_update_with_its_builds() {
    let mut update = job("FINISHED", Some(report("OK", Some("FAILED"))));
    update.request.item = "FEDORA-2026-abc123".into();
    update.request.item_type = crate::ItemType::BodhiUpdate;
    let builds = Subject::Update(vec![
        ("htop-3.3.0-1.fc41".into(), koji()),
        ("btop-1.4.0-1.fc41".into(), koji()),
    ]);
    let m = message(&update, &fed("FINISHED", None), &builds, &settings()).unwrap();
    assert_eq!(m.topic, "org.centos.prod.ci.fedora-update.test.complete");
    assert_eq!(m.body["artifact"]["type"], "fedora-update");
    assert_eq!(m.body["artifact"]["id"], "FEDORA-2026-abc123");
    let nvrs: Vec<_> = m.body["artifact"]["builds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["type"].clone(), b["nvr"].clone(), b["component"].clone()))
        .collect();
    assert_eq!(
        nvrs,
        [
            (
                json!("koji-build"),
                json!("htop-3.3.0-1.fc41"),
                json!("htop")
            ),
            (
                json!("koji-build"),
                json!("btop-1.4.0-1.fc41"),
                json!("btop")
            ),
        ]
    );
    assert_eq!(
        m.body["system"][0]["os"], "fedora-41",
        "from the first build"
    );
    assert_eq!(m.body["test"]["result"], "failed");
    // An update Bodhi lists no build of, or facts that do not fit the job, say
    // nothing: a message without its builds would not validate.
    let empty = Subject::Update(vec![]);
    assert!(message(&update, &fed("FINISHED", None), &empty, &settings()).is_none());
    assert!(message(&update, &fed("FINISHED", None), &artifact(), &settings()).is_none());
    let build = job("SCHEDULED", None);
    assert!(message(&build, &fed("SCHEDULED", None), &builds, &settings()).is_none());
}
