//! `JobRequest`: what the trigger asks the scheduler to run.

use serde::{Deserialize, Serialize};

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
}

impl Dictionary for JobRequest {
    const KIND: &'static str = "JobRequest";

    fn check(&self) -> Result<(), String> {
        if self.taskname.trim().is_empty() {
            return Err("taskname is empty".into());
        }
        check_item(&self.item, self.item_type)
    }
}
