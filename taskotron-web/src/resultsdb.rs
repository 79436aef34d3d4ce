//! `/api/v2.0/...`: the embedded results store (`<state_dir>/results.sqlite`) served
//! read-only in ResultsDB 2.x's shape and with its query parameters, so that tools
//! written for ResultsDB (the `resultsdb-api` client, Greenwave's queries, scripts)
//! read a single-machine deployment unchanged: `results` (filters `item=`, `type=`
//! and any data key, `:like` globs, `outcome`, `testcases`, `testcases:like`,
//! `groups`, `since`, `page` from 0, `limit` default 20, `_sort`), `results/latest`
//! (the newest result per testcase; `_distinct_on` needs another filter),
//! `results/<id>`, `testcases`, `testcases/<name>`, `groups`, `groups/<uuid>`.
//! Writing (POST) is refused with 405, as the store is written by taskotron only.

use std::sync::Arc;

use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};
use taskotron_core::resultsdb::local::{LocalResults, NameFilter, ResultQuery, OUTCOMES};

use crate::WebSettings;

/// Decoded `key=value` pairs of a query string.
pub(crate) fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let d = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (d(k), d(v))
        })
        .collect()
}

fn base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".:-[]".contains(c))
        })
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

fn not_found(message: &str) -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"message": message}))).into_response()
}

fn invalid(name: &str, input: &str, message: &str) -> Response {
    let error = json!({"input": input, "loc": [name], "msg": message, "type": "value_error"});
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"validation_error": [error]})),
    )
        .into_response()
}

/// Runs `f` on the store (read-only) on a blocking thread; an empty store when the
/// file does not exist yet.
async fn with_store(
    s: &WebSettings,
    f: impl FnOnce(Option<&LocalResults>) -> Result<Response, String> + Send + 'static,
) -> Response {
    let path = s.results.clone();
    let done = tokio::task::spawn_blocking(move || {
        if !path.exists() {
            return f(None);
        }
        let store = LocalResults::open_read_only(&path).map_err(|e| e.to_string())?;
        f(Some(&store))
    })
    .await;
    match done {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"message": e}))).into_response()
        }
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"message": e.to_string()})),
        )
            .into_response(),
    }
}

/// The `prev`/`next` links of a page: the same query with `page` changed.
fn page_url(base: &str, path: &str, pairs: &[(String, String)], page: u64) -> String {
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let mut q: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k != "page")
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    q.push(format!("page={page}"));
    format!("{base}{path}?{}", q.join("&"))
}

/// `/api/v2.0/`.
pub async fn root(headers: HeaderMap) -> Response {
    let b = base(&headers);
    (
        StatusCode::MULTIPLE_CHOICES,
        Json(json!({
            "documentation": "http://docs.resultsdb20.apiary.io/",
            "groups": format!("{b}/api/v2.0/groups"),
            "message": "taskotron's embedded results store, read-only, in ResultsDB 2.x's shape",
            "outcomes": OUTCOMES,
            "results": format!("{b}/api/v2.0/results"),
            "testcases": format!("{b}/api/v2.0/testcases"),
        })),
    )
        .into_response()
}

/// `/api/v2.0/results`.
pub async fn results(
    State(s): State<Arc<WebSettings>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = pairs(raw.as_deref());
    let q = match ResultQuery::parse(&pairs) {
        Ok(q) => q,
        Err(e) => {
            let input = pairs
                .iter()
                .find(|(k, _)| *k == e.name)
                .map_or("", |(_, v)| v.as_str())
                .to_string();
            return invalid(&e.name, &input, &e.message);
        }
    };
    let b = base(&headers);
    with_store(&s, move |store| {
        let (data, more) = match store {
            Some(st) => st.results(&q, &b).map_err(|e| e.to_string())?,
            None => (Vec::new(), false),
        };
        let path = "/api/v2.0/results";
        Ok(Json(json!({
            "data": data,
            "next": more.then(|| page_url(&b, path, &pairs, q.page + 1)),
            "prev": (q.page > 0).then(|| page_url(&b, path, &pairs, q.page - 1)),
        }))
        .into_response())
    })
    .await
}

/// `/api/v2.0/results/latest`.
pub async fn latest(
    State(s): State<Arc<WebSettings>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = pairs(raw.as_deref());
    let q = match ResultQuery::parse(&pairs) {
        Ok(q) => q,
        Err(e) => return invalid(&e.name, "", &e.message),
    };
    if q.distinct_on && !q.filters() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"message": "Please, provide at least one filter beside '_distinct_on'"})),
        )
            .into_response();
    }
    let b = base(&headers);
    with_store(&s, move |store| {
        let data = match store {
            Some(st) => st.latest(&q, &b).map_err(|e| e.to_string())?,
            None => Vec::new(),
        };
        Ok(Json(json!({"data": data})).into_response())
    })
    .await
}

