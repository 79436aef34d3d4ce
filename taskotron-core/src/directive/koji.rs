//! `koji`: downloads the RPMs of a build (`download`), of every latest build in a
//! tag (`download_tag`), or of the latest stable build of the same package
//! (`download_latest_stable`: `fNN-updates`, then `fNN`), with the original
//! parameters. Every file is verified before it is used (see [`crate::download`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::{json, Value};

use super::{Context, Directive, Failure, Param, ParamKind, Params, Shape, Spec};
use crate::download::{DownloadError, Downloader, Expected, Source};
use crate::item::{distgit_branch, split_nvr};
use crate::koji::{paths, Build, KojiClient, KojiError, Rpm};
use crate::Arch;
use taskotron_beneath::Dir;

/// The `koji` directive.
pub struct Koji;

const ACTIONS: &[&str] = &["download", "download_tag", "download_latest_stable"];

static SPEC: Spec = Spec {
    name: "koji",
    summary: "download the RPMs of a Koji build, of a tag, or of the latest stable build",
    shape: Shape::Params {
        params: &[
            Param {
                name: "action",
                required: true,
                kind: ParamKind::Str,
                doc: "`download`, `download_tag` or `download_latest_stable`",
            },
            Param {
                name: "koji_build",
                required: false,
                kind: ParamKind::Str,
                doc: "the build's N-V-R (download, download_latest_stable)",
            },
            Param {
                name: "koji_tag",
                required: false,
                kind: ParamKind::Str,
                doc: "the tag (download_tag)",
            },
            Param {
                name: "arch",
                required: true,
                kind: ParamKind::Any,
                doc: "arches to download, a name or a list; `all` is every supported arch, `[]` none; noarch is added",
            },
            Param {
                name: "arch_exclude",
                required: false,
                kind: ParamKind::Any,
                doc: "arches to leave out (wins over `arch`)",
            },
            Param {
                name: "src",
                required: false,
                kind: ParamKind::Bool,
                doc: "also the source RPM (default false)",
            },
            Param {
                name: "debuginfo",
                required: false,
                kind: ParamKind::Bool,
                doc: "also debuginfo and debugsource RPMs (default false)",
            },
            Param {
                name: "build_log",
                required: false,
                kind: ParamKind::Bool,
                doc: "also each arch's build.log, saved as build.log.<arch> (default false)",
            },
            Param {
                name: "target_dir",
                required: false,
                kind: ParamKind::Path,
                doc: "where to put the files (default ${workdir}; created if missing): relative to the task directory or under ${workdir} or ${artifactsdir}",
            },
        ],
        extra: false,
    },
    returns: "{downloaded_rpms: [paths]} and, with build_log, downloaded_logs and log_errors",
    exactly_one: &[],
};

impl Directive for Koji {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn check_literal(&self, param: &str, value: &Value) -> Result<(), (String, Option<String>)> {
        match param {
            "action" => value
                .as_str()
                .map_or(Ok(()), |v| super::one_of_choices(v, ACTIONS)),
            "arch" | "arch_exclude" => check_arches(value),
            _ => Ok(()),
        }
    }

    fn required_by(&self, param: &str, value: &str) -> &'static [&'static str] {
        match (param, value) {
            ("action", "download" | "download_latest_stable") => &["koji_build"],
            ("action", "download_tag") => &["koji_tag"],
            _ => &[],
        }
    }

    fn run(&self, params: &Params, ctx: &mut Context) -> Result<Value, Failure> {
        let action = super::text_param(params, "action");
        let flag = |k: &str| params.get(k).and_then(Value::as_bool).unwrap_or(false);
        let want = Selection {
            arches: koji_arches(
                params.get("arch").unwrap_or(&Value::Null),
                params.get("arch_exclude").unwrap_or(&Value::Null),
                flag("src"),
                &ctx.services.supported_arches,
            )
            .map_err(|e| Failure::new(format!("koji: {e}")))?,
            debuginfo: flag("debuginfo"),
            build_log: flag("build_log"),
        };
        let target = target_dir(params, ctx)?;
        let client = KojiClient::new(&ctx.services.koji_url, ctx.services.timeout);
        let required = |k: &str| {
            let v = super::text_param(params, k);
            if v.is_empty() {
                Err(Failure::new(format!(
                    "koji: `action: {action}` needs `{k}`"
                )))
            } else {
                Ok(v)
            }
        };
        let builds = match action.as_str() {
            "download" => vec![client
                .build(&normalise_nvr(&required("koji_build")?))
                .map_err(koji_failure)?],
            "download_tag" => client
                .tagged(&required("koji_tag")?, true)
                .map_err(koji_failure)?,
            "download_latest_stable" => {
                let nvr = normalise_nvr(&required("koji_build")?);
                match latest_stable(&client, &nvr).map_err(koji_failure)? {
                    Some(b) => vec![b],
                    None => {
                        writeln_out(ctx, &format!("no stable build older than {nvr} exists"));
                        Vec::new()
                    }
                }
            }
            other => {
                return Err(Failure::new(format!(
                    "koji: unknown action `{other}`; expected {}",
                    crate::suggest::one_of(ACTIONS.iter().copied())
                )))
            }
        };
        download_builds(&client, &builds, &want, &target, ctx)
    }
}

