//! Where tasks are, in one place: the formula file of what a user typed (a formula
//! file, or a task directory holding `runtask.yml` or a single `*.yml` formula),
//! task locations as configuration writes them (a directory or a git `URL[#REF]`),
//! and [`Tasks`], which finds a task by name (the config's `tasks`, then the task
//! path) and makes it ready for a job (its directory, or a checkout from the
//! mirror). `mirror` keeps the git mirror cache; the worker asks this module.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::dict::TaskSource;
use crate::mirror::{Mirror, MirrorError};
use crate::scheduler::CrashCause;
use crate::suggest::did_you_mean;

/// The names a task directory's formula may have, in order of preference.
pub const FORMULA_NAMES: &[&str] = &["runtask.yml", "runtask.yaml"];

/// The formula file `task` names: a path, or else the name of a task that
/// `resolve` finds (the config's tasks and `task_path`, as `schedule` finds them).
///
/// # Errors
/// Neither a path nor a known task; the near miss among the known ones.
pub fn locate_or_resolve(
    task: &Path,
    resolve: impl Fn(&str) -> Result<PathBuf, String>,
) -> Result<PathBuf, Box<Diagnostic>> {
    let name = task
        .to_str()
        .filter(|n| !task.exists() && !n.is_empty() && !n.contains('/') && !n.starts_with('.'));
    match name {
        None => locate(task),
        Some(name) => match resolve(name) {
            Ok(dir) => locate(&dir),
            Err(why) => Err(Box::new(
                Diagnostic::error(format!(
                    "no task `{name}`: not a file or directory, nor a task on the task path ({why})"
                ))
                .expected("a formula file, a task directory, or a task's name on `task_path`")
                .help(
                    "create one with `taskotron new <name>`; `taskotron config` shows `task_path`",
                ),
            )),
        },
    }
}

