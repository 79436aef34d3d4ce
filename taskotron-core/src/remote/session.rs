//! One SSH connection to a remote machine, through the system's OpenSSH (the
//! `openssh` crate: a control master and one `ssh` process per command), so the
//! user's ssh config, agent and known_hosts apply. The crate is async; this module
//! hides that behind a current-thread runtime, so the rest of the runner stays
//! synchronous.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use openssh::{ControlPersist, KnownHosts, SessionBuilder, Stdio};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use super::Remote;

/// How long a control master waits for the next run's commands before it exits.
const MASTER_IDLE: Duration = Duration::from_secs(60);

/// Where the masters of `remote`'s destination live: a directory named after
/// everything that makes a connection (destination, key, ssh files), under the
/// configured control directory, or under the temporary directory when that
/// path would be too long for a socket (108 bytes on Linux).
fn control_dir(remote: &Remote) -> std::path::PathBuf {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(remote.target.to_string());
    for p in [&remote.privkey, &remote.ssh_config, &remote.known_hosts] {
        h.update([0u8]);
        if let Some(p) = p {
            h.update(p.as_os_str().as_encoded_bytes());
        }
    }
    let key = super::hex16(&h.finalize());
    let preferred = remote.control_dir.join(&key);
    // The fallback is shared by every state directory: its name says which one.
    let mut h = Sha256::new();
    h.update(preferred.as_os_str().as_encoded_bytes());
    let fallback = super::hex16(&h.finalize());
    // `<dir>/.ssh-connectionXXXXXX/master`, to which ssh adds a 17-byte suffix
    // while it makes the socket.
    if preferred.as_os_str().len() + 48 < 108 {
        preferred
    } else {
        // SAFETY: getuid(2) has no preconditions.
        let uid = unsafe { libc::getuid() };
        std::env::temp_dir()
            .join(format!("taskotron-ssh-{uid}"))
            .join(fallback)
    }
}

/// Makes `dir` (and its parent) this user's alone, or says why it cannot be: a
/// directory another user made or may write (in `/tmp`, say) could hand our
/// connections to someone else.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // SAFETY: getuid(2) has no preconditions.
    let uid = unsafe { libc::getuid() };
    for d in [dir.parent().unwrap_or(dir), dir] {
        match std::fs::create_dir(d) {
            Ok(()) => std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700))?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(d)?;
                std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700))?;
            }
            Err(e) => return Err(e),
        }
        let m = std::fs::symlink_metadata(d)?;
        if !m.is_dir() || m.uid() != uid || m.mode() & 0o022 != 0 {
            return Err(std::io::Error::other(format!(
                "`{}` is not a directory of this user's that only it may write",
                d.display()
            )));
        }
    }
    Ok(())
}

/// A command's exit code and what it printed.
#[derive(Debug)]
pub struct Output {
    /// The exit code (`None` when a signal ended it).
    pub code: Option<i32>,
    /// Its standard output.
    pub stdout: Vec<u8>,
    /// Its standard error.
    pub stderr: String,
}

/// An open connection.
pub struct Session {
    rt: tokio::runtime::Runtime,
    ssh: openssh::Session,
}

