//! `taskotron run`.

use crate::wiring::Wiring;
use std::io::Write;
use std::path::Path;

use taskotron_core::config::Config;
use taskotron_core::formula::Formula;
use taskotron_core::ports::Ports;
use taskotron_core::runner::{self, RunOptions};
use taskotron_core::{Diagnostic, ExecutionReport, ExecutionStatus};

use super::print_json;
use crate::cli::{RunArgs, RunFormat};
use crate::error::{ExpectedError, Outcome};
use crate::exit;
use crate::output::{Shell, Tone};

/// How the end of a run is shown and handed on, the one thing `run` and `run-job`
/// choose differently.
pub struct Shown<'a> {
    /// What stdout gets.
    pub format: RunFormat,
    /// Exit 100 when the results fail.
    pub fail_on_results: bool,
    /// Print the results as ResultYAML instead.
    pub resultyaml: bool,
    /// Where the report file goes (a worker's job).
    pub report_file: Option<&'a Path>,
}

/// The formula of `task` (a path or a task's name), its warnings said.
pub fn load(shell: &Shell, config: &Config, task: &Path) -> Result<Formula, ExpectedError> {
    let tasks = config.tasks();
    let loaded = taskotron_core::load_named_task(task, |n| tasks.resolve(n))
        .map_err(ExpectedError::InvalidInput)?;
    shell.diagnostics(&loaded.warnings);
    Ok(loaded.formula)
}

/// Loads, checks and runs the task; prints the execution report.
pub fn run(shell: &Shell, config: &Config, args: &RunArgs) -> Outcome {
    let formula = load(shell, config, &args.task)?;
    let mocks = match &args.mock {
        None => None,
        Some(fixture) => match crate::mocks::start(Some(&fixture_path(
            &[args.task.as_path(), formula.taskdir()],
            fixture,
        ))) {
            Ok(m) => Some(m),
            Err(d) => return Err(ExpectedError::invalid(*d)),
        },
    };
    let mut opts = config.run_options(
        runner::task_input(&args.item, args.item_type, args.build_id.clone()),
        args.arch,
    );
    opts.overrides.clone_from(&args.overrides);
    // An fmf tree's plan and context travel as the variables its formula reads.
    if let Some(plan) = &args.plan {
        opts.overrides.push(("tmt_plan".into(), plan.clone()));
    }
    if !args.context.is_empty() {
        opts.overrides
            .push(("tmt_context".into(), args.context.join(";")));
    }
    opts.run_id.clone_from(&args.run_id);
    if let Some(isolation) = args.isolation {
        opts.isolation = isolation;
    }
    if let Some(dir) = &args.artifacts {
        opts.artifacts_root.clone_from(dir);
    }
    opts.remote = config.remote_for(args.ssh.clone(), args.ssh_privkey.clone(), args.local);
    if args.defer_reporting {
        opts.defer_reporting();
    }
    if let (Some(remote), Some(_)) = (&opts.remote, &args.mock) {
        return Err(ExpectedError::invalid(
            Diagnostic::error(format!(
                "`--mock` starts its services on this machine's loopback, which a run on {} cannot reach",
                remote.target
            ))
            .help("leave out `--ssh` (or run with `--local`) to try the task against the mocks"),
        ));
    }
    if let Some(m) = &mocks {
        shell.status(
            "Mocking",
            "Koji, Bodhi and dist-git on 127.0.0.1; reporting goes to the artifacts",
            Tone::Good,
        );
        crate::mocks::apply(&mut opts, m);
    }
    execute(
        shell,
        &formula,
        &opts,
        &Shown {
            format: args.format,
            fail_on_results: args.fail_on_results,
            resultyaml: args.resultyaml,
            report_file: args.report_file.as_deref(),
        },
    )
}

