//! The HTML pages: the job list (`/`), one job's life (`/jobs/<uuid>`) and the
//! error pages. maud escapes every value it renders, so a job's item or a result's
//! note cannot inject markup. The pages need no JavaScript.

use std::path::Path;
use std::sync::Arc;

use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use taskotron_core::scheduler::{JobEvent, JobState, QueuedJob, Verdict};

use crate::params::{state_name, ListQuery, ParamError};
use crate::store::{self, JobView};
use crate::WebSettings;

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}\
header{background:#24292f;color:#fff;padding:.6em 1.5em}header a{color:#fff;margin-right:1.2em;text-decoration:none}\
main{padding:1em 1.5em;max-width:80em}h1{font-size:1.35em}table{border-collapse:collapse;width:100%;background:#fff}\
th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid #d0d7de;vertical-align:top}th{background:#eaeef2}\
.s{font-weight:600;padding:.1em .45em;border-radius:.3em;color:#fff;font-size:.85em}\
.SCHEDULED{background:#6e7781}.RUNNING{background:#0969da}.COMPLETED{background:#1a7f37}.CRASHED{background:#cf222e}\
.NOT_OK{background:#bc4c00}\
.o-PASSED,.o-INFO{background:#1a7f37}.o-FAILED,.o-CRASHED{background:#cf222e}.o-NEEDS_INSPECTION,.o-ABORTED{background:#9a6700}\
.CRASHED-o,.newly-failing{color:#cf222e}.no-regression{color:#1a7f37}\
form{margin:.5em 0 1em}input,select{margin-right:.6em}dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}\
dt{font-weight:600}pre{background:#fff;border:1px solid #d0d7de;padding:.6em;overflow-x:auto}nav.pages a{margin-right:1em}";

/// A whole page.
pub fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — taskotron" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header { a href="/" { "taskotron" } a href="/" { "Jobs" } a href="/api/v1/jobs" { "API" } a href="/metrics" { "Metrics" } }
                main { (body) }
            }
        }
    }
}

pub(crate) fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = html! { h1 { (title) } p { (message) } p { a href="/" { "All jobs" } } };
    (status, layout(title, body)).into_response()
}

/// 404 for every path no route knows.
pub async fn not_found() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is nothing at this address.",
    )
}

/// 400 naming the parameter.
pub fn bad_request(e: &ParamError) -> Response {
    error_page(StatusCode::BAD_REQUEST, "Bad request", &e.to_string())
}

/// 500 when the queue cannot be read.
pub fn unavailable(e: &store::StoreError) -> Response {
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "The queue cannot be read",
        &e.to_string(),
    )
}

/// `/`: the jobs, newest first, filtered and paginated.
pub async fn jobs(State(s): State<Arc<WebSettings>>, RawQuery(raw): RawQuery) -> Response {
    let q = match ListQuery::parse(raw.as_deref()) {
        Ok(q) => q,
        Err(e) => return bad_request(&e),
    };
    match store::page(&s.queue, q.filter.clone(), q.offset(), q.limit).await {
        Ok((jobs, more)) => list_page(&q, &jobs, more).into_response(),
        Err(e) => unavailable(&e),
    }
}

