//! `taskotron trigger`.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::time::SystemTime;

use serde_json::json;
use taskotron_core::config::Config;
use taskotron_core::trigger::{Message, Rules, Trigger};
use taskotron_core::Diagnostic;

use super::report_invalid;
use crate::cli::{Format, TriggerArgs};
use crate::exit;
use crate::output::{Shell, Tone};

/// Reads messages and prints the jobs the rules ask for.
pub fn run(shell: &Shell, config: &Config, args: &TriggerArgs) -> i32 {
    let rules = match std::fs::read_to_string(&args.rules) {
        Ok(text) => Rules::load(&text, &args.rules),
        Err(e) => Err(vec![Diagnostic::error(format!(
            "cannot read `{}`: {e}",
            args.rules.display()
        ))]),
    };
    let rules = match rules {
        Ok(r) => r,
        Err(d) => {
            report_invalid(shell, args.format, &d);
            return exit::INVALID_INPUT;
        }
    };
    if !args.dry_run {
        let d = Diagnostic::error("scheduling jobs is not available yet")
            .help("add `--dry-run` to print the jobs");
        report_invalid(shell, args.format, &[d]);
        return exit::INVALID_INPUT;
    }
    let input: Box<dyn BufRead> = if args.from == Path::new("-") {
        Box::new(io::stdin().lock())
    } else {
        match std::fs::File::open(&args.from) {
            Ok(f) => Box::new(BufReader::with_capacity(1 << 16, f)),
            Err(e) => {
                report_invalid(
                    shell,
                    args.format,
                    &[Diagnostic::error(format!(
                        "cannot read `{}`: {e}",
                        args.from.display()
                    ))],
                );
                return exit::INVALID_INPUT;
            }
        }
    };
    let mut trigger = Trigger::new(
        rules,
        config.supported_arches.clone(),
        config.trigger_window,
        config.blacklist_releases.clone(),
    );
    let mut out = io::BufWriter::new(io::stdout().lock());
    let (mut messages, mut jobs, mut duplicates) = (0u64, 0u64, 0u64);
    let mut ignored: BTreeMap<String, u64> = BTreeMap::new();
    for (number, line) in input.lines().enumerate() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        messages += 1;
        let message = match Message::parse(&line) {
            Ok(m) => m,
            Err(e) => {
                shell.diagnostics(&[Diagnostic::warning(format!(
                    "line {} skipped: {e}",
                    number + 1
                ))
                .in_file(&args.from)]);
                *ignored.entry("unreadable".into()).or_default() += 1;
                continue;
            }
        };
        let handled = trigger.handle(&message, SystemTime::now());
        shell.diagnostics(&handled.warnings);
        if let Some(why) = handled.ignored {
            *ignored.entry(why).or_default() += 1;
        }
        duplicates += handled.duplicates as u64;
        for job in handled.jobs {
            jobs += 1;
            let written = match args.format {
                Format::Json => writeln!(out, "{}", json!(job)),
                Format::Human => writeln!(
                    out,
                    "{} {} {} on {}",
                    job.taskname, job.item_type, job.item, job.arch
                ),
            };
            if written.is_err() {
                return exit::OK;
            }
        }
    }
    let _ = out.flush();
    let skipped: Vec<String> = ignored.iter().map(|(k, n)| format!("{n} {k}")).collect();
    shell.status(
        "Triggered",
        &format!(
            "{messages} messages: {jobs} jobs, {duplicates} duplicates dropped{}",
            if skipped.is_empty() {
                String::new()
            } else {
                format!("; ignored: {}", skipped.join(", "))
            }
        ),
        Tone::Good,
    );
    exit::OK
}
