//! Results written as they are read, in every output format, in constant memory.
//!
//! A TAP stream of a million test points must convert without holding a million
//! anything. JSON lines, ResultYAML and TAP13 (plan at the end) are written as the
//! results come. Two formats need something at their start that is known only at
//! the end: the JSON document's `results` array follows its `tests` array, and JUnit
//! opens each `<testsuite>` with its counts. Those go to an anonymous temporary file
//! first and are copied out at the end; memory holds counts only.
//!
//! JSON and JSON lines carry every leaf test ([`Case`]) and every result; JUnit
//! carries the tests (one `<testcase>` each), since the results of a TAP stream are
//! its tests aggregated.
//! *Invariant: memory does not grow with the number of results or tests.*

use std::fs::File;
use std::io::{self, BufWriter, Seek, Write};

use serde::Serialize;

use super::junit::JunitWriter;
use super::{resultyaml, Case, CheckDetail};
use crate::diagnostic::Diagnostic;
use crate::tap::Summary;

/// An output format of `taskotron tap parse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON document: `{"tests", "results", "summary", "diagnostics"}`.
    Json,
    /// One JSON object a line, tagged by `event`: `test` (a leaf test, as it is
    /// read), `result`, then `diagnostic` and finally `summary`.
    Jsonl,
    /// ResultYAML (`results:`).
    ResultYaml,
    /// JUnit XML.
    Junit,
    /// TAP13 in the 2014 layout, the plan at the end.
    Tap,
}

/// Writes results (and, for JSON, test points) to `out` as they come.
pub struct Writer<W: Write> {
    format: Format,
    out: W,
    checkname: String,
    /// Held aside until the end: the JSON document's results.
    spool: Option<BufWriter<File>>,
    /// JUnit's cases, held by the JUnit writer.
    junit: Option<JunitWriter>,
    tests: u64,
    results: u64,
}

impl<W: Write> Writer<W> {
    /// A writer of `format` to `out`; `checkname` names results without their own.
    ///
    /// # Errors
    /// The temporary file cannot be made, or `out` fails.
    pub fn new(format: Format, mut out: W, checkname: &str) -> io::Result<Self> {
        let spool = match format {
            Format::Json => Some(BufWriter::new(tempfile::tempfile()?)),
            _ => None,
        };
        let junit = match format {
            Format::Junit => Some(JunitWriter::new(checkname)?),
            _ => None,
        };
        match format {
            Format::Json => out.write_all(b"{\"tests\":[")?,
            Format::Tap => out.write_all(b"TAP version 13\n")?,
            _ => {}
        }
        Ok(Self {
            format,
            out,
            checkname: checkname.to_string(),
            spool,
            junit,
            tests: 0,
            results: 0,
        })
    }

    /// Whether this format has a place for tests (JSON, JSON lines, JUnit).
    pub fn wants_tests(&self) -> bool {
        matches!(self.format, Format::Json | Format::Jsonl | Format::Junit)
    }

    /// One leaf test.
    ///
    /// # Errors
    /// Those of `out` or of the temporary file.
    pub fn test(&mut self, t: Case) -> io::Result<()> {
        match self.format {
            Format::Json => {
                if self.tests > 0 {
                    self.out.write_all(b",")?;
                }
                serde_json::to_writer(&mut self.out, &t)?;
            }
            Format::Jsonl => event(&mut self.out, "test", &t)?,
            Format::Junit => {
                if let Some(j) = self.junit.as_mut() {
                    j.case(t)?;
                }
            }
            _ => return Ok(()),
        }
        self.tests += 1;
        Ok(())
    }

    /// One result.
    ///
    /// # Errors
    /// Those of `out` or of the temporary file.
    pub fn result(&mut self, d: &CheckDetail) -> io::Result<()> {
        self.results += 1;
        match self.format {
            Format::Json => {
                let first = self.results == 1;
                let spool = self.spool()?;
                if !first {
                    spool.write_all(b",")?;
                }
                serde_json::to_writer(spool, d)?;
            }
            Format::Jsonl => event(&mut self.out, "result", d)?,
            Format::ResultYaml => {
                let mut text = String::new();
                if self.results == 1 {
                    text.push_str("results:\n");
                }
                let map = resultyaml::to_map(d).into_iter().collect();
                crate::tap::write_list_item(&mut text, &serde_json::Value::Object(map));
                self.out.write_all(text.as_bytes())?;
            }
            Format::Tap => crate::tap::emit_point(self.results, d, &self.checkname, &mut self.out)?,
            // The tests stand for the results of a TAP stream.
            Format::Junit => {}
        }
        Ok(())
    }

    fn spool(&mut self) -> io::Result<&mut BufWriter<File>> {
        self.spool
            .as_mut()
            .ok_or_else(|| io::Error::other("no spool for this format"))
    }

