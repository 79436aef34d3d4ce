//! Reading an fmf tree: every node, with its data merged from its parents and
//! from every file that defines part of it.
//!
//! A directory is a node; its `main.fmf` holds its data, any other `NAME.fmf` is
//! the child `NAME`, and a `/NAME` key in a file is a child too. Names that start
//! with a dot are left out. Children inherit their parent's data (merged with the
//! operators of [`crate::merge`]) unless their `/` key says `inherit: false`; a
//! leaf is listed unless `/: {select: false}`, a branch only with `select: true`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use taskotron_tap::yaml::{self, Node as Yaml, NodeValue};
use taskotron_tap::Diagnostic;

use crate::merge;

/// The file that makes a directory an fmf root.
pub const VERSION_FILE: &str = ".fmf/version";

/// One node of a tree, its data merged.
#[derive(Debug, Clone)]
pub struct Node {
    /// `/tests/basic`: the path from the root, `/` for the root itself.
    pub name: String,
    /// The data after inheritance and merging, in the order keys were written.
    pub data: Vec<(Yaml, Yaml)>,
    /// The files that define part of it, in the order read.
    pub sources: Vec<PathBuf>,
    /// Whether it is listed: a leaf unless it says otherwise, a branch when it asks.
    pub selected: bool,
    /// Whether it has children.
    pub branch: bool,
}

impl Node {
    /// The data as plain JSON (what `fmf show` and the exports carry), keys in
    /// order.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.data
                .iter()
                .map(|(k, v)| (k.key_text(), v.to_json()))
                .collect(),
        )
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Yaml> {
        self.data
            .iter()
            .find(|(k, _)| k.key_text() == key)
            .map(|(_, v)| v)
    }
}

/// A node as read, before inheritance: its own data, from each file in turn.
#[derive(Debug, Default)]
struct Raw {
    /// Each file's part, with the file.
    parts: Vec<(PathBuf, Vec<(Yaml, Yaml)>)>,
    /// `inherit` and `select` of its `/` key.
    inherit: Option<bool>,
    select: Option<bool>,
}

/// A whole tree: its root and every node, parents before their children.
#[derive(Debug, Clone)]
pub struct Tree {
    /// The directory holding `.fmf/version`.
    pub root: PathBuf,
    /// Every node, in name order (a parent before its children).
    pub nodes: Vec<Node>,
}

impl Tree {
    /// Reads the tree rooted at `root`.
    ///
    /// # Errors
    /// No `.fmf/version`, an unreadable file, invalid YAML, data that is not a
    /// mapping, a merge of the wrong types: every problem found, with its file.
    pub fn read(root: &Path) -> Result<Tree, Vec<Diagnostic>> {
        match Tree::read_all(root) {
            (Some(tree), problems) if problems.is_empty() => Ok(tree),
            (_, problems) => Err(problems),
        }
    }

    /// Reads the tree rooted at `root` as far as it can be read: the tree when
    /// its files and merges are sound (even if some `adjust` rule is not, so
    /// that a lint can say everything else too), and every problem found.
    pub fn read_all(root: &Path) -> (Option<Tree>, Vec<Diagnostic>) {
        let version = root.join(VERSION_FILE);
        match std::fs::read_to_string(&version) {
            Ok(v) if v.trim() == "1" => {}
            Ok(v) => {
                return (
                    None,
                    vec![
                        Diagnostic::error(format!("unsupported fmf version `{}`", v.trim()))
                            .expected("`1`")
                            .in_file(&version),
                    ],
                )
            }
            Err(e) => {
                return (
                    None,
                    vec![Diagnostic::error(format!(
                        "`{}` is no fmf tree: cannot read {VERSION_FILE}: {e}",
                        root.display()
                    ))
                    .help("`fmf init` (or `echo 1 > .fmf/version`) makes a directory a tree")],
                )
            }
        }
        let mut raw: BTreeMap<String, Raw> = BTreeMap::new();
        let mut problems = Vec::new();
        let mut rules = Vec::new();
        let include = explore_include(root);
        raw.entry("/".to_string()).or_default();
        read_dir(root, "/", &include, &mut raw, &mut problems, &mut rules);
        if !problems.is_empty() {
            problems.extend(rules);
            return (None, problems);
        }
        let nodes = resolve(&raw, &mut problems);
        let tree = problems.is_empty().then(|| Tree {
            root: root.to_path_buf(),
            nodes,
        });
        problems.extend(rules);
        (tree, problems)
    }

