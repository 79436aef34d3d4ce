//! A YAML tree that remembers where every node came from.
//!
//! Formulas need errors that point at a line and column ("unknown key `acitons` at
//! 3:1"), which serde-based YAML loaders cannot give for keys and values after the
//! fact. This module builds a small owned tree from the events of `saphyr-parser`,
//! keeping each node's position. Scalars are resolved with the YAML 1.2 core schema.
//! It does no I/O and never panics: every failure is a [`Diagnostic`].

use std::collections::HashMap;
use std::path::Path;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, SpannedEventReceiver};

use crate::diagnostic::{Diagnostic, Location};

/// The most nodes one document may expand to, aliases included; stops "billion
/// laughs" documents from eating memory.
const MAX_NODES: usize = 200_000;

/// How a scalar was written, which decides how columns inside it map to the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarForm {
    /// Plain on one line: character `i` of the value is at column `start + i`.
    Plain,
    /// Quoted on one line: character `i` is at column `start + 1 + i` (escapes aside).
    Quoted,
    /// Block or multi-line scalar: only the start is known precisely.
    Block,
}

/// The value of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    /// `~`, `null` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer that fits `i64`.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string, with how it was written.
    Str(String, ScalarForm),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Node, Node)>),
}

/// A YAML node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: NodeValue,
    /// Where the node starts.
    pub location: Location,
    /// How many characters of its first line the node covers (for underlining).
    pub width: usize,
}

impl Node {
    /// The string value, if this is a string scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::Str(s, _) => Some(s),
            _ => None,
        }
    }

    /// The entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            NodeValue::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            NodeValue::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// Looks a key up in a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// A short name of the node's kind for "expected a list, found a string".
    pub fn kind(&self) -> &'static str {
        match self.value {
            NodeValue::Null => "null",
            NodeValue::Bool(_) => "a boolean",
            NodeValue::Int(_) => "an integer",
            NodeValue::Float(_) => "a number",
            NodeValue::Str(..) => "a string",
            NodeValue::Seq(_) => "a list",
            NodeValue::Map(_) => "a mapping",
        }
    }

    /// The source column of character `offset` inside this string scalar, as far as
    /// it can be known.
    pub fn column_of(&self, offset: usize) -> usize {
        match self.value {
            NodeValue::Str(_, ScalarForm::Plain) => self.location.column + offset,
            NodeValue::Str(_, ScalarForm::Quoted) => self.location.column + 1 + offset,
            _ => self.location.column,
        }
    }

    /// True for scalars (strings, numbers, booleans), false for null and collections.
    pub fn is_scalar(&self) -> bool {
        matches!(
            self.value,
            NodeValue::Str(..) | NodeValue::Int(_) | NodeValue::Float(_) | NodeValue::Bool(_)
        )
    }

    /// The entries of a mapping, consumed; nothing for other nodes.
    pub fn into_entries(self) -> Vec<(Node, Node)> {
        match self.value {
            NodeValue::Map(entries) => entries,
            _ => Vec::new(),
        }
    }

    /// The node as a mapping key, consumed (no copy for string keys).
    pub fn into_key(self) -> String {
        match self.value {
            NodeValue::Str(s, _) => s,
            _ => self.key_text(),
        }
    }

    /// A scalar's text, consumed; collections give their JSON text.
    pub fn into_text(self) -> String {
        match self.value {
            NodeValue::Str(s, _) => s,
            NodeValue::Int(i) => i.to_string(),
            NodeValue::Float(f) => f.to_string(),
            NodeValue::Bool(b) => b.to_string(),
            NodeValue::Null => String::new(),
            _ => self.to_json().to_string(),
        }
    }

    /// Converts to a plain JSON value, consumed (strings move, not copied).
    pub fn into_json(self) -> serde_json::Value {
        use serde_json::Value;
        match self.value {
            NodeValue::Str(s, _) => Value::String(s),
            NodeValue::Seq(items) => Value::Array(items.into_iter().map(Node::into_json).collect()),
            NodeValue::Map(entries) => Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.into_key(), v.into_json()))
                    .collect(),
            ),
            _ => self.to_json(),
        }
    }

    /// Converts to a plain JSON value (keys formatted as strings), dropping positions.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.value {
            NodeValue::Null => Value::Null,
            NodeValue::Bool(b) => Value::Bool(*b),
            NodeValue::Int(i) => Value::from(*i),
            NodeValue::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(f.to_string())),
            NodeValue::Str(s, _) => Value::String(s.clone()),
            NodeValue::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeValue::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.key_text(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// The text of a node used as a mapping key.
    pub fn key_text(&self) -> String {
        match &self.value {
            NodeValue::Str(s, _) => s.clone(),
            NodeValue::Null => "null".into(),
            NodeValue::Bool(b) => b.to_string(),
            NodeValue::Int(i) => i.to_string(),
            NodeValue::Float(f) => f.to_string(),
            _ => self.to_json().to_string(),
        }
    }
}

