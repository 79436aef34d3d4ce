//! Buildbot, for running jobs across many machines: `master_cfg` writes the master's
//! configuration from ours, and `client` is the scheduler adapter that submits jobs
//! through the force schedulers and follows them through the REST API.

pub mod client;
pub mod master_cfg;

pub use client::{BuildbotClient, BuildbotError, Finished};
pub use master_cfg::{render, MasterSettings, WorkerSpec};
