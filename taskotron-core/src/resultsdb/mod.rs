//! Reporting to ResultsDB (API v2.0): payloads from CheckDetails, log URLs from the
//! build id, a durable spool so that nothing accepted is lost, and an HTTP client
//! that retries without ever sending a result twice.

mod payload;
mod urls;

pub use payload::{
    format, DataValue, Group, PayloadError, ReportContext, ResultPayload, Testcase, RESULT_ID_KEY,
};
pub use urls::LogUrls;
