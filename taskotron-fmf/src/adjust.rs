//! `adjust`: rules that change a node's data for a context.
//!
//! A node's `adjust` (inherited like any key) is a rule or a list of rules. A
//! rule's `when` is decided for the context ([`crate::context`]); when it holds
//! (or the rule has no `when`), the rule's other keys merge into the node with
//! the merge operators, and `continue: false` stops the rules after it. `because`
//! is the rule's reason and is kept as data. A rule that cannot be decided does
//! not apply. The `adjust` key itself stays in the data, as fmf keeps it.
//! *Invariant: no I/O.*

use taskotron_tap::yaml::{Node as Yaml, NodeValue};
use taskotron_tap::Diagnostic;

use crate::context::{self, Context, Decision};
use crate::merge;

/// The keys of a rule that are about the rule, not data to merge.
pub const RULE_KEYS: &[&str] = &["when", "because", "continue"];

/// What one rule did to one node, for `--verbose` listings and reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The node's name.
    pub node: String,
    /// The rule's `when`, or empty for a rule without one.
    pub when: String,
    /// The rule's `because`.
    pub because: Option<String>,
    /// What the rule answered.
    pub decision: Decision,
}

/// The rules of an `adjust` value: a list of mappings or one mapping.
pub fn rules(value: &Yaml) -> Vec<&Yaml> {
    match &value.value {
        NodeValue::Seq(items) => items.iter().collect(),
        NodeValue::Map(_) => vec![value],
        _ => Vec::new(),
    }
}

/// Applies `data`'s `adjust` rules for `ctx` to `data`, and says what each did.
///
/// # Errors
/// A rule's keys that do not merge (a type mismatch), as a message.
pub fn apply(
    node: &str,
    data: &mut Vec<(Yaml, Yaml)>,
    ctx: &Context,
) -> Result<Vec<Applied>, String> {
    let Some(value) = data
        .iter()
        .find(|(k, _)| k.key_text() == "adjust")
        .map(|(_, v)| v.clone())
    else {
        return Ok(Vec::new());
    };
    let mut done = Vec::new();
    for rule in rules(&value) {
        let Some(entries) = rule.as_map() else {
            continue;
        };
        let text = |key: &str| {
            entries
                .iter()
                .find(|(k, _)| k.key_text() == key)
                .map(|(_, v)| v)
        };
        let when = text("when").map(Yaml::key_text);
        let decision = match &when {
            // Rules that do not parse were refused when the tree was read.
            Some(w) => context::parse(w).map_or(Decision::CannotDecide, |r| ctx.decide(&r)),
            None => Decision::True,
        };
        done.push(Applied {
            node: node.to_string(),
            when: when.unwrap_or_default(),
            because: text("because").map(Yaml::key_text),
            decision,
        });
        if !decision.applies() {
            continue;
        }
        let merged: Vec<(Yaml, Yaml)> = entries
            .iter()
            .filter(|(k, _)| !RULE_KEYS.contains(&k.key_text().as_str()))
            .cloned()
            .collect();
        merge::merge_into(data, &merged).map_err(|e| e.message)?;
        let stop = matches!(
            text("continue").map(|v| &v.value),
            Some(NodeValue::Bool(false))
        );
        if stop {
            break;
        }
    }
    Ok(done)
}

