//! `tmt`: runs the plans of an fmf tree (a package's own tests) the way `tmt run
//! -a provision -h local` runs them, for the run's item and arch.
//!
//! The tree is read by `taskotron-fmf` for the run's context (`distro` from the
//! item's dist tag, `arch`, `trigger`, then `context` over them). Each plan's
//! `discover` (`fmf`, `shell`), `prepare` (`shell`; `install` checks the packages
//! are there), `execute` (`tmt`: `shell` and `beakerlib` tests) and `finish`
//! (`shell`) run in order; `provision` is the run itself (its sandbox, or the
//! `--ssh` host), and a provisioner we do not have is refused before anything
//! runs. Each test runs under `bash -c` with `set -eo pipefail` in its `path`,
//! with the `TMT_*` variables and the helpers (`tmt-report-result`,
//! `tmt-file-submit`, `tmt-abort`) on PATH, and `duration` as its timeout. Each
//! plan writes tmt's own `results.yaml` under `tmt/<plan>/execute/`, every test
//! is a case, and each plan is one result named as Fedora CI names it.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Map, Value};
use taskotron_fmf::tmt as fmt_tmt;
use taskotron_fmf::tmt::parse_duration;

use super::{Context, Directive, Failure, Param, ParamKind, Params, Shape, Spec};
use crate::results::{resultyaml, Case, CaseStatus, CheckDetail, Outcome};

/// The `tmt` directive.
pub struct Tmt;

static SPEC: Spec = Spec {
    name: "tmt",
    summary: "run the tmt plans of an fmf tree (a package's own tests) for the item and arch",
    shape: Shape::Params {
        params: &[
            Param {
                name: "tree",
                required: false,
                kind: ParamKind::Path,
                doc: "the fmf tree, relative to the task directory (default: the task directory)",
            },
            Param {
                name: "plan",
                required: false,
                kind: ParamKind::Str,
                doc: "run the plans whose name matches this regex (default: every enabled plan)",
            },
            Param {
                name: "context",
                required: false,
                kind: ParamKind::Str,
                doc: "context over the run's: `dim=value[,value]` settings separated by `;`",
            },
            Param {
                name: "checkname",
                required: false,
                kind: ParamKind::Str,
                doc: "each plan's result name; `{plan}` and `{artifact}` are replaced (default: the config's `tmt_checkname`, `fedora-ci.{artifact}.{plan}.functional`)",
            },
        ],
        extra: false,
    },
    returns: "one result per plan, as ResultYAML",
    exactly_one: &[],
};

/// The result name Fedora CI gives a plan (`resultsdb-testcase: separate`).
pub const DEFAULT_CHECKNAME: &str = crate::config::defaults::TMT_CHECKNAME;

/// The provisioners that are the run itself.
const LOCAL_PROVISION: &[&str] = &["local", "connect"];

/// The distro a release's dist tag names: `fc41` is `fedora-41`, `el9` is
/// `centos-stream-9`, `eln` is `eln`; from an NVR, a tag (`f41-updates`) or an
/// update alias's builds it cannot say, and none is set.
pub fn distro_of(item: &str, item_type: &str) -> Option<String> {
    let from_tag = |t: &str| {
        if let Some(n) = t
            .strip_prefix("fc")
            .filter(|n| n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty())
        {
            return Some(format!("fedora-{n}"));
        }
        if let Some(n) = t
            .strip_prefix("el")
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit() || c == '_'))
        {
            return Some(format!(
                "centos-stream-{}",
                n.split('_').next().unwrap_or(n)
            ));
        }
        (t == "eln").then(|| "eln".to_string())
    };
    match item_type {
        "koji_build" => {
            let release = item.rsplit('-').next()?;
            release.split('.').rev().find_map(from_tag)
        }
        "koji_tag" => {
            let first = item.split('-').next()?;
            if first == "rawhide" {
                return Some("fedora-rawhide".into());
            }
            first
                .strip_prefix('f')
                .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
                .map(|n| format!("fedora-{n}"))
                .or_else(|| from_tag(first))
        }
        _ => None,
    }
}

/// The `trigger` dimension for an item type.
pub fn trigger_of(item_type: &str) -> Option<&'static str> {
    match item_type {
        "koji_build" => Some("build"),
        "bodhi_update" => Some("update"),
        "koji_tag" => Some("compose"),
        _ => None,
    }
}

/// The context a run gives a tree, `overrides` (`dim=v;dim=v`) over it.
///
/// # Errors
/// An override that is no `dim=value`, or a near miss of a known dimension.
pub fn run_context(
    item: &str,
    item_type: &str,
    arch: &str,
    overrides: &str,
) -> Result<taskotron_fmf::Context, String> {
    let mut ctx = taskotron_fmf::Context::new();
    if let Some(d) = distro_of(item, item_type) {
        ctx.set("distro", vec![d]);
    }
    ctx.set("arch", vec![arch.to_string()]);
    if let Some(t) = trigger_of(item_type) {
        ctx.set("trigger", vec![t.to_string()]);
    }
    for pair in overrides
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        ctx.set_pair(pair)?;
    }
    if let Some(d) = taskotron_fmf::context::check_dimensions(&ctx).first() {
        return Err(format!(
            "{}{}",
            d.message,
            d.help
                .as_deref()
                .map(|h| format!(" ({h})"))
                .unwrap_or_default()
        ));
    }
    Ok(ctx)
}

