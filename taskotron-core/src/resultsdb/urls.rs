//! Log URLs, computed from configuration and the run, so a task author never builds
//! one: `<artifacts_base_url>/<run_id>/<artifact>` for a result, the configured job URL
//! template (with `{build_id}` and `{run_id}`) for the group, and for a Bodhi comment
//! about a job when taskotron's own web server shows its page. A standalone run
//! without a base URL points at its local artifacts (`file://`). Pure; no I/O.

use std::path::{Path, PathBuf};

/// Computes the URLs of one run's results.
#[derive(Debug, Clone)]
pub struct LogUrls {
    base: Option<String>,
    job_template: Option<String>,
    run_id: String,
    build_id: Option<String>,
    local: Option<PathBuf>,
    comments_link_the_job: bool,
}

impl LogUrls {
    /// URLs for run `run_id` (build `build_id`) under `artifacts_base_url`, with the job
    /// URL from `job_url_template`.
    pub fn new(
        artifacts_base_url: Option<&str>,
        job_url_template: Option<&str>,
        run_id: &str,
        build_id: Option<&str>,
    ) -> Self {
        Self {
            base: artifacts_base_url.map(|b| b.trim_end_matches('/').to_string()),
            job_template: job_url_template.map(str::to_string),
            run_id: run_id.to_string(),
            build_id: build_id.map(str::to_string),
            local: None,
            comments_link_the_job: false,
        }
    }

    /// Falls back to `file://` URLs into `dir` (the run's artifacts) when there is no
    /// base URL.
    pub fn with_local_artifacts(mut self, dir: &Path) -> Self {
        self.local = Some(dir.to_path_buf());
        self
    }

    /// Makes [`LogUrls::comment_url`] link the job's page, when `yes` (taskotron's own
    /// web server shows it: `web_url` is set).
    pub fn comments_link_the_job(mut self, yes: bool) -> Self {
        self.comments_link_the_job = yes;
        self
    }

    /// What a Bodhi comment about a result links: the job's page (its life, every
    /// result and artifact) for a job when the web server shows it, else the result's
    /// log as the original's comments did.
    pub fn comment_url(&self, artifact: Option<&str>) -> Option<String> {
        if self.comments_link_the_job && self.build_id.is_some() {
            if let Some(url) = self.job_url() {
                return Some(url);
            }
        }
        self.result_url(artifact)
    }

    /// The run's artifacts directory URL.
    pub fn run_url(&self) -> Option<String> {
        match (&self.base, &self.local) {
            (Some(base), _) => Some(format!("{base}/{}", self.run_id)),
            (None, Some(dir)) => Some(format!("file://{}", dir.display())),
            (None, None) => None,
        }
    }

    /// A result's URL: its artifact inside the run's artifacts, or the run's URL.
    /// Artifacts outside the run (absolute paths elsewhere, `..`) point at the run.
    pub fn result_url(&self, artifact: Option<&str>) -> Option<String> {
        let run = self.run_url()?;
        let relative = artifact
            .map(|a| match &self.local {
                Some(dir) => Path::new(a)
                    .strip_prefix(dir)
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|_| PathBuf::from(a)),
                None => PathBuf::from(a),
            })
            .filter(|p| {
                p.is_relative()
                    && !p
                        .components()
                        .any(|c| matches!(c, std::path::Component::ParentDir))
            });
        Some(match relative {
            Some(p) if !p.as_os_str().is_empty() => {
                let encoded: Vec<String> = p
                    .components()
                    .map(|c| encode(&c.as_os_str().to_string_lossy()))
                    .collect();
                format!("{run}/{}", encoded.join("/"))
            }
            _ => run,
        })
    }

    /// The job's URL, for the group.
    pub fn job_url(&self) -> Option<String> {
        let template = self.job_template.as_ref()?;
        let build = self.build_id.as_deref().unwrap_or(&self.run_id);
        Some(
            template
                .replace("{build_id}", build)
                .replace("{run_id}", &self.run_id),
        )
    }
}

/// Percent-encodes what may not stand in a URL path segment.
fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~+@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_links_the_job_page_only_for_a_job_the_web_server_shows() {
        let job = LogUrls::new(
            Some("http://h:8080/artifacts"),
            Some("http://h:8080/jobs/{build_id}"),
            "r-1",
            Some("b-1"),
        );
        assert_eq!(
            job.comment_url(Some("out.log")).as_deref(),
            Some("http://h:8080/artifacts/r-1/out.log"),
            "the original's link unless asked"
        );
        let job = job.comments_link_the_job(true);
        assert_eq!(
            job.comment_url(Some("out.log")).as_deref(),
            Some("http://h:8080/jobs/b-1")
        );
        let standalone = LogUrls::new(
            Some("http://h:8080/artifacts"),
            Some("http://h:8080/jobs/{build_id}"),
            "r-1",
            None,
        )
        .comments_link_the_job(true);
        assert_eq!(
            standalone.comment_url(Some("out.log")).as_deref(),
            Some("http://h:8080/artifacts/r-1/out.log"),
            "no job, no job page"
        );
    }

    #[test]
    fn urls_come_from_the_run() {
        let u = LogUrls::new(
            Some("https://a.example/artifacts/"),
            Some("https://jobs.example/{build_id}"),
            "r-1",
            Some("b-7"),
        );
        assert_eq!(
            u.run_url().as_deref(),
            Some("https://a.example/artifacts/r-1")
        );
        assert_eq!(
            u.result_url(Some("out dir/x#1.log")).as_deref(),
            Some("https://a.example/artifacts/r-1/out%20dir/x%231.log")
        );
        assert_eq!(
            u.result_url(Some("/etc/passwd")).as_deref(),
            Some("https://a.example/artifacts/r-1")
        );
        assert_eq!(
            u.result_url(Some("../x")).as_deref(),
            Some("https://a.example/artifacts/r-1")
        );
        assert_eq!(u.job_url().as_deref(), Some("https://jobs.example/b-7"));
        let standalone =
            LogUrls::new(None, None, "r-2", None).with_local_artifacts(Path::new("/var/a/r-2"));
        assert_eq!(
            standalone.result_url(Some("/var/a/r-2/log.txt")).as_deref(),
            Some("file:///var/a/r-2/log.txt")
        );
        assert_eq!(standalone.job_url(), None);
    }
}
