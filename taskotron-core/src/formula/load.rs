//! Reading formula YAML into a [`Formula`], collecting every problem on the way.

use std::path::Path;
use std::time::Duration;

use super::{
    Action, Formula, InputArg, Loaded, ResultStream, StreamFormat, DEFAULT_EXIT_OK,
    DEFAULT_NAMESPACE,
};
use crate::diagnostic::{Diagnostic, Location};
use crate::directive::{self, Directive, ParamKind, Shape};
use crate::item::ItemType;
use crate::suggest::{did_you_mean, one_of};
use crate::template::Template;
use crate::yaml::{self, Node, NodeValue};

const TOP_KEYS: &[&str] = &[
    "name",
    "namespace",
    "desc",
    "maintainer",
    "input",
    "environment",
    "actions",
];
/// The names of the keys every action may have beside its directive.
fn action_keys() -> impl Iterator<Item = &'static str> + Clone {
    super::ACTION_KEY_DOCS.iter().map(|k| k.name)
}
/// The directives whose output can be a result stream.
pub(super) const STREAM_DIRECTIVES: &[&str] = &["shell", "python"];
/// The formats `results:` accepts.
const STREAM_FORMATS: &[&str] = &["tap", "resultyaml", "junit"];

/// Reads and validates formula `source`, which came from `file`. Variables are
/// checked separately ([`super::check_variables`]), since overrides can define them.
///
/// # Errors
/// Every problem found, errors first in file order; warnings are kept with them.
pub fn load(source: &str, file: &Path) -> Result<Loaded, Vec<Diagnostic>> {
    load_with(source, file, None)
}

/// As [`load`], with the variables checked against `defined` too, so every problem
/// comes in one list: a misspelt `${koji_buidl}` is reported with a misspelt key,
/// not once the key is fixed. An action with a structural error is left out of the
/// variable check, and what it exports counts as defined (it would be, once fixed).
///
/// # Errors
/// Every problem found, structural and undefined variables, errors first in file
/// order; warnings are kept with them.
pub fn load_checked(
    source: &str,
    file: &Path,
    defined: &super::Defined,
) -> Result<Loaded, Vec<Diagnostic>> {
    load_with(source, file, Some(defined))
}

fn load_with(
    source: &str,
    file: &Path,
    defined: Option<&super::Defined>,
) -> Result<Loaded, Vec<Diagnostic>> {
    let root = yaml::parse_all(source, Some(file))?;
    let mut cx = Cx {
        file,
        source,
        errors: Vec::new(),
        warnings: Vec::new(),
        rejected_exports: Vec::new(),
    };
    let formula = cx.formula(&root);
    if let (Some(formula), Some(defined)) = (&formula, defined) {
        let mut defined = defined.clone();
        defined.names.extend(cx.rejected_exports.drain(..));
        cx.errors.extend(super::check_variables(formula, &defined));
    }
    if cx.errors.is_empty() {
        if let Some(formula) = formula {
            return Ok(Loaded {
                formula,
                warnings: cx.warnings,
            });
        }
    }
    cx.errors
        .sort_by_key(|d| d.location.map(|l| (l.line, l.column)));
    // Warnings about the whole file (no `desc`) would only bury the errors.
    let mut all = cx.errors;
    all.extend(cx.warnings.into_iter().filter(|w| w.location.is_some()));
    Err(all)
}

struct Cx<'a> {
    file: &'a Path,
    source: &'a str,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    /// What the actions left out for their errors export.
    rejected_exports: Vec<String>,
}

fn is_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

