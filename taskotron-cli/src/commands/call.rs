//! `taskotron call`: one directive run alone, the protocol of
//! `taskotron_core::call` on stdin and stdout.

use crate::wiring::Wiring;
use std::io::Read;

use taskotron_core::call::{self, Setup};
use taskotron_core::config::Config;
use taskotron_core::diagnostic::Diagnostic;

use crate::cli::CallArgs;
use crate::error::{ExpectedError, Outcome};
use crate::exit;

/// Reads the request, runs the directive, prints its output on stderr and the
/// answer on stdout.
pub fn run(config: &Config, args: &CallArgs) -> Outcome {
    let invalid = |e: call::CallError| ExpectedError::invalid(Diagnostic::error(e.to_string()));
    let directive = call::find(&args.directive).map_err(invalid)?;
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).map_err(|e| {
        ExpectedError::invalid(Diagnostic::error(format!("cannot read the request: {e}")))
    })?;
    let request = call::parse_request(&text).map_err(invalid)?;
    let cwd = std::env::current_dir().map_err(|e| {
        ExpectedError::failed(Diagnostic::error(format!("no current directory: {e}")))
    })?;
    let setup = Setup {
        services: config.services(),
        reporting: config.reporting(),
        python: config.python.clone(),
        timeout: config.action_timeout,
    };
    let answered = call::call(
        directive,
        &request,
        &setup,
        &call::Place::of_request(&request, &cwd),
    );
    if !answered.output.is_empty() {
        errln!("{}", answered.output.trim_end());
    }
    outln!("{}", answered.answer);
    Ok(exit::OK)
}
