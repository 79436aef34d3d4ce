//! Buildbot, for running jobs across many machines: `master_cfg` writes the master's
//! configuration from ours. (The scheduler adapter that submits jobs through the
//! force schedulers and follows them through the REST API comes next.)

pub mod master_cfg;

pub use master_cfg::{render, MasterSettings, WorkerSpec};
