//! The errors a command expects, and the one place where they become output and an
//! exit code (nextest's `ExpectedError`). A command returns `Ok(code)` for what it
//! did (a run's own exit code, a check with failures) and an [`ExpectedError`] for
//! what stopped it; `commands::dispatch` reports the error once, the same way for
//! every command: diagnostics on stderr and, with `--format json` or `jsonl`, the
//! error document on stdout.

use taskotron_core::Diagnostic;

use crate::cli::Format;
use crate::exit;
use crate::output::Shell;

/// What a command returns: its exit code, or what stopped it.
pub type Outcome = Result<i32, ExpectedError>;

/// What stopped a command.
#[derive(Debug)]
pub enum ExpectedError {
    /// The arguments, the configuration or an input file is wrong: nothing was done
    /// (exit 2).
    InvalidInput(Vec<Diagnostic>),
    /// The command started and could not finish its work: a service or the state
    /// directory failed it (exit 1).
    Failed(Vec<Diagnostic>),
}

impl ExpectedError {
    /// Invalid input, said by one diagnostic.
    pub fn invalid(d: Diagnostic) -> Self {
        Self::InvalidInput(vec![d])
    }

    /// A failure, said by one diagnostic.
    pub fn failed(d: Diagnostic) -> Self {
        Self::Failed(vec![d])
    }

    /// The exit code of the contract (`exit`).
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::InvalidInput(_) => exit::INVALID_INPUT,
            Self::Failed(_) => exit::NOT_OK,
        }
    }

    /// The `error` field of the JSON document.
    pub fn label(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) => "invalid input",
            Self::Failed(_) => "failed",
        }
    }

    /// The diagnostics.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Self::InvalidInput(d) | Self::Failed(d) => d,
        }
    }

    /// Says it: on stderr for people and, for `--format json`, also as `{"error":
    /// ..., "diagnostics": [...]}` on stdout, so a program reading stdout is never
    /// left with nothing.
    pub fn report(&self, shell: &Shell, format: Format) {
        shell.diagnostics(self.diagnostics());
        if format == Format::Json {
            let doc = serde_json::json!({"error": self.label(), "diagnostics": self.diagnostics()});
            crate::commands::print_json(&doc);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_has_its_exit_code_and_label() {
        let i = ExpectedError::invalid(Diagnostic::error("x"));
        let f = ExpectedError::failed(Diagnostic::error("y"));
        assert_eq!((i.exit_code(), i.label()), (2, "invalid input"));
        assert_eq!((f.exit_code(), f.label()), (1, "failed"));
        assert_eq!(f.diagnostics()[0].message, "y");
    }
}
