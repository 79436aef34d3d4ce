//! From trigger data to JobRequests: the matching rules' tasks on their arches (the
//! configured valid arches when a rule names none; `noarch` gives one job), items
//! validated, blacklisted releases skipped, and an identical JobRequest within the
//! window (the original `fuse_delay`, 15 minutes) dropped, which also coalesces
//! bursts of tag events. Pure but for the dedupe memory it keeps.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::message::{consume, Consumed, Message};
use super::Rules;
use crate::arch::{Arch, ArchSelector};
use crate::diagnostic::Diagnostic;
use crate::dict::JobRequest;
use crate::item::ItemType;

/// The original `fuse_delay`.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(15 * 60);

/// What one message led to.
#[derive(Debug, Default)]
pub struct Handled {
    /// New jobs.
    pub jobs: Vec<JobRequest>,
    /// Jobs dropped as duplicates within the window.
    pub duplicates: usize,
    /// Why nothing was made of the message, if nothing was.
    pub ignored: Option<String>,
    /// Problems worth a warning (malformed message, refused item).
    pub warnings: Vec<Diagnostic>,
}

/// The trigger's state: rules, settings and the dedupe memory.
#[derive(Debug)]
pub struct Trigger {
    rules: Rules,
    valid_arches: Vec<Arch>,
    window: Duration,
    blacklist: Vec<String>,
    seen: HashMap<JobRequest, SystemTime>,
    /// Prune the dedupe memory when it grows past this (doubling keeps it amortised).
    prune_at: usize,
}

impl Trigger {
    /// A trigger with `rules`, fanning out to `valid_arches` by default.
    pub fn new(
        rules: Rules,
        valid_arches: Vec<Arch>,
        window: Duration,
        blacklist: Vec<String>,
    ) -> Self {
        Self {
            rules,
            valid_arches,
            window,
            blacklist,
            seen: HashMap::new(),
            prune_at: 100_000,
        }
    }

    /// Remembers a job accepted at `at` (by an earlier run of the trigger, read back
    /// from the journal), so that it counts as a duplicate within the window.
    pub fn remember(&mut self, job: JobRequest, at: SystemTime) {
        let newer = self.seen.get(&job).is_none_or(|t| *t < at);
        if newer {
            self.seen.insert(job, at);
        }
    }

    /// Forgets jobs that [`Trigger::handle`] returned but that could not be handed to
    /// the scheduler, so that the message, delivered again, yields them again.
    pub fn forget(&mut self, jobs: &[JobRequest]) {
        for job in jobs {
            self.seen.remove(job);
        }
    }

