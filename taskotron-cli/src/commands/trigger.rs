//! `taskotron trigger`.

use crate::wiring::Wiring;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use taskotron_core::config::Config;
use taskotron_core::scheduler::{DryRun, Scheduler, SchedulerError};
use taskotron_core::Diagnostic;
use taskotron_trigger::trigger::{Pump, PumpEvent, PumpObserver, Rules, StreamEnd, Tally};

use crate::cli::{Format, TriggerArgs};
use crate::error::{ExpectedError, Outcome};
use crate::exit;
use crate::output::{Shell, Tone};

/// Prints what the pump reports: jobs on stdout (one a line, or JSON lines),
/// problems as diagnostics and status lines on stderr.
struct Printer<'a> {
    shell: &'a Shell,
    format: Format,
    out: io::BufWriter<io::StdoutLock<'static>>,
    /// Where the messages come from, for the positions of unreadable ones.
    file: Option<&'a Path>,
    /// Flush after each message (a broker: jobs show as they come), not only at the
    /// end (a file: one write per buffer).
    flush_each: bool,
}

impl PumpObserver for Printer<'_> {
    fn event(&mut self, event: PumpEvent<'_>) {
        match event {
            PumpEvent::Job(job) => {
                // A closed stdout (`| head`) must not stop scheduling.
                let _ = match self.format {
                    Format::Json => serde_json::to_writer(&mut self.out, job)
                        .map_err(io::Error::from)
                        .and_then(|()| self.out.write_all(b"\n")),
                    Format::Human => writeln!(
                        self.out,
                        "{}{} {} {} on {}",
                        job.taskname,
                        job.plan
                            .as_deref()
                            .map(|p| format!(" {p}"))
                            .unwrap_or_default(),
                        job.item_type,
                        job.item,
                        job.arch
                    ),
                };
            }
            PumpEvent::Warnings(warnings) => self.shell.diagnostics(warnings),
            PumpEvent::Skipped(why) => self
                .shell
                .diagnostics(&[Diagnostic::warning(format!("skipped: {why}"))]),
            PumpEvent::Unreadable { error, line } => {
                let d = match (self.file, line) {
                    (Some(path), Some(line)) => {
                        Diagnostic::warning(format!("message skipped: {error}"))
                            .at_line(Some(path), line)
                    }
                    _ => Diagnostic::warning(format!("rejected: {error}")),
                };
                self.shell.diagnostics(&[d]);
            }
            PumpEvent::Retrying { id, error } => self.shell.status(
                "Retrying",
                &format!("message {}: {error}", id.unwrap_or("without id")),
                Tone::Warn,
            ),
            PumpEvent::MessageDone => {
                if self.flush_each {
                    let _ = self.out.flush();
                }
            }
        }
    }
}

/// Reads messages and schedules (or, with `--dry-run`, prints) the jobs the rules ask for.
pub fn run(shell: &Shell, config: &Config, args: &TriggerArgs) -> Outcome {
    run_counting(shell, config, args, None)
}

/// [`run`], counting into `tally` (a web server's metrics read it).
pub fn run_counting(
    shell: &Shell,
    config: &Config,
    args: &TriggerArgs,
    tally: Option<Arc<Mutex<Tally>>>,
) -> Outcome {
    let rules = match std::fs::read_to_string(&args.rules) {
        Ok(text) => Rules::load(&text, &args.rules),
        Err(e) => Err(vec![Diagnostic::error(format!(
            "cannot read `{}`: {e}",
            args.rules.display()
        ))]),
    };
    let rules = rules.map_err(ExpectedError::InvalidInput)?;
    let amqp = args.from.starts_with("amqp://") || args.from.starts_with("amqps://");
    let input = if amqp {
        None
    } else if args.from == "-" {
        Some(Source::Stdin)
    } else {
        match std::fs::File::open(&args.from) {
            Ok(f) => Some(Source::File(f)),
            Err(e) => {
                let d = Diagnostic::error(format!("cannot read `{}`: {e}", args.from)).help(
                    "`--from` takes a file of JSON messages, `-` for standard input, or an amqp:// URI",
                );
                return Err(ExpectedError::invalid(d));
            }
        }
    };
    let mut trigger = config.trigger(rules.clone());
    let scheduler: Box<dyn Scheduler> = if args.dry_run {
        Box::new(DryRun)
    } else {
        let opened = super::queue::open_queue(shell, config).and_then(|queue| {
            let recent = queue.recent(SystemTime::now(), config.trigger_window)?;
            Ok((queue, recent))
        });
        match opened {
            Ok((queue, recent)) => {
                for (job, at) in recent {
                    trigger.remember(job, at);
                }
                Box::new(queue)
            }
            Err(e) => {
                let help = e.help().map_or_else(
                    || "add `--dry-run` to print the jobs without scheduling them".to_string(),
                    |h| {
                        format!("{h}; or add `--dry-run` to print the jobs without scheduling them")
                    },
                );
                let d = Diagnostic::error(format!("cannot schedule jobs: {e}")).help(help);
                return Err(match e {
                    taskotron_core::scheduler::QueueError::Io { .. } => ExpectedError::invalid(d),
                    _ => ExpectedError::failed(d),
                });
            }
        }
    };
    let mut printer = Printer {
        shell,
        format: args.format.into(),
        out: io::BufWriter::new(io::stdout().lock()),
        file: (!amqp).then_some(Path::new(&args.from)),
        flush_each: amqp,
    };
    let mut pump = Pump::new(trigger, scheduler, &mut printer);
    if let Some(shared) = tally {
        pump.share_tally(shared);
    }
    let result = match input {
        Some(input) => from_stream(shell, &mut pump, input, Path::new(&args.from)),
        None => from_amqp(shell, &mut pump, config, args, &rules),
    };
    let summary = pump.tally().summary();
    drop(pump);
    let _ = printer.out.flush();
    shell.status("Triggered", &summary, Tone::Good);
    result
}

