//! A private RabbitMQ node for tests: its own directory, node name, ports and epmd,
//! all on 127.0.0.1, started from the Debian package's real binaries (the
//! `/usr/lib/rabbitmq/bin` ones, because the `/usr/sbin` wrappers `su` to the
//! rabbitmq user when run as root). It can be killed and started again on the same
//! data, which is what the broker-restart tests need. Every wait is bounded.
//!
//! The server script runs the Erlang VM as its child, in the background, so the
//! script's own exit says nothing about the VM's: a kill waits until no live process
//! of the node's group is left, its port is closed and epmd has let go of its name.
//! Without that, a restart could start a second node beside a dying first one (which
//! then refuses to boot: its name is taken) and mistake the dying node's port for
//! the new one's.

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where the Debian package puts the server.
pub const SERVER: &str = "/usr/lib/rabbitmq/bin/rabbitmq-server";

/// A running (or stopped) private node.
#[derive(Debug)]
pub struct Broker {
    dir: PathBuf,
    /// The AMQP port on 127.0.0.1.
    pub port: u16,
    dist_port: u16,
    epmd_port: u16,
    server: Option<Child>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Whether the server is installed (by `cargo xtask integration`).
pub fn installed() -> bool {
    Path::new(SERVER).exists()
}

impl Broker {
    /// Starts a node with its data under `dir`, waiting (at most 60 s) until it
    /// takes AMQP connections.
    ///
    /// # Panics
    /// RabbitMQ is not installed or does not come up.
    pub fn start(dir: &Path) -> Self {
        assert!(
            installed(),
            "{SERVER} is missing: run `cargo xtask integration`, which installs rabbitmq-server"
        );
        let mut b = Self {
            dir: dir.to_path_buf(),
            port: free_port(),
            dist_port: free_port(),
            epmd_port: free_port(),
            server: None,
        };
        std::fs::create_dir_all(dir.join("home")).expect("broker dir");
        std::fs::write(dir.join("enabled_plugins"), "[].\n").expect("plugins file");
        std::fs::write(
            dir.join("rabbitmq.conf"),
            format!(
                "listeners.tcp.default = 127.0.0.1:{}\nloopback_users = none\n",
                b.port
            ),
        )
        .expect("broker config");
        let status = Command::new("epmd")
            .args([
                "-address",
                "127.0.0.1",
                "-port",
                &b.epmd_port.to_string(),
                "-daemon",
            ])
            .status()
            .expect("epmd (from erlang-base) runs");
        assert!(status.success(), "epmd did not start");
        b.boot();
        b
    }

    /// `amqp://guest:guest@127.0.0.1:<port>/%2f`.
    pub fn uri(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    fn boot(&mut self) {
        let d = &self.dir;
        let mut cmd = Command::new(SERVER);
        cmd.env("HOME", d.join("home"))
            .env("RABBITMQ_NODENAME", "rabbit@localhost")
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", self.port.to_string())
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("ERL_EPMD_ADDRESS", "127.0.0.1")
            .env("ERL_EPMD_PORT", self.epmd_port.to_string())
            .env("RABBITMQ_CONFIG_FILE", d.join("rabbitmq.conf"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", d.join("enabled_plugins"))
            .env("RABBITMQ_MNESIA_BASE", d.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", d.join("log"))
            .env(
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS",
                "-kernel inet_dist_use_interface {127,0,0,1}",
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(d.join("server.err"))
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
            )
            // Its own process group, so stopping it takes the whole Erlang VM.
            .process_group(0);
        let mut server = cmd.spawn().expect("rabbitmq-server starts");
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(status)) = server.try_wait() {
                panic!(
                    "RabbitMQ exited while booting ({status}): {}\nlogs in {}",
                    tail(&d.join("server.err")),
                    d.join("log").display()
                );
            }
            assert!(
                Instant::now() < deadline,
                "RabbitMQ did not listen on 127.0.0.1:{} within 60 s; see {}",
                self.port,
                d.join("server.err").display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        self.server = Some(server);
    }

    /// Whether epmd still has the node's name registered.
    fn registered(&self) -> bool {
        Command::new("epmd")
            .args(["-port", &self.epmd_port.to_string(), "-names"])
            .stderr(Stdio::null())
            .output()
            .is_ok_and(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .any(|l| l.starts_with("name rabbit "))
            })
    }

    /// Waits (at most 30 s) until the node is gone: no live process in `group`, the
    /// AMQP port closed, the name free in epmd. False when it is still there.
    fn wait_gone(&self, group: i32) -> bool {
        let deadline = Instant::now() + Duration::from_secs(30);
        while live_in_group(group)
            || TcpStream::connect(("127.0.0.1", self.port)).is_ok()
            || self.registered()
        {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        true
    }

    /// Sends `signal` to the node's group, then SIGKILL after 30 s; false when the
    /// node is still not gone after that.
    fn signal(&mut self, signal: i32) -> bool {
        if let Some(mut child) = self.server.take() {
            let group = i32::try_from(child.id()).unwrap_or(0);
            // SAFETY: kill(2) on the process group we created; no memory involved.
            unsafe {
                libc::kill(-group, signal);
            }
            let deadline = Instant::now() + Duration::from_secs(30);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            // SAFETY: as above.
            unsafe {
                libc::kill(-group, libc::SIGKILL);
            }
            let _ = child.wait();
            return self.wait_gone(group);
        }
        true
    }

    /// Kills the node the hard way (SIGKILL to its whole process group), as a crash or
    /// a power cut would; its data stays for [`Broker::restart`].
    ///
    /// # Panics
    /// The node is still there 30 s later.
    pub fn kill(&mut self) {
        assert!(
            self.signal(libc::SIGKILL),
            "the RabbitMQ node in {} did not go away within 30 s of SIGKILL",
            self.dir.display()
        );
    }

    /// Starts the node again on the same data and ports.
    pub fn restart(&mut self) {
        self.boot();
    }
}

/// Whether a process of process group `group` is alive (a zombie is not: it holds no
/// socket or file any more, and nobody may be there to reap it in a container).
fn live_in_group(group: i32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|e| {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            return false;
        };
        // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        matches!(fields.as_slice(), [state, _ppid, pgrp, ..]
            if pgrp.parse() == Ok(group) && *state != "Z" && *state != "X")
    })
}

/// The last lines of `path`, for a failure message.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.signal(libc::SIGTERM);
        let _ = Command::new("epmd")
            .args(["-port", &self.epmd_port.to_string(), "-kill"])
            .env("ERL_EPMD_PORT", self.epmd_port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
