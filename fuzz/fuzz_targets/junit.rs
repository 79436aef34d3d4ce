//! JUnit XML import on arbitrary text: no panic; errors point inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskotron_tap::results::junit;

fuzz_target!(|text: &str| {
    match junit::import(text, None) {
        Ok(cases) => {
            let details = junit::to_details(&cases, "i", "koji_build", "c", "a", junit::Aggregation::None);
            let _ = junit::export(&details, "c");
        }
        Err(d) => assert!(d.location.map_or(1, |l| l.line) <= text.lines().count().max(1)),
    }
});
