//! tmt's metadata over an fmf tree: which nodes are tests (a `test` key) and
//! plans (an `execute` key), each normalised to the fields and defaults `tmt
//! tests export` and `tmt plans export` give, in the same order, so a script
//! written against tmt's export reads ours; and [`lint`], what `validate` says
//! of them. *Invariant: it reads files (a diagnostic's excerpt) and does nothing
//! else.*

use std::path::Path;

use serde_json::{json, Map, Value};

use taskotron_tap::yaml::Node as Yaml;

use crate::{Node, Tree};

/// An exported record: fields in tmt's order (JSON keeps it; YAML sorts, as
/// tmt's YAML does).
#[derive(Debug, Clone, PartialEq)]
pub struct Record(pub Vec<(String, Value)>);

impl Record {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The record as a JSON object (keys sorted, as `serde_json` keeps them).
    pub fn to_map(&self) -> Map<String, Value> {
        self.0.iter().cloned().collect()
    }

    /// The node's name.
    pub fn name(&self) -> &str {
        self.get("name").and_then(Value::as_str).unwrap_or("")
    }
}

impl serde::Serialize for Record {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// The test keys tmt knows (L1 metadata); a key outside them is most likely a
/// typo (`extra-*` keys are free).
pub const TEST_KEYS: &[&str] = &[
    "summary",
    "description",
    "author",
    "contact",
    "enabled",
    "order",
    "link",
    "id",
    "tag",
    "tier",
    "component",
    "test",
    "path",
    "framework",
    "manual",
    "tty",
    "require",
    "recommend",
    "environment",
    "duration",
    "result",
    "where",
    "check",
    "restart-on-exit-code",
    "restart-max-count",
    "restart-with-reboot",
    "adjust",
    "serial-number",
];

/// The plan keys tmt knows (L2 metadata).
pub const PLAN_KEYS: &[&str] = &[
    "summary",
    "description",
    "author",
    "contact",
    "enabled",
    "order",
    "link",
    "id",
    "tag",
    "tier",
    "discover",
    "provision",
    "prepare",
    "execute",
    "report",
    "finish",
    "cleanup",
    "environment",
    "environment-file",
    "context",
    "gate",
    "login",
    "import",
    "adjust",
    "ansible",
];

/// The test frameworks a test may name.
pub const FRAMEWORKS: &[&str] = &["shell", "beakerlib"];

/// The `result:` modes of a test.
pub const RESULTS: &[&str] = &[
    "respect",
    "xfail",
    "pass",
    "info",
    "warn",
    "error",
    "fail",
    "custom",
    "restraint",
];

/// The steps of a plan, in the order they run, with each one's default `how`.
pub const STEPS: &[(&str, &str)] = &[
    ("discover", "shell"),
    ("provision", "virtual"),
    ("prepare", "shell"),
    ("execute", "tmt"),
    ("report", "display"),
    ("finish", "shell"),
    ("cleanup", "tmt"),
];

/// Whether a node is a test: it has a `test` key.
pub fn is_test(node: &Node) -> bool {
    node.selected && node.get("test").is_some()
}

/// Whether a node is a plan: it has an `execute` key.
pub fn is_plan(node: &Node) -> bool {
    node.selected && node.get("execute").is_some()
}

fn list_of(v: Option<&Value>) -> Value {
    match v {
        None | Some(Value::Null) => json!([]),
        Some(Value::Array(a)) => Value::Array(a.clone()),
        Some(other) => json!([other]),
    }
}

fn or(v: Option<&Value>, default: Value) -> Value {
    v.cloned().unwrap_or(default)
}

/// A list whose bare strings tmt turns into one-key mappings: `link` (a bare
/// target relates, `{relates: target}`) and `check` (`{how: name}`).
fn keyed_list(v: Option<&Value>, key: &str) -> Value {
    let item = |x: &Value| match x {
        Value::String(s) => json!({ key: s }),
        other => other.clone(),
    };
    match v {
        None | Some(Value::Null) => json!([]),
        Some(Value::Array(a)) => Value::Array(a.iter().map(item).collect()),
        Some(other) => json!([item(other)]),
    }
}

fn tier(v: Option<&Value>) -> Value {
    match v {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(s)) => Value::String(s.clone()),
        Some(other) => Value::String(other.to_string()),
    }
}

