//! The port behind a rule's `dist_git_tests: true`: from a Koji build to the tmt plans
//! its own dist-git carries at the build's commit, per arch (a plan's `adjust` may
//! disable it on some arch). The trigger asks it once per message and makes one job
//! per plan and arch; `taskotron_core::dist_git_tests` is the real one (Koji, the mirror, the
//! fmf reader), tests hand the trigger a fixed answer. In the model because the
//! trigger asks it and the library implements it: neither depends on the other.

use crate::arch::Arch;
use crate::dict::TaskSource;

/// The plans of one build's dist-git.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistGitPlans {
    /// The package, which names the jobs' task (`dist-git:<package>`).
    pub package: String,
    /// The repository and the build's commit, which the jobs check out.
    pub source: TaskSource,
    /// Per arch asked for, the names of the plans enabled there (tmt's order).
    pub plans: Vec<(Arch, Vec<String>)>,
}

/// Why the plans of a build could not be found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FindError {
    /// Koji or the repository could not be reached: the message should come again.
    #[error("{0}")]
    Unavailable(String),
    /// The build has no dist-git tests to find (no source, no fmf tree, a tree that
    /// does not read): a warning, and no jobs.
    #[error("{0}")]
    Nothing(String),
}

/// Finds the plans a build's dist-git carries.
pub trait PlanFinder: Send {
    /// The plans of build `nvr` enabled on each of `arches`.
    ///
    /// # Errors
    /// See [`FindError`].
    fn find(&mut self, nvr: &str, arches: &[Arch]) -> Result<DistGitPlans, FindError>;
}

// A trigger holding a finder derives `Debug`; the finder is named, not shown.
impl std::fmt::Debug for dyn PlanFinder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlanFinder")
    }
}

/// The task name of a build's dist-git tests.
pub fn taskname(package: &str) -> String {
    format!("dist-git:{package}")
}
