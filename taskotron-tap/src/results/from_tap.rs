//! TAP to results. A top-level test point whose YAML carries Taskotron keys (`item`
//! or `outcome`; then `type`, `summary`/`note`, `details.output`, `checkname`,
//! `artifact`, and anything else as a keyval) is one CheckDetail. The other
//! top-level test points, as any TAP test suite prints them, are aggregated into one
//! CheckDetail for the run's item, with the counts of their leaf tests (subtests
//! included, the same count as the [`Case`]s) and the first failing ones in the
//! note, and every failing one named in the output. Every leaf test is also kept as
//! a [`Case`].

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::case::{Case, CaseCounts, CaseStatus, Tracker};
use super::resultyaml::{outcome_error, scalar_text};
use super::{CheckDetail, Outcome};
use crate::diagnostic::Diagnostic;
use crate::tap::{Directive, Event, Reader, Summary, TestPoint, Validator};
use crate::yaml::{Node, NodeValue};

/// How many failing tests the aggregated result names; the rest are counted.
const MAX_NAMED_FAILURES: usize = 1000;

/// How many failing tests the aggregated result's note names.
const NAMED_IN_NOTE: usize = 3;

/// Leaf tests counted, with the names of the failing ones (at most
/// [`MAX_NAMED_FAILURES`]).
#[derive(Debug, Default)]
struct Leaves {
    counts: super::case::CaseCounts,
    failing: Vec<String>,
}

impl Leaves {
    fn add(&mut self, case: &Case) {
        self.counts.add(case.status);
        if case.status.is_bad() && self.failing.len() < MAX_NAMED_FAILURES {
            self.failing.push(format!("not ok - {}", case.name));
        }
    }
}

/// What a stream's results are about, for test points that do not say.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The run's item.
    pub item: String,
    /// The run's item type.
    pub item_type: Option<String>,
}

/// Everything read from one stream, collected (for streams of any size use
/// [`read_tap`] with callbacks).
#[derive(Debug, Clone, Default, Serialize)]
pub struct TapResults {
    /// The results.
    pub details: Vec<CheckDetail>,
    /// Every leaf test, subtests included.
    pub tests: Vec<Case>,
    /// The stream's structure and counts (none for ResultYAML).
    pub summary: Option<Summary>,
    /// Problems with YAML blocks or outcomes, per test point.
    pub diagnostics: Vec<Diagnostic>,
}

/// Turns test points into results as they stream by.
#[derive(Debug)]
pub struct Converter {
    ctx: Context,
    file: Option<PathBuf>,
    decode: bool,
    tests: u64,
    keyless: u64,
    /// Leaf tests counted into the aggregate.
    leaves: u64,
    passed: u64,
    failed: u64,
    skipped: u64,
    todo: u64,
    failing: Vec<String>,
    /// The leaf tests since the last top-level test point: they are the
    /// aggregate's unless that point turns out to be a result of its own.
    pending: Leaves,
    diagnostics: Vec<Diagnostic>,
    /// Diagnostics beyond [`crate::tap::MAX_DIAGNOSTICS`], counted.
    omitted: u64,
}

impl Converter {
    /// A converter for a stream about `ctx`, read from `file`. With `decode` false,
    /// YAML blocks are not decoded and every test point is aggregated.
    pub fn new(ctx: Context, file: Option<&Path>, decode: bool) -> Self {
        Self {
            ctx,
            file: file.map(Path::to_path_buf),
            decode,
            tests: 0,
            keyless: 0,
            leaves: 0,
            passed: 0,
            failed: 0,
            skipped: 0,
            todo: 0,
            failing: Vec::new(),
            pending: Leaves::default(),
            diagnostics: Vec::new(),
            omitted: 0,
        }
    }

    /// Keeps a diagnostic if there is room; memory stays bounded whatever the stream.
    fn diagnose(&mut self, d: Diagnostic) {
        if self.diagnostics.len() < crate::tap::MAX_DIAGNOSTICS {
            self.diagnostics.push(d);
        } else {
            self.omitted += 1;
        }
    }

