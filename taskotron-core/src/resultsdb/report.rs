//! One report: CheckDetails to spooled entries, then delivered. Shared by
//! `taskotron report` and the `resultsdb` directive.
//!
//! Each result's id comes from its [`Identity`], and ResultsDB is asked which of them
//! it has before anything is sent: reporting the same run twice stores nothing
//! twice. What ResultsDB does not have is written to the spool, then delivered.

use std::io;
use std::time::Instant;

use super::delivery::{self, Policy};
use super::{format, Client, Entry, Identity, PayloadError, ReportContext, Spool};
use crate::results::CheckDetail;

/// Checks what results read from `file` are about, as `taskotron run` checks its
/// item: each names an item, its type is a known one (a near miss is suggested),
/// and the item has that type's shape. All problems at once; a report sends
/// nothing when there is any.
pub fn check_subjects(details: &[CheckDetail], file: &std::path::Path) -> Vec<crate::Diagnostic> {
    use crate::item::ItemType;
    let mut problems = Vec::new();
    for (n, d) in details.iter().enumerate() {
        let which = format!(
            "result {} ({})",
            n + 1,
            d.checkname.as_deref().unwrap_or("no checkname")
        );
        if d.item.is_empty() {
            problems.push(
                crate::Diagnostic::error(format!("{which} names no item"))
                    .help("give `--item` for results the file does not say the item of")
                    .in_file(file),
            );
            continue;
        }
        let Some(name) = d.item_type.as_deref() else {
            problems.push(
                crate::Diagnostic::error(format!("{which}: `{}` has no item type", d.item))
                    .expected(crate::item::ItemTypeError::expected())
                    .help("give `--type` (`koji_build`, `bodhi_update`, ...)")
                    .in_file(file),
            );
            continue;
        };
        match name.parse::<ItemType>() {
            Err(e) => problems.push(
                crate::Diagnostic::error(format!("{which}: `{name}` is not an item type"))
                    .expected(crate::item::ItemTypeError::expected())
                    .suggest(e.suggestion)
                    .in_file(file),
            ),
            Ok(t) => {
                if let Err(e) = t.validate(&d.item) {
                    problems.push(
                        crate::Diagnostic::error(format!("{which}: {e}"))
                            .help(format!("a {} looks like `{}`", t.as_str(), t.example()))
                            .in_file(file),
                    );
                }
            }
        }
    }
    problems
}

/// Checks `--item` and `--type` of `taskotron report` as `taskotron run` checks them.
pub fn check_flags(item: Option<&str>, item_type: Option<&str>) -> Vec<crate::Diagnostic> {
    use crate::item::ItemType;
    let Some(name) = item_type else {
        return Vec::new();
    };
    match name.parse::<ItemType>() {
        Err(e) => vec![
            crate::Diagnostic::error(format!("--type: `{name}` is not an item type"))
                .expected(crate::item::ItemTypeError::expected())
                .suggest(e.suggestion),
        ],
        Ok(t) => {
            match item.map(|i| t.validate(i)) {
                Some(Err(e)) => vec![crate::Diagnostic::error(format!("--item: {e}"))
                    .help(format!("a {} looks like `{}`", t.as_str(), t.example()))],
                _ => Vec::new(),
            }
        }
    }
}

