//! Running a child process with a deadline, its output going to files, and its whole
//! process group killed when the deadline passes.
//!
//! This is the process-execution adapter: the only module that spawns programs.
//! Output goes straight to files rather than pipes so that a chatty check can never
//! block on a full pipe and a daemon it leaves behind can never hold the run open.
//!
//! Two kinds of children, and what happens to them when their parent is stopped:
//!
//! - a **task** process ([`run_task`]) gets only the environment it is given (the
//!   runner's allow-list; never the caller's, which holds credentials), and is
//!   killed with its whole process group (SIGKILL) when the runner is interrupted or
//!   dies;
//! - a **supervised** child ([`run_supervised`], a job's `taskotron run` under a
//!   worker) inherits the environment, and is asked to stop (SIGTERM) when the worker
//!   is interrupted or dies, so it can kill its own task processes and write its
//!   report; it is killed if it has not stopped after [`GRACE`].
//!
//! A process that called [`become_subreaper`] adopts every orphan of its subtree:
//! a task process that left its group (`setsid`, a double fork) becomes its child
//! when its parent dies, and is killed when the action (or the job) it came from
//! ends. [`leftovers`] finds what an earlier attempt of a job left running anywhere
//! on the machine, by the `TASKOTRON_BUILD_ID` every process of a job carries.

use std::fs::File;
use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicU32, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It exited by itself.
    Exited(ExitStatus),
    /// It ran past its deadline; its process group was killed.
    TimedOut,
    /// The caller was interrupted (SIGINT, SIGTERM, SIGHUP); the child was stopped.
    Interrupted(i32),
    /// The caller's watch found a limit passed ([`run_task_watched`]); its process
    /// group was killed. The watch says which limit.
    Stopped,
}

/// How long a supervised child has to stop after SIGTERM before it is killed, and
/// how long an interrupted runner has to write its report before it ends anyway.
pub const GRACE: Duration = Duration::from_secs(10);

/// What a child is, which decides its environment and how it is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Task,
    Supervised,
}

impl Role {
    /// The signal the child gets when its parent is interrupted or dies.
    fn stop_signal(self) -> libc::c_int {
        match self {
            Role::Task => libc::SIGKILL,
            Role::Supervised => libc::SIGTERM,
        }
    }
}

/// The process groups of the children running now (one per worker thread) with the
/// signal that stops each, packed as `pgid << 8 | signal`, for the signal handler;
/// 0 is a free slot.
static GROUPS: [AtomicI64; 64] = [const { AtomicI64::new(0) }; 64];

/// Held from a spawn until its group is registered, and while strays are reaped, so
/// that a child just spawned is never taken for a stray.
static SPAWNING: Mutex<()> = Mutex::new(());

/// Set once this process adopts the orphans of its subtree.
static SUBREAPER: AtomicBool = AtomicBool::new(false);

/// Seconds an interrupted process has before SIGALRM ends it; 0 for no limit.
static HARD_STOP: AtomicU32 = AtomicU32::new(0);

fn pack(pgid: libc::pid_t, signal: libc::c_int) -> i64 {
    (i64::from(pgid) << 8) | i64::from(signal & 0xff)
}

fn unpack(packed: i64) -> (libc::pid_t, libc::c_int) {
    (
        libc::pid_t::try_from(packed >> 8).unwrap_or(0),
        (packed & 0xff) as libc::c_int,
    )
}

/// Records a running group; `None` when every slot is taken (the group is then not
/// stopped by a signal, only by its own deadline and its parent-death signal).
fn register(pgid: libc::pid_t, signal: libc::c_int) -> Option<usize> {
    let packed = pack(pgid, signal);
    GROUPS.iter().position(|slot| {
        slot.compare_exchange(0, packed, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    })
}

fn registered(pid: libc::pid_t) -> bool {
    GROUPS
        .iter()
        .any(|slot| unpack(slot.load(Ordering::SeqCst)).0 == pid)
}

/// The signal that interrupted the runner, or 0.
static INTERRUPTED: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    // Only async-signal-safe calls here: atomics, kill(2), alarm(2), signal(2), raise(3).
    let first = INTERRUPTED
        .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok();
    if !first {
        // A second Ctrl-C: the person wants it to end now, the default way. Other
        // repeats change nothing: a parent-death signal comes again each time the
        // child is handed to another thread of its dying parent, and the stop is
        // already bounded (GRACE, the hard stop).
        if signal == libc::SIGINT {
            // SAFETY: both calls are async-signal-safe and take plain integers.
            unsafe {
                libc::signal(signal, libc::SIG_DFL);
                libc::raise(signal);
            }
        }
        return;
    }
    for slot in &GROUPS {
        let (group, stop) = unpack(slot.load(Ordering::SeqCst));
        if group > 0 {
            // SAFETY: kill(2) is async-signal-safe.
            unsafe {
                libc::kill(-group, stop);
            }
        }
    }
    let hard = HARD_STOP.load(Ordering::SeqCst);
    if hard > 0 {
        // SIGALRM's default action ends the process: the backstop for a runner busy
        // in-process (a download) when the signal came.
        // SAFETY: alarm(2) is async-signal-safe.
        unsafe {
            libc::alarm(hard);
        }
    }
}