    /// Takes a top-level test point; returns it as a CheckDetail if its YAML makes
    /// it one, and otherwise counts it into the aggregate.
    pub fn test(&mut self, t: &TestPoint) -> Option<CheckDetail> {
        self.tests += 1;
        let outcome = point_outcome(t);
        let id = t.id.unwrap_or(self.tests);
        let node = match (&t.yaml, self.decode) {
            (Some(y), true) => match y.decode() {
                Ok(node) => Some(node),
                Err(d) => {
                    let mut d = *d;
                    d.file = self.file.clone();
                    d.help = Some(format!(
                        "the YAML of test {id} is ignored; the test point still counts"
                    ));
                    self.diagnose(d);
                    None
                }
            },
            _ => None,
        };
        if let Some(node) = node.filter(|n| n.get("item").is_some() || n.get("outcome").is_some()) {
            return Some(self.detail(t, outcome, node));
        }
        self.keyless += 1;
        None
    }

    /// Takes a leaf test (see [`Tracker`]): the aggregate counts leaves, not
    /// top-level points, so a suite of nested `describe` blocks says how many tests
    /// it ran, as its own summary does.
    pub fn case(&mut self, case: &Case) {
        self.pending.add(case);
    }

    /// Ends a top-level test point: its leaf tests are the aggregate's unless it
    /// was a result of its own (`keyed`).
    pub fn settle(&mut self, keyed: bool) {
        let leaves = std::mem::take(&mut self.pending);
        if keyed {
            return;
        }
        self.tests_counted(leaves);
    }

    fn tests_counted(&mut self, leaves: Leaves) {
        self.passed += leaves.counts.passed;
        self.failed += leaves.counts.failed + leaves.counts.errors;
        self.skipped += leaves.counts.skipped;
        self.todo += leaves.counts.todo;
        self.leaves += leaves.counts.tests;
        for name in leaves.failing {
            if self.failing.len() < MAX_NAMED_FAILURES {
                self.failing.push(name);
            }
        }
    }

    fn detail(&mut self, t: &TestPoint, outcome: Outcome, node: Node) -> CheckDetail {
        let mut d = CheckDetail {
            outcome,
            ..CheckDetail::default()
        };
        let (mut item, mut item_type, mut summary) = (None, None, None);
        let id = t.id.unwrap_or(self.tests);
        // The node is consumed: its strings move into the result instead of being copied.
        for (k, v) in node.into_entries() {
            let key = k.into_key();
            match key.as_str() {
                "item" | "type" | "note" | "summary" | "checkname" | "artifact" | "outcome"
                    if v.is_scalar() =>
                {
                    let line = v.location.line;
                    let text = v.into_text();
                    match key.as_str() {
                        "item" => item = Some(text),
                        "type" => item_type = Some(text),
                        "note" => d.note = text,
                        "summary" => summary = Some(text),
                        "checkname" => d.checkname = Some(text),
                        "artifact" => d.artifact = Some(text),
                        _ => match text.parse::<Outcome>() {
                            Ok(o) => d.outcome = o,
                            Err(e) => {
                                let diag =
                                    outcome_error(Diagnostic::error(format!("test {id}: {e}")), &e)
                                        .at_line(self.file.as_deref(), line);
                                self.diagnose(diag);
                                d.outcome = Outcome::NeedsInspection;
                            }
                        },
                    }
                }
                "item" | "type" | "note" | "summary" | "checkname" | "artifact" | "outcome" => {
                    let diag = Diagnostic::warning(format!(
                        "test {id}: `{key}` is {}, not a string; kept as a keyval",
                        v.kind()
                    ))
                    .at_line(self.file.as_deref(), v.location.line);
                    self.diagnose(diag);
                    d.keyvals.insert(key, v.into_json());
                }
                "details" => self.details(&mut d, v),
                "_internal" => {}
                _ => {
                    d.keyvals.insert(key, v.into_json());
                }
            }
        }
        d.item = item.unwrap_or_else(|| self.ctx.item.clone());
        d.item_type = item_type.or_else(|| self.ctx.item_type.clone());
        if d.note.is_empty() {
            d.note = summary.unwrap_or_default();
        } else if let Some(s) = summary {
            d.keyvals.insert("summary".into(), Value::String(s));
        }
        d
    }

