//! `environment.rpm`: the packages (names, or file paths) a task says it needs,
//! looked up with `rpm -q --whatprovides` before the first action, so a missing
//! one stops the run with `RPM_MISSING` instead of failing half way through.
//!
//! Where `rpm` is absent, or manages no packages at all (`rpm` on a Debian host),
//! nothing can be looked up: the run says so once and goes on. A disposable
//! machine may install what is missing with `dnf install -y` (config
//! `install_rpms: dnf`).
//!
//! `rpm` and `dnf` run with taskotron's own environment, not the task's: they
//! ask the machine's package database (which `~/.rpmmacros` may move), as the
//! runner's own tools.

use std::ffi::OsString;

use crate::config::InstallRpms;
use crate::failure::{Cause, FailureKind};

/// A package `environment.rpm` names is not installed (and was not installed).
pub const RPM_MISSING: FailureKind = FailureKind::new("RPM_MISSING", Cause::Infrastructure);

/// What looking the packages up found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Every package is installed.
    Present,
    /// These are not (in the formula's order).
    Missing(Vec<String>),
    /// They could not be looked up; the reason, for a warning.
    Unchecked(String),
}

/// Looks `names` up with the `rpm` on `PATH`.
pub fn lookup(names: &[String]) -> Lookup {
    if !crate::process::on_path("rpm", &search_path()) {
        return Lookup::Unchecked(
            "`rpm` is not installed on this machine, so environment.rpm cannot be checked".into(),
        );
    }
    // An empty database (rpm on a non-RPM distribution) says nothing is installed,
    // which would refuse every task: that is "cannot check", not "missing".
    let any = crate::process::tool_output("rpm", &["-qa", "--queryformat", "x"]);
    match any {
        Ok(o) if o.status.success() && !o.stdout.is_empty() => {}
        Ok(_) => {
            return Lookup::Unchecked(
                "`rpm` manages no packages on this machine, so environment.rpm cannot be checked"
                    .into(),
            )
        }
        Err(e) => return Lookup::Unchecked(format!("cannot run `rpm`: {e}")),
    }
    let missing: Vec<String> = names
        .iter()
        .filter(|name| {
            !crate::process::tool_output("rpm", &["-q", "--whatprovides", "--", name.as_str()])
                .is_ok_and(|o| o.status.success())
        })
        .cloned()
        .collect();
    if missing.is_empty() {
        Lookup::Present
    } else {
        Lookup::Missing(missing)
    }
}

/// Installs `names` with `dnf install -y` when the config says so.
///
/// # Errors
/// Installing is not configured, `dnf` is absent, or it failed; the message says
/// which and names the packages.
pub fn install(names: &[String], how: InstallRpms) -> Result<(), String> {
    let list = names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match how {
        InstallRpms::No => Err(format!(
            "the task needs {list} (environment.rpm), not installed on this machine; install them, or set `install_rpms: dnf` on a disposable machine"
        )),
        InstallRpms::Dnf if !crate::process::on_path("dnf", &search_path()) => Err(format!(
            "the task needs {list} (environment.rpm) and `install_rpms: dnf` is set, but `dnf` is not installed"
        )),
        InstallRpms::Dnf => {
            let mut args = vec!["install", "-y", "--"];
            args.extend(names.iter().map(String::as_str));
            let o = crate::process::tool_output("dnf", &args)
                .map_err(|e| format!("cannot run `dnf`: {e}"))?;
            if o.status.success() {
                Ok(())
            } else {
                let err = String::from_utf8_lossy(&o.stderr);
                Err(format!(
                    "`dnf install -y` of {list} failed ({}): {}",
                    o.status,
                    err.lines().last().unwrap_or("")
                ))
            }
        }
    }
}

fn search_path() -> OsString {
    std::env::var_os("PATH").unwrap_or_default()
}