/// Checks the rules of an `adjust` value as written in `file` (`text` is its
/// source): each a mapping, `when` a rule that parses, `continue` a boolean.
pub fn check(value: &Yaml, file: &std::path::Path, text: &str) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let here = |d: Diagnostic, n: &Yaml| d.at(Some(file), text, n.location, n.width);
    match &value.value {
        NodeValue::Seq(_) | NodeValue::Map(_) => {}
        _ => {
            problems.push(here(
                Diagnostic::error(format!(
                    "`adjust` must be a rule or a list of rules, not {}",
                    value.kind()
                ))
                .expected("`- when: distro == fedora-41` and the keys to change"),
                value,
            ));
            return problems;
        }
    }
    for rule in rules(value) {
        let Some(entries) = rule.as_map() else {
            problems.push(here(
                Diagnostic::error(format!(
                    "an `adjust` rule must be a mapping, not {}",
                    rule.kind()
                ))
                .expected("`when: RULE` and the keys to change"),
                rule,
            ));
            continue;
        };
        for (k, v) in entries {
            match (k.key_text().as_str(), &v.value) {
                ("when", NodeValue::Str(w, _)) => {
                    if let Err(e) = context::parse(w) {
                        let column = v.column_of(e.offset);
                        problems.push(
                            Diagnostic::error(format!("`when` does not parse: {}", e.message))
                                .expected(e.expected)
                                .at(
                                    Some(file),
                                    text,
                                    taskotron_tap::diagnostic::Location {
                                        line: v.location.line,
                                        column,
                                    },
                                    e.width,
                                ),
                        );
                    } else if let Ok(rule) = context::parse(w) {
                        for (dim, offset) in rule.dimensions() {
                            if context::KNOWN_DIMENSIONS.contains(&dim.as_str()) {
                                continue;
                            }
                            // An unknown dimension is allowed (contexts are open);
                            // one a letter or two from a known one is a typo.
                            if let Some(near) = taskotron_tap::suggest::did_you_mean(
                                dim,
                                context::KNOWN_DIMENSIONS.iter().copied(),
                            ) {
                                problems.push(
                                    Diagnostic::error(format!("`{dim}` is no context dimension"))
                                        .expected(taskotron_tap::suggest::one_of(
                                            context::KNOWN_DIMENSIONS.iter().copied(),
                                        ))
                                        .suggest(Some(near))
                                        .at(
                                            Some(file),
                                            text,
                                            taskotron_tap::diagnostic::Location {
                                                line: v.location.line,
                                                column: v.column_of(*offset),
                                            },
                                            dim.len(),
                                        ),
                                );
                            }
                        }
                    }
                }
                ("when", NodeValue::Bool(_)) | ("continue", NodeValue::Bool(_)) => {}
                ("when" | "continue", _) => problems.push(here(
                    Diagnostic::error(format!(
                        "`{}` must be {}, not {}",
                        k.key_text(),
                        if k.key_text() == "when" {
                            "a rule"
                        } else {
                            "`true` or `false`"
                        },
                        v.kind()
                    )),
                    v,
                )),
                _ => {}
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskotron_tap::yaml;

    fn data(src: &str) -> Vec<(Yaml, Yaml)> {
        yaml::parse(src, None).unwrap().into_entries()
    }

    fn json(d: &[(Yaml, Yaml)]) -> serde_json::Value {
        serde_json::Value::Object(d.iter().map(|(k, v)| (k.key_text(), v.to_json())).collect())
    }

    #[test]
    fn rules_apply_in_order_until_one_says_stop() {
        let mut d = data(
            "tag: [a]\nadjust:\n  - when: distro == fedora-40\n    tag+: [f40]\n    continue: false\n  - when: distro < fedora-41\n    tag+: [old]\n",
        );
        let mut ctx = Context::new();
        ctx.set_pair("distro=fedora-40").unwrap();
        let applied = apply("/t", &mut d, &ctx).unwrap();
        assert_eq!(json(&d)["tag"], serde_json::json!(["a", "f40"]));
        assert_eq!(applied.len(), 1);
        let mut d = data("tag: [a]\nadjust:\n  - when: distro == fedora-40\n    tag+: [f40]\n    continue: false\n  - when: distro < fedora-41\n    tag+: [old]\n");
        ctx.set_pair("distro=fedora-39").unwrap();
        apply("/t", &mut d, &ctx).unwrap();
        assert_eq!(json(&d)["tag"], serde_json::json!(["a", "old"]));
    }

    #[test]
    fn undecided_rules_do_not_apply_and_rules_without_when_do() {
        let mut d = data("adjust:\n  - when: arch == s390x\n    enabled: false\n  - because: always\n    tier: 2\n");
        let applied = apply("/t", &mut d, &Context::new()).unwrap();
        assert_eq!(json(&d).get("enabled"), None);
        assert_eq!(json(&d)["tier"], 2);
        assert_eq!(applied[0].decision, Decision::CannotDecide);
        assert_eq!(applied[1].because.as_deref(), Some("always"));
    }

    #[test]
    fn bad_rules_are_reported_where_they_are_written() {
        let src = "adjust:\n  - when: distro == fedora-40 and\n    tag: x\n  - when: dsitro == fedora-41\n  - continue: maybe\n";
        let doc = yaml::parse(src, None).unwrap();
        let problems = check(
            doc.get("adjust").unwrap(),
            std::path::Path::new("main.fmf"),
            src,
        );
        let places: Vec<_> = problems
            .iter()
            .map(|p| {
                (
                    p.location.unwrap().line,
                    p.location.unwrap().column,
                    p.help.clone(),
                )
            })
            .collect();
        assert_eq!(places.len(), 3, "{problems:?}");
        assert_eq!((places[0].0, places[0].1), (2, 31));
        assert_eq!((places[1].0, places[1].1), (4, 11));
        assert!(
            places[1].2.as_deref().unwrap_or("").contains("distro"),
            "{places:?}"
        );
        assert_eq!(places[2].0, 5);
    }
}
