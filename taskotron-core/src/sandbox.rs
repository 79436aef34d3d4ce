//! `isolation: sandbox`: each process a task starts (its `shell` lines, its `python`
//! callable, `createrepo_c`) runs under bubblewrap (`bwrap`, Debian's `bubblewrap`).
//!
//! What the process sees: a root of its own holding the host's `/usr` (and the
//! `/bin`, `/lib*` links to it), a few files of `/etc` that programs need to start
//! ([`ETC`]; not the config, not credentials), the task directory, read-only; the
//! run's scratch directory (workdir, `HOME`, `TMPDIR`) and its artifacts directory,
//! writable; a private `/tmp`, `/proc` and `/dev`; paths the config adds read-only
//! (`sandbox_paths`). Nothing else of the host exists in it: not the config file,
//! the state directory (queue, spool, cache, mirrors), other runs' artifacts or
//! scratch, or the worker's home. Where one of those lies inside something the
//! sandbox shows, it is masked (an empty directory, `/dev/null` for a file).
//!
//! What it is: its own user (no capabilities, no further user namespaces), mount,
//! PID, IPC, UTS and cgroup namespaces, and its own network namespace (only a
//! loopback of its own) unless the formula says `environment.network: true`; killed
//! with its runner (`--die-with-parent`; the PID namespace ends every process in it
//! when its first process dies, so nothing is left behind). Resource limits from the
//! config apply to every process in it: address space, open files and file size as
//! rlimits, processes as a `pids` cgroup where the runner may make one (cgroup v1's
//! `pids` hierarchy) and as `RLIMIT_NPROC` otherwise (which the kernel does not
//! apply to root).
//!
//! Directives that fetch (`koji`, `bodhi`, `distgit`) run in the runner, outside
//! the sandbox, so a task without network still gets its files.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The files and directories of `/etc` a sandbox shows (those that exist): what
/// programs need to start, resolve names and verify TLS, and nothing with secrets.
pub const ETC: &[&str] = &[
    "alternatives",
    "ca-certificates",
    "crypto-policies",
    "gai.conf",
    "group",
    "host.conf",
    "hosts",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "mime.types",
    "nsswitch.conf",
    "os-release",
    "passwd",
    "perl",
    "pki",
    "protocols",
    "resolv.conf",
    "rpm",
    "services",
    "ssl",
    "timezone",
];

/// Directories of [`ETC`] entries that hold private keys: masked with an empty
/// directory. (A sandbox started by root keeps root as the owner of root's files,
/// so modes alone would not keep them out.)
const ETC_PRIVATE: &[&str] = &[
    "/etc/ssl/private",
    "/etc/pki/tls/private",
    "/etc/pki/CA/private",
];

/// The top-level names that merged-`/usr` systems make links into `/usr` (shown as
/// the host has them: a link, or a directory read-only).
const USR_LINKS: &[&str] = &["bin", "sbin", "lib", "lib32", "lib64", "libx32"];

/// Limits of every process in a sandbox; `None`: no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Address space of each process, in bytes (`RLIMIT_AS`).
    pub memory: Option<u64>,
    /// Processes at once (a `pids` cgroup, or `RLIMIT_NPROC`).
    pub processes: Option<u64>,
    /// Open files of each process (`RLIMIT_NOFILE`).
    pub open_files: Option<u64>,
    /// Size of any file a process writes, in bytes (`RLIMIT_FSIZE`).
    pub file_size: Option<u64>,
    /// What the run's writable directories may hold on disk, in bytes: a process
    /// that writes past it is stopped (looked at four times a second).
    pub disk: Option<u64>,
}

/// How sandboxes are made, from the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxSettings {
    /// The limits of every sandboxed process.
    pub limits: Limits,
    /// Whether a formula may have network (`environment.network: true`); when not,
    /// such a formula is refused before it runs.
    pub allow_network: bool,
    /// Host paths shown read-only besides `/usr` (an interpreter under `/opt`).
    pub read_only: Vec<PathBuf>,
    /// Paths never shown, masked where they lie inside a shown one: the config
    /// file, the state directory, the artifacts and scratch roots.
    pub hidden: Vec<PathBuf>,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            allow_network: true,
            read_only: Vec::new(),
            hidden: Vec::new(),
        }
    }
}

