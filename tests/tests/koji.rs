//! The Koji client, the `koji` directive and verified downloads against the mock
//! Koji: the wire format is the one koji's own client writes (compared with its
//! recorded requests), answers with `<nil/>` and `<i8>` are read, and each fault
//! (an unknown build or tag, a transfer broken half way, a checksum mismatch, a
//! stalled server, a missing tool) ends the run with its name and cause, never a
//! hang, and never leaves a partial file where a task could use it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use taskotron_core::directive::{Cause, Services};
use taskotron_core::koji::xmlrpc::{string, XmlRpc};
use taskotron_core::koji::{KojiClient, KojiError};
use taskotron_core::ports::Ports;
use taskotron_core::runner::{self, Quiet, RunOptions};
use taskotron_core::{ExecutionReport, ExecutionStatus, ItemType};
use taskotron_mock::http::Fault;
use taskotron_mock::koji::MockKoji;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
}

const GREP: &str = "
builds:
  - nvr: grep-3.11-1.fc39
    id: 2211083
    arches: [x86_64, i686, aarch64]
    build_log: \"+ make\\n\"
    packages:
      - files: {/usr/bin/grep: \"#!/bin/sh\\n\"}
      - name: grep-doc
        noarch: true
      - name: grep-debuginfo
  - nvr: grep-3.10-1.fc39
  - nvr: grep-3.9-1.fc39
  - nvr: huge-1.0-1.fc39
    id: 3000000000
  - nvr: broken-1.0-1.fc39
    arches: [x86_64]
    packages:
      - {}
      - {name: broken-doc, noarch: true}
    faults: {broken-1.0-1.fc39.x86_64.rpm: truncated}
  - nvr: sed-4.9-1.fc39
tags:
  f39: [grep-3.9-1.fc39, sed-4.9-1.fc39]
  f39-updates: [grep-3.10-1.fc39]
  f39-updates-testing-pending: [grep-3.10-1.fc39, grep-3.11-1.fc39]
inheritance:
  f39-updates: [f39]
";

fn koji() -> (MockKoji, taskotron_mock::http::Server) {
    let mock = MockKoji::from_yaml(GREP).unwrap();
    let server = mock.serve().unwrap();
    (mock, server)
}

fn client(server: &taskotron_mock::http::Server) -> KojiClient {
    KojiClient::new(&format!("{}/kojihub", server.url()), Duration::from_secs(5))
}

/// The request bodies of koji 1.36.1's own client, by call.
fn recorded_requests() -> Vec<dxr::MethodCall<'static>> {
    let text = std::fs::read_to_string(data("koji-xmlrpc-requests.txt")).unwrap();
    text.split("====================")
        .skip(1)
        .map(|chunk| {
            let xml = chunk.split_once('\n').unwrap().1;
            let xml = xml
                .trim()
                .trim_start_matches("<?xml version='1.0'?>")
                .trim();
            dxr::MethodCall::from_xml(xml).unwrap()
        })
        .collect()
}

fn parse(body: &str) -> dxr::MethodCall<'static> {
    dxr::MethodCall::from_xml(body.trim_start_matches("<?xml version='1.0'?>").trim()).unwrap()
}

#[test]
fn requests_are_the_ones_kojis_own_client_sends() {
    let (mock, server) = koji();
    let c = client(&server);
    let build = c.build("grep-3.11-1.fc39").unwrap();
    c.rpms(std::slice::from_ref(&build)).unwrap();
    c.tagged("f39-updates-testing-pending", true).unwrap();
    let rpc = XmlRpc::new(&format!("{}/kojihub", server.url()), Duration::from_secs(5));
    let both = rpc
        .multicall(vec![
            ("getBuild".into(), vec![string("grep-3.11-1.fc39")]),
            (
                "listRPMs".into(),
                vec![taskotron_core::koji::xmlrpc::kwargs(vec![(
                    "buildID",
                    taskotron_core::koji::xmlrpc::int(2211083),
                )])],
            ),
        ])
        .unwrap();
    assert_eq!(both.len(), 2);
    assert!(both.iter().all(Result::is_ok));
    let ours: Vec<_> = mock.requests().iter().map(|b| parse(b)).collect();
    let theirs = recorded_requests();
    // getBuild, listRPMs(buildID=), listTagged(tag, latest=True), system.multicall.
    for (o, t) in ours
        .iter()
        .zip([&theirs[0], &theirs[1], &theirs[3], &theirs[5]])
    {
        assert_eq!(o.name, t.name);
        assert_eq!(
            o.params, t.params,
            "{} differs from koji's own request",
            o.name
        );
    }
}

