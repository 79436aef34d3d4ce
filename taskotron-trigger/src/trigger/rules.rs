//! The rules file, in the original format: a list of `{when: <query>, do: [{tasks:
//! [...], arches: [...]}]}`. All matching rules fire. `${var}` in a rule is filled from
//! the message's data before matching (such rules are compiled per message; the rest
//! once). Every problem is reported with file, line and column before any message is
//! read. Pure; the caller reads the file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Data, Query};
use taskotron_model::arch::{Arch, ArchSelector};
use taskotron_model::template::{Scope, Template};
use taskotron_tap::diagnostic::Diagnostic;
use taskotron_tap::suggest::{did_you_mean, one_of};
use taskotron_tap::yaml::{self, Node, NodeValue};

/// What a matching rule asks for: these tasks on these arches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// Task names.
    pub tasks: Vec<String>,
    /// Arches; `None` means the configured valid arches.
    pub arches: Option<Vec<ArchSelector>>,
    /// `dist_git_tests: true`: also the tmt plans of the build's own dist-git, one job
    /// per plan and arch (a Koji build message only; the trigger's plan finder reads
    /// the repository).
    pub dist_git_tests: bool,
}

#[derive(Debug, Clone)]
enum When {
    Compiled(Query),
    /// Holds `${var}`: substituted and compiled per message.
    Template(Node),
}

/// One rule.
#[derive(Debug, Clone)]
pub struct Rule {
    when: When,
    /// The message types the rule can match, when it pins them: a cheap first test.
    types: Option<Vec<String>>,
    /// What it asks for.
    pub actions: Vec<Action>,
    /// The line the rule starts on.
    pub line: usize,
}

/// A loaded rules file.
#[derive(Debug, Clone)]
pub struct Rules {
    rules: Vec<Rule>,
    index: Index,
    file: PathBuf,
    source: String,
}

/// A quick hasher for the index: its table is built from the rules file and only
/// looked up afterwards, so there is nothing to flood and no need for SipHash's keys.
#[derive(Debug, Clone, Copy, Default)]
struct FastHash;

