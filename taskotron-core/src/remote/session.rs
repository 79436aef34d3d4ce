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

/// How long the control master outlives its last command when the runner dies
/// without closing it.
const MASTER_IDLE: Duration = Duration::from_secs(30);

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
    /// Connects to `remote`, the control socket under `control_dir`.
    ///
    /// # Errors
    /// Why ssh could not connect, in its words.
    pub fn connect(remote: &Remote, control_dir: &Path) -> Result<Self, SshError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| local(format!("cannot start the ssh runtime: {e}")))?;
        let mut b = SessionBuilder::default();
        b.user(remote.target.user.clone())
            // A host not in known_hosts is refused, never trusted on first use: a
            // worker cannot answer ssh's question, and must not guess.
            .known_hosts_check(KnownHosts::Strict)
            .connect_timeout(remote.connect_timeout)
            .server_alive_interval(Duration::from_secs(5))
            .control_directory(control_dir)
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
        Ok(Self { rt, ssh })
    }

    /// Runs `script` with the remote user's shell, its standard input read from
    /// `input` when given.
    ///
    /// # Errors
    /// The connection failed or dropped, or `input` cannot be read.
    pub fn output(&self, script: &str, input: Option<&Path>) -> Result<Output, SshError> {
        self.exec(script, input, None)
    }

    /// Runs `script`, its standard output written to the file `sink` (which may
    /// be large: a tar stream of artifacts) rather than kept.
    ///
    /// # Errors
    /// The connection failed or dropped, or `sink` cannot be written.
    pub fn output_to(&self, script: &str, sink: &Path) -> Result<Output, SshError> {
        self.exec(script, None, Some(sink))
    }

    fn exec(
        &self,
        script: &str,
        input: Option<&Path>,
        sink: Option<&Path>,
    ) -> Result<Output, SshError> {
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
                        let n = file.read(&mut buf).map_err(|e| {
                            local(format!("cannot read `{}`: {e}", path.display()))
                        })?;
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
                let mut kept = Vec::new();
                let mut file = match sink {
                    Some(p) => Some(std::fs::File::create(p).map_err(|e| {
                        local(format!("cannot write `{}`: {e}", p.display()))
                    })?),
                    None => None,
                };
                if let Some(pipe) = &mut stdout_pipe {
                    let mut buf = vec![0u8; 256 * 1024];
                    loop {
                        let n = match pipe.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        match &mut file {
                            Some(f) => std::io::Write::write_all(f, &buf[..n]).map_err(|e| {
                                local(format!("cannot write the fetched artifacts: {e}"))
                            })?,
                            None => kept.extend_from_slice(&buf[..n]),
                        }
                    }
                }
                Ok::<Vec<u8>, SshError>(kept)
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
                stdout: stdout?,
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
    /// comes (its standard output is read and dropped). Returns its exit code. Its
    /// standard input stays open, and unwritten, until it ends: a script can watch
    /// it to learn that the connection dropped.
    ///
    /// # Errors
    /// The connection failed or dropped.
    pub fn stream(
        &self,
        script: &str,
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
                if let Some(p) = &mut stdout_pipe {
                    let mut sink = tokio::io::sink();
                    let _ = tokio::io::copy(p, &mut sink).await;
                }
            };
            let follow = async {
                if let Some(p) = stderr_pipe {
                    let mut lines = BufReader::new(p).split(b'\n');
                    while let Ok(Some(line)) = lines.next_segment().await {
                        on_line(String::from_utf8_lossy(&line).trim_end_matches('\r'));
                    }
                }
            };
            tokio::join!(drain, follow);
            let status = child.wait().await.map_err(|e| why(&e))?;
            drop(held_stdin);
            Ok(status.code())
        })
    }

    /// Closes the connection (the control master exits).
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
