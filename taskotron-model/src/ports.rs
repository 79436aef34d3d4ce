//! Ports for the two things a run takes from its surroundings besides files and
//! processes: the time and fresh ids. Real adapters are here; `taskotron-mock` has
//! ones fed by dictionaries, which make runs reproducible in snapshot tests.

use std::time::SystemTime;

/// Tells the time.
pub trait Clock: Send + Sync {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;
}

/// Hands out ids for runs.
pub trait IdSource: Send + Sync {
    /// A fresh, unique run id.
    fn run_id(&self) -> String;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Random (v4) UUIDs.
#[derive(Debug, Default, Clone, Copy)]
pub struct UuidSource;

impl IdSource for UuidSource {
    fn run_id(&self) -> String {
        uuid::Uuid::new_v4().to_string()
    }
}

/// The ports a run uses, bundled.
#[derive(Clone, Copy)]
pub struct Ports<'a> {
    /// Where the time comes from.
    pub clock: &'a dyn Clock,
    /// Where run ids come from.
    pub ids: &'a dyn IdSource,
}

impl Ports<'static> {
    /// The real clock and random ids.
    pub fn system() -> Self {
        Ports {
            clock: &SystemClock,
            ids: &UuidSource,
        }
    }
}
