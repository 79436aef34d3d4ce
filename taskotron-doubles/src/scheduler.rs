//! A scheduler that records the jobs handed to it, in memory, with the real one's
//! once-per-message-id rule, and faults on demand (refuse the next N hand-offs, or
//! take a while over each, to keep messages in flight).

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use taskotron_core::scheduler::{Accepted, Origin, Scheduler, SchedulerError};
use taskotron_core::JobRequest;

#[derive(Debug, Default)]
struct State {
    jobs: Vec<(Option<String>, JobRequest)>,
    seen: HashSet<String>,
    refuse: usize,
    delay: Duration,
    calls: usize,
}

/// The recording scheduler. Clones share what they record.
#[derive(Debug, Clone, Default)]
pub struct RecordingScheduler {
    state: Arc<Mutex<State>>,
}

impl RecordingScheduler {
    /// An empty one.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Refuses the next `n` hand-offs with [`SchedulerError::Unavailable`].
    pub fn refuse_next(&self, n: usize) {
        self.state().refuse = n;
    }

    /// Takes `delay` over each hand-off.
    pub fn set_delay(&self, delay: Duration) {
        self.state().delay = delay;
    }

    /// Every job accepted, with the id of its message, in order.
    pub fn jobs(&self) -> Vec<(Option<String>, JobRequest)> {
        self.state().jobs.clone()
    }

    /// How many hand-offs were attempted (accepted, replayed or refused).
    pub fn calls(&self) -> usize {
        self.state().calls
    }
}

impl Scheduler for RecordingScheduler {
    fn accept(
        &mut self,
        origin: Origin<'_>,
        jobs: &[JobRequest],
    ) -> Result<Accepted, SchedulerError> {
        let delay = {
            let mut s = self.state();
            s.calls += 1;
            if s.refuse > 0 {
                s.refuse -= 1;
                return Err(SchedulerError::Unavailable("refused by the mock".into()));
            }
            s.delay
        };
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        let mut s = self.state();
        if let Some(id) = origin.message_id {
            if !s.seen.insert(id.to_string()) {
                return Ok(Accepted::AlreadyAccepted);
            }
        }
        let id = origin.message_id.map(str::to_string);
        s.jobs.extend(jobs.iter().map(|j| (id.clone(), j.clone())));
        Ok(Accepted::New(jobs.len()))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::SystemTime;

    use serde_json::json;
    use taskotron_core::Arch;
    use taskotron_trigger::trigger::{dispatch, Message, Rules, Trigger, DEFAULT_WINDOW};

    use super::*;

    #[test]
    fn a_refused_hand_off_loses_nothing_and_a_redelivery_adds_nothing() {
        let rules = Rules::load(
            "- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [rpmlint]}]\n",
            Path::new("r.yml"),
        )
        .unwrap();
        let mut trigger = Trigger::new(rules, vec![Arch::X86_64], DEFAULT_WINDOW, vec![]);
        let mut scheduler = RecordingScheduler::new();
        let message = Message::new(
            Some("m-1"),
            "org.fedoraproject.prod.buildsys.build.state.change",
            &json!({"new": 1, "name": "grep", "version": "3.11", "release": "1.fc39"}),
        );
        let now = SystemTime::now();
        scheduler.refuse_next(1);
        assert!(dispatch(&mut trigger, &mut scheduler, &message, now).is_err());
        let d = dispatch(&mut trigger, &mut scheduler, &message, now).unwrap();
        assert_eq!((d.handled.jobs.len(), d.replayed), (1, false));
        // A trigger restarted without its dedupe memory gets the message again.
        let mut restarted = Trigger::new(
            Rules::load(
                "- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [rpmlint]}]\n",
                Path::new("r.yml"),
            )
            .unwrap(),
            vec![Arch::X86_64],
            DEFAULT_WINDOW,
            vec![],
        );
        let again = dispatch(&mut restarted, &mut scheduler, &message, now).unwrap();
        assert!(again.replayed && again.handled.jobs.is_empty());
        assert_eq!(scheduler.jobs().len(), 1);
        assert_eq!(scheduler.calls(), 3);
    }
}
