//! `taskotron trigger`.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::time::SystemTime;

use taskotron_core::config::Config;
use taskotron_core::scheduler::{DryRun, Scheduler};
use taskotron_core::trigger::message::MessageError;
use taskotron_core::trigger::{dispatch, Message, MessageStream, Rules, Trigger};
use taskotron_core::{Diagnostic, JobRequest};

use super::report_invalid;
use crate::cli::{Format, TriggerArgs};
use crate::exit;
use crate::output::{Shell, Tone};

/// Counts for the closing status line.
#[derive(Default)]
struct Tally {
    messages: u64,
    jobs: u64,
    duplicates: u64,
    replayed: u64,
    ignored: BTreeMap<String, u64>,
}

impl Tally {
    fn summary(&self) -> String {
        let skipped: Vec<String> = self
            .ignored
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        format!(
            "{} messages: {} jobs, {} duplicates dropped{}{}",
            self.messages,
            self.jobs,
            self.duplicates,
            if self.replayed > 0 {
                format!(", {} redelivered messages already scheduled", self.replayed)
            } else {
                String::new()
            },
            if skipped.is_empty() {
                String::new()
            } else {
                format!("; ignored: {}", skipped.join(", "))
            }
        )
    }
}

/// The trigger, its scheduler and where jobs are printed: one message at a time.
struct Pump<'a> {
    shell: &'a Shell,
    format: Format,
    trigger: Trigger,
    scheduler: Box<dyn Scheduler>,
    out: io::BufWriter<io::StdoutLock<'static>>,
    /// Flush after each message (a broker: jobs show as they come), not only at the
    /// end (a file: one write per buffer).
    flush_each: bool,
    tally: Tally,
}

impl Pump<'_> {
    fn print(&mut self, job: &JobRequest) {
        // A closed stdout (`| head`) must not stop scheduling.
        let _ = match self.format {
            Format::Json => serde_json::to_writer(&mut self.out, job)
                .map_err(io::Error::from)
                .and_then(|()| self.out.write_all(b"\n")),
            Format::Human => writeln!(
                self.out,
                "{} {} {} on {}",
                job.taskname, job.item_type, job.item, job.arch
            ),
        };
    }

    fn unreadable(&mut self, e: &MessageError, file: Option<(&Path, usize)>) {
        let d = match file {
            Some((path, line)) => {
                Diagnostic::warning(format!("message skipped: {e}")).at_line(Some(path), line)
            }
            None => Diagnostic::warning(format!("rejected: {e}")),
        };
        self.shell.diagnostics(&[d]);
        self.tally.messages += 1;
        *self.tally.ignored.entry("unreadable".into()).or_default() += 1;
    }

    /// Handles one message; `Ok(Some(why))` when it can never be read, `Err` when the
    /// scheduler could not take its jobs.
    fn message(&mut self, message: &Message) -> Result<Option<String>, String> {
        let dispatched = dispatch(
            &mut self.trigger,
            self.scheduler.as_mut(),
            message,
            SystemTime::now(),
        )
        .map_err(|e| e.to_string())?;
        self.tally.messages += 1;
        let handled = dispatched.handled;
        self.shell.diagnostics(&handled.warnings);
        if let Some(why) = &handled.unreadable {
            self.shell
                .diagnostics(&[Diagnostic::warning(format!("skipped: {why}"))]);
        }
        if let Some(why) = handled.ignored {
            *self.tally.ignored.entry(why).or_default() += 1;
        }
        self.tally.duplicates += handled.duplicates as u64;
        self.tally.replayed += u64::from(dispatched.replayed);
        for job in &handled.jobs {
            self.tally.jobs += 1;
            self.print(job);
        }
        if self.flush_each {
            let _ = self.out.flush();
        }
        Ok(handled.unreadable)
    }
}

/// Reads messages and schedules (or, with `--dry-run`, prints) the jobs the rules ask for.
pub fn run(shell: &Shell, config: &Config, args: &TriggerArgs) -> i32 {
    let rules = match std::fs::read_to_string(&args.rules) {
        Ok(text) => Rules::load(&text, &args.rules),
        Err(e) => Err(vec![Diagnostic::error(format!(
            "cannot read `{}`: {e}",
            args.rules.display()
        ))]),
    };
    let rules = match rules {
        Ok(r) => r,
        Err(d) => {
            report_invalid(shell, args.format, &d);
            return exit::INVALID_INPUT;
        }
    };
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
                report_invalid(shell, args.format, &[d]);
                return exit::INVALID_INPUT;
            }
        }
    };
    let mut trigger = Trigger::new(
        rules.clone(),
        config.supported_arches.clone(),
        config.trigger_window,
        config.blacklist_releases.clone(),
    );
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
                report_invalid(shell, args.format, &[d]);
                return match e {
                    taskotron_core::scheduler::QueueError::Io { .. } => exit::INVALID_INPUT,
                    _ => exit::NOT_OK,
                };
            }
        }
    };
    let mut pump = Pump {
        shell,
        format: args.format,
        trigger,
        scheduler,
        out: io::BufWriter::new(io::stdout().lock()),
        flush_each: amqp,
        tally: Tally::default(),
    };
    let code = match input {
        Some(input) => from_stream(&mut pump, input, Path::new(&args.from)),
        None => from_amqp(&mut pump, config, args, &rules),
    };
    let _ = pump.out.flush();
    shell.status("Triggered", &pump.tally.summary(), Tone::Good);
    code
}

