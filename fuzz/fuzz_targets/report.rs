//! Text a task produced, all the way to ResultsDB payloads and Bodhi comment
//! parsing: no panic; every payload has only string or list-of-string data and no `:`
//! in its keys.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskotron_core::results::{self, Outcome};
use taskotron_core::resultsdb::identity::Identity;
use taskotron_core::resultsdb::{report, DataValue, Group, LogUrls, ReportContext};

fuzz_target!(|text: &str| {
    let _ = taskotron_core::bodhi::parse_comment(text);
    let ctx = results::Context { item: "pkg-1-1.fc41".into(), item_type: Some("koji_build".into()) };
    // What `taskotron report` accepts is a subset of what the runner reads.
    if let Ok(strict) = results::parse_report(text, &ctx, std::path::Path::new("f")) {
        let _ = report::check_subjects(&strict.details, std::path::Path::new("f"));
        assert!(results::parse_any(text, &ctx).is_ok());
    }
    let Ok(parsed) = results::parse_any(text, &ctx) else { return };
    let rctx = ReportContext {
        checkname: "scratch.fuzz".into(),
        testcase_ref_url: Some("https://docs/{testcase}".into()),
        arch: Some("x86_64".into()),
        group: Group { uuid: "g".into(), description: None, ref_url: None },
        urls: LogUrls::new(Some("https://a"), Some("https://j/{build_id}"), "r", None),
        accepted: vec![Outcome::Passed, Outcome::Info, Outcome::Failed, Outcome::NeedsInspection],
    };
    let identity = Identity::files([text.as_bytes()]);
    if let Ok(entries) = report::entries(&parsed.details, &rctx, &identity) {
        for e in entries {
            assert!(e.payload.data.keys().all(|k| !k.contains(':')));
            assert!(["PASSED", "INFO", "FAILED", "NEEDS_INSPECTION"].contains(&e.payload.outcome.as_str()));
            assert!(e.payload.data.values().all(|v| matches!(v, DataValue::One(_) | DataValue::Many(_))));
        }
    }
});
