//! Every conformance case in `testdata/` (copied from the shared TAP cases) with its
//! spec-correct reading written down, plus reader details and round trips.

use std::path::Path;

use super::*;
use crate::results::{self, CheckDetail, Context, Outcome};

fn read(text: &str) -> (Vec<Event>, Summary) {
    let events: Vec<Event> = Reader::new(text.as_bytes()).map(Result::unwrap).collect();
    let mut v = Validator::new(Some(Path::new("t.tap")));
    events.iter().for_each(|e| v.feed(e));
    (events, v.finish())
}

fn case(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/tap/testdata")
            .join(name),
    )
    .unwrap()
}

fn tests(events: &[Event]) -> Vec<&TestPoint> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Test(t) => Some(t),
            _ => None,
        })
        .collect()
}

/// (tests, passed, failed, skipped, todo, valid, a diagnostic that must appear)
type Expect = (u64, u64, u64, u64, u64, bool, Option<&'static str>);

#[test]
fn every_conformance_case_reads_as_the_spec_says() {
    let cases: &[(&str, Expect)] = &[
        ("01_no_version.tap", (2, 1, 1, 0, 0, true, None)),
        ("02_v13_yaml.tap", (2, 1, 1, 0, 0, true, None)),
        ("03_v14_yaml.tap", (2, 1, 1, 0, 0, true, None)),
        ("04_yaml_4space.tap", (1, 0, 1, 0, 0, true, None)),
        (
            "05_yaml_unterminated.tap",
            (2, 1, 1, 0, 0, false, Some("not terminated")),
        ),
        ("06_hash_in_desc.tap", (1, 1, 0, 0, 0, true, None)),
        ("07_skipped_spelling.tap", (1, 0, 0, 1, 0, true, None)),
        ("08_plan_at_end.tap", (2, 2, 0, 0, 0, true, None)),
        (
            "09_no_plan.tap",
            (1, 1, 0, 0, 0, false, Some("has no plan")),
        ),
        (
            "10_bail_out.tap",
            (2, 2, 0, 0, 0, false, Some("bailed out: db down")),
        ),
        ("11_non_tap_noise.tap", (1, 1, 0, 0, 0, true, None)),
        ("12_comment_before_plan.tap", (1, 1, 0, 0, 0, true, None)),
        ("13_subtest.tap", (1, 0, 1, 0, 0, true, None)),
        ("14_todo_fail.tap", (1, 1, 0, 0, 1, true, None)),
        (
            "15_count_mismatch.tap",
            (
                1,
                1,
                0,
                0,
                0,
                false,
                Some("planned 3 tests but the stream ran 1"),
            ),
        ),
        ("16_crlf.tap", (1, 1, 0, 0, 0, true, None)),
        ("17_node_test_runner.tap", (3, 1, 1, 1, 1, true, None)),
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tap/testdata");
    let on_disk = std::fs::read_dir(dir).unwrap().count();
    assert_eq!(on_disk, cases.len(), "every case file has an expectation");
    for (name, (n, passed, failed, skipped, todo, valid, diag)) in cases {
        let (events, s) = read(&case(name));
        let got = (s.tests, s.passed, s.failed, s.skipped, s.todo, s.is_valid());
        assert_eq!(
            got,
            (*n, *passed, *failed, *skipped, *todo, *valid),
            "{name}: {:?}",
            s.diagnostics
        );
        if let Some(d) = diag {
            assert!(
                s.diagnostics.iter().any(|x| x.message.contains(d)),
                "{name}: {:?}",
                s.diagnostics
            );
        }
        insta::with_settings!({snapshot_suffix => name.trim_end_matches(".tap"), prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!("tap_case", serde_json::to_string_pretty(&events).unwrap());
        });
    }
}

#[test]
fn case_details_that_counts_alone_would_miss() {
    // 02: YAML decodes, nested mapping kept.
    let (events, _) = read(&case("02_v13_yaml.tap"));
    let y = tests(&events)[0].yaml.clone().unwrap();
    assert_eq!(
        y.decode().unwrap().to_json(),
        serde_json::json!({"message": "boom", "data": {"got": 1}})
    );
    // 04: the 4-space TAP13 variant.
    let (events, _) = read(&case("04_yaml_4space.tap"));
    assert_eq!(
        tests(&events)[0].yaml.as_ref().unwrap().text,
        "message: boom\n"
    );
    // 05: the unterminated block ends at the dedent and test 2 is not lost.
    let (events, _) = read(&case("05_yaml_unterminated.tap"));
    let t = tests(&events);
    assert!(!t[0].yaml.as_ref().unwrap().terminated);
    assert_eq!((t[1].id, t[1].description.as_str()), (Some(2), "b"));
    // 06: `#` not followed by SKIP/TODO stays in the description.
    let (events, _) = read(&case("06_hash_in_desc.tap"));
    assert_eq!(tests(&events)[0].description, "fixes issue #123");
    // 07: `# skipped reason` is a skip with the whole reason.
    let (events, _) = read(&case("07_skipped_spelling.tap"));
    assert_eq!(
        tests(&events)[0].directive,
        Some(Directive::Skip("not on s390x".into()))
    );
    // 11: the noise line is kept.
    let (events, _) = read(&case("11_non_tap_noise.tap"));
    assert!(events.iter().any(
        |e| matches!(e, Event::Unknown { text, .. } if text == "make[1]: Entering directory")
    ));
    // 13: the subtest is read, and closed by its correlated test point.
    let (events, _) = read(&case("13_subtest.tap"));
    assert!(matches!(&events[2], Event::SubtestStart { depth: 1, name: Some(n), .. } if n == "s"));
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::SubtestEnd { depth: 1, .. })));
    assert_eq!(tests(&events).iter().filter(|t| t.depth == 1).count(), 1);
    // 16: CRLF is gone from everything.
    let (events, _) = read(&case("16_crlf.tap"));
    assert_eq!(tests(&events)[0].description, "a");
    // 17: node's leaves (`# Subtest:` then the point itself) are comments, not subtests.
    let (events, _) = read(&case("17_node_test_runner.tap"));
    let t = tests(&events);
    assert_eq!(t.iter().filter(|t| t.depth == 1).count(), 2);
    let stack = t[1].yaml.as_ref().unwrap().decode().unwrap();
    assert!(stack
        .get("error")
        .unwrap()
        .as_str()
        .unwrap()
        .ends_with("equal:\n\n1 !== 2"));
}

