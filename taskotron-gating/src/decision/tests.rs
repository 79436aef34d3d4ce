//! The decision over plain values: a [`Memory`] of results, waivers, `gating.yaml`
//! files, updates and jobs.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::waiver::NewWaiver;

#[derive(Default)]
struct Memory {
    /// (item, testcase) → results, newest first.
    results: BTreeMap<(String, String), Vec<ResultFact>>,
    waivers: Vec<Waiver>,
    gating: BTreeMap<String, String>,
    updates: BTreeMap<String, Vec<String>>,
    pending: Vec<(String, String, PendingJob)>,
}

impl Memory {
    fn result(
        &mut self,
        item: &str,
        testcase: &str,
        id: i64,
        outcome: &str,
        arch: Option<&str>,
    ) -> &mut Self {
        self.results
            .entry((item.into(), testcase.into()))
            .or_default()
            .insert(
                0,
                ResultFact {
                    id,
                    testcase: testcase.into(),
                    outcome: outcome.into(),
                    scenario: None,
                    system_architecture: arch.map(str::to_string),
                    system_variant: None,
                    error_reason: (outcome == "ERROR").then(|| "the VM did not boot".into()),
                    json: json!({"id": id}),
                },
            );
        self
    }

    fn waive(&mut self, id: i64, item: &str, testcase: &str, waived: bool, at: &str) -> &mut Self {
        self.waivers.push(Waiver {
            id,
            waiver: NewWaiver {
                subject: Subject::new("koji_build", item),
                testcase: testcase.into(),
                product_version: "fedora-41".into(),
                waived,
                comment: "known".into(),
                scenario: None,
            },
            username: "qa".into(),
            timestamp: at.into(),
        });
        self
    }
}

impl Facts for Memory {
    fn results(&mut self, subject: &Subject, testcase: &str) -> Result<Vec<ResultFact>, String> {
        let all = self
            .results
            .get(&(subject.identifier.clone(), testcase.to_string()))
            .cloned()
            .unwrap_or_default();
        // Latest per architecture, as the store answers.
        let mut seen = BTreeSet::new();
        Ok(all
            .into_iter()
            .filter(|r| seen.insert(r.system_architecture.clone()))
            .collect())
    }
    fn waivers(&mut self, _: &[Subject], _: &str) -> Result<Vec<Waiver>, String> {
        Ok(self.waivers.clone())
    }
    fn gating_yaml(&mut self, subject: &Subject) -> Result<GatingYaml, String> {
        Ok(match self.gating.get(&subject.identifier) {
            Some(t) => GatingYaml::Found {
                name: format!("{}/gating.yaml", subject.package_name().unwrap_or("?")),
                text: t.clone(),
            },
            None => GatingYaml::Missing,
        })
    }
    fn builds_of_update(&mut self, alias: &str) -> Result<Vec<String>, String> {
        Ok(self.updates.get(alias).cloned().unwrap_or_default())
    }
    fn pending(&mut self, subject: &Subject, testcase: &str) -> Result<Vec<PendingJob>, String> {
        Ok(self
            .pending
            .iter()
            .filter(|(i, t, _)| *i == subject.identifier && t == testcase)
            .map(|(_, _, j)| j.clone())
            .collect())
    }
}

const POLICIES: &str = "--- !Policy
id: taskotron_release_critical_tasks
product_versions: [fedora-*]
decision_context: bodhi_update_push_stable
subject_type: koji_build
excluded_packages: [kernel*]
rules:
  - !PassingTestCaseRule {test_case_name: dist.rpmdeplint}
  - !PassingTestCaseRule {test_case_name: dist.upgradepath}
--- !Policy
id: remote
product_versions: [fedora-*]
decision_context: bodhi_update_push_stable
subject_type: koji_build
rules:
  - !RemoteRule {}
--- !Policy
id: updates
product_versions: [fedora-*]
decision_contexts: [bodhi_update_push_stable]
subject_type: bodhi_update
rules: []
";

fn policies() -> Vec<Policy> {
    parse_policies(POLICIES, None, Origin::Config).unwrap()
}

fn ask(subjects: serde_json::Value) -> DecisionRequest {
    DecisionRequest::from_json(&json!({
        "decision_context": "bodhi_update_push_stable",
        "product_version": "fedora-41",
        "subject": subjects,
    }))
    .unwrap()
}

