//! `taskotron tap parse` and `taskotron tap check`.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use serde_json::json;
use taskotron_core::results::writer::{self, Writer};
use taskotron_core::results::{self, Context, Outcome};
use taskotron_core::tap::Summary;
use taskotron_core::Diagnostic;

use super::print_json;
use crate::cli::{Format, TapCheckArgs, TapCommand, TapFormat, TapSubject};
use crate::error::{ExpectedError, Outcome as ExitOutcome};
use crate::exit;
use crate::output::{Shell, Tone};

/// At most this many diagnostics are printed for people; all go into JSON.
const MAX_PRINTED: usize = 50;

/// Runs a `tap` subcommand.
pub fn run(shell: &Shell, command: &TapCommand) -> ExitOutcome {
    match command {
        TapCommand::Parse(args) => parse(shell, &args.input, args.format, &args.subject),
        TapCommand::Check(args) => check(shell, args),
    }
}

/// The input, unbuffered: the TAP reader buffers it itself.
type Input<'a> = (Box<dyn Read>, Option<&'a Path>);

fn open(input: &Path) -> Result<Input<'_>, ExpectedError> {
    if input == Path::new("-") {
        return Ok((Box::new(io::stdin().lock()), None));
    }
    match File::open(input) {
        Ok(f) => Ok((Box::new(f), Some(input))),
        Err(e) => Err(cannot_read(input, &e)),
    }
}

/// An input that cannot be read.
fn cannot_read(input: &Path, e: &io::Error) -> ExpectedError {
    ExpectedError::invalid(Diagnostic::error(format!(
        "cannot read `{}`: {e}",
        input.display()
    )))
}

fn context(subject: &TapSubject, input: &Path) -> Context {
    let fallback = || {
        input
            .file_name()
            .map_or_else(|| "stdin".to_string(), |n| n.to_string_lossy().into_owned())
    };
    Context {
        item: subject.item.clone().unwrap_or_else(|| {
            if input == Path::new("-") {
                "stdin".into()
            } else {
                fallback()
            }
        }),
        item_type: subject.item_type.clone(),
    }
}

fn print_diagnostics(shell: &Shell, summary: &Summary, more: &[Diagnostic]) {
    let all: Vec<Diagnostic> = summary.diagnostics.iter().chain(more).cloned().collect();
    shell.diagnostics(&all[..all.len().min(MAX_PRINTED)]);
    if all.len() > MAX_PRINTED {
        shell.status(
            "Note",
            &format!(
                "{} more diagnostics not shown (use --format json)",
                all.len() - MAX_PRINTED
            ),
            Tone::Warn,
        );
    }
}

fn parse(shell: &Shell, input: &Path, format: TapFormat, subject: &TapSubject) -> ExitOutcome {
    let (reader, file) = open(input)?;
    let format = match format {
        TapFormat::Json => writer::Format::Json,
        TapFormat::Jsonl => writer::Format::Jsonl,
        TapFormat::Resultyaml => writer::Format::ResultYaml,
        TapFormat::Junit => writer::Format::Junit,
        TapFormat::Tap => writer::Format::Tap,
    };
    let out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let converted = Writer::new(format, out, &subject.checkname)
        .map_err(writer::ConvertError::Write)
        .and_then(|w| writer::convert(reader, context(subject, input), file, w));
    let (summary, diagnostics) = match converted {
        Ok((summary, diagnostics, _)) => (summary, diagnostics),
        Err(writer::ConvertError::Read(e)) => return Err(cannot_read(input, &e)),
        // `| head` closed the pipe: not an error.
        Err(writer::ConvertError::Write(e)) if e.kind() == io::ErrorKind::BrokenPipe => {
            return Ok(exit::OK)
        }
        Err(e) => return Err(ExpectedError::failed(Diagnostic::error(e.to_string()))),
    };
    print_diagnostics(shell, &summary, &diagnostics);
    // An invalid stream is what this command reports (the output is still written).
    Ok(if summary.is_valid() {
        exit::OK
    } else {
        exit::INVALID_INPUT
    })
}