/// Makes SIGINT, SIGTERM and SIGHUP stop the running children (task process groups
/// are killed, supervised children asked to stop) and mark the process interrupted,
/// so that it can still write its report. A second SIGINT ends the process at once.
/// Children run in their own process groups, so without this a Ctrl-C would leave
/// them running. Commands that install no handler end at the first signal.
pub fn install_interrupt_handler() {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: `on_signal` only performs async-signal-safe operations.
        unsafe {
            libc::signal(signal, on_signal as *const () as libc::sighandler_t);
        }
    }
}

/// Once interrupted, the process ends (SIGALRM) after `limit` whatever it is doing,
/// so a runner whose worker died cannot go on for long in an in-process download.
pub fn exit_within_after_interrupt(limit: Duration) {
    let secs = u32::try_from(limit.as_secs()).unwrap_or(u32::MAX).max(1);
    HARD_STOP.store(secs, Ordering::SeqCst);
}

/// The signal that interrupted the runner, if one did.
pub fn interrupted() -> Option<i32> {
    match INTERRUPTED.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// A flag that becomes true once the process is interrupted (or when dropped), for
/// loops that poll a flag rather than the signal state, such as the AMQP consumer.
/// A watcher thread polls [`interrupted`] every 50 ms and ends with this value.
#[derive(Debug)]
pub struct StopOnSignal {
    flag: std::sync::Arc<std::sync::atomic::AtomicBool>,
    watcher: Option<std::thread::JoinHandle<()>>,
}

impl StopOnSignal {
    /// Starts watching.
    pub fn start() -> Self {
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let watched = std::sync::Arc::clone(&flag);
        let watcher = std::thread::spawn(move || {
            while !watched.load(Ordering::Relaxed) {
                if interrupted().is_some() {
                    watched.store(true, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Self {
            flag,
            watcher: Some(watcher),
        }
    }

    /// The flag to poll.
    pub fn flag(&self) -> &std::sync::atomic::AtomicBool {
        &self.flag
    }

    /// The flag, shared (for a thread or a runtime that outlives a borrow).
    pub fn shared(&self) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
        std::sync::Arc::clone(&self.flag)
    }
}

impl Drop for StopOnSignal {
    fn drop(&mut self) {
        self.flag.store(true, Ordering::Relaxed);
        if let Some(w) = self.watcher.take() {
            let _ = w.join();
        }
    }
}

/// Runs `work` on a thread of its own and returns what it returns; once the process
/// is interrupted, waits at most `grace` more for it. `None` when it was interrupted
/// and `work` had not finished by then: the caller is to say so and exit, leaving the
/// thread (blocked in a request, say) behind. For work whose every step is durable
/// before it is taken (a report's spool), so that stopping it anywhere loses nothing.
pub fn unless_interrupted<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
    grace: Duration,
) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(work());
    });
    let mut since = None;
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(value) => return Some(value),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return None,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
        if interrupted().is_some() {
            let since = *since.get_or_insert_with(Instant::now);
            if since.elapsed() >= grace {
                return None;
            }
        }
    }
}

/// Makes this process adopt every orphan of its subtree (Linux
/// `PR_SET_CHILD_SUBREAPER`), so that a task process that left its group is still
/// found and killed when its action ends. Only the binary's run, worker and serve
/// commands call it: a test harness that spawns helpers of its own must not reap
/// them. Returns whether the kernel agreed.
pub fn become_subreaper() -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes plain integers.
        let ok = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } == 0;
        SUBREAPER.store(ok, Ordering::SeqCst);
        ok
    }
    #[cfg(not(target_os = "linux"))]
    false
}

impl Ended {
    /// The exit code, or the signal as `128 + n` the way shells report it.
    pub fn code(self) -> Option<i32> {
        match self {
            Ended::Exited(status) => status.code().or_else(|| status.signal().map(|s| 128 + s)),
            Ended::TimedOut | Ended::Interrupted(_) | Ended::Stopped => None,
        }
    }