fn hms(d: Duration) -> String {
    let s = d.as_secs();
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn iso(t: SystemTime) -> String {
    // tmt writes UTC with microseconds and an offset.
    let text = humantime::format_rfc3339_micros(t).to_string();
    text.trim_end_matches('Z').to_string() + "+00:00"
}

/// tmt's outcomes, worst last.
fn rank(result: &str) -> u8 {
    match result {
        "skip" => 0,
        "pass" => 1,
        "info" => 2,
        "warn" => 3,
        "fail" => 4,
        "pending" => 5,
        _ => 6,
    }
}

/// A plan's worst tmt outcome in our words.
fn outcome_of(worst: &str) -> Outcome {
    match worst {
        "pass" => Outcome::Passed,
        "info" => Outcome::Info,
        "fail" => Outcome::Failed,
        _ => Outcome::NeedsInspection,
    }
}

fn case_status(result: &str) -> CaseStatus {
    match result {
        "pass" | "info" => CaseStatus::Passed,
        "fail" | "warn" => CaseStatus::Failed,
        "skip" => CaseStatus::Skipped,
        _ => CaseStatus::Error,
    }
}

/// The helpers a test finds on PATH, as small shell scripts: each writes what
/// tmt's writes where tmt's does.
const HELPERS: &[(&str, &str)] = &[
    (
        "tmt-report-result",
        "#!/bin/bash\n# Reports a result of the running test: tmt-report-result [-o FILE] NAME RESULT\nwhile [ $# -gt 2 ]; do case \"$1\" in -o|--outputFile) shift 2;; -t|--disable-plugin|-p|--server|-s|--port) shift 2;; *) shift;; esac; done\n[ $# -eq 2 ] || { echo \"usage: tmt-report-result [-o FILE] NAME RESULT\" >&2; exit 2; }\nresult=$(printf %s \"$2\" | tr '[:upper:]' '[:lower:]')\ncase \"$result\" in pass|fail|warn|skip|info|error) ;; *) echo \"tmt-report-result: unknown result '$2'\" >&2; exit 2;; esac\nprintf -- '- name: %s\\n  result: %s\\n' \"$1\" \"$result\" >> \"$TMT_TEST_DATA/tmt-report-results.yaml\"\n",
    ),
    (
        "tmt-file-submit",
        "#!/bin/bash\n# Keeps a file with the running test's logs: tmt-file-submit [-l] FILE\n[ \"$1\" = -l ] && shift\n[ -f \"$1\" ] || { echo \"tmt-file-submit: no file '$1'\" >&2; exit 2; }\ncp -- \"$1\" \"$TMT_TEST_DATA/\" && printf '%s\\n' \"$(basename -- \"$1\")\" >> \"$TMT_TEST_DATA/.submitted\"\n",
    ),
    (
        "tmt-abort",
        "#!/bin/bash\n# Stops the running test and the plan's remaining tests.\ntouch \"$TMT_TEST_DATA/abort\"\nkill -TERM \"$PPID\" 2>/dev/null\nexit 1\n",
    ),
];

/// One discovered test, ready to run.
struct Test {
    name: String,
    script: String,
    path: PathBuf,
    duration: Duration,
    framework: String,
    result: String,
    environment: BTreeMap<String, String>,
    record: Map<String, Value>,
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

impl Directive for Tmt {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run(&self, params: &Params, ctx: &mut Context) -> Result<Value, Failure> {
        let p = |key: &str| super::text_param(params, key);
        let tree_dir = match p("tree").as_str() {
            "" | "." => ctx.taskdir.clone(),
            t => ctx.taskdir.join(t),
        };
        let fmf_ctx = run_context(&ctx.item, &ctx.item_type, &ctx.arch, &p("context"))
            .map_err(|e| Failure::new(format!("tmt: the context: {e}")))?;
        let tree = fmt_tmt::load(&tree_dir, &fmf_ctx).map_err(|d| {
            Failure::new(format!(
                "tmt: {}",
                crate::diagnostic::render_all(&d).trim_end()
            ))
        })?;
        let wanted = p("plan");
        let pattern = regex::Regex::new(&wanted)
            .map_err(|e| Failure::new(format!("tmt: `plan` is no regular expression: {e}")))?;
        let all = fmt_tmt::plans(&tree, &fmf_ctx);
        let plans: Vec<_> = all
            .iter()
            .filter(|r| pattern.is_match(r.name()))
            .filter(|r| r.get("enabled") != Some(&Value::Bool(false)))
            .collect();
        if plans.is_empty() {
            let names: Vec<&str> = all.iter().map(|r| r.name()).collect();
            return Err(Failure::new(if names.is_empty() {
                format!(
                    "tmt: no plan in `{}` (a plan is a node with `execute`)",
                    tree.root.display()
                )
            } else {
                format!(
                    "tmt: no enabled plan matches `{wanted}` for this context; the plans: {}{}",
                    names.join(", "),
                    crate::suggest::did_you_mean(&wanted, names.iter().copied())
                        .map(|n| format!(" (did you mean `{n}`?)"))
                        .unwrap_or_default()
                )
            }));
        }
        // Every plan is checked before any runs: a provisioner we do not have is
        // said up front.
        for plan in plans
            .iter()
            .filter(|p| !is_default_provision(&tree, p.name()))
        {
            for phase in fmt_tmt::phases("provision", plan.get("provision")) {
                let how = phase.get("how").map(text).unwrap_or_default();
                if !LOCAL_PROVISION.contains(&how.as_str()) {
                    return Err(Failure::new(format!(
                        "tmt: plan `{}` asks for `provision: how: {how}`, which is not here: taskotron runs a plan where the run is (its sandbox, or the `--ssh` host), so use `how: local`, or run this plan with `tmt run`",
                        plan.name()
                    )));
                }
            }
        }
        // Every file a run's directories hold is opened beneath them, never by a
        // name a test could have made a link of.
        let helpers = ctx.workdir.join("tmt-bin");
        let bin = ctx.roots.create_dir_all(&helpers).map_err(beneath)?;
        for (name, script) in HELPERS {
            let mut f = bin.create(name).map_err(beneath)?;
            use std::io::Write as _;
            f.write_all(script.as_bytes())
                .map_err(|e| Failure::new(format!("tmt: {e}")))?;
            set_executable(&f)?;
        }
        let template = match p("checkname").as_str() {
            "" => ctx.services.tmt_checkname.clone(),
            t => t.to_string(),
        };
        let artifact = ctx.item_type.replace('_', "-");
        let mut details = Vec::new();
        let mut cases = Vec::new();
        for plan in plans {
            let (detail, mut plan_cases) =
                run_plan(ctx, &tree, plan, &fmf_ctx, &helpers, &template, &artifact)?;
            details.push(detail);
            cases.append(&mut plan_cases);
        }
        ctx.cases = cases;
        Ok(Value::String(resultyaml::export(&details)))
    }
}

/// Whether the plan left `provision` unset (tmt's default is `virtual`; ours is
/// the run itself).
fn is_default_provision(tree: &taskotron_fmf::Tree, plan: &str) -> bool {
    tree.nodes
        .iter()
        .find(|n| n.name == plan)
        .is_some_and(|n| n.get("provision").is_none())
}

fn set_executable(file: &File) -> Result<(), Failure> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(PermissionsExt::from_mode(0o755))
        .map_err(|e| Failure::new(format!("tmt: {e}")))
}

fn beneath(e: taskotron_beneath::Error) -> Failure {
    Failure::new(format!("tmt: {e}"))
}

/// Reads `rel` beneath `dir`, at most 1 MiB; none when it is not there.
fn read_small(dir: &taskotron_beneath::Dir, rel: &str) -> Option<String> {
    dir.read_to_string(rel, 1 << 20).ok()
}

/// Whether `a` and `b` name one directory (by its device and inode).
fn same_dir(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (a.metadata(), b.metadata()) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// A name as a directory name: `/plans/smoke` is `plans/smoke`.
fn slug(name: &str) -> String {
    name.trim_start_matches('/')
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_./".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .replace("..", "_")
}

/// Where a discover phase with `url` gets its tests: the repository through the
/// run's task mirror, checked out under the run's workdir.
struct Remote<'a> {
    mirror: Option<&'a crate::mirror::Mirror>,
    /// The plan's checkouts go under here (`<workdir>/tmt-discover/<plan>-<n>`).
    dir: PathBuf,
    ctx: &'a taskotron_fmf::Context,
}

impl Remote<'_> {
    /// The fmf tree at `path` of `url` at `git_ref` (the default branch when none),
    /// adjusted for the run's context, and the directory its tests run in.
    fn fetch(
        &self,
        n: usize,
        url: &str,
        git_ref: Option<&str>,
        path: &str,
    ) -> Result<(taskotron_fmf::Tree, PathBuf), String> {
        use crate::mirror::MirrorError;
        let mirror = self
            .mirror
            .ok_or("this run has no task mirror to fetch it through")?;
        if path.split('/').any(|c| c == "..") {
            return Err(format!("its `path` `{path}` leaves the repository"));
        }
        let dest = self.dir.join(n.to_string());
        mirror.update(url, false).map_err(|e| e.to_string())?;
        match mirror.checkout(url, git_ref, &dest) {
            // A mirror fetched before the ref was pushed: fetch once more.
            Err(MirrorError::UnknownRef { .. }) => {
                mirror.update(url, true).map_err(|e| e.to_string())?;
                mirror.checkout(url, git_ref, &dest)
            }
            other => other,
        }
        .map_err(|e| e.to_string())?;
        let root = dest.join(path.trim_start_matches('/'));
        let tree = fmt_tmt::load(&root, self.ctx)
            .map_err(|d| crate::diagnostic::render_all(&d).trim_end().to_string())?;
        Ok((tree, root))
    }
}

