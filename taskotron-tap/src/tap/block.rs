//! A test point's YAML block, kept as text until someone asks for its contents.

use serde::Serialize;

use crate::diagnostic::{Diagnostic, Location};
use crate::yaml::{self, Node, NodeValue, ScalarForm};

/// The YAML diagnostics of a test point, as written (indentation removed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YamlBlock {
    /// Line of the `---` that opened it.
    pub line: usize,
    /// Column (0-based) of the `---`; content lines were indented at least this much.
    pub indent: usize,
    /// The content between `---` and `...`, dedented, one `\n` per line.
    pub text: String,
    /// How many content lines it has.
    pub lines: usize,
    /// False when the block ended without `...` (at a dedent or the end of input).
    pub terminated: bool,
}

impl YamlBlock {
    /// Decodes the block. Flat `key: scalar` blocks, the common case, are read
    /// directly; anything else goes through the full YAML reader. Positions in the
    /// result and in errors are positions in the TAP stream.
    ///
    /// # Errors
    /// Invalid YAML, as a diagnostic with the stream's line number.
    pub fn decode(&self) -> Result<Node, Box<Diagnostic>> {
        if let Some(node) = self.decode_flat() {
            return Ok(node);
        }
        match yaml::parse(&self.text, None) {
            Ok(mut node) => {
                shift(&mut node, self.line, self.indent);
                Ok(node)
            }
            Err(mut d) => {
                if let Some(loc) = &mut d.location {
                    loc.line += self.line;
                    loc.column += self.indent;
                }
                d.message = format!(
                    "invalid YAML block: {}",
                    d.message.trim_start_matches("invalid YAML: ")
                );
                Err(d)
            }
        }
    }

    /// The fast path: every line is `key: value` with a simple key and a value that
    /// means the same in every YAML reader (a plain scalar with nothing special in
    /// it, or a single-quoted one without escapes). `None` sends the block to the
    /// full reader.
    fn decode_flat(&self) -> Option<Node> {
        let mut entries: Vec<(Node, Node)> = Vec::with_capacity(self.lines);
        for (i, line) in self.text.split_terminator('\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            let bytes = line.as_bytes();
            let colon = memchr::memchr(b':', bytes)?;
            if bytes.get(colon + 1) != Some(&b' ') {
                return None;
            }
            let key = &line[..colon];
            let key_ok = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !key_ok || entries.iter().any(|(k, _)| k.as_str() == Some(key)) {
                return None;
            }
            let value_col = colon + 2;
            let value = line[value_col..].trim_end();
            let parsed = if let Some(inner) =
                value.strip_prefix('\'').and_then(|v| v.strip_suffix('\''))
            {
                if memchr::memchr(b'\'', inner.as_bytes()).is_some() {
                    return None;
                }
                NodeValue::Str(inner.to_string(), ScalarForm::Quoted)
            } else {
                let first = *value.as_bytes().first()?;
                if b"-?:,[]{}#&*!|>'\"%@`".contains(&first) || !plain_rest_ok(value.as_bytes()) {
                    return None;
                }
                yaml::resolve_plain(value)
            };
            let line_no = self.line + 1 + i;
            let node = |value, col: usize, width: usize| Node {
                value,
                location: Location {
                    line: line_no,
                    column: self.indent + col + 1,
                },
                width,
            };
            entries.push((
                node(
                    NodeValue::Str(key.to_string(), ScalarForm::Plain),
                    0,
                    key.len(),
                ),
                node(parsed, value_col, value.len()),
            ));
        }
        Some(Node {
            value: NodeValue::Map(entries),
            location: Location {
                line: self.line + 1,
                column: self.indent + 1,
            },
            width: 1,
        })
    }
}

/// A plain scalar means the same to every reader if it holds no `: `, no ` #`, no
/// tab and does not end with `:`.
fn plain_rest_ok(value: &[u8]) -> bool {
    if value.last() == Some(&b':') || memchr::memchr(b'\t', value).is_some() {
        return false;
    }
    let mut at = 0;
    while let Some(i) = memchr::memchr2(b':', b'#', &value[at..]) {
        let i = at + i;
        match value[i] {
            b':' if value.get(i + 1) == Some(&b' ') => return false,
            b'#' if i > 0 && value[i - 1] == b' ' => return false,
            _ => {}
        }
        at = i + 1;
    }
    true
}

/// Moves positions from block-relative to stream-relative.
fn shift(node: &mut Node, lines: usize, columns: usize) {
    node.location.line += lines;
    node.location.column += columns;
    match &mut node.value {
        NodeValue::Seq(items) => items.iter_mut().for_each(|n| shift(n, lines, columns)),
        NodeValue::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            shift(k, lines, columns);
            shift(v, lines, columns);
        }),
        _ => {}
    }
}