    /// True for an exit with status 0.
    pub fn success(self) -> bool {
        matches!(self, Ended::Exited(s) if s.success())
    }

    /// The exit code of a process that exited by itself (not by a signal).
    pub fn exit_code(self) -> Option<i32> {
        match self {
            Ended::Exited(status) => status.code(),
            Ended::TimedOut | Ended::Interrupted(_) | Ended::Stopped => None,
        }
    }

    /// The signal that killed it, when one did.
    pub fn signal(self) -> Option<i32> {
        match self {
            Ended::Exited(status) => status.signal(),
            Ended::TimedOut | Ended::Interrupted(_) | Ended::Stopped => None,
        }
    }

    /// How it ended, for messages: `exited with code 2`, `was killed by signal 9
    /// (SIGKILL)`.
    pub fn describe(self) -> String {
        match (self.exit_code(), self.signal()) {
            // A shell reports a command a signal killed as 128 + the signal.
            (Some(code), _) if code > 128 && signal_name(code - 128) != "a signal" => format!(
                "exited with code {code} (128 + {}: a command was killed by {})",
                code - 128,
                signal_name(code - 128)
            ),
            (Some(code), _) => format!("exited with code {code}"),
            (None, Some(sig)) => format!("was killed by signal {sig} ({})", signal_name(sig)),
            _ if self == Ended::Stopped => "was stopped at a limit of its sandbox".to_string(),
            _ => "was stopped".to_string(),
        }
    }
}

/// The name of a signal number, for messages.
pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        _ => "a signal",
    }
}

/// Runs a task's `command` in its own process group with stdin closed, stdout and
/// stderr appended to the given files, and nothing in its environment but `env`,
/// until it exits or `timeout` passes. Either way, whatever is left of its process
/// group (and, in a subreaper, every orphan it left) is killed before returning, so
/// no grandchild outlives the action.
///
/// # Errors
/// The program could not be started (not found, not executable).
pub fn run_task(
    mut command: Command,
    stdout: &File,
    stderr: &File,
    timeout: Duration,
    env: &[(String, String)],
) -> io::Result<Ended> {
    command.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
    run(command, stdout, stderr, timeout, Role::Task, &mut || false)
}

/// [`run_task`], asking `over_limit` between looks at the child (every 20 ms at
/// most) whether it has passed a limit the caller keeps (the disk a sandbox may
/// fill); when it says so, the process group is killed and the run is
/// [`Ended::Stopped`].
///
/// # Errors
/// The program could not be started (not found, not executable).
pub fn run_task_watched(
    mut command: Command,
    stdout: &File,
    stderr: &File,
    timeout: Duration,
    env: &[(String, String)],
    over_limit: &mut dyn FnMut() -> bool,
) -> io::Result<Ended> {
    command.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
    run(command, stdout, stderr, timeout, Role::Task, over_limit)
}

/// Runs one of taskotron's own programs (a job's `taskotron run`) as [`run_task`]
/// does, but with the caller's environment, and stopped gently: SIGTERM when the
/// caller is interrupted or dies, SIGKILL after [`GRACE`] if it has not ended.
///
/// # Errors
/// The program could not be started (not found, not executable).
pub fn run_supervised(
    command: Command,
    stdout: &File,
    stderr: &File,
    timeout: Duration,
) -> io::Result<Ended> {
    run(
        command,
        stdout,
        stderr,
        timeout,
        Role::Supervised,
        &mut || false,
    )
}

fn run(
    mut command: Command,
    stdout: &File,
    stderr: &File,
    timeout: Duration,
    role: Role,
    over_limit: &mut dyn FnMut() -> bool,
) -> io::Result<Ended> {
    command
        .stdin(Stdio::null())
        .stdout(stdout.try_clone()?)
        .stderr(stderr.try_clone()?)
        .process_group(0);
    die_with_parent(&mut command, role.stop_signal());
    let stop = role.stop_signal();
    let (mut child, pgid, slot) = {
        let _spawning = SPAWNING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let child = command.spawn()?;
        // The child leads its own group, so its pid is the group id.
        let pgid = child.id() as libc::pid_t;
        (child, pgid, register(pgid, stop))
    };
    let mut stopping_since = None;
    if interrupted().is_some() {
        signal_group(pgid, stop);
        stopping_since = Some(Instant::now());
    }
    let deadline = taskotron_model::duration::deadline(Instant::now(), timeout);
    let mut pause = Duration::from_micros(200);
    let ended = loop {
        if let Some(status) = child.try_wait()? {
            break Ended::Exited(status);
        }
        let now = Instant::now();
        if now >= deadline {
            signal_group(pgid, libc::SIGKILL);
            // SIGKILL cannot be ignored; reap the leader so it leaves no zombie.
            let _ = child.wait();
            break Ended::TimedOut;
        }
        if over_limit() {
            signal_group(pgid, libc::SIGKILL);
            let _ = child.wait();
            break Ended::Stopped;
        }
        if let Some(signal) = interrupted() {
            // The handler has sent the stop signal; a supervised child gets GRACE.
            let since = *stopping_since.get_or_insert(now);
            if now.duration_since(since) >= GRACE {
                signal_group(pgid, libc::SIGKILL);
                let _ = child.wait();
                break Ended::Interrupted(signal);
            }
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(20));
    };
    signal_group(pgid, libc::SIGKILL);
    if let Some(n) = slot {
        GROUPS[n].store(0, Ordering::SeqCst);
    }
    reap_strays();
    Ok(match interrupted() {
        Some(signal) if !ended.success() => Ended::Interrupted(signal),
        _ => ended,
    })
}

