//! STI suites through the `ansible` directive (`sti: true`), as Fedora CI ran
//! them: the build's RPMs fetched as the subjects (`TEST_SUBJECTS`, the
//! `subjects` variable), an empty `TEST_ARTIFACTS` per playbook
//! (`artifacts/<playbook>/`), the `classic` tag when the playbook tags
//! anything, pass and fail only from `artifacts/<playbook>/results.yml`. Every
//! test becomes a case; the suites together become one result, named as Fedora
//! CI named it (`sti_checkname`), reported as the `resultsdb` directive reports.
//! A playbook that fails (the tests could not run) is named at the end with the
//! end of its log, after the others ran and with whatever it had written.

use std::time::Duration;

use serde_json::{json, Value};

use super::ansible::{fail, text, Setup};
use super::tmt::with_output;
use super::{Context, Failure, Params};
use crate::results::{resultyaml, Case, CaseStatus, CheckDetail};

/// `s` as one word of a POSIX shell.
fn quoted(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./+:=@%,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The dist-git branch of an item's dist tag (`fc41` → `f41`, `el9` → `c9s`),
/// the `git_branch` Fedora CI gave a suite.
fn git_branch(item: &str) -> Option<String> {
    let tag = item.rsplit('.').next()?;
    if let Some(n) = tag.strip_prefix("fc").filter(|n| n.parse::<u32>().is_ok()) {
        return Some(format!("f{n}"));
    }
    if let Some(n) = tag.strip_prefix("el").filter(|n| n.parse::<u32>().is_ok()) {
        return Some(format!("c{n}s"));
    }
    None
}

/// The build's RPMs for the run's arch (and noarch) in `<workdir>/subjects`,
/// fetched by the `koji` or `bodhi` directive; none for other items.
fn subjects(ctx: &mut Context) -> Result<Vec<String>, Failure> {
    let target = ctx.workdir.join("subjects").display().to_string();
    let (name, params) = match ctx.item_type.as_str() {
        "koji_build" => (
            "koji",
            json!({"action": "download", "koji_build": ctx.item, "arch": [ctx.arch, "noarch"], "target_dir": target}),
        ),
        "bodhi_update" => (
            "bodhi",
            json!({"action": "download", "update_id": ctx.item, "arch": [ctx.arch, "noarch"], "target_dir": target}),
        ),
        _ => return Ok(Vec::new()),
    };
    let directive = super::find(name).ok_or_else(|| fail(format!("no `{name}` directive")))?;
    let params: Params = params
        .as_object()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let got = directive.run(&params, ctx).map_err(|f| Failure {
        message: format!("ansible: cannot fetch the suite's subjects: {}", f.message),
        ..f
    })?;
    Ok(got
        .get("downloaded_rpms")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(text).collect())
        .unwrap_or_default())
}

fn status(result: &str) -> CaseStatus {
    match result {
        "pass" => CaseStatus::Passed,
        "fail" => CaseStatus::Failed,
        _ => CaseStatus::Error,
    }
}

