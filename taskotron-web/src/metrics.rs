//! `/metrics` in the Prometheus text format (version 0.0.4) and `/healthz`.
//!
//! From the queue: jobs by state, queue depth by arch, the duration histogram of
//! finished runs, their runs by execution status and failure kind, and their
//! results by outcome; from the state directory: the
//! ResultsDB spool's depth; from the trigger, when it runs in this process
//! (`serve`): messages handled, jobs made, duplicates, and messages ignored by why.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use taskotron_core::scheduler::{Durations, JobState, DURATION_BUCKETS};
use taskotron_trigger::trigger::Tally;

use crate::params::state_name;
use crate::{store, WebSettings};

/// What the queue says, read in one go.
#[derive(Debug, Default, Clone)]
pub struct QueueFigures {
    /// Jobs by state.
    pub states: Vec<(JobState, u64)>,
    /// Waiting jobs by arch.
    pub depth: Vec<(String, u64)>,
    /// Finished runs' durations.
    pub durations: Durations,
    /// Results of finished runs by outcome.
    pub outcomes: Vec<(String, u64)>,
    /// Completed jobs' runs by execution status and failure kind.
    pub runs: Vec<(String, String, u64)>,
    /// Results in the embedded results store by outcome (when it exists).
    pub stored: Option<Vec<(String, u64)>>,
    /// Flaky tests by task, from the history (when it exists).
    pub flaky: Option<Vec<(String, u64)>>,
}

/// One metric family: its help, its type and its samples.
fn section(out: &mut String, name: &str, kind: &str, help: &str, samples: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    out.push_str(samples);
}

/// The exposition text.
pub fn render(q: &QueueFigures, spool: Option<u64>, trigger: Option<&Tally>) -> String {
    let mut out = String::new();
    let mut s = String::new();
    for (state, n) in &q.states {
        let _ = writeln!(s, "taskotron_jobs{{state=\"{}\"}} {n}", state_name(*state));
    }
    section(
        &mut out,
        "taskotron_jobs",
        "gauge",
        "Jobs in the queue by state (ExecDB's names).",
        &s,
    );
    s.clear();
    for (arch, n) in &q.depth {
        let _ = writeln!(s, "taskotron_queue_depth{{arch=\"{}\"}} {n}", escape(arch));
    }
    section(
        &mut out,
        "taskotron_queue_depth",
        "gauge",
        "Jobs waiting for a worker, by arch.",
        &s,
    );
    s.clear();
    for (le, n) in DURATION_BUCKETS.iter().zip(&q.durations.buckets) {
        let _ = writeln!(
            s,
            "taskotron_job_duration_seconds_bucket{{le=\"{le}\"}} {n}"
        );
    }
    let c = q.durations.count;
    let _ = writeln!(
        s,
        "taskotron_job_duration_seconds_bucket{{le=\"+Inf\"}} {c}"
    );
    let _ = writeln!(s, "taskotron_job_duration_seconds_sum {}", q.durations.sum);
    let _ = writeln!(s, "taskotron_job_duration_seconds_count {c}");
    section(
        &mut out,
        "taskotron_job_duration_seconds",
        "histogram",
        "How long finished runs took.",
        &s,
    );
    s.clear();
    for (status, kind, n) in &q.runs {
        let _ = writeln!(
            s,
            "taskotron_runs{{execution_status=\"{}\",failure_kind=\"{}\"}} {n}",
            escape(status),
            escape(kind)
        );
    }
    section(
        &mut out,
        "taskotron_runs",
        "gauge",
        "Runs of the completed jobs in the queue, by execution status (OK, NOT_OK) and \
         failure kind (empty when none was named): NOT_OK runs never executed their check.",
        &s,
    );
    s.clear();
    for (o, n) in &q.outcomes {
        let _ = writeln!(s, "taskotron_results{{outcome=\"{}\"}} {n}", escape(o));
    }
    section(
        &mut out,
        "taskotron_results",
        "gauge",
        "Results of the finished runs in the queue, by outcome.",
        &s,
    );
    if let Some(stored) = &q.stored {
        s.clear();
        for (o, n) in stored {
            let _ = writeln!(
                s,
                "taskotron_stored_results{{outcome=\"{}\"}} {n}",
                escape(o)
            );
        }
        section(
            &mut out,
            "taskotron_stored_results",
            "gauge",
            "Results in the embedded results store (reported without a ResultsDB), by outcome.",
            &s,
        );
    }
    if let Some(flaky) = &q.flaky {
        s.clear();
        for (task, n) in flaky {
            let _ = writeln!(s, "taskotron_flaky_tests{{task=\"{}\"}} {n}", escape(task));
        }
        section(
            &mut out,
            "taskotron_flaky_tests",
            "gauge",
            "Tests whose outcome flipped between runs of one item and arch, by task (the history).",
            &s,
        );
    }
    if let Some(n) = spool {
        let samples = format!("taskotron_spool_depth {n}\n");
        section(
            &mut out,
            "taskotron_spool_depth",
            "gauge",
            "Results in the ResultsDB spool, not yet confirmed delivered.",
            &samples,
        );
    }
    if let Some(t) = trigger {
        for (name, help, n) in [
            (
                "taskotron_trigger_messages_total",
                "Bus messages the trigger handled.",
                t.messages,
            ),
            (
                "taskotron_trigger_jobs_total",
                "Jobs the trigger scheduled.",
                t.jobs,
            ),
            (
                "taskotron_trigger_duplicates_total",
                "Jobs dropped as duplicates of recent ones.",
                t.duplicates,
            ),
        ] {
            section(&mut out, name, "counter", help, &format!("{name} {n}\n"));
        }
        s.clear();
        for (why, n) in &t.ignored {
            let _ = writeln!(
                s,
                "taskotron_trigger_ignored_total{{reason=\"{}\"}} {n}",
                escape(why)
            );
        }
        section(
            &mut out,
            "taskotron_trigger_ignored_total",
            "counter",
            "Messages that made no job, by why.",
            &s,
        );
    }
    out
}