#[test]
fn reader_corner_cases() {
    let (events, s) =
        read("1..3\nok\nnot ok 2 - a \\# b \\\\ c # TODO: later\nok 3 -   spaced # SkIp\n");
    let t = tests(&events);
    assert_eq!((t[0].id, t[0].description.as_str()), (None, ""));
    assert_eq!(t[1].description, "a # b \\ c");
    assert_eq!(t[1].directive, Some(Directive::Todo("later".into())));
    assert_eq!(t[2].directive, Some(Directive::Skip(String::new())));
    assert!(s.is_valid());
    // `okay` and `nothing` are not test points; `ok` at the end of input is.
    let (events, _) = read("okay\nnothing\nok");
    assert_eq!(tests(&events).len(), 1);
    // Old Mac line ends; invalid UTF-8 is replaced, not fatal.
    let (events, _) = read("1..2\rok 1\rok 2\r");
    assert_eq!(tests(&events).len(), 2);
    let bytes = b"1..1\nok 1 - caf\xe9\n";
    let events: Vec<Event> = Reader::new(&bytes[..]).map(Result::unwrap).collect();
    assert_eq!(tests(&events)[0].description, "caf\u{fffd}");
    // Comments between a test point and its YAML, then more test points.
    let (events, s) =
        read("TAP version 14\n1..2\nnot ok 1 - a\n# diag\n\n  ---\n  k: v\n  ...\nok 2\n");
    assert!(tests(&events)[0].yaml.is_some());
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::Comment { text, .. } if text == "diag")));
    assert!(s.is_valid(), "{:?}", s.diagnostics);
}

#[test]
fn validation_reports_plan_problems_with_lines() {
    let (_, s) = read("1..2\nok 1\nok 1\nok 5\n1..2\n");
    let messages: Vec<String> = s
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.location.unwrap().line, d.message))
        .collect();
    assert!(
        messages.contains(&"3: test number 1 is used twice".to_string()),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"4: test 5 is outside the plan 1..2".to_string()),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("5: more than one plan")),
        "{messages:?}"
    );
    let (_, s) = read("pragma +strict\n1..1\nnoise\nok 1\n");
    assert!(s.diagnostics.iter().any(|d| d.message.contains("strict")));
    let (_, s) = read("1..0 # SKIP no tests here\n");
    assert!(s.is_valid());
}

#[test]
fn malformed_yaml_is_a_diagnostic_and_parsing_goes_on() {
    let text = "TAP version 13\n1..2\nnot ok 1 - a\n  ---\n  item: [unclosed\n  ...\nok 2 - b\n";
    let r = results::parse_tap(
        text,
        &Context {
            item: "x-1-1".into(),
            item_type: Some("koji_build".into()),
        },
        true,
    );
    assert_eq!(r.tests.len(), 2);
    assert_eq!(r.diagnostics.len(), 1);
    assert_eq!(r.diagnostics[0].location.unwrap().line, 5);
    // Both points are aggregated: one failed.
    assert_eq!(r.details.len(), 1);
    assert_eq!(r.details[0].outcome, Outcome::Failed);
}

#[test]
fn a_generic_test_suite_becomes_one_aggregated_result() {
    let ctx = Context {
        item: "pkg-1-1.fc41".into(),
        item_type: Some("koji_build".into()),
    };
    let r = results::parse_tap(&case("17_node_test_runner.tap"), &ctx, true);
    assert_eq!(r.details.len(), 1);
    let d = &r.details[0];
    assert_eq!(
        (d.item.as_str(), d.outcome),
        ("pkg-1-1.fc41", Outcome::Failed)
    );
    // Leaf tests, as the cases count them: `top` is two subtests.
    assert_eq!(
        d.note,
        "4 tests: 1 passed, 1 failed, 1 skipped, 1 todo; failing: top > sub fail"
    );
    assert_eq!(d.output, vec!["not ok - top > sub fail".to_string()]);
    assert_eq!(d.keyvals["tests"], 4);
    assert_eq!(r.tests.len(), 4);
    let r = results::parse_tap(&case("10_bail_out.tap"), &ctx, true);
    assert_eq!(r.details[0].outcome, Outcome::Aborted);
    assert!(r.details[0].note.contains("bailed out: db down"));
}

