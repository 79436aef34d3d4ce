//! A decision request as Greenwave reads it from `POST /api/v1.0/decision`:
//! `decision_context` (a string or a list), `product_version`, the subject as
//! `subject_type` + `subject_identifier` or as a `subject` list of `{item, type}`,
//! `verbose`, `ignore_result`, `ignore_waiver`, `when` and on-demand `rules`.
//! Keys it does not know are ignored, as Greenwave does; a wrong value is a
//! [`FieldError`] that names the field (the HTTP answer is 400). Pure.

use serde_json::Value;
use taskotron_tap::suggest::did_you_mean;

use crate::policy::Rule;

/// The subject types Greenwave knows (its `subject_types` configuration in
/// Fedora and Red Hat deployments); anything else is refused with a suggestion.
pub const SUBJECT_TYPES: [&str; 7] = [
    "koji_build",
    "bodhi_update",
    "compose",
    "brew-build",
    "redhat-module",
    "redhat-container-image",
    "component-version",
];

/// What a decision is about: a Koji build's NVR, an update's alias, a compose.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subject {
    /// `koji_build`, `bodhi_update`, ...
    pub kind: String,
    /// The NVR, the alias, the compose id.
    pub identifier: String,
}

impl Subject {
    /// A subject.
    pub fn new(kind: impl Into<String>, identifier: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            identifier: identifier.into(),
        }
    }

    /// The package a build subject is of (`htop` for `htop-3.3.0-1.fc41`); `None`
    /// for subjects that are not builds.
    pub fn package_name(&self) -> Option<&str> {
        if !matches!(self.kind.as_str(), "koji_build" | "brew-build") {
            return None;
        }
        let mut parts = self.identifier.rsplitn(3, '-');
        let (_, _, name) = (parts.next(), parts.next(), parts.next());
        name.filter(|n| !n.is_empty())
    }

    /// The deprecated `item` object Greenwave still puts into some requirements.
    pub fn to_item(&self) -> Value {
        if self.kind == "compose" {
            serde_json::json!({"productmd.compose.id": self.identifier})
        } else {
            serde_json::json!({"type": self.kind, "item": self.identifier})
        }
    }
}

/// A request, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRequest {
    /// The gating points asked about (empty with on-demand `rules`).
    pub decision_contexts: Vec<String>,
    /// `fedora-41`, `epel-9`.
    pub product_version: String,
    /// The subjects, in the order given, each once.
    pub subjects: Vec<Subject>,
    /// Answer with the results and waivers looked at, too.
    pub verbose: bool,
    /// Result ids to act as if they did not exist.
    pub ignore_result: Vec<i64>,
    /// Waiver ids to act as if they did not exist.
    pub ignore_waiver: Vec<i64>,
    /// Decide as of this time (ISO 8601) rather than now.
    pub when: Option<String>,
    /// An on-demand policy's rules instead of the configured policies.
    pub rules: Option<Vec<Rule>>,
}

/// A field of the request that is missing or wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field (`decision_context`, `subject[2].type`).
    pub field: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl FieldError {
    /// An error about `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

const KEYS: [&str; 11] = [
    "decision_context",
    "product_version",
    "subject_type",
    "subject_identifier",
    "subject",
    "verbose",
    "ignore_result",
    "ignore_waiver",
    "when",
    "rules",
    "callback",
];

/// A required key is missing: say so, and name a near miss if the body has one.
fn missing(body: &serde_json::Map<String, Value>, field: &str) -> FieldError {
    let near = body
        .keys()
        .filter(|k| !KEYS.contains(&k.as_str()))
        .find(|k| did_you_mean(k, [field]).is_some());
    let mut message = format!("missing required {field}");
    if let Some(k) = near {
        message.push_str(&format!(
            " (the request has `{k}`; did you mean `{field}`?)"
        ));
    }
    FieldError::new(field, message)
}

fn ids(body: &serde_json::Map<String, Value>, field: &str) -> Result<Vec<i64>, FieldError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                    .ok_or_else(|| FieldError::new(field, format!("`{v}` is not an id")))
            })
            .collect(),
        Some(v) => Err(FieldError::new(
            field,
            format!("must be a list of ids, found `{v}`"),
        )),
    }
}

fn subject_type(field: &str, kind: &str) -> Result<String, FieldError> {
    if SUBJECT_TYPES.contains(&kind) {
        return Ok(kind.to_string());
    }
    let mut message = format!("unrecognised subject type `{kind}`");
    match did_you_mean(kind, SUBJECT_TYPES) {
        Some(s) => message.push_str(&format!("; did you mean `{s}`?")),
        None => message.push_str(&format!("; known: {}", SUBJECT_TYPES.join(", "))),
    }
    Err(FieldError::new(field, message))
}

