//! `taskotron run`.

use std::io::Write;

use taskotron_core::config::Config;
use taskotron_core::ports::Ports;
use taskotron_core::runner::{self, RunOptions};
use taskotron_core::{ExecutionReport, ExecutionStatus};

use super::{print_json, report_invalid};
use crate::cli::{RunArgs, RunFormat};
use crate::exit;
use crate::output::{Shell, Tone};

/// Loads, checks and runs the task; prints the execution report.
pub fn run(shell: &Shell, config: &Config, args: &RunArgs) -> i32 {
    let format = args.format.document();
    let tasks = config.tasks();
    let loaded = match taskotron_core::load_named_task(&args.task, |n| tasks.resolve(n)) {
        Ok(l) => l,
        Err(diagnostics) => {
            report_invalid(shell, format, &diagnostics);
            return exit::INVALID_INPUT;
        }
    };
    shell.diagnostics(&loaded.warnings);
    let formula = loaded.formula;
    let mocks = match &args.mock {
        None => None,
        Some(fixture) => match start_mocks(formula.taskdir(), fixture) {
            Ok(m) => Some(m),
            Err(e) => {
                report_invalid(shell, format, &[taskotron_core::Diagnostic::error(e)]);
                return exit::INVALID_INPUT;
            }
        },
    };
    let mut opts = RunOptions {
        input: runner::task_input(&args.item, args.item_type, args.build_id.clone()),
        arch: args.arch,
        overrides: args.overrides.clone(),
        artifacts_root: args
            .artifacts
            .clone()
            .unwrap_or_else(|| config.artifacts.clone()),
        tmpdir: config.tmpdir.clone(),
        default_timeout: config.action_timeout,
        python: config.python.clone(),
        task_env: config.task_env.clone(),
        reporting: config.reporting(),
        services: config.services(),
        install_rpms: config.install_rpms,
    };
    if let Some(m) = &mocks {
        shell.status(
            "Mocking",
            "Koji, Bodhi and dist-git on 127.0.0.1; reporting goes to the artifacts",
            Tone::Good,
        );
        mock_options(&mut opts, m);
    }
    let headline = format!(
        "{} for {} {} on {}",
        formula.checkname(),
        args.item_type,
        args.item,
        args.arch.unwrap_or(taskotron_core::Arch::Noarch)
    );
    let events: Option<Box<dyn Write>> =
        (args.format == RunFormat::Jsonl).then(|| Box::new(std::io::stdout()) as Box<dyn Write>);
    let mut progress = shell.run_progress(headline, events);
    let report = match runner::run(&formula, &opts, Ports::system(), &mut progress) {
        Ok(r) => r,
        Err(diagnostics) => {
            report_invalid(shell, format, &diagnostics);
            return exit::INVALID_INPUT;
        }
    };
    let code = exit::of_run(&report, args.fail_on_results);
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
            shell.status("Finished", &format!("OK in {seconds:.2}s{outcome}"), tone)
        }
        ExecutionStatus::NotOk => {
            shell.status("Finished", &format!("NOT_OK in {seconds:.2}s"), Tone::Bad);
            let workdir = runner::workdir(&opts, &report.run_id);
            if workdir.is_dir() {
                shell.status(
                    "Kept",
                    &format!(
                        "the workdir {} for a look (`taskotron gc` removes it)",
                        workdir.display()
                    ),
                    Tone::Warn,
                );
            }
        }
    }
    if let Some(path) = &args.report_file {
        if let Err(e) = taskotron_core::handoff::write_report(path, &report) {
            shell.diagnostics(&[taskotron_core::Diagnostic::error(e.to_string())]);
            return exit::NOT_OK;
        }
    }
    if args.resultyaml {
        // The original runner's last words: the results, as ResultYAML.
        let text = taskotron_core::results::resultyaml::export(&report.results);
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
        return code;
    }
    match args.format {
        RunFormat::Json => print_json(&serde_json::to_value(&report).unwrap_or_default()),
        RunFormat::Jsonl => progress.finish(&taskotron_core::runner::summary(&report, code)),
        RunFormat::Human if shell.quiet => {}
        RunFormat::Human => print_human(&report),
    }
    code
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
/// directory), else one in the task (see [`case_fixture`]).
pub fn fixture_path(taskdir: &std::path::Path, fixture: &std::path::Path) -> std::path::PathBuf {
    if fixture.is_file() {
        return fixture.to_path_buf();
    }
    case_fixture(taskdir, fixture)
}

/// Finds a fixture named in the task itself (tests.yaml): relative to the task
/// directory, or `NAME` for `<taskdir>/fixtures/NAME.yaml`; never from the current
/// directory, so a case runs the same wherever `taskotron test` is started.
pub fn case_fixture(taskdir: &std::path::Path, fixture: &std::path::Path) -> std::path::PathBuf {
    let direct = taskdir.join(fixture);
    if direct.is_file() || fixture.is_absolute() {
        return direct;
    }
    let named = taskdir
        .join("fixtures")
        .join(fixture)
        .with_extension("yaml");
    if named.is_file() {
        named
    } else {
        direct
    }
}

/// Starts the mock services of a fixture.
///
/// # Errors
/// The fixture cannot be read or started, or this build has no mocks.
pub fn start_mocks(
    taskdir: &std::path::Path,
    fixture: &std::path::Path,
) -> Result<crate::mocks::Mocks, String> {
    crate::mocks::start(Some(&fixture_path(taskdir, fixture)))
}

/// Points a run at the mocks (see [`crate::mocks::apply`]).
pub fn mock_options(opts: &mut RunOptions, mocks: &crate::mocks::Mocks) {
    crate::mocks::apply(opts, mocks);
}
