//! `dummy`: passes or fails as asked; for trying formulas and the runner out.

use serde_json::Value;

use super::{Context, Directive, Failure, Param, ParamKind, Params, Shape, Spec};

/// The `dummy` directive.
pub struct Dummy;

static SPEC: Spec = Spec {
    name: "dummy",
    summary: "pass or fail as asked, to try formulas and the runner out",
    shape: Shape::Params {
        params: &[
            Param {
                name: "result",
                required: true,
                kind: ParamKind::Str,
                doc: "PASS or FAIL (any case)",
            },
            Param {
                name: "msg",
                required: false,
                kind: ParamKind::Any,
                doc: "returned when passing, quoted when failing",
            },
        ],
        extra: false,
    },
    returns: "msg, or null",
    exactly_one: &[],
};

impl Directive for Dummy {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn check_literal(&self, param: &str, value: &Value) -> Result<(), (String, Option<String>)> {
        if param != "result" {
            return Ok(());
        }
        match value.as_str().map(str::to_ascii_uppercase).as_deref() {
            Some("PASS" | "FAIL") => Ok(()),
            other => {
                let hint = other.and_then(|o| crate::suggest::did_you_mean(o, ["PASS", "FAIL"]));
                Err((
                    "`PASS` or `FAIL`".into(),
                    hint.map(|h| format!("did you mean `{h}`?")),
                ))
            }
        }
    }

    fn run(&self, params: &Params, _ctx: &mut Context) -> Result<Value, Failure> {
        let msg = params.get("msg").cloned().unwrap_or(Value::Null);
        let result = params
            .get("result")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match result.to_ascii_uppercase().as_str() {
            "PASS" => Ok(msg),
            "FAIL" => Err(Failure::new(match msg {
                Value::Null => "dummy failed as asked".to_string(),
                Value::String(s) => format!("dummy failed as asked: {s}"),
                other => format!("dummy failed as asked: {other}"),
            })),
            other => Err(Failure::new(format!(
                "dummy: `result` must be PASS or FAIL, not `{other}`"
            ))),
        }
    }
}