    /// Ends the output: what had to wait (held results, plans, counts), the summary
    /// and the diagnostics where the format has a place for them. Returns `out`.
    ///
    /// # Errors
    /// Those of `out` or of the temporary file.
    pub fn finish(mut self, summary: &Summary, diagnostics: &[Diagnostic]) -> io::Result<W> {
        let all: Vec<&Diagnostic> = summary.diagnostics.iter().chain(diagnostics).collect();
        match self.format {
            Format::Json => {
                self.out.write_all(b"],\"results\":[")?;
                let mut spool = self.take_spool()?;
                io::copy(&mut spool, &mut self.out)?;
                self.out.write_all(b"],\"summary\":")?;
                serde_json::to_writer(&mut self.out, summary)?;
                self.out.write_all(b",\"diagnostics\":")?;
                serde_json::to_writer(&mut self.out, &all)?;
                self.out.write_all(b"}\n")?;
            }
            Format::Jsonl => {
                for d in &all {
                    event(&mut self.out, "diagnostic", d)?;
                }
                event(&mut self.out, "summary", summary)?;
            }
            Format::ResultYaml if self.results == 0 => self.out.write_all(b"results: []\n")?,
            Format::ResultYaml => {}
            Format::Tap => writeln!(self.out, "1..{}", self.results)?,
            Format::Junit => {
                if let Some(j) = self.junit.take() {
                    j.finish(&mut self.out)?;
                }
            }
        }
        self.out.flush()?;
        Ok(self.out)
    }

    /// The held results, from their start.
    fn take_spool(&mut self) -> io::Result<File> {
        let spool = self
            .spool
            .take()
            .ok_or_else(|| io::Error::other("no spool for this format"))?;
        let mut file = spool.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.rewind()?;
        Ok(file)
    }
}

/// Why a conversion stopped.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The input could not be read.
    #[error("cannot read the input: {0}")]
    Read(io::Error),
    /// The output could not be written (a closed pipe among others).
    #[error("cannot write the output: {0}")]
    Write(io::Error),
}

/// Reads the TAP stream `input` (about `ctx`, from `file`) and writes its tests and
/// results through `writer` as they come, then ends the output. Memory stays
/// constant whatever the stream's length.
///
/// # Errors
/// Reading or writing failed; after the first write error nothing more is written.
pub fn convert<W: Write>(
    input: impl io::Read,
    ctx: super::Context,
    file: Option<&std::path::Path>,
    writer: Writer<W>,
) -> Result<(Summary, Vec<Diagnostic>, W), ConvertError> {
    let w = std::cell::RefCell::new(writer);
    let failed: std::cell::RefCell<Option<io::Error>> = std::cell::RefCell::new(None);
    let keep = |e: io::Result<()>| {
        if let Err(e) = e {
            failed.borrow_mut().get_or_insert(e);
        }
    };
    let mut on_test = |t: Case| {
        if failed.borrow().is_none() {
            keep(w.borrow_mut().test(t));
        }
    };
    let wants_tests = w.borrow().wants_tests();
    let (summary, diagnostics, _) = super::read_tap(
        input,
        ctx,
        file,
        true,
        if wants_tests {
            Some(&mut on_test)
        } else {
            None
        },
        |d| {
            if failed.borrow().is_none() {
                keep(w.borrow_mut().result(&d));
            }
        },
    )
    .map_err(ConvertError::Read)?;
    if let Some(e) = failed.into_inner() {
        return Err(ConvertError::Write(e));
    }
    let out = w
        .into_inner()
        .finish(&summary, &diagnostics)
        .map_err(ConvertError::Write)?;
    Ok((summary, diagnostics, out))
}

/// `value`'s fields after `"event": kind`, as one line: the `--format jsonl`
/// shape every command shares. The value is written straight to `out` (a formatter
/// puts the tag into its outermost object), not built first.
///
/// # Errors
/// Those of `out`.
pub fn event(out: &mut impl Write, kind: &str, value: &impl Serialize) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(&mut *out, Tagged { kind, depth: 0 });
    match value.serialize(&mut ser) {
        Ok(()) => {}
        // Not an object: it goes under `value`.
        Err(_) => {
            write!(out, "{{\"event\":\"{kind}\",\"value\":")?;
            serde_json::to_writer(&mut *out, value)?;
            out.write_all(b"}")?;
        }
    }
    out.write_all(b"\n")
}

/// A compact JSON formatter that opens the outermost object with `"event": kind`
/// and refuses a string or an array in its place (every event is an object).
struct Tagged<'a> {
    kind: &'a str,
    depth: usize,
}

