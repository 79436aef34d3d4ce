//! What the CLI's test files share: a private home for each test, and the binary run
//! in it with nothing of the caller's environment but `PATH`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub struct Env {
    pub home: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Self {
        Self {
            home: tempfile::tempdir().unwrap(),
        }
    }

    pub fn artifacts(&self) -> PathBuf {
        self.home.path().join("artifacts")
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }

    /// [`Env::run`] with more environment variables.
    pub fn run_with(&self, args: &[&str], vars: &[(&str, &std::path::Path)]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_taskotron"))
            .args(["--color", "never"])
            .args(args)
            .current_dir(workspace())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("TASKOTRON_ARTIFACTS", self.artifacts())
            .env("TASKOTRON_TMPDIR", self.home.path().join("tmp"))
            .envs(vars.iter().copied())
            .output()
            .unwrap()
    }

    /// [`Env::run`] from the directory `cwd`.
    pub fn run_at(&self, cwd: &Path, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_taskotron"))
            .args(["--color", "never"])
            .args(args)
            .current_dir(cwd)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("TASKOTRON_ARTIFACTS", self.artifacts())
            .env("TASKOTRON_TMPDIR", self.home.path().join("tmp"))
            .output()
            .unwrap()
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.home.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }
}

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn stderr(o: &Output, env: &Env) -> String {
    String::from_utf8_lossy(&o.stderr).replace(&env.home.path().display().to_string(), "[HOME]")
}

pub fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}
