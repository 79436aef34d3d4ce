//! CheckDetails to TAP13, in the layout of the 2014 design: `ok 1 - <checkname> for
//! Koji build <item>` followed by a YAML block with `details.output`, `item`,
//! `outcome`, `summary`, `type` and the keyvals.

use std::io::{self, Write};

use serde_json::{Map, Value};

use crate::results::{is_tap_reserved, CheckDetail};

/// How the seed's layout names an item type in a test point's description.
pub fn type_phrase(item_type: &str) -> String {
    match item_type {
        "koji_build" => "Koji build".into(),
        "koji_tag" => "Koji tag".into(),
        "bodhi_update" => "Bodhi update".into(),
        "compose" => "compose".into(),
        other => other.replace('_', " "),
    }
}

/// Writes `details` as a TAP13 stream, numbered, plan first. `checkname` names the
/// results that carry no checkname of their own. A result is `not ok` unless its
/// outcome is PASSED or INFO.
///
/// # Errors
/// Only those of `out`.
pub fn emit(details: &[CheckDetail], checkname: &str, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "TAP version 13")?;
    writeln!(out, "1..{}", details.len())?;
    for (i, d) in details.iter().enumerate() {
        emit_point(i as u64 + 1, d, checkname, out)?;
    }
    Ok(())
}

/// Writes one result as test point `number`, with its YAML block (for streams whose
/// plan comes at the end).
///
/// # Errors
/// Only those of `out`.
pub fn emit_point(
    number: u64,
    d: &CheckDetail,
    checkname: &str,
    out: &mut impl Write,
) -> io::Result<()> {
    let mut text = String::new();
    let status = if d.outcome.is_success() {
        "ok"
    } else {
        "not ok"
    };
    let what = match &d.item_type {
        Some(t) => format!("{} {}", type_phrase(t), d.item),
        None => d.item.clone(),
    };
    let description = escape(&format!("{} for {what}", d.testcase(checkname)));
    text.push_str(&format!("{status} {number} - {description}\n"));
    super::write_block(&mut text, 2, block(d).iter().map(|(k, v)| (k.as_str(), v)));
    out.write_all(text.as_bytes())
}

/// The YAML block's entries, sorted by key.
fn block(d: &CheckDetail) -> Map<String, Value> {
    let mut map: Map<String, Value> = d
        .keyvals
        .iter()
        .filter(|(k, _)| !is_tap_reserved(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !d.output.is_empty() {
        let mut text = d.output.join("\n");
        text.push('\n');
        let mut details = Map::new();
        details.insert("output".into(), Value::String(text));
        map.insert("details".into(), Value::Object(details));
    }
    map.insert("item".into(), Value::String(d.item.clone()));
    map.insert("outcome".into(), Value::String(d.outcome.as_str().into()));
    if !d.note.is_empty() {
        map.insert("summary".into(), Value::String(d.note.clone()));
    }
    if let Some(t) = &d.item_type {
        map.insert("type".into(), Value::String(t.clone()));
    }
    if let Some(c) = &d.checkname {
        map.insert("checkname".into(), Value::String(c.clone()));
    }
    if let Some(a) = &d.artifact {
        map.insert("artifact".into(), Value::String(a.clone()));
    }
    map
}

/// A description is one line: TAP escapes for `#` and `\`, control characters as
/// spaces. The exact values travel in the YAML block.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '#' => out.push_str("\\#"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
