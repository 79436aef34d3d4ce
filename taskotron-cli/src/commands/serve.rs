//! `taskotron serve`: the trigger, the embedded queue and local workers in one process,
//! for a single machine.

use std::sync::atomic::{AtomicBool, Ordering};

use taskotron_core::config::Config;
use taskotron_core::Diagnostic;

use super::trigger;
use super::worker::{default_name, executor, Pool};
use crate::cli::{ServeArgs, TriggerArgs};
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
) -> i32 {
    let executor = match executor(config, config_file) {
        Ok(e) => e,
        Err(why) => {
            shell.diagnostics(&[Diagnostic::error(why)]);
            return exit::NOT_OK;
        }
    };
    let tasks = config.tasks();
    let pool = Pool {
        name: default_name(),
        arches: if args.arch.is_empty() {
            config.supported_arches.clone()
        } else {
            args.arch.clone()
        },
        jobs: args.jobs,
        format: args.format,
    };
    let trigger_args = TriggerArgs {
        rules: args.rules.clone(),
        from: args.from.clone(),
        queue: args.queue.clone(),
        dry_run: false,
        format: args.format,
    };
    let drain = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let workers = scope.spawn(|| pool.run(shell, config, &executor, &tasks, &drain));
        let code = trigger::run(shell, config, &trigger_args);
        drain.store(true, Ordering::Relaxed);
        let failed = workers.join().unwrap_or(true);
        match (code, failed) {
            (exit::OK, false) => exit::OK,
            (exit::OK, true) => exit::NOT_OK,
            (other, _) => other,
        }
    })
}
