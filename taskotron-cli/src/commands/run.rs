//! `taskotron run`.

use std::io::Write;

use taskotron_core::config::Config;
use taskotron_core::ports::Ports;
use taskotron_core::runner::{self, RunOptions};
use taskotron_core::{ExecutionReport, ExecutionStatus};

use super::{print_json, report_invalid};
use crate::cli::{Format, RunArgs};
use crate::exit;
use crate::output::{Shell, Tone};

/// Loads, checks and runs the task; prints the execution report.
pub fn run(shell: &Shell, config: &Config, args: &RunArgs) -> i32 {
    let loaded = match taskotron_core::load_task(&args.task) {
        Ok(l) => l,
        Err(diagnostics) => {
            report_invalid(shell, args.format, &diagnostics);
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
                report_invalid(
                    shell,
                    args.format,
                    &[taskotron_core::Diagnostic::error(e.to_string())],
                );
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
        reporting: taskotron_core::resultsdb::Reporting::from_config(config),
        services: config.services(),
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
    let mut progress = shell.run_progress(headline);
    let report = match runner::run(&formula, &opts, Ports::system(), &mut progress) {
        Ok(r) => r,
        Err(diagnostics) => {
            report_invalid(shell, args.format, &diagnostics);
            return exit::INVALID_INPUT;
        }
    };
    let seconds = report.duration_ms as f64 / 1000.0;
    match report.execution_status {
        ExecutionStatus::Ok => {
            shell.status("Finished", &format!("OK in {seconds:.2}s"), Tone::Good)
        }
        ExecutionStatus::NotOk => {
            shell.status("Finished", &format!("NOT_OK in {seconds:.2}s"), Tone::Bad)
        }
    }
    match args.format {
        Format::Json => print_json(&serde_json::to_value(&report).unwrap_or_default()),
        Format::Human => print_human(&report),
    }
    if report.is_ok() {
        report.exit_code.unwrap_or(exit::OK)
    } else {
        exit::NOT_OK
    }
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

/// Finds a mock fixture: a file, or `NAME` for `<taskdir>/fixtures/NAME.yaml`.
pub fn fixture_path(taskdir: &std::path::Path, fixture: &std::path::Path) -> std::path::PathBuf {
    if fixture.is_file() {
        return fixture.to_path_buf();
    }
    let named = taskdir
        .join("fixtures")
        .join(fixture)
        .with_extension("yaml");
    if named.is_file() {
        named
    } else {
        taskdir.join(fixture)
    }
}

/// Starts the mock services of a fixture.
pub fn start_mocks(
    taskdir: &std::path::Path,
    fixture: &std::path::Path,
) -> Result<taskotron_mock::services::MockServices, taskotron_mock::services::FixtureError> {
    let path = fixture_path(taskdir, fixture);
    let dict = taskotron_mock::services::ServicesFixture::load(&path)?;
    taskotron_mock::services::MockServices::start(&dict)
}

/// Points a run at the mocks and keeps its results from the real services: they
/// are written into the artifacts instead, and nothing is cached (the mocks' URLs
/// change with every start).
pub fn mock_options(opts: &mut RunOptions, mocks: &taskotron_mock::services::MockServices) {
    opts.services = mocks.services(taskotron_core::directive::Services {
        cache_dir: None,
        ..opts.services.clone()
    });
    opts.reporting.resultsdb_url = None;
    opts.reporting.bodhi_url = None;
}
