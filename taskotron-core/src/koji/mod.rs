//! Koji, the build system: its XML-RPC hub (builds, their RPMs, tags) and its
//! package file server. [`KojiClient`] asks the hub; [`paths`] says where a build's
//! files are on the file server. Downloading is [`crate::download`]'s job.

mod client;
pub mod paths;
pub mod xmlrpc;

pub use client::{Build, KojiClient, Rpm, BUILD_COMPLETE};

/// What can go wrong talking to Koji.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KojiError {
    /// `getBuild` answered `<nil/>`.
    #[error("Koji does not know the build `{0}`")]
    UnknownBuild(String),
    /// The tag does not exist (Koji's `GenericError: No such tagInfo`).
    #[error("Koji has no tag `{0}`")]
    UnknownTag(String),
    /// The build exists but is not COMPLETE, so it has no files to download.
    #[error("build `{nvr}` is {state} in Koji, not COMPLETE")]
    NotComplete {
        /// The build.
        nvr: String,
        /// BUILDING, DELETED, FAILED or CANCELED.
        state: &'static str,
    },
    /// Any other fault the hub answered.
    #[error("Koji answered fault {code}: {message}")]
    Fault {
        /// `faultCode` (1000 GenericError, 1019 ParameterError, ...).
        code: i32,
        /// `faultString`.
        message: String,
    },
    /// The hub could not be reached or answered with an HTTP error.
    #[error("Koji at {url} is unreachable: {reason}")]
    Unreachable {
        /// The hub's URL.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The hub answered something other than the XML-RPC expected.
    #[error("Koji answered something unexpected: {0}")]
    Protocol(String),
}

impl KojiError {
    /// The failure's name in execution reports and whose problem it is: an item
    /// Koji does not know is the input's (task), anything else the infrastructure's.
    pub fn kind(&self) -> crate::failure::FailureKind {
        use crate::failure::{Cause, FailureKind};
        match self {
            Self::UnknownBuild(_) => FailureKind::new("KOJI_UNKNOWN_BUILD", Cause::Task),
            Self::UnknownTag(_) => FailureKind::new("KOJI_UNKNOWN_TAG", Cause::Task),
            Self::NotComplete { .. } => FailureKind::new("KOJI_BUILD_NOT_COMPLETE", Cause::Task),
            Self::Fault { .. } => FailureKind::new("KOJI_FAULT", Cause::Infrastructure),
            Self::Unreachable { .. } => FailureKind::new("KOJI_UNREACHABLE", Cause::Infrastructure),
            Self::Protocol(_) => FailureKind::new("KOJI_PROTOCOL", Cause::Infrastructure),
        }
    }
}
