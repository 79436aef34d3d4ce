//! The Standard Test Interface (STI): the `tests/tests*.yml` playbooks Fedora
//! packages carried in dist-git from 2017 until tmt replaced them, run as Fedora
//! CI ran them (`hosts: localhost`, the `classic` tag, `subjects` and
//! `artifacts`, pass and fail only from `artifacts/results.yml`).
//!
//! standard-test-roles is not packaged where taskotron runs, and its source is
//! not ours to copy: the binary carries roles of its own, written to the
//! documented contract (`standard-test-basic`, `standard-test-source`), and the
//! Ansible modules behind them, installed once under the cache like
//! `libtaskotron` ([`crate::embedded`]). An installed standard-test-roles comes
//! first on the roles path. This module reads playbooks and results files it is
//! given as text; [`install_for`] writes the roles, [`copy_checkout`] the copy
//! a run works in, and [`role_provided`] looks where Ansible would find a role;
//! nothing else touches the file system.

use std::path::{Path, PathBuf};

use taskotron_tap::yaml::{Node, NodeValue};

use crate::diagnostic::Diagnostic;

/// The ResultsDB name of a suite's result, as Fedora CI named it.
pub const DEFAULT_CHECKNAME: &str = crate::config::defaults::STI_CHECKNAME;

/// The roles taskotron provides.
pub const ROLES: &[&str] = &["standard-test-basic", "standard-test-source"];

/// Where a distribution installs standard-test-roles (first on the roles path
/// when it is there).
pub const INSTALLED_ROLES: &str = "/usr/share/ansible/roles";

/// The roles and modules, by path inside the installed copy.
pub const FILES: &[(&str, &str)] = &[
    (
        "roles/standard-test-basic/tasks/main.yml",
        include_str!("../ansible/roles/standard-test-basic/tasks/main.yml"),
    ),
    (
        "roles/standard-test-basic/meta/main.yml",
        include_str!("../ansible/roles/standard-test-basic/meta/main.yml"),
    ),
    (
        "roles/standard-test-source/tasks/main.yml",
        include_str!("../ansible/roles/standard-test-source/tasks/main.yml"),
    ),
    (
        "roles/standard-test-source/meta/main.yml",
        include_str!("../ansible/roles/standard-test-source/meta/main.yml"),
    ),
    (
        "library/taskotron_sti_tests.py",
        include_str!("../ansible/library/taskotron_sti_tests.py"),
    ),
    (
        "library/taskotron_sti_source.py",
        include_str!("../ansible/library/taskotron_sti_source.py"),
    ),
    ("library/dnf.py", include_str!("../ansible/library/dnf.py")),
    (
        "library/package.py",
        include_str!("../ansible/library/package.py"),
    ),
    (
        "module_utils/taskotron_rpms.py",
        include_str!("../ansible/module_utils/taskotron_rpms.py"),
    ),
];

/// Where the roles and modules are: the state directory's cache, else (a
/// read-only state directory) the system's temporary directory. Its
/// `roles`, `library` and `module_utils` go on `ANSIBLE_ROLES_PATH`,
/// `ANSIBLE_LIBRARY` and `ANSIBLE_MODULE_UTILS`.
///
/// # Errors
/// Neither can be written.
pub fn install_for(state_dir: &Path) -> std::io::Result<PathBuf> {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let version = VERSION.get_or_init(|| crate::embedded::version_dir(FILES));
    let marker = "module_utils/taskotron_rpms.py";
    let fallback = std::env::temp_dir().join("taskotron-cache/ansible");
    let primary = if state_dir.as_os_str().is_empty() {
        fallback.clone()
    } else {
        state_dir.join("cache/ansible")
    };
    crate::embedded::install(&primary, version, FILES, marker)
        .or_else(|_| crate::embedded::install(&fallback, version, FILES, marker))
}

/// `ANSIBLE_ROLES_PATH` for a suite: an installed standard-test-roles first, then
/// taskotron's (a playbook's own `roles/` beside it is searched before either,
/// by Ansible itself).
pub fn roles_path(ours: &Path) -> String {
    let ours = ours.join("roles").display().to_string();
    if Path::new(INSTALLED_ROLES).join(ROLES[0]).is_dir() {
        format!("{INSTALLED_ROLES}:{ours}")
    } else {
        ours
    }
}