fn build(nvr: &str) -> serde_json::Value {
    json!([{"item": nvr, "type": "koji_build"}])
}

const NOW: &str = "2026-12-07T12:00:00";

fn kinds(d: &Decision) -> Vec<(&'static str, String)> {
    d.requirements
        .iter()
        .map(|r| (r.kind.as_str(), r.testcase.clone()))
        .collect()
}

#[test]
fn passing_failing_and_missing() {
    let mut m = Memory::default();
    m.result("htop-3.3.0-1.fc41", "dist.rpmdeplint", 1, "PASSED", None);
    let d = decide(&ask(build("htop-3.3.0-1.fc41")), &policies(), &mut m, NOW).unwrap();
    assert!(!d.policies_satisfied);
    assert_eq!(d.summary, "1 of 2 required test results missing");
    assert_eq!(
        d.applicable_policies,
        ["taskotron_release_critical_tasks", "remote"]
    );
    m.result("htop-3.3.0-1.fc41", "dist.upgradepath", 2, "FAILED", None);
    let d = decide(&ask(build("htop-3.3.0-1.fc41")), &policies(), &mut m, NOW).unwrap();
    assert_eq!(d.summary, "1 of 2 required tests failed");
    let j = d.to_json();
    assert_eq!(
        j["unsatisfied_requirements"][0]["type"],
        "test-result-failed"
    );
    assert_eq!(j["unsatisfied_requirements"][0]["result_id"], 2);
    assert_eq!(
        j["unsatisfied_requirements"][0]["item"],
        json!({"type": "koji_build", "item": "htop-3.3.0-1.fc41"})
    );
    assert_eq!(j["satisfied_requirements"][0]["type"], "test-result-passed");
    // A newer pass replaces the failure: only the latest counts.
    m.result("htop-3.3.0-1.fc41", "dist.upgradepath", 3, "INFO", None);
    let d = decide(&ask(build("htop-3.3.0-1.fc41")), &policies(), &mut m, NOW).unwrap();
    assert!(d.policies_satisfied);
    assert_eq!(d.summary, "All required tests passed");
}

#[test]
fn every_architecture_counts_and_errors_are_errors() {
    let mut m = Memory::default();
    m.result("a-1-1.fc41", "dist.rpmdeplint", 1, "PASSED", Some("x86_64"))
        .result("a-1-1.fc41", "dist.rpmdeplint", 2, "ERROR", Some("aarch64"))
        .result("a-1-1.fc41", "dist.upgradepath", 3, "PASSED", None);
    let d = decide(&ask(build("a-1-1.fc41")), &policies(), &mut m, NOW).unwrap();
    assert_eq!(d.summary, "1 of 3 required tests failed (1 error)");
    let j = d.to_json();
    let e = &j["unsatisfied_requirements"][0];
    assert_eq!(e["type"], "test-result-errored");
    assert_eq!(e["system_architecture"], "aarch64");
    assert_eq!(e["error_reason"], "the VM did not boot");
}

#[test]
fn waivers_and_revocations() {
    let mut m = Memory::default();
    m.result("a-1-1.fc41", "dist.rpmdeplint", 1, "FAILED", None);
    m.waive(
        7,
        "a-1-1.fc41",
        "dist.rpmdeplint",
        true,
        "2026-12-01T00:00:00",
    )
    .waive(
        8,
        "a-1-1.fc41",
        "dist.upgradepath",
        true,
        "2026-12-01T00:00:00",
    );
    let d = decide(&ask(build("a-1-1.fc41")), &policies(), &mut m, NOW).unwrap();
    assert!(d.policies_satisfied, "{:?}", kinds(&d));
    assert_eq!(
        kinds(&d),
        [
            ("test-result-failed-waived", "dist.rpmdeplint".to_string()),
            ("test-result-missing-waived", "dist.upgradepath".to_string())
        ]
    );
    assert_eq!(d.requirements[0].waiver_id, Some(7));
    // Ignoring the waiver, and revoking it, both bring the failure back.
    let mut r = ask(build("a-1-1.fc41"));
    r.ignore_waiver = vec![7];
    assert!(
        !decide(&r, &policies(), &mut m, NOW)
            .unwrap()
            .policies_satisfied
    );
    m.waive(
        9,
        "a-1-1.fc41",
        "dist.rpmdeplint",
        false,
        "2026-12-02T00:00:00",
    );
    let d = decide(&ask(build("a-1-1.fc41")), &policies(), &mut m, NOW).unwrap();
    assert_eq!(d.requirements[0].kind, Kind::Failed);
}

