//! Waivers as WaiverDB keeps them: "this failing (or missing) test does not block
//! this subject in this product version", with who said so and why.
//!
//! [`NewWaiver::from_json`] checks a `POST /api/v1.0/waivers` body field by field;
//! [`Waiver::to_json`] is WaiverDB 1.x's shape, which Greenwave reads. Pure.

use serde_json::{json, Value};

use crate::request::{FieldError, Subject, SUBJECT_TYPES};

/// A waiver to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWaiver {
    /// What it waives for.
    pub subject: Subject,
    /// The ResultsDB testcase it waives.
    pub testcase: String,
    /// `fedora-41`.
    pub product_version: String,
    /// `false` revokes an earlier waiver (WaiverDB keeps both; the newest counts).
    pub waived: bool,
    /// Why; WaiverDB requires it.
    pub comment: String,
    /// Only results with this scenario.
    pub scenario: Option<String>,
}

/// A stored waiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiver {
    /// Its id.
    pub id: i64,
    /// What was recorded.
    pub waiver: NewWaiver,
    /// Who recorded it.
    pub username: String,
    /// When, ISO 8601 UTC without a zone, as WaiverDB writes it.
    pub timestamp: String,
}

fn text(o: &serde_json::Map<String, Value>, field: &str) -> Result<Option<String>, FieldError> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
        Some(v) => Err(FieldError::new(
            field,
            format!("must be a non-empty string, found `{v}`"),
        )),
    }
}

impl NewWaiver {
    /// Reads a waiver from a request body.
    ///
    /// # Errors
    /// The first field that is missing or wrong, by name.
    pub fn from_json(body: &Value) -> Result<Self, FieldError> {
        let Some(o) = body.as_object() else {
            return Err(FieldError::new("", "a waiver must be a JSON object"));
        };
        let need = |field: &str| FieldError::new(field, format!("missing required {field}"));
        let subject = match (
            o.get("subject"),
            text(o, "subject_type")?,
            text(o, "subject_identifier")?,
        ) {
            (_, Some(kind), Some(id)) => Subject::new(kind, id),
            (Some(Value::Object(s)), None, None) => {
                let item = s
                    .get("item")
                    .and_then(Value::as_str)
                    .filter(|i| !i.is_empty());
                let kind = s.get("type").and_then(Value::as_str);
                match (item, kind) {
                    (Some(i), Some(k)) => Subject::new(k, i),
                    (None, _) => return Err(need("subject.item")),
                    (_, None) => return Err(need("subject.type")),
                }
            }
            (_, Some(_), None) => return Err(need("subject_identifier")),
            _ => return Err(need("subject_type")),
        };
        if !SUBJECT_TYPES.contains(&subject.kind.as_str()) {
            let mut message = format!("unrecognised subject type `{}`", subject.kind);
            if let Some(s) = taskotron_tap::suggest::did_you_mean(&subject.kind, SUBJECT_TYPES) {
                message.push_str(&format!("; did you mean `{s}`?"));
            }
            return Err(FieldError::new("subject_type", message));
        }
        let waived = match o.get("waived") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(v) => {
                return Err(FieldError::new(
                    "waived",
                    format!("must be true or false, found `{v}`"),
                ))
            }
        };
        Ok(Self {
            subject,
            testcase: text(o, "testcase")?.ok_or_else(|| need("testcase"))?,
            product_version: text(o, "product_version")?.ok_or_else(|| need("product_version"))?,
            waived,
            comment: text(o, "comment")?.ok_or_else(|| need("comment"))?,
            scenario: text(o, "scenario")?,
        })
    }
}

impl Waiver {
    /// WaiverDB 1.x's JSON for it.
    pub fn to_json(&self) -> Value {
        let w = &self.waiver;
        json!({
            "id": self.id,
            "subject_type": w.subject.kind,
            "subject_identifier": w.subject.identifier,
            "subject": {"type": w.subject.kind, "item": w.subject.identifier},
            "testcase": w.testcase,
            "product_version": w.product_version,
            "waived": w.waived,
            "username": self.username,
            "proxied_by": null,
            "comment": w.comment,
            "scenario": w.scenario,
            "timestamp": self.timestamp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_subject_forms_and_names_what_is_wrong() {
        let w = NewWaiver::from_json(&json!({
            "subject_type": "koji_build", "subject_identifier": "a-1-1",
            "testcase": "dist.rpmlint", "product_version": "fedora-41", "comment": "known"
        }))
        .unwrap();
        assert!(w.waived);
        let v = NewWaiver::from_json(&json!({
            "subject": {"type": "koji_build", "item": "a-1-1"}, "waived": true,
            "testcase": "dist.rpmlint", "product_version": "fedora-41", "comment": "known"
        }))
        .unwrap();
        assert_eq!(w, v);
        for (body, field) in [
            (
                json!({"testcase": "t", "product_version": "p", "comment": "c"}),
                "subject_type",
            ),
            (
                json!({"subject_type": "koji_build", "testcase": "t", "product_version": "p", "comment": "c"}),
                "subject_identifier",
            ),
            (
                json!({"subject_type": "koji-build", "subject_identifier": "a", "testcase": "t", "product_version": "p", "comment": "c"}),
                "subject_type",
            ),
            (
                json!({"subject_type": "koji_build", "subject_identifier": "a", "product_version": "p", "comment": "c"}),
                "testcase",
            ),
            (
                json!({"subject_type": "koji_build", "subject_identifier": "a", "testcase": "t", "comment": "c"}),
                "product_version",
            ),
            (
                json!({"subject_type": "koji_build", "subject_identifier": "a", "testcase": "t", "product_version": "p"}),
                "comment",
            ),
            (
                json!({"subject_type": "koji_build", "subject_identifier": "a", "testcase": "t", "product_version": "p", "comment": "c", "waived": "yes"}),
                "waived",
            ),
            (
                json!({"subject": {"type": "koji_build"}, "testcase": "t", "product_version": "p", "comment": "c"}),
                "subject.item",
            ),
        ] {
            assert_eq!(
                NewWaiver::from_json(&body).unwrap_err().field,
                field,
                "{body}"
            );
        }
    }
}
