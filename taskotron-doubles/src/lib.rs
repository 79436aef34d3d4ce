//! Test doubles of taskotron's ports, each fed by a plain dictionary, so that any
//! component can run alone and reproducibly in a test (the seed's "isolate-able by
//! a simple mock object fed by dictionaries"): a clock that stands still, ids from a
//! list, an observer that records a run's events, and a scheduler that records the
//! jobs handed to it and can refuse or slow hand-offs.
//!
//! Only tests use this crate; the services `taskotron run --mock` starts are
//! `taskotron-mock`.

#![warn(missing_docs)]

mod clock;
mod ids;
mod recorder;
pub mod scheduler;

pub use clock::MockClock;
pub use ids::MockIds;
pub use recorder::Recorder;

use serde::Deserialize;
use taskotron_core::ports::Ports;

/// The dictionary that configures the mocks of one scenario.
///
/// ```yaml
/// now: 2026-01-01T00:00:00Z
/// run_ids: [run-1, run-2]
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MockPorts {
    /// What the clock says (RFC 3339); it stands still.
    pub now: String,
    /// Run ids handed out in order; afterwards `run-<n>`.
    #[serde(default)]
    pub run_ids: Vec<String>,
}

/// Mocks built from a [`MockPorts`] dictionary.
#[derive(Debug)]
pub struct World {
    /// The clock.
    pub clock: MockClock,
    /// The id source.
    pub ids: MockIds,
}

/// A dictionary that does not describe valid mocks.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// The YAML is invalid or has unknown keys.
    #[error("invalid mock dictionary: {0}")]
    Yaml(#[from] serde_norway::Error),
    /// The time is not RFC 3339.
    #[error("invalid mock time `{0}`: expected RFC 3339 such as 2026-01-01T00:00:00Z")]
    Time(String),
}

impl World {
    /// Builds the mocks from a dictionary.
    ///
    /// # Errors
    /// An unreadable time.
    pub fn new(ports: &MockPorts) -> Result<Self, MockError> {
        Ok(Self {
            clock: MockClock::at(&ports.now)?,
            ids: MockIds::new(ports.run_ids.clone()),
        })
    }

    /// Builds the mocks from YAML text.
    ///
    /// # Errors
    /// Invalid YAML, unknown keys or an unreadable time.
    pub fn from_yaml(text: &str) -> Result<Self, MockError> {
        Self::new(&serde_norway::from_str(text)?)
    }

    /// The mocks as the ports a run takes.
    pub fn ports(&self) -> Ports<'_> {
        Ports {
            clock: &self.clock,
            ids: &self.ids,
        }
    }
}
