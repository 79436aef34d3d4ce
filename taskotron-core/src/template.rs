//! Variable substitution in formula values: `$var`, `${var}`, `${var.attr}` dot
//! paths and the `$$` escape, as in the original's `string.Template` plus the 2016
//! dot paths.
//!
//! A value that is exactly one variable keeps the variable's type (a list export
//! stays a list); inside a longer string a variable is formatted as text. In shell
//! mode every substituted value is shell-quoted, so a value from outside (an item
//! from a bus message) can never become shell syntax. Pure; no I/O; never panics.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::suggest::did_you_mean;

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

/// How substituted values are written into text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// As they are; a whole-string reference keeps its type.
    Plain,
    /// Each value shell-quoted; the result is always a string.
    Shell,
}

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
    pub fn render(&self, scope: &Scope, mode: Mode) -> Result<Value, SubstError> {
        if mode == Mode::Plain {
            if let [Segment::Var(v)] = self.segments.as_slice() {
                return scope.resolve(v).cloned();
            }
        }
        let mut out = String::new();
        for seg in &self.segments {
            match seg {
                Segment::Lit(s) => out.push_str(s),
                Segment::Var(v) => {
                    let value = scope.resolve(v)?;
                    format_value(value, mode, &mut out);
                }
            }
        }
        Ok(Value::String(out))
    }
}

/// Writes `value` as text: strings as they are, null as nothing, lists as their items
/// separated by spaces, mappings as compact JSON. In shell mode each word is quoted.
fn format_value(value: &Value, mode: Mode, out: &mut String) {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                format_value(item, mode, out);
            }
        }
        other => {
            let text = match other {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                Value::Object(_) => other.to_string(),
                _ => other.to_string(),
            };
            match mode {
                Mode::Plain => out.push_str(&text),
                Mode::Shell => out.push_str(&shell_quote(&text)),
            }
        }
    }
}

/// Quotes `s` as one POSIX shell word. Words made only of characters with no
/// meaning to the shell are left bare, for readable logs.
pub fn shell_quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
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
                        .or_else(|| Some(format!("`{so_far}` has: {}", crate::suggest::one_of(map.keys().map(String::as_str))))),
                    Value::Array(items) => Some(format!("`{so_far}` is a list of {} items; index it with a number", items.len())),
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

    fn render(t: &str, mode: Mode) -> Result<Value, String> {
        Template::parse(t)
            .map_err(|e| e.to_string())?
            .render(&scope(), mode)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn whole_references_keep_their_type() {
        assert_eq!(render("${rpms}", Mode::Plain).unwrap(), json!(["/a b.rpm", "/c.rpm"]));
        assert_eq!(render("$out", Mode::Plain).unwrap(), json!({"downloaded_rpms": ["/x.rpm"], "n": 3}));
        assert_eq!(render("${out.n}", Mode::Plain).unwrap(), json!(3));
        assert_eq!(render("${out.downloaded_rpms.0}", Mode::Plain).unwrap(), json!("/x.rpm"));
        assert_eq!(render("${build_id}", Mode::Plain).unwrap(), Value::Null);
    }

    #[test]
    fn references_in_text_are_formatted() {
        assert_eq!(render("check $item now", Mode::Plain).unwrap(), json!("check xchat-0.5-1.fc20 now"));
        assert_eq!(render("n=${out.n} [${build_id}]", Mode::Plain).unwrap(), json!("n=3 []"));
        assert_eq!(render("rpmlint ${rpms}", Mode::Plain).unwrap(), json!("rpmlint /a b.rpm /c.rpm"));
        assert_eq!(render("costs $$5 ${item}x", Mode::Plain).unwrap(), json!("costs $5 xchat-0.5-1.fc20x"));
    }

    #[test]
    fn shell_mode_quotes_every_value() {
        assert_eq!(render("rpmlint ${rpms}", Mode::Shell).unwrap(), json!("rpmlint '/a b.rpm' /c.rpm"));
        assert_eq!(render("echo ${build_id}", Mode::Shell).unwrap(), json!("echo ''"));
        let mut s = Scope::default();
        s.set_builtin("item", json!("'; touch x; echo '"));
        let v = Template::parse("echo $item").unwrap().render(&s, Mode::Shell).unwrap();
        assert_eq!(v, json!(r"echo ''\''; touch x; echo '\'''"));
    }

    #[test]
    fn errors_say_where_and_what() {
        let e = Template::parse("a ${b").unwrap_err();
        assert_eq!(e.offset, 2);
        let e = Template::parse("cost $5").unwrap_err();
        assert!(e.help.contains("$$"));
        assert!(Template::parse("${a..b}").is_err());
        let e = render("${itme}", Mode::Plain).unwrap_err();
        assert!(e.contains("undefined variable `itme`"));
        let t = Template::parse("${out.downloaded_rpm}").unwrap();
        let e = t.render(&scope(), Mode::Plain).unwrap_err();
        assert_eq!(e.help.as_deref(), Some("did you mean `out.downloaded_rpms`?"));
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
