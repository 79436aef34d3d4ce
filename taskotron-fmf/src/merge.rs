//! A child's data over its parent's: plain keys replace, suffixed keys merge.
//!
//! `key+` appends (lists concatenate, mappings update, strings concatenate; with
//! no parent value it sets the key), `key+<` prepends, `key-` removes (list items,
//! mapping keys, a substring), `key~` substitutes a regex written
//! `<d>PATTERN<d>REPLACEMENT<d>` with any delimiter `d`, `key-~` removes the list
//! items matching the regexes. A type mismatch is an error. *Invariant: no I/O.*

use taskotron_tap::yaml::{Node, NodeValue};

/// How a suffixed key merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// No suffix: the value replaces the parent's.
    Set,
    /// `+`: append.
    Append,
    /// `+<`: prepend.
    Prepend,
    /// `-`: remove.
    Remove,
    /// `~`: regex substitution.
    Substitute,
    /// `-~`: remove what matches.
    RemoveMatching,
}

/// The key without its suffix, and the operator the suffix names.
pub fn split_key(key: &str) -> (&str, Op) {
    for (suffix, op) in [
        ("+<", Op::Prepend),
        ("-~", Op::RemoveMatching),
        ("+", Op::Append),
        ("-", Op::Remove),
        ("~", Op::Substitute),
    ] {
        if let Some(name) = key.strip_suffix(suffix) {
            if !name.is_empty() {
                return (name, op);
            }
        }
    }
    (key, Op::Set)
}

/// Why a merge cannot be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeError {
    /// What went wrong, for a diagnostic at the child's key.
    pub message: String,
}

fn err<T>(message: String) -> Result<T, MergeError> {
    Err(MergeError { message })
}

/// Merges the mapping `child` into the mapping `base`, key by key in the order
/// written.
///
/// # Errors
/// An operator on values of the wrong types, or a substitution that is not one.
pub fn merge_into(base: &mut Vec<(Node, Node)>, child: &[(Node, Node)]) -> Result<(), MergeError> {
    for (k, v) in child {
        let key = k.key_text();
        let (name, op) = split_key(&key);
        let at = base.iter().position(|(bk, _)| bk.key_text() == name);
        if op == Op::Set {
            match at {
                Some(i) => base[i].1 = v.clone(),
                None => base.push((named(k, name), v.clone())),
            }
            continue;
        }
        let Some(i) = at else {
            // Nothing to merge with: `+` and `+<` create the key; the others leave
            // nothing to remove or substitute.
            if matches!(op, Op::Append | Op::Prepend) {
                base.push((named(k, name), v.clone()));
            }
            continue;
        };
        let merged = apply(&base[i].1, v, op).map_err(|e| MergeError {
            message: format!("`{key}`: {}", e.message),
        })?;
        base[i].1 = merged;
    }
    Ok(())
}

/// `k` renamed to `name` (its suffix dropped), keeping its place.
fn named(k: &Node, name: &str) -> Node {
    Node {
        value: NodeValue::Str(name.to_string(), taskotron_tap::yaml::ScalarForm::Plain),
        ..k.clone()
    }
}