/// The list page for fixed data (snapshot tests render it directly).
pub fn list_page(q: &ListQuery, jobs: &[QueuedJob], more: bool) -> Markup {
    let f = &q.filter;
    let body = html! {
        h1 { "Jobs" }
        form method="get" action="/" {
            label { "State " select name="state" {
                option value="" { "any" }
                @for s in JobState::ALL {
                    option value=(state_name(s)) selected[f.state == Some(s)] { (state_name(s)) }
                }
            } }
            label { "Task " input name="task" value=(f.task.clone().unwrap_or_default()); }
            label { "Item " input name="item" value=(f.item.clone().unwrap_or_default()); }
            label { "Arch " input name="arch" size="8" value=(f.arch.map(|a| a.to_string()).unwrap_or_default()); }
            button type="submit" { "Filter" }
        }
        @if jobs.is_empty() {
            p { "No jobs" @if q.page > 1 { " on this page" } "." }
        } @else {
            table {
                thead { tr { th { "State" } th { "Item" } th { "Type" } th { "Task" } th { "Arch" } th { "Attempts" } th { "Duration" } th { "Result" } th { "Scheduled" } } }
                tbody {
                    @for job in jobs {
                        @let v = JobView::of(job);
                        tr {
                            // A run that ended NOT_OK never executed its check: its
                            // badge is never COMPLETED's green.
                            td { a href={ "/jobs/" (v.uuid) } { span class={ "s " (v.verdict().as_str(job.state)) } { (v.state) } } }
                            td { a href={ "/jobs/" (v.uuid) } { (v.item) } }
                            td { (v.item_type) }
                            td { (v.task) @if let Some(p) = &v.plan { " " small { (p) } } }
                            td { (v.arch) }
                            td { (v.attempts) }
                            td { (v.duration_ms.map(seconds).unwrap_or_default()) }
                            td {
                                @if v.verdict() == Verdict::NotOk {
                                    span class="s NOT_OK" { "NOT_OK" }
                                    @if let Some(f) = &v.failure { " " code { (f.kind) } " (" (f.cause.as_str()) ")" }
                                } @else if let Some(o) = &v.outcome { span class={ "s o-" (o) } { (o) } }
                                @else if let Some(c) = &v.crash { span class="CRASHED-o" { (c.cause) } }
                            }
                            td { (v.scheduled_at) }
                        }
                    }
                }
            }
        }
        nav.pages {
            @if q.page > 1 { a rel="prev" href={ "/?" (q.to_query(q.page - 1)) } { "← Newer" } }
            @if more { a rel="next" href={ "/?" (q.to_query(q.page + 1)) } { "Older →" } }
        }
    };
    layout("Jobs", body)
}

fn seconds(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// `/jobs/<uuid>`: one job's life.
pub async fn job(State(s): State<Arc<WebSettings>>, UrlPath(uuid): UrlPath<String>) -> Response {
    match store::job(&s.queue, uuid).await {
        Ok(Some((job, history))) => {
            let files = run_files(&s.artifacts, &job);
            let live = crate::live::run_of(&job)
                .filter(|_| job.state == JobState::Running)
                .map(|run| crate::live::tail(&s.artifacts, &run));
            // The gates of a build whose job ended: decided now, on a blocking
            // thread (the facts are files and, for remote rules, Koji).
            let gates = match (&s.gating, job.state) {
                (Some(g), JobState::Finished) => {
                    let (g, item, kind) = (
                        g.clone(),
                        job.request.item.clone(),
                        job.request.item_type.as_str().to_string(),
                    );
                    tokio::task::spawn_blocking(move || {
                        taskotron_core::gating::gates_of(
                            &g.settings,
                            &g.policies,
                            &item,
                            &kind,
                            &[],
                        )
                    })
                    .await
                    .unwrap_or_default()
                }
                _ => Vec::new(),
            };
            job_page_with(&job, &history, &files, live.as_ref(), &gates).into_response()
        }
        Ok(None) => error_page(
            StatusCode::NOT_FOUND,
            "No such job",
            "No job has this id; it may have been removed by `taskotron gc`.",
        ),
        Err(e) => unavailable(&e),
    }
}

/// The top-level entries of a job's run directory that the artifacts route serves,
/// sorted (directories end in `/`).
pub fn run_files(artifacts: &Path, job: &QueuedJob) -> Vec<String> {
    let Some(run_id) = crate::live::run_of(job) else {
        return Vec::new();
    };
    // Only what the artifacts route serves: no link, wherever it points.
    let Some(crate::artifacts::Found::Dir(dir)) = crate::artifacts::resolve(artifacts, &[run_id])
    else {
        return Vec::new();
    };
    let mut names: Vec<String> = crate::artifacts::served_entries(&dir)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, is_dir, _)| if is_dir { format!("{name}/") } else { name })
        .collect();
    names.sort();
    names
}

