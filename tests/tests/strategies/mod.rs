//! Generators of results whose strings stress every layer, shared by the property
//! tests (`tap_props`, `libtaskotron`).

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::Value;
use taskotron_core::results::{is_tap_reserved, CheckDetail, Outcome};

/// Strings that stress every layer: TAP's `#` and `\`, YAML's special characters,
/// quotes, control characters, unicode.
pub fn nasty() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,24}",
        "[ -~]{0,24}",
        "[#\\\\:'\"\\- |>&*!%@`{}\\[\\],?~\t\r\u{1}\u{85}\u{2028}\u{feff}é😀a ]{0,16}",
        Just(String::new()),
        Just("...".to_string()),
        Just("---".to_string()),
        Just("null".to_string()),
        Just("yes".to_string()),
        Just("0x1F".to_string()),
        Just("  lead and trail  ".to_string()),
        Just("# SKIP not really".to_string()),
    ]
}

pub fn line() -> impl Strategy<Value = String> {
    nasty().prop_map(|s| s.replace('\n', " "))
}

pub fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        nasty().prop_map(Value::String),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_][a-z0-9_]{0,6}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

pub fn outcome() -> impl Strategy<Value = Outcome> {
    prop::sample::select(Outcome::ALL.to_vec())
}

pub fn detail() -> impl Strategy<Value = CheckDetail> {
    (
        (nasty(), prop::option::of(nasty()), outcome(), nasty()),
        (
            prop::collection::vec(line(), 0..4),
            prop::collection::btree_map(nasty(), value(), 0..3),
        ),
        (prop::option::of(nasty()), prop::option::of(nasty())),
    )
        .prop_map(
            |((item, item_type, outcome, note), (output, keyvals), (checkname, artifact))| {
                let keyvals: BTreeMap<String, Value> = keyvals
                    .into_iter()
                    .filter(|(k, _)| !is_tap_reserved(k))
                    .collect();
                CheckDetail {
                    item,
                    item_type,
                    outcome,
                    note,
                    output,
                    keyvals,
                    checkname,
                    artifact,
                }
            },
        )
}