fn discover(
    tree: &taskotron_fmf::Tree,
    base: &Path,
    plan: &fmt_tmt::Record,
    remote: &Remote<'_>,
    problems: &mut Vec<String>,
) -> Vec<Test> {
    let local = fmt_tmt::tests(tree);
    let mut found = Vec::new();
    for (n, phase) in fmt_tmt::phases("discover", plan.get("discover"))
        .into_iter()
        .enumerate()
    {
        let how = phase.get("how").map(text).unwrap_or_default();
        match how.as_str() {
            "fmf" => {
                let fetched;
                let (tree, records, base) = match phase.get("url").map(text) {
                    None => (tree, &local, base),
                    Some(url) => {
                        let git_ref = phase.get("ref").map(text);
                        let path = phase.get("path").map(text).unwrap_or_default();
                        match remote.fetch(n + 1, &url, git_ref.as_deref(), &path) {
                            Ok((t, root)) => {
                                fetched = (fmt_tmt::tests(&t), root, t);
                                (&fetched.2, &fetched.0, fetched.1.as_path())
                            }
                            Err(e) => {
                                problems.push(format!("discover `url: {url}`: {e}"));
                                continue;
                            }
                        }
                    }
                };
                let list = |k: &str| match phase.get(k) {
                    Some(Value::Array(a)) => a.iter().map(text).collect(),
                    Some(Value::Null) | None => Vec::new(),
                    Some(v) => vec![text(v)],
                };
                let selection = fmt_tmt::Selection {
                    names: list("test"),
                    filters: list("filter"),
                    links: list("link"),
                    excludes: list("exclude"),
                    ..Default::default()
                };
                let mut chosen: Vec<&fmt_tmt::Record> = Vec::new();
                for r in records {
                    match selection.keeps(tree, r) {
                        Ok(true) => chosen.push(r),
                        Ok(false) => {}
                        Err(e) => problems.push(format!("discover: {e}")),
                    }
                }
                chosen.sort_by_key(|r| r.get("order").and_then(Value::as_i64).unwrap_or(50));
                for r in chosen {
                    if r.get("enabled") == Some(&Value::Bool(false)) {
                        continue;
                    }
                    let map = r.to_map();
                    let rel = map.get("path").map(text).unwrap_or_default();
                    let path = base.join(rel.trim_start_matches('/'));
                    if rel.split('/').any(|c| c == "..") {
                        problems.push(format!(
                            "test `{}`: its `path` `{rel}` leaves the tree",
                            r.name()
                        ));
                        continue;
                    }
                    found.push(test_of(r.name(), &map, path, problems));
                }
            }
            "shell" => {
                let tests = match phase.get("tests") {
                    Some(Value::Array(a)) => a.clone(),
                    _ => Vec::new(),
                };
                for t in tests {
                    let Some(m) = t.as_object() else { continue };
                    let name = m.get("name").map(text).unwrap_or_else(|| "test".into());
                    let name = if name.starts_with('/') {
                        name
                    } else {
                        format!("/{name}")
                    };
                    let mut map = m.clone();
                    map.entry("framework").or_insert(json!("shell"));
                    let path = base.join(
                        m.get("path")
                            .map(text)
                            .unwrap_or_default()
                            .trim_start_matches('/'),
                    );
                    found.push(test_of(&name, &map, path, problems));
                }
            }
            other => problems.push(format!(
                "discover `how: {other}` is not here: use `how: fmf` or `how: shell`"
            )),
        }
    }
    found
}

