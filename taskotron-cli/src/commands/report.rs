//! `taskotron report`.

use crate::wiring::Wiring;
use serde_json::json;
use taskotron_core::config::Config;
use taskotron_core::results::{self, CheckDetail, Context};
use taskotron_core::resultsdb::{self, report, Group, LogUrls, ReportContext};
use taskotron_core::Diagnostic;

use super::print_json;
use crate::cli::{Format, ReportArgs};
use crate::error::{ExpectedError, Outcome};
use crate::exit;
use crate::output::{Shell, Tone};

/// Reads the files, spools their results and delivers them.
pub fn run(shell: &Shell, config: &Config, args: &ReportArgs) -> Outcome {
    let mut details: Vec<CheckDetail> = Vec::new();
    let mut problems = Vec::new();
    let mut contents: Vec<(&std::path::Path, Vec<u8>)> = Vec::new();
    // The flags first, once, as `run` checks them.
    let flagged = report::check_flags(
        args.subject.item.as_deref(),
        args.subject.item_type.as_deref(),
    );
    if !flagged.is_empty() {
        return Err(ExpectedError::InvalidInput(flagged));
    }
    for file in &args.files {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                problems.push(Diagnostic::error(format!(
                    "cannot read `{}`: {e}",
                    file.display()
                )));
                continue;
            }
        };
        contents.push((file.as_path(), text.clone().into_bytes()));
        // No default item: a result about "the file name" is no result about a build.
        let ctx = Context {
            item: args.subject.item.clone().unwrap_or_default(),
            item_type: args.subject.item_type.clone(),
        };
        match results::parse_report(&text, &ctx, file) {
            Ok(r) => {
                problems.extend(report::check_subjects(&r.details, file));
                details.extend(r.details);
            }
            Err(d) => problems.extend(d),
        }
    }
    if !problems.is_empty() {
        return Err(ExpectedError::InvalidInput(problems));
    }
    let group_id = args
        .build_id
        .clone()
        .unwrap_or_else(resultsdb::new_group_id);
    // The URLs as the runs' reporters compute them (`web_url` gives the defaults).
    let reporting = config.reporting();
    let urls = LogUrls::new(
        reporting.artifacts_base_url.as_deref(),
        reporting.job_url_template.as_deref(),
        &group_id,
        args.build_id.as_deref(),
    )
    .comments_link_the_job(reporting.web_url.is_some());
    let names: Vec<String> = args
        .files
        .iter()
        .map(|f| {
            f.file_name().map_or_else(
                || f.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        })
        .collect();
    let ctx = ReportContext {
        checkname: args.subject.checkname.clone(),
        testcase_ref_url: config.resultsdb_testcase_ref_url.clone(),
        arch: args.arch.map(|a| a.as_str().to_string()),
        group: Group {
            uuid: group_id.clone(),
            description: Some(format!("taskotron report {}", names.join(" "))),
            ref_url: urls.job_url(),
        },
        urls,
        accepted: config.resultsdb_outcomes(),
    };
    let files: Vec<(&std::path::Path, &[u8])> =
        contents.iter().map(|(p, c)| (*p, c.as_slice())).collect();
    let identity = report::identity_of(&files, args.build_id.as_deref(), args.again);
    let entries = match report::entries(&details, &ctx, &identity) {
        Ok(e) => e,
        Err(errors) => {
            let diagnostics: Vec<Diagnostic> = errors
                .iter()
                .map(|e| Diagnostic::error(e.to_string()))
                .collect();
            return Err(ExpectedError::InvalidInput(diagnostics));
        }
    };
    if args.dry_run {
        let payloads: Vec<_> = entries.iter().map(|e| &e.payload).collect();
        match args.format {
            Format::Json => print_json(&json!({"dry_run": true, "payloads": payloads})),
            Format::Human => {
                for p in payloads {
                    outln!("{}", serde_json::to_string_pretty(p).unwrap_or_default());
                }
            }
        }
        shell.status(
            "Dry run",
            &format!(
                "{} would be sent; nothing was",
                crate::output::plural(entries.len() as u64, "result")
            ),
            Tone::Warn,
        );
        return Ok(exit::OK);
    }
    let bodhi_status = match &args.bodhi {
        Some(url) => comment_in_bodhi(shell, config, url, &details, &ctx, args.bodhi_all),
        None => exit::OK,
    };
    let Some(url) = args
        .resultsdb
        .clone()
        .or_else(|| config.resultsdb_url.clone())
    else {
        if args.bodhi.is_some() {
            // Only Bodhi was asked for.
            return Ok(bodhi_status);
        }
        // What an earlier report left in the spool waits for a ResultsDB: with none
        // configured, `--resume` can only say so.
        let waiting = if args.resume {
            taskotron_core::resultsdb::Spool::open(&reporting.spool_dir())
                .and_then(|s| s.pending())
                .map_or(0, |p| p.len())
        } else {
            0
        };
        if args.files.is_empty() {
            return resume_without_resultsdb(shell, &reporting, waiting);
        }
        // No external ResultsDB: the embedded store keeps them.
        let Some(store) = config.reporting().local else {
            let d = Diagnostic::error("no ResultsDB to report to").help("pass `--resultsdb URL`, set `resultsdb_url` in taskotron.yaml or $TASKOTRON_RESULTSDB_URL, or use `--dry-run`");
            return Err(ExpectedError::invalid(d));
        };
        let ids = taskotron_core::resultsdb::local::keep(&store, &entries)
            .map_err(|e| ExpectedError::failed(Diagnostic::error(e.to_string())))?;
        match args.format {
            Format::Json => print_json(
                &json!({"group": group_id, "stored": ids.len(), "ids": ids, "store": store}),
            ),
            Format::Human => outln!("stored: {} in {}", ids.len(), store.display()),
        }
        shell.status(
            "Stored",
            &format!(
                "{} results in the embedded store (no resultsdb_url); `taskotron web` serves them at /api/v2.0/results",
                ids.len()
            ),
            Tone::Good,
        );
        if waiting > 0 {
            resume_without_resultsdb(shell, &reporting, waiting)?;
            return Ok(exit::NOT_OK);
        }
        return Ok(bodhi_status);
    };
    let reporter = match taskotron_core::resultsdb::Reporter::open(&url, &config.reporting()) {
        Ok(r) => r,
        Err(e) => return Err(ExpectedError::invalid(Diagnostic::error(e))),
    };
    let (client, spool) = (&reporter.client, &reporter.spool);
    shell.status(
        "Reporting",
        &format!("{} results to {}", entries.len(), client.base()),
        Tone::Good,
    );
    // Every result is in the spool before it is sent, so a signal may end the
    // delivery anywhere: what ResultsDB has not confirmed stays for `--resume`.
    let sent = {
        let (reporter, resume) = (reporter.clone(), args.resume);
        taskotron_core::process::unless_interrupted(
            move || reporter.send(entries, resume),
            std::time::Duration::from_secs(2),
        )
    };
    let Some(sent) = sent else {
        let left = spool.pending().map_or(0, |p| p.len());
        let signal = taskotron_core::process::interrupted().unwrap_or(0);
        let what = if left == 0 {
            format!("by signal {signal} before a result was spooled; nothing was sent, report the files again")
        } else {
            format!(
                "by signal {signal}; {left} results are in the spool `{}`; send them with `taskotron report --resume`",
                spool.dir().display()
            )
        };
        shell.status("Stopped", &what, Tone::Bad);
        return Ok(exit::NOT_OK);
    };
    let outcome = match sent {
        Ok(o) => o,
        Err(e) => {
            let d = Diagnostic::error(e.to_string()).help(if e.written > 0 {
                "free space, then report the same files again: what ResultsDB already has is not sent twice, and `--resume` sends what is in the spool"
            } else {
                "free space (or set `state_dir` to a writable directory), then report the same files again"
            });
            return Err(ExpectedError::failed(d));
        }
    };
    for (id, reason) in &outcome.rejected {
        shell.diagnostics(&[
            Diagnostic::error(format!("result {id} refused: {reason}")).help(format!(
                "kept in {}",
                spool.dir().join("rejected").display()
            )),
        ]);
    }
    if !outcome.already.is_empty() {
        shell.status(
            "Skipped",
            &format!(
                "{} results ResultsDB already has from an earlier report of this run; `--again` sends them anew",
                outcome.already.len()
            ),
            Tone::Warn,
        );
    }
    let left = outcome.pending.len();
    match args.format {
        Format::Json => print_json(
            &json!({"group": group_id, "delivered": outcome.delivered.len(), "already": outcome.already.len(), "rejected": outcome.rejected, "pending": outcome.pending, "spool": spool.dir()}),
        ),
        Format::Human => outln!(
            "delivered: {}, already there: {}, refused: {}, left in the spool: {left}",
            outcome.delivered.len(),
            outcome.already.len(),
            outcome.rejected.len()
        ),
    }
    if outcome.is_complete() {
        shell.status(
            "Finished",
            &format!(
                "{} results delivered{}",
                outcome.delivered.len(),
                if outcome.already.is_empty() {
                    String::new()
                } else {
                    format!(", {} already there", outcome.already.len())
                }
            ),
            Tone::Good,
        );
        Ok(bodhi_status)
    } else {
        if left > 0 {
            let last = outcome
                .pending
                .first()
                .map(|(_, e)| e.as_str())
                .unwrap_or("");
            shell.status("Pending", &format!("{left} results left in the spool ({last}); send them with `taskotron report --resume`"), Tone::Bad);
        }
        Ok(exit::NOT_OK)
    }
}

