//! The HTTP client of ResultsDB v2.0: keep-alive connections shared by all threads,
//! errors sorted into "not sent" (safe to retry), "ambiguous" (the server may have
//! stored it) and "rejected" (4xx, with the server's message quoted). Credentials are
//! sent, never printed.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use super::ResultPayload;

/// Credentials for a ResultsDB behind an authenticating proxy.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// HTTP Basic.
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: String,
    },
    /// `Authorization: Bearer <token>`.
    Bearer(String),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Basic { username, .. } => write!(f, "Basic({username}, <password hidden>)"),
            Auth::Bearer(_) => f.write_str("Bearer(<token hidden>)"),
        }
    }
}

/// Why a request did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Nothing reached the server (connection refused, name not found): retry freely.
    #[error("cannot reach ResultsDB: {0}")]
    NotSent(String),
    /// The server may have stored the result (timeout or dropped connection after the
    /// request went out, 5xx): look before sending again.
    #[error("no answer from ResultsDB: {0}")]
    Ambiguous(String),
    /// The server refused the request; sending it again will not help.
    #[error("ResultsDB refused the result ({status}): {message}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The server's message, validation errors named by field.
        message: String,
    },
}

impl SendError {
    /// True when sending again can help.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, SendError::Rejected { .. })
    }
}

/// A ResultsDB API v2.0 client.
#[derive(Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
    auth: Option<Auth>,
    timeout: Duration,
    /// No request may run past this: each gets what is left, at most `timeout`.
    deadline: Option<std::time::Instant>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client of the ResultsDB at `url` (the server, or its `/api/v2.0`), with a
    /// timeout for each request.
    pub fn new(url: &str, auth: Option<Auth>, timeout: Duration) -> Self {
        let trimmed = url.trim_end_matches('/');
        let base = if trimmed.ends_with("/api/v2.0") {
            trimmed.to_string()
        } else {
            format!("{trimmed}/api/v2.0")
        };
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_idle_connections_per_host(16)
            .build();
        Self {
            base,
            agent: config.into(),
            auth,
            timeout,
            deadline: None,
        }
    }

    /// The same client (sharing its connections), each of whose requests ends by
    /// `deadline` at the latest: a report's deadline bounds the whole delivery, not
    /// each request.
    pub fn until(&self, deadline: std::time::Instant) -> Self {
        Self {
            deadline: Some(deadline),
            ..self.clone()
        }
    }

    /// The API's base URL (without credentials, should the URL hold any).
    pub fn base(&self) -> String {
        crate::redact::url(&self.base)
    }

    /// How long the next request may take; `None` once the deadline has passed.
    fn time_left(&self) -> Option<Duration> {
        match self.deadline {
            None => Some(self.timeout),
            Some(d) => {
                let left = d.saturating_duration_since(std::time::Instant::now());
                (!left.is_zero()).then(|| left.min(self.timeout))
            }
        }
    }

    /// A request bounded by [`Client::time_left`], authorized.
    fn bounded<B>(
        &self,
        request: ureq::RequestBuilder<B>,
    ) -> Result<ureq::RequestBuilder<B>, SendError> {
        let Some(left) = self.time_left() else {
            return Err(SendError::NotSent(
                "the report's deadline has passed".into(),
            ));
        };
        Ok(self.authorize(request.config().timeout_global(Some(left)).build()))
    }

    fn authorize<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.auth {
            None => request,
            Some(Auth::Bearer(token)) => request.header("Authorization", format!("Bearer {token}")),
            Some(Auth::Basic { username, password }) => request.header(
                "Authorization",
                format!("Basic {}", base64(&format!("{username}:{password}"))),
            ),
        }
    }

    /// `POST /results`; the new result's id.
    ///
    /// # Errors
    /// See [`SendError`].
    pub fn post_result(&self, payload: &ResultPayload) -> Result<u64, SendError> {
        let body = serde_json::to_string(payload).map_err(|e| SendError::Rejected {
            status: 0,
            message: e.to_string(),
        })?;
        let request = self
            .bounded(self.agent.post(format!("{}/results", self.base)))?
            .header("Content-Type", "application/json");
        let (status, text) = answer(request.send(body), true)?;
        match status {
            201 | 200 => serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v.get("id").and_then(Value::as_u64))
                .ok_or_else(|| {
                    SendError::Ambiguous(format!("unreadable answer: {}", short(&text)))
                }),
            _ => Err(status_error(status, &text)),
        }
    }

    /// Looks for a result by its `taskotron_result_id` in its group; its id if found.
    ///
    /// # Errors
    /// See [`SendError`].
    pub fn find_result(&self, payload: &ResultPayload) -> Result<Option<u64>, SendError> {
        let Some(result_id) = payload.result_id() else {
            return Ok(None);
        };
        let mut url = format!(
            "{}/results?{}={}",
            self.base,
            super::RESULT_ID_KEY,
            encode(result_id)
        );
        if let Some(g) = payload.groups.first() {
            url.push_str(&format!("&groups={}", encode(&g.uuid)));
        }
        let (status, text) = answer(self.bounded(self.agent.get(url))?.call(), false)?;
        if status != 200 {
            return Err(status_error(status, &text));
        }
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| SendError::Ambiguous(format!("unreadable answer: {e}")))?;
        Ok(v.get("data")
            .and_then(Value::as_array)
            .and_then(|d| d.first())
            .and_then(|r| r.get("id"))
            .and_then(Value::as_u64))
    }

    /// Which of `ids` (`taskotron_result_id`s) ResultsDB already has, with their
    /// ResultsDB ids: asked a batch at a time (`taskotron_result_id=a,b,c`).
    ///
    /// # Errors
    /// See [`SendError`]; nothing is known then.
    pub fn existing(
        &self,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, u64>, SendError> {
        const BATCH: usize = 40;
        let mut found = std::collections::HashMap::new();
        for batch in ids.chunks(BATCH) {
            let list: Vec<String> = batch.iter().map(|id| encode(id)).collect();
            let url = format!(
                "{}/results?{}={}&limit={}",
                self.base,
                super::RESULT_ID_KEY,
                list.join(","),
                batch.len()
            );
            let (status, text) = answer(self.bounded(self.agent.get(url))?.call(), false)?;
            if status != 200 {
                return Err(status_error(status, &text));
            }
            let v: Value = serde_json::from_str(&text)
                .map_err(|e| SendError::Ambiguous(format!("unreadable answer: {e}")))?;
            for r in v
                .get("data")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let id = r
                    .pointer(&format!("/data/{}", super::RESULT_ID_KEY))
                    .and_then(|d| d.get(0).or(Some(d)))
                    .and_then(Value::as_str);
                if let (Some(id), Some(n)) = (id, r.get("id").and_then(Value::as_u64)) {
                    found.insert(id.to_string(), n);
                }
            }
        }
        Ok(found)
    }

    /// `GET /healthcheck`.
    ///
    /// # Errors
    /// See [`SendError`].
    pub fn healthcheck(&self) -> Result<(), SendError> {
        let (status, text) = answer(
            self.bounded(self.agent.get(format!("{}/healthcheck", self.base)))?
                .call(),
            false,
        )?;
        if status == 200 {
            Ok(())
        } else {
            Err(status_error(status, &text))
        }
    }
}

