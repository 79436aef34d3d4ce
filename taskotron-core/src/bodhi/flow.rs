//! `comment_on`: the whole commenting flow — log in, apply the posting rules to
//! the update's earlier comments, post what they say — used alike by the
//! `bodhi_comment` directive and `taskotron report`.

use std::time::{Duration, SystemTime};

use super::{decide, BodhiClient, DoReport, Planned, Rules};

/// Lines said below an update's comment, by update alias.
pub type Notes = std::collections::BTreeMap<String, String>;

/// `planned` with each update's notes below its text: after the original's
/// last line, so an earlier comment still reads back ([`super::parse_comment`]).
fn with_notes(mut planned: Vec<Planned>, notes: &Notes) -> Vec<Planned> {
    for p in &mut planned {
        if let Some(n) = notes.get(&p.update).filter(|n| !n.is_empty()) {
            p.text.push('\n');
            p.text.push_str(n);
        }
    }
    planned
}
use crate::results::CheckDetail;

/// What to comment about, and as whom.
pub struct CommentRequest<'a> {
    /// Bodhi's URL.
    pub url: &'a str,
    /// The user comments are made as.
    pub user: &'a str,
    /// Its OIDC token; none cannot log in.
    pub token: Option<&'a str>,
    /// Minutes before an unchanged FAILED is said again.
    pub span_minutes: u64,
    /// Every result, or only changes.
    pub doreport: DoReport,
    /// The results (those about `bodhi_update` items are commented on).
    pub details: &'a [CheckDetail],
    /// The task's checkname.
    pub checkname: &'a str,
    /// The run's arch.
    pub arch: &'a str,
    /// A result's log URL.
    pub log_url: &'a dyn Fn(&CheckDetail) -> String,
    /// What an update's comment says below the result (its regressions and
    /// gates), by update alias; an update not named gets the plain comment.
    pub notes: &'a Notes,
}

/// One comment posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// The update alias.
    pub update: String,
    /// The text.
    pub text: String,
    /// Its id in Bodhi.
    pub id: u64,
}

/// What commenting did: the comments posted and the ones Bodhi refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Commented {
    /// Posted, in order.
    pub posted: Vec<Posted>,
    /// `update: why`, one for each comment that was not posted.
    pub errors: Vec<String>,
}

/// Why nothing could be commented.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommentError {
    /// No token to log in with.
    #[error("no Bodhi token (set `bodhi_token` in taskotron.yaml or $TASKOTRON_BODHI_TOKEN)")]
    NoToken,
    /// Logging in failed.
    #[error("{0}")]
    Login(String),
}

/// Logs in, decides with the update's earlier comments (when they cannot be read
/// a result is said again rather than left unsaid) and posts.
///
/// # Errors
/// No token, or the login failed; nothing was posted.
pub fn comment_on(request: &CommentRequest<'_>) -> Result<Commented, CommentError> {
    let token = request.token.ok_or(CommentError::NoToken)?;
    let mut client = BodhiClient::new(request.url, request.user, Duration::from_secs(30));
    client
        .login(token)
        .map_err(|e| CommentError::Login(e.to_string()))?;
    let rules = Rules {
        doreport: request.doreport,
        span: Duration::from_secs(request.span_minutes * 60),
        now: SystemTime::now(),
    };
    let earlier = |update: &str| client.earlier(update).unwrap_or_default();
    let planned = with_notes(
        decide(
            request.details,
            request.checkname,
            request.arch,
            &earlier,
            request.log_url,
            rules,
        ),
        request.notes,
    );
    let mut done = Commented::default();
    for p in planned {
        match client.comment(&p.update, &p.text) {
            Ok(c) => done.posted.push(Posted {
                update: p.update,
                text: p.text,
                id: c.id,
            }),
            Err(e) => done.errors.push(format!("{}: {e}", p.update)),
        }
    }
    Ok(done)
}

/// One `bodhi_comment` request, without the Bodhi it goes to.
pub struct Submission<'a> {
    /// Every result, or only changes.
    pub doreport: DoReport,
    /// The results.
    pub details: &'a [CheckDetail],
    /// The task's checkname.
    pub checkname: &'a str,
    /// The run's arch.
    pub arch: &'a str,
    /// A result's log URL.
    pub log_url: &'a dyn Fn(&CheckDetail) -> String,
    /// What an update's comment says below the result (its regressions and
    /// gates), by update alias; an update not named gets the plain comment.
    pub notes: &'a Notes,
}

/// Comments as `reporting` says, the one flow of the `bodhi_comment` directive and
/// of a remote run's deferred comments: posted to `bodhi_url`, or, without one,
/// the comments that would have been posted written to
/// `<artifacts>/bodhi-comments.json`. Says what it did on `out`. Returns the
/// comments, each `{update, text, id}` (`id` null when not posted).
///
/// # Errors
/// Why some comment was not posted, or the file could not be written.
pub fn submit(
    request: &Submission<'_>,
    reporting: &crate::resultsdb::Reporting,
    artifacts: &std::path::Path,
    out: &mut dyn std::io::Write,
) -> Result<Vec<serde_json::Value>, String> {
    use serde_json::json;
    let Some(url) = &reporting.bodhi_url else {
        let rules = Rules {
            doreport: request.doreport,
            span: Duration::from_secs(reporting.bodhi_comment_span * 60),
            now: SystemTime::now(),
        };
        let planned = with_notes(
            super::decide(
                request.details,
                request.checkname,
                request.arch,
                &|_| Vec::new(),
                request.log_url,
                rules,
            ),
            request.notes,
        );
        let list: Vec<serde_json::Value> = planned
            .iter()
            .map(|p| json!({"update": p.update, "text": p.text, "id": null}))
            .collect();
        crate::unsent::BODHI.keep(&list, artifacts, out)?;
        return Ok(list);
    };
    let done = comment_on(&CommentRequest {
        url,
        user: &reporting.bodhi_user,
        token: reporting.bodhi_token.as_deref(),
        span_minutes: reporting.bodhi_comment_span,
        doreport: request.doreport,
        details: request.details,
        checkname: request.checkname,
        arch: request.arch,
        log_url: request.log_url,
        notes: request.notes,
    })
    .map_err(|e| format!("bodhi_comment: {e}"))?;
    if !done.errors.is_empty() {
        return Err(format!("bodhi_comment: {}", done.errors.join("; ")));
    }
    Ok(done
        .posted
        .into_iter()
        .map(|p| json!({"update": p.update, "text": p.text, "id": p.id}))
        .collect())
}
