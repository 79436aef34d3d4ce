//! Task formats: one run lifecycle, several ways to write a task.
//!
//! A task directory holds a formula (`runtask.yml`), an fmf tree
//! (`.fmf/version`, tmt plans and tests, as a package's dist-git has them) or
//! Ansible playbooks (`tests*.yml`: Taskotron's playbook tasks, or STI suites,
//! also found in a dist-git checkout's `tests/`).
//! Each format becomes a [`crate::formula::Formula`]: a formula is one already,
//! and an fmf tree is the formula of a `tmt` action that runs its plans and a
//! `resultsdb` action that reports them ([`fmf_formula`]). Everything around the steps (workdir, sandbox, `--ssh`,
//! artifacts, execution report, results files, per-test cases, JUnit,
//! report.html, reporting, jobs and pages) is then the one runner's.

use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;

/// The file name a task directory's fmf tree goes by where a formula file is
/// named (reports, diagnostics): no such file exists.
pub const FMF_TASK: &str = "(fmf tree)";

/// The stand-in formula file name of a directory of Ansible playbooks.
pub const PLAYBOOK_TASK: &str = "(playbooks)";

/// The formats a task may be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskFormat {
    /// A Taskotron formula.
    Formula,
    /// An fmf tree of tmt plans.
    Fmf,
    /// Ansible playbooks `tests*.yml` (Taskotron's last generation).
    Playbooks,
}

/// The format of the task whose formula file `task::locate` gave: a stand-in
/// name, or a playbook named by its own path (`taskotron run
/// tasks/python-versions/tests.yml`).
pub fn of(file: &Path) -> TaskFormat {
    match file.file_name().and_then(|n| n.to_str()) {
        Some(FMF_TASK) => TaskFormat::Fmf,
        Some(PLAYBOOK_TASK) => TaskFormat::Playbooks,
        Some(n) if is_playbook_name(n) && is_play_list(file) => TaskFormat::Playbooks,
        _ => TaskFormat::Formula,
    }
}

/// Whether `name` is a playbook's (`tests*.yml`).
fn is_playbook_name(name: &str) -> bool {
    name.starts_with("tests") && name.ends_with(".yml")
}

/// Whether `file` is a YAML list (a playbook is a list of plays, a formula a
/// mapping), by its first line of content.
fn is_play_list(file: &Path) -> bool {
    std::fs::read_to_string(file).is_ok_and(|text| {
        text.lines()
            .map(str::trim_start)
            .find(|l| !l.is_empty() && !l.starts_with('#') && *l != "---")
            .is_some_and(|l| l.starts_with('-'))
    })
}

/// The playbooks of `dir`: its `tests*.yml` files, in name order (the order the
/// original runner ran them in).
pub fn playbooks(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(is_playbook_name)
        })
        .collect();
    out.sort();
    out
}

/// The stand-in formula file of the playbook task in `dir`, when `dir` holds
/// `tests*.yml` files and the first of them is a YAML list; or of the STI suites
/// in `dir/tests` (a dist-git checkout: its tests live there).
pub fn playbook_task(dir: &Path) -> Option<PathBuf> {
    for d in [dir.to_path_buf(), dir.join("tests")] {
        if playbooks(&d).first().is_some_and(|f| is_play_list(f)) {
            return Some(d.join(PLAYBOOK_TASK));
        }
    }
    None
}

/// The playbooks the playbook task `file` runs: every one of its directory for
/// the stand-in [`PLAYBOOK_TASK`], else that one.
pub fn playbook_files(file: &Path) -> Vec<PathBuf> {
    if file.file_name().and_then(|n| n.to_str()) == Some(PLAYBOOK_TASK) {
        playbooks(file.parent().unwrap_or(Path::new(".")))
    } else {
        vec![file.to_path_buf()]
    }
}

/// What generation a playbook is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaybookKind {
    /// A Taskotron playbook (its first play sets `taskotron_generic_task: true`).
    Taskotron,
    /// A Standard Test Interface suite (dist-git `tests/tests.yml`).
    Sti,
}

