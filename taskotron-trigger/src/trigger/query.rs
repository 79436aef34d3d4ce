//! MongoDB-style queries over trigger data, as the original trigger's rules used them
//! (python `mongoquery`): field equality (any element of a list matches), `$eq $ne $in
//! $nin $regex $exists $not $gt $gte $lt $lte` on fields, `$and $or $nor` at the top and
//! on fields, and dotted paths. Regexes may be written `/.../flags` as in the real rules
//! files. A query is compiled once, with every problem reported against the rules file's
//! line and column, and then matched without allocating. Pure; no I/O.

use std::path::Path;

use regex::Regex;
use serde_json::Value;

use super::Fields;

use taskotron_tap::diagnostic::Diagnostic;
use taskotron_tap::suggest::{did_you_mean, one_of};
use taskotron_tap::yaml::{Node, NodeValue};

const FIELD_OPERATORS: &[&str] = &[
    "$eq", "$ne", "$in", "$nin", "$regex", "$exists", "$not", "$gt", "$gte", "$lt", "$lte", "$and",
    "$or", "$nor",
];
const TOP_OPERATORS: &[&str] = &["$and", "$or", "$nor"];

/// A condition on one value.
#[derive(Debug, Clone)]
enum Cond {
    Eq(Value),
    Ne(Value),
    In(Vec<Value>),
    Nin(Vec<Value>),
    Regex(Pattern),
    Exists(bool),
    Not(Box<Cond>),
    Cmp(std::cmp::Ordering, bool, Value),
    All(Vec<Cond>),
    Any(Vec<Cond>),
    None(Vec<Cond>),
}

impl Cond {
    /// Whether testing this condition runs a regex.
    fn has_regex(&self) -> bool {
        match self {
            Cond::Regex(_) => true,
            Cond::Not(c) => c.has_regex(),
            Cond::All(cs) | Cond::Any(cs) | Cond::None(cs) => cs.iter().any(Cond::has_regex),
            _ => false,
        }
    }

    /// The string values this condition limits a value to, if it does.
    fn pinned(&self) -> Option<Vec<String>> {
        let text = |v: &Value| v.as_str().map(str::to_string);
        match self {
            Cond::Eq(v) => text(v).map(|s| vec![s]),
            Cond::In(vs) => vs.iter().map(text).collect(),
            Cond::All(cs) => cs.iter().find_map(Cond::pinned),
            Cond::Any(cs) if !cs.is_empty() => {
                let mut all = Vec::new();
                for c in cs {
                    all.extend(c.pinned()?);
                }
                Some(all)
            }
            _ => None,
        }
    }
}

/// A compiled query.
#[derive(Debug, Clone)]
pub enum Query {
    /// Every part must match.
    And(Vec<Query>),
    /// Some part must match.
    Or(Vec<Query>),
    /// No part may match.
    Nor(Vec<Query>),
    /// A condition on the value at a dotted path.
    Field(Vec<String>, CondBox),
}

/// A field's condition, compiled (its parts are private: queries are built by
/// [`Query::compile`] only).
#[derive(Debug, Clone)]
pub struct CondBox(Cond);

struct Compiler<'a> {
    file: Option<&'a Path>,
    source: &'a str,
    errors: Vec<Diagnostic>,
}

