//! `Reporter`: a ResultsDB to report to, as the configuration says — its client,
//! the durable spool under the state directory and the delivery policy — so the
//! `resultsdb` directive and `taskotron report` open and send the same way.

use std::time::Duration;

use super::report::SpoolError;
use super::{delivery, report, Client, Entry, Policy, Reporting, Spool};

/// How long one request to ResultsDB may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A ResultsDB, its spool and its policy.
#[derive(Debug, Clone)]
pub struct Reporter {
    /// The client.
    pub client: Client,
    /// The spool every result is written to before it is sent.
    pub spool: Spool,
    /// Retries, concurrency and the deadline.
    pub policy: Policy,
}

impl Reporter {
    /// The ResultsDB at `url` with the credentials, spool and policy of `reporting`.
    ///
    /// # Errors
    /// The spool cannot be opened (it says where).
    pub fn open(url: &str, reporting: &Reporting) -> Result<Self, String> {
        let spool = Spool::open(&reporting.spool_dir()).map_err(|e| {
            format!(
                "cannot open the spool in `{}`: {e}",
                reporting.state_dir.display()
            )
        })?;
        Ok(Self {
            client: Client::new(url, reporting.auth.clone(), REQUEST_TIMEOUT),
            spool,
            policy: reporting.policy,
        })
    }

    /// Spools `entries` and delivers them (see [`report::send`]).
    ///
    /// # Errors
    /// An entry could not be written to the spool.
    pub fn send(&self, entries: Vec<Entry>, resume: bool) -> Result<delivery::Outcome, SpoolError> {
        report::send(&self.client, &self.spool, entries, resume, self.policy)
    }
}

/// Sends `entries` as `reporting` says, the one flow of the `resultsdb` directive
/// and of a remote run's deferred results: to ResultsDB through the spool; without
/// a `resultsdb_url`, into the embedded store, or else into
/// `<artifacts>/resultsdb-payloads.json`. Says what it did on `out`. Returns each
/// entry's ResultsDB id (`None` when it was not sent).
///
/// # Errors
/// Why not everything was delivered (what is left is in the spool).
pub fn submit(
    entries: &[Entry],
    reporting: &Reporting,
    artifacts: &std::path::Path,
    out: &mut dyn std::io::Write,
) -> Result<Vec<Option<u64>>, String> {
    let Some(url) = &reporting.resultsdb_url else {
        if let Some(store) = &reporting.local {
            // No external ResultsDB: the embedded store keeps them, and
            // `taskotron web` serves them at /api/v2.0/results.
            let ids = super::local::keep(store, entries).map_err(|e| format!("resultsdb: {e}"))?;
            let _ = writeln!(
                out,
                "No resultsdb_url: {} results kept in {} (`taskotron web` serves them at /api/v2.0/results)",
                ids.len(),
                store.display()
            );
            return Ok(ids.into_iter().map(Some).collect());
        }
        let payloads: Vec<_> = entries.iter().map(|e| &e.payload).collect();
        crate::unsent::RESULTSDB.keep(&payloads, artifacts, out)?;
        return Ok(vec![None; entries.len()]);
    };
    let reporter = Reporter::open(url, reporting).map_err(|e| format!("resultsdb: {e}"))?;
    let order: Vec<String> = entries.iter().map(|e| e.result_id.clone()).collect();
    let outcome = reporter
        .send(entries.to_vec(), false)
        .map_err(|e| format!("resultsdb: {e}"))?;
    if !outcome.is_complete() {
        let mut why = format!(
            "reporting to ResultsDB failed: {} delivered, {} refused, {} left in the spool (send them with `taskotron report --resume`)",
            outcome.delivered.len(),
            outcome.rejected.len(),
            outcome.pending.len()
        );
        for (_, reason) in outcome.rejected.iter().chain(&outcome.pending).take(3) {
            why.push_str(&format!("\n  {reason}"));
        }
        return Err(why);
    }
    Ok(order
        .iter()
        .map(|rid| {
            outcome
                .delivered
                .iter()
                .chain(&outcome.already)
                .find(|(r, _)| r == rid)
                .map(|(_, id)| *id)
        })
        .collect())
}
