//! The fmf reader against the Python fmf (1.7, from PyPI, in `target/fmf-venv`) on
//! the example trees its sdist ships (`target/fmf-sdist`): the same nodes listed,
//! each with the same data. `cargo xtask integration` installs both and runs it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn target() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target")
}

/// What the Python fmf lists of the tree at `root`: each selected node's name and
/// data, by name.
fn python_fmf(root: &Path) -> Result<Vec<(String, Value)>, String> {
    let script = "import fmf, json, sys\n\
                  t = fmf.Tree(sys.argv[1])\n\
                  print(json.dumps([[n.name, n.data] for n in t.prune()]))\n";
    let o = Command::new(target().join("fmf-venv/bin/python"))
        .args(["-c", script])
        .arg(root)
        .output()
        .expect("target/fmf-venv (cargo xtask integration installs it)");
    if !o.status.success() {
        return Err(String::from_utf8_lossy(&o.stderr).into_owned());
    }
    let list: Vec<(String, Value)> = serde_json::from_slice(&o.stdout).unwrap();
    let mut list = list;
    list.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(list)
}

fn ours(root: &Path) -> Result<Vec<(String, Value)>, String> {
    let tree = taskotron_fmf::Tree::read(root).map_err(|d| {
        d.iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let mut list: Vec<(String, Value)> = tree
        .selected()
        .map(|n| (n.name.clone(), n.to_json()))
        .collect();
    list.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(list)
}

#[test]
#[ignore = "needs target/fmf-venv and target/fmf-sdist; run by cargo xtask integration"]
fn the_example_trees_read_as_python_fmf_reads_them() {
    let examples = target().join("fmf-sdist/fmf-1.7.0/examples");
    let mut compared = 0;
    let mut differences = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&examples)
        .expect("target/fmf-sdist (cargo xtask integration unpacks it)")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join(".fmf/version").is_file())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        match (python_fmf(&dir), ours(&dir)) {
            (Ok(theirs), Ok(mine)) => {
                if theirs != mine {
                    differences.push(format!("{name}:\n  fmf:  {theirs:?}\n  ours: {mine:?}"));
                }
            }
            (Err(_), Err(_)) => {}
            (theirs, mine) => differences.push(format!(
                "{name}: fmf {} and we {}",
                theirs.map_or_else(|e| format!("refuses it ({e})"), |_| "reads it".into()),
                mine.map_or_else(|e| format!("refuse it ({e})"), |_| "read it".into()),
            )),
        }
        compared += 1;
    }
    assert!(compared >= 5, "only {compared} example trees");
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// One key of generated data: a key, a merge suffix and a value of the key's type
/// (or, now and then, of another, which both readers must refuse alike).
fn data_line() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let key = prop::sample::select(vec!["tag", "tier", "test", "env"]);
    let suffix = prop::sample::select(vec!["", "", "+", "+<", "-"]);
    let value = prop::sample::select(vec![
        "[a, b]", "[b]", "[c, a]", "1", "2", "./run.sh", "' -v'", "{A: 1}", "{B: 2}", "[A]",
    ]);
    (key, suffix, value).prop_map(|(k, s, v)| format!("{k}{s}: {v}"))
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 48, ..Default::default() })]

    /// Generated trees (a root, child files, `/child` keys and directories, every
    /// merge suffix) read as the Python fmf reads them, or are refused by both.
    #[test]
    #[ignore = "needs target/fmf-venv; run by cargo xtask integration"]
    fn generated_trees_read_as_python_fmf_reads_them(
        root in proptest::collection::vec(data_line(), 0..4),
        files in proptest::collection::vec(
            (proptest::sample::select(vec!["a", "b", "sub/main", "sub/c"]),
             proptest::collection::vec(data_line(), 0..4),
             proptest::collection::vec(data_line(), 0..3)),
            0..4),
    ) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".fmf")).unwrap();
        std::fs::write(dir.path().join(".fmf/version"), "1\n").unwrap();
        let unique = |lines: &[String]| {
            // One line per key, as YAML wants.
            let mut seen = std::collections::BTreeSet::new();
            lines
                .iter()
                .filter(|l| seen.insert(l.split(':').next().unwrap().to_string()))
                .cloned()
                .collect::<Vec<_>>()
        };
        std::fs::write(dir.path().join("main.fmf"), unique(&root).join("\n") + "\n").unwrap();
        for (name, own, child) in &files {
            let path = dir.path().join(format!("{name}.fmf"));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let mut text = unique(own).join("\n") + "\n";
            if !child.is_empty() {
                text.push_str("/child:\n");
                for l in unique(child) {
                    text.push_str(&format!("  {l}\n"));
                }
            }
            std::fs::write(path, text).unwrap();
        }
        let theirs = python_fmf(dir.path());
        let mine = ours(dir.path());
        match (&theirs, &mine) {
            (Ok(t), Ok(m)) => proptest::prop_assert_eq!(t, m),
            (Err(_), Err(_)) => {}
            _ => proptest::prop_assert!(false, "fmf: {theirs:?}\nours: {mine:?}"),
        }
    }
}
