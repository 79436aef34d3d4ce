//! Gating on this machine: the policies of `gating_policies`, and the facts
//! `taskotron-gating`'s decision asks for, read from where a single-machine
//! deployment keeps them. Results come from the embedded results store
//! (`results.sqlite`), waivers from the history store, a package's `gating.yaml`
//! from its dist-git at the build's commit (Koji's `source`, through the task
//! mirror, never a checkout), an update's builds from Bodhi, and jobs still
//! queued or running from the queue. `taskotron decide` and the web's
//! `/api/v1.0/decision` are both this.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use taskotron_gating::decision::{GatingYaml, PendingJob, ResultFact};
use taskotron_gating::{
    parse_policies, Decision, DecisionError, DecisionRequest, Facts, Origin, Policy, Subject,
    Waiver,
};
use taskotron_history::{Store, WaiverFilter};

use crate::diagnostic::Diagnostic;
use crate::mirror::{Mirror, MirrorError};
use crate::resultsdb::local::LocalResults;
use crate::scheduler::{JobFilter, JobState, Queue, Waiting};

/// What gating reads, and from where.
#[derive(Debug, Clone)]
pub struct GatingSettings {
    /// The state directory: `results.sqlite` and `history.sqlite`.
    pub state_dir: PathBuf,
    /// The queue, for jobs still on their way.
    pub queue: PathBuf,
    /// `gating_policies`: a policy file or a directory of them.
    pub policies: Option<PathBuf>,
    /// Koji, for a build's dist-git source.
    pub koji_url: String,
    /// Bodhi, for an update's builds; `None`: updates have no builds here.
    pub bodhi_url: Option<String>,
    /// The mirror dist-git repositories are fetched through.
    pub mirror: Mirror,
    /// How long one remote call may take.
    pub timeout: Duration,
    /// The web face, for the job links of missing results.
    pub web_url: Option<String>,
}

/// Reads the policies at `path`: one file, or every `*.yaml` of a directory in
/// name order (as Greenwave reads its `POLICIES_DIR`). No path: no policies.
///
/// # Errors
/// Every problem of every file, each at its place.
pub fn load_policies(path: Option<&Path>) -> Result<Vec<Policy>, Vec<Diagnostic>> {
    let Some(path) = path else {
        return Ok(Vec::new());
    };
    let files: Vec<PathBuf> = if path.is_dir() {
        let read = std::fs::read_dir(path).map_err(|e| {
            vec![Diagnostic::error(format!("cannot read the policy directory: {e}")).in_file(path)]
        })?;
        let mut files: Vec<PathBuf> = read
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        files.sort();
        files
    } else {
        vec![path.to_path_buf()]
    };
    let mut policies = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        let text = match std::fs::read(&f) {
            Ok(b) => match taskotron_tap::diagnostic::utf8(b, &f) {
                Ok(t) => t,
                Err(d) => {
                    errors.push(*d);
                    continue;
                }
            },
            Err(e) => {
                errors.push(
                    Diagnostic::error(format!("cannot read the policy file: {e}")).in_file(&f),
                );
                continue;
            }
        };
        match parse_policies(&text, Some(&f), Origin::Config) {
            Ok(p) => policies.extend(p),
            Err(d) => errors.extend(d),
        }
    }
    if errors.is_empty() {
        Ok(policies)
    } else {
        Err(errors)
    }
}

/// The time now as the decision reads rule windows (`2026-12-07T12:00:00`).
pub fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .trim_end_matches('Z')
        .to_string()
}

/// The facts of this machine, each store opened read-only on first use.
pub struct LocalFacts<'a> {
    settings: &'a GatingSettings,
    results: Option<Option<LocalResults>>,
    history: Option<Option<Store>>,
    queue: Option<Option<Queue>>,
    /// Each subject's results, read once per decision.
    items: std::collections::HashMap<Subject, Vec<serde_json::Value>>,
    /// Whether results are read whole (a `verbose` decision shows them).
    full: bool,
}

impl<'a> LocalFacts<'a> {
    /// Facts read under `settings`; `full` reads results whole (groups, the
    /// testcase's `ref_url`), for a `verbose` decision.
    pub fn new(settings: &'a GatingSettings, full: bool) -> Self {
        Self {
            settings,
            results: None,
            history: None,
            queue: None,
            items: std::collections::HashMap::new(),
            full,
        }
    }

