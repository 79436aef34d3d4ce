//! Taskotron's queue: the embedded SQLite job queue every worker claims from
//! (`scheduler`) and, for many machines, the Buildbot deployment that takes the
//! workers' place (`buildbot`).
//!
//! **Invariant: the queue knows what a job is, not how one runs.** It stands on the
//! model (the `JobRequest`/`Job` dictionaries, arches) and the process adapter
//! alone; the runner, the formats and the reporters are above it, so a change in
//! any of them never recompiles the queue. A tidy test
//! (`tests/tests/invariants.rs`) keeps the crate graph as ARCHITECTURE.md writes it.
//! Its I/O is its own database file and, for Buildbot, the master's HTTP API.

#![warn(missing_docs)]

pub mod buildbot;
pub mod scheduler;
