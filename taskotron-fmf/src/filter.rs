//! The `--filter` language of fmf and tmt: `tag: quick & tier: 1 | tag: smoke`.
//!
//! Disjunctive normal form: `|` is or, `&` is and (binding tighter), a value
//! starting with `-` is negated, commas in a value are alternatives (`tag: a, b`
//! is `tag: a | tag: b`), `\|` and `\&` are literal. Values are regular
//! expressions matched against the whole of a value (tmt filters with
//! `regexp=True`); a list matches when any item does. A literal without `:`
//! searches the node's name. *Invariant: no I/O.*

use std::collections::BTreeMap;

/// Why a filter cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterError {
    /// The filter names a key the node does not have; tmt leaves such a node out.
    MissingKey(String),
    /// A value is no regular expression.
    BadRegex(String),
}

impl std::fmt::Display for FilterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FilterError::MissingKey(k) => write!(f, "no key `{k}`"),
            FilterError::BadRegex(e) => f.write_str(e),
        }
    }
}

/// Splits `text` at unescaped `sep`, unescaping `\sep`.
fn split_unescaped(text: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&sep) {
            out.last_mut().expect("one part").push('\\');
            out.last_mut().expect("one part").push(sep);
            chars.next();
        } else if c == sep {
            out.push(String::new());
        } else {
            out.last_mut().expect("one part").push(c);
        }
    }
    out
}

fn unescape(text: &str) -> String {
    text.replace("\\|", "|").replace("\\&", "&")
}

fn full_match(pattern: &str, value: &str) -> Result<bool, FilterError> {
    regex::Regex::new(&format!("^(?:{pattern})$"))
        .map(|r| r.is_match(value))
        .map_err(|e| FilterError::BadRegex(format!("`{pattern}` is no regular expression: {e}")))
}

/// Whether `filter` holds for a node's `data` (each key's values as text) and
/// `name`.
///
/// # Errors
/// [`FilterError::MissingKey`] when a literal names a key `data` lacks, and a
/// value that is no regex.
pub fn matches(
    filter: &str,
    data: &BTreeMap<String, Vec<String>>,
    name: &str,
) -> Result<bool, FilterError> {
    for clause in split_unescaped(filter, '|') {
        let mut all = true;
        for literal in split_unescaped(&clause, '&') {
            if !literal_holds(literal.trim(), data, name)? {
                all = false;
                break;
            }
        }
        if all {
            return Ok(true);
        }
    }
    Ok(false)
}

fn literal_holds(
    literal: &str,
    data: &BTreeMap<String, Vec<String>>,
    name: &str,
) -> Result<bool, FilterError> {
    let Some((key, values)) = literal.split_once(':') else {
        let pattern = unescape(literal);
        return regex::Regex::new(&pattern)
            .map(|r| r.is_match(name))
            .map_err(|e| {
                FilterError::BadRegex(format!("`{pattern}` is no regular expression: {e}"))
            });
    };
    let key = key.trim();
    let Some(have) = data.get(key) else {
        return Err(FilterError::MissingKey(key.to_string()));
    };
    for value in values.split(',') {
        let value = unescape(value.trim());
        let (negated, pattern) = match value.strip_prefix('-') {
            Some(p) => (true, p.to_string()),
            None => (false, value),
        };
        let mut found = false;
        for h in have {
            if full_match(&pattern, h)? {
                found = true;
                break;
            }
        }
        if found != negated {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A node's data as the filter reads it: lists item by item, booleans as both
/// `True` and `true`, other scalars as text, mappings as their JSON.
pub fn values_of(
    data: &serde_json::Map<String, serde_json::Value>,
) -> BTreeMap<String, Vec<String>> {
    use serde_json::Value;
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "None".into(),
        other => other.to_string(),
    };
    data.iter()
        .map(|(k, v)| {
            let values = match v {
                Value::Array(items) => items.iter().map(text).collect(),
                Value::Bool(b) => {
                    vec![if *b { "True" } else { "False" }.to_string(), b.to_string()]
                }
                other => vec![text(other)],
            };
            (k.clone(), values)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> BTreeMap<String, Vec<String>> {
        let mut d = BTreeMap::new();
        d.insert("tag".into(), vec!["abc".into(), "x y".into()]);
        d.insert("tier".into(), vec!["1".into()]);
        d.insert("enabled".into(), vec!["True".into(), "true".into()]);
        d
    }

    #[test]
    fn filters_read_as_tmt_reads_them() {
        let d = data();
        for (f, want) in [
            ("tag: abc", true),
            ("tag: b", false),
            ("tag: .*c", true),
            ("tag: x y", true),
            ("tag: -abc", false),
            ("tag: -zzz", true),
            ("tier: 1\\|2", true),
            ("enabled: true", true),
            ("tag: a, b", false),
            ("tag: -a, -abc", true),
            ("tag: ABC", false),
            ("tag:abc&tier:1", true),
            ("tag: zz | tier: 1", true),
            ("tag: zz & tier: 1 | tag: abc & tier: 2", false),
            ("/tests/b", true),
        ] {
            assert_eq!(matches(f, &d, "/tests/basic").unwrap(), want, "{f}");
        }
        assert_eq!(
            matches("TAG: abc", &d, "/t"),
            Err(FilterError::MissingKey("TAG".into()))
        );
        assert!(matches("tag: (", &d, "/t").is_err());
    }
}
