//! Runner tests with real subprocesses in temporary directories.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::*;
use crate::dict::ActionStatus;
use crate::formula;
use crate::results::Outcome;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new(files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        Self { dir }
    }

    fn opts(&self, item: &str, item_type: ItemType) -> RunOptions {
        RunOptions {
            input: task_input(item, item_type, None),
            arch: Some(Arch::X86_64),
            overrides: Vec::new(),
            artifacts_root: self.dir.path().join("artifacts"),
            tmpdir: self.dir.path().join("tmp"),
            default_timeout: Duration::from_secs(60),
            python: "python3".into(),
            task_env: Vec::new(),
            reporting: Default::default(),
            services: Default::default(),
            install_rpms: Default::default(),
            run_id: None,
            isolation: Default::default(),
            sandbox: Default::default(),
            remote: None,
        }
    }

    fn formula(&self, text: &str) -> Formula {
        let file = self.dir.path().join("runtask.yml");
        std::fs::write(&file, text).unwrap();
        formula::load(text, &file)
            .unwrap_or_else(|e| panic!("{}", crate::diagnostic::render_all(&e)))
            .formula
    }

    fn run(&self, text: &str, opts: &RunOptions) -> ExecutionReport {
        run(&self.formula(text), opts, Ports::system(), &mut Quiet).unwrap()
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn a_passing_run_writes_its_artifacts_and_report() {
    let fx = Fixture::new(&[]);
    let opts = fx.opts("xchat-0.5-1.fc20", ItemType::KojiBuild);
    let report = fx.run(
        "name: t\nactions:\n  - name: Say hello!\n    shell:\n      - echo hello ${koji_build} ${arch}\n    export: out\n  - name: check\n    dummy: {result: PASS, msg: \"got ${out}\"}\n    export: msg\n",
        &opts,
    );
    assert!(report.is_ok(), "{:?}", report.status);
    assert_eq!(report.build_id, None);
    assert_eq!(report.checkname, "scratch.t");
    let run_dir = opts.artifacts_root.join(&report.run_id);
    assert_eq!(report.artifacts, std::path::absolute(&run_dir).unwrap());
    assert_eq!(
        read(&run_dir.join("actions/01-say-hello.stdout")),
        "hello xchat-0.5-1.fc20 x86_64\n"
    );
    assert_eq!(
        report.actions[0].logs,
        vec!["actions/01-say-hello.stdout".to_string()]
    );
    let written: ExecutionReport =
        serde_json::from_str(&read(&run_dir.join("execution.json"))).unwrap();
    assert_eq!(written, report);
    let log = read(&run_dir.join("taskotron.log"));
    assert!(log.contains("action 2/2 `check` ok"), "{log}");
    assert!(
        !opts.tmpdir.join(&report.run_id).exists(),
        "workdir of an OK run is removed"
    );
}

#[test]
fn a_failing_action_stops_the_run_with_its_exit_code_and_stderr() {
    let fx = Fixture::new(&[]);
    let opts = fx.opts("xchat-0.5-1.fc20", ItemType::KojiBuild);
    let report = fx.run(
        "name: t\nactions:\n  - name: fails\n    shell:\n      - echo about to fail\n      - echo broken thing >&2; exit 7\n  - name: never\n    dummy: {result: PASS}\n",
        &opts,
    );
    assert_eq!(report.execution_status, ExecutionStatus::NotOk);
    let status = report.status.clone().unwrap();
    assert!(
        status.contains("action 1/2 `fails` (shell) failed"),
        "{status}"
    );
    assert!(status.contains("exited with code 7"), "{status}");
    assert!(status.contains("broken thing"), "{status}");
    assert_eq!(report.actions[0].status, ActionStatus::Failed);
    assert_eq!(report.actions[1].status, ActionStatus::Skipped);
    assert!(
        opts.tmpdir.join(&report.run_id).exists(),
        "workdir of a failed run is kept"
    );
}

#[test]
fn dummy_fail_makes_the_run_not_ok() {
    let fx = Fixture::new(&[]);
    let report = fx.run(
        "name: t\nactions:\n  - name: f\n    dummy: {result: FAIL, msg: on purpose}\n",
        &fx.opts("a-1-1", ItemType::KojiBuild),
    );
    assert!(report
        .status
        .unwrap()
        .contains("dummy failed as asked: on purpose"));
}

#[test]
fn timeouts_kill_the_action() {
    let fx = Fixture::new(&[]);
    let report = fx.run(
        "name: t\nactions:\n  - name: slow\n    shell: [sleep 30]\n    timeout: 1\n",
        &fx.opts("a-1-1", ItemType::KojiBuild),
    );
    assert_eq!(report.actions[0].status, ActionStatus::TimedOut);
    assert!(report.duration_ms < 10_000);
    assert!(report.status.unwrap().contains("timeout"));
}

#[test]
fn python_returns_values_that_prints_cannot_corrupt() {
    let check = "import json, os\n\ndef run(nvr, rpms, arch):\n    print('noise on stdout {\"value\": 1}')\n    return {'nvr': nvr, 'count': len(rpms), 'arch': arch, 'env': os.environ['TASKOTRON_ITEM']}\n";
    let fx = Fixture::new(&[("check.py", check)]);
    let report = fx.run(
        "name: t\nactions:\n  - name: list\n    shell: [[printf, \"a\\nb\\n\"]]\n    export: listing\n  - name: py\n    python:\n      file: check.py\n      callable: run\n      nvr: ${koji_build}\n      rpms: [\"${listing}\", x]\n      arch: $arch\n    export: out\n  - name: use\n    dummy: {result: PASS, msg: \"${out.nvr} ${out.count}\"}\n    export: final\n",
        &fx.opts("xchat-0.5-1.fc20", ItemType::KojiBuild),
    );
    assert!(report.is_ok(), "{:?}", report.status);
    let stdout = read(&report.artifacts.join("actions/02-py.stdout"));
    assert!(stdout.contains("noise on stdout"));
}

#[test]
fn python_failures_quote_the_traceback() {
    let fx = Fixture::new(&[(
        "check.py",
        "def run():\n    raise ValueError('bad build')\n",
    )]);
    let report = fx.run(
        "name: t\nactions:\n  - name: py\n    python: {file: check.py, callable: run}\n",
        &fx.opts("a-1-1", ItemType::KojiBuild),
    );
    let status = report.status.unwrap();
    assert!(status.contains("ValueError: bad build"), "{status}");
    let missing = fx.run(
        "name: t\nactions:\n  - name: py\n    python: {file: check.py, callable: nothere}\n",
        &fx.opts("a-1-1", ItemType::KojiBuild),
    );
    assert!(missing
        .status
        .unwrap()
        .contains("has no function called 'nothere'"));
}

#[test]
fn tasks_see_their_input_in_the_environment() {
    let fx = Fixture::new(&[]);
    let mut opts = fx.opts("FEDORA-2024-1a2b3c4d5e", ItemType::BodhiUpdate);
    opts.input.build_id = Some("b-1".into());
    let report = fx.run(
        "name: envtest\nnamespace: dist\nactions:\n  - name: env\n    shell:\n      - env | grep ^TASKOTRON_ | sort\n",
        &opts,
    );
    let out = read(&report.artifacts.join("actions/01-env.stdout"));
    for expected in [
        "TASKOTRON_ITEM=FEDORA-2024-1a2b3c4d5e",
        "TASKOTRON_ITEM_TYPE=bodhi_update",
        "TASKOTRON_ARCH=x86_64",
        "TASKOTRON_BUILD_ID=b-1",
        "TASKOTRON_CHECKNAME=dist.envtest",
    ] {
        assert!(out.contains(expected), "{expected} missing in\n{out}");
    }
    assert!(out.contains(&format!(
        "TASKOTRON_ARTIFACTSDIR={}",
        report.artifacts.display()
    )));
}

#[test]
fn overrides_win_and_exports_feed_later_actions() {
    let fx = Fixture::new(&[]);
    let mut opts = fx.opts("a-1-1", ItemType::KojiBuild);
    opts.overrides = vec![
        ("arch".into(), "overridden".into()),
        ("extra".into(), "x y".into()),
    ];
    let formula = fx.formula("name: t\nactions:\n  - name: a\n    shell: [\"echo $arch $extra\"]\n    export: first\n  - name: b\n    shell: [\"echo ${first}!\"]\n    export: second\n");
    let report = run(&formula, &opts, Ports::system(), &mut Quiet).unwrap();
    assert_eq!(
        read(&report.artifacts.join("actions/01-a.stdout")),
        "overridden x y\n"
    );
    assert_eq!(
        read(&report.artifacts.join("actions/02-b.stdout")),
        "overridden x y!\n"
    );
}

#[test]
fn hostile_items_never_reach_the_shell_unquoted() {
    let fx = Fixture::new(&[]);
    let canary = fx.dir.path().join("canary");
    let c = canary.display().to_string();
    let hostile = [
        format!("; touch {c}"),
        format!("$(touch {c})"),
        format!("`touch {c}`"),
        format!("' ; touch {c} ; '"),
        format!("\" ; touch {c} ; \""),
        format!("a\ntouch {c}"),
        format!("ünï 😀 | touch {c}"),
        format!("&& touch {c} #"),
        format!("$$(touch {c})"),
        format!("${{IFS}}touch${{IFS}}{c}"),
    ];
    let formula = fx.formula(
        "name: t\nactions:\n  - name: echo\n    shell:\n      - echo ${item} > /dev/null\n      - echo \"quoted ${item}\" \"$item\" > /dev/null\n      - echo pre${item}post > /dev/null\n      - [echo, \"${item}\"]\n",
    );
    for item in hostile {
        // `compose` has no shape beyond "no control characters", so most hostile
        // strings pass validation and reach the shell directive; the newline one is
        // stopped by validation, which is also fine.
        let mut opts = fx.opts("x", ItemType::Compose);
        opts.input.item = item.clone();
        if let Ok(report) = run(&formula, &opts, Ports::system(), &mut Quiet) {
            assert!(report.is_ok(), "{item:?}: {:?}", report.status);
        }
        // Overrides are not validated at all: the strongest test of the quoting.
        let mut opts = fx.opts("a-1-1", ItemType::KojiBuild);
        opts.overrides = vec![("item".into(), item.clone())];
        let report = run(&formula, &opts, Ports::system(), &mut Quiet).unwrap();
        assert!(report.is_ok(), "{item:?}: {:?}", report.status);
        assert!(!canary.exists(), "the item {item:?} ran a command");
    }
}

#[test]
fn prepare_rejects_bad_input_before_anything_runs() {
    let fx = Fixture::new(&[]);
    let formula = fx.formula("name: t\ninput:\n  args: [koji_build, arch]\nactions:\n  - name: a\n    dummy: {result: PASS, msg: $koji_build}\n");
    let mut opts = fx.opts("not an nvr", ItemType::KojiBuild);
    opts.arch = None;
    let errors = prepare(&formula, &opts).unwrap_err();
    let text = crate::diagnostic::render_all(&errors);
    assert!(text.contains("is not a valid koji_build"), "{text}");
    assert!(text.contains("needs an arch"), "{text}");
    let opts = fx.opts("f39-updates", ItemType::KojiTag);
    let text = crate::diagnostic::render_all(&prepare(&formula, &opts).unwrap_err());
    assert!(
        text.contains("needs a koji_build as input, but the run is for a koji_tag"),
        "{text}"
    );
    assert!(
        !text.contains("undefined variable `koji_build`"),
        "the input error says it once: {text}"
    );
    assert!(!fx.dir.path().join("artifacts").exists());
}

#[test]
fn whole_references_keep_types_in_params() {
    let fx = Fixture::new(&[]);
    let formula = fx.formula("name: t\nactions:\n  - name: a\n    dummy: {result: PASS, msg: [1, two]}\n    export: list\n  - name: b\n    dummy: {result: PASS, msg: \"${list}\"}\n");
    let mut scope = Scope::default();
    scope.set_export("list", serde_json::json!([1, "two"]));
    let params = render_params(&formula.actions[1], &scope).unwrap();
    assert_eq!(params["msg"], serde_json::json!([1, "two"]));
    assert_eq!(params["result"], Value::String("PASS".into()));
}

#[test]
fn results_are_collected_written_and_judged() {
    let junit = r#"<testsuite><testcase classname="a" name="ok"/><testcase classname="a" name="bad"><failure message="boom">trace</failure></testcase></testsuite>"#;
    let fx = Fixture::new(&[("junit.xml", junit)]);
    let formula = "name: t\nactions:\n  - name: read\n    xunit: {file: junit.xml, item: \"${item}\", type: \"${item_type}\", checkname: scratch.t.junit}\n    export: junit\n  - name: echo again\n    shell: [\"printf '%s' \\\"${junit}\\\"\"]\n  - name: tap too\n    shell:\n      - printf 'TAP version 13\\n1..2\\nok 1 - a\\nnot ok 2 - b\\n'\n    export: tap\n  - name: last decides\n    exitcode: {result_last: \"${junit}\"}\n  - name: worst decides\n    exitcode: {result_worst: \"${tap}\"}\n";
    let report = fx.run(formula, &fx.opts("a-1-1.fc41", ItemType::KojiBuild));
    assert!(report.is_ok(), "{:?}", report.status);
    // The xunit result once (the shell that printed it again adds nothing), then the
    // aggregated TAP result, named after the task.
    let names: Vec<(&str, Outcome)> = report
        .results
        .iter()
        .map(|d| (d.checkname.as_deref().unwrap(), d.outcome))
        .collect();
    assert_eq!(
        names,
        [
            ("scratch.t.junit", Outcome::Failed),
            ("scratch.t", Outcome::Failed)
        ]
    );
    assert_eq!(report.outcome, Some(Outcome::Failed));
    assert_eq!(report.exit_code, Some(100));
    for file in ["results.yml", "results.tap", "results.junit.xml"] {
        assert!(report.artifacts.join(file).is_file(), "{file}");
    }
    let tap = read(&report.artifacts.join("results.tap"));
    assert!(
        tap.contains("not ok 1 - scratch.t.junit for Koji build a-1-1.fc41"),
        "{tap}"
    );
    // ResultYAML leaves `output` to the logs, as the original did.
    let back =
        crate::results::resultyaml::import(&read(&report.artifacts.join("results.yml")), None)
            .unwrap();
    let without_output: Vec<_> = report
        .results
        .iter()
        .cloned()
        .map(|mut d| {
            d.output.clear();
            d
        })
        .collect();
    assert_eq!(back.details, without_output);
}

#[test]
fn exitcode_reads_last_or_worst() {
    let fx = Fixture::new(&[]);
    let results = "results:\n  - {item: a, outcome: FAILED}\n  - {item: b, outcome: PASSED}\n";
    let last = fx.run(
        &format!("name: t\nactions:\n  - name: e\n    exitcode:\n      result_last: {results:?}\n"),
        &fx.opts("a-1-1", ItemType::KojiBuild),
    );
    assert_eq!(last.exit_code, Some(0));
    let worst = fx.run(
        &format!(
            "name: t\nactions:\n  - name: e\n    exitcode:\n      result_worst: {results:?}\n"
        ),
        &fx.opts("a-1-1", ItemType::KojiBuild),
    );
    assert_eq!(worst.exit_code, Some(100));
    let broken = fx.run("name: t\nactions:\n  - name: e\n    exitcode:\n      result_worst: \"results: [{item: a, outcome: PASS}]\"\n", &fx.opts("a-1-1", ItemType::KojiBuild));
    assert!(broken.status.unwrap().contains("did you mean `PASSED`?"));
}

#[test]
fn invalid_resultyaml_from_a_task_fails_the_action() {
    let fx = Fixture::new(&[]);
    let formula = r#"name: t
actions:
  - name: bad results
    shell:
      - "printf 'results:\n  - item: a\n    outcome: GREAT\n'"
"#;
    let report = fx.run(formula, &fx.opts("a-1-1", ItemType::KojiBuild));
    let status = report.status.unwrap();
    assert!(
        status.contains("returned ResultYAML with problems")
            && status.contains("unknown outcome `GREAT`"),
        "{status}"
    );
}

#[test]
fn the_run_variables_are_the_ones_taskenv_lists() {
    let fx = Fixture::new(&[]);
    let text = "name: env\nactions:\n  - name: print\n    shell:\n      - env\n    export: env\n";
    let formula = fx.formula(text);
    let opts = fx.opts("htop-1-1.fc41", ItemType::KojiBuild);
    let run = Dir::open(fx.dir.path()).unwrap();
    let roots = std::sync::Arc::new(Roots::new(vec![(
        "the task directory",
        run.try_clone().unwrap(),
    )]));
    let setting = Setting {
        formula: &formula,
        opts: &opts,
        arch: Arch::X86_64,
        run_id: "r",
        workdir: fx.dir.path(),
        artifactsdir: fx.dir.path(),
        taskdir: fx.dir.path(),
        run: &run,
        roots: &roots,
        sandbox: None,
    };
    let mut given: Vec<String> = setting
        .environment()
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| k.starts_with("TASKOTRON_"))
        .collect();
    given.sort();
    let mut listed: Vec<String> = crate::taskenv::RUN_VARIABLES
        .iter()
        .map(|s| s.to_string())
        .collect();
    listed.sort();
    assert_eq!(given, listed);
    // Each of them, written `$NAME` in a shell line, gets the `$$NAME` hint.
    let errors = formula::check_variables(
        &fx.formula(
            "name: e\nactions:\n  - name: x\n    shell:\n      - echo $TASKOTRON_ITEM $HOME\n",
        ),
        &formula::Defined::for_run(ItemType::KojiBuild, []),
    );
    assert_eq!(errors.len(), 2);
    for (e, name) in errors.iter().zip(["TASKOTRON_ITEM", "HOME"]) {
        let help = e.help.as_deref().unwrap();
        assert!(help.contains(&format!("write `$${name}`")), "{help}");
    }
}
