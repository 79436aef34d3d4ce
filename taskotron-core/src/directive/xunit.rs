//! `xunit`: reads a JUnit XML file into results (the original `xunit` directive).

use serde_json::Value;

use super::{Context, Directive, Failure, Param, ParamKind, Params, Shape, Spec};
use crate::results::junit::{self, Aggregation};
use crate::results::resultyaml;

/// The `xunit` directive.
pub struct Xunit;

static SPEC: Spec = Spec {
    name: "xunit",
    summary: "read a JUnit XML file into results",
    shape: Shape::Params {
        params: &[
            Param {
                name: "file",
                required: true,
                kind: ParamKind::Path,
                doc: "the JUnit XML file, relative to the task directory or under ${workdir} or ${artifactsdir}",
            },
            Param {
                name: "item",
                required: true,
                kind: ParamKind::Str,
                doc: "the item the results are for",
            },
            Param {
                name: "type",
                required: true,
                kind: ParamKind::Str,
                doc: "the item's type",
            },
            Param {
                name: "checkname",
                required: true,
                kind: ParamKind::Str,
                doc: "the testcase name",
            },
            Param {
                name: "aggregation",
                required: false,
                kind: ParamKind::Str,
                doc: "`allpass` (one result; default) or `none` (one per test case)",
            },
        ],
        extra: false,
    },
    returns: "the results as ResultYAML",
    exactly_one: &[],
};

impl Directive for Xunit {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn check_literal(&self, param: &str, value: &Value) -> Result<(), (String, Option<String>)> {
        match (param, value.as_str()) {
            ("aggregation", Some(v)) => super::one_of_choices(v, &["allpass", "none"]),
            _ => Ok(()),
        }
    }

    fn run(&self, params: &Params, ctx: &mut Context) -> Result<Value, Failure> {
        let text = |key: &str| super::text_param(params, key);
        let aggregation = match text("aggregation").as_str() {
            "" | "allpass" => Aggregation::AllPass,
            "none" => Aggregation::None,
            other => {
                return Err(Failure::new(format!(
                    "xunit: `aggregation` must be `allpass` or `none`, not `{other}`"
                )))
            }
        };
        let (xml, file) = ctx.read_task_file("xunit: `file`", &text("file"))?;
        let cases = junit::import(&xml, Some(&file))
            .map_err(|d| Failure::new(format!("xunit: {}", d.to_string().trim_end())))?;
        let suite = text("checkname");
        ctx.cases = cases
            .iter()
            .map(|c| {
                let mut case = junit::to_case(c);
                case.classname = Some(suite.clone());
                case
            })
            .collect();
        let artifact = file
            .strip_prefix(&ctx.artifactsdir)
            .map_or_else(|_| file.display().to_string(), |p| p.display().to_string());
        let details = junit::to_details(
            &cases,
            &text("item"),
            &text("type"),
            &text("checkname"),
            &artifact,
            aggregation,
        );
        Ok(Value::String(resultyaml::export(&details)))
    }
}