fn sources(tree: &Tree, node: &Node) -> Value {
    // Every file on the way from the root that defines part of this node or
    // its parents, as tmt lists them: parents' files first.
    let mut files: Vec<String> = Vec::new();
    let mut name = node.name.as_str();
    let mut chain = vec![node];
    while let Some(parent) = name
        .rfind('/')
        .map(|i| if i == 0 { "/" } else { &name[..i] })
    {
        if parent == name {
            break;
        }
        if let Some(p) = tree.nodes.iter().find(|n| n.name == parent) {
            chain.push(p);
        }
        name = parent;
        if name == "/" {
            break;
        }
    }
    for n in chain.iter().rev() {
        for f in &n.sources {
            let f = f.display().to_string();
            if !files.contains(&f) {
                files.push(f);
            }
        }
    }
    json!(files)
}

/// The directory of the file that defines the node last, from the root, as
/// tmt's default `path` (`/tests/basic`).
fn default_path(tree: &Tree, node: &Node) -> String {
    let Some(file) = node.sources.last() else {
        return node.name.clone();
    };
    let dir = file.parent().unwrap_or(Path::new(""));
    let rel = dir.strip_prefix(&tree.root).unwrap_or(dir);
    let text = rel.to_string_lossy();
    if text.is_empty() {
        "/".into()
    } else {
        format!("/{text}")
    }
}

/// The record `tmt tests export` gives for a test node.
pub fn export_test(tree: &Tree, node: &Node) -> Record {
    let d = node.to_json();
    let g = |k: &str| d.get(k).filter(|v| !v.is_null());
    let mut r = vec![
        ("name", json!(node.name)),
        ("summary", or(g("summary"), Value::Null)),
        ("description", or(g("description"), Value::Null)),
        ("author", list_of(g("author"))),
        ("contact", list_of(g("contact"))),
        ("enabled", or(g("enabled"), json!(true))),
        ("order", or(g("order"), json!(50))),
        ("link", keyed_list(g("link"), "relates")),
        ("id", or(g("id"), Value::Null)),
        ("tag", list_of(g("tag"))),
        ("tier", tier(g("tier"))),
        ("component", list_of(g("component"))),
        ("test", or(g("test"), Value::Null)),
        ("path", or(g("path"), json!(default_path(tree, node)))),
        ("framework", or(g("framework"), json!("shell"))),
        ("manual", or(g("manual"), json!(false))),
        ("tty", or(g("tty"), json!(false))),
        ("require", list_of(g("require"))),
        ("recommend", list_of(g("recommend"))),
        ("environment", or(g("environment"), json!({}))),
        ("duration", or(g("duration"), json!("5m"))),
        ("result", or(g("result"), json!("respect"))),
        ("where", or(g("where"), Value::Null)),
        ("check", keyed_list(g("check"), "how")),
        ("restart-on-exit-code", list_of(g("restart-on-exit-code"))),
        ("restart-max-count", or(g("restart-max-count"), json!(1))),
        (
            "restart-with-reboot",
            or(g("restart-with-reboot"), json!(false)),
        ),
        ("sources", sources(tree, node)),
    ];
    // Free `extra-*` keys travel along, as tmt exports them.
    let mut extra: Vec<(&str, Value)> = d
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.starts_with("extra-"))
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    r.append(&mut extra);
    Record(r.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// A step's phases as tmt normalises them: a list of mappings, each with `how`
/// (the step's default when missing) and `name` (`default-N` when missing).
pub fn phases(step: &str, value: Option<&Value>) -> Vec<Map<String, Value>> {
    let default_how = STEPS
        .iter()
        .find(|(s, _)| *s == step)
        .map_or("shell", |(_, h)| h);
    let items: Vec<Value> = match value {
        None | Some(Value::Null) => vec![json!({})],
        Some(Value::Array(a)) if a.is_empty() => vec![json!({})],
        Some(Value::Array(a)) => a.clone(),
        Some(other) => vec![other.clone()],
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let mut m = match item {
                Value::Object(m) => m,
                other => {
                    let mut m = Map::new();
                    m.insert("script".into(), other);
                    m
                }
            };
            m.entry("how").or_insert_with(|| json!(default_how));
            m.entry("name")
                .or_insert_with(|| json!(format!("default-{i}")));
            m
        })
        .collect()
}

