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
        // Its directory by its real path: a sandbox shows real paths only.
        let c = Path::new(c);
        let real = match (c.parent().and_then(real_path), c.file_name()) {
            (Some(dir), Some(name)) if c.is_absolute() => dir.join(name),
            _ => c.to_path_buf(),
        };
        return Ok(vec![real]);
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
    // The directory by its real path (a sandbox shows it, and checks the program
    // against what it shows); its python stays the venv's link, which makes it
    // that environment's.
    let argv = || {
        let real = std::fs::canonicalize(&venv).unwrap_or_else(|_| venv.clone());
        vec![real.join("bin/python"), real.join("bin/ansible-playbook")]
    };
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
/// `python` when it is a path; else the system's `/usr/bin/python3`, as the
/// original gave (it has the distribution's bindings, `rpm` and `dnf`, which
/// modules use), and which every sandbox shows; else the python of the
/// environment ansible runs from (`argv`'s first, from [`playbook`]).
pub fn interpreter(python: &str, argv: &[PathBuf]) -> String {
    if python.contains('/') {
        return python.to_string();
    }
    let system = Path::new("/usr/bin").join(python);
    if system.is_file() {
        return system.display().to_string();
    }
    match argv {
        [venv_python, _] => venv_python.display().to_string(),
        _ => python.to_string(),
    }
}

/// `path` with its links and `..` resolved, when it exists.
pub fn real_path(path: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(path).ok()
}

/// What a sandbox must show for `argv` (from [`playbook`]) to run: the virtual
/// environment `ansible-playbook` lives in (taskotron's own, or a configured one
/// in a venv), and the interpreter it was made from (its `pyvenv.cfg` `home`'s
/// parent, which may live outside `/usr`, as pyenv's do). Nothing for an
/// `ansible-playbook` of the system's (`/usr` is always shown).
pub fn shown_dirs(argv: &[PathBuf]) -> Vec<PathBuf> {
    let Some(script) = argv.last() else {
        return Vec::new();
    };
    let script = script.parent().map_or_else(PathBuf::new, |d| {
        real_path(d).unwrap_or_else(|| d.to_path_buf())
    });
    let Some(venv) = script.parent() else {
        return Vec::new();
    };
    if venv.starts_with("/usr") {
        return Vec::new();
    }
    let Ok(cfg) = std::fs::read_to_string(venv.join("pyvenv.cfg")) else {
        // Not a venv: at least the directory of the script.
        return vec![script.clone()];
    };
    let mut out = vec![venv.to_path_buf()];
    if let Some(home) = cfg.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == "home").then(|| PathBuf::from(v.trim()))
    }) {
        if let Some(prefix) = real_path(&home).and_then(|h| h.parent().map(Path::to_path_buf)) {
            if !prefix.starts_with("/usr") {
                out.push(prefix);
            }
        }
    }
    out
}

/// This binary, for the directives a task's Python calls (`taskotron call`):
/// `TASKOTRON_EXECUTABLE` when the runner was given one (a library caller that
/// is not the CLI), else the running executable when it is `taskotron`.
pub fn executable() -> Option<PathBuf> {
    if let Some(given) = std::env::var_os(crate::config::keys::EXECUTABLE_VAR).map(PathBuf::from) {
        return Some(given);
    }
    let exe = std::env::current_exe().ok()?;
    let exe = real_path(&exe).unwrap_or(exe);
    (exe.file_name()? == "taskotron").then_some(exe)
}

/// `/bin/bash`, when this system has it.
pub fn bash() -> Option<&'static str> {
    Path::new("/bin/bash").is_file().then_some("/bin/bash")
}

/// The failure of a playbook that does not pass `ansible-playbook
/// --syntax-check`: nothing of the task ran, and `taskotron run` ends with exit
/// code 2 (invalid input), as for a formula that does not load.
pub const PLAYBOOK_INVALID: crate::failure::FailureKind =
    crate::failure::FailureKind::new("PLAYBOOK_INVALID", crate::failure::Cause::Task);

/// The diagnostic of ansible-playbook's error `text`: its `ERROR!` line, at the
/// file, line and column its "The error appears to be in" sentence names, that
/// file shown as `shown` says (a suite runs from a copy of its checkout).
pub fn syntax_diagnostic(
    text: &str,
    shown: &dyn Fn(&Path) -> PathBuf,
) -> crate::diagnostic::Diagnostic {
    use crate::diagnostic::Diagnostic;
    let message = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("ERROR! "))
        .unwrap_or("the playbook does not pass `ansible-playbook --syntax-check`")
        .trim();
    let d = Diagnostic::error(format!("ansible-playbook --syntax-check: {message}"))
        .expected("a playbook ansible-playbook can parse");
    let place = text
        .split("The error appears to be in '")
        .nth(1)
        .and_then(|rest| {
            let (file, rest) = rest.split_once("': line ")?;
            let (line, rest) = rest.split_once(", column ")?;
            let column: String = rest.chars().take_while(char::is_ascii_digit).collect();
            Some((
                PathBuf::from(file),
                line.parse::<usize>().ok()?,
                column.parse::<usize>().ok()?,
            ))
        });
    match place {
        Some((file, line, column)) => {
            let source = std::fs::read_to_string(&file).unwrap_or_default();
            d.at(
                Some(&shown(&file)),
                &source,
                taskotron_tap::diagnostic::Location { line, column },
                1,
            )
        }
        None => d,
    }
}

/// What differs between the host a playbook wants (`taskotron_match_host_*`:
/// `arch`, `distro`, `release`) and this one, said as warnings: the original's
/// scheduler picked a machine by them, a run here runs where it is.
pub fn host_mismatches(want: &[(String, String)], run_arch: &str) -> Vec<String> {
    let release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let field = |k: &str| {
        release.lines().find_map(|l| {
            let v = l.strip_prefix(k)?.strip_prefix('=')?;
            Some(v.trim_matches('"').to_string())
        })
    };
    let mut out = Vec::new();
    for (what, value) in want {
        let here = match what.as_str() {
            "arch" => Some(std::env::consts::ARCH.to_string()),
            "distro" => field("ID"),
            "release" => field("VERSION_ID"),
            _ => None,
        };
        let matches = here.as_deref() == Some(value.as_str())
            || (what == "arch" && value == run_arch && here.as_deref() == Some(run_arch));
        if !matches {
            out.push(format!(
                "the playbook asks for a host with {what} `{value}` (taskotron_match_host_{what}); this one has {}: it runs here all the same",
                here.map_or_else(|| "none".to_string(), |h| format!("`{h}`"))
            ));
        }
    }
    out
}
