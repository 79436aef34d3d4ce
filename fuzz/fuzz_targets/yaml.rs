//! The spanned YAML reader on arbitrary text: no panic, no unbounded growth.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(node) = taskotron_tap::yaml::parse(text, None) {
        let _ = node.to_json();
    }
});
