//! Run ids from a list, then numbered.

use std::collections::VecDeque;
use std::sync::Mutex;

use taskotron_core::ports::IdSource;

/// Hands out the given ids in order, then `run-<n>`.
#[derive(Debug)]
pub struct MockIds {
    state: Mutex<(VecDeque<String>, usize)>,
}

impl MockIds {
    /// Ids from `ids`, in order.
    pub fn new(ids: Vec<String>) -> Self {
        Self {
            state: Mutex::new((ids.into(), 0)),
        }
    }
}

impl IdSource for MockIds {
    fn run_id(&self) -> String {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.1 += 1;
        let n = state.1;
        state.0.pop_front().unwrap_or_else(|| format!("run-{n}"))
    }
}
