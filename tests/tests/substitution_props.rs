//! Property tests of the substitution engine: no input makes it panic, errors point
//! inside the input, and text without `$` renders to itself.

use proptest::prelude::*;
use serde_json::json;
use taskotron_core::template::{Scope, Template};

fn scope() -> Scope {
    let mut s = Scope::default();
    s.set_builtin("item", json!("xchat-0.5-1.fc20"));
    s.set_builtin("list", json!(["a", "b c"]));
    s.set_builtin("map", json!({"k": [1, {"z": null}]}));
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn parsing_and_rendering_never_panic(text in "(\\PC|\\$|\\{|\\}|\\.|item|list|map|k|0){0,40}") {
        match Template::parse(&text) {
            Ok(t) => {
                let s = scope();
                let _ = t.render(&s);
                if let Ok(line) = t.render_shell(&s) {
                    // Values never appear in the script itself.
                    prop_assert!(!line.script.contains("xchat-0.5-1.fc20") || text.contains("xchat-0.5-1.fc20"));
                }
            }
            Err(e) => prop_assert!(e.offset < text.chars().count()),
        }
    }

    #[test]
    fn text_without_dollars_is_literal(text in "[^$]{0,60}") {
        let t = Template::parse(&text).unwrap();
        prop_assert!(t.is_literal());
        prop_assert_eq!(t.render(&Scope::default()).unwrap(), json!(text));
    }

    #[test]
    fn doubled_dollars_escape(text in "[a-z ]{0,10}") {
        let t = Template::parse(&format!("$${text}")).unwrap();
        prop_assert_eq!(t.render(&Scope::default()).unwrap(), json!(format!("${text}")));
    }
}
