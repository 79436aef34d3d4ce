//! Diagnostics: what went wrong in a user's input, where, and what would fix it.
//!
//! A [`Diagnostic`] carries everything needed to render itself (the file name, the
//! position and the offending source line), so it can be printed long after the
//! source text is gone and serialised for `--format json`. This module does no I/O.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The input cannot be used.
    Error,
    /// The input works but something about it should change (a deprecated key).
    Warning,
}

/// A position in a source file: 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Location {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// The most characters of a source line an excerpt shows.
pub const EXCERPT_WIDTH: usize = 120;

/// One problem found in user input, with its place and a way out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, as a short lowercase sentence fragment.
    pub message: String,
    /// The file the problem is in, when it came from a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// Where in the file; `None` for problems of the whole input (a command-line value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// How many characters to underline from the location (at least one).
    #[serde(skip)]
    pub width: usize,
    /// The source line the location points into, for the excerpt: a window of at
    /// most [`EXCERPT_WIDTH`] characters around the column when the line is longer,
    /// so a one-line 50 MB file is not printed whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
    /// Where the location's column is in the excerpt (1-based); 0 when the excerpt
    /// is the whole line and the column says it.
    #[serde(skip)]
    pub excerpt_column: usize,
    /// What was expected there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// A suggestion, usually "did you mean ...?".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error with only a message; add a place and hints with the builder methods.
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            message: message.into(),
            file: None,
            location: None,
            width: 1,
            excerpt: None,
            excerpt_column: 0,
            expected: None,
            help: None,
        }
    }

    /// A warning with only a message.
    pub fn warning(message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(message)
        }
    }

    /// Points the diagnostic at `location` in `source` (read from `file`), underlining
    /// `width` characters. The excerpt is taken from `source` now.
    pub fn at(
        mut self,
        file: Option<&Path>,
        source: &str,
        location: Location,
        width: usize,
    ) -> Self {
        self.file = file.map(Path::to_path_buf);
        let line_count = source.lines().count().max(1);
        let line = location.line.clamp(1, line_count);
        self.location = Some(Location {
            line,
            column: location.column.max(1),
        });
        self.width = width.max(1);
        self.excerpt_column = 0;
        self.excerpt = source.lines().nth(line - 1).map(|l| {
            let l = l.trim_end_matches('\r');
            if l.len() <= EXCERPT_WIDTH {
                return l.to_string();
            }
            let column = location.column.max(1) - 1;
            let start = column.saturating_sub(EXCERPT_WIDTH / 3);
            let mut window: String = l.chars().skip(start).take(EXCERPT_WIDTH + 1).collect();
            let cut_end = window.chars().count() > EXCERPT_WIDTH;
            if cut_end {
                window = window.chars().take(EXCERPT_WIDTH).collect();
                window.push('…');
            }
            if start > 0 {
                window.insert(0, '…');
                self.excerpt_column = column - start + 2;
            } else {
                self.excerpt_column = column + 1;
            }
            self.width = self
                .width
                .min(EXCERPT_WIDTH.saturating_sub(column - start).max(1));
            window
        });
        self
    }

    /// Points at a whole line of a stream whose text is not kept (TAP is read once).
    pub fn at_line(mut self, file: Option<&Path>, line: usize) -> Self {
        self.file = file.map(Path::to_path_buf);
        self.location = Some(Location {
            line: line.max(1),
            column: 1,
        });
        self
    }

    /// Keeps the excerpt and column but says the place is on `line` (for an excerpt
    /// taken from that line alone).
    fn at_line_number(mut self, line: usize) -> Self {
        if let Some(loc) = &mut self.location {
            loc.line = line;
        }
        self
    }

    /// Names the file without pointing at a place in it.
    pub fn in_file(mut self, file: &Path) -> Self {
        self.file = Some(file.to_path_buf());
        self
    }

    /// Says what was expected at the place.
    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    /// Adds a suggestion.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds "did you mean `x`?" when `suggestion` is some.
    pub fn suggest(self, suggestion: Option<&str>) -> Self {
        match suggestion {
            Some(s) => self.help(format!("did you mean `{s}`?")),
            None => self,
        }
    }

    /// True for errors, false for warnings.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The problem on one line, for places with no room for an excerpt (a Bodhi
    /// comment, a log line): `file:line:column: message (expected ...; help)`.
    pub fn one_line(&self) -> String {
        let mut out = String::new();
        if let Some(f) = &self.file {
            out.push_str(&f.display().to_string());
            if let Some(l) = &self.location {
                out.push_str(&format!(":{}:{}", l.line, l.column));
            }
            out.push_str(": ");
        }
        out.push_str(&self.message);
        let hints: Vec<String> = [
            self.expected.as_ref().map(|e| format!("expected {e}")),
            self.help.clone(),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !hints.is_empty() {
            out.push_str(&format!(" ({})", hints.join("; ")));
        }
        out
    }
}