impl Compiler<'_> {
    fn error(&mut self, node: &Node, d: Diagnostic) {
        let d = d.at(self.file, self.source, node.location, node.width);
        self.errors.push(d);
    }

    fn query(&mut self, node: &Node) -> Query {
        let Some(entries) = node.as_map() else {
            self.error(
                node,
                Diagnostic::error(format!("a query must be a mapping, not {}", node.kind()))
                    .expected("`field: value` or `$and: [...]`"),
            );
            return Query::And(Vec::new());
        };
        let mut parts = Vec::new();
        for (k, v) in entries {
            let key = k.key_text();
            if key.starts_with('$') {
                let make = match key.as_str() {
                    "$and" => Query::And,
                    "$or" => Query::Or,
                    "$nor" => Query::Nor,
                    _ => {
                        let d = Diagnostic::error(format!(
                            "unknown operator `{key}` at the top of a query"
                        ))
                        .expected(one_of(TOP_OPERATORS.iter().copied()))
                        .suggest(did_you_mean(&key, TOP_OPERATORS.iter().copied()));
                        self.error(k, d);
                        continue;
                    }
                };
                let Some(items) = v.as_seq() else {
                    self.error(
                        v,
                        Diagnostic::error(format!(
                            "`{key}` takes a list of queries, not {}",
                            v.kind()
                        ))
                        .expected("a list"),
                    );
                    continue;
                };
                parts.push(make(items.iter().map(|i| self.query(i)).collect()));
            } else {
                let path = key.split('.').map(str::to_string).collect();
                parts.push(Query::Field(path, CondBox(self.condition(v))));
            }
        }
        // Conjuncts commute: test the cheap ones first, regexes last.
        parts.sort_by_key(Query::cost);
        Query::And(parts)
    }

    fn condition(&mut self, node: &Node) -> Cond {
        let Some(entries) = node.as_map() else {
            return Cond::Eq(node.to_json());
        };
        if !entries.iter().any(|(k, _)| k.key_text().starts_with('$')) {
            return Cond::Eq(node.to_json());
        }
        let mut all = Vec::new();
        for (k, v) in entries {
            let op = k.key_text();
            let cond = match op.as_str() {
                "$eq" => Cond::Eq(v.to_json()),
                "$ne" => Cond::Ne(v.to_json()),
                "$in" | "$nin" => match v.as_seq() {
                    Some(items) => {
                        let values = items.iter().map(Node::to_json).collect();
                        if op == "$in" {
                            Cond::In(values)
                        } else {
                            Cond::Nin(values)
                        }
                    }
                    None => {
                        self.error(
                            v,
                            Diagnostic::error(format!("`{op}` takes a list, not {}", v.kind()))
                                .expected("a list such as `[rpmlint, abicheck]`"),
                        );
                        continue;
                    }
                },
                "$regex" => match v.as_str().map(regex) {
                    Some(Ok(r)) => Cond::Regex(r),
                    Some(Err(e)) => {
                        self.error(
                            v,
                            Diagnostic::error(format!(
                                "invalid regex: {}",
                                e.lines().last().unwrap_or("invalid")
                            ))
                            .expected("a regular expression, `/.../` or plain"),
                        );
                        continue;
                    }
                    None => {
                        self.error(
                            v,
                            Diagnostic::error(format!("`$regex` takes a string, not {}", v.kind()))
                                .expected("a regular expression"),
                        );
                        continue;
                    }
                },
                "$exists" => match v.value {
                    NodeValue::Bool(b) => Cond::Exists(b),
                    _ => {
                        self.error(
                            v,
                            Diagnostic::error(format!(
                                "`$exists` takes true or false, not {}",
                                v.kind()
                            ))
                            .expected("`true` or `false`"),
                        );
                        continue;
                    }
                },
                "$not" => match &v.value {
                    NodeValue::Str(s, _) => match regex(s) {
                        Ok(r) => Cond::Not(Box::new(Cond::Regex(r))),
                        Err(e) => {
                            self.error(
                                v,
                                Diagnostic::error(format!(
                                    "invalid regex: {}",
                                    e.lines().last().unwrap_or("invalid")
                                )),
                            );
                            continue;
                        }
                    },
                    NodeValue::Map(_) => Cond::Not(Box::new(self.condition(v))),
                    _ => {
                        self.error(
                            v,
                            Diagnostic::error(format!(
                                "`$not` takes an operator mapping or a regex, not {}",
                                v.kind()
                            ))
                            .expected("`{$regex: ...}`"),
                        );
                        continue;
                    }
                },
                "$gt" | "$gte" | "$lt" | "$lte" => {
                    let (ord, eq) = match op.as_str() {
                        "$gt" => (std::cmp::Ordering::Greater, false),
                        "$gte" => (std::cmp::Ordering::Greater, true),
                        "$lt" => (std::cmp::Ordering::Less, false),
                        _ => (std::cmp::Ordering::Less, true),
                    };
                    Cond::Cmp(ord, eq, v.to_json())
                }
                "$and" | "$or" | "$nor" => match v.as_seq() {
                    Some(items) => {
                        let conds = items.iter().map(|i| self.condition(i)).collect();
                        match op.as_str() {
                            "$and" => Cond::All(conds),
                            "$or" => Cond::Any(conds),
                            _ => Cond::None(conds),
                        }
                    }
                    None => {
                        self.error(
                            v,
                            Diagnostic::error(format!("`{op}` takes a list, not {}", v.kind()))
                                .expected("a list of conditions"),
                        );
                        continue;
                    }
                },
                _ => {
                    let d = Diagnostic::error(format!("unknown operator `{op}`"))
                        .expected(one_of(FIELD_OPERATORS.iter().copied()))
                        .suggest(did_you_mean(&op, FIELD_OPERATORS.iter().copied()));
                    self.error(k, d);
                    continue;
                }
            };
            all.push(cond);
        }
        Cond::All(all)
    }
}

