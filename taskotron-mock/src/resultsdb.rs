//! A ResultsDB v2.0 that behaves like the real one (checked against the responses
//! recorded from ResultsDB 2.2.0): the same routes, filters, validation messages,
//! status codes and data normalisation (every value a list of strings, non-strings
//! turned into Python's `str()`). Fed by a dictionary; served over HTTP by
//! [`MockResultsDb::serve`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::http::{Request, Response, Server};

/// The dictionary a mock ResultsDB starts from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultsDbFixture {
    /// Outcomes accepted besides the four standard ones (`ADDITIONAL_RESULT_OUTCOMES`).
    #[serde(default)]
    pub additional_outcomes: Vec<String>,
}

#[derive(Debug, Clone)]
struct Stored {
    id: u64,
    testcase: String,
    outcome: String,
    note: Option<String>,
    ref_url: Option<String>,
    groups: Vec<String>,
    data: BTreeMap<String, Vec<String>>,
    submit_time: String,
    order: u64,
}

#[derive(Debug, Default)]
struct State {
    results: Vec<Stored>,
    testcases: BTreeMap<String, Option<String>>,
    groups: BTreeMap<String, (Option<String>, Option<String>)>,
    outcomes: Vec<String>,
    clock: u64,
}

/// The mock service: its state, shared with the HTTP server.
#[derive(Debug, Clone)]
pub struct MockResultsDb {
    state: Arc<Mutex<State>>,
}

impl MockResultsDb {
    /// A ResultsDB with nothing stored.
    pub fn new(fixture: &ResultsDbFixture) -> Self {
        let mut outcomes: Vec<String> = ["PASSED", "INFO", "FAILED", "NEEDS_INSPECTION"]
            .map(String::from)
            .to_vec();
        outcomes.extend(fixture.additional_outcomes.iter().map(|o| o.to_uppercase()));
        Self {
            state: Arc::new(Mutex::new(State {
                outcomes,
                ..State::default()
            })),
        }
    }

    /// Serves the API on 127.0.0.1 (`<url>/api/v2.0/...`).
    ///
    /// # Errors
    /// No port could be bound.
    pub fn serve(&self) -> std::io::Result<Server> {
        let me = self.clone();
        Server::start(Arc::new(move |r: &Request| me.handle(r)))
    }

    /// Serves the API at `addr`.
    ///
    /// # Errors
    /// The address cannot be bound.
    pub fn serve_at(&self, addr: std::net::SocketAddr) -> std::io::Result<Server> {
        let me = self.clone();
        Server::start_at(addr, Arc::new(move |r: &Request| me.handle(r)))
    }

    /// How many results are stored.
    pub fn count(&self) -> usize {
        self.lock().results.len()
    }

    /// Every stored result as the API returns it, oldest first.
    pub fn results(&self, base: &str) -> Vec<Value> {
        let state = self.lock();
        state
            .results
            .iter()
            .map(|r| serialize(r, &state, base))
            .collect()
    }

