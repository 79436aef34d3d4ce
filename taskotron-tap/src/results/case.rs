//! Test cases: every leaf test of a suite, as CI systems count them.
//!
//! A [`CheckDetail`] is what ResultsDB gets: one result per check and item, a whole
//! TAP stream aggregated into one. A [`Case`] is what a person fixing a suite needs:
//! one per test, subtests included, named by its path (`parent > child`), with the
//! YAML diagnostics a failing test carried. [`Tracker`] turns TAP events into cases
//! as they stream by, holding one small frame per open subtest.
//!
//! A test point is a *leaf* unless it closes a subtest. A parent is a case of its own
//! only when its failure is not explained by a failing child (a wrong subtest plan,
//! a failing hook): then the suite failed somewhere no leaf shows, and hiding it
//! would make a red suite look green. *Invariant: memory does not grow with the
//! number of test points.*

use serde::{Deserialize, Serialize};

use super::{CheckDetail, Outcome};
use crate::tap::{Directive, Event, TestPoint};

/// How one test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaseStatus {
    /// It passed (`ok`).
    Passed,
    /// It failed (`not ok`, without SKIP or TODO).
    Failed,
    /// The check said its result needs a person, or the stream broke around it
    /// (NEEDS_INSPECTION, ABORTED, CRASHED).
    Error,
    /// It did not run (`# SKIP`).
    Skipped,
    /// It is not expected to pass yet (`# TODO`), whichever way it went.
    Todo,
}

impl CaseStatus {
    /// The status of a result's outcome.
    pub fn of_outcome(o: Outcome) -> Self {
        match o {
            Outcome::Passed | Outcome::Info => CaseStatus::Passed,
            Outcome::Failed => CaseStatus::Failed,
            _ => CaseStatus::Error,
        }
    }

    /// Failed or error: what makes a suite red.
    pub fn is_bad(self) -> bool {
        matches!(self, CaseStatus::Failed | CaseStatus::Error)
    }

    /// The word people read.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Passed => "passed",
            CaseStatus::Failed => "failed",
            CaseStatus::Error => "error",
            CaseStatus::Skipped => "skipped",
            CaseStatus::Todo => "todo",
        }
    }
}

/// One leaf test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Its path: the enclosing subtests' names and its own, joined by ` > `.
    pub name: String,
    /// How it ended.
    pub status: CaseStatus,
    /// The line of its test point in the stream (0 when it did not come from TAP).
    #[serde(default)]
    pub line: usize,
    /// The suite it belongs to: the result's checkname (a test point's own
    /// `checkname` key, else the action's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classname: Option<String>,
    /// The SKIP or TODO reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `duration_ms` of its YAML block (node's test runner writes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// One line saying what went wrong: the YAML's `error` or `message`, the
    /// result's note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Everything the test said about itself: its YAML block as written, or a
    /// result's output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<String>,
    /// Name-value pairs that travel as JUnit `<property>`s (a result's outcome,
    /// type and keyvals).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<(String, String)>,
}

impl Case {
    /// Whether this case stands for a stream that is not whole
    /// ([`super::broken_stream`]) rather than for a test: its diagnostic says
    /// why, and no test count includes it.
    pub fn is_broken_stream(&self) -> bool {
        self.status == CaseStatus::Error
            && self.classname.is_none()
            && self.name == super::from_tap::STREAM_CASE
    }

    /// A result that did not come from a test point (ResultYAML, a check's own
    /// results) as a case named by its item.
    pub fn of_detail(d: &CheckDetail, checkname: &str) -> Self {
        let mut properties = vec![("outcome".to_string(), d.outcome.as_str().to_string())];
        if let Some(t) = &d.item_type {
            properties.push(("type".into(), t.clone()));
        }
        if let Some(a) = &d.artifact {
            properties.push(("artifact".into(), a.clone()));
        }
        for (k, v) in &d.keyvals {
            properties.push((
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_string),
            ));
        }
        Case {
            name: d.item.clone(),
            status: CaseStatus::of_outcome(d.outcome),
            line: 0,
            classname: Some(d.testcase(checkname).to_string()),
            reason: None,
            duration_ms: None,
            message: (!d.note.is_empty()).then(|| d.note.clone()),
            diagnostics: (!d.output.is_empty()).then(|| d.output.join("\n")),
            properties,
        }
    }
}