/// Makes the child get `signal` when the thread that started it ends (Linux), so
/// that a worker killed with SIGKILL does not leave its job running on: another
/// worker will run that job once the lease ends, and a build id must never run twice
/// at once.
#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut Command, signal: libc::c_int) {
    let parent = libc::pid_t::try_from(std::process::id()).unwrap_or(0);
    // SAFETY: the closure runs between fork and exec and only makes async-signal-safe
    // system calls (prctl, getppid) on plain integers.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, signal) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before the prctl took effect.
            if libc::getppid() != parent {
                return Err(io::Error::other("the parent is gone"));
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_command: &mut Command, _signal: libc::c_int) {}

fn signal_group(pgid: libc::pid_t, signal: libc::c_int) {
    if pgid > 0 {
        // SAFETY: kill(2) has no memory-safety preconditions; a negative pid names a
        // process group, and ESRCH (group already gone) is the expected common case.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }
}

/// The pids of this process's children, from `/proc` (a subreaper's children include
/// the orphans it adopted).
fn children() -> Vec<libc::pid_t> {
    let me = libc::pid_t::try_from(std::process::id()).unwrap_or(0);
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<libc::pid_t>().ok())
        .filter(|pid| parent_of(*pid) == Some(me))
        .collect()
}

/// The parent pid in `/proc/<pid>/stat` (after the command name, which may hold
/// spaces and parentheses, so read from the last `)`).
fn parent_of(pid: libc::pid_t) -> Option<libc::pid_t> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// In a subreaper, kills and reaps every child that is not a running, registered
/// group leader: the orphans a finished or killed action left. Their own children
/// become ours as they die, so it goes round until none is left (bounded).
fn reap_strays() {
    if !SUBREAPER.load(Ordering::SeqCst) {
        return;
    }
    for _ in 0..100 {
        let strays: Vec<libc::pid_t> = {
            let _spawning = SPAWNING
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let strays: Vec<libc::pid_t> = children()
                .into_iter()
                .filter(|pid| !registered(*pid))
                .collect();
            for pid in &strays {
                // SAFETY: kill(2) on a child of ours, which stays ours (a zombie at
                // worst) until we reap it below, so the pid cannot be reused.
                unsafe {
                    libc::kill(*pid, libc::SIGKILL);
                }
            }
            strays
        };
        if strays.is_empty() {
            return;
        }
        for pid in strays {
            let mut status = 0;
            // SAFETY: waitpid(2) on a specific child; it was killed, so this returns.
            unsafe {
                libc::waitpid(pid, &mut status, 0);
            }
        }
    }
}

/// The processes, other than this one, that carry `TASKOTRON_BUILD_ID=<build_id>` in
/// their environment: every process of a job has it (the worker sets it on the
/// job's `taskotron run`, the runner on each task process). Processes of other users
/// cannot be read and are not found.
pub fn leftovers(build_id: &str) -> Vec<u32> {
    let me = std::process::id();
    let marker = format!("TASKOTRON_BUILD_ID={build_id}");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|b| *b == 0).any(|var| var == marker.as_bytes()))
        })
        .collect()
}

