//! `ExecutionReport`: what the runner tells its caller about the run.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Dictionary;
use taskotron_tap::results::{CheckDetail, Outcome};

/// Whether the task *ran*; never what the check found (that travels as results).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecutionStatus {
    /// Every action ran and succeeded.
    #[serde(rename = "OK")]
    Ok,
    /// Something stopped the run: a failed action, a timeout, an infrastructure error.
    #[serde(rename = "NOT_OK")]
    NotOk,
}

impl ExecutionStatus {
    /// `OK` or `NOT_OK`, as the report writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Ok => "OK",
            ExecutionStatus::NotOk => "NOT_OK",
        }
    }
}

/// How one action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// The directive succeeded.
    Ok,
    /// The directive failed.
    Failed,
    /// The action ran past its timeout and was killed.
    TimedOut,
    /// An earlier action failed, so this one did not run.
    Skipped,
}

/// One action's part in the run (an addition to the seed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionReport {
    /// The action's `name`.
    pub name: String,
    /// The directive it used.
    pub directive: String,
    /// How it ended.
    pub status: ActionStatus,
    /// Wall time in milliseconds (0 when skipped).
    pub duration_ms: u64,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Files holding what the action printed, relative to the artifacts directory.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<String>,
    /// The exit code of its last process (`shell`, `python`), `128 + n` when a
    /// signal killed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The tests its results came from, when it gave results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<ActionTests>,
}

/// The tests behind one action's results: how many ended which way, and where
/// each one is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionTests {
    /// What the action printed or wrote: `tap`, `resultyaml` or `junit`.
    pub format: String,
    /// The checkname of its results and the name of its JUnit suite.
    pub checkname: String,
    /// The counts of its leaf tests.
    pub counts: taskotron_tap::results::CaseCounts,
    /// Every test, one JSON object a line ([`taskotron_tap::results::Case`]), relative to
    /// the artifacts directory.
    pub file: String,
    /// Why the stream cannot be trusted to be whole, when it cannot: no stream, cut
    /// short, bailed out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Runner → caller. `execution_status` and `status` are the seed's; the rest are
/// additions so a caller can find the run's artifacts and see each action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionReport {
    /// `OK` when the task ran, `NOT_OK` when it could not.
    pub execution_status: ExecutionStatus,
    /// Why the run failed, if it did (`null` when OK).
    pub status: Option<String>,
    /// The build id the run was given, `null` when standalone.
    pub build_id: Option<String>,
    /// This run's own id, which names its artifacts directory.
    pub run_id: String,
    /// The item under test.
    pub item: String,
    /// Its type.
    pub item_type: crate::ItemType,
    /// The arch the run was for.
    pub arch: crate::Arch,
    /// The testcase name, `namespace.name`.
    pub checkname: String,
    /// The run's artifacts directory.
    pub artifacts: PathBuf,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// Wall time of the whole run in milliseconds.
    pub duration_ms: u64,
    /// Each action, in formula order.
    pub actions: Vec<ActionReport>,
    /// The worst outcome of the run's results; `null` when the task gave none.
    /// What the check found, kept apart from `execution_status`.
    #[serde(default)]
    pub outcome: Option<Outcome>,
    /// The results the actions returned (ResultYAML or TAP), checknames filled in.
    #[serde(default)]
    pub results: Vec<CheckDetail>,
    /// The exit code an `exitcode` action asked for (0 or 100), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The task repository's commit the run used, when a worker ran it from a git
    /// repository (set by the worker, which made the checkout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_commit: Option<String>,
    /// The name and cause of the failure that stopped the run, when it has one
    /// (`KOJI_UNKNOWN_BUILD`, `TOOL_MISSING`, ...): a stable contract for programs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<NamedFailure>,
    /// How the task's processes were isolated (`none` or `sandbox`); absent in
    /// reports of builds before isolation existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolation: Option<crate::Isolation>,
    /// The machine the run ran on over SSH (`user@host:port`); absent for a run on
    /// the runner's own machine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
    /// How this run's tests compare with the latest finished run of the same task
    /// for the previous build of the same package on the same arch (an addition:
    /// taskotron's history); none when there is no such run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regressions: Option<Regressions>,
    /// The tests known to be flaky on this item and arch: their outcome changed
    /// between runs of the same task (a retried job, a rerun). Empty when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flaky: Vec<FlakyTest>,
}

/// A test whose outcome flips between runs of the same task for the same item
/// and arch (a retried job, a rerun), from the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlakyTest {
    /// The check or suite.
    pub check: String,
    /// The test case's name.
    pub name: String,
    /// How many times its outcome changed from one run to the next (passing to
    /// failing or back; skipped runs do not count).
    pub flips: u32,
    /// In how many runs it passed or failed.
    pub runs: u32,
}