fn one_subject(i: usize, v: &Value) -> Result<Subject, FieldError> {
    let field = format!("subject[{i}]");
    let Some(o) = v.as_object() else {
        return Err(FieldError::new(
            field,
            "must be an object such as {\"item\": NVR, \"type\": \"koji_build\"}",
        ));
    };
    // Greenwave before 0.8 also took `{"productmd.compose.id": ID}` and
    // `{"original_spec_nvr": NVR}`.
    if let Some(id) = o.get("productmd.compose.id").and_then(Value::as_str) {
        return Ok(Subject::new("compose", id));
    }
    if let Some(nvr) = o.get("original_spec_nvr").and_then(Value::as_str) {
        return Ok(Subject::new("koji_build", nvr));
    }
    let item = match o.get("item") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(other) => {
            return Err(FieldError::new(
                format!("{field}.item"),
                format!("must be a non-empty string, found `{other}`"),
            ))
        }
        None => {
            return Err(FieldError::new(
                format!("{field}.item"),
                "missing required item",
            ))
        }
    };
    let kind = match o.get("type") {
        Some(Value::String(s)) => subject_type(&format!("{field}.type"), s)?,
        Some(other) => {
            return Err(FieldError::new(
                format!("{field}.type"),
                format!("must be a string, found `{other}`"),
            ))
        }
        None => {
            return Err(FieldError::new(
                format!("{field}.type"),
                "missing required type",
            ))
        }
    };
    Ok(Subject::new(kind, item))
}

fn on_demand(v: &Value) -> Result<Vec<Rule>, FieldError> {
    let Some(items) = v.as_array() else {
        return Err(FieldError::new("rules", "must be a list of rules"));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let field = format!("rules[{i}]");
            let kind = r.get("type").and_then(Value::as_str).ok_or_else(|| {
                FieldError::new(
                    format!("{field}.type"),
                    "key 'type' is required for every rule",
                )
            })?;
            match kind {
                "RemoteRule" => Ok(Rule::Remote {
                    required: r.get("required").and_then(Value::as_bool).unwrap_or(false),
                }),
                "PassingTestCaseRule" => {
                    let name = r
                        .get("test_case_name")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .ok_or_else(|| {
                            FieldError::new(
                                format!("{field}.test_case_name"),
                                "key 'test_case_name' is required if not a RemoteRule",
                            )
                        })?;
                    Ok(Rule::PassingTestCase {
                        test_case_name: name.to_string(),
                        scenario: r
                            .get("scenario")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        valid_since: None,
                        valid_until: None,
                    })
                }
                other => {
                    let mut message = format!("invalid rule type {other}");
                    if let Some(s) = did_you_mean(other, ["PassingTestCaseRule", "RemoteRule"]) {
                        message.push_str(&format!("; did you mean `{s}`?"));
                    }
                    Err(FieldError::new(format!("{field}.type"), message))
                }
            }
        })
        .collect()
}

impl DecisionRequest {
    /// Reads a request body.
    ///
    /// # Errors
    /// The first field that is missing or wrong.
    pub fn from_json(body: &Value) -> Result<Self, FieldError> {
        let Some(o) = body.as_object() else {
            return Err(FieldError::new(
                "",
                "the request body must be a JSON object",
            ));
        };
        let product_version = match o.get("product_version") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                return Err(missing(o, "product_version"))
            }
            Some(v) => {
                return Err(FieldError::new(
                    "product_version",
                    format!("must be a string, found `{v}`"),
                ))
            }
        };
        let rules = match o.get("rules") {
            None | Some(Value::Null) => None,
            Some(v) => Some(on_demand(v)?),
        };
        let decision_contexts = match o.get("decision_context") {
            Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
            Some(Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .ok_or_else(|| {
                            FieldError::new(
                                "decision_context",
                                format!("`{v}` is not a decision context"),
                            )
                        })
                })
                .collect::<Result<_, _>>()?,
            _ if rules.is_some() => Vec::new(),
            None | Some(Value::Null) | Some(Value::String(_)) | Some(Value::Array(_)) => {
                return Err(missing(o, "decision_context"))
            }
            Some(v) => {
                return Err(FieldError::new(
                    "decision_context",
                    format!("must be a string or a list, found `{v}`"),
                ))
            }
        };
        let mut subjects = Vec::new();
        if let Some(list) = o.get("subject") {
            let Some(items) = list.as_array() else {
                return Err(FieldError::new(
                    "subject",
                    "invalid subject, must be a list of items",
                ));
            };
            for (i, v) in items.iter().enumerate() {
                subjects.push(one_subject(i, v)?);
            }
        } else {
            let kind = match o.get("subject_type") {
                Some(Value::String(s)) => subject_type("subject_type", s)?,
                None => return Err(missing(o, "subject_type")),
                Some(v) => {
                    return Err(FieldError::new(
                        "subject_type",
                        format!("must be a string, found `{v}`"),
                    ))
                }
            };
            let id = match o.get("subject_identifier") {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                None => return Err(missing(o, "subject_identifier")),
                Some(v) => {
                    return Err(FieldError::new(
                        "subject_identifier",
                        format!("must be a non-empty string, found `{v}`"),
                    ))
                }
            };
            subjects.push(Subject::new(kind, id));
        }
        if subjects.is_empty() {
            return Err(FieldError::new(
                "subject",
                "at least one subject is required",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        subjects.retain(|s| seen.insert(s.clone()));
        let verbose = match o.get("verbose") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(FieldError::new(
                    "verbose",
                    "invalid verbose flag, must be a bool",
                ))
            }
        };
        let when = match o.get("when") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if looks_iso(s) => Some(s.clone()),
            Some(v) => {
                return Err(FieldError::new(
                    "when",
                    format!("`{v}` is not an ISO 8601 time such as 2026-12-01T12:00:00"),
                ))
            }
        };
        Ok(Self {
            decision_contexts,
            product_version,
            subjects,
            verbose,
            ignore_result: ids(o, "ignore_result")?,
            ignore_waiver: ids(o, "ignore_waiver")?,
            when,
            rules,
        })
    }
}

