//! Variable substitution in formula values: `$var`, `${var}`, `${var.attr}` dot
//! paths and the `$$` escape, as in the original's `string.Template` plus the 2016
//! dot paths.
//!
//! A value that is exactly one variable keeps the variable's type (a list export
//! stays a list); inside a longer string a variable is formatted as text. In a shell
//! line no value is written into the script at all: each travels in an environment
//! variable the script refers to ([`Template::render_shell`]), so a value from
//! outside (an item from a bus message) can never become shell syntax. Pure; no
//! I/O; never panics.

use std::collections::BTreeMap;

use serde_json::Value;

use taskotron_tap::suggest::did_you_mean;

/// A reference to a variable inside a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarRef {
    /// The variable's name.
    pub name: String,
    /// Attribute path after the name (`${a.b.c}` gives `[b, c]`).
    pub path: Vec<String>,
    /// Character offset of the `$` in the template.
    pub offset: usize,
    /// Length of the reference in characters.
    pub len: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Lit(String),
    Var(VarRef),
}

/// A parsed template string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
}

/// A malformed template: a `$` that starts nothing, an unterminated `${`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    /// What is wrong.
    pub message: String,
    /// Character offset of the problem in the template.
    pub offset: usize,
    /// How to fix it.
    pub help: String,
}

/// A shell line ready to run: the script refers to each substituted value through
/// an environment variable, so no value is ever parsed as shell syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellLine {
    /// The script for `sh -c`.
    pub script: String,
    /// The environment variables the script refers to, with their values.
    pub vars: Vec<(String, String)>,
    /// The line with values written in plainly, for logs and messages only.
    pub display: String,
}

/// Where a substitution falls in a shell line, which decides how the reference to its
/// environment variable is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    Unquoted,
    Single,
    Double,
}

/// Follows the quoting state of POSIX shell text. Deliberately small: if it misjudges
/// an exotic construct, the value still only reaches the shell as a parameter
/// expansion, which the shell never parses as code.
fn advance(mut state: Quoting, text: &str) -> Quoting {
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        state = match (state, c) {
            (Quoting::Unquoted | Quoting::Double, '\\') => {
                chars.next();
                state
            }
            (Quoting::Unquoted, '\'') => Quoting::Single,
            (Quoting::Unquoted, '"') => Quoting::Double,
            (Quoting::Single, '\'') | (Quoting::Double, '"') => Quoting::Unquoted,
            (s, _) => s,
        };
    }
    state
}

/// The prefix of the environment variables that carry substituted values.
pub const SHELL_VAR_PREFIX: &str = "TASKOTRON_SUBST_";