/// Why a sandbox cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// bubblewrap is not installed.
    #[error("`isolation: sandbox` needs bubblewrap (`bwrap`), which is not installed on this machine; install it (Debian and Fedora: the `bubblewrap` package) or run with `--isolation none`")]
    Missing,
    /// A path the config wants shown does not exist.
    #[error("`sandbox_paths` names `{}`, which does not exist on this machine", .0.display())]
    NoSuchPath(PathBuf),
}

impl SandboxError {
    /// The failure a run stopped by it names: `TOOL_MISSING` without bubblewrap,
    /// `SANDBOX_MISCONFIGURED` for a config that cannot be followed; both the
    /// machine's problem, not the task's.
    pub fn kind(&self) -> crate::failure::FailureKind {
        match self {
            SandboxError::Missing => crate::failure::FailureKind::TOOL_MISSING,
            SandboxError::NoSuchPath(_) => crate::failure::FailureKind::new(
                "SANDBOX_MISCONFIGURED",
                crate::failure::Cause::Infrastructure,
            ),
        }
    }
}

/// A host path shown in the sandbox at the same place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    /// Shown read-only.
    ReadOnly(PathBuf),
    /// Shown writable.
    Writable(PathBuf),
}

/// The sandbox of one run: what it shows and how it is limited. Each process of the
/// run is wrapped by [`Sandbox::confine`].
#[derive(Debug)]
pub struct Sandbox {
    bwrap: PathBuf,
    /// Arguments of every `bwrap` of the run, up to the per-process part.
    args: Vec<OsString>,
    /// What the sandbox shows, to tell a program that exists in it from one that
    /// does not before starting it.
    shown: Vec<PathBuf>,
    limits: Limits,
    /// The run's writable directories, whose disk use [`Sandbox::disk_used`] adds up.
    writable: Vec<PathBuf>,
    /// Where this run's `pids` cgroups go, when the runner may make them.
    pids: Option<PathBuf>,
    run_id: String,
    next: std::sync::atomic::AtomicU32,
}

/// `bwrap` on `path` (the runner's `PATH`).
///
/// # Errors
/// It is not there.
pub fn locate(path: &OsStr) -> Result<PathBuf, SandboxError> {
    std::env::split_paths(path)
        .map(|d| d.join("bwrap"))
        .find(|p| is_executable(p))
        .ok_or(SandboxError::Missing)
}

/// Whether this bubblewrap is 0.8.0 or later (`--disable-userns`, `--size`); older
/// ones (Ubuntu 22.04's 0.6) get a sandbox without them. Asked once per process.
fn is_modern(bwrap: &Path) -> bool {
    static MODERN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *MODERN.get_or_init(|| {
        let Some(program) = bwrap.to_str() else {
            return false;
        };
        let out = crate::process::tool_output(program, &["--version"]).ok();
        let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
        text.as_deref()
            .and_then(|t| t.split_whitespace().nth(1))
            .is_some_and(|v| version_at_least(v, (0, 8)))
    })
}

/// Whether `version` (`0.8.0`) is at least `(major, minor)`.
fn version_at_least(version: &str, (major, minor): (u64, u64)) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    let (a, b) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (a, b) >= (major, minor)
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// What one run's sandbox is made of.
#[derive(Debug, Clone)]
pub struct RunPaths<'a> {
    /// The run's id (names its cgroups).
    pub run_id: &'a str,
    /// The task directory (read-only).
    pub task: &'a Path,
    /// The run's own directories (writable): its scratch and its artifacts.
    pub writable: &'a [&'a Path],
    /// Whether the formula has network.
    pub network: bool,
}

