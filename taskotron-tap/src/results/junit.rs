//! JUnit XML, the format GitLab, Jenkins and most CI systems read: results out, and
//! test cases in (the original `xunit` directive).

use std::path::Path;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

pub use super::junit_writer::JunitWriter;

use super::case::{Case, CaseStatus};
use super::{CheckDetail, Outcome};
use crate::diagnostic::{Diagnostic, Location};

/// Writes `details` as a JUnit document: one `<testsuite>` per testcase name
/// (`checkname` for results without their own), one `<testcase>` per result, named
/// by its item (see [`Case::of_detail`]).
pub fn export(details: &[CheckDetail], checkname: &str) -> String {
    let mut w = match JunitWriter::new(checkname) {
        Ok(w) => w,
        Err(_) => return String::new(),
    };
    for d in details {
        // Writing to a temporary file only fails when the disk does.
        let _ = w.case(Case::of_detail(d, checkname));
    }
    let mut out = Vec::new();
    let _ = w.finish(&mut out);
    String::from_utf8(out).unwrap_or_default()
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

/// A test case read from JUnit as a [`Case`]: its classname and name become the
/// name (`classname.name`, as CI systems show it), a skip a skip.
pub fn to_case(c: &TestCase) -> Case {
    let status = match c.outcome {
        Outcome::Passed => CaseStatus::Passed,
        Outcome::Info => CaseStatus::Skipped,
        Outcome::Failed => CaseStatus::Failed,
        _ => CaseStatus::Error,
    };
    let name = if c.classname.is_empty() {
        c.name.clone()
    } else {
        format!("{}.{}", c.classname, c.name)
    };
    Case {
        name,
        status,
        line: 0,
        classname: None,
        reason: (status == CaseStatus::Skipped && !c.message.is_empty()).then(|| c.message.clone()),
        duration_ms: None,
        message: (status.is_bad() && !c.message.is_empty()).then(|| c.message.clone()),
        diagnostics: (!c.output.is_empty()).then(|| c.output.clone()),
        properties: Vec::new(),
    }
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
        // Characters XML cannot carry become U+FFFD.
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
