//! JUnit XML, the format GitLab, Jenkins and most CI systems read: results out, and
//! test cases in (the original `xunit` directive).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{CheckDetail, Outcome};
use crate::diagnostic::{Diagnostic, Location};

/// Writes `details` as JUnit XML: one `<testsuite>` per testcase name (`checkname`
/// for results without their own), one `<testcase>` per result, named by its item.
/// FAILED is a `<failure>`; NEEDS_INSPECTION, ABORTED and CRASHED are `<error>`s;
/// the outcome, type and keyvals are `<property>`s.
pub fn export(details: &[CheckDetail], checkname: &str) -> String {
    let mut suites: BTreeMap<&str, Vec<&CheckDetail>> = BTreeMap::new();
    for d in details {
        suites.entry(d.testcase(checkname)).or_default().push(d);
    }
    let all = Counts::of(details.iter());
    let mut out = String::from(HEADER);
    all.open(&mut out, None);
    for (name, ds) in &suites {
        Counts::of(ds.iter().copied()).open(&mut out, Some(name));
        for d in ds {
            write_case(&mut out, name, d);
        }
        out.push_str(SUITE_END);
    }
    out.push_str(SUITES_END);
    out
}

/// The XML declaration.
pub(crate) const HEADER: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
/// Closes a `<testsuite>`.
pub(crate) const SUITE_END: &str = "  </testsuite>\n";
/// Closes the document.
pub(crate) const SUITES_END: &str = "</testsuites>\n";

/// The counts a `<testsuites>` or `<testsuite>` opens with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub tests: u64,
    pub failures: u64,
    pub errors: u64,
}

impl Counts {
    pub(crate) fn of<'a>(details: impl Iterator<Item = &'a CheckDetail>) -> Self {
        let mut c = Counts::default();
        for d in details {
            c.add(d.outcome);
        }
        c
    }

    pub(crate) fn add(&mut self, o: Outcome) {
        self.tests += 1;
        self.failures += u64::from(is_failure(o));
        self.errors += u64::from(is_error(o));
    }

    /// Opens `<testsuites>` (no name) or the `<testsuite>` of `suite`.
    pub(crate) fn open(&self, out: &mut String, suite: Option<&str>) {
        let (pad, element, name) = match suite {
            None => ("", "testsuites", "taskotron".to_string()),
            Some(n) => ("  ", "testsuite", attr(n)),
        };
        let _ = writeln!(
            out,
            "{pad}<{element} name=\"{name}\" tests=\"{}\" failures=\"{}\" errors=\"{}\">",
            self.tests, self.failures, self.errors
        );
    }
}

/// FAILED is a `<failure>`.
pub(crate) fn is_failure(o: Outcome) -> bool {
    o == Outcome::Failed
}

/// NEEDS_INSPECTION, ABORTED and CRASHED are `<error>`s.
pub(crate) fn is_error(o: Outcome) -> bool {
    o == Outcome::NeedsInspection || o.is_broken()
}

/// One `<testcase>` of the suite `suite`.
pub(crate) fn write_case(out: &mut String, suite: &str, d: &CheckDetail) {
    let name = suite;
    let _ = writeln!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\">",
        attr(name),
        attr(&d.item)
    );
    out.push_str("      <properties>\n");
    let _ = writeln!(
        out,
        "        <property name=\"outcome\" value=\"{}\"/>",
        d.outcome
    );
    if let Some(t) = &d.item_type {
        let _ = writeln!(
            out,
            "        <property name=\"type\" value=\"{}\"/>",
            attr(t)
        );
    }
    if let Some(a) = &d.artifact {
        let _ = writeln!(
            out,
            "        <property name=\"artifact\" value=\"{}\"/>",
            attr(a)
        );
    }
    for (k, v) in &d.keyvals {
        let value = v.as_str().map_or_else(|| v.to_string(), str::to_string);
        let _ = writeln!(
            out,
            "        <property name=\"{}\" value=\"{}\"/>",
            attr(k),
            attr(&value)
        );
    }
    out.push_str("      </properties>\n");
    let body = text(&d.output.join("\n"));
    let element = match d.outcome {
        Outcome::Failed => Some("failure"),
        o if is_error(o) => Some("error"),
        _ => None,
    };
    match element {
        Some(e) => {
            let _ = writeln!(
                out,
                "      <{e} type=\"{}\" message=\"{}\">{body}</{e}>",
                d.outcome,
                attr(&d.note)
            );
        }
        None if !body.is_empty() => {
            let _ = writeln!(out, "      <system-out>{body}</system-out>");
        }
        None => {}
    }
    out.push_str("    </testcase>\n");
}

