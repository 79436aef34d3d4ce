//! Which task repositories may report into which result namespace, as production
//! Taskotron decided it: a `namespaces.yaml` with `namespaces_safe` (any task may
//! post there; `scratch`) and `namespaces_whitelist` (namespace → the git origins,
//! by prefix, whose tasks may post there).
//!
//! Reading the file and the task's origin do I/O; [`Namespaces::check`] does none.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The rules of a `namespaces.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Namespaces {
    /// Namespaces any task may post into.
    #[serde(default = "safe_default")]
    pub namespaces_safe: Vec<String>,
    /// Namespace → origin prefixes of the repositories allowed to post into it.
    #[serde(default)]
    pub namespaces_whitelist: BTreeMap<String, Vec<String>>,
}

fn safe_default() -> Vec<String> {
    vec!["scratch".into()]
}

/// Why a result may not be posted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NamespaceError {
    /// The checkname's namespace is in neither list.
    #[error("no namespace `{namespace}` exists for `{checkname}` (known: {known}); results go to `scratch` or a whitelisted namespace")]
    Unknown {
        /// The result's checkname.
        checkname: String,
        /// Its first dotted part.
        namespace: String,
        /// The namespaces the file names.
        known: String,
    },
    /// The task's repository is not whitelisted for the namespace.
    #[error("the task repository `{origin}` is not allowed to post results into the `{namespace}` namespace (`{checkname}`); allowed origins: {allowed}")]
    NotAllowed {
        /// The result's checkname.
        checkname: String,
        /// The namespace.
        namespace: String,
        /// The task's `origin` remote.
        origin: String,
        /// The prefixes that would have been allowed.
        allowed: String,
    },
    /// The task is not in a git repository with an `origin` remote.
    #[error("`{checkname}` is in the `{namespace}` namespace, which only whitelisted task repositories may post into, and the task directory {} has no git remote `origin`", taskdir.display())]
    NoOrigin {
        /// The result's checkname.
        checkname: String,
        /// The namespace.
        namespace: String,
        /// The task directory.
        taskdir: PathBuf,
    },
}

impl Namespaces {
    /// Reads a `namespaces.yaml`.
    ///
    /// # Errors
    /// The file cannot be read, or is not the expected shape (with its position).
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read namespaces file `{}`: {e}", path.display()))?;
        serde_norway::from_str(&text)
            .map_err(|e| format!("namespaces file `{}`: {e}", path.display()))
    }

    /// Whether a task whose repository's origin is `origin` may post a result
    /// named `checkname` (namespace first, dot-separated).
    ///
    /// # Errors
    /// The [`NamespaceError`] saying why not.
    pub fn check(
        &self,
        checkname: &str,
        origin: Option<&str>,
        taskdir: &Path,
    ) -> Result<(), NamespaceError> {
        let within = |ns: &str| checkname.starts_with(&format!("{ns}."));
        if self.namespaces_safe.iter().any(|ns| within(ns)) {
            return Ok(());
        }
        let namespace = checkname.split('.').next().unwrap_or(checkname).to_string();
        let Some((ns, allowed)) = self
            .namespaces_whitelist
            .iter()
            .find(|(ns, _)| within(ns.as_str()))
        else {
            let known: Vec<&str> = self
                .namespaces_safe
                .iter()
                .chain(self.namespaces_whitelist.keys())
                .map(String::as_str)
                .collect();
            return Err(NamespaceError::Unknown {
                checkname: checkname.into(),
                namespace,
                known: known.join(", "),
            });
        };
        let Some(origin) = origin else {
            return Err(NamespaceError::NoOrigin {
                checkname: checkname.into(),
                namespace: ns.clone(),
                taskdir: taskdir.to_path_buf(),
            });
        };
        if allowed
            .iter()
            .any(|p| origin.trim().starts_with(p.as_str()))
        {
            Ok(())
        } else {
            Err(NamespaceError::NotAllowed {
                checkname: checkname.into(),
                namespace: ns.clone(),
                origin: origin.into(),
                allowed: if allowed.is_empty() {
                    "none".into()
                } else {
                    allowed.join(", ")
                },
            })
        }
    }
}

