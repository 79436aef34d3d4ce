//! Delivering spooled results: a few threads share one keep-alive client; each
//! result is retried with backoff until it arrives, is refused, or the time is up.
//! After an ambiguous failure a result is looked up before it is sent again, so a
//! retry never stores it twice. The deadline bounds the whole delivery: no request
//! runs past it, and what has not arrived by then stays in the spool. A signal (with
//! the interrupt handler installed) ends it the same way.

use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::client::{Client, SendError};
use super::spool::{Entry, Spool};

/// How delivery behaves.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Results in flight at once.
    pub concurrency: usize,
    /// Give up (leaving the rest in the spool) after this long.
    pub deadline: Duration,
    /// First pause between attempts; it doubles up to `max_backoff`.
    pub backoff: Duration,
    /// Longest pause between attempts.
    pub max_backoff: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            concurrency: 8,
            deadline: Duration::from_secs(60),
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// What happened to each result.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    /// `(result id, ResultsDB id)` of the results that arrived.
    pub delivered: Vec<(String, u64)>,
    /// `(result id, reason)` of the results the server refused (moved aside).
    pub rejected: Vec<(String, String)>,
    /// `(result id, last error)` of the results still in the spool.
    pub pending: Vec<(String, String)>,
    /// `(result id, ResultsDB id)` of the results ResultsDB had already (an earlier
    /// report of the same run): not sent again.
    pub already: Vec<(String, u64)>,
}

impl Outcome {
    /// True when everything arrived.
    pub fn is_complete(&self) -> bool {
        self.rejected.is_empty() && self.pending.is_empty()
    }
}

/// Delivers `entries` (already in `spool`) to `client`, all within the policy's
/// deadline from `start`.
pub fn deliver(
    client: &Client,
    spool: &Spool,
    entries: Vec<Entry>,
    policy: Policy,
    start: Instant,
) -> Outcome {
    let client = &client.until(crate::duration::deadline(start, policy.deadline));
    let queue = Mutex::new(entries);
    let outcome = Mutex::new(Outcome::default());
    let workers = policy.concurrency.max(1);
    thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop());
                let Some(entry) = next else { break };
                if let Some(why) = stopped(start, policy) {
                    if let Ok(mut o) = outcome.lock() {
                        o.pending.push((entry.result_id, why));
                    }
                    continue;
                }
                let result = deliver_one(client, spool, entry.clone(), policy, start);
                if let Ok(mut o) = outcome.lock() {
                    match result {
                        Ok(id) => o.delivered.push((entry.result_id, id)),
                        Err(SendError::Rejected { status, message }) => {
                            let reason = format!("{status}: {message}");
                            let _ = spool.reject(&entry.result_id, &reason);
                            o.rejected.push((entry.result_id, reason));
                        }
                        Err(e) => o.pending.push((entry.result_id, e.to_string())),
                    }
                }
            });
        }
    });
    let mut o = outcome.into_inner().unwrap_or_default();
    o.delivered.sort();
    o
}

/// Why no more results are sent, if that is so: the deadline passed, or a signal came.
fn stopped(start: Instant, policy: Policy) -> Option<String> {
    if let Some(signal) = crate::process::interrupted() {
        return Some(format!("not sent: interrupted by signal {signal}"));
    }
    (start.elapsed() >= policy.deadline).then(|| {
        format!(
            "not sent: the report's deadline ({}) passed",
            humantime::format_duration(policy.deadline)
        )
    })
}

fn deliver_one(
    client: &Client,
    spool: &Spool,
    mut entry: Entry,
    policy: Policy,
    start: Instant,
) -> Result<u64, SendError> {
    let mut pause = policy.backoff;
    loop {
        let attempt = (|| {
            if entry.ambiguous {
                if let Some(id) = client.find_result(&entry.payload)? {
                    return Ok(id);
                }
            }
            client.post_result(&entry.payload)
        })();
        match attempt {
            Ok(id) => {
                let _ = spool.remove(&entry.result_id);
                return Ok(id);
            }
            Err(e @ SendError::Rejected { .. }) => return Err(e),
            Err(e) => {
                if matches!(e, SendError::Ambiguous(_)) && !entry.ambiguous {
                    entry.ambiguous = true;
                    // Persist it: a process killed now must look before resending too.
                    let _ = spool.put(&entry);
                }
                if start.elapsed() + pause > policy.deadline
                    || crate::process::interrupted().is_some()
                {
                    return Err(e);
                }
                thread::sleep(pause);
                pause = (pause * 2).min(policy.max_backoff);
            }
        }
    }
}
