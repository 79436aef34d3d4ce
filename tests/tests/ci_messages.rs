//! Fedora CI messages on a real RabbitMQ: `taskotron serve` with `ci_messages_url`
//! set announces each job as queued, running, complete or error; a consumer bound
//! to `org.centos.prod.ci.#` reads them, and each body validates against the
//! schema of its topic (`tests/data/ci-messages/`, written from the documented
//! fields; an update's is the build's with `fedora-update.artifact.json` as its
//! artifact) with Python's `jsonschema` (draft-07, as fedora-messaging validates).
//! Ignored by a plain `cargo test`: `cargo xtask integration` installs
//! rabbitmq-server and the validator and runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use taskotron_tests::rabbitmq::Broker;
use taskotron_tests::workers::Setup;
use taskotron_trigger::bus::amqp::{self, AmqpSettings};
use taskotron_trigger::bus::{BusEvent, Verdict};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Validates `messages` (topic, body) against the schemas with Python's
/// jsonschema; the errors it prints.
fn invalid(messages: &[(String, Value)]) -> String {
    let python = workspace().join("target/jsonschema-venv/bin/python");
    assert!(
        python.exists(),
        "no {}: run `cargo xtask integration`",
        python.display()
    );
    let script = r#"
import json, sys
import jsonschema
schemas = sys.argv[1]
bad = []
for line in sys.stdin:
    m = json.loads(line)
    artifact, _, stage = m["topic"].rsplit(".", 3)[1:]
    with open(f"{schemas}/koji-build.test.{stage}.json") as f:
        schema = json.load(f)
    if artifact == "fedora-update":
        # The same message with the update as its artifact, each build a Koji build's.
        defs = schema["definitions"]
        defs["koji-build"] = defs["artifact"]
        with open(f"{schemas}/fedora-update.artifact.json") as f:
            defs["artifact"] = json.load(f)
    elif artifact != "koji-build":
        bad.append(f"{m['topic']}: no schema for artifact {artifact}")
        continue
    v = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    for e in v.iter_errors(m["body"]):
        bad.append(f"{m['topic']}: {'/'.join(map(str, e.path))}: {e.message}")
print("\n".join(bad))
"#;
    let mut child = Command::new(python)
        .args(["-c", script])
        .arg(workspace().join("tests/data/ci-messages"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        for (topic, body) in messages {
            writeln!(
                stdin,
                "{}",
                serde_json::json!({"topic": topic, "body": body})
            )
            .unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Schedules the `slow` task for the update `FEDORA-2026-ab12` on x86_64.
fn schedule_update(s: &Setup) {
    s.ok(&[
        "schedule",
        "slow",
        "-i",
        "FEDORA-2026-ab12",
        "-t",
        "bodhi_update",
        "-a",
        "x86_64",
    ]);
}

#[test]
#[ignore = "needs rabbitmq-server and target/jsonschema-venv: run `cargo xtask integration`"]
fn each_job_says_queued_running_and_how_it_ended_on_the_bus() {
    let s = Setup::new();
    let dir = s.dir.path();
    let broker = Broker::start(&dir.join("broker"));
    let koji = taskotron_mock::koji::MockKoji::from_yaml(
        "builds:\n  - nvr: htop-3.3.0-1.fc41\n    owner: tbabej\n",
    )
    .unwrap();
    let server = koji.serve().unwrap();
    // Each reports one result with the outcome it is named after.
    for (task, outcome) in [("passes", "PASSED"), ("fails", "FAILED")] {
        s.task(
            task,
            &format!("actions:\n  - name: check\n    shell:\n      - \"printf 'results:\\n  - item: ${{koji_build}}\\n    type: koji_build\\n    outcome: {outcome}\\n'\"\n    export: out\n  - name: report\n    resultsdb:\n      results: ${{out}}\n"),
        );
    }
    s.configure(&format!(
        "koji_url: {}/kojihub\nci_messages_url: {}\nweb_url: http://127.0.0.1:9/\n",
        server.url(),
        broker.uri()
    ));
    std::fs::write(
        dir.join("rules.yml"),
        "- when: {message_type: KojiBuildPackageCompleted}\n  do:\n    - {tasks: [passes, fails, missing], arches: [x86_64]}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("messages.jsonl"),
        r#"{"topic": "org.fedoraproject.prod.buildsys.build.state.change", "msg_id": "ci-1", "msg": {"instance": "primary", "name": "htop", "version": "3.3.0", "release": "1.fc41", "new": 1, "build_id": 1, "owner": "a"}}"#
            .to_string()
            + "\n",
    )
    .unwrap();
    // The consumer's queue is bound before anything is published.
    let settings = AmqpSettings {
        uri: broker.uri(),
        queue: "bodhi-ci-status".into(),
        bindings: vec!["org.centos.prod.ci.#".into()],
        prefetch: 50,
        tls: None,
        exchange_timeout: amqp::EXCHANGE_TIMEOUT,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let consuming = Arc::new(AtomicBool::new(false));
    let got = Arc::new(Mutex::new(Vec::<(String, Option<String>, Value)>::new()));
    let consumer = {
        let (stop, consuming, got) = (stop.clone(), consuming.clone(), got.clone());
        std::thread::spawn(move || {
            let mut on_event = |e: BusEvent| {
                if matches!(e, BusEvent::Consuming { .. }) {
                    consuming.store(true, Ordering::Relaxed);
                }
            };
            let mut handler = |m: Result<taskotron_trigger::trigger::message::Message, _>, _| {
                if let Ok(m) = m {
                    got.lock()
                        .unwrap()
                        .push((m.topic.clone(), m.id.clone(), m.body_value()));
                }
                Verdict::Ack
            };
            amqp::consume(&settings, &stop, &mut on_event, &mut handler)
        })
    };
    wait_until("the consumer", Duration::from_secs(90), || {
        consuming.load(Ordering::Relaxed)
    });
    let o = s
        .command(&["serve", "--rules"])
        .arg(dir.join("rules.yml"))
        .arg("--from")
        .arg(dir.join("messages.jsonl"))
        .args(["--arch", "x86_64"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("CI messages to amqp://"), "{stderr}");
    // Two jobs queued, run and complete; the unknown task's job is queued and
    // ends in error.
    wait_until("the messages", Duration::from_secs(30), || {
        got.lock().unwrap().len() >= 8
    });
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    consumer.join().unwrap().unwrap();
    let got = got.lock().unwrap().clone();
    let by_task = |task: &str| -> Vec<String> {
        got.iter()
            .filter(|(_, _, b)| b["test"]["type"] == task)
            .map(|(t, _, _)| t.rsplit('.').next().unwrap().to_string())
            .collect()
    };
    let errors: Vec<&Value> = got.iter().filter_map(|(_, _, b)| b.get("error")).collect();
    assert_eq!(
        by_task("passes"),
        ["queued", "running", "complete"],
        "{errors:?}"
    );
    assert_eq!(
        by_task("fails"),
        ["queued", "running", "complete"],
        "{errors:?}"
    );
    let missing = by_task("missing");
    assert_eq!(missing.first().map(String::as_str), Some("queued"));
    assert_eq!(
        missing.last().map(String::as_str),
        Some("error"),
        "{got:#?}"
    );
    let result = |task: &str| {
        got.iter()
            .find(|(t, _, b)| t.ends_with(".complete") && b["test"]["type"] == task)
            .map(|(_, _, b)| b["test"]["result"].clone())
    };
    assert_eq!(result("passes"), Some("passed".into()));
    assert_eq!(result("fails"), Some("failed".into()));
    // What Koji knows of the build, and our pages.
    let complete = &got
        .iter()
        .find(|(t, _, _)| t.ends_with(".complete"))
        .unwrap()
        .2;
    assert_eq!(complete["artifact"]["issuer"], "tbabej");
    assert!(complete["artifact"]["id"].as_i64().unwrap() > 0);
    assert!(complete["run"]["url"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:9/jobs/"));
    assert!(complete["test"]["xunit"]
        .as_str()
        .unwrap()
        .ends_with("/results.junit.xml"));
    // Each message has an id of its own.
    let mut ids: Vec<_> = got.iter().map(|(_, id, _)| id.clone().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), got.len());
    let bodies: Vec<(String, Value)> = got.iter().map(|(t, _, b)| (t.clone(), b.clone())).collect();
    assert_eq!(invalid(&bodies), "", "every message validates");
    // A message missing a required field does not: the validator is awake.
    let mut broken = bodies[0].clone();
    broken.1["artifact"].as_object_mut().unwrap().remove("nvr");
    assert!(invalid(&[broken]).contains("'nvr' is a required property"));
}

#[test]
fn ci_messages_says_what_is_pending_and_moves_only_once_the_broker_took_it() {
    let s = Setup::new();
    let koji = taskotron_mock::koji::MockKoji::from_yaml(
        "builds:\n  - nvr: htop-3.3.0-1.fc41\n    owner: tbabej\n",
    )
    .unwrap();
    let server = koji.serve().unwrap();
    let bodhi = taskotron_mock::bodhi::MockBodhi::new(
        &serde_json::from_value(serde_json::json!(
            {"updates": [{"alias": "FEDORA-2026-ab12", "builds": ["htop-3.3.0-1.fc41"]}]}
        ))
        .unwrap(),
    );
    let bodhi_server = bodhi.serve().unwrap();
    s.configure(&format!(
        "koji_url: {}/kojihub\nbodhi_url: {}\n",
        server.url(),
        bodhi_server.url()
    ));
    let run = |args: &[&str]| s.command(args).output().unwrap();
    // No broker named, or one that cannot be: invalid input, with the way out.
    let o = run(&["ci-messages", "--once"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("ci_messages_url"));
    let o = run(&["ci-messages", "--once", "--to", "http://guest:secret@h/"]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("is not an AMQP URI"), "{stderr}");
    assert!(!stderr.contains("secret"), "{stderr}");
    // Turned on for the first time, the feed starts at its end: this job's past
    // is not replayed, and with nothing to say no broker is needed.
    s.schedule("slow", &["x86_64"]);
    let o = run(&["ci-messages", "--once", "--to", "amqp://127.0.0.1:9/%2f"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let pending = |format: &str| run(&["ci-messages", "--dry-run", "--format", format]);
    assert!(
        pending("json").stdout.is_empty(),
        "the past is not replayed"
    );
    s.schedule("slow", &["x86_64", "aarch64"]);
    let o = pending("json");
    assert_eq!(o.status.code(), Some(0));
    let messages: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(messages.len(), 2);
    assert!(messages.iter().all(
        |m| m["topic"] == "org.centos.prod.ci.koji-build.test.queued"
            && m["body"]["artifact"]["issuer"] == "tbabej"
    ));
    let arches: Vec<&str> = messages
        .iter()
        .map(|m| m["body"]["system"][0]["architecture"].as_str().unwrap())
        .collect();
    assert_eq!(arches, ["x86_64", "aarch64"]);
    // A dry run moves nothing, and the broker being away moves nothing.
    assert_eq!(pending("json").stdout, o.stdout);
    let before = o.stdout;
    let o = run(&[
        "ci-messages",
        "--once",
        "--to",
        "amqp://guest:secret@127.0.0.1:9/%2f",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("cannot publish"), "{stderr}");
    assert!(
        !stderr.contains("secret"),
        "the password never shows: {stderr}"
    );
    assert_eq!(pending("json").stdout, before, "still pending");
    let human = String::from_utf8_lossy(&pending("human").stdout).to_string();
    assert!(
        human.contains("org.centos.prod.ci.koji-build.test.queued")
            && human.contains("htop-3.3.0-1.fc41 aarch64 slow"),
        "{human}"
    );
    // Koji away: said, exit 1.
    let o = s
        .command(&["ci-messages", "--dry-run"])
        .env("TASKOTRON_KOJI_URL", "http://127.0.0.1:9/kojihub")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("cannot ask Koji about `htop-3.3.0-1.fc41`")
    );
    // An update's job is announced as the update, with its builds as Bodhi lists them.
    schedule_update(&s);
    let o = pending("json");
    let last: Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(
        last["topic"],
        "org.centos.prod.ci.fedora-update.test.queued"
    );
    assert_eq!(last["body"]["artifact"]["id"], "FEDORA-2026-ab12");
    assert_eq!(
        last["body"]["artifact"]["builds"][0]["nvr"],
        "htop-3.3.0-1.fc41"
    );
    assert_eq!(last["body"]["artifact"]["builds"][0]["issuer"], "tbabej");
}

#[test]
#[ignore = "needs target/jsonschema-venv: run `cargo xtask integration`"]
fn an_update_message_validates_against_the_fedora_update_schema() {
    let s = Setup::new();
    let koji = taskotron_mock::koji::MockKoji::from_yaml(
        "builds:\n  - nvr: htop-3.3.0-1.fc41\n    owner: tbabej\n  - nvr: btop-1.4.0-1.fc41\n    owner: tbabej\n",
    )
    .unwrap();
    let server = koji.serve().unwrap();
    let bodhi = taskotron_mock::bodhi::MockBodhi::new(
        &serde_json::from_value(serde_json::json!({"updates": [
            {"alias": "FEDORA-2026-ab12", "builds": ["htop-3.3.0-1.fc41", "btop-1.4.0-1.fc41"]}
        ]}))
        .unwrap(),
    );
    let bodhi_server = bodhi.serve().unwrap();
    s.configure(&format!(
        "koji_url: {}/kojihub\nbodhi_url: {}\nweb_url: http://127.0.0.1:9/\n",
        server.url(),
        bodhi_server.url()
    ));
    // The feed starts at its end the first time; then the update's job.
    s.ok(&["ci-messages", "--dry-run"]);
    s.ok(&["ci-messages", "--once", "--to", "amqp://127.0.0.1:9/%2f"]);
    schedule_update(&s);
    let o = s
        .command(&["ci-messages", "--dry-run", "--format", "json"])
        .output()
        .unwrap();
    let messages: Vec<(String, Value)> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            let m: Value = serde_json::from_str(l).unwrap();
            (m["topic"].as_str().unwrap().to_string(), m["body"].clone())
        })
        .collect();
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0].0,
        "org.centos.prod.ci.fedora-update.test.queued"
    );
    assert_eq!(invalid(&messages), "");
    // Without its builds it would not validate: the schema asks for them.
    let mut broken = messages[0].clone();
    broken.1["artifact"]["builds"] = serde_json::json!([]);
    assert!(
        invalid(&[broken]).contains("should be non-empty"),
        "the validator is awake"
    );
}
