//! Gating as a user meets it: `taskotron decide` and `taskotron waive` over results
//! reported into the embedded store, policies from `gating_policies` and from a
//! package's dist-git `gating.yaml` (a real git repository behind a git daemon,
//! Koji naming the commit), the web's Greenwave and WaiverDB APIs, and the same
//! decisions asked of a real Greenwave (from its PyPI sdist, in
//! `target/greenwave-venv`) pointed at our results and waivers APIs.

use std::path::Path;
use std::process::Output;

use serde_json::{json, Value};
use taskotron_tests::workers::{listening, Setup};

const POLICIES: &str = "--- !Policy
id: taskotron_release_critical_tasks
product_versions: [fedora-*]
decision_context: bodhi_update_push_stable
subject_type: koji_build
rules:
  - !PassingTestCaseRule {test_case_name: dist.rpmdeplint}
  - !PassingTestCaseRule {test_case_name: dist.upgradepath}
--- !Policy
id: updates
product_versions: [fedora-*]
decision_context: bodhi_update_push_stable
subject_type: bodhi_update
rules: []
";

/// A setup whose `gating_policies` is [`POLICIES`], with `results` (ResultYAML)
/// reported into its embedded store.
fn gated(results: &str) -> Setup {
    let s = Setup::new();
    let dir = s.dir.path();
    std::fs::write(dir.join("policies.yaml"), POLICIES).unwrap();
    s.configure(&format!(
        "gating_policies: {}\n",
        dir.join("policies.yaml").display()
    ));
    report(&s, results);
    s
}

