//! The TAP reader, validator and converter on arbitrary bytes: no panic, every test
//! point line is seen once, and YAML decoding never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskotron_tap::results::{read_tap, Context};
use taskotron_tap::tap::{Event, Reader};

fuzz_target!(|data: &[u8]| {
    let mut points = 0;
    for event in Reader::new(data) {
        let Ok(event) = event else { return };
        if let Event::Test(t) = &event {
            points += 1;
            if let Some(y) = &t.yaml {
                let _ = y.decode();
            }
        }
    }
    // Every line that starts (after indentation) with `ok` or `not ok` is a point,
    // unless a YAML block swallowed it, so the reader never invents points.
    let lines = data.split(|b| *b == b'\n' || *b == b'\r').count();
    assert!(points <= lines);
    let mut cases = |_| {};
    let _ = read_tap(data, Context::default(), None, true, Some(&mut cases), |_| {});
});
