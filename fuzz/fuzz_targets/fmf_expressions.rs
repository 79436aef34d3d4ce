//! fmf's three small languages on arbitrary text: a `when` rule decided against a
//! context, a `--filter` and a `--condition` against a node's data. Each gives an
//! answer or an error, never a panic (the text is split at NUL bytes: the
//! expression, then the node's data as JSON).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (expr, json) = text.split_once('\0').unwrap_or((text, "{}"));
    let node: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(json).unwrap_or_default();
    if let Ok(rule) = taskotron_fmf::context::parse(expr) {
        let mut ctx = taskotron_fmf::Context::new();
        ctx.set("distro", vec!["fedora-41".into()]);
        ctx.set("arch", vec!["x86_64".into()]);
        let _ = ctx.decide(&rule);
        let _ = ctx.clone().ignoring_case().decide(&rule);
    }
    let values = taskotron_fmf::filter::values_of(&node);
    let _ = taskotron_fmf::filter::matches(expr, &values, "/test");
    if let Ok(c) = taskotron_fmf::condition::Condition::parse(expr) {
        let _ = c.holds(&node);
    }
});
