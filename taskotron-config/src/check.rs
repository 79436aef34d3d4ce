//! Every problem of a config file at once, in words a person uses.
//!
//! `Config` is read by serde, which stops at the first bad value and says it in
//! Rust's terms (`invalid type: string "three", expected u32`). When serde refuses
//! a file, this module looks at it key by key: each key is read alone into
//! `Config` (so the rules stay serde's, written once), and what serde says is put
//! into words ("a whole number", "one of x86_64, aarch64"), with the valid values,
//! a did-you-mean and the place of the value itself, a list's item included.
//! *Invariant: no I/O.*

use std::path::Path;

use serde_norway::{Mapping, Value};

use super::{keys, Config};
use taskotron_tap::diagnostic::Diagnostic;
use taskotron_tap::suggest::did_you_mean;
use taskotron_tap::yaml::{self, Node, NodeValue};

/// Every problem of config `text` (from `path`), in file order; empty when serde
/// would read it. A YAML syntax error is the one problem when there is one.
pub fn problems(text: &str, path: &Path) -> Vec<Diagnostic> {
    let root = match yaml::parse(text, Some(path)) {
        Ok(root) => root,
        Err(d) => return vec![*d],
    };
    let Some(entries) = root.as_map() else {
        if root.value == NodeValue::Null {
            return Vec::new();
        }
        let d = Diagnostic::error(format!(
            "the config must be a mapping of keys, not {}",
            root.kind()
        ))
        .expected("`key: value` lines, such as `max_attempts: 3`")
        .help("`taskotron config` lists every key");
        return vec![d.at(Some(path), text, root.location, root.width)];
    };
    let mut out = Vec::new();
    for (key, value) in entries {
        let name = key.key_text();
        if !keys::names().any(|k| k == name) {
            let d = Diagnostic::error(format!("unknown config key `{name}`"))
                .expected("a key `taskotron config` lists")
                .suggest(did_you_mean(&name, keys::names()));
            out.push(d.at(Some(path), text, key.location, name.chars().count()));
            continue;
        }
        if let Some(d) = value_problem(&name, value) {
            let place = item_at_fault(&name, value, &d.1).unwrap_or(value);
            out.push(d.0.at(Some(path), text, place.location, place.width));
        }
    }
    out
}

/// What is wrong with `value` under key `name`, if serde refuses it, and the value
/// serde named (to find the list item at fault).
fn value_problem(name: &str, value: &Node) -> Option<(Diagnostic, Option<String>)> {
    let mut alone = Mapping::new();
    let value_json = value.to_json();
    let v: Value = serde_norway::to_value(&value_json).ok()?;
    alone.insert(Value::from(name), v);
    let e = serde_norway::from_value::<Config>(Value::Mapping(alone)).err()?;
    Some(in_words(name, &e.to_string()))
}

/// serde's message for key `name`, in words: the diagnostic and the offending
/// value serde quoted (an unknown variant), if any.
pub(super) fn in_words(name: &str, message: &str) -> (Diagnostic, Option<String>) {
    // serde_norway appends the position, which the caret gives.
    let message = message.split(" at line ").next().unwrap_or(message);
    // serde_norway prefixes the path (`supported_arches[1]: `); the key is said
    // anyway, and the item is pointed at.
    let message = message
        .strip_prefix(name)
        .map(|rest| rest.trim_start_matches(|c: char| c == '[' || c.is_ascii_digit() || c == ']'))
        .and_then(|rest| rest.strip_prefix(": "))
        .unwrap_or(message);
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (given, valid) = rest.split_once('`').unwrap_or((rest, ""));
        let valid = taskotron_tap::suggest::backquoted(valid);
        let suggestion =
            arch_alias(given, &valid).or_else(|| did_you_mean(given, valid.iter().copied()));
        let d = Diagnostic::error(format!("`{name}`: `{given}` is not a valid value"))
            .expected(format!("one of {}", valid.join(", ")))
            .suggest(suggestion);
        return (d, Some(given.to_string()));
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let (found, expected) = rest.rsplit_once(", expected ").unwrap_or((rest, ""));
            let found = found_in_words(found);
            let (short, long) = expected_in_words(expected);
            let d =
                Diagnostic::error(format!("`{name}` must be {short}, not {found}")).expected(long);
            return (d, None);
        }
    }
    (Diagnostic::error(format!("`{name}`: {message}")), None)
}

/// The arch an alias names (`amd64` is `x86_64`), when the valid values are arches.
fn arch_alias<'a>(given: &str, valid: &[&'a str]) -> Option<&'a str> {
    if !valid.contains(&"x86_64") {
        return None;
    }
    let meant = given.parse::<taskotron_model::Arch>().err()?.suggestion?;
    valid.iter().copied().find(|v| *v == meant)
}