/// Parses one YAML document into a [`Node`] tree. An empty document is `Null`.
///
/// # Errors
/// Returns a diagnostic pointing at the first syntax error, a duplicate key, a
/// second document, an unknown alias or a document too large once aliases expand.
pub fn parse(source: &str, file: Option<&Path>) -> Result<Node, Box<Diagnostic>> {
    parse_all(source, file).map_err(|mut all| Box::new(all.swap_remove(0)))
}

/// [`parse`], reporting every duplicate key rather than the first (a duplicate does
/// not stop the reading; the first value is kept), then any other error.
///
/// # Errors
/// At least one diagnostic.
pub fn parse_all(source: &str, file: Option<&Path>) -> Result<Node, Vec<Diagnostic>> {
    let mut builder = Builder::default();
    load(&mut builder, source, file)?;
    Ok(builder.root.unwrap_or(Node {
        value: NodeValue::Null,
        location: Location { line: 1, column: 1 },
        width: 1,
    }))
}

/// Feeds `source` to `builder`: every duplicate key, then the syntax error or the
/// builder's own, as diagnostics in `file`.
fn load(builder: &mut Builder, source: &str, file: Option<&Path>) -> Result<(), Vec<Diagnostic>> {
    let mut parser = Parser::new_from_str(source);
    let at = |message: String, loc: Location, width: usize, help: Option<String>| {
        let mut d = Diagnostic::error(message).at(file, source, loc, width);
        if let Some(h) = help {
            d = d.help(h);
        }
        d
    };
    let loaded = parser.load(builder, true);
    let mut errors: Vec<Diagnostic> = std::mem::take(&mut builder.duplicates)
        .into_iter()
        .map(|(m, loc, w, h)| at(m, loc, w, h))
        .collect();
    if let Err(e) = loaded {
        let m = e.marker();
        let loc = Location {
            line: m.line().max(1),
            column: m.col() + 1,
        };
        errors.push(
            Diagnostic::error(format!("invalid YAML: {}", e.info()))
                .at(file, source, loc, 1)
                .expected("well-formed YAML"),
        );
        return Err(errors);
    }
    if let Some((message, loc, width, help)) = builder.error.take() {
        errors.push(at(message, loc, width, help));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// A stream of YAML documents and the local tags written in it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stream {
    /// The documents, in order; an empty document is `Null`.
    pub documents: Vec<Node>,
    /// Each local tag (`!Policy`, `!PassingTestCaseRule`) and where the node it tags
    /// starts: a reader asks [`Stream::tag_of`] for a node.
    pub tags: Vec<(Location, String)>,
}

impl Stream {
    /// The local tag written on `node` (without its `!`), if any.
    pub fn tag_of(&self, node: &Node) -> Option<&str> {
        self.tags
            .iter()
            .find(|(at, _)| *at == node.location)
            .map(|(_, t)| t.as_str())
    }
}

/// Parses every document of `source` (`--- !Policy` files hold several), keeping
/// local tags, which [`parse`] drops.
///
/// # Errors
/// The same as [`parse_all`], minus "more than one document".
pub fn parse_stream(source: &str, file: Option<&Path>) -> Result<Stream, Vec<Diagnostic>> {
    let mut builder = Builder {
        stream: true,
        ..Builder::default()
    };
    load(&mut builder, source, file)?;
    Ok(Stream {
        documents: builder.finished,
        tags: builder.tags,
    })
}

enum Frame {
    Seq(Node, usize),
    Map(Node, usize, Option<Node>),
}

type BuildError = (String, Location, usize, Option<String>);

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    documents: usize,
    nodes: usize,
    /// Whether an alias was expanded, for the message when the document is too large.
    aliased: bool,
    error: Option<BuildError>,
    /// Duplicate keys found; they do not stop the reading.
    duplicates: Vec<BuildError>,
    /// The next node is the value of a duplicate key: dropped.
    skip_value: bool,
    /// Reading a stream of documents ([`parse_stream`]) rather than one.
    stream: bool,
    /// The documents read so far, in a stream.
    finished: Vec<Node>,
    /// The local tags (`!Policy`) met, at the nodes they tag.
    tags: Vec<(Location, String)>,
}