    fn results_store(&mut self) -> Result<Option<&LocalResults>, String> {
        if self.results.is_none() {
            let path = self.settings.state_dir.join(crate::resultsdb::local::FILE);
            self.results = Some(if path.exists() {
                Some(LocalResults::open_read_only(&path).map_err(|e| e.to_string())?)
            } else {
                None
            });
        }
        Ok(self.results.as_ref().and_then(Option::as_ref))
    }

    fn history_store(&mut self) -> Result<Option<&Store>, String> {
        if self.history.is_none() {
            let path = crate::history::path(&self.settings.state_dir);
            self.history = Some(if path.exists() {
                Some(Store::open_read_only(&path).map_err(|e| e.to_string())?)
            } else {
                None
            });
        }
        Ok(self.history.as_ref().and_then(Option::as_ref))
    }

    fn queue(&mut self) -> Result<Option<&Queue>, String> {
        if self.queue.is_none() {
            let path = self.settings.queue.clone();
            let waiting = Waiting {
                limit: Duration::from_secs(5),
                notify: None,
            };
            self.queue = Some(match Queue::open_read_only(&path, waiting) {
                Ok(q) if path.exists() => Some(q),
                Ok(_) => None,
                Err(e) if !path.exists() || e.is_not_yet_created() => None,
                Err(e) => return Err(e.to_string()),
            });
        }
        Ok(self.queue.as_ref().and_then(Option::as_ref))
    }
}

fn data(json: &serde_json::Value, key: &str) -> Option<String> {
    json["data"][key][0].as_str().map(str::to_string)
}

/// Whether a job of task `taskname` (or a dist-git job, which has a `source`)
/// reports `testcase`: the task's name is the testcase or its last part
/// (`rpmlint` reports `dist.rpmlint`); a dist-git job reports Fedora CI's names.
fn reports(taskname: &str, dist_git: bool, testcase: &str) -> bool {
    testcase == taskname
        || testcase
            .rsplit_once('.')
            .is_some_and(|(_, last)| last == taskname)
        || (dist_git && testcase.starts_with("fedora-ci."))
}