/// Reads `bytes` (the content of `file`) as text; text that is not UTF-8 is an error
/// at the line and column of its first bad byte, with that line shown.
///
/// # Errors
/// The bytes are not UTF-8.
pub fn utf8(bytes: Vec<u8>, file: &Path) -> Result<String, Box<Diagnostic>> {
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let bad = e.utf8_error().valid_up_to();
        let before = &bytes[..bad];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        let line_end = bytes[bad..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(bytes.len(), |i| bad + i);
        let shown = String::from_utf8_lossy(&bytes[line_start..line_end]).into_owned();
        Box::new(
            Diagnostic::error(format!(
                "not UTF-8: byte 0x{:02x} cannot start or continue a character",
                bytes[bad]
            ))
            .at(Some(file), &shown, Location { line: 1, column }, 1)
            .at_line_number(line)
            .help("save the file as UTF-8"),
        )
    })
}

/// Renders like rustc and cargo: the message, an arrow to the place, the excerpt with
/// a caret line saying what was expected, then the help.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        writeln!(f, "{kind}: {}", self.message)?;
        let gutter = self.location.map(|l| l.line.to_string().len()).unwrap_or(1);
        let pad = " ".repeat(gutter);
        match (&self.file, self.location) {
            (Some(file), Some(loc)) => {
                writeln!(f, "{pad}--> {}:{}:{}", file.display(), loc.line, loc.column)?
            }
            (Some(file), None) => writeln!(f, "{pad}--> {}", file.display())?,
            (None, Some(loc)) => writeln!(f, "{pad}--> {}:{}", loc.line, loc.column)?,
            (None, None) => {}
        }
        if let (Some(excerpt), Some(loc)) = (&self.excerpt, self.location) {
            writeln!(f, "{pad} |")?;
            writeln!(f, "{} | {}", loc.line, excerpt)?;
            let caret = if self.excerpt_column > 0 {
                self.excerpt_column
            } else {
                loc.column
            };
            let indent: String = excerpt
                .chars()
                .take(caret - 1)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let carets = "^".repeat(self.width);
            match &self.expected {
                Some(e) => writeln!(f, "{pad} | {indent}{carets} expected {e}")?,
                None => writeln!(f, "{pad} | {indent}{carets}")?,
            }
        } else if let Some(e) = &self.expected {
            writeln!(f, "{pad} = expected {e}")?;
        }
        if let Some(help) = &self.help {
            writeln!(f, "{pad} = help: {help}")?;
        }
        Ok(())
    }
}

/// Renders a list of diagnostics separated by blank lines, as `validate` prints them.
pub fn render_all(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_names_the_place_and_the_hints() {
        let d = Diagnostic::error("unknown key `rulez`")
            .at_line(Some(Path::new("p.yaml")), 3)
            .expected("`rules`")
            .help("did you mean `rules`?");
        assert_eq!(
            d.one_line(),
            "p.yaml:3:1: unknown key `rulez` (expected `rules`; did you mean `rules`?)"
        );
        assert_eq!(Diagnostic::error("no file").one_line(), "no file");
    }

    #[test]
    fn a_bad_byte_is_shown_where_it_is() {
        let d = utf8(
            b"name: t\nactions: [caf\xe9]\n".to_vec(),
            Path::new("f.yml"),
        )
        .unwrap_err();
        assert_eq!(
            d.location,
            Some(Location {
                line: 2,
                column: 14
            })
        );
        let shown = d.to_string();
        assert!(shown.contains("f.yml:2:14"), "{shown}");
        assert!(shown.contains("2 | actions: [caf\u{fffd}]"), "{shown}");
        assert!(utf8(b"fine".to_vec(), Path::new("f")).is_ok());
    }

    #[test]
    fn excerpts_of_long_lines_are_a_window_around_the_column() {
        let line = format!("{}bogus: 1{}", "a".repeat(100_000), "b".repeat(100_000));
        let d = Diagnostic::error("unknown key `bogus`").at(
            None,
            &line,
            Location {
                line: 1,
                column: 100_001,
            },
            5,
        );
        let shown = d.to_string();
        assert!(shown.len() < 2 * EXCERPT_WIDTH + 200, "{}", shown.len());
        let lines: Vec<&str> = shown.lines().collect();
        // The carets sit under `bogus` in the window.
        let text = lines[3].split_once("| ").unwrap().1;
        let carets = lines[4].split_once("| ").unwrap().1;
        let at = carets.find('^').unwrap();
        let under: String = text.chars().skip(at).take(5).collect();
        assert_eq!(under, "bogus", "{shown}");
        assert_eq!(carets.trim(), "^^^^^");
    }
}
