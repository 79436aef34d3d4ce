//! `cargo xtask bench runner`: the figures of the foundation issue, measured on the
//! release binary, with tmt (the tool people would otherwise use) measured in the
//! same run as the reference.
//!
//! Wall time is measured around spawn and reap; peak RSS comes from the kernel's
//! `wait4` accounting (`ru_maxrss`) of each child, so it is the process's true peak.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::util::{cargo, root, step};

/// The targets from issue #2.
const RUN_WALL_TARGET: Duration = Duration::from_millis(10);
const RUN_RSS_TARGET_KIB: u64 = 15 * 1024;
const VALIDATE_WALL_TARGET: Duration = Duration::from_millis(150);
const FORMULAS: usize = 300;

/// One measured execution.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    pub(crate) wall: Duration,
    pub(crate) max_rss_kib: u64,
    pub(crate) success: bool,
}

/// Runs `cmd` to completion, measuring wall time and peak RSS.
pub(crate) fn measure(cmd: &mut Command) -> Result<Sample> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let start = Instant::now();
    let child = cmd.spawn().context("cannot spawn benchmark command")?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own unreaped child; the out-pointers are valid for writes.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    if reaped != pid {
        bail!("wait4 failed: {}", std::io::Error::last_os_error());
    }
    // The child is reaped; `child` must not be waited on again, and dropping it does not.
    drop(child);
    Ok(Sample {
        wall,
        max_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        success: libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
    })
}

pub(crate) fn repeat(
    runs: usize,
    warmup: usize,
    mut make: impl FnMut() -> Command,
) -> Result<Vec<Sample>> {
    for _ in 0..warmup {
        measure(&mut make())?;
    }
    (0..runs).map(|_| measure(&mut make())).collect()
}

pub(crate) fn median_wall(samples: &[Sample]) -> Duration {
    let mut walls: Vec<Duration> = samples.iter().map(|s| s.wall).collect();
    walls.sort();
    walls[walls.len() / 2]
}