/// `/api/v2.0/results/<id>`.
pub async fn result(
    State(s): State<Arc<WebSettings>>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return not_found("Result not found");
    };
    let b = base(&headers);
    with_store(&s, move |store| {
        Ok(
            match store
                .map(|st| st.result(id, &b))
                .transpose()
                .map_err(|e| e.to_string())?
                .flatten()
            {
                Some(r) => Json(r).into_response(),
                None => not_found("Result not found"),
            },
        )
    })
    .await
}

/// `page` (from 0) and `limit` (default 20); the refusal names the bad one.
fn paging(pairs: &[(String, String)]) -> Result<(u64, u64), Box<Response>> {
    let number = |k: &str, default: u64| match pairs.iter().find(|(q, _)| q == k) {
        None => Ok(default),
        Some((_, v)) => v
            .parse::<u64>()
            .map_err(|_| Box::new(invalid(k, v, "Input should be a valid integer"))),
    };
    Ok((number("page", 0)?, number("limit", 20)?.min(1000)))
}

/// Reads one page of a listing of the store.
type Lister = fn(&LocalResults, NameFilter<'_>, u64, u64, &str) -> PageResult;

type PageResult = Result<(Vec<Value>, bool), taskotron_core::resultsdb::local::LocalError>;

/// A paged listing (`testcases`, `groups`): `exact` and `like` name the parameters
/// that select one entry or match a glob.
async fn listing(
    s: &WebSettings,
    headers: &HeaderMap,
    raw: Option<&str>,
    path: &'static str,
    (exact, like): (&'static str, Option<&'static str>),
    list: Lister,
) -> Response {
    let pairs = pairs(raw);
    let (page, limit) = match paging(&pairs) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let value = |k: &str| pairs.iter().find(|(q, _)| q == k).map(|(_, v)| v.clone());
    let (exact_value, like_value) = (value(exact), like.and_then(value));
    let b = base(headers);
    with_store(s, move |store| {
        let filter = match (&exact_value, &like_value) {
            (Some(v), _) => NameFilter::Exact(v),
            (None, Some(v)) => NameFilter::Like(v),
            (None, None) => NameFilter::Any,
        };
        let (data, more) = match store {
            Some(st) => list(st, filter, page, limit, &b).map_err(|e| e.to_string())?,
            None => (Vec::new(), false),
        };
        Ok(Json(json!({
            "data": data,
            "next": more.then(|| page_url(&b, path, &pairs, page + 1)),
            "prev": (page > 0).then(|| page_url(&b, path, &pairs, page - 1)),
        }))
        .into_response())
    })
    .await
}

/// One entry of a listing by its exact name, or ResultsDB's 404 `missing`.
async fn one(
    s: &WebSettings,
    headers: &HeaderMap,
    name: String,
    list: Lister,
    missing: &'static str,
) -> Response {
    let b = base(headers);
    with_store(s, move |store| {
        let found = match store {
            Some(st) => {
                list(st, NameFilter::Exact(&name), 0, 1, &b)
                    .map_err(|e| e.to_string())?
                    .0
            }
            None => Vec::new(),
        };
        Ok(match found.into_iter().next() {
            Some(v) => Json(v).into_response(),
            None => not_found(missing),
        })
    })
    .await
}

/// `/api/v2.0/testcases` (`name` exact, `name:like` a glob).
pub async fn testcases(
    State(s): State<Arc<WebSettings>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let path = "/api/v2.0/testcases";
    listing(
        &s,
        &headers,
        raw.as_deref(),
        path,
        ("name", Some("name:like")),
        LocalResults::testcases,
    )
    .await
}

/// `/api/v2.0/testcases/<name>`.
pub async fn testcase(
    State(s): State<Arc<WebSettings>>,
    headers: HeaderMap,
    UrlPath(name): UrlPath<String>,
) -> Response {
    one(
        &s,
        &headers,
        name,
        LocalResults::testcases,
        "Testcase not found",
    )
    .await
}

/// `/api/v2.0/groups` (`uuid` selects one).
pub async fn groups(
    State(s): State<Arc<WebSettings>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    listing(
        &s,
        &headers,
        raw.as_deref(),
        "/api/v2.0/groups",
        ("uuid", None),
        LocalResults::groups,
    )
    .await
}

/// `/api/v2.0/groups/<uuid>`.
pub async fn group(
    State(s): State<Arc<WebSettings>>,
    headers: HeaderMap,
    UrlPath(uuid): UrlPath<String>,
) -> Response {
    one(&s, &headers, uuid, LocalResults::groups, "Group not found").await
}

/// Anything but GET on the results API.
pub async fn read_only() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(json!({"message": "this ResultsDB API is read-only: taskotron writes the results it reports"})),
    )
        .into_response()
}