impl std::hash::BuildHasher for FastHash {
    type Hasher = Fnv;
    fn build_hasher(&self) -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

/// FNV-1a, 64 bits.
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Field value -> the rules filed under it (ascending).
type Table = HashMap<String, Vec<usize>, FastHash>;

/// Which rules can match a message, found without evaluating them all: a rule whose
/// query requires a top-level field to equal one of some strings (`name: {$in:
/// [...]}`) is filed under those strings, and only looked at when the message's field
/// has one of them. The other rules are always evaluated. Every candidate is still
/// evaluated in full, so the index only ever skips rules that cannot match.
///
/// Rules that pin `message_type` are also tested against a bit mask of the message
/// type first, and then evaluated without their `message_type` conjunct.
#[derive(Debug, Clone, Default)]
struct Index {
    /// Per field: value -> rules (ascending).
    by_field: Vec<(String, Table)>,
    /// Rules no field narrows (ascending).
    always: Vec<usize>,
    /// The message types rules pin (at most 64, one bit each).
    types: Vec<String>,
    /// Per rule: the bits of the types it can match, and its query without the
    /// `message_type` conjunct; `None` when it does not pin the type.
    masks: Vec<Option<(u64, Option<Query>)>>,
}

impl Index {
    fn build(rules: &[Rule]) -> Self {
        let mut index = Self::default();
        for rule in rules {
            for t in rule.types.iter().flatten() {
                if !index.types.contains(t) {
                    index.types.push(t.clone());
                }
            }
        }
        if index.types.len() > 64 {
            index.types.clear();
        }
        index.masks = rules
            .iter()
            .map(|rule| {
                let types = rule.types.as_ref()?;
                let mut mask = 0u64;
                for t in types {
                    mask |= 1 << index.types.iter().position(|x| x == t)?;
                }
                let reduced = match &rule.when {
                    When::Compiled(q) => q.without_pinning("message_type"),
                    When::Template(_) => None,
                };
                Some((mask, reduced))
            })
            .collect();
        for (i, rule) in rules.iter().enumerate() {
            let key = match &rule.when {
                When::Compiled(q) => q.narrowing_field(),
                When::Template(_) => None,
            };
            let Some((field, values)) = key else {
                index.always.push(i);
                continue;
            };
            let slot = match index.by_field.iter().position(|(f, _)| *f == field) {
                Some(n) => n,
                None => {
                    index.by_field.push((field, HashMap::default()));
                    index.by_field.len() - 1
                }
            };
            for v in values {
                let list = index.by_field[slot].1.entry(v).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
        index
    }

    /// The rules that may match `data`, in file order.
    fn candidates(&self, data: &Data, out: &mut Vec<usize>) {
        out.extend_from_slice(&self.always);
        for (field, table) in &self.by_field {
            let mut add = |s: &str| {
                if let Some(rules) = table.get(s) {
                    out.extend_from_slice(rules);
                }
            };
            match data.get(field) {
                Some(Value::String(s)) => add(s),
                // Equality on a list matches any element, as in Mongo.
                Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).for_each(add),
                _ => {}
            }
        }
        out.sort_unstable();
        out.dedup();
    }
}

/// The message types a rule's query pins, if it does.
fn pinned_types(when: &When, source: &str) -> Option<Vec<String>> {
    match when {
        When::Compiled(q) => q.pinned("message_type"),
        // Unfilled `${var}` stay literal text; a pinned type without one counts.
        When::Template(node) => Query::compile(node, source, None)
            .ok()
            .and_then(|q| q.pinned("message_type"))
            .filter(|ts| ts.iter().all(|t| !t.contains("${"))),
    }
}

/// Rules use only the braced `${var}` form: a bare `$name` is a query operator.
fn has_template(node: &Node) -> bool {
    match &node.value {
        NodeValue::Str(s, _) => s.contains("${"),
        NodeValue::Seq(items) => items.iter().any(has_template),
        NodeValue::Map(entries) => entries
            .iter()
            .any(|(k, v)| has_template(k) || has_template(v)),
        _ => false,
    }
}

/// Fills the `${var}` references of `text` (a whole-string reference keeps its type);
/// `None` when a reference is malformed or undefined.
fn fill(text: &str, scope: &Scope) -> Option<Value> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let end = start + rest[start..].find('}')? + 1;
        let reference = Template::parse(&rest[start..end]).ok()?;
        let value = reference.render(scope).ok()?;
        if start == 0 && end == rest.len() && out.is_empty() {
            return Some(value);
        }
        out.push_str(&rest[..start]);
        out.push_str(&taskotron_model::template::format_value(&value));
        rest = &rest[end..];
    }
    out.push_str(rest);
    Some(Value::String(out))
}

/// Fills `${var}` in every string of `node` from the message's data.
fn substitute(node: &Node, scope: &Scope) -> Node {
    let value = match &node.value {
        NodeValue::Str(s, form) if s.contains("${") => match fill(s, scope) {
            Some(Value::String(r)) => NodeValue::Str(r, *form),
            Some(other) => yaml_value(&other),
            None => NodeValue::Str(s.clone(), *form),
        },
        NodeValue::Seq(items) => {
            NodeValue::Seq(items.iter().map(|i| substitute(i, scope)).collect())
        }
        NodeValue::Map(entries) => NodeValue::Map(
            entries
                .iter()
                .map(|(k, v)| (substitute(k, scope), substitute(v, scope)))
                .collect(),
        ),
        other => other.clone(),
    };
    Node {
        value,
        location: node.location,
        width: node.width,
    }
}

fn yaml_value(v: &Value) -> NodeValue {
    let node = |value| Node {
        value,
        location: Default::default(),
        width: 1,
    };
    match v {
        Value::Null => NodeValue::Null,
        Value::Bool(b) => NodeValue::Bool(*b),
        Value::Number(n) => n.as_i64().map_or_else(
            || NodeValue::Float(n.as_f64().unwrap_or(0.0)),
            NodeValue::Int,
        ),
        Value::String(s) => NodeValue::Str(s.clone(), yaml::ScalarForm::Plain),
        Value::Array(items) => NodeValue::Seq(items.iter().map(|i| node(yaml_value(i))).collect()),
        Value::Object(m) => NodeValue::Map(
            m.iter()
                .map(|(k, v)| {
                    (
                        node(NodeValue::Str(k.clone(), yaml::ScalarForm::Plain)),
                        node(yaml_value(v)),
                    )
                })
                .collect(),
        ),
    }
}

