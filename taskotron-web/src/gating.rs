//! `/api/v1.0/...`: Greenwave's and WaiverDB's APIs over this machine's results
//! and waivers, so that Bodhi, scripts and a real Greenwave read a
//! single-machine deployment unchanged.
//!
//! - `POST /api/v1.0/decision`: Greenwave's decision (`taskotron_core::gating`);
//!   400 names the field, 404 when no policy applies, 502 when a fact cannot be
//!   read, never 500 for a bad `gating.yaml` (that is `invalid-gating-yaml`);
//! - `GET /api/v1.0/policies`, `/subject_types`, `/version`, `/about`, and
//!   `POST /api/v1.0/validate-gating-yaml`;
//! - `GET /api/v1.0/waivers/` (filters `subject_type`, `subject_identifier`,
//!   `testcase`, `product_version`, `username`, `since`, `include_obsolete`,
//!   `page`, `limit`), `GET /api/v1.0/waivers/<id>` and
//!   `POST /api/v1.0/waivers/+filtered` (`{"filters": [...], "include_obsolete"}`),
//!   in WaiverDB 1.x's shape.
//!
//! The POSTs here only read. Recording a waiver over HTTP is refused with 405:
//! the web face has no login, so waivers are recorded with `taskotron waive`
//! where the state directory is.

// The helpers answer a refusal as the response itself (`Err(Response)`), which
// is as large as a success would be; boxing it would buy nothing per request.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use taskotron_core::gating::GatingSettings;
use taskotron_gating::request::SUBJECT_TYPES;
use taskotron_gating::{parse_policies, DecisionError, DecisionRequest, Origin, Policy, Rule};
use taskotron_history::{Store, WaiverFilter};

use crate::WebSettings;

/// What gating reads, and the policies loaded when the server started.
#[derive(Debug, Clone)]
pub struct Gating {
    /// Where the facts come from.
    pub settings: GatingSettings,
    /// `gating_policies`, read once.
    pub policies: Vec<Policy>,
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({"message": text}))).into_response()
}

fn field(status: StatusCode, field: &str, text: &str) -> Response {
    (status, Json(json!({"message": text, "field": field}))).into_response()
}

fn body_json(body: &Bytes) -> Result<Value, Response> {
    serde_json::from_slice(body).map_err(|e| {
        message(
            StatusCode::BAD_REQUEST,
            &format!("the body is not JSON ({e}); send a JSON object with Content-Type: application/json"),
        )
    })
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Response> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| message(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()))
}

/// `POST /api/v1.0/decision`.
pub async fn decision(State(s): State<Arc<WebSettings>>, body: Bytes) -> Response {
    let body = match body_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let request = match DecisionRequest::from_json(&body) {
        Ok(r) => r,
        Err(e) => return field(StatusCode::BAD_REQUEST, &e.field, &e.message),
    };
    let Some(g) = s.gating.clone() else {
        return message(
            StatusCode::NOT_FOUND,
            "no policies are configured (`gating_policies`)",
        );
    };
    let done =
        blocking(move || taskotron_core::gating::decide(&g.settings, &g.policies, &request)).await;
    match done {
        Err(r) => r,
        Ok(Ok(d)) => Json(d.to_json()).into_response(),
        Ok(Err(DecisionError::BadRequest(e))) => {
            field(StatusCode::BAD_REQUEST, &e.field, &e.message)
        }
        Ok(Err(DecisionError::NoPolicies(m))) => message(StatusCode::NOT_FOUND, &m),
        Ok(Err(DecisionError::Facts(m))) => message(StatusCode::BAD_GATEWAY, &m),
    }
}

fn rule_json(r: &Rule) -> Value {
    match r {
        Rule::PassingTestCase {
            test_case_name,
            scenario,
            valid_since,
            valid_until,
        } => {
            json!({"rule": "PassingTestCaseRule", "test_case_name": test_case_name, "scenario": scenario, "valid_since": valid_since, "valid_until": valid_until})
        }
        Rule::Remote { required } => json!({"rule": "RemoteRule", "required": required}),
    }
}