/// Where recorded messages come from.
enum Source {
    Stdin,
    File(std::fs::File),
}

/// Reads recorded messages and says how that ended.
fn from_stream(shell: &Shell, pump: &mut Pump<'_>, input: Source, file: &Path) -> Outcome {
    let reader: Box<dyn BufRead + Send> = match input {
        Source::Stdin => Box::new(BufReader::new(io::stdin())),
        Source::File(f) => Box::new(BufReader::with_capacity(1 << 16, f)),
    };
    match pump.stream(reader) {
        StreamEnd::Done => Ok(exit::OK),
        StreamEnd::Interrupted(signal) => {
            shell.status(
                "Stopped",
                &format!("by signal {signal}; the jobs of the messages read so far are scheduled"),
                Tone::Warn,
            );
            Ok(exit::OK)
        }
        StreamEnd::ReadFailed(e) => Err(ExpectedError::failed(
            Diagnostic::error(format!("cannot read: {e}")).in_file(file),
        )),
        StreamEnd::SchedulerFailed { line, error } => {
            let once = match error {
                SchedulerError::NotYet(_) => "Koji and the dist-git repository answer",
                _ => "the state directory is writable",
            };
            Err(ExpectedError::failed(
                Diagnostic::error(format!("stopped at line {line}: {error}"))
                    .in_file(file)
                    .help(format!("the jobs of the messages before it are scheduled; run again from this line once {once}")),
            ))
        }
        StreamEnd::NothingReadable(problem) => Err(ExpectedError::invalid(
            Diagnostic::error(format!(
                "no message could be read; the first problem: {problem}"
            ))
            .in_file(file)
            .help("give JSON messages (fedora-messaging or fedmsg), one a line, pretty-printed one after another, in a JSON array, or a datagrepper page"),
        )),
    }
}

#[cfg(feature = "amqp")]
fn from_amqp(
    shell: &Shell,
    pump: &mut Pump<'_>,
    config: &Config,
    args: &TriggerArgs,
    rules: &Rules,
) -> Outcome {
    use taskotron_trigger::bus::{amqp, BusEvent};

    let settings = config.amqp(&args.from, args.queue.as_deref(), rules);
    let mut on_event = |event: BusEvent| match event {
        BusEvent::Consuming { queue, bindings } => shell.status(
            "Consuming",
            &format!(
                "{} queue `{queue}` ({})",
                amqp::redact(&args.from),
                bindings.join(", ")
            ),
            Tone::Good,
        ),
        BusEvent::Reconnecting { error, delay_ms } => shell.status(
            "Reconnecting",
            &format!("in {delay_ms} ms: {error}"),
            Tone::Warn,
        ),
        BusEvent::Rejected { id, reason } => {
            shell.status("Rejected", &format!("message {id}: {reason}"), Tone::Warn)
        }
    };
    match pump.consume(&settings, &mut on_event) {
        Ok(()) => Ok(exit::OK),
        Err(e) => Err(ExpectedError::invalid(Diagnostic::error(e.to_string()))),
    }
}

#[cfg(not(feature = "amqp"))]
fn from_amqp(
    shell: &Shell,
    _pump: &mut Pump<'_>,
    _config: &Config,
    args: &TriggerArgs,
    _rules: &Rules,
) -> Outcome {
    let _ = (shell, args);
    Err(ExpectedError::invalid(
        Diagnostic::error("this taskotron was built without AMQP support")
            .help("build it with `--features amqp`, or read messages from a file"),
    ))
}
