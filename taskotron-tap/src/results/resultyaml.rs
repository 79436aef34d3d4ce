//! ResultYAML, the later Taskotron result format: `{results: [{item, type, outcome,
//! note, checkname, artifact, <keyvals>...}]}`.
//!
//! Export writes keys sorted, as the original's `yaml.safe_dump` did; `output` is
//! not exported (it stays in logs). Import reports every problem with file, line and
//! column. Pure; no I/O.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::{CheckDetail, Outcome, OutcomeError, RESERVED_KEYS};
use crate::diagnostic::Diagnostic;
use crate::suggest::did_you_mean;
use crate::yaml::{self, Node, NodeValue};

/// Writes `details` as ResultYAML text, keys sorted, with the scalar rules of the TAP
/// YAML blocks (plain only where every YAML reader agrees on the value).
pub fn export(details: &[CheckDetail]) -> String {
    let results: Vec<Value> = details
        .iter()
        .map(|d| Value::Object(to_map(d).into_iter().collect()))
        .collect();
    let mut out = String::new();
    crate::tap::write_list_document(&mut out, "results", &results);
    out
}

/// One detail as a ResultYAML mapping.
pub(crate) fn to_map(d: &CheckDetail) -> BTreeMap<String, Value> {
    let mut map: BTreeMap<String, Value> = d
        .keyvals
        .iter()
        .filter(|(k, _)| !RESERVED_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    map.insert("item".into(), Value::String(d.item.clone()));
    map.insert("outcome".into(), Value::String(d.outcome.as_str().into()));
    if let Some(t) = &d.item_type {
        map.insert("type".into(), Value::String(t.clone()));
    }
    if !d.note.is_empty() {
        map.insert("note".into(), Value::String(d.note.clone()));
    }
    if let Some(c) = &d.checkname {
        map.insert("checkname".into(), Value::String(c.clone()));
    }
    if let Some(a) = &d.artifact {
        map.insert("artifact".into(), Value::String(a.clone()));
    }
    map
}

/// Results read from ResultYAML, with the warnings reading them raised.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The results, in order.
    pub details: Vec<CheckDetail>,
    /// Non-fatal problems (reserved keys dropped).
    pub warnings: Vec<Diagnostic>,
}

/// True when `text` looks like ResultYAML (a mapping with a `results` key) rather than
/// anything else a task might print.
pub fn looks_like(text: &str) -> bool {
    text.lines()
        .map(str::trim_end)
        .find(|l| !l.is_empty() && !l.starts_with('#') && l != &"---")
        .is_some_and(|l| l.starts_with("results:"))
}

/// Reads ResultYAML `text` (from `file`, for messages).
///
/// # Errors
/// Every problem: invalid YAML, a root that is not a mapping, no `results`, a result
/// without `item` or `outcome`, an unknown outcome.
pub fn import(text: &str, file: Option<&Path>) -> Result<Imported, Vec<Diagnostic>> {
    let root = yaml::parse_all(text, file)?;
    let at = |node: &Node, d: Diagnostic| d.at(file, text, node.location, node.width);
    if root.value == NodeValue::Null {
        return Err(vec![at(
            &root,
            Diagnostic::error("empty ResultYAML").expected("`results:` with a list of results"),
        )]);
    }
    let Some(results) = root.get("results") else {
        let d = Diagnostic::error(format!(
            "ResultYAML must be a mapping with `results`, not {}",
            describe(&root)
        ))
        .expected("`results:` with a list of results");
        return Err(vec![at(&root, d)]);
    };
    let items: &[Node] = match &results.value {
        NodeValue::Null => &[],
        NodeValue::Seq(items) => items,
        _ => {
            let d = Diagnostic::error(format!("`results` must be a list, not {}", results.kind()))
                .expected("a list of results");
            return Err(vec![at(results, d)]);
        }
    };
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut details = Vec::with_capacity(items.len());
    for node in items {
        let Some(entries) = node.as_map() else {
            errors.push(at(
                node,
                Diagnostic::error(format!("a result must be a mapping, not {}", node.kind()))
                    .expected("`item`, `outcome`, ..."),
            ));
            continue;
        };
        let mut detail = CheckDetail::default();
        let (mut has_item, mut has_outcome) = (false, false);
        for (k, v) in entries {
            let key = k.key_text();
            let text = scalar_text(v);
            match key.as_str() {
                "item" | "type" | "note" | "checkname" | "artifact" | "outcome"
                    if text.is_none() && v.value != NodeValue::Null =>
                {
                    errors.push(at(
                        v,
                        Diagnostic::error(format!("`{key}` must be a string, not {}", v.kind()))
                            .expected("a string"),
                    ));
                }
                "item" => {
                    detail.item = text.unwrap_or_default();
                    has_item = true;
                }
                "type" => detail.item_type = text,
                "note" => detail.note = text.unwrap_or_default(),
                "checkname" => detail.checkname = text,
                "artifact" => detail.artifact = text,
                "outcome" => match text.as_deref().unwrap_or("").parse::<Outcome>() {
                    Ok(o) => {
                        detail.outcome = o;
                        has_outcome = true;
                    }
                    Err(e) => {
                        errors.push(outcome_error(at(v, Diagnostic::error(e.to_string())), &e))
                    }
                },
                "_internal" => {}
                "results" => warnings.push(at(
                    k,
                    Diagnostic::warning("`results` is reserved and cannot be a keyval; dropped"),
                )),
                _ => {
                    detail.keyvals.insert(key, v.to_json());
                }
            }
        }
        for (present, key) in [(has_item, "item"), (has_outcome, "outcome")] {
            if !present && !entries.iter().any(|(k, _)| k.as_str() == Some(key)) {
                let known: Vec<String> = entries.iter().map(|(k, _)| k.key_text()).collect();
                let near = known.iter().find(|k| did_you_mean(k, [key]).is_some());
                let mut d = Diagnostic::error(format!("a result needs `{key}`"));
                if let Some(n) = near {
                    d = d.help(format!("did you mean `{key}` instead of `{n}`?"));
                }
                errors.push(at(node, d));
            }
        }
        details.push(detail);
    }
    if errors.is_empty() {
        Ok(Imported { details, warnings })
    } else {
        Err(errors)
    }
}

