//! Data-driven formula tests: every file in `testdata/errors/` must fail to load,
//! and its rendered diagnostics are a snapshot; every file in `testdata/valid/`
//! must load.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::*;
use crate::diagnostic::render_all;

fn files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/formula/testdata")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    files
}

/// Loads a fixture and checks its variables, as `taskotron validate` does.
fn load_fixture(path: &Path) -> Result<Loaded, Vec<crate::Diagnostic>> {
    let source = std::fs::read_to_string(path).unwrap();
    let name = Path::new("testdata").join(path.file_name().unwrap());
    load_checked(&source, &name, &Defined::for_validation())
}

#[test]
fn error_fixtures_fail_with_clear_messages() {
    let fixtures = files("errors");
    assert!(fixtures.len() >= 15);
    for path in fixtures {
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let diagnostics = load_fixture(&path).expect_err(&name);
        let source = std::fs::read_to_string(&path).unwrap();
        let lines = source.lines().count().max(1);
        for d in diagnostics.iter().filter(|d| d.is_error()) {
            let line = d.location.map_or(1, |l| l.line);
            assert!(
                (1..=lines).contains(&line),
                "{name}: line {line} of {lines}"
            );
        }
        insta::with_settings!({snapshot_suffix => name.clone(), prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!("formula_error", render_all(&diagnostics));
        });
    }
}

#[test]
fn valid_fixtures_load() {
    for path in files("valid") {
        let loaded = load_fixture(&path)
            .unwrap_or_else(|e| panic!("{}:\n{}", path.display(), render_all(&e)));
        assert!(!loaded.formula.actions.is_empty());
    }
}

#[test]
fn the_2014_task_key_loads_with_a_warning() {
    let path = files("valid")
        .into_iter()
        .find(|p| p.ends_with("task_key_2014.yml"))
        .unwrap();
    let loaded = load_fixture(&path).unwrap();
    assert_eq!(loaded.formula.actions.len(), 1);
    assert_eq!(loaded.warnings.len(), 1);
    assert!(loaded.warnings[0].message.contains("2014"));
}

#[test]
fn defaults_and_model() {
    let path = files("valid")
        .into_iter()
        .find(|p| p.ends_with("full.yml"))
        .unwrap();
    let f = load_fixture(&path).unwrap().formula;
    assert_eq!(f.checkname(), "dist.full");
    assert_eq!(
        f.input_args,
        vec![InputArg::Item(crate::ItemType::KojiBuild), InputArg::Arch]
    );
    assert_eq!(
        f.actions[1].timeout,
        Some(std::time::Duration::from_secs(90))
    );
    assert_eq!(f.actions[1].export.as_deref(), Some("result"));
    let minimal = load(
        "name: m\nactions:\n  - name: a\n    dummy: {result: PASS}\n",
        Path::new("m.yml"),
    )
    .unwrap();
    assert_eq!(minimal.formula.namespace, "scratch");
    assert_eq!(minimal.formula.checkname(), "scratch.m");
}

/// YAML-ish text built from formula fragments, so that the generator reaches deep
/// into the loader rather than failing at the first line.
fn yamlish() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        Just("name: x".to_string()),
        Just("actions:".to_string()),
        Just("  - name: a".to_string()),
        Just("    dummy: {result: PASS}".to_string()),
        Just("    shell: [\"echo ${item}\"]".to_string()),
        Just("    export: out".to_string()),
        Just("    python: {file: a.py, callable: run, x: ${out.y}}".to_string()),
        Just("input: {args: [koji_build]}".to_string()),
        Just("task:".to_string()),
        Just("- &a [*a]".to_string()),
        "[ -~]{0,30}".prop_map(|s| s),
        "\\PC{0,20}".prop_map(|s| s),
    ];
    prop::collection::vec(atom, 0..12).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn loader_never_panics_and_points_at_real_lines(text in yamlish()) {
        if let Err(diagnostics) = load(&text, Path::new("p.yml")) {
            let lines = text.lines().count().max(1);
            for d in diagnostics {
                if let Some(l) = d.location {
                    prop_assert!(l.line >= 1 && l.line <= lines, "line {} of {}: {}", l.line, lines, d.message);
                }
            }
        }
    }

    #[test]
    fn loader_survives_arbitrary_strings(text in "\\PC{0,200}") {
        let _ = load(&text, Path::new("p.yml"));
    }
}
