//! The trigger against a real RabbitMQ (a private node on loopback, see
//! `taskotron_tests::rabbitmq`). Ignored by a plain `cargo test`, because they need
//! the Debian `rabbitmq-server`; `cargo xtask integration` installs it and runs them,
//! and `cargo xtask ci` runs that.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};
use taskotron_core::Arch;
use taskotron_doubles::scheduler::RecordingScheduler;
use taskotron_tests::rabbitmq::Broker;
use taskotron_trigger::bus::amqp::{self, AmqpSettings, Outgoing};
use taskotron_trigger::bus::{self, BusEvent, Verdict};
use taskotron_trigger::trigger::{dispatch, Rules, Trigger};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn taskotron() -> PathBuf {
    taskotron_tests::bin::taskotron()
}

/// A recorded fedora-messaging message (`*.amqp.json`) as the broker would carry it.
fn recorded(name: &str) -> Outgoing {
    let path = workspace()
        .join("taskotron-trigger/src/trigger/testdata")
        .join(name);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    Outgoing {
        routing_key: v["routing_key"].as_str().unwrap().into(),
        message_id: v["properties"]["message_id"].as_str().map(str::to_string),
        body: serde_json::to_vec(&v["body"]).unwrap(),
    }
}

fn build(n: usize) -> Outgoing {
    Outgoing {
        routing_key: "org.fedoraproject.prod.buildsys.build.state.change".into(),
        message_id: Some(format!("build-{n}")),
        body: serde_json::to_vec(&json!({
            "new": 1, "instance": "primary", "name": format!("pkg{n}"),
            "version": "1.0", "release": "1.fc41", "owner": "someone",
        }))
        .unwrap(),
    }
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The jobs in the queue of the state directory `state`, oldest first.
fn queued(state: &Path) -> Vec<Value> {
    let o = Command::new(taskotron())
        .args(["jobs", "--format", "json"])
        .env("TASKOTRON_STATE_DIR", state)
        .output()
        .unwrap();
    serde_json::from_slice(&o.stdout).unwrap_or_default()
}

#[test]
#[ignore = "needs rabbitmq-server: run `cargo xtask integration`"]
fn the_cli_consumes_real_messages_and_schedules_their_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(&dir.path().join("broker"));
    let state = dir.path().join("state");
    let rules =
        workspace().join("taskotron-trigger/src/trigger/testdata/trigger_rules.2020-final.yml");
    let mut trigger = Command::new(taskotron())
        .args(["trigger", "--rules"])
        .arg(&rules)
        .args([
            "--from",
            &broker.uri(),
            "--queue",
            "cli-test",
            "--format",
            "json",
        ])
        .env("TASKOTRON_STATE_DIR", &state)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The queue and its bindings exist once the trigger says it is consuming; until
    // then a publish would be dropped as unroutable.
    let stderr_text = Arc::new(Mutex::new(String::new()));
    let reader = {
        let text = stderr_text.clone();
        let mut pipe = trigger.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                text.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    // Generous: on a loaded two-core machine the first connection can miss a broker
    // still starting, and the trigger then backs off before it tries again.
    wait_until("the trigger to consume", Duration::from_secs(90), || {
        stderr_text.lock().unwrap().contains("Consuming")
    });
    let mut messages = vec![
        recorded("koji-buildsys-build-state-change.amqp.json"),
        recorded("bodhi-update-request-testing.amqp.json"),
        Outgoing {
            routing_key: "org.fedoraproject.prod.buildsys.build.state.change".into(),
            message_id: Some("not-json-1".into()),
            body: b"{this is not json".to_vec(),
        },
        Outgoing {
            routing_key: "org.fedoraproject.prod.buildsys.build.state.change".into(),
            message_id: Some("tricky-1".into()),
            body: serde_json::to_vec(&json!({"new": 1, "name": "../../etc/passwd", "version": "1;rm -rf /", "release": "1.fc39"})).unwrap(),
        },
    ];
    // The same build again, under a new id: the dedupe window drops its jobs.
    let mut again = recorded("koji-buildsys-build-state-change.amqp.json");
    again.message_id = Some("same-build-again".into());
    messages.push(again);
    amqp::publish(&broker.uri(), &messages).unwrap();
    wait_until(
        "the jobs of the koji message",
        Duration::from_secs(30),
        || !queued(&state).is_empty(),
    );
    std::thread::sleep(Duration::from_secs(1));
    // SAFETY: kill(2) on our child.
    unsafe {
        libc::kill(i32::try_from(trigger.id()).unwrap(), libc::SIGTERM);
    }
    let status = trigger.wait().unwrap();
    let mut stdout = String::new();
    trigger
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    reader.join().unwrap();
    let stderr = stderr_text.lock().unwrap().clone();
    assert!(status.success(), "{status:?}\n{stderr}");
    let entries = queued(&state);
    let jobs: Vec<String> = entries
        .iter()
        .map(|j| {
            assert_eq!(j["item"], "grep-3.11-1.fc39", "{j:#}");
            assert_eq!(j["state"], "SCHEDULED");
            format!(
                "{} {}",
                j["task"].as_str().unwrap(),
                j["arch"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        jobs,
        [
            "rpmlint x86_64",
            "python-versions noarch",
            "rpmgrill noarch",
            "abicheck x86_64"
        ]
    );
    assert_eq!(stdout.lines().count(), 4, "one JobRequest a line: {stdout}");
    assert!(stderr.contains("Consuming"), "{stderr}");
    assert!(
        stderr.contains("queue `cli-test` (#.buildsys.build.state.change)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Rejected message not-json-1: message not-json-1: body is not JSON: key must be a string at line 1 column 2"),
        "{stderr}"
    );
    assert!(stderr.contains("message tricky-1 refused"), "{stderr}");
    assert!(
        // The Bodhi message never arrives: no rule asks for Bodhi updates, so its
        // routing key is not bound.
        stderr.contains(
            "4 messages: 4 jobs, 4 duplicates dropped; ignored: 1 refused item, 1 unreadable"
        ),
        "{stderr}"
    );
    assert!(
        !stderr.contains("guest:guest"),
        "the password is never shown: {stderr}"
    );
}

#[test]
#[ignore = "needs rabbitmq-server: run `cargo xtask integration`"]
fn a_broker_restart_with_1000_messages_in_flight_yields_each_job_once() {
    const MESSAGES: usize = 1000;
    let dir = tempfile::tempdir().unwrap();
    let mut broker = Broker::start(&dir.path().join("broker"));
    let rules = Rules::load(
        "- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [rpmlint]}]\n",
        Path::new("rules.yml"),
    )
    .unwrap();
    let settings = AmqpSettings {
        uri: broker.uri(),
        queue: "restart-test".into(),
        bindings: bus::bindings(&rules),
        prefetch: 100,
        tls: None,
        exchange_timeout: amqp::EXCHANGE_TIMEOUT,
    };
    assert_eq!(settings.bindings, ["#.buildsys.build.state.change"]);
    // No dedupe window: only the scheduler's once-per-message-id rule may keep a
    // redelivered message from yielding its jobs again.
    let mut trigger = Trigger::new(rules, vec![Arch::X86_64], Duration::ZERO, vec![]);
    let scheduler = RecordingScheduler::new();
    // Slow hand-offs keep the prefetch window full while the broker dies.
    scheduler.set_delay(Duration::from_millis(3));
    let stop = Arc::new(AtomicBool::new(false));
    let events = Arc::new(Mutex::new(Vec::<BusEvent>::new()));
    let redelivered = Arc::new(Mutex::new(0usize));
    let consumer = {
        let (stop, events, redelivered) = (stop.clone(), events.clone(), redelivered.clone());
        let mut scheduler = scheduler.clone();
        std::thread::spawn(move || {
            let mut on_event = |e: BusEvent| events.lock().unwrap().push(e);
            let mut handler = |m: Result<_, _>, again: bool| {
                let m = match m {
                    Ok(m) => m,
                    Err(e) => return Verdict::Reject(format!("{e}")),
                };
                if again {
                    *redelivered.lock().unwrap() += 1;
                }
                match dispatch(&mut trigger, &mut scheduler, &m, SystemTime::now()) {
                    Ok(_) => Verdict::Ack,
                    Err(_) => Verdict::Retry,
                }
            };
            amqp::consume(&settings, &stop, &mut on_event, &mut handler)
        })
    };
    let consuming = |events: &Mutex<Vec<BusEvent>>| {
        events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| matches!(e, BusEvent::Consuming { .. }))
            .count()
    };
    wait_until("the consumer", Duration::from_secs(30), || {
        consuming(&events) == 1
    });
    let messages: Vec<Outgoing> = (0..MESSAGES).map(build).collect();
    amqp::publish(&broker.uri(), &messages).unwrap();
    wait_until("some jobs", Duration::from_secs(30), || {
        scheduler.jobs().len() >= 200
    });
    broker.kill();
    let at_kill = scheduler.jobs().len();
    assert!(
        at_kill < MESSAGES,
        "the broker died with messages in flight"
    );
    broker.restart();
    let deadline = Instant::now() + Duration::from_secs(120);
    while scheduler.jobs().len() < MESSAGES {
        // What the consumer saw, so that a failure here can be told apart: a consumer
        // that never noticed the broker died, one that cannot reconnect, or messages lost.
        assert!(
            Instant::now() < deadline,
            "timed out waiting for every job: {} of {MESSAGES} (at the kill {at_kill}), \
             {} hand-offs, {} redelivered; events: {:?}",
            scheduler.jobs().len(),
            scheduler.calls(),
            redelivered.lock().unwrap(),
            events.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Anything still to come back would show up within a moment.
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    consumer.join().unwrap().unwrap();

    let jobs = scheduler.jobs();
    let mut per_message: BTreeMap<String, usize> = BTreeMap::new();
    for (id, _) in &jobs {
        *per_message.entry(id.clone().unwrap()).or_default() += 1;
    }
    let expected: BTreeSet<String> = (0..MESSAGES).map(|n| format!("build-{n}")).collect();
    assert_eq!(
        per_message.keys().cloned().collect::<BTreeSet<_>>(),
        expected
    );
    assert!(
        per_message.values().all(|n| *n == 1),
        "a message yielded its jobs twice"
    );
    assert_eq!(jobs.len(), MESSAGES);
    assert!(
        consuming(&events) >= 2,
        "the consumer reconnected: {events:?}"
    );
    let events = events.lock().unwrap();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, BusEvent::Reconnecting { .. })),
        "{events:?}"
    );
    assert!(
        *redelivered.lock().unwrap() > 0,
        "messages in flight at the kill came again (at the kill {at_kill} jobs)"
    );
}

#[test]
#[ignore = "needs rabbitmq-server: run `cargo xtask integration`"]
fn a_quiet_consumer_that_worked_reconnects_at_once_after_each_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut broker = Broker::start(&dir.path().join("broker"));
    let settings = AmqpSettings {
        uri: broker.uri(),
        queue: "quiet-test".into(),
        bindings: vec!["#.buildsys.tag".into()],
        prefetch: 10,
        tls: None,
        exchange_timeout: amqp::EXCHANGE_TIMEOUT,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let events = Arc::new(Mutex::new(Vec::<BusEvent>::new()));
    let consumer = {
        let (stop, events) = (stop.clone(), events.clone());
        std::thread::spawn(move || {
            let mut on_event = |e: BusEvent| events.lock().unwrap().push(e);
            let mut handler = |_: Result<_, _>, _: bool| Verdict::Ack;
            amqp::consume(&settings, &stop, &mut on_event, &mut handler)
        })
    };
    let count = |events: &Mutex<Vec<BusEvent>>, consuming: bool| {
        events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| matches!(e, BusEvent::Consuming { .. }) == consuming)
            .count()
    };
    // Two restarts, each after the connection has consumed (no message) for longer
    // than STEADY: each loss starts the back-off afresh.
    for round in 1..=2 {
        wait_until("the consumer", Duration::from_secs(90), || {
            count(&events, true) == round
        });
        std::thread::sleep(amqp::STEADY + Duration::from_secs(1));
        let before = count(&events, false);
        broker.kill();
        wait_until("the loss", Duration::from_secs(30), || {
            count(&events, false) > before
        });
        let first = events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| !matches!(e, BusEvent::Consuming { .. }))
            .nth(before)
            .cloned();
        assert!(
            matches!(first, Some(BusEvent::Reconnecting { delay_ms: 200, .. })),
            "round {round}: {first:?}"
        );
        broker.restart();
    }
    wait_until("the consumer again", Duration::from_secs(90), || {
        count(&events, true) == 3
    });
    stop.store(true, Ordering::Relaxed);
    consumer.join().unwrap().unwrap();
}
