//! `cargo xtask bench trigger`: the trigger issue's figures. 200,000 generated
//! fedora-messaging messages (Koji builds, tags, Bodhi updates, other topics) through
//! 50 generated rules in the original format:
//!
//! - in process (the `trigger_throughput` example, release build): messages/s;
//! - from the JSON-lines file to `taskotron trigger --dry-run --format json`: messages/s;
//! - the reference, measured in the same run: the original trigger's way, Python's
//!   `json` and the `mongoquery` package it matched rules with, on the same messages.
//!
//! Everything runs pinned to one CPU (`taskset -c 0`) when taskset is there.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::bench::{median_wall, repeat};
use crate::util::root;

const MESSAGES: usize = 200_000;
const RULES: usize = 50;
/// Messages the Python reference handles (it is slow; its rate is what counts).
const PYTHON_MESSAGES: usize = 20_000;
const IN_PROCESS_TARGET: f64 = 200_000.0;
const FILE_TARGET: f64 = 50_000.0;

const PACKAGES: usize = 2_000;
const TAGS: &[&str] = &[
    "f40-updates-pending",
    "f40-updates-testing-pending",
    "f41-updates-pending",
    "f41-updates-testing-pending",
    "f42-updates-candidate",
    "epel9-testing-pending",
    "f41-side-12345",
    "f42-build-side-999",
];

fn package(n: usize) -> String {
    const STEMS: &[&str] = &[
        "python", "perl", "rust", "golang", "ghc", "nodejs", "texlive", "kf6", "gnome", "lib",
    ];
    format!("{}-pkg{}", STEMS[n % STEMS.len()], n / STEMS.len())
}

/// The 50 rules, as the rules file (YAML) and as the Python reference's queries.
fn rules() -> (String, Value) {
    let mut yaml = String::new();
    let mut queries = Vec::new();
    let mut add = |when: Value, tasks: Vec<String>, arches: Option<Vec<&str>>| {
        let mut action = json!({"tasks": tasks});
        if let Some(a) = &arches {
            action["arches"] = json!(a);
        }
        // JSON is YAML: each rule is written in flow style.
        let _ = writeln!(yaml, "- when: {when}\n  do: [{action}]");
        queries.push(json!({"when": when, "do": [action]}));
    };
    for i in 0..20 {
        let names: Vec<String> = (0..10).map(|k| package(i * 37 + k * 101)).collect();
        add(
            json!({"message_type": "KojiBuildPackageCompleted", "name": {"$in": names}}),
            vec![format!("pkgcheck-{i}")],
            None,
        );
    }
    for i in 0..10 {
        let stem = ["python", "perl", "rust", "golang", "nodejs"][i % 5];
        add(
            json!({"message_type": "KojiBuildPackageCompleted",
                   "name": {"$regex": format!("^{stem}-pkg[0-9]*{i}$")},
                   "release": {"$regex": "fc4[0-2]$"},
                   "owner": {"$nin": ["releng", "mass-rebuild"]}}),
            vec![format!("{stem}-check-{i}")],
            Some(vec!["noarch"]),
        );
    }
    for i in 0..10 {
        add(
            json!({"message_type": "KojiTagChanged",
                   "tag": {"$regex": format!("^f4{}-updates(-testing)?-pending$", i % 3)},
                   "owner": {"$exists": true}}),
            vec![format!("tagcheck-{i}")],
            Some(vec!["all"]),
        );
    }
    for i in 0..5 {
        add(
            json!({"message_type": "BodhiUpdateRequestTesting",
                   "release": {"$in": [format!("F4{}", i % 3), "F42"]}}),
            vec![format!("updatecheck-{i}")],
            Some(vec!["noarch"]),
        );
    }
    for i in 0..5 {
        add(
            json!({"$or": [
                      {"message_type": "KojiBuildPackageCompleted", "distgit_branch": format!("f4{}", i % 3)},
                      {"message_type": "BodhiUpdateEdit"}],
                   "item": {"$ne": format!("{}-1.0-1.fc41", package(i))}}),
            vec![format!("gating-{i}")],
            None,
        );
    }
    assert_eq!(queries.len(), RULES);
    (yaml, Value::Array(queries))
}