/// `--resume` with no ResultsDB configured: the spool's results cannot go anywhere,
/// and the user learns how many wait and what would send them.
fn resume_without_resultsdb(
    shell: &Shell,
    reporting: &taskotron_core::resultsdb::Reporting,
    waiting: usize,
) -> Outcome {
    if waiting == 0 {
        shell.status("Resumed", "nothing: the spool is empty", Tone::Good);
        return Ok(exit::OK);
    }
    shell.status(
        "Pending",
        &format!(
            "{} wait in the spool `{}` for a ResultsDB, and none is configured; none was sent: \
             pass `--resultsdb URL`, or set `resultsdb_url` in taskotron.yaml or $TASKOTRON_RESULTSDB_URL",
            crate::output::plural(waiting as u64, "result"),
            reporting.spool_dir().display()
        ),
        Tone::Bad,
    );
    Ok(exit::NOT_OK)
}

/// Comments on Bodhi updates about the `bodhi_update` results, by the original rules.
fn comment_in_bodhi(
    shell: &Shell,
    config: &Config,
    url: &str,
    details: &[CheckDetail],
    ctx: &ReportContext,
    all: bool,
) -> i32 {
    use taskotron_core::bodhi::{self, DoReport};
    let arch = ctx.arch.clone().unwrap_or_else(|| "noarch".into());
    let log = |d: &CheckDetail| {
        ctx.urls
            .comment_url(d.artifact.as_deref())
            .unwrap_or_default()
    };
    let done = match bodhi::comment_on(&bodhi::CommentRequest {
        url,
        user: &config.bodhi_user,
        token: config.bodhi_token.as_deref(),
        span_minutes: config.bodhi_comment_span,
        doreport: if all {
            DoReport::All
        } else {
            DoReport::OnChange
        },
        details,
        checkname: &ctx.checkname,
        arch: &arch,
        log_url: &log,
        // `report` reads results after their run: no run so far to compare.
        notes: &bodhi::Notes::new(),
    }) {
        Ok(done) => done,
        Err(e) => {
            shell.diagnostics(&[Diagnostic::error(e.to_string())]);
            return exit::NOT_OK;
        }
    };
    for e in &done.errors {
        shell.diagnostics(&[Diagnostic::error(e.clone())]);
    }
    let failed = !done.errors.is_empty();
    let planned = &done.posted;
    shell.status(
        "Commented",
        &format!("{} Bodhi comments posted", planned.len()),
        Tone::Good,
    );
    if failed {
        exit::NOT_OK
    } else {
        exit::OK
    }
}
