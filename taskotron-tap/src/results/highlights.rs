//! What a person reads first about a failing test: its message, what was expected
//! and what came instead, and where, taken from the YAML block the test carried.
//!
//! TAP producers agree on little beyond `message`: node's test runner writes
//! `error`, `expected`, `actual` and `location: 'file:line:col'`; node-tap writes
//! `found`/`wanted` and `at: {file, line, column}`; Test::More-style producers
//! `got`/`expected` and `at: 'file line N'`. Each is read under its own names. This
//! module does no I/O.

use super::Case;
use crate::yaml::{self, Node, NodeValue};

/// The most lines of a message shown; the rest is in the test's diagnostics.
const MESSAGE_LINES: usize = 8;

/// The longest a shown value may be, in characters, before it is cut.
const VALUE_CHARS: usize = 200;

/// The whole message of a YAML block: its `error` (node), else its `message`
/// (TAP::Harness producers), trailing blank lines removed. `None` when the block
/// has neither or does not parse.
pub fn message_of(block: &str) -> Option<String> {
    let doc = yaml::parse(block, None).ok()?;
    let value = doc.get("error").or_else(|| doc.get("message"))?;
    let text = match &value.value {
        NodeValue::Map(_) => value.get("message").map(|m| m.clone().into_text())?,
        _ => value.clone().into_text(),
    };
    let text = text.trim_end();
    (!text.is_empty()).then(|| text.to_string())
}

/// The lines that say why `case` failed, in the order a person reads them: the
/// message (at most [`MESSAGE_LINES`], blank lines dropped), `expected:` and
/// `actual:`, and `at FILE:LINE:COL`. Empty for a case that carried nothing.
pub fn highlights(case: &Case) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    if let Some(message) = &case.message {
        let mut shown = message.lines().filter(|l| !l.trim().is_empty());
        lines.extend(
            shown
                .by_ref()
                .take(MESSAGE_LINES)
                .map(|l| l.trim_end().to_string()),
        );
        if shown.next().is_some() {
            lines.push("...".into());
        }
    }
    let Some(doc) = case
        .diagnostics
        .as_deref()
        .and_then(|d| yaml::parse(d, None).ok())
    else {
        return lines;
    };
    let first = |keys: &[&str]| keys.iter().find_map(|k| doc.get(k));
    if let Some(v) = first(&["expected", "wanted"]) {
        lines.push(format!("expected: {}", shown(v)));
    }
    if let Some(v) = first(&["actual", "found", "got"]) {
        lines.push(format!("actual: {}", shown(v)));
    }
    if let Some(at) = first(&["location", "at"]).and_then(place) {
        lines.push(format!("at {at}"));
    }
    lines
}

/// A value on one line: scalars as written, collections as JSON, cut at
/// [`VALUE_CHARS`].
fn shown(v: &Node) -> String {
    let text = match &v.value {
        NodeValue::Str(s, _) => format!("{s:?}"),
        _ => v.clone().into_text(),
    };
    let one_line = text.replace('\n', "\\n");
    match one_line.char_indices().nth(VALUE_CHARS) {
        Some((cut, _)) => format!("{}...", &one_line[..cut]),
        None => one_line,
    }
}

/// Where a test failed: a string as written, or node-tap's `{file, line, column}`.
fn place(v: &Node) -> Option<String> {
    match &v.value {
        NodeValue::Str(s, _) => Some(s.clone()),
        NodeValue::Map(_) => {
            let file = v.get("file")?.clone().into_text();
            let mut at = file;
            for key in ["line", "column"] {
                if let Some(n) = v.get(key) {
                    at.push(':');
                    at.push_str(&n.clone().into_text());
                }
            }
            Some(at)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::CaseStatus;

    fn failing(message: Option<&str>, diagnostics: &str) -> Case {
        Case {
            name: "t".into(),
            status: CaseStatus::Failed,
            line: 1,
            classname: None,
            reason: None,
            duration_ms: None,
            message: message.map(str::to_string),
            diagnostics: Some(diagnostics.into()),
            properties: Vec::new(),
        }
    }

    #[test]
    fn a_block_message_is_read_whole() {
        let block = "error: |-\n  Expected values to be strictly equal:\n\n  1 !== 2\n\ncode: x\n";
        assert_eq!(
            message_of(block).as_deref(),
            Some("Expected values to be strictly equal:\n\n1 !== 2")
        );
        assert_eq!(
            message_of("message: 'it''s bad'\n").as_deref(),
            Some("it's bad")
        );
        assert_eq!(message_of("duration_ms: 3\n"), None);
        assert_eq!(message_of("error: [unclosed\n"), None);
    }

    #[test]
    fn node_test_runner_names_expected_actual_and_location() {
        let block = "location: '/src/t.mjs:5:11'\nerror: |-\n  Expected values to be strictly equal:\n\n  1 !== 2\nexpected: 2\nactual: 1\n";
        let case = failing(message_of(block).as_deref(), block);
        assert_eq!(
            highlights(&case),
            [
                "Expected values to be strictly equal:",
                "1 !== 2",
                "expected: 2",
                "actual: 1",
                "at /src/t.mjs:5:11"
            ]
        );
    }

    #[test]
    fn node_tap_and_test_more_shapes_are_read_too() {
        let tap = "found: 'a'\nwanted: 'b'\nat:\n  file: t.js\n  line: 3\n  column: 5\n";
        assert_eq!(
            highlights(&failing(Some("should match"), tap)),
            [
                "should match",
                "expected: \"b\"",
                "actual: \"a\"",
                "at t.js:3:5"
            ]
        );
        let more = "got: 1\nexpected: 2\nat: t/basic.t line 7\n";
        assert_eq!(
            highlights(&failing(None, more)),
            ["expected: 2", "actual: 1", "at t/basic.t line 7"]
        );
    }

    #[test]
    fn long_messages_and_values_are_cut() {
        let message: Vec<String> = (0..20).map(|i| format!("line {i}")).collect();
        let big = format!("expected: '{}'\n", "x".repeat(500));
        let lines = highlights(&failing(Some(&message.join("\n")), &big));
        assert_eq!(lines.len(), MESSAGE_LINES + 2);
        assert_eq!(lines[MESSAGE_LINES], "...");
        assert!(lines[MESSAGE_LINES + 1].ends_with("..."));
        assert!(lines[MESSAGE_LINES + 1].len() < 230);
    }

    #[test]
    fn a_block_that_is_not_yaml_leaves_the_message_alone() {
        assert_eq!(highlights(&failing(Some("boom"), "{{{")), ["boom"]);
    }
}