/// `GET /api/v1.0/policies`.
pub async fn policies(State(s): State<Arc<WebSettings>>) -> Response {
    let list: Vec<Value> = s
        .gating
        .iter()
        .flat_map(|g| g.policies.iter())
        .map(|p| {
            json!({
                "id": p.id,
                "product_versions": p.product_versions,
                "decision_contexts": p.decision_contexts,
                "decision_context": p.decision_contexts.first(),
                "subject_type": p.subject_types.first(),
                "subject_types": p.subject_types,
                "rules": p.rules.iter().map(rule_json).collect::<Vec<_>>(),
                "packages": p.packages,
                "excluded_packages": p.excluded_packages,
                "blacklist": p.blacklist,
            })
        })
        .collect();
    Json(json!({"policies": list})).into_response()
}

/// `GET /api/v1.0/subject_types`.
pub async fn subject_types() -> Response {
    let types: Vec<Value> = SUBJECT_TYPES
        .iter()
        .map(|t| json!({"id": t, "aliases": [], "is_koji_build": matches!(*t, "koji_build" | "brew-build")}))
        .collect();
    Json(json!({"subject_types": types})).into_response()
}

/// `GET /api/v1.0/version` and `/about`.
pub async fn version() -> Response {
    Json(json!({"version": env!("CARGO_PKG_VERSION"), "name": "taskotron"})).into_response()
}

/// `POST /api/v1.0/validate-gating-yaml`: the body is a `gating.yaml`.
pub async fn validate_gating_yaml(body: Bytes) -> Response {
    let Ok(text) = std::str::from_utf8(&body) else {
        return message(StatusCode::BAD_REQUEST, "gating.yaml is not UTF-8");
    };
    match parse_policies(
        text,
        Some(std::path::Path::new("gating.yaml")),
        Origin::Remote,
    ) {
        Ok(_) => message(StatusCode::OK, "All OK"),
        Err(d) => {
            let errors: Vec<Value> = d
                .iter()
                .map(|d| {
                    json!({
                        "message": d.message,
                        "line": d.location.map(|l| l.line),
                        "column": d.location.map(|l| l.column),
                        "help": d.help,
                    })
                })
                .collect();
            let first = d.first().map_or(String::new(), |d| {
                let at = d
                    .location
                    .map_or(String::new(), |l| format!("{}:{}: ", l.line, l.column));
                format!("{at}{}", d.message)
            });
            (
                StatusCode::BAD_REQUEST,
                Json(json!({"message": first, "errors": errors})),
            )
                .into_response()
        }
    }
}

fn history(s: &WebSettings) -> Option<std::path::PathBuf> {
    s.gating
        .as_ref()
        .map(|g| taskotron_core::history::path(&g.settings.state_dir))
}

/// Runs `f` on the history store (read-only) on a blocking thread; no store is
/// no waivers.
async fn with_history(
    s: &WebSettings,
    f: impl FnOnce(Option<&Store>) -> Result<Response, String> + Send + 'static,
) -> Response {
    let path = history(s);
    let done = blocking(move || {
        let store = match path.filter(|p| p.exists()) {
            Some(p) => Some(Store::open_read_only(&p).map_err(|e| e.to_string())?),
            None => None,
        };
        f(store.as_ref())
    })
    .await;
    match done {
        Err(r) => r,
        Ok(Ok(r)) => r,
        Ok(Err(e)) => message(StatusCode::SERVICE_UNAVAILABLE, &e),
    }
}

fn filter_of(o: &serde_json::Map<String, Value>, at: &str) -> Result<WaiverFilter, Response> {
    let mut f = WaiverFilter::default();
    for (k, v) in o {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Null => continue,
            other => {
                return Err(field(
                    StatusCode::BAD_REQUEST,
                    &format!("{at}{k}"),
                    &format!("must be a string, found `{other}`"),
                ))
            }
        };
        match k.as_str() {
            "subject_type" => f.subject_type = Some(text),
            "subject_identifier" => f.subject_identifier = Some(text),
            "testcase" => f.testcase = Some(text),
            "product_version" => f.product_version = Some(text),
            "username" => f.username = Some(text),
            "since" => f.since = Some(text),
            "include_obsolete" | "page" | "limit" | "proxied_by" => {}
            other => {
                let known = [
                    "subject_type",
                    "subject_identifier",
                    "testcase",
                    "product_version",
                    "username",
                    "since",
                ];
                let mut m = format!("unknown filter `{other}`");
                if let Some(s) = taskotron_tap::suggest::did_you_mean(other, known) {
                    m.push_str(&format!("; did you mean `{s}`?"));
                }
                return Err(field(StatusCode::BAD_REQUEST, &format!("{at}{other}"), &m));
            }
        }
    }
    Ok(f)
}