/// What to download of each build.
pub(super) struct Selection {
    /// Koji arch names of the RPMs to take (`src` for source RPMs).
    pub arches: BTreeSet<String>,
    /// Whether debuginfo RPMs are taken.
    pub debuginfo: bool,
    /// Whether build logs are fetched.
    pub build_log: bool,
}

pub(super) fn koji_failure(e: KojiError) -> Failure {
    Failure::named(e.kind(), e.to_string())
}

fn download_failure(e: DownloadError) -> Failure {
    Failure::named(e.kind(), e.to_string())
}

/// The directory `target_dir` names (relative to the task directory, or under
/// `${workdir}` or `${artifactsdir}`), created as needed and opened beneath the
/// run's directories: the workdir when none is given.
///
/// # Errors
/// `PATH_REFUSED` when it leaves them or passes through a link.
pub(super) fn target_dir(params: &Params, ctx: &Context) -> Result<Dir, Failure> {
    let t = super::text_param(params, "target_dir");
    let given = if t.is_empty() {
        ctx.workdir.clone()
    } else {
        PathBuf::from(t)
    };
    ctx.roots
        .create_dir_all(&given)
        .map_err(|e| super::path_failure("target_dir", &e))
}

fn writeln_out(ctx: &mut Context, line: &str) {
    use std::io::Write;
    let _ = writeln!(ctx.stdout, "{line}");
}

/// `name-version-release` from what a user may give: an NVR, an NEVR with its
/// epoch, or an RPM file name.
fn normalise_nvr(s: &str) -> String {
    let s = s.trim().trim_end_matches(".rpm");
    match split_nvr(s) {
        // `name-1:1.0-1.fc39` carries an epoch in front of the version.
        Some((name, version, release)) => {
            let version = version.split_once(':').map_or(version, |(_, v)| v);
            format!("{name}-{version}-{release}")
        }
        None => s.to_string(),
    }
}

/// The latest build of the same package in `fNN-updates`, then `fNN`, that is
/// older than the build itself by RPM's rules (epoch, version, release), so a
/// build already pushed stable is not compared with itself.
fn latest_stable(client: &KojiClient, nvr: &str) -> Result<Option<Build>, KojiError> {
    let Some((name, version, release)) = split_nvr(nvr) else {
        return Ok(None);
    };
    // Fedora only, as the original: `fc39` gives `f39-updates`, then `f39`.
    let Some(branch) = distgit_branch(release).filter(|b| b.starts_with('f')) else {
        return Ok(None);
    };
    let epoch = client.lookup(nvr)?.and_then(|b| b.epoch).unwrap_or(0);
    let ours = evr(epoch, version, release);
    let tags = vec![format!("{branch}-updates"), branch];
    Ok(client
        .latest(&tags, name)?
        .into_iter()
        .flatten()
        .find(|b| evr(b.epoch.unwrap_or(0), &b.version, &b.release) < ours))
}

fn evr(epoch: i64, version: &str, release: &str) -> rpm_version::Evr<'static> {
    rpm_version::Evr::new(epoch.to_string(), version.to_string(), release.to_string())
}

/// Arch names a user may write: ours, Koji's binary arches, `src` and `all`.
fn known_arch_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = Arch::ALL
        .iter()
        .flat_map(|a| a.binary_arches().iter().copied())
        .collect();
    names.extend(["src", "all"]);
    names
}

fn arch_list(value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("an arch must be a string, not {i}"))
            })
            .collect(),
        other => Err(format!("arches must be a string or a list, not {other}")),
    }
}

