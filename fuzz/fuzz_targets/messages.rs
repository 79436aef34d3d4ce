//! Recorded bus traffic from arbitrary bytes (`trigger::MessageStream`): no panic,
//! reading ends, every record names a line of the input, and a record's line never
//! goes backwards by more than the value it came from.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskotron_trigger::trigger::MessageStream;

fuzz_target!(|data: &[u8]| {
    let lines = data.iter().filter(|b| **b == b'\n').count() + 1;
    let mut n = 0;
    for record in MessageStream::new(data) {
        let record = record.expect("reading from memory cannot fail");
        assert!(record.line >= 1 && record.line <= lines, "line {} of {lines}", record.line);
        n += 1;
        assert!(n <= data.len() + 1, "more records than bytes");
    }
});
