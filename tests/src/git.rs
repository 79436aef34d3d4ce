//! Real git repositories for tests: `git` with a fixed identity, and a bare repository
//! made from a directory's files in one commit.

use std::path::Path;
use std::process::Command;

/// Runs `git args` in `cwd` with a test identity and `main` as the first branch.
///
/// # Panics
/// git fails.
pub fn git(args: &[&str], cwd: &Path) {
    let ok = Command::new("git")
        .args(["-c", "user.name=tests", "-c", "user.email=tests@example"])
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(cwd)
        .status()
        .expect("git runs")
        .success();
    assert!(ok, "git {args:?} in {}", cwd.display());
}

/// Commits the files of `work` (made a repository if it is not one) and clones them
/// bare to `bare`; returns the commit id.
///
/// # Panics
/// git fails.
pub fn publish(work: &Path, bare: &Path) -> String {
    if !work.join(".git").exists() {
        git(&["init", "-q"], work);
    }
    git(&["add", "."], work);
    git(&["commit", "-qm", "task"], work);
    std::fs::create_dir_all(bare.parent().expect("a parent")).expect("bare's parent");
    git(
        &[
            "clone",
            "-q",
            "--bare",
            &work.display().to_string(),
            &bare.display().to_string(),
        ],
        work,
    );
    let out = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(work)
        .output()
        .expect("git runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A real `git daemon` on loopback serving the repositories under a directory,
/// logging every request; stopped (its whole process group) when dropped.
pub struct GitDaemon {
    child: std::process::Child,
    port: u16,
    log: std::path::PathBuf,
}

impl GitDaemon {
    /// Starts it on a free port, serving `base`, logging to `log`, and waits until it
    /// accepts connections.
    ///
    /// # Errors
    /// git cannot be started, or does not listen within 10 s.
    pub fn start(base: &Path, log: &Path) -> std::io::Result<Self> {
        use std::os::unix::process::CommandExt;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new("git")
            .args([
                "daemon",
                "--export-all",
                "--reuseaddr",
                "--verbose",
                "--listen=127.0.0.1",
            ])
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", base.display()))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(log)?)
            // `git daemon` may run `git-daemon` as a child: stop the whole group.
            .process_group(0)
            .spawn()?;
        let daemon = Self {
            child,
            port,
            log: log.to_path_buf(),
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if std::time::Instant::now() > deadline {
                return Err(std::io::Error::other("git daemon did not start listening"));
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Ok(daemon)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// How many times a client fetched from it (clone or fetch).
    pub fn upload_packs(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .matches("Request upload-pack")
            .count()
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: kill(2) on the process group we created.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        let _ = self.child.wait();
    }
}
