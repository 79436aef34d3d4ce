//! `taskotron sti convert`: the tmt plan and test metadata equivalent to STI
//! suites, by the mapping Fedora documented when it moved packages from STI to
//! tmt: a plan per playbook (`discover: how: fmf`, `execute: how: tmt`), a test
//! per standard-test-basic test (`run` → `test`, `dir` → `path`),
//! `required_packages` → the plan's `prepare: how: install`, standard-test-source
//! → `discover: dist-git-source: true` (the tests then find the prepared source
//! in `$TMT_SOURCE_DIR`), standard-test-beakerlib tests → `framework:
//! beakerlib`. What has no equivalent (a play's own `tasks`, other roles) is
//! said in the notes and left out. This module makes text; [`write`] writes it.

use std::path::{Path, PathBuf};

use taskotron_tap::yaml::{Node, NodeValue};

use crate::diagnostic::Diagnostic;

/// What a conversion gives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conversion {
    /// Files to write, relative to the checkout's root, with their text.
    pub files: Vec<(PathBuf, String)>,
    /// What was not converted, or converted with a change worth knowing.
    pub notes: Vec<String>,
}

/// A suite: its playbook's file name (in `tests/`) and text.
pub type Suite = (String, String);

/// One test of a suite.
struct Test {
    name: String,
    dir: String,
    run: String,
    saves: Vec<String>,
    timeout: Option<i64>,
    beakerlib: bool,
}