/// The record `tmt plans export` gives for a plan node, its `context` the
/// plan's own with `ctx` (the command line's) over it, as tmt merges them.
pub fn export_plan(tree: &Tree, node: &Node, ctx: &crate::Context) -> Record {
    let d = node.to_json();
    let g = |k: &str| d.get(k).filter(|v| !v.is_null());
    let step = |s: &str| Value::Array(phases(s, g(s)).into_iter().map(Value::Object).collect());
    let mut context: Map<String, Value> = match g("context") {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), list_of(Some(v))))
            .collect(),
        _ => Map::new(),
    };
    for (dim, values) in ctx.dimensions() {
        context.insert(dim.to_string(), json!(values));
    }
    let context = Value::Object(context);
    let mut r: Vec<(&str, Value)> = vec![
        ("name", json!(node.name)),
        ("summary", or(g("summary"), Value::Null)),
        ("description", or(g("description"), Value::Null)),
        ("author", list_of(g("author"))),
        ("contact", list_of(g("contact"))),
        ("enabled", or(g("enabled"), json!(true))),
        ("order", or(g("order"), json!(50))),
        ("link", keyed_list(g("link"), "relates")),
        ("id", or(g("id"), Value::Null)),
        ("tag", list_of(g("tag"))),
        ("tier", tier(g("tier"))),
        ("discover", step("discover")),
        ("provision", step("provision")),
        ("prepare", step("prepare")),
        ("execute", step("execute")),
        ("report", step("report")),
        ("finish", step("finish")),
        ("cleanup", step("cleanup")),
        ("context", context),
        ("gate", list_of(g("gate"))),
        ("login", or(g("login"), Value::Null)),
        ("ansible", or(g("ansible"), json!({}))),
    ];
    // tmt exports `environment` only when the plan sets it.
    if let Some(env) = g("environment") {
        r.push(("environment", env.clone()));
    }
    r.push(("sources", sources(tree, node)));
    Record(r.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// The tree at `root`, or at the nearest directory above it holding
/// `.fmf/version` (as tmt finds its root), with `adjust` applied for `ctx` the
/// way tmt applies it (values compared without case).
///
/// # Errors
/// No tree, or every problem [`Tree::read`] and [`Tree::adjust`] find.
pub fn load(root: &Path, ctx: &crate::Context) -> Result<Tree, Vec<crate::Diagnostic>> {
    // Absolute, as tmt names the `sources`.
    let start = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let found = start
        .ancestors()
        .find(|d| d.join(crate::tree::VERSION_FILE).is_file())
        .unwrap_or(&start);
    let mut tree = Tree::read(found)?;
    tree.adjust(&ctx.clone().ignoring_case())?;
    Ok(tree)
}

/// Every test of the tree, exported, in name order.
pub fn tests(tree: &Tree) -> Vec<Record> {
    tree.nodes
        .iter()
        .filter(|n| is_test(n))
        .map(|n| export_test(tree, n))
        .collect()
}

/// Every plan of the tree, exported for `ctx`, in name order.
pub fn plans(tree: &Tree, ctx: &crate::Context) -> Vec<Record> {
    tree.nodes
        .iter()
        .filter(|n| is_plan(n))
        .map(|n| export_plan(tree, n, ctx))
        .collect()
}

/// Which records a listing keeps: names (regexes searched in the name, any may
/// match), `--filter`s (all must hold; a record without a filtered key is left
/// out, as tmt leaves it out), `--condition`s (all must hold over the node's
/// data; one naming a key the node lacks leaves it out, as tmt does), `--link`s
/// (`RELATION:TARGET` regexes, any may match one of the record's links) and
/// `--exclude`s (none may match the name).
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Name regexes; empty keeps every name.
    pub names: Vec<String>,
    /// Filter expressions.
    pub filters: Vec<String>,
    /// Condition expressions ([`crate::condition`]).
    pub conditions: Vec<String>,
    /// Link needles: `TARGET` or `RELATION:TARGET`, each a regex.
    pub links: Vec<String>,
    /// Name regexes to leave out.
    pub excludes: Vec<String>,
}

/// Whether one of `record`'s links matches the needle `RELATION:TARGET` (a bare
/// needle is a target of any relation; a target that is an fmf id is matched by
/// its `name`), as tmt's `LinkNeedle` matches.
fn has_link(record: &Record, needle: &str) -> Result<bool, String> {
    let (relation, target) = needle.split_once(':').unwrap_or((".*", needle));
    let re = |p: &str| {
        regex::Regex::new(p)
            .map_err(|e| format!("link `{needle}`: `{p}` is no regular expression: {e}"))
    };
    let (relation, target) = (re(relation)?, re(target)?);
    let Some(Value::Array(links)) = record.get("link") else {
        return Ok(false);
    };
    Ok(links.iter().filter_map(Value::as_object).any(|link| {
        link.iter().filter(|(k, _)| *k != "note").any(|(k, v)| {
            relation.is_match(k)
                && match v {
                    Value::String(t) => target.is_match(t),
                    Value::Object(id) => id
                        .get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| target.is_match(n)),
                    _ => false,
                }
        })
    }))
}

