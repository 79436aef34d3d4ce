//! A client of Bodhi's current API: an OIDC bearer token is exchanged at
//! `/oidc/login-token` for a session cookie, `/csrf` gives the token the form needs,
//! and `POST /comments/` posts. Our earlier comments come from
//! `GET /comments/?updates=<alias>&user=<name>`.

use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use super::comment::{parse_comment, Earlier};

/// What went wrong talking to Bodhi.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodhiError {
    /// No connection or no answer.
    #[error("cannot reach Bodhi: {0}")]
    Unreachable(String),
    /// Bodhi refused; its `errors[].description`s quoted.
    #[error("Bodhi refused ({status}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// What it said.
        message: String,
    },
}

/// A posted comment's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedComment {
    /// The comment's id in Bodhi.
    pub id: u64,
}

/// A logged-in Bodhi session.
pub struct BodhiClient {
    base: String,
    agent: ureq::Agent,
    cookie: Option<String>,
    csrf: Option<String>,
    user: String,
}

impl std::fmt::Debug for BodhiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodhiClient")
            .field("base", &self.base)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

fn refused(status: u16, text: &str) -> BodhiError {
    let message = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| {
            v.get("errors").and_then(Value::as_array).map(|e| {
                e.iter()
                    .filter_map(|x| x.get("description").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
        })
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| text.chars().take(200).collect());
    BodhiError::Refused { status, message }
}

fn read(
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<(u16, Option<String>, String), BodhiError> {
    let mut r = result.map_err(|e| BodhiError::Unreachable(e.to_string()))?;
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|c| c.split(';').next().unwrap_or("").to_string())
        .find(|c| !c.is_empty());
    let status = r.status().as_u16();
    let text = r
        .body_mut()
        .read_to_string()
        .map_err(|e| BodhiError::Unreachable(e.to_string()))?;
    Ok((status, cookie, text))
}

impl BodhiClient {
    /// A client of the Bodhi at `url`, posting as `user`.
    pub fn new(url: &str, user: &str, timeout: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build();
        Self {
            base: url.trim_end_matches('/').to_string(),
            agent: config.into(),
            cookie: None,
            csrf: None,
            user: user.to_string(),
        }
    }

    /// Logs in with an OIDC access token and fetches the CSRF token.
    ///
    /// # Errors
    /// Bodhi is unreachable or refuses the token.
    pub fn login(&mut self, token: &str) -> Result<(), BodhiError> {
        let (status, cookie, text) = read(
            self.agent
                .get(format!("{}/oidc/login-token", self.base))
                .header("Authorization", format!("Bearer {token}"))
                .call(),
        )?;
        if !(200..300).contains(&status) {
            return Err(refused(status, &text));
        }
        self.cookie = cookie;
        let mut request = self.agent.get(format!("{}/csrf", self.base));
        if let Some(c) = &self.cookie {
            request = request.header("Cookie", c);
        }
        let (status, _, text) = read(request.call())?;
        if status != 200 {
            return Err(refused(status, &text));
        }
        self.csrf = serde_json::from_str::<Value>(&text).ok().and_then(|v| {
            v.get("csrf_token")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        Ok(())
    }

    /// Our earlier comments on `update`.
    ///
    /// # Errors
    /// Bodhi is unreachable or refuses.
    pub fn earlier(&self, update: &str) -> Result<Vec<Earlier>, BodhiError> {
        let url = format!(
            "{}/comments/?updates={update}&user={}&rows_per_page=100",
            self.base, self.user
        );
        let (status, _, text) = read(self.agent.get(url).call())?;
        if status != 200 {
            return Err(refused(status, &text));
        }
        let v: Value =
            serde_json::from_str(&text).map_err(|e| BodhiError::Unreachable(e.to_string()))?;
        Ok(v.get("comments")
            .and_then(Value::as_array)
            .map(|cs| {
                cs.iter()
                    .filter_map(|c| {
                        let (checkname, outcome, arch) = parse_comment(c.get("text")?.as_str()?)?;
                        let posted = parse_timestamp(c.get("timestamp")?.as_str()?)?;
                        Some(Earlier {
                            checkname,
                            outcome,
                            arch,
                            posted,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The N-V-Rs of `update`'s builds (`GET /updates/<alias>`; no login needed).
    /// `Ok(None)` when Bodhi has no such update.
    ///
    /// # Errors
    /// Bodhi is unreachable or answers something else than the update.
    pub fn builds(&self, update: &str) -> Result<Option<Vec<String>>, BodhiError> {
        let request = self
            .agent
            .get(format!("{}/updates/{update}", self.base))
            .header("Accept", "application/json");
        let (status, _, text) = read(request.call())?;
        match status {
            200 => {}
            404 => return Ok(None),
            _ => return Err(refused(status, &text)),
        }
        let v: Value =
            serde_json::from_str(&text).map_err(|e| BodhiError::Unreachable(e.to_string()))?;
        Ok(Some(
            v.pointer("/update/builds")
                .and_then(Value::as_array)
                .map(|b| {
                    b.iter()
                        .filter_map(|x| x.get("nvr").and_then(Value::as_str))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        ))
    }

    /// Posts `text` on `update`, karma 0.
    ///
    /// # Errors
    /// Bodhi is unreachable or refuses (unknown update, not logged in).
    pub fn comment(&self, update: &str, text: &str) -> Result<PostedComment, BodhiError> {
        let body = json!({"update": update, "text": text, "karma": 0, "csrf_token": self.csrf});
        let mut request = self
            .agent
            .post(format!("{}/comments/", self.base))
            .header("Content-Type", "application/json");
        if let Some(c) = &self.cookie {
            request = request.header("Cookie", c);
        }
        let (status, _, reply) = read(request.send(body.to_string()))?;
        if status != 200 {
            return Err(refused(status, &reply));
        }
        let id = serde_json::from_str::<Value>(&reply)
            .ok()
            .and_then(|v| v.pointer("/comment/id").and_then(Value::as_u64))
            .unwrap_or(0);
        Ok(PostedComment { id })
    }
}

/// Bodhi's `YYYY-MM-DD HH:MM:SS` (naive UTC).
fn parse_timestamp(s: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(&s.replace(' ', "T"))
        .ok()
        .or_else(|| humantime::parse_rfc3339_weak(s).ok())
}
