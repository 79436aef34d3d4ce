//! The query parameters of the job list (page and API alike): read strictly, so
//! that a typo is a 400 that names the parameter rather than a filter silently
//! ignored. *Invariant: no I/O.*

use percent_encoding::percent_decode_str;
use taskotron_core::scheduler::{JobFilter, JobState};
use taskotron_core::suggest::did_you_mean;
use taskotron_core::Arch;

/// The parameters a list takes.
pub const NAMES: [&str; 6] = ["state", "task", "item", "arch", "page", "limit"];

/// Rows on a page unless `limit` says otherwise, and the most it may say.
pub const DEFAULT_LIMIT: u64 = 50;
/// See [`DEFAULT_LIMIT`].
pub const MAX_LIMIT: u64 = 500;

/// A list's filter and page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Which jobs.
    pub filter: JobFilter,
    /// 1-based.
    pub page: u64,
    /// Rows per page.
    pub limit: u64,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            filter: JobFilter::default(),
            page: 1,
            limit: DEFAULT_LIMIT,
        }
    }
}

/// A parameter that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("query parameter `{name}`: {reason}")]
pub struct ParamError {
    /// The parameter.
    pub name: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Percent-decodes one component (`+` is a space, as forms send it).
fn decode(text: &str) -> String {
    percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

impl ListQuery {
    /// Reads a raw query string (`state=crashed&arch=x86_64&page=2`). Empty values
    /// mean "any" (what an empty form field sends).
    ///
    /// # Errors
    /// An unknown parameter (with the near miss), a bad value, or one given twice.
    pub fn parse(raw: Option<&str>) -> Result<Self, ParamError> {
        let mut q = ListQuery::default();
        let mut seen: Vec<String> = Vec::new();
        for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (name, value) = (decode(k), decode(v));
            let err = |reason: String| ParamError {
                name: name.clone(),
                reason,
            };
            if !NAMES.contains(&name.as_str()) {
                let hint = did_you_mean(&name, NAMES.iter().copied()).map_or_else(
                    || format!("unknown; the parameters are {}", NAMES.join(", ")),
                    |s| format!("unknown; did you mean `{s}`?"),
                );
                return Err(err(hint));
            }
            if seen.contains(&name) {
                return Err(err("given more than once".into()));
            }
            seen.push(name.clone());
            if value.is_empty() {
                continue;
            }
            match name.as_str() {
                "state" => q.filter.state = Some(state(&value).map_err(err)?),
                "task" => q.filter.task = Some(value),
                "item" => q.filter.item = Some(value),
                "arch" => {
                    q.filter.arch = Some(value.parse::<Arch>().map_err(|e| err(e.to_string()))?)
                }
                "page" => {
                    q.page = value
                        .parse::<u64>()
                        .ok()
                        .filter(|p| (1..=1_000_000).contains(p))
                        .ok_or_else(|| {
                            err(format!("`{value}` is not a page number (1, 2, ...)"))
                        })?;
                }
                _ => {
                    q.limit = value
                        .parse::<u64>()
                        .ok()
                        .filter(|l| (1..=MAX_LIMIT).contains(l))
                        .ok_or_else(|| {
                            err(format!(
                                "`{value}` is not a number of rows from 1 to {MAX_LIMIT}"
                            ))
                        })?;
                }
            }
        }
        Ok(q)
    }

    /// The rows to skip.
    pub fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(self.limit)
    }

    /// The query string of this filter on `page` (for links), empty fields left out.
    pub fn to_query(&self, page: u64) -> String {
        let mut parts = Vec::new();
        let enc = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        if let Some(s) = self.filter.state {
            parts.push(format!("state={}", state_name(s)));
        }
        if let Some(t) = &self.filter.task {
            parts.push(format!("task={}", enc(t)));
        }
        if let Some(i) = &self.filter.item {
            parts.push(format!("item={}", enc(i)));
        }
        if let Some(a) = self.filter.arch {
            parts.push(format!("arch={a}"));
        }
        if page != 1 {
            parts.push(format!("page={page}"));
        }
        if self.limit != DEFAULT_LIMIT {
            parts.push(format!("limit={}", self.limit));
        }
        parts.join("&")
    }
}

/// The original ExecDB's name of a state: SCHEDULED, RUNNING, COMPLETED, CRASHED
/// (the one vocabulary of every listing, [`JobState::as_str`]). ExecDB's ABORTED, a
/// job an operator cancelled, has no counterpart: jobs are never cancelled here.
pub fn state_name(state: JobState) -> &'static str {
    state.as_str()
}

/// A state by ExecDB's name (or `finished`, for `COMPLETED`), any case.
fn state(value: &str) -> Result<JobState, String> {
    value.parse::<JobState>().map_err(|_| {
        let names = ["SCHEDULED", "RUNNING", "COMPLETED", "CRASHED"];
        match did_you_mean(&value.to_ascii_uppercase(), names.iter().copied()) {
            Some(s) => format!("`{value}` is not a job state; did you mean `{s}`?"),
            None => format!("`{value}` is not a job state ({})", names.join(", ")),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_filters_and_pages() {
        let q = ListQuery::parse(Some(
            "state=completed&arch=x86_64&item=htop-3.3.0-1.fc41&page=2&limit=10&task=",
        ))
        .unwrap();
        assert_eq!(q.filter.state, Some(JobState::Finished));
        assert_eq!(q.filter.arch, Some(Arch::X86_64));
        assert_eq!(q.filter.task, None);
        assert_eq!((q.page, q.limit, q.offset()), (2, 10, 10));
        assert_eq!(
            q.to_query(3),
            "state=COMPLETED&item=htop%2D3%2E3%2E0%2D1%2Efc41&arch=x86_64&page=3&limit=10"
        );
        assert_eq!(ListQuery::parse(Some(&q.to_query(2))).unwrap(), q);
        assert_eq!(ListQuery::parse(None).unwrap(), ListQuery::default());
    }

    #[test]
    fn bad_parameters_are_named() {
        for (raw, name, says) in [
            ("stat=RUNNING", "stat", "did you mean `state`"),
            ("state=DONE", "state", "not a job state"),
            ("arch=x86", "arch", ""),
            ("page=0", "page", "page number"),
            ("page=x", "page", "page number"),
            ("limit=100000", "limit", "from 1 to 500"),
            ("task=a&task=b", "task", "more than once"),
        ] {
            let e = ListQuery::parse(Some(raw)).unwrap_err();
            assert_eq!(e.name, name, "{raw}");
            assert!(e.to_string().contains(says), "{raw}: {e}");
        }
    }
}
