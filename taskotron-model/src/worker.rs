//! One worker of the Buildbot deployment as the configuration names it
//! (`buildbot_workers`): a name and the arch it runs. In the model because the
//! configuration reads it and Buildbot's settings carry it.

use serde::{Deserialize, Serialize};

use crate::Arch;

/// One Buildbot worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSpec {
    /// Its name (what `buildbot-worker create-worker` is given).
    pub name: String,
    /// The arch it runs.
    pub arch: Arch,
}