fn test_of(
    name: &str,
    map: &Map<String, Value>,
    path: PathBuf,
    problems: &mut Vec<String>,
) -> Test {
    let duration_text = map.get("duration").map_or_else(|| "5m".to_string(), text);
    let duration = parse_duration(&duration_text).unwrap_or_else(|| {
        problems.push(format!(
            "test `{name}`: `duration: {duration_text}` is no duration (such as `5m` or `1h 30m`)"
        ));
        Duration::from_secs(300)
    });
    let environment = match map.get("environment") {
        Some(Value::Object(e)) => e.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
        _ => BTreeMap::new(),
    };
    Test {
        name: name.to_string(),
        script: map.get("test").map(text).unwrap_or_default(),
        path,
        duration,
        framework: map.get("framework").map_or_else(|| "shell".into(), text),
        result: map.get("result").map_or_else(|| "respect".into(), text),
        environment,
        record: map.clone(),
    }
}

/// Runs `script` lines of a `prepare`/`finish` phase in the tree.
fn run_scripts(
    ctx: &mut Context,
    step: &str,
    phase: &Map<String, Value>,
    root: &Path,
    env: &[(String, String)],
    log: &File,
) -> Result<(), String> {
    let scripts: Vec<String> = match phase.get("script") {
        Some(Value::Array(a)) => a.iter().map(text).collect(),
        Some(v) => vec![text(v)],
        None => Vec::new(),
    };
    for script in scripts {
        let mut c = Command::new("bash");
        c.args(["-c", &format!("set -eo pipefail\n{script}")])
            .current_dir(root);
        let ended = with_output(ctx, log, |ctx| ctx.run_task(c, &[], ctx.timeout, env))
            .map_err(|e| format!("{step}: cannot start bash: {e}"))?;
        match ended {
            crate::process::Ended::Exited(s) if s.success() => {}
            other => return Err(format!("{step} `{script}` ended {}", ended_words(&other))),
        }
    }
    Ok(())
}

pub(super) fn ended_words(e: &crate::process::Ended) -> String {
    use crate::process::Ended;
    match e {
        Ended::Exited(s) => s.code().map_or_else(
            || format!("by a signal ({s})"),
            |c| format!("with exit code {c}"),
        ),
        Ended::TimedOut => "past its time".into(),
        Ended::Interrupted(sig) => format!("interrupted (signal {sig})"),
        Ended::Stopped => "stopped at a limit of the sandbox".into(),
    }
}

/// Runs `f` with the action's output going to `log` instead.
pub(super) fn with_output<T>(
    ctx: &mut Context,
    log: &File,
    f: impl FnOnce(&mut Context) -> T,
) -> T {
    let (out, err) = match (log.try_clone(), log.try_clone()) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return f(ctx),
    };
    let old_out = std::mem::replace(&mut ctx.stdout, out);
    let old_err = std::mem::replace(&mut ctx.stderr, err);
    let r = f(ctx);
    ctx.stdout = old_out;
    ctx.stderr = old_err;
    r
}

