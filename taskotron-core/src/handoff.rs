//! The files a worker and the `taskotron run-job` it starts for a job exchange:
//! the `Job` dictionary (with where the task and the artifacts are and where the
//! report goes) one way, the `ExecutionReport` the other, each in the
//! dictionaries' own serialisation (JSON) with a format version. A worker and a
//! runner of different builds refuse each other's files by that version, clearly,
//! instead of misreading flags or output; argv carries only the job file's path.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::dict::{Dictionary, ExecutionReport, Job};

/// The version of both files this build writes and reads.
pub const VERSION: u64 = 4;

/// What a worker hands its child: the job and where things are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobFile {
    /// [`VERSION`] of the writer.
    pub version: u64,
    /// The job, as the queue holds it.
    pub job: Job,
    /// The task directory (a checkout of its mirror, or its directory).
    pub task: PathBuf,
    /// Where the run directory goes.
    pub artifacts: PathBuf,
    /// Where the child writes its [`ReportFile`].
    pub report: PathBuf,
    /// The run id the worker chose and recorded in the queue (version 2); the run
    /// picks its own when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// `--override` pairs of the run (version 3: a remote run carries its caller's).
    /// Version 4 added the job's `plan`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<(String, String)>,
    /// Set when the run goes on a remote machine for another one (version 3): its
    /// reporting is deferred into the report file ([`crate::deferred`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub defer_reporting: bool,
}

/// The run a job file asks for, built from the file alone (not through the CLI's
/// flags): the task to load, the run's options, and where the report goes.
#[derive(Debug, Clone)]
pub struct JobRun {
    /// The task directory (a checkout of its mirror, or its directory).
    pub task: PathBuf,
    /// How the run goes.
    pub options: crate::runner::RunOptions,
    /// Where the report file is written ([`write_report`]).
    pub report: PathBuf,
}

impl JobFile {
    /// The run this job asks for. `options` makes the run options of an input on
    /// an arch as the deployment sets them up (the composition root's, from the
    /// configuration); on them the job's own settings are laid: its overrides and
    /// plan, the run id the worker recorded, the artifacts root, deferred reporting.
    pub fn into_run(
        self,
        options: impl FnOnce(crate::TaskInput, Option<crate::Arch>) -> crate::runner::RunOptions,
    ) -> JobRun {
        let job = self.job;
        let input = crate::runner::task_input(&job.item, job.item_type, job.build_id);
        let mut run = options(input, Some(job.arch));
        run.overrides = self.overrides;
        // A job of one fmf plan selects exactly that plan.
        if let Some(plan) = job.plan.as_deref() {
            run.overrides
                .push(("tmt_plan".into(), crate::format::exact_plan(plan)));
        }
        run.run_id = self.run_id;
        run.artifacts_root = self.artifacts;
        if self.defer_reporting {
            run.defer_reporting();
        }
        JobRun {
            task: self.task,
            options: run,
            report: self.report,
        }
    }
}

/// What the child hands back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportFile {
    /// [`VERSION`] of the writer.
    pub version: u64,
    /// The run's report.
    pub report: ExecutionReport,
    /// What the run's reporting deferred (version 3, a remote run's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferred: Option<crate::deferred::Deferred>,
}

/// A hand-off file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum HandoffError {
    /// It cannot be read or written.
    #[error("`{}`: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Written by a build with another format version.
    #[error("`{}` is a {what} of format version {found}, and this taskotron ({}) reads version {VERSION}: the worker and the runner are different builds; install the same taskotron for both", path.display(), env!("CARGO_PKG_VERSION"))]
    Version {
        /// The file.
        path: PathBuf,
        /// `job file` or `report file`.
        what: &'static str,
        /// The version it has (0 when it has none).
        found: u64,
    },
    /// Not the expected shape, or a dictionary that does not check.
    #[error("`{}` is not a valid {what}: {message}", path.display())]
    Shape {
        /// The file.
        path: PathBuf,
        /// `job file` or `report file`.
        what: &'static str,
        /// Why.
        message: String,
    },
}

fn write(path: &Path, value: &impl Serialize) -> Result<(), HandoffError> {
    let io_err = |source| HandoffError::Io {
        path: path.to_path_buf(),
        source,
    };
    let text = serde_json::to_vec_pretty(value).map_err(|e| io_err(io::Error::other(e)))?;
    // Written beside and renamed, so a reader never sees half a file.
    let partial = path.with_extension("partial");
    std::fs::write(&partial, text).map_err(io_err)?;
    std::fs::rename(&partial, path).map_err(io_err)
}

