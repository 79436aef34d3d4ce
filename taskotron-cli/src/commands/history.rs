//! `taskotron history`, `taskotron flaky` and `taskotron compare`: the history store
//! (`taskotron-history`) read and printed.

use serde_json::json;
use taskotron_core::config::Config;
use taskotron_core::diagnostic::Diagnostic;
use taskotron_history::{Query, Store};

use super::print_json;
use crate::cli::{CompareArgs, FlakyArgs, Format, HistoryArgs};
use crate::error::{ExpectedError, Outcome};
use crate::exit;

/// The history, read-only once it exists (a reader takes no lock and writes
/// nothing); created empty the first time.
fn store(config: &Config) -> Result<Store, ExpectedError> {
    let path = taskotron_core::history::path(&config.state_dir);
    let opened = if path.exists() {
        Store::open_read_only(&path)
    } else {
        Store::open(&path)
    };
    opened.map_err(|e| ExpectedError::failed(Diagnostic::error(e.to_string())))
}

/// A time in milliseconds since the epoch, as RFC 3339.
fn when(ms: i64) -> String {
    let t =
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Prints the history of a check or a case.
pub fn history(config: &Config, args: &HistoryArgs) -> Outcome {
    let entries = store(config)?
        .history(&Query {
            name: args.name.clone(),
            package: args.package.clone(),
            arch: args.arch.clone(),
            limit: args.limit,
        })
        .map_err(|e| ExpectedError::failed(Diagnostic::error(e.to_string())))?;
    match args.format {
        Format::Json => print_json(&json!({"name": args.name, "entries": entries})),
        Format::Human => {
            for e in &entries {
                outln!(
                    "{:<17} {:<32} {:<8} {}  {}{}",
                    e.outcome,
                    e.run.item,
                    e.run.arch,
                    &e.run.run_id[..e.run.run_id.len().min(8)],
                    when(e.run.finished_at),
                    if e.kind == "case" {
                        format!("  ({})", e.check)
                    } else {
                        String::new()
                    }
                );
            }
        }
    }
    if entries.is_empty() {
        errln!("no run recorded a result or a test named `{}`", args.name);
        return Ok(exit::NO_TESTS);
    }
    Ok(exit::OK)
}

/// Prints what changed between two runs.
pub fn compare(config: &Config, args: &CompareArgs) -> Outcome {
    let store = store(config)?;
    let get = |id: &str| {
        store
            .run(id)
            .map_err(|e| ExpectedError::failed(Diagnostic::error(e.to_string())))?
            .ok_or_else(|| {
                ExpectedError::invalid(
                    Diagnostic::error(format!("no run `{id}` in the history"))
                        .help("`taskotron history NAME` lists runs with their ids"),
                )
            })
    };
    let (a, b) = (get(&args.run_a)?, get(&args.run_b)?);
    let r = taskotron_history::compare(&a, &b);
    match args.format {
        Format::Json => print_json(&json!({
            "base": {"run_id": a.info.run_id, "item": a.info.item, "arch": a.info.arch},
            "run": {"run_id": b.info.run_id, "item": b.info.item, "arch": b.info.arch},
            "summary": r.summary(),
            "regressions": r,
        })),
        Format::Human => {
            outln!("{} vs {}: {}", b.info.item, a.info.item, r.summary());
            for (label, list) in [
                ("newly failing", &r.newly_failing),
                ("fixed", &r.fixed),
                ("still failing", &r.still_failing),
                ("new", &r.new),
                ("gone", &r.vanished),
            ] {
                for t in list {
                    outln!("  {label:<14} {} ({})", t.name, t.check);
                }
            }
        }
    }
    Ok(if r.newly_failing.is_empty() {
        exit::OK
    } else {
        exit::RESULTS_FAILED
    })
}

/// Prints the flaky tests of a task, or of every task.
pub fn flaky(config: &Config, args: &FlakyArgs) -> Outcome {
    let cases = store(config)?
        .flaky(args.task.as_deref())
        .map_err(|e| ExpectedError::failed(Diagnostic::error(e.to_string())))?;
    match args.format {
        Format::Json => print_json(&json!({"task": args.task, "flaky": cases})),
        Format::Human => {
            for c in &cases {
                outln!(
                    "{:>5} flips  {:<32} {:<24} on {} build{} and arch{}",
                    c.flips,
                    c.name,
                    c.check,
                    c.on,
                    if c.on == 1 { "" } else { "s" },
                    if c.on == 1 { "" } else { "es" }
                );
            }
            if cases.is_empty() {
                errln!("no test flipped between runs of the same build and arch");
            }
        }
    }
    Ok(exit::OK)
}
