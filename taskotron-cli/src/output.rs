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
    /// Only errors on stderr.
    pub quiet: bool,
    /// Each action's output streamed live.
    pub verbose: bool,
    tty: bool,
}

/// Whether to paint: `--color always|never` win; otherwise `NO_COLOR` (set and not
/// empty) turns colours off, `CLICOLOR_FORCE` (set and not `0`) on, `CLICOLOR=0`
/// off, and else a terminal gets them.
pub fn use_color(choice: Color, tty: bool, var: impl Fn(&str) -> Option<String>) -> bool {
    let set = |name: &str| var(name).filter(|v| !v.is_empty());
    match choice {
        Color::Always => true,
        Color::Never => false,
        Color::Auto if set("NO_COLOR").is_some() => false,
        Color::Auto if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") => true,
        Color::Auto if set("CLICOLOR").is_some_and(|v| v == "0") => false,
        Color::Auto => tty,
    }
}

impl Shell {
    /// Decides colours and progress from the flags, the colour variables and
    /// whether stderr is a terminal.
    pub fn new(color: Color, quiet: bool, verbose: bool) -> Self {
        let tty = std::io::stderr().is_terminal();
        let color = use_color(color, tty, |k| std::env::var(k).ok());
        Self {
            color,
            quiet,
            verbose,
            tty,
        }
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
            errln!("{} {message}", self.paint(&format!("{verb:>12}"), tone));
        }
    }

    /// A status line of a run on a remote machine, as it printed it, after the
    /// machine's name: the remote's `Running` lines stand beside this machine's.
    pub fn remote_line(&self, on: &str, line: &str) {
        if !self.quiet {
            errln!("{} {line}", self.paint(&format!("[{on}]"), Tone::Warn));
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
    /// has passed its checks and started; with `events`, every event also goes there
    /// as a JSON line.
    pub fn run_progress(self, headline: String, events: Option<Box<dyn Write>>) -> RunProgress {
        RunProgress {
            shell: self,
            headline,
            spinner: None,
            follower: None,
            failing: Vec::new(),
            artifacts: None,
            remote: None,
            events,
        }
    }
}

/// How many failing tests of an action the status lines name.
const NAMED_FAILING: usize = 10;

/// Draws a run: a spinner while an action runs (on a terminal), then a status line;
/// the action's output live with `--verbose`; the failing tests of a suite.
pub struct RunProgress {
    shell: Shell,
    headline: String,
    spinner: Option<ProgressBar>,
    follower: Option<taskotron_core::follow::Follower>,
    /// The first failing tests of the action at hand, each with the lines that
    /// say why ([`taskotron_core::results::highlights`]).
    failing: Vec<(String, Vec<String>)>,
    /// The run's artifacts directory, once it started: action logs are named in it.
    artifacts: Option<std::path::PathBuf>,
    /// The machine a remote run runs on, which tags its status lines.
    remote: Option<String>,
    events: Option<Box<dyn Write>>,
}

/// An event's fields after `"action": n`, for `--format jsonl`.
#[derive(serde::Serialize)]
struct ForAction<'a, T: serde::Serialize> {
    action: usize,
    #[serde(flatten)]
    body: &'a T,
}

impl RunProgress {
    /// Writes one JSON line; a closed stdout stops the stream, not the run.
    fn emit(&mut self, kind: &str, value: &impl serde::Serialize) {
        if let Some(out) = &mut self.events {
            let ok =
                taskotron_core::results::writer::event(out, kind, value).and_then(|()| out.flush());
            if ok.is_err() {
                self.events = None;
            }
        }
    }

    /// The JSON events of `event`.
    fn json(&mut self, event: &Event<'_>) {
        if self.events.is_none() {
            return;
        }
        match event {
            Event::Started { run_id, artifacts } => self.emit(
                "run_started",
                &serde_json::json!({"run_id": run_id, "artifacts": artifacts}),
            ),
            Event::ActionStarted {
                index,
                total,
                action,
                ..
            } => self.emit(
                "action_started",
                &serde_json::json!({
                    "action": index + 1,
                    "total": total,
                    "name": action.name,
                    "directive": action.directive.spec().name,
                }),
            ),
            Event::Test { index, case, .. } => self.emit(
                "test",
                &ForAction {
                    action: index + 1,
                    body: *case,
                },
            ),
            Event::Results { index, results } => {
                for d in *results {
                    self.emit(
                        "result",
                        &ForAction {
                            action: index + 1,
                            body: d,
                        },
                    );
                }
            }
            Event::Warning { message } => {
                self.emit("warning", &serde_json::json!({ "message": message }))
            }
            Event::Remote { line } => self.emit("remote", &serde_json::json!({ "line": line })),
            Event::ActionFinished { index, report, .. } => self.emit(
                "action_finished",
                &ForAction {
                    action: index + 1,
                    body: *report,
                },
            ),
        }
    }

    /// Says the run goes to `target` over SSH: its status lines are tagged with it.
    pub fn on_remote(mut self, target: Option<String>) -> Self {
        self.remote = target;
        self
    }

