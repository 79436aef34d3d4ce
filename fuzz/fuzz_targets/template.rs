//! The substitution engine on arbitrary text: no panic, error offsets inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use taskotron_core::template::{Scope, Template};

fuzz_target!(|text: &str| {
    match Template::parse(text) {
        Ok(t) => {
            let mut scope = Scope::default();
            scope.set_builtin("item", json!("a-1-1"));
            scope.set_builtin("list", json!(["x", {"y": [1, null]}]));
            let _ = t.render(&scope);
            let _ = t.render_shell(&scope);
        }
        Err(e) => assert!(e.offset < text.chars().count()),
    }
});