impl Selection {
    /// Whether `record`, a test or plan of `tree`, is kept.
    ///
    /// # Errors
    /// A name, exclude, link or filter value that is no regex, a condition that
    /// does not parse or that Python would refuse.
    pub fn keeps(&self, tree: &Tree, record: &Record) -> Result<bool, String> {
        let name = record.name();
        let search = |p: &str| {
            regex::Regex::new(p)
                .map(|r| r.is_match(name))
                .map_err(|e| format!("`{p}` is no regular expression: {e}"))
        };
        if !self.names.is_empty() {
            let mut any = false;
            for p in &self.names {
                any |= search(p)?;
            }
            if !any {
                return Ok(false);
            }
        }
        for p in &self.excludes {
            if search(p)? {
                return Ok(false);
            }
        }
        let values = crate::filter::values_of(&record.to_map());
        for f in &self.filters {
            match crate::filter::matches(f, &values, name) {
                Ok(true) => {}
                Ok(false) | Err(crate::filter::FilterError::MissingKey(_)) => return Ok(false),
                Err(e) => return Err(e.to_string()),
            }
        }
        if !self.conditions.is_empty() {
            // Over what tmt calls a test's metadata: the node's own data (after
            // inheritance and `adjust`) with the exported record over it, so
            // `tier` is the string tmt makes of it and unknown keys are there too.
            let mut data = tree
                .nodes
                .iter()
                .find(|n| n.name == name)
                .and_then(|n| n.to_json().as_object().cloned())
                .unwrap_or_default();
            data.extend(record.0.iter().cloned());
            for c in &self.conditions {
                let parsed = crate::condition::Condition::parse(c).map_err(|e| e.to_string())?;
                match parsed.holds(&data) {
                    Ok(true) => {}
                    Ok(false) | Err(crate::condition::ConditionError::Undefined(_)) => {
                        return Ok(false)
                    }
                    Err(e) => return Err(e.to_string()),
                }
            }
        }
        if !self.links.is_empty() {
            let mut any = false;
            for l in &self.links {
                any |= has_link(record, l)?;
            }
            if !any {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// The file among `node`'s sources where `key` is written at `line`, with its
/// text, for a diagnostic that points there.
fn where_written(node: &Node, key: &Yaml) -> Option<(std::path::PathBuf, String)> {
    let name = key.key_text();
    node.sources.iter().rev().find_map(|f| {
        let text = std::fs::read_to_string(f).ok()?;
        let line = text.lines().nth(key.location.line.checked_sub(1)?)?;
        line.contains(&name).then(|| (f.clone(), text))
    })
}

fn at(d: crate::Diagnostic, node: &Node, key: &Yaml) -> crate::Diagnostic {
    match where_written(node, key) {
        Some((file, text)) => d.at(Some(&file), &text, key.location, key.width),
        None => match node.sources.last() {
            Some(f) => d.in_file(f),
            None => d,
        },
    }
}

/// What `taskotron validate` says of a tree's tests and plans: unknown keys
/// (with the near miss), a test without `test`, a plan without `execute`, a
/// `duration` that is none, a `path` that leaves the tree, an unknown `how`.
pub fn lint(tree: &Tree) -> Vec<crate::Diagnostic> {
    use crate::Diagnostic;
    use taskotron_tap::suggest::did_you_mean;
    let mut out = Vec::new();
    for node in tree.selected() {
        let under_plans = node.name.starts_with("/plans/") || node.name == "/plans";
        let (keys, kind) = if is_plan(node) || (under_plans && node.get("test").is_none()) {
            (PLAN_KEYS, "plan")
        } else {
            (TEST_KEYS, "test")
        };
        if kind == "plan" && node.get("execute").is_none() {
            out.push(
                Diagnostic::error(format!("plan `{}` has no `execute`", node.name))
                    .expected("`execute: {how: tmt}` (a node with `execute` is a plan)")
                    .in_file(
                        node.sources
                            .last()
                            .map_or(tree.root.as_path(), |p| p.as_path()),
                    ),
            );
        }
        if kind == "test" && node.get("test").is_none() && !under_plans {
            // A leaf with neither `test` nor `execute` is a story or plain data;
            // only one that looks like a test (it has test keys) is said.
            let looks_like_test = node.data.iter().any(|(k, _)| {
                ["framework", "duration", "require", "result", "tier"]
                    .contains(&k.key_text().as_str())
            });
            if looks_like_test {
                out.push(
                    Diagnostic::error(format!("test `{}` has no `test`", node.name))
                        .expected("`test: ./runtest.sh` (the command to run)")
                        .in_file(
                            node.sources
                                .last()
                                .map_or(tree.root.as_path(), |p| p.as_path()),
                        ),
                );
            }
        }
        for (k, v) in &node.data {
            let key = k.key_text();
            let (base, _) = crate::merge::split_key(&key);
            if base.starts_with("extra-") || base.starts_with('/') {
                continue;
            }
            // Keys inherited from a parent of the other kind (a test's keys on a
            // plan's parent) are the parent's to check.
            if !keys.contains(&base) {
                let other = if kind == "plan" { TEST_KEYS } else { PLAN_KEYS };
                if other.contains(&base) {
                    continue;
                }
                let near = did_you_mean(base, keys.iter().copied());
                out.push(at(
                    Diagnostic::error(format!("unknown {kind} key `{base}`"))
                        .expected(format!("a {kind} key (`extra-*` keys are free)"))
                        .suggest(near),
                    node,
                    k,
                ));
                continue;
            }
            match base {
                "duration" => {
                    let text = v.key_text();
                    if !is_duration(&text) {
                        out.push(at(
                            Diagnostic::error(format!("`duration: {text}` is no duration"))
                                .expected("a duration such as `5m`, `1h 30m` or `10m *2`"),
                            node,
                            k,
                        ));
                    }
                }
                "path" => {
                    let text = v.key_text();
                    if text.split('/').any(|c| c == "..") {
                        out.push(at(
                            Diagnostic::error(format!("`path: {text}` leaves the tree"))
                                .expected("a path from the tree's root, such as `/tests/basic`"),
                            node,
                            k,
                        ));
                    }
                }
                "framework" | "result" => {
                    let text = v.key_text();
                    let all = if base == "framework" {
                        FRAMEWORKS
                    } else {
                        RESULTS
                    };
                    if !all.contains(&text.as_str()) {
                        out.push(at(
                            Diagnostic::error(format!("unknown {base} `{text}`"))
                                .expected(taskotron_tap::suggest::one_of(all.iter().copied()))
                                .suggest(did_you_mean(&text, all.iter().copied())),
                            node,
                            k,
                        ));
                    }
                }
                "provision" if kind == "plan" => {
                    for phase in phases("provision", Some(&v.to_json())) {
                        let how = phase.get("how").and_then(Value::as_str).unwrap_or_default();
                        let known = [
                            "local",
                            "connect",
                            "container",
                            "virtual",
                            "artemis",
                            "beaker",
                            "bootc",
                            "mock",
                        ];
                        if !known.contains(&how) {
                            out.push(at(
                                Diagnostic::error(format!("unknown provisioner `{how}`"))
                                    .expected(taskotron_tap::suggest::one_of(known))
                                    .suggest(did_you_mean(how, known)),
                                node,
                                k,
                            ));
                        } else if !["local", "connect"].contains(&how) {
                            out.push(at(
                                Diagnostic::error(format!("provision `how: {how}` is not here"))
                                    .expected("`how: local` (taskotron runs a plan where the run is: its sandbox, or the `--ssh` host)")
                                    .help("leave `provision` out, or run this plan with `tmt run`"),
                                node,
                                k,
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// `5m`, `1h 30m`, `2d`, `90` (seconds), with `*N` multipliers applied after
/// the sum, as tmt reads `duration`; `None` for anything else.
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let mut total = 0.0_f64;
    let mut factor = 1.0_f64;
    let mut any = false;
    for word in text.split_whitespace() {
        if let Some(f) = word.strip_prefix('*') {
            factor *= f.parse::<f64>().ok().filter(|f| *f > 0.0)?;
            continue;
        }
        let (number, unit) = word
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .map_or((word, ""), |i| word.split_at(i));
        let n: f64 = number.parse().ok()?;
        let scale = match unit {
            "" | "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return None,
        };
        total += n * scale;
        any = true;
    }
    any.then(|| std::time::Duration::from_secs_f64(total * factor))
}

/// Whether `text` is a tmt duration.
pub fn is_duration(text: &str) -> bool {
    parse_duration(text).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> (tempfile::TempDir, Tree) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".fmf")).unwrap();
        std::fs::write(dir.path().join(".fmf/version"), "1\n").unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let t = Tree::read(dir.path()).unwrap();
        (dir, t)
    }

    #[test]
    fn tests_get_tmt_defaults_and_normalised_lists() {
        let (_d, t) = tree(&[
            ("tests/main.fmf", "contact: QA <qa@example.org>\ntier: 1\n"),
            (
                "tests/basic/main.fmf",
                "test: ./run.sh\ntag: quick\nlink: https://bugzilla.redhat.com/1\n",
            ),
            ("tests/more.fmf", "/inline:\n  test: true\n"),
        ]);
        let all = tests(&t);
        assert_eq!(all.len(), 2);
        let basic = &all[0];
        assert_eq!(basic.name(), "/tests/basic");
        assert_eq!(basic.get("tier").unwrap(), "1");
        assert_eq!(basic.get("tag").unwrap(), &json!(["quick"]));
        assert_eq!(
            basic.get("contact").unwrap(),
            &json!(["QA <qa@example.org>"])
        );
        assert_eq!(
            basic.get("link").unwrap(),
            &json!([{"relates": "https://bugzilla.redhat.com/1"}])
        );
        assert_eq!(basic.get("duration").unwrap(), "5m");
        assert_eq!(basic.get("path").unwrap(), "/tests/basic");
        assert_eq!(basic.get("sources").unwrap().as_array().unwrap().len(), 2);
        assert_eq!(all[1].get("path").unwrap(), "/tests");
    }

    #[test]
    fn plans_get_every_step_with_named_phases() {
        let (_d, t) = tree(&[(
            "plans/main.fmf",
            "discover:\n  how: fmf\nprepare:\n  - how: install\n    package: [make]\n  - script: echo hi\nexecute:\n  how: tmt\n",
        )]);
        let p = &plans(&t, &crate::Context::new())[0];
        assert_eq!(
            p.get("provision").unwrap(),
            &json!([{"how": "virtual", "name": "default-0"}])
        );
        assert_eq!(
            p.get("prepare").unwrap()[1],
            json!({"how": "shell", "name": "default-1", "script": "echo hi"})
        );
        assert!(p.get("environment").is_none());
    }

    #[test]
    fn selections_keep_by_name_filter_and_exclude() {
        let (_d, t) = tree(&[
            ("a.fmf", "test: x\ntag: [quick]\ntier: 1\nlink: https://bugzilla.redhat.com/1\n"),
            (
                "b.fmf",
                "test: y\ntier: 2\nlink:\n  - verifies: /stories/cli\n  - blocked-by: {name: /tests/a}\n",
            ),
        ]);
        let all = tests(&t);
        let keep = |s: Selection| {
            all.iter()
                .filter(|r| s.keeps(&t, r).unwrap())
                .map(|r| r.name().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            keep(Selection {
                filters: vec!["tier: 1".into()],
                ..Default::default()
            }),
            ["/a"]
        );
        assert_eq!(
            keep(Selection {
                names: vec!["b".into()],
                ..Default::default()
            }),
            ["/b"]
        );
        assert_eq!(
            keep(Selection {
                excludes: vec!["a".into()],
                ..Default::default()
            }),
            ["/b"]
        );
        assert_eq!(
            keep(Selection {
                filters: vec!["tag: -quick".into()],
                ..Default::default()
            }),
            ["/b"]
        );
        // Conditions read the record over the node's data: `tier` as tmt makes it.
        let cond = |c: &str| {
            keep(Selection {
                conditions: vec![c.into()],
                ..Default::default()
            })
        };
        assert_eq!(cond("tier == '1'"), ["/a"]);
        assert_eq!(cond("tier == 1"), Vec::<String>::new());
        assert_eq!(cond("'quick' in tag"), ["/a"], "b has no tag: left out");
        assert!(all.iter().all(|r| Selection {
            conditions: vec!["tier <".into()],
            ..Default::default()
        }
        .keeps(&t, r)
        .is_err()));
        let link = |l: &str| {
            keep(Selection {
                links: vec![l.into()],
                ..Default::default()
            })
        };
        assert_eq!(link("bugzilla"), ["/a"]);
        assert_eq!(link("verifies:/stories"), ["/b"]);
        assert_eq!(link("blocked-by:/tests/a"), ["/b"], "an fmf id by its name");
        assert_eq!(link("relates:/stories"), Vec::<String>::new());
    }
}