/// Writes one message a line, in the fedora-messaging layout the trigger reads, to
/// `path`; returns the size. Streamed, so that this process stays small: the peak RSS
/// of a child measured right after a fork can include its parent's pages.
fn messages(path: &Path) -> Result<usize> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut size = 0;
    for n in 0..MESSAGES {
        let id = format!("{n:08x}-1d2c-4b5a-9e8f-{:012x}", n * 7919);
        let name = package((n * 7) % PACKAGES);
        let (routing_key, body) = match n % 20 {
            0..=11 => {
                let release = format!("{}.fc4{}", 1 + n % 3, n % 3);
                let version = format!("{}.{}", n / 1000, n % 1000);
                (
                    "org.fedoraproject.prod.buildsys.build.state.change",
                    json!({"attribute": "state", "build_id": 2_000_000 + n, "old": 0, "new": 1,
                           "owner": if n % 50 == 0 { "releng" } else { "packager" },
                           "name": name, "version": version, "release": release,
                           "epoch": null, "instance": "primary", "task_id": 100_000_000 + n,
                           "request": [format!("git+https://src.fedoraproject.org/rpms/{name}.git#0a1b2c3d"),
                                       format!("f4{}-candidate", n % 3), {"scratch": n % 97 == 0}],
                           "base_url": null}),
                )
            }
            12..=15 => (
                "org.fedoraproject.prod.buildsys.tag",
                json!({"build_id": 2_000_000 + n, "name": name, "tag_id": 40_000 + n % 8,
                       "instance": "primary", "tag": TAGS[n % TAGS.len()], "user": "bodhi",
                       "version": "1.0", "owner": "packager", "release": "1.fc41"}),
            ),
            16..=18 => (
                if n % 3 == 0 {
                    "org.fedoraproject.prod.bodhi.update.edit"
                } else {
                    "org.fedoraproject.prod.bodhi.update.request.testing"
                },
                json!({"agent": "packager", "update": {
                    "alias": format!("FEDORA-2026-{:010x}", n * 104_729),
                    "builds": [{"nvr": format!("{name}-1.0-1.fc41")}, {"nvr": format!("{name}-libs-1.0-1.fc41")}],
                    "release": {"name": format!("F4{}", n % 3), "branch": format!("f4{}", n % 3)},
                    "request": "testing", "status": "pending", "user": {"name": "packager"}}}),
            ),
            _ => (
                "org.fedoraproject.prod.copr.build.end",
                json!({"build": n, "chroot": "fedora-41-x86_64", "owner": "someone", "status": 1}),
            ),
        };
        let message = json!({
            "routing_key": routing_key,
            "properties": {"message_id": id, "content_type": "application/json",
                           "headers": {"fedora_messaging_schema": "base.message",
                                       "sent-at": "2026-11-28T10:00:00+00:00"}},
            "body": body,
        });
        let line = format!("{message}\n");
        size += line.len();
        out.write_all(line.as_bytes())?;
    }
    out.flush()?;
    Ok(size)
}

