//! Property tests of TAP: our reader agrees with the `tap_parser` crate on the TAP14
//! subset it handles; CheckDetails survive TAP13 and ResultYAML round trips whatever
//! their strings hold; Perl's TAP::Parser accepts every TAP13 we emit.

use std::process::Command;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use taskotron_core::results::{self, resultyaml, CheckDetail, Context};
use taskotron_core::tap::{self, Directive, Event, Reader};

mod strategies;
use strategies::detail;

fn emit(details: &[CheckDetail]) -> String {
    let mut out = Vec::new();
    tap::emit(details, "scratch.prop", &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn check_details_survive_tap13(details in prop::collection::vec(detail(), 0..5)) {
        let text = emit(&details);
        let back = results::parse_tap(&text, &Context::default(), true);
        prop_assert!(back.diagnostics.is_empty(), "{:?}\n{text}", back.diagnostics);
        prop_assert!(back.summary.as_ref().unwrap().is_valid(), "{:?}\n{text}", back.summary);
        if details.is_empty() {
            // An empty stream (`1..0`) is one PASSED aggregate: nothing failed.
            prop_assert_eq!(back.details.len(), 1);
        } else {
            prop_assert_eq!(&back.details, &details, "\n{}", text);
        }
    }

    #[test]
    fn check_details_survive_resultyaml(details in prop::collection::vec(detail(), 0..5)) {
        let text = resultyaml::export(&details);
        let back = resultyaml::import(&text, None).map_err(|e| TestCaseError::fail(format!("{e:?}\n{text}")))?;
        let expected: Vec<CheckDetail> = details.into_iter().map(|mut d| { d.output.clear(); d }).collect();
        prop_assert_eq!(back.details, expected);
    }

    #[test]
    fn reader_agrees_with_tap_parser(doc in tap14_document()) {
        let ours: Vec<Event> = Reader::new(doc.as_bytes()).map(Result::unwrap).collect();
        let theirs = tap_parser::TapParser::new().parse(&doc).map_err(|e| TestCaseError::fail(format!("{e:?}\n{doc}")))?;
        let ours: Vec<_> = ours.iter().filter_map(|e| match e { Event::Test(t) => Some(t), _ => None }).collect();
        let theirs: Vec<_> = theirs.iter().filter_map(|s| match s { tap_parser::TapStatement::TestPoint(t) => Some(t), _ => None }).collect();
        prop_assert_eq!(ours.len(), theirs.len(), "{}", doc);
        for (o, t) in ours.iter().zip(&theirs) {
            prop_assert_eq!(o.ok, t.result);
            prop_assert_eq!(o.id, t.number.map(|n| n as u64));
            prop_assert_eq!(Some(o.description.as_str()).filter(|d| !d.is_empty()), t.desc);
            let (kind, reason) = match &o.directive {
                Some(Directive::Skip(r)) => (Some(tap_parser::DirectiveKind::Skip), Some(r.as_str())),
                Some(Directive::Todo(r)) => (Some(tap_parser::DirectiveKind::Todo), Some(r.as_str())),
                None => (None, None),
            };
            prop_assert_eq!(kind.as_ref(), t.directive.as_ref().map(|d| &d.kind));
            prop_assert_eq!(reason.filter(|r| !r.is_empty()), t.directive.as_ref().and_then(|d| d.reason));
            let our_yaml: Vec<&str> = o.yaml.as_ref().map(|y| y.text.lines().collect()).unwrap_or_default();
            prop_assert_eq!(our_yaml, t.yaml.clone());
        }
    }
}

/// TAP14 documents inside what `tap_parser` reads: version and plan first, numbered
/// points, descriptions without `#`, upper-case directives, flat YAML blocks.
fn tap14_document() -> impl Strategy<Value = String> {
    let point = (
        any::<bool>(),
        "[A-Za-z0-9][A-Za-z0-9 ,.()_]{0,20}",
        prop_oneof![Just(None), Just(Some("SKIP")), Just(Some("TODO"))],
        "[a-z]{0,3}( [a-z]{1,5})?",
        prop::collection::vec(("[a-z]{1,8}", "[a-z0-9]{1,8}"), 0..3),
    );
    prop::collection::vec(point, 1..12).prop_map(|points| {
        let mut doc = format!("TAP version 14\n1..{}\n", points.len());
        for (i, (ok, desc, directive, reason, yaml)) in points.into_iter().enumerate() {
            let status = if ok { "ok" } else { "not ok" };
            doc.push_str(&format!("{status} {} - {}", i + 1, desc.trim()));
            if let Some(d) = directive {
                doc.push_str(format!(" # {d} {reason}").trim_end());
            }
            doc.push('\n');
            if !yaml.is_empty() {
                doc.push_str("  ---\n");
                for (k, v) in yaml {
                    doc.push_str(&format!("  {k}: {v}\n"));
                }
                doc.push_str("  ...\n");
            }
        }
        doc
    })
}

#[test]
fn perl_tap_parser_accepts_everything_we_emit() {
    let mut runner = TestRunner::deterministic();
    let strategy = detail();
    let details: Vec<CheckDetail> = (0..300)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect();
    let text = emit(&details);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("emitted.tap");
    std::fs::write(&file, &text).unwrap();
    let script = r#"
        use TAP::Parser;
        local $/; open(my $fh, '<:encoding(UTF-8)', $ARGV[0]) or die; my $tap = <$fh>;
        my $p = TAP::Parser->new({ tap => $tap });
        my $yaml = 0;
        while (my $r = $p->next) { $yaml++ if $r->is_yaml && ref($r->data) eq 'HASH' && exists $r->data->{item}; }
        my @e = $p->parse_errors;
        print "tests=", $p->tests_run, " yaml=$yaml errors=", scalar(@e), "\n";
        print "$_\n" for @e;
    "#;
    let out = Command::new("perl")
        .arg("-e")
        .arg(script)
        .arg(&file)
        .output()
        .expect("perl runs (it is on every Debian machine)");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // prove, the harness people run, reads it without parse errors too (it reports the
    // `not ok` points as failures, which they are).
    let prove = Command::new("prove")
        .args(["--exec", "cat"])
        .arg(&file)
        .output()
        .expect("prove runs");
    let prove_out = String::from_utf8_lossy(&prove.stdout);
    assert!(!prove_out.contains("Parse errors"), "{prove_out}");
    assert!(prove_out.contains("Tests=300"), "{prove_out}");
    assert_eq!(
        report.lines().next(),
        Some("tests=300 yaml=300 errors=0"),
        "{report}"
    );
}
