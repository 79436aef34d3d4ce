//! `taskotron test`: prints, cargo-test style, what `testrun` finds and runs: each
//! task's test cases (`tests.yaml`) against the mock services.

use crate::wiring::Wiring;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use serde_json::json;
use taskotron_core::config::Config;
use taskotron_core::runner::{self, Quiet, RunOptions};
use taskotron_core::testrun::{self, CaseOutcome};
use taskotron_core::Diagnostic;

use super::print_json;
use crate::cli::{RunFormat, SchemaOf, TestArgs};
use crate::error::{ExpectedError, Outcome as ExitOutcome};
use crate::exit;
use crate::output::{Shell, Tone};

/// Finds the suites, runs every case, prints the results.
pub fn run(shell: &Shell, config: &Config, args: &TestArgs) -> ExitOutcome {
    match args.schema {
        Some(SchemaOf::Tests) => {
            outln!("{}", taskotron_core::tasktest::SCHEMA.trim_end());
            return Ok(exit::OK);
        }
        Some(SchemaOf::Fixture) => {
            let Some(schema) = crate::mocks::FIXTURE_SCHEMA else {
                return Err(ExpectedError::invalid(Diagnostic::error(
                    "this taskotron was built without mock services (the `mock` feature)",
                )));
            };
            outln!("{}", schema.trim_end());
            return Ok(exit::OK);
        }
        None => {}
    }
    let dirs = if args.tasks.is_empty() {
        testrun::discover(&config.task_path)
    } else {
        args.tasks.clone()
    };
    let found = testrun::load(&dirs).map_err(ExpectedError::InvalidInput)?;
    // A task named without a tests.yaml runs no case: said, and exit 4 when no
    // other task has one (README: "no test case was found").
    if !found.suites.is_empty() {
        for dir in &found.without {
            shell.diagnostics(&[Diagnostic::warning(format!(
                "{} has no {}; none of its cases runs",
                dir.display(),
                taskotron_core::tasktest::FILE
            ))]);
        }
    }
    let suites = &found.suites;
    let cases = testrun::plan(suites, args.filter.as_deref());
    if cases.is_empty() {
        let why = testrun::why_none(&dirs, &found, args.filter.as_deref());
        if args.format != RunFormat::Human {
            print_json(&json!({"tests": [], "passed": 0, "failed": 0, "error": why}));
        }
        shell.diagnostics(&[Diagnostic::error(format!("no test cases found: {why}"))
            .help("add cases to a task's tests.yaml (see `taskotron test --help`)")]);
        return Ok(exit::NO_TESTS);
    }
    let started = Instant::now();
    let human = args.format == RunFormat::Human;
    let jsonl = args.format == RunFormat::Jsonl;
    let base = config.run_options(
        runner::task_input("", taskotron_core::ItemType::KojiBuild, None),
        None,
    );
    let mut start = |fixture: Option<&Path>, opts: &mut RunOptions| {
        let mocks = crate::mocks::start(fixture).map_err(|d| d.to_string())?;
        crate::mocks::apply(opts, &mocks);
        Ok(Box::new(mocks) as Box<dyn std::any::Any>)
    };
    let mut out = std::io::stdout().lock();
    if human && !shell.quiet {
        let plural = if cases.len() == 1 { "" } else { "s" };
        let _ = writeln!(out, "\nrunning {} test{plural}", cases.len());
    }
    let mut outcomes = Vec::new();
    for planned in cases {
        let name = planned.name();
        if human && !shell.quiet {
            let _ = write!(out, "test {name} ... ");
            let _ = out.flush();
        }
        // With --verbose, each case's actions show their output as they run.
        let o = if shell.verbose {
            let mut progress = shell.run_progress(name, None);
            testrun::run_case(planned, &base, &mut start, &mut progress)
        } else {
            testrun::run_case(planned, &base, &mut start, &mut Quiet)
        };
        if jsonl {
            let _ = taskotron_core::results::writer::event(&mut out, "case", &o);
            let _ = out.flush();
        }
        if human && !shell.quiet {
            let _ = writeln!(out, "{}", if o.passed { "ok" } else { "FAILED" });
        }
        outcomes.push(o);
    }
    let failed: Vec<&CaseOutcome> = outcomes.iter().filter(|o| !o.passed).collect();
    let passed = outcomes.len() - failed.len();
    let seconds = started.elapsed().as_secs_f64();
    if human {
        if !failed.is_empty() {
            let _ = writeln!(out, "\nfailures:\n");
            for f in &failed {
                let _ = writeln!(out, "---- {} ----", f.name);
                for p in &f.problems {
                    let _ = writeln!(out, "{p}");
                }
                if let Some(a) = &f.artifacts {
                    let _ = writeln!(out, "artifacts: {}", a.display());
                }
                let _ = writeln!(out);
            }
            let _ = writeln!(out, "failures:");
            for f in &failed {
                let _ = writeln!(out, "    {}", f.name);
            }
        }
        let verdict = if failed.is_empty() { "ok" } else { "FAILED" };
        if !shell.quiet || !failed.is_empty() {
            let _ = writeln!(
                out,
                "\ntest result: {verdict}. {passed} passed; {} failed; finished in {seconds:.2}s\n",
                failed.len()
            );
        }
    } else if jsonl {
        let code = if failed.is_empty() {
            exit::OK
        } else {
            exit::RESULTS_FAILED
        };
        let _ = taskotron_core::results::writer::event(
            &mut out,
            "summary",
            &json!({"passed": passed, "failed": failed.len(), "duration_ms": started.elapsed().as_millis() as u64, "exit_code": code}),
        );
    } else {
        print_json(&json!({"tests": outcomes, "passed": passed, "failed": failed.len()}));
    }
    drop(out);
    if failed.is_empty() {
        shell.status(
            "Finished",
            &format!("{passed} tests passed in {seconds:.2}s"),
            Tone::Good,
        );
        Ok(exit::OK)
    } else {
        shell.status(
            "Finished",
            &format!("{} of {} tests failed", failed.len(), outcomes.len()),
            Tone::Bad,
        );
        Ok(exit::RESULTS_FAILED)
    }
}
