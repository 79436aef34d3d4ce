//! JUnit XML, the format GitLab, Jenkins and most CI systems read: results out, and
//! test cases in (the original `xunit` directive).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, Write};
use std::path::Path;

use quick_junit::{
    NonSuccessKind, Property, Report, TestCase as JunitCase, TestCaseStatus, TestSuite,
};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::case::{Case, CaseCounts, CaseStatus};
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
        let _ = w.case(&Case::of_detail(d, checkname));
    }
    let mut out = Vec::new();
    let _ = w.finish(&mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// How many cases one quick-junit report holds at a time: the document is written
/// in slices of this many, so memory stays flat for any number of tests.
const CHUNK: usize = 2048;

/// Writes [`Case`]s as a JUnit document in bounded memory.
///
/// JUnit opens every `<testsuite>` with its counts, which are known only at the
/// end; the cases wait in an anonymous temporary file (a line each) and are written
/// suite by suite when the writer finishes. The XML itself comes from quick-junit,
/// slice by slice: each slice of [`CHUNK`] cases is a quick-junit report of its own
/// whose `<testcase>` elements are copied out, and the `<testsuites>` and
/// `<testsuite>` tags come from quick-junit reports holding the totals.
pub struct JunitWriter {
    default_suite: String,
    spool: BufWriter<File>,
    /// Suites in the order they first appeared, with their counts.
    suites: Vec<(String, CaseCounts)>,
    index: HashMap<String, usize>,
}

impl JunitWriter {
    /// A writer whose cases without a classname go to the suite `default_suite`.
    ///
    /// # Errors
    /// The temporary file cannot be made.
    pub fn new(default_suite: &str) -> io::Result<Self> {
        Ok(Self {
            default_suite: default_suite.to_string(),
            spool: BufWriter::new(tempfile::tempfile()?),
            suites: Vec::new(),
            index: HashMap::new(),
        })
    }

    /// Adds one case.
    ///
    /// # Errors
    /// The temporary file cannot be written.
    pub fn case(&mut self, case: &Case) -> io::Result<()> {
        let suite = case.classname.as_deref().unwrap_or(&self.default_suite);
        let n = match self.index.get(suite) {
            Some(&n) => n,
            None => {
                let n = self.suites.len();
                self.suites.push((suite.to_string(), CaseCounts::default()));
                self.index.insert(suite.to_string(), n);
                n
            }
        };
        self.suites[n].1.add(case.status);
        write!(self.spool, "{n}\t")?;
        serde_json::to_writer(&mut self.spool, case)?;
        self.spool.write_all(b"\n")
    }

    /// The counts of every case so far.
    pub fn counts(&self) -> CaseCounts {
        let mut all = CaseCounts::default();
        for (_, c) in &self.suites {
            all.merge(c);
        }
        all
    }

    /// Writes the document to `out`.
    ///
    /// # Errors
    /// Those of `out` or of the temporary file.
    pub fn finish(self, mut out: impl Write) -> io::Result<()> {
        let all = self.counts();
        let mut file = self
            .spool
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        let mut report = Report::new(REPORT_NAME);
        set_counts_report(&mut report, &all);
        let head = serialize(&report)?;
        // `<testsuites ...>` with no suite is followed by its closing tag.
        let close = head.rfind("</testsuites>").unwrap_or(head.len());
        out.write_all(&head.as_bytes()[..close])?;
        for (n, (name, counts)) in self.suites.iter().enumerate() {
            file.rewind()?;
            let prefix = format!("{n}\t");
            let mut chunk: Vec<JunitCase> = Vec::with_capacity(CHUNK);
            let mut first = true;
            let mut line = String::new();
            let mut reader = BufReader::new(&mut file);
            while reader.read_line(&mut line)? > 0 {
                if let Some(json) = line.strip_prefix(&prefix) {
                    let case: Case = serde_json::from_str(json)?;
                    chunk.push(to_junit(&case, name));
                    if chunk.len() == CHUNK {
                        write_slice(
                            &mut out,
                            name,
                            counts,
                            std::mem::take(&mut chunk),
                            first,
                            false,
                        )?;
                        first = false;
                    }
                }
                line.clear();
            }
            write_slice(&mut out, name, counts, chunk, first, true)?;
        }
        out.write_all(&head.as_bytes()[close..])?;
        out.flush()
    }
}

/// The `name` of the `<testsuites>` element.
const REPORT_NAME: &str = "taskotron";

/// Writes one slice of a suite: its opening tag for the first, its cases, its
/// closing tag for the last.
fn write_slice(
    out: &mut impl Write,
    name: &str,
    counts: &CaseCounts,
    cases: Vec<JunitCase>,
    first: bool,
    last: bool,
) -> io::Result<()> {
    let empty = cases.is_empty();
    let mut suite = TestSuite::new(name);
    suite.add_test_cases(cases);
    set_counts_suite(&mut suite, counts);
    if empty {
        // An empty suite serializes self-closed; a placeholder case gives it a body.
        suite
            .test_cases
            .push(JunitCase::new("", TestCaseStatus::success()));
    }
    let mut report = Report::new(REPORT_NAME);
    report.add_test_suite(suite);
    let text = serialize(&report)?;
    let open = text.find("<testsuite ").map_or(0, |i| line_start(&text, i));
    let body = text[open..].find('\n').map_or(text.len(), |i| open + i + 1);
    let end = text
        .rfind("</testsuite>")
        .map_or(text.len(), |i| line_start(&text, i));
    let close = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
    if first {
        out.write_all(&text.as_bytes()[open..body])?;
    }
    if !empty {
        out.write_all(&text.as_bytes()[body..end])?;
    }
    if last {
        out.write_all(&text.as_bytes()[end..close])?;
    }
    Ok(())
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

fn serialize(report: &Report) -> io::Result<String> {
    report.to_string().map_err(io::Error::other)
}

fn set_counts_report(report: &mut Report, c: &CaseCounts) {
    report.tests = usize::try_from(c.tests).unwrap_or(usize::MAX);
    report.failures = usize::try_from(c.failed).unwrap_or(usize::MAX);
    report.errors = usize::try_from(c.errors).unwrap_or(usize::MAX);
    report.skipped = usize::try_from(c.skipped + c.todo).unwrap_or(usize::MAX);
}

fn set_counts_suite(suite: &mut TestSuite, c: &CaseCounts) {
    suite.tests = usize::try_from(c.tests).unwrap_or(usize::MAX);
    suite.failures = usize::try_from(c.failed).unwrap_or(usize::MAX);
    suite.errors = usize::try_from(c.errors).unwrap_or(usize::MAX);
    suite.skipped = usize::try_from(c.skipped + c.todo).unwrap_or(usize::MAX);
}

/// A case as quick-junit's test case: a failure carries the YAML diagnostics, SKIP
/// and TODO are `<skipped>` with their reason.
fn to_junit(c: &Case, suite: &str) -> JunitCase {
    let mut status = match c.status {
        CaseStatus::Passed => TestCaseStatus::success(),
        CaseStatus::Failed => TestCaseStatus::non_success(NonSuccessKind::Failure),
        CaseStatus::Error => TestCaseStatus::non_success(NonSuccessKind::Error),
        CaseStatus::Skipped | CaseStatus::Todo => TestCaseStatus::skipped(),
    };
    match c.status {
        CaseStatus::Failed | CaseStatus::Error => {
            status.set_message(c.message.as_deref().unwrap_or("not ok"));
            status.set_type(c.status.as_str());
            if let Some(d) = &c.diagnostics {
                status.set_description(d.as_str());
            }
        }
        CaseStatus::Skipped | CaseStatus::Todo => {
            let word = if c.status == CaseStatus::Todo {
                "TODO"
            } else {
                "SKIP"
            };
            status.set_message(match c.reason.as_deref() {
                Some(r) if !r.is_empty() => format!("{word}: {r}"),
                _ => word.to_string(),
            });
            status.set_type(c.status.as_str());
            if let Some(d) = &c.diagnostics {
                status.set_description(d.as_str());
            }
        }
        CaseStatus::Passed => {}
    }
    let mut t = JunitCase::new(c.name.as_str(), status);
    t.set_classname(suite);
    if let Some(ms) = c
        .duration_ms
        .filter(|ms| ms.is_finite() && *ms >= 0.0 && *ms < 1e15)
    {
        t.set_time(std::time::Duration::from_secs_f64(ms / 1000.0));
    }
    for (k, v) in &c.properties {
        t.add_property(Property::new(k.as_str(), v.as_str()));
    }
    t
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
        // Characters XML cannot carry are left out.
        assert_eq!(cases[0].output, "line <1>\nline 2");
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