/// The reference: json + mongoquery, fanning out and deduplicating like the trigger.
const PYTHON: &str = r#"
import json, sys, re, time
from mongoquery import Query
rules = json.load(open(sys.argv[1]))
compiled = [(Query(r["when"]), r["do"]) for r in rules]
limit = int(sys.argv[3])
seen = {}
out = []
def data_of(m):
    t, b = m["routing_key"], m["body"]
    if t.endswith("buildsys.build.state.change"):
        if b.get("new") != 1 or b.get("instance", "primary") != "primary":
            return None
        req = b.get("request") or []
        if len(req) > 2 and isinstance(req[2], dict) and req[2].get("scratch"):
            return None
        rel = b["release"]
        branch = None
        for p in reversed(rel.split(".")):
            if p.startswith("fc") and p[2:].isdigit():
                branch = "f" + p[2:]
                break
        return {"message_type": "KojiBuildPackageCompleted", "item": "%s-%s-%s" % (b["name"], b["version"], rel),
                "item_type": "koji_build", "name": b["name"], "version": b["version"], "release": rel,
                "owner": b.get("owner"), "distgit_branch": branch, "topic": t}
    if t.endswith("buildsys.tag"):
        return {"message_type": "KojiTagChanged", "item": b["tag"], "item_type": "koji_tag", "tag": b["tag"],
                "name": b.get("name"), "version": b.get("version"), "release": b.get("release"),
                "owner": b.get("owner"), "topic": t}
    for suffix, kind in (("bodhi.update.request.testing", "BodhiUpdateRequestTesting"), ("bodhi.update.edit", "BodhiUpdateEdit")):
        if t.endswith(suffix):
            u = b["update"]
            return {"message_type": kind, "item": u["alias"], "item_type": "bodhi_update",
                    "release": u["release"]["name"], "builds": [x["nvr"] for x in u["builds"]], "topic": t}
    return None
start = time.perf_counter()
n = jobs = 0
with open(sys.argv[2]) as f:
    for line in f:
        if n >= limit:
            break
        n += 1
        data = data_of(json.loads(line))
        if data is None:
            continue
        for q, actions in compiled:
            if q.match(data):
                for a in actions:
                    arches = a.get("arches") or ["x86_64", "aarch64"]
                    if "noarch" in arches:
                        arches = ["noarch"]
                    elif "all" in arches:
                        arches = ["x86_64", "aarch64"]
                    for task in a["tasks"]:
                        for arch in arches:
                            key = (data["item"], data["item_type"], task, arch)
                            if key not in seen:
                                seen[key] = time.time()
                                jobs += 1
                                sys.stdout.write(json.dumps(dict(zip(("item", "item_type", "taskname", "arch"), key))) + "\n")
elapsed = time.perf_counter() - start
sys.stderr.write(json.dumps({"messages": n, "jobs": jobs, "seconds": elapsed}) + "\n")
"#;

