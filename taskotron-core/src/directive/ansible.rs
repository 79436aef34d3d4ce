//! `ansible`: runs a task's Ansible playbooks, as one of two generations did.
//!
//! Taskotron playbooks (era C, libtaskotron 0.5-0.10): every playbook
//! syntax-checked first, then each in order in a fresh artifacts directory of
//! its own, given the task's variables in
//! `artifacts/<playbook>/taskotron/task_vars.json` (`-e @file`) and
//! `TEST_ARTIFACTS`, its output kept in `artifacts/<playbook>/ansible.log`,
//! `rpm -qa` in `taskotron/rpm-qa.log` where rpm works, and its ResultYAML
//! (`taskotron/results.yml`) reported as the `resultsdb` directive reports, then
//! marked `results.yml.reported_ok`. STI suites (`sti: true`) run as Fedora CI
//! ran them: see [`super::sti`]. Either way a playbook that fails or writes no
//! results is named at the end, after the others ran: nothing of theirs is lost.
//!
//! Every playbook runs with taskotron's modules first on Ansible's module path
//! (`dnf` and `package` installs follow `install_rpms`), its STI roles on the
//! roles path, and `libtaskotron` (its directives a call of this binary away)
//! on `PYTHONPATH`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use super::tmt::{ended_words, with_output};
use super::{Context, Directive, Failure, Param, ParamKind, Params, Shape, Spec};
use crate::results::CheckDetail;

/// The `ansible` directive.
pub struct Ansible;

static SPEC: Spec = Spec {
    name: "ansible",
    summary: "run a task's Ansible playbooks (Taskotron's playbook tasks, STI suites) and report their results",
    shape: Shape::Params {
        params: &[
            Param {
                name: "playbooks",
                required: true,
                kind: ParamKind::Any,
                doc: "the playbooks, file names in the task directory, run in this order",
            },
            Param {
                name: "sti",
                required: false,
                kind: ParamKind::Any,
                doc: "`true`: the playbooks are Standard Test Interface suites (dist-git `tests/tests.yml`)",
            },
            Param {
                name: "checkname",
                required: false,
                kind: ParamKind::Any,
                doc: "an STI suite's result name (default: the config's `sti_checkname`)",
            },
            Param {
                name: "keepalive_minutes",
                required: false,
                kind: ParamKind::Any,
                doc: "`taskotron_keepalive_minutes`: above 0, the run's workdir is kept for a look, as after a failure",
            },
            Param {
                name: "match_host",
                required: false,
                kind: ParamKind::Any,
                doc: "`taskotron_match_host_*` (`arch`, `distro`, `release`): the host the playbooks want; another is said",
            },
        ],
        extra: false,
    },
    returns: "every playbook's results, as ResultYAML",
    exactly_one: &[],
};

pub(super) fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// The last `n` lines of `s`.
pub(super) fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

pub(super) fn fail(e: impl std::fmt::Display) -> Failure {
    Failure::new(format!("ansible: {e}"))
}

/// The failure of a playbook that does not parse (`log`, ansible-playbook's
/// output): nothing ran. Its place is shown in the task directory (`copy` is
/// where the playbooks ran from, when that is a copy of it).
pub(super) fn refused(log: &str, ctx: &Context, copy: &Path) -> Failure {
    let taskdir = ctx.taskdir.clone();
    let copy = copy.to_path_buf();
    let shown = move |p: &Path| {
        p.strip_prefix(&copy)
            .map_or_else(|_| p.to_path_buf(), |rel| taskdir.join(rel))
    };
    let d = crate::ansible::syntax_diagnostic(log, &shown);
    Failure::named(
        crate::ansible::PLAYBOOK_INVALID,
        format!(
            "ansible: a playbook does not pass `ansible-playbook --syntax-check`; nothing ran:\n{}",
            crate::diagnostic::render_all(&[d]).trim_end()
        ),
    )
}

