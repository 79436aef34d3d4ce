//! The services `taskotron run --mock`, `taskotron test` and the test suites talk
//! to instead of Fedora's: a Koji hub and package server, a Bodhi, a dist-git file
//! server and a ResultsDB, each fed by a plain dictionary and answering like the real
//! one (recorded responses in `tests/data/`), with fault injection, on a small
//! HTTP/1.1 server of our own (`http`).
//!
//! The CLI links this crate only with its default feature `mock`. Test doubles that
//! no user runs (a clock that stands still, ids from a list, a recording observer
//! and scheduler) are `taskotron-doubles`, which only tests use.

#![warn(missing_docs)]

pub mod bodhi;
pub mod http;
pub mod koji;
pub mod resultsdb;
pub mod services;
