//! `bodhi_comment`: comments on Bodhi updates about their `bodhi_update` results,
//! following the original posting rules (see [`crate::bodhi`]). Without a configured
//! Bodhi the comments it would post are written into the artifacts.

use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use super::{Context, Directive, Failure, Param, ParamKind, Params, Shape, Spec};
use crate::bodhi::{self, DoReport, Rules};
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
        let r = &ctx.reporting;
        let urls = ctx.log_urls();
        let log_url =
            |d: &results::CheckDetail| urls.comment_url(d.artifact.as_deref()).unwrap_or_default();
        let rules = Rules {
            doreport,
            span: Duration::from_secs(r.bodhi_comment_span * 60),
            now: SystemTime::now(),
        };
        let Some(url) = &r.bodhi_url else {
            let planned = bodhi::decide(
                &details,
                &ctx.checkname,
                &ctx.arch,
                &|_| Vec::new(),
                &log_url,
                rules,
            );
            let list: Vec<Value> = planned
                .iter()
                .map(|p| json!({"update": p.update, "text": p.text, "id": null}))
                .collect();
            let path = ctx.artifactsdir.join("bodhi-comments.json");
            std::fs::write(
                &path,
                serde_json::to_string_pretty(&list).unwrap_or_default(),
            )
            .map_err(|e| {
                Failure::new(format!(
                    "bodhi_comment: cannot write `{}`: {e}",
                    path.display()
                ))
            })?;
            use std::io::Write;
            let _ = writeln!(ctx.stdout, "Commenting in Bodhi is disabled (no bodhi_url); these {} comments would have been posted: {}", list.len(), path.display());
            return Ok(Value::Array(list));
        };
        let done = bodhi::comment_on(&bodhi::CommentRequest {
            url,
            user: &r.bodhi_user,
            token: r.bodhi_token.as_deref(),
            span_minutes: r.bodhi_comment_span,
            doreport,
            details: &details,
            checkname: &ctx.checkname,
            arch: &ctx.arch,
            log_url: &log_url,
        })
        .map_err(|e| Failure::new(format!("bodhi_comment: {e}")))?;
        if !done.errors.is_empty() {
            return Err(Failure::new(format!(
                "bodhi_comment: {}",
                done.errors.join("; ")
            )));
        }
        let posted: Vec<Value> = done
            .posted
            .into_iter()
            .map(|p| json!({"update": p.update, "text": p.text, "id": p.id}))
            .collect();
        Ok(Value::Array(posted))
    }
}
