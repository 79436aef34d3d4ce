//! ansible-core for playbook tasks. The `ansible-playbook` a run uses is the one
//! the config names (`ansible_playbook`), else a pinned ansible-core that taskotron
//! installs from PyPI on first use into a virtual environment in its cache, as it
//! writes the embedded `libtaskotron` package there: later runs find it and ask
//! PyPI nothing. Offline and absent, the error says which command installs it.

use std::path::{Path, PathBuf};

/// The ansible-core taskotron installs (2.18 runs on Python 3.11 to 3.13).
pub const ANSIBLE_CORE: &str = "2.18.19";

/// Why no `ansible-playbook` could be had.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Missing(pub String);

/// How to start `ansible-playbook` (the program and the arguments before the
/// playbook's): `configured` when given, else the one in
/// `<tools>/ansible-core-<version>/`, installed there with `python` first when it
/// is not yet, started through that environment's own python (its scripts name
/// the directory they were installed in, which was the partial one).
///
/// # Errors
/// No configured one, no cache, or an install that failed (offline): the message
/// says how to install it by hand.
pub fn playbook(
    configured: Option<&str>,
    tools: Option<&Path>,
    python: &str,
) -> Result<Vec<PathBuf>, Missing> {
    if let Some(c) = configured.filter(|c| !c.is_empty()) {
        return Ok(vec![PathBuf::from(c)]);
    }
    let by_hand = format!(
        "install it with `python3 -m pip install ansible-core=={ANSIBLE_CORE}` and set `ansible_playbook` (or TASKOTRON_ANSIBLE_PLAYBOOK) to its `ansible-playbook`"
    );
    let Some(tools) = tools else {
        return Err(Missing(format!(
            "ansible-playbook: no cache to install ansible-core into; {by_hand}"
        )));
    };
    let venv = tools.join(format!("ansible-core-{ANSIBLE_CORE}"));
    let bin = venv.join("bin/ansible-playbook");
    let argv = || vec![venv.join("bin/python"), bin.clone()];
    if bin.is_file() {
        return Ok(argv());
    }
    // Built beside and renamed into place: runs racing each other never see half
    // an environment.
    let partial = tools.join(format!(
        "ansible-core-{ANSIBLE_CORE}.{}.partial",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&partial);
    let step = |program: &str, args: &[&str], what: &str| -> Result<(), Missing> {
        let out = crate::process::tool_output(program, args).map_err(|e| {
            Missing(format!(
                "ansible-playbook: cannot run {what}: {e}; {by_hand}"
            ))
        })?;
        if out.status.success() {
            return Ok(());
        }
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: String = err.lines().rev().take(3).collect::<Vec<_>>().join(" / ");
        Err(Missing(format!(
            "ansible-playbook: installing ansible-core {ANSIBLE_CORE} failed ({what}: {tail}); {by_hand}"
        )))
    };
    std::fs::create_dir_all(tools).map_err(|e| {
        Missing(format!(
            "ansible-playbook: cannot create `{}`: {e}",
            tools.display()
        ))
    })?;
    let partial_text = partial.display().to_string();
    let pip = partial.join("bin/pip").display().to_string();
    let pin = format!("ansible-core=={ANSIBLE_CORE}");
    let made = step(python, &["-m", "venv", &partial_text], "python3 -m venv").and_then(|()| {
        step(
            &pip,
            &["install", "--quiet", "--disable-pip-version-check", &pin],
            "pip install",
        )
    });
    if let Err(e) = made {
        let _ = std::fs::remove_dir_all(&partial);
        return Err(e);
    }
    match std::fs::rename(&partial, &venv) {
        Ok(()) => {}
        Err(_) if bin.is_file() => {
            let _ = std::fs::remove_dir_all(&partial);
        }
        Err(e) => {
            return Err(Missing(format!(
                "ansible-playbook: cannot place `{}`: {e}",
                venv.display()
            )))
        }
    }
    Ok(argv())
}

/// The `ansible_python_interpreter` a run gives its playbooks: the configured
/// python, by its full path on `path` (the task's `PATH`) when it is a bare name,
/// so that modules run with the interpreter the task's own Python code gets.
pub fn interpreter(python: &str, path: &str) -> String {
    if python.contains('/') {
        return python.to_string();
    }
    std::env::split_paths(path)
        .map(|d| d.join(python))
        .find(|p| p.is_file())
        .map_or_else(|| python.to_string(), |p| p.display().to_string())
}