    /// The `taskotron_result_id` of every stored result, in storing order (a
    /// result stored twice shows twice).
    pub fn result_ids(&self) -> Vec<String> {
        let state = self.lock();
        state
            .results
            .iter()
            .map(|r| serialize(r, &state, ""))
            .filter_map(|r| {
                let id = r.pointer("/data/taskotron_result_id")?;
                id.get(0).or(Some(id))?.as_str().map(str::to_string)
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Answers one request like ResultsDB 2.2.0 would.
    pub fn handle(&self, r: &Request) -> Response {
        let base = format!("http://{}", r.header("host").unwrap_or("127.0.0.1"));
        let Some(path) = r.path.strip_prefix("/api/v2.0") else {
            return not_found("Not found");
        };
        let path = path.trim_end_matches('/');
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match (r.method.as_str(), segments.as_slice()) {
            ("GET", []) => Response::json(300, &json!({
                "documentation": "http://docs.resultsdb20.apiary.io/",
                "groups": format!("{base}/api/v2.0/groups"),
                "message": "Everything is fine. But choose wisely, for while the true Grail will bring you life, the false Grail will take it from you.",
                "outcomes": self.lock().outcomes,
                "results": format!("{base}/api/v2.0/results"),
                "testcases": format!("{base}/api/v2.0/testcases"),
            })),
            ("GET", ["healthcheck"]) => Response::json(200, &json!({"message": "Health check OK"})),
            ("POST", ["results"]) => self.create(r, &base),
            ("GET", ["results"]) => self.list(r, &base, |_| true),
            ("GET", ["results", "latest"]) => self.latest(r, &base),
            ("GET", ["results", id]) => {
                let state = self.lock();
                match id.parse::<u64>().ok().and_then(|id| state.results.iter().find(|x| x.id == id)) {
                    Some(found) => Response::json(200, &serialize(found, &state, &base)),
                    None => not_found("Result not found"),
                }
            }
            ("GET", ["groups", uuid]) => {
                let state = self.lock();
                match state.groups.get(*uuid) {
                    Some((description, ref_url)) => Response::json(200, &group_json(uuid, description, ref_url, &state, &base)),
                    None => not_found("Group not found"),
                }
            }
            ("GET", ["groups", uuid, "results"]) => {
                if !self.lock().groups.contains_key(*uuid) {
                    return not_found(&format!("Group not found: {uuid}"));
                }
                let uuid = uuid.to_string();
                self.list(r, &base, move |s| s.groups.contains(&uuid))
            }
            ("GET", ["testcases", rest @ ..]) if !rest.is_empty() && rest.last() != Some(&"results") => {
                let name = rest.join("/");
                match self.lock().testcases.get(&name) {
                    Some(ref_url) => Response::json(200, &json!({"href": format!("{base}/api/v2.0/testcases/{name}"), "name": name, "ref_url": ref_url})),
                    None => not_found("Testcase not found"),
                }
            }
            ("GET", ["testcases", rest @ .., "results"]) if !rest.is_empty() => {
                let name = rest.join("/");
                if !self.lock().testcases.contains_key(&name) {
                    return not_found("Testcase not found");
                }
                self.list(r, &base, move |s| s.testcase == name)
            }
            (_, ["results" | "groups" | "testcases", ..]) | (_, []) => Response::html(
                405,
                "<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n",
            ),
            _ => not_found("Not found"),
        }
    }

    fn create(&self, r: &Request, base: &str) -> Response {
        if !r
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
        {
            return Response::html(415, "<!doctype html>\n<html lang=en>\n<title>415 Unsupported Media Type</title>\n<h1>Unsupported Media Type</h1>\n<p>Did not attempt to load JSON data because the request Content-Type was not &#39;application/json&#39;.</p>\n");
        }
        let Ok(body) = serde_json::from_slice::<Value>(&r.body) else {
            return Response::json(400, &json!({"message": "Bad request"}));
        };
        let Value::Object(body) = body else {
            return Response::json(500, &json!({"message": "Internal Server Error"}));
        };
        let mut state = self.lock();
        let mut errors = Vec::new();
        let outcome = match body.get("outcome") {
            None => {
                errors.push(missing("outcome", &body));
                String::new()
            }
            Some(Value::String(o)) => {
                let o = o.trim().to_uppercase();
                if o.is_empty() || !state.outcomes.contains(&o) {
                    errors.push(value_error(
                        "outcome",
                        &body["outcome"],
                        &format!("Value error, must be one of: {}", state.outcomes.join(", ")),
                    ));
                }
                o
            }
            Some(other) => {
                errors.push(json!({"input": other, "loc": ["outcome"], "msg": "Input should be a valid string", "type": "string_type", "url": "https://errors.pydantic.dev/2.6/v/string_type"}));
                String::new()
            }
        };
        let (testcase, testcase_ref) = match body.get("testcase") {
            None => {
                errors.push(missing("testcase", &body));
                (String::new(), None)
            }
            Some(Value::String(name)) if !name.is_empty() => (name.clone(), None),
            Some(Value::Object(t))
                if t.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| !n.is_empty()) =>
            {
                (
                    t["name"].as_str().unwrap_or_default().to_string(),
                    t.get("ref_url").and_then(Value::as_str).map(str::to_string),
                )
            }
            Some(other) => {
                errors.push(value_error(
                    "testcase",
                    other,
                    "Value error, testcase name must be non-empty",
                ));
                (String::new(), None)
            }
        };
        let text_field = |name: &str, errors: &mut Vec<Value>| match body.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                errors.push(json!({"input": other, "loc": [name], "msg": "Input should be a valid string", "type": "string_type", "url": "https://errors.pydantic.dev/2.6/v/string_type"}));
                None
            }
        };
        let note = text_field("note", &mut errors);
        let ref_url = text_field("ref_url", &mut errors);
        let groups = match body.get("groups") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(g)) => g.clone(),
            Some(other) => {
                errors.push(json!({"input": other, "loc": ["groups"], "msg": "Input should be a valid list", "type": "list_type", "url": "https://errors.pydantic.dev/2.6/v/list_type"}));
                Vec::new()
            }
        };
        if !errors.is_empty() {
            return Response::json(400, &json!({"validation_error": errors}));
        }
        let mut data = BTreeMap::new();
        if let Some(Value::Object(d)) = body.get("data") {
            let colons: Vec<String> = d
                .keys()
                .filter(|k| k.contains(':'))
                .map(|k| format!("'{k}'"))
                .collect();
            if !colons.is_empty() {
                return Response::json(
                    400,
                    &json!({"message": format!("Colon not allowed in key name: [{}]", colons.join(", "))}),
                );
            }
            for (k, v) in d {
                let values = match v {
                    Value::String(s) => vec![s.clone()],
                    Value::Array(items) => items.iter().map(py_str).collect(),
                    other => vec![py_str(other)],
                };
                data.insert(k.clone(), values);
            }
        }
        let mut group_ids = Vec::new();
        for g in groups {
            let (uuid, description, ref_url) = match g {
                Value::String(u) => (u, None, None),
                Value::Object(o) => (
                    o.get("uuid")
                        .and_then(Value::as_str)
                        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string),
                    o.get("description")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    o.get("ref_url").and_then(Value::as_str).map(str::to_string),
                ),
                _ => continue,
            };
            let entry = state.groups.entry(uuid.clone()).or_insert((None, None));
            if description.is_some() {
                entry.0 = description;
            }
            if ref_url.is_some() {
                entry.1 = ref_url;
            }
            group_ids.push(uuid);
        }
        let tc = state.testcases.entry(testcase.clone()).or_insert(None);
        if testcase_ref.is_some() {
            *tc = testcase_ref;
        }
        state.clock += 1;
        let stored = Stored {
            id: state.results.len() as u64 + 1,
            testcase,
            outcome,
            note,
            ref_url,
            groups: group_ids,
            data,
            submit_time: now_iso(),
            order: state.clock,
        };
        let reply = serialize(&stored, &state, base);
        state.results.push(stored);
        Response::json(201, &reply)
    }

    fn filtered(
        &self,
        r: &Request,
        extra: impl Fn(&Stored) -> bool,
    ) -> Result<Vec<Stored>, Response> {
        let state = self.lock();
        let mut filters: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in &r.query {
            filters
                .entry(k.clone())
                .or_default()
                .extend(v.split(',').map(str::to_string));
        }
        let take = |k: &str| filters.get(k).cloned();
        let outcomes =
            take("outcome").map(|o| o.iter().map(|x| x.to_uppercase()).collect::<Vec<_>>());
        if let Some(os) = &outcomes {
            if let Some(bad) = os.iter().find(|o| !state.outcomes.contains(o)) {
                return Err(Response::json(
                    400,
                    &json!({"validation_error": [value_error("outcome", &json!(bad), &format!("Value error, must be one of: {}", state.outcomes.join(", ")))]}),
                ));
            }
        }
        let since = match take("since") {
            None => None,
            Some(v) => {
                let parse = |s: &str| normalize_time(s);
                let start = v.first().and_then(|s| parse(s));
                let end = v.get(1).map(|s| parse(s));
                match (start, end) {
                    (Some(s), None) => Some((s, None)),
                    (Some(s), Some(Some(e))) => Some((s, Some(e))),
                    _ => {
                        let input = r
                            .query
                            .iter()
                            .find(|(k, _)| k == "since")
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default();
                        return Err(Response::json(
                            400,
                            &json!({"validation_error": [value_error("since", &json!(input), "Value error, must be in ISO8601 format")]}),
                        ));
                    }
                }
            }
        };
        let testcases = take("testcases");
        let like = take("testcases:like");
        let groups = take("groups");
        let reserved = [
            "outcome",
            "since",
            "testcases",
            "testcases:like",
            "groups",
            "page",
            "limit",
            "_sort",
            "_distinct_on",
            "callback",
            "_",
        ];
        let data_filters: Vec<(String, Vec<String>)> = filters
            .iter()
            .filter(|(k, _)| !reserved.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let matches = |s: &Stored| {
            outcomes.as_ref().is_none_or(|o| o.contains(&s.outcome))
                && (testcases.is_none() && like.is_none()
                    || testcases.as_ref().is_some_and(|t| t.contains(&s.testcase))
                    || like
                        .as_ref()
                        .is_some_and(|l| l.iter().any(|p| glob(p, &s.testcase))))
                && groups
                    .as_ref()
                    .is_none_or(|g| g.iter().any(|u| s.groups.contains(u)))
                && since.as_ref().is_none_or(|(start, end)| {
                    s.submit_time.as_str() >= start.as_str()
                        && end
                            .as_ref()
                            .is_none_or(|e| s.submit_time.as_str() <= e.as_str())
                })
                && data_filters.iter().all(|(k, values)| {
                    let (key, is_like) = k
                        .strip_suffix(":like")
                        .map_or((k.as_str(), false), |b| (b, true));
                    s.data.get(key).is_some_and(|stored| {
                        stored.iter().any(|x| {
                            values
                                .iter()
                                .any(|v| if is_like { glob(v, x) } else { v == x })
                        })
                    })
                })
        };
        let mut out: Vec<Stored> = state
            .results
            .iter()
            .filter(|s| matches(s) && extra(s))
            .cloned()
            .collect();
        let ascending = filters
            .get("_sort")
            .is_some_and(|s| s.first().is_some_and(|x| x == "asc:submit_time"));
        out.sort_by_key(|s| s.order);
        if !ascending {
            out.reverse();
        }
        Ok(out)
    }

    fn list(&self, r: &Request, base: &str, extra: impl Fn(&Stored) -> bool) -> Response {
        let rows = match self.filtered(r, extra) {
            Ok(rows) => rows,
            Err(e) => return e,
        };
        let number = |k: &str| {
            r.query
                .iter()
                .find(|(q, _)| q == k)
                .map(|(_, v)| v.parse::<usize>())
        };
        let (page, limit) = match (number("page"), number("limit")) {
            (Some(Err(_)), _) => {
                return Response::json(
                    400,
                    &json!({"validation_error": [value_error("page", &json!(""), "Input should be a valid integer")]}),
                )
            }
            (_, Some(Err(_))) => {
                return Response::json(
                    400,
                    &json!({"validation_error": [value_error("limit", &json!(""), "Input should be a valid integer")]}),
                )
            }
            (p, l) => (
                p.and_then(Result::ok).unwrap_or(0),
                l.and_then(Result::ok).unwrap_or(20),
            ),
        };
        let state = self.lock();
        let data: Vec<Value> = rows
            .iter()
            .skip(page * limit)
            .take(limit)
            .map(|s| serialize(s, &state, base))
            .collect();
        let url = |p: usize| {
            let mut q: Vec<String> = r
                .query
                .iter()
                .filter(|(k, _)| k != "page")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            q.push(format!("page={p}"));
            format!("{base}{}?{}", r.path, q.join("&"))
        };
        let next = (rows.len() > (page + 1) * limit).then(|| url(page + 1));
        let prev = (page > 0).then(|| url(page - 1));
        Response::json(200, &json!({"data": data, "next": next, "prev": prev}))
    }

    fn latest(&self, r: &Request, base: &str) -> Response {
        let distinct = r.query.iter().any(|(k, _)| k == "_distinct_on");
        if distinct && r.query.iter().all(|(k, _)| k == "_distinct_on") {
            return Response::json(
                400,
                &json!({"message": "Please, provide at least one filter beside '_distinct_on'"}),
            );
        }
        let rows = match self.filtered(r, |_| true) {
            Ok(rows) => rows,
            Err(e) => return e,
        };
        let mut seen = std::collections::BTreeSet::new();
        let state = self.lock();
        let data: Vec<Value> = rows
            .iter()
            .filter(|s| seen.insert(s.testcase.clone()))
            .map(|s| serialize(s, &state, base))
            .collect();
        Response::json(200, &json!({"data": data}))
    }
}

