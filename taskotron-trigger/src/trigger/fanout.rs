//! From trigger data to JobRequests: the matching rules' tasks on their arches (the
//! configured valid arches when a rule names none; `noarch` gives one job), items
//! validated, blacklisted releases skipped, and an identical JobRequest within the
//! window (the original `fuse_delay`, 15 minutes) dropped, which also coalesces
//! bursts of tag events. Pure but for the dedupe memory it keeps.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::dist_git::{self, DistGitPlans, FindError, PlanFinder};
use super::message::{consume, Consumed, Message};
use super::Rules;
use taskotron_model::arch::{Arch, ArchSelector};
use taskotron_model::dict::JobRequest;
use taskotron_model::item::ItemType;
use taskotron_tap::diagnostic::Diagnostic;

/// The original `fuse_delay`.
pub const DEFAULT_WINDOW: Duration = taskotron_config::defaults::TRIGGER_WINDOW;

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
    /// Why the message can never be read (its body is not JSON), if so: a bus
    /// should drop it rather than deliver it again.
    pub unreadable: Option<String>,
    /// Why the message's jobs cannot be made now (the plan finder could not reach
    /// Koji or dist-git), if so: none are kept, and the message should come again.
    pub unavailable: Option<String>,
}

/// One job the dedupe memory holds for an item.
#[derive(Debug, Clone, Copy)]
struct SeenJob {
    item_type: ItemType,
    task: u32,
    arch: Arch,
    at: SystemTime,
}

/// What one action of a rule makes, worked out once: task ids and arches.
#[derive(Debug, Clone)]
struct Plan {
    tasks: Vec<u32>,
    arches: Vec<Arch>,
    /// The action asks for the build's dist-git tests too.
    dist_git: bool,
}

/// The trigger's state: rules, settings and the dedupe memory.
#[derive(Debug)]
pub struct Trigger {
    rules: Rules,
    /// Per rule, per action: what it makes.
    plans: Vec<Vec<Plan>>,
    /// Task names by id, and ids by name: the dedupe memory holds ids.
    task_names: Vec<String>,
    task_ids: HashMap<String, u32>,
    window: Duration,
    blacklist: Vec<String>,
    /// Jobs made within the window, per item (a message's jobs share their item, so
    /// one lookup serves them all).
    seen: HashMap<String, Vec<SeenJob>>,
    seen_len: usize,
    /// Prune the dedupe memory when it grows past this (doubling keeps it amortised).
    prune_at: usize,
    /// Reused for the matching rules of each message.
    matched: Vec<usize>,
    /// Finds a build's dist-git plans for `dist_git_tests` actions.
    finder: Option<Box<dyn PlanFinder>>,
}

/// One job a message may make, before the dedupe memory decides.
struct Candidate {
    /// The dedupe memory's id of the task (and plan).
    key: u32,
    taskname: String,
    arch: Arch,
    source: Option<taskotron_model::dict::TaskSource>,
    plan: Option<String>,
}

impl Trigger {
    /// A trigger with `rules`, fanning out to `valid_arches` by default.
    pub fn new(
        rules: Rules,
        valid_arches: Vec<Arch>,
        window: Duration,
        blacklist: Vec<String>,
    ) -> Self {
        let mut t = Self {
            rules,
            plans: Vec::new(),
            task_names: Vec::new(),
            task_ids: HashMap::new(),
            window,
            blacklist,
            seen: HashMap::new(),
            seen_len: 0,
            prune_at: 100_000,
            matched: Vec::new(),
            finder: None,
        };
        let mut plans = Vec::new();
        for rule in t.rules.rules() {
            let mut per_action = Vec::new();
            for action in &rule.actions {
                let arches: Vec<Arch> = match &action.arches {
                    Some(list) => list.iter().flat_map(|a| a.expand(&valid_arches)).collect(),
                    None => ArchSelector::All.expand(&valid_arches),
                };
                let arches = if arches.contains(&Arch::Noarch) {
                    vec![Arch::Noarch]
                } else {
                    arches
                };
                per_action.push(Plan {
                    tasks: Vec::new(),
                    arches,
                    dist_git: action.dist_git_tests,
                });
            }
            plans.push(per_action);
        }
        let names: Vec<Vec<Vec<String>>> = t
            .rules
            .rules()
            .iter()
            .map(|r| r.actions.iter().map(|a| a.tasks.clone()).collect())
            .collect();
        for (r, actions) in names.into_iter().enumerate() {
            for (a, tasks) in actions.into_iter().enumerate() {
                plans[r][a].tasks = tasks.iter().map(|n| t.task_id(n)).collect();
            }
        }
        t.plans = plans;
        t
    }

