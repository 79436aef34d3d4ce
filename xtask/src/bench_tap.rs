//! `cargo xtask bench tap`: the TAP figures of issue #3, on the shared generator's
//! 200,000-point TAP13 file (and one ten times larger for memory), with the I/O
//! floor and Perl's TAP::Parser measured on the same file in the same run.

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::bench::{median_rss, median_wall, ms, repeat, Sample};
use crate::util::{cargo, root, step};

const FULL_TARGET: Duration = Duration::from_millis(150);
/// `tap parse --format json|jsonl` on the 200,000-point file: this many times
/// faster than Perl's TAP::Parser, at most this much memory (also on the 10x file).
const STREAM_RATIO_TARGET: f64 = 27.0;
const STREAM_RSS_TARGET_KIB: u64 = 32 * 1024;
/// `tap parse --format junit`, one testcase a test point.
const JUNIT_RATIO_TARGET: f64 = 20.0;
const JUNIT_RSS_TARGET_KIB: u64 = 128 * 1024;
/// `taskotron run` of a task whose suite prints the file, against `tap parse`.
const RUN_RATIO_TARGET: f64 = 1.5;
const STRUCTURE_TARGET: Duration = Duration::from_millis(50);
const RSS_TARGET_KIB: u64 = 16 * 1024;

/// Generates `points` test points with the shared generator, once.
fn input(dir: &Path, name: &str, points: u64) -> Result<PathBuf> {
    let path = dir.join(name);
    if path.exists() {
        return Ok(path);
    }
    let generator = root().join("../shared/tools/gen_tap13.py");
    if !generator.exists() {
        bail!(
            "the benchmark input comes from {}; it is not there",
            generator.display()
        );
    }
    eprintln!("{:>12} {name} ({points} test points)", "Generating");
    let ok = Command::new("python3")
        .arg(&generator)
        .arg(&path)
        .args(["-n", &points.to_string()])
        .status()?
        .success();
    if !ok {
        bail!("gen_tap13.py failed");
    }
    Ok(path)
}

