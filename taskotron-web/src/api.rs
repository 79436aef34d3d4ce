//! `/api/v1/jobs` and `/api/v1/jobs/<uuid>`: the jobs as JSON, for programs. A list
//! is `{"data": [...], "prev": URL|null, "next": URL|null}` and takes the page's
//! filters; errors are `{"error": ..., "parameter": ...}` with 400, 404 or 503.

use std::sync::Arc;

use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::params::ListQuery;
use crate::store::{self, JobView};
use crate::WebSettings;

fn error(status: StatusCode, message: String, parameter: Option<&str>) -> Response {
    (
        status,
        Json(json!({"error": message, "parameter": parameter})),
    )
        .into_response()
}

/// The jobs, newest first.
pub async fn jobs(State(s): State<Arc<WebSettings>>, RawQuery(raw): RawQuery) -> Response {
    let q = match ListQuery::parse(raw.as_deref()) {
        Ok(q) => q,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string(), Some(&e.name)),
    };
    match store::page(&s.queue, q.filter.clone(), q.offset(), q.limit).await {
        Ok((jobs, more)) => {
            let link = |page: u64| {
                let query = q.to_query(page);
                if query.is_empty() {
                    "/api/v1/jobs".to_string()
                } else {
                    format!("/api/v1/jobs?{query}")
                }
            };
            let data: Vec<JobView> = jobs.iter().map(JobView::of).collect();
            Json(json!({
                "data": data,
                "prev": (q.page > 1).then(|| link(q.page - 1)),
                "next": more.then(|| link(q.page + 1)),
            }))
            .into_response()
        }
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string(), None),
    }
}

/// One job: its view (with its execution report), its history and the command
/// that runs it again.
pub async fn job(State(s): State<Arc<WebSettings>>, UrlPath(uuid): UrlPath<String>) -> Response {
    match store::job(&s.queue, uuid.clone()).await {
        Ok(Some((job, history))) => {
            let mut doc = serde_json::to_value(JobView::of(&job)).unwrap_or_default();
            doc["history"] = serde_json::to_value(&history).unwrap_or_default();
            doc["reproducer"] = json!(crate::pages::reproducer(&job));
            Json(doc).into_response()
        }
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no job `{uuid}`"), None),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string(), None),
    }
}