    /// Applies every node's `adjust` rules for `ctx`, and says what each rule did.
    ///
    /// # Errors
    /// A rule whose keys do not merge into its node, with the node's file.
    pub fn adjust(
        &mut self,
        ctx: &crate::Context,
    ) -> Result<Vec<crate::adjust::Applied>, Vec<Diagnostic>> {
        let mut applied = Vec::new();
        let mut problems = Vec::new();
        for node in &mut self.nodes {
            match crate::adjust::apply(&node.name, &mut node.data, ctx) {
                Ok(a) => applied.extend(a),
                Err(message) => {
                    let d = Diagnostic::error(format!(
                        "in `{}`: an `adjust` rule {message}",
                        node.name
                    ));
                    problems.push(match node.sources.last() {
                        Some(f) => d.in_file(f),
                        None => d,
                    });
                }
            }
        }
        if problems.is_empty() {
            Ok(applied)
        } else {
            Err(problems)
        }
    }

    /// The listed nodes (leaves, and branches with `select: true`).
    pub fn selected(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(|n| n.selected)
    }
}

/// `parent` + `child` as a node name.
fn join(parent: &str, child: &str) -> String {
    if parent == "/" {
        format!("/{child}")
    } else {
        format!("{parent}/{child}")
    }
}

/// The dot-names `.fmf/config` asks to be read (`explore: {include: [.plans]}`).
fn explore_include(root: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(root.join(".fmf/config")) else {
        return Vec::new();
    };
    let Ok(doc) = yaml::parse(&text, None) else {
        return Vec::new();
    };
    doc.get("explore")
        .and_then(|e| e.get("include"))
        .and_then(Yaml::as_seq)
        .map(|items| items.iter().map(Yaml::key_text).collect())
        .unwrap_or_default()
}

/// Reads directory `dir` as node `name`; true when it, or a directory below it,
/// holds metadata (a directory without any is no node).
fn read_dir(
    dir: &Path,
    name: &str,
    include: &[String],
    raw: &mut BTreeMap<String, Raw>,
    problems: &mut Vec<Diagnostic>,
    rules: &mut Vec<Diagnostic>,
) -> bool {
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(d) => d.flatten().map(|e| e.path()).collect(),
        Err(e) => {
            problems.push(Diagnostic::error(format!(
                "cannot read `{}`: {e}",
                dir.display()
            )));
            return false;
        }
    };
    entries.sort();
    let mut found = false;
    // main.fmf first: a directory's own data comes before its children's files.
    let main = dir.join("main.fmf");
    if main.is_file() {
        read_file(&main, name, raw, problems, rules);
        found = true;
    }
    for path in entries {
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        if (file.starts_with('.') && !include.iter().any(|i| i == file)) || path == main {
            continue;
        }
        // A nested tree is a tree of its own.
        if path.is_dir() {
            if !path.join(VERSION_FILE).is_file() {
                found |= read_dir(&path, &join(name, file), include, raw, problems, rules);
            }
        } else if let Some(stem) = file.strip_suffix(".fmf") {
            read_file(&path, &join(name, stem), raw, problems, rules);
            found = true;
        }
    }
    if found {
        raw.entry(name.to_string()).or_default();
    }
    found
}