    /// `details.output` becomes the output; other `details` keys stay a keyval.
    fn details(&mut self, d: &mut CheckDetail, v: Node) {
        let Some(entries) = v.as_map() else {
            d.keyvals.insert("details".into(), v.to_json());
            return;
        };
        let mut rest = serde_json::Map::new();
        for (k, val) in entries {
            if k.as_str() == Some("output") {
                match &val.value {
                    NodeValue::Str(s, _) => d.output = lines(s),
                    NodeValue::Seq(items) => {
                        d.output = items
                            .iter()
                            .map(|i| scalar_text(i).unwrap_or_else(|| i.to_json().to_string()))
                            .collect()
                    }
                    NodeValue::Null => {}
                    _ => {
                        rest.insert("output".into(), val.to_json());
                    }
                }
            } else {
                rest.insert(k.key_text(), val.to_json());
            }
        }
        if !rest.is_empty() {
            d.keyvals.insert("details".into(), Value::Object(rest));
        }
    }

    /// Ends the stream: the aggregated result of the test points without Taskotron
    /// keys (also when the stream itself is broken), and the diagnostics.
    pub fn finish(mut self, summary: &Summary) -> (Option<CheckDetail>, Vec<Diagnostic>) {
        if self.omitted > 0 {
            self.diagnostics.push(Diagnostic::warning(format!(
                "{} more problems with test points' YAML were found and not kept",
                self.omitted
            )));
        }
        // Leaves after the last top-level point: a stream cut short in a subtest.
        let rest = std::mem::take(&mut self.pending);
        self.tests_counted(rest);
        let broken = !summary.is_valid();
        if self.keyless == 0 && self.tests > 0 && !broken {
            return (None, self.diagnostics);
        }
        let outcome = if summary.bailed_out.is_some() {
            Outcome::Aborted
        } else if self.failed > 0 || broken {
            Outcome::Failed
        } else {
            Outcome::Passed
        };
        let mut d = CheckDetail::new(
            self.ctx.item.clone(),
            self.ctx.item_type.as_deref(),
            outcome,
        );
        let mut note = super::test_counts(
            self.leaves,
            self.passed,
            self.failed,
            self.skipped,
            self.todo,
        );
        if let Some(reason) = &summary.bailed_out {
            note.push_str(&format!("; bailed out: {reason}"));
        } else if let Some(first) = summary.diagnostics.iter().find(|d| d.is_error()) {
            note.push_str(&format!("; invalid TAP: {}", first.message));
        }
        // The first failing tests by name, where Bodhi and ResultsDB show the note.
        if !self.failing.is_empty() {
            let named: Vec<&str> = self
                .failing
                .iter()
                .take(NAMED_IN_NOTE)
                .map(|f| f.strip_prefix("not ok - ").unwrap_or(f))
                .collect();
            note.push_str(&format!("; failing: {}", named.join(", ")));
            if self.failed > named.len() as u64 {
                note.push_str(&format!(" and {} more", self.failed - named.len() as u64));
            }
        }
        d.note = note;
        d.output = self.failing;
        let more = self.failed.saturating_sub(d.output.len() as u64);
        if more > 0 {
            d.output.push(format!("... and {more} more failing tests"));
        }
        for (k, n) in [
            ("tests", self.leaves),
            ("passed", self.passed),
            ("failed", self.failed),
            ("skipped", self.skipped),
            ("todo", self.todo),
        ] {
            d.keyvals.insert(k.into(), Value::from(n));
        }
        (Some(d), self.diagnostics)
    }
}

/// A test point's outcome from `ok`/`not ok` and its directive.
fn point_outcome(t: &TestPoint) -> Outcome {
    match (&t.directive, t.ok) {
        (Some(Directive::Skip(_)), _) | (Some(Directive::Todo(_)), false) => Outcome::Info,
        (_, true) => Outcome::Passed,
        (None, false) => Outcome::Failed,
    }
}

