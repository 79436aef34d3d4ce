//! The embedded `libtaskotron` against taskotron's own results code, from both
//! sides, on every interpreter a task may run on (Python 3 with PyYAML, Python 3
//! without it, Python 2.7 where one exists):
//!
//! - `check.export_YAML` writes the bytes `resultyaml::export` writes;
//! - `check.import_YAML` reads our export back into details that export the same;
//! - `check.export_TAP` (the 2014 layout) reads back through our TAP reader into
//!   the same results, output lines included.

use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::{json, Value};
use taskotron_core::results::{self, resultyaml, CheckDetail, Outcome};

mod strategies;

/// Results chosen to hit every scalar rule of the writer: YAML 1.1 words, numbers
/// as text, `: ` and ` #`, leading and trailing spaces, quotes and backslashes,
/// control and invisible characters, non-ASCII, multi-line text that does and
/// does not survive a `|` block, nested and empty collections, big and small
/// numbers.
fn corpus() -> Vec<CheckDetail> {
    let tricky = [
        "yes",
        "No",
        "on",
        "OFF",
        "y",
        "true",
        "Null",
        "~",
        "-",
        "1",
        "+1",
        "-7",
        "0x1f",
        "0o17",
        "1.0",
        "1e5",
        ".5",
        "1.",
        "1e",
        "1.2.3",
        "12:30",
        "a: b",
        "a #b",
        "a#b",
        "#x",
        " lead",
        "trail ",
        "'q'",
        "\"dq\"",
        "back\\slash",
        "tab\there",
        "bell\u{7}",
        "del\u{7f}",
        "nel\u{85}",
        "ls\u{2028}",
        "bom\u{feff}",
        "ünïcödé",
        "日本語",
        "@at",
        "%pct",
        "`tick",
        "key:",
        "- dash",
        "[x]",
        "{y}",
        "*star",
        "&amp",
        "!bang",
        "|pipe",
        ">gt",
        "?q",
        "one\ntwo\n",
        "one\ntwo",
        "one\n\ntwo\n",
        " indented\nline\n",
        "x\n",
        "\n",
        "",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "0",
        "00",
        "08",
        // YAML 1.1 (PyYAML) reads these as numbers, dates or a value key.
        "2026-01-01",
        "2026-01-01 10:00:00",
        "1_000",
        "0b101",
        "=",
        "1:30:00",
        "-12:30",
    ];
    let mut details = Vec::new();
    for (i, text) in tricky.iter().enumerate() {
        let mut d = CheckDetail::new(
            format!("pkg-{i}-1.fc41"),
            Some("koji_build"),
            [
                Outcome::Passed,
                Outcome::Failed,
                Outcome::Info,
                Outcome::NeedsInspection,
            ][i % 4],
        );
        d.note = (*text).to_string();
        d.keyvals.insert("text".into(), json!(text));
        d.keyvals.insert((*text).to_string(), json!(i));
        if i % 3 == 0 {
            d.checkname = Some(format!("dist.check{i}"));
            d.artifact = Some(format!("logs/{text}.log"));
        }
        d.output = vec![format!("line {i}"), format!("said {text:?}")];
        details.push(d);
    }
    let mut d = CheckDetail::new("xchat-0.5-1.fc20", Some("koji_build"), Outcome::Passed);
    d.keyvals = [
        ("float".to_string(), json!(1.5)),
        ("tiny".to_string(), json!(1e-7)),
        ("small".to_string(), json!(0.00001)),
        ("huge".to_string(), json!(1e16)),
        ("big".to_string(), json!(1e15)),
        ("neg".to_string(), json!(-0.1)),
        ("whole".to_string(), json!(100.0)),
        ("int".to_string(), json!(-42)),
        ("bool".to_string(), json!(true)),
        ("none".to_string(), Value::Null),
        (
            "list".to_string(),
            json!(["a", 1, ["nested", "yes"], {"k": "v"}, [], {}]),
        ),
        (
            "map".to_string(),
            json!({"b": {"c": [1, 2]}, "a": "first", "empty": {}}),
        ),
        ("arch".to_string(), json!(["x86_64", "noarch", "src"])),
    ]
    .into_iter()
    .collect();
    details.push(d);
    details.push(CheckDetail::new("only-1-1", None, Outcome::Crashed));
    details
}

/// What a detail looks like in the JSON the Python side reads.
fn to_json(details: &[CheckDetail]) -> String {
    serde_json::to_string(
        &details
            .iter()
            .map(|d| {
                json!({
                    "item": d.item, "type": d.item_type, "outcome": d.outcome.as_str(),
                    "note": d.note, "output": d.output, "keyvals": d.keyvals,
                    "checkname": d.checkname, "artifact": d.artifact,
                })
            })
            .collect::<Vec<_>>(),
    )
    .unwrap()
}

/// Runs the Python side: prints a JSON object with `export_yaml`, `reexport`
/// (our text through import_YAML and export_YAML) and `tap`.
const SCRIPT: &str = r#"
import io, json, sys
if sys.argv[4] == "no-pyyaml":
    sys.modules["yaml"] = None
sys.path.insert(0, sys.argv[1])
from libtaskotron import check
with io.open(sys.argv[2], encoding="utf-8") as f:
    raw = json.load(f)
with io.open(sys.argv[3], encoding="utf-8") as f:
    ours = f.read()
