//! Writing YAML blocks that every TAP consumer reads: our own reader, Perl's
//! TAP::Parser (whose YAMLish reader rejects `|-` and knows no `\u` escapes) and
//! PyYAML-based ones. Scalars are plain only where every YAML version reads them as
//! the same string; multi-line text uses `|` (clip); everything else is
//! double-quoted with `\x`/`\u` escapes.

use std::fmt::Write as _;

use serde_json::Value;

use crate::yaml::{resolve_plain, NodeValue};

/// Writes `entries` as a YAML block (`---` ... `...`) indented by `indent` spaces.
pub fn write_block<'a>(
    out: &mut String,
    indent: usize,
    entries: impl IntoIterator<Item = (&'a str, &'a Value)>,
) {
    let pad = " ".repeat(indent);
    let _ = writeln!(out, "{pad}---");
    for (k, v) in entries {
        write_entry(out, indent, k, v);
    }
    let _ = writeln!(out, "{pad}...");
}

/// Writes a YAML document whose root is the mapping `key: [items...]` (ResultYAML's
/// `results:` list), with the same scalar rules as the blocks.
pub fn write_list_document(out: &mut String, key: &str, items: &[Value]) {
    if items.is_empty() {
        let _ = writeln!(out, "{}: []", key_text(key));
    } else {
        let _ = writeln!(out, "{}:", key_text(key));
        write_items(out, 2, items);
    }
}

/// Writes one item of a list whose `key:` line is already written (a document
/// written as its items come).
pub fn write_list_item(out: &mut String, item: &Value) {
    write_items(out, 2, std::slice::from_ref(item));
}

fn write_entry(out: &mut String, indent: usize, key: &str, value: &Value) {
    let pad = " ".repeat(indent);
    let key = key_text(key);
    match value {
        Value::Object(map) if !map.is_empty() => {
            let _ = writeln!(out, "{pad}{key}:");
            for (k, v) in map {
                write_entry(out, indent + 2, k, v);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let _ = writeln!(out, "{pad}{key}:");
            write_items(out, indent + 2, items);
        }
        Value::String(s) if literal_ok(s) => {
            let _ = writeln!(out, "{pad}{key}: |");
            for line in s.strip_suffix('\n').unwrap_or(s).split('\n') {
                let _ = writeln!(out, "{pad}  {line}");
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{key}: {}", scalar(other));
        }
    }
}

fn write_items(out: &mut String, indent: usize, items: &[Value]) {
    let pad = " ".repeat(indent);
    for item in items {
        match item {
            Value::Object(map) if !map.is_empty() => {
                // The mapping goes two deeper; its first line takes the dash.
                let mut nested = String::new();
                for (k, v) in map {
                    write_entry(&mut nested, indent + 2, k, v);
                }
                let _ = write!(out, "{pad}- {}", &nested[indent + 2..]);
            }
            Value::Array(inner) if !inner.is_empty() => {
                let _ = writeln!(out, "{pad}-");
                write_items(out, indent + 2, inner);
            }
            Value::String(s) if s.contains('\n') => {
                let _ = writeln!(out, "{pad}- {}", quoted(s));
            }
            other => {
                let _ = writeln!(out, "{pad}- {}", scalar(other));
            }
        }
    }
}

/// Multi-line text that a `|` block keeps exactly and Perl's YAMLish reads: one
/// final newline, no empty line (YAMLish rejects them), no line starting or ending
/// with a space, nothing invisible.
fn literal_ok(s: &str) -> bool {
    s.ends_with('\n')
        && s.len() > 1
        && s.strip_suffix('\n').unwrap_or(s).split('\n').all(|l| {
            !l.is_empty()
                && !l.starts_with(' ')
                && !l.ends_with(' ')
                && l.chars().all(|c| !needs_escape(c) && c != '\t')
        })
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Null => "~".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => yaml11_number(&n.to_string()),
        Value::String(s) if plain_ok(s) => s.clone(),
        Value::String(s) => quoted(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// A number in a form YAML 1.1 readers (PyYAML, which the original Taskotron
/// used) read as a number too: their floats need a `.` before the exponent
/// (`1.0e+16`, never `1e+16`, which they take for text).
fn yaml11_number(text: &str) -> String {
    match text.find(['e', 'E']) {
        Some(at) if !text[..at].contains('.') => format!("{}.0{}", &text[..at], &text[at..]),
        _ => text.to_string(),
    }
}

/// Text that YAML 1.1 readers take for something else although YAML 1.2 reads it
/// as text: sexagesimal numbers (`12:30`), numbers with `_`, binary (`0b101`),
/// dates (`2026-01-01`), and `=`.
fn yaml11_special(s: &str) -> bool {
    let b = s.as_bytes();
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    let numeric_start = unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    let date = b.len() >= 6
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5].is_ascii_digit();
    s == "=" || date || (numeric_start && (s.contains([':', '_']) || unsigned.starts_with("0b")))
}

fn key_text(key: &str) -> String {
    let simple = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if simple && plain_ok(key) {
        key.to_string()
    } else {
        quoted(key)
    }
}

/// YAML 1.1 words that some readers turn into booleans.
const YAML11_WORDS: &[&str] = &["y", "n", "yes", "no", "on", "off"];

fn plain_ok(s: &str) -> bool {
    let bytes = s.as_bytes();
    let Some(&first) = bytes.first() else {
        return false;
    };
    if b"-?:,[]{}#&*!|>'\"%@`~ ".contains(&first) || s.ends_with([' ', ':']) {
        return false;
    }
    // One pass: `: `, ` #`, tabs, line ends and control characters.
    let mut previous = 0u8;
    for &b in bytes {
        if b < 0x20
            || b == 0x7f
            || (b == b' ' && previous == b':')
            || (b == b'#' && previous == b' ')
        {
            return false;
        }
        previous = b;
    }
    if !s.is_ascii() && s.chars().any(needs_escape) {
        return false;
    }
    if yaml11_special(s) {
        return false;
    }
    // A word starting with a letter is text unless YAML gives it another meaning
    // (booleans, null, and the YAML 1.1 words some readers take for booleans).
    if first.is_ascii_alphabetic() {
        return !YAML11_WORDS
            .iter()
            .chain(&["true", "false", "null"])
            .any(|w| w.eq_ignore_ascii_case(s));
    }
    matches!(resolve_plain(s), NodeValue::Str(..))
        && !YAML11_WORDS.iter().any(|w| w.eq_ignore_ascii_case(s))
}

fn needs_escape(c: char) -> bool {
    let n = c as u32;
    n < 0x20 || (0x7f..=0x9f).contains(&n) || c == '\u{2028}' || c == '\u{2029}' || c == '\u{feff}'
}

/// A double-quoted YAML scalar.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) && (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