impl Session {
    /// Connects to `remote`: through the control master an earlier run left for
    /// the same destination, key and ssh files when it still answers, else
    /// through a new one. Masters live in `remote.control_dir`, one directory per
    /// destination, and exit after [`MASTER_IDLE`] without commands; a worker's
    /// jobs to one machine so pay for one SSH handshake, not one each. Returns
    /// whether the connection was reused.
    ///
    /// # Errors
    /// Why ssh could not connect, in its words.
    pub fn open(remote: &Remote) -> Result<(Self, bool), SshError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| local(format!("cannot start the ssh runtime: {e}")))?;
        let dir = control_dir(remote);
        private_dir(&dir).map_err(|e| local(format!("cannot use `{}`: {e}", dir.display())))?;
        // One run at a time looks for, or makes, the master of a destination.
        let _lock = crate::lock::take(&dir.join("lock"), true)
            .map_err(|e| local(format!("cannot lock `{}`: {e}", dir.display())))?;
        let current = dir.join("current");
        if let Ok(socket) = std::fs::read_link(&current) {
            let ssh = openssh::Session::resume(socket.into_boxed_path(), None);
            if rt.block_on(ssh.check()).is_ok() {
                return Ok((Self { rt, ssh }, true));
            }
        }
        // Whatever is left in the directory belongs to masters that are gone.
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                if e.file_name()
                    .to_string_lossy()
                    .starts_with(".ssh-connection")
                {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let _ = std::fs::remove_file(&current);
        let mut b = SessionBuilder::default();
        b.user(remote.target.user.clone())
            // A host not in known_hosts is refused, never trusted on first use: a
            // worker cannot answer ssh's question, and must not guess.
            .known_hosts_check(KnownHosts::Strict)
            .connect_timeout(remote.connect_timeout)
            .server_alive_interval(Duration::from_secs(5))
            .control_directory(&dir)
            .control_persist(ControlPersist::IdleFor(
                std::num::NonZeroUsize::new(MASTER_IDLE.as_secs() as usize)
                    .unwrap_or(std::num::NonZeroUsize::MIN),
            ));
        if let Some(port) = remote.target.port {
            b.port(port);
        }
        if let Some(k) = &remote.privkey {
            b.keyfile(k);
        }
        if let Some(c) = &remote.ssh_config {
            b.config_file(c);
        }
        if let Some(k) = &remote.known_hosts {
            b.user_known_hosts_file(k);
        }
        let ssh = rt
            .block_on(b.connect(&remote.target.host))
            .map_err(|e| why(&e))?;
        let _ = std::os::unix::fs::symlink(ssh.control_socket(), &current);
        Ok((Self { rt, ssh }, false))
    }

    /// Runs `script` with the remote user's shell, its standard input read from
    /// `input` when given.
    ///
    /// # Errors
    /// The connection failed or dropped, or `input` cannot be read.
    pub fn output(&self, script: &str, input: Option<&Path>) -> Result<Output, SshError> {
        self.rt.block_on(async {
            let mut cmd = self.ssh.raw_command(posix(script));
            cmd.stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
            let mut child = cmd.spawn().await.map_err(|e| why(&e))?;
            let stdin_pipe = child.stdin().take();
            let feed = async {
                if let (Some(path), Some(mut stdin)) = (input, stdin_pipe) {
                    let mut file = std::fs::File::open(path)
                        .map_err(|e| local(format!("cannot read `{}`: {e}", path.display())))?;
                    let mut buf = vec![0u8; 256 * 1024];
                    loop {
                        let n = file
                            .read(&mut buf)
                            .map_err(|e| local(format!("cannot read `{}`: {e}", path.display())))?;
                        if n == 0 {
                            break;
                        }
                        stdin.write_all(&buf[..n]).await.map_err(|e| sending(&e))?;
                    }
                    stdin.shutdown().await.map_err(|e| sending(&e))?;
                }
                Ok::<(), SshError>(())
            };
            let mut stdout_pipe = child.stdout().take();
            let mut stderr_pipe = child.stderr().take();
            let read_out = async {
                let mut v = Vec::new();
                if let Some(p) = &mut stdout_pipe {
                    let _ = p.read_to_end(&mut v).await;
                }
                v
            };
            let read_err = async {
                let mut v = Vec::new();
                if let Some(p) = &mut stderr_pipe {
                    let _ = p.read_to_end(&mut v).await;
                }
                v
            };
            let (fed, stdout, stderr) = tokio::join!(feed, read_out, read_err);
            let status = child.wait().await.map_err(|e| why(&e))?;
            let out = Output {
                code: status.code(),
                stdout,
                stderr: String::from_utf8_lossy(&stderr).into_owned(),
            };
            match fed {
                // The remote command stopped reading (it failed): its own words
                // say more than the broken pipe.
                Err(e) if e.dropped && out.code != Some(0) => Ok(out),
                Err(e) => Err(e),
                Ok(()) => Ok(out),
            }
        })
    }

    /// Runs `script`, handing each line of its standard error to `on_line` as it
    /// comes, its standard output written to the file `sink`. Returns its exit
    /// code. Its
    /// standard input stays open, and unwritten, until it ends: a script can watch
    /// it to learn that the connection dropped.
    ///
    /// # Errors
    /// The connection failed or dropped.
    pub fn stream(
        &self,
        script: &str,
        sink: &Path,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<Option<i32>, SshError> {
        self.rt.block_on(async {
            let mut cmd = self.ssh.raw_command(posix(script));
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = cmd.spawn().await.map_err(|e| why(&e))?;
            let held_stdin = child.stdin().take();
            let mut stdout_pipe = child.stdout().take();
            let stderr_pipe = child.stderr().take();
            let drain = async {
                let mut file = std::fs::File::create(sink)
                    .map_err(|e| local(format!("cannot write `{}`: {e}", sink.display())))?;
                if let Some(pipe) = &mut stdout_pipe {
                    let mut buf = vec![0u8; 256 * 1024];
                    loop {
                        let n = match pipe.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        std::io::Write::write_all(&mut file, &buf[..n]).map_err(|e| {
                            local(format!("cannot write `{}`: {e}", sink.display()))
                        })?;
                    }
                }
                Ok::<(), SshError>(())
            };
            let follow = async {
                if let Some(p) = stderr_pipe {
                    let mut lines = BufReader::new(p).split(b'\n');
                    while let Ok(Some(line)) = lines.next_segment().await {
                        on_line(String::from_utf8_lossy(&line).trim_end_matches('\r'));
                    }
                }
            };
            let (drained, ()) = tokio::join!(drain, follow);
            let status = child.wait().await.map_err(|e| why(&e))?;
            drop(held_stdin);
            drained?;
            Ok(status.code())
        })
    }

    /// Leaves the connection for the next run to the same destination (its
    /// master exits by itself once idle).
    pub fn keep(self) {
        let Self { rt: _rt, ssh } = self;
        let _ = ssh.detach();
    }

    /// Closes the connection: its master exits now (after a dropped connection,
    /// so the next run starts afresh).
    pub fn close(self) {
        let Self { rt, ssh } = self;
        let _ = rt.block_on(ssh.close());
    }
}