/// Formats every detail, each with its id from `identity`; all problems at once,
/// and nothing is spooled if any.
///
/// # Errors
/// Every result that cannot be sent as it is.
pub fn entries(
    details: &[CheckDetail],
    ctx: &ReportContext,
    identity: &Identity,
) -> Result<Vec<Entry>, Vec<PayloadError>> {
    let mut out = Vec::with_capacity(details.len());
    let mut errors = Vec::new();
    for (position, d) in details.iter().enumerate() {
        match format(d, ctx, "") {
            Ok(mut payload) => {
                let result_id = identity.result_id(position, &payload);
                payload.data.insert(
                    super::RESULT_ID_KEY.into(),
                    super::DataValue::One(result_id.clone()),
                );
                out.push(Entry {
                    result_id,
                    payload,
                    ambiguous: false,
                });
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// What the results in `files` (with their contents) belong to: fresh ids with
/// `again`; the run, when every file is in one run's artifacts directory (beside its
/// `execution.json`); else the build id given; else the files' contents.
pub fn identity_of(
    files: &[(&std::path::Path, &[u8])],
    build_id: Option<&str>,
    again: bool,
) -> Identity {
    if again {
        return Identity::Fresh;
    }
    let run_of = |path: &std::path::Path| -> Option<String> {
        let dir = std::path::absolute(path).ok()?.parent()?.to_path_buf();
        let text = std::fs::read_to_string(dir.join("execution.json")).ok()?;
        let report: serde_json::Value = serde_json::from_str(&text).ok()?;
        report.get("run_id")?.as_str().map(str::to_string)
    };
    let runs: Vec<Option<String>> = files.iter().map(|(p, _)| run_of(p)).collect();
    if let Some(Some(run)) = runs.first() {
        if runs.iter().all(|r| r.as_deref() == Some(run)) {
            return Identity::run(run);
        }
    }
    match build_id {
        Some(id) => Identity::build(id),
        None => Identity::files(files.iter().map(|(_, c)| *c)),
    }
}

/// The spool could not take this report's results.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the spool in `{}`: {source}; {written} of this report's {total} results are in it", dir.display())]
pub struct SpoolError {
    /// The spool's directory.
    pub dir: std::path::PathBuf,
    /// This report's results written before the failure (they stay, to be sent by
    /// `--resume` or by reporting the same results again, never twice).
    pub written: usize,
    /// This report's results in all.
    pub total: usize,
    /// What the system said.
    pub source: io::Error,
}

/// Writes `entries` to the spool, asks ResultsDB which of them it has already (an
/// earlier report of the same run; those leave the spool unsent), adds what earlier
/// reports left there when `resume`, and delivers everything, within the policy's
/// deadline.
///
/// # Errors
/// The spool cannot be written or read; then nothing was sent.
pub fn send(
    client: &Client,
    spool: &Spool,
    entries: Vec<Entry>,
    resume: bool,
    policy: Policy,
) -> Result<delivery::Outcome, SpoolError> {
    let start = Instant::now();
    let total = entries.len();
    for (written, e) in entries.iter().enumerate() {
        spool.put(e).map_err(|source| SpoolError {
            dir: spool.dir().to_path_buf(),
            written,
            total,
            source,
        })?;
    }
    let bounded = client.until(crate::duration::deadline(start, policy.deadline));
    let ids: Vec<&str> = entries.iter().map(|e| e.result_id.as_str()).collect();
    let (mut entries, already) = match bounded.existing(&ids) {
        Ok(found) => {
            let mut already = Vec::new();
            let mut rest = Vec::new();
            for e in entries {
                match found.get(&e.result_id) {
                    Some(n) => {
                        let _ = spool.remove(&e.result_id);
                        already.push((e.result_id, *n));
                    }
                    None => rest.push(e),
                }
            }
            (rest, already)
        }
        // Not known: each one is looked up before it is sent.
        Err(_) => (
            entries
                .into_iter()
                .map(|mut e| {
                    e.ambiguous = true;
                    e
                })
                .collect(),
            Vec::new(),
        ),
    };
    if resume {
        let known: std::collections::HashSet<String> =
            entries.iter().map(|e| e.result_id.clone()).collect();
        let left = spool.pending().map_err(|source| SpoolError {
            dir: spool.dir().to_path_buf(),
            written: entries.len(),
            total,
            source,
        })?;
        // An earlier process may have been killed with any of these in flight: look
        // each one up before sending it again.
        entries.extend(
            left.into_iter()
                .filter(|e| !known.contains(&e.result_id))
                .map(|mut e| {
                    e.ambiguous = true;
                    e
                }),
        );
    }
    // The queue is taken from the end: keep the oldest first.
    entries.reverse();
    let mut outcome = delivery::deliver(client, spool, entries, policy, start);
    outcome.already = already;
    Ok(outcome)
}
