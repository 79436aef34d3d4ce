//! The real [`PlanFinder`]: a build's dist-git tests found as Fedora CI finds them,
//! and per arch, which Fedora CI does not do. Koji's `getBuild` names the repository
//! and commit the build came from (`source`); the mirror fetches that repository (one
//! clone, then fetches, as for task repositories) and checks the commit out into a
//! scratch directory; the fmf reader lists the plans enabled under each arch's
//! context (the one a run of that job gets: `distro` from the dist tag, `arch`,
//! `trigger: build`).

use std::path::PathBuf;

use crate::arch::Arch;
use crate::dict::TaskSource;
use crate::directive::tmt::run_context;
use crate::koji::KojiClient;
use crate::mirror::{Mirror, MirrorError};
use taskotron_model::dist_git::{DistGitPlans, FindError, PlanFinder};

/// Finds plans through Koji and the mirror.
pub struct KojiPlanFinder {
    koji: KojiClient,
    mirror: Mirror,
    scratch: PathBuf,
}

impl KojiPlanFinder {
    /// A finder asking `koji`, fetching through `mirror`, checking out under `scratch`.
    pub fn new(koji: KojiClient, mirror: Mirror, scratch: PathBuf) -> Self {
        Self {
            koji,
            mirror,
            scratch,
        }
    }
}

/// The repository and commit of a Koji `source`: `git+URL#COMMIT` (`git+` and a `?…`
/// query before the `#` are Koji's decoration, not the URL's).
///
/// # Errors
/// A source that names no git commit.
pub fn parse_source(source: &str) -> Result<TaskSource, String> {
    let bare = source.strip_prefix("git+").unwrap_or(source);
    let Some((url, commit)) = bare.rsplit_once('#') else {
        return Err(format!(
            "source `{source}` names no commit (`git+URL#COMMIT`)"
        ));
    };
    let url = url.split_once('?').map_or(url, |(u, _)| u);
    if url.is_empty() || commit.is_empty() || commit.contains(char::is_whitespace) {
        return Err(format!(
            "source `{source}` names no commit (`git+URL#COMMIT`)"
        ));
    }
    Ok(TaskSource {
        repo: url.to_string(),
        git_ref: Some(commit.to_string()),
    })
}

impl PlanFinder for KojiPlanFinder {
    fn find(&mut self, nvr: &str, arches: &[Arch]) -> Result<DistGitPlans, FindError> {
        let build = match self.koji.lookup(nvr) {
            Ok(Some(b)) => b,
            Ok(None) => return Err(FindError::Nothing(format!("Koji has no build `{nvr}`"))),
            Err(e) => return Err(FindError::Unavailable(e.to_string())),
        };
        let Some(text) = build.source.as_deref() else {
            return Err(FindError::Nothing(format!(
                "Koji names no source for `{nvr}`"
            )));
        };
        let source = parse_source(text).map_err(FindError::Nothing)?;
        let commit = source.git_ref.as_deref();
        let dir = self
            .scratch
            .join(format!("{nvr}-{}", crate::resultsdb::new_group_id()));
        let unavailable = |e: MirrorError| FindError::Unavailable(e.to_string());
        self.mirror
            .update(&source.repo, false)
            .map_err(unavailable)?;
        let checked = match self.mirror.checkout(&source.repo, commit, &dir) {
            // A mirror fetched before the build was pushed: fetch once more.
            Err(MirrorError::UnknownRef { .. }) => {
                self.mirror
                    .update(&source.repo, true)
                    .map_err(unavailable)?;
                self.mirror.checkout(&source.repo, commit, &dir)
            }
            other => other,
        };
        let found = match checked {
            Ok(_) => plans_of(&dir, nvr, arches),
            Err(e @ MirrorError::UnknownRef { .. }) => Err(FindError::Nothing(e.to_string())),
            Err(e) => Err(unavailable(e)),
        };
        let _ = std::fs::remove_dir_all(&dir);
        Ok(DistGitPlans {
            package: build.name,
            source,
            plans: found?,
        })
    }
}

/// The plans of the checkout `dir` enabled on each arch.
fn plans_of(
    dir: &std::path::Path,
    nvr: &str,
    arches: &[Arch],
) -> Result<Vec<(Arch, Vec<String>)>, FindError> {
    if crate::format::fmf_task(dir).is_none() {
        return Err(FindError::Nothing(
            "its dist-git has no fmf tree (`.fmf/version`)".into(),
        ));
    }
    let render = |d: Vec<crate::Diagnostic>| {
        FindError::Nothing(crate::diagnostic::render_all(&d).trim_end().to_string())
    };
    let tree = taskotron_fmf::Tree::read(dir).map_err(render)?;
    let mut out = Vec::new();
    for arch in arches {
        let ctx = run_context(nvr, "koji_build", arch.as_str(), "").map_err(FindError::Nothing)?;
        let mut adjusted = tree.clone();
        adjusted
            .adjust(&ctx.clone().ignoring_case())
            .map_err(render)?;
        let names = taskotron_fmf::tmt::plans(&adjusted, &ctx)
            .into_iter()
            .filter(|p| p.get("enabled") != Some(&serde_json::Value::Bool(false)))
            .map(|p| p.name().to_string())
            .collect();
        out.push((*arch, names));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_koji_source_is_a_repository_and_a_commit() {
        let s = parse_source(
            "git+https://src.fedoraproject.org/rpms/grep.git#799f88f953393ea45f722b71669744948c12a422",
        )
        .unwrap();
        assert_eq!(s.repo, "https://src.fedoraproject.org/rpms/grep.git");
        assert_eq!(
            s.git_ref.as_deref(),
            Some("799f88f953393ea45f722b71669744948c12a422")
        );
        let q = parse_source("git+https://pkgs.example/rpms/x?#abc").unwrap();
        assert_eq!(q.repo, "https://pkgs.example/rpms/x");
        for bad in [
            "https://x/y.git",
            "git+#abc",
            "git+https://x#",
            "git+https://x#a b",
        ] {
            assert!(parse_source(bad).is_err(), "{bad}");
        }
    }
}