/// A compiled `$regex`, with the literal text every match must start with (from a
/// leading `^abc...`): most values fail that cheap test, and skip the regex.
#[derive(Debug, Clone)]
struct Pattern {
    regex: Regex,
    prefix: Box<str>,
}

impl Pattern {
    fn is_match(&self, s: &str) -> bool {
        s.starts_with(&*self.prefix) && self.regex.is_match(s)
    }
}

/// The literal a match of `pattern` must start with: the plain characters after a
/// leading `^`, minus the last one if a quantifier makes it optional. Empty when
/// unsure: no `^`, any alternation, or flags (`(?m)` moves `^` to every line).
fn required_prefix(pattern: &str) -> String {
    let Some(rest) = pattern.strip_prefix('^') else {
        return String::new();
    };
    if pattern.contains('|') {
        return String::new();
    }
    let mut prefix = String::new();
    let mut next = None;
    for c in rest.chars() {
        if c.is_ascii_alphanumeric() || "-_/:@=,%!~<>'\"#&;` ".contains(c) {
            prefix.push(c);
        } else {
            next = Some(c);
            break;
        }
    }
    if matches!(next, Some('?' | '*' | '{')) {
        prefix.pop();
    }
    prefix
}

/// Compiles a regex written plain or as `/pattern/flags` (flags `i`, `m`, `s`, `x`).
fn regex(text: &str) -> Result<Pattern, String> {
    let (pattern, flags) = match text
        .strip_prefix('/')
        .and_then(|t| t.rfind('/').map(|i| (&t[..i], &t[i + 1..])))
    {
        Some((p, f)) if f.chars().all(|c| "imsx".contains(c)) => (p.to_string(), f.to_string()),
        _ => (text.to_string(), String::new()),
    };
    let full = if flags.is_empty() {
        pattern
    } else {
        format!("(?{flags}){pattern}")
    };
    let regex = Regex::new(&full).map_err(|e| e.to_string())?;
    Ok(Pattern {
        prefix: required_prefix(&full).into(),
        regex,
    })
}

impl Query {
    /// Compiles `node` (from `source`, read from `file`).
    ///
    /// # Errors
    /// Every unknown operator, bad regex or wrong type, with its position.
    pub fn compile(
        node: &Node,
        source: &str,
        file: Option<&Path>,
    ) -> Result<Query, Vec<Diagnostic>> {
        let mut c = Compiler {
            file,
            source,
            errors: Vec::new(),
        };
        let q = c.query(node);
        if c.errors.is_empty() {
            Ok(q)
        } else {
            Err(c.errors)
        }
    }

    /// The string values this query limits the top-level `field` to, if it pins it
    /// (`field: x`, `field: {$in: [x, y]}`, or every branch of an `$or` does);
    /// `None` when any value could match.
    pub fn pinned(&self, field: &str) -> Option<Vec<String>> {
        match self {
            Query::And(parts) => parts.iter().find_map(|p| p.pinned(field)),
            Query::Or(parts) if !parts.is_empty() => {
                let mut all = Vec::new();
                for p in parts {
                    all.extend(p.pinned(field)?);
                }
                Some(all)
            }
            Query::Field(path, CondBox(cond)) if path.len() == 1 && path[0] == field => {
                cond.pinned()
            }
            _ => None,
        }
    }

    /// A rough cost of matching, to order conjuncts: plain field tests, then nested
    /// queries, then regexes.
    fn cost(&self) -> u8 {
        match self {
            Query::Field(_, CondBox(c)) if c.has_regex() => 3,
            Query::Field(..) => 1,
            _ => 2,
        }
    }

    /// This query without the conjunct that pins `field` (the one [`Query::pinned`]
    /// reads), for a caller that has already checked the field against the pinned
    /// values. `None` when that conjunct is not a plain condition on the field.
    pub fn without_pinning(&self, field: &str) -> Option<Query> {
        let Query::And(parts) = self else {
            return None;
        };
        let at = parts.iter().position(|p| p.pinned(field).is_some())?;
        if !matches!(&parts[at], Query::Field(path, _) if path.len() == 1 && path[0] == field) {
            return None;
        }
        let mut rest = parts.clone();
        rest.remove(at);
        Some(Query::And(rest))
    }

