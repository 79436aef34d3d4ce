//! `/history/<name>`: a check's results or a test case's outcomes over builds,
//! newest first, each linked to its run's files (`taskotron history NAME` as a
//! page). `?package=` and `?arch=` narrow it; the history store is opened
//! read-only per request, on a blocking thread.

use std::sync::Arc;

use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use taskotron_history::{Query, Store};

use crate::pages::{error_page, layout};
use crate::WebSettings;

/// How many lines a page shows.
const LIMIT: usize = 200;

/// Runs `read` on the history store of `s`, opened read-only on a blocking
/// thread (`None` before the store exists); an error page when it cannot be read.
async fn with_store<T: Send + 'static>(
    s: &WebSettings,
    read: impl FnOnce(Option<&Store>) -> Result<T, taskotron_history::HistoryError> + Send + 'static,
) -> Result<T, Response> {
    let path = s
        .gating
        .as_ref()
        .map(|g| taskotron_core::history::path(&g.settings.state_dir));
    let done = tokio::task::spawn_blocking(move || match path.filter(|p| p.exists()) {
        Some(p) => Store::open_read_only(&p)
            .and_then(|st| read(Some(&st)))
            .map_err(|e| e.to_string()),
        None => read(None).map_err(|e| e.to_string()),
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r);
    done.map_err(|e| error_page(StatusCode::SERVICE_UNAVAILABLE, "History unavailable", &e))
}

/// `/history/<name>`.
pub async fn page(
    State(s): State<Arc<WebSettings>>,
    UrlPath(name): UrlPath<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut query = Query {
        name: name.clone(),
        package: None,
        arch: None,
        limit: LIMIT,
    };
    for (k, v) in crate::resultsdb::pairs(raw.as_deref()) {
        match k.as_str() {
            "package" if !v.is_empty() => query.package = Some(v),
            "arch" if !v.is_empty() => query.arch = Some(v),
            "package" | "arch" => {}
            other => {
                let help = taskotron_tap::suggest::did_you_mean(other, ["package", "arch"])
                    .map_or(String::new(), |s| format!(" Did you mean `{s}`?"));
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "Unknown parameter",
                    &format!("`{other}` is not a parameter of this page (package, arch).{help}"),
                );
            }
        }
    }
    let entries = match with_store(&s, move |st| match st {
        Some(st) => st.history(&query),
        None => Ok(Vec::new()),
    })
    .await
    {
        Ok(e) => e,
        Err(page) => return page,
    };
    let status = if entries.is_empty() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    let body = html! {
        h1 { "History of " code { (name) } }
        @if entries.is_empty() {
            p { "No run on this machine recorded a result or a test named " code { (name) } "." }
        } @else {
            p { (entries.len()) " runs, newest first" @if entries.len() == LIMIT { " (the newest " (LIMIT) ")" } "." }
            table id="history" {
                thead { tr { th { "Outcome" } th { "Item" } th { "Arch" } th { "Check" } th { "Run" } th { "Note" } } }
                tbody {
                    @for e in &entries {
                        tr {
                            td { span class={ "s o-" (e.outcome) } { (e.outcome) } }
                            td { (e.run.item) }
                            td { (e.run.arch) }
                            td { (e.check) }
                            td { a href={ "/artifacts/" (e.run.run_id) "/" } { (e.run.run_id.get(..8).unwrap_or(&e.run.run_id)) } }
                            td { (e.note.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    };
    (status, layout(&format!("History of {name}"), body)).into_response()
}

/// `/flaky` (every task) and `/flaky/<task>`: the tests whose outcome flipped
/// between runs of one item and arch, most flips first, each linked to its
/// history.
pub async fn flaky(State(s): State<Arc<WebSettings>>, task: Option<UrlPath<String>>) -> Response {
    let task = task.map(|UrlPath(t)| t);
    let wanted = task.clone();
    let cases = match with_store(&s, move |st| match st {
        Some(st) => st.flaky(wanted.as_deref()),
        None => Ok(Vec::new()),
    })
    .await
    {
        Ok(c) => c,
        Err(page) => return page,
    };
    let title = match &task {
        Some(t) => format!("Flaky tests of {t}"),
        None => "Flaky tests".to_string(),
    };
    let body = html! {
        h1 { (title) }
        @if cases.is_empty() {
            p { "No test flipped between runs of the same build and arch." }
        } @else {
            p { (cases.len()) " tests flipped between runs of the same build and arch, most flips first." }
            table id="flaky" {
                thead { tr { th { "Test" } th { "Check" } th { "Task" } th { "Flips" } th { "Builds and arches" } } }
                tbody {
                    @for c in &cases {
                        tr {
                            td { a href={ "/history/" (c.name) } { code { (c.name) } } }
                            td { (c.check) }
                            td { a href={ "/flaky/" (c.task) } { (c.task) } }
                            td { (c.flips) }
                            td { (c.on) }
                        }
                    }
                }
            }
        }
    };
    (StatusCode::OK, layout(&title, body)).into_response()
}