/// A failure with a stable name and whose problem it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedFailure {
    /// Upper case with underscores: `KOJI_UNKNOWN_BUILD`, `DOWNLOAD_INCOMPLETE`,
    /// `CHECKSUM_MISMATCH`, `TOOL_MISSING`, ...
    pub kind: String,
    /// `task` or `infrastructure`.
    pub cause: crate::failure::Cause,
}

impl ExecutionReport {
    /// True when the task ran.
    pub fn is_ok(&self) -> bool {
        self.execution_status == ExecutionStatus::Ok
    }
}

impl Dictionary for ExecutionReport {
    const KIND: &'static str = "ExecutionReport";

    fn check(&self) -> Result<(), String> {
        match (self.execution_status, &self.status) {
            (ExecutionStatus::NotOk, None) => {
                Err("a NOT_OK report must say why in `status`".into())
            }
            _ => Ok(()),
        }
    }
}

/// A test of a run: the check (suite) it belongs to and its name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TestRef {
    /// The check or suite (`dist.rpmlint`, `fedora-ci.koji-build./plans/smoke.functional`).
    pub check: String,
    /// The test case's name.
    pub name: String,
}

/// One run's tests against an earlier run's: what newly fails, what is fixed,
/// what still fails, what is new and what is gone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Regressions {
    /// The earlier run.
    pub base_run: String,
    /// Its item (`htop-3.2.2-1.fc41`).
    pub base_item: String,
    /// Tests that passed there and fail (or error) here.
    pub newly_failing: Vec<TestRef>,
    /// Tests that failed there and pass here.
    pub fixed: Vec<TestRef>,
    /// Tests that fail in both.
    pub still_failing: Vec<TestRef>,
    /// Tests only this run has.
    pub new: Vec<TestRef>,
    /// Tests only the earlier run had.
    pub vanished: Vec<TestRef>,
}

impl Regressions {
    /// "2 tests newly fail since htop-3.2.2-1.fc41", or what else there is to say.
    pub fn summary(&self) -> String {
        let n = self.newly_failing.len();
        let plural = |n: usize, one: &str, many: &str| {
            if n == 1 {
                format!("1 {one}")
            } else {
                format!("{n} {many}")
            }
        };
        let mut parts = vec![if n == 0 {
            format!("no test newly fails since {}", self.base_item)
        } else {
            format!(
                "{} since {}",
                plural(n, "test newly fails", "tests newly fail"),
                self.base_item
            )
        }];
        if !self.fixed.is_empty() {
            parts.push(format!("{} fixed", self.fixed.len()));
        }
        if !self.still_failing.is_empty() {
            parts.push(format!("{} still failing", self.still_failing.len()));
        }
        if !self.new.is_empty() {
            parts.push(format!("{} new", self.new.len()));
        }
        if !self.vanished.is_empty() {
            parts.push(format!("{} gone", self.vanished.len()));
        }
        parts.join(", ")
    }

    /// [`Self::summary`] and the names of the tests that newly fail, at most
    /// `names` of them (a comment has room for a few, not for 200):
    /// "2 tests newly fail since htop-3.2.2-1.fc41: a, b".
    pub fn headline(&self, names: usize) -> String {
        let mut line = self.summary();
        if !self.newly_failing.is_empty() {
            let shown: Vec<&str> = self
                .newly_failing
                .iter()
                .take(names)
                .map(|t| t.name.as_str())
                .collect();
            line.push_str(": ");
            line.push_str(&shown.join(", "));
            let more = self.newly_failing.len() - shown.len();
            if more > 0 {
                line.push_str(&format!(" and {more} more"));
            }
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::{Regressions, TestRef};

    #[test]
    fn a_headline_names_a_few_newly_failing_tests() {
        let tests = |n: usize| {
            (0..n)
                .map(|i| TestRef {
                    check: "dist.t".into(),
                    name: format!("t{i}"),
                })
                .collect::<Vec<_>>()
        };
        let mut r = Regressions {
            base_item: "htop-3.2.2-1.fc41".into(),
            fixed: tests(1),
            ..Regressions::default()
        };
        assert_eq!(
            r.headline(2),
            "no test newly fails since htop-3.2.2-1.fc41, 1 fixed"
        );
        r.newly_failing = tests(2);
        assert_eq!(
            r.headline(2),
            "2 tests newly fail since htop-3.2.2-1.fc41, 1 fixed: t0, t1"
        );
        r.newly_failing = tests(7);
        assert_eq!(
            r.headline(2),
            "7 tests newly fail since htop-3.2.2-1.fc41, 1 fixed: t0, t1 and 5 more"
        );
    }
}
