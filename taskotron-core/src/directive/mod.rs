//! Directives: the verbs of a formula (`shell`, `python`, `dummy`, ...).
//!
//! Each directive is one module with a static [`Spec`] (its parameters, for
//! validation before anything runs, for `taskotron directives` and for docs) and a
//! `run` function. Adding a directive means adding a module and one line to
//! [`REGISTRY`]. Parameters arrive substituted: the runner renders every value
//! according to its [`ParamKind`], which is where shell quoting is enforced, so no
//! directive can forget it.

mod ansible;
mod bodhi;
mod bodhi_comment;
mod createrepo;
mod distgit;
mod dummy;
mod exitcode;
mod koji;
mod python;
pub(crate) mod resultsdb;
mod shell;
mod sti;
pub mod tmt;
mod xunit;
mod yumrepoinfo;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

/// What a parameter holds, which decides how it is validated and substituted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Any value; a whole-string `${var}` keeps its type.
    Any,
    /// A string (after substitution).
    Str,
    /// A boolean.
    Bool,
    /// A path the runner itself reads or writes: a string that must stay beneath
    /// the task directory, `${workdir}` or `${artifactsdir}` (checked when the
    /// formula loads where it can be, and again when the action runs).
    Path,
}

/// One parameter of a directive.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// The key in the formula.
    pub name: &'static str,
    /// Whether the formula must give it.
    pub required: bool,
    /// What it holds.
    pub kind: ParamKind,
    /// One line of documentation.
    pub doc: &'static str,
}

/// The shape of the value under the directive's key.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// A mapping of parameters.
    Params {
        /// The known parameters.
        params: &'static [Param],
        /// Whether keys other than `params` are accepted (the `python` directive passes
        /// them on as keyword arguments).
        extra: bool,
    },
    /// A list of commands: a string runs under `sh -c` with every substituted value
    /// passed through the environment; a list is an argv, run with no shell.
    Commands,
}

/// The static description of a directive.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The key that names the directive in an action.
    pub name: &'static str,
    /// One line saying what it does.
    pub summary: &'static str,
    /// What its value looks like.
    pub shape: Shape,
    /// What it exports.
    pub returns: &'static str,
    /// Parameters of which exactly one must be given (`result_last` or
    /// `result_worst`); empty when there is no such group.
    pub exactly_one: &'static [&'static str],
}

impl Spec {
    /// The parameter called `name`, if the directive takes parameters.
    pub fn param(&self, name: &str) -> Option<&'static Param> {
        match self.shape {
            Shape::Params { params, .. } => params.iter().find(|p| p.name == name),
            Shape::Commands => None,
        }
    }
}

/// A directive's substituted input. For [`Shape::Params`] the map holds each given
/// parameter; for [`Shape::Commands`] it holds one key, `commands`, a list whose
/// items are shell lines (`{script, vars, display}`) or lists of strings (argv).
pub type Params = BTreeMap<String, Value>;

