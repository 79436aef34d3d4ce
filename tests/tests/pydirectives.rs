//! `libtaskotron.directives` (issue 26): the directives a Taskotron playbook
//! task calls from Python give what the Rust ones give, on the mock Koji, over
//! both ways the client reaches them (`taskotron call`, and a run's socket).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use taskotron_core::call::{self, Place, Server, Setup};
use taskotron_mock::services::{MockServices, ServicesFixture};
use taskotron_tests::bin::taskotron;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tasks/python-versions/fixtures/koji.yaml")
}

fn setup(mocks: &MockServices) -> Setup {
    Setup {
        services: mocks.services(Default::default()),
        reporting: Default::default(),
        python: "python3".into(),
        timeout: Duration::from_secs(30),
    }
}

/// A run's place under `dir`: its directories only.
fn run_place(dir: &Path) -> Place {
    Place {
        taskdir: dir.to_path_buf(),
        workdir: Some(dir.join("work")),
        artifactsdir: Some(dir.join("artifacts")),
        also: vec![],
        any_target: false,
        defaults: Default::default(),
    }
}

/// What `script` prints as JSON, run with the embedded libtaskotron on its path
/// and `env`.
fn python(script: &str, env: &[(&str, String)]) -> Value {
    let lib = tempfile::tempdir().unwrap();
    let root = taskotron_core::pylib::install(lib.path()).unwrap();
    let mut c = Command::new("python3");
    c.arg("-c").arg(script).env("PYTHONPATH", &root);
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

const DOWNLOAD: &str = r#"
import json, sys
from libtaskotron.directives import koji_directive
from libtaskotron import exceptions
assert koji_directive.directive_class == 'KojiDirective'
target = sys.argv[1] if len(sys.argv) > 1 else None
import os
target = os.environ['TARGET']
out = koji_directive.KojiDirective().process(
    {'action': 'download', 'koji_build': 'pyserial-2.7-6.fc41', 'arch': ['noarch'],
     'src': True, 'target_dir': target, 'build_log': True}, {'workdir': None})
try:
    koji_directive.KojiDirective().process(
        {'action': 'download', 'koji_build': 'nothing-1-1.fc41', 'arch': ['noarch'],
         'target_dir': target}, {'workdir': None})
    missing = None
except exceptions.TaskotronError as e:
    missing = [type(e).__name__, str(e)]
print(json.dumps({'out': out, 'missing': missing, 'files': sorted(os.listdir(target))}))
"#;

/// The file names of a download's answer (the directories differ).
fn names(v: &Value) -> Vec<String> {
    let mut n: Vec<String> = v["downloaded_rpms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            Path::new(p.as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    n.sort();
    n
}

#[test]
fn the_python_koji_directive_answers_as_the_rust_one_by_both_ways() {
    let fixture = ServicesFixture::load(&fixture()).unwrap();
    let mocks = MockServices::start(&fixture).unwrap();
    let setup = setup(&mocks);

    // The Rust directive, called in this process.
    let rust_dir = tempfile::tempdir().unwrap();
    let request = call::parse_request(
        &json!({"params": {"action": "download", "koji_build": "pyserial-2.7-6.fc41",
            "arch": ["noarch"], "src": true, "build_log": true,
            "target_dir": rust_dir.path()}})
        .to_string(),
    )
    .unwrap();
    let koji = call::find("koji").unwrap();
    let rust = call::call(
        koji,
        &request,
        &setup,
        &Place::of_request(&request, rust_dir.path()),
    );
    let value = &rust.answer["value"];
    assert_eq!(
        names(value),
        vec![
            "pyserial-2.7-6.fc41.noarch.rpm",
            "pyserial-2.7-6.fc41.src.rpm",
            "python3-pyserial-2.7-6.fc41.noarch.rpm"
        ],
        "{}",
        rust.answer
    );

    // The Python client through `taskotron call`, configured by the environment.
    let services = &setup.services;
    let by_call = tempfile::tempdir().unwrap();
    let env = vec![
        ("TASKOTRON_EXECUTABLE", taskotron().display().to_string()),
        ("TASKOTRON_KOJI_URL", services.koji_url.clone()),
        ("TASKOTRON_KOJI_PKGS_URL", services.koji_pkgs_url.clone()),
        ("TASKOTRON_DOWNLOAD_CACHE", "false".into()),
        ("TARGET", by_call.path().display().to_string()),
    ];
    let py = python(DOWNLOAD, &env);
    assert_eq!(names(&py["out"]), names(value), "{py}");
    assert_eq!(
        py["out"]["downloaded_logs"].as_array().map(Vec::len),
        value["downloaded_logs"].as_array().map(Vec::len)
    );
    assert_eq!(py["missing"][0], "TaskotronDirectiveError", "{py}");
    let missing = py["missing"][1].as_str().unwrap();
    assert!(missing.contains("nothing-1-1.fc41"), "{missing}");

    // The same through a run's socket: the runner's configuration, not the
    // caller's (which points nowhere here).
    let run = tempfile::tempdir().unwrap();
    let socket = run.path().join("call.sock");
    let place = run_place(run.path());
    let server = Server::start(&socket, setup.clone(), place).unwrap();
    let target = run.path().join("work/rpms");
    let env = vec![
        ("TASKOTRON_CALL_SOCKET", socket.display().to_string()),
        ("TASKOTRON_EXECUTABLE", "/nonexistent/taskotron".into()),
        ("TASKOTRON_KOJI_URL", "http://127.0.0.1:9/kojihub".into()),
        ("TARGET", target.display().to_string()),
    ];
    std::fs::create_dir_all(&target).unwrap();
    let py = python(DOWNLOAD, &env);
    assert_eq!(names(&py["out"]), names(value), "{py}");
    assert_eq!(
        py["missing"][1].as_str().unwrap(),
        missing,
        "the same failure either way"
    );
    drop(server);
    assert!(!socket.exists(), "the socket goes with its server");
}

#[test]
fn a_run_socket_keeps_calls_beneath_the_run() {
    let fixture = ServicesFixture::load(&fixture()).unwrap();
    let mocks = MockServices::start(&fixture).unwrap();
    let run = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let socket = run.path().join("call.sock");
    let place = run_place(run.path());
    let _server = Server::start(&socket, setup(&mocks), place).unwrap();
    let script = r#"
import json, os
from libtaskotron.directives import koji_directive
try:
    koji_directive.KojiDirective().process(
        {'action': 'download', 'koji_build': 'pyserial-2.7-6.fc41', 'arch': ['noarch'],
         'target_dir': os.environ['TARGET']}, {'workdir': os.environ['TARGET']})
    print(json.dumps({'error': None}))
except Exception as e:
    print(json.dumps({'error': [type(e).__name__, str(e), getattr(e, 'failure', None)]}))
"#;
    let py = python(
        script,
        &[
            ("TASKOTRON_CALL_SOCKET", socket.display().to_string()),
            ("TARGET", elsewhere.path().display().to_string()),
        ],
    );
    assert_eq!(py["error"][2], "PATH_REFUSED", "{py}");
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
}

#[test]
fn taskotron_call_speaks_the_protocol_and_refuses_what_is_not_it() {
    let call = |name: &str, input: &str| {
        let mut c = Command::new(taskotron())
            .args(["call", name])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        c.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let o = c.wait_with_output().unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, out, _) = call(
        "dummy",
        r#"{"protocol": 1, "params": {"result": "PASS", "msg": "fine"}}"#,
    );
    assert_eq!(code, Some(0));
    assert_eq!(out.trim(), r#"{"protocol":1,"value":"fine"}"#);
    let (code, out, _) = call("dummy", r#"{"params": {"result": "FAIL"}}"#);
    assert_eq!(code, Some(0), "a directive's failure is an answer");
    let answer: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(answer["error"]["type"], "TaskotronDirectiveError");
    let (code, _, err) = call("kojii", "{}");
    assert_eq!(code, Some(2));
    assert!(err.contains("did you mean `koji`?"), "{err}");
    let (code, _, err) = call("dummy", r#"{"protocol": 7}"#);
    assert_eq!(code, Some(2));
    assert!(err.contains("protocol 7 is not spoken here"), "{err}");
    let (code, _, err) = call("dummy", "{\"params\": ");
    assert_eq!(code, Some(2));
    assert!(err.contains("line 1"), "{err}");
}

#[test]
fn every_directive_has_its_python_module_with_the_original_class_name() {
    let names: Vec<String> = taskotron_core::directive::names()
        .map(str::to_string)
        .collect();
    let script = format!(
        "import importlib, json\nout = {{}}\nfor n in {names:?}:\n    m = importlib.import_module('libtaskotron.directives.%s_directive' % n)\n    cls = getattr(m, m.directive_class)\n    out[n] = [m.directive_class, cls.name, callable(cls().process)]\nprint(json.dumps(out))\n"
    );
    let py = python(&script, &[]);
    assert_eq!(py["koji"], json!(["KojiDirective", "koji", true]));
    assert_eq!(py["distgit"], json!(["DistGitDirective", "distgit", true]));
    assert_eq!(py["bodhi_comment"][0], "BodhiCommentDirective");
    assert_eq!(py.as_object().unwrap().len(), names.len());
}
