//! `taskotron web`: the job pages, artifacts, API and metrics, on their own, reading
//! the state directory while workers run elsewhere.

use crate::wiring::Wiring;
use std::sync::{Arc, Mutex};

use taskotron_core::config::Config;
use taskotron_core::Diagnostic;
use taskotron_trigger::trigger::Tally;
use taskotron_web::{Bound, WebSettings};

use crate::cli::WebArgs;
use crate::error::{ExpectedError, Outcome};
use crate::exit;
use crate::output::{Shell, Tone};

/// What the server reads, from the configuration; the gating policies are read
/// now, so a bad policy file stops the server before it listens.
///
/// # Errors
/// A policy file that does not read.
pub fn settings(
    config: &Config,
    trigger: Option<Arc<Mutex<Tally>>>,
) -> Result<WebSettings, ExpectedError> {
    let gating = config.gating();
    let policies = taskotron_core::gating::load_policies(gating.policies.as_deref())
        .map_err(ExpectedError::InvalidInput)?;
    Ok(WebSettings {
        queue: config.queue_path(),
        artifacts: config.artifacts.clone(),
        spool: config.state_dir.join("spool/resultsdb"),
        results: config
            .state_dir
            .join(taskotron_core::resultsdb::local::FILE),
        trigger,
        gating: Some(taskotron_web::gating::Gating {
            settings: gating,
            policies,
        }),
    })
}

/// Binds `addr`; an address in use or malformed is invalid input.
///
/// # Errors
/// The address cannot be used.
pub fn bind(addr: &str, settings: WebSettings) -> Result<(Bound, String), ExpectedError> {
    let bound = taskotron_web::bind(addr, settings).map_err(|e| {
        ExpectedError::invalid(
            Diagnostic::error(e.to_string())
                .help("pass `--http HOST:PORT` with a free port, such as 127.0.0.1:8081"),
        )
    })?;
    let url = bound
        .local_addr()
        .map(|a| format!("http://{a}"))
        .unwrap_or_else(|_| format!("http://{addr}"));
    Ok((bound, url))
}

/// Serves until SIGINT or SIGTERM.
pub fn run(shell: &Shell, config: &Config, args: &WebArgs) -> Outcome {
    let (bound, url) = bind(&args.http, settings(config, None)?)?;
    shell.status(
        "Serving",
        &format!("{url}/ (jobs, /artifacts/, /api/v1/jobs, /metrics); read-only"),
        Tone::Good,
    );
    let stop = taskotron_core::process::StopOnSignal::start();
    bound
        .run(stop.shared())
        .map_err(|e| ExpectedError::failed(Diagnostic::error(e.to_string())))?;
    shell.status("Stopped", "the web server", Tone::Good);
    Ok(exit::OK)
}
