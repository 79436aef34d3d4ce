//! The decision: evaluates the policies that apply to each subject over the facts
//! a [`Facts`] implementation hands in, applies waivers, and answers as Greenwave
//! does (`policies_satisfied`, `summary`, `applicable_policies`,
//! `satisfied_requirements`, `unsatisfied_requirements`).
//!
//! Greenwave's rules, kept here: only the latest result per testcase, scenario,
//! architecture and variant counts; PASSED and INFO pass, QUEUED and RUNNING are
//! `test-result-missing`, ERROR is `test-result-errored`, anything else
//! `test-result-failed`; a waiver turns an unsatisfied requirement into its
//! `-waived` form; `invalid-gating-yaml` and `missing-gating-yaml` cannot be
//! waived; a `bodhi_update` subject brings its builds along. What we add: a
//! missing result whose job is queued or running says so (`job` in the
//! requirement, "(1 queued)" in the summary), the gap Bodhi users have had
//! (bodhi#4853); and a `gating.yaml` error names its file, line and column.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{json, Value};
use taskotron_tap::suggest::did_you_mean;

use crate::policy::{parse_policies, Origin, Policy, Rule};
use crate::request::{DecisionRequest, FieldError, Subject};
use crate::waiver::Waiver;

/// A result as the decision sees it: the latest one of its testcase for one
/// scenario, architecture and variant.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultFact {
    /// The ResultsDB id.
    pub id: i64,
    /// Its testcase.
    pub testcase: String,
    /// PASSED, INFO, FAILED, NEEDS_INSPECTION, ERROR, QUEUED, RUNNING.
    pub outcome: String,
    /// Its `scenario` data, if any.
    pub scenario: Option<String>,
    /// Its `system_architecture` data, if any.
    pub system_architecture: Option<String>,
    /// Its `system_variant` data, if any.
    pub system_variant: Option<String>,
    /// Its `error_reason` data, if any.
    pub error_reason: Option<String>,
    /// The result as the results API shows it, for `verbose`.
    pub json: Value,
}

/// A package's `gating.yaml` at the build's commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatingYaml {
    /// The repository has none (or the build has no dist-git source).
    Missing,
    /// Its text, and the name to show in errors (`htop/gating.yaml@abc123`).
    Found {
        /// Where it was read.
        name: String,
        /// The file.
        text: String,
    },
}

/// A job that will produce a result for a subject and has not yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingJob {
    /// The job's id.
    pub uuid: String,
    /// `queued` or `running`.
    pub state: String,
    /// The job's page, when a web face is configured.
    pub url: Option<String>,
    /// The architecture it runs on.
    pub arch: String,
}

/// Where the decision's facts come from; the only way it learns anything.
pub trait Facts {
    /// The latest result of `testcase` for `subject` per scenario, architecture
    /// and variant, newest first.
    ///
    /// # Errors
    /// The results cannot be read.
    fn results(&mut self, subject: &Subject, testcase: &str) -> Result<Vec<ResultFact>, String>;

    /// The waivers in force for `subjects` in `product_version` (the newest per
    /// subject, testcase and scenario; a revocation is a waiver with
    /// `waived: false`).
    ///
    /// # Errors
    /// The waivers cannot be read.
    fn waivers(
        &mut self,
        subjects: &[Subject],
        product_version: &str,
    ) -> Result<Vec<Waiver>, String>;

    /// The package's `gating.yaml` at the build's commit.
    ///
    /// # Errors
    /// The build or the repository cannot be read (Greenwave answers 502 then).
    fn gating_yaml(&mut self, subject: &Subject) -> Result<GatingYaml, String>;

    /// The builds of an update, as NVRs.
    ///
    /// # Errors
    /// The update cannot be read.
    fn builds_of_update(&mut self, alias: &str) -> Result<Vec<String>, String>;

    /// Jobs queued or running that will report `testcase` for `subject`.
    ///
    /// # Errors
    /// The queue cannot be read.
    fn pending(&mut self, subject: &Subject, testcase: &str) -> Result<Vec<PendingJob>, String>;
}

