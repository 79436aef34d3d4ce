//! `Job`: what the scheduler hands to a runner.

use serde::{Deserialize, Serialize};

use super::{check_build_id, check_item, Dictionary};
use crate::arch::Arch;
use crate::item::ItemType;

/// Where a job's task comes from. An addition to the seed, which left the git repository
/// implicit ("the git repo corresponding to the taskname will be cloned").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSource {
    /// Git URL or local directory of the task.
    pub repo: String,
    /// Branch, tag or commit; the default branch when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
}

/// Scheduler → runner: run the formula `yamlfile` for `item`, as build `build_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// The item under test.
    pub item: String,
    /// What kind of item it is.
    pub item_type: ItemType,
    /// The scheduler's id of this build, used for logs and results; `null` only for a
    /// standalone run.
    pub build_id: Option<String>,
    /// The formula to run, relative to the task's source (`runtask.yml`).
    pub yamlfile: String,
    /// The arch to run on (an addition: the seed carried it only in the JobRequest).
    #[serde(default = "default_arch")]
    pub arch: Arch,
    /// Where the task comes from (an addition; absent for a local task).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<TaskSource>,
    /// The one tmt plan to run, by name (an addition, from the JobRequest); every
    /// plan when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
}

fn default_arch() -> Arch {
    Arch::Noarch
}

impl Dictionary for Job {
    const KIND: &'static str = "Job";

    fn check(&self) -> Result<(), String> {
        if self.yamlfile.trim().is_empty() {
            return Err("yamlfile is empty".into());
        }
        check_build_id(self.build_id.as_deref())?;
        check_item(&self.item, self.item_type)
    }
}