/// What an action may use while it runs.
#[derive(Debug)]
pub struct Context {
    /// The task's directory; commands run here and relative paths resolve here.
    pub taskdir: PathBuf,
    /// The run's scratch directory.
    pub workdir: PathBuf,
    /// The run's artifacts directory.
    pub artifactsdir: PathBuf,
    /// The whole environment of every process the action starts: the run's
    /// `TASKOTRON_*` variables and the allow-list of [`crate::taskenv`]. Nothing else of
    /// the runner's environment (credentials among it) reaches a task.
    pub env: Vec<(String, String)>,
    /// How long the action may take in all.
    pub timeout: Duration,
    /// Where the action's processes write their standard output; open for
    /// reading too, since output is read back through the handle and never by
    /// name (a task may put a link where the file was).
    pub stdout: File,
    /// Where they write their standard error (readable the same way).
    pub stderr: File,
    /// The run's directories (the task directory first, then the workdir and the
    /// artifacts directory): every path a directive reads or writes for the task
    /// is opened beneath one of them, following no link.
    pub roots: std::sync::Arc<taskotron_beneath::Roots>,
    /// The Python interpreter for the `python` directive.
    pub python: String,
    /// The item, its type and the testcase name, for directives that make results.
    pub item: String,
    /// The item's type.
    pub item_type: String,
    /// `namespace.name` of the task.
    pub checkname: String,
    /// The formula's namespace: results are reported inside it.
    pub namespace: String,
    /// The exit code `taskotron run` should end with when the run is OK (set by
    /// `exitcode`; the worst of several wins).
    pub exit_code: Option<i32>,
    /// The arch of the run.
    pub arch: String,
    /// The run's id.
    pub run_id: String,
    /// The build id, when scheduled.
    pub build_id: Option<String>,
    /// Where and how to report results.
    pub reporting: crate::resultsdb::Reporting,
    /// The services directives download from.
    pub services: Services,
    /// When the action's output is a result stream: the exit codes of its last
    /// command (or the interpreter) that mean "the suite ran" and are not a failure.
    pub exit_ok: Option<Vec<i32>>,
    /// Set by `shell` and `python`: the exit code of the last process, or `128 + n`
    /// for a signal.
    pub process_exit: Option<i32>,
    /// Set by `shell`: where the last command's standard output starts in
    /// `stdout`, which is where a result stream starts.
    pub stream_start: u64,
    /// Test cases a directive read (`xunit`), to be kept per test in the run's JUnit.
    pub cases: Vec<crate::results::Case>,
    /// What the action did that worked but may not be what the task meant (a
    /// download that matched no RPM), said as a warning on the run's stderr and log.
    pub warnings: Vec<String>,
    /// The run's sandbox (`isolation: sandbox`): every process a directive starts
    /// for the task runs in it ([`Context::run_task`]).
    pub sandbox: Option<std::sync::Arc<crate::sandbox::Sandbox>>,
    /// The results (ResultYAML) a directive had made when it failed (a
    /// playbook of several): the run keeps them, and the action still fails.
    pub partial: Option<Value>,
    /// Set by a directive whose task asked to keep its machine for a look
    /// (`taskotron_keepalive_minutes`): the run keeps its workdir even when OK.
    pub keep_scratch: bool,
    /// What the run has done so far that its history keeps: the cases of the
    /// actions before this one and the builds its item stands for (`bodhi`
    /// adds an update's). Handed from action to action, not copied.
    pub so_far: crate::history::SoFar,
}

/// Where the download directives (`koji`, `bodhi`, `distgit`) fetch from, and
/// what `all` arches means for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Services {
    /// Koji's XML-RPC hub.
    pub koji_url: String,
    /// Koji's package file server (`topurl`).
    pub koji_pkgs_url: String,
    /// Bodhi's API.
    pub bodhi_url: String,
    /// Dist-git (`{distgit_url}/{namespace}/{package}/raw/{ref}/f/{path}`).
    pub distgit_url: String,
    /// The `tmt` directive's result name when a plan's `checkname` is not given.
    pub tmt_checkname: String,
    /// The `ansible` directive's result name for an STI suite.
    pub sti_checkname: String,
    /// Whether packages a playbook asks for may be installed (`dnf`, `package`,
    /// `required_packages`).
    pub install_rpms: crate::config::InstallRpms,
    /// The task mirror, through which the `tmt` directive fetches the tests of a
    /// discover phase with `url`; none: such a phase is refused.
    pub mirror: Option<crate::mirror::Mirror>,
    /// The configured `ansible-playbook`, for playbook tasks; none: taskotron's own.
    pub ansible_playbook: Option<String>,
    /// Where taskotron installs the tools it fetches on first use (ansible-core).
    pub tools_dir: Option<PathBuf>,
    /// Where verified downloads are kept between runs; none disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// What `all` means.
    pub supported_arches: Vec<crate::Arch>,
    /// How long one remote call or one file transfer may take.
    pub timeout: Duration,
    /// The `yumrepoinfo.conf` of the `yumrepoinfo` directive; none: the
    /// original's `/etc/taskotron/yumrepoinfo.conf`.
    pub yumrepoinfo: Option<PathBuf>,
}