details = []
for r in raw:
    d = check.CheckDetail(r["item"], r["type"], r["outcome"], r["note"], r["output"],
                          r["keyvals"], r["checkname"], r["artifact"])
    details.append(d)
def text(s):
    return s if isinstance(s, type(u"")) else s.decode("utf-8")
out = {
    "export_yaml": text(check.export_YAML(details)),
    "reexport": text(check.export_YAML(check.import_YAML(ours))),
    "tap": text(check.export_TAP(details)),
}
sys.stdout.write(json.dumps(out))
"#;

fn run_python(python: &Path, mode: &str, details: &[CheckDetail], ours: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let lib = taskotron_core::pylib::install(dir.path()).unwrap();
    let input = dir.path().join("details.json");
    let ours_path = dir.path().join("ours.yml");
    std::fs::write(&input, to_json(details)).unwrap();
    std::fs::write(&ours_path, ours).unwrap();
    let o = Command::new(python)
        .arg("-c")
        .arg(SCRIPT)
        .arg(&lib)
        .arg(&input)
        .arg(&ours_path)
        .arg(mode)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{} ({mode}): {}",
        python.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn without_output(details: &[CheckDetail]) -> Vec<CheckDetail> {
    details
        .iter()
        .cloned()
        .map(|mut d| {
            d.output.clear();
            d
        })
        .collect()
}

fn modes() -> Vec<(PathBuf, &'static str)> {
    let mut all = vec![
        (PathBuf::from("python3"), "pyyaml"),
        (PathBuf::from("python3"), "no-pyyaml"),
    ];
    if let Some(p) = taskotron_tests::python::python27() {
        all.push((p, "no-pyyaml"));
    } else {
        eprintln!("skipped on Python 2.7: no python2.7 interpreter on this machine");
    }
    all
}

/// Checks the Python side's `export_YAML` is `ours` byte for byte (naming the first
/// line that differs) and that `import_YAML` then `export_YAML` of ours gives it
/// back; returns their text.
fn same_yaml<'a>(got: &'a Value, ours: &str, python: &Path, mode: &str) -> &'a str {
    let theirs = got["export_yaml"].as_str().unwrap();
    if theirs != ours {
        let first = theirs
            .lines()
            .zip(ours.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "{} ({mode}) export_YAML differs from ours at line {}:\n  python: {:?}\n  rust:   {:?}",
            python.display(),
            first + 1,
            theirs.lines().nth(first),
            ours.lines().nth(first)
        );
    }
    assert_eq!(
        got["reexport"].as_str().unwrap(),
        ours,
        "{} ({mode}): import_YAML then export_YAML of our text",
        python.display()
    );
    theirs
}

#[test]
fn export_yaml_is_byte_for_byte_ours_and_import_yaml_reads_ours() {
    let details = corpus();
    let ours = resultyaml::export(&details);
    for (python, mode) in modes() {
        let got = run_python(&python, mode, &details, &ours);
        let theirs = same_yaml(&got, &ours, &python, mode);
        // And our reader reads theirs into what was exported.
        let read = resultyaml::import(theirs, None).unwrap();
        assert_eq!(read.details, without_output(&details));
    }
}

#[test]
fn export_tap_in_the_2014_layout_reads_back_into_the_same_results() {
    let details = corpus();
    let ours = resultyaml::export(&details);
    for (python, mode) in modes() {
        let got = run_python(&python, mode, &details, &ours);
        let tap = got["tap"].as_str().unwrap();
        let head = format!(
            "TAP version 13\n1..{}\nok - dist.check0 for pkg-0-1.fc41\n  ---\n",
            details.len()
        );
        assert!(tap.starts_with(&head), "{tap}");
        let read = results::parse_any(
            tap,
            &results::Context {
                item: "unused-1-1".into(),
                item_type: None,
            },
        )
        .unwrap();
        assert!(read.diagnostics.is_empty(), "{:?}", read.diagnostics);
        assert_eq!(read.details.len(), details.len());
        for (back, want) in read.details.iter().zip(&details) {
            assert_eq!(back, want, "{} ({mode})", python.display());
        }
    }
}

/// 300 generated results (every kind of string, nested keyvals) in one document,
/// through each interpreter: the same bytes both ways, read back the same.
#[test]
fn generated_results_export_the_same_bytes_on_both_sides() {
    let mut runner = TestRunner::deterministic();
    let strategy =
        strategies::detail().prop_filter("the original needs an item", |d| !d.item.is_empty());
    let details: Vec<CheckDetail> = (0..300)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect();
    let ours = resultyaml::export(&details);
    for (python, mode) in modes() {
        let got = run_python(&python, mode, &details, &ours);
        same_yaml(&got, &ours, &python, mode);
        let tap = got["tap"].as_str().unwrap();
        let read = results::parse_any(tap, &results::Context::default()).unwrap();
        // What our own TAP13 export of the same results reads back as (an empty
        // artifact, say, is no artifact in TAP).
        let mut emitted = Vec::new();
        taskotron_core::tap::emit(&details, "scratch.prop", &mut emitted).unwrap();
        let ours_back = results::parse_tap(
            std::str::from_utf8(&emitted).unwrap(),
            &results::Context::default(),
            true,
        );
        assert_eq!(read.details.len(), details.len());
        for (i, (back, want)) in read.details.iter().zip(&ours_back.details).enumerate() {
            assert_eq!(
                back,
                want,
                "{} ({mode}) export_TAP, result {i}",
                python.display()
            );
        }
    }
}
