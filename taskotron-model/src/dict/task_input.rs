//! `TaskInput`: what the runner gives the task.

use serde::{Deserialize, Serialize};

use super::{check_build_id, check_item, Dictionary};
use crate::item::ItemType;

/// Runner → task: the part of its own input the runner passes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskInput {
    /// The item under test.
    pub item: String,
    /// What kind of item it is.
    pub item_type: ItemType,
    /// The build id, `null` when standalone.
    pub build_id: Option<String>,
}

impl Dictionary for TaskInput {
    const KIND: &'static str = "TaskInput";

    fn check(&self) -> Result<(), String> {
        check_build_id(self.build_id.as_deref())?;
        check_item(&self.item, self.item_type)
    }
}