fn read_file(
    path: &Path,
    name: &str,
    raw: &mut BTreeMap<String, Raw>,
    problems: &mut Vec<Diagnostic>,
    rules: &mut Vec<Diagnostic>,
) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            problems.push(Diagnostic::error(format!(
                "cannot read `{}`: {e}",
                path.display()
            )));
            return;
        }
    };
    let doc = match yaml::parse(&text, Some(path)) {
        Ok(d) => d,
        Err(d) => {
            problems.push(*d);
            return;
        }
    };
    match doc.value {
        NodeValue::Null => {
            raw.entry(name.to_string()).or_default();
        }
        NodeValue::Map(entries) => add(path, &text, name, entries, raw, problems, rules),
        _ => problems.push(
            Diagnostic::error(format!("fmf data must be a mapping, not {}", doc.kind()))
                .expected("`key: value` lines")
                .at(Some(path), &text, doc.location, doc.width),
        ),
    }
}

/// Adds a file's mapping to node `name`: `/NAME` keys are children, `/` the node's
/// own directives, the rest its data.
fn add(
    path: &Path,
    text: &str,
    name: &str,
    entries: Vec<(Yaml, Yaml)>,
    raw: &mut BTreeMap<String, Raw>,
    problems: &mut Vec<Diagnostic>,
    rules: &mut Vec<Diagnostic>,
) {
    let mut own = Vec::new();
    for (k, v) in entries {
        let key = k.key_text();
        if key == "/" {
            let node = raw.entry(name.to_string()).or_default();
            for (dk, dv) in v.as_map().unwrap_or_default() {
                match (dk.key_text().as_str(), &dv.value) {
                    ("inherit", NodeValue::Bool(b)) => node.inherit = Some(*b),
                    ("select", NodeValue::Bool(b)) => node.select = Some(*b),
                    (other, _) => problems.push(
                        Diagnostic::error(format!("unknown directive `{other}` in `/`"))
                            .expected("`inherit: true|false` or `select: true|false`")
                            .at(Some(path), text, dk.location, dk.width),
                    ),
                }
            }
        } else if let Some(child) = key.strip_prefix('/') {
            let child_name = child
                .split('/')
                .filter(|c| !c.is_empty())
                .fold(name.to_string(), |n, c| join(&n, c));
            match v.value {
                NodeValue::Map(inner) => add(path, text, &child_name, inner, raw, problems, rules),
                NodeValue::Null => {
                    raw.entry(child_name).or_default();
                }
                _ => problems.push(
                    Diagnostic::error(format!(
                        "the child `{key}` must be a mapping, not {}",
                        v.kind()
                    ))
                    .at(Some(path), text, v.location, v.width),
                ),
            }
        } else {
            if merge::split_key(&key).0 == "adjust" {
                rules.extend(crate::adjust::check(&v, path, text));
            }
            own.push((k, v));
        }
    }
    raw.entry(name.to_string())
        .or_default()
        .parts
        .push((path.to_path_buf(), own));
}

/// Every node with its inherited data, parents first.
fn resolve(raw: &BTreeMap<String, Raw>, problems: &mut Vec<Diagnostic>) -> Vec<Node> {
    let mut done: BTreeMap<String, Node> = BTreeMap::new();
    // Names sort parents before children (`/a` < `/a/b`), except that `/a-b`
    // sorts between them; parents are looked up by name, so order only matters
    // for the output.
    let mut names: Vec<&String> = raw.keys().collect();
    names.sort_by_key(|n| n.split('/').filter(|c| !c.is_empty()).count());
    for name in names {
        let r = &raw[name];
        let parent = parent_of(name).and_then(|p| done.get(&p));
        let mut data = match (parent, r.inherit) {
            (Some(p), None | Some(true)) => p.data.clone(),
            _ => Vec::new(),
        };
        let mut sources = Vec::new();
        for (file, part) in &r.parts {
            if let Err(e) = merge::merge_into(&mut data, part) {
                problems.push(Diagnostic::error(e.message).in_file(file));
            }
            sources.push(file.clone());
        }
        let branch = raw
            .keys()
            .any(|other| parent_of(other).as_deref() == Some(name.as_str()));
        let selected = r.select.unwrap_or(!branch);
        done.insert(
            name.clone(),
            Node {
                name: name.clone(),
                data,
                sources,
                selected,
                branch,
            },
        );
    }
    done.into_values().collect()
}