#[test]
fn excluded_packages_and_updates_bring_their_builds() {
    let mut m = Memory::default();
    let d = decide(&ask(build("kernel-6.1-1.fc41")), &policies(), &mut m, NOW).unwrap();
    assert!(d.policies_satisfied);
    assert_eq!(d.requirements[0].kind, Kind::Excluded);
    m.updates.insert(
        "FEDORA-2026-1".into(),
        vec!["a-1-1.fc41".into(), "b-1-1.fc41".into()],
    );
    m.result("a-1-1.fc41", "dist.rpmdeplint", 1, "PASSED", None)
        .result("a-1-1.fc41", "dist.upgradepath", 2, "PASSED", None)
        .result("b-1-1.fc41", "dist.rpmdeplint", 3, "PASSED", None)
        .result("b-1-1.fc41", "dist.upgradepath", 4, "FAILED", None);
    let d = decide(
        &ask(json!([{"item": "FEDORA-2026-1", "type": "bodhi_update"}])),
        &policies(),
        &mut m,
        NOW,
    )
    .unwrap();
    assert_eq!(d.summary, "1 of 4 required tests failed");
    assert_eq!(
        d.unsatisfied().next().unwrap().subject.identifier,
        "b-1-1.fc41"
    );
    assert_eq!(
        d.applicable_policies,
        ["updates", "taskotron_release_critical_tasks", "remote"]
    );
}

#[test]
fn a_missing_result_says_its_job_is_queued() {
    let mut m = Memory::default();
    m.result("a-1-1.fc41", "dist.rpmdeplint", 1, "PASSED", None);
    m.pending.push((
        "a-1-1.fc41".into(),
        "dist.upgradepath".into(),
        PendingJob {
            uuid: "u1".into(),
            state: "queued".into(),
            url: Some("http://h/jobs/u1".into()),
            arch: "x86_64".into(),
        },
    ));
    let d = decide(&ask(build("a-1-1.fc41")), &policies(), &mut m, NOW).unwrap();
    assert_eq!(d.summary, "1 of 2 required test results missing (1 queued)");
    let j = d.to_json();
    assert_eq!(
        j["unsatisfied_requirements"][0]["type"],
        "test-result-missing"
    );
    assert_eq!(
        j["unsatisfied_requirements"][0]["job"]["url"],
        "http://h/jobs/u1"
    );
    // A RUNNING result is missing too, and says running.
    m.pending.clear();
    m.result("a-1-1.fc41", "dist.upgradepath", 2, "RUNNING", None);
    let d = decide(&ask(build("a-1-1.fc41")), &policies(), &mut m, NOW).unwrap();
    assert_eq!(
        d.summary,
        "1 of 2 required test results missing (1 running)"
    );
}

#[test]
fn gating_yaml_from_dist_git() {
    let mut m = Memory::default();
    m.result("a-1-1.fc41", "dist.rpmdeplint", 1, "PASSED", None)
        .result("a-1-1.fc41", "dist.upgradepath", 2, "PASSED", None);
    m.gating.insert(
        "a-1-1.fc41".into(),
        "--- !Policy\nproduct_versions: [fedora-*]\ndecision_contexts: [bodhi_update_push_stable]\nrules:\n  - !PassingTestCaseRule {test_case_name: fedora-ci.koji-build.tier0.functional}\n".into(),
    );
    let d = decide(&ask(build("a-1-1.fc41")), &policies(), &mut m, NOW).unwrap();
    assert_eq!(d.summary, "1 of 3 required test results missing");
    assert_eq!(
        d.unsatisfied().next().unwrap().testcase,
        "fedora-ci.koji-build.tier0.functional"
    );
    m.gating.insert("a-1-1.fc41".into(), "--- !Policy\nproduct_versions: [fedora-*]\ndecision_context: bodhi_update_push_stable\nrules:\n  - !PassingTestCase {test_case_name: x}\n".into());
    let d = decide(&ask(build("a-1-1.fc41")), &policies(), &mut m, NOW).unwrap();
    let bad = d.unsatisfied().next().unwrap();
    assert_eq!(bad.kind, Kind::InvalidGatingYaml);
    assert_eq!(
        bad.details.as_deref(),
        Some("a/gating.yaml:5:5: unknown rule `!PassingTestCase` (did you mean `!PassingTestCaseRule`?)")
    );
    // Waivers do not reach a bad gating.yaml.
    m.waive(
        1,
        "a-1-1.fc41",
        "invalid-gating-yaml",
        true,
        "2026-12-01T00:00:00",
    );
    assert!(
        !decide(&ask(build("a-1-1.fc41")), &policies(), &mut m, NOW)
            .unwrap()
            .policies_satisfied
    );
}

