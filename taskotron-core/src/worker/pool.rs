//! `Pool`: worker threads on the local queue, each stepping (`super::step`) until a
//! signal comes or, once told to drain, until nothing is left for it; idle threads
//! back off to 2 s between looks, a failing queue to 60 s. What happens is told to
//! a [`PoolObserver`], as the runner tells its `Observer`; the CLI prints it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use super::{step, Executor, Step, WorkerSettings};
use crate::scheduler::{Queue, QueueError, QueuedJob};
use crate::task::Tasks;

/// What a pool's threads tell their observer.
#[derive(Debug)]
pub enum PoolEvent<'a> {
    /// A job ran to this state.
    Ran(&'a QueuedJob),
    /// A job's lease had gone to another worker; its result was dropped.
    Lost(&'a str),
    /// Stopped mid-job; the job went back to the queue.
    Released(&'a str),
    /// Processes of an earlier attempt still run (these pids); the job went back.
    Deferred(&'a str, &'a [u32]),
    /// The queue failed (a thread stops when the failure is permanent or draining).
    QueueFailed(&'a QueueError),
}

/// Receives [`PoolEvent`]s from every thread.
pub trait PoolObserver: Sync {
    /// Called for each event.
    fn event(&self, event: PoolEvent<'_>);
}

/// Worker threads that share one name (threads add `/n`) and one configuration.
#[derive(Debug, Clone)]
pub struct Pool {
    /// Each thread's settings; its name gets `/n` when there are several.
    pub settings: WorkerSettings,
    /// Threads.
    pub jobs: u16,
}

impl Pool {
    /// Runs jobs until a signal comes, or, once `drain` is set, until the queue has
    /// nothing for them (not while a job waits for its next attempt). Each thread
    /// opens its own queue with `open`. Returns whether the queue failed.
    pub fn run(
        &self,
        open: &(dyn Fn() -> Result<Queue, QueueError> + Sync),
        tasks: &Tasks,
        executor: &dyn Executor,
        drain: &AtomicBool,
        observer: &dyn PoolObserver,
    ) -> bool {
        let failed = AtomicBool::new(false);
        std::thread::scope(|scope| {
            for n in 0..self.jobs {
                let mut settings = self.settings.clone();
                if self.jobs > 1 {
                    settings.name = format!("{}/{n}", settings.name);
                }
                let failed = &failed;
                scope.spawn(move || {
                    let mut queue = match open() {
                        Ok(q) => q,
                        Err(e) => {
                            observer.event(PoolEvent::QueueFailed(&e));
                            failed.store(true, Ordering::Relaxed);
                            return;
                        }
                    };
                    let mut backoff = Duration::from_secs(1);
                    let mut idle = Duration::from_millis(50);
                    while crate::process::interrupted().is_none() {
                        match step(&settings, &mut queue, tasks, executor) {
                            Ok(Step::Idle)
                                if drain.load(Ordering::Relaxed)
                                    && !queue
                                        .waiting(&settings.arches, SystemTime::now())
                                        .unwrap_or(false) =>
                            {
                                break
                            }
                            Ok(Step::Idle) => {
                                std::thread::sleep(idle);
                                idle = (idle * 2).min(Duration::from_secs(2));
                            }
                            Ok(Step::Ran(job)) => {
                                idle = Duration::from_millis(50);
                                backoff = Duration::from_secs(1);
                                observer.event(PoolEvent::Ran(&job));
                            }
                            Ok(Step::Lost(id)) => observer.event(PoolEvent::Lost(&id)),
                            Ok(Step::Released(id)) => observer.event(PoolEvent::Released(&id)),
                            Ok(Step::Deferred(id, pids)) => {
                                observer.event(PoolEvent::Deferred(&id, &pids))
                            }
                            Err(e) => {
                                observer.event(PoolEvent::QueueFailed(&e));
                                failed.store(true, Ordering::Relaxed);
                                // A damaged or unusable queue will fail the same way
                                // again, and draining means once.
                                if e.is_permanent() || drain.load(Ordering::Relaxed) {
                                    break;
                                }
                                std::thread::sleep(backoff);
                                backoff = (backoff * 2).min(Duration::from_secs(60));
                            }
                        }
                    }
                });
            }
        });
        failed.load(Ordering::Relaxed)
    }
}