    /// A top-level field other than `message_type` that this query requires to equal
    /// one of some strings, with those strings: what a rules index can file it under.
    pub fn narrowing_field(&self) -> Option<(String, Vec<String>)> {
        let Query::And(parts) = self else {
            return None;
        };
        parts.iter().find_map(|p| match p {
            Query::Field(path, CondBox(cond)) if path.len() == 1 && path[0] != "message_type" => {
                let strings = |vs: &[Value]| -> Option<Vec<String>> {
                    vs.iter().map(|v| v.as_str().map(str::to_string)).collect()
                };
                let values = match cond {
                    Cond::Eq(v) => strings(std::slice::from_ref(v)),
                    Cond::In(vs) => strings(vs),
                    Cond::All(cs) => cs.iter().find_map(|c| match c {
                        Cond::Eq(v) => strings(std::slice::from_ref(v)),
                        Cond::In(vs) => strings(vs),
                        _ => None,
                    }),
                    _ => None,
                }?;
                Some((path[0].clone(), values))
            }
            _ => None,
        })
    }

    /// True when `doc` matches.
    pub fn matches(&self, doc: &Value) -> bool {
        match self {
            Query::And(parts) => parts.iter().all(|q| q.matches(doc)),
            Query::Or(parts) => parts.iter().any(|q| q.matches(doc)),
            Query::Nor(parts) => !parts.iter().any(|q| q.matches(doc)),
            Query::Field(path, cond) => cond.0.test(lookup(doc, path)),
        }
    }

    /// True when `doc` (trigger data or a JSON object) matches; the same as
    /// [`Query::matches`] on the object, without having to own one.
    pub fn matches_map<F: Fields + ?Sized>(&self, doc: &F) -> bool {
        match self {
            Query::And(parts) => parts.iter().all(|q| q.matches_map(doc)),
            Query::Or(parts) => parts.iter().any(|q| q.matches_map(doc)),
            Query::Nor(parts) => !parts.iter().any(|q| q.matches_map(doc)),
            Query::Field(path, cond) => {
                let value = path
                    .split_first()
                    .and_then(|(first, rest)| lookup(doc.field(first)?, rest));
                cond.0.test(value)
            }
        }
    }
}

fn lookup<'a>(doc: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(doc, |v, key| match v {
        Value::Object(m) => m.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// Equality as Mongo has it: a list field matches if any element equals.