#[allow(clippy::too_many_lines)]
fn run_plan(
    ctx: &mut Context,
    tree: &taskotron_fmf::Tree,
    plan: &fmt_tmt::Record,
    fmf_ctx: &taskotron_fmf::Context,
    helpers: &Path,
    template: &str,
    artifact: &str,
) -> Result<(CheckDetail, Vec<Case>), Failure> {
    let plan_dir_rel = PathBuf::from("tmt").join(slug(plan.name()));
    let plan_dir = ctx.artifactsdir.join(&plan_dir_rel);
    // tmt's layout: each test's files under its guest's directory.
    let data_dir = plan_dir.join("execute/data/guest/default-0");
    let plan_handle = ctx.roots.create_dir_all(&plan_dir).map_err(beneath)?;
    let data_handle = plan_handle
        .create_dir_all("execute/data/guest/default-0")
        .map_err(beneath)?;
    let plan_log = plan_handle.create("log.txt").map_err(beneath)?;
    let checkname = template
        .replace("{plan}", plan.name())
        .replace("{artifact}", artifact);
    let mut problems = Vec::new();
    // The tree's root as the run's roots name it (the task directory, not its
    // canonical path), so every path a test uses is found beneath them.
    let canonical = std::path::absolute(&tree.root).unwrap_or_else(|_| tree.root.clone());
    let base = ctx
        .roots
        .locate(&ctx.taskdir)
        .ok()
        .filter(|_| same_dir(&ctx.taskdir, &canonical))
        .map_or_else(|| tree.root.clone(), |_| ctx.taskdir.clone());
    let remote = Remote {
        mirror: ctx.services.mirror.as_ref(),
        dir: ctx.workdir.join("tmt-discover").join(slug(plan.name())),
        ctx: fmf_ctx,
    };
    let tests = discover(tree, &base, plan, &remote, &mut problems);
    let plan_env: BTreeMap<String, String> = match plan.get("environment") {
        Some(Value::Object(e)) => e.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
        _ => BTreeMap::new(),
    };
    let context_json = fmf_ctx.to_json();
    let path_var = ctx
        .env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map_or_else(|| "/usr/bin:/bin".to_string(), |(_, v)| v.clone());
    let mut base_env: Vec<(String, String)> = ctx
        .env
        .iter()
        .filter(|(k, _)| k != "PATH")
        .cloned()
        .collect();
    base_env.push(("PATH".into(), format!("{}:{path_var}", helpers.display())));
    base_env.push(("TMT_TREE".into(), base.display().to_string()));
    base_env.push((
        "TMT_PLAN_DATA".into(),
        plan_dir.join("data").display().to_string(),
    ));
    base_env.push(("TMT_VERSION".into(), "1.80.0".into()));
    plan_handle.create_dir_all("data").map_err(beneath)?;
    base_env.extend(plan_env.iter().map(|(k, v)| (k.clone(), v.clone())));

    // discover's `dist-git-source: true`: the package's source, prepared by its
    // spec's %prep, in $TMT_SOURCE_DIR.
    let wants_source = fmt_tmt::phases("discover", plan.get("discover"))
        .iter()
        .any(|p| p.get("dist-git-source") == Some(&Value::Bool(true)));
    if problems.is_empty() && wants_source {
        if let Err(e) = dist_git_source(ctx, &base, &plan_dir, &base_env, &plan_log) {
            problems.push(e);
        }
    }

    // prepare
    if problems.is_empty() {
        for phase in fmt_tmt::phases("prepare", plan.get("prepare")) {
            let how = phase.get("how").map(text).unwrap_or_default();
            let r = match how.as_str() {
                "shell" => run_scripts(ctx, "prepare", &phase, &base, &base_env, &plan_log),
                "install" => {
                    missing_packages(ctx, &phase, &base_env, &plan_log).map_or(Ok(()), Err)
                }
                other => Err(format!(
                    "prepare `how: {other}` is not here: use `shell` or `install`"
                )),
            };
            if let Err(e) = r {
                problems.push(e);
                break;
            }
        }
    }
    let mut results = Vec::new();
    let mut cases = Vec::new();
    let mut aborted = false;
    if problems.is_empty() {
        for (serial, test) in tests.iter().enumerate() {
            let serial = serial + 1;
            if aborted {
                break;
            }
            let (result, case, abort) = run_test(
                ctx,
                test,
                serial,
                (&data_dir, &data_handle),
                &plan_dir,
                &base_env,
                &plan_env,
                &context_json,
                &checkname,
            )?;
            aborted = abort;
            results.extend(result);
            cases.push(case);
        }
        for phase in fmt_tmt::phases("finish", plan.get("finish")) {
            if phase.get("how").map(text).as_deref() == Some("shell") {
                if let Err(e) = run_scripts(ctx, "finish", &phase, &base, &base_env, &plan_log) {
                    problems.push(e);
                }
            }
        }
    }
    let yaml = serde_norway::to_string(&results).map_err(|e| Failure::new(format!("tmt: {e}")))?;
    plan_handle
        .write("execute/results.yaml", yaml)
        .map_err(beneath)?;

    let worst = results
        .iter()
        .filter_map(|r| r.get("result").and_then(Value::as_str))
        .filter(|r| *r != "skip")
        .max_by_key(|r| rank(r))
        .unwrap_or(if problems.is_empty() { "skip" } else { "error" })
        .to_string();
    let counts = |what: &str| {
        results
            .iter()
            .filter(|r| r.get("result").and_then(Value::as_str) == Some(what))
            .count()
    };
    let mut note = ["pass", "fail", "warn", "error", "info", "skip"]
        .iter()
        .filter(|w| counts(w) > 0)
        .map(|w| format!("{} {w}", counts(w)))
        .collect::<Vec<_>>()
        .join(", ");
    if results.is_empty() && problems.is_empty() {
        note = "no tests".into();
    }
    if !problems.is_empty() {
        note = format!(
            "{}{}",
            if note.is_empty() {
                String::new()
            } else {
                format!("{note}; ")
            },
            problems.join("; ")
        );
    }
    let mut outcome = if problems.is_empty() {
        outcome_of(&worst)
    } else {
        Outcome::NeedsInspection
    };
    if results.is_empty() && problems.is_empty() {
        outcome = Outcome::NeedsInspection;
    }
    let mut detail = CheckDetail::new(ctx.item.clone(), Some(&ctx.item_type), outcome);
    detail.note = note;
    detail.checkname = Some(checkname);
    detail.artifact = Some(
        plan_dir_rel
            .join("execute/results.yaml")
            .display()
            .to_string(),
    );
    detail.keyvals.insert("plan".into(), json!(plan.name()));
    detail.keyvals.insert("tmt_result".into(), json!(worst));
    detail.keyvals.insert("context".into(), context_json);
    Ok((detail, cases))
}

