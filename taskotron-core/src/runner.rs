//! The runner: executes a validated formula for one item on one arch and returns an
//! [`ExecutionReport`].
//!
//! Everything that can be checked is checked in [`prepare`] before anything runs
//! (item shape, declared inputs, every variable); [`run`] then creates the run's
//! artifacts directory (`<artifacts>/<run_id>/`), runs each action with its timeout,
//! writes each action's output and the run log there, and finally
//! `execution.json`. A failing action stops the run and makes it `NOT_OK`; the
//! actions after it are reported as skipped.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::arch::Arch;
use crate::diagnostic::Diagnostic;
use crate::dict::{ActionReport, ActionStatus, ExecutionReport, ExecutionStatus, TaskInput};
use crate::directive::{Context, Failure, Params, Shape};
use crate::formula::{self, Action, Defined, Formula, InputArg};
use crate::item::ItemType;
use crate::ports::Ports;
use crate::results::{resultyaml, Case, CheckDetail, Outcome};
use crate::template::{Scope, SubstError, Template};
use crate::yaml::{Node, NodeValue};
use taskotron_beneath::{Dir, Roots};

/// How long an action may run when neither the formula nor the config says.
pub const DEFAULT_ACTION_TIMEOUT: Duration = crate::config::defaults::ACTION_TIMEOUT;

/// The workdir inside a run's scratch directory.
const WORK_DIR: &str = "work";
/// `HOME` of a run's processes, beside the workdir (never in it: tasks scan it).
const HOME_DIR: &str = "home";
/// `TMPDIR` of a run's processes, beside the workdir.
const TMP_DIR: &str = "tmp";

/// Everything a run needs besides the formula.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The item, its type and the build id: the runner's [`TaskInput`].
    pub input: TaskInput,
    /// The arch given on the command line; `noarch` is used when absent.
    pub arch: Option<Arch>,
    /// `--override` pairs; they win over every other variable.
    pub overrides: Vec<(String, String)>,
    /// Where run directories are created.
    pub artifacts_root: PathBuf,
    /// Where run scratch directories (`workdir`) are created.
    pub tmpdir: PathBuf,
    /// Timeout for actions that set none.
    pub default_timeout: Duration,
    /// Python interpreter for the `python` directive.
    pub python: String,
    /// What of the caller's environment tasks may see besides the allow-list (the
    /// config's `task_env`).
    pub task_env: Vec<crate::taskenv::Pattern>,
    /// Where and how the `resultsdb` directive reports.
    pub reporting: crate::resultsdb::Reporting,
    /// Where the download directives fetch from.
    pub services: crate::directive::Services,
    /// Whether missing `environment.rpm` packages are installed (`dnf`) or stop
    /// the run.
    pub install_rpms: crate::config::InstallRpms,
    /// The run id, when the caller chose it (a worker records it in the queue before
    /// the run starts); a new UUID otherwise. It names the run's directories, so it
    /// must be a plain name.
    pub run_id: Option<String>,
    /// How the task's processes are isolated.
    pub isolation: crate::Isolation,
    /// How a sandbox is made and limited (`isolation: sandbox`), and whether a
    /// formula may have network.
    pub sandbox: crate::sandbox::SandboxSettings,
    /// The machine the run goes to over SSH; `None`: this one.
    pub remote: Option<crate::remote::Remote>,
}

impl RunOptions {
    /// Makes the run's `resultsdb` and `bodhi_comment` actions defer what they
    /// would send (a remote run's `run-job`); [`RunOptions::deferred`] takes it.
    pub fn defer_reporting(&mut self) {
        self.reporting.deferred = Some(crate::deferred::Collector::default());
    }

    /// What the run deferred, when it defers.
    pub fn deferred(&self) -> Option<crate::deferred::Deferred> {
        self.reporting
            .deferred
            .as_ref()
            .map(crate::deferred::Collector::take)
    }
}

/// What a run tells its observer as it goes, for status lines and progress bars.
#[derive(Debug)]
pub enum Event<'a> {
    /// The run has its id and directory; actions are about to start.
    Started {
        /// The run id.
        run_id: &'a str,
        /// The run's artifacts directory.
        artifacts: &'a Path,
    },
    /// An action starts.
    ActionStarted {
        /// 0-based position.
        index: usize,
        /// How many actions the formula has.
        total: usize,
        /// The action.
        action: &'a Action,
        /// Its standard output and standard error files, which its processes write
        /// as they run: read them through these handles, never by name (a task may
        /// put a link in their place). `None` when they could not be made.
        output: Option<[&'a File; 2]>,
    },
    /// A test of an action's results was read (after the action ended, in the
    /// order of its stream).
    Test {
        /// 0-based position of the action.
        index: usize,
        /// The action.
        action: &'a Action,
        /// The test, its suite filled in.
        case: &'a Case,
    },
    /// An action gave results.
    Results {
        /// 0-based position of the action.
        index: usize,
        /// The results it added, checknames filled in.
        results: &'a [CheckDetail],
    },
    /// Something the user should know that does not stop the run (said once).
    Warning {
        /// What.
        message: &'a str,
    },
    /// A status line of a run on a remote machine, as it printed it (the remote
    /// runner's own events stay there; its report comes back at the end).
    Remote {
        /// The line, without its end.
        line: &'a str,
    },
    /// An action ended (or was skipped).
    ActionFinished {
        /// 0-based position.
        index: usize,
        /// How many actions the formula has.
        total: usize,
        /// How it went.
        report: &'a ActionReport,
        /// The name and cause of its failure, when it failed with one.
        failure: Option<&'a crate::dict::NamedFailure>,
    },
}

