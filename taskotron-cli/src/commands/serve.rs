//! `taskotron serve`: the trigger, the embedded queue and local workers in one process,
//! for a single machine.

use std::sync::atomic::{AtomicBool, Ordering};

use taskotron_core::config::Config;

use std::sync::{Arc, Mutex};

use taskotron_core::process::StopOnSignal;
use taskotron_core::Diagnostic;
use taskotron_trigger::trigger::Tally;

use super::worker::Workers;
use super::{trigger, web};
use crate::cli::{ServeArgs, TriggerArgs};
use crate::error::Outcome;
use crate::exit;
use crate::output::{Shell, Tone};

/// Runs workers in threads while the trigger reads messages on this one. From a file
/// without `--http` the workers then drain the queue and stop; with `--http`, or
/// from a broker, everything runs until SIGINT or SIGTERM.
pub fn run(
    shell: &Shell,
    config: &Config,
    config_file: Option<&std::path::Path>,
    args: &ServeArgs,
) -> Outcome {
    let workers = Workers::prepare(
        shell,
        config,
        config_file,
        None,
        &args.arch,
        args.jobs,
        args.format.into(),
    )?;
    let trigger_args = TriggerArgs {
        rules: args.rules.clone(),
        from: args.from.clone(),
        queue: args.queue.clone(),
        dry_run: false,
        format: args.format,
    };
    // The web server binds first, so an address in use stops everything before a
    // message is read; its URL becomes the runs' default for artifact and job links.
    // The queue exists before the pages read it or a message is handled.
    let mut feed =
        super::queue::open_queue(shell, config).map_err(|e| super::queue::queue_failed(&e))?;
    // The CI messages feed starts before the first message is read, so that the
    // jobs this serve schedules are all announced.
    let announce = match &config.ci_messages_url {
        Some(uri) => {
            super::ci_messages::check_broker(uri)?;
            taskotron_core::ci_messages::Publisher::<taskotron_core::ci_messages::Fedora>::start(
                &mut feed,
            )
            .map_err(|e| super::queue::queue_failed(&e))?;
            Some(uri.clone())
        }
        None => None,
    };
    let tally = Arc::new(Mutex::new(Tally::default()));
    let web = match &args.http {
        None => None,
        Some(addr) => {
            let (bound, url) = web::bind(addr, web::settings(config, Some(Arc::clone(&tally)))?)?;
            shell.status(
                "Serving",
                &format!("{url}/ (jobs, artifacts, API, metrics)"),
                Tone::Good,
            );
            Some((bound, config.web_url.clone().unwrap_or(url)))
        }
    };
    let mut workers = workers;
    if let Some((_, url)) = &web {
        workers.set_env("TASKOTRON_WEB_URL", url);
    }
    let drain = AtomicBool::new(false);
    let stop_announcing = AtomicBool::new(false);
    let stop_web = StopOnSignal::start();
    std::thread::scope(|scope| {
        let serving = web.map(|(bound, _)| {
            let stop = stop_web.shared();
            scope.spawn(move || bound.run(stop))
        });
        let running = scope.spawn(|| workers.run(&drain));
        let announcing = announce.map(|uri| {
            let (stop, feed) = (&stop_announcing, &mut feed);
            scope.spawn(move || super::ci_messages::announce(shell, config, &uri, feed, stop))
        });
        let triggered = trigger::run_counting(shell, config, &trigger_args, Some(tally));
        // Without pages, a file's jobs are drained and `serve` ends. With them it is a
        // service: jobs scheduled afterwards (`taskotron schedule`) must still run,
        // so the workers live as long as the pages, until SIGINT or SIGTERM.
        if serving.is_none() {
            drain.store(true, Ordering::Relaxed);
        } else if taskotron_core::process::interrupted().is_none() {
            shell.status(
                "Serving",
                "the pages and running jobs until SIGINT or SIGTERM",
                Tone::Good,
            );
        }
        let failed = running.join().unwrap_or(true);
        // What the last jobs said is published before serve ends.
        stop_announcing.store(true, Ordering::Relaxed);
        if let Some(a) = announcing {
            let _ = a.join();
        }
        if let Some(serving) = serving {
            // The flag turns on at the signal; the server then finishes its requests.
            if let Ok(Err(e)) = serving.join() {
                shell.diagnostics(&[Diagnostic::error(e.to_string())]);
            }
        }
        drop(stop_web);
        match (triggered, failed) {
            (Ok(exit::OK), true) => Ok(exit::NOT_OK),
            (other, _) => other,
        }
    })
}