fn check(shell: &Shell, args: &TapCheckArgs) -> ExitOutcome {
    let (reader, file) = open(&args.input)?;
    let mut counts = [0u64; 6];
    // The failing tests by name and line, the first NAMED of them: what a person
    // checking a stream looks for first.
    const NAMED: usize = 20;
    let mut failing_tests: Vec<serde_json::Value> = Vec::new();
    let mut more_failing = 0u64;
    let mut on_case = |case: results::Case| {
        // A stream that is not whole is said by its diagnostic, not as a test.
        if case.status.is_bad() && !case.is_broken_stream() {
            if failing_tests.len() < NAMED {
                failing_tests
                    .push(json!({"name": case.name, "line": case.line, "message": case.message}));
            } else {
                more_failing += 1;
            }
        }
    };
    let read = results::read_tap(
        reader,
        context(&args.subject, &args.input),
        file,
        !args.structure_only,
        Some(&mut on_case),
        |d| counts[d.outcome as usize] += 1,
    );
    let (summary, diagnostics, leaves) = match read {
        Ok(r) => r,
        Err(e) => return Err(cannot_read(&args.input, &e)),
    };
    let outcomes = Outcome::ALL
        .iter()
        .zip(counts)
        .flat_map(|(o, n)| std::iter::repeat_n(*o, n as usize));
    let worst = Outcome::ALL
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(o, _)| *o)
        .max();
    let failing = summary.failed > 0 || worst.is_some_and(|o| !o.is_success());
    let code = if !summary.is_valid() {
        exit::INVALID_INPUT
    } else if failing {
        exit::FAILURES
    } else {
        exit::OK
    };
    match args.format {
        Format::Json => {
            let by_outcome: serde_json::Map<String, serde_json::Value> = Outcome::ALL
                .iter()
                .zip(counts)
                .filter(|(_, n)| *n > 0)
                .map(|(o, n)| (o.as_str().to_string(), n.into()))
                .collect();
            print_json(&json!({
                "valid": summary.is_valid(),
                "failures": failing,
                "summary": summary,
                "tests": leaves,
                "failing_tests": failing_tests,
                "results": by_outcome,
                "worst": worst,
                "diagnostics": diagnostics,
            }));
        }
        Format::Human => {
            print_diagnostics(shell, &summary, &diagnostics);
            let mut out = io::stdout().lock();
            // The leaf tests, subtests included: the count the results say too.
            let line = results::test_counts(
                leaves.tests,
                leaves.passed,
                leaves.failed + leaves.errors,
                leaves.skipped,
                leaves.todo,
            );
            let _ = writeln!(out, "{line}");
            for t in &failing_tests {
                let _ = writeln!(
                    out,
                    "  FAILED {} (line {})",
                    t["name"].as_str().unwrap_or_default(),
                    t["line"]
                );
            }
            if more_failing > 0 {
                let _ = writeln!(out, "  ... and {more_failing} more failing tests");
            }
            let plan = summary
                .planned
                .map_or("none".to_string(), |n| format!("1..{n}"));
            let version = summary
                .version
                .map_or("none".to_string(), |v| v.to_string());
            let _ = writeln!(
                out,
                "plan: {plan}, version: {version}, non-TAP lines: {}",
                summary.unknown_lines
            );
            if !args.structure_only {
                let text = results::summary(outcomes);
                let worst = worst.map_or("none", Outcome::as_str);
                let _ = writeln!(
                    out,
                    "results: {} (worst: {worst})",
                    if text.is_empty() { "none".into() } else { text }
                );
            }
            let verdict = match code {
                exit::OK => "valid, no failures",
                exit::FAILURES => "valid, with failures",
                _ => "invalid",
            };
            let _ = writeln!(out, "stream: {verdict}");
        }
    }
    Ok(code)
}
