//! `taskotron test`: runs each task's test cases (`tests.yaml`) against the mock
//! services and prints cargo-test-style results.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::json;
use taskotron_core::config::Config;
use taskotron_core::ports::Ports;
use taskotron_core::runner::{self, Quiet, RunOptions};
use taskotron_core::tasktest::{Case, Suite};
use taskotron_core::Diagnostic;

use super::{print_json, report_invalid};
use crate::cli::{RunFormat, TestArgs};
use crate::exit;
use crate::output::{Shell, Tone};

struct Outcome {
    name: String,
    problems: Vec<String>,
    duration_ms: u64,
    artifacts: Option<PathBuf>,
}

/// Finds the suites, runs every case, prints the results.
pub fn run(shell: &Shell, config: &Config, args: &TestArgs) -> i32 {
    if args.schema {
        println!("{}", taskotron_core::tasktest::SCHEMA.trim_end());
        return exit::OK;
    }
    let dirs = if args.tasks.is_empty() {
        discover(&config.task_path)
    } else {
        args.tasks.clone()
    };
    let mut suites = Vec::new();
    let mut invalid = Vec::new();
    for dir in &dirs {
        match Suite::load(dir) {
            Ok(Some(s)) => suites.push((dir.clone(), s)),
            Ok(None) => invalid.push(
                Diagnostic::error(format!(
                    "{} has no {}",
                    dir.display(),
                    taskotron_core::tasktest::FILE
                ))
                .help("add test cases there; see `taskotron test --help`"),
            ),
            Err(d) => invalid.push(*d),
        }
    }
    if !invalid.is_empty() {
        report_invalid(shell, args.format.document(), &invalid);
        return exit::INVALID_INPUT;
    }
    let cases: Vec<(&Path, String, &Case)> = suites
        .iter()
        .flat_map(|(dir, s)| {
            let task = dir
                .canonicalize()
                .ok()
                .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| dir.display().to_string());
            s.cases
                .iter()
                .map(move |c| (dir.as_path(), format!("{task}::{}", c.name), c))
        })
        .filter(|(_, name, _)| args.filter.as_deref().is_none_or(|f| name.contains(f)))
        .collect();
    if cases.is_empty() {
        let why = if dirs.is_empty() {
            "no task with a tests.yaml on the task path".to_string()
        } else if let Some(f) = &args.filter {
            format!("no test case matches `--filter {f}`")
        } else {
            "the tests.yaml files hold no case".to_string()
        };
        if args.format != RunFormat::Human {
            print_json(&json!({"tests": [], "passed": 0, "failed": 0, "error": why}));
        }
        shell.diagnostics(&[Diagnostic::error(format!("no test cases found: {why}"))
            .help("add cases to a task's tests.yaml (see `taskotron test --help`)")]);
        return exit::NO_TESTS;
    }
    let started = Instant::now();
    let human = args.format == RunFormat::Human;
    let jsonl = args.format == RunFormat::Jsonl;
    let mut out = std::io::stdout().lock();
    if human && !shell.quiet {
        let plural = if cases.len() == 1 { "" } else { "s" };
        let _ = writeln!(out, "\nrunning {} test{plural}", cases.len());
    }
    let mut outcomes = Vec::new();
    for (dir, name, case) in cases {
        if human && !shell.quiet {
            let _ = write!(out, "test {name} ... ");
            let _ = out.flush();
        }
        let o = run_case(shell, config, dir, name, case);
        if jsonl {
            let _ = taskotron_core::results::writer::event(&mut out, "case", &case_json(&o));
            let _ = out.flush();
        }
        if human && !shell.quiet {
            let _ = writeln!(
                out,
                "{}",
                if o.problems.is_empty() {
                    "ok"
                } else {
                    "FAILED"
                }
            );
        }
        outcomes.push(o);
    }
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.problems.is_empty()).collect();
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
        let tests: Vec<_> = outcomes.iter().map(case_json).collect();
        print_json(&json!({"tests": tests, "passed": passed, "failed": failed.len()}));
    }
    drop(out);
    if failed.is_empty() {
        shell.status(
            "Finished",
            &format!("{passed} tests passed in {seconds:.2}s"),
            Tone::Good,
        );
        exit::OK
    } else {
        shell.status(
            "Finished",
            &format!("{} of {} tests failed", failed.len(), outcomes.len()),
            Tone::Bad,
        );
        exit::RESULTS_FAILED
    }
}

/// Task directories under `task_path` that have test cases.
fn discover(task_path: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = task_path
        .iter()
        .filter_map(|p| std::fs::read_dir(p).ok())
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join(taskotron_core::tasktest::FILE).is_file())
        .collect();
    dirs.sort();
    dirs
}

/// A finished case as JSON (the document's `tests` and the `case` event).
fn case_json(o: &Outcome) -> serde_json::Value {
    json!({
        "name": o.name,
        "passed": o.problems.is_empty(),
        "problems": o.problems,
        "duration_ms": o.duration_ms,
        "artifacts": o.artifacts,
    })
}

fn run_case(shell: &Shell, config: &Config, dir: &Path, name: String, case: &Case) -> Outcome {
    let started = Instant::now();
    let fail = |problem: String| Outcome {
        name: name.clone(),
        problems: vec![problem],
        duration_ms: started.elapsed().as_millis() as u64,
        artifacts: None,
    };
    let loaded = match taskotron_core::load_task(dir) {
        Ok(l) => l,
        Err(d) => return fail(taskotron_core::diagnostic::render_all(&d)),
    };
    let fixture = case.mock.clone().unwrap_or_default();
    let mocks_started = if case.mock.is_some() {
        super::run::start_mocks(dir, &super::run::case_fixture(dir, &fixture))
    } else {
        crate::mocks::start(None)
    };
    let mocks = match mocks_started {
        Ok(m) => m,
        Err(e) => return fail(e),
    };
    let mut opts = RunOptions {
        input: runner::task_input(&case.item, case.item_type, None),
        arch: case.arch,
        overrides: case
            .overrides
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        artifacts_root: config.artifacts.join("tests"),
        tmpdir: config.tmpdir.clone(),
        default_timeout: config.action_timeout,
        python: config.python.clone(),
        task_env: config.task_env.clone(),
        reporting: config.reporting(),
        services: config.services(),
        install_rpms: config.install_rpms,
    };
    super::run::mock_options(&mut opts, &mocks);
    // With --verbose, each case's actions show their output as they run.
    let ran = if shell.verbose {
        let mut progress = shell.run_progress(name.clone(), None);
        runner::run(&loaded.formula, &opts, Ports::system(), &mut progress)
    } else {
        runner::run(&loaded.formula, &opts, Ports::system(), &mut Quiet)
    };
    match ran {
        Ok(report) => Outcome {
            name,
            problems: case.expect.judge(&report),
            duration_ms: started.elapsed().as_millis() as u64,
            artifacts: Some(report.artifacts),
        },
        Err(d) => fail(taskotron_core::diagnostic::render_all(&d)),
    }
}