/// The formula of the playbook task `file` names: every playbook of its
/// directory for the stand-in [`PLAYBOOK_TASK`], else that one playbook. It is
/// one `ansible` action running them in order. Each playbook is read first (YAML
/// errors with their place): all are Taskotron playbooks (their first play's
/// `vars` set `taskotron_generic_task: true`) or all STI suites (they do not),
/// and an STI suite names only roles that can be found.
///
/// # Errors
/// A playbook that is no YAML list of plays, a mix of the two kinds, a
/// `taskotron_generic_task` that is not `true`, a role nobody provides.
#[allow(clippy::too_many_lines)]
pub fn playbooks_formula(file: &Path) -> Result<String, Vec<Diagnostic>> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let files = playbook_files(file);
    let mut problems = Vec::new();
    let mut names = Vec::new();
    let mut kind: Option<(PlaybookKind, String)> = None;
    // The runner's part of a Taskotron playbook's first play: how long to keep
    // its machine, and what host it wants.
    let mut keepalive: i64 = 0;
    let mut host: Vec<(String, String)> = Vec::new();
    // A playbook reaches the network only when it says so (`taskotron_network:
    // true` in a play's vars, or an STI suite that clones `repositories`), as a
    // formula says `environment.network`.
    let mut network = false;
    for file in files {
        let source = match std::fs::read(&file)
            .map_err(|e| {
                Box::new(Diagnostic::error(format!(
                    "cannot read `{}`: {e}",
                    file.display()
                )))
            })
            .and_then(|b| crate::diagnostic::utf8(b, &file))
        {
            Ok(s) => s,
            Err(d) => {
                problems.push(*d);
                continue;
            }
        };
        let root = match taskotron_tap::yaml::parse_all(&source, Some(&file)) {
            Ok(r) => r,
            Err(mut d) => {
                problems.append(&mut d);
                continue;
            }
        };
        let at = |node: &taskotron_tap::yaml::Node, d: Diagnostic| {
            d.at(Some(&file), &source, node.location, node.width)
        };
        let Some(first) = root.as_seq().and_then(<[_]>::first) else {
            problems.push(at(
                &root,
                Diagnostic::error("a playbook is a list of plays")
                    .expected("`- hosts: localhost` and the play's `vars` and `tasks`"),
            ));
            continue;
        };
        let Some(name) = file
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        let plays = root.as_seq().unwrap_or_default();
        network |= plays.iter().any(|play| {
            matches!(
                play.get("vars")
                    .and_then(|v| v.get("taskotron_network"))
                    .map(|n| &n.value),
                Some(taskotron_tap::yaml::NodeValue::Bool(true))
            )
        });
        if let Some(vars) = first.get("vars") {
            read_runner_vars(vars, &mut keepalive, &mut host, &mut problems, &at);
        }
        let generic = first
            .get("vars")
            .and_then(|v| v.get("taskotron_generic_task"));
        let this = match generic.map(|g| &g.value) {
            Some(taskotron_tap::yaml::NodeValue::Bool(true)) => PlaybookKind::Taskotron,
            Some(_) => {
                problems.push(at(
                    generic.unwrap_or(first),
                    Diagnostic::error("`taskotron_generic_task` must be `true`")
                        .expected("`taskotron_generic_task: true` in the first play's `vars` (or no such variable: an STI suite)"),
                ));
                continue;
            }
            None => PlaybookKind::Sti,
        };
        match &kind {
            Some((k, other)) if *k != this => {
                let said = |k: PlaybookKind| match k {
                    PlaybookKind::Taskotron => "a Taskotron playbook",
                    PlaybookKind::Sti => "an STI suite",
                };
                problems.push(at(
                    first,
                    Diagnostic::error(format!(
                        "`{name}` is {}, but `{other}` is {}: a task's playbooks are of one kind",
                        said(this),
                        said(*k)
                    ))
                    .expected("`taskotron_generic_task: true` in the first play of every playbook, or in none"),
                ));
                continue;
            }
            Some(_) => {}
            None => kind = Some((this, name.clone())),
        }
        if this == PlaybookKind::Sti {
            for (role, node) in crate::sti::roles_named(&root) {
                if !crate::sti::role_provided(&role, dir) {
                    let near = taskotron_tap::suggest::did_you_mean(
                        &role,
                        crate::sti::ROLES.iter().copied(),
                    );
                    problems.push(at(
                        node,
                        Diagnostic::error(format!("no role `{role}`: taskotron does not provide it, and it is not installed"))
                            .expected(format!(
                                "a role of taskotron's ({}), one in `{}`, or one installed under {}",
                                crate::sti::ROLES.join(", "),
                                dir.join("roles").display(),
                                crate::sti::INSTALLED_ROLES
                            ))
                            .suggest(near),
                    ));
                }
            }
            network |= source.contains("repositories:");
        }
        names.push(name);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let checkout = if dir.file_name().is_some_and(|n| n == "tests") {
        dir.parent().unwrap_or(dir)
    } else {
        dir
    };
    let name = task_name(checkout, "task");
    let list = names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ");
    if matches!(kind, Some((PlaybookKind::Sti, _))) {
        return Ok(format!(
            "# The formula of STI suites: the playbooks, run as Fedora CI ran them.\n\
             name: {name}\n\
             namespace: fedora-ci\n\
             desc: the STI tests of {name}\n\
             maintainer: taskotron\n\
             environment:\n\
             \x20 network: {network}\n\
             actions:\n\
             \x20 - name: STI suites\n\
             \x20   ansible:\n\
             \x20     playbooks: [{list}]\n\
             \x20     sti: true\n"
        ));
    }
    let mut text = format!(
        "# The formula of a playbook task: its playbooks, run in order.\n\
         name: {name}\n\
         namespace: dist\n\
         desc: the playbooks of {name}\n\
         maintainer: taskotron\n\
         environment:\n\
         \x20 network: {network}\n\
         actions:\n\
         \x20 - name: playbooks\n\
         \x20   ansible:\n\
         \x20     playbooks: [{list}]\n"
    );
    if keepalive > 0 {
        text.push_str(&format!("      keepalive_minutes: {keepalive}\n"));
    }
    if !host.is_empty() {
        let pairs: Vec<String> = host
            .iter()
            .map(|(k, v)| format!("{k}: {}", serde_json::to_string(v).unwrap_or_default()))
            .collect();
        text.push_str(&format!("      match_host: {{{}}}\n", pairs.join(", ")));
    }
    Ok(text)
}

