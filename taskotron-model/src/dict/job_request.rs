//! `JobRequest`: what the trigger asks the scheduler to run.

use serde::{Deserialize, Serialize};

use super::TaskSource;
use super::{check_item, Dictionary};
use crate::arch::Arch;
use crate::item::ItemType;

/// Trigger → scheduler: run `taskname` for `item` on `arch`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobRequest {
    /// The item under test: an N-V-R, an update alias, a tag, ...
    pub item: String,
    /// What kind of item it is.
    pub item_type: ItemType,
    /// The task to run, by name.
    pub taskname: String,
    /// The arch the job needs.
    pub arch: Arch,
    /// Where the task comes from, when not from the task named `taskname` (an
    /// addition: a `dist_git_tests` job runs the build's own dist-git at its commit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<TaskSource>,
    /// The one tmt plan to run, by name (an addition: a `dist_git_tests` job is one
    /// plan on one arch); every plan when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
}

impl Dictionary for JobRequest {
    const KIND: &'static str = "JobRequest";

    fn check(&self) -> Result<(), String> {
        if self.taskname.trim().is_empty() {
            return Err("taskname is empty".into());
        }
        if let Some(plan) = &self.plan {
            if !plan.starts_with('/') || plan.chars().any(char::is_control) {
                return Err(format!("plan `{plan}` is no tmt plan name (`/plans/...`)"));
            }
        }
        check_item(&self.item, self.item_type)
    }
}