impl Rules {
    /// Loads `source` (read from `file`).
    ///
    /// # Errors
    /// Every problem, with its position.
    pub fn load(source: &str, file: &Path) -> Result<Self, Vec<Diagnostic>> {
        let root = yaml::parse_all(source, Some(file))?;
        let mut errors = Vec::new();
        let at = |node: &Node, d: Diagnostic| d.at(Some(file), source, node.location, node.width);
        let items: &[Node] = match &root.value {
            NodeValue::Seq(items) => items,
            NodeValue::Null => &[],
            _ => {
                return Err(vec![at(
                    &root,
                    Diagnostic::error(format!(
                        "a rules file is a list of rules, not {}",
                        root.kind()
                    ))
                    .expected("`- when: ...` entries"),
                )])
            }
        };
        let mut rules = Vec::new();
        for item in items {
            let Some(entries) = item.as_map() else {
                errors.push(at(
                    item,
                    Diagnostic::error("a rule must be a mapping").expected("`when:` and `do:`"),
                ));
                continue;
            };
            let (mut when, mut actions) = (None, None);
            for (k, v) in entries {
                match k.key_text().as_str() {
                    "when" => {
                        when = Some(if has_template(v) {
                            When::Template(v.clone())
                        } else {
                            match Query::compile(v, source, Some(file)) {
                                Ok(q) => When::Compiled(q),
                                Err(e) => {
                                    errors.extend(e);
                                    continue;
                                }
                            }
                        })
                    }
                    "do" => actions = Some(Self::actions(v, &at, &mut errors)),
                    other => errors.push(at(
                        k,
                        Diagnostic::error(format!("unknown rule key `{other}`"))
                            .expected("`when` or `do`")
                            .suggest(did_you_mean(other, ["when", "do"])),
                    )),
                }
            }
            match (when, actions) {
                (Some(when), Some(actions)) => rules.push(Rule {
                    types: pinned_types(&when, source),
                    when,
                    actions,
                    line: item.location.line,
                }),
                (None, _) if !entries.iter().any(|(k, _)| k.as_str() == Some("when")) => {
                    errors.push(at(item, Diagnostic::error("a rule needs `when`")))
                }
                (_, None) if !entries.iter().any(|(k, _)| k.as_str() == Some("do")) => {
                    errors.push(at(item, Diagnostic::error("a rule needs `do`")))
                }
                _ => {}
            }
        }
        if errors.is_empty() {
            Ok(Self {
                index: Index::build(&rules),
                rules,
                file: file.to_path_buf(),
                source: source.to_string(),
            })
        } else {
            Err(errors)
        }
    }