/// The command that repeats a job on a laptop.
pub fn reproducer(job: &QueuedJob) -> String {
    let r = &job.request;
    let mut cmd = String::new();
    if let Some(commit) = job.report.as_ref().and_then(|r| r.task_commit.as_deref()) {
        cmd.push_str(&format!("# the task `{}` at commit {commit}\n", r.taskname));
    }
    cmd.push_str(&format!(
        "taskotron run {} --item {} --type {} --arch {}",
        shell_word(&r.taskname),
        shell_word(&r.item),
        r.item_type,
        r.arch
    ));
    cmd
}

/// A word as a shell reads it back: bare when it is plainly safe, quoted otherwise.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+:/@%=,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Follows the live log (`/jobs/<uuid>/log`) where the browser runs scripts: new
/// lines are appended, and the page reloads when the job ends to show its results.
/// Without it the page shows the log as it was when rendered.
const FOLLOW: &str = "(function(){var p=document.getElementById('live-log');\
if(!p||!window.EventSource)return;var s=new EventSource(p.dataset.src+'?from='+p.dataset.from);\
s.onmessage=function(e){p.textContent+=e.data+'\\n';p.scrollTop=p.scrollHeight;};\
s.addEventListener('end',function(){s.close();location.reload();});})();";

/// The job page for fixed data; `live` is the log of a running job's run so far.
pub fn job_page(
    job: &QueuedJob,
    history: &[JobEvent],
    files: &[String],
    live: Option<&crate::live::LogTail>,
) -> Markup {
    job_page_with(job, history, files, live, &[])
}