impl Sandbox {
    /// The sandbox of a run, with `bwrap` found on `path`.
    ///
    /// # Errors
    /// bubblewrap is not installed.
    pub fn new(
        settings: &SandboxSettings,
        run: &RunPaths<'_>,
        path: &OsStr,
    ) -> Result<Self, SandboxError> {
        let bwrap = locate(path)?;
        if let Some(p) = settings.read_only.iter().find(|p| !p.exists()) {
            return Err(SandboxError::NoSuchPath(p.clone()));
        }
        let modern = is_modern(&bwrap);
        let mut args: Vec<OsString> = Vec::new();
        let mut push = |items: &[&OsStr]| args.extend(items.iter().map(|s| s.to_os_string()));
        push(&[
            "--die-with-parent".as_ref(),
            "--new-session".as_ref(),
            "--unshare-user".as_ref(),
            "--unshare-pid".as_ref(),
            "--unshare-ipc".as_ref(),
            "--unshare-uts".as_ref(),
            "--unshare-cgroup-try".as_ref(),
            "--cap-drop".as_ref(),
            "ALL".as_ref(),
            "--hostname".as_ref(),
            "taskotron".as_ref(),
        ]);
        if modern {
            // No user namespace of its own inside: nothing to regain capabilities in.
            push(&["--disable-userns".as_ref()]);
        }
        if !run.network {
            push(&["--unshare-net".as_ref()]);
        }
        let mut shown: Vec<PathBuf> = vec![PathBuf::from("/usr")];
        push(&["--ro-bind".as_ref(), "/usr".as_ref(), "/usr".as_ref()]);
        for name in USR_LINKS {
            let host = Path::new("/").join(name);
            match std::fs::read_link(&host) {
                Ok(target) => push(&["--symlink".as_ref(), target.as_os_str(), host.as_os_str()]),
                Err(_) if host.is_dir() => {
                    push(&["--ro-bind".as_ref(), host.as_os_str(), host.as_os_str()]);
                    shown.push(host);
                }
                Err(_) => {}
            }
        }
        push(&[
            "--proc".as_ref(),
            "/proc".as_ref(),
            "--dev".as_ref(),
            "/dev".as_ref(),
        ]);
        // The private `/tmp` is memory: it holds no more than one file may.
        if let Some(size) = settings.limits.file_size.filter(|_| modern) {
            push(&["--size".as_ref(), OsStr::new(&size.to_string())]);
        }
        push(&[
            "--tmpfs".as_ref(),
            "/tmp".as_ref(),
            "--dir".as_ref(),
            "/etc".as_ref(),
        ]);
        let mut etc: Vec<OsString> = ETC.iter().map(OsString::from).collect();
        // Interpreters' own settings (`/etc/python3.11`) come with them.
        etc.extend(
            std::fs::read_dir("/etc")
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.file_name())
                .filter(|n| n.to_string_lossy().starts_with("python")),
        );
        for name in etc {
            let p = Path::new("/etc").join(name);
            push(&["--ro-bind-try".as_ref(), p.as_os_str(), p.as_os_str()]);
        }
        for private in ETC_PRIVATE.iter().map(Path::new).filter(|p| p.is_dir()) {
            push(&["--tmpfs".as_ref(), private.as_os_str()]);
        }
        for p in settings
            .read_only
            .iter()
            .map(|p| p.as_path())
            .chain([run.task])
        {
            push(&["--ro-bind".as_ref(), p.as_os_str(), p.as_os_str()]);
            shown.push(p.to_path_buf());
        }
        // What must stay unseen is masked where a shown path holds it; the run's own
        // directories are bound after, so they appear inside the masks.
        for h in &settings.hidden {
            if !shown.iter().any(|s| h.starts_with(s)) {
                continue;
            }
            if h.is_dir() {
                push(&["--tmpfs".as_ref(), h.as_os_str()]);
            } else if h.exists() {
                push(&["--ro-bind".as_ref(), "/dev/null".as_ref(), h.as_os_str()]);
            }
        }
        for p in run.writable {
            push(&["--bind".as_ref(), p.as_os_str(), p.as_os_str()]);
            shown.push(p.to_path_buf());
        }
        Ok(Self {
            bwrap,
            args,
            shown,
            limits: settings.limits,
            writable: run.writable.iter().map(|p| p.to_path_buf()).collect(),
            pids: settings.limits.processes.and_then(|_| pids_root()),
            run_id: run.run_id.to_string(),
            next: std::sync::atomic::AtomicU32::new(0),
        })
    }

    /// `command` as it runs in the sandbox, with `extra` shown too (a directive's own
    /// hand-off files). The environment is the caller's to set, as for any command;
    /// bubblewrap hands it on unchanged.
    ///
    /// # Errors
    /// The program does not exist in the sandbox (`NotFound`, as for a missing
    /// program outside), or its `pids` cgroup cannot be made.
    pub fn confine(&self, command: &Command, extra: &[Bind], path: &OsStr) -> io::Result<Confined> {
        let program = command.get_program();
        if !self.finds(program, path, extra) {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("`{}` is not in the sandbox", program.to_string_lossy()),
            ));
        }
        let mut c = Command::new(&self.bwrap);
        c.args(&self.args);
        for b in extra {
            match b {
                Bind::ReadOnly(p) => c.arg("--ro-bind").arg(p).arg(p),
                Bind::Writable(p) => c.arg("--bind").arg(p).arg(p),
            };
        }
        // The root itself (where the mount points were made) takes no writes.
        c.args(["--remount-ro", "/"]);
        if let Some(dir) = command.get_current_dir() {
            c.arg("--chdir").arg(dir);
        }
        c.arg("--").arg(program).args(command.get_args());
        for (k, v) in command.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        let cgroup = match &self.pids {
            Some(root) => Some(PidsCgroup::make(
                root,
                // The runner's pid first: the sweep of a later runner tells
                // whose group it is.
                &format!(
                    "{}-{}-{}",
                    std::process::id(),
                    self.run_id,
                    self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                ),
                self.limits.processes.unwrap_or(u64::MAX),
            )?),
            None => None,
        };
        limit(&mut c, self.limits, cgroup.as_ref().map(|g| g.procs_fd()));
        Ok(Confined { command: c, cgroup })
    }

    /// What the run's processes may write to disk in all (`sandbox_disk`).
    pub fn disk_limit(&self) -> Option<u64> {
        self.limits.disk
    }

    /// The disk the run's writable directories use now: allocated blocks, so a
    /// sparse file counts for what it holds, and a hard link once per link (an
    /// overestimate that errs on the side of the limit).
    pub fn disk_used(&self) -> u64 {
        fn walk(dir: &Path, total: &mut u64) {
            use std::os::unix::fs::MetadataExt;
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let Ok(meta) = entry.path().symlink_metadata() else {
                    continue;
                };
                *total = total.saturating_add(meta.blocks().saturating_mul(512));
                if meta.is_dir() {
                    walk(&entry.path(), total);
                }
            }
        }
        let mut total = 0;
        for dir in &self.writable {
            walk(dir, &mut total);
        }
        total
    }

    /// Whether `program` exists in the sandbox: a path under what it shows, or a
    /// name found on `path` in a directory it shows.
    fn finds(&self, program: &OsStr, path: &OsStr, extra: &[Bind]) -> bool {
        // Compared as the host resolves them: `/bin/x` is `/usr/bin/x` on a
        // merged-`/usr` host, and a task directory may be reached through a link.
        let real = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        let extra: Vec<&Path> = extra
            .iter()
            .map(|b| match b {
                Bind::ReadOnly(p) | Bind::Writable(p) => p.as_path(),
            })
            .collect();
        let visible = |p: &Path| {
            let p = real(p);
            p.exists()
                && self
                    .shown
                    .iter()
                    .map(PathBuf::as_path)
                    .chain(extra.iter().copied())
                    .any(|s| p.starts_with(real(s)))
        };
        let p = Path::new(program);
        if p.components().count() > 1 {
            // A relative path is the task's own (commands run in its directory).
            return !p.is_absolute() || visible(p);
        }
        std::env::split_paths(path).any(|d| {
            let candidate = d.join(p);
            visible(&candidate) && is_executable(&candidate)
        })
    }
}

