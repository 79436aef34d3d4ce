//! One Fedora CI message from a job and one event of its history. *Invariant: no
//! I/O; the same job and event give the same message.*

use serde_json::{json, Map, Value};

use crate::results::Outcome;
use crate::resultsdb::LogUrls;
use crate::scheduler::{FedEvent, QueuedJob};
use crate::ItemType;

/// The schema version our messages follow (Fedora CI messages 1.x).
pub const VERSION: &str = "1.1.14";

/// Who runs the tests, as `contact` says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// The CI system's name.
    pub name: String,
    /// The team running it.
    pub team: String,
    /// Its documentation.
    pub docs: String,
    /// Where to write.
    pub email: String,
    /// Its IRC or Matrix channel, when it has one.
    pub irc: Option<String>,
}

/// What every message carries besides the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiSettings {
    /// The topic's prefix (`org.centos.prod.ci`).
    pub prefix: String,
    /// `test.namespace`: resultsdb-updater names the result
    /// `<namespace>.<taskname>.<category>`.
    pub namespace: String,
    /// `test.category` (`functional`, `static-analysis`, ...).
    pub category: String,
    /// Who runs the tests.
    pub contact: Contact,
    /// Where the runs' artifacts are published (`<base>/<run_id>/...`).
    pub artifacts_base_url: Option<String>,
    /// The job page (`.../jobs/{build_id}`).
    pub job_url_template: Option<String>,
    /// Our web server, `contact.url` and `pipeline`'s home.
    pub web_url: Option<String>,
}

/// What Koji knows of the build under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// The Koji task that built it (`artifact.id`).
    pub task_id: i64,
    /// Who built it.
    pub issuer: String,
    /// Where it was built from.
    pub source: Option<String>,
}

/// Where a test stands, as the topic's last word says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Waiting for a worker (scheduled, or back in the queue).
    Queued,
    /// A worker started it.
    Running,
    /// It finished with a result.
    Complete,
    /// It could not give a result.
    Error,
}

impl Stage {
    /// The topic's last word.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Queued => "queued",
            Stage::Running => "running",
            Stage::Complete => "complete",
            Stage::Error => "error",
        }
    }
}

/// What a job tests, as the message's `artifact` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// One Koji build (`koji-build`): its N-V-R is the job's item.
    Build(Artifact),
    /// A Bodhi update (`fedora-update`): the job's item is its alias; each of
    /// its builds with what Koji knows of it, in Bodhi's order.
    Update(Vec<(String, Artifact)>),
}

impl Subject {
    /// The artifact type, the topic's second-to-last part but two.
    pub fn kind(&self) -> &'static str {
        match self {
            Subject::Build(_) => "koji-build",
            Subject::Update(_) => "fedora-update",
        }
    }
}

/// One message to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct CiMessage {
    /// `<prefix>.<koji-build|fedora-update>.test.<stage>`.
    pub topic: String,
    /// Unique per event: `taskotron-<build id>-<feed position>`.
    pub id: String,
    /// The body.
    pub body: Value,
}

/// The stage a job history event announces; `None` for the events that change
/// nothing a consumer sees (a claim, a renewed lease). A job back in the queue
/// (its lease expired, a retry, a release) is queued again.
pub fn stage_of(event: &str) -> Option<Stage> {
    match event {
        "SCHEDULED" | "EXPIRED" | "RETRY" | "RELEASED" => Some(Stage::Queued),
        "STARTED" => Some(Stage::Running),
        "FINISHED" => Some(Stage::Complete),
        "CRASHED" => Some(Stage::Error),
        _ => None,
    }
}

/// `test.result` for an outcome: Fedora CI's words; `None` for the outcomes that
/// are no result (the message is then `.error`).
fn result_of(outcome: Outcome) -> Option<&'static str> {
    match outcome {
        Outcome::Passed => Some("passed"),
        Outcome::Failed => Some("failed"),
        Outcome::Info => Some("info"),
        Outcome::NeedsInspection => Some("needs_inspection"),
        Outcome::Aborted | Outcome::Crashed => None,
    }
}

/// The `koji-build` artifact of the build `nvr`; `None` when `nvr` is no N-V-R.
fn build_json(nvr: &str, artifact: &Artifact) -> Option<Value> {
    let (name, _, _) = taskotron_model::item::split_nvr(nvr)?;
    let mut build = json!({
        "type": "koji-build",
        "id": artifact.task_id,
        "issuer": artifact.issuer,
        "component": name,
        "nvr": nvr,
        "scratch": false,
    });
    if let Some(source) = &artifact.source {
        build["source"] = json!(source);
    }
    Some(build)
}