/// Prepares the source of the package whose dist-git `base` is (its one spec
/// file, its sources beside it) in `<plan_dir>/discover/source`, with
/// `rpmbuild -bp`, as tmt's `dist-git-source` does; nothing is downloaded, so a
/// source from the lookaside cache must be in the checkout already.
fn dist_git_source(
    ctx: &mut Context,
    base: &Path,
    plan_dir: &Path,
    env: &[(String, String)],
    log: &File,
) -> Result<(), String> {
    let checkout = ctx.roots.create_dir_all(base).map_err(|e| e.to_string())?;
    let specs: Vec<String> = checkout
        .list()
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|(n, _)| n.to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".spec"))
        .collect();
    let [spec] = specs.as_slice() else {
        return Err(format!(
            "discover `dist-git-source: true`: expected one spec file in `{}`, found {}",
            base.display(),
            specs.len()
        ));
    };
    let source = plan_dir.join("discover/source");
    let top = ctx.workdir.join("dist-git-source");
    for d in [&source, &top] {
        ctx.roots.create_dir_all(d).map_err(|e| e.to_string())?;
    }
    let define = |k: &str, v: &Path| format!("{k} {}", v.display());
    let mut c = Command::new("rpmbuild");
    c.args(["-bp", "--nodeps"])
        .args(["--define", &define("_topdir", &top)])
        .args(["--define", &define("_tmppath", &top)])
        .args(["--define", &define("_sourcedir", base)])
        .args(["--define", &define("_builddir", &source)])
        .arg(base.join(spec))
        .current_dir(base);
    let ended = with_output(ctx, log, |ctx| {
        ctx.run_task(c, &[], Duration::from_secs(600), env)
    })
    .map_err(|e| format!("discover `dist-git-source: true`: cannot run rpmbuild: {e}"))?;
    if matches!(ended, crate::process::Ended::Exited(s) if s.success()) {
        Ok(())
    } else {
        Err(format!(
            "discover `dist-git-source: true`: %prep of {spec} ended {} (its output is in the plan's log.txt; a source from the lookaside cache must be fetched first, with `fedpkg sources`)",
            ended_words(&ended)
        ))
    }
}

/// The `install` phase's packages that `rpm -q --whatprovides` does not find
/// where the run's processes run (its sandbox, if any).
fn missing_packages(
    ctx: &mut Context,
    phase: &Map<String, Value>,
    env: &[(String, String)],
    log: &File,
) -> Option<String> {
    let packages: Vec<String> = match phase.get("package") {
        Some(Value::Array(a)) => a.iter().map(text).collect(),
        Some(v) => vec![text(v)],
        None => Vec::new(),
    };
    let mut missing = Vec::new();
    for p in &packages {
        let mut c = Command::new("rpm");
        c.args(["-q", "--whatprovides", p.as_str()]);
        let found = with_output(ctx, log, |ctx| {
            ctx.run_task(c, &[], Duration::from_secs(60), env)
        });
        if !matches!(found, Ok(crate::process::Ended::Exited(s)) if s.success()) {
            missing.push(p.as_str());
        }
    }
    (!missing.is_empty()).then(|| {
        format!(
            "prepare `install`: not installed here: {} (taskotron does not install packages on the worker; install them in its image, or add a `prepare: how: shell` that does)",
            missing.join(", ")
        )
    })
}

