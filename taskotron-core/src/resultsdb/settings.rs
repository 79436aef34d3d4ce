//! What a run needs to know to report (ResultsDB and Bodhi): the configuration's
//! reporting part.

use std::path::PathBuf;

use super::{Auth, Policy};
use crate::results::Outcome;

/// Where and how results are reported.
#[derive(Debug, Clone, Default)]
pub struct Reporting {
    /// ResultsDB; `None` writes the payloads into the artifacts instead.
    pub resultsdb_url: Option<String>,
    /// Credentials.
    pub auth: Option<Auth>,
    /// A testcase's documentation URL template.
    pub testcase_ref_url: Option<String>,
    /// Outcomes ResultsDB accepts.
    pub accepted: Vec<Outcome>,
    /// Published artifacts' base URL.
    pub artifacts_base_url: Option<String>,
    /// The job URL template.
    pub job_url_template: Option<String>,
    /// taskotron's own web server (`web_url`), when one shows the jobs: a Bodhi
    /// comment about a job then links the job's page rather than one log.
    pub web_url: Option<String>,
    /// Where the spool lives.
    pub state_dir: PathBuf,
    /// Retries and concurrency.
    pub policy: Policy,
    /// Bodhi, for `bodhi_comment`.
    pub bodhi_url: Option<String>,
    /// The Bodhi user.
    pub bodhi_user: String,
    /// Its OIDC token.
    pub bodhi_token: Option<String>,
    /// Minutes before an unchanged FAILED is said again.
    pub bodhi_comment_span: u64,
    /// The `namespaces.yaml` results are checked against before sending.
    pub namespaces: Option<PathBuf>,
    /// The embedded results store results go to when no `resultsdb_url` is set
    /// (`<state_dir>/results.sqlite`); `None` (mock runs, tests) keeps them in the
    /// artifacts only.
    pub local: Option<PathBuf>,
    /// Set in a run on a remote machine (`run-job` of a remote job file): the
    /// `resultsdb` and `bodhi_comment` directives collect what they would send here,
    /// for the machine with the credentials to send ([`crate::deferred`]).
    pub deferred: Option<crate::deferred::Collector>,
    /// The gating configuration (`gating_policies` set): a Bodhi comment says
    /// the update's gates. `None`: it does not.
    pub gating: Option<crate::gating::GatingSettings>,
    /// Set for runs against mock services (`run --mock`, `taskotron test`'s
    /// cases): their results go to the artifacts only, and nothing of them is kept
    /// in the history, which holds the runs of real builds (a test case's made-up
    /// build would otherwise be the "previous build" a real run is compared with).
    pub mocked: bool,
}

impl Reporting {
    /// Where results wait to be delivered to ResultsDB: `<state_dir>/spool/resultsdb`.
    pub fn spool_dir(&self) -> PathBuf {
        self.state_dir.join("spool/resultsdb")
    }
}
