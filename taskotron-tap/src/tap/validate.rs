//! The validation pass: plan problems, bail-outs, unterminated YAML and (under
//! `pragma +strict`) non-TAP lines, as diagnostics with line numbers; and the counts
//! of a stream. It keeps one small state per open subtest and a bitset of the ids
//! seen, so it runs in constant memory for any realistic stream.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Directive, Event};
use crate::diagnostic::Diagnostic;

/// Ids above this are not checked for duplicates (the bitset would get large).
const MAX_TRACKED_ID: u64 = 1 << 24;

/// What a stream held and what is wrong with it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// The version line's number (13 is read as 14).
    pub version: Option<u32>,
    /// The top-level plan's count.
    pub planned: Option<u64>,
    /// Top-level test points.
    pub tests: u64,
    /// ... that passed (`ok` without SKIP, or a failing TODO).
    pub passed: u64,
    /// ... that failed (`not ok` without SKIP or TODO).
    pub failed: u64,
    /// ... with `# SKIP`.
    pub skipped: u64,
    /// ... with `# TODO`.
    pub todo: u64,
    /// The reason of a `Bail out!`, if the stream bailed out.
    pub bailed_out: Option<String>,
    /// Lines that are not TAP.
    pub unknown_lines: u64,
    /// The problems found, the first [`MAX_DIAGNOSTICS`] of them (memory stays
    /// bounded whatever the stream).
    pub diagnostics: Vec<Diagnostic>,
    /// Problems found beyond those kept.
    #[serde(skip_serializing_if = "is_zero")]
    pub diagnostics_omitted: u64,
    /// Errors found, kept or not.
    #[serde(skip)]
    pub errors: u64,
}

/// The most diagnostics a stream keeps; the rest are counted.
pub const MAX_DIAGNOSTICS: usize = 1000;

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Summary {
    /// True when no error was found (warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.errors == 0 && !self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Keeps `d` if there is room, and counts it anyway.
    fn push(&mut self, d: Diagnostic) {
        if d.is_error() {
            self.errors += 1;
        }
        if self.diagnostics.len() < MAX_DIAGNOSTICS {
            self.diagnostics.push(d);
        } else {
            self.diagnostics_omitted += 1;
        }
    }
}

#[derive(Debug, Default)]
struct Document {
    /// Line and count of the plan.
    plan: Option<(usize, u64)>,
    /// Whether the plan came after test points.
    plan_after_tests: bool,
    tests: u64,
    last_id: u64,
    seen: Vec<u64>,
    strict: bool,
    /// `# Subtest: name`, to correlate with the closing test point.
    name: Option<String>,
}

/// Consumes events and checks the stream's structure.
#[derive(Debug)]
pub struct Validator {
    file: Option<PathBuf>,
    stack: Vec<Document>,
    summary: Summary,
    /// The name of the subtest that just ended, for the next test point to match.
    closed: Option<(usize, Option<String>)>,
    first_line: bool,
    last_line: usize,
}

impl Validator {
    /// A validator for a stream read from `file` (named in diagnostics).
    pub fn new(file: Option<&Path>) -> Self {
        Self {
            file: file.map(Path::to_path_buf),
            stack: vec![Document::default()],
            summary: Summary::default(),
            closed: None,
            first_line: true,
            last_line: 1,
        }
    }

    fn error(&mut self, line: usize, message: String) {
        let d = Diagnostic::error(message).at_line(self.file.as_deref(), line);
        self.summary.push(d);
    }

    fn warning(&mut self, line: usize, message: String) {
        let d = Diagnostic::warning(message).at_line(self.file.as_deref(), line);
        self.summary.push(d);
    }

    fn doc(&mut self) -> &mut Document {
        if self.stack.is_empty() {
            self.stack.push(Document::default());
        }
        let last = self.stack.len() - 1;
        &mut self.stack[last]
    }

