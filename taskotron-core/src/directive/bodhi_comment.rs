//! `bodhi_comment`: comments on Bodhi updates about their `bodhi_update` results,
//! following the original posting rules (see [`crate::bodhi`]). Without a configured
//! Bodhi the comments it would post are written into the artifacts.

use serde_json::Value;

use super::{Context, Directive, Failure, Param, ParamKind, Params, Shape, Spec};
use crate::bodhi::{self, DoReport};
use crate::results;

/// The `bodhi_comment` directive.
pub struct BodhiComment;

static SPEC: Spec = Spec {
    name: "bodhi_comment",
    summary: "comment on Bodhi updates about their results (only when something changed)",
    shape: Shape::Params {
        params: &[
            Param {
                name: "results",
                required: true,
                kind: ParamKind::Any,
                doc: "the results (ResultYAML or TAP)",
            },
            Param {
                name: "doreport",
                required: false,
                kind: ParamKind::Str,
                doc: "`onchange` (default) or `all`",
            },
        ],
        extra: false,
    },
    returns: "the comments posted: update, text and Bodhi id",
    exactly_one: &[],
};

impl Directive for BodhiComment {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn check_literal(&self, param: &str, value: &Value) -> Result<(), (String, Option<String>)> {
        match (param, value.as_str()) {
            ("doreport", Some(v)) => super::one_of_choices(v, &["all", "onchange"]),
            _ => Ok(()),
        }
    }

    fn run(&self, params: &Params, ctx: &mut Context) -> Result<Value, Failure> {
        let text = params
            .get("results")
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .unwrap_or_default();
        let doreport = match super::text_param(params, "doreport").as_str() {
            "" | "onchange" => DoReport::OnChange,
            "all" => DoReport::All,
            other => {
                return Err(Failure::new(format!(
                    "bodhi_comment: `doreport` must be `all` or `onchange`, not `{other}`"
                )))
            }
        };
        let details = ctx.results_from(&text, "bodhi_comment")?;
        let notes = notes_of(&details, ctx);
        let r = &ctx.reporting;
        let urls = ctx.log_urls();
        let log_url =
            |d: &results::CheckDetail| urls.comment_url(d.artifact.as_deref()).unwrap_or_default();
        if let Some(collector) = &r.deferred {
            // A remote run: the machine that started it posts these
            // (crate::deferred).
            collector.comments(crate::deferred::Comments {
                doreport,
                log_urls: details.iter().map(log_url).collect(),
                details,
                checkname: ctx.checkname.clone(),
                arch: ctx.arch.clone(),
                notes,
            });
            use std::io::Write;
            let _ = writeln!(
                ctx.stdout,
                "Comments deferred: the machine that started this remote run posts them"
            );
            return Ok(Value::Array(Vec::new()));
        }
        let list = bodhi::submit(
            &bodhi::Submission {
                doreport,
                details: &details,
                checkname: &ctx.checkname,
                arch: &ctx.arch,
                log_url: &log_url,
                notes: &notes,
            },
            r,
            &ctx.artifactsdir,
            &mut ctx.stdout,
        )
        .map_err(Failure::new)?;
        Ok(Value::Array(list))
    }
}

/// What each update's comment says below its result: the run's regressions so
/// far (its cases up to this action against the previous build's run) and the
/// update's gates, when gating is configured.
fn notes_of(details: &[results::CheckDetail], ctx: &mut Context) -> bodhi::Notes {
    if !details
        .iter()
        .any(|d| d.item_type.as_deref() == Some("bodhi_update"))
    {
        return bodhi::Notes::new();
    }
    ctx.note_builds(details);
    let builds = ctx.so_far.builds.clone();
    let state_dir = &ctx.reporting.state_dir;
    let regressions = (!state_dir.as_os_str().is_empty())
        .then(|| {
            let mut info = crate::history::run_info(
                &ctx.run_id,
                &ctx.checkname,
                &ctx.item,
                &ctx.item_type,
                &ctx.arch,
            );
            if ctx.item_type == "bodhi_update" {
                info.builds.clone_from(&builds);
            }
            crate::history::regressions_so_far(state_dir, &info, &ctx.so_far)
        })
        .flatten();
    bodhi::notes(
        details,
        regressions.as_ref(),
        ctx.reporting.gating.as_ref(),
        &builds,
    )
}
