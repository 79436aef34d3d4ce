//! The formula loader and variable checker on arbitrary text: no panic, and every
//! diagnostic points at a line that exists.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskotron_core::formula::{self, Defined};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let lines = text.lines().count().max(1);
    match formula::load(text, std::path::Path::new("fuzz.yml")) {
        Ok(loaded) => {
            for d in formula::check_variables(&loaded.formula, &Defined::for_validation()) {
                let line = d.location.map_or(1, |l| l.line);
                assert!(line >= 1 && line <= lines);
            }
        }
        Err(diagnostics) => {
            for d in diagnostics {
                let line = d.location.map_or(1, |l| l.line);
                assert!(line >= 1 && line <= lines);
                let _ = d.to_string();
            }
        }
    }
});