/// Checks every result name in `names` (each once) against the `namespaces.yaml`
/// at `path`, for the task in `taskdir`: the check before anything is reported.
///
/// # Errors
/// The file cannot be read ([`Refusal::Unreadable`]), or the
/// first name the task may not post ([`Refusal::Refused`]).
pub fn check_all<'a>(
    path: &Path,
    taskdir: &Path,
    names: impl IntoIterator<Item = &'a str>,
) -> Result<(), Refusal> {
    let rules = Namespaces::load(path).map_err(Refusal::Unreadable)?;
    let origin = task_origin(taskdir);
    let mut seen = std::collections::BTreeSet::new();
    for name in names {
        if seen.insert(name) {
            rules
                .check(name, origin.as_deref(), taskdir)
                .map_err(|e| Refusal::Refused(e.to_string()))?;
        }
    }
    Ok(())
}

/// A result in a namespace the task's repository may not post into.
pub const NAMESPACE_REFUSED: crate::failure::FailureKind =
    crate::failure::FailureKind::new("NAMESPACE_REFUSED", crate::failure::Cause::Task);

/// Why [`check_all`] refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The namespaces file cannot be used (the machine's problem).
    #[error("{0}")]
    Unreadable(String),
    /// A result is in a namespace the task may not post into (the task's).
    #[error("{0}")]
    Refused(String),
}

impl Refusal {
    /// The named failure a run stopped by it reports: [`NAMESPACE_REFUSED`] for a
    /// refused name; none for a file that cannot be used.
    pub fn kind(&self) -> Option<crate::failure::FailureKind> {
        match self {
            Refusal::Unreadable(_) => None,
            Refusal::Refused(_) => Some(NAMESPACE_REFUSED),
        }
    }
}

/// The URL of the `origin` remote of the git repository holding `taskdir`.
pub fn task_origin(taskdir: &Path) -> Option<String> {
    let repo = git2::Repository::discover(taskdir).ok()?;
    let remote = repo.find_remote("origin").ok()?;
    remote.url().ok().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Namespaces {
        serde_norway::from_str(
            "namespaces_safe: [scratch]\nnamespaces_whitelist:\n  dist:\n    - git@example.org:/mirror/fedoraqa/python-versions/\n  pkg:\n    - git://pkgs.fedoraproject.org/test-rpms/\n",
        )
        .unwrap()
    }

    #[test]
    fn scratch_is_always_allowed_and_others_by_origin_prefix() {
        let r = rules();
        let dir = Path::new("/t");
        assert_eq!(r.check("scratch.anything", None, dir), Ok(()));
        assert_eq!(
            r.check(
                "dist.python-versions.two_three",
                Some("git@example.org:/mirror/fedoraqa/python-versions/"),
                dir
            ),
            Ok(())
        );
        let e = r
            .check(
                "dist.rpmlint",
                Some("https://github.com/someone/rpmlint"),
                dir,
            )
            .unwrap_err();
        assert!(
            e.to_string().contains("`https://github.com/someone/rpmlint` is not allowed to post results into the `dist` namespace"),
            "{e}"
        );
        let e = r.check("dist.rpmlint", None, dir).unwrap_err();
        assert!(matches!(e, NamespaceError::NoOrigin { .. }), "{e}");
        let e = r.check("secret.x", Some("anything"), dir).unwrap_err();
        assert!(e.to_string().contains("no namespace `secret`"), "{e}");
        // `distro.x` is not in `dist`: the dot is part of the prefix.
        assert!(r
            .check(
                "distro.x",
                Some("git@example.org:/mirror/fedoraqa/python-versions/"),
                dir
            )
            .is_err());
    }
}
