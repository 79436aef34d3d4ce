//! `exitcode`: makes `taskotron run` exit with 100 when results are not a success
//! (the original's way for a check to fail a CI job); 0 otherwise. With several
//! `exitcode` actions the worst wins.

use serde_json::Value;

use super::{Context, Directive, Failure, Param, ParamKind, Params, Shape, Spec};
use crate::results::Outcome;

/// The exit code for results that are not all PASSED or INFO.
pub const FAILURE: i32 = 100;

/// The `exitcode` directive.
pub struct ExitCode;

static SPEC: Spec = Spec {
    name: "exitcode",
    summary: "exit 100 when the last (or any) result is not PASSED or INFO",
    shape: Shape::Params {
        params: &[
            Param {
                name: "result_last",
                required: false,
                kind: ParamKind::Str,
                doc: "results (ResultYAML or TAP); the last one decides",
            },
            Param {
                name: "result_worst",
                required: false,
                kind: ParamKind::Str,
                doc: "results (ResultYAML or TAP); the worst one decides",
            },
        ],
        extra: false,
    },
    returns: "0 or 100",
    exactly_one: &["result_last", "result_worst"],
};

impl Directive for ExitCode {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run(&self, params: &Params, ctx: &mut Context) -> Result<Value, Failure> {
        let (key, text) = match (params.get("result_last"), params.get("result_worst")) {
            (Some(v), None) => ("result_last", v),
            (None, Some(v)) => ("result_worst", v),
            _ => {
                return Err(Failure::new(
                    "exitcode needs exactly one of `result_last` and `result_worst`",
                ))
            }
        };
        let text = text
            .as_str()
            .map_or_else(|| text.to_string(), str::to_string);
        let details = ctx.results_from(&text, &format!("exitcode: `{key}`"))?;
        let outcomes: Vec<Outcome> = details.iter().map(|d| d.outcome).collect();
        let deciding = if key == "result_last" {
            outcomes.last().copied()
        } else {
            Outcome::worst(outcomes)
        };
        let code = match deciding {
            Some(o) if !o.is_success() => FAILURE,
            _ => 0,
        };
        ctx.exit_code = Some(ctx.exit_code.unwrap_or(0).max(code));
        Ok(Value::from(code))
    }
}
