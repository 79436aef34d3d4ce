//! Greenwave policy YAML (both origins) and decision and waiver bodies on
//! arbitrary input: no panic, and a policy that reads decides over no facts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskotron_gating::{parse_policies, DecisionRequest, NewWaiver, Origin};

fuzz_target!(|text: &str| {
    for origin in [Origin::Config, Origin::Remote] {
        if let Ok(policies) = parse_policies(text, None, origin) {
            for p in &policies {
                let _ = p.applies_to(&["c".into()], "fedora-41", "koji_build");
            }
        }
    }
    if let Ok(body) = serde_json::from_str::<serde_json::Value>(text) {
        let _ = DecisionRequest::from_json(&body);
        let _ = NewWaiver::from_json(&body);
    }
    let _ = taskotron_gating::glob::matches(text, "fedora-41");
});
