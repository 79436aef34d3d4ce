//! Taskotron's model: what the pipeline's components say to each other, and
//! nothing that does anything.
//!
//! Item types and arches, the four dictionaries of the seed (`TaskInput`,
//! `JobRequest`, `Job`, `ExecutionReport`), failure kinds and their causes, the
//! `${variable}` templates of formulas, durations as config writes them, and the
//! ports (clock, ids) a run takes from its surroundings. This crate is to taskotron
//! what nextest-metadata is to nextest: the stable contract that a worker and a
//! runner of different builds, a mock and a test, all share.
//!
//! **Invariant: no I/O.** Nothing here opens a file, a socket or a process; the
//! only outside state read is the system clock and random ids, behind the ports. It
//! stands on `taskotron-tap` (results, diagnostics, suggestions) and serde alone; a
//! tidy test (`tests/tests/invariants.rs`) fails when it grows another dependency
//! of the workspace or calls `std::fs`, `std::net` or `std::process`.

#![warn(missing_docs)]

pub mod arch;
pub mod dict;
pub mod dist_git;
pub mod duration;
pub mod failure;
pub mod isolation;
pub mod item;
pub mod ports;
pub mod redact;
pub mod remote;
pub mod taskenv;
pub mod template;
pub mod worker;

pub use arch::Arch;
pub use dict::{Dictionary, ExecutionReport, ExecutionStatus, Job, JobRequest, TaskInput};
pub use isolation::Isolation;
pub use item::ItemType;
pub use remote::SshTarget;
pub use worker::WorkerSpec;
