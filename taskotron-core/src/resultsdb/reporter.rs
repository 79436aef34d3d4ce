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
        let spool = Spool::open(&reporting.state_dir.join("spool/resultsdb")).map_err(|e| {
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