fn report(s: &Setup, results: &str) {
    let file = s.dir.path().join(format!("results-{}.yml", uuid_ish()));
    std::fs::write(&file, results).unwrap();
    let o = s.command(&["report"]).arg(&file).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn uuid_ish() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn result(item: &str, checkname: &str, outcome: &str) -> String {
    format!("  - item: {item}\n    type: koji_build\n    checkname: {checkname}\n    outcome: {outcome}\n")
}

fn decide(s: &Setup, subjects: &[&str], extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec![
        "decide",
        "--context",
        "bodhi_update_push_stable",
        "--product-version",
        "fedora-41",
        "--format",
        "json",
    ];
    args.extend(subjects);
    args.extend(extra);
    let o = s.command(&args).output().unwrap();
    (
        code(&o),
        serde_json::from_slice(&o.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn unsatisfied(d: &Value) -> Vec<(String, String, String)> {
    d["unsatisfied_requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["type"].as_str().unwrap().to_string(),
                r["testcase"].as_str().unwrap_or_default().to_string(),
                r["subject_identifier"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn a_failing_required_test_blocks_and_a_waiver_lets_it_through() {
    let s = gated(&format!(
        "results:\n{}{}",
        result("htop-3.3.0-1.fc41", "dist.rpmdeplint", "PASSED"),
        result("htop-3.3.0-1.fc41", "dist.upgradepath", "FAILED"),
    ));
    let (c, d, _) = decide(&s, &["htop-3.3.0-1.fc41"], &[]);
    assert_eq!(c, 100, "{d:#}");
    assert_eq!(d["policies_satisfied"], false);
    assert_eq!(d["summary"], "1 of 2 required tests failed");
    assert_eq!(
        d["applicable_policies"],
        json!(["taskotron_release_critical_tasks"])
    );
    assert_eq!(
        unsatisfied(&d),
        [(
            "test-result-failed".into(),
            "dist.upgradepath".into(),
            "htop-3.3.0-1.fc41".into()
        )]
    );
    let failed_id = d["unsatisfied_requirements"][0]["result_id"]
        .as_i64()
        .unwrap();

    let o = s.ok(&[
        "waive",
        "htop-3.3.0-1.fc41",
        "dist.upgradepath",
        "--product-version",
        "fedora-41",
        "--comment",
        "the old version was retired",
        "--username",
        "qa",
    ]);
    assert!(String::from_utf8_lossy(&o.stdout)
        .starts_with("Waived dist.upgradepath for htop-3.3.0-1.fc41 in fedora-41 (waiver "));
    let (c, d, _) = decide(&s, &["htop-3.3.0-1.fc41"], &[]);
    assert_eq!(c, 0, "{d:#}");
    assert_eq!(d["summary"], "All required tests passed");
    let waived = &d["satisfied_requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["testcase"] == "dist.upgradepath")
        .unwrap()
        .clone();
    assert_eq!(waived["type"], "test-result-failed-waived");
    assert_eq!(waived["result_id"], failed_id);

    // A waiver for another product version does not count; a revocation ends it.
    let (c, _, _) = {
        let o = s
            .command(&[
                "decide",
                "htop-3.3.0-1.fc41",
                "--context",
                "bodhi_update_push_stable",
                "--product-version",
                "fedora-42",
            ])
            .output()
            .unwrap();
        (code(&o), (), ())
    };
    assert_eq!(c, 100);
    s.ok(&[
        "waive",
        "htop-3.3.0-1.fc41",
        "dist.upgradepath",
        "--product-version",
        "fedora-41",
        "--comment",
        "it matters again",
        "--revoke",
    ]);
    assert_eq!(decide(&s, &["htop-3.3.0-1.fc41"], &[]).0, 100);
    let o = s.ok(&["waive", "--list", "--all", "--format", "json"]);
    let listed: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
    assert_eq!(listed["data"][0]["waived"], false, "newest first");
    assert_eq!(listed["data"][1]["username"], "qa");

    // A newer pass replaces the failure: only the latest result counts.
    report(
        &s,
        &format!(
            "results:\n{}",
            result("htop-3.3.0-1.fc41", "dist.upgradepath", "PASSED")
        ),
    );
    let (c, d, _) = decide(&s, &["htop-3.3.0-1.fc41"], &[]);
    assert_eq!(
        (c, d["summary"].as_str()),
        (0, Some("All required tests passed"))
    );

    // Human output names the blocked test and its result.
    report(
        &s,
        &format!(
            "results:\n{}",
            result("grep-3.11-1.fc41", "dist.rpmdeplint", "FAILED")
        ),
    );
    let o = s
        .command(&[
            "decide",
            "grep-3.11-1.fc41",
            "--context",
            "bodhi_update_push_stable",
            "--product-version",
            "fedora-41",
        ])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with(
            "blocked grep-3.11-1.fc41: 1 of 2 required tests failed, 1 result missing\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("test-result-missing          dist.upgradepath"),
        "{out}"
    );
}

#[test]
fn an_update_brings_its_builds_and_a_queued_job_says_so() {
    let s = gated(&format!(
        "results:\n{}{}{}",
        result("htop-3.3.0-1.fc41", "dist.rpmdeplint", "PASSED"),
        result("htop-3.3.0-1.fc41", "dist.upgradepath", "PASSED"),
        result("grep-3.11-1.fc41", "dist.rpmdeplint", "PASSED"),
    ));
    let bodhi = taskotron_mock::bodhi::MockBodhi::new(
        &serde_yaml_fixture("updates:\n  - alias: FEDORA-2026-1a2b3c\n    builds: [htop-3.3.0-1.fc41, grep-3.11-1.fc41]\n"),
    );
    let server = bodhi.serve().unwrap();
    s.configure(&format!("bodhi_url: {}\n", server.url()));
    // grep's upgradepath job is queued: the decision says where it is.
    s.task(
        "upgradepath",
        "actions:\n  - name: pass\n    dummy: {result: PASS}\n",
    );
    s.ok(&[
        "schedule",
        "upgradepath",
        "-i",
        "grep-3.11-1.fc41",
        "-t",
        "koji_build",
    ]);
    let (c, d, _) = decide(&s, &["FEDORA-2026-1a2b3c"], &[]);
    assert_eq!(c, 100, "{d:#}");
    assert_eq!(
        d["summary"],
        "1 of 4 required test results missing (1 queued)"
    );
    assert_eq!(
        d["applicable_policies"],
        json!(["updates", "taskotron_release_critical_tasks"])
    );
    let missing = &d["unsatisfied_requirements"][0];
    assert_eq!(missing["subject_identifier"], "grep-3.11-1.fc41");
    assert_eq!(missing["job"]["state"], "queued");
    // The job runs (and reports nothing): its page shows the gate its build
    // stands before, decided now.
    s.ok(&["worker", "--once", "--arch", "noarch"]);
    let job = s.jobs()[0]["uuid"].as_str().unwrap().to_string();
    let (mut web, addr) = listening(&mut s.command(&["web", "--http", "127.0.0.1:0"]));
    let page = ureq::get(&format!("http://{addr}/jobs/{job}"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    let _ = web.kill();
    let _ = web.wait();
    assert!(
        page.contains("<dt>Gate <code>bodhi_update_push_stable</code></dt><dd class=\"gate newly-failing\">blocked (fedora-41): 1 of 2 required test results missing</dd>"),
        "{page}"
    );
}

fn serde_yaml_fixture(text: &str) -> taskotron_mock::bodhi::BodhiFixture {
    serde_norway::from_str(text).unwrap()
}

#[test]
fn bad_input_names_the_field_or_the_place() {
    let s = gated("results: []\n");
    let o = s
        .command(&[
            "decide",
            "a-1-1.fc41",
            "--context",
            "bodhi_update_push_stabel",
            "--product-version",
            "fedora-41",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("`decision_context`: unknown decision context `bodhi_update_push_stabel`; did you mean `bodhi_update_push_stable`?"), "{err}");

    let o = s
        .command(&[
            "decide",
            "a-1-1.fc41",
            "--context",
            "bodhi_update_push_stable",
            "--product-version",
            "epel-9",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&o), 4, "no policy applies");
    assert!(String::from_utf8_lossy(&o.stderr).contains("Found no applicable policies for koji_build subjects at gating point(s) bodhi_update_push_stable in epel-9"));

    let o = s
        .command(&[
            "decide",
            "a-1-1.fc41",
            "--context",
            "bodhi_update_push_stable",
            "--product-version",
            "fedora-41",
            "--subject-type",
            "koji-build",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("did you mean `koji_build`?"));

    let req = s.dir.path().join("req.json");
    std::fs::write(
        &req,
        "{\"decision_context\": \"x\",\n  \"product_version\": }",
    )
    .unwrap();
    let o = s
        .command(&["decide", "--request"])
        .arg(&req)
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("the request is not JSON"));

    // A policy file that is not a policy stops every decision, at its place.
    std::fs::write(
        s.dir.path().join("policies.yaml"),
        "--- !Policy\nid: a\nproduct_versions: [fedora-*]\ndecision_contexts: [c]\nsubject_type: koji_build\nrules:\n  - !PassingTestCaseRul {test_case_name: x}\n",
    )
    .unwrap();
    let o = s
        .command(&[
            "decide",
            "a-1-1.fc41",
            "--context",
            "c",
            "--product-version",
            "fedora-41",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("policies.yaml:7:5"), "{err}");
    assert!(err.contains("unknown rule `!PassingTestCaseRul`"), "{err}");
    assert!(
        err.contains("did you mean `!PassingTestCaseRule`?"),
        "{err}"
    );

    let o = s
        .command(&[
            "waive",
            "a-1-1.fc41",
            "dist.rpmlint",
            "--product-version",
            "fedora-41",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2, "a waiver needs a comment");
}

#[test]
fn gating_yaml_comes_from_dist_git_at_the_builds_commit() {
    use taskotron_tests::git::{publish, GitDaemon};
    let s = Setup::new();
    let root = s.dir.path();
    let repo = |name: &str, gating: Option<&str>| {
        let work = root.join("work").join(name);
        std::fs::create_dir_all(&work).unwrap();
        std::fs::write(work.join(format!("{name}.spec")), format!("Name: {name}\n")).unwrap();
        if let Some(g) = gating {
            std::fs::write(work.join("gating.yaml"), g).unwrap();
        }
        publish(&work, &root.join(format!("repos/rpms/{name}.git")))
    };
    let good = repo(
        "htop",
        Some("--- !Policy\nproduct_versions: [fedora-*]\ndecision_contexts: [bodhi_update_push_stable]\nrules:\n  - !PassingTestCaseRule {test_case_name: fedora-ci.koji-build.tier0.functional}\n"),
    );
    let bad = repo(
        "grep",
        Some("--- !Policy\nproduct_versions: [fedora-*]\ndecision_context: bodhi_update_push_stable\nrules:\n  - !PassingTestCase {test_case_name: x}\n"),
    );
    let none = repo("sed", None);
    let daemon = GitDaemon::start(&root.join("repos"), &root.join("daemon.log")).unwrap();
    let koji = taskotron_mock::koji::MockKoji::from_yaml(&format!(
        "builds:\n  - nvr: htop-3.3.0-1.fc41\n    source: git+git://127.0.0.1:{0}/rpms/htop.git#{good}\n  - nvr: grep-3.11-1.fc41\n    source: git+git://127.0.0.1:{0}/rpms/grep.git#{bad}\n  - nvr: sed-4.9-1.fc41\n    source: git+git://127.0.0.1:{0}/rpms/sed.git#{none}\n",
        daemon.port()
    ))
    .unwrap();
    let server = koji.serve().unwrap();
    std::fs::write(
        root.join("policies.yaml"),
        "--- !Policy\nid: remote\nproduct_versions: [fedora-*]\ndecision_context: bodhi_update_push_stable\nsubject_type: koji_build\nrules:\n  - !RemoteRule {}\n",
    )
    .unwrap();
    s.configure(&format!(
        "koji_url: {}/kojihub\ngating_policies: {}\n",
        server.url(),
        root.join("policies.yaml").display()
    ));
    report(
        &s,
        &format!(
            "results:\n{}",
            result(
                "htop-3.3.0-1.fc41",
                "fedora-ci.koji-build.tier0.functional",
                "FAILED"
            )
        ),
    );

    let (c, d, _) = decide(&s, &["htop-3.3.0-1.fc41"], &[]);
    assert_eq!(c, 100, "{d:#}");
    assert_eq!(
        unsatisfied(&d),
        [(
            "test-result-failed".into(),
            "fedora-ci.koji-build.tier0.functional".into(),
            "htop-3.3.0-1.fc41".into()
        )]
    );

    let (c, d, _) = decide(&s, &["grep-3.11-1.fc41"], &[]);
    assert_eq!(c, 100, "{d:#}");
    let r = &d["unsatisfied_requirements"][0];
    assert_eq!(r["type"], "invalid-gating-yaml");
    assert_eq!(
        r["details"],
        format!("grep/gating.yaml@{}:5:5: unknown rule `!PassingTestCase` (did you mean `!PassingTestCaseRule`?)", &bad[..12])
    );

    let (c, d, _) = decide(&s, &["sed-4.9-1.fc41"], &[]);
    assert_eq!(
        (c, d["summary"].as_str()),
        (0, Some("no tests are required")),
        "{d:#}"
    );
}

#[test]
fn the_web_answers_as_greenwave_and_waiverdb() {
    let s = gated(&format!(
        "results:\n{}{}",
        result("htop-3.3.0-1.fc41", "dist.rpmdeplint", "PASSED"),
        result("htop-3.3.0-1.fc41", "dist.upgradepath", "FAILED"),
    ));
    s.ok(&[
        "waive",
        "htop-3.3.0-1.fc41",
        "dist.rpmdeplint",
        "--product-version",
        "fedora-41",
        "--comment",
        "c",
    ]);
    let (mut web, addr) = listening(&mut s.command(&["web", "--http", "127.0.0.1:0"]));
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let post = |path: &str, body: &str| {
        let mut r = agent
            .post(format!("http://{addr}{path}"))
            .header("Content-Type", "application/json")
            .send(body)
            .unwrap();
        let status = r.status().as_u16();
        (
            status,
            serde_json::from_str::<Value>(&r.body_mut().read_to_string().unwrap_or_default())
                .unwrap_or(Value::Null),
        )
    };
    let (status, d) = post(
        "/api/v1.0/decision",
        r#"{"decision_context": "bodhi_update_push_stable", "product_version": "fedora-41", "subject_type": "koji_build", "subject_identifier": "htop-3.3.0-1.fc41"}"#,
    );
    assert_eq!(status, 200);
    let (_, cli, _) = decide(&s, &["htop-3.3.0-1.fc41"], &[]);
    assert_eq!(d, cli, "the web and the CLI decide alike");

    let (status, e) = post(
        "/api/v1.0/decision",
        r#"{"decision_context": "bodhi_update_push_stable", "product_version": "fedora-41", "subject": [{"item": "x-1-1"}]}"#,
    );
    assert_eq!(
        (status, e["field"].as_str()),
        (400, Some("subject[0].type"))
    );
    let (status, _) = post("/api/v1.0/decision", "not json");
    assert_eq!(status, 400);
    let (status, e) = post(
        "/api/v1.0/decision",
        r#"{"decision_context": "bodhi_update_push_stable", "product_version": "epel-9", "subject_type": "koji_build", "subject_identifier": "x-1-1"}"#,
    );
    assert_eq!(status, 404, "{e}");

    let (status, w) = post(
        "/api/v1.0/waivers/+filtered",
        r#"{"filters": [{"subject_type": "koji_build", "subject_identifier": "htop-3.3.0-1.fc41", "product_version": "fedora-41"}]}"#,
    );
    assert_eq!(status, 200);
    assert_eq!(w["data"][0]["testcase"], "dist.rpmdeplint");
    assert_eq!(
        w["data"][0]["subject"],
        json!({"type": "koji_build", "item": "htop-3.3.0-1.fc41"})
    );
    let (status, e) = post(
        "/api/v1.0/waivers/+filtered",
        r#"{"filters": [{"subject_identifer": "x"}]}"#,
    );
    assert_eq!(status, 400);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `subject_identifier`?"),
        "{e}"
    );
    let (status, e) = post(
        "/api/v1.0/waivers/",
        r#"{"subject_type": "koji_build", "subject_identifier": "a", "testcase": "t", "product_version": "p"}"#,
    );
    assert_eq!(status, 405);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("`comment`: missing required comment"),
        "{e}"
    );
    let (status, e) = post(
        "/api/v1.0/validate-gating-yaml",
        "--- !Policy\ndecision_context: x\nrulez: []\n",
    );
    assert_eq!(status, 400);
    assert_eq!(e["message"], "3:1: unknown key `rulez` in a policy");

    let mut r = agent
        .get(format!("http://{addr}/api/v1.0/policies"))
        .call()
        .unwrap();
    let p: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(p["policies"][0]["id"], "taskotron_release_critical_tasks");
    let mut r = agent
        .get(format!(
            "http://{addr}/api/v1.0/waivers/?testcase=dist.rpmdeplint"
        ))
        .call()
        .unwrap();
    let list: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let id = list["data"][0]["id"].as_i64().unwrap();
    let r = agent
        .get(format!("http://{addr}/api/v1.0/waivers/{id}"))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);

    // A check's history as a page: each build's outcome, newest first, linked to its run.
    let nvr = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tasks/nvr-check");
    for item in ["htop-3.3.0-1.fc41", "htop-3.3.1-1.fc41"] {
        s.ok(&[
            "run",
            nvr.to_str().unwrap(),
            "-i",
            item,
            "-t",
            "koji_build",
            "-a",
            "x86_64",
        ]);
    }
    let mut r = agent
        .get(format!(
            "http://{addr}/history/scratch.nvr-check?package=htop"
        ))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let page = r.body_mut().read_to_string().unwrap();
    let newer = page.find("htop-3.3.1-1.fc41").unwrap();
    let older = page.find("htop-3.3.0-1.fc41").unwrap();
    assert!(newer < older, "newest first");
    assert_eq!(page.matches("href=\"/artifacts/").count(), 2, "{page}");
    let r = agent
        .get(format!(
            "http://{addr}/history/scratch.nvr-check?pakage=htop"
        ))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = agent
        .get(format!("http://{addr}/history/no-such-test"))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let _ = web.kill();
    let _ = web.wait();
}

/// The decisions the oracle test asks, each of us and of Greenwave.
fn oracle_requests() -> Vec<Value> {
    let ask = |subjects: Value| json!({"decision_context": "bodhi_update_push_stable", "product_version": "fedora-41", "subject": subjects, "verbose": true});
    let build = |nvr: &str| json!([{"item": nvr, "type": "koji_build"}]);
    vec![
        ask(build("pass-1-1.fc41")),
        ask(build("fail-1-1.fc41")),
        ask(build("half-1-1.fc41")),
        ask(build("waived-1-1.fc41")),
        ask(build("missing-waived-1-1.fc41")),
        ask(build("refixed-1-1.fc41")),
        ask(build("nothing-1-1.fc41")),
        ask(json!([{"item": "FEDORA-2026-0ac1e", "type": "bodhi_update"}])),
        ask(json!([{"item": "FEDORA-2026-600d", "type": "bodhi_update"}])),
        json!({"decision_context": "bodhi_update_push_stable", "product_version": "fedora-41", "subject_type": "koji_build", "subject_identifier": "fail-1-1.fc41"}),
    ]
}

/// What both must agree on: satisfied or not, the summary (Greenwave 0.9.4 writes
/// "all required tests passed" in lower case), and each unsatisfied requirement's
/// type, testcase and subject.
fn verdict(d: &Value) -> Value {
    let mut u: Vec<String> = d["unsatisfied_requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let subject = r["subject_identifier"]
                .as_str()
                .or_else(|| r["item"]["item"].as_str())
                .unwrap_or_default();
            format!(
                "{} {} {}",
                r["type"].as_str().unwrap(),
                r["testcase"].as_str().unwrap_or_default(),
                subject
            )
        })
        .collect();
    u.sort();
    json!({
        "policies_satisfied": d["policies_satisfied"],
        "summary": d["summary"].as_str().unwrap_or_default().to_lowercase(),
        "unsatisfied": u,
        "satisfied": d["satisfied_requirements"].as_array().map_or(0, Vec::len),
    })
}

#[test]
#[ignore = "needs Greenwave in target/greenwave-venv; run by cargo xtask integration"]
fn greenwave_decides_as_we_do() {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/greenwave-venv/bin/python");
    assert!(
        python.exists(),
        "cargo xtask integration installs Greenwave into target/greenwave-venv"
    );
    let mut results = String::from("results:\n");
    for (item, check, outcome) in [
        ("pass-1-1.fc41", "dist.rpmdeplint", "PASSED"),
        ("pass-1-1.fc41", "dist.upgradepath", "INFO"),
        ("fail-1-1.fc41", "dist.rpmdeplint", "FAILED"),
        ("fail-1-1.fc41", "dist.upgradepath", "NEEDS_INSPECTION"),
        ("half-1-1.fc41", "dist.rpmdeplint", "PASSED"),
        ("waived-1-1.fc41", "dist.rpmdeplint", "FAILED"),
        ("waived-1-1.fc41", "dist.upgradepath", "PASSED"),
        ("missing-waived-1-1.fc41", "dist.rpmdeplint", "PASSED"),
        ("refixed-1-1.fc41", "dist.rpmdeplint", "FAILED"),
        ("refixed-1-1.fc41", "dist.upgradepath", "PASSED"),
    ] {
        results.push_str(&result(item, check, outcome));
    }
    let s = gated(&results);
    // Later, the failure is fixed: only the latest result counts, for both.
    report(
        &s,
        &format!(
            "results:\n{}",
            result("refixed-1-1.fc41", "dist.rpmdeplint", "PASSED")
        ),
    );
    for (item, testcase) in [
        ("waived-1-1.fc41", "dist.rpmdeplint"),
        ("missing-waived-1-1.fc41", "dist.upgradepath"),
    ] {
        s.ok(&[
            "waive",
            item,
            testcase,
            "--product-version",
            "fedora-41",
            "--comment",
            "known",
        ]);
    }
    let bodhi = taskotron_mock::bodhi::MockBodhi::new(&serde_yaml_fixture(
        "updates:\n  - alias: FEDORA-2026-0ac1e\n    builds: [pass-1-1.fc41, fail-1-1.fc41]\n  - alias: FEDORA-2026-600d\n    builds: [pass-1-1.fc41, waived-1-1.fc41]\n",
    ));
    let bodhi = bodhi.serve().unwrap();
    s.configure(&format!("bodhi_url: {}\n", bodhi.url()));
    let (mut web, addr) = listening(&mut s.command(&["web", "--http", "127.0.0.1:0"]));

    let policies = s.dir.path().join("gw-policies");
    std::fs::create_dir_all(&policies).unwrap();
    std::fs::copy(
        s.dir.path().join("policies.yaml"),
        policies.join("policies.yaml"),
    )
    .unwrap();
    let settings = s.dir.path().join("greenwave-settings.py");
    std::fs::write(
        &settings,
        format!(
            "RESULTSDB_API_URL = 'http://{addr}/api/v2.0'\nWAIVERDB_API_URL = 'http://{addr}/api/v1.0'\nBODHI_URL = '{}/'\nPOLICIES_DIR = '{}'\nCACHE = {{'backend': 'dogpile.cache.null'}}\n",
            bodhi.url(),
            policies.display()
        ),
    )
    .unwrap();
    let requests: Vec<Value> = oracle_requests();
    let script = r#"
import json, sys
from greenwave.app_factory import create_app
app = create_app('greenwave.config.TestingConfig')
client = app.test_client()
for line in sys.stdin:
    r = client.post('/api/v1.0/decision', data=line, content_type='application/json')
    print(json.dumps({"status": r.status_code, "body": json.loads(r.data)}))
"#;
    let mut child = std::process::Command::new(&python)
        .args(["-c", script])
        .env("GREENWAVE_CONFIG", &settings)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        for r in &requests {
            writeln!(stdin, "{r}").unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        theirs.len(),
        requests.len(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut refused = 0;
    for (request, theirs) in requests.iter().zip(&theirs) {
        let mut r = agent
            .post(format!("http://{addr}/api/v1.0/decision"))
            .header("Content-Type", "application/json")
            .send(request.to_string())
            .unwrap();
        let status = r.status().as_u16();
        let ours: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
        assert_eq!(
            status,
            theirs["status"].as_u64().unwrap() as u16,
            "{request}: ours {ours:#}, Greenwave's {theirs:#}"
        );
        let mut mine = verdict(&ours);
        let mut gw = verdict(&theirs["body"]);
        if request.get("verbose").is_none() {
            // Greenwave 0.9.4 lists satisfied requirements only when verbose.
            mine["satisfied"] = json!(null);
            gw["satisfied"] = json!(null);
        }
        assert_eq!(mine, gw, "{request}: ours {ours:#}, Greenwave's {theirs:#}");
        refused += usize::from(ours["policies_satisfied"] == false);
    }
    assert!(refused >= 4, "the oracle covers refusals, not only passes");
    let _ = web.kill();
    let _ = web.wait();
}

/// An update's task: its suite's test `flips` fails on the second update, and
/// it comments on the update, naming the update's build in its results.
const UPDATE_TASK: &str = r#"name: updcheck
namespace: dist
desc: a suite run on updates, commenting in Bodhi
maintainer: tests
input:
  args: [bodhi_update]
actions:
  - name: suite
    shell:
      - |
        case ${bodhi_update} in
          *-aaa) printf 'TAP version 13\n1..2\nok 1 - stable\nok 2 - flips\n' ;;
          *) printf 'TAP version 13\n1..2\nok 1 - stable\nnot ok 2 - flips\n' ;;
        esac
    results: tap
  - name: results
    shell:
      - |
        case ${bodhi_update} in *-aaa) b=htop-3.2.2-1.fc41 ;; *) b=htop-3.3.0-1.fc41 ;; esac
        printf 'results:\n  - {item: %s, type: bodhi_update, checkname: dist.updcheck, outcome: PASSED}\n  - {item: %s, type: koji_build, checkname: dist.updcheck, outcome: PASSED}\n' ${bodhi_update} $$b
    export: out
  - name: comment
    bodhi_comment:
      results: ${out}
      doreport: all
"#;

#[test]
fn an_update_comment_says_what_newly_fails_and_the_gates() {
    let s = gated("results: []\n");
    let task = s.dir.path().join("tasks/updcheck");
    std::fs::create_dir_all(&task).unwrap();
    std::fs::write(task.join("runtask.yml"), UPDATE_TASK).unwrap();
    let comment = |update: &str| -> (String, String) {
        let o = s.ok(&[
            "run",
            task.to_str().unwrap(),
            "-i",
            update,
            "-t",
            "bodhi_update",
            "-a",
            "noarch",
            "--format",
            "json",
        ]);
        let report: Value = serde_json::from_slice(&o.stdout).unwrap();
        let artifacts = Path::new(report["artifacts"].as_str().unwrap());
        let posted: Value = serde_json::from_str(
            &std::fs::read_to_string(artifacts.join("bodhi-comments.json")).unwrap(),
        )
        .unwrap();
        let list = posted.as_array().unwrap_or_else(|| panic!("{posted}"));
        assert_eq!(list.len(), 1, "{posted}");
        assert_eq!(list[0]["update"], update);
        (
            list[0]["text"].as_str().unwrap().to_string(),
            report["run_id"].as_str().unwrap().to_string(),
        )
    };
    // The first update has no predecessor; its gate is decided all the same.
    let (first, first_run) = comment("FEDORA-2024-aaa");
    assert!(!first.contains("newly fail"), "{first}");
    assert!(
        first.contains("\nGate bodhi_update_push_stable (fedora-41): blocked: "),
        "{first}"
    );
    // The next update of the package: its build's predecessor is the first's.
    let (second, second_run) = comment("FEDORA-2024-bbb");
    let lines: Vec<&str> = second.lines().collect();
    assert!(
        lines[0].starts_with("Taskotron: dist.updcheck test PASSED on noarch. Result log:"),
        "{second}"
    );
    assert_eq!(lines[2], "(results are informative only)");
    assert_eq!(
        lines[3], "1 test newly fails since htop-3.2.2-1.fc41: flips",
        "{second}"
    );
    assert!(
        lines[4].starts_with("Gate bodhi_update_push_stable (fedora-41): blocked: "),
        "{second}"
    );
    assert!(lines[4].contains("missing"), "{second}");
    // The comment still reads back as ours.
    assert_eq!(
        taskotron_core::bodhi::parse_comment(&second).map(|(c, o, _)| (c, o)),
        Some(("dist.updcheck".into(), "PASSED".into()))
    );
    // Policies that do not read say so in the comment, at their place; the
    // comment still goes out.
    std::fs::write(s.dir.path().join("policies.yaml"), "--- !Policy\nid: [\n").unwrap();
    let (third, _) = comment("FEDORA-2024-ccc");
    let last = third.lines().last().unwrap();
    assert!(last.starts_with("Gating: no decision: "), "{third}");
    assert!(last.contains("policies.yaml:2:1: invalid YAML"), "{third}");
    // The history kept the updates' builds, and compare says the same; the
    // results named by their items are compared by package, not as new tests.
    let o = s
        .command(&["compare", &first_run, &second_run, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        code(&o),
        100,
        "a test newly fails: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let c: Value = serde_json::from_slice(&o.stdout).unwrap();
    let c = &c["regressions"];
    assert_eq!(c["base_item"], "htop-3.2.2-1.fc41", "{c}");
    assert_eq!(c["newly_failing"][0]["name"], "flips", "{c}");
    assert_eq!(c["new"], json!([]), "{c}");
    assert_eq!(c["vanished"], json!([]), "{c}");
}