impl Default for Services {
    fn default() -> Self {
        Self {
            koji_url: "https://koji.fedoraproject.org/kojihub".into(),
            koji_pkgs_url: "https://kojipkgs.fedoraproject.org".into(),
            bodhi_url: "https://bodhi.fedoraproject.org".into(),
            distgit_url: "https://src.fedoraproject.org".into(),
            tmt_checkname: tmt::DEFAULT_CHECKNAME.into(),
            sti_checkname: crate::sti::DEFAULT_CHECKNAME.into(),
            install_rpms: crate::config::InstallRpms::No,
            mirror: None,
            ansible_playbook: None,
            tools_dir: None,
            yumrepoinfo: None,
            cache_dir: None,
            supported_arches: vec![crate::Arch::X86_64],
            timeout: Duration::from_secs(300),
        }
    }
}

impl Context {
    /// Takes the Koji builds `details` are about as the builds of the run's
    /// update, when no directive listed them (a task that asks Bodhi itself):
    /// the run's history finds the update's predecessor through them.
    pub fn note_builds(&mut self, details: &[crate::results::CheckDetail]) {
        if self.item_type != "bodhi_update" || !self.so_far.builds.is_empty() {
            return;
        }
        self.so_far.builds = crate::history::builds_named(details);
    }

    /// Results from text an earlier action returned (ResultYAML or TAP), about this
    /// run's item where they do not say.
    ///
    /// # Errors
    /// The text is not valid results; the message names `directive`.
    pub fn results_from(
        &self,
        text: &str,
        directive: &str,
    ) -> Result<Vec<crate::results::CheckDetail>, Failure> {
        let ctx = crate::results::Context {
            item: self.item.clone(),
            item_type: Some(self.item_type.clone()),
        };
        crate::results::parse_any(text, &ctx)
            .map(|r| r.details)
            .map_err(|e| {
                Failure::new(format!(
                    "{directive}: the results are not valid:\n{}",
                    crate::diagnostic::render_all(&e).trim_end()
                ))
            })
    }

    /// Runs one of the task's processes as [`crate::process::run_task`] does, in the
    /// run's sandbox when it has one (with `extra` shown in it too); its output goes
    /// to the action's files. A process limit the sandbox enforced is said on its
    /// standard error, so that the failure's message shows it.
    ///
    /// # Errors
    /// The program could not be started (`NotFound` when it is not installed, or not
    /// in the sandbox).
    pub fn run_task(
        &self,
        command: std::process::Command,
        extra: &[crate::sandbox::Bind],
        timeout: Duration,
        env: &[(String, String)],
    ) -> std::io::Result<crate::process::Ended> {
        // A shell sets PWD for every program it starts, and tasks of 2014 read it
        // (`os.environ['PWD']`); it is no secret, so each process gets its own.
        let mut with_pwd: Vec<(String, String)>;
        let env = match command.get_current_dir() {
            Some(dir) if !env.iter().any(|(k, _)| k == "PWD") => {
                with_pwd = env.to_vec();
                with_pwd.push(("PWD".into(), dir.to_string_lossy().into_owned()));
                &with_pwd[..]
            }
            _ => env,
        };
        let Some(sandbox) = &self.sandbox else {
            return crate::process::run_task(command, &self.stdout, &self.stderr, timeout, env);
        };
        let path = env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| std::ffi::OsString::from(v))
            .unwrap_or_default();
        let mut confined = sandbox.confine(&command, extra, &path)?;
        let limit = confined.limit_guard();
        // The disk is looked at four times a second, not at every look at the child.
        let mut looked = std::time::Instant::now();
        let mut full = None;
        let mut over_disk = || {
            let Some(max) = sandbox.disk_limit() else {
                return false;
            };
            if looked.elapsed() < Duration::from_millis(250) {
                return false;
            }
            looked = std::time::Instant::now();
            let used = sandbox.disk_used();
            if used > max {
                full = Some((used, max));
            }
            full.is_some()
        };
        let ended = crate::process::run_task_watched(
            confined.command,
            &self.stdout,
            &self.stderr,
            timeout,
            env,
            &mut over_disk,
        )?;
        use std::io::Write;
        if let Some(max) = limit.process_limit_hit() {
            let _ = writeln!(
                &self.stderr,
                "taskotron: the sandbox refused to start more than {max} processes (sandbox_processes)"
            );
        }
        if let Some((used, max)) = full {
            let _ = writeln!(
                &self.stderr,
                "taskotron: the run's directories held {} on disk, more than the {} they may (sandbox_disk); the action was stopped",
                bytesize::ByteSize::b(used).display().iec(),
                bytesize::ByteSize::b(max).display().iec()
            );
        }
        Ok(ended)
    }

    /// This run's log URLs (published artifacts, or the local ones).
    pub fn log_urls(&self) -> crate::resultsdb::LogUrls {
        let r = &self.reporting;
        crate::resultsdb::LogUrls::new(
            r.artifacts_base_url.as_deref(),
            r.job_url_template.as_deref(),
            &self.run_id,
            self.build_id.as_deref(),
        )
        .with_local_artifacts(&self.artifactsdir)
        .comments_link_the_job(r.web_url.is_some())
    }
}