pub(crate) fn median_rss(samples: &[Sample]) -> u64 {
    let mut rss: Vec<u64> = samples.iter().map(|s| s.max_rss_kib).collect();
    rss.sort_unstable();
    rss[rss.len() / 2]
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Entry point: `bench runner [--runs N]` or `bench tap [--runs N]`.
pub fn run(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("runner") => {}
        Some("tap") => return crate::bench_tap::run(&args[1..]),
        Some("report") => return crate::bench_report::run(&args[1..]),
        Some("trigger") => return crate::bench_trigger::run(&args[1..]),
        Some("schedule") => return crate::bench_schedule::run(&args[1..]),
        Some("e2e") => return crate::e2e::bench(&args[1..]),
        Some("rebuild") => return crate::bench_rebuild::run(&args[1..]),
        Some("web") => return crate::bench_web::run(&args[1..]),
        Some("isolation") => return crate::bench_isolation::run(&args[1..]),
        Some("tmt") => return crate::bench_tmt::run(&args[1..]),
        Some("playbooks") => return crate::bench_playbooks::run(&args[1..]),
        Some("gating") => return crate::bench_gating::run(&args[1..]),
        _ => bail!(
            "usage: cargo xtask bench runner|tap|report|trigger|schedule|e2e|rebuild|web|isolation|tmt|playbooks|gating [--runs N]"
        ),
    }
    let runs = crate::util::runs_arg(args, 30);
    let mut build = cargo();
    build.args(["build", "--release", "--quiet", "-p", "taskotron-cli"]);
    step("cargo build --release", build)?;
    let bin = root().join("target/release/taskotron");

    let work = tempdir()?;
    let dummy = work.join("dummy.yml");
    std::fs::write(
        &dummy,
        "name: dummy\nactions:\n  - name: pass\n    dummy: {result: PASS}\n",
    )?;
    let formulas = generate_formulas(&work.join("formulas"), FORMULAS)?;
    let artifacts = work.join("artifacts");

    let run_cmd = || {
        let mut c = Command::new(&bin);
        c.args(["-q", "run"])
            .arg(&dummy)
            .args([
                "-i",
                "xchat-0.5-1.fc20",
                "-t",
                "koji_build",
                "--format",
                "json",
                "--artifacts",
            ])
            .arg(&artifacts)
            .env("TASKOTRON_TMPDIR", work.join("tmp"))
            .env("TASKOTRON_CONFIG", work.join("none.yaml"));
        c
    };
    std::fs::write(work.join("none.yaml"), "")?;
    let run_samples = repeat(runs, 3, run_cmd)?;
    if run_samples.iter().any(|s| !s.success) {
        bail!("`taskotron run` of the dummy task failed during the benchmark");
    }
    let validate_cmd = || {
        let mut c = Command::new(&bin);
        c.args(["-q", "validate"]).args(&formulas);
        c
    };
    let validate_samples = repeat(runs.min(20), 2, validate_cmd)?;
    if validate_samples.iter().any(|s| !s.success) {
        bail!("`taskotron validate` rejected the generated formulas");
    }

    let run_wall = median_wall(&run_samples);
    let run_rss = median_rss(&run_samples);
    let run_rss_max = run_samples.iter().map(|s| s.max_rss_kib).max().unwrap_or(0);
    let validate_wall = median_wall(&validate_samples);

    let tmt = tmt_reference(&work)?;

    let mut out = String::new();
    let _ = writeln!(
        out,
        "\ntaskotron bench runner ({runs} runs, medians; release build)\n"
    );
    let _ = writeln!(
        out,
        "{:<44} {:>12} {:>12} {:>8}",
        "measure", "taskotron", "target", "met"
    );
    let row = |out: &mut String, name: &str, value: String, target: String, met: bool| {
        let _ = writeln!(
            out,
            "{name:<44} {value:>12} {target:>12} {:>8}",
            if met { "yes" } else { "NO" }
        );
    };
    row(
        &mut out,
        "run, one-action dummy task: wall",
        format!("{:.2} ms", ms(run_wall)),
        format!("<= {} ms", RUN_WALL_TARGET.as_millis()),
        run_wall <= RUN_WALL_TARGET,
    );
    row(
        &mut out,
        "run, one-action dummy task: peak RSS",
        format!("{:.1} MiB", run_rss as f64 / 1024.0),
        format!("<= {} MiB", RUN_RSS_TARGET_KIB / 1024),
        run_rss <= RUN_RSS_TARGET_KIB,
    );
    let _ = writeln!(
        out,
        "{:<44} {:>12}",
        "  (largest peak RSS over all runs)",
        format!("{:.1} MiB", run_rss_max as f64 / 1024.0)
    );
    row(
        &mut out,
        &format!("validate, {FORMULAS} generated formulas: wall"),
        format!("{:.2} ms", ms(validate_wall)),
        format!("<= {} ms", VALIDATE_WALL_TARGET.as_millis()),
        validate_wall <= VALIDATE_WALL_TARGET,
    );
    let _ = writeln!(out, "\nreference, measured now on this machine:");
    match &tmt {
        Some((version, lint, n)) => {
            let _ = writeln!(
                out,
                "  tmt --version: {:.1} ms  -> taskotron run is {:.0}x faster",
                ms(*version),
                ms(*version) / ms(run_wall)
            );
            match lint {
                Some(l) => {
                    let _ = writeln!(out, "  tmt lint of {n} tests: {:.1} ms  -> taskotron validate of {FORMULAS} formulas is {:.0}x faster", ms(*l), ms(*l) / ms(validate_wall));
                }
                None => {
                    let _ = writeln!(out, "  tmt lint: failed to run here; no ratio");
                }
            }
        }
        None => {
            let _ = writeln!(
                out,
                "  tmt: not available (pip install tmt into target/bench-venv failed); no ratio"
            );
        }
    }
    print!("{out}");
    let _ = std::fs::remove_dir_all(&work);
    let met = run_wall <= RUN_WALL_TARGET
        && run_rss <= RUN_RSS_TARGET_KIB
        && validate_wall <= VALIDATE_WALL_TARGET;
    if !met {
        bail!("a target was missed");
    }
    Ok(())
}

