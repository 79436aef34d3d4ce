//! Runs on a remote machine over SSH (`--ssh user@host[:port]`, the config's
//! `remote`), as the original runner's `--ssh` did: the task, the job and a
//! configuration without secrets go to the machine; the same `taskotron` runs the
//! job there (`run-job`, copied first when the machine lacks this very build);
//! its status lines come back live; its artifacts and report come back at the
//! end; and what its reporting deferred is sent from here, where the credentials
//! are ([`crate::deferred`]).
//!
//! A connection that cannot be made or drops is an infrastructure failure
//! (`REMOTE_UNREACHABLE`, `REMOTE_DISCONNECTED`), which a worker's queue tries
//! again. Four commands go over one multiplexed connection per run: look (binary,
//! arch, a directory), send (one tar stream), run, fetch (one tar stream, then the
//! directory is removed).

mod bundle;
mod session;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::dict::NamedFailure;
use crate::failure::{Cause, FailureKind};
use crate::formula::Formula;
use crate::ports::Ports;
use crate::runner::{Event, Observer, RunLog, RunOptions};
use crate::{Arch, ExecutionReport, ExecutionStatus, SshTarget};

pub use session::SshError;

/// The machine could not be reached: no route, refused, host key unknown or
/// changed, authentication refused.
pub const REMOTE_UNREACHABLE: FailureKind =
    FailureKind::new("REMOTE_UNREACHABLE", Cause::Infrastructure);
/// The connection dropped while the run was being sent, run or fetched.
pub const REMOTE_DISCONNECTED: FailureKind =
    FailureKind::new("REMOTE_DISCONNECTED", Cause::Infrastructure);
/// The machine has another architecture than this build of taskotron.
pub const REMOTE_ARCH_MISMATCH: FailureKind =
    FailureKind::new("REMOTE_ARCH_MISMATCH", Cause::Infrastructure);
/// A step on the machine failed (no `tar`, a full disk, no report written).
pub const REMOTE_FAILED: FailureKind = FailureKind::new("REMOTE_FAILED", Cause::Infrastructure);

/// Where and how runs go to a remote machine.
#[derive(Debug, Clone)]
pub struct Remote {
    /// `user@host[:port]`.
    pub target: SshTarget,
    /// The private key (`ssh -i`); `None`: what ssh picks.
    pub privkey: Option<PathBuf>,
    /// An ssh_config(5) file; `None`: the user's.
    pub ssh_config: Option<PathBuf>,
    /// A known_hosts file; `None`: the user's.
    pub known_hosts: Option<PathBuf>,
    /// How long connecting may take.
    pub connect_timeout: Duration,
    /// Where connections are kept for the next run (the state directory's `ssh/`).
    pub control_dir: PathBuf,
    /// The `taskotron` program copied to the machine (this build).
    pub program: PathBuf,
    /// The configuration the remote runner reads, as a mapping of keys: this
    /// machine's, without its secrets and without `remote` (see
    /// [`crate::config::Config::remote_to`]). Its directories are set per run.
    pub config: serde_json::Value,
}