/// The file's JSON after its version was checked.
fn read_versioned(path: &Path, what: &'static str) -> Result<Value, HandoffError> {
    let text = std::fs::read_to_string(path).map_err(|source| HandoffError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let shape = |message: String| HandoffError::Shape {
        path: path.to_path_buf(),
        what,
        message,
    };
    let value: Value = serde_json::from_str(&text).map_err(|e| shape(e.to_string()))?;
    let found = value.get("version").and_then(Value::as_u64).unwrap_or(0);
    if found != VERSION {
        return Err(HandoffError::Version {
            path: path.to_path_buf(),
            what,
            found,
        });
    }
    Ok(value)
}

/// Writes the job file.
///
/// # Errors
/// It cannot be written.
pub fn write_job(path: &Path, file: &JobFile) -> Result<(), HandoffError> {
    write(path, file)
}

/// Reads a job file: its version first, then its shape, then the `Job`'s checks.
///
/// # Errors
/// Unreadable, another version, or not a valid job.
pub fn read_job(path: &Path) -> Result<JobFile, HandoffError> {
    let what = "job file";
    let value = read_versioned(path, what)?;
    let shape = |message: String| HandoffError::Shape {
        path: path.to_path_buf(),
        what,
        message,
    };
    let file: JobFile = serde_json::from_value(value).map_err(|e| shape(e.to_string()))?;
    Job::from_mapping(file.job.to_mapping()).map_err(|e| shape(e.to_string()))?;
    Ok(file)
}

/// Writes the report file.
///
/// # Errors
/// It cannot be written.
pub fn write_report(
    path: &Path,
    report: &ExecutionReport,
    deferred: Option<crate::deferred::Deferred>,
) -> Result<(), HandoffError> {
    write(
        path,
        &ReportFile {
            version: VERSION,
            report: report.clone(),
            deferred,
        },
    )
}

/// Reads a report file, its version first.
///
/// # Errors
/// Unreadable, another version, or not a report.
pub fn read_report(path: &Path) -> Result<ExecutionReport, HandoffError> {
    read_report_file(path).map(|f| f.report)
}

/// Reads a whole report file (with what the run deferred), its version first.
///
/// # Errors
/// Unreadable, another version, or not a report.
pub fn read_report_file(path: &Path) -> Result<ReportFile, HandoffError> {
    let what = "report file";
    let value = read_versioned(path, what)?;
    serde_json::from_value::<ReportFile>(value).map_err(|e| HandoffError::Shape {
        path: path.to_path_buf(),
        what,
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Arch, ItemType};

    fn job() -> Job {
        Job {
            item: "htop-3.3.0-1.fc41".into(),
            item_type: ItemType::KojiBuild,
            build_id: Some("b-1".into()),
            yamlfile: "runtask.yml".into(),
            arch: Arch::X86_64,
            source: None,
            plan: Some("/plans/smoke".into()),
        }
    }

    #[test]
    fn a_job_file_is_the_run_it_asks_for() {
        let file = JobFile {
            version: VERSION,
            job: job(),
            task: "/tasks/rpmlint".into(),
            artifacts: "/srv/artifacts".into(),
            report: "/w/report.json".into(),
            run_id: Some("r-1".into()),
            overrides: vec![("koji_tag".into(), "f41".into())],
            defer_reporting: true,
        };
        let mut asked = None;
        let run = file.into_run(|input, arch| {
            asked = Some((input.clone(), arch));
            crate::runner::RunOptions {
                input,
                arch,
                overrides: vec![("dropped".into(), "the job's own win".into())],
                artifacts_root: "/config/artifacts".into(),
                tmpdir: "/tmp".into(),
                default_timeout: std::time::Duration::from_secs(60),
                python: "python3".into(),
                task_env: Vec::new(),
                reporting: Default::default(),
                services: Default::default(),
                install_rpms: Default::default(),
                run_id: None,
                isolation: crate::Isolation::Sandbox,
                sandbox: Default::default(),
                remote: None,
            }
        });
        let (input, arch) = asked.unwrap();
        assert_eq!(
            (input.item.as_str(), input.build_id.as_deref(), arch),
            ("htop-3.3.0-1.fc41", Some("b-1"), Some(Arch::X86_64))
        );
        assert_eq!(run.task, Path::new("/tasks/rpmlint"));
        assert_eq!(run.report, Path::new("/w/report.json"));
        let o = &run.options;
        assert_eq!(
            o.overrides,
            [
                ("koji_tag".to_string(), "f41".to_string()),
                (
                    "tmt_plan".to_string(),
                    crate::format::exact_plan("/plans/smoke")
                ),
            ]
        );
        assert_eq!(o.run_id.as_deref(), Some("r-1"));
        assert_eq!(o.artifacts_root, Path::new("/srv/artifacts"));
        assert!(
            o.deferred().is_some(),
            "reporting deferred into the report file"
        );
        assert_eq!(o.isolation, crate::Isolation::Sandbox, "the deployment's");
    }

    #[test]
    fn files_of_another_version_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.json");
        let file = JobFile {
            version: VERSION,
            job: job(),
            task: "/t".into(),
            artifacts: "/a".into(),
            report: dir.path().join("report.json"),
            run_id: Some("r-1".into()),
            overrides: vec![("koji_tag".into(), "f41".into())],
            defer_reporting: true,
        };
        write_job(&path, &file).unwrap();
        assert_eq!(read_job(&path).unwrap(), file);
        let mut value: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        value["version"] = Value::from(VERSION + 1);
        std::fs::write(&path, value.to_string()).unwrap();
        let e = read_job(&path).unwrap_err().to_string();
        assert!(
            e.contains(&format!("is a job file of format version {}", VERSION + 1))
                && e.contains(&format!("reads version {VERSION}"))
                && e.contains("different builds"),
            "{e}"
        );
        std::fs::write(
            &path,
            format!(r#"{{"version": {VERSION}, "job": {{"item": "x"}}}}"#),
        )
        .unwrap();
        let e = read_job(&path).unwrap_err().to_string();
        assert!(e.contains("is not a valid job file"), "{e}");
        let report = dir.path().join("report.json");
        std::fs::write(&report, r#"{"report": {}}"#).unwrap();
        let e = read_report(&report).unwrap_err().to_string();
        assert!(e.contains("is a report file of format version 0"), "{e}");
    }
}
