//! `taskotron schedule`: jobs into the embedded queue, one per arch.

use std::time::SystemTime;

use taskotron_core::config::Config;
use taskotron_core::{Arch, Diagnostic, JobRequest};

use super::queue::{open_queue, queue_failed};
use super::{print_json, report_invalid};
use crate::cli::{Format, ScheduleArgs};
use crate::exit;
use crate::output::{Shell, Tone};

/// `taskotron schedule`.
pub fn run(shell: &Shell, config: &Config, args: &ScheduleArgs) -> i32 {
    if let Err(e) = args.item_type.validate(&args.item) {
        report_invalid(shell, args.format, &[Diagnostic::error(e.to_string())]);
        return exit::INVALID_INPUT;
    }
    if let Err(why) = config.tasks().resolve(&args.taskname) {
        // Scheduling an unknown task is allowed (a worker elsewhere may have it), but
        // worth a word.
        shell.diagnostics(&[Diagnostic::warning(why)]);
    }
    let mut queue = match open_queue(shell, config) {
        Ok(q) => q,
        Err(e) => return queue_failed(shell, args.format, &e),
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
        })
        .collect();
    let ids = match queue.enqueue(&requests, SystemTime::now()) {
        Ok(ids) => ids,
        Err(e) => return queue_failed(shell, args.format, &e),
    };
    match args.format {
        Format::Json => {
            let jobs: Vec<_> = ids
                .iter()
                .filter_map(|id| queue.get(id).ok().flatten())
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
    exit::OK
}
