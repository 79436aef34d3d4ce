//! The config reader and its key-by-key checker on arbitrary text: no panic, and
//! every diagnostic points at a line that exists.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskotron_core::config::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let lines = text.lines().count().max(1);
    if let Err(e) = Config::parse(text, std::path::Path::new("fuzz.yaml"), &|_| None) {
        for d in e.diagnostics() {
            let line = d.location.map_or(1, |l| l.line);
            assert!(line >= 1 && line <= lines);
            let _ = d.to_string();
        }
    }
});