/// A label value as the text format writes it.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `/metrics`.
pub async fn metrics(State(s): State<Arc<WebSettings>>) -> Response {
    let figures = store::read(&s.queue, |q| {
        let Some(q) = q else {
            return Ok(QueueFigures {
                states: JobState::ALL.into_iter().map(|s| (s, 0)).collect(),
                durations: Durations {
                    buckets: vec![0; DURATION_BUCKETS.len()],
                    ..Durations::default()
                },
                ..QueueFigures::default()
            });
        };
        Ok(QueueFigures {
            states: q.count_by_state()?,
            depth: q.depth_by_arch()?,
            durations: q.durations()?,
            outcomes: q.outcomes()?,
            runs: q.runs_by_status()?,
            stored: None,
            flaky: None,
        })
    })
    .await;
    let figures = match figures {
        Ok(f) => f,
        Err(e) => return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    };
    let mut figures = figures;
    let store = s.results.clone();
    figures.stored = tokio::task::spawn_blocking(move || {
        if !store.exists() {
            return None;
        }
        taskotron_core::resultsdb::local::LocalResults::open_read_only(&store)
            .and_then(|s| s.count_by_outcome())
            .ok()
    })
    .await
    .ok()
    .flatten();
    let history = s
        .gating
        .as_ref()
        .map(|g| taskotron_core::history::path(&g.settings.state_dir));
    figures.flaky = tokio::task::spawn_blocking(move || {
        let flaky = taskotron_history::Store::open_read_only(&history.filter(|p| p.exists())?)
            .and_then(|st| st.flaky(None))
            .ok()?;
        let mut by_task: std::collections::BTreeMap<String, u64> = Default::default();
        for f in flaky {
            *by_task.entry(f.task).or_default() += 1;
        }
        Some(by_task.into_iter().collect())
    })
    .await
    .ok()
    .flatten();
    let spool_dir = s.spool.clone();
    let spool = tokio::task::spawn_blocking(move || {
        std::fs::read_dir(spool_dir).ok().map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .count() as u64
        })
    })
    .await
    .ok()
    .flatten();
    let tally = s
        .trigger
        .as_ref()
        .and_then(|t| t.lock().ok().map(|t| t.clone()));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(&figures, spool, tally.as_ref()),
    )
        .into_response()
}

/// `/healthz`: 200 `ok` when the queue can be read (or does not exist yet).
pub async fn healthz(State(s): State<Arc<WebSettings>>) -> Response {
    match store::read(&s.queue, |_| Ok(())).await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")).into_response(),
    }
}