/// How many cases ended which way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseCounts {
    /// Every case.
    pub tests: u64,
    /// Passed.
    pub passed: u64,
    /// Failed.
    pub failed: u64,
    /// Errors (results needing inspection, a broken stream).
    #[serde(default)]
    pub errors: u64,
    /// Skipped.
    pub skipped: u64,
    /// TODO.
    pub todo: u64,
}

impl CaseCounts {
    /// Counts one more case.
    pub fn add(&mut self, status: CaseStatus) {
        self.tests += 1;
        match status {
            CaseStatus::Passed => self.passed += 1,
            CaseStatus::Failed => self.failed += 1,
            CaseStatus::Error => self.errors += 1,
            CaseStatus::Skipped => self.skipped += 1,
            CaseStatus::Todo => self.todo += 1,
        }
    }

    /// Adds another count.
    pub fn merge(&mut self, other: &CaseCounts) {
        self.tests += other.tests;
        self.passed += other.passed;
        self.failed += other.failed;
        self.errors += other.errors;
        self.skipped += other.skipped;
        self.todo += other.todo;
    }

    /// Failed plus errors.
    pub fn bad(&self) -> u64 {
        self.failed + self.errors
    }
}

/// An open subtest.
#[derive(Debug, Default)]
struct Frame {
    /// Its name from `# Subtest: name`, if the producer wrote one.
    name: Option<String>,
    /// Whether a case inside it (at any depth) failed.
    bad_inside: bool,
}

/// Turns a TAP stream's events into [`Case`]s as they come.
#[derive(Debug, Default)]
pub struct Tracker {
    /// The open subtests, outermost first.
    open: Vec<Frame>,
    /// The subtest that just ended, waiting for the test point that closes it.
    closed: Option<Frame>,
    counts: CaseCounts,
}

impl Tracker {
    /// A tracker for a new stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next event; returns the case it completes, if any. A keyed test
    /// point's result (`detail`) decides its status and suite. The event's text
    /// moves into the case.
    pub fn feed(&mut self, event: Event, detail: Option<&CheckDetail>) -> Option<Case> {
        match event {
            Event::SubtestStart { name, depth, .. } => {
                // A subtest deeper than the stack knows (a malformed stream) gets
                // anonymous frames for the levels between.
                while self.open.len() + 1 < depth {
                    self.open.push(Frame::default());
                }
                self.open.push(Frame {
                    name,
                    bad_inside: false,
                });
                self.closed = None;
                None
            }
            Event::SubtestEnd { depth, .. } => {
                while self.open.len() >= depth.max(1) {
                    let frame = self.open.pop();
                    if self.open.len() + 1 == depth {
                        self.closed = frame;
                    }
                }
                None
            }
            Event::Test(t) => {
                let closing = self.closed.take().filter(|_| t.depth == self.open.len());
                let case = self.case(t, closing.as_ref(), detail)?;
                self.counts.add(case.status);
                if case.status.is_bad() {
                    for f in &mut self.open {
                        f.bad_inside = true;
                    }
                }
                Some(case)
            }
            _ => {
                // Anything between a subtest's end and its closing point (a
                // comment) leaves the subtest waiting; a new subtest does not.
                None
            }
        }
    }

    fn case(
        &mut self,
        t: TestPoint,
        closing: Option<&Frame>,
        detail: Option<&CheckDetail>,
    ) -> Option<Case> {
        let TestPoint {
            line,
            ok,
            id,
            description,
            directive,
            yaml,
            ..
        } = t;
        let (status, reason) = match (directive, ok) {
            (Some(Directive::Skip(r)), _) => (CaseStatus::Skipped, Some(r)),
            (Some(Directive::Todo(r)), _) => (CaseStatus::Todo, Some(r)),
            (None, true) => (CaseStatus::Passed, None),
            (None, false) => (CaseStatus::Failed, None),
        };
        let status = match detail {
            Some(d) if reason.is_none() => CaseStatus::of_outcome(d.outcome),
            _ => status,
        };
        if let Some(frame) = closing {
            // A parent: its children already stand for it, unless it failed and
            // none of them did.
            if !status.is_bad() || frame.bad_inside {
                return None;
            }
        }
        let own = if description.is_empty() {
            format!("test {}", id.unwrap_or(0))
        } else {
            description
        };
        let name = if self.open.is_empty() {
            own
        } else {
            let mut path = String::new();
            for f in &self.open {
                path.push_str(f.name.as_deref().unwrap_or("(subtest)"));
                path.push_str(" > ");
            }
            path.push_str(&own);
            path
        };
        let text = yaml.map(|y| y.text);
        let mut case = Case {
            name,
            status,
            line,
            classname: detail.and_then(|d| d.checkname.clone()),
            reason,
            duration_ms: text.as_deref().and_then(duration_ms),
            message: None,
            diagnostics: None,
            properties: Vec::new(),
        };
        if status.is_bad() || status == CaseStatus::Todo {
            case.message = detail
                .filter(|d| !d.note.is_empty())
                .map(|d| d.note.clone())
                .or_else(|| text.as_deref().and_then(message));
            case.diagnostics = text.filter(|s| !s.is_empty());
        }
        Some(case)
    }