/// Where recorded messages come from.
enum Source {
    Stdin,
    File(std::fs::File),
}

/// Reads messages in any layout (`trigger::stream`) on a thread of its own, so that a
/// signal ends the wait for the next line (standard input may never send one);
/// every message read before the signal has its jobs scheduled. A file from which
/// nothing could be read is invalid input, named by its first problem.
fn from_stream(pump: &mut Pump<'_>, input: Source, file: &Path) -> i32 {
    let (tx, rx) = std::sync::mpsc::sync_channel(256);
    std::thread::spawn(move || {
        let reader: Box<dyn BufRead> = match input {
            Source::Stdin => Box::new(io::stdin().lock()),
            Source::File(f) => Box::new(BufReader::with_capacity(1 << 16, f)),
        };
        for record in MessageStream::new(reader) {
            if tx.send(record).is_err() {
                return;
            }
        }
    });
    let (mut read, mut first_problem) = (0_u64, None);
    loop {
        if let Some(signal) = taskotron_core::process::interrupted() {
            pump.shell.status(
                "Stopped",
                &format!("by signal {signal}; the jobs of the messages read so far are scheduled"),
                Tone::Warn,
            );
            break;
        }
        let record = match rx.recv_timeout(std::time::Duration::from_millis(100)) {
            Ok(Ok(record)) => record,
            Ok(Err(e)) => {
                pump.shell
                    .diagnostics(&[Diagnostic::error(format!("cannot read: {e}")).in_file(file)]);
                return exit::NOT_OK;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        };
        match record.message {
            Ok(message) => {
                read += 1;
                if let Err(e) = pump.message(&message) {
                    pump.shell.diagnostics(&[Diagnostic::error(format!(
                        "stopped at line {}: {e}",
                        record.line
                    ))
                    .in_file(file)
                    .help("the jobs of the messages before it are scheduled; run again from this line once the state directory is writable")]);
                    return exit::NOT_OK;
                }
            }
            Err(e) => {
                first_problem.get_or_insert_with(|| format!("line {}: {e}", record.line));
                pump.unreadable(&e, Some((file, record.line)));
            }
        }
    }
    match first_problem {
        Some(problem) if read == 0 => {
            pump.shell.diagnostics(&[Diagnostic::error(format!(
                "no message could be read; the first problem: {problem}"
            ))
            .in_file(file)
            .help("give JSON messages (fedora-messaging or fedmsg), one a line, pretty-printed one after another, in a JSON array, or a datagrepper page")]);
            exit::INVALID_INPUT
        }
        _ => exit::OK,
    }
}

#[cfg(feature = "amqp")]
fn from_amqp(pump: &mut Pump<'_>, config: &Config, args: &TriggerArgs, rules: &Rules) -> i32 {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use taskotron_core::bus::amqp::{self, AmqpSettings, TlsFiles};
    use taskotron_core::bus::{self, BusEvent, Verdict};

    let tls = config
        .amqp_client_cert
        .clone()
        .zip(config.amqp_client_key.clone())
        .map(|(client_cert, client_key)| TlsFiles {
            ca_cert: config.amqp_ca_cert.clone(),
            client_cert,
            client_key,
        });
    let settings = AmqpSettings {
        uri: args.from.clone(),
        queue: args
            .queue
            .clone()
            .unwrap_or_else(|| config.amqp_queue.clone()),
        bindings: bus::bindings(rules),
        prefetch: config.amqp_prefetch,
        tls,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if taskotron_core::process::interrupted().is_some() {
                    stop.store(true, Ordering::Relaxed);
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        })
    };
    let shell = pump.shell;
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
    let mut handler = |message: Result<Message, MessageError>, _redelivered: bool| match message {
        Ok(m) => match pump.message(&m) {
            Ok(None) => Verdict::Ack,
            Ok(Some(why)) => Verdict::Reject(why),
            Err(e) => {
                shell.status(
                    "Retrying",
                    &format!("message {}: {e}", m.id.as_deref().unwrap_or("without id")),
                    Tone::Warn,
                );
                Verdict::Retry
            }
        },
        Err(e) => {
            pump.unreadable(&e, None);
            Verdict::Reject(e.0)
        }
    };
    let result = amqp::consume(&settings, &stop, &mut on_event, &mut handler);
    stop.store(true, Ordering::Relaxed);
    let _ = watcher.join();
    match result {
        Ok(()) => exit::OK,
        Err(e) => {
            report_invalid(shell, args.format, &[Diagnostic::error(e.to_string())]);
            exit::INVALID_INPUT
        }
    }
}

#[cfg(not(feature = "amqp"))]
fn from_amqp(pump: &mut Pump<'_>, _config: &Config, args: &TriggerArgs, _rules: &Rules) -> i32 {
    let d = Diagnostic::error("this taskotron was built without AMQP support")
        .help("build it with `--features amqp`, or read messages from a file");
    report_invalid(pump.shell, args.format, &[d]);
    exit::INVALID_INPUT
}