fn apply(parent: &Node, child: &Node, op: Op) -> Result<Node, MergeError> {
    use NodeValue::{Float, Int, Map, Seq, Str};
    let value = match (op, &parent.value, &child.value) {
        (Op::Append, Seq(p), Seq(c)) => Seq(p.iter().chain(c).cloned().collect()),
        (Op::Prepend, Seq(p), Seq(c)) => Seq(c.iter().chain(p).cloned().collect()),
        (Op::Append, Map(p), Map(c)) => {
            let mut m = p.clone();
            merge_into(&mut m, c)?;
            Map(m)
        }
        (Op::Prepend, Map(p), Map(c)) => {
            let mut m = c.clone();
            for (k, v) in p {
                if !m.iter().any(|(mk, _)| mk.key_text() == k.key_text()) {
                    m.push((k.clone(), v.clone()));
                }
            }
            Map(m)
        }
        // A list of mappings and a mapping: each item gets the mapping merged in
        // (`discover+: {filter: ...}` over several discover phases).
        (Op::Append | Op::Prepend | Op::Remove, Seq(p), Map(c)) => {
            let mut items = Vec::with_capacity(p.len());
            for item in p {
                let Map(entries) = &item.value else {
                    return err(format!(
                        "cannot merge a mapping into a list of {}",
                        kind(&item.value)
                    ));
                };
                let mut m = entries.clone();
                merge_into(&mut m, &suffixed(c, op))?;
                items.push(Node {
                    value: Map(m),
                    ..item.clone()
                });
            }
            Seq(items)
        }
        // A mapping and a list of mappings: each item is the mapping with the item
        // merged in (one discover phase becoming several).
        (Op::Append | Op::Prepend, Map(p), Seq(c)) => {
            let mut items = Vec::with_capacity(c.len());
            for item in c {
                let Map(entries) = &item.value else {
                    return err(format!("cannot merge {} into a mapping", kind(&item.value)));
                };
                let mut m = p.clone();
                merge_into(&mut m, entries)?;
                items.push(Node {
                    value: Map(m),
                    ..item.clone()
                });
            }
            Seq(items)
        }
        (Op::Append | Op::Prepend, Int(p), Int(c)) => Int(p.saturating_add(*c)),
        (Op::Remove, Int(p), Int(c)) => Int(p.saturating_sub(*c)),
        (Op::Append | Op::Prepend, Float(p), Float(c)) => Float(p + c),
        (Op::Remove, Float(p), Float(c)) => Float(p - c),
        (Op::Append | Op::Prepend, Int(p), Float(c))
        | (Op::Append | Op::Prepend, Float(c), Int(p)) => Float(*p as f64 + c),
        (Op::Append, Str(p, f), Str(c, _)) => Str(format!("{p}{c}"), *f),
        (Op::Prepend, Str(p, f), Str(c, _)) => Str(format!("{c}{p}"), *f),
        (Op::Remove, Seq(p), Seq(c)) => Seq(p
            .iter()
            .filter(|i| !c.iter().any(|x| x.to_json() == i.to_json()))
            .cloned()
            .collect()),
        (Op::Remove, Map(p), Seq(c)) => Map(p
            .iter()
            .filter(|(k, _)| !c.iter().any(|x| x.key_text() == k.key_text()))
            .cloned()
            .collect()),
        // What matches the regex goes.
        (Op::Remove, Str(p, f), Str(c, _)) => {
            let re = regex::Regex::new(c).map_err(|e| MergeError {
                message: format!("`{c}` is not a regular expression: {e}"),
            })?;
            Str(re.replace_all(p, "").into_owned(), *f)
        }
        (Op::Substitute, _, _) => return substitute(parent, child),
        (Op::RemoveMatching, Str(p, f), _) => {
            let patterns = patterns(child)?;
            Str(
                patterns
                    .iter()
                    .fold(p.clone(), |t, re| re.replace_all(&t, "").into_owned()),
                *f,
            )
        }
        (Op::RemoveMatching, Map(p), _) => {
            let patterns = patterns(child)?;
            Map(p
                .iter()
                .filter(|(k, _)| !patterns.iter().any(|re| re.is_match(&k.key_text())))
                .cloned()
                .collect())
        }
        (Op::RemoveMatching, Seq(p), _) => {
            let patterns = patterns(child)?;
            Seq(p
                .iter()
                .filter(|i| !patterns.iter().any(|re| re.is_match(&i.key_text())))
                .cloned()
                .collect())
        }
        (op, p, c) => {
            return err(format!(
                "cannot {} {} {} {}",
                match op {
                    Op::Append => "append",
                    Op::Prepend => "prepend",
                    Op::Remove => "remove",
                    _ => "remove matching",
                },
                kind(c),
                if matches!(op, Op::Remove | Op::RemoveMatching) {
                    "from"
                } else {
                    "to"
                },
                kind(p)
            ))
        }
    };
    Ok(Node {
        value,
        ..parent.clone()
    })
}

