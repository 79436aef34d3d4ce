//! Property tests of per-test JUnit: for generated TAP streams (nested subtests,
//! SKIP and TODO, YAML diagnostics, failing parents), the JUnit document has one
//! testcase per leaf test, and its failure and skip counts are the stream's own,
//! counted on the generated tree independently of the reader.

use proptest::prelude::*;
use taskotron_core::results::writer::{self, Format, Writer};
use taskotron_core::results::{self, CaseStatus};

/// A generated test: a leaf, or a parent with a subtest.
#[derive(Debug, Clone)]
enum Test {
    Leaf {
        ok: bool,
        /// SKIP (true) or TODO (false), with the reason.
        directive: Option<(bool, String)>,
        /// A YAML block with a message and a duration.
        yaml: bool,
    },
    Parent {
        children: Vec<Test>,
        /// Fails even when no child does (a wrong plan, a failing hook).
        fails_alone: bool,
    },
}

impl Test {
    /// Whether the test point says `not ok` without a directive.
    fn fails(&self) -> bool {
        match self {
            Test::Leaf { ok, directive, .. } => !ok && directive.is_none(),
            Test::Parent {
                children,
                fails_alone,
            } => *fails_alone || children.iter().any(Test::fails),
        }
    }

    /// (testcases, failures, skipped) as JUnit must count them.
    fn expected(&self) -> (usize, usize, usize) {
        match self {
            Test::Leaf { directive, .. } => (
                1,
                usize::from(self.fails()),
                usize::from(directive.is_some()),
            ),
            Test::Parent {
                children,
                fails_alone,
            } => {
                let mut sum = (0, 0, 0);
                for c in children {
                    let (n, f, s) = c.expected();
                    sum = (sum.0 + n, sum.1 + f, sum.2 + s);
                }
                // A parent that fails while no child does is a case of its own.
                if *fails_alone && !children.iter().any(Test::fails) {
                    sum = (sum.0 + 1, sum.1 + 1, sum.2);
                }
                sum
            }
        }
    }

    fn write(&self, out: &mut String, depth: usize, number: usize, name: &str) {
        let pad = "    ".repeat(depth);
        let status = if self.fails() { "not ok" } else { "ok" };
        match self {
            Test::Leaf {
                ok,
                directive,
                yaml,
            } => {
                let status = if *ok { "ok" } else { "not ok" };
                let directive = match directive {
                    Some((true, r)) => format!(" # SKIP {r}"),
                    Some((false, r)) => format!(" # TODO {r}"),
                    None => String::new(),
                };
                out.push_str(&format!("{pad}{status} {number} - {name}{directive}\n"));
                if *yaml {
                    out.push_str(&format!(
                        "{pad}  ---\n{pad}  message: 'went {name}'\n{pad}  duration_ms: {number}.5\n{pad}  ...\n"
                    ));
                }
            }
            Test::Parent { children, .. } => {
                out.push_str(&format!("{pad}# Subtest: {name}\n"));
                let inner = "    ".repeat(depth + 1);
                out.push_str(&format!("{inner}1..{}\n", children.len()));
                for (i, c) in children.iter().enumerate() {
                    c.write(out, depth + 1, i + 1, &format!("{name}-{}", i + 1));
                }
                out.push_str(&format!("{pad}{status} {number} - {name}\n"));
            }
        }
    }
}

fn reason() -> impl Strategy<Value = String> {
    "[a-z]{1,8}( [a-z]{1,8})?"
}

fn test() -> impl Strategy<Value = Test> {
    let leaf = (
        any::<bool>(),
        prop::option::weighted(0.3, (any::<bool>(), reason())),
        any::<bool>(),
    )
        .prop_map(|(ok, directive, yaml)| Test::Leaf {
            ok,
            directive,
            yaml,
        });
    leaf.prop_recursive(3, 24, 4, |inner| {
        (
            prop::collection::vec(inner, 1..4),
            prop::bool::weighted(0.15),
        )
            .prop_map(|(children, fails_alone)| Test::Parent {
                children,
                fails_alone,
            })
    })
}

fn document(tests: &[Test]) -> String {
    let mut out = format!("TAP version 14\n1..{}\n", tests.len());
    for (i, t) in tests.iter().enumerate() {
        t.write(&mut out, 0, i + 1, &format!("t{}", i + 1));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn junit_counts_are_the_leaf_counts(tests in prop::collection::vec(test(), 1..6)) {
        let text = document(&tests);
        let mut expected = (0, 0, 0);
        for t in &tests {
            let (n, f, s) = t.expected();
            expected = (expected.0 + n, expected.1 + f, expected.2 + s);
        }
        // The reader's leaf tests agree with the tree.
        let parsed = results::parse_tap(&text, &results::Context::default(), true);
        let summary = parsed.summary.clone().unwrap();
        prop_assert!(summary.is_valid(), "{:?}\n{text}", summary.diagnostics);
        let leaves = parsed.tests.len();
        let failed = parsed.tests.iter().filter(|c| c.status == CaseStatus::Failed).count();
        let skipped = parsed
            .tests
            .iter()
            .filter(|c| matches!(c.status, CaseStatus::Skipped | CaseStatus::Todo))
            .count();
        prop_assert_eq!((leaves, failed, skipped), expected, "{}", text);
        // JUnit written by the streaming writer, read back by quick-junit.
        let w = Writer::new(Format::Junit, Vec::new(), "dist.props").unwrap();
        let (_, _, xml) = writer::convert(text.as_bytes(), results::Context::default(), None, w).unwrap();
        let xml = String::from_utf8(xml).unwrap();
        let report = quick_junit::Report::deserialize_from_str(&xml).unwrap();
        prop_assert_eq!((report.tests, report.failures, report.skipped), expected, "{}", xml);
        prop_assert_eq!(report.errors, 0);
        let cases: usize = report.test_suites.iter().map(|s| s.test_cases.len()).sum();
        prop_assert_eq!(cases, expected.0);
        // Every YAML message travels in its failure.
        for c in parsed.tests.iter().filter(|c| c.status == CaseStatus::Failed) {
            if let Some(m) = &c.message {
                prop_assert!(xml.contains(&format!("message=\"{m}\"")), "{m}: {xml}");
            }
        }
    }
}