pub use crate::failure::{Cause, FailureKind};

/// Why an action failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// What happened, including the exit code and the tail of standard error.
    pub message: String,
    /// True when the action was killed at its timeout.
    pub timed_out: bool,
    /// The failure's name and cause, when it is one that has a name.
    pub kind: Option<FailureKind>,
}

impl Failure {
    /// A failure with a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            timed_out: false,
            kind: None,
        }
    }

    /// A named failure. The message says what happened without the kind's name:
    /// the runner puts the name in front of the status, once.
    pub fn named(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            kind: Some(kind),
            ..Self::new(message)
        }
    }
}

/// A directive: its spec, an optional check of literal parameter values, and `run`.
pub trait Directive: Sync {
    /// The static description.
    fn spec(&self) -> &'static Spec;

    /// Checks a literal (variable-free) parameter value beyond its kind, before the
    /// run; returns what was expected and a suggestion when it does not fit.
    fn check_literal(&self, _param: &str, _value: &Value) -> Result<(), (String, Option<String>)> {
        Ok(())
    }

    /// Parameters that become required when `param` has the literal value `value`
    /// (checked when the formula is loaded).
    fn required_by(&self, _param: &str, _value: &str) -> &'static [&'static str] {
        &[]
    }

    /// Runs the directive; the returned value is what `export` stores.
    ///
    /// # Errors
    /// A [`Failure`] stops the run and makes it `NOT_OK`.
    fn run(&self, params: &Params, ctx: &mut Context) -> Result<Value, Failure>;
}

/// The exit code an `exitcode` action asks for when results are not a success.
pub const EXITCODE_FAILURE: i32 = exitcode::FAILURE;

/// Every directive, by name.
pub static REGISTRY: &[&dyn Directive] = &[
    &shell::Shell,
    &python::Python,
    &dummy::Dummy,
    &exitcode::ExitCode,
    &xunit::Xunit,
    &resultsdb::ResultsDb,
    &bodhi_comment::BodhiComment,
    &koji::Koji,
    &bodhi::Bodhi,
    &distgit::DistGit,
    &yumrepoinfo::YumRepoInfo,
    &createrepo::CreateRepo,
    &tmt::Tmt,
    &ansible::Ansible,
];

/// The directive called `name`.
pub fn find(name: &str) -> Option<&'static dyn Directive> {
    REGISTRY.iter().copied().find(|d| d.spec().name == name)
}

/// The names of every directive, for suggestions.
pub fn names() -> impl Iterator<Item = &'static str> {
    REGISTRY.iter().map(|d| d.spec().name)
}

