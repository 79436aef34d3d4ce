//! An observer that writes a run's events down as lines, for assertions and snapshots.

use taskotron_core::runner::{Event, Observer};

/// Records each event as one line of text.
#[derive(Debug, Default)]
pub struct Recorder {
    /// The lines, in order.
    pub lines: Vec<String>,
}

impl Observer for Recorder {
    fn event(&mut self, event: Event<'_>) {
        let line = match event {
            Event::Started { run_id, .. } => format!("started {run_id}"),
            Event::ActionStarted {
                index,
                total,
                action,
                ..
            } => {
                format!(
                    "action {}/{total} {} ({}) started",
                    index + 1,
                    action.name,
                    action.directive.spec().name
                )
            }
            Event::Test { index, case, .. } => format!(
                "action {} test {} {}",
                index + 1,
                case.status.as_str(),
                case.name
            ),
            Event::Results { index, results } => {
                format!("action {} gave {} results", index + 1, results.len())
            }
            Event::Warning { message } => format!("warning: {message}"),
            Event::Remote { line } => format!("remote: {line}"),
            Event::ActionFinished {
                index,
                total,
                report,
                ..
            } => {
                format!(
                    "action {}/{total} {} {:?}",
                    index + 1,
                    report.name,
                    report.status
                )
            }
        };
        self.lines.push(line);
    }
}