/// tmt from a venv under `target/`, installed on first use. Returns the median of
/// `tmt --version` and of `tmt lint` over a generated tree of tests.
fn tmt_reference(work: &Path) -> Result<Option<(Duration, Option<Duration>, usize)>> {
    let venv = root().join("target/bench-venv");
    let tmt = venv.join("bin/tmt");
    if !tmt.exists() {
        eprintln!("{:>12} tmt into target/bench-venv (once)", "Installing");
        let ok = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
            && Command::new(venv.join("bin/pip"))
                .args(["install", "-q", "tmt"])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
        if !ok || !tmt.exists() {
            return Ok(None);
        }
    }
    let version = repeat(5, 1, || {
        let mut c = Command::new(&tmt);
        c.arg("--version");
        c
    })?;
    let tree = work.join("tmt-tree");
    let n = 289;
    std::fs::create_dir_all(tree.join(".fmf"))?;
    std::fs::write(tree.join(".fmf/version"), "1\n")?;
    for i in 0..n {
        let dir = tree.join(format!("tests/t{i:03}"));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(
            dir.join("main.fmf"),
            format!(
                "summary: generated test {i}\ntest: ./test.sh\nframework: shell\nduration: 5m\n"
            ),
        )?;
        std::fs::write(dir.join("test.sh"), "#!/bin/sh\ntrue\n")?;
    }
    let lint = repeat(3, 0, || {
        let mut c = Command::new(&tmt);
        c.args(["--root"]).arg(&tree).args(["tests", "lint"]);
        c
    })?;
    let lint = lint.iter().all(|s| s.success).then(|| median_wall(&lint));
    Ok(Some((median_wall(&version), lint, n)))
}

/// Writes `count` varied formulas (shell, python and dummy actions, exports,
/// variables, dot paths) and returns their paths.
fn generate_formulas(dir: &Path, count: usize) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let types = ["koji_build", "koji_tag", "bodhi_update"];
    let mut paths = Vec::new();
    for i in 0..count {
        let t = types[i % types.len()];
        let mut f = format!(
            "name: generated-{i}\nnamespace: scratch\ndesc: |\n  Generated formula {i} for the validate benchmark.\nmaintainer: bench\ninput:\n  args:\n    - {t}\n    - arch\nenvironment:\n  rpm: [python3, rpmlint]\nactions:\n"
        );
        let actions = 3 + i % 4;
        for a in 0..actions {
            match a % 3 {
                0 => {
                    let _ = write!(f, "  - name: step {a} shell\n    shell:\n      - echo \"${{{t}}} on ${{arch}} in ${{workdir}}\"\n      - [printf, \"%s\\n\", \"${{item}}\"]\n    export: out{a}\n    timeout: 5m\n");
                }
                1 => {
                    let _ = write!(f, "  - name: step {a} python\n    python:\n      file: check.py\n      callable: run\n      item: ${{item}}\n      previous: ${{out{}}}\n      artifactsdir: ${{artifactsdir}}\n    export: res{a}\n", a - 1);
                }
                _ => {
                    let _ = write!(f, "  - name: step {a} dummy\n    dummy:\n      result: PASS\n      msg: \"${{res{}.summary}} for ${{checkname}}\"\n", a - 1);
                }
            }
        }
        let path = dir.join(format!("generated-{i:03}.yml"));
        std::fs::write(&path, f)?;
        paths.push(path);
    }
    Ok(paths)
}

pub(crate) fn tempdir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("taskotron-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