/// A node suite of two `describe` blocks with six leaf tests: one count everywhere,
/// the leaves', and a FAILED aggregate names its failing tests in the note.
#[test]
fn the_aggregate_counts_leaf_tests_and_names_the_failing_ones() {
    let text = "TAP version 13\n\
# Subtest: distTag\n    # Subtest: fedora\n    ok 1 - fedora\n    \
# Subtest: epel minor release\n    not ok 2 - epel minor release\n      ---\n      \
error: 'expected el9 got el9_4'\n      ...\n    # Subtest: eln\n    ok 3 - eln # SKIP no eln\n    1..3\n\
not ok 1 - distTag\n\
# Subtest: parse\n    ok 1 - nvr\n    ok 2 - epoch\n    ok 3 - release\n    1..3\n\
ok 2 - parse\n1..2\n";
    let ctx = Context {
        item: "pkg-1-1.fc41".into(),
        item_type: Some("koji_build".into()),
    };
    let r = results::parse_tap(text, &ctx, true);
    assert_eq!(r.tests.len(), 6);
    let d = &r.details[0];
    assert_eq!(d.outcome, Outcome::Failed);
    assert_eq!(
        d.note,
        "6 tests: 4 passed, 1 failed, 1 skipped; failing: distTag > epel minor release"
    );
    assert_eq!(d.keyvals["tests"], 6);
    assert_eq!(d.keyvals["passed"], 4);
    // Many failures: the first few by name, the rest counted.
    let mut many = String::from("TAP version 13\n");
    for i in 1..=5 {
        many.push_str(&format!("not ok {i} - case {i}\n"));
    }
    many.push_str("ok 6 - fine\n1..6\n");
    let d = &results::parse_tap(&many, &ctx, true).details[0];
    assert_eq!(
        d.note,
        "6 tests: 1 passed, 5 failed; failing: case 1, case 2, case 3 and 2 more"
    );
    // One test is one test.
    let d = &results::parse_tap("TAP version 13\nok 1 - a\n1..1\n", &ctx, true).details[0];
    assert_eq!(d.note, "1 test: 1 passed, 0 failed");
}

#[test]
fn taskotron_keys_make_check_details() {
    let seed = "TAP version 13\n1..2\nok - $CHECKNAME for Koji build xchat-0.5-1.fc20\n  ---\n  details:\n    output: |-\n      xchat.x86_64: W: file-not-utf8 /usr/share/doc/xchat/ChangeLog\n      xchat.x86_64: W: no-manual-page-for-binary xchat\n  item: xchat-0.5-1.fc20\n  outcome: PASSED\n  summary: 5 ERRORS, 10 WARNINGS\n  type: koji_build\n  ...\nnot ok - $CHECKNAME for Bodhi update foobar-1.2-3.fc20  # FAIL\n  ---\n  item: foobar-1.2-3.fc20\n  outcome: FAILED\n  summary: dependency error\n  type: bodhi_update\n  arch: x86_64\n  ...\n";
    let r = results::parse_tap(seed, &Context::default(), true);
    assert_eq!(r.details.len(), 2, "{:?}", r.details);
    assert_eq!(r.details[0].note, "5 ERRORS, 10 WARNINGS");
    assert_eq!(r.details[0].output.len(), 2);
    assert_eq!(r.details[1].outcome, Outcome::Failed);
    assert_eq!(r.details[1].keyvals["arch"], "x86_64");
    assert!(r.summary.unwrap().is_valid());
}

#[test]
fn emitted_tap_reads_back_and_looks_like_the_seed() {
    let mut d = CheckDetail::new("xchat-0.5-1.fc20", Some("koji_build"), Outcome::Passed);
    d.output = vec!["xchat.x86_64: W: file-not-utf8 /usr/share/doc/xchat/ChangeLog".into()];
    d.note = "5 ERRORS, 10 WARNINGS".into();
    let mut f = CheckDetail::new("foobar-1.2-3.fc20", Some("bodhi_update"), Outcome::Failed);
    f.note = "dependency error".into();
    f.checkname = Some("dist.depcheck".into());
    f.keyvals
        .insert("arch".into(), serde_json::json!(["x86_64", "i386"]));
    let mut out = Vec::new();
    emit(&[d.clone(), f.clone()], "dist.rpmlint", &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    insta::assert_snapshot!("emitted_seed_layout", text);
    let back = results::parse_tap(&text, &Context::default(), true);
    assert_eq!(back.details, vec![d, f]);
    assert!(back.summary.unwrap().is_valid());
}
