//! An action's result stream: what a suite printed (TAP, ResultYAML) or wrote (a
//! JUnit file), read after the action whatever became of it, into the run's results
//! and one test file per action.
//!
//! The stream is read from the action's output file, never held whole: a suite
//! that prints a million tests costs the runner the same memory as one that prints
//! ten. Every leaf test goes to `<stem>.tests.jsonl` as it is read; the page keeps
//! the first [`SHOWN_FAILING`] failing tests and the first [`SHOWN_OTHERS`] others.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::dict::ActionTests;
pub use crate::html::Listed;
use crate::results::{self, Case, CaseCounts, CheckDetail};

/// Failing tests the page lists with their diagnostics.
pub const SHOWN_FAILING: usize = 200;
/// Other tests the page lists (collapsed).
pub const SHOWN_OTHERS: usize = 2000;
/// The most diagnostics text one listed test keeps for the page.
const SHOWN_DIAGNOSTICS: usize = 8 * 1024;
/// ResultYAML and JUnit are read whole; beyond this they are refused.
pub const MAX_DOCUMENT: u64 = 256 * 1024 * 1024;

/// Where a stream is.
#[derive(Debug)]
pub enum Source<'a> {
    /// A file the runner holds open, from a byte offset on (a command's standard
    /// output, read through the runner's handle and never by name).
    File(&'a File, u64),
    /// Text in memory (a callable's return value).
    Text(&'a str),
}

impl Source<'_> {
    fn open(&self) -> std::io::Result<Box<dyn Read + '_>> {
        Ok(match self {
            Source::File(file, from) => Box::new(At { file, at: *from }),
            Source::Text(text) => Box::new(text.as_bytes()),
        })
    }

    /// The whole stream as text, refused beyond [`MAX_DOCUMENT`].
    fn read_document(&self, what: &str) -> Result<String, String> {
        let mut bytes = Vec::new();
        self.open()
            .and_then(|r| r.take(MAX_DOCUMENT + 1).read_to_end(&mut bytes))
            .map_err(|e| format!("cannot read the {what}: {e}"))?;
        if bytes.len() as u64 > MAX_DOCUMENT {
            return Err(format!(
                "the {what} is larger than {} MiB; it is not read",
                MAX_DOCUMENT >> 20
            ));
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// Reads `file` from `at` on with positioned reads, leaving the offset the
/// action's processes shared alone.
pub(crate) struct At<'a> {
    file: &'a File,
    at: u64,
}

impl<'a> At<'a> {
    /// Reads `file` from byte `at` on.
    pub(crate) fn new(file: &'a File, at: u64) -> Self {
        Self { file, at }
    }
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read_at(buf, self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

/// Adds a test to what the page lists, within the page's bounds.
fn keep(listed: &mut Listed, case: &Case) {
    if case.status.is_bad() {
        if listed.failing.len() < SHOWN_FAILING {
            let mut c = case.clone();
            if let Some(d) = &mut c.diagnostics {
                truncate(d, SHOWN_DIAGNOSTICS);
            }
            listed.failing.push(c);
        } else {
            listed.failing_more += 1;
        }
    } else if listed.others.len() < SHOWN_OTHERS {
        let mut c = case.clone();
        c.diagnostics = None;
        c.properties.clear();
        listed.others.push(c);
    } else {
        listed.others_more += 1;
    }
}

fn truncate(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("\n[... cut; the whole text is in the test file]");
    }
}

/// The placeholder libtaskotron's `export_TAP` leaves in test descriptions.
const CHECKNAME: &str = "$CHECKNAME";

/// Writes the tests of one action to its file and keeps count.
pub struct TestSink<'a> {
    /// The run's JUnit document, which every test also goes to.
    junit: &'a mut results::junit::JunitWriter,
    out: Option<BufWriter<File>>,
    rel: String,
    checkname: String,
    /// What `$CHECKNAME` in a test's name stands for when its result names no
    /// checkname: the formula's name, as the 2014 runner substituted it.
    task_name: String,
    counts: CaseCounts,
    listed: Listed,
    error: Option<std::io::Error>,
}

impl<'a> TestSink<'a> {
    /// A sink writing to `<run>/<rel>` (made fresh, replacing whatever the task
    /// left there) and to `junit`, for tests of the suite `checkname` of the task
    /// `task_name`.
    pub fn create(
        run: &taskotron_beneath::Dir,
        rel: String,
        (checkname, task_name): (&str, &str),
        junit: &'a mut results::junit::JunitWriter,
    ) -> Self {
        let (out, error) = match run.create(&rel) {
            Ok(f) => (Some(BufWriter::new(f)), None),
            Err(e) => (None, Some(std::io::Error::other(e.to_string()))),
        };
        Self {
            junit,
            out,
            rel,
            checkname: checkname.to_string(),
            task_name: task_name.to_string(),
            counts: CaseCounts::default(),
            listed: Listed::default(),
            error,
        }
    }

    /// Takes one test: its suite filled in, it is counted, written, shown to
    /// `on_case` and handed to the JUnit document.
    pub fn take(&mut self, case: Case, on_case: &mut dyn FnMut(&Case)) {
        let case = self.case(case);
        on_case(&case);
        if self.error.is_none() {
            if let Err(e) = self.junit.case(case) {
                self.error = Some(e);
            }
        }
    }

    fn case(&mut self, mut case: Case) -> Case {
        // libtaskotron's `export_TAP` writes `ok - $CHECKNAME for ...` for the
        // runner to fill in; every place a test's name is shown gets the name.
        if case.name.contains(CHECKNAME) {
            let by = case.classname.as_deref().unwrap_or(&self.task_name);
            case.name = case.name.replace(CHECKNAME, by);
        }
        case.classname.get_or_insert_with(|| self.checkname.clone());
        self.counts.add(case.status);
        keep(&mut self.listed, &case);
        if let Some(out) = &mut self.out {
            let written = serde_json::to_writer(&mut *out, &case)
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n"));
            if let Err(e) = written {
                self.error = Some(e);
                self.out = None;
            }
        }
        case
    }

    /// Ends the file; the report's summary and the page's lists.
    pub fn finish(mut self, format: &str, problem: Option<String>) -> (ActionTests, Listed) {
        if let Some(mut out) = self.out.take() {
            if let Err(e) = out.flush() {
                self.error = Some(e);
            }
        }
        let problem = match (problem, self.error) {
            (Some(p), _) => Some(p),
            (None, Some(e)) => Some(format!("cannot write `{}`: {e}", self.rel)),
            (None, None) => None,
        };
        (
            ActionTests {
                format: format.to_string(),
                checkname: self.checkname,
                counts: self.counts,
                file: self.rel,
                problem,
            },
            self.listed,
        )
    }
}

/// Reads a TAP stream: every leaf test to `sink` (and to `on_case`), every result
/// to the list returned. The problem, when there is one, says why the stream cannot
/// be trusted to be whole.
pub fn read_tap(
    source: &Source<'_>,
    ctx: results::Context,
    file: Option<&Path>,
    sink: &mut TestSink<'_>,
    on_case: &mut dyn FnMut(&Case),
) -> (Vec<CheckDetail>, Option<String>) {
    let mut details = Vec::new();
    let input = match source.open() {
        Ok(r) => r,
        Err(e) => {
            return (
                details,
                Some(format!("cannot read the suite's output: {e}")),
            )
        }
    };
    let mut each = |case: Case| sink.take(case, on_case);
    let read = results::read_tap(input, ctx, file, true, Some(&mut each), |d| {
        details.push(d);
    });
    let summary = match read {
        Ok((summary, _, _)) => summary,
        Err(e) => {
            return (
                details,
                Some(format!("cannot read the suite's output: {e}")),
            )
        }
    };
    let problem = if summary.tests == 0 && summary.planned.is_none() {
        // Nothing TAP at all: garbage, or nothing printed.
        details.clear();
        Some(if summary.unknown_lines > 0 {
            format!(
                "the suite printed no TAP: {} lines, none of them a plan or a test point",
                summary.unknown_lines
            )
        } else {
            "the suite printed nothing: no TAP stream".to_string()
        })
    } else if let Some(reason) = &summary.bailed_out {
        Some(format!("the suite bailed out: {reason}"))
    } else {
        // The same reason the stream's error case in the JUnit document gives.
        results::broken_stream(&summary, 0).map(|c| {
            let why = c.message.unwrap_or_default();
            match c.line {
                0 => format!("the TAP stream is not whole: {why}"),
                line => format!("the TAP stream is not whole: {why} (line {line})"),
            }
        })
    };
    (details, problem)
}

/// Reads ResultYAML: each result is also a test, named by its item.
pub fn read_resultyaml(
    source: &Source<'_>,
    sink: &mut TestSink<'_>,
    on_case: &mut dyn FnMut(&Case),
) -> (Vec<CheckDetail>, Option<String>) {
    let text = match source.read_document("ResultYAML") {
        Ok(t) => t,
        Err(why) => return (Vec::new(), Some(why)),
    };
    if text.trim().is_empty() {
        return (
            Vec::new(),
            Some("the suite printed nothing: no ResultYAML".into()),
        );
    }
    match results::resultyaml::import(&text, None) {
        Ok(imported) => {
            let checkname = sink.checkname.clone();
            for d in &imported.details {
                sink.take(Case::of_detail(d, &checkname), on_case);
            }
            (imported.details, None)
        }
        Err(diagnostics) => (
            Vec::new(),
            Some(format!(
                "the suite's ResultYAML is not valid:\n{}",
                crate::diagnostic::render_all(&diagnostics).trim_end()
            )),
        ),
    }
}

/// Reads the JUnit file a suite wrote: its test cases are the tests, one result
/// (PASSED when every case passed) stands for them in ResultsDB, as the original
/// `xunit` directive's `allpass`.
pub fn read_junit(
    opened: Result<File, taskotron_beneath::Error>,
    path: &Path,
    shown: &str,
    item: (&str, &str),
    artifact: &str,
    sink: &mut TestSink<'_>,
    on_case: &mut dyn FnMut(&Case),
) -> (Vec<CheckDetail>, Option<String>) {
    let file = match opened {
        Ok(f) => f,
        Err(e) if e.is_not_found() => {
            return (
                Vec::new(),
                Some(format!("the suite wrote no JUnit file at `{shown}`")),
            )
        }
        Err(e) if e.is_refusal() => {
            return (
                Vec::new(),
                Some(format!(
                    "{}: the JUnit file `{shown}` was not read: {e}",
                    crate::failure::FailureKind::PATH_REFUSED.name
                )),
            )
        }
        Err(e) => {
            return (
                Vec::new(),
                Some(format!("cannot read the JUnit file `{shown}`: {e}")),
            )
        }
    };
    let text = match Source::File(&file, 0).read_document("JUnit file") {
        Ok(t) => t,
        Err(why) => return (Vec::new(), Some(why)),
    };
    let imported = match results::junit::import(&text, Some(path)) {
        Ok(c) => c,
        Err(d) => {
            return (
                Vec::new(),
                Some(format!(
                    "the suite's JUnit file is not valid: {}",
                    d.to_string().trim_end()
                )),
            )
        }
    };
    for c in &imported {
        sink.take(results::junit::to_case(c), on_case);
    }
    let details = results::junit::to_details(
        &imported,
        item.0,
        item.1,
        &sink.checkname,
        artifact,
        results::junit::Aggregation::AllPass,
    );
    if imported.is_empty() {
        return (
            details,
            Some(format!("the JUnit file `{shown}` has no test case")),
        );
    }
    (details, None)
}

/// Where an action's tests go, relative to the run directory.
pub fn tests_file(stem: &str) -> String {
    format!("{stem}.tests.jsonl")
}