#[allow(clippy::too_many_arguments)]
fn run_test(
    ctx: &mut Context,
    test: &Test,
    serial: usize,
    (data_dir, data_handle): (&Path, &taskotron_beneath::Dir),
    plan_dir: &Path,
    base_env: &[(String, String)],
    plan_env: &BTreeMap<String, String>,
    context_json: &Value,
    checkname: &str,
) -> Result<(Vec<Value>, Case, bool), Failure> {
    let dir_name = format!("{}-{serial}", slug(&test.name));
    let test_dir = data_dir.join(&dir_name);
    let test_data = test_dir.join("data");
    let test_handle = data_handle.create_dir_all(&dir_name).map_err(beneath)?;
    let data = test_handle.create_dir_all("data").map_err(beneath)?;
    let output_path = test_dir.join("output.txt");
    let output = test_handle.create("output.txt").map_err(beneath)?;
    let metadata = test_dir.join("metadata.yaml");
    test_handle
        .write(
            "metadata.yaml",
            serde_norway::to_string(&test.record).unwrap_or_default(),
        )
        .map_err(beneath)?;
    let mut env: Vec<(String, String)> = base_env.to_vec();
    // The test's environment, then the plan's over it (a plan's wins).
    for (k, v) in &test.environment {
        if !plan_env.contains_key(k) {
            env.push((k.clone(), v.clone()));
        }
    }
    env.extend([
        ("TMT_TEST_NAME".to_string(), test.name.clone()),
        ("TMT_TEST_DATA".to_string(), test_data.display().to_string()),
        ("TMT_TEST_SERIAL_NUMBER".to_string(), serial.to_string()),
        (
            "TMT_TEST_METADATA".to_string(),
            metadata.display().to_string(),
        ),
        ("TMT_REBOOT_COUNT".to_string(), "0".to_string()),
        (
            "TMT_SOURCE_DIR".to_string(),
            plan_dir.join("discover/source").display().to_string(),
        ),
    ]);
    let start = SystemTime::now();
    let clock = Instant::now();
    let mut notes: Vec<String> = Vec::new();
    let beakerlib = test.framework == "beakerlib";
    let ended = if beakerlib && !Path::new("/usr/share/beakerlib/beakerlib.sh").exists() {
        notes.push(
            "beakerlib is not installed here (it provides /usr/share/beakerlib/beakerlib.sh)"
                .into(),
        );
        None
    } else if !ctx
        .roots
        .locate(&test.path)
        .is_ok_and(|(dir, rel)| rel.as_os_str().is_empty() || dir.open_dir(&rel).is_ok())
    {
        notes.push(format!(
            "the test's path `{}` is no directory",
            test.path.display()
        ));
        None
    } else {
        if beakerlib {
            env.push(("BEAKERLIB_DIR".into(), test_data.display().to_string()));
        }
        let mut c = Command::new("bash");
        c.args(["-c", &format!("set -eo pipefail\n{}", test.script)])
            .current_dir(&test.path);
        let ended = with_output(ctx, &output, |ctx| {
            ctx.run_task(c, &[], test.duration, &env)
        });
        match ended {
            Ok(e) => Some(e),
            Err(e) => {
                notes.push(format!("cannot start bash: {e}"));
                None
            }
        }
    };
    let elapsed = clock.elapsed();
    let end = SystemTime::now();
    use crate::process::Ended;
    let original = match &ended {
        None => "error".to_string(),
        Some(Ended::Exited(s)) if beakerlib => {
            let file = read_small(&data, "TestResults").unwrap_or_default();
            let said = file
                .lines()
                .find_map(|l| l.strip_prefix("TESTRESULT_RESULT_STRING="))
                .map(|v| v.trim_matches(['"', '\'']).to_lowercase());
            match said.as_deref() {
                Some("pass") => "pass".into(),
                Some("fail") => "fail".into(),
                Some("warn") => "warn".into(),
                Some(other) => {
                    notes.push(format!("beakerlib said `{other}`"));
                    "error".into()
                }
                None => {
                    notes.push(format!(
                        "beakerlib wrote no TestResults (the test ended {})",
                        ended_words(&Ended::Exited(*s))
                    ));
                    "error".into()
                }
            }
        }
        Some(Ended::Exited(s)) => match s.code() {
            Some(0) => "pass".into(),
            Some(1) => "fail".into(),
            Some(c) => {
                notes.push(format!("the test ended with exit code {c}"));
                "error".into()
            }
            None => {
                notes.push(format!(
                    "the test ended {}",
                    ended_words(&Ended::Exited(*s))
                ));
                "error".into()
            }
        },
        Some(Ended::TimedOut) => {
            notes.push(format!(
                "timeout: killed after its duration ({})",
                hms(test.duration)
            ));
            "error".into()
        }
        Some(other) => {
            notes.push(format!("the test {}", ended_words(other)));
            "error".into()
        }
    };
    let abort = matches!(data.entry("abort"), Ok(Some(_)));
    if abort {
        notes.push("aborted by tmt-abort: the plan's remaining tests were not run".into());
    }
    // Results the test reported itself (tmt-report-result): once called, the exit
    // code no longer decides; the worst of them does.
    let reported: Vec<(String, String)> = read_small(&data, "tmt-report-results.yaml")
        .and_then(|t| serde_norway::from_str::<Vec<Map<String, Value>>>(&t).ok())
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            (
                m.get("name").map(text).unwrap_or_default(),
                m.get("result").map(text).unwrap_or_default(),
            )
        })
        .collect();
    let mut result = match (&*test.result, reported.is_empty()) {
        (_, _) if abort => "error".to_string(),
        ("custom", _) => custom_result(&data).unwrap_or_else(|why| {
            notes.push(why);
            "error".into()
        }),
        ("restraint", false) | ("respect", false) | ("xfail", false) => reported
            .iter()
            .map(|(_, r)| r.as_str())
            .max_by_key(|r| rank(r))
            .unwrap_or("pass")
            .to_string(),
        _ => original.clone(),
    };
    match test.result.as_str() {
        "xfail" if result == "pass" => result = "fail".into(),
        "xfail" if result == "fail" => result = "pass".into(),
        forced @ ("pass" | "info" | "warn" | "error" | "fail") => {
            if result != forced {
                notes.push(format!("original result: {original}"));
            }
            result = forced.to_string();
        }
        _ => {}
    }
    // Paths as tmt writes them: from the plan's `execute` directory.
    let rel = format!("data/guest/default-0/{dir_name}");
    let mut logs = vec![format!("{rel}/output.txt")];
    if let Some(sub) = read_small(&data, ".submitted") {
        logs.extend(sub.lines().map(|f| format!("{rel}/data/{f}")));
    }
    let subresults: Vec<Value> = reported
        .iter()
        .map(|(n, r)| json!({"name": n, "result": r, "original-result": r, "end-time": iso(end)}))
        .collect();
    let record = json!({
        "name": test.name,
        "serial-number": serial,
        "result": result,
        "original-result": original,
        "note": notes,
        "log": logs,
        "start-time": iso(start),
        "end-time": iso(end),
        "duration": hms(elapsed),
        "guest": {"name": "default-0", "primary-address": "localhost", "role": null},
        "web-link": null,
        "data-path": format!("{rel}/data"),
        "context": context_json,
        "check": [],
        "subresult": if test.result == "restraint" { json!([]) } else { json!(subresults) },
        "ids": {
            "extra-nitrate": test.record.get("extra-nitrate").cloned().unwrap_or(Value::Null),
            "extra-task": test.record.get("extra-task").cloned().unwrap_or(Value::Null),
            "id": test.record.get("id").cloned().unwrap_or(Value::Null),
        },
        "fmf-id": {"name": test.name},
    });
    let mut records = vec![record];
    // `result: restraint`: each reported result is a result of its own.
    if test.result == "restraint" && !reported.is_empty() {
        records = reported
            .iter()
            .map(|(n, r)| {
                let mut one = records[0].clone();
                one["name"] = json!(format!("{}/{}", test.name, n.trim_start_matches('/')));
                one["result"] = json!(r);
                one["original-result"] = json!(r);
                one
            })
            .collect();
    }
    let tail = tail_of(&output);
    let case = Case {
        name: test.name.clone(),
        status: case_status(&result),
        line: 0,
        classname: Some(checkname.to_string()),
        reason: None,
        duration_ms: Some(elapsed.as_secs_f64() * 1000.0),
        message: (!notes.is_empty())
            .then(|| notes.join("; "))
            .or_else(|| (result != "pass").then(|| format!("tmt result: {result}"))),
        diagnostics: (!tail.is_empty()).then_some(tail),
        properties: vec![
            ("tmt_result".into(), result.clone()),
            (
                "log".into(),
                output_path
                    .strip_prefix(&ctx.artifactsdir)
                    .unwrap_or(&output_path)
                    .display()
                    .to_string(),
            ),
        ],
    };
    Ok((records, case, abort))
}