/// Runs `formula` as `opts` say on `remote`, telling `observer` as it goes. Never
/// fails: what goes wrong is a NOT_OK report with a named failure.
pub fn run(
    formula: &Formula,
    opts: &RunOptions,
    remote: &Remote,
    ports: Ports<'_>,
    observer: &mut dyn Observer,
) -> ExecutionReport {
    let started = Instant::now();
    let run_id = opts.run_id.clone().unwrap_or_else(|| ports.ids.run_id());
    let arch = opts.arch.unwrap_or(Arch::Noarch);
    let run_dir = std::path::absolute(opts.artifacts_root.join(&run_id))
        .unwrap_or_else(|_| opts.artifacts_root.join(&run_id));
    // The report names this machine's run directory; the remote's names its own
    // (and is rewritten when it comes back).
    let mut report = crate::runner::starting_report(formula, opts, &run_id, &run_dir, ports);
    // The local run's `taskotron.log`: what happens here, the remote's status lines
    // as they come, and at the end the remote's own log, appended.
    let opened = taskotron_beneath::Dir::create_at(&run_dir).ok();
    let mut log = RunLog::open(opened.as_ref(), ports);
    observer.event(Event::Started {
        run_id: &run_id,
        artifacts: &run_dir,
    });
    log.line(&format!(
        "run {run_id}: {} for {} {} on {arch} (build id {}), on {} over SSH",
        formula.checkname(),
        opts.input.item_type,
        opts.input.item,
        opts.input.build_id.as_deref().unwrap_or("none, standalone"),
        remote.target
    ));
    let outcome = Attempt {
        formula,
        opts,
        remote,
        run_id: &run_id,
        run_dir: &run_dir,
        log: &mut log,
        observer,
    }
    .go();
    match outcome {
        Ok((mut remote_report, deferred)) => {
            remote_report.remote = report.remote.take();
            remote_report.started_at = std::mem::take(&mut report.started_at);
            report = remote_report;
            if let Some(d) = deferred.filter(|d| !d.is_empty()) {
                match crate::deferred::deliver(&d, &opts.reporting, formula.taskdir(), &run_dir) {
                    Ok(done) => done.lines.iter().for_each(|l| log.line(l)),
                    Err(e) => {
                        log.line(&e.message);
                        report.execution_status = ExecutionStatus::NotOk;
                        report.status = Some(e.message);
                        report.failure = e.kind.map(|k| NamedFailure {
                            kind: k.name.into(),
                            cause: k.cause,
                        });
                    }
                }
            }
        }
        Err((kind, why)) => {
            log.line(&why);
            report.execution_status = ExecutionStatus::NotOk;
            report.status = Some(why);
            report.failure = Some(NamedFailure {
                kind: kind.name.into(),
                cause: kind.cause,
            });
        }
    }
    report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    // The saved report is this machine's: it says where the run went (`remote`),
    // names this machine's directory, and exists when the machine was never
    // reached. Opened anew, since the artifacts that came back may have replaced
    // the directory.
    let saved = taskotron_beneath::Dir::create_at(&run_dir)
        .map_err(|e| e.to_string())
        .and_then(|dir| crate::runner::write_json(&dir, &report).map_err(|e| e.to_string()));
    if let Err(e) = saved {
        log.line(&format!("cannot write execution.json: {e}"));
    }
    report
}

type Failed = (FailureKind, String);

struct Attempt<'a, 'p> {
    formula: &'a Formula,
    opts: &'a RunOptions,
    remote: &'a Remote,
    run_id: &'a str,
    run_dir: &'a Path,
    log: &'a mut RunLog<'p>,
    observer: &'a mut dyn Observer,
}

impl Attempt<'_, '_> {
    fn go(&mut self) -> Result<(ExecutionReport, Option<crate::deferred::Deferred>), Failed> {
        let target = &self.remote.target;
        let hash = program_hash(
            &self.remote.program,
            &self.remote.control_dir.join("builds"),
        )
        .map_err(|e| (REMOTE_FAILED, format!("{}: {e}", REMOTE_FAILED.name)))?;
        let local_tmp = tempfile::Builder::new()
            .prefix("taskotron-ssh.")
            .tempdir()
            .map_err(|e| failed(format!("cannot make a temporary directory: {e}")))?;
        let (session, reused) = session::Session::open(self.remote).map_err(|e| {
            (
                REMOTE_UNREACHABLE,
                format!(
                    "{}: cannot connect to {target}: {e}",
                    REMOTE_UNREACHABLE.name
                ),
            )
        })?;
        self.log.line(&format!(
            "remote: connected to {target} ({})",
            if reused {
                "the connection of an earlier run"
            } else {
                "a new connection"
            }
        ));
        let result = self.on(&session, &hash, local_tmp.path());
        match &result {
            Err((kind, _)) if *kind == REMOTE_DISCONNECTED => session.close(),
            _ => session.keep(),
        }
        result
    }