/// A failure to substitute: an undefined variable or a missing attribute.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SubstError {
    /// What is wrong.
    pub message: String,
    /// The reference that failed.
    pub var: VarRef,
    /// A suggestion, if a near name exists.
    pub help: Option<String>,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl Template {
    /// Parses `text`.
    ///
    /// # Errors
    /// A `$` followed by neither a name, `{` nor `$`; an unterminated or malformed `${...}`.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let chars: Vec<char> = text.chars().collect();
        let mut segments = Vec::new();
        let mut lit = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c != '$' {
                lit.push(c);
                i += 1;
                continue;
            }
            let start = i;
            match chars.get(i + 1) {
                Some('$') => {
                    lit.push('$');
                    i += 2;
                }
                Some('{') => {
                    let close = chars[i + 2..].iter().position(|&c| c == '}');
                    let Some(close) = close else {
                        return Err(TemplateError {
                            message: "unterminated `${`".into(),
                            offset: start,
                            help: "close the reference with `}`, or write `$$` for a literal `$`".into(),
                        });
                    };
                    let inner: String = chars[i + 2..i + 2 + close].iter().collect();
                    let mut parts = inner.split('.');
                    let name = parts.next().unwrap_or_default().to_string();
                    let path: Vec<String> = parts.map(str::to_string).collect();
                    let name_ok = name.starts_with(is_ident_start) && name.chars().all(is_ident);
                    let path_ok = path.iter().all(|p| {
                        !p.is_empty() && p.chars().all(|c| is_ident(c) || c == '-')
                    });
                    if !name_ok || !path_ok {
                        return Err(TemplateError {
                            message: format!("invalid variable reference `${{{inner}}}`"),
                            offset: start,
                            help: "a reference is `${name}` or `${name.attr}`; names are letters, digits and `_`".into(),
                        });
                    }
                    if !lit.is_empty() {
                        segments.push(Segment::Lit(std::mem::take(&mut lit)));
                    }
                    segments.push(Segment::Var(VarRef {
                        name,
                        path,
                        offset: start,
                        len: close + 3,
                    }));
                    i += close + 3;
                }
                Some(&c) if is_ident_start(c) => {
                    let mut end = i + 1;
                    while end < chars.len() && is_ident(chars[end]) {
                        end += 1;
                    }
                    if !lit.is_empty() {
                        segments.push(Segment::Lit(std::mem::take(&mut lit)));
                    }
                    segments.push(Segment::Var(VarRef {
                        name: chars[i + 1..end].iter().collect(),
                        path: Vec::new(),
                        offset: start,
                        len: end - start,
                    }));
                    i = end;
                }
                _ => {
                    return Err(TemplateError {
                        message: "`$` does not start a variable".into(),
                        offset: start,
                        help: "write `$name` or `${name}` for a variable, `$$` for a literal `$` (for a shell variable: `$$HOME`)".into(),
                    })
                }
            }
        }
        if !lit.is_empty() {
            segments.push(Segment::Lit(lit));
        }
        Ok(Template { segments })
    }

    /// The variable references, in order.
    pub fn vars(&self) -> impl Iterator<Item = &VarRef> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Var(v) => Some(v),
            Segment::Lit(_) => None,
        })
    }

    /// True when the template holds no variable (it renders to itself, unescaped).
    pub fn is_literal(&self) -> bool {
        self.vars().next().is_none()
    }

    /// Substitutes the variables of `scope`.
    ///
    /// # Errors
    /// An undefined variable, or an attribute path that does not resolve.
    pub fn render(&self, scope: &Scope) -> Result<Value, SubstError> {
        if let [Segment::Var(v)] = self.segments.as_slice() {
            return scope.resolve(v).cloned();
        }
        let mut out = String::new();
        for seg in &self.segments {
            match seg {
                Segment::Lit(s) => out.push_str(s),
                Segment::Var(v) => out.push_str(&format_value(scope.resolve(v)?)),
            }
        }
        Ok(Value::String(out))
    }

    /// Substitutes the variables of `scope` into a shell line. Each value (each item
    /// of a list) goes into its own environment variable, and the script refers to it
    /// in a way that fits the quoting where the reference stands: `"${V}"` outside
    /// quotes, `${V}` inside double quotes, `'"${V}"'` inside single quotes. The
    /// shell expands parameters once and never runs their contents, so a value can
    /// hold any characters at all.
    ///
    /// # Errors
    /// An undefined variable, or an attribute path that does not resolve.
    pub fn render_shell(&self, scope: &Scope) -> Result<ShellLine, SubstError> {
        let mut line = ShellLine {
            script: String::new(),
            vars: Vec::new(),
            display: String::new(),
        };
        let mut state = Quoting::Unquoted;
        for seg in &self.segments {
            match seg {
                Segment::Lit(s) => {
                    line.script.push_str(s);
                    line.display.push_str(s);
                    state = advance(state, s);
                }
                Segment::Var(v) => {
                    let value = scope.resolve(v)?;
                    line.display.push_str(&format_value(value));
                    let words: Vec<String> = match value {
                        Value::Array(items) => items.iter().map(format_value).collect(),
                        other => vec![format_value(other)],
                    };
                    let mut refs = Vec::new();
                    for word in words {
                        let name = format!("{SHELL_VAR_PREFIX}{}", line.vars.len() + 1);
                        refs.push(format!("${{{name}}}"));
                        line.vars.push((name, word));
                    }
                    let text = match state {
                        Quoting::Unquoted => refs
                            .iter()
                            .map(|r| format!("\"{r}\""))
                            .collect::<Vec<_>>()
                            .join(" "),
                        Quoting::Double => refs.join(" "),
                        Quoting::Single => format!("'\"{}\"'", refs.join(" ")),
                    };
                    line.script.push_str(&text);
                }
            }
        }
        Ok(line)
    }
}

