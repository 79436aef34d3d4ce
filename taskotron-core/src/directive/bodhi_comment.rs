//! `bodhi_comment`: comments on Bodhi updates about their `bodhi_update` results,
//! following the original posting rules (see [`crate::bodhi`]). Without a configured
//! Bodhi the comments it would post are written into the artifacts.

use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use super::{Context, Directive, Failure, Param, ParamKind, Params, Shape, Spec};
use crate::bodhi::{self, BodhiClient, DoReport, Rules};
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
            |d: &results::CheckDetail| urls.result_url(d.artifact.as_deref()).unwrap_or_default();
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
        let mut client = BodhiClient::new(url, &r.bodhi_user, Duration::from_secs(30));
        let token = r.bodhi_token.as_deref().ok_or_else(|| {
            Failure::new(
                "bodhi_comment: no Bodhi token (set `bodhi_token` or $TASKOTRON_BODHI_TOKEN)",
            )
        })?;
        client
            .login(token)
            .map_err(|e| Failure::new(format!("bodhi_comment: {e}")))?;
        let mut errors = Vec::new();
        // Without the history a result is said again rather than left unsaid.
        let earlier = |update: &str| client.earlier(update).unwrap_or_default();
        let planned = bodhi::decide(
            &details,
            &ctx.checkname,
            &ctx.arch,
            &earlier,
            &log_url,
            rules,
        );
        let mut posted = Vec::new();
        for p in planned {
            match client.comment(&p.update, &p.text) {
                Ok(c) => posted.push(json!({"update": p.update, "text": p.text, "id": c.id})),
                Err(e) => errors.push(format!("{}: {e}", p.update)),
            }
        }
        if !errors.is_empty() {
            return Err(Failure::new(format!(
                "bodhi_comment: {}",
                errors.join("; ")
            )));
        }
        Ok(Value::Array(posted))
    }
}
