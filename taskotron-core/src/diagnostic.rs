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
    /// The source line the location points into, for the excerpt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
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
        self.excerpt = source
            .lines()
            .nth(line - 1)
            .map(|l| l.trim_end_matches('\r').to_string());
        self.width = width.max(1);
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
            let indent: String = excerpt
                .chars()
                .take(loc.column - 1)
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
