//! A Bodhi that answers like the current one for what Taskotron uses: OIDC token
//! login (`/oidc/login-token`, a session cookie), `/csrf`, `POST /comments/` with
//! Bodhi's (Cornice) error format, and `GET /comments/?updates=&user=`. Fed by a
//! dictionary of users and updates.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use serde_json::{json, Value};

use crate::http::{decode, Request, Response, Server};

/// A user that can log in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// FAS name.
    pub name: String,
    /// The OIDC access token that logs them in.
    pub token: String,
}

/// A comment already on an update.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Comment {
    /// Who wrote it.
    pub user: String,
    /// The text.
    pub text: String,
    /// `YYYY-MM-DD HH:MM:SS`, UTC.
    pub timestamp: String,
    /// -1, 0 or 1.
    #[serde(default)]
    pub karma: i64,
}

/// An update.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Update {
    /// `FEDORA-2024-...`.
    pub alias: String,
    /// Its comments.
    #[serde(default)]
    pub comments: Vec<Comment>,
    /// The N-V-Rs of its builds (`GET /updates/<alias>`).
    #[serde(default)]
    pub builds: Vec<String>,
    /// `testing`, `stable`, ... (default `testing`).
    #[serde(default)]
    pub status: Option<String>,
}

/// The dictionary a mock Bodhi starts from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodhiFixture {
    /// Who can log in.
    #[serde(default)]
    pub users: Vec<User>,
    /// The updates.
    #[serde(default)]
    pub updates: Vec<Update>,
}

#[derive(Debug, Default)]
struct State {
    users: Vec<User>,
    updates: BTreeMap<String, Vec<Comment>>,
    /// alias -> (builds, status)
    info: BTreeMap<String, (Vec<String>, String)>,
    /// session cookie value -> (user, csrf token)
    sessions: BTreeMap<String, (String, String)>,
    next_id: u64,
}

/// The mock service.
#[derive(Debug, Clone)]
pub struct MockBodhi {
    state: Arc<Mutex<State>>,
}

fn error(status: u16, location: &str, name: &str, description: &str) -> Response {
    Response::json(
        status,
        &json!({"status": "error", "errors": [{"location": location, "name": name, "description": description}]}),
    )
}

