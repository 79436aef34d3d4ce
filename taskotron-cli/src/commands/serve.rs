//! `taskotron serve`: the trigger, the embedded queue and local workers in one process,
//! for a single machine.

use std::sync::atomic::{AtomicBool, Ordering};

use taskotron_core::config::Config;

use super::trigger;
use super::worker::Workers;
use crate::cli::{ServeArgs, TriggerArgs};
use crate::error::Outcome;
use crate::exit;
use crate::output::Shell;

/// Runs workers in threads while the trigger reads messages on this one. From a file
/// the workers then drain the queue and stop; from a broker everything runs until
/// SIGINT or SIGTERM.
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
        args.format,
    )?;
    let trigger_args = TriggerArgs {
        rules: args.rules.clone(),
        from: args.from.clone(),
        queue: args.queue.clone(),
        dry_run: false,
        format: args.format,
    };
    let drain = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let running = scope.spawn(|| workers.run(&drain));
        let triggered = trigger::run(shell, config, &trigger_args);
        drain.store(true, Ordering::Relaxed);
        let failed = running.join().unwrap_or(true);
        match (triggered, failed) {
            (Ok(exit::OK), true) => Ok(exit::NOT_OK),
            (other, _) => other,
        }
    })
}