/// [`job_page`] with the gates the job's build stands before (the decision of
/// each context of the configured policies).
pub fn job_page_with(
    job: &QueuedJob,
    history: &[JobEvent],
    files: &[String],
    live: Option<&crate::live::LogTail>,
    gates: &[taskotron_core::gating::Gate],
) -> Markup {
    let v = JobView::of(job);
    let report = job
        .report
        .as_ref()
        .filter(|_| job.state != JobState::Scheduled);
    let run = v.run_id.clone().unwrap_or_default();
    let running = (job.state == JobState::Running)
        .then_some(())
        .and(v.run_id.as_ref());
    let body = html! {
        h1 {
            span class={ "s " (v.verdict().as_str(job.state)) } { (v.state) }
            @if v.verdict() == Verdict::NotOk { " " span class="s NOT_OK" { "NOT_OK" } }
            // The verdict up front: a COMPLETED job may still have failed its check.
            @if let Some(o) = &v.outcome { " " span class={ "s o-" (o) } { (o) } }
            " " (v.task) @if let Some(p) = &v.plan { " " (p) } " on " (v.item) " (" (v.arch) ")"
        }
        dl {
            dt { "Job" } dd { code { (v.uuid) } }
            dt { "Item" } dd { (v.item) " (" (v.item_type) ")" }
            dt { "Task" } dd { (v.task) }
            @if let Some(p) = &v.plan { dt { "Plan" } dd { code { (p) } } }
            @if let Some(src) = &v.source {
                dt { "Source" } dd { code { (src.repo) } @if let Some(r) = &src.git_ref { " at " code { (r) } } }
            }
            dt { "Arch" } dd { (v.arch) }
            dt { "Attempts" } dd { (v.attempts) @if let Some(w) = &v.worker { " (last on " (w) ")" } }
            dt { "Scheduled" } dd { (v.scheduled_at) }
            dt { "Last change" } dd { (v.updated_at) }
            @if let Some(o) = &v.origin {
                dt { "Triggered by" } dd { (o.topic) @if let Some(id) = &o.message_id { " message " code { (id) } } }
            }
            @if let Some(r) = report {
                dt { "Run" } dd { code { (r.run_id) } ", " (seconds(r.duration_ms)) }
                dt { "Execution" } dd { (v.execution_status.unwrap_or_default()) @if let Some(s) = &r.status { ": " (s) } }
                @if let Some(f) = &r.failure { dt { "Failure" } dd { code { (f.kind) } " (" (f.cause.as_str()) ")" } }
                @if let Some(c) = &r.task_commit { dt { "Task commit" } dd { code { (c) } } }
                @if let Some(g) = &r.regressions {
                    dt { "Since the previous build" }
                    dd id="regressions" class=(if g.newly_failing.is_empty() { "no-regression" } else { "newly-failing" }) {
                        (g.summary())
                        @for t in &g.newly_failing {
                            " " code { (t.name) }
                            @if let Some(f) = r.flaky.iter().find(|f| f.name == t.name && f.check == t.check) {
                                " " span class="flaky" { "(known flaky: " (f.flips) " flips)" }
                            }
                        }
                    }
                }
                @if !r.flaky.is_empty() {
                    dt { "Known flaky" }
                    dd id="flaky" {
                        @for (i, f) in r.flaky.iter().enumerate() {
                            @if i > 0 { ", " }
                            a href={ "/history/" (f.name) } { code { (f.name) } }
                            " (" (f.flips) " flips in " (f.runs) " runs)"
                        }
                    }
                }
            }
            @if let Some(r) = running {
                dt { "Run" } dd { code { (r) } " (running)" }
            }
            @for g in gates {
                dt { "Gate " code { (g.context) } }
                dd class=(if g.satisfied { "gate no-regression" } else { "gate newly-failing" }) {
                    (if g.satisfied { "may pass" } else { "blocked" }) " (" (g.product_version) "): " (g.summary)
                }
            }
            @if let Some(c) = &v.crash {
                dt { "Crashed" } dd class="CRASHED-o" { (c.cause) ": " (c.detail) }
            }
        }
        h2 { "Life" }
        table {
            thead { tr { th { "When" } th { "What" } th { "Worker" } th { "Attempt" } th { "Lease until" } th { "Detail" } } }
            tbody {
                @for e in history {
                    tr { td { (e.at) } td { (e.event) } td { (e.worker.clone().unwrap_or_default()) } td { (e.attempt.map(|a| a.to_string()).unwrap_or_default()) } td { (e.lease_until.clone().unwrap_or_default()) } td { (e.detail.clone().unwrap_or_default()) } }
                }
            }
        }
        @if let Some(r) = report {
            h2 { "Results" }
            @if r.results.is_empty() { p { "No results." } } @else {
                table {
                    thead { tr { th { "Outcome" } th { "Check" } th { "Item" } th { "Note" } th { "Log" } } }
                    tbody {
                        @for d in &r.results {
                            tr {
                                td { span class={ "s o-" (d.outcome.as_str()) } { (d.outcome.as_str()) } }
                                td { (d.checkname.clone().unwrap_or_else(|| r.checkname.clone())) }
                                td { (d.item) }
                                td { (d.note) }
                                td { @if let Some(href) = d.artifact.as_deref().and_then(|a| artifact_href(&run, &r.artifacts, a)) { a href=(href) { "log" } } }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(log) = live {
            h2 { "Log" }
            p { "The run's " a href={ "/artifacts/" (run) "/" (crate::live::LOG) } { (crate::live::LOG) } " so far; it follows the run while this page is open." }
            pre id="live-log" data-src={ "/jobs/" (v.uuid) "/log" } data-from=(log.offset) { (log.text) }
            script { (PreEscaped(FOLLOW)) }
        }
        @if !files.is_empty() {
            h2 { "Artifacts" }
            ul {
                @for f in files { li { a href={ "/artifacts/" (run) "/" (f) } { (f) } } }
                li { a href={ "/artifacts/" (run) "/" } { "the whole directory" } }
            }
        }
        h2 { "Reproduce" }
        pre { code { (reproducer(job)) } }
    };
    layout(&format!("{} on {}", v.task, v.item), body)
}

/// The link of a result's artifact: a path in the run's directory, relative or
/// absolute under it; nothing for one outside.
fn artifact_href(run: &str, run_dir: &Path, artifact: &str) -> Option<String> {
    let p = Path::new(artifact);
    let relative = if p.is_absolute() {
        p.strip_prefix(run_dir).ok()?
    } else {
        p
    };
    if relative
        .components()
        .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return None;
    }
    let segments: Vec<String> = relative
        .components()
        .map(|c| {
            percent_encoding::utf8_percent_encode(
                &c.as_os_str().to_string_lossy(),
                crate::artifacts::SEGMENT,
            )
            .to_string()
        })
        .collect();
    Some(format!("/artifacts/{run}/{}", segments.join("/")))
}
