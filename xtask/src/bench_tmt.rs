//! `cargo xtask bench tmt`: listing a 300-test fmf tree (inheritance, adjust
//! rules) with `taskotron tests ls|export` against `tmt tests ls|export` (tmt
//! 1.80 from PyPI, in `target/tmt-venv`), measured in the same run.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::bench::{median_rss, median_wall, ms, repeat};
use crate::util::{cargo, root, step};

/// At least this many times faster than tmt, at most this much memory.
const RATIO_TARGET: f64 = 100.0;
const RSS_TARGET_KIB: u64 = 16 * 1024;
const TESTS: usize = 300;

pub fn run(args: &[String]) -> Result<()> {
    let runs = crate::util::runs_arg(args, 11);
    let mut build = cargo();
    build.args(["build", "--release", "--quiet", "-p", "taskotron-cli"]);
    step("cargo build --release", build)?;
    crate::integration::install_tmt()?;
    let bin = root().join("target/release/taskotron");
    let tmt = root().join("target/tmt-venv/bin/tmt");
    let tree = root().join("target/bench/fmf-300");
    let _ = std::fs::remove_dir_all(&tree);
    taskotron_tests::fmf::generated_tree(&tree, TESTS, 7);

    let ours = |what: &'static str, tree: &Path| {
        let (bin, tree) = (bin.clone(), tree.to_path_buf());
        move || {
            let mut c = Command::new(&bin);
            c.args(["tests", what, "-c", "distro=fedora-41", "--root"])
                .arg(&tree);
            c
        }
    };
    let theirs = |what: &'static str, tree: &Path| {
        let (tmt, tree) = (tmt.clone(), tree.to_path_buf());
        move || {
            let mut c = Command::new(&tmt);
            c.args(["-c", "distro=fedora-41", "tests", what])
                .current_dir(&tree);
            c
        }
    };
    let mut report = String::new();
    let mut failed = Vec::new();
    for what in ["ls", "export"] {
        let o = repeat(runs, 1, ours(what, &tree))?;
        let t = repeat(runs.min(5), 0, theirs(what, &tree))?;
        let (ow, tw) = (median_wall(&o), median_wall(&t));
        let ratio = tw.as_secs_f64() / ow.as_secs_f64();
        let rss = median_rss(&o);
        writeln!(
            report,
            "tests {what:<6} {TESTS} tests: taskotron {:>7.1} ms {:>6} KiB | tmt {:>7.1} ms {:>6} KiB | {ratio:>6.1}x faster (target >= {RATIO_TARGET}x, <= {} KiB)",
            ms(ow),
            rss,
            ms(tw),
            median_rss(&t),
            RSS_TARGET_KIB
        )?;
        if ratio < RATIO_TARGET || rss > RSS_TARGET_KIB || o.iter().chain(&t).any(|s| !s.success) {
            failed.push(what);
        }
    }
    print!("{report}");
    if failed.is_empty() {
        println!("bench tmt: all targets met");
        Ok(())
    } else {
        anyhow::bail!("bench tmt: targets missed for tests {}", failed.join(", "))
    }
}