impl MockBodhi {
    /// A Bodhi with the fixture's users and updates.
    pub fn new(fixture: &BodhiFixture) -> Self {
        let state = State {
            users: fixture.users.clone(),
            updates: fixture
                .updates
                .iter()
                .map(|u| (u.alias.clone(), u.comments.clone()))
                .collect(),
            info: fixture
                .updates
                .iter()
                .map(|u| {
                    let status = u.status.clone().unwrap_or_else(|| "testing".into());
                    (u.alias.clone(), (u.builds.clone(), status))
                })
                .collect(),
            next_id: 1,
            ..State::default()
        };
        Self {
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// Serves it on 127.0.0.1.
    ///
    /// # Errors
    /// No port could be bound.
    pub fn serve(&self) -> std::io::Result<Server> {
        let me = self.clone();
        Server::start(Arc::new(move |r: &Request| me.handle(r)))
    }

    /// The comments on `update`, oldest first.
    pub fn comments(&self, update: &str) -> Vec<Comment> {
        self.lock().updates.get(update).cloned().unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn session(&self, r: &Request) -> Option<(String, String)> {
        let cookie = r.header("cookie")?;
        let value = cookie
            .split(';')
            .map(str::trim)
            .find_map(|c| c.strip_prefix("auth_tkt="))?;
        self.lock().sessions.get(value).cloned()
    }

    /// Answers one request.
    pub fn handle(&self, r: &Request) -> Response {
        match (r.method.as_str(), r.path.trim_end_matches('/')) {
            ("GET", "/oidc/login-token") => {
                let token = r
                    .header("authorization")
                    .and_then(|a| a.strip_prefix("Bearer "))
                    .unwrap_or("");
                let mut state = self.lock();
                let Some(user) = state
                    .users
                    .iter()
                    .find(|u| u.token == token)
                    .map(|u| u.name.clone())
                else {
                    return error(401, "header", "Authorization", "Invalid or expired token");
                };
                let session = uuid::Uuid::new_v4().simple().to_string();
                let csrf = uuid::Uuid::new_v4().simple().to_string();
                state.sessions.insert(session.clone(), (user, csrf));
                let mut response = Response::json(202, &json!({"message": "Logged in"}));
                response.headers.push((
                    "Set-Cookie".into(),
                    format!("auth_tkt={session}; Path=/; HttpOnly"),
                ));
                response
            }
            ("GET", "/csrf") => {
                let csrf = self
                    .session(r)
                    .map(|(_, c)| c)
                    .unwrap_or_else(|| "anonymous".into());
                Response::json(200, &json!({"csrf_token": csrf}))
            }
            ("GET", "/comments") => {
                let param = |k: &str| r.query.iter().find(|(q, _)| q == k).map(|(_, v)| v.clone());
                let state = self.lock();
                let comments: Vec<Value> = state
                    .updates
                    .iter()
                    .filter(|(alias, _)| param("updates").is_none_or(|u| u.split(',').any(|x| x == alias.as_str())))
                    .flat_map(|(alias, cs)| cs.iter().map(move |c| (alias, c)))
                    .filter(|(_, c)| param("user").is_none_or(|u| u == c.user))
                    .map(|(alias, c)| json!({"text": c.text, "timestamp": c.timestamp, "karma": c.karma, "user": {"name": c.user}, "update": {"alias": alias}}))
                    .collect();
                let total = comments.len();
                Response::json(
                    200,
                    &json!({"comments": comments, "page": 1, "pages": 1, "rows_per_page": total.max(20), "total": total}),
                )
            }
            ("POST", "/comments") => self.post_comment(r),
            ("GET", path) if path.starts_with("/updates/") => {
                let alias = &path["/updates/".len()..];
                let state = self.lock();
                match state.info.get(alias) {
                    Some((builds, status)) => Response::json(
                        200,
                        &json!({"update": {
                            "alias": alias,
                            "status": status,
                            "builds": builds.iter().map(|b| json!({"nvr": b, "type": "rpm", "signed": true})).collect::<Vec<_>>(),
                        }}),
                    ),
                    None => error(404, "url", "id", "Invalid update id"),
                }
            }
            _ => error(404, "url", "path", "The resource could not be found."),
        }
    }

    fn post_comment(&self, r: &Request) -> Response {
        let body: BTreeMap<String, Value> = if r
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
        {
            match serde_json::from_slice(&r.body) {
                Ok(b) => b,
                Err(_) => return error(400, "body", "body", "Invalid JSON"),
            }
        } else {
            String::from_utf8_lossy(&r.body)
                .split('&')
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (decode(k), Value::String(decode(v))))
                .collect()
        };
        let Some((user, csrf)) = self.session(r) else {
            return error(403, "body", "email", "You must provide an author");
        };
        if body.get("csrf_token").and_then(Value::as_str) != Some(csrf.as_str()) {
            return error(400, "body", "csrf_token", "CSRF tokens do not match");
        }
        let update = body
            .get("update")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let text = body
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let karma = body
            .get("karma")
            .and_then(|k| {
                k.as_i64()
                    .or_else(|| k.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or(0);
        if !(-1..=1).contains(&karma) {
            let bound = if karma < -1 {
                format!("{karma} is less than minimum value -1")
            } else {
                format!("{karma} is greater than maximum value 1")
            };
            return error(400, "body", "karma", &bound);
        }
        let mut state = self.lock();
        if !state.updates.contains_key(&update) {
            return error(
                404,
                "body",
                "update",
                &format!("Invalid update specified: {update}"),
            );
        }
        if text.is_empty() && karma == 0 {
            return error(
                400,
                "body",
                "comment",
                "You must provide either some text or feedback",
            );
        }
        let id = state.next_id;
        state.next_id += 1;
        let timestamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
            .to_string()
            .trim_end_matches('Z')
            .replace('T', " ");
        let comment = Comment {
            user: user.clone(),
            text: text.clone(),
            timestamp: timestamp.clone(),
            karma,
        };
        state
            .updates
            .entry(update.clone())
            .or_default()
            .push(comment);
        Response::json(
            200,
            &json!({
                "comment": {"id": id, "text": text, "karma": karma, "karma_critpath": 0, "timestamp": timestamp, "update": {"alias": update}, "user": {"name": user}, "bug_feedback": [], "testcase_feedback": []},
                "caveats": [],
            }),
        )
    }
}