/// Whether the playbook `root` names any tag: only then is it run with `--tags
/// classic` (Fedora CI passed the tag of its context; a playbook that tags
/// nothing would run nothing).
pub fn uses_tags(root: &Node) -> bool {
    match &root.value {
        NodeValue::Map(entries) => entries
            .iter()
            .any(|(k, v)| k.as_str() == Some("tags") || uses_tags(v)),
        NodeValue::Seq(items) => items.iter().any(uses_tags),
        _ => false,
    }
}

/// The roles the plays of `root` name (`roles:` entries, `include_role` and
/// `import_role` tasks), with the node that names each.
pub fn roles_named(root: &Node) -> Vec<(String, &Node)> {
    let mut out = Vec::new();
    fn role_of(entry: &Node) -> Option<&Node> {
        if entry.as_str().is_some() {
            return Some(entry);
        }
        entry.get("role").or_else(|| entry.get("name"))
    }
    fn tasks<'a>(node: &'a Node, out: &mut Vec<(String, &'a Node)>) {
        match &node.value {
            NodeValue::Map(entries) => {
                for (k, v) in entries {
                    match k.as_str() {
                        Some(
                            "include_role"
                            | "import_role"
                            | "ansible.builtin.include_role"
                            | "ansible.builtin.import_role",
                        ) => {
                            if let Some(n) = v.get("name").filter(|n| n.as_str().is_some()) {
                                out.push((n.as_str().unwrap_or_default().to_string(), n));
                            }
                        }
                        _ => tasks(v, out),
                    }
                }
            }
            NodeValue::Seq(items) => items.iter().for_each(|i| tasks(i, out)),
            _ => {}
        }
    }
    for play in root.as_seq().unwrap_or_default() {
        for entry in play.get("roles").and_then(Node::as_seq).unwrap_or_default() {
            if let Some(n) = role_of(entry) {
                if let Some(name) = n.as_str() {
                    out.push((name.to_string(), n));
                }
            }
        }
        for key in ["tasks", "pre_tasks", "post_tasks", "handlers"] {
            if let Some(t) = play.get(key) {
                tasks(t, &mut out);
            }
        }
    }
    out
}

/// Whether role `name` can be found for a playbook in `dir`: ours, the
/// playbook's own `roles/`, a role installed where Ansible looks by default, or a
/// collection's (`namespace.collection.role`, which Ansible resolves itself).
pub fn role_provided(name: &str, dir: &Path) -> bool {
    if ROLES.contains(&name) || name.contains('.') || name.contains('{') {
        return true;
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut places = vec![
        dir.join("roles"),
        PathBuf::from(INSTALLED_ROLES),
        PathBuf::from("/etc/ansible/roles"),
    ];
    if let Some(h) = home {
        places.push(h.join(".ansible/roles"));
    }
    places.iter().any(|p| p.join(name).is_dir())
}

/// Copies the checkout the suites in `tests` belong to into `dest` and returns
/// where the suites are in the copy. A suite writes beside its tests (`save-files`,
/// standard-test-source's `source/`) and Fedora CI ran it in a clone on a
/// disposable machine; the task directory is the author's (read-only in a
/// sandbox), so a run works on its own copy. The checkout is the parent of a
/// `tests/` directory that sits beside a spec file, else `tests` itself; `.git`
/// is left out, links are copied as links.
///
/// # Errors
/// A file cannot be read or written.
pub fn copy_checkout(tests: &Path, dest: &Path) -> std::io::Result<PathBuf> {
    let parent = tests.parent().filter(|p| {
        tests.file_name().is_some_and(|n| n == "tests")
            && std::fs::read_dir(p).is_ok_and(|mut d| {
                d.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".spec")))
            })
    });
    let (from, inside) = match parent {
        Some(p) => (p.to_path_buf(), dest.join("tests")),
        None => (tests.to_path_buf(), dest.to_path_buf()),
    };
    copy_tree(&from, dest)?;
    Ok(inside)
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == ".git" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
        } else if kind.is_dir() {
            copy_tree(&src, &dst)?;
        } else if kind.is_file() {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// One test's result, as `artifacts/results.yml` says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    /// The test's name.
    pub test: String,
    /// `pass`, `fail` or `error`.
    pub result: String,
    /// Its logs, relative to the artifacts directory; the first is the one to show.
    pub logs: Vec<String>,
}