fn location(span: &Span) -> Location {
    Location {
        line: span.start.line().max(1),
        column: span.start.col() + 1,
    }
}

fn width(span: &Span) -> usize {
    if span.end.line() == span.start.line() {
        span.end.index().saturating_sub(span.start.index()).max(1)
    } else {
        1
    }
}

fn count(node: &Node) -> usize {
    match &node.value {
        NodeValue::Seq(items) => 1 + items.iter().map(count).sum::<usize>(),
        NodeValue::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| count(k) + count(v))
                .sum::<usize>()
        }
        _ => 1,
    }
}

/// Resolves a plain scalar with the YAML 1.2 core schema.
pub(crate) fn resolve_plain(text: &str) -> NodeValue {
    // Only words starting with these can be anything but a string: null, booleans,
    // numbers, infinities. Most values start otherwise and return at once.
    match text.as_bytes().first() {
        Some(b) if !b"nNtTfF~.+-0123456789".contains(b) => {
            return NodeValue::Str(text.to_string(), ScalarForm::Plain)
        }
        _ => {}
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return NodeValue::Null,
        "true" | "True" | "TRUE" => return NodeValue::Bool(true),
        "false" | "False" | "FALSE" => return NodeValue::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return NodeValue::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return NodeValue::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return NodeValue::Float(f64::NAN),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = text.parse::<i64>() {
            return NodeValue::Int(i);
        }
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return NodeValue::Int(i);
        }
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(oct, 8) {
            return NodeValue::Int(i);
        }
    }
    let looks_float = digits.bytes().any(|b| b.is_ascii_digit())
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && digits.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    if looks_float {
        if let Ok(f) = text.parse::<f64>() {
            return NodeValue::Float(f);
        }
    }
    NodeValue::Str(text.to_string(), ScalarForm::Plain)
}

impl Builder {
    fn tag(&mut self, tag: Option<&saphyr_parser::Tag>, loc: Location) {
        // Only local tags (`!Policy`) carry meaning for our readers; the core
        // schema's own (`!!str`) are resolved where the scalar is.
        if let Some(t) = tag.filter(|t| t.handle == "!") {
            self.tags.push((loc, t.suffix.clone()));
        }
    }

    fn fail(&mut self, message: String, loc: Location, width: usize, help: Option<String>) {
        if self.error.is_none() {
            self.error = Some((message, loc, width, help));
        }
    }

    fn push(&mut self, node: Node, anchor: usize) {
        if self.error.is_some() {
            return;
        }
        self.nodes += count(&node);
        if self.nodes > MAX_NODES {
            let loc = node.location;
            let (message, help) = if self.aliased {
                (
                    format!("document expands to more than {MAX_NODES} nodes"),
                    "aliases that repeat large parts are not supported",
                )
            } else {
                (
                    format!("document has more than {MAX_NODES} nodes; a formula is far smaller"),
                    "is this the file you meant? A task's data belongs in files it reads, not in its formula",
                )
            };
            self.fail(message, loc, 1, Some(help.into()));
            return;
        }
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        self.attach(node);
    }