/// `script` for `sh`, whatever the remote user's login shell is (sshd hands a
/// command to that shell, which may not be a POSIX one).
fn posix(script: &str) -> String {
    format!("sh -c '{}'", script.replace('\'', "'\\''"))
}

/// Why a command did not run to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshError {
    /// ssh's own words, with the causes.
    pub text: String,
    /// The connection dropped (ssh ended with 255, or the master is gone), as
    /// opposed to a command that could not start or a local file.
    pub dropped: bool,
}

impl std::fmt::Display for SshError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

fn why(e: &openssh::Error) -> SshError {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let t = s.to_string();
        if !text.contains(t.trim()) {
            text.push_str(": ");
            text.push_str(t.trim());
        }
        source = s.source();
    }
    SshError {
        text,
        dropped: matches!(
            e,
            openssh::Error::Disconnected | openssh::Error::RemoteProcessTerminated
        ),
    }
}

fn local(text: String) -> SshError {
    SshError {
        text,
        dropped: false,
    }
}

fn sending(e: &std::io::Error) -> SshError {
    SshError {
        text: format!("the connection dropped while sending: {e}"),
        dropped: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn connections_live_only_in_this_users_private_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ssh/abc");
        private_dir(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        // A parent others may write is refused, not used.
        let shared = tmp.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = private_dir(&shared.join("abc")).unwrap_err().to_string();
        assert!(e.contains("only it may write"), "{e}");
    }

    #[test]
    fn scripts_reach_sh_whole_whatever_they_quote() {
        assert_eq!(posix("echo 'a b'"), "sh -c 'echo '\\''a b'\\'''");
    }
}
