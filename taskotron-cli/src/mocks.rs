//! The mock Koji, Bodhi and dist-git that `run --mock` and `taskotron test` start,
//! behind the default feature `mock`: a production build without it
//! (`--no-default-features --features amqp`) links no mock and says so when asked
//! for one.

use std::path::Path;

use taskotron_core::runner::RunOptions;
use taskotron_core::Diagnostic;

/// The running mocks.
#[cfg(feature = "mock")]
pub type Mocks = taskotron_mock::services::MockServices;

/// The running mocks (none in this build).
#[cfg(not(feature = "mock"))]
#[derive(Debug)]
pub enum Mocks {}

/// Starts the mocks of a fixture file, or empty ones.
///
/// # Errors
/// The fixture cannot be read or started: where and why.
#[cfg(feature = "mock")]
pub fn start(fixture: Option<&Path>) -> Result<Mocks, Box<Diagnostic>> {
    use taskotron_mock::services::{MockServices, ServicesFixture};
    let dict = match fixture {
        Some(path) => ServicesFixture::load(path).map_err(|e| Box::new(e.diagnostic()))?,
        None => ServicesFixture::default(),
    };
    MockServices::start(&dict).map_err(|e| Box::new(e.diagnostic()))
}

/// The JSON Schema of a mock fixture.
#[cfg(feature = "mock")]
pub const FIXTURE_SCHEMA: Option<&str> = Some(taskotron_mock::services::SCHEMA);

/// No fixtures in this build.
#[cfg(not(feature = "mock"))]
pub const FIXTURE_SCHEMA: Option<&str> = None;

/// This build has no mocks.
///
/// # Errors
/// Always: it was built without the `mock` feature.
#[cfg(not(feature = "mock"))]
pub fn start(_fixture: Option<&Path>) -> Result<Mocks, Box<Diagnostic>> {
    Err(Box::new(Diagnostic::error("this taskotron was built without mock services (the `mock` feature): `run --mock` and `taskotron test` need them")))
}

/// Points a run at the mocks and keeps its results from the real services: they
/// are written into the artifacts instead, and nothing is cached (the mocks' URLs
/// change with every start).
#[cfg(feature = "mock")]
pub fn apply(opts: &mut RunOptions, mocks: &Mocks) {
    opts.services = mocks.services(taskotron_core::directive::Services {
        cache_dir: None,
        ..opts.services.clone()
    });
    opts.reporting.resultsdb_url = None;
    opts.reporting.local = None;
    opts.reporting.bodhi_url = None;
    opts.reporting.mocked = true;
}

/// Nothing to point at in this build.
#[cfg(not(feature = "mock"))]
pub fn apply(_opts: &mut RunOptions, mocks: &Mocks) {
    match *mocks {}
}