#[test]
fn answers_with_nil_and_i8_are_read() {
    let (_mock, server) = koji();
    let body = "<?xml version='1.0'?>\n<methodCall><methodName>getBuild</methodName><params><param><value><string>huge-1.0-1.fc39</string></value></param></params></methodCall>";
    let mut response = ureq::post(&format!("{}/kojihub", server.url()))
        .header("Content-Type", "text/xml")
        .send(body)
        .unwrap();
    let xml = response.body_mut().read_to_string().unwrap();
    assert!(
        xml.contains("<nil/>") || xml.contains("<nil></nil>"),
        "{xml}"
    );
    assert!(xml.contains("<i8>3000000000</i8>"), "{xml}");
    // Koji's own marshaller writes the empty form.
    let koji_style = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n<member>\n<name>epoch</name>\n<value><nil/></value>\n</member>\n<member>\n<name>size</name>\n<value><i8>4294967296</i8></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodResponse>\n";
    let decoded = taskotron_core::koji::xmlrpc::decode_response(koji_style)
        .unwrap()
        .unwrap();
    assert_eq!(
        decoded,
        serde_json::json!({"epoch": null, "size": 4_294_967_296_u64})
    );
    let build = client(&server).build("huge-1.0-1.fc39").unwrap();
    assert_eq!(build.id, 3_000_000_000);
    assert_eq!(build.epoch, None);
    // The real getBuild answer (both `id` and `build_id`) reads the same way.
    let real: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data("koji-getBuild-response.json")).unwrap(),
    )
    .unwrap();
    let real: taskotron_core::koji::Build = serde_json::from_value(real).unwrap();
    assert_eq!((real.id, real.nvr.as_str()), (2211083, "grep-3.11-1.fc39"));
}

#[test]
fn unknown_builds_tags_and_methods_are_named() {
    let (_mock, server) = koji();
    let c = client(&server);
    assert_eq!(
        c.build("nope-1-1.fc39"),
        Err(KojiError::UnknownBuild("nope-1-1.fc39".into()))
    );
    assert_eq!(
        c.tagged("f99-updates", true),
        Err(KojiError::UnknownTag("f99-updates".into()))
    );
    let rpc = XmlRpc::new(&format!("{}/kojihub", server.url()), Duration::from_secs(5));
    match rpc.call("dropAllTables", vec![]) {
        Err(KojiError::Fault {
            code: 1000,
            message,
        }) => assert!(message.contains("Invalid method"), "{message}"),
        other => panic!("expected fault 1000, got {other:?}"),
    }
    // Tags that do not exist have no latest build; multicall keeps each answer apart.
    let latest = c
        .latest(&["f39-updates".into(), "f98".into(), "f39".into()], "grep")
        .unwrap();
    let nvrs: Vec<Option<&str>> = latest
        .iter()
        .map(|b| b.as_ref().map(|b| b.nvr.as_str()))
        .collect();
    assert_eq!(
        nvrs,
        [Some("grep-3.10-1.fc39"), None, Some("grep-3.9-1.fc39")]
    );
    // getLatestBuilds follows inheritance, as Koji's always does; listTagged does not
    // unless asked.
    let sed = c.latest(&["f39-updates".into()], "sed").unwrap();
    assert_eq!(
        sed[0]
            .as_ref()
            .map(|b| (b.nvr.as_str(), b.tag_name.as_deref())),
        Some(("sed-4.9-1.fc39", Some("f39")))
    );
    let own: Vec<String> = c
        .tagged("f39-updates", true)
        .unwrap()
        .into_iter()
        .map(|b| b.nvr)
        .collect();
    assert_eq!(own, ["grep-3.10-1.fc39"]);
}

struct Run {
    dir: tempfile::TempDir,
    report: ExecutionReport,
}

impl Run {
    /// Where the downloads go: under the task directory, since the runner refuses
    /// a `target_dir` outside the task and the run.
    fn out(&self) -> PathBuf {
        self.dir.path().join("task/out")
    }