#[test]
fn required_remote_rule_wants_the_file() {
    let p = parse_policies(
        "--- !Policy\nid: r\nproduct_versions: ['*']\ndecision_context: c\nsubject_type: koji_build\nrules:\n  - !RemoteRule {required: true}\n",
        None,
        Origin::Config,
    )
    .unwrap();
    let r = DecisionRequest::from_json(&json!({"decision_context": "c", "product_version": "fedora-41", "subject_type": "koji_build", "subject_identifier": "a-1-1"})).unwrap();
    let d = decide(&r, &p, &mut Memory::default(), NOW).unwrap();
    assert_eq!(
        kinds(&d),
        [("missing-gating-yaml", "missing-gating-yaml".to_string())]
    );
}

#[test]
fn bad_contexts_and_no_policies() {
    let r = DecisionRequest::from_json(&json!({"decision_context": "bodhi_update_push_stabel", "product_version": "fedora-41", "subject_type": "koji_build", "subject_identifier": "a-1-1"})).unwrap();
    match decide(&r, &policies(), &mut Memory::default(), NOW) {
        Err(DecisionError::BadRequest(e)) => {
            assert_eq!(e.field, "decision_context");
            assert!(
                e.message
                    .contains("did you mean `bodhi_update_push_stable`?"),
                "{}",
                e.message
            );
        }
        other => panic!("{other:?}"),
    }
    let r = DecisionRequest::from_json(&json!({"decision_context": "bodhi_update_push_stable", "product_version": "epel-9", "subject_type": "koji_build", "subject_identifier": "a-1-1"})).unwrap();
    assert_eq!(
        decide(&r, &policies(), &mut Memory::default(), NOW),
        Err(DecisionError::NoPolicies(
            "Found no applicable policies for koji_build subjects at gating point(s) bodhi_update_push_stable in epel-9".into()
        ))
    );
}

#[test]
fn on_demand_rules_windows_and_ignored_results() {
    let mut m = Memory::default();
    m.result("a-1-1", "t1", 1, "FAILED", None);
    let r = DecisionRequest::from_json(&json!({"product_version": "fedora-41", "subject_type": "koji_build", "subject_identifier": "a-1-1", "rules": [{"type": "PassingTestCaseRule", "test_case_name": "t1"}], "verbose": true})).unwrap();
    let d = decide(&r, &[], &mut m, NOW).unwrap();
    assert_eq!(d.applicable_policies, ["on-demand-policy"]);
    assert_eq!(d.summary, "1 of 1 required tests failed");
    assert_eq!(d.to_json()["results"], json!([{"id": 1}]));
    let mut r2 = r.clone();
    r2.ignore_result = vec![1];
    assert_eq!(
        decide(&r2, &[], &mut m, NOW).unwrap().summary,
        "1 of 1 required test results missing"
    );

    let p = parse_policies(
        "--- !Policy\nid: w\nproduct_versions: ['*']\ndecision_context: c\nsubject_type: koji_build\nrules:\n  - !PassingTestCaseRule {test_case_name: t1, valid_since: '2027-01-01'}\n",
        None,
        Origin::Config,
    )
    .unwrap();
    let r = DecisionRequest::from_json(&json!({"decision_context": "c", "product_version": "f", "subject_type": "koji_build", "subject_identifier": "a-1-1"})).unwrap();
    assert_eq!(
        decide(&r, &p, &mut m, NOW).unwrap().summary,
        "no tests are required"
    );
    let mut later = r.clone();
    later.when = Some("2027-02-01T00:00:00Z".into());
    assert_eq!(
        decide(&later, &p, &mut m, NOW).unwrap().summary,
        "1 of 1 required tests failed"
    );
}
