//! A private OpenSSH server on loopback (Debian's `openssh-server`), for remote
//! runs: its own host key, a client key generated for the test, an
//! `authorized_keys`, a `known_hosts` that names it, and an ssh config that uses
//! them and nothing of the user's. Its sessions get `XDG_CACHE_HOME` and `TMPDIR`
//! inside its directory, so copied builds and run directories go away with it.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `sshd`.
pub struct Sshd {
    /// Its directory: keys, config, the sessions' cache and temporary files.
    pub dir: tempfile::TempDir,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The user it lets in (the one running the test).
    pub user: String,
    child: Child,
}

/// Where the OpenSSH server is.
pub const SSHD: &str = "/usr/sbin/sshd";

impl Sshd {
    /// Starts one that lets in the user running the test. Panics, saying what to
    /// install, when OpenSSH's server is missing.
    pub fn start() -> Self {
        Self::start_for(None)
    }

    /// Starts one that lets in `user` (an existing account) instead, as a machine
    /// set aside for remote runs would have one.
    pub fn start_for(user: Option<&str>) -> Self {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: install Debian's openssh-server (`.ci/run` does)"
        );
        let dir = tempfile::Builder::new().prefix("sshd.").tempdir().unwrap();
        let d = dir.path();
        for (key, _) in [("host_key", ()), ("client_key", ())] {
            let ok = Command::new("ssh-keygen")
                .args([
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-C",
                    "taskotron-test",
                    "-f",
                ])
                .arg(d.join(key))
                .stdin(Stdio::null())
                .status()
                .unwrap()
                .success();
            assert!(ok, "ssh-keygen failed");
        }
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();
        for sub in ["cache", "tmp"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        // sshd started by root wants its privilege separation directory.
        let _ = std::fs::create_dir_all("/run/sshd");
        let port = free_port();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
             PermitRootLogin prohibit-password\nX11Forwarding no\nPrintMotd no\n\
             MaxStartups 100\nMaxSessions 100\nLogLevel ERROR\n\
             SetEnv XDG_CACHE_HOME={d}/cache TMPDIR={d}/tmp\n",
            d = d.display()
        );
        std::fs::write(d.join("sshd_config"), config).unwrap();
        let user = user.map_or_else(
            || {
                String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
                    .unwrap()
                    .trim()
                    .to_string()
            },
            str::to_string,
        );
        // Another user must reach the sessions' directories.
        let ok = Command::new("chmod")
            .arg("755")
            .arg(d)
            .status()
            .unwrap()
            .success()
            && Command::new("chown")
                .arg("-R")
                .arg(&user)
                .arg(d.join("cache"))
                .arg(d.join("tmp"))
                .status()
                .unwrap()
                .success();
        assert!(ok, "cannot give {user} the sessions' directories");
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.join("sshd.log")).unwrap())
            .spawn()
            .unwrap();
        let mut sshd = Self {
            dir,
            port,
            user,
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = sshd.child.try_wait() {
                panic!("sshd exited ({status}): {}", sshd.log());
            }
            assert!(
                Instant::now() < deadline,
                "sshd did not listen: {}",
                sshd.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        sshd.trust_port(port);
        std::fs::write(
            sshd.path("ssh_config"),
            format!(
                "Host *\n  IdentitiesOnly yes\n  IdentityFile {}\n  LogLevel ERROR\n",
                sshd.key().display()
            ),
        )
        .unwrap();
        sshd
    }

    /// A file in its directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The client's private key.
    pub fn key(&self) -> PathBuf {
        self.path("client_key")
    }

    /// `user@127.0.0.1:port`, for `--ssh`.
    pub fn target(&self) -> String {
        self.target_on(self.port)
    }

    /// The same, through another port (a relay in front of it).
    pub fn target_on(&self, port: u16) -> String {
        format!("{}@127.0.0.1:{port}", self.user)
    }

    /// Adds its host key for `127.0.0.1:port` to the `known_hosts`.
    pub fn trust_port(&self, port: u16) {
        let key = std::fs::read_to_string(self.path("host_key.pub")).unwrap();
        let mut fields = key.split_whitespace();
        let (kind, body) = (fields.next().unwrap(), fields.next().unwrap());
        let mut known = std::fs::read_to_string(self.path("known_hosts")).unwrap_or_default();
        known.push_str(&format!("[127.0.0.1]:{port} {kind} {body}\n"));
        std::fs::write(self.path("known_hosts"), known).unwrap();
    }

    /// The lines of a taskotron config that use it: key, ssh config, known_hosts.
    pub fn config_lines(&self) -> String {
        format!(
            "ssh_privkey: {}\nssh_config: {}\nssh_known_hosts: {}\n",
            self.key().display(),
            self.path("ssh_config").display(),
            self.path("known_hosts").display()
        )
    }

    /// What sshd logged.
    pub fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(self.path("sshd.log")) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A TCP relay in front of a port that can cut every connection at once: what a
/// dropped network looks like to both ends.
pub struct Relay {
    /// The port it listens on.
    pub port: u16,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    streams: std::sync::Arc<std::sync::Mutex<Vec<TcpStream>>>,
}

impl Relay {
    /// Starts relaying 127.0.0.1:`port`.
    pub fn to(port: u16) -> Self {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::{Arc, Mutex};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let me = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let streams: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (c, s) = (cut.clone(), streams.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if c.load(Ordering::SeqCst) {
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", port)) else {
                    continue;
                };
                let mut list = s.lock().unwrap();
                list.push(client.try_clone().unwrap());
                list.push(server.try_clone().unwrap());
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Self {
            port: me,
            cut,
            streams,
        }
    }

    /// Cuts every connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        for s in self.streams.lock().unwrap().drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}