    fn attach(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq(seq, _)) => {
                if let NodeValue::Seq(items) = &mut seq.value {
                    items.push(node);
                }
            }
            Some(Frame::Map(map, _, pending)) => match pending.take() {
                None => {
                    let duplicate = match (&map.value, &node.value) {
                        (NodeValue::Map(entries), NodeValue::Str(k, _)) => {
                            entries.iter().any(|(e, _)| e.as_str() == Some(k))
                        }
                        _ => false,
                    };
                    if duplicate {
                        let (loc, w) = (node.location, node.width);
                        let msg = format!("duplicate key `{}`", node.key_text());
                        if self.duplicates.len() < 100 {
                            self.duplicates.push((
                                msg,
                                loc,
                                w,
                                Some("each key may appear once".into()),
                            ));
                        }
                        // The first value stands; this key's value is read and dropped.
                        *pending = Some(node);
                        self.skip_value = true;
                        return;
                    }
                    *pending = Some(node);
                }
                Some(key) => {
                    if std::mem::take(&mut self.skip_value) {
                        return;
                    }
                    if let NodeValue::Map(entries) = &mut map.value {
                        entries.push((key, node));
                    }
                }
            },
        }
    }
}

impl<'input> SpannedEventReceiver<'input> for Builder {
    fn on_event(&mut self, ev: Event<'input>, span: Span) {
        if self.error.is_some() {
            return;
        }
        let loc = location(&span);
        match ev {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 && !self.stream {
                    self.fail(
                        "more than one YAML document".into(),
                        loc,
                        3,
                        Some("a formula is a single document; remove the second `---`".into()),
                    );
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.tag(tag.as_deref(), loc);
                let multiline = span.end.line() != span.start.line();
                let forced_str = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let value = match style {
                    ScalarStyle::Plain if !forced_str => match resolve_plain(&text) {
                        NodeValue::Str(s, _) if multiline => NodeValue::Str(s, ScalarForm::Block),
                        v => v,
                    },
                    ScalarStyle::Plain => NodeValue::Str(text.into_owned(), ScalarForm::Plain),
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted if !multiline => {
                        NodeValue::Str(text.into_owned(), ScalarForm::Quoted)
                    }
                    _ => NodeValue::Str(text.into_owned(), ScalarForm::Block),
                };
                let node = Node {
                    value,
                    location: loc,
                    width: width(&span),
                };
                self.push(node, anchor);
            }
            Event::SequenceStart(anchor, tag) => {
                self.tag(tag.as_deref(), loc);
                self.stack.push(Frame::Seq(
                    Node {
                        value: NodeValue::Seq(Vec::new()),
                        location: loc,
                        width: 1,
                    },
                    anchor,
                ));
            }
            Event::MappingStart(anchor, tag) => {
                self.tag(tag.as_deref(), loc);
                self.stack.push(Frame::Map(
                    Node {
                        value: NodeValue::Map(Vec::new()),
                        location: loc,
                        width: 1,
                    },
                    anchor,
                    None,
                ));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(Frame::Seq(node, anchor) | Frame::Map(node, anchor, _)) =
                    self.stack.pop()
                {
                    // The container was counted as it filled; count only itself here.
                    self.nodes = self.nodes.saturating_sub(count(&node) - 1);
                    self.push(node, anchor);
                }
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(mut node) => {
                    self.aliased = true;
                    node.location = loc;
                    self.push(node, 0);
                }
                None => self.fail("unknown alias".into(), loc, 1, None),
            },
            Event::DocumentEnd if self.stream => {
                let root = self.root.take().unwrap_or(Node {
                    value: NodeValue::Null,
                    location: loc,
                    width: 1,
                });
                self.finished.push(root);
                // Anchors do not cross documents.
                self.anchors.clear();
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
    }
}

#[cfg(test)]
mod stream_tests {
    use super::*;

    #[test]
    fn a_stream_keeps_documents_and_local_tags() {
        let s = parse_stream(
            "--- !Policy\nid: a\nrules:\n  - !Rule {x: 1}\n---\n--- !Policy\nid: b\n",
            None,
        )
        .unwrap();
        assert_eq!(s.documents.len(), 3);
        assert_eq!(s.tag_of(&s.documents[0]), Some("Policy"));
        assert_eq!(s.documents[1].value, NodeValue::Null);
        let rule = &s.documents[0].get("rules").unwrap().as_seq().unwrap()[0];
        assert_eq!(s.tag_of(rule), Some("Rule"));
        assert_eq!(s.tag_of(&s.documents[2]), Some("Policy"));
        // The core schema's tags are not local tags.
        let s = parse_stream("a: !!str 1\n", None).unwrap();
        assert!(s.tags.is_empty());
        let e = parse_stream("a: 1\na: 2\n---\nb: [\n", None).unwrap_err();
        assert_eq!(e[0].message, "duplicate key `a`");
        assert!(e[1].message.starts_with("invalid YAML"));
        // A single-document reader still refuses a second document.
        assert!(parse("a: 1\n---\nb: 2\n", None).is_err());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positions_of_keys_and_values() {
        let doc = parse(
            "name: x\nactions:\n  - name: a\n    dummy: {result: PASS}\n",
            None,
        )
        .unwrap();
        let (k, _) = &doc.as_map().unwrap()[1];
        assert_eq!(k.location, Location { line: 2, column: 1 });
        let action = &doc.get("actions").unwrap().as_seq().unwrap()[0];
        let (dk, dv) = &action.as_map().unwrap()[1];
        assert_eq!(dk.location, Location { line: 4, column: 5 });
        assert_eq!(
            dv.get("result").unwrap().location,
            Location {
                line: 4,
                column: 21
            }
        );
    }

    #[test]
    fn resolves_core_schema_scalars() {
        let doc = parse(
            "a: 1\nb: 1.5\nc: true\nd: ~\ne: '1'\nf: x\ng: !!str 2\n",
            None,
        )
        .unwrap();
        let v = doc.to_json();
        assert_eq!(
            v,
            serde_json::json!({"a": 1, "b": 1.5, "c": true, "d": null, "e": "1", "f": "x", "g": "2"})
        );
    }

    #[test]
    fn rejects_duplicate_keys_at_the_second() {
        let e = parse("a: 1\nb: 2\na: 3\n", None).unwrap_err();
        assert_eq!(e.location, Some(Location { line: 3, column: 1 }));
        assert!(e.message.contains("duplicate key `a`"));
        // Every one of them, nested ones too, with a syntax error after them.
        let all = parse_all("a: 1\nb: {x: 1, x: {deep: 2}}\na: 3\nb: 4\nc: [\n", None).unwrap_err();
        let found: Vec<(usize, &str)> = all
            .iter()
            .map(|d| (d.location.unwrap().line, d.message.as_str()))
            .collect();
        assert_eq!(
            found[..3],
            [
                (2, "duplicate key `x`"),
                (3, "duplicate key `a`"),
                (4, "duplicate key `b`")
            ]
        );
        assert!(found[3].1.starts_with("invalid YAML"), "{found:?}");
    }

    #[test]
    fn syntax_errors_point_at_a_real_line() {
        let src = "a: [1, 2\nb: 3\n";
        let e = parse(src, None).unwrap_err();
        let line = e.location.unwrap().line;
        assert!(line >= 1 && line <= src.lines().count());
    }

    #[test]
    fn aliases_expand_and_bombs_stop() {
        let doc = parse("a: &x [1, 2]\nb: *x\n", None).unwrap();
        assert_eq!(doc.to_json(), serde_json::json!({"a": [1, 2], "b": [1, 2]}));
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            bomb.push_str(&format!(
                "{}: &{} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n",
                (b'a' + i) as char,
                (b'a' + i) as char,
                p = (b'a' + i - 1) as char
            ));
        }
        assert!(parse(&bomb, None)
            .unwrap_err()
            .message
            .contains("more than"));
    }
}