/// The last 20 lines of a test's output, read through its handle (the end of
/// at most 64 KiB, however much it wrote).
fn tail_of(output: &File) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = output.try_clone() else {
        return String::new();
    };
    let len = f.seek(SeekFrom::End(0)).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
    let mut bytes = Vec::new();
    let _ = f.take(64 * 1024).read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// `result: custom`: the test's own `results.yaml` or `results.json` in its data
/// directory; its worst result.
fn custom_result(data: &taskotron_beneath::Dir) -> Result<String, String> {
    let list: Vec<Map<String, Value>> = if let Some(t) = read_small(data, "results.yaml") {
        serde_norway::from_str(&t).map_err(|e| format!("results.yaml: {e}"))?
    } else if let Some(t) = read_small(data, "results.json") {
        serde_json::from_str(&t).map_err(|e| format!("results.json: {e}"))?
    } else {
        return Err(
            "`result: custom` but the test wrote no results.yaml or results.json in $TMT_TEST_DATA"
                .into(),
        );
    };
    list.iter()
        .filter_map(|m| m.get("result").and_then(Value::as_str))
        .max_by_key(|r| rank(r))
        .map(str::to_string)
        .ok_or_else(|| "the custom results hold no result".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dist_tags_name_distros() {
        assert_eq!(
            distro_of("htop-3.3.0-1.fc41", "koji_build").as_deref(),
            Some("fedora-41")
        );
        assert_eq!(
            distro_of("bash-5.1.8-9.el9", "koji_build").as_deref(),
            Some("centos-stream-9")
        );
        assert_eq!(
            distro_of("bash-5.2-1.el10_0", "koji_build").as_deref(),
            Some("centos-stream-10")
        );
        assert_eq!(
            distro_of("f40-updates-pending", "koji_tag").as_deref(),
            Some("fedora-40")
        );
        assert_eq!(distro_of("htop-3.3.0-1", "koji_build"), None);
        assert_eq!(distro_of("FEDORA-2024-1a2b", "bodhi_update"), None);
    }

    #[test]
    fn durations_sum_then_multiply() {
        assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h 30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("10m *2"), Some(Duration::from_secs(1200)));
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("5 minutes"), None);
        assert_eq!(parse_duration(""), None);
    }

    #[test]
    fn the_run_gives_the_context_and_overrides_win() {
        let c = run_context(
            "htop-3.3.0-1.fc41",
            "koji_build",
            "aarch64",
            "distro=fedora-40",
        )
        .unwrap();
        assert_eq!(c.get("distro").unwrap(), ["fedora-40"]);
        assert_eq!(c.get("arch").unwrap(), ["aarch64"]);
        assert_eq!(c.get("trigger").unwrap(), ["build"]);
        assert!(
            run_context("x-1-1.fc41", "koji_build", "x86_64", "dsitro=x")
                .unwrap_err()
                .contains("distro")
        );
    }
}
