//! `createrepo`: runs `createrepo_c` on a directory of RPMs, making it a YUM
//! repository; returns its standard output. `TOOL_MISSING` where `createrepo_c`
//! is not installed.

use std::process::Command;

use serde_json::Value;

use super::{read_end, tail, Context, Directive, Failure, Param, ParamKind, Params, Shape, Spec};
use crate::process;

/// The `createrepo` directive.
pub struct CreateRepo;

static SPEC: Spec = Spec {
    name: "createrepo",
    summary: "make a directory of RPMs a YUM repository with createrepo_c",
    shape: Shape::Params {
        params: &[Param {
            name: "repodir",
            required: true,
            kind: ParamKind::Path,
            doc: "the directory of RPM files, relative to the task directory or under ${workdir} or ${artifactsdir}",
        }],
        extra: false,
    },
    returns: "createrepo_c's standard output",
    exactly_one: &[],
};

impl Directive for CreateRepo {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run(&self, params: &Params, ctx: &mut Context) -> Result<Value, Failure> {
        let given = super::text_param(params, "repodir");
        // createrepo_c runs as the task (in its sandbox); the check is that the
        // formula names a directory of the run, not one elsewhere on the host.
        let dir = ctx
            .roots
            .locate(std::path::Path::new(&given))
            .and_then(|(root, rel)| root.open_dir(&rel).map(|d| d.path().to_path_buf()))
            .map_err(|e| match e {
                e if e.is_refusal() => super::path_failure("createrepo: `repodir`", &e),
                e => Failure::new(format!("createrepo: `{given}` is not a directory: {e}")),
            })?;
        let path = ctx
            .env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| std::ffi::OsString::from(v))
            .unwrap_or_default();
        if !process::on_path("createrepo_c", &path) {
            let kind = super::FailureKind::TOOL_MISSING;
            return Err(Failure::named(
                kind,
                "createrepo needs `createrepo_c`, which is not installed on this machine",
            ));
        }
        let start = super::log_len(&ctx.stdout);
        let mut cmd = Command::new("createrepo_c");
        cmd.arg(&dir).current_dir(&ctx.taskdir);
        let ended = ctx
            .run_task(cmd, &[], ctx.timeout, &ctx.env)
            .map_err(|e| Failure::new(format!("cannot run `createrepo_c`: {e}")))?;
        if !ended.success() {
            return Err(Failure::new(format!(
                "createrepo_c {} ({}); its stderr ends with:\n{}",
                dir.display(),
                ended.describe(),
                tail(&read_end(&ctx.stderr, 0), 20)
            )));
        }
        Ok(Value::String(
            super::read_from(&ctx.stdout, start).trim_end().to_string(),
        ))
    }
}
