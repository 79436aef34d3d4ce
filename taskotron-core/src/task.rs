//! Finding a task's formula from what a user typed: a formula file, or a task
//! directory holding `runtask.yml` or a single `*.yml` formula.

use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;

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
}
