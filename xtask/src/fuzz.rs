//! `cargo xtask fuzz`: runs the libFuzzer targets under `fuzz/` for a bounded time.

use anyhow::{bail, Result};

use crate::util::{cargo, root, step};

const TARGETS: &[&str] = &[
    "config",
    "fmf_merge",
    "fmf_expressions",
    "formula",
    "template",
    "yaml",
    "dictionaries",
    "tap",
    "resultyaml",
    "junit",
    "report",
    "trigger",
    "koji",
    "messages",
    "ssh_target",
    "gating",
];

/// The targets that need no `taskotron-core` (`taskotron-tap`, `taskotron-fmf`,
/// `taskotron-gating`).
const TAP_ONLY: &[&str] = &[
    "tap",
    "junit",
    "resultyaml",
    "yaml",
    "fmf_merge",
    "fmf_expressions",
    "gating",
];

/// Runs one target, or all, for `--seconds` each (default 60).
pub fn run(args: &[String]) -> Result<()> {
    let mut seconds = 60;
    let mut targets = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => seconds = it.next().and_then(|s| s.parse().ok()).unwrap_or(seconds),
            t if TARGETS.contains(&t) => targets.push(t.to_string()),
            other => bail!(
                "unknown fuzz target or flag `{other}`; targets: {}",
                TARGETS.join(", ")
            ),
        }
    }
    if targets.is_empty() {
        targets = TARGETS.iter().map(|t| t.to_string()).collect();
    }
    if std::process::Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        let mut install = cargo();
        install.args(["install", "cargo-fuzz", "--locked"]);
        step("cargo install cargo-fuzz", install)?;
    }
    for t in targets {
        seed(&t)?;
        let mut c = cargo();
        c.current_dir(root().join("fuzz"))
            .env("RUSTC_BOOTSTRAP", "1")
            .args(["fuzz", "run", &t]);
        // The targets of taskotron-tap alone build without the rest of taskotron
        // (no SQLite, libgit2, lapin or rpm).
        if TAP_ONLY.contains(&t.as_str()) {
            c.arg("--no-default-features");
        }
        c.args(["--", &format!("-max_total_time={seconds}")]);
        step(&format!("fuzz {t} for {seconds}s"), c)?;
    }
    Ok(())
}

/// Starts the formula and YAML targets from the project's own formulas, so the
/// fuzzer begins deep inside the loader rather than at "not YAML".
fn seed(target: &str) -> Result<()> {
    if target == "messages" {
        let corpus = root().join("fuzz/corpus/messages");
        std::fs::create_dir_all(&corpus)?;
        for (i, file) in ["tests/data/examples/messages.jsonl"]
            .iter()
            .chain(&[
                "tasks/rpmlint/fixtures/message.json",
                "tasks/upgradepath/fixtures/message.json",
            ])
            .enumerate()
        {
            std::fs::copy(root().join(file), corpus.join(format!("seed-{i}")))?;
        }
        return Ok(());
    }
    if target == "tap" {
        let corpus = root().join("fuzz/corpus/tap");
        std::fs::create_dir_all(&corpus)?;
        for entry in std::fs::read_dir(root().join("taskotron-tap/src/tap/testdata"))? {
            let path = entry?.path();
            if let Some(name) = path.file_name() {
                std::fs::copy(&path, corpus.join(name))?;
            }
        }
        return Ok(());
    }
    if !matches!(target, "formula" | "yaml") {
        return Ok(());
    }
    let corpus = root().join("fuzz/corpus").join(target);
    std::fs::create_dir_all(&corpus)?;
    let mut sources = Vec::new();
    for dir in [
        "taskotron-core/src/formula/testdata/errors",
        "taskotron-core/src/formula/testdata/valid",
    ] {
        for entry in std::fs::read_dir(root().join(dir))? {
            sources.push(entry?.path());
        }
    }
    for entry in std::fs::read_dir(root().join("tasks"))? {
        let formula = entry?.path().join("runtask.yml");
        if formula.is_file() {
            sources.push(formula);
        }
    }
    for (i, path) in sources.iter().enumerate() {
        std::fs::copy(path, corpus.join(format!("seed-{i:03}.yml")))?;
    }
    Ok(())
}
