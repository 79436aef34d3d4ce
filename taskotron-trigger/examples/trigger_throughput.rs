//! The trigger in process, for `cargo xtask bench trigger`: messages as the AMQP
//! consumer receives them (routing key, message id and the raw JSON body, taken from
//! a JSON-lines file before timing), each checked and read as a message, matched
//! against the rules, fanned out and deduplicated. Times several passes; prints one
//! JSON object.
//!
//! Usage: trigger_throughput RULES MESSAGES RUNS

use std::path::Path;
use std::time::{Instant, SystemTime};

use serde_json::Value;
use taskotron_model::Arch;
use taskotron_queue::scheduler::DryRun;
use taskotron_trigger::trigger::{dispatch, Message, Rules, Trigger, DEFAULT_WINDOW};

/// A delivery: routing key, message id, body.
type Delivery = (String, Option<String>, String);

fn delivery(line: &str) -> Option<Delivery> {
    let v: Value = serde_json::from_str(line).ok()?;
    Some((
        v.get("routing_key")?.as_str()?.to_string(),
        v.pointer("/properties/message_id")
            .and_then(Value::as_str)
            .map(str::to_string),
        v.get("body")?.to_string(),
    ))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [rules, messages, runs] = args.as_slice() else {
        eprintln!("usage: trigger_throughput RULES MESSAGES RUNS");
        std::process::exit(2);
    };
    let runs: usize = runs.parse().unwrap_or(5);
    let text = std::fs::read_to_string(rules).unwrap_or_default();
    let rules = match Rules::load(&text, Path::new(rules)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}", e[0].message);
            std::process::exit(2);
        }
    };
    let deliveries: Vec<Delivery> = std::fs::read_to_string(messages)
        .unwrap_or_default()
        .lines()
        .filter_map(delivery)
        .collect();
    let mut seconds = Vec::new();
    let mut jobs = 0usize;
    for _ in 0..runs {
        let mut trigger = Trigger::new(
            rules.clone(),
            vec![Arch::X86_64, Arch::Aarch64],
            DEFAULT_WINDOW,
            vec![],
        );
        // Copied before timing: receiving them is the broker's work, not the trigger's.
        let batch = deliveries.clone();
        let now = SystemTime::now();
        jobs = 0;
        let start = Instant::now();
        for (topic, id, body) in batch {
            if let Ok(m) = Message::from_body(id.as_deref(), &topic, body) {
                if let Ok(d) = dispatch(&mut trigger, &mut DryRun, &m, now) {
                    jobs += d.handled.jobs.len();
                }
            }
        }
        seconds.push(start.elapsed().as_secs_f64());
    }
    println!(
        "{{\"messages\": {}, \"rules\": {}, \"jobs\": {jobs}, \"seconds\": {seconds:?}}}",
        deliveries.len(),
        rules.rules().len()
    );
}