/// What a requirement says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `test-result-passed`.
    Passed,
    /// `test-result-missing`.
    Missing,
    /// `test-result-failed`.
    Failed,
    /// `test-result-errored`.
    Errored,
    /// `invalid-gating-yaml`.
    InvalidGatingYaml,
    /// `missing-gating-yaml`.
    MissingGatingYaml,
    /// `excluded`: the policy's `excluded_packages` names the package.
    Excluded,
    /// `blacklisted`: the policy's `blacklist` names the package.
    Blacklisted,
    /// `test-result-missing-waived`.
    MissingWaived,
    /// `test-result-failed-waived`.
    FailedWaived,
    /// `test-result-errored-waived`.
    ErroredWaived,
}

impl Kind {
    /// Greenwave's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Passed => "test-result-passed",
            Kind::Missing => "test-result-missing",
            Kind::Failed => "test-result-failed",
            Kind::Errored => "test-result-errored",
            Kind::InvalidGatingYaml => "invalid-gating-yaml",
            Kind::MissingGatingYaml => "missing-gating-yaml",
            Kind::Excluded => "excluded",
            Kind::Blacklisted => "blacklisted",
            Kind::MissingWaived => "test-result-missing-waived",
            Kind::FailedWaived => "test-result-failed-waived",
            Kind::ErroredWaived => "test-result-errored-waived",
        }
    }

    /// Whether it lets the subject through.
    pub fn is_satisfied(self) -> bool {
        !matches!(
            self,
            Kind::Missing
                | Kind::Failed
                | Kind::Errored
                | Kind::InvalidGatingYaml
                | Kind::MissingGatingYaml
        )
    }

    fn waived(self) -> Option<Kind> {
        match self {
            Kind::Missing => Some(Kind::MissingWaived),
            Kind::Failed => Some(Kind::FailedWaived),
            Kind::Errored => Some(Kind::ErroredWaived),
            _ => None,
        }
    }
}

/// One requirement of the decision, satisfied or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// What it says.
    pub kind: Kind,
    /// The testcase (`invalid-gating-yaml` for a bad `gating.yaml`, as Greenwave).
    pub testcase: String,
    /// The subject it is about.
    pub subject: Subject,
    /// The result it rests on.
    pub result_id: Option<i64>,
    /// The rule's or the result's scenario.
    pub scenario: Option<String>,
    /// The result's architecture.
    pub system_architecture: Option<String>,
    /// The result's variant.
    pub system_variant: Option<String>,
    /// Why the test errored.
    pub error_reason: Option<String>,
    /// The waiver that satisfied it.
    pub waiver_id: Option<i64>,
    /// What is wrong with the `gating.yaml`, with its place.
    pub details: Option<String>,
    /// The job that will produce the missing result.
    pub job: Option<PendingJob>,
}

impl Requirement {
    fn new(kind: Kind, testcase: &str, subject: &Subject) -> Self {
        Self {
            kind,
            testcase: testcase.to_string(),
            subject: subject.clone(),
            result_id: None,
            scenario: None,
            system_architecture: None,
            system_variant: None,
            error_reason: None,
            waiver_id: None,
            details: None,
            job: None,
        }
    }