    fn on(
        &mut self,
        session: &session::Session,
        hash: &str,
        local_tmp: &Path,
    ) -> Result<(ExecutionReport, Option<crate::deferred::Deferred>), Failed> {
        let target = &self.remote.target;
        // 1. Send the task, the job and the config (one tar stream, paths relative
        //    to the run's directory, which the machine makes), and look: is this
        //    build there, which arch is the machine. Builds are kept by content
        //    hash in the machine's cache directory (XDG_CACHE_HOME, as other tools
        //    keep theirs).
        // The formula is always directly in its task directory.
        let task_name = self
            .formula
            .file
            .file_name()
            .map_or_else(|| self.formula.file.clone(), PathBuf::from);
        let archive = local_tmp.join("send.tar");
        bundle::pack(
            &archive,
            self.formula.taskdir(),
            &[
                (
                    "job.json",
                    serde_json::to_vec_pretty(&self.job_file(&task_name)).unwrap_or_default(),
                ),
                (
                    "config.yaml",
                    serde_json::to_vec_pretty(&self.config()).unwrap_or_default(),
                ),
            ],
        )
        .map_err(failed)?;
        let sent = session
            .output(
                &format!(
                    "set -e; c=\"${{XDG_CACHE_HOME:-$HOME/.cache}}/taskotron/bin\"; mkdir -p \"$c\"; \
                     d=$(mktemp -d \"${{TMPDIR:-/tmp}}/taskotron-remote.XXXXXX\"); cd \"$d\"; tar -x -f -; \
                     if [ -x \"$c/taskotron-{hash}\" ]; then echo have; else echo need; fi; uname -m; echo \"$c\"; echo \"$d\""
                ),
                Some(&archive),
            )
            .map_err(|e| ssh_failed(&e, "sending the task"))?;
        let _ = std::fs::remove_file(&archive);
        let text = String::from_utf8_lossy(&sent.stdout).into_owned();
        let mut lines = text.lines();
        let (Some(have), Some(machine), Some(cache), Some(dir), Some(0)) = (
            lines.next(),
            lines.next(),
            lines.next(),
            lines.next(),
            sent.code,
        ) else {
            return Err(failed(format!(
                "sending the task to {target} failed (exit {}): {}",
                code_text(sent.code),
                sent.stderr.trim()
            )));
        };
        let dir = dir.trim().to_string();
        for path in [dir.as_str(), cache.trim()] {
            if !is_plain_path(path) {
                return Err(failed(format!(
                    "{target} gave `{path}` as a directory, which this runner does not pass to a shell"
                )));
            }
        }
        let ours = std::env::consts::ARCH;
        if machine.trim() != ours {
            let _ = session.output(&format!("rm -rf {dir}"), None);
            return Err((
                REMOTE_ARCH_MISMATCH,
                format!(
                    "{}: {target} is a {} machine and this taskotron is built for {ours}; remote runs copy this very build, so they need a machine of its architecture",
                    REMOTE_ARCH_MISMATCH.name,
                    machine.trim()
                ),
            ));
        }
        let program = format!("{}/taskotron-{hash}", cache.trim());
        let need = have.trim() == "need";
        self.log.line(&format!(
            "remote: {target} ({}), run directory {dir}; taskotron {}",
            machine.trim(),
            if need {
                "to be copied"
            } else {
                "already there"
            }
        ));
        // 2. This build, when the machine lacks it: written beside, then renamed,
        //    so two runs copying at once never run half a binary.
        if need {
            let copied = session
                .output(
                    &format!("set -e; cat > {program}.$$; chmod 755 {program}.$$; mv -f {program}.$$ {program}"),
                    Some(&self.remote.program),
                )
                .map_err(|e| ssh_failed(&e, "copying taskotron"))?;
            if copied.code != Some(0) {
                let _ = session.output(&format!("rm -rf {dir}"), None);
                return Err(failed(format!(
                    "copying taskotron to {target} failed (exit {}): {}",
                    code_text(copied.code),
                    copied.stderr.trim()
                )));
            }
        }
        // 3. Run, its status lines followed live; then the report and the
        //    artifacts come back on its standard output, and the directory goes.
        let fetched = local_tmp.join("fetch.tar");
        let log = &mut *self.log;
        let observer = &mut *self.observer;
        let mut tail: Vec<String> = Vec::new();
        let ran = session
            .stream(&run_script(&dir, &program), &fetched, &mut |line| {
                log.line(&format!("remote: {line}"));
                observer.event(Event::Remote { line });
                if tail.len() == 20 {
                    tail.remove(0);
                }
                tail.push(line.to_string());
            })
            .map_err(|e| ssh_failed(&e, "the run"))?;
        let remote_run = format!("{dir}/artifacts/{}", self.run_id);
        let unpacked = bundle::unpack(
            &fetched,
            &format!("artifacts/{}", self.run_id),
            self.run_dir,
        )
        .map_err(failed)?;
        if let Some(remote_log) = &unpacked.log {
            self.log
                .embed("the remote run's own log follows", remote_log);
        }
        let Some(text) = unpacked.report else {
            return Err(failed(format!(
                "the run on {target} wrote no report (`run-job` exit {}){}",
                code_text(ran),
                if tail.is_empty() {
                    String::new()
                } else {
                    format!(":\n  {}", tail.join("\n  "))
                }
            )));
        };
        // Paths in the report name the remote directory; here they are ours.
        let text = text.replace(
            &json_text(&remote_run),
            &json_text(&self.run_dir.display().to_string()),
        );
        let file: crate::handoff::ReportFile = serde_json::from_str(&text)
            .map_err(|e| failed(format!("the report from {target} is not valid: {e}")))?;
        if file.version != crate::handoff::VERSION {
            return Err(failed(format!(
                "the report from {target} has format version {}, not {}",
                file.version,
                crate::handoff::VERSION
            )));
        }
        Ok((file.report, file.deferred))
    }