/// Text XML can carry: characters XML forbids become U+FFFD.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => '\u{fffd}',
            c => c,
        })
        .collect()
}

fn text(s: &str) -> String {
    quick_xml::escape::escape(clean(s).as_str()).into_owned()
}

fn attr(s: &str) -> String {
    text(s)
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
        .replace('\t', "&#9;")
}

/// One `<testcase>` read from JUnit XML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCase {
    /// `classname`, often the suite or module.
    pub classname: String,
    /// `name`.
    pub name: String,
    /// PASSED, FAILED (`<failure>` or `<error>`), or INFO (`<skipped>`).
    pub outcome: Outcome,
    /// The failure's or skip's `message`.
    pub message: String,
    /// The text inside the failure, error or skipped element, and system-out.
    pub output: String,
}

/// Reads the test cases of a JUnit XML document (`<testsuites>` or `<testsuite>`).
///
/// # Errors
/// Malformed XML, with the line and column where it was found.
pub fn import(xml: &str, file: Option<&Path>) -> Result<Vec<TestCase>, Box<Diagnostic>> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut cases = Vec::new();
    let mut current: Option<TestCase> = None;
    let mut in_output = false;
    let fail = |reader: &Reader<&[u8]>, message: String| {
        let pos = usize::try_from(reader.buffer_position())
            .unwrap_or(0)
            .min(xml.len());
        let before = &xml[..floor_boundary(xml, pos)];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Box::new(
            Diagnostic::error(message)
                .at(file, xml, Location { line, column }, 1)
                .expected("well-formed JUnit XML"),
        )
    };
    loop {
        let event = reader
            .read_event()
            .map_err(|e| fail(&reader, format!("invalid XML: {e}")))?;
        match event {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"testcase" => {
                if let Some(done) = current.take() {
                    cases.push(done);
                }
                current = Some(TestCase {
                    classname: attribute(&e, b"classname"),
                    name: attribute(&e, b"name"),
                    outcome: Outcome::Passed,
                    message: String::new(),
                    output: String::new(),
                });
                in_output = false;
            }
            Event::End(e) if e.local_name().as_ref() == b"testcase" => {
                if let Some(done) = current.take() {
                    cases.push(done);
                }
            }
            Event::Start(e) | Event::Empty(e) => {
                if let Some(case) = current.as_mut() {
                    let outcome = match e.local_name().as_ref() {
                        b"failure" | b"error" => Some(Outcome::Failed),
                        b"skipped" => Some(Outcome::Info),
                        b"system-out" | b"system-err" => {
                            in_output = true;
                            None
                        }
                        _ => None,
                    };
                    if let Some(o) = outcome {
                        case.outcome = case.outcome.max(o);
                        let message = attribute(&e, b"message");
                        if case.message.is_empty() {
                            case.message = message;
                        }
                        in_output = true;
                    }
                }
            }
            Event::End(_) => in_output = false,
            Event::Text(t) => {
                if let (Some(case), true) = (current.as_mut(), in_output) {
                    let s = t
                        .unescape()
                        .map_err(|e| fail(&reader, format!("invalid XML text: {e}")))?;
                    if !case.output.is_empty() {
                        case.output.push('\n');
                    }
                    case.output.push_str(&s);
                }
            }
            Event::CData(t) => {
                if let (Some(case), true) = (current.as_mut(), in_output) {
                    if !case.output.is_empty() {
                        case.output.push('\n');
                    }
                    case.output.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(done) = current.take() {
        cases.push(done);
    }
    Ok(cases)
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn attribute(e: &BytesStart<'_>, name: &[u8]) -> String {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
        .unwrap_or_default()
}

/// How `xunit` turns test cases into results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregation {
    /// One result, PASSED when every test case passed (skips count as passing).
    AllPass,
    /// One result per test case, named `<checkname>.<name>`.
    None,
}

/// Test cases as CheckDetails for `item`, the original `xunit` directive's rules.
pub fn to_details(
    cases: &[TestCase],
    item: &str,
    item_type: &str,
    checkname: &str,
    artifact: &str,
    aggregation: Aggregation,
) -> Vec<CheckDetail> {
    match aggregation {
        Aggregation::AllPass => {
            let outcome = if cases.iter().all(|c| c.outcome.is_success()) {
                Outcome::Passed
            } else {
                Outcome::Failed
            };
            let mut d = CheckDetail::new(item, Some(item_type), outcome);
            d.note = super::summary(cases.iter().map(|c| c.outcome));
            d.checkname = Some(checkname.to_string());
            d.artifact = Some(artifact.to_string());
            d.output = cases
                .iter()
                .filter(|c| !c.outcome.is_success())
                .map(|c| format!("{}.{}: {}", c.classname, c.name, c.message))
                .collect();
            vec![d]
        }
        Aggregation::None => cases
            .iter()
            .map(|c| {
                let mut d = CheckDetail::new(item, Some(item_type), c.outcome);
                d.note = c.message.clone();
                d.checkname = Some(format!("{checkname}.{}", c.name));
                d.artifact = Some(artifact.to_string());
                d.output = c.output.lines().map(str::to_string).collect();
                d
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0"?>
<testsuites>
  <testsuite name="pytest" tests="4">
    <testcase classname="t.test_a" name="test_ok" time="0.1"/>
    <testcase classname="t.test_a" name="test_bad">
      <failure message="assert 1 == 2">E assert 1 == 2 &amp; more</failure>
    </testcase>
    <testcase classname="t.test_a" name="test_skip"><skipped message="no network"/></testcase>
    <testcase classname="t.test_b" name="test_err"><error message="boom"><![CDATA[Traceback <x>]]></error></testcase>
  </testsuite>
</testsuites>"#;

    #[test]
    fn reads_cases_and_aggregates_like_xunit() {
        let cases = import(SAMPLE, None).unwrap();
        let outcomes: Vec<Outcome> = cases.iter().map(|c| c.outcome).collect();
        assert_eq!(
            outcomes,
            [
                Outcome::Passed,
                Outcome::Failed,
                Outcome::Info,
                Outcome::Failed
            ]
        );
        assert_eq!(cases[1].output, "E assert 1 == 2 & more");
        assert_eq!(cases[3].output, "Traceback <x>");
        let all = to_details(
            &cases,
            "a-1-1",
            "koji_build",
            "dist.t",
            "junit.xml",
            Aggregation::AllPass,
        );
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].outcome, Outcome::Failed);
        assert_eq!(all[0].note, "1 PASSED, 1 INFO, 2 FAILED");
        let each = to_details(
            &cases,
            "a-1-1",
            "koji_build",
            "dist.t",
            "junit.xml",
            Aggregation::None,
        );
        assert_eq!(each[1].checkname.as_deref(), Some("dist.t.test_bad"));
    }

    #[test]
    fn export_reads_back() {
        let mut d = CheckDetail::new("x<&>\"-1-1", Some("koji_build"), Outcome::Failed);
        d.note = "bad \"thing\"\nsecond".into();
        d.output = vec!["line <1>".into(), "line\u{1} 2".into()];
        let ok = CheckDetail::new("y-1-1", Some("koji_build"), Outcome::Passed);
        let xml = export(&[d, ok], "dist.t");
        let cases = import(&xml, None).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].name, "x<&>\"-1-1");
        assert_eq!(cases[0].outcome, Outcome::Failed);
        assert_eq!(cases[0].message, "bad \"thing\"\nsecond");
        assert_eq!(cases[0].output, "line <1>\nline\u{fffd} 2");
        assert_eq!(cases[1].outcome, Outcome::Passed);
    }

    #[test]
    fn malformed_xml_says_where() {
        let e = import(
            "<testsuite>\n  <testcase name=\"a\">\n</testsuite>",
            Some(Path::new("j.xml")),
        )
        .unwrap_err();
        assert!(e.message.starts_with("invalid XML"), "{}", e.message);
        assert_eq!(e.file.as_deref(), Some(Path::new("j.xml")));
    }
}