/// The formula file `task` names.
///
/// # Errors
/// The path does not exist, or a directory holds no formula or several candidates.
pub fn locate(task: &Path) -> Result<PathBuf, Box<Diagnostic>> {
    if task.is_file() {
        return Ok(task.to_path_buf());
    }
    // A stand-in name a job or a remote run was given (`task/(playbooks)`): the
    // format of the directory it stands in.
    let stand_in = matches!(
        task.file_name().and_then(|n| n.to_str()),
        Some(crate::format::FMF_TASK | crate::format::PLAYBOOK_TASK)
    );
    if stand_in && task.parent().is_some_and(Path::is_dir) {
        return Ok(task.to_path_buf());
    }
    if !task.is_dir() {
        return Err(Box::new(
            Diagnostic::error(format!("no task at `{}`", task.display()))
                .expected("a formula file or a task directory")
                .help("create one with `taskotron new <name>`"),
        ));
    }
    for name in FORMULA_NAMES {
        let candidate = task.join(name);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    // An fmf tree (a dist-git repository's tmt plans) before any other YAML: such
    // a repository holds `gating.yaml` and the like, which are no formulas.
    if let Some(fmf) = crate::format::fmf_task(task) {
        return Ok(fmf);
    }
    // Playbooks `tests*.yml` (Taskotron's last generation) before a lone formula
    // file: such a directory holds exactly one YAML file more often than not.
    if let Some(playbooks) = crate::format::playbook_task(task) {
        return Ok(playbooks);
    }
    let mut ymls: Vec<PathBuf> = std::fs::read_dir(task)
        .map_err(|e| {
            Box::new(Diagnostic::error(format!(
                "cannot read `{}`: {e}",
                task.display()
            )))
        })?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        // A task's test cases are never its formula.
        .filter(|p| p.file_name().is_some_and(|n| n != crate::tasktest::FILE))
        .collect();
    ymls.sort();
    match ymls.len() {
        1 => Ok(ymls.remove(0)),
        0 => Err(Box::new(
            Diagnostic::error(format!("`{}` holds no formula", task.display()))
                .expected("`runtask.yml` or a single `*.yml` file"),
        )),
        _ => Err(Box::new(
            Diagnostic::error(format!(
                "`{}` holds several YAML files and no `runtask.yml`",
                task.display()
            ))
            .expected("`runtask.yml`, or name the formula file")
            .help(format!(
                "candidates: {}",
                ymls.iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        )),
    }
}

/// Where a task comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskLocation {
    /// A directory, used as it is.
    Dir(PathBuf),
    /// A git repository and the ref to run (its default branch when `None`).
    Git {
        /// The repository's URL or path.
        url: String,
        /// Branch, tag or commit.
        git_ref: Option<String>,
    },
}

impl TaskLocation {
    /// Reads a configured location: `URL[#REF]` for git (a `scheme://` URL, or a path
    /// ending in `.git`), anything else a directory.
    pub fn parse(text: &str) -> Self {
        let (base, git_ref) = match text.rsplit_once('#') {
            Some((b, r)) if !r.is_empty() => (b, Some(r.to_string())),
            _ => (text, None),
        };
        let git = base.contains("://") || base.trim_end_matches('/').ends_with(".git");
        if git {
            TaskLocation::Git {
                url: base.to_string(),
                git_ref,
            }
        } else {
            TaskLocation::Dir(PathBuf::from(text))
        }
    }
}

/// Where tasks are: names given in the configuration (a directory or a git
/// repository), then `<dir>/<name>/` in each directory of the task path.
#[derive(Debug, Clone)]
pub struct Tasks {
    /// Named tasks: a directory, or a git `URL[#REF]`.
    pub named: BTreeMap<String, String>,
    /// Directories holding task directories.
    pub path: Vec<PathBuf>,
    /// The mirror cache of task repositories.
    pub mirror: Mirror,
    /// Where jobs' checkouts go (`<checkouts>/<build_id>/`), removed after the run.
    pub checkouts: PathBuf,
}

/// A task made ready for one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// Its directory.
    pub dir: PathBuf,
    /// The commit checked out, for a task from git.
    pub commit: Option<String>,
    /// Where it came from, for the job: the directory, or the repository and commit.
    pub source: TaskSource,
}

impl Tasks {
    /// Where `name` is.
    ///
    /// # Errors
    /// No such task, with the near miss among the known ones.
    pub fn locate(&self, name: &str) -> Result<TaskLocation, String> {
        if let Some(text) = self.named.get(name) {
            return match TaskLocation::parse(text) {
                TaskLocation::Dir(p) if !p.exists() => Err(format!(
                    "task `{name}` is configured at `{}`, which does not exist",
                    p.display()
                )),
                other => Ok(other),
            };
        }
        self.resolve(name).map(TaskLocation::Dir)
    }

    /// Makes `name` ready to run as build `build_id`: its directory, or a checkout from
    /// the mirror (cloned or fetched as needed).
    ///
    /// # Errors
    /// The cause and what happened: an unknown task or ref is the task's fault, an
    /// unreachable repository or a full disk the infrastructure's.
    pub fn prepare(&self, name: &str, build_id: &str) -> Result<Prepared, (CrashCause, String)> {
        match self.locate(name).map_err(|e| (CrashCause::Task, e))? {
            TaskLocation::Dir(dir) => Ok(Prepared {
                source: TaskSource {
                    repo: dir.display().to_string(),
                    git_ref: None,
                },
                dir,
                commit: None,
            }),
            TaskLocation::Git { url, git_ref } => self.checkout(&url, git_ref.as_deref(), build_id),
        }
    }

    /// Makes the task of a job that names its own source (a `dist_git_tests` job: the
    /// build's dist-git at its commit) ready to run, as [`Tasks::prepare`] does for a
    /// task from git.
    ///
    /// # Errors
    /// As [`Tasks::prepare`].
    pub fn prepare_source(
        &self,
        source: &TaskSource,
        build_id: &str,
    ) -> Result<Prepared, (CrashCause, String)> {
        // The checkout is named after the repository, as a task directory is after
        // its task: an fmf tree's formula takes its name from its directory.
        let name = Some(self.mirror.name_of(&source.repo))
            .filter(|n| !n.is_empty() && !n.starts_with('.'))
            .unwrap_or_else(|| "task".into());
        self.checkout(
            &source.repo,
            source.git_ref.as_deref(),
            &format!("{build_id}/{name}"),
        )
    }

    /// `url` at `git_ref`, through the mirror, into the job's own checkout directory
    /// (`<checkouts>/<sub>`; its first component is the build id, which
    /// [`Tasks::remove_checkout`] removes).
    fn checkout(
        &self,
        url: &str,
        git_ref: Option<&str>,
        sub: &str,
    ) -> Result<Prepared, (CrashCause, String)> {
        self.mirror
            .update(url, false)
            .map_err(|e| (CrashCause::Infrastructure, e.to_string()))?;
        let dir = self.checkouts.join(sub);
        let _ = std::fs::remove_dir_all(&dir);
        match self.mirror.checkout(url, git_ref, &dir) {
            Ok(commit) => Ok(Prepared {
                dir,
                source: TaskSource {
                    repo: url.to_string(),
                    git_ref: Some(commit.clone()),
                },
                commit: Some(commit),
            }),
            Err(e @ MirrorError::UnknownRef { .. }) => Err((CrashCause::Task, e.to_string())),
            Err(e) => Err((CrashCause::Infrastructure, e.to_string())),
        }
    }

    /// Removes what [`Tasks::prepare`] or [`Tasks::prepare_source`] checked out for
    /// build `build_id`.
    pub fn remove_checkout(&self, build_id: &str) {
        if !build_id.is_empty() && !build_id.contains(['/', '.']) {
            let _ = std::fs::remove_dir_all(self.checkouts.join(build_id));
        }
    }

    /// The directory of `name` on the task path (or named as a directory).
    ///
    /// # Errors
    /// No such task, with the near miss among the known ones.
    pub fn resolve(&self, name: &str) -> Result<PathBuf, String> {
        if let Some(text) = self.named.get(name) {
            return match TaskLocation::parse(text) {
                TaskLocation::Dir(p) if p.exists() => Ok(p),
                TaskLocation::Dir(p) => Err(format!(
                    "task `{name}` is configured at `{}`, which does not exist",
                    p.display()
                )),
                TaskLocation::Git { url, .. } => Ok(self.mirror.path_of(&url)),
            };
        }
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && !name.starts_with('.');
        if valid {
            for dir in &self.path {
                let candidate = dir.join(name);
                if candidate.is_dir() {
                    return Ok(candidate);
                }
            }
        }
        let known = self.known();
        let mut message = format!("unknown task `{name}`");
        if let Some(s) = did_you_mean(name, known.iter().map(String::as_str)) {
            message.push_str(&format!("; did you mean `{s}`?"));
        } else if !known.is_empty() {
            message.push_str(&format!("; known: {}", known.join(", ")));
        }
        Err(message)
    }

    /// Every task name it can find.
    pub fn known(&self) -> Vec<String> {
        let mut names: Vec<String> = self.named.keys().cloned().collect();
        for dir in &self.path {
            if let Ok(entries) = std::fs::read_dir(dir) {
                names.extend(
                    entries
                        .flatten()
                        .filter(|e| e.path().is_dir())
                        .filter_map(|e| e.file_name().into_string().ok()),
                );
            }
        }
        names.sort();
        names.dedup();
        names
    }
}

/// The files a formula names in its task directory that are not there: each
/// `python` action's `file` written as a plain relative path (one with a variable
/// is known only at run time), as errors at the value, with a did-you-mean among
/// the task's `.py` files. `validate` says this before a run fails on it.
pub fn missing_files(formula: &crate::formula::Formula) -> Vec<Diagnostic> {
    let taskdir = formula.taskdir();
    let mut out = Vec::new();
    for action in &formula.actions {
        if action.directive.spec().name != "python" {
            continue;
        }
        let Some(node) = action.params.get("file") else {
            continue;
        };
        let Some(file) = node.as_str() else {
            continue;
        };
        if file.contains('$') || Path::new(file).is_absolute() || taskdir.join(file).is_file() {
            continue;
        }
        let present: Vec<String> = std::fs::read_dir(taskdir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.ends_with(".py"))
            .collect();
        let d = Diagnostic::error(format!(
            "`python.file` names `{file}`, which is not in the task directory `{}`",
            taskdir.display()
        ))
        .expected("a Python file of the task")
        .suggest(did_you_mean(file, present.iter().map(String::as_str)));
        out.push(formula.diagnostic_at(d, node.location, node.width));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_runtask_then_a_single_yml() {
        let dir = tempfile::tempdir().unwrap();
        assert!(locate(dir.path()).is_err());
        std::fs::write(dir.path().join("check.yml"), "").unwrap();
        assert_eq!(locate(dir.path()).unwrap(), dir.path().join("check.yml"));
        std::fs::write(dir.path().join("other.yaml"), "").unwrap();
        assert!(locate(dir.path()).unwrap_err().message.contains("several"));
        std::fs::write(dir.path().join("runtask.yml"), "").unwrap();
        assert_eq!(locate(dir.path()).unwrap(), dir.path().join("runtask.yml"));
        assert!(locate(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn locations_are_read_from_the_config_text() {
        assert_eq!(
            TaskLocation::parse("git://127.0.0.1/rpmlint.git#main"),
            TaskLocation::Git {
                url: "git://127.0.0.1/rpmlint.git".into(),
                git_ref: Some("main".into())
            }
        );
        assert_eq!(
            TaskLocation::parse("/srv/git/rpmlint.git"),
            TaskLocation::Git {
                url: "/srv/git/rpmlint.git".into(),
                git_ref: None
            }
        );
        assert_eq!(
            TaskLocation::parse("tasks/rpmlint"),
            TaskLocation::Dir("tasks/rpmlint".into())
        );
    }
}