    /// Greenwave's JSON for it, with the deprecated `item` where Greenwave keeps it.
    pub fn to_json(&self) -> Value {
        let mut o = serde_json::Map::new();
        o.insert("type".into(), json!(self.kind.as_str()));
        if !matches!(self.kind, Kind::Excluded | Kind::Blacklisted) {
            o.insert("testcase".into(), json!(self.testcase));
        }
        o.insert("subject_type".into(), json!(self.subject.kind));
        o.insert("subject_identifier".into(), json!(self.subject.identifier));
        if matches!(self.kind, Kind::Missing | Kind::Failed | Kind::Errored) {
            o.insert("item".into(), self.subject.to_item());
        }
        if matches!(
            self.kind,
            Kind::Missing
                | Kind::Failed
                | Kind::Errored
                | Kind::MissingWaived
                | Kind::FailedWaived
                | Kind::ErroredWaived
        ) {
            o.insert("scenario".into(), json!(self.scenario));
        }
        if let Some(id) = self.result_id {
            o.insert("result_id".into(), json!(id));
        }
        if self.system_architecture.is_some() || self.result_id.is_some() {
            o.insert(
                "system_architecture".into(),
                json!(self.system_architecture),
            );
            o.insert("system_variant".into(), json!(self.system_variant));
        }
        if matches!(self.kind, Kind::Errored | Kind::ErroredWaived) {
            o.insert("error_reason".into(), json!(self.error_reason));
        }
        if let Some(w) = self.waiver_id {
            o.insert("waiver_id".into(), json!(w));
        }
        if let Some(d) = &self.details {
            o.insert("details".into(), json!(d));
        }
        if let Some(j) = &self.job {
            o.insert(
                "job".into(),
                json!({"uuid": j.uuid, "state": j.state, "url": j.url, "arch": j.arch}),
            );
        }
        Value::Object(o)
    }
}

/// The answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Whether every requirement is satisfied.
    pub policies_satisfied: bool,
    /// One sentence, Greenwave's words.
    pub summary: String,
    /// The ids of the policies that applied.
    pub applicable_policies: Vec<String>,
    /// Every requirement, in evaluation order.
    pub requirements: Vec<Requirement>,
    /// The results looked at (`verbose`).
    pub results: Option<Vec<Value>>,
    /// The waivers looked at (`verbose`).
    pub waivers: Option<Vec<Value>>,
}

impl Decision {
    /// The unsatisfied requirements.
    pub fn unsatisfied(&self) -> impl Iterator<Item = &Requirement> {
        self.requirements.iter().filter(|r| !r.kind.is_satisfied())
    }

    /// The satisfied requirements.
    pub fn satisfied(&self) -> impl Iterator<Item = &Requirement> {
        self.requirements.iter().filter(|r| r.kind.is_satisfied())
    }

    /// Greenwave's response body.
    pub fn to_json(&self) -> Value {
        let mut o = json!({
            "policies_satisfied": self.policies_satisfied,
            "summary": self.summary,
            "applicable_policies": self.applicable_policies,
            "satisfied_requirements": self.satisfied().map(Requirement::to_json).collect::<Vec<_>>(),
            "unsatisfied_requirements": self.unsatisfied().map(Requirement::to_json).collect::<Vec<_>>(),
        });
        if let (Some(r), Some(w)) = (&self.results, &self.waivers) {
            o["results"] = json!(r);
            o["waivers"] = json!(w);
        }
        o
    }
}

/// Why there is no decision.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    /// A field of the request is wrong (HTTP 400).
    #[error(transparent)]
    BadRequest(#[from] FieldError),
    /// No policy applies to any subject here (HTTP 404, as Greenwave).
    #[error("{0}")]
    NoPolicies(String),
    /// A fact could not be read (HTTP 502).
    #[error("{0}")]
    Facts(String),
}

/// Greenwave's summary sentence, with how many missing results are on their way.
fn summarize(reqs: &[Requirement]) -> String {
    if reqs.is_empty() {
        return "no tests are required".into();
    }
    let total = reqs.len();
    let missing = reqs.iter().filter(|r| r.kind == Kind::Missing).count();
    let failed = reqs.iter().filter(|r| !r.kind.is_satisfied()).count() - missing;
    let errored = reqs.iter().filter(|r| r.kind == Kind::Errored).count();
    let mut s = if failed > 0 && missing > 0 {
        format!(
            "{failed} of {total} required tests failed, {missing} result{} missing",
            if missing > 1 { "s" } else { "" }
        )
    } else if failed > 0 {
        format!("{failed} of {total} required tests failed")
    } else if missing > 0 {
        format!("{missing} of {total} required test results missing")
    } else {
        "All required tests passed".into()
    };
    if errored > 0 {
        s.push_str(&format!(
            " ({errored} {})",
            if errored == 1 { "error" } else { "errors" }
        ));
    }
    let on_way = |state: &str| {
        reqs.iter()
            .filter(|r| r.kind == Kind::Missing && r.job.as_ref().is_some_and(|j| j.state == state))
            .count()
    };
    let (queued, running) = (on_way("queued"), on_way("running"));
    let mut parts = Vec::new();
    if queued > 0 {
        parts.push(format!("{queued} queued"));
    }
    if running > 0 {
        parts.push(format!("{running} running"));
    }
    if !parts.is_empty() {
        s.push_str(&format!(" ({})", parts.join(", ")));
    }
    s
}

