//! The trigger as a running thing: messages in (a recorded stream or a broker), jobs
//! into the scheduler, one message at a time, with a tally for the closing line.
//! `taskotron trigger` and `serve` drive it and print what it reports through a
//! [`PumpObserver`], as the runner reports through its observer.
//!
//! A stream is read on a thread of its own so that a signal ends the wait for the
//! next line (standard input may never send one); every message read before the
//! signal has its jobs scheduled. A broker's messages are acknowledged only once the
//! scheduler holds their jobs; a scheduler that cannot take them gets the message
//! delivered again (`Verdict::Retry`).

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::mpsc::{sync_channel, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use super::message::MessageError;
use super::{dispatch, Message, MessageStream, Trigger};
use taskotron_model::JobRequest;
use taskotron_queue::scheduler::{Scheduler, SchedulerError};
use taskotron_tap::diagnostic::Diagnostic;

/// What the pump reports as it goes.
#[derive(Debug)]
pub enum PumpEvent<'a> {
    /// A job the scheduler now holds (or, dry, would).
    Job(&'a JobRequest),
    /// Problems with one message worth a warning (a malformed field, a refused item).
    Warnings(&'a [Diagnostic]),
    /// A message was read but can never be handled (its body is not what its topic
    /// says): dropped, not retried.
    Skipped(&'a str),
    /// A value of the input is not a message; `line` where a stream has lines.
    Unreadable {
        /// Why.
        error: &'a MessageError,
        /// Where it starts in a stream.
        line: Option<usize>,
    },
    /// The scheduler could not take a broker message's jobs; it will come again.
    Retrying {
        /// The message's id, if it has one.
        id: Option<&'a str>,
        /// Why.
        error: &'a SchedulerError,
    },
    /// The jobs of one message are all reported (a point to flush output at).
    MessageDone,
}

/// Receives the pump's events.
pub trait PumpObserver {
    /// One event.
    fn event(&mut self, event: PumpEvent<'_>);
}

/// Counts for the closing status line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Messages handled, readable or not.
    pub messages: u64,
    /// Jobs scheduled.
    pub jobs: u64,
    /// Jobs dropped as duplicates of recent ones.
    pub duplicates: u64,
    /// Redelivered messages whose jobs were already scheduled.
    pub replayed: u64,
    /// Messages that made no job, by why.
    pub ignored: BTreeMap<String, u64>,
}

impl Tally {
    /// One line: `N messages: J jobs, D duplicates dropped; ignored: ...`.
    pub fn summary(&self) -> String {
        let skipped: Vec<String> = self
            .ignored
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        let n = |count: u64, one: &str, many: &str| {
            format!("{count} {}", if count == 1 { one } else { many })
        };
        let mut line = format!(
            "{}: {}, {} dropped",
            n(self.messages, "message", "messages"),
            n(self.jobs, "job", "jobs"),
            n(self.duplicates, "duplicate", "duplicates")
        );
        if self.replayed > 0 {
            line.push_str(&format!(
                ", {} already scheduled",
                n(self.replayed, "redelivered message", "redelivered messages")
            ));
        }
        if !skipped.is_empty() {
            line.push_str(&format!("; ignored: {}", skipped.join(", ")));
        }
        line
    }
}

/// The trigger, its scheduler and who hears about it.
pub struct Pump<'a> {
    trigger: Trigger,
    scheduler: Box<dyn Scheduler + 'a>,
    observer: &'a mut dyn PumpObserver,
    /// Shared so that a web server in the same process can show the counts.
    tally: Arc<Mutex<Tally>>,
}

/// How reading a stream ended.
#[derive(Debug)]
pub enum StreamEnd {
    /// The input ended.
    Done,
    /// A signal stopped the reading; what was read before it is scheduled.
    Interrupted(i32),
    /// The input could not be read further (an I/O error).
    ReadFailed(String),
    /// Not one message could be read; the first problem.
    NothingReadable(String),
    /// The scheduler could not take the jobs of the message at `line`; those
    /// before it are scheduled.
    SchedulerFailed {
        /// Where the message starts.
        line: usize,
        /// Why.
        error: SchedulerError,
    },
}

impl<'a> Pump<'a> {
    /// A pump from `trigger` into `scheduler`, reporting to `observer`.
    pub fn new(
        trigger: Trigger,
        scheduler: Box<dyn Scheduler + 'a>,
        observer: &'a mut dyn PumpObserver,
    ) -> Self {
        Self {
            trigger,
            scheduler,
            observer,
            tally: Arc::default(),
        }
    }

    /// Counts into `shared` from now on (a web server's metrics read it).
    pub fn share_tally(&mut self, shared: Arc<Mutex<Tally>>) {
        self.tally = shared;
    }

    /// The counts so far.
    pub fn tally(&self) -> Tally {
        self.counts().clone()
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Handles one message; `Ok(Some(why))` when it can never be handled.
    ///
    /// # Errors
    /// The scheduler could not take its jobs: the message must come again.
    pub fn message(
        &mut self,
        message: &Message,
        now: SystemTime,
    ) -> Result<Option<String>, SchedulerError> {
        let dispatched = dispatch(&mut self.trigger, self.scheduler.as_mut(), message, now)?;
        self.counts().messages += 1;
        let handled = dispatched.handled;
        if !handled.warnings.is_empty() {
            self.observer.event(PumpEvent::Warnings(&handled.warnings));
        }
        if let Some(why) = &handled.unreadable {
            self.observer.event(PumpEvent::Skipped(why));
        }
        {
            let mut tally = self.counts();
            if let Some(why) = handled.ignored {
                *tally.ignored.entry(why).or_default() += 1;
            }
            tally.duplicates += handled.duplicates as u64;
            tally.replayed += u64::from(dispatched.replayed);
            tally.jobs += handled.jobs.len() as u64;
        }
        for job in &handled.jobs {
            self.observer.event(PumpEvent::Job(job));
        }
        self.observer.event(PumpEvent::MessageDone);
        Ok(handled.unreadable)
    }

    /// Counts a value that is not a message and reports it.
    pub fn unreadable(&mut self, error: &MessageError, line: Option<usize>) {
        {
            let mut tally = self.counts();
            tally.messages += 1;
            *tally.ignored.entry("unreadable".into()).or_default() += 1;
        }
        self.observer.event(PumpEvent::Unreadable { error, line });
    }

    /// Reads `input` (any layout [`MessageStream`] reads) to its end or to a signal.
    pub fn stream(&mut self, input: Box<dyn BufRead + Send>) -> StreamEnd {
        let (tx, rx) = sync_channel(256);
        std::thread::spawn(move || {
            for record in MessageStream::new(input) {
                if tx.send(record).is_err() {
                    return;
                }
            }
        });
        let (mut read, mut first_problem) = (0_u64, None);
        loop {
            if let Some(signal) = taskotron_process::interrupted() {
                return StreamEnd::Interrupted(signal);
            }
            let record = match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(Ok(record)) => record,
                Ok(Err(e)) => return StreamEnd::ReadFailed(e.to_string()),
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            match record.message {
                Ok(message) => {
                    read += 1;
                    if let Err(error) = self.message(&message, SystemTime::now()) {
                        return StreamEnd::SchedulerFailed {
                            line: record.line,
                            error,
                        };
                    }
                }
                Err(e) => {
                    first_problem.get_or_insert_with(|| format!("line {}: {e}", record.line));
                    self.unreadable(&e, Some(record.line));
                }
            }
        }
        match first_problem {
            Some(problem) if read == 0 => StreamEnd::NothingReadable(problem),
            _ => StreamEnd::Done,
        }
    }

    /// Consumes from a broker until a signal, acknowledging each message once its
    /// jobs are scheduled; `on_event` hears about the connection.
    ///
    /// # Errors
    /// Problems retrying cannot fix (a bad URI, missing TLS support).
    #[cfg(feature = "amqp")]
    pub fn consume(
        &mut self,
        settings: &crate::bus::amqp::AmqpSettings,
        on_event: &mut dyn FnMut(crate::bus::BusEvent),
    ) -> Result<(), crate::bus::amqp::AmqpError> {
        use crate::bus::Verdict;
        let stop = taskotron_process::StopOnSignal::start();
        let mut handler = |message: Result<Message, MessageError>, _redelivered: bool| match message
        {
            Ok(m) => match self.message(&m, SystemTime::now()) {
                Ok(None) => Verdict::Ack,
                Ok(Some(why)) => Verdict::Reject(why),
                Err(error) => {
                    self.observer.event(PumpEvent::Retrying {
                        id: m.id.as_deref(),
                        error: &error,
                    });
                    Verdict::Retry
                }
            },
            Err(e) => {
                self.unreadable(&e, None);
                Verdict::Reject(e.0)
            }
        };
        crate::bus::amqp::consume(settings, stop.flag(), on_event, &mut handler)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trigger::{Rules, DEFAULT_WINDOW};
    use taskotron_model::Arch;
    use taskotron_queue::scheduler::DryRun;

    #[derive(Default)]
    struct Seen(Vec<String>);

    impl PumpObserver for Seen {
        fn event(&mut self, event: PumpEvent<'_>) {
            self.0.push(match event {
                PumpEvent::Job(j) => format!("job {} {} {}", j.taskname, j.item, j.arch),
                PumpEvent::Warnings(w) => format!("warnings {}", w.len()),
                PumpEvent::Skipped(why) => format!("skipped {why}"),
                PumpEvent::Unreadable { line, .. } => format!("unreadable {line:?}"),
                PumpEvent::Retrying { .. } => "retrying".into(),
                PumpEvent::MessageDone => "done".into(),
            });
        }
    }

    fn trigger() -> Trigger {
        let rules = Rules::load(
            "- when: {message_type: KojiBuildPackageCompleted}\n  do:\n    - {tasks: [rpmlint]}\n",
            std::path::Path::new("rules.yml"),
        )
        .unwrap();
        Trigger::new(rules, vec![Arch::X86_64], DEFAULT_WINDOW, Vec::new())
    }

    const BUILD: &str = r#"{"topic": "org.fedoraproject.prod.buildsys.build.state.change", "msg": {"instance": "primary", "name": "htop", "version": "3.3.0", "release": "1.fc41", "new": 1, "build_id": 1, "owner": "a"}}"#;

    #[test]
    fn a_stream_schedules_each_message_once_and_counts_what_it_skipped() {
        let mut seen = Seen::default();
        let input = format!("{BUILD}\nnot json\n{BUILD}\n");
        let mut pump = Pump::new(trigger(), Box::new(DryRun), &mut seen);
        let end = pump.stream(Box::new(std::io::Cursor::new(input.into_bytes())));
        assert!(matches!(end, StreamEnd::Done), "{end:?}");
        let tally = pump.tally();
        assert_eq!((tally.messages, tally.jobs, tally.duplicates), (3, 1, 1));
        assert_eq!(tally.ignored.get("unreadable"), Some(&1));
        assert_eq!(
            tally.summary(),
            "3 messages: 1 job, 1 duplicate dropped; ignored: 1 unreadable"
        );
        drop(pump);
        assert_eq!(
            seen.0,
            [
                "job rpmlint htop-3.3.0-1.fc41 x86_64",
                "done",
                "unreadable Some(2)",
                "done"
            ]
        );
    }

    #[test]
    fn a_stream_with_no_message_names_its_first_problem() {
        let mut seen = Seen::default();
        let mut pump = Pump::new(trigger(), Box::new(DryRun), &mut seen);
        let end = pump.stream(Box::new(std::io::Cursor::new(
            b"{\"a\": 1}\nnope\n".to_vec(),
        )));
        match end {
            StreamEnd::NothingReadable(p) => assert!(p.starts_with("line 1: "), "{p}"),
            other => panic!("{other:?}"),
        }
    }
}