    /// The job, its paths relative to the run's directory on the machine (where
    /// `run-job` starts).
    fn job_file(&self, task_name: &Path) -> crate::handoff::JobFile {
        let input = &self.opts.input;
        crate::handoff::JobFile {
            version: crate::handoff::VERSION,
            job: crate::Job {
                item: input.item.clone(),
                item_type: input.item_type,
                build_id: input.build_id.clone(),
                yamlfile: task_name.display().to_string(),
                arch: self.opts.arch.unwrap_or(Arch::Noarch),
                source: None,
                plan: None,
            },
            task: Path::new("task").join(task_name),
            artifacts: PathBuf::from("artifacts"),
            report: PathBuf::from("report.json"),
            run_id: Some(self.run_id.to_string()),
            overrides: self.opts.overrides.clone(),
            defer_reporting: true,
        }
    }

    /// The remote's config: ours without secrets, its directories in the run's
    /// directory, and this run's isolation.
    fn config(&self) -> serde_json::Value {
        let mut config = self.remote.config.clone();
        if let Some(map) = config.as_object_mut() {
            for (key, value) in [
                ("state_dir", "state"),
                ("artifacts", "artifacts"),
                ("tmpdir", "tmp"),
            ] {
                map.insert(key.into(), serde_json::Value::String(value.into()));
            }
            map.insert(
                "isolation".into(),
                serde_json::Value::String(self.opts.isolation.to_string()),
            );
        }
        config
    }
}

/// The remote command of the run: `run-job` in the background, and a watcher on
/// the command's standard input, which this side holds open and never writes.
/// When the connection drops, sshd closes it: the watcher stops the run (SIGTERM,
/// which `run-job` passes to the task's processes) and removes the run directory,
/// so a dropped connection leaves nothing running or lying there. When the run
/// ends, the report and the artifacts go out on standard output as a tar stream,
/// and the directory is removed.
fn run_script(dir: &str, program: &str) -> String {
    format!(
        "cd {dir} || exit 1; exec 3<&0; \
         TASKOTRON_CONFIG={dir}/config.yaml {program} run-job {dir}/job.json 3<&- >/dev/null & p=$!; \
         {{ cat <&3 >/dev/null 2>&1; if kill -0 $p 2>/dev/null; then kill -TERM $p; while kill -0 $p 2>/dev/null; do sleep 0.2; done; rm -rf {dir}; fi; }} >/dev/null 2>&1 & \
         exec 3<&-; wait $p; s=$?; tar -c -f - report.json artifacts; cd / && rm -rf {dir}; exit $s"
    )
}

fn failed(why: String) -> Failed {
    (REMOTE_FAILED, format!("{}: {why}", REMOTE_FAILED.name))
}

fn ssh_failed(e: &SshError, during: &str) -> Failed {
    if e.dropped {
        (
            REMOTE_DISCONNECTED,
            format!(
                "{}: the connection dropped during {during}: {e}",
                REMOTE_DISCONNECTED.name
            ),
        )
    } else {
        failed(format!("{during}: {e}"))
    }
}