    fn actions(
        node: &Node,
        at: &dyn Fn(&Node, Diagnostic) -> Diagnostic,
        errors: &mut Vec<Diagnostic>,
    ) -> Vec<Action> {
        let Some(items) = node.as_seq() else {
            errors.push(at(
                node,
                Diagnostic::error(format!("`do` takes a list, not {}", node.kind()))
                    .expected("`- tasks: [...]`"),
            ));
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let Some(entries) = item.as_map() else {
                errors.push(at(
                    item,
                    Diagnostic::error("an action must be a mapping")
                        .expected("`tasks:` and optional `arches:`"),
                ));
                continue;
            };
            let (mut tasks, mut arches, mut dist_git_tests) = (Vec::new(), None, false);
            for (k, v) in entries {
                let strings = |v: &Node, errors: &mut Vec<Diagnostic>| -> Vec<(String, Node)> {
                    match v.as_seq() {
                        Some(items) => items
                            .iter()
                            .filter_map(|i| match i.as_str() {
                                Some(s) => Some((s.to_string(), i.clone())),
                                None => {
                                    errors.push(at(
                                        i,
                                        Diagnostic::error(format!(
                                            "expected a name, not {}",
                                            i.kind()
                                        )),
                                    ));
                                    None
                                }
                            })
                            .collect(),
                        None => {
                            errors.push(at(
                                v,
                                Diagnostic::error(format!("expected a list, not {}", v.kind()))
                                    .expected("a list"),
                            ));
                            Vec::new()
                        }
                    }
                };
                match k.key_text().as_str() {
                    "tasks" => tasks = strings(v, errors).into_iter().map(|(s, _)| s).collect(),
                    "arches" => {
                        let mut list = Vec::new();
                        for (s, n) in strings(v, errors) {
                            match s.parse::<ArchSelector>() {
                                Ok(a) => list.push(a),
                                Err(e) => errors.push(at(
                                    &n,
                                    Diagnostic::error(e.to_string())
                                        .expected(format!(
                                            "`all` or {}",
                                            one_of(Arch::ALL.iter().map(|a| a.as_str()))
                                        ))
                                        .suggest(e.suggestion),
                                )),
                            }
                        }
                        arches = Some(list);
                    }
                    "dist_git_tests" => match v.value {
                        NodeValue::Bool(b) => dist_git_tests = b,
                        _ => errors.push(at(
                            v,
                            Diagnostic::error(format!(
                                "`dist_git_tests` takes true or false, not {}",
                                v.kind()
                            ))
                            .expected("`dist_git_tests: true`"),
                        )),
                    },
                    // Recognised from real rules files; acted on once task discovery lands.
                    "discover" | "match_host_arch" => {}
                    other => errors.push(at(
                        k,
                        Diagnostic::error(format!("unknown action key `{other}`"))
                            .expected("`tasks`, `arches`, `dist_git_tests` or `discover`")
                            .suggest(did_you_mean(
                                other,
                                ["tasks", "arches", "dist_git_tests", "discover"],
                            )),
                    )),
                }
            }
            if !tasks.is_empty() || dist_git_tests {
                out.push(Action {
                    tasks,
                    arches,
                    dist_git_tests,
                });
            }
        }
        out
    }

    /// The message types some rule can match, if every rule pins `message_type`;
    /// `None` when some rule could match any message.
    pub fn message_types(&self) -> Option<std::collections::BTreeSet<String>> {
        let mut all = std::collections::BTreeSet::new();
        for rule in &self.rules {
            all.extend(rule.types.iter().flatten().cloned());
            rule.types.as_ref()?;
        }
        Some(all)
    }

    /// The rules, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The actions of every rule `data` matches, in file order. A rule with `${var}`
    /// that does not compile once filled in is reported and skipped.
    pub fn fire(&self, data: &Data, warnings: &mut Vec<Diagnostic>) -> Vec<&Action> {
        let mut matched = Vec::new();
        self.matching(data, warnings, &mut matched);
        matched
            .into_iter()
            .flat_map(|i| self.rules[i].actions.iter())
            .collect()
    }