/// A YAML scalar for `s`: JSON's quoting is YAML's.
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn strings(node: Option<&Node>) -> Vec<String> {
    match node.map(|n| &n.value) {
        Some(NodeValue::Seq(items)) => items
            .iter()
            .filter_map(|n| n.as_str().map(str::to_string))
            .collect(),
        Some(NodeValue::Str(s, _)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// The tests a role entry gives (`tests:` of standard-test-basic or -beakerlib).
fn tests_of(entry: &Node, beakerlib: bool, notes: &mut Vec<String>, from: &str) -> Vec<Test> {
    let mut out = Vec::new();
    for t in entry
        .get("tests")
        .and_then(Node::as_seq)
        .unwrap_or_default()
    {
        if let Some(name) = t.as_str() {
            out.push(Test {
                name: name.to_string(),
                dir: name.to_string(),
                run: "./runtest.sh".into(),
                saves: Vec::new(),
                timeout: None,
                beakerlib,
            });
            continue;
        }
        let Some([(k, spec)]) = t.as_map() else {
            notes.push(format!(
                "{from}: a test that is neither a name nor `{{name: {{dir, run}}}}` was left out"
            ));
            continue;
        };
        let Some(name) = k.as_str() else { continue };
        out.push(Test {
            name: name.to_string(),
            dir: spec
                .get("dir")
                .and_then(Node::as_str)
                .unwrap_or(".")
                .to_string(),
            run: spec
                .get("run")
                .and_then(Node::as_str)
                .unwrap_or("./runtest.sh")
                .to_string(),
            saves: strings(spec.get("save-files")),
            timeout: spec.get("timeout").and_then(|n| match n.value {
                NodeValue::Int(i) => Some(i),
                _ => None,
            }),
            beakerlib,
        });
    }
    out
}

/// The name of the plan of playbook `file` (`tests.yml` → `sti`,
/// `tests_smoke.yml` → `sti-smoke`).
fn plan_stem(file: &str) -> String {
    let stem = file
        .trim_end_matches(".yml")
        .trim_start_matches("tests")
        .trim_start_matches(['_', '-', '.']);
    if stem.is_empty() {
        "sti".into()
    } else {
        format!("sti-{stem}")
    }
}

/// A node name made of the characters fmf keeps readable.
fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Converts the suites `playbooks` (file name and text; they live in `tests/`
/// of the checkout) into tmt metadata. `dirs` says which test directories
/// exist (a test whose `dir` is its name gets its `main.fmf` there).
///
/// # Errors
/// A playbook that is not YAML, not an STI suite, or converts to no test.
#[allow(clippy::too_many_lines)]
pub fn convert(
    playbooks: &[Suite],
    dirs: &dyn Fn(&str) -> bool,
) -> Result<Conversion, Vec<Diagnostic>> {
    let mut out = Conversion::default();
    let mut problems = Vec::new();
    let several = playbooks.len() > 1;
    out.files
        .push((PathBuf::from(".fmf/version"), "1\n".to_string()));
    for (file, text) in playbooks {
        let path = PathBuf::from("tests").join(file);
        let root = match taskotron_tap::yaml::parse_all(text, Some(&path)) {
            Ok(r) => r,
            Err(mut d) => {
                problems.append(&mut d);
                continue;
            }
        };
        let at = |node: &Node, d: Diagnostic| d.at(Some(&path), text, node.location, node.width);
        let Some(plays) = root.as_seq() else {
            problems.push(at(
                &root,
                Diagnostic::error("a playbook is a list of plays"),
            ));
            continue;
        };
        let mut tests = Vec::new();
        let mut packages: Vec<String> = Vec::new();
        let mut source = false;
        for play in plays {
            if play
                .get("vars")
                .and_then(|v| v.get("taskotron_generic_task"))
                .is_some()
            {
                problems.push(at(
                    play,
                    Diagnostic::error(format!(
                        "`{file}` is a Taskotron playbook, not an STI suite: there is nothing to convert"
                    )),
                ));
                continue;
            }
            for key in ["tasks", "pre_tasks", "post_tasks"] {
                if play.get(key).is_some() {
                    out.notes.push(format!(
                        "{file}: the play's `{key}` have no tmt equivalent here and were left out (a `prepare: how: shell` or `how: ansible` phase can take them)"
                    ));
                }
            }
            for entry in play.get("roles").and_then(Node::as_seq).unwrap_or_default() {
                let role = entry
                    .as_str()
                    .or_else(|| entry.get("role").and_then(Node::as_str))
                    .or_else(|| entry.get("name").and_then(Node::as_str))
                    .unwrap_or_default();
                match role {
                    "standard-test-basic" => {
                        tests.extend(tests_of(entry, false, &mut out.notes, file));
                        packages.extend(strings(entry.get("required_packages")));
                        if entry.get("repositories").is_some() {
                            out.notes.push(format!(
                                "{file}: `repositories` were left out: clone them in a `prepare: how: shell` phase"
                            ));
                        }
                    }
                    "standard-test-beakerlib" => {
                        tests.extend(tests_of(entry, true, &mut out.notes, file));
                        packages.extend(strings(entry.get("required_packages")));
                    }
                    "standard-test-source" => source = true,
                    other => out.notes.push(format!(
                        "{file}: the role `{other}` has no tmt equivalent here and was left out"
                    )),
                }
            }
        }
        if tests.is_empty() {
            problems.push(at(
                &root,
                Diagnostic::error(format!("`{file}` has no test to convert"))
                    .expected("a play with `roles: [{role: standard-test-basic, tests: [...]}]`"),
            ));
            continue;
        }
        let plan = plan_stem(file);
        let mut names = Vec::new();
        for t in &tests {
            let node = if several {
                format!("{plan}/{}", slug(&t.name))
            } else {
                slug(&t.name)
            };
            let in_source = t.dir == "source" || t.dir.starts_with("source/");
            let (test_path, run) = if in_source {
                // standard-test-source's `source/` is tmt's $TMT_SOURCE_DIR.
                let rest = t.dir.trim_start_matches("source").trim_start_matches('/');
                (
                    "/tests".to_string(),
                    format!("cd \"$TMT_SOURCE_DIR\"/*/{rest} && {}", t.run),
                )
            } else {
                let dir = t.dir.trim_start_matches("./").trim_end_matches('/');
                let p = if dir.is_empty() || dir == "." {
                    "/tests".to_string()
                } else {
                    format!("/tests/{dir}")
                };
                (p, t.run.clone())
            };
            let run = if t.saves.is_empty() {
                run
            } else {
                out.notes.push(format!(
                    "{file}: test `{}`: `save-files` became a copy into $TMT_TEST_DATA after the test",
                    t.name
                ));
                format!(
                    "{run}; rc=$?; cp {} \"$TMT_TEST_DATA\"/ 2>/dev/null; exit $rc",
                    t.saves.join(" ")
                )
            };
            let mut text = format!(
                "# Converted from tests/{file} by `taskotron sti convert`.\nsummary: {}\ntest: {}\npath: {test_path}\nframework: {}\ntag: [sti]\n",
                quoted(&format!("{} (STI, tests/{file})", t.name)),
                quoted(&run),
                if t.beakerlib { "beakerlib" } else { "shell" },
            );
            if let Some(s) = t.timeout {
                text.push_str(&format!("duration: {s}s\n"));
            }
            let own_dir = !several && t.dir == t.name && dirs(&t.dir);
            let file_path = if own_dir {
                PathBuf::from("tests").join(&t.dir).join("main.fmf")
            } else {
                PathBuf::from("tests/sti").join(format!("{node}.fmf"))
            };
            names.push(if own_dir {
                format!("/tests/{}", t.dir)
            } else {
                format!("/tests/sti/{node}")
            });
            out.files.push((file_path, text));
        }
        let mut plan_text = format!(
            "# Converted from tests/{file} by `taskotron sti convert`: the same tests, run\n# by tmt (or `taskotron run` on this tree).\nsummary: {}\ndiscover:\n    how: fmf\n    test:\n",
            quoted(&format!("the STI tests of tests/{file}"))
        );
        for n in &names {
            plan_text.push_str(&format!(
                "      - {}\n",
                quoted(&format!("^{}$", regex::escape(n)))
            ));
        }
        if source {
            plan_text.push_str("    dist-git-source: true\n");
        }
        packages.sort();
        packages.dedup();
        if !packages.is_empty() {
            plan_text.push_str("prepare:\n    how: install\n    package:\n");
            for p in &packages {
                plan_text.push_str(&format!("      - {}\n", quoted(p)));
            }
        }
        plan_text.push_str("provision:\n    how: local\nexecute:\n    how: tmt\n");
        out.files.push((
            PathBuf::from("plans").join(format!("{plan}.fmf")),
            plan_text,
        ));
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Writes `conversion` under `root`; a file that exists is left as it is and
/// refused unless `force`.
///
/// # Errors
/// A file exists (every one named), or cannot be written.
pub fn write(root: &Path, conversion: &Conversion, force: bool) -> Result<(), Vec<Diagnostic>> {
    let existing: Vec<Diagnostic> = conversion
        .files
        .iter()
        .filter(|(p, _)| !force && p != Path::new(".fmf/version") && root.join(p).exists())
        .map(|(p, _)| {
            Diagnostic::error(format!("`{}` exists", root.join(p).display()))
                .help("remove it, or pass `--force` to overwrite it")
        })
        .collect();
    if !existing.is_empty() {
        return Err(existing);
    }
    for (p, text) in &conversion.files {
        let path = root.join(p);
        if p == Path::new(".fmf/version") && path.exists() {
            continue;
        }
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, text));
        if let Err(e) = written {
            return Err(vec![Diagnostic::error(format!(
                "cannot write `{}`: {e}",
                path.display()
            ))]);
        }
    }
    Ok(())
}

/// The suites of the checkout `dir` (its `tests/tests*.yml`, or `dir`'s own when
/// it is the tests directory), read, and the checkout's root.
///
/// # Errors
/// None are there, or one cannot be read.
pub fn suites_of(dir: &Path) -> Result<(PathBuf, Vec<Suite>), Vec<Diagnostic>> {
    let (root, tests) = if crate::format::playbooks(&dir.join("tests")).is_empty() {
        (
            dir.parent()
                .map_or_else(|| dir.to_path_buf(), Path::to_path_buf),
            dir.to_path_buf(),
        )
    } else {
        (dir.to_path_buf(), dir.join("tests"))
    };
    let files = crate::format::playbooks(&tests);
    if files.is_empty() {
        return Err(vec![Diagnostic::error(format!(
            "no STI suite in `{}`",
            dir.display()
        ))
        .expected(
            "a dist-git checkout with tests/tests.yml, or its tests/ directory",
        )]);
    }
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| {
            vec![Diagnostic::error(format!(
                "cannot read `{}`: {e}",
                f.display()
            ))]
        })?;
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push((name, text));
    }
    Ok((root, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUITE: &str = "- hosts: localhost\n  roles:\n  - role: standard-test-source\n    tags: [always]\n  - role: standard-test-basic\n    tags: [classic]\n    required_packages: [python3, make]\n    tests:\n    - simple\n    - smoke:\n        dir: smoke\n        run: ./smoke.sh --fast\n        save-files: [\"*.out\"]\n    - upstream:\n        dir: source\n        run: make check\n";

    fn files(c: &Conversion) -> Vec<(String, String)> {
        c.files
            .iter()
            .map(|(p, t)| (p.display().to_string(), t.clone()))
            .collect()
    }

    #[test]
    fn the_usual_suite_becomes_a_plan_and_a_test_each() {
        let c = convert(&[("tests.yml".into(), SUITE.into())], &|d| d == "simple").unwrap();
        let f = files(&c);
        let names: Vec<&str> = f.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            names,
            [
                ".fmf/version",
                "tests/simple/main.fmf",
                "tests/sti/smoke.fmf",
                "tests/sti/upstream.fmf",
                "plans/sti.fmf"
            ]
        );
        let plan = &f[4].1;
        assert!(plan.contains("dist-git-source: true"), "{plan}");
        assert!(
            plan.contains("      - \"make\"\n      - \"python3\"\n"),
            "{plan}"
        );
        assert!(plan.contains("\"^/tests/simple$\""), "{plan}");
        assert!(
            f[1].1
                .contains("test: \"./runtest.sh\"\npath: /tests/simple\n"),
            "{}",
            f[1].1
        );
        assert!(
            f[3].1
                .contains("cd \\\"$TMT_SOURCE_DIR\\\"/*/ && make check"),
            "{}",
            f[3].1
        );
        assert!(f[2].1.contains("path: /tests/smoke"), "{}", f[2].1);
        assert_eq!(c.notes.len(), 1, "{:?}", c.notes);
        // Every file is YAML an fmf reader takes.
        for (p, t) in &f[1..] {
            taskotron_tap::yaml::parse(t, Some(Path::new(p))).unwrap();
        }
    }

    #[test]
    fn what_cannot_be_converted_is_said() {
        let e = convert(
            &[(
                "tests.yml".into(),
                "- hosts: localhost\n  vars: {taskotron_generic_task: true}\n".into(),
            )],
            &|_| false,
        )
        .unwrap_err();
        assert!(crate::diagnostic::render_all(&e).contains("Taskotron playbook"));
        let e = convert(
            &[(
                "tests.yml".into(),
                "- hosts: localhost\n  tasks: [{debug: {msg: hi}}]\n".into(),
            )],
            &|_| false,
        )
        .unwrap_err();
        let text = crate::diagnostic::render_all(&e);
        assert!(
            text.contains("tests/tests.yml:1:1") && text.contains("no test to convert"),
            "{text}"
        );
        let c = convert(
            &[("tests_x.yml".into(), "- hosts: localhost\n  roles: [{role: my-role}, {role: standard-test-basic, tests: [a]}]\n".into())],
            &|_| true,
        )
        .unwrap();
        assert!(
            c.notes.iter().any(|n| n.contains("`my-role`")),
            "{:?}",
            c.notes
        );
        assert!(c
            .files
            .iter()
            .any(|(p, _)| p == Path::new("plans/sti-x.fmf")));
    }
}