/// Whether `at` lies in the rule's window; times compare as written (ISO 8601).
fn in_window(since: Option<&str>, until: Option<&str>, at: &str) -> bool {
    let norm = |s: &str| s.replace(' ', "T").trim_end_matches('Z').to_string();
    let at = norm(at);
    since.is_none_or(|s| norm(s) <= at) && until.is_none_or(|u| at < norm(u))
}

struct Evaluation<'a, F: Facts> {
    facts: &'a mut F,
    request: &'a DecisionRequest,
    at: String,
    results: Vec<Value>,
    seen_results: BTreeSet<i64>,
}

impl<F: Facts> Evaluation<'_, F> {
    fn policy(
        &mut self,
        policy: &Policy,
        subject: &Subject,
        remote_allowed: bool,
    ) -> Result<Vec<Requirement>, DecisionError> {
        if let Some(name) = subject.package_name() {
            if policy.blacklist.iter().any(|b| b == name) {
                return Ok(policy
                    .rules
                    .iter()
                    .map(|_| Requirement::new(Kind::Blacklisted, "", subject))
                    .collect());
            }
            if policy
                .excluded_packages
                .iter()
                .any(|p| crate::glob::matches(p, name))
            {
                return Ok(policy
                    .rules
                    .iter()
                    .map(|_| Requirement::new(Kind::Excluded, "", subject))
                    .collect());
            }
            if !policy.packages.is_empty()
                && !policy
                    .packages
                    .iter()
                    .any(|p| crate::glob::matches(p, name))
            {
                return Ok(Vec::new());
            }
        }
        let mut out = Vec::new();
        for rule in &policy.rules {
            match rule {
                Rule::PassingTestCase {
                    test_case_name,
                    scenario,
                    valid_since,
                    valid_until,
                } => {
                    if !in_window(valid_since.as_deref(), valid_until.as_deref(), &self.at) {
                        continue;
                    }
                    out.extend(self.passing(subject, test_case_name, scenario.as_deref())?);
                }
                Rule::Remote { required } if remote_allowed => {
                    out.extend(self.remote(policy, subject, *required)?);
                }
                Rule::Remote { .. } => {}
            }
        }
        Ok(out)
    }

    fn passing(
        &mut self,
        subject: &Subject,
        testcase: &str,
        scenario: Option<&str>,
    ) -> Result<Vec<Requirement>, DecisionError> {
        let mut results = self
            .facts
            .results(subject, testcase)
            .map_err(DecisionError::Facts)?;
        results.retain(|r| !self.request.ignore_result.contains(&r.id));
        if let Some(s) = scenario {
            results.retain(|r| r.scenario.as_deref() == Some(s));
        }
        if results.is_empty() {
            let mut req = Requirement::new(Kind::Missing, testcase, subject);
            req.scenario = scenario.map(str::to_string);
            req.job = self
                .facts
                .pending(subject, testcase)
                .map_err(DecisionError::Facts)?
                .into_iter()
                .next();
            return Ok(vec![req]);
        }
        let mut out = Vec::with_capacity(results.len());
        for r in results {
            if self.request.verbose && self.seen_results.insert(r.id) {
                self.results.push(r.json.clone());
            }
            let kind = match r.outcome.as_str() {
                "PASSED" | "INFO" => Kind::Passed,
                "QUEUED" | "RUNNING" => Kind::Missing,
                "ERROR" => Kind::Errored,
                _ => Kind::Failed,
            };
            let mut req = Requirement::new(kind, testcase, subject);
            if kind == Kind::Missing {
                // The result says the job is on its way; say which, if we know.
                req.scenario = scenario.map(str::to_string);
                req.job = self
                    .facts
                    .pending(subject, testcase)
                    .map_err(DecisionError::Facts)?
                    .into_iter()
                    .next()
                    .or(Some(PendingJob {
                        uuid: String::new(),
                        state: r.outcome.to_lowercase(),
                        url: None,
                        arch: r.system_architecture.clone().unwrap_or_default(),
                    }));
            } else {
                req.result_id = Some(r.id);
                req.scenario = r.scenario.clone().or(scenario.map(str::to_string));
                req.system_architecture = r.system_architecture.clone();
                req.system_variant = r.system_variant.clone();
                req.error_reason = r.error_reason.clone();
            }
            out.push(req);
        }
        Ok(out)
    }

    fn remote(
        &mut self,
        parent: &Policy,
        subject: &Subject,
        required: bool,
    ) -> Result<Vec<Requirement>, DecisionError> {
        if !matches!(subject.kind.as_str(), "koji_build" | "brew-build") {
            return Ok(Vec::new());
        }
        let (name, text) = match self
            .facts
            .gating_yaml(subject)
            .map_err(DecisionError::Facts)?
        {
            GatingYaml::Missing if required => {
                return Ok(vec![Requirement::new(
                    Kind::MissingGatingYaml,
                    "missing-gating-yaml",
                    subject,
                )])
            }
            GatingYaml::Missing => return Ok(Vec::new()),
            GatingYaml::Found { name, text } => (name, text),
        };
        let policies = match parse_policies(&text, Some(Path::new(&name)), Origin::Remote) {
            Ok(p) => p,
            Err(diagnostics) => {
                let mut req =
                    Requirement::new(Kind::InvalidGatingYaml, "invalid-gating-yaml", subject);
                req.details = Some(
                    diagnostics
                        .iter()
                        .map(|d| {
                            let at = d
                                .location
                                .map_or(String::new(), |l| format!(":{}:{}", l.line, l.column));
                            let help = d
                                .help
                                .as_deref()
                                .map_or(String::new(), |h| format!(" ({h})"));
                            format!("{name}{at}: {}{help}", d.message)
                        })
                        .collect::<Vec<_>>()
                        .join("; "),
                );
                return Ok(vec![req]);
            }
        };
        let mut out = Vec::new();
        for p in &policies {
            let contexts_meet = p.decision_contexts.iter().any(|c| {
                self.request.decision_contexts.contains(c) || parent.decision_contexts.contains(c)
            });
            if contexts_meet && p.matches_product_version(&self.request.product_version) {
                out.extend(self.policy(p, subject, false)?);
            }
        }
        Ok(out)
    }
}

