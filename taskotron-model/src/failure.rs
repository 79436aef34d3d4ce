//! A failure's name and whose problem it is: the stable contract a report carries
//! (`KOJI_UNKNOWN_BUILD`, cause `task`) and programs match on. Every module that
//! names a failure uses these; they depend on nothing. *Invariant: no I/O.*

/// Whose problem a failure is: the original sent task crashes to the task's
/// maintainer and infrastructure ones to the people running the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cause {
    /// The task or its input: a build Koji does not know, a check that crashed.
    Task,
    /// The machinery: a service down, a broken download, a tool not installed.
    Infrastructure,
}

impl Cause {
    /// The name a report writes: `task` or `infrastructure`.
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Task => "task",
            Cause::Infrastructure => "infrastructure",
        }
    }
}

/// A named failure: a stable name programs can match (`KOJI_UNKNOWN_BUILD`) and
/// its [`Cause`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FailureKind {
    /// The name, upper case with underscores.
    #[serde(rename = "kind")]
    pub name: &'static str,
    /// Whose problem it is.
    pub cause: Cause,
}

impl FailureKind {
    /// A kind.
    pub const fn new(name: &'static str, cause: Cause) -> Self {
        Self { name, cause }
    }

    /// A program the task needs is not installed on this machine.
    pub const TOOL_MISSING: Self = Self::new("TOOL_MISSING", Cause::Infrastructure);

    /// The runner refused a path the task gave or left: one outside the run's
    /// directories, or a symbolic link where the runner reads or writes a file.
    pub const PATH_REFUSED: Self = Self::new("PATH_REFUSED", Cause::Task);
}