/// Writes `value` as text: strings as they are, null as nothing, lists as their items
/// separated by spaces, mappings as compact JSON.
pub fn format_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(items) => items.iter().map(format_value).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

/// The variables visible to an action, in three layers: built-ins, exports of earlier
/// actions, and overrides, which win over both.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    builtins: BTreeMap<String, Value>,
    exports: BTreeMap<String, Value>,
    overrides: BTreeMap<String, Value>,
}

impl Scope {
    /// Defines a built-in variable.
    pub fn set_builtin(&mut self, name: &str, value: Value) {
        self.builtins.insert(name.to_string(), value);
    }

    /// Records an action's export.
    pub fn set_export(&mut self, name: &str, value: Value) {
        self.exports.insert(name.to_string(), value);
    }

    /// Sets an override (`--override name=value`).
    pub fn set_override(&mut self, name: &str, value: Value) {
        self.overrides.insert(name.to_string(), value);
    }

    /// The value of a variable by name, overrides first.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.overrides
            .get(name)
            .or_else(|| self.exports.get(name))
            .or_else(|| self.builtins.get(name))
    }

    /// Every defined name.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.builtins
            .keys()
            .chain(self.exports.keys())
            .chain(self.overrides.keys())
            .map(String::as_str)
    }

    /// Resolves a reference, following its attribute path.
    ///
    /// # Errors
    /// The name is undefined, or an attribute does not exist.
    pub fn resolve(&self, var: &VarRef) -> Result<&Value, SubstError> {
        let Some(mut value) = self.get(&var.name) else {
            return Err(SubstError {
                message: format!("undefined variable `{}`", var.name),
                var: var.clone(),
                help: did_you_mean(&var.name, self.names()).map(|s| format!("did you mean `{s}`?")),
            });
        };
        for (depth, attr) in var.path.iter().enumerate() {
            let next = match value {
                Value::Object(map) => map.get(attr),
                Value::Array(items) => attr.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            };
            let Some(next) = next else {
                let so_far = std::iter::once(var.name.as_str())
                    .chain(var.path[..depth].iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(".");
                let help = match value {
                    Value::Object(map) => did_you_mean(attr, map.keys().map(String::as_str))
                        .map(|s| format!("did you mean `{so_far}.{s}`?"))
                        .or_else(|| {
                            Some(format!(
                                "`{so_far}` has: {}",
                                taskotron_tap::suggest::one_of(map.keys().map(String::as_str))
                            ))
                        }),
                    Value::Array(items) => Some(format!(
                        "`{so_far}` is a list of {} items; index it with a number",
                        items.len()
                    )),
                    _ => None,
                };
                return Err(SubstError {
                    message: format!("`{so_far}` has no attribute `{attr}`"),
                    var: var.clone(),
                    help,
                });
            };
            value = next;
        }
        Ok(value)
    }
}

