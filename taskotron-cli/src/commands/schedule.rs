//! `taskotron schedule`: jobs into the embedded queue, one per arch.

use crate::wiring::Wiring;
use std::time::SystemTime;

use taskotron_core::config::Config;
use taskotron_core::{Arch, Diagnostic, JobRequest};

use super::print_json;
use super::queue::{open_queue, queue_failed};
use crate::cli::{Format, ScheduleArgs};
use crate::error::{ExpectedError, Outcome};
use crate::exit;
use crate::output::{Shell, Tone};

/// `taskotron schedule`.
pub fn run(shell: &Shell, config: &Config, args: &ScheduleArgs) -> Outcome {
    if let Err(e) = args.item_type.validate(&args.item) {
        return Err(ExpectedError::invalid(Diagnostic::error(e.to_string())));
    }
    if let Err(why) = config.tasks().resolve(&args.taskname) {
        // A job for a task nobody has would only crash later, on a worker; a task
        // that only the workers' side has is said so on purpose.
        if !args.allow_unknown {
            return Err(ExpectedError::invalid(Diagnostic::error(why).help(
                "`--allow-unknown` queues it anyway, for a task only the workers' mirror has",
            )));
        }
        shell.diagnostics(&[Diagnostic::warning(why)]);
    }
    let mut queue = match open_queue(shell, config) {
        Ok(q) => q,
        Err(e) => return Err(queue_failed(&e)),
    };
    let arches = if args.arch.is_empty() {
        vec![Arch::Noarch]
    } else {
        args.arch.clone()
    };
    let requests: Vec<JobRequest> = arches
        .iter()
        .map(|arch| JobRequest {
            item: args.item.clone(),
            item_type: args.item_type,
            taskname: args.taskname.clone(),
            arch: *arch,
            source: None,
            plan: None,
        })
        .collect();
    let ids = match queue.enqueue(&requests, SystemTime::now()) {
        Ok(ids) => ids,
        Err(e) => return Err(queue_failed(&e)),
    };
    match args.format {
        Format::Json => {
            let jobs: Vec<_> = ids
                .iter()
                .filter_map(|id| queue.get(id).ok().flatten())
                .map(|j| taskotron_core::scheduler::JobView::of(&j))
                .collect();
            print_json(&serde_json::to_value(jobs).unwrap_or_default());
        }
        Format::Human => {
            for (id, r) in ids.iter().zip(&requests) {
                shell.status(
                    "Scheduled",
                    &format!("{} {id} on {}", r.taskname, r.arch),
                    Tone::Good,
                );
            }
        }
    }
    Ok(exit::OK)
}
