//! `CheckDetail`: one result of a check for one item (the original `check.py`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Outcome;

/// Keys with a meaning of their own in ResultYAML; they cannot be keyvals.
pub const RESERVED_KEYS: &[&str] = &[
    "item",
    "type",
    "outcome",
    "note",
    "results",
    "checkname",
    "artifact",
    "_internal",
];

/// One result: what was checked, what was found, and where to read more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CheckDetail {
    /// The item checked: an N-V-R, an update alias, a tag, ...
    pub item: String,
    /// The item's type (`koji_build`, ...), written `type` in ResultYAML.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub item_type: Option<String>,
    /// What the check found; unset reads as NEEDS_INSPECTION.
    #[serde(default)]
    pub outcome: Outcome,
    /// A short summary such as `5 ERRORS, 10 WARNINGS`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// The check's full output, line by line (kept in logs; not sent to ResultsDB).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output: Vec<String>,
    /// Extra data, sent to ResultsDB as `data`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub keyvals: BTreeMap<String, Value>,
    /// The testcase name, when it is not the task's own (`dist.python-versions.two_three`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkname: Option<String>,
    /// A log of this result, absolute or relative to the artifacts directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<String>,
}

impl CheckDetail {
    /// A result for `item` with `outcome`.
    pub fn new(item: impl Into<String>, item_type: Option<&str>, outcome: Outcome) -> Self {
        Self {
            item: item.into(),
            item_type: item_type.map(str::to_string),
            outcome,
            ..Self::default()
        }
    }

    /// Keeps the worse of the current outcome and `outcome` (the original
    /// `update_outcome`).
    pub fn update_outcome(&mut self, outcome: Outcome) {
        self.outcome = self.outcome.max(outcome);
    }

    /// Adds a line to the output.
    pub fn store(&mut self, line: impl Into<String>) {
        self.output.push(line.into());
    }

    /// Fills in the checkname as the original's reporting did: none takes the
    /// task's (`default`, `namespace.name`); one that does not start with
    /// `namespace.` gets it prefixed (`python-versions.two_three` from a `dist`
    /// task is `dist.python-versions.two_three`).
    pub fn qualify(&mut self, namespace: &str, default: &str) {
        match &self.checkname {
            None => self.checkname = Some(default.to_string()),
            Some(name) if !name.starts_with(&format!("{namespace}.")) => {
                self.checkname = Some(format!("{namespace}.{name}"));
            }
            Some(_) => {}
        }
    }

    /// The testcase name: the result's own, or `default` (the task's `namespace.name`).
    pub fn testcase<'a>(&'a self, default: &'a str) -> &'a str {
        self.checkname.as_deref().unwrap_or(default)
    }
}