/// Text as output lines: one final newline does not make an empty last line.
fn lines(s: &str) -> Vec<String> {
    let body = s.strip_suffix('\n').unwrap_or(s);
    if body.is_empty() && s.is_empty() {
        return Vec::new();
    }
    body.split('\n').map(str::to_string).collect()
}

/// Reads a TAP stream, validating it and converting it to results as it goes;
/// `on_case`, when given, gets every leaf test (see [`Tracker`]) and, for a stream
/// that is not valid TAP (cut short, bailed out, no plan), one more case in error
/// that says why; `on_detail` gets every result. Returns the stream's summary, the
/// diagnostics and the leaf tests' counts (the cases, the broken stream's not
/// among them). Memory stays constant whatever the stream's length.
///
/// # Errors
/// Only I/O errors of `input`.
pub fn read_tap(
    input: impl Read,
    ctx: Context,
    file: Option<&Path>,
    decode: bool,
    mut on_case: Option<&mut dyn FnMut(Case)>,
    mut on_detail: impl FnMut(CheckDetail),
) -> io::Result<(Summary, Vec<Diagnostic>, CaseCounts)> {
    let mut validator = Validator::new(file);
    let mut converter = Converter::new(ctx, file, decode);
    let mut tracker = Tracker::new();
    let reader = Reader::new(input);
    let reader = if decode {
        reader
    } else {
        reader.without_yaml_text()
    };
    let mut last_line = 0;
    for event in reader {
        let event = event?;
        validator.feed(&event);
        last_line = event.line();
        let top = matches!(&event, Event::Test(t) if t.depth == 0);
        let detail = match &event {
            Event::Test(t) if t.depth == 0 => converter.test(t),
            _ => None,
        };
        if let Some(case) = tracker.feed(event, detail.as_ref()) {
            converter.case(&case);
            if let Some(f) = on_case.as_mut() {
                f(case);
            }
        }
        if top {
            converter.settle(detail.is_some());
        }
        if let Some(d) = detail {
            on_detail(d);
        }
    }
    let summary = validator.finish();
    if let (Some(f), Some(case)) = (on_case.as_mut(), broken_stream(&summary, last_line)) {
        f(case);
    }
    let (aggregate, diagnostics) = converter.finish(&summary);
    if let Some(d) = aggregate {
        on_detail(d);
    }
    Ok((summary, diagnostics, tracker.counts()))
}

/// The name of the case [`broken_stream`] makes: the stream itself, not a test.
pub const STREAM_CASE: &str = "TAP stream";

/// The case in error that stands for a stream that is not valid TAP: no leaf
/// shows a stream cut short, so without it a suite killed halfway looks green.
pub fn broken_stream(summary: &Summary, last_line: usize) -> Option<Case> {
    let why = match (
        &summary.bailed_out,
        summary.diagnostics.iter().find(|d| d.is_error()),
    ) {
        (Some(reason), _) => format!("bailed out: {reason}"),
        (None, Some(d)) => d.message.clone(),
        (None, None) if summary.errors > 0 => "the stream is not valid TAP".to_string(),
        (None, None) => return None,
    };
    Some(Case {
        name: STREAM_CASE.into(),
        status: CaseStatus::Error,
        line: summary
            .diagnostics
            .iter()
            .find(|d| d.is_error())
            .and_then(|d| d.location.map(|l| l.line))
            .unwrap_or(last_line),
        classname: None,
        reason: None,
        duration_ms: None,
        message: Some(why),
        diagnostics: None,
        properties: Vec::new(),
    })
}

/// Reads a whole TAP text into results.
pub fn parse_tap(text: &str, ctx: &Context, decode: bool) -> TapResults {
    let mut results = TapResults::default();
    let (details, tests) = (&mut results.details, &mut results.tests);
    // Reading from memory cannot fail.
    let mut keep = |c| tests.push(c);
    if let Ok((summary, diagnostics, _)) = read_tap(
        text.as_bytes(),
        ctx.clone(),
        None,
        decode,
        Some(&mut keep),
        |d| details.push(d),
    ) {
        results.summary = Some(summary);
        results.diagnostics = diagnostics;
    }
    results
}