/// Decides `request` under `policies` with what `facts` says; `now` (ISO 8601) is
/// the time the rules' windows are read at unless the request says `when`.
///
/// # Errors
/// A decision context no policy names (with a suggestion), no policy applying to
/// any subject, or facts that cannot be read.
pub fn decide<F: Facts>(
    request: &DecisionRequest,
    policies: &[Policy],
    facts: &mut F,
    now: &str,
) -> Result<Decision, DecisionError> {
    let on_demand;
    let policies: &[Policy] = match &request.rules {
        Some(rules) => {
            on_demand = [Policy {
                id: Some("on-demand-policy".into()),
                product_versions: vec![request.product_version.clone()],
                decision_contexts: vec!["on-demand-policy".into()],
                subject_types: request.subjects.iter().map(|s| s.kind.clone()).collect(),
                rules: rules.clone(),
                packages: Vec::new(),
                excluded_packages: Vec::new(),
                blacklist: Vec::new(),
                source: "the request's rules".into(),
            }];
            &on_demand
        }
        None => {
            let known: BTreeSet<&str> = policies
                .iter()
                .flat_map(|p| p.decision_contexts.iter().map(String::as_str))
                .collect();
            for c in &request.decision_contexts {
                if !known.contains(c.as_str()) {
                    let mut message = format!("unknown decision context `{c}`");
                    match did_you_mean(c, known.iter().copied()) {
                        Some(s) => message.push_str(&format!("; did you mean `{s}`?")),
                        None if known.is_empty() => {
                            message.push_str("; no policies are configured")
                        }
                        None => message.push_str(&format!(
                            "; the policies know {}",
                            known
                                .iter()
                                .map(|k| format!("`{k}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    }
                    return Err(FieldError::new("decision_context", message).into());
                }
            }
            policies
        }
    };
    let contexts: Vec<String> = if request.rules.is_some() {
        vec!["on-demand-policy".into()]
    } else {
        request.decision_contexts.clone()
    };
    // An update brings its builds, as Greenwave asks Bodhi for them.
    let mut subjects = request.subjects.clone();
    for s in &request.subjects {
        if s.kind == "bodhi_update" {
            for nvr in facts
                .builds_of_update(&s.identifier)
                .map_err(DecisionError::Facts)?
            {
                let b = Subject::new("koji_build", nvr);
                if !subjects.contains(&b) {
                    subjects.push(b);
                }
            }
        }
    }
    let mut eval = Evaluation {
        facts,
        request,
        at: request.when.clone().unwrap_or_else(|| now.to_string()),
        results: Vec::new(),
        seen_results: BTreeSet::new(),
    };
    let mut applicable: Vec<String> = Vec::new();
    let mut reqs: Vec<Requirement> = Vec::new();
    for subject in &subjects {
        for p in policies
            .iter()
            .filter(|p| p.applies_to(&contexts, &request.product_version, &subject.kind))
        {
            if !applicable.iter().any(|a| a == p.name()) {
                applicable.push(p.name().to_string());
            }
            for r in eval.policy(p, subject, true)? {
                if !reqs.contains(&r) {
                    reqs.push(r);
                }
            }
        }
    }
    if applicable.is_empty() {
        let kinds: BTreeSet<&str> = subjects.iter().map(|s| s.kind.as_str()).collect();
        return Err(DecisionError::NoPolicies(format!(
            "Found no applicable policies for {} subjects at gating point(s) {} in {}",
            kinds.into_iter().collect::<Vec<_>>().join(", "),
            contexts.join(", "),
            request.product_version
        )));
    }
    let mut waivers = eval
        .facts
        .waivers(&subjects, &request.product_version)
        .map_err(DecisionError::Facts)?;
    waivers.retain(|w| !request.ignore_waiver.contains(&w.id));
    for r in &mut reqs {
        let Some(waived) = r.kind.waived() else {
            continue;
        };
        // The newest waiver for this subject and testcase decides (a revocation
        // is a newer one with `waived: false`).
        let w = waivers
            .iter()
            .filter(|w| {
                w.waiver.subject == r.subject
                    && w.waiver.testcase == r.testcase
                    && w.waiver.product_version == request.product_version
                    && (w.waiver.scenario.is_none() || w.waiver.scenario == r.scenario)
            })
            .max_by_key(|w| (w.timestamp.clone(), w.id));
        if let Some(w) = w.filter(|w| w.waiver.waived) {
            r.kind = waived;
            r.waiver_id = Some(w.id);
        }
    }
    let results = request.verbose.then(|| std::mem::take(&mut eval.results));
    Ok(Decision {
        policies_satisfied: reqs.iter().all(|r| r.kind.is_satisfied()),
        summary: summarize(&reqs),
        applicable_policies: applicable,
        requirements: reqs,
        results,
        waivers: request
            .verbose
            .then(|| waivers.iter().map(Waiver::to_json).collect()),
    })
}

#[cfg(test)]
mod tests;