fn check_arches(value: &Value) -> Result<(), (String, Option<String>)> {
    let names = known_arch_names();
    let list = arch_list(value).map_err(|e| (e, None))?;
    for a in list {
        if !names.contains(&a.as_str()) {
            let hint = crate::suggest::did_you_mean(&a, names.iter().copied())
                .map(|s| format!("did you mean `{s}`?"));
            return Err((
                format!("an arch: {}", crate::suggest::one_of(names.iter().copied())),
                hint,
            ));
        }
    }
    Ok(())
}

/// The Koji arch names to download: `all` is `supported`, a base arch brings its
/// binary arches, `noarch` comes along with any binary arch, `src` with `src`, and
/// `exclude` wins.
pub(super) fn koji_arches(
    arch: &Value,
    exclude: &Value,
    src: bool,
    supported: &[Arch],
) -> Result<BTreeSet<String>, String> {
    let expand = |list: Vec<String>| -> Result<BTreeSet<String>, String> {
        let mut out = BTreeSet::new();
        for a in list {
            if a == "all" {
                out.extend(
                    supported
                        .iter()
                        .flat_map(|s| s.binary_arches().iter().map(|b| (*b).to_string())),
                );
            } else if let Ok(base) = a.parse::<Arch>() {
                out.extend(base.binary_arches().iter().map(|b| (*b).to_string()));
            } else if known_arch_names().contains(&a.as_str()) {
                out.insert(a);
            } else {
                let hint = crate::suggest::did_you_mean(&a, known_arch_names())
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(format!("unknown arch `{a}`{hint}"));
            }
        }
        Ok(out)
    };
    let mut out = expand(arch_list(arch)?)?;
    if !out.is_empty() {
        out.insert("noarch".into());
    }
    if src {
        out.insert("src".into());
    }
    for x in expand(arch_list(exclude)?)? {
        out.remove(&x);
    }
    Ok(out)
}