/// `cmd` pinned to CPU 0 when `taskset` exists.
fn one_core(program: &Path) -> Command {
    let taskset = Path::new("/usr/bin/taskset");
    if taskset.exists() {
        let mut c = Command::new(taskset);
        c.args(["-c", "0"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn count_lines(path: &Path) -> Result<u64> {
    use std::io::Read as _;
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let got = f.read(&mut buf)?;
        if got == 0 {
            return Ok(n);
        }
        n += buf[..got].iter().filter(|b| **b == b'\n').count() as u64;
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

pub fn run(args: &[String]) -> Result<()> {
    let runs = crate::util::runs_arg(args, 5);
    crate::util::build_release_with_example("taskotron-trigger", "trigger_throughput")?;

    let work = root().join("target/bench/trigger");
    std::fs::create_dir_all(&work)?;
    let (yaml, queries) = rules();
    let rules_file = work.join("rules.yml");
    std::fs::write(&rules_file, yaml)?;
    let queries_file = work.join("rules.json");
    std::fs::write(&queries_file, queries.to_string())?;
    let messages_file = work.join("messages.jsonl");
    let mb = messages(&messages_file)? as f64 / 1e6;
    eprintln!(
        "{:>12} {MESSAGES} messages ({mb:.1} MB), {RULES} rules",
        "Generated"
    );

    // In process.
    let out = one_core(&root().join("target/release/examples/trigger_throughput"))
        .arg(&rules_file)
        .arg(&messages_file)
        .arg(runs.to_string())
        .output()
        .context("cannot run trigger_throughput")?;
    if !out.status.success() {
        bail!(
            "trigger_throughput failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let inproc: Value = serde_json::from_slice(&out.stdout)?;
    let secs: Vec<f64> = inproc["seconds"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    let inproc_rate = MESSAGES as f64 / median(secs);
    let jobs = inproc["jobs"].as_u64().unwrap_or(0);

    // File to --dry-run output.
    let bin = root().join("target/release/taskotron");
    let none = work.join("none.yaml");
    std::fs::write(&none, "")?;
    let dry_run = || {
        let mut c = one_core(&bin);
        c.args(["-q", "trigger", "--rules"])
            .arg(&rules_file)
            .arg("--from")
            .arg(&messages_file)
            .args(["--dry-run", "--format", "json"])
            .env("TASKOTRON_CONFIG", &none)
            .env("TASKOTRON_SUPPORTED_ARCHES", "x86_64,aarch64");
        c
    };
    // The jobs printed must be the ones counted in process.
    let printed_file = work.join("jobs.jsonl");
    let printed = dry_run()
        .stdout(std::fs::File::create(&printed_file)?)
        .stderr(Stdio::null())
        .status()?;
    if !printed.success() {
        bail!("`taskotron trigger --dry-run` failed ({printed})");
    }
    let printed_jobs = count_lines(&printed_file)?;
    if printed_jobs != jobs {
        bail!("--dry-run printed {printed_jobs} jobs, the in-process run made {jobs}");
    }
    let samples = repeat(runs, 1, dry_run)?;
    if samples.iter().any(|s| !s.success) {
        bail!("`taskotron trigger --dry-run` failed during the benchmark");
    }
    let file_wall = median_wall(&samples);
    let file_rate = MESSAGES as f64 / file_wall.as_secs_f64();
    let rss = crate::bench::median_rss(&samples);

    // The reference.
    let reference = crate::util::bench_python("mongoquery", "mongoquery").map(|python| {
        let script = work.join("reference.py");
        let _ = std::fs::write(&script, PYTHON);
        let start = Instant::now();
        let out = one_core(&python)
            .arg(&script)
            .arg(&queries_file)
            .arg(&messages_file)
            .arg(PYTHON_MESSAGES.to_string())
            .stdout(Stdio::null())
            .output();
        let wall = start.elapsed();
        out.ok()
            .filter(|o| o.status.success())
            .and_then(|o| serde_json::from_slice::<Value>(&o.stderr).ok())
            .map(|v| (v, wall))
    });

    println!("trigger: {MESSAGES} messages ({mb:.1} MB), {RULES} rules, {jobs} jobs, median of {runs}, one core");
    println!(
        "  in process (AMQP deliveries read, matched, fanned out, deduplicated): {:>9.0} messages/s  (target {IN_PROCESS_TARGET:.0}){}",
        inproc_rate,
        verdict(inproc_rate >= IN_PROCESS_TARGET)
    );
    println!(
        "  file -> trigger --dry-run --format json:  {:>9.0} messages/s  (target {FILE_TARGET:.0}){}  {:.0} ms, peak RSS {:.1} MiB",
        file_rate,
        verdict(file_rate >= FILE_TARGET),
        file_wall.as_secs_f64() * 1000.0,
        rss as f64 / 1024.0
    );
    match reference.flatten() {
        Some((v, _)) => {
            let secs = v["seconds"].as_f64().unwrap_or(f64::NAN);
            let n = v["messages"].as_f64().unwrap_or(f64::NAN);
            let rate = n / secs;
            println!(
                "  reference: Python json + mongoquery (the original trigger's matcher), {n:.0} messages: {rate:.0} messages/s"
            );
            println!(
                "  ratio: in process {:.0}x, file -> --dry-run {:.0}x the reference",
                inproc_rate / rate,
                file_rate / rate
            );
        }
        None => println!("  reference: not available (pip install mongoquery into target/bench-venv failed); no ratio"),
    }
    if inproc_rate < IN_PROCESS_TARGET || file_rate < FILE_TARGET {
        bail!("a trigger target was missed");
    }
    Ok(())
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "  ok"
    } else {
        "  MISSED"
    }
}
