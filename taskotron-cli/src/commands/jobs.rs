//! `taskotron jobs`: the jobs of the embedded queue.

use std::io::Write;

use taskotron_core::config::Config;
use taskotron_core::scheduler::{JobView, Queue};

use super::print_json;
use super::queue::{line, queue_failed, waiting};
use crate::cli::{Format, JobsArgs};
use crate::error::Outcome;
use crate::exit;
use crate::output::{Shell, Tone};

/// `taskotron jobs`: reads the queue without changing it (a read-only state
/// directory is fine).
pub fn run(shell: &Shell, config: &Config, args: &JobsArgs) -> Outcome {
    let path = config.queue_path();
    let listed = if path.exists() {
        Queue::open_read_only(&path, waiting(shell, config)).and_then(|q| q.list(args.state))
    } else {
        Ok(Vec::new())
    };
    let jobs = match listed {
        Ok(jobs) => jobs,
        Err(e) => return Err(queue_failed(&e)),
    };
    match args.format {
        Format::Json => {
            let shown: Vec<JobView> = jobs.iter().map(JobView::of).collect();
            print_json(&serde_json::to_value(&shown).unwrap_or_default())
        }
        Format::Human if jobs.is_empty() => {
            let which = args
                .state
                .map_or(String::new(), |s| format!(" {}", s.as_str()));
            shell.status(
                "Empty",
                &format!("no{which} jobs in `{}`", path.display()),
                Tone::Good,
            );
        }
        Format::Human => {
            let mut out = std::io::stdout().lock();
            for job in &jobs {
                let _ = writeln!(out, "{}", line(job));
            }
        }
    }
    Ok(exit::OK)
}