/// Runs the STI suites `playbooks`.
#[allow(clippy::too_many_lines)]
pub(super) fn run(
    setup: &Setup,
    playbooks: &[String],
    params: &Params,
    ctx: &mut Context,
) -> Result<Value, Failure> {
    let checkname = match super::text_param(params, "checkname").as_str() {
        "" => ctx.services.sti_checkname.clone(),
        c => c.to_string(),
    };
    // The suites run in a copy of their checkout: they write beside their tests.
    let copy = crate::sti::copy_checkout(&ctx.taskdir, &ctx.workdir.join("checkout"))
        .map_err(|e| fail(format!("cannot copy the tests to the workdir: {e}")))?;
    setup.syntax_check(ctx, &copy, playbooks)?;
    let subjects = subjects(ctx)?;
    if !subjects.is_empty() {
        install_subjects(setup, ctx, &subjects)?;
    }
    let test_subjects = subjects
        .iter()
        .map(|s| quoted(s))
        .collect::<Vec<_>>()
        .join(" ");
    let mut tests: Vec<(String, crate::sti::TestResult)> = Vec::new();
    let mut cases = Vec::new();
    let mut failed = Vec::new();
    for p in playbooks {
        let artifacts = ctx.artifactsdir.join(p);
        let art = ctx.roots.create_dir_all(&artifacts).map_err(fail)?;
        let mut vars = json!({
            "subjects": test_subjects,
            "artifacts": artifacts.display().to_string(),
            "ansible_python_interpreter": setup.interpreter,
        });
        setup.shell_var(&mut vars);
        if let Some(b) = git_branch(&ctx.item) {
            vars["git_branch"] = json!(b);
        }
        let work = ctx.roots.create_dir_all(&ctx.workdir).map_err(fail)?;
        let vars_name = format!("{p}.vars.json");
        work.write(
            &vars_name,
            serde_json::to_vec_pretty(&vars).unwrap_or_default(),
        )
        .map_err(fail)?;
        let mut args = vec![
            "-e".to_string(),
            format!("@{}", ctx.workdir.join(&vars_name).display()),
        ];
        if tags_anything(ctx, p) {
            args.extend(["--tags".into(), "classic".into()]);
        }
        let mut ctx_env = setup.env(ctx, &artifacts);
        ctx_env.push(("TEST_SUBJECTS".into(), test_subjects.clone()));
        let ended = {
            let old = std::mem::replace(&mut ctx.env, ctx_env);
            let r = setup.run(ctx, &copy, p, &args, &artifacts, &art);
            ctx.env = old;
            r?
        };
        if let Some(f) = Setup::parse_refused(ctx, &copy, playbooks.len(), &ended, &art) {
            return Err(f);
        }
        failed.extend(Setup::failed(p, &ended, &art));
        let file = artifacts.join("results.yml");
        let Ok(text) = art.read_to_string("results.yml", 16 << 20) else {
            failed.push(format!(
                "{p}: no `{}`: the suite wrote no results",
                file.display()
            ));
            continue;
        };
        let results = match crate::sti::read_results(&text, &file) {
            Ok(r) => r,
            Err(d) => {
                failed.push(format!(
                    "{p}: results.yml is no STI results:\n{}",
                    crate::diagnostic::render_all(&d).trim_end()
                ));
                continue;
            }
        };
        for r in results {
            let name = if playbooks.len() == 1 {
                r.test.clone()
            } else {
                format!("{p}/{}", r.test)
            };
            let log = r.logs.first().cloned();
            let diagnostics = log
                .as_deref()
                .filter(|_| r.result != "pass")
                .and_then(|l| art.read_to_string(l, 16 << 20).ok())
                .map(|t| super::ansible::tail(t.trim_end(), 20))
                .filter(|t| !t.is_empty());
            let mut properties = vec![("sti_result".to_string(), r.result.clone())];
            if let Some(l) = &log {
                properties.push(("log".into(), format!("{p}/{l}")));
            }
            cases.push(Case {
                name: name.clone(),
                status: status(&r.result),
                line: 0,
                classname: Some(checkname.clone()),
                reason: None,
                duration_ms: None,
                message: (r.result != "pass").then(|| format!("STI result: {}", r.result)),
                diagnostics,
                properties,
            });
            tests.push((p.clone(), r));
        }
    }
    let results: Vec<crate::sti::TestResult> = tests.iter().map(|(_, r)| r.clone()).collect();
    let mut outcome = crate::sti::outcome(&results);
    let count = |what: &str| results.iter().filter(|r| r.result == what).count();
    let mut note = ["pass", "fail", "error"]
        .iter()
        .filter(|w| count(w) > 0)
        .map(|w| format!("{} {w}", count(w)))
        .collect::<Vec<_>>()
        .join(", ");
    if results.is_empty() {
        note = "no tests".into();
    }
    if !failed.is_empty() {
        outcome = crate::results::Outcome::NeedsInspection;
        note = format!(
            "{note}; {} of {} suites did not finish",
            failed.len(),
            playbooks.len()
        );
    }
    let mut detail = CheckDetail::new(ctx.item.clone(), Some(&ctx.item_type), outcome);
    detail.note = note;
    detail.checkname = Some(checkname);
    let first = &playbooks[0];
    detail.artifact = Some(
        if ctx
            .roots
            .read(&ctx.artifactsdir.join(first).join("test.log"))
            .is_ok()
        {
            format!("{first}/test.log")
        } else {
            format!("{first}/ansible.log")
        },
    );
    detail
        .keyvals
        .insert("playbooks".into(), json!(playbooks.join(" ")));
    let details = vec![detail];
    super::resultsdb::report_details(ctx, &details)?;
    ctx.cases = cases;
    let value = Value::String(resultyaml::export(&details));
    if !failed.is_empty() {
        ctx.partial = Some(value);
        return Err(fail(format!("some suites failed:\n{}", failed.join("\n"))));
    }
    Ok(value)
}

/// Whether the task's playbook `p` names a tag (read beneath the run's
/// directories).
fn tags_anything(ctx: &Context, p: &str) -> bool {
    use std::io::Read as _;
    let mut text = String::new();
    ctx.roots
        .read(&ctx.taskdir.join(p))
        .ok()
        .and_then(|f| f.take(16 << 20).read_to_string(&mut text).ok())
        .and_then(|_| taskotron_tap::yaml::parse(&text, None).ok())
        .is_some_and(|root| crate::sti::uses_tags(&root))
}

/// The subjects installed as Fedora CI's classic context had them, when
/// `install_rpms: dnf` allows; else said, since a suite may test them.
fn install_subjects(setup: &Setup, ctx: &mut Context, subjects: &[String]) -> Result<(), Failure> {
    if ctx.services.install_rpms != crate::config::InstallRpms::Dnf {
        ctx.warnings.push(format!(
            "the suite's {} subjects are not installed (`install_rpms: no`): its tests see the system as it is",
            subjects.len()
        ));
        return Ok(());
    }
    let mut dnf = std::process::Command::new("dnf");
    dnf.args(["-y", "install"]).args(subjects);
    let env = setup.env(ctx, &ctx.artifactsdir.clone());
    let stdout = ctx.stdout.try_clone().map_err(fail)?;
    let ended = with_output(ctx, &stdout, |ctx| {
        ctx.run_task(dnf, &[], Duration::from_secs(1800), &env)
    })
    .map_err(|e| {
        fail(format!(
            "`install_rpms: dnf` is set, but dnf cannot run: {e}"
        ))
    })?;
    if matches!(ended, crate::process::Ended::Exited(s) if s.success()) {
        Ok(())
    } else {
        Err(fail(format!(
            "installing the subjects failed: dnf ended {}",
            super::tmt::ended_words(&ended)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_quoted_and_branches_come_from_dist_tags() {
        assert_eq!(
            quoted("/w/a-1.0-1.fc41.x86_64.rpm"),
            "/w/a-1.0-1.fc41.x86_64.rpm"
        );
        assert_eq!(quoted("/w/a b;rm -rf"), "'/w/a b;rm -rf'");
        assert_eq!(quoted("it's"), "'it'\\''s'");
        assert_eq!(git_branch("htop-3.3.0-1.fc41").as_deref(), Some("f41"));
        assert_eq!(git_branch("bash-5.2-1.el9").as_deref(), Some("c9s"));
        assert_eq!(git_branch("htop-3.3.0-1"), None);
    }
}
