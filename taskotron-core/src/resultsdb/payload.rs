//! CheckDetails to ResultsDB v2.0 `POST /results` payloads. Pure; no I/O.
//!
//! ResultsDB stores `data` values as lists of strings and turns anything else into
//! Python's `str()` (`true` becomes `"True"`), so values are converted here, the
//! way a reader of the data expects: numbers and booleans in their JSON text, lists
//! element by element, mappings as JSON. Keys with `:` are refused (the server
//! rejects the whole result). Outcomes the server does not accept are mapped to
//! NEEDS_INSPECTION and the note says what they were.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::results::{CheckDetail, Outcome};

/// The `data` key holding a result's own id, so that a retry after an ambiguous
/// failure can ask ResultsDB whether the result already arrived.
pub const RESULT_ID_KEY: &str = "taskotron_result_id";

/// A `data` value: ResultsDB stores strings or lists of strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DataValue {
    /// One string.
    One(String),
    /// Several.
    Many(Vec<String>),
}

/// The testcase, with its documentation URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Testcase {
    /// `namespace.name`.
    pub name: String,
    /// Where the testcase is documented.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ref_url: Option<String>,
}

/// The group every result of one run (or one `taskotron report`) belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// The group's UUID.
    pub uuid: String,
    /// What the group is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The job's URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ref_url: Option<String>,
}

/// The body of `POST /api/v2.0/results`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultPayload {
    /// PASSED, INFO, FAILED or NEEDS_INSPECTION (or an outcome the server was configured
    /// to accept).
    pub outcome: String,
    /// The testcase.
    pub testcase: Testcase,
    /// The run's group.
    pub groups: Vec<Group>,
    /// The note.
    pub note: Option<String>,
    /// The result's log.
    pub ref_url: Option<String>,
    /// Item, type, arch and the keyvals, as strings or lists of strings.
    pub data: BTreeMap<String, DataValue>,
}

impl ResultPayload {
    /// The result's own id (see [`RESULT_ID_KEY`]).
    pub fn result_id(&self) -> Option<&str> {
        match self.data.get(RESULT_ID_KEY) {
            Some(DataValue::One(s)) => Some(s),
            _ => None,
        }
    }

    /// The item, as the data carries it.
    pub fn item(&self) -> Option<&str> {
        match self.data.get("item") {
            Some(DataValue::One(s)) => Some(s),
            Some(DataValue::Many(v)) => v.first().map(String::as_str),
            None => None,
        }
    }
}

/// What every payload of one report shares.
#[derive(Debug, Clone)]
pub struct ReportContext {
    /// The testcase name of results that carry none (`namespace.name`).
    pub checkname: String,
    /// `{testcase}` in it becomes the testcase name: the testcase's documentation.
    pub testcase_ref_url: Option<String>,
    /// The run's arch, added to `data` unless a keyval already says.
    pub arch: Option<String>,
    /// The group of this run.
    pub group: Group,
    /// Maps an artifact (relative to the run's artifacts) to its URL; `None` leaves
    /// results without a `ref_url` of their own, pointing at the run instead.
    pub urls: super::LogUrls,
    /// Outcomes the server accepts; others become NEEDS_INSPECTION.
    pub accepted: Vec<Outcome>,
}

/// A result that cannot be sent as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// A keyval's key holds `:`, which ResultsDB refuses for the whole result.
    #[error("result for `{item}`: keyval `{key}` has a `:`, which ResultsDB does not allow in data keys; rename it (for example `{suggestion}`)")]
    ColonInKey {
        /// The result's item.
        item: String,
        /// The key.
        key: String,
        /// The key with `_` for `:`.
        suggestion: String,
    },
    /// The result has no item.
    #[error("a result has no item; ResultsDB results are found by item and type")]
    NoItem,
}