/// Kills what [`leftovers`] finds for `build_id` and waits up to `wait` for it to be
/// gone; returns what is still there.
pub fn kill_leftovers(build_id: &str, wait: Duration) -> Vec<u32> {
    let deadline = Instant::now() + wait.min(taskotron_model::duration::MAX);
    loop {
        let found = leftovers(build_id);
        if found.is_empty() || Instant::now() >= deadline {
            return found;
        }
        for pid in &found {
            if let Ok(pid) = libc::pid_t::try_from(*pid) {
                // SAFETY: kill(2) has no memory-safety preconditions.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
        // Zombies keep their environment until reaped by their parent; and the kernel
        // needs a moment to deliver SIGKILL.
        thread::sleep(Duration::from_millis(50));
        reap_strays();
    }
}

/// Runs one of the runner's own tools to its end and returns what it printed:
/// `rpm` looking up `environment.rpm`, `dnf` installing it. Unlike
/// [`run_task`] it keeps taskotron's environment (the tool works for the runner,
/// on the machine's package database, not for the task); stdin is closed.
///
/// # Errors
/// The program cannot be started.
pub fn tool_output(program: &str, args: &[&str]) -> io::Result<std::process::Output> {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
}

/// True when `program` is a path to an executable file, or an executable file in
/// one of `path`'s directories.
pub fn on_path(program: &str, path: &std::ffi::OsStr) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &std::path::Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        return executable(std::path::Path::new(program));
    }
    std::env::split_paths(path).any(|d| executable(&d.join(program)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Vec<(String, String)> {
        vec![("PATH".into(), std::env::var("PATH").unwrap_or_default())]
    }

    fn files() -> (tempfile::TempDir, File, File) {
        let dir = tempfile::tempdir().unwrap();
        let out = File::create(dir.path().join("out")).unwrap();
        let err = File::create(dir.path().join("err")).unwrap();
        (dir, out, err)
    }

    #[test]
    fn reports_exit_codes_and_writes_output() {
        let (dir, out, err) = files();
        let mut c = Command::new("sh");
        c.args(["-c", "echo hi; echo oops >&2; exit 3"]);
        let ended = run_task(c, &out, &err, Duration::from_secs(10), &env()).unwrap();
        assert_eq!(ended.code(), Some(3));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("out")).unwrap(),
            "hi\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("err")).unwrap(),
            "oops\n"
        );
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let (dir, out, err) = files();
        let marker = dir.path().join("survived");
        let mut c = Command::new("sh");
        // A grandchild in the background that would create the marker after the deadline.
        c.arg("-c").arg(format!(
            "(sleep 1; touch '{}') & sleep 30",
            marker.display()
        ));
        let start = Instant::now();
        let ended = run_task(c, &out, &err, Duration::from_millis(200), &env()).unwrap();
        assert_eq!(ended, Ended::TimedOut);
        assert!(start.elapsed() < Duration::from_secs(5));
        thread::sleep(Duration::from_millis(1300));
        assert!(!marker.exists(), "a grandchild outlived the timeout");
    }

    #[test]
    fn a_task_sees_only_the_environment_it_is_given() {
        let (dir, out, err) = files();
        std::env::set_var("TASKOTRON_PROCESS_TEST_SECRET", "canary");
        let mut c = Command::new("sh");
        c.args(["-c", "env"]);
        let mut vars = env();
        vars.push(("GIVEN".into(), "yes".into()));
        run_task(c, &out, &err, Duration::from_secs(10), &vars).unwrap();
        let shown = std::fs::read_to_string(dir.path().join("out")).unwrap();
        assert!(shown.contains("GIVEN=yes"), "{shown}");
        assert!(!shown.contains("canary"), "{shown}");
        assert!(!shown.contains("HOME="), "{shown}");
    }

    #[test]
    fn parent_pids_are_read_past_odd_command_names() {
        let me = libc::pid_t::try_from(std::process::id()).unwrap();
        let mut c = Command::new("sh");
        c.args(["-c", "exec -a 'a (b) c' sleep 5"]);
        let mut child = c.spawn().unwrap();
        let pid = libc::pid_t::try_from(child.id()).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(parent_of(pid), Some(me));
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn leftovers_are_found_by_the_build_id_in_their_environment() {
        let id = format!("leftover-test-{}", std::process::id());
        let mut c = Command::new("sleep");
        c.arg("30").env("TASKOTRON_BUILD_ID", &id);
        let mut child = c.spawn().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(leftovers(&id), vec![child.id()]);
        assert!(leftovers(&format!("{id}-other")).is_empty());
        // Killed; the zombie is ours to reap, so reap it in a moment.
        let reaper = std::thread::spawn(move || child.wait());
        assert!(kill_leftovers(&id, Duration::from_secs(5)).is_empty());
        reaper.join().unwrap().unwrap();
    }

    #[test]
    fn missing_programs_are_errors() {
        let (_dir, out, err) = files();
        let c = Command::new("/nonexistent/program");
        assert!(run_task(c, &out, &err, Duration::from_secs(1), &env()).is_err());
    }
}