    fn files(&self, dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

/// Runs a one-action formula (plus `extra` actions) against the mock Koji at `server`.
fn run(
    server: &taskotron_mock::http::Server,
    koji: &str,
    item: &str,
    extra: &str,
    cache: Option<&Path>,
    timeout: Duration,
) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let task = dir.path().join("task");
    std::fs::create_dir_all(&task).unwrap();
    std::fs::write(
        task.join("runtask.yml"),
        format!(
            "name: k\nnamespace: scratch\ndesc: d\nmaintainer: m\ninput:\n  args: [koji_build]\n{extra}actions:\n  - name: download\n    koji: {koji}\n    export: downloaded\n"
        ),
    )
    .unwrap();
    let loaded = taskotron_core::load_task(&task).unwrap();
    let opts = RunOptions {
        input: runner::task_input(item, ItemType::KojiBuild, None),
        arch: None,
        overrides: vec![(
            "out".into(),
            dir.path().join("task/out").display().to_string(),
        )],
        artifacts_root: dir.path().join("artifacts"),
        tmpdir: dir.path().join("tmp"),
        default_timeout: Duration::from_secs(60),
        python: "python3".into(),
        task_env: Vec::new(),
        install_rpms: Default::default(),
        run_id: None,
        isolation: Default::default(),
        sandbox: Default::default(),
        remote: None,
        reporting: Default::default(),
        services: Services {
            koji_url: format!("{}/kojihub", server.url()),
            koji_pkgs_url: server.url(),
            cache_dir: cache.map(Path::to_path_buf),
            supported_arches: vec![taskotron_core::Arch::X86_64, taskotron_core::Arch::Aarch64],
            timeout,
            ..Services::default()
        },
    };
    let report = runner::run(&loaded.formula, &opts, Ports::system(), &mut Quiet).unwrap();
    Run { dir, report }
}

/// A run of one `koji` action for `item`: no cache, no extra formula keys.
fn download(server: &taskotron_mock::http::Server, koji: &str, item: &str) -> Run {
    run(server, koji, item, "", None, Duration::from_secs(10))
}

/// The run executed; its status says why when it did not.
fn assert_ok(r: &Run) {
    assert_eq!(
        r.report.execution_status,
        ExecutionStatus::Ok,
        "{:?}",
        r.report.status
    );
}

fn failure(r: &Run) -> (String, Cause) {
    let f = r
        .report
        .failure
        .as_ref()
        .unwrap_or_else(|| panic!("no named failure: {:?}", r.report.status));
    (f.kind.clone(), f.cause)
}

#[test]
fn arches_expand_and_debuginfo_and_logs_are_chosen() {
    let (_mock, server) = koji();
    let r = download(&server, "{action: download, koji_build: grep-3.11-1.fc39, arch: [i386], build_log: true, target_dir: '${out}'}", "grep-3.11-1.fc39");
    assert_ok(&r);
    assert_eq!(
        r.files(&r.out()),
        [
            "build.log.i686",
            "build.log.noarch",
            "grep-3.11-1.fc39.i686.rpm",
            "grep-doc-3.11-1.fc39.noarch.rpm"
        ]
    );
    let r = download(&server, "{action: download, koji_build: grep-3.11-1.fc39, arch: all, arch_exclude: [aarch64], src: true, debuginfo: true, target_dir: '${out}'}", "grep-3.11-1.fc39");
    assert_eq!(
        r.files(&r.out()),
        [
            "grep-3.11-1.fc39.src.rpm",
            "grep-3.11-1.fc39.x86_64.rpm",
            "grep-debuginfo-3.11-1.fc39.x86_64.rpm",
            "grep-doc-3.11-1.fc39.noarch.rpm"
        ]
    );
}

/// A download that matches no RPM for the arch works, but says so, and leaves the
/// directory a next `cd ${target_dir}` needs (issue 24, item 18).
#[test]
fn a_download_of_no_rpm_warns_and_makes_the_directory() {
    let (_mock, server) = koji();
    let r = download(
        &server,
        "{action: download, koji_build: sed-4.9-1.fc39, arch: [aarch64], target_dir: '${out}'}",
        "sed-4.9-1.fc39",
    );
    assert_ok(&r);
    assert!(r.out().is_dir(), "target_dir was not made");
    assert!(r.files(&r.out()).is_empty());
    let log = std::fs::read_to_string(r.report.artifacts.join("taskotron.log")).unwrap();
    let warning = log
        .lines()
        .find(|l| l.contains("warning: action 1/1 `download`"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(
        warning.contains("no RPM of sed-4.9-1.fc39 matched the arches aarch64, noarch")
            && warning.contains("`downloaded_rpms` is []"),
        "{warning}"
    );
}

#[test]
fn tags_and_the_latest_stable_build_are_downloaded() {
    let (_mock, server) = koji();
    let r = download(&server, "{action: download_tag, koji_tag: f39-updates-testing-pending, arch: [], src: true, target_dir: '${out}'}", "grep-3.11-1.fc39");
    // `latest`: one build per package, the last tagged.
    assert_eq!(r.files(&r.out()), ["grep-3.11-1.fc39.src.rpm"]);
    let r = download(&server, "{action: download_latest_stable, koji_build: grep-3.11-1.fc39, arch: [], src: true, target_dir: '${out}'}", "grep-3.11-1.fc39");
    // f39-updates wins over f39.
    assert_eq!(r.files(&r.out()), ["grep-3.10-1.fc39.src.rpm"]);
    // A build that is itself the latest in f39-updates is compared with f39's.
    let r = download(&server, "{action: download_latest_stable, koji_build: grep-3.10-1.fc39, arch: [], src: true, target_dir: '${out}'}", "grep-3.10-1.fc39");
    assert_eq!(r.files(&r.out()), ["grep-3.9-1.fc39.src.rpm"]);
    let r = download(
        &server,
        "{action: download_tag, koji_tag: f77, arch: all, target_dir: '${out}'}",
        "grep-3.11-1.fc39",
    );
    assert_eq!(failure(&r), ("KOJI_UNKNOWN_TAG".into(), Cause::Task));
    assert!(
        r.report
            .status
            .as_deref()
            .unwrap()
            .starts_with("KOJI_UNKNOWN_TAG: "),
        "{:?}",
        r.report.status
    );
}

#[test]
fn a_download_broken_half_way_is_never_used() {
    let (mock, server) = koji();
    let cache = tempfile::tempdir().unwrap();
    let r = run(
        &server,
        "{action: download, koji_build: broken-1.0-1.fc39, arch: x86_64, target_dir: '${out}'}",
        "broken-1.0-1.fc39",
        "",
        Some(cache.path()),
        Duration::from_secs(10),
    );
    assert_eq!(r.report.execution_status, ExecutionStatus::NotOk);
    assert_eq!(
        failure(&r),
        ("DOWNLOAD_INCOMPLETE".into(), Cause::Infrastructure)
    );
    // Nothing under the file's name, no partial file, and the good file fetched
    // alongside is gone too: the run did not get the build.
    assert_eq!(r.files(&r.out()), Vec::<String>::new());
    let cached: Vec<String> = walk(cache.path());
    assert!(
        cached
            .iter()
            .all(|f| !f.contains(".part") && !f.ends_with("broken-1.0-1.fc39.x86_64.rpm")),
        "{cached:?}"
    );
    // The broken file was tried three times.
    assert!(mock.downloads() >= 3, "{}", mock.downloads());
}

#[test]
fn the_cache_is_used_and_a_corrupt_entry_is_fetched_again() {
    let (mock, server) = koji();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = cache_dir.path();
    let koji =
        "{action: download, koji_build: grep-3.11-1.fc39, arch: x86_64, target_dir: '${out}'}";
    let first = run_with_cache(&server, koji, cache);
    assert_ok(&first);
    let fetched = mock.downloads();
    assert_eq!(fetched, 2, "the x86_64 RPM and the noarch one");
    // The same cache again: nothing is downloaded.
    let second = run_with_cache(&server, koji, cache);
    assert_ok(&second);
    assert_eq!(mock.downloads(), fetched);
    // A cache file that rotted is noticed and replaced.
    let victim = walk(cache)
        .into_iter()
        .find(|f| f.ends_with(".x86_64.rpm"))
        .unwrap();
    let path = cache.join(&victim);
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, bytes).unwrap();
    let third = run_with_cache(&server, koji, cache);
    assert_ok(&third);
    assert_eq!(mock.downloads(), fetched + 1);
}

fn run_with_cache(server: &taskotron_mock::http::Server, koji: &str, cache: &Path) -> Run {
    run(
        server,
        koji,
        "grep-3.11-1.fc39",
        "",
        Some(cache),
        Duration::from_secs(10),
    )
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out
}

#[test]
fn a_stalled_hub_cannot_hang_the_run() {
    let (_mock, server) = koji();
    server.inject([Fault::Hang(Duration::from_secs(20))]);
    let r = run(
        &server,
        "{action: download, koji_build: grep-3.11-1.fc39, arch: x86_64, target_dir: '${out}'}",
        "grep-3.11-1.fc39",
        "",
        None,
        Duration::from_secs(1),
    );
    assert_eq!(
        failure(&r),
        ("KOJI_UNREACHABLE".into(), Cause::Infrastructure)
    );
    // The deadline ended it, not the server giving up after its 20 s.
    let status = r.report.status.as_deref().unwrap_or_default();
    assert!(status.contains("timeout"), "{status}");
}

#[test]
fn a_missing_tool_is_named_before_anything_runs() {
    let (mock, server) = koji();
    let r = run(
        &server,
        "{action: download, koji_build: grep-3.11-1.fc39, arch: x86_64, target_dir: '${out}'}",
        "grep-3.11-1.fc39",
        "environment:\n  tools: [sh, taskotron-no-such-tool]\n",
        None,
        Duration::from_secs(5),
    );
    assert_eq!(failure(&r), ("TOOL_MISSING".into(), Cause::Infrastructure));
    assert!(r
        .report
        .status
        .as_deref()
        .unwrap()
        .contains("`taskotron-no-such-tool`"));
    assert!(!r.report.status.as_deref().unwrap().contains("`sh`"));
    assert_eq!(mock.downloads(), 0, "no action ran");
    assert!(r
        .report
        .actions
        .iter()
        .all(|a| a.status == taskotron_core::dict::ActionStatus::Skipped));
}

#[test]
fn a_command_that_is_not_installed_is_named_too() {
    let dir = tempfile::tempdir().unwrap();
    let task = dir.path().join("task");
    std::fs::create_dir_all(&task).unwrap();
    std::fs::write(
        task.join("runtask.yml"),
        "name: t\nnamespace: scratch\ndesc: d\nmaintainer: m\nactions:\n  - name: lint\n    shell:\n      - taskotron-no-such-linter --strict\n",
    )
    .unwrap();
    let loaded = taskotron_core::load_task(&task).unwrap();
    let opts = RunOptions {
        input: runner::task_input("htop-3.3.0-1.fc41", ItemType::KojiBuild, None),
        arch: None,
        overrides: vec![],
        artifacts_root: dir.path().join("artifacts"),
        tmpdir: dir.path().join("tmp"),
        default_timeout: Duration::from_secs(60),
        python: "python3".into(),
        task_env: Vec::new(),
        install_rpms: Default::default(),
        run_id: None,
        isolation: Default::default(),
        sandbox: Default::default(),
        remote: None,
        reporting: Default::default(),
        services: Services::default(),
    };
    let report = runner::run(&loaded.formula, &opts, Ports::system(), &mut Quiet).unwrap();
    // The shell ran and could not find the task's program: the task's failure,
    // which no retry on another worker would mend.
    let f = report.failure.unwrap();
    assert_eq!(
        (f.kind.as_str(), f.cause),
        ("COMMAND_NOT_FOUND", Cause::Task)
    );
    let status = report.status.unwrap();
    assert!(status.contains("taskotron-no-such-linter"), "{status}");
    assert!(status.contains("not found"), "{status}");
}

#[test]
fn the_real_formulas_of_the_original_load_and_validate() {
    let mut seen = 0;
    for entry in std::fs::read_dir(data("formulas")).unwrap() {
        let path = entry.unwrap().path();
        let loaded = taskotron_core::load_task(&path).unwrap_or_else(|d| {
            panic!(
                "{}: {}",
                path.display(),
                taskotron_core::diagnostic::render_all(&d)
            )
        });
        assert!(
            loaded
                .formula
                .actions
                .iter()
                .any(|a| a.directive.spec().name == "koji"),
            "{}",
            path.display()
        );
        seen += 1;
    }
    assert_eq!(seen, 4);
}

/// Runs a formula whose actions are `actions` against mock services from `fixture`.
fn run_with_services(fixture: &str, actions: &str) -> (Run, PathBuf) {
    let fixture: taskotron_mock::services::ServicesFixture =
        serde_norway::from_str(fixture).unwrap();
    let mocks = taskotron_mock::services::MockServices::start(&fixture).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let task = dir.path().join("task");
    std::fs::create_dir_all(&task).unwrap();
    std::fs::write(
        task.join("runtask.yml"),
        format!("name: g\nnamespace: scratch\ndesc: d\nmaintainer: m\nactions:\n{actions}"),
    )
    .unwrap();
    let loaded = taskotron_core::load_task(&task).unwrap();
    let out = dir.path().join("task/out");
    let opts = RunOptions {
        input: runner::task_input("htop-3.3.0-1.fc41", ItemType::KojiBuild, None),
        arch: None,
        overrides: vec![("out".into(), out.display().to_string())],
        artifacts_root: dir.path().join("artifacts"),
        tmpdir: dir.path().join("tmp"),
        default_timeout: Duration::from_secs(60),
        python: "python3".into(),
        task_env: Vec::new(),
        install_rpms: Default::default(),
        run_id: None,
        isolation: Default::default(),
        sandbox: Default::default(),
        remote: None,
        reporting: Default::default(),
        services: mocks.services(Services::default()),
    };
    let report = runner::run(&loaded.formula, &opts, Ports::system(), &mut Quiet).unwrap();
    (Run { dir, report }, out)
}

const DISTGIT: &str = "distgit:\n  rpms/htop/f41/htop.spec: 'Name: htop'\n  rpms/htop/f41/sources: 'SHA512 (htop-3.3.0.tar.xz) = 00'\n  rpms/htop/rawhide/htop.spec: 'Name: htop (rawhide)'\n";

#[test]
fn distgit_fetches_files_at_the_builds_branch() {
    let (r, out) = run_with_services(
        DISTGIT,
        "  - name: fetch\n    distgit: {nvr: '${koji_build}', path: [htop.spec, sources], localpath: [spec/htop.spec, sources], target_dir: '${out}'}\n  - name: rawhide\n    distgit: {package: htop, path: [htop.spec], localpath: [rawhide.spec], target_dir: '${out}'}\n",
    );
    assert_ok(&r);
    assert_eq!(
        std::fs::read_to_string(out.join("spec/htop.spec")).unwrap(),
        "Name: htop"
    );
    assert!(out.join("sources").is_file());
    assert_eq!(
        std::fs::read_to_string(out.join("rawhide.spec")).unwrap(),
        "Name: htop (rawhide)"
    );
}

#[test]
fn distgit_names_a_missing_file_unless_told_to_ignore_it() {
    let (r, out) = run_with_services(
        DISTGIT,
        "  - name: optional\n    distgit: {nvr: '${koji_build}', path: [htop.rpmlintrc], ignore_missing: true, target_dir: '${out}'}\n  - name: required\n    distgit: {nvr: '${koji_build}', path: [htop.rpmlintrc], target_dir: '${out}'}\n",
    );
    assert_eq!(
        r.report.actions[0].status,
        taskotron_core::dict::ActionStatus::Ok
    );
    assert_eq!(failure(&r), ("DISTGIT_FILE_MISSING".into(), Cause::Task));
    assert!(!out.join("htop.rpmlintrc").exists());
    // A local path may not leave the target directory.
    let (r, _) = run_with_services(
        DISTGIT,
        "  - name: escape\n    distgit: {package: htop, gitref: f41, path: [htop.spec], localpath: ['../../evil'], target_dir: '${out}'}\n",
    );
    assert_eq!(r.report.execution_status, ExecutionStatus::NotOk);
    assert!(r
        .report
        .status
        .as_deref()
        .unwrap()
        .contains("outside target_dir"));
}

#[test]
fn bodhi_downloads_an_updates_builds_and_refuses_to_download_nothing() {
    let fixture = "koji:\n  builds:\n    - {nvr: htop-3.3.0-1.fc41, arches: [x86_64, aarch64]}\n    - {nvr: nano-8.0-1.fc41}\nbodhi:\n  updates:\n    - {alias: FEDORA-2026-1, builds: [htop-3.3.0-1.fc41, nano-8.0-1.fc41]}\n";
    let (r, out) = run_with_services(
        fixture,
        "  - name: get\n    bodhi: {action: download, update_id: FEDORA-2026-1, arch: x86_64, target_dir: '${out}'}\n",
    );
    assert_ok(&r);
    assert_eq!(
        r.files(&out),
        ["htop-3.3.0-1.fc41.x86_64.rpm", "nano-8.0-1.fc41.x86_64.rpm"]
    );
    let (r, _) = run_with_services(
        fixture,
        "  - name: get\n    bodhi: {action: download, update_id: FEDORA-2026-1, arch: [], target_dir: '${out}'}\n",
    );
    assert!(r
        .report
        .status
        .as_deref()
        .unwrap()
        .contains("would download nothing"));
}
