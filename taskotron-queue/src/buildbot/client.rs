//! The Buildbot scheduler adapter: submits a job through the force scheduler of its
//! arch (JSON-RPC, which answers with the build request id) and follows it through
//! the REST API to its build, its worker and the ExecutionReport that `taskotron run`
//! printed in the run step's log. Path ids are numeric, as Buildbot's REST wants.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use taskotron_model::dict::{ExecutionReport, JobRequest};

/// What went wrong talking to the master.
#[derive(Debug, thiserror::Error)]
pub enum BuildbotError {
    /// The master could not be reached or answered with something unreadable.
    #[error("Buildbot at {url}: {message}")]
    Transport {
        /// What was asked.
        url: String,
        /// What happened.
        message: String,
    },
    /// The master refused the request (unknown scheduler, missing parameter).
    #[error("Buildbot refused the job: {0}")]
    Refused(String),
    /// The build did not finish in time.
    #[error("build request {0} did not finish in time")]
    TimedOut(u64),
}

/// A finished build.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    /// The build's id.
    pub build_id: u64,
    /// Buildbot's result code (0 success, 1 warnings, 2 failure, 4 exception, ...).
    pub results: i64,
    /// The worker it ran on.
    pub worker: Option<String>,
    /// The report `taskotron run` printed, when the run step got that far.
    pub report: Option<ExecutionReport>,
}

/// A client of one master.
#[derive(Debug, Clone)]
pub struct BuildbotClient {
    base: String,
    agent: ureq::Agent,
}

impl BuildbotClient {
    /// A client of the master at `url` (`http://127.0.0.1:8010/`).
    pub fn new(url: &str) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .build();
        Self {
            base: url.trim_end_matches('/').to_string(),
            agent: config.into(),
        }
    }

    fn read(
        &self,
        url: &str,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<(u16, String), BuildbotError> {
        let transport = |message: String| BuildbotError::Transport {
            url: url.to_string(),
            message,
        };
        let mut response = result.map_err(|e| transport(e.to_string()))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| transport(e.to_string()))?;
        Ok((status, text))
    }

    fn get(&self, path: &str) -> Result<Value, BuildbotError> {
        let url = format!("{}{path}", self.base);
        let (status, text) = self.read(&url, self.agent.get(&url).call())?;
        if status != 200 {
            return Err(BuildbotError::Transport {
                url,
                message: format!(
                    "HTTP {status}: {}",
                    text.chars().take(300).collect::<String>()
                ),
            });
        }
        serde_json::from_str(&text).map_err(|e| BuildbotError::Transport {
            url,
            message: e.to_string(),
        })
    }

    /// Submits `job` as build `build_id`; returns the build request id.
    ///
    /// # Errors
    /// The master is unreachable or refuses (no force scheduler for the arch).
    pub fn submit(&self, job: &JobRequest, build_id: &str) -> Result<u64, BuildbotError> {
        let url = format!("{}/api/v2/forceschedulers/force_{}", self.base, job.arch);
        let body = json!({
            "jsonrpc": "2.0", "id": 1, "method": "force",
            "params": {
                "taskname": job.taskname, "item": job.item,
                "item_type": job.item_type.as_str(), "build_id": build_id,
            },
        });
        let (status, text) = self.read(
            &url,
            self.agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.to_string()),
        )?;
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if let Some(e) = v.get("error") {
            let message = e
                .get("message")
                .map_or_else(|| e.to_string(), ToString::to_string);
            return Err(BuildbotError::Refused(format!("HTTP {status}: {message}")));
        }
        // `[buildsetid, {builderid: buildrequestid}]`
        v.pointer("/result/1")
            .and_then(Value::as_object)
            .and_then(|m| m.values().next())
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                BuildbotError::Refused(format!("HTTP {status}: unexpected answer {text}"))
            })
    }

    /// The build of a finished request, or `None` while it is not finished.
    ///
    /// # Errors
    /// The master is unreachable.
    pub fn finished(&self, request: u64) -> Result<Option<Finished>, BuildbotError> {
        let v = self.get(&format!("/api/v2/buildrequests/{request}"))?;
        let complete = v
            .pointer("/buildrequests/0/complete")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !complete {
            return Ok(None);
        }
        let builds = self.get(&format!(
            "/api/v2/buildrequests/{request}/builds?property=workername"
        ))?;
        let Some(build) = builds.pointer("/builds/0") else {
            return Ok(None);
        };
        let build_id = build.get("buildid").and_then(Value::as_u64).unwrap_or(0);
        Ok(Some(Finished {
            build_id,
            results: build.get("results").and_then(Value::as_i64).unwrap_or(-1),
            worker: build
                .pointer("/properties/workername/0")
                .and_then(Value::as_str)
                .map(str::to_string),
            report: self.report(build_id)?,
        }))
    }

    /// The ExecutionReport in the `run-task` step's log, if there is one.
    fn report(&self, build: u64) -> Result<Option<ExecutionReport>, BuildbotError> {
        let steps = self.get(&format!("/api/v2/builds/{build}/steps"))?;
        let number = steps
            .get("steps")
            .and_then(Value::as_array)
            .and_then(|s| {
                s.iter()
                    .find(|s| s.get("name").and_then(Value::as_str) == Some("run-task"))
            })
            .and_then(|s| s.get("number").and_then(Value::as_u64));
        let Some(number) = number else {
            return Ok(None);
        };
        let url = format!(
            "{}/api/v2/builds/{build}/steps/{number}/logs/stdio/raw",
            self.base
        );
        let (_, text) = self.read(&url, self.agent.get(&url).call())?;
        Ok(report_in_log(&text))
    }

    /// Waits (polling) until `request` is finished.
    ///
    /// # Errors
    /// The master is unreachable, or `timeout` passed.
    pub fn wait(&self, request: u64, timeout: Duration) -> Result<Finished, BuildbotError> {
        let deadline = taskotron_model::duration::deadline(Instant::now(), timeout);
        let mut pause = Duration::from_millis(100);
        loop {
            if let Some(f) = self.finished(request)? {
                return Ok(f);
            }
            if Instant::now() > deadline {
                return Err(BuildbotError::TimedOut(request));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }
}

/// The ExecutionReport a run printed (one JSON line) in a step log that also holds the
/// command, the environment and other output.
pub fn report_in_log(text: &str) -> Option<ExecutionReport> {
    text.lines()
        .filter(|l| l.starts_with("{\""))
        .find_map(|l| serde_json::from_str(l).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_is_found_among_the_log_lines() {
        let log = "taskotron --color never run task ...\n in dir /w/build\n HOME=/root\n{\"not\": \"a report\"}\n{\"execution_status\":\"OK\",\"status\":null,\"build_id\":\"b-1\",\"run_id\":\"r\",\"item\":\"a-1-1.fc41\",\"item_type\":\"koji_build\",\"arch\":\"i386\",\"checkname\":\"dist.x\",\"artifacts\":\"/a\",\"started_at\":\"2026-01-01T00:00:00Z\",\"duration_ms\":3,\"actions\":[],\"outcome\":null,\"results\":[]}\nprogram finished with exit code 0\n";
        let r = report_in_log(log).unwrap();
        assert_eq!(r.build_id.as_deref(), Some("b-1"));
        assert!(report_in_log("nothing here").is_none());
    }
}
