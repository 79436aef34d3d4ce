//! `bodhi`: downloads the RPMs of every build of a Bodhi update, through Koji
//! (the original's one action, `download`).

use serde_json::Value;

use super::koji::{download_builds, koji_arches, koji_failure, target_dir, Selection};
use super::{
    Cause, Context, Directive, Failure, FailureKind, Param, ParamKind, Params, Shape, Spec,
};
use crate::bodhi::BodhiClient;
use crate::koji::KojiClient;

/// The `bodhi` directive.
pub struct Bodhi;

static SPEC: Spec = Spec {
    name: "bodhi",
    summary: "download the RPMs of every build in a Bodhi update",
    shape: Shape::Params {
        params: &[
            Param {
                name: "action",
                required: true,
                kind: ParamKind::Str,
                doc: "`download`",
            },
            Param {
                name: "update_id",
                required: true,
                kind: ParamKind::Str,
                doc: "the update's alias, e.g. FEDORA-2024-1a2b3c4d5e",
            },
            Param {
                name: "arch",
                required: true,
                kind: ParamKind::Any,
                doc: "arches to download, as for `koji`",
            },
            Param {
                name: "src",
                required: false,
                kind: ParamKind::Bool,
                doc: "also the source RPMs (default false)",
            },
            Param {
                name: "target_dir",
                required: false,
                kind: ParamKind::Path,
                doc: "where to put the files (default ${workdir}): relative to the task directory or under ${workdir} or ${artifactsdir}",
            },
        ],
        extra: false,
    },
    returns: "{downloaded_rpms: [paths]}",
    exactly_one: &[],
};

/// The update does not exist.
const UNKNOWN_UPDATE: FailureKind = FailureKind::new("BODHI_UNKNOWN_UPDATE", Cause::Task);
/// Bodhi could not be asked.
const UNREACHABLE: FailureKind = FailureKind::new("BODHI_UNREACHABLE", Cause::Infrastructure);

impl Directive for Bodhi {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn check_literal(&self, param: &str, value: &Value) -> Result<(), (String, Option<String>)> {
        match (param, value.as_str()) {
            ("action", Some(v)) => super::one_of_choices(v, &["download"]),
            _ => Ok(()),
        }
    }

    fn run(&self, params: &Params, ctx: &mut Context) -> Result<Value, Failure> {
        let src = params.get("src").and_then(Value::as_bool).unwrap_or(false);
        let arches = koji_arches(
            params.get("arch").unwrap_or(&Value::Null),
            &Value::Null,
            src,
            &ctx.services.supported_arches,
        )
        .map_err(|e| Failure::new(format!("bodhi: {e}")))?;
        if arches.is_empty() {
            return Err(Failure::new(
                "bodhi: `arch: []` and no `src: true` would download nothing",
            ));
        }
        let update = super::text_param(params, "update_id");
        let bodhi = BodhiClient::new(&ctx.services.bodhi_url, "", ctx.services.timeout);
        let nvrs = match bodhi.builds(&update) {
            Ok(Some(nvrs)) => nvrs,
            Ok(None) => {
                return Err(Failure::named(
                    UNKNOWN_UPDATE,
                    format!("Bodhi has no update `{update}`"),
                ))
            }
            Err(e) => return Err(Failure::named(UNREACHABLE, e.to_string())),
        };
        let client = KojiClient::new(&ctx.services.koji_url, ctx.services.timeout);
        let builds = nvrs
            .iter()
            .map(|n| client.build(n))
            .collect::<Result<Vec<_>, _>>()
            .map_err(koji_failure)?;
        let want = Selection {
            arches,
            debuginfo: false,
            build_log: false,
        };
        let target = target_dir(params, ctx)?;
        // The run's history finds the update's predecessor through them.
        for nvr in &nvrs {
            if ctx.item == update && !ctx.so_far.builds.contains(nvr) {
                ctx.so_far.builds.push(nvr.clone());
            }
        }
        download_builds(&client, &builds, &want, &target, ctx)
    }
}
