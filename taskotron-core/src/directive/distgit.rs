//! `distgit`: fetches files of a package from dist-git at a ref
//! (`{baseurl}/{namespace}/{package}/raw/{gitref}/f/{path}`), as the original did.
//! With `nvr`, the package and the branch come from the build (`fc39` → `f39`).

use std::path::Path;

use serde_json::{json, Value};

use super::{
    Cause, Context, Directive, Failure, FailureKind, Param, ParamKind, Params, Shape, Spec,
};
use crate::download::{DownloadError, Downloader, Expected};
use crate::item::{distgit_branch, split_nvr};

/// The `distgit` directive.
pub struct DistGit;

static SPEC: Spec = Spec {
    name: "distgit",
    summary: "fetch files of a package from dist-git at a ref",
    shape: Shape::Params {
        params: &[
            Param {
                name: "package",
                required: false,
                kind: ParamKind::Str,
                doc: "the package (or give `nvr`)",
            },
            Param {
                name: "nvr",
                required: false,
                kind: ParamKind::Str,
                doc: "a build; gives the package and the branch",
            },
            Param {
                name: "gitref",
                required: false,
                kind: ParamKind::Str,
                doc: "branch, tag or commit (default: from `nvr`, else `rawhide`)",
            },
            Param {
                name: "namespace",
                required: false,
                kind: ParamKind::Str,
                doc: "dist-git namespace (default `rpms`)",
            },
            Param {
                name: "path",
                required: true,
                kind: ParamKind::Any,
                doc: "the files, a list of paths in the repository",
            },
            Param {
                name: "localpath",
                required: false,
                kind: ParamKind::Any,
                doc: "where to save each, relative to target_dir (default: same as path)",
            },
            Param {
                name: "target_dir",
                required: false,
                kind: ParamKind::Path,
                doc: "where to put the files (default ${workdir}): relative to the task directory or under ${workdir} or ${artifactsdir}",
            },
            Param {
                name: "baseurl",
                required: false,
                kind: ParamKind::Str,
                doc: "dist-git's URL (default: the configured one)",
            },
            Param {
                name: "ignore_missing",
                required: false,
                kind: ParamKind::Bool,
                doc: "skip files dist-git does not have (default false)",
            },
        ],
        extra: false,
    },
    returns: "{downloaded_files: [paths]}",
    exactly_one: &["package", "nvr"],
};

const MISSING: FailureKind = FailureKind::new("DISTGIT_FILE_MISSING", Cause::Task);

fn strings(v: Option<&Value>) -> Result<Vec<String>, Failure> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| Failure::new(format!("distgit: paths must be strings, not {i}")))
            })
            .collect(),
        Some(other) => Err(Failure::new(format!(
            "distgit: expected a list of paths, not {other}"
        ))),
    }
}

impl Directive for DistGit {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run(&self, params: &Params, ctx: &mut Context) -> Result<Value, Failure> {
        let text = |k: &str| super::text_param(params, k);
        let (package, derived_ref) = if text("package").is_empty() {
            let nvr = text("nvr");
            match split_nvr(&nvr) {
                Some((name, _, release)) => (name.to_string(), distgit_branch(release)),
                None => {
                    return Err(Failure::new(format!(
                        "distgit: `{nvr}` is not a name-version-release"
                    )))
                }
            }
        } else {
            (text("package"), None)
        };
        if package.is_empty() || package.contains('/') || package.contains("..") {
            return Err(Failure::new(format!(
                "distgit: `{package}` is not a package name"
            )));
        }
        let gitref = Some(text("gitref"))
            .filter(|g| !g.is_empty())
            .or(derived_ref)
            .unwrap_or_else(|| "rawhide".into());
        let namespace = Some(text("namespace"))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "rpms".into());
        let base = Some(text("baseurl"))
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| ctx.services.distgit_url.clone());
        let paths = strings(params.get("path"))?;
        let local = strings(params.get("localpath"))?;
        if !local.is_empty() && local.len() != paths.len() {
            return Err(Failure::new(format!(
                "distgit: `localpath` has {} entries but `path` has {}",
                local.len(),
                paths.len()
            )));
        }
        let ignore = params
            .get("ignore_missing")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let target = super::koji::target_dir(params, ctx)?;
        let downloader = Downloader::new(ctx.services.timeout, None);
        let mut out = Vec::new();
        for (i, path) in paths.iter().enumerate() {
            let save = local.get(i).unwrap_or(path);
            if let Err(why) = taskotron_beneath::plain(Path::new(save)) {
                return Err(Failure::named(
                    crate::failure::FailureKind::PATH_REFUSED,
                    format!("distgit: `{save}` would be saved outside target_dir: {why}"),
                ));
            }
            let url = format!(
                "{}/{namespace}/{package}/raw/{gitref}/f/{path}",
                base.trim_end_matches('/')
            );
            match downloader.fetch_into(&url, &Expected::default(), &target, Path::new(save)) {
                Ok(_) => out.push(target.shown(save).display().to_string()),
                Err(DownloadError::NotFound { .. }) if ignore => {}
                Err(DownloadError::NotFound { .. }) => {
                    return Err(Failure::named(
                        MISSING,
                        format!("{package} has no `{path}` at `{gitref}` ({url})"),
                    ))
                }
                Err(e) => return Err(Failure::named(e.kind(), e.to_string())),
            }
        }
        Ok(json!({ "downloaded_files": out }))
    }
}
