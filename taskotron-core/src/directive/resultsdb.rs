//! `resultsdb`: reports results (ResultYAML or TAP, given inline or in a file) to
//! ResultsDB, and exports them with their ResultsDB ids. Every result goes through the
//! durable spool first. Without a configured ResultsDB it says what it would have
//! sent and writes the payloads into the artifacts (the original's development
//! profile).

use serde_json::{json, Value};

use super::{Context, Directive, Failure, Param, ParamKind, Params, Shape, Spec};
use crate::results::CheckDetail;
use crate::resultsdb::{report, Group, ReportContext};

/// The `resultsdb` directive.
pub struct ResultsDb;

static SPEC: Spec = Spec {
    name: "resultsdb",
    summary: "report results (ResultYAML or TAP) to ResultsDB",
    shape: Shape::Params {
        params: &[
            Param {
                name: "results",
                required: false,
                kind: ParamKind::Any,
                doc: "the results, usually `${...}` of the action that made them",
            },
            Param {
                name: "file",
                required: false,
                kind: ParamKind::Path,
                doc: "a file holding the results, relative to the task directory or under ${workdir} or ${artifactsdir}",
            },
        ],
        extra: false,
    },
    returns: "the results, each with its `resultsdb_id` (null when not sent)",
    exactly_one: &["results", "file"],
};

impl Directive for ResultsDb {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run(&self, params: &Params, ctx: &mut Context) -> Result<Value, Failure> {
        let text = match (params.get("results"), params.get("file")) {
            (Some(v), None) => v.as_str().map_or_else(|| v.to_string(), str::to_string),
            (None, Some(f)) => {
                ctx.read_task_file("resultsdb: `file`", f.as_str().unwrap_or_default())?
                    .0
            }
            _ => {
                return Err(Failure::new(
                    "resultsdb needs exactly one of `results` and `file`",
                ))
            }
        };
        let mut details: Vec<CheckDetail> = ctx.results_from(&text, "resultsdb")?;
        ctx.note_builds(&details);
        for d in &mut details {
            d.qualify(&ctx.namespace, &ctx.checkname);
        }
        report_details(ctx, &details)
    }
}

/// Reports `details` as the `resultsdb` directive does (the namespaces check, the
/// spool, a remote run's deferral) and exports them with their ResultsDB ids. The
/// `ansible` directive reports each playbook's results through here too.
///
/// # Errors
/// A namespace the task may not report into, a result ResultsDB would refuse.
pub fn report_details(ctx: &mut Context, details: &[CheckDetail]) -> Result<Value, Failure> {
    {
        let r = &ctx.reporting;
        if let Some(path) = &r.namespaces {
            // Checked before anything is sent or written, as production did.
            let names: Vec<String> = details
                .iter()
                .map(|d| d.testcase(&ctx.checkname).to_string())
                .collect();
            crate::namespaces::check_all(path, &ctx.taskdir, names.iter().map(String::as_str))
                .map_err(|e| match e.kind() {
                    Some(kind) => Failure::named(kind, format!("resultsdb: nothing was sent: {e}")),
                    None => Failure::new(e.to_string()),
                })?;
        }
        let group_id = ctx.build_id.clone().unwrap_or_else(|| ctx.run_id.clone());
        let urls = ctx.log_urls();
        let rdb_ctx = ReportContext {
            checkname: ctx.checkname.clone(),
            testcase_ref_url: r.testcase_ref_url.clone(),
            arch: Some(ctx.arch.clone()),
            group: Group {
                uuid: group_id,
                description: Some(format!(
                    "{} for {} on {}",
                    ctx.checkname, ctx.item, ctx.arch
                )),
                ref_url: urls.job_url(),
            },
            urls,
            accepted: r.accepted.clone(),
        };
        let identity = crate::resultsdb::Identity::run(&ctx.run_id);
        let entries = report::entries(details, &rdb_ctx, &identity).map_err(|errors| {
            Failure::new(
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        })?;
        let exported = |ids: &[Option<u64>]| {
            Value::Array(
                details
                    .iter()
                    .zip(ids)
                    .map(|(d, id)| json!({"item": d.item, "type": d.item_type, "outcome": d.outcome, "checkname": d.checkname, "note": d.note, "resultsdb_id": id}))
                    .collect(),
            )
        };
        if let Some(collector) = &r.deferred {
            // A remote run: the machine that started it has the credentials and
            // sends these (crate::deferred).
            let n = entries.len();
            collector.results(entries);
            use std::io::Write;
            let _ = writeln!(
                ctx.stdout,
                "{n} results deferred: the machine that started this remote run sends them"
            );
            return Ok(exported(&vec![None; details.len()]));
        }
        let ids = crate::resultsdb::submit(&entries, r, &ctx.artifactsdir, &mut ctx.stdout)
            .map_err(Failure::new)?;
        Ok(exported(&ids))
    }
}
