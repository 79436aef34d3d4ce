//! Running a child process with a deadline, its output going to files, and its whole
//! process group killed when the deadline passes.
//!
//! This is the process-execution adapter: the only module that spawns programs.
//! Output goes straight to files rather than pipes so that a chatty check can never
//! block on a full pipe and a daemon it leaves behind can never hold the run open.

use std::fs::File;
use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It exited by itself.
    Exited(ExitStatus),
    /// It ran past its deadline; its process group was killed.
    TimedOut,
    /// The runner was interrupted (SIGINT, SIGTERM, SIGHUP); the group was killed.
    Interrupted(i32),
}

/// The process groups of the children running now (one per worker thread), for the
/// signal handler; 0 is a free slot.
static GROUPS: [AtomicI32; 64] = [const { AtomicI32::new(0) }; 64];

/// Records a running group; `None` when every slot is taken (the group is then not
/// killed by a signal, only by its own deadline).
fn register(pgid: libc::pid_t) -> Option<usize> {
    GROUPS.iter().position(|slot| {
        slot.compare_exchange(0, pgid, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    })
}
/// The signal that interrupted the runner, or 0.
static INTERRUPTED: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    // Only async-signal-safe calls here: atomics, kill(2), signal(2), raise(3).
    if INTERRUPTED.swap(signal, Ordering::SeqCst) != 0 {
        // A second signal: stop now, the default way.
        // SAFETY: both calls are async-signal-safe and take plain integers.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
        return;
    }
    for slot in &GROUPS {
        let group = slot.load(Ordering::SeqCst);
        if group > 0 {
            // SAFETY: kill(2) is async-signal-safe.
            unsafe {
                libc::kill(-group, libc::SIGKILL);
            }
        }
    }
}

/// Makes SIGINT, SIGTERM and SIGHUP kill the running action's process group and
/// mark the run interrupted, so the runner can still write its report. A second
/// signal ends the process at once. Children run in their own process groups, so
/// without this a Ctrl-C would leave them running.
pub fn install_interrupt_handler() {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: `on_signal` only performs async-signal-safe operations.
        unsafe {
            libc::signal(signal, on_signal as *const () as libc::sighandler_t);
        }
    }
}

/// The signal that interrupted the runner, if one did.
pub fn interrupted() -> Option<i32> {
    match INTERRUPTED.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

impl Ended {
    /// The exit code, or the signal as `128 + n` the way shells report it.
    pub fn code(self) -> Option<i32> {
        match self {
            Ended::Exited(status) => status.code().or_else(|| status.signal().map(|s| 128 + s)),
            Ended::TimedOut | Ended::Interrupted(_) => None,
        }
    }

    /// True for an exit with status 0.
    pub fn success(self) -> bool {
        matches!(self, Ended::Exited(s) if s.success())
    }
}

/// Runs `command` in its own process group with stdin closed, stdout and stderr
/// appended to the given files, until it exits or `timeout` passes. Either way,
/// whatever is left of its process group is killed before returning, so no
/// grandchild outlives the action.
///
/// # Errors
/// The program could not be started (not found, not executable).
pub fn run(
    mut command: Command,
    stdout: &File,
    stderr: &File,
    timeout: Duration,
) -> io::Result<Ended> {
    command
        .stdin(Stdio::null())
        .stdout(stdout.try_clone()?)
        .stderr(stderr.try_clone()?)
        .process_group(0);
    die_with_parent(&mut command);
    let mut child = command.spawn()?;
    // The child leads its own group, so its pid is the group id.
    let pgid = child.id() as libc::pid_t;
    let slot = register(pgid);
    if interrupted().is_some() {
        kill_group(pgid);
    }
    let deadline = crate::duration::deadline(Instant::now(), timeout);
    let mut pause = Duration::from_micros(200);
    let ended = loop {
        if let Some(status) = child.try_wait()? {
            break Ended::Exited(status);
        }
        let now = Instant::now();
        if now >= deadline {
            kill_group(pgid);
            // SIGKILL cannot be ignored; reap the leader so it leaves no zombie.
            let _ = child.wait();
            break Ended::TimedOut;
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(20));
    };
    kill_group(pgid);
    if let Some(n) = slot {
        GROUPS[n].store(0, Ordering::SeqCst);
    }
    Ok(match interrupted() {
        Some(signal) if !ended.success() => Ended::Interrupted(signal),
        _ => ended,
    })
}

/// Makes the child die when the thread that started it does (Linux), so that a
/// worker killed with SIGKILL does not leave its job running on: another worker will
/// run that job once the lease ends, and a build id must never run twice at once.
#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut Command) {
    let parent = libc::pid_t::try_from(std::process::id()).unwrap_or(0);
    // SAFETY: the closure runs between fork and exec and only makes async-signal-safe
    // system calls (prctl, getppid) on plain integers.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
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
fn die_with_parent(_command: &mut Command) {}

fn kill_group(pgid: libc::pid_t) {
    if pgid > 0 {
        // SAFETY: kill(2) has no memory-safety preconditions; a negative pid names a
        // process group, and ESRCH (group already gone) is the expected common case.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
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
        let ended = run(c, &out, &err, Duration::from_secs(10)).unwrap();
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
        let ended = run(c, &out, &err, Duration::from_millis(200)).unwrap();
        assert_eq!(ended, Ended::TimedOut);
        assert!(start.elapsed() < Duration::from_secs(5));
        thread::sleep(Duration::from_millis(1300));
        assert!(!marker.exists(), "a grandchild outlived the timeout");
    }

    #[test]
    fn missing_programs_are_errors() {
        let (_dir, out, err) = files();
        let c = Command::new("/nonexistent/program");
        assert!(run(c, &out, &err, Duration::from_secs(1)).is_err());
    }
}