/// Adds what an outcome may be, and the near miss, to a diagnostic.
pub(crate) fn outcome_error(d: Diagnostic, e: &OutcomeError) -> Diagnostic {
    d.expected(OutcomeError::expected()).suggest(e.suggestion)
}

fn describe(node: &Node) -> String {
    match node.as_map() {
        Some(_) => "a mapping without it".into(),
        None => node.kind().into(),
    }
}

/// A scalar as text (numbers and booleans in their YAML form), `None` for collections.
pub(crate) fn scalar_text(node: &Node) -> Option<String> {
    match &node.value {
        NodeValue::Str(s, _) => Some(s.clone()),
        NodeValue::Int(i) => Some(i.to_string()),
        NodeValue::Float(f) => Some(f.to_string()),
        NodeValue::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_real_samples() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/results/testdata");
        for name in [
            "resultyaml.minimal.docs.yml",
            "resultyaml.export_YAML.docstring-example.yml",
            "resultyaml.rpmdeplint.wine.failed.yml",
        ] {
            let text = std::fs::read_to_string(dir.join(name)).unwrap();
            let imported = import(&text, Some(Path::new(name)))
                .unwrap_or_else(|e| panic!("{name}: {}", crate::diagnostic::render_all(&e)));
            assert!(!imported.details.is_empty(), "{name}");
            let again = import(&export(&imported.details), None).unwrap();
            assert_eq!(again.details, imported.details, "{name} round trip");
        }
    }

    #[test]
    fn round_trips_and_keeps_keyvals() {
        let mut d = CheckDetail::new("xchat-0.5-1.fc20", Some("koji_build"), Outcome::Failed);
        d.note = "5 ERRORS".into();
        d.checkname = Some("dist.rpmlint".into());
        d.artifact = Some("xchat.log".into());
        d.keyvals.insert("arch".into(), serde_json::json!("x86_64"));
        d.keyvals
            .insert("seconds_taken".into(), serde_json::json!(3));
        let text = export(std::slice::from_ref(&d));
        assert!(
            text.starts_with(
                "results:\n  - arch: x86_64\n    artifact: xchat.log\n    checkname: dist.rpmlint\n"
            ),
            "{text}"
        );
        assert_eq!(import(&text, None).unwrap().details, vec![d]);
        assert!(looks_like(&text));
        assert!(!looks_like("TAP version 13\n"));
    }

    #[test]
    fn errors_point_at_the_result() {
        let text = "results:\n  - item: a\n    outcome: PASS\n  - outcome: PASSED\n    itme: b\n";
        let errors = import(text, Some(Path::new("r.yml"))).unwrap_err();
        let rendered = crate::diagnostic::render_all(&errors);
        assert!(rendered.contains("r.yml:3:14"), "{rendered}");
        assert!(rendered.contains("did you mean `PASSED`?"), "{rendered}");
        assert!(rendered.contains("a result needs `item`"), "{rendered}");
        assert!(rendered.contains("instead of `itme`"), "{rendered}");
        assert!(import("", None).is_err());
        assert!(import("- a\n", None).is_err());
        assert!(import("results: 3\n", None).is_err());
        assert_eq!(import("results:\n", None).unwrap().details, vec![]);
    }
}