/// Receives [`Event`]s; the CLI draws them, tests record them.
pub trait Observer {
    /// Called for each event, in order.
    fn event(&mut self, event: Event<'_>);
}

/// An observer that ignores everything.
#[derive(Debug, Default)]
pub struct Quiet;

impl Observer for Quiet {
    fn event(&mut self, _: Event<'_>) {}
}

/// Checks that `opts` can run `formula`: the item fits its type, every declared
/// input is supplied, overrides are valid names and every variable is defined.
///
/// # Errors
/// Every problem found; nothing has run.
pub fn prepare(formula: &Formula, opts: &RunOptions) -> Result<(), Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let input = &opts.input;
    if let Err(e) = input.item_type.validate(&input.item) {
        errors.push(Diagnostic::error(e.to_string()).expected(format!(
            "a {} such as `{}`",
            input.item_type,
            input.item_type.example()
        )));
    }
    if let Err(reason) = crate::dict::check_build_id(input.build_id.as_deref()) {
        errors.push(
            Diagnostic::error(reason)
                .expected("an id such as a UUID, or no `--build-id` for a standalone run"),
        );
    }
    if let Some(id) = opts.run_id.as_deref().filter(|id| !is_run_id(id)) {
        errors.push(
            Diagnostic::error(format!("`{id}` is not a run id")).expected(
                "letters, digits, `-`, `_` and `.` (a directory name under the artifacts)",
            ),
        );
    }
    for arg in &formula.input_args {
        match arg {
            InputArg::Item(t) if *t != input.item_type => errors.push(
                Diagnostic::error(format!(
                    "task `{}` needs a {t} as input, but the run is for a {}",
                    formula.name, input.item_type
                ))
                .in_file(&formula.file)
                .help(format!("run it with `--type {t} --item {}`", t.example())),
            ),
            InputArg::Arch if opts.arch.is_none() => errors.push(
                Diagnostic::error(format!("task `{}` needs an arch as input", formula.name))
                    .in_file(&formula.file)
                    .help("add `--arch x86_64` (or another arch)"),
            ),
            _ => {}
        }
    }
    for (name, _) in &opts.overrides {
        if !formula::BUILTINS.contains(&name.as_str()) && !crate::template::is_variable_name(name) {
            errors.push(
                Diagnostic::error(format!("`--override {name}=...` does not name a variable"))
                    .expected("NAME=VALUE, NAME made of letters, digits and `_`"),
            );
        }
    }
    let defined = Defined::for_run(
        input.item_type,
        opts.overrides.iter().map(|(k, _)| k.as_str()),
    );
    // With the wrong item type, every use of the declared item variable is undefined;
    // the input error above already says why, once.
    let declared: Vec<&str> = formula
        .input_args
        .iter()
        .filter_map(|a| match a {
            InputArg::Item(t) if *t != input.item_type => Some(t.as_str()),
            _ => None,
        })
        .collect();
    errors.extend(
        formula::check_variables(formula, &defined)
            .into_iter()
            .filter(|d| {
                !declared
                    .iter()
                    .any(|t| d.message == format!("undefined variable `{t}`"))
            }),
    );
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The programs `environment.tools` names that are not on the run's `PATH`.
fn missing_tools(formula: &Formula, env: &[(String, String)]) -> Vec<String> {
    let tools = formula
        .environment
        .as_ref()
        .and_then(|e| e.get("tools"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let path = run_path(env);
    tools
        .iter()
        .filter_map(Value::as_str)
        .filter(|t| !crate::process::on_path(t, &path))
        .map(str::to_string)
        .collect()
}

/// Marks the run NOT_OK with a named failure found before any action ran.
fn stop_before_actions(
    report: &mut ExecutionReport,
    log: &mut RunLog,
    kind: crate::directive::FailureKind,
    why: String,
) {
    log.line(&why);
    report.execution_status = ExecutionStatus::NotOk;
    report.status = Some(why);
    report.failure = Some(crate::dict::NamedFailure {
        kind: kind.name.into(),
        cause: kind.cause,
    });
}

/// Looks the formula's `environment.rpm` up (and installs what is missing when
/// the config says so); a warning when it cannot be looked up.
fn check_rpms(
    formula: &Formula,
    opts: &RunOptions,
    log: &mut RunLog,
    observer: &mut dyn Observer,
) -> Result<(), String> {
    use crate::rpmenv::{install, lookup, Lookup};
    let names: Vec<String> = formula
        .environment
        .as_ref()
        .and_then(|e| e.get("rpm"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if names.is_empty() {
        return Ok(());
    }
    match lookup(&names) {
        Lookup::Present => Ok(()),
        Lookup::Unchecked(why) => {
            let message = format!(
                "{why}; going on without {}",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            log.line(&format!("warning: {message}"));
            observer.event(Event::Warning { message: &message });
            Ok(())
        }
        Lookup::Missing(missing) => {
            install(&missing, opts.install_rpms)?;
            match lookup(&missing) {
                Lookup::Missing(still) => Err(format!(
                    "`dnf install -y` ran, and still missing: {}",
                    still.join(", ")
                )),
                _ => {
                    log.line(&format!("installed {} with dnf", missing.join(", ")));
                    Ok(())
                }
            }
        }
    }
}

/// The run's `PATH`, or the caller's.
fn run_path(env: &[(String, String)]) -> std::ffi::OsString {
    env.iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| std::ffi::OsString::from(v))
        .or_else(|| std::env::var_os("PATH"))
        .unwrap_or_default()
}

/// A formula asks for network inside the sandbox where the config forbids it.
pub const NETWORK_FORBIDDEN: crate::directive::FailureKind =
    crate::directive::FailureKind::new("NETWORK_FORBIDDEN", crate::failure::Cause::Task);

/// Whether the formula says `environment.network: true`.
fn wants_network(formula: &Formula) -> bool {
    formula
        .environment
        .as_ref()
        .and_then(|e| e.get("network"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// Whether `id` can name a run's directory: a plain name, neither `.` nor `..`.
fn is_run_id(id: &str) -> bool {
    !id.is_empty()
        && id != "."
        && id != ".."
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// The report of run `run_id` of `formula` as it starts (OK, nothing done yet), its
/// artifacts in `run_dir`: what a local and a remote run both begin with.
pub(crate) fn starting_report(
    formula: &Formula,
    opts: &RunOptions,
    run_id: &str,
    run_dir: &Path,
    ports: Ports<'_>,
) -> ExecutionReport {
    ExecutionReport {
        execution_status: ExecutionStatus::Ok,
        status: None,
        build_id: opts.input.build_id.clone(),
        run_id: run_id.to_string(),
        item: opts.input.item.clone(),
        item_type: opts.input.item_type,
        arch: opts.arch.unwrap_or(Arch::Noarch),
        checkname: formula.checkname(),
        artifacts: absolute(run_dir),
        started_at: humantime::format_rfc3339_millis(ports.clock.now()).to_string(),
        duration_ms: 0,
        actions: Vec::new(),
        outcome: None,
        results: Vec::new(),
        exit_code: None,
        task_commit: None,
        failure: None,
        isolation: Some(opts.isolation),
        remote: opts.remote.as_ref().map(|r| r.target.to_string()),
        regressions: None,
        flaky: Vec::new(),
    }
}

/// Runs `formula` as `opts` say, telling `observer` how it goes.
///
/// # Errors
/// Returns the diagnostics of [`prepare`] when the run cannot start; once it has
/// started, every failure is reported in the `NOT_OK` report instead.
pub fn run(
    formula: &Formula,
    opts: &RunOptions,
    ports: Ports<'_>,
    observer: &mut dyn Observer,
) -> Result<ExecutionReport, Vec<Diagnostic>> {
    prepare(formula, opts)?;
    if let Some(remote) = &opts.remote {
        return Ok(crate::remote::run(formula, opts, remote, ports, observer));
    }
    let started = Instant::now();
    let run_id = opts.run_id.clone().unwrap_or_else(|| ports.ids.run_id());
    let arch = opts.arch.unwrap_or(Arch::Noarch);
    let run_dir = opts.artifacts_root.join(&run_id);
    // Absolute: `${workdir}` is handed to the task, and a path it gives back is
    // matched against it (see `Roots::locate`).
    let workdir = absolute(&workdir(opts, &run_id));
    let mut report = starting_report(formula, opts, &run_id, &run_dir, ports);
    if let Err(why) = crate::private_dir::ensure(&opts.tmpdir) {
        report.execution_status = ExecutionStatus::NotOk;
        report.status = Some(why);
        report.duration_ms = millis(started.elapsed());
        return Ok(report);
    }
    for dir in [
        run_dir.join("actions"),
        workdir.clone(),
        scratch(opts, &run_id).join(HOME_DIR),
        scratch(opts, &run_id).join(TMP_DIR),
    ] {
        if let Err(e) = std::fs::create_dir_all(&dir) {
            report.execution_status = ExecutionStatus::NotOk;
            report.status = Some(format!("cannot create `{}`: {e}", dir.display()));
            report.duration_ms = millis(started.elapsed());
            return Ok(report);
        }
    }
    // Every file the runner reads or writes for the task is opened beneath these,
    // following no link the task may leave: the task can write in all three.
    let taskdir = absolute(formula.taskdir());
    let opened = (|| {
        let run = Dir::open(&report.artifacts)?;
        let roots = Roots::new(vec![
            ("the task directory", Dir::open(&taskdir)?),
            ("the workdir", Dir::open(&workdir)?),
            ("the artifacts directory", run.try_clone()?),
        ]);
        Ok::<_, taskotron_beneath::Error>((run, std::sync::Arc::new(roots)))
    })();
    let (run, roots) = match opened {
        Ok(o) => o,
        Err(e) => {
            report.execution_status = ExecutionStatus::NotOk;
            report.status = Some(format!("cannot open the run's directories: {e}"));
            report.duration_ms = millis(started.elapsed());
            return Ok(report);
        }
    };
    let mut log = RunLog::open(Some(&run), ports);
    log.line(&format!(
        "run {run_id}: {} for {} {} on {arch} (build id {})",
        formula.checkname(),
        opts.input.item_type,
        opts.input.item,
        opts.input.build_id.as_deref().unwrap_or("none, standalone")
    ));
    observer.event(Event::Started {
        run_id: &run_id,
        artifacts: &report.artifacts,
    });

    let mut setting = Setting {
        formula,
        opts,
        arch,
        run_id: &run_id,
        workdir: &workdir,
        artifactsdir: &report.artifacts.clone(),
        taskdir: &taskdir,
        run: &run,
        roots: &roots,
        sandbox: None,
    };
    let mut scope = setting.scope();
    let env = setting.environment();
    let network = wants_network(formula);
    // Checked before anything runs: a run whose isolation cannot be had does not
    // start unisolated.
    let mut stop: Option<(crate::directive::FailureKind, String)> = None;
    if network && !opts.sandbox.allow_network {
        let kind = NETWORK_FORBIDDEN;
        stop = Some((kind, format!(
            "{}: the task asks for network (`environment.network: true` in {}), which this machine's config forbids (`allow_network: false`)",
            kind.name,
            formula.file.display()
        )));
    } else if opts.isolation == crate::Isolation::Sandbox {
        let scratch_dir = absolute(&scratch(opts, &run_id));
        let paths = crate::sandbox::RunPaths {
            run_id: &run_id,
            task: setting.taskdir,
            writable: &[scratch_dir.as_path(), report.artifacts.as_path()],
            network,
        };
        match crate::sandbox::Sandbox::new(&opts.sandbox, &paths, &run_path(&env)) {
            Ok(sandbox) => setting.sandbox = Some(std::sync::Arc::new(sandbox)),
            Err(e) => {
                let kind = e.kind();
                stop = Some((kind, format!("{}: {e}", kind.name)));
            }
        }
    }
    log.line(&format!(
        "isolation: {}{}",
        opts.isolation,
        if network { ", with network" } else { "" }
    ));
    let total = formula.actions.len();
    let mut failed = false;
    // A task may ask to keep its workdir for a look (a playbook's keepalive).
    let mut keep_scratch = false;
    // Every test case of the run and the builds it stands for, for its history.
    let mut so_far = crate::history::SoFar::default();
    let checkname = formula.checkname();
    // The tests each action's page section lists.
    let mut pages: Vec<(usize, stream::Listed)> = Vec::new();
    // Every action's tests, as they are read, for results.junit.xml.
    let mut junit = match crate::results::junit::JunitWriter::new(&formula.checkname()) {
        Ok(j) => j,
        Err(e) => {
            report.execution_status = ExecutionStatus::NotOk;
            report.status = Some(format!("cannot create a temporary file: {e}"));
            report.duration_ms = millis(started.elapsed());
            return Ok(report);
        }
    };
    if let Some((kind, why)) = stop {
        stop_before_actions(&mut report, &mut log, kind, why);
        failed = true;
    }
    let missing = missing_tools(formula, &env);
    if !failed && !missing.is_empty() {
        let kind = crate::directive::FailureKind::TOOL_MISSING;
        let why = format!(
            "{}: the task needs {} (environment.tools), not installed on this machine",
            kind.name,
            missing
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        stop_before_actions(&mut report, &mut log, kind, why);
        failed = true;
    }
    if !failed {
        if let Err(why) = check_rpms(formula, opts, &mut log, observer) {
            let kind = crate::rpmenv::RPM_MISSING;
            stop_before_actions(&mut report, &mut log, kind, format!("{}: {why}", kind.name));
            failed = true;
        }
    }
    for (index, action) in formula.actions.iter().enumerate() {
        let spec = action.directive.spec();
        let mut entry = ActionReport {
            name: action.name.clone(),
            directive: spec.name.to_string(),
            status: ActionStatus::Skipped,
            duration_ms: 0,
            error: None,
            logs: Vec::new(),
            exit_code: None,
            tests: None,
        };
        // Interrupted between actions (or in an in-process one, such as a download):
        // start nothing more; the report says why.
        if let (false, Some(signal)) = (failed, crate::process::interrupted()) {
            let why = format!(
                "interrupted by signal {signal} before action {}/{total} `{}`",
                index + 1,
                action.name
            );
            log.line(&why);
            report.execution_status = ExecutionStatus::NotOk;
            report.status = Some(why);
            failed = true;
        }
        if failed {
            log.line(&format!(
                "action {}/{total} `{}` skipped",
                index + 1,
                action.name
            ));
            observer.event(Event::ActionFinished {
                index,
                total,
                report: &entry,
                failure: None,
            });
            report.actions.push(entry);
            continue;
        }
        let stem = format!("actions/{:02}-{}", index + 1, formula::slug(&action.name));
        // Made before the action starts, so the follower reads them from the start;
        // a link the task left at either name (or at `actions/`) is refused.
        let logs = run
            .create(format!("{stem}.stdout"))
            .and_then(|out| Ok([out, run.create(format!("{stem}.stderr"))?]))
            .map_err(|e| crate::directive::path_failure("the action's log", &e));
        observer.event(Event::ActionStarted {
            index,
            total,
            action,
            output: logs.as_ref().ok().map(|[o, e]| [o, e]),
        });
        log.line(&format!(
            "action {}/{total} `{}` ({}) started",
            index + 1,
            action.name,
            spec.name
        ));
        let tee = logs
            .as_ref()
            .ok()
            .and_then(|l| log.tee(l, &action.name, &stem));
        let action_start = Instant::now();
        let (mut ran, logs) = setting.run_action(
            action,
            &scope,
            &stem,
            logs,
            &env,
            Carried {
                exit_code: &mut report.exit_code,
                so_far: &mut so_far,
            },
        );
        if let Some(t) = tee {
            t.stop();
        }
        for w in std::mem::take(&mut ran.warnings) {
            let message = format!("action {}/{total} `{}`: {w}", index + 1, action.name);
            log.line(&format!("warning: {message}"));
            observer.event(Event::Warning { message: &message });
        }
        entry.exit_code = ran.process_exit;
        if ran.keep_scratch && !keep_scratch {
            keep_scratch = true;
            log.line("the run's workdir is kept for a look, as the task asked (taskotron_keepalive_minutes)");
        }
        let mut result = std::mem::replace(&mut ran.value, Ok(Value::Null));
        let mut on_case = |case: &Case| {
            so_far
                .cases
                .push(crate::history::case_row(&checkname, case));
            observer.event(Event::Test {
                index,
                action,
                case,
            })
        };
        let before = report.results.len();
        if let Some(stream) = &action.results {
            let (tests, listed) = setting.read_stream(
                action,
                stream,
                &stem,
                &ran,
                logs.as_ref().map(|[out, _]| out),
                &result,
                &scope,
                &mut report.results,
                &mut junit,
                &mut on_case,
            );
            let kept = report.results.len() - before;
            result = match (result, &tests.problem) {
                // Exported (for a later `resultsdb` action) as ResultYAML, made only
                // when asked for: a suite's results can be many.
                (Ok(_), None) if action.export.is_some() => {
                    Ok(Value::String(resultyaml::export(&report.results[before..])))
                }
                (Ok(_), None) => Ok(Value::Null),
                (Ok(_), Some(problem)) => Err(Failure::new(kept_note(problem, kept, &tests))),
                (Err(mut f), _) => {
                    f.message = kept_note(&f.message, kept, &tests);
                    Err(f)
                }
            };
            entry.tests = Some(tests);
            pages.push((index, listed));
        } else {
            let read = std::mem::take(&mut ran.cases);
            // A directive that failed after it had results (one playbook of
            // several): the run keeps them, and still fails.
            if let (Err(_), Some(partial)) = (&result, ran.partial.take()) {
                if let Ok(Some((tests, listed))) = setting.collect_results(
                    &partial,
                    &stem,
                    read.clone(),
                    &mut report.results,
                    &mut junit,
                    &mut on_case,
                ) {
                    entry.tests = Some(tests);
                    pages.push((index, listed));
                }
            }
            result = result.and_then(|value| {
                let tests = setting.collect_results(
                    &value,
                    &stem,
                    read,
                    &mut report.results,
                    &mut junit,
                    &mut on_case,
                )?;
                if let Some((tests, listed)) = tests {
                    entry.tests = Some(tests);
                    pages.push((index, listed));
                }
                Ok(value)
            });
        }
        if report.results.len() > before {
            observer.event(Event::Results {
                index,
                results: &report.results[before..],
            });
        }
        entry.duration_ms = millis(action_start.elapsed());
        for (ext, file) in ["stdout", "stderr"].into_iter().zip(logs.iter().flatten()) {
            let rel = format!("{stem}.{ext}");
            if crate::directive::log_len(file) == 0 {
                let _ = run.remove_file(&rel);
                continue;
            }
            match put_back(&run, &rel, file) {
                Ok(false) => {}
                Ok(true) => log.line(&format!(
                    "the task put something else at `{rel}` while the action ran; \
                     the runner's log was put back, nothing was followed"
                )),
                Err(e) => log.line(&format!("cannot put `{rel}` back: {e}")),
            }
            entry.logs.push(rel);
        }
        match result {
            Ok(value) => {
                entry.status = ActionStatus::Ok;
                if let Some(name) = &action.export {
                    scope.set_export(name, value);
                }
                log.line(&format!(
                    "action {}/{total} `{}` ok in {} ms",
                    index + 1,
                    action.name,
                    entry.duration_ms
                ));
            }
            Err(failure) => {
                entry.status = if failure.timed_out {
                    ActionStatus::TimedOut
                } else {
                    ActionStatus::Failed
                };
                // The report is published with the artifacts: no URL's password in it.
                let message = crate::redact::in_text(&failure.message);
                let why = format!(
                    "{}action {}/{total} `{}` ({}) failed: {message}",
                    failure
                        .kind
                        .map(|k| format!("{}: ", k.name))
                        .unwrap_or_default(),
                    index + 1,
                    action.name,
                    spec.name,
                );
                report.failure = failure.kind.map(|k| crate::dict::NamedFailure {
                    kind: k.name.into(),
                    cause: k.cause,
                });
                log.line(&why);
                report.execution_status = ExecutionStatus::NotOk;
                report.status = Some(why);
                entry.error = Some(message);
                failed = true;
            }
        }
        observer.event(Event::ActionFinished {
            index,
            total,
            report: &entry,
            failure: report.failure.as_ref().filter(|_| entry.error.is_some()),
        });
        report.actions.push(entry);
    }
    report.outcome = Outcome::worst(report.results.iter().map(|d| d.outcome));
    // Looked at before the log is put back, so a link in its place is named too.
    let planted = planted(&run);
    if let Err(why) = log.keep(&run) {
        log.line(&why);
    }
    if !planted.is_empty() {
        let kind = crate::directive::FailureKind::PATH_REFUSED;
        let why = format!(
            "{}: the task left symbolic links at {} in the artifacts directory, where the \
             runner writes its own files; they were replaced, not followed",
            kind.name,
            planted
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        log.line(&why);
        if report.failure.is_none() {
            report.failure = Some(crate::dict::NamedFailure {
                kind: kind.name.into(),
                cause: kind.cause,
            });
            report.execution_status = ExecutionStatus::NotOk;
            report.status = Some(why);
        }
    }
    let has_tests = report.actions.iter().any(|a| a.tests.is_some());
    // The results files and the history are written side by side: both only read
    // the report, and a suite's many results make each take a while.
    let state_dir = &opts.reporting.state_dir;
    let finished_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let kept = (!state_dir.as_os_str().is_empty() && !opts.reporting.mocked)
        .then(|| crate::history::run_of(&report, std::mem::take(&mut so_far), finished_at));
    let (results_written, recorded) = std::thread::scope(|scope| {
        let history = kept
            .as_ref()
            .map(|kept| scope.spawn(|| crate::history::record(state_dir, kept)));
        let written = (!report.results.is_empty() || has_tests)
            .then(|| write_results(&run, &report.results, junit, &formula.checkname()));
        let recorded = history.map(|h| {
            h.join()
                .unwrap_or_else(|_| Err("the history writer panicked".into()))
        });
        (written, recorded)
    });
    report.duration_ms = millis(started.elapsed());
    if let Some(written) = results_written {
        if let Err(e) = written {
            report.execution_status = ExecutionStatus::NotOk;
            report.status = Some(format!("cannot write the results: {e}"));
        }
        log.line(&format!(
            "results: {} (worst {})",
            crate::results::summary(report.results.iter().map(|d| d.outcome)),
            report.outcome.map_or("none", Outcome::as_str)
        ));
    }
    // Kept in the history, and compared with the previous build's run.
    match recorded {
        None => {}
        Some(Ok(recorded)) => {
            if let Some(r) = &recorded.regressions {
                log.line(&format!("history: {}", r.summary()));
            }
            if !recorded.flaky.is_empty() {
                log.line(&format!(
                    "history: known flaky here: {}",
                    recorded
                        .flaky
                        .iter()
                        .map(|f| format!("{} ({} flips in {} runs)", f.name, f.flips, f.runs))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            report.regressions = recorded.regressions;
            report.flaky = recorded.flaky;
        }
        Some(Err(e)) => log.line(&format!("history: not kept: {e}")),
    }
    log.line(&format!(
        "run {run_id} finished: {}",
        match report.execution_status {
            ExecutionStatus::Ok => "OK",
            ExecutionStatus::NotOk => "NOT_OK",
        }
    ));
    // The page and the report are written side by side; the page is for people,
    // and a run does not fail because it could not be written.
    let written = std::thread::scope(|scope| {
        let page = scope.spawn(|| {
            let job = crate::html::job_link(&report, opts.reporting.job_url_template.as_deref());
            let _ = run.write(
                crate::html::FILE,
                crate::html::render(&report, &pages, job.as_deref()),
            );
        });
        let written = write_json(&run, &report);
        let _ = page.join();
        written
    });
    if let Err(e) = written {
        report.execution_status = ExecutionStatus::NotOk;
        report.status = Some(format!("cannot write execution.json: {e}"));
    }
    if report.is_ok() && !keep_scratch {
        let _ = std::fs::remove_dir_all(scratch(opts, &run_id));
    }
    Ok(report)
}

/// Where a run happens and for what: everything actions and variables derive from.
struct Setting<'a> {
    formula: &'a Formula,
    opts: &'a RunOptions,
    arch: Arch,
    run_id: &'a str,
    workdir: &'a Path,
    artifactsdir: &'a Path,
    taskdir: &'a Path,
    /// The artifacts directory, opened: the runner's files are made beneath it.
    run: &'a Dir,
    /// The task directory, the workdir and the artifacts directory, opened: every
    /// path a task names is resolved beneath one of them.
    roots: &'a std::sync::Arc<Roots>,
    /// The run's sandbox, under `isolation: sandbox`.
    sandbox: Option<std::sync::Arc<crate::sandbox::Sandbox>>,
}

impl Setting<'_> {
    /// The built-in variables, with the overrides on top.
    fn scope(&self) -> Scope {
        let input = &self.opts.input;
        let text = |s: &str| Value::String(s.to_string());
        let path = |p: &Path| Value::String(p.display().to_string());
        let build_id = input.build_id.as_deref().map_or(Value::Null, text);
        let mut scope = Scope::default();
        for (name, value) in [
            ("item", text(&input.item)),
            ("item_type", text(input.item_type.as_str())),
            ("type", text(input.item_type.as_str())),
            (input.item_type.as_str(), text(&input.item)),
            ("arch", text(self.arch.as_str())),
            ("build_id", build_id.clone()),
            ("jobid", build_id),
            ("run_id", text(self.run_id)),
            (
                "uuid",
                text(input.build_id.as_deref().unwrap_or(self.run_id)),
            ),
            ("workdir", path(self.workdir)),
            ("artifactsdir", path(self.artifactsdir)),
            ("taskdir", path(self.taskdir)),
            ("checkname", Value::String(self.formula.checkname())),
            ("namespace", text(&self.formula.namespace)),
            // Which of an fmf tree's plans run and the context over the run's
            // (`run --plan`, `run -c`): empty unless overridden.
            ("tmt_plan", text("")),
            ("tmt_context", text("")),
        ] {
            scope.set_builtin(name, value);
        }
        for (k, v) in &self.opts.overrides {
            scope.set_override(k, text(v));
        }
        scope
    }

    /// The whole environment of every process of the run: the allow-list of the
    /// caller's environment ([`crate::taskenv`]), `HOME` and `TMPDIR` inside the
    /// run's workdir, and the run's `TASKOTRON_*` variables. Service URLs lose any
    /// password they hold.
    fn environment(&self) -> Vec<(String, String)> {
        let input = &self.opts.input;
        let mut env = crate::taskenv::inherited(std::env::vars_os(), &self.opts.task_env);
        env.extend([
            ("HOME".to_string(), self.home().display().to_string()),
            ("TMPDIR".to_string(), self.tmp().display().to_string()),
        ]);
        let run = [
            ("TASKOTRON_ITEM", input.item.clone()),
            ("TASKOTRON_ITEM_TYPE", input.item_type.as_str().to_string()),
            ("TASKOTRON_ARCH", self.arch.as_str().to_string()),
            (
                "TASKOTRON_BUILD_ID",
                input.build_id.clone().unwrap_or_default(),
            ),
            ("TASKOTRON_RUN_ID", self.run_id.to_string()),
            ("TASKOTRON_WORKDIR", self.workdir.display().to_string()),
            (
                "TASKOTRON_ARTIFACTSDIR",
                self.artifactsdir.display().to_string(),
            ),
            ("TASKOTRON_CHECKNAME", self.formula.checkname()),
            ("TASKOTRON_TASKDIR", self.taskdir.display().to_string()),
            ("TASKOTRON_NAMESPACE", self.formula.namespace.clone()),
            // Check code that asks the services itself (upgradepath asks Koji for
            // the latest builds of other releases) asks the ones the run uses.
            ("TASKOTRON_KOJI_URL", self.opts.services.koji_url.clone()),
            (
                "TASKOTRON_KOJI_PKGS_URL",
                self.opts.services.koji_pkgs_url.clone(),
            ),
            ("TASKOTRON_BODHI_URL", self.opts.services.bodhi_url.clone()),
        ];
        env.extend(
            run.into_iter()
                .map(|(k, v)| (k.to_string(), crate::redact::in_text(&v))),
        );
        env
    }

    /// `HOME` for the run's processes: in the run's scratch directory, so nothing
    /// of the caller's home (credentials, caches) is read or written by a task.
    fn home(&self) -> PathBuf {
        scratch(self.opts, self.run_id).join(HOME_DIR)
    }

    /// `TMPDIR` for the run's processes.
    fn tmp(&self) -> PathBuf {
        scratch(self.opts, self.run_id).join(TMP_DIR)
    }

    /// Renders an action's parameters and runs its directive, its output going to
    /// `logs` (`<run_dir>/<stem>.stdout|stderr`), which come back for reading.
    fn run_action(
        &self,
        action: &Action,
        scope: &Scope,
        stem: &str,
        logs: Result<[File; 2], Failure>,
        env: &[(String, String)],
        carried: Carried<'_>,
    ) -> (Ran, Option<[File; 2]>) {
        let Carried { exit_code, so_far } = carried;
        let mut ran = Ran {
            value: Ok(Value::Null),
            process_exit: None,
            stream_start: 0,
            stdout_shown: self.run.shown(format!("{stem}.stdout")),
            cases: Vec::new(),
            warnings: Vec::new(),
            partial: None,
            keep_scratch: false,
        };
        let (logs, kept) = match logs {
            Ok(files) => {
                let cloned = files
                    .iter()
                    .map(File::try_clone)
                    .collect::<std::io::Result<Vec<_>>>()
                    .map_err(|e| Failure::new(format!("cannot use the action's log: {e}")));
                (cloned, Some(files))
            }
            Err(f) => (Err(f), None),
        };
        ran.value = (|| {
            let params = render_params(action, scope).map_err(|e| {
                let mut msg = format!("line {}: {}", action.location.line, e.message);
                if let Some(h) = e.help {
                    msg.push_str(&format!(" ({h})"));
                }
                Failure::new(msg)
            })?;
            let mut logs = logs?.into_iter();
            let (Some(stdout), Some(stderr)) = (logs.next(), logs.next()) else {
                return Err(Failure::new("the action's logs are missing"));
            };
            let mut ctx = Context {
                taskdir: self.taskdir.to_path_buf(),
                workdir: self.workdir.to_path_buf(),
                artifactsdir: self.artifactsdir.to_path_buf(),
                env: env.to_vec(),
                timeout: action.timeout.unwrap_or(self.opts.default_timeout),
                stdout,
                stderr,
                roots: std::sync::Arc::clone(self.roots),
                python: self.opts.python.clone(),
                item: self.opts.input.item.clone(),
                item_type: self.opts.input.item_type.as_str().to_string(),
                checkname: self.formula.checkname(),
                namespace: self.formula.namespace.clone(),
                exit_code: *exit_code,
                arch: self.arch.as_str().to_string(),
                run_id: self.run_id.to_string(),
                build_id: self.opts.input.build_id.clone(),
                reporting: self.opts.reporting.clone(),
                services: self.opts.services.clone(),
                exit_ok: action.results.as_ref().map(|r| r.exit_ok.clone()),
                process_exit: None,
                stream_start: 0,
                cases: Vec::new(),
                warnings: Vec::new(),
                sandbox: self.sandbox.clone(),
                partial: None,
                keep_scratch: false,
                so_far: std::mem::take(so_far),
            };
            let value = action.directive.run(&params, &mut ctx);
            *so_far = std::mem::take(&mut ctx.so_far);
            ran.partial = ctx.partial.take();
            ran.keep_scratch = ctx.keep_scratch;
            *exit_code = ctx.exit_code;
            ran.process_exit = ctx.process_exit;
            ran.stream_start = ctx.stream_start;
            ran.cases = std::mem::take(&mut ctx.cases);
            ran.warnings = std::mem::take(&mut ctx.warnings);
            value
        })();
        (ran, kept)
    }

    /// Reads an action's result stream, whatever became of the action: its
    /// results go to `results`, its tests to its test file; the problem, if any,
    /// is in the returned summary.
    #[allow(clippy::too_many_arguments)]
    fn read_stream(
        &self,
        action: &Action,
        declared: &formula::ResultStream,
        stem: &str,
        ran: &Ran,
        stdout: Option<&File>,
        value: &Result<Value, Failure>,
        scope: &Scope,
        results: &mut Vec<CheckDetail>,
        junit: &mut crate::results::junit::JunitWriter,
        on_case: &mut dyn FnMut(&Case),
    ) -> (crate::dict::ActionTests, stream::Listed) {
        let checkname = self.formula.stream_checkname(action);
        let mut sink = stream::TestSink::create(
            self.run,
            stream::tests_file(stem),
            (&checkname, &self.formula.name),
            junit,
        );
        // A callable's returned text is its stream; a command's is what it printed.
        let source = match (value, stdout) {
            (Ok(Value::String(text)), _) => stream::Source::Text(text),
            (_, Some(file)) => stream::Source::File(file, ran.stream_start),
            (_, None) => stream::Source::Text(""),
        };
        let item = &self.opts.input;
        let (mut details, problem) = match &declared.format {
            formula::StreamFormat::Tap => {
                let ctx = crate::results::Context {
                    item: item.item.clone(),
                    item_type: Some(item.item_type.as_str().to_string()),
                };
                let file = match source {
                    stream::Source::File(..) => Some(ran.stdout_shown.as_path()),
                    stream::Source::Text(_) => None,
                };
                stream::read_tap(&source, ctx, file, &mut sink, on_case)
            }
            formula::StreamFormat::ResultYaml => {
                stream::read_resultyaml(&source, &mut sink, on_case)
            }
            formula::StreamFormat::Junit(node) => match render(node, scope) {
                Ok(Value::String(shown)) => {
                    let (path, opened) = match self.roots.locate(Path::new(&shown)) {
                        Ok((dir, rel)) => (dir.shown(&rel), dir.read(&rel)),
                        Err(e) => (self.taskdir.join(&shown), Err(e)),
                    };
                    let artifact = path
                        .strip_prefix(self.artifactsdir)
                        .map_or_else(|_| shown.clone(), |p| p.display().to_string());
                    stream::read_junit(
                        opened,
                        &path,
                        &shown,
                        (&item.item, item.item_type.as_str()),
                        &artifact,
                        &mut sink,
                        on_case,
                    )
                }
                Ok(other) => (
                    Vec::new(),
                    Some(format!("the JUnit path is not text: {other}")),
                ),
                Err(e) => (Vec::new(), Some(format!("the JUnit path: {}", e.message))),
            },
        };
        for d in &mut details {
            d.qualify(&self.formula.namespace, &checkname);
        }
        results.extend(details);
        sink.finish(declared.format.as_str(), problem)
    }

    /// Adds the results in an action's return value, if it is ResultYAML or TAP, to
    /// `results`, and its tests to the action's test file. The same results
    /// returned again by a later action (printed, or passed through) are not added
    /// twice.
    fn collect_results(
        &self,
        value: &Value,
        stem: &str,
        read: Vec<Case>,
        results: &mut Vec<CheckDetail>,
        junit: &mut crate::results::junit::JunitWriter,
        on_case: &mut dyn FnMut(&Case),
    ) -> Result<Option<(crate::dict::ActionTests, stream::Listed)>, Failure> {
        let Some(text) = value.as_str() else {
            return Ok(None);
        };
        let is_tap = text.trim_start().starts_with("TAP version 1");
        if !is_tap && !resultyaml::looks_like(text) {
            return Ok(None);
        }
        let ctx = crate::results::Context {
            item: self.opts.input.item.clone(),
            item_type: Some(self.opts.input.item_type.as_str().to_string()),
        };
        let parsed = crate::results::parse_any(text, &ctx).map_err(|mut e| {
            // The text has no file; name what it is, so the position reads
            // `<action NN return value>:4:14`.
            let source = PathBuf::from(format!("<{stem} return value>"));
            for d in &mut e {
                d.file.get_or_insert_with(|| source.clone());
            }
            Failure::new(format!(
                "the action returned ResultYAML with problems:\n{}",
                crate::diagnostic::render_all(&e).trim_end()
            ))
        })?;
        let checkname = self.formula.checkname();
        let mut details = parsed.details;
        for d in &mut details {
            d.qualify(&self.formula.namespace, &checkname);
        }
        let already = results
            .windows(details.len().max(1))
            .any(|w| w == details.as_slice());
        if details.is_empty() || already {
            return Ok(None);
        }
        let mut sink = stream::TestSink::create(
            self.run,
            stream::tests_file(stem),
            (&checkname, &self.formula.name),
            junit,
        );
        // Test cases the directive read itself (`xunit`) are the tests.
        let format = if !read.is_empty() {
            "junit"
        } else if parsed.summary.is_some() {
            "tap"
        } else {
            "resultyaml"
        };
        let cases: Vec<Case> = if !read.is_empty() {
            read
        } else if parsed.summary.is_some() {
            parsed.tests
        } else {
            details
                .iter()
                .map(|d| Case::of_detail(d, &checkname))
                .collect()
        };
        for case in cases {
            sink.take(case, on_case);
        }
        results.extend(details);
        Ok(Some(sink.finish(format, None)))
    }
}

/// What one action hands the next: the exit code the run has so far (the
/// `exitcode` directive sets it) and what the run has done (the cases and builds
/// the history and the Bodhi comment read). Moved through each directive's
/// context, never copied.
struct Carried<'a> {
    exit_code: &'a mut Option<i32>,
    so_far: &'a mut crate::history::SoFar,
}

/// What running an action's directive gave: its value, and what the runner reads
/// after it (the stream's place, the exit code, tests a directive read).
struct Ran {
    value: Result<Value, Failure>,
    process_exit: Option<i32>,
    stream_start: u64,
    /// Where the action's standard output is, for messages.
    stdout_shown: PathBuf,
    cases: Vec<Case>,
    warnings: Vec<String>,
    /// What a failed directive had produced before it failed.
    partial: Option<Value>,
    /// The directive asked to keep the run's workdir.
    keep_scratch: bool,
}

/// Substitutes an action's parameters as its directive's shape says. A shell line
/// becomes `{script, vars, display}` (see [`Template::render_shell`]); an argv list
/// becomes a list of words, a list value spreading into several; anything else is
/// substituted plainly.
pub fn render_params(action: &Action, scope: &Scope) -> Result<Params, SubstError> {
    let mut params = Params::new();
    match action.directive.spec().shape {
        Shape::Commands => {
            let commands: Vec<&Node> = match &action.params.value {
                NodeValue::Seq(items) => items.iter().collect(),
                _ => vec![&action.params],
            };
            let mut rendered = Vec::new();
            for c in commands {
                match &c.value {
                    NodeValue::Seq(words) => {
                        let mut argv = Vec::new();
                        for w in words {
                            match render(w, scope)? {
                                Value::Array(items) => argv.extend(items.into_iter().map(word)),
                                other => argv.push(word(other)),
                            }
                        }
                        rendered.push(Value::Array(argv));
                    }
                    NodeValue::Str(text, _) => {
                        let line = match Template::parse(text) {
                            Ok(t) => t.render_shell(scope)?,
                            Err(_) => crate::template::ShellLine {
                                script: text.clone(),
                                vars: Vec::new(),
                                display: text.clone(),
                            },
                        };
                        let vars: serde_json::Map<String, Value> = line
                            .vars
                            .into_iter()
                            .map(|(k, v)| (k, Value::String(v)))
                            .collect();
                        rendered.push(serde_json::json!({"script": line.script, "vars": vars, "display": line.display}));
                    }
                    _ => rendered.push(word(c.to_json())),
                }
            }
            params.insert("commands".into(), Value::Array(rendered));
        }
        Shape::Params { .. } => {
            if let Value::Object(map) = render(&action.params, scope)? {
                params.extend(map);
            }
        }
    }
    Ok(params)
}

/// An argv word: strings as they are, anything else as its JSON text.
fn word(v: Value) -> Value {
    match v {
        Value::String(_) => v,
        Value::Null => Value::String(String::new()),
        other => Value::String(other.to_string()),
    }
}

/// Substitutes every string in `node`, keys included.
fn render(node: &Node, scope: &Scope) -> Result<Value, SubstError> {
    Ok(match &node.value {
        NodeValue::Str(s, _) => match Template::parse(s) {
            Ok(t) => t.render(scope)?,
            // Syntax was checked when the formula loaded; keep the text if it slipped by.
            Err(_) => Value::String(s.clone()),
        },
        NodeValue::Seq(items) => Value::Array(
            items
                .iter()
                .map(|i| render(i, scope))
                .collect::<Result<_, _>>()?,
        ),
        NodeValue::Map(entries) => {
            let mut map = serde_json::Map::new();
            for (k, v) in entries {
                let key = match render(k, scope)? {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                map.insert(key, render(v, scope)?);
            }
            Value::Object(map)
        }
        _ => node.to_json(),
    })
}

/// Writes the run's results as ResultYAML and TAP13, and every action's tests as
/// one JUnit document, into the run directory; the three are independent and are
/// written side by side, each under a fresh name renamed over whatever the task
/// left at its name.
fn write_results(
    run: &Dir,
    results: &[CheckDetail],
    junit: crate::results::junit::JunitWriter,
    checkname: &str,
) -> Result<(), taskotron_beneath::Error> {
    std::thread::scope(|scope| {
        let yaml = scope.spawn(|| run.write("results.yml", resultyaml::export(results)));
        let tap = scope.spawn(|| {
            run.write_with("results.tap", |out| {
                crate::tap::emit(results, checkname, out)
            })
        });
        let xml = run.write_with("results.junit.xml", |out| junit.finish(out));
        for handle in [yaml, tap] {
            handle.join().unwrap_or_else(|_| {
                Err(taskotron_beneath::Error::Io {
                    path: run.shown("results"),
                    source: std::io::Error::other("a writer panicked"),
                })
            })?;
        }
        xml
    })
}

/// `execution.json`, pretty-printed, written through a buffer.
pub(crate) fn write_json(
    run: &Dir,
    report: &ExecutionReport,
) -> Result<(), taskotron_beneath::Error> {
    run.write_with("execution.json", |out| {
        serde_json::to_writer_pretty(&mut *out, report)?;
        out.write_all(b"\n")
    })
}

/// The files the runner writes at the end of a run, and the directory of the
/// actions' logs: the names a task could plant a link at to have the runner
/// write elsewhere.
const RUNNER_FILES: &[&str] = &[
    "actions",
    "results.yml",
    "results.tap",
    "results.junit.xml",
    crate::html::FILE,
    "execution.json",
    LOG,
];

/// The runner's file names under which the task left a link (or a path through
/// one): they are replaced, never followed, and the run says so.
fn planted(run: &Dir) -> Vec<&'static str> {
    RUNNER_FILES
        .iter()
        .copied()
        .filter(|name| match run.entry(name) {
            Ok(Some(e)) => e.kind == taskotron_beneath::Kind::Link,
            Ok(None) => false,
            Err(e) => e.is_refusal(),
        })
        .collect()
}

/// Puts the runner's `file` back at `rel` when the task put something else there
/// (a link, another file): a fresh copy of it, made without following anything.
/// True when it had to.
fn put_back(run: &Dir, rel: &str, file: &File) -> Result<bool, taskotron_beneath::Error> {
    if run.holds(rel, file) {
        return Ok(false);
    }
    let mut fresh = run.create(rel)?;
    std::io::copy(&mut stream::At::new(file, 0), &mut fresh).map_err(|e| {
        taskotron_beneath::Error::Io {
            path: run.shown(rel),
            source: e,
        }
    })?;
    Ok(true)
}

/// A stream's problem or an action's failure, saying what of the stream was kept.
fn kept_note(why: &str, kept: usize, tests: &crate::dict::ActionTests) -> String {
    // The stream's own error case is not something the suite said.
    let read = tests.counts.tests - tests.counts.errors.min(tests.counts.tests);
    if kept == 0 && read == 0 {
        return why.to_string();
    }
    let plural = |n: u64, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{why}; what was read before it is kept: {} and {} (see {})",
        plural(read, "test"),
        plural(kept as u64, "result"),
        tests.file
    )
}

/// The run log's name in the artifacts directory.
pub(crate) const LOG: &str = "taskotron.log";

/// How much of each of an action's outputs the run log copies.
const TEE_LIMIT: u64 = 1024 * 1024;

/// The run's log file (`taskotron.log`); logging never fails the run.
pub(crate) struct RunLog<'a> {
    file: Option<File>,
    ports: Ports<'a>,
}

impl<'a> RunLog<'a> {
    /// The log, made fresh in `run` (none: no log is kept).
    pub(crate) fn open(run: Option<&Dir>, ports: Ports<'a>) -> Self {
        Self {
            file: run.and_then(|r| r.create(LOG).ok()),
            ports,
        }
    }

    /// Checks, once the task is done, that `taskotron.log` in `run` is still the
    /// runner's log (the task can write the artifacts directory, and could have
    /// put a link there); puts it back when it is not, and writes on in the copy.
    ///
    /// # Errors
    /// It could not be put back; the text says why.
    pub(crate) fn keep(&mut self, run: &Dir) -> Result<(), String> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        if run.holds(LOG, file) {
            return Ok(());
        }
        let what = match run.entry(LOG) {
            Ok(Some(e)) if e.kind == taskotron_beneath::Kind::Link => "a symbolic link",
            Ok(None) => "nothing",
            _ => "another file",
        };
        let mut fresh = run
            .create(LOG)
            .map_err(|e| format!("cannot put {LOG} back: {e}"))?;
        std::io::copy(&mut stream::At::new(file, 0), &mut fresh)
            .map_err(|e| format!("cannot put {LOG} back: {e}"))?;
        self.file = Some(fresh);
        self.line(&format!(
            "the task left {what} in place of {LOG}; the runner's log was put back, nothing was followed"
        ));
        Ok(())
    }

    /// One line, with the time, in one write: the action's output is written
    /// into the same file from the follower's thread ([`RunLog::tee`]).
    pub(crate) fn line(&mut self, text: &str) {
        if let Some(f) = &mut self.file {
            let now = humantime::format_rfc3339_millis(self.ports.clock.now());
            let _ = f.write_all(format!("{now} {text}\n").as_bytes());
        }
    }

    /// Copies what an action prints (`logs`: its stdout and stderr, at `stem`)
    /// into the log as it is written, each line after `[<action>]`, so a running
    /// job's live log shows the task and not only the runner. At most
    /// [`TEE_LIMIT`] bytes of each; the files keep all of it.
    pub(crate) fn tee(
        &self,
        logs: &[File; 2],
        name: &str,
        stem: &str,
    ) -> Option<crate::follow::Follower> {
        let log = self.file.as_ref()?.try_clone().ok()?;
        let files = logs
            .iter()
            .map(File::try_clone)
            .collect::<Result<Vec<_>, _>>()
            .ok()?;
        let tags = [format!("[{name}] "), format!("[{name} stderr] ")];
        let cut_tags = tags.clone();
        let cut_log = log.try_clone().ok()?;
        let stem = stem.to_string();
        let mut log = log;
        Some(crate::follow::Follower::start_limited(
            files,
            TEE_LIMIT,
            move |i, line| {
                let _ = log.write_all(format!("{}{line}\n", tags[i]).as_bytes());
            },
            move |i| {
                let ext = if i == 0 { "stdout" } else { "stderr" };
                let mut log = &cut_log;
                let _ = log.write_all(
                    format!("{}... the rest is in {stem}.{ext}\n", cut_tags[i]).as_bytes(),
                );
            },
        ))
    }

    /// Another log whole (a remote run's), after a line naming it.
    pub(crate) fn embed(&mut self, title: &str, bytes: &[u8]) {
        self.line(&format!("--- {title} ---"));
        if let Some(f) = &mut self.file {
            let _ = f.write_all(bytes);
        }
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The scratch directory of run `run_id` (`<tmpdir>/<run_id>/`, holding the
/// workdir, `HOME` and `TMPDIR`): removed after an OK run, kept after a NOT_OK one
/// for a look (`taskotron gc` removes it later).
pub fn scratch(opts: &RunOptions, run_id: &str) -> PathBuf {
    opts.tmpdir.join(run_id)
}

/// The run's `${workdir}`: holds only what the task's actions put there.
pub fn workdir(opts: &RunOptions, run_id: &str) -> PathBuf {
    scratch(opts, run_id).join(WORK_DIR)
}

/// Whether a result is FAILED or NEEDS_INSPECTION (what `--fail-on-results` and an
/// `exitcode` action fail on).
pub fn results_need_attention(report: &ExecutionReport) -> bool {
    report
        .results
        .iter()
        .any(|d| matches!(d.outcome, Outcome::Failed | Outcome::NeedsInspection))
}

/// The last line of `run --format jsonl`: how the run ended, in numbers.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    /// `OK` or `NOT_OK`.
    pub execution_status: ExecutionStatus,
    /// Why it is NOT_OK.
    pub status: Option<String>,
    /// The run's id.
    pub run_id: String,
    /// Its artifacts directory.
    pub artifacts: PathBuf,
    /// The worst outcome of its results.
    pub outcome: Option<Outcome>,
    /// How many results, per outcome.
    pub results: std::collections::BTreeMap<&'static str, u64>,
    /// The counts of every action's tests together.
    pub tests: crate::results::CaseCounts,
    /// The process's exit code.
    pub exit_code: i32,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// What changed since the previous build's run, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regressions: Option<crate::dict::Regressions>,
    /// The tests known to flip on this item and arch.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flaky: Vec<crate::dict::FlakyTest>,
}

/// The [`Summary`] of `report`, which exits with `exit_code`.
pub fn summary(report: &ExecutionReport, exit_code: i32) -> Summary {
    let mut results = std::collections::BTreeMap::new();
    for d in &report.results {
        *results.entry(d.outcome.as_str()).or_insert(0) += 1;
    }
    let mut tests = crate::results::CaseCounts::default();
    for t in report.actions.iter().filter_map(|a| a.tests.as_ref()) {
        tests.merge(&t.counts);
    }
    Summary {
        execution_status: report.execution_status,
        status: report.status.clone(),
        run_id: report.run_id.clone(),
        artifacts: report.artifacts.clone(),
        outcome: report.outcome,
        results,
        tests,
        exit_code,
        duration_ms: report.duration_ms,
        regressions: report.regressions.clone(),
        flaky: report.flaky.clone(),
    }
}

/// Convenience for callers with an [`ItemType`] in hand.
pub fn task_input(item: &str, item_type: ItemType, build_id: Option<String>) -> TaskInput {
    TaskInput {
        item: item.to_string(),
        item_type,
        build_id,
    }
}

mod stream;

pub use stream::Listed;

#[cfg(test)]
mod tests;