/// The keys of `c` given `op`'s suffix where they have none, so that merging a
/// mapping into each item of a list merges as the operator said.
fn suffixed(c: &[(Node, Node)], op: Op) -> Vec<(Node, Node)> {
    let suffix = match op {
        Op::Append => "+",
        Op::Prepend => "+<",
        Op::Remove => "-",
        _ => "",
    };
    c.iter()
        .map(|(k, v)| {
            let key = k.key_text();
            if split_key(&key).1 == Op::Set && op == Op::Remove {
                (named(k, &format!("{key}{suffix}")), v.clone())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect()
}

fn kind(v: &NodeValue) -> &'static str {
    match v {
        NodeValue::Seq(_) => "a list",
        NodeValue::Map(_) => "a mapping",
        NodeValue::Str(..) => "a string",
        NodeValue::Null => "null",
        _ => "a scalar",
    }
}

/// The regexes of a `-~` value: one, or a list.
fn patterns(child: &Node) -> Result<Vec<regex::Regex>, MergeError> {
    let texts: Vec<String> = match &child.value {
        NodeValue::Seq(items) => items.iter().map(Node::key_text).collect(),
        _ => vec![child.key_text()],
    };
    texts
        .iter()
        .map(|t| {
            regex::Regex::new(t).map_err(|e| MergeError {
                message: format!("`{t}` is not a regular expression: {e}"),
            })
        })
        .collect()
}

/// `~`: each substitution `<d>PATTERN<d>REPLACEMENT<d>` applied to a string, or to
/// each string of a list.
fn substitute(parent: &Node, child: &Node) -> Result<Node, MergeError> {
    let subs: Vec<String> = match &child.value {
        NodeValue::Seq(items) => items.iter().map(Node::key_text).collect(),
        _ => vec![child.key_text()],
    };
    let mut compiled = Vec::new();
    for s in &subs {
        let mut chars = s.chars();
        let Some(d) = chars.next() else {
            return err("an empty substitution".into());
        };
        let parts: Vec<&str> = s[d.len_utf8()..].split(d).collect();
        if parts.len() != 3 || !parts[2].is_empty() {
            return err(format!(
                "`{s}` is no substitution; expected `{d}PATTERN{d}REPLACEMENT{d}`"
            ));
        }
        let re = regex::Regex::new(parts[0]).map_err(|e| MergeError {
            message: format!("`{}` is not a regular expression: {e}", parts[0]),
        })?;
        compiled.push((re, parts[1].replace("\\", "$")));
    }
    let run = |text: &str| {
        compiled.iter().fold(text.to_string(), |t, (re, rep)| {
            re.replace_all(&t, rep.as_str()).into_owned()
        })
    };
    let value = match &parent.value {
        NodeValue::Str(s, f) => NodeValue::Str(run(s), *f),
        NodeValue::Seq(items) => NodeValue::Seq(
            items
                .iter()
                .map(|i| match &i.value {
                    NodeValue::Str(s, f) => Node {
                        value: NodeValue::Str(run(s), *f),
                        ..i.clone()
                    },
                    _ => i.clone(),
                })
                .collect(),
        ),
        other => return err(format!("cannot substitute in {}", kind(other))),
    };
    Ok(Node {
        value,
        ..parent.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskotron_tap::yaml;

    fn merged(parent: &str, child: &str) -> Result<String, MergeError> {
        let mut base = yaml::parse(parent, None).unwrap().into_entries();
        let child = yaml::parse(child, None).unwrap().into_entries();
        merge_into(&mut base, &child)?;
        let node = Node {
            value: NodeValue::Map(base),
            ..yaml::parse("{}", None).unwrap()
        };
        Ok(node.to_json().to_string())
    }

    #[test]
    fn suffixes_name_their_operators() {
        assert_eq!(split_key("tag+"), ("tag", Op::Append));
        assert_eq!(split_key("tag+<"), ("tag", Op::Prepend));
        assert_eq!(split_key("tag-~"), ("tag", Op::RemoveMatching));
        assert_eq!(split_key("tag-"), ("tag", Op::Remove));
        assert_eq!(split_key("test~"), ("test", Op::Substitute));
        assert_eq!(split_key("tag"), ("tag", Op::Set));
        assert_eq!(split_key("+"), ("+", Op::Set));
    }

    #[test]
    fn each_operator_merges_as_fmf_documents() {
        assert_eq!(
            merged("tag: [a, b]", "tag+: [c]").unwrap(),
            r#"{"tag":["a","b","c"]}"#
        );
        assert_eq!(
            merged("tag: [a, b]", "tag+<: [c]").unwrap(),
            r#"{"tag":["c","a","b"]}"#
        );
        assert_eq!(
            merged("tag: [a, b, c]", "tag-: [b]").unwrap(),
            r#"{"tag":["a","c"]}"#
        );
        assert_eq!(
            merged("tag: [ab, b, cb]", "tag-~: ['^.b$']").unwrap(),
            r#"{"tag":["b"]}"#
        );
        assert_eq!(
            merged("test: ./x.sh", "test+: ' -v'").unwrap(),
            r#"{"test":"./x.sh -v"}"#
        );
        assert_eq!(
            merged("test: ./run x", "test-: ' x'").unwrap(),
            r#"{"test":"./run"}"#
        );
        assert_eq!(
            merged("test: make check", "test~: /check/test/").unwrap(),
            r#"{"test":"make test"}"#
        );
        assert_eq!(
            merged("env: {A: 1, B: 2}", "env+: {B: 3, C: 4}").unwrap(),
            r#"{"env":{"A":1,"B":3,"C":4}}"#
        );
        assert_eq!(
            merged("env: {A: 1, B: 2}", "env-: [A]").unwrap(),
            r#"{"env":{"B":2}}"#
        );
        assert_eq!(
            merged("x: 1", "tag+: [a]").unwrap(),
            r#"{"tag":["a"],"x":1}"#
        );
        assert_eq!(merged("x: 1", "x: 2").unwrap(), r#"{"x":2}"#);
    }

    #[test]
    fn wrong_types_and_bad_substitutions_are_errors() {
        let e = merged("tag: [a]", "tag+: b").unwrap_err();
        assert_eq!(e.message, "`tag+`: cannot append a string to a list");
        assert!(merged("test: a", "test~: /unclosed").is_err());
        assert!(merged("tag: [a]", "tag-~: ['(']").is_err());
    }

    proptest::proptest! {
        /// `+` then `-` of items the parent lacks gives the parent back; `+<`
        /// puts them in front; nothing panics on any item text.
        #[test]
        fn append_then_remove_is_the_parent(
            parent in proptest::collection::vec("[a-z]{1,6}", 0..6),
            extra in proptest::collection::vec("[A-Z]{1,6}", 1..4),
        ) {
            let list = |items: &[String]| format!("[{}]", items.iter().map(|i| format!("'{i}'")).collect::<Vec<_>>().join(", "));
            let p = format!("tag: {}", list(&parent));
            let grown = merged(&p, &format!("tag+: {}", list(&extra))).unwrap();
            let mut both = parent.clone();
            both.extend(extra.iter().cloned());
            proptest::prop_assert_eq!(&grown, &format!("{{\"tag\":{}}}", serde_json::to_string(&both).unwrap()));
            let back = merged(&p, &format!("tag+: {}\ntag-: {}", list(&extra), list(&extra))).unwrap();
            proptest::prop_assert_eq!(back, format!("{{\"tag\":{}}}", serde_json::to_string(&parent).unwrap()));
            let front = merged(&p, &format!("tag+<: {}", list(&extra))).unwrap();
            let mut ahead = extra.clone();
            ahead.extend(parent.iter().cloned());
            proptest::prop_assert_eq!(front, format!("{{\"tag\":{}}}", serde_json::to_string(&ahead).unwrap()));
        }

        #[test]
        fn any_substitution_text_is_an_answer_not_a_panic(sub in "\\PC{0,20}") {
            let child = format!("test~: {}", serde_json::to_string(&sub).unwrap());
            let _ = merged("test: make check", &child);
        }
    }
}
