//! What Taskotron says in Bodhi and when. Pure; no I/O.
//!
//! The text follows AutoQA's verified format with the `Taskotron:` prefix:
//! `Taskotron: <checkname> test <OUTCOME> on <arch>. Result log:\n<url>\n(results are
//! informative only)`, karma 0. A comment is posted for a `bodhi_update` result unless
//! it is ABORTED, when no earlier Taskotron comment exists for that test and arch, or
//! the outcome changed; an unchanged FAILED is repeated only after a span (4320 minutes
//! by default). `doreport: all` posts every time.

use std::time::{Duration, SystemTime};

use crate::results::{CheckDetail, Outcome};

/// How long an unchanged FAILED waits before it is said again (3 days).
pub const DEFAULT_SPAN_MINUTES: u64 = crate::config::defaults::BODHI_COMMENT_SPAN_MINUTES;

/// `doreport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DoReport {
    /// Only when the outcome changed (or a FAILED after the span).
    OnChange,
    /// Every time.
    All,
}

/// An earlier comment of ours, read back from Bodhi.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earlier {
    /// The test's name.
    pub checkname: String,
    /// Its outcome then.
    pub outcome: String,
    /// The arch.
    pub arch: String,
    /// When it was posted.
    pub posted: SystemTime,
}

/// A comment to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The update alias.
    pub update: String,
    /// The text.
    pub text: String,
}

/// The comment text.
pub fn text(checkname: &str, outcome: Outcome, arch: &str, log_url: &str) -> String {
    format!("Taskotron: {checkname} test {outcome} on {arch}. Result log:\n{log_url}\n(results are informative only)")
}

/// Reads one of our comments back: `(checkname, outcome, arch)`.
pub fn parse_comment(text: &str) -> Option<(String, String, String)> {
    let rest = text.strip_prefix("Taskotron: ")?;
    let (checkname, rest) = rest.split_once(" test ")?;
    let (outcome, rest) = rest.split_once(" on ")?;
    let (arch, _) = rest.split_once(". Result log:")?;
    Some((checkname.to_string(), outcome.to_string(), arch.to_string()))
}

/// When to post: `doreport`, the span after which an unchanged FAILED is repeated,
/// and the time now.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// `doreport`.
    pub doreport: DoReport,
    /// The span.
    pub span: Duration,
    /// Now.
    pub now: SystemTime,
}

/// Decides which results to comment on, given our earlier comments on each update.
/// `checkname` and `arch` apply to results that do not say; `log_url` gives a
/// result's log.
pub fn decide(
    details: &[CheckDetail],
    checkname: &str,
    arch: &str,
    earlier: &dyn Fn(&str) -> Vec<Earlier>,
    log_url: &dyn Fn(&CheckDetail) -> String,
    rules: Rules,
) -> Vec<Planned> {
    let Rules {
        doreport,
        span,
        now,
    } = rules;
    let mut planned = Vec::new();
    for d in details {
        if d.item_type.as_deref() != Some("bodhi_update") || d.outcome == Outcome::Aborted {
            continue;
        }
        let test = d.testcase(checkname);
        let arch = d
            .keyvals
            .get("arch")
            .and_then(|a| a.as_str())
            .unwrap_or(arch);
        let last = earlier(&d.item)
            .into_iter()
            .filter(|e| e.checkname == test && e.arch == arch)
            .max_by_key(|e| e.posted);
        let post = match (doreport, last) {
            (DoReport::All, _) | (_, None) => true,
            (DoReport::OnChange, Some(e)) if e.outcome != d.outcome.as_str() => true,
            (DoReport::OnChange, Some(e)) => {
                d.outcome == Outcome::Failed
                    && now.duration_since(e.posted).unwrap_or_default() >= span
            }
        };
        if post {
            planned.push(Planned {
                update: d.item.clone(),
                text: text(test, d.outcome, arch, &log_url(d)),
            });
        }
    }
    planned
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(outcome: Outcome) -> CheckDetail {
        CheckDetail::new("FEDORA-2024-1a2b3c4d5e", Some("bodhi_update"), outcome)
    }

    fn earlier(outcome: &str, minutes_ago: u64, now: SystemTime) -> Vec<Earlier> {
        vec![Earlier {
            checkname: "dist.upgradepath".into(),
            outcome: outcome.into(),
            arch: "noarch".into(),
            posted: now - Duration::from_secs(minutes_ago * 60),
        }]
    }

    fn plan(
        d: CheckDetail,
        prior: Vec<Earlier>,
        doreport: DoReport,
        now: SystemTime,
    ) -> Vec<Planned> {
        let rules = Rules {
            doreport,
            span: Duration::from_secs(DEFAULT_SPAN_MINUTES * 60),
            now,
        };
        decide(
            &[d],
            "dist.upgradepath",
            "noarch",
            &|_| prior.clone(),
            &|_| "https://log".into(),
            rules,
        )
    }

    #[test]
    fn the_text_reads_back() {
        let t = text(
            "dist.upgradepath",
            Outcome::Passed,
            "noarch",
            "https://log/1",
        );
        assert_eq!(t, "Taskotron: dist.upgradepath test PASSED on noarch. Result log:\nhttps://log/1\n(results are informative only)");
        assert_eq!(
            parse_comment(&t),
            Some(("dist.upgradepath".into(), "PASSED".into(), "noarch".into()))
        );
        assert_eq!(
            parse_comment("AutoQA: depcheck test PASSED on i386. Result log:\nx"),
            None
        );
    }

    #[test]
    fn posting_rules() {
        let now = SystemTime::now();
        // (outcome now, our earlier comment (outcome, minutes ago), doreport, posted?, why)
        type Case = (
            Outcome,
            Option<(&'static str, u64)>,
            DoReport,
            bool,
            &'static str,
        );
        let cases: &[Case] = &[
            (
                Outcome::Passed,
                None,
                DoReport::OnChange,
                true,
                "first comment",
            ),
            (
                Outcome::Passed,
                Some(("PASSED", 10)),
                DoReport::OnChange,
                false,
                "unchanged",
            ),
            (
                Outcome::Failed,
                Some(("PASSED", 10)),
                DoReport::OnChange,
                true,
                "changed",
            ),
            (
                Outcome::Failed,
                Some(("FAILED", 10)),
                DoReport::OnChange,
                false,
                "FAILED again too soon",
            ),
            (
                Outcome::Failed,
                Some(("FAILED", 4321)),
                DoReport::OnChange,
                true,
                "FAILED after the span",
            ),
            (
                Outcome::Passed,
                Some(("PASSED", 10)),
                DoReport::All,
                true,
                "doreport: all",
            ),
            (
                Outcome::Aborted,
                None,
                DoReport::All,
                false,
                "ABORTED is never posted",
            ),
        ];
        for (outcome, prior, doreport, posted, why) in cases {
            let prior = prior.map(|(o, m)| earlier(o, m, now)).unwrap_or_default();
            assert_eq!(
                plan(result(*outcome), prior, *doreport, now).len() == 1,
                *posted,
                "{why}"
            );
        }
        let build = CheckDetail::new("x-1-1.fc41", Some("koji_build"), Outcome::Failed);
        assert!(
            plan(build, vec![], DoReport::All, now).is_empty(),
            "only bodhi_update results"
        );
    }
}
