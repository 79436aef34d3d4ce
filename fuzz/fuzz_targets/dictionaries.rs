//! The four dictionaries read from arbitrary YAML/JSON: no panic, and whatever is
//! accepted converts to a mapping and back unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskotron_core::dict::Dictionary;
use taskotron_core::{ExecutionReport, Job, JobRequest, TaskInput};

fn round_trip<D: Dictionary + PartialEq + std::fmt::Debug>(text: &str) {
    if let Ok(d) = D::from_yaml(text) {
        let back = D::from_mapping(d.to_mapping()).expect("an accepted dictionary converts back");
        assert_eq!(back, d);
    }
}

fuzz_target!(|text: &str| {
    round_trip::<JobRequest>(text);
    round_trip::<Job>(text);
    round_trip::<TaskInput>(text);
    round_trip::<ExecutionReport>(text);
});
