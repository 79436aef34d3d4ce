//! The four dictionaries of the 2014 design, the data that crosses each boundary of
//! the pipeline: [`JobRequest`] (trigger → scheduler), [`Job`] (scheduler → runner),
//! [`TaskInput`] (runner → task) and [`ExecutionReport`] (runner → caller).
//!
//! Field names are the seed's, exactly. Each type converts to and from a plain
//! mapping ([`Dictionary`]), so any component can be driven by a dictionary fixture
//! alone. Additions to the seed's fields are documented on the field. Pure; no I/O.

mod execution_report;
mod job;
mod job_request;
mod task_input;

pub use execution_report::{
    ActionReport, ActionStatus, ActionTests, ExecutionReport, ExecutionStatus, FlakyTest,
    NamedFailure, Regressions, TestRef,
};
pub use job::{Job, TaskSource};
pub use job_request::JobRequest;
pub use task_input::TaskInput;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Why a mapping is not a valid dictionary.
#[derive(Debug, thiserror::Error)]
pub enum DictionaryError {
    /// The mapping lacks a field, has a field of the wrong type, or one not known.
    #[error("invalid {kind}: {source}")]
    Shape {
        /// Which dictionary.
        kind: &'static str,
        /// What serde found.
        source: serde_json::Error,
    },
    /// The YAML text could not be read.
    #[error("invalid {kind}: {source}")]
    Yaml {
        /// Which dictionary.
        kind: &'static str,
        /// What the YAML reader found, with its location.
        source: serde_norway::Error,
    },
    /// The fields are there but their values do not fit together (an item that is not
    /// of its type's shape).
    #[error("invalid {kind}: {reason}")]
    Invalid {
        /// Which dictionary.
        kind: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// A dictionary of the pipeline: converts to and from a plain mapping and checks
/// that its values fit together.
pub trait Dictionary: Serialize + DeserializeOwned {
    /// The name used in messages (`JobRequest`).
    const KIND: &'static str;

    /// Checks what serde cannot: that values fit their types and each other.
    ///
    /// # Errors
    /// Says which value is wrong and why.
    fn check(&self) -> Result<(), String> {
        Ok(())
    }

    /// The dictionary as a plain mapping.
    fn to_mapping(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            // The dictionaries are structs of strings, so they always serialise to maps.
            _ => serde_json::Map::new(),
        }
    }

    /// Reads a dictionary from a plain mapping and checks it.
    ///
    /// # Errors
    /// A missing, mistyped or unknown field, or values that do not fit.
    fn from_mapping(
        map: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self, DictionaryError> {
        let value = serde_json::from_value(serde_json::Value::Object(map)).map_err(|source| {
            DictionaryError::Shape {
                kind: Self::KIND,
                source,
            }
        })?;
        checked(value)
    }

    /// Reads a dictionary from YAML (or JSON, which is YAML) text and checks it.
    ///
    /// # Errors
    /// Invalid YAML, a missing, mistyped or unknown field, or values that do not fit.
    fn from_yaml(text: &str) -> Result<Self, DictionaryError> {
        let value = serde_norway::from_str(text).map_err(|source| DictionaryError::Yaml {
            kind: Self::KIND,
            source,
        })?;
        checked(value)
    }
}

/// `value` if its values fit together.
fn checked<D: Dictionary>(value: D) -> Result<D, DictionaryError> {
    value.check().map_err(|reason| DictionaryError::Invalid {
        kind: D::KIND,
        reason,
    })?;
    Ok(value)
}

/// Checks an item against its type, for the dictionaries' `check`.
fn check_item(item: &str, item_type: crate::item::ItemType) -> Result<(), String> {
    item_type.validate(item).map_err(|e| e.to_string())
}

/// Checks a build id: it is opaque but must be usable in paths and URLs (the
/// runner checks a `TaskInput` with it before a run, the dictionaries on reading).
///
/// # Errors
/// Why the id cannot be used.
pub fn check_build_id(build_id: Option<&str>) -> Result<(), String> {
    match build_id {
        Some("") => Err("build_id is empty; use null for a standalone run".into()),
        Some(id)
            if !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
                || id.contains("..") =>
        {
            Err(format!(
                "build_id `{id}` may hold only letters, digits and `-_./`"
            ))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
