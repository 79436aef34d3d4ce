//! `report.html`: one page per run for people — the item, arch, execution status
//! (and the named failure), each result with its outcome, note and log link, and
//! each action with its logs. Plain HTML with inline CSS: no JavaScript, no
//! external resources, readable in any browser and in a mail client. Pure; the
//! runner writes the file.

use std::fmt::Write as _;

use crate::dict::{ActionReport, ActionStatus, ExecutionReport, ExecutionStatus};
use crate::results::{Case, CaseStatus, Outcome};

/// The tests of one action the page lists: the runner keeps the first few
/// hundred failing ones and the first few thousand others, and counts the rest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listed {
    /// Failing tests (failed, error), first ones, with their diagnostics.
    pub failing: Vec<Case>,
    /// Failing tests not listed.
    pub failing_more: u64,
    /// The other tests, first ones, without diagnostics.
    pub others: Vec<Case>,
    /// Other tests not listed.
    pub others_more: u64,
}

/// The file name in the run's artifacts.
pub const FILE: &str = "report.html";

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A link target an artifact may have: an http(s) URL, or a relative path that stays
/// inside the run's artifacts once a browser has decoded and resolved it. Anything
/// else is not linked: `javascript:`, absolute paths, `..` (also as `%2e%2e`), a
/// backslash (`\\host\x`, `..\..`, which browsers read as `/`), empty or `.`
/// components, control characters. A relative path is linked percent-encoded, so
/// that `#` or `?` in a file name stay part of it.
fn safe_href(target: &str) -> Option<String> {
    let plain = |s: &str| {
        !s.chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    };
    if target.starts_with("https://") || target.starts_with("http://") {
        return plain(target).then(|| escape(target));
    }
    let decoded = percent_encoding::percent_decode_str(target)
        .decode_utf8()
        .ok()?;
    let parts: Vec<&str> = decoded.split('/').collect();
    let inside = plain(&decoded)
        && !decoded.contains(':')
        && parts
            .iter()
            .all(|p| !p.is_empty() && *p != "." && *p != "..");
    if !inside {
        return None;
    }
    const PART: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let encoded: Vec<String> = parts
        .iter()
        .map(|p| percent_encoding::utf8_percent_encode(p, PART).to_string())
        .collect();
    Some(escape(&encoded.join("/")))
}

