//! Taskotron's test history: every run's results and test cases, keyed by task,
//! check, case, package, arch and item, kept in one SQLite store
//! (`<state_dir>/history.sqlite`), and what changed between two runs.
//!
//! *Invariant: this crate is the only one that opens the history store, and a
//! run is written in one transaction: a reader never sees half of one.* The
//! store is in WAL mode, so readers (the web, `taskotron history`) never wait
//! for a writer (a worker finishing a run) and a writer holds its lock only
//! for the inserts of one run. [`compare`] is pure: it compares two runs'
//! tests, wherever they came from. Waivers ([`Store::waive`]) live in the same
//! store and are never changed: a newer one stands over an older.

mod compare;
mod flaky;
pub mod sqlite;
mod store;
mod waivers;

pub use compare::{compare, compare_cases, failing};
pub use flaky::FlakyCase;
pub use store::{CaseRow, Entry, HistoryError, Query, ResultRow, Run, RunInfo, Store};
pub use waivers::WaiverFilter;