impl Facts for LocalFacts<'_> {
    fn results(&mut self, subject: &Subject, testcase: &str) -> Result<Vec<ResultFact>, String> {
        if !self.items.contains_key(subject) {
            let base = self.settings.web_url.clone().unwrap_or_default();
            let full = self.full;
            let Some(store) = self.results_store()? else {
                return Ok(Vec::new());
            };
            // Greenwave reads `brew-build` results for Koji builds too.
            let types: Vec<&str> = match subject.kind.as_str() {
                "koji_build" | "brew-build" => vec!["koji_build", "brew-build"],
                other => vec![other],
            };
            let all = store
                .item_results(
                    &subject.identifier,
                    &types,
                    base.trim_end_matches('/'),
                    full,
                )
                .map_err(|e| e.to_string())?;
            self.items.insert(subject.clone(), all);
        }
        // The latest per scenario, architecture and variant, as Greenwave's
        // `results/latest?_distinct_on=...` answers; the rows are newest first.
        let mut seen = std::collections::BTreeSet::new();
        Ok(self.items[subject]
            .iter()
            .filter(|json| json["testcase"]["name"] == testcase)
            .filter(|json| {
                seen.insert(
                    ["scenario", "system_architecture", "system_variant"].map(|k| data(json, k)),
                )
            })
            .map(|json| ResultFact {
                id: json["id"].as_i64().unwrap_or_default(),
                testcase: testcase.to_string(),
                outcome: json["outcome"].as_str().unwrap_or_default().to_string(),
                scenario: data(json, "scenario"),
                system_architecture: data(json, "system_architecture"),
                system_variant: data(json, "system_variant"),
                error_reason: data(json, "error_reason"),
                json: json.clone(),
            })
            .collect())
    }
    fn waivers(
        &mut self,
        subjects: &[Subject],
        product_version: &str,
    ) -> Result<Vec<Waiver>, String> {
        let Some(store) = self.history_store()? else {
            return Ok(Vec::new());
        };
        let filters: Vec<WaiverFilter> = subjects
            .iter()
            .map(|s| WaiverFilter {
                subject_type: Some(s.kind.clone()),
                subject_identifier: Some(s.identifier.clone()),
                product_version: Some(product_version.to_string()),
                ..WaiverFilter::default()
            })
            .collect();
        store
            .waivers(&filters, false, 0, 10_000)
            .map_err(|e| e.to_string())
    }

    fn gating_yaml(&mut self, subject: &Subject) -> Result<GatingYaml, String> {
        let koji = crate::koji::KojiClient::new(&self.settings.koji_url, self.settings.timeout);
        let build = match koji.lookup(&subject.identifier) {
            Ok(Some(b)) => b,
            // Greenwave: a build without a dist-git source has no gating.yaml.
            Ok(None) => return Ok(GatingYaml::Missing),
            Err(e) => {
                return Err(format!(
                    "Koji cannot say where {} came from: {e}",
                    subject.identifier
                ))
            }
        };
        let Some(source) = build.source.as_deref() else {
            return Ok(GatingYaml::Missing);
        };
        let Ok(source) = crate::dist_git_tests::parse_source(source) else {
            return Ok(GatingYaml::Missing);
        };
        let mirror = &self.settings.mirror;
        let commit = source.git_ref.as_deref();
        mirror
            .update(&source.repo, false)
            .map_err(|e| e.to_string())?;
        let read = match mirror.read_file(&source.repo, commit, "gating.yaml") {
            // A mirror fetched before the build was pushed: fetch once more.
            Err(MirrorError::UnknownRef { .. }) => {
                mirror
                    .update(&source.repo, true)
                    .map_err(|e| e.to_string())?;
                mirror.read_file(&source.repo, commit, "gating.yaml")
            }
            other => other,
        };
        match read.map_err(|e| e.to_string())? {
            None => Ok(GatingYaml::Missing),
            Some(text) => Ok(GatingYaml::Found {
                name: format!(
                    "{}/gating.yaml@{}",
                    build.name,
                    commit.map_or("HEAD", |c| &c[..c.len().min(12)])
                ),
                text,
            }),
        }
    }

    fn builds_of_update(&mut self, alias: &str) -> Result<Vec<String>, String> {
        let Some(url) = &self.settings.bodhi_url else {
            return Ok(Vec::new());
        };
        let bodhi = crate::bodhi::BodhiClient::new(url, "", self.settings.timeout);
        match bodhi.builds(alias) {
            Ok(builds) => Ok(builds.unwrap_or_default()),
            Err(e) => Err(format!("Bodhi cannot list the builds of {alias}: {e}")),
        }
    }

    fn pending(&mut self, subject: &Subject, testcase: &str) -> Result<Vec<PendingJob>, String> {
        let web = self.settings.web_url.clone();
        let Some(queue) = self.queue()? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        // Running first: it is the nearer answer.
        for state in [JobState::Running, JobState::Scheduled] {
            let filter = JobFilter {
                state: Some(state),
                item: Some(subject.identifier.clone()),
                ..JobFilter::default()
            };
            for job in queue.page(&filter, 0, 100).map_err(|e| e.to_string())? {
                let r = &job.request;
                if reports(&r.taskname, r.source.is_some(), testcase) {
                    out.push(PendingJob {
                        url: web
                            .as_ref()
                            .map(|w| format!("{}/jobs/{}", w.trim_end_matches('/'), job.build_id)),
                        uuid: job.build_id.clone(),
                        state: if state == JobState::Running {
                            "running"
                        } else {
                            "queued"
                        }
                        .into(),
                        arch: r.arch.as_str().to_string(),
                    });
                }
            }
        }
        Ok(out)
    }
}

/// Decides `request` on this machine under `policies`.
///
/// # Errors
/// As [`taskotron_gating::decide`].
pub fn decide(
    settings: &GatingSettings,
    policies: &[Policy],
    request: &DecisionRequest,
) -> Result<Decision, DecisionError> {
    let mut facts = LocalFacts::new(settings, request.verbose);
    taskotron_gating::decide(request, policies, &mut facts, &now())
}

/// One gate a job's build stands before: a decision context of the configured
/// policies for its product version, and the decision there.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Gate {
    /// The decision context (`bodhi_update_push_stable`).
    pub context: String,
    /// The product version, from the build's dist tag (`fedora-41`).
    pub product_version: String,
    /// Whether every requirement is satisfied.
    pub satisfied: bool,
    /// Greenwave's sentence, or why no decision could be made.
    pub summary: String,
}

