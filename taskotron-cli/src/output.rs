//! Rendering for people: cargo-like status lines and diagnostics on stderr, a
//! spinner per action when stderr is a terminal, plain lines otherwise.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use taskotron_core::diagnostic::Severity;
use taskotron_core::dict::ActionStatus;
use taskotron_core::runner::{Event, Observer};
use taskotron_core::Diagnostic;

use crate::cli::Color;

/// Colours used in status lines.
#[derive(Debug, Clone, Copy)]
pub enum Tone {
    /// Progress and success.
    Good,
    /// Warnings.
    Warn,
    /// Failures.
    Bad,
}

/// Where human output goes and how it looks.
#[derive(Debug, Clone, Copy)]
pub struct Shell {
    color: bool,
    quiet: bool,
    tty: bool,
}

impl Shell {
    /// Decides colours and progress from the flags, NO_COLOR and whether stderr is a
    /// terminal.
    pub fn new(color: Color, quiet: bool) -> Self {
        let tty = std::io::stderr().is_terminal();
        let color = match color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        };
        Self { color, quiet, tty }
    }

    fn paint(&self, text: &str, tone: Tone) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match tone {
            Tone::Good => "1;32",
            Tone::Warn => "1;33",
            Tone::Bad => "1;31",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    /// A cargo-style line: the verb right-aligned in 12 columns, then the message.
    pub fn status(&self, verb: &str, message: &str, tone: Tone) {
        if !self.quiet {
            eprintln!("{} {message}", self.paint(&format!("{verb:>12}"), tone));
        }
    }

    /// Prints diagnostics; warnings are dropped when quiet.
    pub fn diagnostics(&self, diagnostics: &[Diagnostic]) {
        let mut err = std::io::stderr().lock();
        for d in diagnostics {
            if self.quiet && d.severity == Severity::Warning {
                continue;
            }
            let text = d.to_string();
            let text = match d.severity {
                Severity::Error => text.replacen("error:", &self.paint("error:", Tone::Bad), 1),
                Severity::Warning => {
                    text.replacen("warning:", &self.paint("warning:", Tone::Warn), 1)
                }
            };
            let _ = writeln!(err, "{text}");
        }
    }

    /// An observer that draws a run's progress, opening with `headline` once the run
    /// has passed its checks and started.
    pub fn run_progress(self, headline: String) -> RunProgress {
        RunProgress {
            shell: self,
            headline,
            spinner: None,
        }
    }
}

/// Draws a run: a spinner while an action runs (on a terminal), then a status line.
pub struct RunProgress {
    shell: Shell,
    headline: String,
    spinner: Option<ProgressBar>,
}

impl Observer for RunProgress {
    fn event(&mut self, event: Event<'_>) {
        let shell = self.shell;
        match event {
            Event::Started { run_id, artifacts } => {
                shell.status("Running", &self.headline, Tone::Good);
                shell.status(
                    "Artifacts",
                    &format!("{} (run {run_id})", artifacts.display()),
                    Tone::Good,
                );
            }
            Event::ActionStarted {
                index,
                total,
                action,
            } => {
                let what = format!(
                    "[{}/{total}] {} ({})",
                    index + 1,
                    action.name,
                    action.directive.spec().name
                );
                if shell.tty && !shell.quiet {
                    let bar = ProgressBar::new_spinner();
                    if let Ok(style) =
                        ProgressStyle::with_template("{spinner:.green} {msg} {elapsed}")
                    {
                        bar.set_style(style);
                    }
                    bar.set_message(what);
                    bar.enable_steady_tick(Duration::from_millis(100));
                    self.spinner = Some(bar);
                } else {
                    shell.status("Running", &what, Tone::Good);
                }
            }
            Event::ActionFinished {
                index,
                total,
                report,
            } => {
                if let Some(bar) = self.spinner.take() {
                    bar.finish_and_clear();
                }
                let what = format!("[{}/{total}] {}", index + 1, report.name);
                match report.status {
                    ActionStatus::Ok => shell.status(
                        "Done",
                        &format!("{what} in {} ms", report.duration_ms),
                        Tone::Good,
                    ),
                    ActionStatus::Skipped => shell.status("Skipped", &what, Tone::Warn),
                    ActionStatus::Failed | ActionStatus::TimedOut => {
                        let verb = if report.status == ActionStatus::TimedOut {
                            "Timed out"
                        } else {
                            "Failed"
                        };
                        shell.status(
                            verb,
                            &format!("{what} after {} ms", report.duration_ms),
                            Tone::Bad,
                        )
                    }
                }
            }
        }
    }
}