/// Reads a response, sorting transport errors into not-sent and ambiguous ones.
fn answer(
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    sending: bool,
) -> Result<(u16, String), SendError> {
    match result {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let text = response
                .body_mut()
                .read_to_string()
                .map_err(|e| SendError::Ambiguous(e.to_string()))?;
            Ok((status, text))
        }
        Err(e) => {
            // ureq's messages may quote the URL, credentials and all.
            let text = crate::redact::in_text(&e.to_string());
            let not_sent = matches!(e, ureq::Error::ConnectionFailed | ureq::Error::HostNotFound)
                || matches!(&e, ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused)
                || matches!(&e, ureq::Error::Timeout(t) if matches!(t, ureq::Timeout::Connect | ureq::Timeout::Resolve));
            if not_sent || !sending {
                Err(SendError::NotSent(text))
            } else {
                Err(SendError::Ambiguous(text))
            }
        }
    }
}

/// The error for a status: 5xx may have been stored, 4xx quotes the server.
fn status_error(status: u16, text: &str) -> SendError {
    if status >= 500 {
        return SendError::Ambiguous(format!("{status}: {}", message(text)));
    }
    SendError::Rejected {
        status,
        message: message(text),
    }
}

/// The server's message: `message`, or each validation error as `field: msg`.
fn message(text: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return short(text);
    };
    if let Some(errors) = v.get("validation_error").and_then(Value::as_array) {
        return errors
            .iter()
            .map(|e| {
                let field = e
                    .get("loc")
                    .and_then(Value::as_array)
                    .map(|l| {
                        l.iter()
                            .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_string))
                            .collect::<Vec<_>>()
                            .join(".")
                    })
                    .unwrap_or_default();
                let msg = e.get("msg").and_then(Value::as_str).unwrap_or("invalid");
                format!("{field}: {msg}")
            })
            .collect::<Vec<_>>()
            .join("; ");
    }
    v.get("message")
        .and_then(Value::as_str)
        .map_or_else(|| short(text), str::to_string)
}

fn short(text: &str) -> String {
    let t: String = text.chars().take(200).collect();
    t.trim().to_string()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn base64(s: &str) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = s.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_field() {
        let body = r#"{"validation_error":[{"input":"ERROR","loc":["outcome"],"msg":"Value error, must be one of: PASSED, INFO, FAILED, NEEDS_INSPECTION","type":"value_error"}]}"#;
        assert_eq!(
            message(body),
            "outcome: Value error, must be one of: PASSED, INFO, FAILED, NEEDS_INSPECTION"
        );
        assert_eq!(
            message(r#"{"message":"Colon not allowed in key name: ['a:b']"}"#),
            "Colon not allowed in key name: ['a:b']"
        );
        assert!(matches!(status_error(503, "{}"), SendError::Ambiguous(_)));
        assert!(!status_error(400, "{}").is_retryable());
    }

    #[test]
    fn credentials_never_print() {
        let a = Auth::Basic {
            username: "u".into(),
            password: "secret".into(),
        };
        assert!(!format!("{a:?}").contains("secret"));
        assert!(!format!("{:?}", Auth::Bearer("s3cr3t-t0k".into())).contains("s3cr3t"));
        assert_eq!(
            base64("Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }
}