/// The gates an item stands before: every decision context of the configured
/// `policies` for its subjects whose product versions take the item's, each
/// decided now. A Koji build is its own subject, its product version from its
/// dist tag; an update is itself and its `builds` (none given: Bodhi's list),
/// its product version from the first build with a dist tag. None for other
/// items, an item without a known distro, or no policy that applies.
pub fn gates_of(
    settings: &GatingSettings,
    policies: &[Policy],
    item: &str,
    item_type: &str,
    builds: &[String],
) -> Vec<Gate> {
    let distro = |nvr: &str| crate::directive::tmt::distro_of(nvr, "koji_build");
    // Builds asked of Bodhi here are the update's whole list: the decision is
    // then made without asking Bodhi for them again.
    let mut asked = false;
    let (product_version, subjects) = match item_type {
        "koji_build" => (distro(item), vec![("koji_build", item.to_string())]),
        "bodhi_update" => {
            let builds = if builds.is_empty() {
                asked = true;
                LocalFacts::new(settings, false)
                    .builds_of_update(item)
                    .unwrap_or_default()
            } else {
                builds.to_vec()
            };
            let mut subjects = vec![("bodhi_update", item.to_string())];
            subjects.extend(builds.iter().map(|b| ("koji_build", b.clone())));
            (builds.iter().find_map(|b| distro(b)), subjects)
        }
        _ => return Vec::new(),
    };
    let Some(product_version) = product_version else {
        return Vec::new();
    };
    let mut contexts: Vec<&str> = Vec::new();
    for p in policies.iter().filter(|p| {
        (p.subject_types.is_empty()
            || p.subject_types
                .iter()
                .any(|t| subjects.iter().any(|(k, _)| k == t)))
            && p.product_versions
                .iter()
                .any(|v| taskotron_gating::glob::matches(v, &product_version))
    }) {
        for c in &p.decision_contexts {
            if !contexts.contains(&c.as_str()) {
                contexts.push(c);
            }
        }
    }
    let without_bodhi;
    let settings = if asked {
        without_bodhi = GatingSettings {
            bodhi_url: None,
            ..settings.clone()
        };
        &without_bodhi
    } else {
        settings
    };
    let subject: Vec<serde_json::Value> = subjects
        .iter()
        .map(|(kind, id)| serde_json::json!({"type": kind, "item": id}))
        .collect();
    contexts
        .into_iter()
        .map(|context| {
            let request = DecisionRequest::from_json(&serde_json::json!({
                "decision_context": context,
                "product_version": product_version,
                "subject": subject,
            }));
            let decided = request
                .map_err(|e| e.message)
                .and_then(|r| decide(settings, policies, &r).map_err(|e| e.to_string()));
            match decided {
                Ok(d) => Gate {
                    context: context.to_string(),
                    product_version: product_version.clone(),
                    satisfied: d.policies_satisfied,
                    summary: d.summary,
                },
                Err(why) => Gate {
                    context: context.to_string(),
                    product_version: product_version.clone(),
                    satisfied: false,
                    summary: format!("no decision: {why}"),
                },
            }
        })
        .collect()
}

impl Gate {
    /// The gate in one line, as a Bodhi comment says it: `Gate
    /// bodhi_update_push_stable (fedora-41): blocked: 1 of 2 required test
    /// results missing`.
    pub fn line(&self) -> String {
        format!(
            "Gate {} ({}): {}: {}",
            self.context,
            self.product_version,
            if self.satisfied { "passed" } else { "blocked" },
            self.summary
        )
    }
}

#[cfg(test)]
mod tests {
    use super::reports;

    #[test]
    fn which_jobs_report_a_testcase() {
        assert!(reports("rpmlint", false, "dist.rpmlint"));
        assert!(reports("dist.rpmlint", false, "dist.rpmlint"));
        assert!(!reports("rpmlint", false, "dist.rpmdeplint"));
        assert!(reports(
            "dist-git:htop",
            true,
            "fedora-ci.koji-build.tier0.functional"
        ));
        assert!(!reports(
            "dist-git:htop",
            false,
            "fedora-ci.koji-build.tier0.functional"
        ));
    }
}