fn equals(value: Option<&Value>, target: &Value) -> bool {
    match (value, target) {
        (None, t) => t.is_null(),
        (Some(Value::String(a)), Value::String(b)) => super::data::same_text(a, b),
        (Some(v), t) if v == t => true,
        (Some(Value::Array(items)), t) => items.iter().any(|i| i == t),
        _ => false,
    }
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

impl Cond {
    fn test(&self, value: Option<&Value>) -> bool {
        match self {
            Cond::Eq(t) => equals(value, t),
            Cond::Ne(t) => !equals(value, t),
            Cond::In(ts) => ts.iter().any(|t| equals(value, t)),
            Cond::Nin(ts) => !ts.iter().any(|t| equals(value, t)),
            Cond::Regex(r) => match value {
                Some(Value::String(s)) => r.is_match(s),
                Some(Value::Array(items)) => items
                    .iter()
                    .any(|i| i.as_str().is_some_and(|s| r.is_match(s))),
                _ => false,
            },
            Cond::Exists(b) => value.is_some() == *b,
            Cond::Not(c) => !c.test(value),
            Cond::Cmp(ord, eq, t) => value
                .and_then(|v| compare(v, t))
                .is_some_and(|o| o == *ord || (*eq && o.is_eq())),
            Cond::All(cs) => cs.iter().all(|c| c.test(value)),
            Cond::Any(cs) => cs.iter().any(|c| c.test(value)),
            Cond::None(cs) => !cs.iter().any(|c| c.test(value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn q(text: &str) -> Query {
        let node = taskotron_tap::yaml::parse(text, None).unwrap();
        Query::compile(&node, text, None)
            .unwrap_or_else(|e| panic!("{}", taskotron_tap::diagnostic::render_all(&e)))
    }

    #[test]
    fn matches_like_the_real_rules() {
        let doc = json!({"message_type": "KojiTagChanged", "tag": "f39-updates-testing-pending", "name": "grep", "critpath": ["grep", "bash"], "build": {"owner": "jskarvad", "n": 3}});
        assert!(q("message_type: KojiTagChanged").matches(&doc));
        assert!(!q("message_type: KojiBuildPackageCompleted").matches(&doc));
        assert!(q("tag: {$and: [{$regex: '/^f[0-9]{2}-updates(-testing)?-pending$/'}, {$not: {$regex: '/^f33-.*/'}}]}").matches(&doc));
        assert!(!q("tag: {$not: {$regex: '/^f39-/'}}").matches(&doc));
        assert!(q("name: {$nin: [firefox, kernel]}").matches(&doc));
        assert!(q("name: {$in: [grep]}\ncritpath: bash").matches(&doc));
        assert!(q("build.owner: jskarvad\nbuild.n: {$gte: 3, $lt: 4}").matches(&doc));
        assert!(q("missing: {$exists: false}\nname: {$exists: true}").matches(&doc));
        assert!(
            !q("$or: [{name: nope}, {tag: {$regex: 'TESTING', $not: {$eq: x}}}]").matches(&doc)
        );
        assert!(q("$or: [{name: nope}, {tag: {$regex: '/TESTING/i'}}]").matches(&doc));
        assert!(q("$nor: [{name: nope}, {name: other}]").matches(&doc));
        assert!(!q("name: {$ne: grep}").matches(&doc));
    }

    #[test]
    fn bad_queries_say_where_and_suggest() {
        let text = "name: {$nim: [a]}\ntag: {$regex: '(unclosed'}\nx: {$in: a}\ny: {$exists: maybe}\n$xor: []\n";
        let node = taskotron_tap::yaml::parse(text, None).unwrap();
        let errors = Query::compile(&node, text, Some(Path::new("rules.yml"))).unwrap_err();
        let rendered = taskotron_tap::diagnostic::render_all(&errors);
        assert!(
            rendered.contains("rules.yml:1:8") && rendered.contains("did you mean `$nin`?"),
            "{rendered}"
        );
        assert!(
            rendered.contains("rules.yml:2:15") && rendered.contains("invalid regex"),
            "{rendered}"
        );
        assert!(rendered.contains("`$in` takes a list"), "{rendered}");
        assert!(
            rendered.contains("`$exists` takes true or false"),
            "{rendered}"
        );
        assert!(
            rendered.contains("unknown operator `$xor`")
                && rendered.contains("did you mean `$or`?"),
            "{rendered}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn never_panics(query in "[ -~\\n]{0,80}", doc in prop::collection::btree_map("[a-z]{1,3}", "[a-z0-9]{0,4}", 0..4)) {
            if let Ok(node) = taskotron_tap::yaml::parse(&query, None) {
                if let Ok(compiled) = Query::compile(&node, &query, None) {
                    let doc = serde_json::to_value(doc).unwrap();
                    let _ = compiled.matches(&doc);
                }
            }
        }

        #[test]
        fn the_prefix_test_never_changes_an_answer(pattern in "\\^?[ab.\\-]{0,3}[?*+{}1,|()\\[\\]]?[ab]{0,2}\\$?", text in "[ab.\\-]{0,6}") {
            if let Ok(p) = regex(&pattern) {
                prop_assert_eq!(p.is_match(&text), p.regex.is_match(&text), "prefix {:?}", p.prefix);
            }
        }
    }

    #[test]
    fn required_prefixes_are_what_every_match_starts_with() {
        assert_eq!(required_prefix("^python-pkg[0-9]*3$"), "python-pkg");
        assert_eq!(required_prefix("^f[0-9]{2}-updates"), "f");
        assert_eq!(required_prefix("^abc?d"), "ab");
        assert_eq!(required_prefix("^ab{0,2}"), "a");
        assert_eq!(required_prefix("^ab+"), "ab");
        assert_eq!(required_prefix("^a|b"), "");
        assert_eq!(required_prefix("(?i)^abc"), "");
        assert_eq!(required_prefix("abc"), "");
        assert_eq!(required_prefix(r"^a\.b"), "a");
        let p = regex("/^GREP/i").unwrap();
        assert!(p.is_match("grep-3.11"), "flags turn the prefix test off");
    }
}