/// `GET /api/v1.0/waivers/`.
pub async fn waivers(State(s): State<Arc<WebSettings>>, RawQuery(raw): RawQuery) -> Response {
    let pairs = crate::resultsdb::pairs(raw.as_deref());
    let mut o = serde_json::Map::new();
    let (mut page, mut limit, mut obsolete) = (1u64, 20u64, false);
    for (k, v) in &pairs {
        match k.as_str() {
            "page" => match v.parse::<u64>() {
                Ok(p) if p > 0 => page = p,
                _ => {
                    return field(
                        StatusCode::BAD_REQUEST,
                        "page",
                        "must be a whole number from 1",
                    )
                }
            },
            "limit" => match v.parse::<u64>() {
                Ok(l) => limit = l.clamp(1, 1000),
                _ => return field(StatusCode::BAD_REQUEST, "limit", "must be a whole number"),
            },
            "include_obsolete" => obsolete = matches!(v.as_str(), "1" | "true" | "True"),
            _ => {
                o.insert(k.clone(), json!(v));
            }
        }
    }
    let f = match filter_of(&o, "") {
        Ok(f) => f,
        Err(r) => return r,
    };
    with_history(&s, move |store| {
        let mut list = match store {
            Some(st) => st
                .waivers(&[f], obsolete, (page - 1) * limit, limit + 1)
                .map_err(|e| e.to_string())?,
            None => Vec::new(),
        };
        let more = list.len() as u64 > limit;
        list.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(Json(json!({
            "data": list.iter().map(|w| w.to_json()).collect::<Vec<_>>(),
            "first": format!("/api/v1.0/waivers/?page=1&limit={limit}"),
            "prev": (page > 1).then(|| format!("/api/v1.0/waivers/?page={}&limit={limit}", page - 1)),
            "next": more.then(|| format!("/api/v1.0/waivers/?page={}&limit={limit}", page + 1)),
        }))
        .into_response())
    })
    .await
}

/// `POST /api/v1.0/waivers/`: refused; see the module's documentation.
pub async fn create_waiver(body: Bytes) -> Response {
    // A malformed waiver still hears what is wrong with it, so that a script
    // moving from WaiverDB learns both things at once.
    let detail = match body_json(&body).map(|v| taskotron_gating::NewWaiver::from_json(&v)) {
        Ok(Err(e)) => format!(" (and `{}`: {})", e.field, e.message),
        _ => String::new(),
    };
    message(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("this server records no waivers over HTTP: run `taskotron waive SUBJECT TESTCASE --product-version V --comment WHY` where its state directory is{detail}"),
    )
}

/// `GET /api/v1.0/waivers/<id>`.
pub async fn waiver(State(s): State<Arc<WebSettings>>, UrlPath(id): UrlPath<String>) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return message(StatusCode::NOT_FOUND, "Waiver not found");
    };
    with_history(&s, move |store| {
        Ok(
            match store
                .map(|st| st.waiver(id))
                .transpose()
                .map_err(|e| e.to_string())?
                .flatten()
            {
                Some(w) => Json(w.to_json()).into_response(),
                None => message(StatusCode::NOT_FOUND, "Waiver not found"),
            },
        )
    })
    .await
}

/// `POST /api/v1.0/waivers/+filtered`, as Greenwave calls it.
pub async fn filtered(State(s): State<Arc<WebSettings>>, body: Bytes) -> Response {
    let body = match body_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(list) = body.get("filters").and_then(Value::as_array) else {
        return field(
            StatusCode::BAD_REQUEST,
            "filters",
            "missing required filters (a list of objects)",
        );
    };
    let mut filters = Vec::with_capacity(list.len());
    for (i, f) in list.iter().enumerate() {
        let Some(o) = f.as_object() else {
            return field(
                StatusCode::BAD_REQUEST,
                &format!("filters[{i}]"),
                "must be an object",
            );
        };
        match filter_of(o, &format!("filters[{i}].")) {
            Ok(f) => filters.push(f),
            Err(r) => return r,
        }
    }
    let obsolete = body
        .get("include_obsolete")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    with_history(&s, move |store| {
        let list = match store {
            // No filters selects nothing, as WaiverDB answers.
            Some(st) if !filters.is_empty() => st
                .waivers(&filters, obsolete, 0, 10_000)
                .map_err(|e| e.to_string())?,
            _ => Vec::new(),
        };
        Ok(
            Json(json!({"data": list.iter().map(|w| w.to_json()).collect::<Vec<_>>()}))
                .into_response(),
        )
    })
    .await
}