/// Downloads the selected RPMs (and logs) of `builds` into `target`, four at a
/// time, and returns the directive's export.
pub(super) fn download_builds(
    client: &KojiClient,
    builds: &[Build],
    want: &Selection,
    target: &Dir,
    ctx: &mut Context,
) -> Result<Value, Failure> {
    let rpms = if builds.is_empty() {
        Vec::new()
    } else {
        client.rpms(builds).map_err(koji_failure)?
    };
    let topurl = ctx.services.koji_pkgs_url.clone();
    let mut files: Vec<(String, Expected, PathBuf)> = Vec::new();
    for (build, list) in builds.iter().zip(&rpms) {
        let chosen: Vec<&Rpm> = list
            .iter()
            .filter(|r| want.arches.contains(&r.arch) && (want.debuginfo || !r.is_debuginfo()))
            .collect();
        for r in chosen {
            files.push((
                paths::rpm_url(&topurl, build, r),
                Expected {
                    size: Some(r.size),
                    payload_md5: Some(r.payloadhash.clone()),
                },
                PathBuf::from(r.filename()),
            ));
        }
    }
    let downloader = Downloader::new(ctx.services.timeout, ctx.services.cache_dir.clone());
    let fetched = fetch_all(&downloader, target, &files).map_err(download_failure)?;
    let mut rpms_out: Vec<String> = Vec::new();
    for ((url, _, path), source) in files.iter().zip(&fetched) {
        let how = match source {
            Source::Cache => "cached",
            Source::Network => "downloaded",
        };
        writeln_out(ctx, &format!("{how} {url}"));
        rpms_out.push(target.shown(path).display().to_string());
    }
    rpms_out.sort();
    if rpms_out.is_empty() {
        // The directory is made anyway, so `cd ${target_dir}` works; the task
        // decides what no RPM means (`downloaded_rpms` is an empty list).
        let arches: Vec<&str> = want.arches.iter().map(String::as_str).collect();
        let what = if builds.is_empty() {
            "no build to download".to_string()
        } else {
            format!(
                "no RPM of {} matched the arches {}{}",
                builds
                    .iter()
                    .map(|b| b.nvr.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                arches.join(", "),
                if want.debuginfo {
                    ""
                } else {
                    " (debuginfo left out)"
                }
            )
        };
        ctx.warnings.push(format!(
            "{what}; `{}` is empty and `downloaded_rpms` is []",
            target.shown(Path::new("")).display()
        ));
    }
    let mut out = json!({ "downloaded_rpms": rpms_out });
    if want.build_log {
        // Logs change while a build is young and have no recorded checksum, so they
        // are never taken from the cache.
        let uncached = Downloader::new(ctx.services.timeout, None);
        let mut logs = Vec::new();
        let mut errors = Vec::new();
        for (build, list) in builds.iter().zip(&rpms) {
            let arches: BTreeSet<&str> = list
                .iter()
                .map(|r| r.arch.as_str())
                .filter(|a| *a != "src" && want.arches.contains(*a))
                .collect();
            for arch in arches {
                let url = paths::log_url(&topurl, build, arch);
                let name = format!("build.log.{arch}");
                match uncached.fetch_into(&url, &Expected::default(), target, Path::new(&name)) {
                    Ok(_) => logs.push(target.shown(&name).display().to_string()),
                    Err(DownloadError::NotFound { .. }) => errors.push(arch.to_string()),
                    Err(e) => return Err(download_failure(e)),
                }
            }
        }
        out["downloaded_logs"] = json!(logs);
        out["log_errors"] = json!(errors);
    }
    Ok(out)
}

fn fetch_all(
    downloader: &Downloader,
    target: &Dir,
    files: &[(String, Expected, PathBuf)],
) -> Result<Vec<Source>, DownloadError> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Source, DownloadError>>>> =
        Mutex::new(vec![None; files.len()]);
    std::thread::scope(|s| {
        for _ in 0..files.len().min(4) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some((url, expected, dest)) = files.get(i) else {
                    break;
                };
                let r = downloader.fetch_into(url, expected, target, dest);
                let failed = r.is_err();
                if let Ok(mut all) = results.lock() {
                    all[i] = Some(r);
                }
                if failed {
                    // Stop handing out work; the run fails anyway.
                    next.store(files.len(), Ordering::SeqCst);
                    break;
                }
            });
        }
    });
    let all = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let failure = all.iter().find_map(|r| match r {
        Some(Err(e)) => Some(e.clone()),
        _ => None,
    });
    if let Some(e) = failure {
        // Files fetched before the failure are whole, but a run that failed to get
        // all of them must not look as if it had.
        for ((_, _, path), r) in files.iter().zip(&all) {
            if matches!(r, Some(Ok(_))) {
                let _ = target.remove_file(path);
            }
        }
        return Err(e);
    }
    Ok(all.into_iter().flatten().filter_map(Result::ok).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arches(arch: Value, exclude: Value, src: bool) -> Vec<String> {
        koji_arches(
            &arch,
            &exclude,
            src,
            &[Arch::X86_64, Arch::I386, Arch::Armhfp],
        )
        .unwrap()
        .into_iter()
        .collect()
    }

    #[test]
    fn arches_expand_like_the_original() {
        assert_eq!(
            arches(json!(["all"]), Value::Null, true),
            ["armhfp", "armv7hl", "i386", "i486", "i586", "i686", "noarch", "src", "x86_64"]
        );
        assert_eq!(
            arches(json!("x86_64"), Value::Null, false),
            ["noarch", "x86_64"]
        );
        assert_eq!(arches(json!([]), Value::Null, true), ["src"]);
        assert_eq!(
            arches(json!("all"), json!(["i386", "armhfp", "noarch"]), false),
            ["x86_64"]
        );
        let err = koji_arches(&json!("x86-64"), &Value::Null, false, &[]).unwrap_err();
        assert!(err.contains("did you mean `x86_64`"), "{err}");
    }

    #[test]
    fn evr_order_is_rpms() {
        assert!(evr(0, "1.0", "1.fc39") < evr(0, "1.0", "2.fc39"));
        assert!(evr(1, "1.0", "1") > evr(0, "9.9", "9"));
        assert!(evr(0, "1.0~rc1", "1") < evr(0, "1.0", "1"));
        assert!(evr(0, "1.0^git1", "1") > evr(0, "1.0", "1"));
    }

    #[test]
    fn nvrs_are_normalised() {
        assert_eq!(normalise_nvr("grep-3.11-1.fc39"), "grep-3.11-1.fc39");
        assert_eq!(normalise_nvr("grep-1:3.11-1.fc39"), "grep-3.11-1.fc39");
        assert_eq!(normalise_nvr("grep-3.11-1.fc39.rpm"), "grep-3.11-1.fc39");
    }
}