/// Checks a literal that must be one of `choices`, with a suggestion for a near miss.
pub(crate) fn one_of_choices(
    value: &str,
    choices: &[&'static str],
) -> Result<(), (String, Option<String>)> {
    if choices.contains(&value) {
        return Ok(());
    }
    let hint = crate::suggest::did_you_mean(value, choices.iter().copied())
        .map(|s| format!("did you mean `{s}`?"));
    Err((crate::suggest::one_of(choices.iter().copied()), hint))
}

/// A string parameter's value, empty when absent (required ones were checked at load).
pub(crate) fn text_param(params: &Params, key: &str) -> String {
    params
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The last `lines` lines of `text`, for failure messages.
pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.trim_end().lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The most standard output a `shell` action exports as a value; a suite that
/// prints more declares `results:` and is read as a stream.
pub const MAX_EXPORT: u64 = 64 * 1024 * 1024;

/// Reads an action's log from byte `from` on, lossily, for exports and messages;
/// through the runner's own handle (positioned reads leave the processes' shared
/// offset alone).
pub(crate) fn read_from(file: &File, from: u64) -> String {
    use std::os::unix::fs::FileExt;
    let mut text = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    let mut at = from;
    loop {
        match file.read_at(&mut buf, at) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                text.extend_from_slice(&buf[..n]);
                at += n as u64;
            }
        }
    }
    String::from_utf8_lossy(&text).into_owned()
}

/// The length of an action's log so far.
pub(crate) fn log_len(file: &File) -> u64 {
    file.metadata().map_or(0, |m| m.len())
}

/// The end of an action's log from byte `from` on (at most its last 64 KiB), for
/// messages: a process that printed a gigabyte of errors costs no more to quote.
pub(crate) fn read_end(file: &File, from: u64) -> String {
    const END: u64 = 64 * 1024;
    read_from(file, from.max(log_len(file).saturating_sub(END)))
}

/// The most a directive reads of a file the task names (`xunit`, `resultsdb`).
pub const MAX_TASK_FILE: u64 = 256 * 1024 * 1024;

impl Context {
    /// The text of the file `given` (a directive's `what` parameter), opened
    /// beneath the run's directories without following links, and where it is.
    ///
    /// # Errors
    /// `PATH_REFUSED` when it leaves them or is a link; a plain failure when it
    /// cannot be read.
    pub(crate) fn read_task_file(
        &self,
        what: &str,
        given: &str,
    ) -> Result<(String, PathBuf), Failure> {
        let path = std::path::Path::new(given);
        let (dir, rel) = self
            .roots
            .locate(path)
            .map_err(|e| path_failure(what, &e))?;
        let text = dir
            .read_to_string(&rel, MAX_TASK_FILE)
            .map_err(|e| path_failure(what, &e))?;
        Ok((text, dir.shown(&rel)))
    }
}

/// The failure of a process that did not start: `TOOL_MISSING` only when the
/// lookup of its program failed, since a missing working directory gives the
/// same `NotFound` and is no tool's absence.
pub(crate) fn spawn_failure(
    e: &std::io::Error,
    program: &str,
    shown: &str,
    cwd: &std::path::Path,
) -> Failure {
    if e.kind() != std::io::ErrorKind::NotFound {
        Failure::new(format!("cannot run `{shown}`: {e}"))
    } else if !cwd.is_dir() {
        Failure::new(format!(
            "cannot run `{shown}`: its working directory `{}` does not exist",
            cwd.display()
        ))
    } else {
        let kind = FailureKind::TOOL_MISSING;
        Failure::named(
            kind,
            format!("cannot run `{shown}`: `{program}` is not installed (not found on PATH)"),
        )
    }
}

/// The failure of a path the runner could not use for the task: `PATH_REFUSED`
/// (the task's doing) when it leaves the run's directories or meets a link, a
/// plain failure when the file system said no.
pub(crate) fn path_failure(what: &str, e: &taskotron_beneath::Error) -> Failure {
    if e.is_refusal() {
        let kind = FailureKind::PATH_REFUSED;
        Failure::named(kind, format!("{what}: {e}"))
    } else {
        Failure::new(format!("{what}: {e}"))
    }
}