    /// Handles one message received at `now`.
    pub fn handle(&mut self, message: &Message, now: SystemTime) -> Handled {
        let mut out = Handled::default();
        let id = message.id.as_deref().unwrap_or("without id");
        let data = match consume(message) {
            Consumed::Data(d) => d,
            Consumed::Ignored(why) => {
                out.ignored = Some(why.to_string());
                return out;
            }
            Consumed::Malformed(why) => {
                out.warnings.push(Diagnostic::warning(format!(
                    "message {id} ({}) skipped: {why}",
                    message.topic
                )));
                out.ignored = Some("malformed".into());
                return out;
            }
        };
        let text = |k: &str| {
            data.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let release = text("release");
        if let Some(b) = self
            .blacklist
            .iter()
            .find(|b| release.split('.').any(|p| p == b.as_str()))
        {
            out.ignored = Some(format!("release {b} is blacklisted"));
            return out;
        }
        let (item, item_type) = (text("item"), text("item_type"));
        let item_type = match item_type.parse::<ItemType>() {
            Ok(t) => t,
            Err(e) => {
                out.warnings
                    .push(Diagnostic::warning(format!("message {id}: {e}")));
                out.ignored = Some("bad item type".into());
                return out;
            }
        };
        if let Err(e) = item_type.validate(&item) {
            out.warnings
                .push(Diagnostic::warning(format!("message {id} refused: {e}")));
            out.ignored = Some("refused item".into());
            return out;
        }
        let actions: Vec<_> = self
            .rules
            .fire(&data, &mut out.warnings)
            .into_iter()
            .cloned()
            .collect();
        if actions.is_empty() {
            out.ignored = Some("no rule matched".into());
        }
        if self.seen.len() > self.prune_at {
            let window = self.window;
            self.seen
                .retain(|_, t| now.duration_since(*t).unwrap_or_default() < window);
            self.prune_at = (self.seen.len() * 2).max(100_000);
        }
        for action in actions {
            let arches: Vec<Arch> = match &action.arches {
                Some(list) => list
                    .iter()
                    .flat_map(|a| a.expand(&self.valid_arches))
                    .collect(),
                None => ArchSelector::All.expand(&self.valid_arches),
            };
            let arches: Vec<Arch> = if arches.contains(&Arch::Noarch) {
                vec![Arch::Noarch]
            } else {
                arches
            };
            for task in &action.tasks {
                for arch in &arches {
                    let job = JobRequest {
                        item: item.clone(),
                        item_type,
                        taskname: task.clone(),
                        arch: *arch,
                    };
                    let fresh = self
                        .seen
                        .get(&job)
                        .is_none_or(|t| now.duration_since(*t).unwrap_or_default() >= self.window);
                    if fresh {
                        self.seen.insert(job.clone(), now);
                        out.jobs.push(job);
                    } else {
                        out.duplicates += 1;
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;

    fn trigger() -> Trigger {
        let rules = Rules::load(
            "- when: {message_type: KojiBuildPackageCompleted}\n  do:\n    - tasks: [rpmlint]\n    - tasks: [python-versions]\n      arches: [noarch]\n- when: {message_type: KojiTagChanged}\n  do: [{tasks: [upgradepath], arches: [all]}]\n",
            Path::new("r.yml"),
        )
        .unwrap();
        Trigger::new(
            rules,
            vec![Arch::X86_64, Arch::Aarch64],
            DEFAULT_WINDOW,
            vec!["el6".into()],
        )
    }

    fn build(nvr: (&str, &str, &str)) -> Message {
        Message {
            id: Some("m-1".into()),
            topic: "org.fedoraproject.prod.buildsys.build.state.change".into(),
            body: json!({"new": 1, "name": nvr.0, "version": nvr.1, "release": nvr.2, "instance": "primary"}),
        }
    }

    #[test]
    fn fans_out_per_arch_and_drops_duplicates() {
        let mut t = trigger();
        let now = SystemTime::now();
        let h = t.handle(&build(("grep", "3.11", "1.fc39")), now);
        let jobs: Vec<(String, Arch)> = h
            .jobs
            .iter()
            .map(|j| (j.taskname.clone(), j.arch))
            .collect();
        assert_eq!(
            jobs,
            [
                ("rpmlint".into(), Arch::X86_64),
                ("rpmlint".into(), Arch::Aarch64),
                ("python-versions".into(), Arch::Noarch)
            ]
        );
        let again = t.handle(
            &build(("grep", "3.11", "1.fc39")),
            now + Duration::from_secs(60),
        );
        assert_eq!((again.jobs.len(), again.duplicates), (0, 3));
        let later = t.handle(
            &build(("grep", "3.11", "1.fc39")),
            now + DEFAULT_WINDOW + Duration::from_secs(1),
        );
        assert_eq!(later.jobs.len(), 3);
        let tag = |n: u64| Message {
            id: None,
            topic: "buildsys.tag".into(),
            body: json!({"tag": "f39-updates-pending", "name": format!("p{n}")}),
        };
        let burst: usize = (0..5).map(|n| t.handle(&tag(n), now).jobs.len()).sum();
        assert_eq!(burst, 2, "a burst of tag events is one job per arch");
    }

    #[test]
    fn forgotten_jobs_come_again_and_remembered_ones_do_not() {
        let mut t = trigger();
        let now = SystemTime::now();
        let first = t.handle(&build(("grep", "3.11", "1.fc39")), now);
        t.forget(&first.jobs);
        let again = t.handle(&build(("grep", "3.11", "1.fc39")), now);
        assert_eq!(
            again.jobs, first.jobs,
            "a failed hand-off must not eat jobs"
        );
        let mut fresh = trigger();
        for job in &first.jobs {
            fresh.remember(job.clone(), now - Duration::from_secs(60));
        }
        let after_restart = fresh.handle(&build(("grep", "3.11", "1.fc39")), now);
        assert_eq!((after_restart.jobs.len(), after_restart.duplicates), (0, 3));
    }

    #[test]
    fn blacklists_and_bad_items_are_skipped_with_a_reason() {
        let mut t = trigger();
        let now = SystemTime::now();
        assert_eq!(
            t.handle(&build(("x", "1", "1.el6")), now)
                .ignored
                .as_deref(),
            Some("release el6 is blacklisted")
        );
        let h = t.handle(&build(("../../etc", "1", "1;rm")), now);
        assert!(h.jobs.is_empty());
        assert!(
            h.warnings[0].message.starts_with("message m-1 refused"),
            "{:?}",
            h.warnings
        );
        let bad = Message {
            id: Some("m-9".into()),
            topic: "x.buildsys.build.state.change".into(),
            body: json!({"new": 1}),
        };
        assert!(t.handle(&bad, now).warnings[0]
            .message
            .contains("message m-9"));
    }
}