    /// The indices of the rules `data` matches, in file order, into `out` (cleared
    /// first; pass the same vector again to save allocations).
    pub fn matching(&self, data: &Data, warnings: &mut Vec<Diagnostic>, out: &mut Vec<usize>) {
        out.clear();
        // The message's type bit; `None` (no prefilter) when it has no type.
        let bit = data.get("message_type").and_then(Value::as_str).map(|t| {
            self.index
                .types
                .iter()
                .position(|x| x == t)
                .map_or(0, |n| 1u64 << n)
        });
        self.index.candidates(data, out);
        out.retain(|&i| {
            let rule = &self.rules[i];
            let mut query = match &rule.when {
                When::Compiled(q) => Some(q),
                When::Template(_) => None,
            };
            if let (Some(Some((mask, reduced))), Some(bit)) = (self.index.masks.get(i), bit) {
                if mask & bit == 0 {
                    return false;
                }
                if let Some(r) = reduced {
                    query = Some(r);
                }
            }
            match (query, &rule.when) {
                (Some(q), _) => q.matches_map(data),
                (None, When::Template(node)) => {
                    let mut scope = Scope::default();
                    for (k, v) in data.iter() {
                        scope.set_builtin(k, v.clone());
                    }
                    match Query::compile(&substitute(node, &scope), &self.source, Some(&self.file))
                    {
                        Ok(q) => q.matches_map(data),
                        Err(e) => {
                            warnings.extend(e);
                            false
                        }
                    }
                }
                (None, When::Compiled(q)) => q.matches_map(data),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn data(v: Value) -> Data {
        Data::from(v.as_object().cloned().unwrap())
    }

    #[test]
    fn the_real_2020_rules_load_and_fire() {
        // The deployed file with its Jinja parts rendered for production (the dev-only
        // block dropped) and `$$` left as the trigger's escape for `$`.
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("src/trigger/testdata/trigger_rules.2020-final.yml"),
        )
        .unwrap();
        let rules = Rules::load(&text, Path::new("trigger_rules.yml"))
            .unwrap_or_else(|e| panic!("{}", taskotron_tap::diagnostic::render_all(&e)));
        let mut w = Vec::new();
        let fired = rules.fire(
            &data(json!({"message_type": "KojiBuildPackageCompleted", "item": "grep-3.11-1.fc39"})),
            &mut w,
        );
        let tasks: Vec<&str> = fired
            .iter()
            .flat_map(|a| a.tasks.iter().map(String::as_str))
            .collect();
        assert_eq!(
            tasks,
            ["rpmlint", "python-versions", "rpmgrill", "abicheck"]
        );
        assert_eq!(fired[1].arches, Some(vec![ArchSelector::One(Arch::Noarch)]));
        assert!(rules
            .fire(&data(json!({"message_type": "KojiTagChanged"})), &mut w)
            .is_empty());
    }

    #[test]
    fn variables_are_filled_from_the_message() {
        let text = "- when: {message_type: KojiBuildPackageCompleted, name: {$in: '${critpath_pkgs}'}, distgit_branch: '${branch}'}\n  do: [{tasks: [abicheck]}]\n";
        let rules = Rules::load(text, Path::new("r.yml")).unwrap();
        let mut w = Vec::new();
        let msg = data(
            json!({"message_type": "KojiBuildPackageCompleted", "name": "bash", "critpath_pkgs": ["bash", "glibc"], "branch": "f39", "distgit_branch": "f39"}),
        );
        assert_eq!(rules.fire(&msg, &mut w).len(), 1);
        let other = data(
            json!({"message_type": "KojiBuildPackageCompleted", "name": "vim", "critpath_pkgs": ["bash"], "branch": "f39", "distgit_branch": "f39"}),
        );
        assert!(rules.fire(&other, &mut w).is_empty());
    }

    #[test]
    fn bad_rules_fail_before_any_message() {
        let text = "- when: {tag: {$regx: x}}\n  do: [{tasks: [a], arches: [x86-64]}]\n- wehn: {a: b}\n  do: []\n";
        let e = Rules::load(text, Path::new("r.yml")).unwrap_err();
        let r = taskotron_tap::diagnostic::render_all(&e);
        assert!(
            r.contains("r.yml:1:16") && r.contains("did you mean `$regex`?"),
            "{r}"
        );
        assert!(
            r.contains("unknown arch `x86-64`") && r.contains("did you mean `x86_64`?"),
            "{r}"
        );
        assert!(
            r.contains("unknown rule key `wehn`") && r.contains("did you mean `when`?"),
            "{r}"
        );
        let text = "- when: {a: b}\n  do: [{dist_git_test: true}, {dist_git_tests: 'yes'}]\n";
        let r = taskotron_tap::diagnostic::render_all(
            &Rules::load(text, Path::new("r.yml")).unwrap_err(),
        );
        assert!(
            r.contains("r.yml:2:9") && r.contains("did you mean `dist_git_tests`?"),
            "{r}"
        );
        assert!(
            r.contains("r.yml:2:48")
                && r.contains("`dist_git_tests` takes true or false, not a string"),
            "{r}"
        );
        let ok = Rules::load(
            "- when: {a: b}\n  do: [{dist_git_tests: true, arches: [aarch64]}]\n",
            Path::new("r.yml"),
        )
        .unwrap();
        assert!(
            ok.rules()[0].actions[0].dist_git_tests && ok.rules()[0].actions[0].tasks.is_empty()
        );
    }
}