/// A command ready to run in a sandbox; keep it until the command has ended (it
/// removes the command's cgroup when dropped).
#[derive(Debug)]
pub struct Confined {
    /// `bwrap ... -- <the command>`.
    pub command: Command,
    cgroup: Option<PidsCgroup>,
}

impl Confined {
    /// A command run as it is (`isolation: none`).
    pub fn plain(command: Command) -> Self {
        Self {
            command,
            cgroup: None,
        }
    }

    /// Takes what must outlive the command (its cgroup), leaving the command to run.
    pub fn limit_guard(&mut self) -> LimitGuard {
        LimitGuard(self.cgroup.take())
    }
}

/// What a confined command's limits hold while it runs; dropped after it ended.
#[derive(Debug)]
pub struct LimitGuard(Option<PidsCgroup>);

impl LimitGuard {
    /// `Some` with the limit when the command's processes were refused a fork at
    /// the process limit.
    pub fn process_limit_hit(&self) -> Option<u64> {
        self.0.as_ref().and_then(PidsCgroup::hit)
    }
}

/// Sets the rlimits (and the cgroup) of `limits` on `command` and its children.
fn limit(command: &mut Command, limits: Limits, procs: Option<i32>) {
    let pairs: Vec<(libc::__rlimit_resource_t, u64)> = [
        (libc::RLIMIT_AS, limits.memory),
        (libc::RLIMIT_NOFILE, limits.open_files),
        (libc::RLIMIT_FSIZE, limits.file_size),
        // Where a cgroup counts the processes, the rlimit (which counts every process
        // of the user, not only the sandbox's) is not needed.
        (
            libc::RLIMIT_NPROC,
            limits.processes.filter(|_| procs.is_none()),
        ),
    ]
    .into_iter()
    .filter_map(|(r, v)| v.map(|v| (r, v)))
    .collect();
    // SAFETY: the closure runs between fork and exec and makes only async-signal-safe
    // system calls (setrlimit, write) on values prepared before the fork.
    unsafe {
        command.pre_exec(move || {
            if let Some(fd) = procs {
                // `0` moves the writing thread: this child, one thread after fork, and
                // what it starts after. Through `tasks` rather than `cgroup.procs`:
                // a whole-process move takes the kernel's thread-group lock, whose RCU
                // wait cost about 10 ms per sandboxed process (`bench isolation`).
                if libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                    return Err(io::Error::last_os_error());
                }
            }
            for (resource, value) in &pairs {
                let lim = libc::rlimit {
                    rlim_cur: *value,
                    rlim_max: *value,
                };
                if libc::setrlimit(*resource, &lim) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

/// The directory under which this runner may make `pids` cgroups: cgroup v1's
/// `pids` hierarchy, writable (root). `None` elsewhere (cgroup v2 delegates no
/// controller to a process's own cgroup; there `RLIMIT_NPROC` applies).
fn pids_root() -> Option<PathBuf> {
    let root = Path::new("/sys/fs/cgroup/pids");
    if !root.join("pids.max").exists() && !root.join("cgroup.procs").exists() {
        return None;
    }
    let ours = root.join("taskotron");
    match std::fs::create_dir(&ours) {
        Ok(()) => Some(ours),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            // Groups that runners which have ended left behind. A group is named
            // after the runner's pid, and one of a live runner may be about to take
            // its first process (an empty group is removable), so only the dead's go.
            for entry in std::fs::read_dir(&ours).into_iter().flatten().flatten() {
                let name = entry.file_name();
                let owner = name
                    .to_str()
                    .and_then(|n| n.split('-').next())
                    .and_then(|p| p.parse::<libc::pid_t>().ok());
                if owner.is_some_and(|pid| !alive(pid)) {
                    let _ = std::fs::remove_dir(entry.path());
                }
            }
            Some(ours)
        }
        Err(_) => None,
    }
}

/// Whether process `pid` exists.
fn alive(pid: libc::pid_t) -> bool {
    // SAFETY: kill(2) with signal 0 sends nothing; it only checks that the process
    // exists (EPERM: it does, and is another user's).
    pid > 0
        && (unsafe { libc::kill(pid, 0) } == 0
            || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
}

/// One process tree's `pids` cgroup (its `tasks` file open for the move), removed
/// when dropped.
#[derive(Debug)]
struct PidsCgroup {
    dir: PathBuf,
    procs: std::fs::File,
}

impl PidsCgroup {
    fn make(root: &Path, name: &str, max: u64) -> io::Result<Self> {
        let dir = root.join(name);
        let _ = std::fs::remove_dir(&dir);
        std::fs::create_dir(&dir)?;
        std::fs::write(dir.join("pids.max"), max.to_string())?;
        let procs = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join("tasks"))?;
        Ok(Self { dir, procs })
    }

    fn procs_fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        self.procs.as_raw_fd()
    }

    /// The limit, when a fork was refused at it.
    fn hit(&self) -> Option<u64> {
        let events = std::fs::read_to_string(self.dir.join("pids.events")).ok()?;
        let refused: u64 = events
            .lines()
            .find_map(|l| l.strip_prefix("max "))?
            .trim()
            .parse()
            .ok()?;
        if refused == 0 {
            return None;
        }
        std::fs::read_to_string(self.dir.join("pids.max"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for PidsCgroup {
    fn drop(&mut self) {
        // The processes were killed with their group and namespace, but the kernel
        // may hold the group a few milliseconds more while it reaps them; the run
        // does not wait for that. What is left is removed by the next sandbox's
        // sweep (`pids_root`).
        let _ = std::fs::remove_dir(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runners start sandboxes side by side: a new one's sweep of ended runners'
    /// groups must not take the still empty group of a runner about to use it.
    #[test]
    fn a_new_sandbox_leaves_a_live_runners_groups_alone() {
        let settings = SandboxSettings {
            limits: Limits {
                processes: Some(16),
                ..Limits::default()
            },
            ..SandboxSettings::default()
        };
        let task = tempfile::tempdir().unwrap();
        let run = RunPaths {
            run_id: "sweep",
            task: task.path(),
            writable: &[],
            network: false,
        };
        let path = OsStr::new("/usr/bin:/bin");
        let Ok(first) = Sandbox::new(&settings, &run, path) else {
            return; // no bubblewrap here
        };
        if first.pids.is_none() {
            return; // no pids cgroup to make here
        }
        let mut confined = first.confine(&Command::new("true"), &[], path).unwrap();
        let _second = Sandbox::new(&settings, &run, path).unwrap();
        let _guard = confined.limit_guard();
        let status = confined.command.status().unwrap();
        assert!(
            status.success(),
            "the first runner's group was swept: {status}"
        );
    }

    #[test]
    fn versions_compare_by_number() {
        assert!(version_at_least("0.8.0", (0, 8)));
        assert!(version_at_least("0.10.0", (0, 8)));
        assert!(version_at_least("1.0", (0, 8)));
        assert!(!version_at_least("0.6.1", (0, 8)));
        assert!(!version_at_least("junk", (0, 8)));
    }

    #[test]
    fn a_missing_path_to_show_is_named() {
        let settings = SandboxSettings {
            read_only: vec![PathBuf::from("/no/such/interpreter")],
            ..SandboxSettings::default()
        };
        let run = RunPaths {
            run_id: "r",
            task: Path::new("/tmp"),
            writable: &[],
            network: false,
        };
        match Sandbox::new(&settings, &run, OsStr::new("/usr/bin:/bin")) {
            Err(e @ SandboxError::NoSuchPath(_)) => {
                assert!(e.to_string().contains("/no/such/interpreter"), "{e}")
            }
            Err(SandboxError::Missing) => {} // no bubblewrap here
            Ok(_) => panic!("a sandbox that cannot be made"),
        }
    }

    #[test]
    fn only_what_the_sandbox_shows_is_found() {
        let settings = SandboxSettings::default();
        let task = tempfile::tempdir().unwrap();
        let run = RunPaths {
            run_id: "r",
            task: task.path(),
            writable: &[],
            network: false,
        };
        let Ok(sandbox) = Sandbox::new(&settings, &run, OsStr::new("/usr/bin:/bin")) else {
            return; // no bubblewrap here
        };
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::write(elsewhere.path().join("tool"), "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            elsewhere.path().join("tool"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        let path = std::env::join_paths([elsewhere.path(), Path::new("/usr/bin")]).unwrap();
        assert!(sandbox.finds(OsStr::new("sh"), &path, &[]));
        // An absolute path through a link into `/usr` (merged `/usr`: `/bin/sh`).
        if std::fs::read_link("/bin").is_ok() {
            assert!(sandbox.finds(OsStr::new("/bin/sh"), &path, &[]));
        }
        assert!(!sandbox.finds(OsStr::new("/root/tool"), &path, &[]));
        assert!(!sandbox.finds(OsStr::new("tool"), &path, &[]), "not shown");
        // What a directive shows for one process counts for that process.
        let tool = elsewhere.path().join("tool");
        let shown = [Bind::ReadOnly(elsewhere.path().to_path_buf())];
        assert!(sandbox.finds(tool.as_os_str(), &path, &shown));
        assert!(!sandbox.finds(tool.as_os_str(), &path, &[]));
        let err = sandbox
            .confine(&Command::new("tool"), &[], &path)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        let confined = sandbox.confine(&Command::new("sh"), &[], &path).unwrap();
        let args: Vec<String> = confined
            .command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let at = |flag: &str| args.iter().position(|a| a == flag);
        assert!(at("--unshare-net").is_some(), "no network unless asked");
        assert!(at("--cap-drop").is_some() && at("--die-with-parent").is_some());
        assert!(
            at("--remount-ro") < at("--"),
            "the root is read-only before the command"
        );
        assert_eq!(args.last().map(String::as_str), Some("sh"));
        // Root's private keys stay out, modes notwithstanding.
        if Path::new("/etc/ssl/private").is_dir() {
            assert!(
                args.windows(2)
                    .any(|w| w[0] == "--tmpfs" && w[1] == "/etc/ssl/private"),
                "{args:?}"
            );
        }
    }
}