/// The results of a suite from the text of its `results.yml` (`results:` a list
/// of `{result, test, logs}`), read with positions.
///
/// # Errors
/// The text is no YAML, or no STI results: every problem with its place.
pub fn read_results(text: &str, file: &Path) -> Result<Vec<TestResult>, Vec<Diagnostic>> {
    let root = taskotron_tap::yaml::parse_all(text, Some(file))?;
    let at = |node: &Node, d: Diagnostic| d.at(Some(file), text, node.location, node.width);
    let Some(list) = root.get("results") else {
        return Err(vec![at(
            &root,
            Diagnostic::error("no `results` list").expected(
                "`results:` and a list of `{result: pass|fail|error, test: NAME, logs: [FILE]}`",
            ),
        )]);
    };
    if matches!(list.value, NodeValue::Null) {
        return Ok(Vec::new());
    }
    let Some(items) = list.as_seq() else {
        return Err(vec![at(
            list,
            Diagnostic::error("`results` is not a list")
                .expected("a list of `{result, test, logs}`"),
        )]);
    };
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for item in items {
        let Some(entries) = item.as_map() else {
            problems.push(at(
                item,
                Diagnostic::error("a result is not a mapping")
                    .expected("`{result: pass|fail|error, test: NAME, logs: [FILE]}`"),
            ));
            continue;
        };
        for (k, _) in entries {
            let key = k.as_str().unwrap_or_default();
            if !["result", "test", "logs"].contains(&key) {
                let near = taskotron_tap::suggest::did_you_mean(key, ["result", "test", "logs"]);
                problems.push(at(
                    k,
                    Diagnostic::error(format!("unknown key `{key}` in a result"))
                        .expected("`result`, `test` or `logs`")
                        .suggest(near),
                ));
            }
        }
        let test = item.get("test").and_then(|t| match &t.value {
            NodeValue::Str(s, _) => Some(s.clone()),
            NodeValue::Int(i) => Some(i.to_string()),
            _ => None,
        });
        let Some(test) = test.filter(|t| !t.is_empty()) else {
            problems.push(at(
                item.get("test").unwrap_or(item),
                Diagnostic::error("a result without its `test` name").expected("`test: NAME`"),
            ));
            continue;
        };
        let result = item.get("result");
        let value = result.and_then(Node::as_str).unwrap_or_default();
        if !["pass", "fail", "error"].contains(&value) {
            problems.push(at(
                result.unwrap_or(item),
                Diagnostic::error(format!("test `{test}`: `result` is `{value}`"))
                    .expected("`pass`, `fail` or `error`")
                    .suggest(taskotron_tap::suggest::did_you_mean(
                        value,
                        ["pass", "fail", "error"],
                    )),
            ));
            continue;
        }
        let logs = match item.get("logs").map(|l| &l.value) {
            None | Some(NodeValue::Null) => Vec::new(),
            Some(NodeValue::Seq(l)) => l
                .iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect(),
            Some(NodeValue::Str(s, _)) => vec![s.clone()],
            Some(_) => {
                problems.push(at(
                    item.get("logs").unwrap_or(item),
                    Diagnostic::error(format!("test `{test}`: `logs` is not a list"))
                        .expected("a list of files relative to the artifacts directory"),
                ));
                continue;
            }
        };
        out.push(TestResult {
            test,
            result: value.to_string(),
            logs,
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// A suite's outcome from its tests' results: `error` before `fail` before
/// `pass`, as tmt orders them (and as the tmt format maps them).
pub fn outcome(results: &[TestResult]) -> crate::results::Outcome {
    use crate::results::Outcome;
    if results.is_empty() || results.iter().any(|r| r.result == "error") {
        Outcome::NeedsInspection
    } else if results.iter().any(|r| r.result == "fail") {
        Outcome::Failed
    } else {
        Outcome::Passed
    }
}

pub mod convert;

#[cfg(test)]
mod tests;
