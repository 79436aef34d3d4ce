//! `taskotron new`: a task directory that runs as it is and shows the moving parts.

use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;

/// The files of a new task, by name, with `@NAME@` standing for the task's name.
const FILES: &[(&str, &str)] = &[
    ("runtask.yml", include_str!("scaffold/runtask.yml")),
    ("check.py", include_str!("scaffold/check.py")),
    ("README.md", include_str!("scaffold/README.md")),
    ("tests.yaml", include_str!("scaffold/tests.yaml")),
];

/// Creates task `name` in a new directory `dir` and returns the files written.
///
/// # Errors
/// The name is not a valid task name, or `dir` exists and is not empty, or a file
/// cannot be written.
pub fn create(dir: &Path, name: &str) -> Result<Vec<PathBuf>, Box<Diagnostic>> {
    let valid = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !valid {
        return Err(Box::new(
            Diagnostic::error(format!("invalid task name `{name}`"))
                .expected("letters, digits and `._-`, starting with a letter or digit"),
        ));
    }
    if dir.exists()
        && std::fs::read_dir(dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(Box::new(
            Diagnostic::error(format!(
                "`{}` already exists and is not empty",
                dir.display()
            ))
            .help("choose another name or remove the directory"),
        ));
    }
    let io = |e: std::io::Error, p: &Path| {
        Box::new(Diagnostic::error(format!(
            "cannot write `{}`: {e}",
            p.display()
        )))
    };
    std::fs::create_dir_all(dir).map_err(|e| io(e, dir))?;
    let mut written = Vec::new();
    for (file, text) in FILES {
        let path = dir.join(file);
        std::fs::write(&path, text.replace("@NAME@", name)).map_err(|e| io(e, &path))?;
        written.push(path);
    }
    Ok(written)
}