    /// The cases so far.
    pub fn counts(&self) -> CaseCounts {
        self.counts
    }
}

/// `duration_ms: N` at the top level of a YAML block, read without decoding it.
fn duration_ms(text: &str) -> Option<f64> {
    top_level(text, "duration_ms")?.parse().ok()
}

/// The whole `error` or `message` of a block (node writes `error`, TAP::Harness
/// producers `message`). Looked for by a substring search first: decoding every
/// block of a suite with many failures would cost more than the search.
fn message(text: &str) -> Option<String> {
    if top_level(text, "error").is_none() && top_level(text, "message").is_none() {
        return None;
    }
    super::highlights::message_of(text)
}

/// The text after `key:` on a line of the block's top level.
fn top_level<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    // Found by a substring search, then checked to start a line: most blocks are
    // looked at for `duration_ms` and few have it.
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(at) = memchr::memmem::find(&bytes[from..], key.as_bytes()) {
        let start = from + at;
        from = start + 1;
        if start > 0 && bytes[start - 1] != b'\n' {
            continue;
        }
        let rest = &text[start + key.len()..];
        if let Some(value) = rest.strip_prefix(':') {
            let end = value.find('\n').unwrap_or(value.len());
            return Some(value[..end].trim());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tap::Reader;

    fn cases(tap: &str) -> (Vec<Case>, CaseCounts) {
        let mut tracker = Tracker::new();
        let mut out = Vec::new();
        for e in Reader::new(tap.as_bytes()) {
            if let Some(c) = tracker.feed(e.unwrap(), None) {
                out.push(c);
            }
        }
        (out, tracker.counts())
    }

    #[test]
    fn nodes_subtests_are_leaves_named_by_their_path() {
        let text = include_str!("../tap/testdata/17_node_test_runner.tap");
        let (cases, counts) = cases(text);
        let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["top > sub ok", "top > sub fail", "skipped", "todo"]);
        assert_eq!(
            counts,
            CaseCounts {
                tests: 4,
                passed: 1,
                failed: 1,
                errors: 0,
                skipped: 1,
                todo: 1
            }
        );
        let fail = &cases[1];
        assert_eq!(
            fail.message.as_deref(),
            Some("Expected values to be strictly equal:\n\n1 !== 2")
        );
        assert!(fail.diagnostics.as_deref().unwrap().contains("actual: 1"));
        assert_eq!(fail.duration_ms, Some(9.11638));
        assert_eq!(cases[2].reason.as_deref(), Some("no arch"));
    }

    #[test]
    fn a_parent_that_fails_alone_is_a_case() {
        let tap =
            "TAP version 14\n1..2\n# Subtest: s\n    1..2\n    ok 1 - x\nnot ok 1 - s\nok 2 - t\n";
        let (cases, counts) = cases(tap);
        let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["s > x", "s", "t"]);
        assert_eq!(counts.failed, 1);
        // A parent whose child failed is not counted twice.
        let tap = "TAP version 14\n1..1\n# Subtest: s\n    1..1\n    not ok 1 - x\nnot ok 1 - s\n";
        let (cases, counts) = self::cases(tap);
        assert_eq!(cases.len(), 1);
        assert_eq!((counts.tests, counts.failed), (1, 1));
    }

    #[test]
    fn flat_suites_give_one_case_a_point() {
        let tap =
            "1..4\nok 1 /glib/a\nnot ok 2 /glib/b\nok 3 /glib/c # SKIP no\nnot ok 4 # TODO later\n";
        let (cases, counts) = cases(tap);
        assert_eq!(cases.len(), 4);
        assert_eq!(cases[3].name, "test 4");
        assert_eq!(
            counts,
            CaseCounts {
                tests: 4,
                passed: 1,
                failed: 1,
                errors: 0,
                skipped: 1,
                todo: 1
            }
        );
    }
}
