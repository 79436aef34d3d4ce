//! The results model: [`CheckDetail`] and [`Outcome`] (the original `check.py`),
//! ResultYAML, TAP to results, JUnit XML both ways, and writers that stream every
//! format. Pure; no I/O beyond the
//! readers and writers handed in.

pub mod case;
mod check_detail;
mod from_tap;
pub mod highlights;
pub mod junit;
mod junit_writer;
mod outcome;
pub mod resultyaml;
pub mod writer;

pub use case::{Case, CaseCounts, CaseStatus, Tracker};
pub use check_detail::{CheckDetail, RESERVED_KEYS};
pub use from_tap::{
    broken_stream, parse_tap, read_tap, Context, Converter, TapResults, STREAM_CASE,
};
pub use highlights::highlights;
pub use outcome::{summary, Outcome, OutcomeError};

/// Keys a TAP13 YAML block gives a meaning beyond ResultYAML's (`summary` is the
/// TAP-era name of `note`; `details.output` holds the output). Keyvals of these names
/// cannot travel in TAP and are left out of it.
pub const TAP_RESERVED_KEYS: &[&str] = &["summary", "details"];

/// True for keys that cannot be keyvals in TAP: ResultYAML's reserved keys and
/// [`TAP_RESERVED_KEYS`].
pub fn is_tap_reserved(key: &str) -> bool {
    RESERVED_KEYS.contains(&key) || TAP_RESERVED_KEYS.contains(&key)
}

/// `N tests: P passed, F failed[, S skipped][, T todo]` (`1 test: ...`), as summaries of
/// TAP streams say it.
pub fn test_counts(tests: u64, passed: u64, failed: u64, skipped: u64, todo: u64) -> String {
    let noun = if tests == 1 { "test" } else { "tests" };
    let mut text = format!("{tests} {noun}: {passed} passed, {failed} failed");
    if skipped > 0 {
        text.push_str(&format!(", {skipped} skipped"));
    }
    if todo > 0 {
        text.push_str(&format!(", {todo} todo"));
    }
    text
}

/// Reads results from text a task produced: ResultYAML, or TAP.
///
/// # Errors
/// Diagnostics of the ResultYAML reader; TAP never fails to read, its problems come
/// back in the results' diagnostics.
pub fn parse_any(text: &str, ctx: &Context) -> Result<TapResults, Vec<crate::Diagnostic>> {
    if resultyaml::looks_like(text) {
        let imported = resultyaml::import(text, None)?;
        return Ok(TapResults {
            details: imported.details,
            tests: Vec::new(),
            summary: None,
            diagnostics: imported.warnings,
        });
    }
    Ok(parse_tap(text, ctx, true))
}

/// Reads a file a user hands over to be reported (`taskotron report`): ResultYAML,
/// or a TAP stream that is whole and valid. What is neither (an empty file, JSON,
/// other YAML) and a TAP stream with errors are refused with their place, so that
/// nothing is sent from a file that was not read as what it claims to be.
///
/// # Errors
/// Every problem, each in `file`.
pub fn parse_report(
    text: &str,
    ctx: &Context,
    file: &std::path::Path,
) -> Result<TapResults, Vec<crate::Diagnostic>> {
    let in_file = |d: crate::Diagnostic| {
        if d.file.is_none() {
            d.in_file(file)
        } else {
            d
        }
    };
    let read = parse_any(text, ctx).map_err(|e| e.into_iter().map(in_file).collect::<Vec<_>>())?;
    let Some(summary) = &read.summary else {
        return Ok(read);
    };
    if summary.version.is_none() && summary.planned.is_none() && summary.tests == 0 {
        return Err(vec![neither(text, file)]);
    }
    let errors: Vec<crate::Diagnostic> = summary
        .diagnostics
        .iter()
        .chain(&read.diagnostics)
        .filter(|d| d.is_error())
        .cloned()
        .map(in_file)
        .collect();
    if errors.is_empty() {
        Ok(read)
    } else {
        Err(errors)
    }
}

/// The error for a file that is neither TAP nor ResultYAML, at its first line with
/// text, saying what it looks like instead.
fn neither(text: &str, file: &std::path::Path) -> crate::Diagnostic {
    let first = text.lines().enumerate().find(|(_, l)| !l.trim().is_empty());
    let d = crate::Diagnostic::error("this file is neither TAP nor ResultYAML").expected(
        "a TAP stream (`TAP version 13`, a plan such as `1..3`, test points such as \
         `ok 1 - name`) or ResultYAML (a mapping with a `results:` list)",
    );
    let Some((n, line)) = first else {
        return d
            .in_file(file)
            .help("the file is empty: was the check's output written?");
    };
    let trimmed = line.trim_start();
    let help = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        "it looks like JSON; write the results as ResultYAML (`taskotron tap parse --format \
         resultyaml` converts TAP) or as TAP"
    } else if trimmed.contains(": ") || trimmed.ends_with(':') {
        "it looks like YAML without `results:` at its top: ResultYAML lists its results \
         under `results:`"
    } else {
        "a TAP stream starts with `TAP version 13` or its plan"
    };
    let column = line.len() - trimmed.len() + 1;
    d.at(
        Some(file),
        text,
        crate::diagnostic::Location {
            line: n + 1,
            column,
        },
        trimmed.chars().count().min(40),
    )
    .help(help)
}
