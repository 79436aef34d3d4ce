use super::*;

fn results(text: &str) -> Result<Vec<TestResult>, String> {
    read_results(text, Path::new("artifacts/results.yml"))
        .map_err(|d| crate::diagnostic::render_all(&d))
}

#[test]
fn reads_the_documented_results() {
    let got = results(
        "results:\n- {result: pass, test: test1, logs: [test1.log]}\n- {result: fail, test: test2, logs: [test2.log, debug.log]}\n- {result: error, test: test3}\n",
    )
    .unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(got[1].logs, vec!["test2.log", "debug.log"]);
    assert!(got[2].logs.is_empty());
    assert_eq!(outcome(&got), crate::results::Outcome::NeedsInspection);
    assert_eq!(outcome(&got[..2]), crate::results::Outcome::Failed);
    assert_eq!(outcome(&got[..1]), crate::results::Outcome::Passed);
    assert_eq!(outcome(&[]), crate::results::Outcome::NeedsInspection);
    assert!(results("results:\n").unwrap().is_empty());
}

#[test]
fn bad_results_say_where_and_what_was_meant() {
    let e = results("results:\n- {result: passed, test: t1}\n").unwrap_err();
    assert!(e.contains("results.yml:2:"), "{e}");
    assert!(e.contains("expected `pass`, `fail` or `error`"), "{e}");
    assert!(e.contains("did you mean `pass`?"), "{e}");
    let e = results("results:\n- {result: pass, tets: t1}\n").unwrap_err();
    assert!(e.contains("did you mean `test`"), "{e}");
    let e = results("- pass\n").unwrap_err();
    assert!(e.contains("no `results` list"), "{e}");
    let e = results("results: [\n").unwrap_err();
    assert!(e.contains("results.yml:"), "{e}");
}

#[test]
fn tags_and_roles_are_found_where_plays_name_them() {
    let play = taskotron_tap::yaml::parse(
        "- hosts: localhost\n  roles:\n  - role: standard-test-basic\n    tags: [classic]\n  - standard-test-source\n  tasks:\n  - include_role: {name: my-role}\n",
        None,
    )
    .unwrap();
    assert!(uses_tags(&play));
    let names: Vec<String> = roles_named(&play).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        vec!["standard-test-basic", "standard-test-source", "my-role"]
    );
    let untagged =
        taskotron_tap::yaml::parse("- hosts: localhost\n  roles: [standard-test-basic]\n", None)
            .unwrap();
    assert!(!uses_tags(&untagged));
    let dir = tempfile::tempdir().unwrap();
    assert!(role_provided("standard-test-basic", dir.path()));
    assert!(role_provided(
        "fedora.linux_system_roles.network",
        dir.path()
    ));
    assert!(!role_provided("standard-test-nothing", dir.path()));
    std::fs::create_dir_all(dir.path().join("roles/local-role")).unwrap();
    assert!(role_provided("local-role", dir.path()));
}

#[test]
fn every_file_of_the_roles_is_compiled_in_and_installed() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("ansible");
    let mut on_disk = crate::embedded::files_under(&source);
    on_disk.retain(|n| !n.contains("__pycache__"));
    let mut listed: Vec<String> = FILES.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
    let state = tempfile::tempdir().unwrap();
    let root = install_for(state.path()).unwrap();
    assert!(root.starts_with(state.path().join("cache/ansible")));
    assert!(root
        .join("roles/standard-test-basic/tasks/main.yml")
        .is_file());
    assert!(roles_path(&root).ends_with("/roles"));
}