fn outcome_class(o: Outcome) -> &'static str {
    match o {
        Outcome::Passed | Outcome::Info => "good",
        Outcome::Failed | Outcome::Crashed | Outcome::Aborted => "bad",
        _ => "warn",
    }
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222;background:#fff}\
h1{font-size:1.4em}table{border-collapse:collapse;margin:1em 0}\
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\
th{background:#f0f0f0}.good{background:#d9f2d9}.bad{background:#f8d4d4}\
.warn{background:#fbeec8}.muted{color:#777}code{font-size:.95em}\
.verdict{font-size:1.3em;font-weight:bold;padding:.5em .8em;border:1px solid #999;margin:1em 0}\
pre{white-space:pre-wrap;margin:.2em 0}details{margin:.5em 0}summary{cursor:pointer}";

/// The words and colour of the run at a glance: the execution status when the run
/// did not execute, else the worst outcome of its results (an OK run with FAILED
/// results is red, never green).
fn verdict(report: &ExecutionReport) -> (String, &'static str) {
    let bad_tests: u64 = report
        .actions
        .iter()
        .filter_map(|a| a.tests.as_ref())
        .map(|t| t.counts.bad())
        .sum();
    let tests: u64 = report
        .actions
        .iter()
        .filter_map(|a| a.tests.as_ref())
        .map(|t| t.counts.tests)
        .sum();
    let of_tests = if bad_tests > 0 {
        format!(": {bad_tests} of {tests} tests failed")
    } else if tests > 0 {
        format!(": {tests} tests, none failed")
    } else {
        String::new()
    };
    match (report.execution_status, report.outcome) {
        (ExecutionStatus::NotOk, Some(o)) => (
            format!("NOT_OK, results so far {}{of_tests}", o.as_str()),
            "bad",
        ),
        (ExecutionStatus::NotOk, None) => ("NOT_OK".to_string(), "bad"),
        (ExecutionStatus::Ok, Some(o)) => (format!("{}{of_tests}", o.as_str()), outcome_class(o)),
        (ExecutionStatus::Ok, None) => ("OK, no results".to_string(), "good"),
    }
}

/// Where a job's page is, for the link back from its run's page: `job_url_template`
/// (`<web_url>/jobs/{build_id}`) filled in, or, without one, the path the web
/// server gives a job next to the artifacts it serves (`/artifacts/<run>/` →
/// `/jobs/<uuid>`). `None` for a run that was no job (no build id).
pub fn job_link(report: &ExecutionReport, job_url_template: Option<&str>) -> Option<String> {
    let build = report.build_id.as_deref()?;
    Some(match job_url_template {
        Some(t) => t
            .replace("{build_id}", build)
            .replace("{run_id}", &report.run_id),
        None => format!("../../jobs/{build}"),
    })
}

/// Renders the page of `report`, listing the tests of `listed` (per action index),
/// linking back to the job's page at `job` when the run was a job's.
pub fn render(report: &ExecutionReport, listed: &[(usize, Listed)], job: Option<&str>) -> String {
    let mut h = String::new();
    let status = match report.execution_status {
        ExecutionStatus::Ok => ("OK", "good"),
        ExecutionStatus::NotOk => ("NOT_OK", "bad"),
    };
    let (verdict, verdict_class) = verdict(report);
    let results = match report.outcome {
        Some(o) => format!(
            "<td class=\"{}\">{}</td>",
            outcome_class(o),
            escape(&format!(
                "{} ({})",
                o.as_str(),
                crate::results::summary(report.results.iter().map(|d| d.outcome))
            ))
        ),
        None => "<td class=\"muted\">none</td>".to_string(),
    };
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{verdict_text}: {checkname} for {item} on {arch}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>{checkname} for {item} on {arch}</h1>\n\
         <p class=\"verdict {verdict_class}\" id=\"verdict\">{verdict_text}</p>\n<table>\n\
         <tr><th>item</th><td><code>{item}</code> ({item_type})</td></tr>\n\
         <tr><th>arch</th><td>{arch}</td></tr>\n\
         <tr><th>execution status</th><td class=\"{class}\">{status}</td></tr>\n\
         <tr><th>results</th>{results}</tr>\n",
        verdict_text = escape(&verdict),
        checkname = escape(&report.checkname),
        item = escape(&report.item),
        item_type = escape(report.item_type.as_str()),
        arch = escape(report.arch.as_str()),
        class = status.1,
        status = status.0,
    );
    if let Some(f) = &report.failure {
        let cause = match f.cause {
            crate::failure::Cause::Task => "task",
            crate::failure::Cause::Infrastructure => "infrastructure",
        };
        let _ = writeln!(
            h,
            "<tr><th>failure</th><td class=\"bad\"><code>{}</code> (cause: {cause})</td></tr>",
            escape(&f.kind)
        );
    }
    if let Some(s) = &report.status {
        let _ = writeln!(h, "<tr><th>why</th><td><pre>{}</pre></td></tr>", escape(s));
    }
    if let Some(r) = &report.regressions {
        let class = if r.newly_failing.is_empty() {
            "good"
        } else {
            "bad"
        };
        let _ = writeln!(
            h,
            "<tr><th>since the previous build</th><td class=\"{class}\" id=\"regressions\">{}{}</td></tr>",
            escape(&r.summary()),
            if r.newly_failing.is_empty() {
                String::new()
            } else {
                format!(
                    ": {}",
                    r.newly_failing
                        .iter()
                        .map(|t| format!("<code>{}</code>", escape(&t.name)))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
    }
    if !report.flaky.is_empty() {
        let _ = writeln!(
            h,
            "<tr><th>known flaky</th><td class=\"warn\" id=\"flaky\">{}</td></tr>",
            report
                .flaky
                .iter()
                .map(|f| format!(
                    "<code>{}</code> ({} flips in {} runs)",
                    escape(&f.name),
                    f.flips,
                    f.runs
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(
        h,
        "<tr><th>run</th><td><code>{}</code>{}, {:.2} s</td></tr>\n</table>",
        escape(&report.run_id),
        report
            .build_id
            .as_deref()
            .map(|b| format!(", build <code>{}</code>", escape(b)))
            .unwrap_or_default(),
        report.duration_ms as f64 / 1000.0
    );
    if let Some(url) = job {
        let _ = writeln!(
            h,
            "<p>Job: <a id=\"job\" href=\"{}\">its page</a> (its history, the message that triggered it, its attempts)</p>",
            escape(url)
        );
    }
    files(&mut h, report);
    tests(&mut h, report, listed);
    results_table(&mut h, report);
    actions(&mut h, report);
    let _ = writeln!(h, "</body>\n</html>");
    h
}

/// Links to the run's files.
fn files(h: &mut String, report: &ExecutionReport) {
    let mut links = vec!["taskotron.log", "execution.json"];
    let has_results =
        !report.results.is_empty() || report.actions.iter().any(|a| a.tests.is_some());
    if has_results {
        links.extend(["results.junit.xml", "results.tap", "results.yml"]);
    }
    let _ = writeln!(
        h,
        "<p>Files: {}</p>",
        links
            .iter()
            .map(|l| format!("<a href=\"{l}\">{l}</a>"))
            .collect::<Vec<_>>()
            .join(" ")
    );
}

/// Each action's tests: failing first with their diagnostics, the others folded.
fn tests(h: &mut String, report: &ExecutionReport, listed: &[(usize, Listed)]) {
    let with_tests: Vec<(usize, &ActionReport)> = report
        .actions
        .iter()
        .enumerate()
        .filter(|(_, a)| a.tests.is_some())
        .collect();
    if with_tests.is_empty() {
        return;
    }
    let _ = writeln!(h, "<h2>Tests</h2>");
    for (index, a) in with_tests {
        let Some(t) = &a.tests else { continue };
        let c = &t.counts;
        let class = if c.bad() > 0 || t.problem.is_some() {
            "bad"
        } else {
            "good"
        };
        let file = safe_href(&t.file)
            .map(|href| format!(" <a href=\"{href}\">every test (JSON lines)</a>"))
            .unwrap_or_default();
        let _ = writeln!(
            h,
            "<h3>{} <span class=\"muted\">({}, suite <code>{}</code>)</span></h3>\n\
             <p class=\"{class}\">{}{}{file}</p>",
            escape(&a.name),
            escape(&t.format),
            escape(&t.checkname),
            escape(&crate::results::test_counts(
                c.tests,
                c.passed,
                c.bad(),
                c.skipped,
                c.todo
            )),
            if c.errors > 0 {
                format!(" ({} of them errors)", c.errors)
            } else {
                String::new()
            },
        );
        if let Some(p) = &t.problem {
            let _ = writeln!(h, "<p class=\"bad\">{}</p>", escape(p));
        }
        let Some((_, list)) = listed.iter().find(|(i, _)| *i == index) else {
            continue;
        };
        if !list.failing.is_empty() {
            let _ = writeln!(
                h,
                "<table>\n<tr><th>failing test</th><th>status</th><th>message and diagnostics</th></tr>"
            );
            for case in &list.failing {
                let _ = writeln!(
                    h,
                    "<tr><td><code>{}</code>{}</td><td class=\"bad\">{}</td><td>{}{}</td></tr>",
                    escape(&case.name),
                    line_of(case),
                    case.status.as_str(),
                    case.message
                        .as_deref()
                        .map(|m| format!("<strong>{}</strong>", escape(m)))
                        .unwrap_or_default(),
                    case.diagnostics
                        .as_deref()
                        .map(|d| format!("<pre>{}</pre>", escape(d)))
                        .unwrap_or_default(),
                );
            }
            let _ = writeln!(h, "</table>");
            if list.failing_more > 0 {
                let _ = writeln!(
                    h,
                    "<p class=\"muted\">... and {} more failing tests, in the test file and results.junit.xml.</p>",
                    list.failing_more
                );
            }
        }
        if !list.others.is_empty() {
            let _ = writeln!(
                h,
                "<details><summary>{} passed, skipped and todo tests</summary>\n<table>",
                c.tests - c.bad()
            );
            for case in &list.others {
                let class = match case.status {
                    CaseStatus::Passed => "good",
                    _ => "warn",
                };
                let _ = writeln!(
                    h,
                    "<tr><td><code>{}</code></td><td class=\"{class}\">{}</td><td>{}</td></tr>",
                    escape(&case.name),
                    case.status.as_str(),
                    case.reason.as_deref().map(escape).unwrap_or_default(),
                );
            }
            let _ = writeln!(h, "</table>");
            if list.others_more > 0 {
                let _ = writeln!(
                    h,
                    "<p class=\"muted\">... and {} more, in the test file.</p>",
                    list.others_more
                );
            }
            let _ = writeln!(h, "</details>");
        }
    }
}

fn line_of(case: &Case) -> String {
    if case.line == 0 {
        String::new()
    } else {
        format!(" <span class=\"muted\">line {}</span>", case.line)
    }
}

/// The results, as ResultsDB gets them.
fn results_table(h: &mut String, report: &ExecutionReport) {
    let _ = writeln!(h, "<h2>Results</h2>");
    if report.results.is_empty() {
        let _ = writeln!(h, "<p class=\"muted\">The task gave no results.</p>");
        return;
    }
    let _ = writeln!(
        h,
        "<table>\n<tr><th>checkname</th><th>item</th><th>outcome</th><th>note</th><th>log</th></tr>"
    );
    for d in report.results.iter().take(SHOWN_RESULTS) {
        let log = d
            .artifact
            .as_deref()
            .and_then(|a| safe_href(a).map(|href| format!("<a href=\"{href}\">{}</a>", escape(a))))
            .unwrap_or_else(|| "<span class=\"muted\">---</span>".into());
        let note = if d.note.is_empty() {
            "<span class=\"muted\">---</span>".to_string()
        } else {
            escape(&d.note)
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td><td class=\"{}\">{}</td><td>{note}</td><td>{log}</td></tr>",
            escape(d.checkname.as_deref().unwrap_or(&report.checkname)),
            escape(&d.item),
            outcome_class(d.outcome),
            d.outcome.as_str(),
        );
    }
    let _ = writeln!(h, "</table>");
    if report.results.len() > SHOWN_RESULTS {
        let _ = writeln!(
            h,
            "<p class=\"muted\">... and {} more results, in <a href=\"results.yml\">results.yml</a>.</p>",
            report.results.len() - SHOWN_RESULTS
        );
    }
}

/// The most results the page lists (a check of a whole tag gives thousands).
const SHOWN_RESULTS: usize = 1000;

/// Each action: how it ended, its exit code, its output.
fn actions(h: &mut String, report: &ExecutionReport) {
    let _ = writeln!(
        h,
        "<h2>Actions</h2>\n<table>\n<tr><th>#</th><th>action</th><th>directive</th><th>status</th><th>exit code</th><th>time</th><th>output</th></tr>"
    );
    for (i, a) in report.actions.iter().enumerate() {
        let (text, class) = match a.status {
            ActionStatus::Ok => ("ok", "good"),
            ActionStatus::Failed => ("failed", "bad"),
            ActionStatus::TimedOut => ("timed out", "bad"),
            ActionStatus::Skipped => ("skipped", "muted"),
        };
        let mut logs: Vec<String> = a
            .logs
            .iter()
            .filter_map(|l| {
                safe_href(l).map(|href| {
                    format!(
                        "<a href=\"{href}\">{}</a>",
                        escape(l.rsplit('.').next().unwrap_or(l))
                    )
                })
            })
            .collect();
        if let Some(href) = a.tests.as_ref().and_then(|t| safe_href(&t.file)) {
            logs.push(format!("<a href=\"{href}\">tests</a>"));
        }
        let error = a
            .error
            .as_deref()
            .map(|e| format!("<pre>{}</pre>", escape(e)))
            .unwrap_or_default();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}{error}</td><td><code>{}</code></td><td class=\"{class}\">{text}</td><td>{}</td><td>{} ms</td><td>{}</td></tr>",
            i + 1,
            escape(&a.name),
            escape(&a.directive),
            a.exit_code
                .map_or_else(|| "<span class=\"muted\">---</span>".to_string(), |c| c.to_string()),
            a.duration_ms,
            logs.join(" ")
        );
    }
    let _ = writeln!(h, "</table>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_says_what_newly_fails_since_the_previous_build() {
        let page = render(
            &report(serde_json::json!({"regressions": {
                "base_run": "r0", "base_item": "htop-3.2.2-1.fc41",
                "newly_failing": [{"check": "dist.t", "name": "<b>flips</b>"}],
                "fixed": [], "still_failing": [], "new": [], "vanished": []}})),
            &[],
            None,
        );
        assert!(page.contains("id=\"regressions\">1 test newly fails since htop-3.2.2-1.fc41: <code>&lt;b&gt;flips&lt;/b&gt;</code>"), "{page}");
        let plain = render(&report(serde_json::json!({})), &[], None);
        assert!(!plain.contains("regressions"));
    }

    fn report(extra: serde_json::Value) -> ExecutionReport {
        let mut base = serde_json::json!({
            "execution_status": "OK", "status": null, "build_id": "b-7", "run_id": "run-1",
            "item": "htop-3.3.0-1.fc41", "item_type": "koji_build", "arch": "x86_64",
            "checkname": "dist.rpmlint", "artifacts": "/srv/artifacts/run-1",
            "started_at": "2026-11-28T12:00:00.000Z", "duration_ms": 1234,
            "actions": [
                {"name": "download", "directive": "koji", "status": "ok", "duration_ms": 200,
                 "logs": ["actions/01-download.stdout"]},
                {"name": "lint", "directive": "python", "status": "ok", "duration_ms": 900}
            ],
            "outcome": "FAILED",
            "results": [
                {"item": "htop-3.3.0-1.fc41", "type": "koji_build", "outcome": "FAILED",
                 "note": "2 errors, 5 warnings <script>alert(1)</script>", "checkname": "dist.rpmlint",
                 "artifact": "rpmlint.log"},
                {"item": "htop-3.3.0-1.fc41", "type": "koji_build", "outcome": "PASSED",
                 "note": "", "checkname": "dist.rpmlint.spec", "artifact": "javascript:alert(1)"}
            ]
        });
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        serde_json::from_value(base).unwrap()
    }

    #[test]
    fn the_page_of_a_run_with_results() {
        insta::assert_snapshot!(
            "report_ok",
            render(&report(serde_json::json!({})), &[], None)
        );
    }

    #[test]
    fn a_jobs_page_links_back_to_the_job() {
        let standalone = report(serde_json::json!({"build_id": null}));
        assert_eq!(
            job_link(&standalone, Some("https://t/jobs/{build_id}")),
            None
        );
        let job = report(serde_json::json!({"build_id": "b-7"}));
        assert_eq!(
            job_link(&job, Some("https://t/jobs/{build_id}")).as_deref(),
            Some("https://t/jobs/b-7")
        );
        assert_eq!(job_link(&job, None).as_deref(), Some("../../jobs/b-7"));
        let page = render(&job, &[], Some("https://t/jobs/b-7?a=<1>"));
        assert!(
            page.contains("<a id=\"job\" href=\"https://t/jobs/b-7?a=&lt;1&gt;\">"),
            "{page}"
        );
    }

    #[test]
    fn the_page_of_a_run_that_failed() {
        let page = render(
            &report(serde_json::json!({
                "execution_status": "NOT_OK",
                "status": "KOJI_UNKNOWN_BUILD: action 1/2 `download` (koji) failed: Koji does not know the build `htop-3.3.0-1.fc41`",
                "failure": {"kind": "KOJI_UNKNOWN_BUILD", "cause": "task"},
                "results": [], "outcome": null,
                "actions": [
                    {"name": "download", "directive": "koji", "status": "failed", "duration_ms": 20},
                    {"name": "lint", "directive": "python", "status": "skipped", "duration_ms": 0}
                ]
            })),
            &[],
            None,
        );
        assert!(!page.contains("<script"));
        insta::assert_snapshot!("report_not_ok", page);
    }

    #[test]
    fn links_only_to_what_is_safe() {
        assert_eq!(safe_href("rpmlint.log").as_deref(), Some("rpmlint.log"));
        assert_eq!(
            safe_href("https://x/y?a=1&b=2").as_deref(),
            Some("https://x/y?a=1&amp;b=2")
        );
        assert_eq!(safe_href("javascript:alert(1)"), None);
        assert_eq!(safe_href("../../etc/passwd"), None);
        assert_eq!(safe_href("/etc/passwd"), None);
        for hostile in [
            "\\\\evil.example\\x",
            "..\\..\\..\\etc\\passwd",
            "%2e%2e/%2e%2e/etc/passwd",
            "%2E%2E%2f%2E%2E%2fetc%2fpasswd",
            "logs/%2e%2e/%2e%2e/x",
            "a//b",
            "./a",
            "logs/%5c..%5cx",
            "%2f%2fevil.example/x",
            "//evil.example/x",
            "JavaScript%3aalert(1)",
            "a\nb",
            "%00",
            "",
            "https://evil.example/\\x",
        ] {
            assert_eq!(safe_href(hostile), None, "{hostile}");
        }
        assert_eq!(
            safe_href("logs/build.log").as_deref(),
            Some("logs/build.log")
        );
        assert_eq!(safe_href("50% of #1.log").as_deref(), None, "whitespace");
        assert_eq!(safe_href("a#1?.log").as_deref(), Some("a%231%3F.log"));
        assert_eq!(
            safe_href("%zz").as_deref(),
            Some("%25zz"),
            "a name, not an escape"
        );
        assert_eq!(
            safe_href("r%C3%A9sum%C3%A9.txt").as_deref(),
            Some("r%C3%A9sum%C3%A9.txt")
        );
        assert_eq!(
            escape("<b a=\"x\">&'"),
            "&lt;b a=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    proptest::proptest! {
        /// Whatever a task puts in `artifact`, a relative link resolves inside the
        /// run's directory.
        #[test]
        fn relative_links_stay_inside(target in "([a-z.%/\\\\:]|%2[eEfF]|%5[cC]|\\.\\.){0,12}") {
            if let Some(href) = safe_href(&target) {
                if !href.starts_with("http") {
                    let raw = href.replace("&amp;", "&");
                    let decoded = percent_encoding::percent_decode_str(&raw).decode_utf8_lossy().into_owned();
                    proptest::prop_assert!(!decoded.starts_with('/'));
                    proptest::prop_assert!(!decoded.contains('\\') && !decoded.contains(':'));
                    proptest::prop_assert!(decoded.split('/').all(|p| !p.is_empty() && p != "." && p != ".."), "{} -> {}", target, decoded);
                }
            }
        }
    }
}
