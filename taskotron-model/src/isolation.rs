//! How a run's task processes are kept from the machine that runs them: `none` (they
//! run as the runner's user, seeing what it sees, with only the environment
//! allow-list between them) or `sandbox` (bubblewrap: their own mount, PID, IPC, UTS
//! and network namespaces, the host's `/usr` and the task read-only, only the run's
//! own directories writable, resource limits). The report records which a run had.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A run's isolation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Isolation {
    /// The task runs as the runner's user, with the runner's view of the machine
    /// (what a library caller gets unless it asks).
    #[default]
    None,
    /// The task runs in a bubblewrap sandbox.
    Sandbox,
}

impl Isolation {
    /// Every isolation, as the config and `--isolation` name them.
    pub const ALL: [Isolation; 2] = [Isolation::None, Isolation::Sandbox];

    /// The name in the config and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Isolation::None => "none",
            Isolation::Sandbox => "sandbox",
        }
    }
}

impl fmt::Display for Isolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Not an isolation's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an isolation; expected `none` or `sandbox`")]
pub struct IsolationError(pub String);

impl FromStr for Isolation {
    type Err = IsolationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Isolation::ALL
            .into_iter()
            .find(|i| i.as_str() == s)
            .ok_or_else(|| IsolationError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for i in Isolation::ALL {
            assert_eq!(i.as_str().parse::<Isolation>(), Ok(i));
            assert_eq!(serde_json::to_value(i).unwrap(), i.as_str());
        }
        assert!("bwrap"
            .parse::<Isolation>()
            .unwrap_err()
            .to_string()
            .contains("`none` or `sandbox`"));
    }
}
