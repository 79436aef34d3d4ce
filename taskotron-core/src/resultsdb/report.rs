//! One report: CheckDetails to spooled entries, then delivered. Shared by
//! `taskotron report` and the `resultsdb` directive.

use std::io;

use super::delivery::{self, Policy};
use super::{format, Client, Entry, PayloadError, ReportContext, Spool};
use crate::results::CheckDetail;

/// Formats every detail; all problems at once, and nothing is spooled if any.
///
/// # Errors
/// Every result that cannot be sent as it is.
pub fn entries(
    details: &[CheckDetail],
    ctx: &ReportContext,
) -> Result<Vec<Entry>, Vec<PayloadError>> {
    let mut out = Vec::with_capacity(details.len());
    let mut errors = Vec::new();
    for d in details {
        let result_id = uuid::Uuid::new_v4().to_string();
        match format(d, ctx, &result_id) {
            Ok(payload) => out.push(Entry {
                result_id,
                payload,
                ambiguous: false,
            }),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Writes `entries` to the spool, adds what earlier reports left there when
/// `resume`, and delivers everything.
///
/// # Errors
/// The spool cannot be written or read; then nothing was sent.
pub fn send(
    client: &Client,
    spool: &Spool,
    entries: Vec<Entry>,
    resume: bool,
    policy: Policy,
) -> io::Result<delivery::Outcome> {
    for e in &entries {
        spool.put(e)?;
    }
    let mut all = entries;
    if resume {
        let known: std::collections::HashSet<String> =
            all.iter().map(|e| e.result_id.clone()).collect();
        // An earlier process may have been killed with any of these in flight: look
        // each one up before sending it again.
        all.extend(
            spool
                .pending()?
                .into_iter()
                .filter(|e| !known.contains(&e.result_id))
                .map(|mut e| {
                    e.ambiguous = true;
                    e
                }),
        );
    }
    // The queue is taken from the end: keep the oldest first.
    all.reverse();
    Ok(delivery::deliver(client, spool, all, policy))
}