/// The message `fed` (an event of `job`) announces, or `None` when it announces
/// nothing, or `subject` does not fit the job (a build's facts for an update's
/// job, an update without builds, an item that is no N-V-R). Koji builds and
/// Bodhi updates are the artifact types published.
pub fn message(
    job: &QueuedJob,
    fed: &FedEvent,
    subject: &Subject,
    s: &CiSettings,
) -> Option<CiMessage> {
    let request = &job.request;
    // The artifact, and the build whose dist tag names the system's OS.
    let (artifact_json, first_build) = match (request.item_type, subject) {
        (ItemType::KojiBuild, Subject::Build(a)) => {
            (build_json(&request.item, a)?, request.item.as_str())
        }
        (ItemType::BodhiUpdate, Subject::Update(builds)) if !builds.is_empty() => {
            let listed = builds
                .iter()
                .map(|(nvr, a)| build_json(nvr, a))
                .collect::<Option<Vec<_>>>()?;
            (
                json!({"type": "fedora-update", "id": request.item, "builds": listed}),
                builds[0].0.as_str(),
            )
        }
        _ => return None,
    };
    let mut stage = stage_of(&fed.event.event)?;
    let report = job.report.as_ref().filter(|_| stage == Stage::Complete);
    let result = report.and_then(|r| match (r.is_ok(), r.outcome) {
        (true, Some(o)) => result_of(o),
        (true, None) => Some("not_applicable"),
        (false, _) => None,
    });
    let mut error = None;
    if stage == Stage::Complete && result.is_none() {
        stage = Stage::Error;
        error = Some(
            report
                .and_then(|r| r.status.clone())
                .unwrap_or_else(|| "the run gave no result".into()),
        );
    }
    if stage == Stage::Error && error.is_none() {
        error = Some(
            fed.event
                .detail
                .clone()
                .or_else(|| {
                    job.crash
                        .as_ref()
                        .map(|(c, d)| format!("{}: {d}", c.as_str()))
                })
                .unwrap_or_else(|| "the job crashed".into()),
        );
    }
    // The run this event is about: the finished report's, else the one the
    // STARTED event names, else the job's latest.
    let run_id = report
        .map(|r| r.run_id.clone())
        .or_else(|| {
            // The queue writes `run <id>` (Queue::started).
            let detail = fed
                .event
                .detail
                .as_deref()
                .filter(|_| fed.event.event == "STARTED")?;
            Some(detail.strip_prefix("run ").unwrap_or(detail).to_string())
        })
        .or_else(|| job.run_id.clone());
    let urls = LogUrls::new(
        s.artifacts_base_url.as_deref(),
        s.job_url_template.as_deref(),
        run_id.as_deref().unwrap_or(&job.build_id),
        Some(&job.build_id),
    );
    let in_run = |file: &str| run_id.as_ref().and_then(|_| urls.result_url(Some(file)));
    let job_url = urls.job_url().or_else(|| urls.run_url());
    let mut run = Map::new();
    run.insert("url".into(), json!(job_url.clone().unwrap_or_default()));
    run.insert(
        "log".into(),
        json!(in_run("taskotron.log").or(job_url).unwrap_or_default()),
    );
    if let Some(raw) = in_run("taskotron.log") {
        run.insert("log_raw".into(), json!(raw));
    }
    if let Some(page) = in_run(crate::html::FILE) {
        run.insert("debug".into(), json!(page));
    }
    run.insert("id".into(), json!(job.build_id));
    let mut test = Map::new();
    test.insert("category".into(), json!(s.category));
    test.insert("namespace".into(), json!(s.namespace));
    test.insert(
        "type".into(),
        json!(match &request.plan {
            Some(p) => format!(
                "{}.{}",
                request.taskname,
                p.trim_start_matches('/').replace('/', ".")
            ),
            None => request.taskname.clone(),
        }),
    );
    if let Some(docs) = &s.web_url {
        test.insert(
            "docs".into(),
            json!(format!("{}/", docs.trim_end_matches('/'))),
        );
    }
    if let Some(result) = result.filter(|_| stage == Stage::Complete) {
        test.insert("result".into(), json!(result));
        if let Some(xunit) = in_run("results.junit.xml") {
            test.insert("xunit".into(), json!(xunit));
        }
        if let Some(r) = report {
            let summary = crate::results::summary(r.results.iter().map(|d| d.outcome));
            test.insert("note".into(), json!(summary));
        }
    }
    let mut contact = json!({
        "name": s.contact.name,
        "team": s.contact.team,
        "docs": s.contact.docs,
        "email": s.contact.email,
    });
    if let Some(irc) = &s.contact.irc {
        contact["irc"] = json!(irc);
    }
    if let Some(url) = &s.web_url {
        contact["url"] = json!(url);
    }
    let mut body = json!({
        "contact": contact,
        "run": run,
        "artifact": artifact_json,
        "pipeline": {"id": job.build_id, "name": format!("{} {}", s.contact.name, request.taskname)},
        "test": test,
        "system": [{
            "os": crate::directive::tmt::distro_of(first_build, "koji_build")
                .unwrap_or_else(|| "unknown".into()),
            "provider": s.contact.name,
            "architecture": request.arch.as_str(),
        }],
        "generated_at": fed.event.at,
        "version": VERSION,
    });
    if let Some(reason) = error.filter(|_| stage == Stage::Error) {
        body["error"] = json!({"reason": reason});
    }
    Some(CiMessage {
        topic: format!("{}.{}.test.{}", s.prefix, subject.kind(), stage.as_str()),
        id: format!("taskotron-{}-{}", job.build_id, fed.position),
        body,
    })
}

#[cfg(test)]
pub(crate) mod tests;