impl serde_json::ser::Formatter for Tagged<'_> {
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        if self.depth == 1 {
            write!(w, "{{\"event\":\"{}\"", self.kind)
        } else {
            w.write_all(b"{")
        }
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth -= 1;
        w.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        // The tag is the outermost object's first member.
        if !first || self.depth == 1 {
            w.write_all(b",")?;
        }
        Ok(())
    }

    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.depth == 0 {
            return Err(io::Error::other("not an object"));
        }
        w.write_all(b"[")
    }

    fn begin_string<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.depth == 0 {
            return Err(io::Error::other("not an object"));
        }
        w.write_all(b"\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{parse_tap, read_tap, Context, Outcome};

    const STREAM: &str = "TAP version 13\n1..4\nok 1 - a\nnot ok 2 - b\nok 3 - c\n  ---\n  item: x-1-1.fc41\n  outcome: FAILED\n  checkname: dist.other\n  ...\nok 4 - d # SKIP no\n";

    fn write(format: Format) -> String {
        let ctx = Context {
            item: "htop-1-1.fc41".into(),
            item_type: Some("koji_build".into()),
        };
        let mut w = Writer::new(format, Vec::new(), "dist.check").unwrap();
        let mut failed = None;
        let mut results = Vec::new();
        let (summary, diagnostics, _) = {
            let w = &mut w;
            let mut on_test = |t: Case| {
                if let Err(e) = w.test(t) {
                    failed = Some(e);
                }
            };
            read_tap(
                STREAM.as_bytes(),
                ctx,
                None,
                true,
                Some(&mut on_test),
                |d| results.push(d),
            )
            .unwrap()
        };
        assert!(failed.is_none());
        for d in &results {
            w.result(d).unwrap();
        }
        String::from_utf8(w.finish(&summary, &diagnostics).unwrap()).unwrap()
    }

    /// What the whole-document exporters write, for comparison.
    fn whole() -> Vec<CheckDetail> {
        let ctx = Context {
            item: "htop-1-1.fc41".into(),
            item_type: Some("koji_build".into()),
        };
        parse_tap(STREAM, &ctx, true).details
    }

    #[test]
    fn each_format_matches_the_whole_document_writers() {
        let details = whole();
        assert_eq!(details.len(), 2);
        assert_eq!(write(Format::ResultYaml), resultyaml::export(&details));
        // JUnit: one case a test point, in its result's suite.
        let xml = write(Format::Junit);
        let report = quick_junit::Report::deserialize_from_str(&xml).unwrap();
        assert_eq!((report.tests, report.failures, report.skipped), (4, 2, 1));
        let suites: Vec<(&str, usize)> = report
            .test_suites
            .iter()
            .map(|s| (s.name.as_str(), s.tests))
            .collect();
        assert_eq!(suites, [("dist.check", 3), ("dist.other", 1)]);
        let mut tap = Vec::new();
        crate::tap::emit(&details, "dist.check", &mut tap).unwrap();
        let tap = String::from_utf8(tap).unwrap();
        // The same points; the plan moves to the end.
        let streamed = write(Format::Tap);
        let moved = tap.replacen("1..2\n", "", 1) + "1..2\n";
        assert_eq!(streamed, moved);
        let doc: serde_json::Value = serde_json::from_str(&write(Format::Json)).unwrap();
        assert_eq!(doc["tests"].as_array().unwrap().len(), 4);
        assert_eq!(doc["results"].as_array().unwrap().len(), 2);
        assert_eq!(doc["results"][0]["outcome"], "FAILED");
        assert_eq!(doc["summary"]["tests"], 4);
        let lines: Vec<serde_json::Value> = write(Format::Jsonl)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 4 + 2 + 1);
        assert_eq!(lines[0]["event"], "test");
        assert_eq!(lines[0]["name"], "a");
        let last = lines.last().unwrap();
        assert_eq!(
            (&last["event"], &last["failed"]),
            (&"summary".into(), &1.into())
        );
        assert_eq!(lines.iter().filter(|l| l["event"] == "result").count(), 2);
        assert!(Outcome::Failed > Outcome::Passed);
    }

    #[test]
    fn events_are_tagged_objects_whatever_the_value() {
        let line = |v: serde_json::Value| {
            let mut out = Vec::new();
            event(&mut out, "x", &v).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(line(serde_json::json!({})), "{\"event\":\"x\"}\n");
        assert_eq!(
            line(serde_json::json!({"a": {"b": [1, {"c": 2}]}, "d": "e"})),
            "{\"event\":\"x\",\"a\":{\"b\":[1,{\"c\":2}]},\"d\":\"e\"}\n"
        );
        assert_eq!(
            line(serde_json::json!("s")),
            "{\"event\":\"x\",\"value\":\"s\"}\n"
        );
        assert_eq!(
            line(serde_json::json!([1])),
            "{\"event\":\"x\",\"value\":[1]}\n"
        );
    }

    #[test]
    fn no_results_is_still_a_document() {
        let summary = Summary::default();
        let w = Writer::new(Format::ResultYaml, Vec::new(), "c").unwrap();
        assert_eq!(w.finish(&summary, &[]).unwrap(), b"results: []\n");
        let w = Writer::new(Format::Junit, Vec::new(), "c").unwrap();
        let xml = String::from_utf8(w.finish(&summary, &[]).unwrap()).unwrap();
        assert_eq!(xml, crate::results::junit::export(&[], "c"));
        let report = quick_junit::Report::deserialize_from_str(&xml).unwrap();
        assert_eq!(report.tests, 0);
        let w = Writer::new(Format::Json, Vec::new(), "c").unwrap();
        let doc: serde_json::Value =
            serde_json::from_slice(&w.finish(&summary, &[]).unwrap()).unwrap();
        assert_eq!(doc["results"], serde_json::json!([]));
    }
}