/// True for a name a variable can have: ASCII letters, digits and `_`, not
/// starting with a digit (what `export:` and `--override` accept).
pub fn is_variable_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn scope() -> Scope {
        let mut s = Scope::default();
        s.set_builtin("item", json!("xchat-0.5-1.fc20"));
        s.set_builtin("rpms", json!(["/a b.rpm", "/c.rpm"]));
        s.set_builtin("out", json!({"downloaded_rpms": ["/x.rpm"], "n": 3}));
        s.set_builtin("build_id", Value::Null);
        s
    }

    fn render(t: &str) -> Result<Value, String> {
        Template::parse(t)
            .map_err(|e| e.to_string())?
            .render(&scope())
            .map_err(|e| e.to_string())
    }

    /// Runs the rendered line under `sh` and returns its output.
    fn sh(t: &str, s: &Scope) -> String {
        let line = Template::parse(t).unwrap().render_shell(s).unwrap();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&line.script)
            .envs(line.vars.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    #[test]
    fn whole_references_keep_their_type() {
        assert_eq!(render("${rpms}").unwrap(), json!(["/a b.rpm", "/c.rpm"]));
        assert_eq!(
            render("$out").unwrap(),
            json!({"downloaded_rpms": ["/x.rpm"], "n": 3})
        );
        assert_eq!(render("${out.n}").unwrap(), json!(3));
        assert_eq!(render("${out.downloaded_rpms.0}").unwrap(), json!("/x.rpm"));
        assert_eq!(render("${build_id}").unwrap(), Value::Null);
    }

    #[test]
    fn references_in_text_are_formatted() {
        assert_eq!(
            render("check $item now").unwrap(),
            json!("check xchat-0.5-1.fc20 now")
        );
        assert_eq!(render("n=${out.n} [${build_id}]").unwrap(), json!("n=3 []"));
        assert_eq!(
            render("rpmlint ${rpms}").unwrap(),
            json!("rpmlint /a b.rpm /c.rpm")
        );
        assert_eq!(
            render("costs $$5 ${item}x").unwrap(),
            json!("costs $5 xchat-0.5-1.fc20x")
        );
    }

    #[test]
    fn shell_lines_carry_values_in_the_environment() {
        let line = Template::parse("rpmlint ${rpms}")
            .unwrap()
            .render_shell(&scope())
            .unwrap();
        assert_eq!(
            line.script,
            r#"rpmlint "${TASKOTRON_SUBST_1}" "${TASKOTRON_SUBST_2}""#
        );
        assert_eq!(line.display, "rpmlint /a b.rpm /c.rpm");
        assert_eq!(sh("printf '[%s]' ${rpms}", &scope()), "[/a b.rpm][/c.rpm]");
        assert_eq!(
            sh("printf '[%s]' \"in ${rpms} dq\"", &scope()),
            "[in /a b.rpm /c.rpm dq]"
        );
        assert_eq!(
            sh("printf '[%s]' 'in ${item} sq'", &scope()),
            "[in xchat-0.5-1.fc20 sq]"
        );
        assert_eq!(sh("printf '[%s]' x${build_id}y", &scope()), "[xy]");
        assert_eq!(sh("echo $$((1+2)) '$${item}'", &scope()), "3 ${item}\n");
    }

    #[test]
    fn shell_values_are_never_code() {
        for hostile in [
            "'; echo INJECTED; '",
            "\"; echo INJECTED; \"",
            "$(echo INJECTED)",
            "`echo INJECTED`",
            "\\\"$(echo INJECTED)",
        ] {
            let mut s = Scope::default();
            s.set_builtin("item", json!(hostile));
            for t in [
                "echo $item",
                "echo \"$item\"",
                "echo '$item'",
                "echo \"a'$item'b\"",
                "echo 'a\"$item\"b'",
            ] {
                let out = sh(t, &s);
                assert!(
                    !out.contains("INJECTED\n") || out.contains(hostile),
                    "{t} with {hostile}: {out}"
                );
                assert!(
                    out.contains(hostile),
                    "{t} with {hostile} lost the value: {out}"
                );
            }
        }
    }

    #[test]
    fn errors_say_where_and_what() {
        let e = Template::parse("a ${b").unwrap_err();
        assert_eq!(e.offset, 2);
        let e = Template::parse("cost $5").unwrap_err();
        assert!(e.help.contains("$$"));
        assert!(Template::parse("${a..b}").is_err());
        let e = render("${itme}").unwrap_err();
        assert!(e.contains("undefined variable `itme`"));
        let t = Template::parse("${out.downloaded_rpm}").unwrap();
        let e = t.render(&scope()).unwrap_err();
        assert_eq!(
            e.help.as_deref(),
            Some("did you mean `out.downloaded_rpms`?")
        );
    }

    #[test]
    fn overrides_win_over_exports_and_builtins() {
        let mut s = scope();
        s.set_export("x", json!(1));
        s.set_builtin("x", json!(0));
        assert_eq!(s.get("x"), Some(&json!(1)));
        s.set_override("x", json!("o"));
        assert_eq!(s.get("x"), Some(&json!("o")));
    }
}