    /// Takes one event into account.
    pub fn feed(&mut self, event: &Event) {
        let first = std::mem::replace(&mut self.first_line, false);
        self.last_line = self.last_line.max(event.line());
        match event {
            Event::Version { line, version } => {
                if !first || self.stack.len() > 1 {
                    self.warning(
                        *line,
                        "the version line should be the first line of the stream".into(),
                    );
                }
                if *version > 14 {
                    self.warning(
                        *line,
                        format!("TAP version {version} is newer than 14; read as 14"),
                    );
                }
                self.summary.version = Some(*version);
            }
            Event::Plan(plan) => {
                let doc = self.doc();
                if let Some((earlier, _)) = doc.plan {
                    let msg = format!("more than one plan (the first is on line {earlier})");
                    self.error(plan.line, msg);
                    return;
                }
                doc.plan = Some((plan.line, plan.count));
                doc.plan_after_tests = doc.tests > 0;
                if self.stack.len() == 1 {
                    self.summary.planned = Some(plan.count);
                }
            }
            Event::Test(t) => {
                self.check_closing(t.line, &t.description);
                let doc = self.doc();
                doc.tests += 1;
                let number = t.id.unwrap_or(doc.tests);
                let expected = doc.last_id + 1;
                doc.last_id = number;
                let plan = doc.plan;
                let after_plan_at_end = doc.plan_after_tests && plan.is_some();
                let duplicate = if number <= MAX_TRACKED_ID {
                    let (word, bit) = ((number / 64) as usize, number % 64);
                    if doc.seen.len() <= word {
                        doc.seen.resize(word + 1, 0);
                    }
                    let dup = doc.seen[word] & (1 << bit) != 0;
                    doc.seen[word] |= 1 << bit;
                    dup
                } else {
                    false
                };
                if after_plan_at_end {
                    self.error(
                        t.line,
                        "test point after a plan that followed the tests".into(),
                    );
                }
                if let Some((_, count)) = plan {
                    if number == 0 || number > count {
                        self.error(
                            t.line,
                            format!("test {number} is outside the plan 1..{count}"),
                        );
                    }
                }
                if duplicate {
                    self.error(t.line, format!("test number {number} is used twice"));
                } else if t.id.is_some() && number != expected {
                    self.warning(
                        t.line,
                        format!("test {number} is out of sequence (expected {expected})"),
                    );
                }
                if let Some(y) = &t.yaml {
                    if !y.terminated {
                        self.error(y.line, "YAML block not terminated by `...`; it ends where the indentation does".into());
                    }
                }
                if self.stack.len() == 1 {
                    let s = &mut self.summary;
                    s.tests += 1;
                    match &t.directive {
                        Some(Directive::Skip(_)) => s.skipped += 1,
                        Some(Directive::Todo(_)) => s.todo += 1,
                        None => {}
                    }
                    if t.is_failure() {
                        s.failed += 1;
                    } else if !matches!(t.directive, Some(Directive::Skip(_))) {
                        s.passed += 1;
                    }
                }
            }
            Event::Pragma { enabled, name, .. } => {
                if name == "strict" {
                    self.doc().strict = *enabled;
                }
            }
            Event::BailOut { line, reason, .. } => {
                self.summary.bailed_out = Some(reason.clone());
                self.error(
                    *line,
                    format!(
                        "bailed out: {}",
                        if reason.is_empty() {
                            "no reason given"
                        } else {
                            reason
                        }
                    ),
                );
            }
            Event::SubtestStart { name, .. } => {
                self.closed = None;
                self.stack.push(Document {
                    name: name.clone(),
                    ..Document::default()
                });
            }
            Event::SubtestEnd { line, .. } => {
                let doc = self.stack.pop().unwrap_or_default();
                self.end_document(&doc, *line, true);
                self.closed = Some((*line, doc.name));
            }
            Event::Unknown { line, .. } => {
                self.summary.unknown_lines += 1;
                if self.stack.iter().any(|d| d.strict) {
                    self.error(*line, "a non-TAP line under `pragma +strict`".into());
                }
            }
            Event::Comment { .. } => {}
        }
    }

    /// The test point after a subtest closes it and should carry its name.
    fn check_closing(&mut self, line: usize, description: &str) {
        if let Some((_, Some(name))) = self.closed.take() {
            if description != name {
                self.warning(
                    line,
                    format!("the test point closing subtest `{name}` is called `{description}`"),
                );
            }
        }
    }

    fn end_document(&mut self, doc: &Document, line: usize, subtest: bool) {
        if self.summary.bailed_out.is_some() {
            return;
        }
        let what = if subtest { "subtest" } else { "stream" };
        match doc.plan {
            None if doc.tests > 0 || !subtest => self.error(
                line,
                format!("the {what} has no plan (expected `1..{}`)", doc.tests),
            ),
            None => {}
            Some((plan_line, count)) if count != doc.tests => self.error(
                plan_line,
                format!("planned {count} tests but the {what} ran {}", doc.tests),
            ),
            Some(_) => {}
        }
    }

    /// Ends the stream and returns what was found.
    pub fn finish(mut self) -> Summary {
        // A missing plan is reported at the end of the stream, where it was missed.
        let line = self.last_line;
        while self.stack.len() > 1 {
            let doc = self.stack.pop().unwrap_or_default();
            self.end_document(&doc, line, true);
        }
        let top = self.stack.pop().unwrap_or_default();
        self.end_document(&top, line, false);
        self.summary
    }
}
