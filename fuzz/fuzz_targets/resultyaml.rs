//! ResultYAML import on arbitrary text: no panic, and what is accepted exports and
//! imports back to the same results.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskotron_tap::results::resultyaml;

fuzz_target!(|text: &str| {
    if let Ok(imported) = resultyaml::import(text, None) {
        let again = resultyaml::import(&resultyaml::export(&imported.details), None).expect("our export reads back");
        assert_eq!(again.details, imported.details);
    }
});