fn serialize(s: &Stored, state: &State, base: &str) -> Value {
    json!({
        "data": s.data,
        "groups": s.groups,
        "href": format!("{base}/api/v2.0/results/{}", s.id),
        "id": s.id,
        "note": s.note,
        "outcome": s.outcome,
        "ref_url": s.ref_url,
        "submit_time": s.submit_time,
        "testcase": {
            "href": format!("{base}/api/v2.0/testcases/{}", s.testcase),
            "name": s.testcase,
            "ref_url": state.testcases.get(&s.testcase).cloned().flatten(),
        },
    })
}

fn group_json(
    uuid: &str,
    description: &Option<String>,
    ref_url: &Option<String>,
    state: &State,
    base: &str,
) -> Value {
    json!({
        "description": description,
        "href": format!("{base}/api/v2.0/groups/{uuid}"),
        "ref_url": ref_url,
        "results": format!("{base}/api/v2.0/results?groups={uuid}"),
        "results_count": state.results.iter().filter(|r| r.groups.iter().any(|g| g == uuid)).count(),
        "uuid": uuid,
    })
}

fn not_found(message: &str) -> Response {
    Response::json(404, &json!({"message": message}))
}

fn missing(field: &str, body: &Map<String, Value>) -> Value {
    json!({"input": body, "loc": [field], "msg": "Field required", "type": "missing", "url": "https://errors.pydantic.dev/2.6/v/missing"})
}