/// Runs `taskotron tap check` with `file` fed through a pipe, measuring the parser
/// process alone.
fn piped(bin: &Path, file: &Path) -> Result<Sample> {
    let start = std::time::Instant::now();
    let mut child = Command::new(bin)
        .args(["tap", "check", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let mut stdin = child.stdin.take().context("no stdin")?;
    let mut source = File::open(file)?;
    let feeder = std::thread::spawn(move || std::io::copy(&mut source, &mut stdin));
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own unreaped child; the out-pointers are valid for writes.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    let _ = feeder.join();
    drop(child);
    if reaped != pid {
        bail!("wait4 failed");
    }
    // Exit 1 means "valid, with failures": the generated file has failing tests.
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok(Sample {
        wall,
        max_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        success: code == 1,
    })
}

/// Entry point: `bench tap [--runs N]`.
pub fn run(args: &[String]) -> Result<()> {
    let runs = crate::util::runs_arg(args, 11);
    let mut build = cargo();
    build.args(["build", "--release", "--quiet", "-p", "taskotron-cli"]);
    step("cargo build --release", build)?;
    let bin = root().join("target/release/taskotron");
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let big = input(&dir, "big13.tap", 200_000)?;
    let huge = input(&dir, "big13x10.tap", 2_000_000)?;
    let size = std::fs::metadata(&big)?.len();

    let check = |file: &Path, extra: &[&str]| {
        let (bin, file) = (bin.clone(), file.to_path_buf());
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        move || {
            let mut c = Command::new(&bin);
            c.args(["tap", "check"]).args(&extra).arg(&file);
            c
        }
    };
    let floor = repeat(runs, 1, || {
        let mut c = Command::new("perl");
        c.args(["-e", "while(<>){}"]).arg(&big);
        c
    })?;
    let structure = repeat(runs, 1, check(&big, &["--structure-only"]))?;
    let full = repeat(runs, 1, check(&big, &[]))?;
    let pipe: Vec<Sample> = (0..runs.min(5))
        .map(|_| piped(&bin, &big))
        .collect::<Result<_>>()?;
    let huge_file = repeat(3, 0, check(&huge, &[]))?;
    let huge_pipe: Vec<Sample> = (0..3).map(|_| piped(&bin, &huge)).collect::<Result<_>>()?;
    // `tap check` exits 1 for "valid, with failures", which the generated file is;
    // `measure` counts only 0 as success, so check the piped runs that know better.
    if pipe.iter().chain(&huge_pipe).any(|s| !s.success) {
        bail!("`taskotron tap check -` did not read the generated file as valid with failures");
    }
    // Conversion in every output format, on the 10x input: memory must not grow
    // with the number of test points or results (the JSON document and JUnit hold
    // theirs in a temporary file, not in memory).
    let parse: Vec<(&str, Vec<Sample>)> = ["json", "jsonl", "resultyaml", "junit", "tap"]
        .into_iter()
        .map(|format| {
            let samples = repeat(1, 0, || {
                let mut c = Command::new(&bin);
                c.args(["tap", "parse", "--format", format]).arg(&huge);
                c
            })?;
            Ok((format, samples))
        })
        .collect::<Result<_>>()?;
    // Per-test output of the 200,000-point file, each format against Perl.
    let per_test: Vec<(&str, Vec<Sample>)> = ["json", "jsonl", "junit"]
        .into_iter()
        .map(|format| {
            let samples = repeat(runs, 1, || {
                let mut c = Command::new(&bin);
                c.args(["tap", "parse", "--format", format]).arg(&big);
                c
            })?;
            Ok((format, samples))
        })
        .collect::<Result<_>>()?;
    // `taskotron run` of a suite that prints the file (`results: tap`): big13's
    // failing points carry `item`, so they are 50,000 results of their own; the
    // same file without those keys is one aggregated result and 200,000 tests.
    let plain = dir.join("big13-plain.tap");
    if !plain.exists() {
        // Streamed: a child's peak RSS counts what its parent held when it forked.
        use std::io::{BufRead, Write};
        let mut out = std::io::BufWriter::new(File::create(&plain)?);
        for line in std::io::BufReader::new(File::open(&big)?).lines() {
            let line = line?;
            if !line.trim_start().starts_with("item: ") {
                writeln!(out, "{line}")?;
            }
        }
        out.flush()?;
    }
    let suite_run = |file: &Path, name: &str| -> Result<Vec<Sample>> {
        let task = dir.join(name);
        std::fs::create_dir_all(&task)?;
        std::fs::write(
            task.join("runtask.yml"),
            format!(
                "name: {name}\nnamespace: bench\ndesc: a suite printing a TAP file\nmaintainer: bench\n\
                 input:\n  args: [koji_build]\nactions:\n  - name: suite\n    shell:\n      - [cat, \"{}\"]\n    results: tap\n",
                file.display()
            ),
        )?;
        let artifacts = dir.join(format!("{name}-artifacts"));
        let tmp = dir.join(format!("{name}-tmp"));
        // The state directory too: the run keeps its 200,000 cases in the history,
        // and the user's own (where the runs went before) would grow by as much each
        // time, and each run be compared with the last.
        let state = dir.join(format!("{name}-state"));
        repeat(runs.min(7), 1, || {
            // Each run in fresh directories; the last one's are removed first, untimed.
            let _ = std::fs::remove_dir_all(&artifacts);
            let _ = std::fs::remove_dir_all(&state);
            let mut c = Command::new(&bin);
            c.args([
                "run",
                task.to_str().unwrap_or_default(),
                "-i",
                "pkg-1.0-1.fc40",
            ])
            .args(["-t", "koji_build", "-q", "--artifacts"])
            .arg(&artifacts)
            .env("TASKOTRON_TMPDIR", &tmp)
            .env("TASKOTRON_STATE_DIR", &state);
            c
        })
    };
    let run_keyed = suite_run(&big, "suite-keyed")?;
    let run_plain = suite_run(&plain, "suite-plain")?;
    let parse_plain = repeat(runs, 1, || {
        let mut c = Command::new(&bin);
        c.args(["tap", "parse"]).arg(&plain);
        c
    })?;
    let _ = std::fs::remove_dir_all(dir.join("suite-keyed-artifacts"));
    let _ = std::fs::remove_dir_all(dir.join("suite-plain-artifacts"));
    let perl_script = "use TAP::Parser; my $p = TAP::Parser->new({source => $ARGV[0]}); \
        while (my $r = $p->next) { if ($r->is_yaml) { my $d = $r->data; my @k = keys %$d; } }";
    let perl = repeat(3, 0, || {
        let mut c = Command::new("perl");
        c.args(["-e", perl_script]).arg(&big);
        c
    })?;

    let (floor_w, structure_w, full_w, perl_w) = (
        median_wall(&floor),
        median_wall(&structure),
        median_wall(&full),
        median_wall(&perl),
    );
    let mut rss = vec![
        median_rss(&full),
        median_rss(&pipe),
        median_rss(&huge_file),
        median_rss(&huge_pipe),
    ];
    rss.extend(parse.iter().map(|(_, s)| median_rss(s)));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\ntaskotron bench tap ({runs} runs, medians; {} test points, {:.1} MB; release build)\n",
        200_000,
        size as f64 / 1e6
    );
    let _ = writeln!(
        out,
        "{:<52} {:>10} {:>10} {:>11} {:>5}",
        "measure", "wall", "peak RSS", "target", "met"
    );
    let row = |out: &mut String, name: &str, s: &[Sample], target: Option<Duration>| {
        let w = median_wall(s);
        let r = median_rss(s);
        let (t, met) = match target {
            Some(t) => (
                format!("<= {} ms", t.as_millis()),
                if w <= t { "yes" } else { "NO" },
            ),
            None => (String::new(), ""),
        };
        let _ = writeln!(
            out,
            "{name:<52} {:>7.1} ms {:>6.1} MiB {t:>11} {met:>5}",
            ms(w),
            r as f64 / 1024.0
        );
    };
    row(&mut out, "I/O floor: perl -e 'while(<>){}'", &floor, None);
    row(
        &mut out,
        "taskotron tap check --structure-only (file)",
        &structure,
        Some(STRUCTURE_TARGET),
    );
    row(
        &mut out,
        "taskotron tap check, YAML decoded to results (file)",
        &full,
        Some(FULL_TARGET),
    );
    row(
        &mut out,
        "taskotron tap check, YAML decoded (pipe)",
        &pipe,
        None,
    );
    row(
        &mut out,
        "taskotron tap check, 10x input (file)",
        &huge_file,
        None,
    );
    row(
        &mut out,
        "taskotron tap check, 10x input (pipe)",
        &huge_pipe,
        None,
    );
    for (format, samples) in &parse {
        row(
            &mut out,
            &format!("taskotron tap parse --format {format}, 10x input"),
            samples,
            None,
        );
    }
    for (format, samples) in &per_test {
        row(
            &mut out,
            &format!("taskotron tap parse --format {format}"),
            samples,
            None,
        );
    }
    row(
        &mut out,
        "taskotron tap parse (json), keys removed",
        &parse_plain,
        None,
    );
    row(
        &mut out,
        "taskotron run, suite prints big13 (50,000 results)",
        &run_keyed,
        None,
    );
    row(
        &mut out,
        "taskotron run, suite prints big13, keys removed",
        &run_plain,
        None,
    );
    row(
        &mut out,
        "Perl TAP::Parser, every result, YAML walked",
        &perl,
        None,
    );
    let rss_max = rss.iter().copied().max().unwrap_or(0);
    let _ = writeln!(
        out,
        "\npeak RSS, largest of check (file/pipe/10x) and parse (every format, 10x): {:.1} MiB (target <= {} MiB): {}",
        rss_max as f64 / 1024.0,
        RSS_TARGET_KIB / 1024,
        if rss_max <= RSS_TARGET_KIB {
            "yes"
        } else {
            "NO"
        }
    );
    let _ = writeln!(
        out,
        "full parse vs Perl TAP::Parser: {:.0}x faster; vs the I/O floor: {:.1}x",
        ms(perl_w) / ms(full_w),
        ms(full_w) / ms(floor_w)
    );
    let _ = writeln!(
        out,
        "structure only vs the I/O floor: {:.2}x",
        ms(structure_w) / ms(floor_w)
    );
    // Issue 13's figures: per-test output against Perl, memory, and the run.
    let mut missed = Vec::new();
    let mut judge = |out: &mut String, what: String, ok: bool| {
        let _ = writeln!(out, "{what}: {}", if ok { "yes" } else { "NO" });
        if !ok {
            missed.push(what);
        }
    };
    let huge_rss = |format: &str| {
        parse
            .iter()
            .find(|(f, _)| *f == format)
            .map_or(0, |(_, s)| median_rss(s))
    };
    let _ = writeln!(out);
    for (format, samples) in &per_test {
        let ratio = ms(perl_w) / ms(median_wall(samples));
        let (ratio_target, rss_target) = if *format == "junit" {
            (JUNIT_RATIO_TARGET, JUNIT_RSS_TARGET_KIB)
        } else {
            (STREAM_RATIO_TARGET, STREAM_RSS_TARGET_KIB)
        };
        let rss = median_rss(samples).max(huge_rss(format));
        judge(
            &mut out,
            format!(
                "tap parse --format {format}: {ratio:.1}x Perl (target >= {ratio_target}x), \
                 peak RSS {:.1} MiB on 1x, {:.1} MiB on 10x (target <= {} MiB)",
                median_rss(samples) as f64 / 1024.0,
                huge_rss(format) as f64 / 1024.0,
                rss_target / 1024
            ),
            ratio >= ratio_target && rss <= rss_target,
        );
    }
    let json_w = per_test
        .iter()
        .find(|(f, _)| *f == "json")
        .map_or(Duration::ZERO, |(_, s)| median_wall(s));
    let keyed_ratio = ms(median_wall(&run_keyed)) / ms(json_w);
    judge(
        &mut out,
        format!(
            "run of a suite printing big13 vs tap parse on it: {keyed_ratio:.2}x \
             (target <= {RUN_RATIO_TARGET}x; peak RSS {:.1} MiB)",
            median_rss(&run_keyed) as f64 / 1024.0
        ),
        keyed_ratio <= RUN_RATIO_TARGET,
    );
    let plain_ratio = ms(median_wall(&run_plain)) / ms(median_wall(&parse_plain));
    let _ = writeln!(
        out,
        "run of a suite printing big13 without result keys vs tap parse on it: {plain_ratio:.2}x \
         (peak RSS {:.1} MiB)",
        median_rss(&run_plain) as f64 / 1024.0
    );
    print!("{out}");
    if full_w > FULL_TARGET || structure_w > STRUCTURE_TARGET || rss_max > RSS_TARGET_KIB {
        bail!("a target was missed");
    }
    if !missed.is_empty() {
        bail!("{} target(s) missed: {}", missed.len(), missed.join("; "));
    }
    Ok(())
}
