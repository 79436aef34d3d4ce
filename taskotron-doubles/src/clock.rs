//! A clock that stands still at a time from a dictionary.

use std::time::SystemTime;

use taskotron_core::ports::Clock;

use crate::MockError;

/// Always says the same time.
#[derive(Debug, Clone, Copy)]
pub struct MockClock {
    now: SystemTime,
}

impl MockClock {
    /// A clock stopped at `rfc3339`.
    ///
    /// # Errors
    /// The text is not RFC 3339.
    pub fn at(rfc3339: &str) -> Result<Self, MockError> {
        let now =
            humantime::parse_rfc3339(rfc3339).map_err(|_| MockError::Time(rfc3339.to_string()))?;
        Ok(Self { now })
    }
}

impl Clock for MockClock {
    fn now(&self) -> SystemTime {
        self.now
    }
}