/// `YYYY-MM-DD` with an optional `THH:MM[:SS[.f]]` and zone; enough to compare.
fn looks_iso(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
        && (b.len() == 10 || b[10] == b'T' || b[10] == b' ')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_both_subject_forms() {
        let r = DecisionRequest::from_json(&json!({
            "decision_context": "bodhi_update_push_stable",
            "product_version": "fedora-41",
            "subject_type": "koji_build",
            "subject_identifier": "htop-3.3.0-1.fc41",
        }))
        .unwrap();
        assert_eq!(
            r.subjects,
            [Subject::new("koji_build", "htop-3.3.0-1.fc41")]
        );
        let r = DecisionRequest::from_json(&json!({
            "decision_context": ["a", "b"],
            "product_version": "fedora-41",
            "subject": [{"item": "x-1-1", "type": "koji_build"}, {"item": "FEDORA-2026-1", "type": "bodhi_update"}, {"item": "x-1-1", "type": "koji_build"}],
            "verbose": true,
            "ignore_result": [1, "2"],
        }))
        .unwrap();
        assert_eq!(r.decision_contexts, ["a", "b"]);
        assert_eq!(r.subjects.len(), 2, "duplicates are asked once");
        assert_eq!(r.ignore_result, [1, 2]);
        assert!(r.verbose);
    }

    #[test]
    fn names_the_field() {
        let e = DecisionRequest::from_json(&json!({"product_version": "f", "decision_contexts": "x", "subject_type": "koji_build", "subject_identifier": "a"})).unwrap_err();
        assert_eq!(e.field, "decision_context");
        assert!(
            e.message.contains("did you mean `decision_context`"),
            "{}",
            e.message
        );
        let e = DecisionRequest::from_json(&json!({"product_version": "f", "decision_context": "x", "subject_type": "koji-build", "subject_identifier": "a"})).unwrap_err();
        assert_eq!(e.field, "subject_type");
        assert!(
            e.message.contains("did you mean `koji_build`"),
            "{}",
            e.message
        );
        let e = DecisionRequest::from_json(
            &json!({"product_version": "f", "decision_context": "x", "subject": [{"item": "a"}]}),
        )
        .unwrap_err();
        assert_eq!(e.field, "subject[0].type");
        let e = DecisionRequest::from_json(&json!({"product_version": "f", "decision_context": "x", "subject": [], "verbose": "yes"})).unwrap_err();
        assert_eq!(e.field, "subject");
        let e = DecisionRequest::from_json(&json!({"product_version": "f", "decision_context": "x", "subject_type": "koji_build", "subject_identifier": "a", "verbose": 1})).unwrap_err();
        assert_eq!(e.field, "verbose");
        let e = DecisionRequest::from_json(&json!([1])).unwrap_err();
        assert_eq!(e.field, "");
        let e = DecisionRequest::from_json(&json!({"product_version": "f", "subject_type": "koji_build", "subject_identifier": "a", "rules": [{"type": "PassingTestCase"}]})).unwrap_err();
        assert_eq!(e.field, "rules[0].type");
    }

    #[test]
    fn package_names() {
        assert_eq!(
            Subject::new("koji_build", "python-six-1.16.0-1.fc41").package_name(),
            Some("python-six")
        );
        assert_eq!(Subject::new("koji_build", "broken").package_name(), None);
        assert_eq!(Subject::new("bodhi_update", "a-b-c").package_name(), None);
    }
}