impl Cx<'_> {
    fn at(&self, node: &Node, d: Diagnostic) -> Diagnostic {
        d.at(Some(self.file), self.source, node.location, node.width)
    }

    fn error(&mut self, node: &Node, d: Diagnostic) {
        let d = self.at(node, d);
        self.errors.push(d);
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            NodeValue::Str(s, _) => Some(s.clone()),
            _ => {
                let d =
                    Diagnostic::error(format!("`{what}` must be a string, not {}", node.kind()))
                        .expected("a string");
                self.error(node, d);
                None
            }
        }
    }

    fn formula(&mut self, root: &Node) -> Option<Formula> {
        let Some(entries) = root.as_map() else {
            let d = Diagnostic::error(format!("a formula must be a mapping, not {}", root.kind()))
                .expected("a mapping with `name` and `actions`")
                .help("start from `taskotron new <name>`");
            self.error(root, d);
            return None;
        };
        let (mut name, mut namespace, mut desc, mut maintainer) = (None, None, None, None);
        let (mut input_args, mut environment, mut actions_node) = (Vec::new(), None, None);
        for (key, value) in entries {
            let Some(k) = key.as_str() else {
                let d = Diagnostic::error(format!("keys must be strings, not {}", key.kind()))
                    .expected(one_of(TOP_KEYS.iter().copied()));
                self.error(key, d);
                continue;
            };
            match k {
                "name" => {
                    name = self.string(value, "name");
                    if let Some(n) = &name {
                        if !is_name(n) {
                            let d = Diagnostic::error(format!("invalid task name `{n}`")).expected(
                                "letters, digits and `._-`, starting with a letter or digit",
                            );
                            self.error(value, d);
                        }
                    }
                }
                "namespace" => {
                    namespace = self.string(value, "namespace");
                    if let Some(n) = &namespace {
                        if !is_name(n) {
                            let d = Diagnostic::error(format!("invalid namespace `{n}`"))
                                .expected("letters, digits and `._-`, such as `scratch` or `dist`");
                            self.error(value, d);
                        }
                    }
                }
                "desc" => desc = self.string(value, "desc"),
                "maintainer" => maintainer = self.string(value, "maintainer"),
                "input" => input_args = self.input(value),
                "environment" => {
                    if value.as_map().is_none() && value.value != NodeValue::Null {
                        let d = Diagnostic::error(format!(
                            "`environment` must be a mapping, not {}",
                            value.kind()
                        ))
                        .expected("a mapping such as `rpm: [rpmlint]`");
                        self.error(value, d);
                    }
                    // `tools` and `rpm` are lists of names; a lone string would
                    // silently check nothing.
                    for (k, v) in value.as_map().into_iter().flatten() {
                        let key = k.key_text();
                        // `network` decides what a sandbox allows: a string `yes`
                        // must not be read as `false`.
                        if key == "network" {
                            if !matches!(v.value, NodeValue::Bool(..) | NodeValue::Null) {
                                let d = Diagnostic::error(format!(
                                    "`environment.network` must be `true` or `false`, not {}",
                                    v.kind()
                                ))
                                .expected(
                                    "`network: true` (the task reaches the network) or `false`",
                                );
                                self.error(v, d);
                            }
                            continue;
                        }
                        if key != "tools" && key != "rpm" {
                            continue;
                        }
                        let names = matches!(&v.value, NodeValue::Seq(items)
                            if items.iter().all(|i| matches!(i.value, NodeValue::Str(..))));
                        if !names && v.value != NodeValue::Null {
                            let help = match &v.value {
                                NodeValue::Str(text, _) => format!(
                                    "write `{key}: [{}]`",
                                    text.split_whitespace().collect::<Vec<_>>().join(", ")
                                ),
                                _ => format!("write `{key}: [name, ...]`"),
                            };
                            let what = match &v.value {
                                NodeValue::Seq(items) => items
                                    .iter()
                                    .position(|i| !matches!(i.value, NodeValue::Str(..)))
                                    .map(|n| format!("; item {} is {}", n + 1, items[n].kind()))
                                    .unwrap_or_default(),
                                _ => format!(", not {}", v.kind()),
                            };
                            let d = Diagnostic::error(format!(
                                "`environment.{key}` must be a list of names{what}"
                            ))
                            .expected("a list such as `[rpmlint]`")
                            .help(help);
                            self.error(v, d);
                        }
                    }
                    environment = Some(value.to_json());
                }
                "actions" | "task" => {
                    if k == "task" {
                        let d = Diagnostic::warning("`task` is the 2014 name of `actions`")
                            .help("rename `task:` to `actions:`");
                        let d = self.at(key, d);
                        self.warnings.push(d);
                    }
                    if actions_node.is_some() {
                        let d = Diagnostic::error("both `actions` and `task` are given")
                            .help("keep only `actions`");
                        self.error(key, d);
                    }
                    actions_node = Some((key, value));
                }
                other => {
                    let d = Diagnostic::error(format!("unknown key `{other}`"))
                        .expected(one_of(TOP_KEYS.iter().copied()))
                        .suggest(did_you_mean(other, TOP_KEYS.iter().copied()));
                    self.error(key, d);
                }
            }
        }
        for (present, key) in [
            (name.is_some(), "name"),
            (actions_node.is_some(), "actions"),
        ] {
            // A misspelt key already got "did you mean"; do not also call it missing.
            let misspelt = entries.iter().any(|(k, _)| {
                k.as_str().is_some_and(|k| {
                    k != key && did_you_mean(k, TOP_KEYS.iter().copied()) == Some(key)
                })
            });
            if !present && !misspelt && !entries.iter().any(|(k, _)| k.as_str() == Some(key)) {
                let d = Diagnostic::error(format!("missing required key `{key}`"))
                    .help(format!("add `{key}:` at the top level"));
                let d = d.at(
                    Some(self.file),
                    self.source,
                    Location { line: 1, column: 1 },
                    1,
                );
                self.errors.push(d);
            }
        }
        for (present, key) in [
            (desc.is_some(), "desc"),
            (maintainer.is_some(), "maintainer"),
        ] {
            if !present {
                let d = Diagnostic::warning(format!("no `{key}`")).help(format!(
                    "add `{key}:` so users know what this task is and whom to ask"
                ));
                self.warnings.push(d.in_file(self.file));
            }
        }
        let actions = match actions_node {
            Some((key, value)) => self.actions(key, value),
            None => Vec::new(),
        };
        Some(Formula {
            file: self.file.to_path_buf(),
            taskdir: Formula::taskdir_of(self.file),
            source: self.source.to_string(),
            name: name?,
            namespace: namespace.unwrap_or_else(|| DEFAULT_NAMESPACE.to_string()),
            desc,
            maintainer,
            input_args,
            environment,
            actions,
        })
    }

    fn input(&mut self, node: &Node) -> Vec<InputArg> {
        let mut args = Vec::new();
        let Some(entries) = node.as_map() else {
            let d = Diagnostic::error(format!("`input` must be a mapping, not {}", node.kind()))
                .expected("`args: [koji_build]`");
            self.error(node, d);
            return args;
        };
        for (key, value) in entries {
            if key.as_str() != Some("args") {
                let k = key.key_text();
                let d = Diagnostic::error(format!("unknown key `input.{k}`"))
                    .expected("`args`")
                    .suggest(did_you_mean(&k, ["args"]));
                self.error(key, d);
                continue;
            }
            let items: Vec<&Node> = match &value.value {
                NodeValue::Seq(items) => items.iter().collect(),
                NodeValue::Null => Vec::new(),
                _ => {
                    let d = Diagnostic::error(format!(
                        "`input.args` must be a list, not {}",
                        value.kind()
                    ))
                    .expected("a list such as `[koji_build, arch]`");
                    self.error(value, d);
                    continue;
                }
            };
            for item in items {
                let Some(s) = item.as_str() else {
                    let d = Diagnostic::error("an input arg must be a string")
                        .expected("an item type or `arch`");
                    self.error(item, d);
                    continue;
                };
                let arg = if s == "arch" {
                    Some(InputArg::Arch)
                } else {
                    match s.parse::<ItemType>() {
                        Ok(t) => Some(InputArg::Item(t)),
                        Err(e) => {
                            let names = ItemType::ALL.iter().map(|t| t.as_str()).chain(["arch"]);
                            let d = Diagnostic::error(format!("unknown input arg `{s}`"))
                                .expected(format!("an item type or `arch`: {}", one_of(names)))
                                .suggest(e.suggestion);
                            self.error(item, d);
                            None
                        }
                    }
                };
                if let Some(arg) = arg {
                    if args.contains(&arg) {
                        let d = Diagnostic::error(format!("input arg `{s}` is listed twice"));
                        self.error(item, d);
                    } else {
                        args.push(arg);
                    }
                }
            }
        }
        args
    }

    fn actions(&mut self, key: &Node, node: &Node) -> Vec<Action> {
        let Some(items) = node.as_seq() else {
            let d = Diagnostic::error(format!(
                "`{}` must be a list of actions, not {}",
                key.key_text(),
                node.kind()
            ))
            .expected("a list such as `- name: ...`");
            self.error(node, d);
            return Vec::new();
        };
        if items.is_empty() {
            let d = Diagnostic::error("a formula needs at least one action")
                .expected("`- name: ...` entries");
            self.error(key, d);
        }
        let mut actions = Vec::new();
        for item in items {
            match self.action(item) {
                Some(action) => actions.push(action),
                None => self.rejected_exports.extend(
                    item.get("export")
                        .and_then(Node::as_str)
                        .map(str::to_string),
                ),
            }
        }
        actions
    }

    fn action(&mut self, node: &Node) -> Option<Action> {
        let Some(entries) = node.as_map() else {
            let d = Diagnostic::error(format!("an action must be a mapping, not {}", node.kind()))
                .expected("`name`, one directive and an optional `export`");
            self.error(node, d);
            return None;
        };
        let (mut name, mut export, mut timeout) = (None, None, None);
        let (mut format, mut exit_ok, mut checkname) = (None, None, None);
        let mut stream_keys: Vec<&Node> = Vec::new();
        let mut found: Option<(&'static dyn Directive, &Node, &Node)> = None;
        let mut ok = true;
        for (key, value) in entries {
            let k = key.key_text();
            match k.as_str() {
                "name" => name = self.string(value, "name"),
                "export" => {
                    let e = self.string(value, "export");
                    if let Some(e) = &e {
                        if !crate::template::is_variable_name(e) {
                            let d = Diagnostic::error(format!("`{e}` cannot be a variable name"))
                                .expected("an identifier: letters, digits and `_`, not starting with a digit")
                                .help(format!("try `{}`", e.replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_")));
                            self.error(value, d);
                            ok = false;
                        } else if super::BUILTINS.contains(&e.as_str()) {
                            let d = Diagnostic::error(format!(
                                "`{e}` is a built-in variable and cannot be exported to"
                            ))
                            .help(format!("choose another name, such as `{e}_output`"));
                            self.error(value, d);
                            ok = false;
                        }
                    }
                    export = e;
                }
                "timeout" => timeout = self.timeout(value),
                "results" => {
                    stream_keys.push(key);
                    format = self.stream_format(value);
                    ok &= format.is_some();
                }
                "exit_ok" => {
                    stream_keys.push(key);
                    exit_ok = self.exit_ok(value);
                    ok &= exit_ok.is_some();
                }
                "checkname" => {
                    stream_keys.push(key);
                    checkname = self.checkname(value);
                    ok &= checkname.is_some();
                }
                other => match directive::find(other) {
                    Some(d) => {
                        if let Some((first, _, _)) = found {
                            let diag = Diagnostic::error(format!(
                                "an action has exactly one directive; this one also has `{}`",
                                first.spec().name
                            ))
                            .help("split it into two actions");
                            self.error(key, diag);
                            ok = false;
                        } else {
                            found = Some((d, key, value));
                        }
                    }
                    None => {
                        let candidates: Vec<&str> =
                            directive::names().chain(action_keys()).collect();
                        let d = Diagnostic::error(format!("unknown directive `{other}`"))
                            .expected(format!(
                                "a directive ({}) or an action key ({})",
                                one_of(directive::names()),
                                one_of(action_keys())
                            ))
                            .suggest(did_you_mean(other, candidates));
                        self.error(key, d);
                        ok = false;
                    }
                },
            }
        }
        if name.is_none() && !entries.iter().any(|(k, _)| k.as_str() == Some("name")) {
            let d = Diagnostic::error("an action needs a `name`")
                .help("add `name: <what this step does>`");
            self.error(node, d);
            ok = false;
        }
        let Some((directive, dkey, params)) = found else {
            if ok {
                let d = Diagnostic::error("an action needs a directive")
                    .expected(format!("one of {}", one_of(directive::names())));
                self.error(node, d);
            }
            return None;
        };
        let before = self.errors.len();
        self.params(directive, dkey, params);
        self.templates(params);
        let results = self.stream(directive, format, exit_ok, checkname, &stream_keys);
        let ok = ok && self.errors.len() == before;
        (ok).then(|| Action {
            name: name.unwrap_or_default(),
            directive,
            params: params.clone(),
            export,
            timeout,
            results,
            location: node.location,
        })
    }

    /// `results`, `exit_ok` and `checkname` together: the action's result stream.
    fn stream(
        &mut self,
        directive: &'static dyn Directive,
        format: Option<StreamFormat>,
        exit_ok: Option<Vec<i32>>,
        checkname: Option<String>,
        keys: &[&Node],
    ) -> Option<ResultStream> {
        let name = directive.spec().name;
        if !keys.is_empty() && !STREAM_DIRECTIVES.contains(&name) {
            let d = Diagnostic::error(format!(
                "`{}` is for actions that run a test suite (`shell`, `python`), not `{name}`",
                keys[0].key_text()
            ))
            .help("remove it, or run the suite with `shell`");
            self.error(keys[0], d);
            return None;
        }
        let Some(format) = format else {
            if let Some(key) = keys.iter().find(|k| k.as_str() != Some("results")) {
                let d = Diagnostic::error(format!(
                    "`{}` needs `results:`, which says what the suite prints",
                    key.key_text()
                ))
                .help("add `results: tap` (or `resultyaml`, or `{junit: PATH}`)");
                self.error(key, d);
            }
            return None;
        };
        Some(ResultStream {
            format,
            exit_ok: exit_ok.unwrap_or_else(|| DEFAULT_EXIT_OK.to_vec()),
            checkname,
        })
    }

    fn stream_format(&mut self, node: &Node) -> Option<StreamFormat> {
        let expected = "`tap`, `resultyaml` or `{junit: PATH}`";
        match &node.value {
            NodeValue::Str(s, _) => match s.as_str() {
                "tap" => Some(StreamFormat::Tap),
                "resultyaml" => Some(StreamFormat::ResultYaml),
                "junit" => {
                    let d = Diagnostic::error("`results: junit` needs the file the suite writes")
                        .expected(expected)
                        .help("write `results: {junit: path/to/report.xml}`");
                    self.error(node, d);
                    None
                }
                other => {
                    let d = Diagnostic::error(format!("unknown result format `{other}`"))
                        .expected(expected)
                        .suggest(did_you_mean(
                            &other.to_ascii_lowercase(),
                            STREAM_FORMATS.iter().copied(),
                        ));
                    self.error(node, d);
                    None
                }
            },
            NodeValue::Map(entries)
                if entries.len() == 1 && entries[0].0.as_str() == Some("junit") =>
            {
                let path = &entries[0].1;
                if !matches!(path.value, NodeValue::Str(..)) {
                    let d = Diagnostic::error(format!(
                        "the JUnit file must be a path, not {}",
                        path.kind()
                    ))
                    .expected("a path relative to the task directory");
                    self.error(path, d);
                    return None;
                }
                self.templates(path);
                if let NodeValue::Str(text, _) = &path.value {
                    if let Some(d) = path_problem("the JUnit file", text) {
                        self.error(path, d);
                        return None;
                    }
                }
                Some(StreamFormat::Junit(path.clone()))
            }
            _ => {
                let d = Diagnostic::error(format!("invalid result format: {}", node.kind()))
                    .expected(expected);
                self.error(node, d);
                None
            }
        }
    }

    fn exit_ok(&mut self, node: &Node) -> Option<Vec<i32>> {
        let items: Vec<&Node> = match &node.value {
            NodeValue::Seq(items) if !items.is_empty() => items.iter().collect(),
            NodeValue::Int(_) => vec![node],
            _ => {
                let d = Diagnostic::error(format!(
                    "`exit_ok` must be a list of exit codes, not {}",
                    node.kind()
                ))
                .expected("a list such as `[0, 1]`");
                self.error(node, d);
                return None;
            }
        };
        let mut codes = Vec::new();
        for item in items {
            match &item.value {
                NodeValue::Int(n) if (0..=255).contains(n) => codes.push(i32::try_from(*n).ok()?),
                _ => {
                    let d = Diagnostic::error("an exit code is a number from 0 to 255")
                        .expected("a list such as `[0, 1]`");
                    self.error(item, d);
                    return None;
                }
            }
        }
        Some(codes)
    }

    fn checkname(&mut self, node: &Node) -> Option<String> {
        let name = self.string(node, "checkname")?;
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !valid {
            let d = Diagnostic::error(format!("`{name}` cannot be a checkname"))
                .expected("letters, digits, `.`, `_` and `-`, such as `dist.mycheck.unit`");
            self.error(node, d);
            return None;
        }
        Some(name)
    }

    fn timeout(&mut self, node: &Node) -> Option<Duration> {
        use crate::duration::{self, DurationError};
        let parsed = match &node.value {
            NodeValue::Int(s) => u64::try_from(*s)
                .map_err(|_| DurationError::NotPositive)
                .and_then(|s| duration::check(Duration::from_secs(s))),
            // Beyond the bound as a float, before `from_secs_f64` could panic.
            NodeValue::Float(s) if !s.is_finite() || *s > duration::MAX.as_secs_f64() => {
                Err(DurationError::TooLong)
            }
            NodeValue::Float(s) if *s > 0.0 => duration::check(Duration::from_secs_f64(*s)),
            NodeValue::Float(_) => Err(DurationError::NotPositive),
            NodeValue::Str(s, _) => duration::parse(s),
            _ => Err(DurationError::NotADuration),
        };
        match parsed {
            Ok(d) => Some(d),
            Err(why) => {
                // The excerpt shows the value; the message says what is wrong with it.
                let message = match why {
                    DurationError::NotADuration => "invalid timeout".to_string(),
                    other => format!("invalid timeout: {other}"),
                };
                let d = Diagnostic::error(message).expected(duration::EXPECTED);
                self.error(node, d);
                None
            }
        }
    }

    fn params(&mut self, directive: &'static dyn Directive, key: &Node, value: &Node) {
        let spec = directive.spec();
        match spec.shape {
            Shape::Commands => {
                let commands: Vec<&Node> = match &value.value {
                    NodeValue::Seq(items) => items.iter().collect(),
                    NodeValue::Str(..) => vec![value],
                    _ => {
                        let d = Diagnostic::error(format!(
                            "`{}` takes a list of commands, not {}",
                            spec.name,
                            value.kind()
                        ))
                        .expected("a list of command strings or argv lists");
                        self.error(value, d);
                        return;
                    }
                };
                if commands.is_empty() {
                    let d =
                        Diagnostic::error(format!("`{}` needs at least one command", spec.name));
                    self.error(key, d);
                }
                for c in commands {
                    match &c.value {
                        NodeValue::Str(..) => {}
                        NodeValue::Seq(words)
                            if !words.is_empty()
                                && words.iter().all(|w| {
                                    !matches!(w.value, NodeValue::Seq(_) | NodeValue::Map(_))
                                }) => {}
                        _ => {
                            let d = Diagnostic::error(format!(
                                "a command must be a string or a non-empty list of words, not {}",
                                c.kind()
                            ))
                            .expected("`echo hi` or `[echo, hi]`");
                            self.error(c, d);
                        }
                    }
                }
            }
            Shape::Params { params, extra } => {
                let entries: &[(Node, Node)] = match &value.value {
                    NodeValue::Map(m) => m,
                    NodeValue::Null => &[],
                    _ => {
                        let d = Diagnostic::error(format!(
                            "`{}` takes a mapping of parameters, not {}",
                            spec.name,
                            value.kind()
                        ))
                        .expected(format!(
                            "parameters {}",
                            one_of(params.iter().map(|p| p.name))
                        ));
                        self.error(value, d);
                        return;
                    }
                };
                for (k, v) in entries {
                    let name = k.key_text();
                    match spec.param(&name) {
                        Some(p) => self.param_value(directive, p.name, p.kind, v),
                        None if extra => {}
                        None => {
                            let d = Diagnostic::error(format!(
                                "unknown parameter `{name}` of `{}`",
                                spec.name
                            ))
                            .expected(format!("one of {}", one_of(params.iter().map(|p| p.name))))
                            .suggest(did_you_mean(&name, params.iter().map(|p| p.name)));
                            self.error(k, d);
                        }
                    }
                }
                let given: Vec<&str> = spec
                    .exactly_one
                    .iter()
                    .copied()
                    .filter(|p| entries.iter().any(|(k, _)| k.as_str() == Some(p)))
                    .collect();
                if !spec.exactly_one.is_empty() && given.len() != 1 {
                    let found = if given.is_empty() {
                        "neither".to_string()
                    } else {
                        format!(
                            "both {}",
                            one_of(given.iter().copied()).replace(" or ", " and ")
                        )
                    };
                    let d = Diagnostic::error(format!(
                        "`{}` needs exactly one of {}, found {found}",
                        spec.name,
                        one_of(spec.exactly_one.iter().copied())
                    ));
                    self.error(key, d);
                }
                for p in params.iter().filter(|p| p.required) {
                    if !entries.iter().any(|(k, _)| k.as_str() == Some(p.name)) {
                        let d = Diagnostic::error(format!(
                            "`{}` needs the parameter `{}`",
                            spec.name, p.name
                        ))
                        .help(format!("add `{}: ...` ({})", p.name, p.doc));
                        self.error(key, d);
                    }
                }
                // Parameters a literal value of another one asks for (`koji`'s
                // `action: download_tag` needs `koji_tag`).
                for (k, v) in entries {
                    let NodeValue::Str(value, _) = &v.value else {
                        continue;
                    };
                    let name = k.key_text();
                    for needed in directive.required_by(&name, value) {
                        if !entries.iter().any(|(k, _)| k.as_str() == Some(needed)) {
                            let doc = spec.param(needed).map_or("", |p| p.doc);
                            let d = Diagnostic::error(format!(
                                "`{}` with `{name}: {value}` needs the parameter `{needed}`",
                                spec.name
                            ))
                            .help(format!("add `{needed}: ...` ({doc})"));
                            self.error(v, d);
                        }
                    }
                }
            }
        }
    }

    fn param_value(
        &mut self,
        directive: &'static dyn Directive,
        name: &str,
        kind: ParamKind,
        v: &Node,
    ) {
        let spec = directive.spec();
        // A path the runner uses is checked as far as its text allows: the rest
        // when the action runs.
        if let (ParamKind::Path, NodeValue::Str(s, _)) = (kind, &v.value) {
            if let Some(d) = path_problem(&format!("`{}.{name}`", spec.name), s) {
                self.error(v, d);
                return;
            }
        }
        // A value with a variable in it can only be checked once it is substituted.
        if let NodeValue::Str(s, _) = &v.value {
            if Template::parse(s).map(|t| !t.is_literal()).unwrap_or(true) {
                return;
            }
        }
        let fits = match kind {
            ParamKind::Any => true,
            ParamKind::Str | ParamKind::Path => matches!(v.value, NodeValue::Str(..)),
            ParamKind::Bool => matches!(v.value, NodeValue::Bool(_)),
        };
        if !fits {
            let want = if kind == ParamKind::Bool {
                "`true` or `false`"
            } else {
                "a string"
            };
            let d = Diagnostic::error(format!(
                "`{}.{name}` must be {want}, not {}",
                spec.name,
                v.kind()
            ))
            .expected(want);
            self.error(v, d);
            return;
        }
        if let Err((expected, help)) = directive.check_literal(name, &v.to_json()) {
            let mut d = Diagnostic::error(format!("invalid value for `{}.{name}`", spec.name))
                .expected(expected);
            if let Some(h) = help {
                d = d.help(h);
            }
            self.error(v, d);
        }
    }

    /// Reports template syntax errors in every string of `node`, keys included.
    fn templates(&mut self, node: &Node) {
        match &node.value {
            NodeValue::Str(s, _) => {
                if let Err(e) = Template::parse(s) {
                    let loc = Location {
                        line: node.location.line,
                        column: node.column_of(e.offset),
                    };
                    let d = Diagnostic::error(format!("invalid variable syntax: {}", e.message))
                        .help(e.help)
                        .at(Some(self.file), self.source, loc, 1);
                    self.errors.push(d);
                }
            }
            NodeValue::Seq(items) => items.iter().for_each(|i| self.templates(i)),
            NodeValue::Map(entries) => entries.iter().for_each(|(k, v)| {
                self.templates(k);
                self.templates(v);
            }),
            _ => {}
        }
    }
}

/// The run's directories a path may start with; the runner reads and writes
/// nothing for a task anywhere else.
const PATH_ROOTS: &[&str] = &["${workdir}", "${artifactsdir}", "${taskdir}"];

/// Why the path `text` (a formula's value, perhaps with variables) would leave the
/// run's directories, as far as its text tells: absolute, or climbing with `..`.
/// `None` when it stays, or when only its substituted value can tell.
fn path_problem(what: &str, text: &str) -> Option<Diagnostic> {
    let help = "give a path relative to the task directory, or one under `${workdir}` or `${artifactsdir}`";
    let rest = PATH_ROOTS
        .iter()
        .find_map(|root| text.strip_prefix(root))
        .filter(|rest| rest.is_empty() || rest.starts_with('/'));
    if rest.is_none() && text.starts_with('/') {
        return Some(
            Diagnostic::error(format!(
                "{what} is the absolute path `{text}`, outside the task and the run"
            ))
            .expected("a path inside the task directory or the run")
            .help(help),
        );
    }
    if rest.unwrap_or(text).split('/').any(|c| c == "..") {
        return Some(
            Diagnostic::error(format!(
                "{what} `{text}` climbs out with `..`; the runner follows no path out of the task and the run"
            ))
            .expected("a path without `..`")
            .help(help),
        );
    }
    None
}