/// Reads the runner's variables of a Taskotron playbook's first play:
/// `taskotron_keepalive_minutes` (the most of them wins) and
/// `taskotron_match_host_arch|distro|release`.
fn read_runner_vars(
    vars: &taskotron_tap::yaml::Node,
    keepalive: &mut i64,
    host: &mut Vec<(String, String)>,
    problems: &mut Vec<Diagnostic>,
    at: &dyn Fn(&taskotron_tap::yaml::Node, Diagnostic) -> Diagnostic,
) {
    use taskotron_tap::yaml::NodeValue;
    if let Some(k) = vars.get("taskotron_keepalive_minutes") {
        match k.value {
            NodeValue::Int(n) if n >= 0 => *keepalive = (*keepalive).max(n),
            _ => problems.push(at(
                k,
                Diagnostic::error("`taskotron_keepalive_minutes` is not a number of minutes")
                    .expected("a whole number, such as `taskotron_keepalive_minutes: 30`"),
            )),
        }
    }
    for (what, example) in [
        ("arch", "x86_64"),
        ("distro", "fedora"),
        ("release", "\"41\""),
    ] {
        let key = format!("taskotron_match_host_{what}");
        let Some(v) = vars.get(&key) else { continue };
        match &v.value {
            NodeValue::Str(s, _) => host.push((what.into(), s.clone())),
            NodeValue::Int(i) => host.push((what.into(), i.to_string())),
            _ => problems.push(at(
                v,
                Diagnostic::error(format!("`{key}` is not a name"))
                    .expected(format!("a string, such as `{key}: {example}`")),
            )),
        }
    }
}

/// A task name from the directory `dir` (its own name, in the characters a task
/// name may hold; `fallback` when nothing is left).
fn task_name(dir: &Path, fallback: &str) -> String {
    let name = std::fs::canonicalize(dir)
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_start_matches(['-', '_'])
        .to_string();
    if name.is_empty() {
        fallback.into()
    } else {
        name
    }
}

/// The stand-in formula file of the fmf tree in `dir`, when `dir` holds one.
pub fn fmf_task(dir: &Path) -> Option<PathBuf> {
    dir.join(taskotron_fmf::tree::VERSION_FILE)
        .is_file()
        .then(|| dir.join(FMF_TASK))
}

/// The `tmt_plan` pattern that selects exactly the plan `name` (a job's `plan`).
pub fn exact_plan(name: &str) -> String {
    format!("^{}$", regex::escape(name))
}

/// The formula of the fmf tree in `dir`: a `tmt` action running the plans
/// `${tmt_plan}` names (all, when empty) for the context `${tmt_context}` adds
/// to the run's, then a `resultsdb` action reporting one result per plan. The tree is read and linted first, so a bad tree is refused
/// before anything runs.
///
/// # Errors
/// Every problem the fmf reader and the tmt lint find, with its place.
pub fn fmf_formula(dir: &Path) -> Result<String, Vec<Diagnostic>> {
    let (tree, mut problems) = taskotron_fmf::Tree::read_all(dir);
    let Some(tree) = tree else {
        return Err(problems);
    };
    problems.extend(taskotron_fmf::tmt::lint(&tree));
    problems.retain(Diagnostic::is_error);
    if !problems.is_empty() {
        return Err(problems);
    }
    if !tree.nodes.iter().any(taskotron_fmf::tmt::is_plan) {
        return Err(vec![Diagnostic::error(format!(
            "the fmf tree `{}` has no plan",
            dir.display()
        ))
        .expected(
            "a node with `execute`, such as `plans/main.fmf` holding `execute: {how: tmt}`",
        )]);
    }
    let name = task_name(dir, "tmt");
    Ok(format!(
        "# The formula of an fmf tree: its tmt plans, run for the item and arch.\n\
         name: {name}\n\
         namespace: fedora-ci\n\
         desc: the tmt plans of {name}\n\
         maintainer: taskotron\n\
         actions:\n\
         \x20 - name: tmt plans\n\
         \x20   tmt:\n\
         \x20     plan: ${{tmt_plan}}\n\
         \x20     context: ${{tmt_context}}\n\
         \x20   export: tmt_output\n\
         \x20 - name: report to ResultsDB\n\
         \x20   resultsdb:\n\
         \x20     results: ${{tmt_output}}\n"
    ))
}