/// Runs `formula` with `opts`, says how it went and prints the report as `shown`
/// asks; `run` and `run-job` both end here.
pub fn execute(shell: &Shell, formula: &Formula, opts: &RunOptions, shown: &Shown<'_>) -> Outcome {
    let headline = format!(
        "{} for {} {} on {}",
        formula.checkname(),
        opts.input.item_type,
        opts.input.item,
        opts.arch.unwrap_or(taskotron_core::Arch::Noarch)
    );
    let events: Option<Box<dyn Write>> =
        (shown.format == RunFormat::Jsonl).then(|| Box::new(std::io::stdout()) as Box<dyn Write>);
    let mut progress = shell
        .run_progress(headline, events)
        .on_remote(opts.remote.as_ref().map(|r| r.target.to_string()));
    let report = runner::run(formula, opts, Ports::system(), &mut progress)
        .map_err(ExpectedError::InvalidInput)?;
    let code = exit::of_run(&report, shown.fail_on_results);
    let seconds = report.duration_ms as f64 / 1000.0;
    match report.execution_status {
        ExecutionStatus::Ok => {
            let outcome = report
                .outcome
                .map(|o| format!(", results {}", o.as_str()))
                .unwrap_or_default();
            let tone = match report.outcome {
                Some(o) if !o.is_success() => Tone::Bad,
                _ => Tone::Good,
            };
            shell.status("Finished", &format!("OK in {seconds:.2}s{outcome}"), tone);
        }
        ExecutionStatus::NotOk => {
            shell.status("Finished", &format!("NOT_OK in {seconds:.2}s"), Tone::Bad);
        }
    }
    // What changed since the previous build of the package, from the history.
    if let Some(r) = &report.regressions {
        let tone = if r.newly_failing.is_empty() {
            Tone::Good
        } else {
            Tone::Bad
        };
        shell.status("Compared", &r.summary(), tone);
        for t in &r.newly_failing {
            let flaky = report
                .flaky
                .iter()
                .find(|f| f.name == t.name && f.check == t.check)
                .map(|f| format!(", known flaky: {} flips", f.flips))
                .unwrap_or_default();
            shell.status(
                "Newly fails",
                &format!("{} ({}{flaky})", t.name, t.check),
                Tone::Bad,
            );
        }
    }
    // Tests that flip between runs of this item on this arch.
    for f in &report.flaky {
        shell.status(
            "Flaky",
            &format!(
                "{} ({}): {} flips in {} runs of this build",
                f.name, f.check, f.flips, f.runs
            ),
            Tone::Warn,
        );
    }
    // A NOT_OK run keeps its workdir, and so does one whose task asked to.
    let workdir = runner::workdir(opts, &report.run_id);
    if opts.remote.is_none() && workdir.is_dir() {
        shell.status(
            "Kept",
            &format!(
                "the workdir {} for a look (`taskotron gc` removes it)",
                workdir.display()
            ),
            Tone::Warn,
        );
    }
    if let Some(path) = shown.report_file {
        taskotron_core::handoff::write_report(path, &report, opts.deferred())
            .map_err(|e| ExpectedError::failed(Diagnostic::error(e.to_string())))?;
    }
    if shown.resultyaml {
        // The original runner's last words: the results, as ResultYAML.
        let text = taskotron_core::results::resultyaml::export(&report.results);
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
        return Ok(code);
    }
    match shown.format {
        RunFormat::Json => print_json(&serde_json::to_value(&report).unwrap_or_default()),
        RunFormat::Jsonl => progress.finish(&taskotron_core::runner::summary(&report, code)),
        RunFormat::Human if shell.quiet => {}
        RunFormat::Human => print_human(&report),
    }
    Ok(code)
}

/// The report as `key: value` lines, the seed's fields first.
fn print_human(report: &ExecutionReport) {
    let mut out = std::io::stdout().lock();
    let status = match report.execution_status {
        ExecutionStatus::Ok => "OK",
        ExecutionStatus::NotOk => "NOT_OK",
    };
    let _ = writeln!(out, "execution_status: {status}");
    match &report.status {
        Some(s) if s.contains('\n') => {
            let _ = writeln!(out, "status: |");
            for line in s.lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
        Some(s) => {
            let _ = writeln!(out, "status: {s}");
        }
        None => {
            let _ = writeln!(out, "status: null");
        }
    }
    let _ = writeln!(
        out,
        "build_id: {}",
        report.build_id.as_deref().unwrap_or("null")
    );
    let _ = writeln!(out, "run_id: {}", report.run_id);
    let _ = writeln!(out, "checkname: {}", report.checkname);
    let _ = writeln!(out, "item: {} ({})", report.item, report.item_type);
    let _ = writeln!(out, "arch: {}", report.arch);
    let _ = writeln!(out, "artifacts: {}", report.artifacts.display());
    if report.results.is_empty() {
        let _ = writeln!(out, "results: none");
        return;
    }
    let _ = writeln!(
        out,
        "results: {} (worst: {})",
        taskotron_core::results::summary(report.results.iter().map(|d| d.outcome)),
        report.outcome.map_or("none", |o| o.as_str())
    );
    for d in &report.results {
        let note = if d.note.is_empty() {
            String::new()
        } else {
            format!(" ({})", d.note)
        };
        let _ = writeln!(
            out,
            "  {:<16} {} {}{note}",
            d.outcome.as_str(),
            d.checkname.as_deref().unwrap_or(&report.checkname),
            d.item
        );
    }
}

/// Finds the fixture of `run --mock`: a path as typed (from the current
/// directory), else one in the task (see [`taskotron_core::testrun::case_fixture`]).
fn fixture_path(dirs: &[&std::path::Path], fixture: &std::path::Path) -> std::path::PathBuf {
    if fixture.is_file() {
        return fixture.to_path_buf();
    }
    // The directory given first (a dist-git checkout whose suites are in its
    // `tests/`), then the task's own.
    let found = dirs
        .iter()
        .filter(|d| d.is_dir())
        .map(|d| taskotron_core::testrun::case_fixture(d, fixture))
        .find(|p| p.is_file());
    found.unwrap_or_else(|| {
        taskotron_core::testrun::case_fixture(dirs.last().copied().unwrap_or(fixture), fixture)
    })
}
