//! `ansible`: runs a Taskotron playbook task (era C, libtaskotron 0.5-0.10) as
//! its runner did: every playbook syntax-checked first, then each in order in a
//! fresh artifacts directory of its own, given the task's variables in
//! `artifacts/<playbook>/taskotron/task_vars.json` (`-e @file`) and
//! `TEST_ARTIFACTS`, its output kept in `artifacts/<playbook>/ansible.log`, `rpm
//! -qa` in `taskotron/rpm-qa.log` where rpm works, and its ResultYAML
//! (`taskotron/results.yml`) reported as the `resultsdb` directive reports, then
//! marked `results.yml.reported_ok`. A playbook that fails or writes no results
//! is named at the end, after the others ran: nothing of theirs is lost.

use std::path::Path;
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
    summary: "run a task's Ansible playbooks (Taskotron's playbook tasks) and report their results",
    shape: Shape::Params {
        params: &[Param {
            name: "playbooks",
            required: true,
            kind: ParamKind::Any,
            doc: "the playbooks, file names in the task directory, run in this order",
        }],
        extra: false,
    },
    returns: "every playbook's results, as ResultYAML",
    exactly_one: &[],
};

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// The last `n` lines of `s`.
fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Directive for Ansible {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    #[allow(clippy::too_many_lines)]
    fn run(&self, params: &Params, ctx: &mut Context) -> Result<Value, Failure> {
        let playbooks: Vec<String> = match params.get("playbooks") {
            Some(Value::Array(a)) => a.iter().map(text).collect(),
            Some(v) => vec![text(v)],
            None => Vec::new(),
        };
        if playbooks.is_empty() {
            return Err(Failure::new("ansible: no playbook to run"));
        }
        for p in &playbooks {
            if p.contains('/') || p.starts_with('.') {
                return Err(Failure::new(format!(
                    "ansible: `{p}` is no playbook of the task directory"
                )));
            }
        }
        let argv = crate::ansible::playbook(
            ctx.services.ansible_playbook.as_deref(),
            ctx.services.tools_dir.as_deref(),
            &ctx.python,
        )
        .map_err(|e| Failure::named(crate::failure::FailureKind::TOOL_MISSING, e.0))?;
        let interpreter = crate::ansible::interpreter(&ctx.python, &argv);
        let taskdir = ctx.taskdir.clone();
        // The environment taskotron installed lives in its cache, which a sandbox
        // hides: show that one directory, read-only.
        let shown: Vec<crate::sandbox::Bind> = crate::ansible::shown_dirs(&argv)
            .into_iter()
            .map(crate::sandbox::Bind::ReadOnly)
            .collect();
        let command = |args: &[&str]| {
            let mut c = Command::new(&argv[0]);
            c.args(&argv[1..]).args(args).current_dir(&taskdir);
            c
        };
        let base_env = |ctx: &Context, artifacts: &Path| {
            let mut env = ctx.env.clone();
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
        };
        // Every playbook is checked before any runs, as the original runner did, in
        // one `--syntax-check` of them all. A lone playbook needs no check of its
        // own: ansible-playbook parses the whole of it before it runs anything, and
        // says so with exit code 4 (which the run below turns into this error).
        let refused = |why: &str| {
            Failure::new(format!(
                "ansible: a playbook does not pass `ansible-playbook --syntax-check`; nothing ran:\n{why}"
            ))
        };
        let work = ctx
            .roots
            .create_dir_all(&ctx.workdir)
            .map_err(|e| Failure::new(format!("ansible: {e}")))?;
        if playbooks.len() > 1 {
            let log = "syntax-check.log";
            let file = work
                .create(log)
                .map_err(|e| Failure::new(format!("ansible: {e}")))?;
            let mut args = vec!["--syntax-check", "-i", "localhost,"];
            args.extend(playbooks.iter().map(String::as_str));
            let c = command(&args);
            let env = base_env(ctx, &ctx.artifactsdir.clone());
            let ended = with_output(ctx, &file, |ctx| {
                ctx.run_task(c, &shown, Duration::from_secs(120), &env)
            })
            .map_err(|e| Failure::new(format!("ansible: cannot start ansible-playbook: {e}")))?;
            if !matches!(ended, crate::process::Ended::Exited(s) if s.success()) {
                let out = work.read_to_string(log, 1 << 20).unwrap_or_default();
                return Err(refused(&tail(out.trim(), 8)));
            }
        }
        let mut all: Vec<CheckDetail> = Vec::new();
        let mut failed = Vec::new();
        for p in &playbooks {
            let artifacts = ctx.artifactsdir.join(p);
            let dir = ctx
                .roots
                .create_dir_all(&artifacts.join("taskotron"))
                .map_err(|e| Failure::new(format!("ansible: {e}")))?;
            let vars = json!({
                "artifacts": artifacts.display().to_string(),
                "taskotron_item": ctx.item,
                "taskotron_item_type": ctx.item_type,
                "taskotron_arch": ctx.arch,
                "taskotron_supported_arches": ctx.services.supported_arches.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
                "taskotron_supported_binary_arches": ctx.services.supported_arches.iter().flat_map(|a| a.binary_arches()).collect::<Vec<_>>(),
                // The original handed every task a secrets file; this one holds none.
                "taskotron_secrets_file": artifacts.join("taskotron/secrets.json").display().to_string(),
                "ansible_python_interpreter": interpreter,
            });
            dir.write(
                "task_vars.json",
                serde_json::to_vec_pretty(&vars).unwrap_or_default(),
            )
            .map_err(|e| Failure::new(format!("ansible: {e}")))?;
            dir.write("secrets.json", b"{}\n")
                .map_err(|e| Failure::new(format!("ansible: {e}")))?;
            let art = ctx
                .roots
                .create_dir_all(&artifacts)
                .map_err(|e| Failure::new(format!("ansible: {e}")))?;
            let log = art
                .create("ansible.log")
                .map_err(|e| Failure::new(format!("ansible: {e}")))?;
            let vars_arg = format!("@{}", artifacts.join("taskotron/task_vars.json").display());
            let c = command(&["-i", "localhost,", "-c", "local", p, "-e", &vars_arg]);
            let env = base_env(ctx, &artifacts);
            let timeout = ctx.timeout;
            let ended = with_output(ctx, &log, |ctx| ctx.run_task(c, &shown, timeout, &env))
                .map_err(|e| {
                    Failure::new(format!("ansible: cannot start ansible-playbook: {e}"))
                })?;
            if let Ok(qa) = dir.create("rpm-qa.log") {
                let mut rpm = Command::new("rpm");
                rpm.arg("-qa");
                let _ = with_output(ctx, &qa, |ctx| {
                    ctx.run_task(rpm, &[], Duration::from_secs(60), &env)
                });
            }
            let ran = matches!(ended, crate::process::Ended::Exited(s) if s.success());
            let parse_error =
                matches!(ended, crate::process::Ended::Exited(s) if s.code() == Some(4));
            if playbooks.len() == 1 && parse_error {
                let out = art
                    .read_to_string("ansible.log", 16 << 20)
                    .unwrap_or_default();
                return Err(refused(&format!("{p}: {}", tail(out.trim(), 8))));
            }
            if !ran {
                let out = art
                    .read_to_string("ansible.log", 16 << 20)
                    .unwrap_or_default();
                failed.push(format!(
                    "{p}: ansible-playbook ended {}:\n{}",
                    ended_words(&ended),
                    tail(out.trim(), 8)
                ));
            }
            let results = match dir.read_to_string("results.yml", 16 << 20) {
                Ok(t) => t,
                Err(_) => {
                    failed.push(format!(
                        "{p}: no `{}`, assuming the task crashed",
                        artifacts.join("taskotron/results.yml").display()
                    ));
                    continue;
                }
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
        if !failed.is_empty() {
            return Err(Failure::new(format!(
                "ansible: some playbooks failed:\n{}",
                failed.join("\n")
            )));
        }
        Ok(Value::String(crate::results::resultyaml::export(&all)))
    }
}