/// serde's name of what it found, in words: `string "three"` is the string
/// "three", `integer `5`` is the number 5.
fn found_in_words(found: &str) -> String {
    if let Some(s) = found.strip_prefix("string ") {
        return format!("the string {s}");
    }
    for (serde, word) in [
        ("integer ", "the number "),
        ("floating point ", "the number "),
        ("boolean ", ""),
    ] {
        if let Some(v) = found.strip_prefix(serde) {
            return format!("{word}{}", v.trim_matches('`'));
        }
    }
    match found {
        "sequence" => "a list".into(),
        "map" => "a mapping".into(),
        "unit value" | "null" => "nothing (null)".into(),
        other => other.to_string(),
    }
}

/// serde's name of what it expected, in words: a short form for the message and
/// a longer one, with an example, for the place.
fn expected_in_words(expected: &str) -> (String, String) {
    let (short, long) = match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => {
            ("a whole number", "a whole number (0 or more), such as `3`")
        }
        "i8" | "i16" | "i32" | "i64" | "isize" => ("a whole number", "a whole number, such as `3`"),
        "f32" | "f64" => ("a number", "a number, such as `1.5`"),
        "a boolean" => ("`true` or `false`", "`true` or `false`"),
        "a sequence" => ("a list", "a list, such as `[a, b]`"),
        "a map" => ("a mapping", "a mapping of `key: value`"),
        "" => ("another value", "another value"),
        other if other.starts_with("struct ") => ("a mapping", "a mapping of `key: value`"),
        other => return (other.to_string(), other.to_string()),
    };
    (short.to_string(), long.to_string())
}

/// The item of a list at fault, so the caret is under `amd64`, not the list's
/// start: the one serde quoted, else the first refused alone.
fn item_at_fault<'a>(name: &str, value: &'a Node, given: &Option<String>) -> Option<&'a Node> {
    let items = value.as_seq()?;
    if let Some(given) = given.as_deref() {
        if let Some(item) = items.iter().find(|i| i.as_str() == Some(given)) {
            return Some(item);
        }
    }
    items.iter().find(|item| {
        let one = Node {
            value: NodeValue::Seq(vec![(*item).clone()]),
            ..value.clone()
        };
        value_problem(name, &one).is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskotron_tap::diagnostic::render_all;

    fn render(text: &str) -> String {
        render_all(&problems(text, Path::new("taskotron.yaml")))
    }

    #[test]
    fn every_problem_is_said_at_once_in_words() {
        let text = "max_attempts: three\nsupported_arches: [x86_64, amd64]\nretry_dely: 3s\ndownload_cache: maybe\naction_timeout: 20m\n";
        let all = problems(text, Path::new("taskotron.yaml"));
        assert_eq!(all.len(), 4, "{}", render_all(&all));
        insta::assert_snapshot!(render(text));
    }

    #[test]
    fn a_valid_file_has_no_problem() {
        assert!(problems(
            "max_attempts: 3\nsupported_arches: [x86_64]\n",
            Path::new("t")
        )
        .is_empty());
        assert!(problems("", Path::new("t")).is_empty());
    }

    #[test]
    fn a_file_that_is_not_a_mapping_says_so() {
        let all = problems("- a\n- b\n", Path::new("t"));
        assert_eq!(all.len(), 1);
        assert!(
            all[0].message.contains("must be a mapping"),
            "{}",
            all[0].message
        );
    }

    proptest::proptest! {
        /// The checker finds a problem exactly when serde refuses the file read
        /// whole: keys read alone agree with it.
        #[test]
        fn problems_agree_with_serde(
            lines in proptest::collection::btree_map(
                proptest::sample::select(vec!["max_attempts", "download_cache", "supported_arches", "retry_delay", "python", "max_attemps"]),
                proptest::sample::select(vec!["3", "three", "true", "maybe", "[x86_64]", "[x86_64, amd64]", "5s", "{a: 1}", "~"]),
                0..6,
            )
        ) {
            let text: String = lines.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
            let found = problems(&text, Path::new("t"));
            // The oracle is serde over the whole file, as `layered` reads it
            // before the checker existed: the keys read alone must agree with it.
            let whole = serde_norway::from_str::<serde_norway::Value>(&text)
                .ok()
                .and_then(|v| serde_norway::from_value::<Config>(v).ok());
            proptest::prop_assert_eq!(found.is_empty(), whole.is_some(), "{}: {:?}", text, found);
        }

        #[test]
        fn any_text_gives_diagnostics_not_panics(text in "\\PC{0,120}") {
            let _ = problems(&text, Path::new("t"));
        }
    }

    #[test]
    fn serde_messages_become_words() {
        let (d, _) = in_words(
            "max_attempts",
            "max_attempts: invalid type: string \"three\", expected u32",
        );
        assert_eq!(
            d.message,
            "`max_attempts` must be a whole number, not the string \"three\""
        );
        assert_eq!(
            d.expected.as_deref(),
            Some("a whole number (0 or more), such as `3`")
        );
        let (d, given) = in_words(
            "supported_arches",
            "supported_arches[1]: unknown variant `amd64`, expected one of `x86_64`, `aarch64`",
        );
        assert_eq!(given.as_deref(), Some("amd64"));
        assert_eq!(d.help.as_deref(), Some("did you mean `x86_64`?"));
        assert_eq!(d.expected.as_deref(), Some("one of x86_64, aarch64"));
    }
}