fn value_error(field: &str, input: &Value, msg: &str) -> Value {
    json!({"input": input, "loc": [field], "msg": msg, "type": "value_error", "url": "https://errors.pydantic.dev/2.6/v/value_error"})
}

/// Python's `str()` of a JSON value, as ResultsDB stores non-string data.
fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(py_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("'{k}': {}", py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn py_repr(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{s}'"),
        other => py_str(other),
    }
}

/// `*` matches any run of characters (ResultsDB's `:like`).
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else if let Some(pos) = rest.find(part) {
            rest = &rest[pos + part.len()..];
        } else {
            return false;
        }
    }
    true
}

/// Now as ResultsDB writes it: naive UTC with microseconds.
fn now_iso() -> String {
    let now = SystemTime::now();
    let micros = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_micros())
        .unwrap_or(0);
    let base = humantime::format_rfc3339_seconds(now).to_string();
    format!("{}.{micros:06}", base.trim_end_matches('Z'))
}

/// An ISO 8601 date or datetime as a comparable naive-UTC string, offsets dropped
/// (as ResultsDB does); `None` when it is not ISO 8601.
fn normalize_time(s: &str) -> Option<String> {
    let s = s.trim();
    let date = s.get(..10)?;
    let ok_date = date.len() == 10
        && date.as_bytes()[4] == b'-'
        && date.as_bytes()[7] == b'-'
        && date
            .bytes()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !ok_date {
        return None;
    }
    if s.len() == 10 {
        return Some(format!("{date}T00:00:00"));
    }
    let time = s.get(11..)?;
    let time = time.trim_end_matches('Z');
    let time = time.split(['+']).next()?;
    let t = if time.len() > 8 && time.as_bytes()[8] == b'-' {
        &time[..8]
    } else {
        time
    };
    if t.len() < 5
        || !t
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b':' || b == b'.')
    {
        return None;
    }
    Some(format!("{date}T{t}"))
}