    /// Gives `dist_git_tests` actions their plan finder; without one such an action
    /// makes only its `tasks`, with a warning.
    #[must_use]
    pub fn with_plan_finder(mut self, finder: Box<dyn PlanFinder>) -> Self {
        self.finder = Some(finder);
        self
    }

    /// The dedupe memory's name of a job's task: its task name, and its plan if any.
    fn key_of(taskname: &str, plan: Option<&str>) -> String {
        match plan {
            Some(p) => format!("{taskname}\0{p}"),
            None => taskname.to_string(),
        }
    }

    fn task_id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.task_ids.get(name) {
            return *id;
        }
        let id = u32::try_from(self.task_names.len()).unwrap_or(u32::MAX);
        self.task_names.push(name.to_string());
        self.task_ids.insert(name.to_string(), id);
        id
    }

    /// Remembers a job accepted at `at` (by an earlier run of the trigger, read back
    /// from the job queue), so that it counts as a duplicate within the window.
    pub fn remember(&mut self, job: JobRequest, at: SystemTime) {
        let task = self.task_id(&Self::key_of(&job.taskname, job.plan.as_deref()));
        let jobs = self.seen.entry(job.item).or_default();
        match jobs
            .iter_mut()
            .find(|s| s.item_type == job.item_type && s.task == task && s.arch == job.arch)
        {
            Some(s) if s.at < at => s.at = at,
            Some(_) => {}
            None => {
                jobs.push(SeenJob {
                    item_type: job.item_type,
                    task,
                    arch: job.arch,
                    at,
                });
                self.seen_len += 1;
            }
        }
    }

    /// Forgets jobs that [`Trigger::handle`] returned but that could not be handed to
    /// the scheduler, so that the message, delivered again, yields them again.
    pub fn forget(&mut self, jobs: &[JobRequest]) {
        for job in jobs {
            let key = Self::key_of(&job.taskname, job.plan.as_deref());
            let Some(task) = self.task_ids.get(&key).copied() else {
                continue;
            };
            if let Some(seen) = self.seen.get_mut(&job.item) {
                let before = seen.len();
                seen.retain(|s| {
                    !(s.item_type == job.item_type && s.task == task && s.arch == job.arch)
                });
                self.seen_len -= before - seen.len();
                if seen.is_empty() {
                    self.seen.remove(&job.item);
                }
            }
        }
    }

    /// Drops what is older than the window, when the memory has doubled since the
    /// last time: amortised constant work per job.
    fn prune(&mut self, now: SystemTime) {
        if self.seen_len <= self.prune_at {
            return;
        }
        let window = self.window;
        let fresh = |s: &SeenJob| now.duration_since(s.at).unwrap_or_default() < window;
        self.seen.retain(|_, jobs| {
            jobs.retain(fresh);
            !jobs.is_empty()
        });
        self.seen_len = self.seen.values().map(Vec::len).sum();
        self.prune_at = (self.seen_len * 2).max(100_000);
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
            Consumed::Unreadable(why) => {
                out.unreadable = Some(format!("message {id}: {why}"));
                out.ignored = Some("unreadable".into());
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
        let mut matched = std::mem::take(&mut self.matched);
        self.rules.matching(&data, &mut out.warnings, &mut matched);
        if matched.is_empty() {
            out.ignored = Some("no rule matched".into());
            self.matched = matched;
            return out;
        }
        let mut candidates: Vec<Candidate> = Vec::new();
        for plan in matched.iter().flat_map(|r| &self.plans[*r]) {
            for &task in &plan.tasks {
                for &arch in &plan.arches {
                    candidates.push(Candidate {
                        key: task,
                        taskname: self.task_names[task as usize].clone(),
                        arch,
                        source: None,
                        plan: None,
                    });
                }
            }
        }
        match self.dist_git_plans(&matched, &item, item_type) {
            Ok(None) => {}
            Ok(Some((found, wanted))) => {
                let taskname = dist_git::taskname(&found.package);
                for arch in wanted {
                    let Some((_, names)) = found.plans.iter().find(|(a, _)| *a == arch) else {
                        continue;
                    };
                    for name in names {
                        candidates.push(Candidate {
                            key: self.task_id(&Self::key_of(&taskname, Some(name))),
                            taskname: taskname.clone(),
                            arch,
                            source: Some(found.source.clone()),
                            plan: Some(name.clone()),
                        });
                    }
                }
            }
            Err(FindError::Nothing(why)) => out.warnings.push(Diagnostic::warning(format!(
                "message {id}: no dist-git tests for {item}: {why}"
            ))),
            Err(FindError::Unavailable(why)) => {
                out.unavailable = Some(format!("the dist-git tests of {item}: {why}"));
                self.matched = matched;
                return out;
            }
        }
        if candidates.is_empty() && out.warnings.is_empty() {
            out.ignored = Some("no plan in the build's dist-git".into());
        }
        self.prune(now);
        let window = self.window;
        let seen = match self.seen.get_mut(item.as_str()) {
            Some(s) => s,
            None => self.seen.entry(item.clone()).or_default(),
        };
        for c in candidates {
            let (task, arch) = (c.key, c.arch);
            let old = seen
                .iter_mut()
                .find(|s| s.item_type == item_type && s.task == task && s.arch == arch);
            match old {
                Some(s) if now.duration_since(s.at).unwrap_or_default() < window => {
                    out.duplicates += 1;
                    continue;
                }
                Some(s) => s.at = now,
                None => {
                    seen.push(SeenJob {
                        item_type,
                        task,
                        arch,
                        at: now,
                    });
                    self.seen_len += 1;
                }
            }
            out.jobs.push(JobRequest {
                item: item.clone(),
                item_type,
                taskname: c.taskname,
                arch,
                source: c.source,
                plan: c.plan,
            });
        }
        self.matched = matched;
        out
    }

    /// The dist-git plans the matched `dist_git_tests` actions ask for, with the
    /// arches they want them on (in the actions' order, each once); `None` when no
    /// matched action asks.
    fn dist_git_plans(
        &mut self,
        matched: &[usize],
        item: &str,
        item_type: ItemType,
    ) -> Result<Option<(DistGitPlans, Vec<Arch>)>, FindError> {
        let mut wanted: Vec<Arch> = Vec::new();
        for plan in matched.iter().flat_map(|r| &self.plans[*r]) {
            if plan.dist_git {
                for a in &plan.arches {
                    if !wanted.contains(a) {
                        wanted.push(*a);
                    }
                }
            }
        }
        if wanted.is_empty() {
            return Ok(None);
        }
        if item_type != ItemType::KojiBuild {
            return Err(FindError::Nothing(format!(
                "`dist_git_tests` reads a Koji build's dist-git, and this is a {item_type}"
            )));
        }
        let Some(finder) = self.finder.as_mut() else {
            return Err(FindError::Nothing(
                "this trigger has no plan finder (it runs without Koji)".into(),
            ));
        };
        finder
            .find(item, &wanted)
            .map(|found| Some((found, wanted)))
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
        Message::new(
            Some("m-1"),
            "org.fedoraproject.prod.buildsys.build.state.change",
            &json!({"new": 1, "name": nvr.0, "version": nvr.1, "release": nvr.2, "instance": "primary"}),
        )
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
        let tag = |n: u64| {
            Message::new(
                None,
                "buildsys.tag",
                &json!({"tag": "f39-updates-pending", "name": format!("p{n}")}),
            )
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
        let bad = Message::new(
            Some("m-9"),
            "x.buildsys.build.state.change",
            &json!({"new": 1}),
        );
        assert!(t.handle(&bad, now).warnings[0]
            .message
            .contains("message m-9"));
    }

    /// Answers with fixed plans, counting its calls; `/plans/full` is off on aarch64.
    struct Fixed(
        std::sync::Arc<std::sync::atomic::AtomicUsize>,
        Option<FindError>,
    );

    impl PlanFinder for Fixed {
        fn find(&mut self, nvr: &str, arches: &[Arch]) -> Result<DistGitPlans, FindError> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if let Some(e) = self.1.clone() {
                return Err(e);
            }
            Ok(DistGitPlans {
                package: nvr.split('-').next().unwrap().into(),
                source: taskotron_model::dict::TaskSource {
                    repo: "git://dist-git/rpms/grep.git".into(),
                    git_ref: Some("abc123".into()),
                },
                plans: arches
                    .iter()
                    .map(|a| {
                        let mut names = vec!["/plans/smoke".to_string()];
                        if *a != Arch::Aarch64 {
                            names.push("/plans/full".into());
                        }
                        (*a, names)
                    })
                    .collect(),
            })
        }
    }

    fn dist_git_trigger(
        error: Option<FindError>,
    ) -> (Trigger, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        let rules = Rules::load(
            "- when: {message_type: KojiBuildPackageCompleted}\n  do:\n    - {tasks: [rpmlint], arches: [x86_64]}\n    - {dist_git_tests: true, arches: [x86_64, aarch64]}\n",
            Path::new("r.yml"),
        )
        .unwrap();
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let t = Trigger::new(rules, vec![Arch::X86_64], DEFAULT_WINDOW, Vec::new())
            .with_plan_finder(Box::new(Fixed(calls.clone(), error)));
        (t, calls)
    }

    #[test]
    fn a_build_becomes_every_plan_of_its_dist_git_on_every_arch() {
        let (mut t, calls) = dist_git_trigger(None);
        let now = SystemTime::now();
        let h = t.handle(&build(("grep", "3.11", "1.fc41")), now);
        let jobs: Vec<(String, Arch, Option<String>)> = h
            .jobs
            .iter()
            .map(|j| (j.taskname.clone(), j.arch, j.plan.clone()))
            .collect();
        let job =
            |task: &str, arch, plan: Option<&str>| (task.to_string(), arch, plan.map(String::from));
        assert_eq!(
            jobs,
            [
                job("rpmlint", Arch::X86_64, None),
                job("dist-git:grep", Arch::X86_64, Some("/plans/smoke")),
                job("dist-git:grep", Arch::X86_64, Some("/plans/full")),
                job("dist-git:grep", Arch::Aarch64, Some("/plans/smoke")),
            ]
        );
        assert_eq!(
            h.jobs[1].source.as_ref().unwrap().git_ref.as_deref(),
            Some("abc123")
        );
        assert_eq!(
            calls.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "one lookup a message"
        );
        // The dedupe memory tells plans apart, and forgets them one by one.
        let again = t.handle(&build(("grep", "3.11", "1.fc41")), now);
        assert_eq!((again.jobs.len(), again.duplicates), (0, 4));
        t.forget(&h.jobs[2..3]);
        let after = t.handle(&build(("grep", "3.11", "1.fc41")), now);
        assert_eq!(after.jobs, h.jobs[2..3]);
    }

    #[test]
    fn a_finder_that_cannot_reach_koji_keeps_nothing_and_one_that_finds_nothing_warns() {
        let (mut t, _) = dist_git_trigger(Some(FindError::Unavailable("koji down".into())));
        let now = SystemTime::now();
        let h = t.handle(&build(("grep", "3.11", "1.fc41")), now);
        assert!(h.jobs.is_empty());
        assert_eq!(
            h.unavailable.as_deref(),
            Some("the dist-git tests of grep-3.11-1.fc41: koji down")
        );
        let (mut t, _) = dist_git_trigger(Some(FindError::Nothing("no fmf tree".into())));
        let h = t.handle(&build(("grep", "3.11", "1.fc41")), now);
        assert_eq!(h.jobs.len(), 1, "the rule's tasks still run");
        assert!(
            h.warnings[0]
                .message
                .contains("no dist-git tests for grep-3.11-1.fc41: no fmf tree"),
            "{:?}",
            h.warnings
        );
        // Without a finder, a warning says why.
        let rules = Rules::load(
            "- when: {message_type: KojiBuildPackageCompleted}\n  do: [{dist_git_tests: true}]\n",
            Path::new("r.yml"),
        )
        .unwrap();
        let mut bare = Trigger::new(rules, vec![Arch::X86_64], DEFAULT_WINDOW, Vec::new());
        let h = bare.handle(&build(("grep", "3.11", "1.fc41")), now);
        assert!(h.jobs.is_empty());
        assert!(
            h.warnings[0].message.contains("no plan finder"),
            "{:?}",
            h.warnings
        );
    }
}