fn parent_of(name: &str) -> Option<String> {
    if name == "/" {
        return None;
    }
    let cut = name.rfind('/')?;
    Some(if cut == 0 {
        "/".into()
    } else {
        name[..cut].to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> (tempfile::TempDir, Result<Tree, Vec<Diagnostic>>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".fmf")).unwrap();
        std::fs::write(dir.path().join(VERSION_FILE), "1\n").unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let t = Tree::read(dir.path());
        (dir, t)
    }

    fn listed(t: &Tree) -> Vec<(String, String)> {
        t.selected()
            .map(|n| (n.name.clone(), n.to_json().to_string()))
            .collect()
    }

    #[test]
    fn names_come_from_directories_files_and_slash_keys() {
        let (_d, t) = tree(&[
            ("main.fmf", "summary: top\ntier: 1\n"),
            ("tests/main.fmf", "test: ./run.sh\n/smoke:\n  tier: 0\n"),
            ("tests/full.fmf", "duration: 1h\n"),
            ("tests/.hidden/main.fmf", "test: no\n"),
        ]);
        let t = t.unwrap();
        assert_eq!(
            listed(&t),
            [
                (
                    "/tests/full".to_string(),
                    r#"{"duration":"1h","summary":"top","test":"./run.sh","tier":1}"#.to_string()
                ),
                (
                    "/tests/smoke".to_string(),
                    r#"{"summary":"top","test":"./run.sh","tier":0}"#.to_string()
                ),
            ]
        );
    }

    #[test]
    fn scattered_definitions_merge_and_inherit_false_stops_inheritance() {
        let (_d, t) = tree(&[
            ("main.fmf", "tag: [all]\n"),
            ("wget/main.fmf", "/download:\n  test: wget x\n"),
            ("wget/download.fmf", "tag+: [net]\n"),
            ("alone.fmf", "/: {inherit: false}\ntest: ./alone\n"),
        ]);
        let t = t.unwrap();
        assert_eq!(
            listed(&t),
            [
                ("/alone".to_string(), r#"{"test":"./alone"}"#.to_string()),
                (
                    "/wget/download".to_string(),
                    r#"{"tag":["all","net"],"test":"wget x"}"#.to_string()
                ),
            ]
        );
    }

    #[test]
    fn select_lists_a_branch_or_hides_a_leaf() {
        let (_d, t) = tree(&[
            (
                "plans/main.fmf",
                "/: {select: true}\nexecute: {how: tmt}\n/child: {}\n",
            ),
            ("hidden.fmf", "/: {select: false}\n"),
        ]);
        let names: Vec<String> = t.unwrap().selected().map(|n| n.name.clone()).collect();
        assert_eq!(names, ["/plans", "/plans/child"]);
    }

    #[test]
    fn problems_name_their_file() {
        let (_d, t) = tree(&[("a.fmf", "tag: [x\n"), ("b.fmf", "- a\n")]);
        let problems = t.unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().all(|d| d.file.is_some()));
        let (_d, t) = tree(&[("main.fmf", "tag: [a]\n"), ("c.fmf", "tag+: b\n")]);
        let e = t.unwrap_err();
        assert!(
            e[0].message.contains("cannot append a string to a list"),
            "{e:?}"
        );
        let dir = tempfile::tempdir().unwrap();
        let e = Tree::read(dir.path()).unwrap_err();
        assert!(e[0].message.contains("is no fmf tree"), "{e:?}");
    }
}
