//! Reporting to ResultsDB (API v2.0): payloads from CheckDetails, log URLs from the
//! build id, a durable spool so that nothing accepted is lost, and an HTTP client
//! that retries without ever sending a result twice.

pub mod client;
pub mod delivery;
pub mod identity;
pub mod local;
mod payload;
pub mod report;
mod reporter;
mod settings;
pub mod spool;
mod urls;

pub use client::{Auth, Client, SendError};
pub use delivery::{deliver, Policy};
pub use identity::Identity;
pub use payload::{
    format, DataValue, Group, PayloadError, ReportContext, ResultPayload, Testcase, RESULT_ID_KEY,
};
pub use reporter::{submit, Reporter};
pub use settings::Reporting;
pub use spool::{Entry, Spool};
pub use urls::LogUrls;

/// A fresh group id (UUID v4) for results that belong to no build.
pub fn new_group_id() -> String {
    crate::ports::IdSource::run_id(&crate::ports::UuidSource)
}
