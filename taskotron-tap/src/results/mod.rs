//! The results model: [`CheckDetail`] and [`Outcome`] (the original `check.py`),
//! ResultYAML, TAP to results, JUnit XML both ways, and writers that stream every
//! format. Pure; no I/O beyond the
//! readers and writers handed in.

pub mod case;
mod check_detail;
mod from_tap;
pub mod junit;
mod junit_writer;
mod outcome;
pub mod resultyaml;
pub mod writer;

pub use case::{Case, CaseCounts, CaseStatus, Tracker};
pub use check_detail::{CheckDetail, RESERVED_KEYS};
pub use from_tap::{broken_stream, parse_tap, read_tap, Context, Converter, TapResults};
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