/// The payload for `detail`; `result_id` is the id that makes retries safe.
///
/// # Errors
/// A keyval key with `:`, or no item.
pub fn format(
    detail: &CheckDetail,
    ctx: &ReportContext,
    result_id: &str,
) -> Result<ResultPayload, PayloadError> {
    if detail.item.is_empty() {
        return Err(PayloadError::NoItem);
    }
    let mut data = BTreeMap::new();
    for (key, value) in &detail.keyvals {
        if key.contains(':') {
            return Err(PayloadError::ColonInKey {
                item: detail.item.clone(),
                key: key.clone(),
                suggestion: key.replace(':', "_"),
            });
        }
        if let Some(v) = data_value(value) {
            data.insert(key.clone(), v);
        }
    }
    data.insert("item".into(), DataValue::One(detail.item.clone()));
    if let Some(t) = &detail.item_type {
        data.insert("type".into(), DataValue::One(t.clone()));
    }
    if let Some(arch) = &ctx.arch {
        data.entry("arch".into())
            .or_insert_with(|| DataValue::One(arch.clone()));
    }
    data.insert(RESULT_ID_KEY.into(), DataValue::One(result_id.to_string()));
    let testcase = detail.testcase(&ctx.checkname).to_string();
    let (outcome, note) = if ctx.accepted.contains(&detail.outcome) {
        (detail.outcome, detail.note.clone())
    } else {
        let prefix = format!("{} (reported as NEEDS_INSPECTION)", detail.outcome);
        let note = if detail.note.is_empty() {
            prefix
        } else {
            format!("{prefix}: {}", detail.note)
        };
        (Outcome::NeedsInspection, note)
    };
    Ok(ResultPayload {
        outcome: outcome.as_str().to_string(),
        testcase: Testcase {
            ref_url: ctx
                .testcase_ref_url
                .as_ref()
                .map(|t| t.replace("{testcase}", &testcase)),
            name: testcase,
        },
        groups: vec![ctx.group.clone()],
        note: (!note.is_empty()).then_some(note),
        ref_url: ctx.urls.result_url(detail.artifact.as_deref()),
        data,
    })
}

/// A keyval as ResultsDB data: strings as they are, numbers and booleans in their
/// JSON text, lists element by element, mappings as JSON; null is left out.
fn data_value(value: &Value) -> Option<DataValue> {
    fn text(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
    match value {
        Value::Null => None,
        Value::Array(items) => Some(DataValue::Many(
            items.iter().filter(|v| !v.is_null()).map(text).collect(),
        )),
        other => Some(DataValue::One(text(other))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::resultsdb::LogUrls;

    fn ctx() -> ReportContext {
        ReportContext {
            checkname: "dist.rpmlint".into(),
            testcase_ref_url: Some("https://docs.example/{testcase}".into()),
            arch: Some("x86_64".into()),
            group: Group {
                uuid: "g-1".into(),
                description: Some("run".into()),
                ref_url: None,
            },
            urls: LogUrls::new(Some("https://artifacts.example/all"), None, "r-1", None),
            accepted: vec![
                Outcome::Passed,
                Outcome::Info,
                Outcome::Failed,
                Outcome::NeedsInspection,
            ],
        }
    }

    #[test]
    fn formats_like_taskotron_did() {
        let mut d = CheckDetail::new("xchat-0.5-1.fc20", Some("koji_build"), Outcome::Failed);
        d.note = "5 ERRORS".into();
        d.artifact = Some("logs/xchat.log".into());
        d.keyvals.insert("seconds".into(), json!(3));
        d.keyvals.insert("ok".into(), json!(true));
        d.keyvals
            .insert("arches".into(), json!(["x86_64", 1, null]));
        d.keyvals.insert("nested".into(), json!({"a": 1}));
        d.keyvals.insert("gone".into(), Value::Null);
        let p = format(&d, &ctx(), "id-1").unwrap();
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["outcome"], "FAILED");
        assert_eq!(
            v["testcase"],
            json!({"name": "dist.rpmlint", "ref_url": "https://docs.example/dist.rpmlint"})
        );
        assert_eq!(
            v["ref_url"],
            "https://artifacts.example/all/r-1/logs/xchat.log"
        );
        assert_eq!(v["groups"], json!([{"uuid": "g-1", "description": "run"}]));
        assert_eq!(
            v["data"],
            json!({"item": "xchat-0.5-1.fc20", "type": "koji_build", "arch": "x86_64", "seconds": "3", "ok": "true",
                   "arches": ["x86_64", "1"], "nested": "{\"a\":1}", "taskotron_result_id": "id-1"})
        );
    }

    #[test]
    fn unaccepted_outcomes_are_mapped_and_said() {
        let mut d = CheckDetail::new("a-1-1", None, Outcome::Crashed);
        d.note = "segfault".into();
        let p = format(&d, &ctx(), "x").unwrap();
        assert_eq!(p.outcome, "NEEDS_INSPECTION");
        assert_eq!(
            p.note.as_deref(),
            Some("CRASHED (reported as NEEDS_INSPECTION): segfault")
        );
        let mut with_crashed = ctx();
        with_crashed.accepted.push(Outcome::Crashed);
        assert_eq!(format(&d, &with_crashed, "x").unwrap().outcome, "CRASHED");
    }

    #[test]
    fn colons_and_missing_items_are_refused() {
        let mut d = CheckDetail::new("a-1-1", None, Outcome::Passed);
        d.keyvals.insert("a:b".into(), json!("c"));
        let e = format(&d, &ctx(), "x").unwrap_err();
        assert!(
            e.to_string().contains("keyval `a:b`") && e.to_string().contains("`a_b`"),
            "{e}"
        );
        assert_eq!(
            format(&CheckDetail::default(), &ctx(), "x").unwrap_err(),
            PayloadError::NoItem
        );
    }
}