    /// Ends the event stream with the run's summary.
    pub fn finish(&mut self, summary: &impl serde::Serialize) {
        self.emit("summary", summary);
    }
}

impl Observer for RunProgress {
    fn event(&mut self, event: Event<'_>) {
        self.json(&event);
        let shell = self.shell;
        match event {
            Event::Test { case, .. } => {
                if case.status.is_bad() && self.failing.len() <= NAMED_FAILING {
                    let why = taskotron_core::results::highlights(case);
                    self.failing.push((case.name.clone(), why));
                }
            }
            Event::Results { .. } => {}
            Event::Warning { message } => shell.status("Warning", message, Tone::Warn),
            Event::Remote { line } => {
                shell.remote_line(self.remote.as_deref().unwrap_or("remote"), line)
            }
            Event::Started { run_id, artifacts } => {
                self.artifacts = Some(artifacts.to_path_buf());
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
                output,
            } => {
                self.failing.clear();
                let files = output.and_then(|o| o.iter().map(|f| f.try_clone().ok()).collect());
                if let (true, Some(files)) = (shell.verbose, files) {
                    let prefix = format!("[{}] ", action.name);
                    let paint = shell;
                    self.follower = Some(taskotron_core::follow::Follower::start(
                        files,
                        move |stream, line| {
                            let tag = if stream == 1 {
                                paint.paint(&prefix, Tone::Warn)
                            } else {
                                prefix.clone()
                            };
                            errln!("{tag}{line}");
                        },
                    ));
                }
                let what = format!(
                    "[{}/{total}] {} ({})",
                    index + 1,
                    action.name,
                    action.directive.spec().name
                );
                if shell.tty && !shell.quiet && !shell.verbose {
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
                failure,
            } => {
                if let Some(bar) = self.spinner.take() {
                    bar.finish_and_clear();
                }
                if let Some(f) = self.follower.take() {
                    f.stop();
                }
                let what = format!("[{}/{total}] {}", index + 1, report.name);
                if let Some(t) = &report.tests {
                    let c = &t.counts;
                    let counts = taskotron_core::results::test_counts(
                        c.tests,
                        c.passed,
                        c.bad(),
                        c.skipped,
                        c.todo,
                    );
                    let tone = if c.bad() > 0 { Tone::Bad } else { Tone::Good };
                    shell.status("Tests", &format!("{}: {counts}", t.checkname), tone);
                    for (name, why) in self.failing.iter().take(NAMED_FAILING) {
                        shell.status("FAILED", name, Tone::Bad);
                        for line in why {
                            shell.status("", &format!("  {line}"), Tone::Bad);
                        }
                    }
                    if c.bad() > NAMED_FAILING as u64 {
                        shell.status(
                            "",
                            &format!(
                                "... and {} more, in {}",
                                c.bad() - NAMED_FAILING as u64,
                                t.file
                            ),
                            Tone::Bad,
                        );
                    }
                }
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
                        let kind = failure.map_or(String::new(), |f| format!("{}: ", f.kind));
                        let mut error = report.error.as_deref().unwrap_or_default().lines();
                        let why = error
                            .next()
                            .map_or(String::new(), |first| format!(": {kind}{first}"));
                        shell.status(
                            verb,
                            &format!("{what} after {} ms{why}", report.duration_ms),
                            Tone::Bad,
                        );
                        // A shell failure's message goes on with the tail of the
                        // command's stderr; the log below holds it whole.
                        for line in error {
                            shell.status("", &format!("  {line}"), Tone::Bad);
                        }
                        if let Some(dir) = &self.artifacts {
                            for log in report.logs.iter().filter(|l| l.ends_with(".stderr")) {
                                shell.status(
                                    "Log",
                                    &dir.join(log).display().to_string(),
                                    Tone::Bad,
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `n` and `word`, with an `s` unless `n` is 1: "1 result", "2 results".
pub fn plural(n: u64, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_follows_the_flag_then_the_variables_then_the_terminal() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(use_color(Color::Always, false, vars(&[("NO_COLOR", "1")])));
        assert!(!use_color(
            Color::Never,
            true,
            vars(&[("CLICOLOR_FORCE", "1")])
        ));
        assert!(use_color(Color::Auto, true, vars(&[])));
        assert!(!use_color(Color::Auto, false, vars(&[])));
        assert!(!use_color(Color::Auto, true, vars(&[("NO_COLOR", "1")])));
        assert!(use_color(Color::Auto, true, vars(&[("NO_COLOR", "")])));
        assert!(use_color(
            Color::Auto,
            false,
            vars(&[("CLICOLOR_FORCE", "1")])
        ));
        assert!(!use_color(
            Color::Auto,
            false,
            vars(&[("CLICOLOR_FORCE", "0")])
        ));
        assert!(!use_color(
            Color::Auto,
            true,
            vars(&[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")])
        ));
        assert!(!use_color(Color::Auto, true, vars(&[("CLICOLOR", "0")])));
    }
}