fn code_text(code: Option<i32>) -> String {
    code.map_or_else(|| "by a signal".into(), |c| c.to_string())
}

/// A path the runner puts into remote shell commands unquoted: what `mktemp` and a
/// home directory normally are.
fn is_plain_path(p: &str) -> bool {
    p.starts_with('/')
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-'))
}

/// `s` as it appears inside a JSON string.
fn json_text(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted[1..quoted.len().saturating_sub(1)].to_string()
}

/// The first 16 hex digits of the SHA-256 of `program`: the name this build has on
/// remote machines, so another build is never mistaken for it. Hashing the release
/// binary takes about 17 ms, which every job of a worker (a process each) would
/// pay; the hash is kept in `cache` under the file's identity (device, inode, size,
/// modification time), which any rebuild or reinstall changes.
fn program_hash(program: &Path, cache: &Path) -> Result<String, String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(program)
        .map_err(|e| format!("cannot read `{}`: {e}", program.display()))?;
    let key = cache.join(format!(
        "{}-{}-{}-{}.{}",
        meta.dev(),
        meta.ino(),
        meta.size(),
        meta.mtime(),
        meta.mtime_nsec()
    ));
    if let Ok(kept) = std::fs::read_to_string(&key) {
        if kept.len() == 16 && kept.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(kept);
        }
    }
    let hash = hash_file(program)?;
    // A cache that cannot be written costs the next run 17 ms, nothing more.
    if std::fs::create_dir_all(cache).is_ok() {
        let partial = key.with_extension("partial");
        if std::fs::write(&partial, &hash).is_ok() {
            let _ = std::fs::rename(&partial, &key);
        }
    }
    Ok(hash)
}

fn hash_file(program: &Path) -> Result<String, String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut f = std::fs::File::open(program)
        .map_err(|e| format!("cannot read `{}`: {e}", program.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| format!("cannot read `{}`: {e}", program.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex16(&hasher.finalize()))
}

/// The first 8 bytes of a digest as 16 hex digits: short names that do not collide
/// in practice (builds, connection directories).
pub(crate) fn hex16(digest: &[u8]) -> String {
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_absolute_paths_reach_a_remote_shell() {
        assert!(is_plain_path("/tmp/taskotron-remote.Ab3x_9"));
        assert!(is_plain_path("/home/task-otron"));
        for bad in [
            "tmp/x",
            "/tmp/a b",
            "/tmp/$(id)",
            "/tmp/a;b",
            "/tmp/'x'",
            "",
        ] {
            assert!(!is_plain_path(bad), "{bad}");
        }
    }

    #[test]
    fn json_text_is_the_inside_of_a_json_string() {
        assert_eq!(json_text("/a/b"), "/a/b");
        assert_eq!(json_text("/a\"b\\c"), "/a\\\"b\\\\c");
    }

    #[test]
    fn a_builds_name_is_its_contents_hash() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::write(&a, b"one build").unwrap();
        let b = dir.path().join("b");
        std::fs::write(&b, b"another build").unwrap();
        let ha = hash_file(&a).unwrap();
        assert_eq!(ha.len(), 16);
        assert_eq!(ha, hash_file(&a).unwrap());
        assert_ne!(ha, hash_file(&b).unwrap());
        assert!(hash_file(&dir.path().join("none"))
            .unwrap_err()
            .contains("cannot read"));
        // Kept under the file's identity: a second look reads the cache, and a
        // rewritten file (new size and time) is hashed again.
        let cache = dir.path().join("cache");
        assert_eq!(program_hash(&a, &cache).unwrap(), ha);
        let kept: Vec<_> = std::fs::read_dir(&cache).unwrap().flatten().collect();
        assert_eq!(kept.len(), 1);
        std::fs::write(kept[0].path(), "0123456789abcdef").unwrap();
        assert_eq!(program_hash(&a, &cache).unwrap(), "0123456789abcdef");
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::fs::write(&a, b"one build, rebuilt").unwrap();
        assert_eq!(program_hash(&a, &cache).unwrap(), hash_file(&a).unwrap());
    }
}