/// What every playbook of a run is started with.
pub(super) struct Setup {
    /// Serves the directives the task's Python calls, while the playbooks run.
    _server: Option<crate::call::Server>,
    argv: Vec<PathBuf>,
    /// The `ansible_python_interpreter` given to playbooks.
    pub(super) interpreter: String,
    /// What the sandbox shows besides the run's directories.
    pub(super) shown: Vec<crate::sandbox::Bind>,
    extra_env: Vec<(String, String)>,
}

impl Setup {
    /// The `ansible-playbook` to run (installed on first use), and what it and
    /// the task's Python need: taskotron's roles and modules, `libtaskotron`,
    /// this binary for its directives.
    pub(super) fn new(ctx: &Context) -> Result<Self, Failure> {
        let argv = crate::ansible::playbook(
            ctx.services.ansible_playbook.as_deref(),
            ctx.services.tools_dir.as_deref(),
            &ctx.python,
        )
        .map_err(|e| Failure::named(crate::failure::FailureKind::TOOL_MISSING, e.0))?;
        let interpreter = crate::ansible::interpreter(&ctx.python, &argv);
        let ours = crate::sti::install_for(&ctx.reporting.state_dir)
            .map_err(|e| fail(format!("cannot install taskotron's roles and modules: {e}")))?;
        let libdir = super::python::library_dir(ctx)?;
        let exe = crate::ansible::executable();
        // The environment taskotron installed lives in its cache, which a sandbox
        // hides: show those directories, read-only, and the binary itself.
        let mut shown: Vec<crate::sandbox::Bind> = crate::ansible::shown_dirs(&argv)
            .into_iter()
            .chain([ours.clone(), libdir.clone()])
            .chain(exe.clone())
            .map(crate::sandbox::Bind::ReadOnly)
            .collect();
        shown.dedup();
        let mut extra_env = vec![
            ("PYTHONPATH".into(), libdir.display().to_string()),
            (
                "ANSIBLE_LIBRARY".into(),
                ours.join("library").display().to_string(),
            ),
            (
                "ANSIBLE_MODULE_UTILS".into(),
                ours.join("module_utils").display().to_string(),
            ),
            ("ANSIBLE_ROLES_PATH".into(), crate::sti::roles_path(&ours)),
            (
                "TASKOTRON_INSTALL_RPMS".into(),
                match ctx.services.install_rpms {
                    crate::config::InstallRpms::No => "no".into(),
                    crate::config::InstallRpms::Dnf => "dnf".into(),
                },
            ),
            // What `taskotron call` reads of the config, for the directives a
            // task's Python calls (the rest is the run's `TASKOTRON_*`).
            (
                "TASKOTRON_DISTGIT_URL".into(),
                ctx.services.distgit_url.clone(),
            ),
            (
                "TASKOTRON_SUPPORTED_ARCHES".into(),
                ctx.services
                    .supported_arches
                    .iter()
                    .map(|a| a.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        ];
        if let Some(conf) = &ctx.services.yumrepoinfo {
            extra_env.push(("TASKOTRON_YUMREPOINFO".into(), conf.display().to_string()));
        }
        if let Some(exe) = exe {
            extra_env.push((
                crate::config::keys::EXECUTABLE_VAR.into(),
                exe.display().to_string(),
            ));
        }
        if ctx.sandbox.is_some() {
            // The download cache is outside what a sandbox lets a task write.
            extra_env.push(("TASKOTRON_DOWNLOAD_CACHE".into(), "false".into()));
        }
        // The directives a task's Python calls run here, in the runner, as a
        // formula's do; a socket path too long for the system is left out, and
        // the calls then run in the task's own process.
        let socket = ctx.workdir.join("call.sock");
        let server = (socket.as_os_str().len() < 100)
            .then(|| crate::call::Server::start(&socket, call_setup(ctx), call_place(ctx)).ok())
            .flatten();
        if server.is_some() {
            extra_env.push((
                crate::config::keys::CALL_SOCKET_VAR.into(),
                socket.display().to_string(),
            ));
        }
        Ok(Self {
            _server: server,
            argv,
            interpreter,
            shown,
            extra_env,
        })
    }

    /// Sets `ansible_shell_executable` to bash where there is one: the tasks were
    /// written for Fedora, whose `/bin/sh` is bash (`&>` in a `shell:` task).
    pub(super) fn shell_var(&self, vars: &mut Value) {
        if let Some(bash) = crate::ansible::bash() {
            vars["ansible_shell_executable"] = json!(bash);
        }
    }

    /// `ansible-playbook ARGS`, in `cwd`.
    pub(super) fn command(&self, cwd: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(&self.argv[0]);
        c.args(&self.argv[1..]).args(args).current_dir(cwd);
        c
    }

    /// The environment of a playbook whose artifacts go to `artifacts`.
    pub(super) fn env(&self, ctx: &Context, artifacts: &Path) -> Vec<(String, String)> {
        let mut env = ctx.env.clone();
        env.extend(self.extra_env.iter().cloned());
        env.extend([
            ("TEST_ARTIFACTS".into(), artifacts.display().to_string()),
            ("ANSIBLE_NOCOLOR".into(), "1".into()),
            ("ANSIBLE_RETRY_FILES_ENABLED".into(), "0".into()),
            ("ANSIBLE_LOCALHOST_WARNING".into(), "0".into()),
            ("ANSIBLE_INVENTORY_UNPARSED_WARNING".into(), "0".into()),
            (
                "ANSIBLE_LOCAL_TEMP".into(),
                ctx.workdir.join("ansible-tmp").display().to_string(),
            ),
            (
                "ANSIBLE_REMOTE_TEMP".into(),
                ctx.workdir.join("ansible-tmp").display().to_string(),
            ),
        ]);
        env
    }

    /// Every playbook checked before any runs, as the original runner did, in
    /// one `--syntax-check` of them all. A lone playbook needs no check of its
    /// own: ansible-playbook parses the whole of it before it runs anything, and
    /// says so with exit code 4 (which [`Setup::parse_refused`] turns into this
    /// error).
    pub(super) fn syntax_check(
        &self,
        ctx: &mut Context,
        cwd: &Path,
        playbooks: &[String],
    ) -> Result<(), Failure> {
        if playbooks.len() < 2 {
            return Ok(());
        }
        let work = ctx.roots.create_dir_all(&ctx.workdir).map_err(fail)?;
        let log = "syntax-check.log";
        let file = work.create(log).map_err(fail)?;
        let mut args = vec!["--syntax-check", "-i", "localhost,"];
        args.extend(playbooks.iter().map(String::as_str));
        let c = self.command(cwd, &args);
        let env = self.env(ctx, &ctx.artifactsdir.clone());
        let shown = self.shown.clone();
        let ended = with_output(ctx, &file, |ctx| {
            ctx.run_task(c, &shown, Duration::from_secs(120), &env)
        })
        .map_err(|e| fail(format!("cannot start ansible-playbook: {e}")))?;
        if matches!(ended, crate::process::Ended::Exited(s) if s.success()) {
            return Ok(());
        }
        let out = work.read_to_string(log, 1 << 20).unwrap_or_default();
        Err(refused(&out, ctx, cwd))
    }

    /// Runs playbook `p` of `cwd` with `args` after it, its output in
    /// `ansible.log` of `art` (the playbook's artifacts directory, `artifacts`).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn run(
        &self,
        ctx: &mut Context,
        cwd: &Path,
        p: &str,
        args: &[String],
        artifacts: &Path,
        art: &taskotron_beneath::Dir,
    ) -> Result<crate::process::Ended, Failure> {
        let log = art.create("ansible.log").map_err(fail)?;
        let mut all: Vec<&str> = vec!["-i", "localhost,", "-c", "local", p];
        all.extend(args.iter().map(String::as_str));
        let c = self.command(cwd, &all);
        let env = self.env(ctx, artifacts);
        let timeout = ctx.timeout;
        let shown = self.shown.clone();
        with_output(ctx, &log, |ctx| ctx.run_task(c, &shown, timeout, &env))
            .map_err(|e| fail(format!("cannot start ansible-playbook: {e}")))
    }

    /// The refusal of a lone playbook that did not parse (exit code 4), at
    /// the place its log names; `cwd` is where it ran from.
    pub(super) fn parse_refused(
        ctx: &Context,
        cwd: &Path,
        playbooks: usize,
        ended: &crate::process::Ended,
        art: &taskotron_beneath::Dir,
    ) -> Option<Failure> {
        let parse_error = matches!(ended, crate::process::Ended::Exited(s) if s.code() == Some(4));
        (playbooks == 1 && parse_error).then(|| {
            let out = art
                .read_to_string("ansible.log", 16 << 20)
                .unwrap_or_default();
            refused(&out, ctx, cwd)
        })
    }

    /// Why playbook `p` failed, with the end of its log, when it did.
    pub(super) fn failed(
        p: &str,
        ended: &crate::process::Ended,
        art: &taskotron_beneath::Dir,
    ) -> Option<String> {
        if matches!(ended, crate::process::Ended::Exited(s) if s.success()) {
            return None;
        }
        let out = art
            .read_to_string("ansible.log", 16 << 20)
            .unwrap_or_default();
        Some(format!(
            "{p}: ansible-playbook ended {}:\n{}",
            ended_words(ended),
            tail(out.trim(), 8)
        ))
    }
}

/// What the directives a run's processes call are given of the run.
fn call_setup(ctx: &Context) -> crate::call::Setup {
    crate::call::Setup {
        services: ctx.services.clone(),
        reporting: ctx.reporting.clone(),
        python: ctx.python.clone(),
        timeout: ctx.timeout,
    }
}

/// Where they may read and write: the run's directories and its `TMPDIR`, no
/// other (a task process names the paths).
fn call_place(ctx: &Context) -> crate::call::Place {
    let mut defaults = serde_json::Map::new();
    for (k, v) in [
        ("item", Some(ctx.item.clone())),
        ("type", Some(ctx.item_type.clone())),
        ("arch", Some(ctx.arch.clone())),
        ("checkname", Some(ctx.checkname.clone())),
        ("uuid", Some(ctx.run_id.clone())),
        ("jobid", ctx.build_id.clone()),
    ] {
        if let Some(v) = v {
            defaults.insert(k.into(), json!(v));
        }
    }
    crate::call::Place {
        taskdir: ctx.taskdir.clone(),
        workdir: Some(ctx.workdir.clone()),
        artifactsdir: Some(ctx.artifactsdir.clone()),
        also: ctx
            .env
            .iter()
            .filter(|(k, _)| k == "TMPDIR")
            .map(|(_, v)| PathBuf::from(v))
            .collect(),
        any_target: false,
        defaults,
    }
}

/// The playbooks a `playbooks` parameter names, each a file of the task
/// directory.
fn playbooks_of(params: &Params) -> Result<Vec<String>, Failure> {
    let playbooks: Vec<String> = match params.get("playbooks") {
        Some(Value::Array(a)) => a.iter().map(text).collect(),
        Some(v) => vec![text(v)],
        None => Vec::new(),
    };
    if playbooks.is_empty() {
        return Err(fail("no playbook to run"));
    }
    if let Some(p) = playbooks
        .iter()
        .find(|p| p.contains('/') || p.starts_with('.'))
    {
        return Err(fail(format!("`{p}` is no playbook of the task directory")));
    }
    Ok(playbooks)
}

impl Directive for Ansible {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run(&self, params: &Params, ctx: &mut Context) -> Result<Value, Failure> {
        let playbooks = playbooks_of(params)?;
        if params
            .get("keepalive_minutes")
            .and_then(Value::as_i64)
            .is_some_and(|m| m > 0)
        {
            ctx.keep_scratch = true;
        }
        if let Some(Value::Object(want)) = params.get("match_host") {
            let want: Vec<(String, String)> =
                want.iter().map(|(k, v)| (k.clone(), text(v))).collect();
            let mismatches = crate::ansible::host_mismatches(&want, &ctx.arch);
            ctx.warnings.extend(mismatches);
        }
        let setup = Setup::new(ctx)?;
        if params
            .get("sti")
            .is_some_and(|v| v == &json!(true) || v == &json!("true"))
        {
            return super::sti::run(&setup, &playbooks, params, ctx);
        }
        let taskdir = ctx.taskdir.clone();
        setup.syntax_check(ctx, &taskdir, &playbooks)?;
        let mut all: Vec<CheckDetail> = Vec::new();
        let mut failed = Vec::new();
        for p in &playbooks {
            let artifacts = ctx.artifactsdir.join(p);
            let dir = ctx
                .roots
                .create_dir_all(&artifacts.join("taskotron"))
                .map_err(fail)?;
            let mut vars = json!({
                "artifacts": artifacts.display().to_string(),
                "taskotron_item": ctx.item,
                "taskotron_item_type": ctx.item_type,
                "taskotron_arch": ctx.arch,
                "taskotron_supported_arches": ctx.services.supported_arches.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
                "taskotron_supported_binary_arches": ctx.services.supported_arches.iter().flat_map(|a| a.binary_arches()).collect::<Vec<_>>(),
                // The original handed every task a secrets file; this one holds none.
                "taskotron_secrets_file": artifacts.join("taskotron/secrets.json").display().to_string(),
                "ansible_python_interpreter": setup.interpreter,
            });
            setup.shell_var(&mut vars);
            dir.write(
                "task_vars.json",
                serde_json::to_vec_pretty(&vars).unwrap_or_default(),
            )
            .map_err(fail)?;
            dir.write("secrets.json", b"{}\n").map_err(fail)?;
            let art = ctx.roots.create_dir_all(&artifacts).map_err(fail)?;
            let vars_arg = format!("@{}", artifacts.join("taskotron/task_vars.json").display());
            let ended = setup.run(ctx, &taskdir, p, &["-e".into(), vars_arg], &artifacts, &art)?;
            if let Ok(qa) = dir.create("rpm-qa.log") {
                let mut rpm = Command::new("rpm");
                rpm.arg("-qa");
                let env = setup.env(ctx, &artifacts);
                let _ = with_output(ctx, &qa, |ctx| {
                    ctx.run_task(rpm, &[], Duration::from_secs(60), &env)
                });
            }
            if let Some(f) = Setup::parse_refused(ctx, &taskdir, playbooks.len(), &ended, &art) {
                return Err(f);
            }
            failed.extend(Setup::failed(p, &ended, &art));
            let Ok(results) = dir.read_to_string("results.yml", 16 << 20) else {
                failed.push(format!(
                    "{p}: no `{}`, assuming the task crashed",
                    artifacts.join("taskotron/results.yml").display()
                ));
                continue;
            };
            let details: Vec<CheckDetail> = match ctx.results_from(&results, "ansible") {
                // A result's `artifact` is relative to the playbook's own artifacts,
                // as its log URL is (`<artifacts_url>/<uuid>/<playbook>/<file>`).
                Ok(mut d) => {
                    for r in &mut d {
                        if let Some(a) = r.artifact.as_mut() {
                            if !a.starts_with('/') && !a.contains("://") {
                                *a = format!("{p}/{a}");
                            }
                        }
                    }
                    d
                }
                Err(e) => {
                    failed.push(format!("{p}: taskotron/results.yml: {}", e.message));
                    continue;
                }
            };
            super::resultsdb::report_details(ctx, &details)?;
            let _ = dir.write("results.yml.reported_ok", b"");
            all.extend(details);
        }
        let value = Value::String(crate::results::resultyaml::export(&all));
        if !failed.is_empty() {
            ctx.partial = (!all.is_empty()).then_some(value);
            return Err(fail(format!(
                "some playbooks failed:\n{}",
                failed.join("\n")
            )));
        }
        Ok(value)
    }
}
