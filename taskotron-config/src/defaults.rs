//! The defaults the components share with the configuration. They live here, at
//! the bottom, so that the configuration states every default without knowing the
//! component; each component names its own constant after the one here.
//! *Invariant: constants only.*

use std::time::Duration;

/// How long an action may run when neither the formula nor the config says
/// (`action_timeout`).
pub const ACTION_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// How long, in minutes, an unchanged FAILED waits before the Bodhi comment says it
/// again (`bodhi_comment_span`): three days.
pub const BODHI_COMMENT_SPAN_MINUTES: u64 = 4320;

/// How long the trigger folds equal jobs into one (`trigger_window`): the
/// original `fuse_delay`.
pub const TRIGGER_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The result name Fedora CI gives a plan (`resultsdb-testcase: separate`;
/// `tmt_checkname`).
pub const TMT_CHECKNAME: &str = "fedora-ci.{artifact}.{plan}.functional";

/// The ResultsDB name of a suite's result, as Fedora CI named it (`sti_checkname`).
pub const STI_CHECKNAME: &str = "fedora-ci.koji-build.tier0.functional";
