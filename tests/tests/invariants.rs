//! ARCHITECTURE.md's invariants that the source itself can show, checked so that they
//! fail when the code drifts from the map. Each reads the library's code (without
//! its tests) and looks for what only one module may do.

use std::path::{Path, PathBuf};

fn core_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../taskotron-core/src")
}

/// Every `.rs` file under `dir` (named relative to it) with its code up to its
/// first `#[cfg(test)]`; a file that is only tests is left out.
fn sources_of(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    collect(dir, dir, &mut out);
    out.sort();
    out
}

fn collect(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(base, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("tests.rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("").to_string();
            let name = path.strip_prefix(base).unwrap().display().to_string();
            out.push((name, code));
        }
    }
}

/// The library crates whose code the invariants below read.
const LIBRARIES: &[&str] = &[
    "taskotron-core",
    "taskotron-config",
    "taskotron-process",
    "taskotron-queue",
    "taskotron-trigger",
];

/// The code of every library crate: the core's files named relative to its `src`
/// (as ARCHITECTURE.md names its modules), the others' with their crate in front
/// (`taskotron-process/lib.rs`).
fn library_sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    for krate in LIBRARIES {
        for (name, code) in sources_of(&root.join(krate).join("src")) {
            let name = if *krate == "taskotron-core" {
                name
            } else {
                format!("{krate}/{name}")
            };
            out.push((name, code));
        }
    }
    out.sort();
    out
}

/// The files whose code holds `needle`.
fn holding(needle: &str) -> Vec<String> {
    library_sources()
        .into_iter()
        .filter(|(_, code)| code.contains(needle))
        .map(|(name, _)| name)
        .collect()
}

#[test]
fn only_the_process_module_starts_programs() {
    // `remote/session` spawns commands on another machine, through the `openssh`
    // crate's own `Command` (which runs the system's `ssh`); no task process of
    // this machine starts there.
    assert_eq!(
        holding(".spawn()"),
        ["remote/session.rs", "taskotron-process/lib.rs"]
    );
    // The directives that run a task's programs build a Command and hand it to
    // `Context::run_task`, which confines it in the run's sandbox (`sandbox` wraps it
    // in `bwrap`) and runs it with `process::run_task`, which clears its environment;
    // `process` runs the runner's own tools (rpm, dnf); nothing else builds one.
    assert_eq!(
        holding("Command::new("),
        [
            "directive/ansible.rs",
            "directive/createrepo.rs",
            "directive/python.rs",
            "directive/shell.rs",
            "directive/sti.rs",
            "directive/tmt.rs",
            "sandbox.rs",
            "taskotron-process/lib.rs",
            "worker/mod.rs"
        ]
    );
    // The runner's own tools: rpm and dnf (`rpmenv`), bwrap's probe (`sandbox`),
    // and python and pip making the ansible-core environment (`ansible`).
    assert_eq!(
        holding("tool_output("),
        [
            "ansible.rs",
            "rpmenv.rs",
            "sandbox.rs",
            "taskotron-process/lib.rs"
        ]
    );
    // No process of a sandboxed run starts outside its sandbox: the directives go
    // through the context, and only the context calls `process::run_task`.
    for file in [
        "directive/ansible.rs",
        "directive/createrepo.rs",
        "directive/python.rs",
        "directive/shell.rs",
        "directive/sti.rs",
        "directive/tmt.rs",
    ] {
        assert!(holding(".run_task(").contains(&file.to_string()), "{file}");
    }
    assert_eq!(holding("process::run_task("), ["directive/mod.rs"]);
    // Only a worker's own `taskotron run` keeps the caller's environment.
    assert_eq!(
        holding("run_supervised("),
        ["taskotron-process/lib.rs", "worker/mod.rs"]
    );
}

#[test]
fn only_the_runner_reads_the_callers_environment_for_a_task() {
    // The allow-list is applied where the environment is read (the runner, and a
    // directive called alone); config takes its environment as a function.
    assert_eq!(holding("std::env::vars"), ["call.rs", "runner.rs"]);
    for file in ["call.rs", "runner.rs"] {
        assert!(
            holding("taskenv::inherited(").contains(&file.to_string()),
            "{file}"
        );
    }
}

#[test]
fn libraries_return_typed_errors() {
    for krate in [
        "taskotron-tap",
        "taskotron-model",
        "taskotron-config",
        "taskotron-process",
        "taskotron-queue",
        "taskotron-trigger",
        "taskotron-core",
        "taskotron-mock",
        "taskotron-doubles",
        "taskotron-web",
    ] {
        let manifest = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../{krate}/Cargo.toml")),
        )
        .unwrap();
        let deps = manifest.split("[dev-dependencies]").next().unwrap();
        assert!(!deps.contains("anyhow"), "{krate} depends on anyhow");
    }
}

/// The files of `dir` (relative to the core's `src`) whose code names `needle`.
fn holding_under(dir: &str, needle: &str) -> Vec<String> {
    holding(needle)
        .into_iter()
        .filter(|f| f.starts_with(dir))
        .collect()
}

#[test]
fn the_model_modules_depend_on_no_component() {
    // The dictionaries, downloads and the Koji client name failures through
    // `failure`, never through `directive` (they were a cycle of six files), and the
    // queue makes its ids through `ports`, not the ResultsDB reporter.
    for dir in ["download.rs", "koji/"] {
        assert_eq!(
            holding_under(dir, "directive::"),
            Vec::<String>::new(),
            "{dir}"
        );
    }
    assert_eq!(
        holding_under("taskotron-queue/", "resultsdb::"),
        Vec::<String>::new()
    );
}

/// The model crate does no I/O and stands on the TAP crate alone; inside it,
/// `failure` depends on no other module.
#[test]
fn the_model_crate_does_no_io() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../taskotron-model");
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|s| s.split("\n[").next())
        .unwrap();
    let ours: Vec<&str> = deps
        .lines()
        .filter_map(|l| l.split(['.', ' ', '=']).next())
        .filter(|name| name.starts_with("taskotron-"))
        .collect();
    assert_eq!(ours, ["taskotron-tap"]);
    for heavy in [
        "rusqlite", "git2", "lapin", "rpm", "ureq", "libc", "tempfile",
    ] {
        assert!(!deps.contains(heavy), "taskotron-model depends on {heavy}");
    }
    let src = root.join("src");
    let files = sources_of(&src);
    assert!(files.len() >= 7, "{files:?}");
    for (name, code) in &files {
        let code: String = code
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect();
        for io in ["std::fs", "std::net", "std::process", "std::env", "File::"] {
            assert!(!code.contains(io), "taskotron-model's {name} uses {io}");
        }
    }
    let failure = &files.iter().find(|(n, _)| n == "failure.rs").unwrap().1;
    assert!(
        !failure.contains("crate::"),
        "failure depends on another module"
    );
}

/// For each library crate, every module ARCHITECTURE.md's code map names in its
/// section (`name` or `dir/` at the start of an entry) exists, and every module of
/// the crate is named.
#[test]
fn architecture_names_the_modules_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    for krate in [
        "taskotron-tap",
        "taskotron-fmf",
        "taskotron-model",
        "taskotron-config",
        "taskotron-process",
        "taskotron-queue",
        "taskotron-trigger",
        "taskotron-gating",
        "taskotron-core",
    ] {
        let section = map
            .split(&format!("### `{krate}`"))
            .nth(1)
            .and_then(|s| s.split("\n### ").next())
            .unwrap_or_else(|| panic!("ARCHITECTURE.md has no section for {krate}"));
        // Entries look like "- `name`, `other` — ..." or "- `dir/` — ...".
        let mut named = Vec::new();
        for line in section.lines().filter(|l| l.starts_with("- `")) {
            let head = line.split(" — ").next().unwrap_or("");
            for part in head.split('`').skip(1).step_by(2) {
                named.push(part.trim_end_matches('/').to_string());
            }
        }
        let src = root.join(krate).join("src");
        for name in &named {
            assert!(
                src.join(format!("{name}.rs")).is_file() || src.join(name).join("mod.rs").is_file(),
                "ARCHITECTURE.md names `{name}`, which is not a module of {krate}"
            );
        }
        for entry in std::fs::read_dir(&src).unwrap().flatten() {
            let path = entry.path();
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            let module =
                path.extension().is_some_and(|e| e == "rs") || path.join("mod.rs").is_file();
            if module && name != "lib" {
                assert!(
                    named.contains(&name),
                    "ARCHITECTURE.md's code map does not name {krate}'s `{name}`"
                );
            }
        }
    }
}

/// The crate graph ARCHITECTURE.md writes is the one `cargo metadata` reads: each
/// workspace crate's normal dependencies on workspace crates, no more, no fewer.
/// A crate that grows a dependency upwards (the configuration on a component, a
/// reader on the library) fails here until the architecture says so.
#[test]
fn the_crate_graph_is_the_one_written_here() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::process::Command::new(env!("CARGO"))
        .current_dir(&root)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let members: Vec<String> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    let mut actual = std::collections::BTreeMap::new();
    for p in meta["packages"].as_array().unwrap() {
        let mut deps: Vec<String> = p["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"].is_null() && members.iter().any(|m| m == &d["name"]))
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect();
        deps.sort();
        actual.insert(p["name"].as_str().unwrap().to_string(), deps);
    }
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let section = map
        .split("## Crate graph")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("ARCHITECTURE.md has a `## Crate graph` section");
    let mut written = std::collections::BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("- `")) {
        let (head, tail) = line.split_once(" → ").expect("`- `crate` → deps` lines");
        let name = head.trim_start_matches("- ").trim_matches('`').to_string();
        let mut deps: Vec<String> = tail
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect();
        deps.sort();
        written.insert(name, deps);
    }
    assert_eq!(
        written, actual,
        "ARCHITECTURE.md's crate graph (left) is not the workspace's (right)"
    );
    // The configuration stays at the bottom: nothing but the readers and the model.
    assert_eq!(
        actual["taskotron-config"],
        ["taskotron-model", "taskotron-tap"]
    );
}

/// The TAP crate depends on no other taskotron crate, so it stays pure and builds
/// (and is fuzzed) alone.
#[test]
fn the_tap_crate_stands_alone() {
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../taskotron-tap/Cargo.toml"),
    )
    .unwrap();
    // The [dependencies] table only (the package's own name is `taskotron-tap`).
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|s| s.split("\n[").next())
        .unwrap();
    assert!(
        !deps.contains("taskotron-"),
        "taskotron-tap depends on another taskotron crate"
    );
    for heavy in ["rusqlite", "git2", "lapin", "rpm", "ureq"] {
        assert!(!deps.contains(heavy), "taskotron-tap depends on {heavy}");
    }
}

/// The web server changes nothing: every route is a GET or a POST that only
/// reads (a decision, `waivers/+filtered`, `validate-gating-yaml`), a POST that
/// would write (results, a waiver) is refused, the queue and the history are
/// opened read-only, and no file is written.
#[test]
fn the_web_server_is_read_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../taskotron-web/src");
    let files = sources_of(&src);
    assert!(files.len() >= 6, "{files:?}");
    // A POST to the results API is answered 405 by `read_only`, and only that.
    let all: String = files
        .iter()
        .map(|(_, code)| {
            let mut code = code.replace(".post(resultsdb::read_only)", "");
            for query in [
                "post(gating::decision)",
                "post(gating::filtered)",
                "post(gating::validate_gating_yaml)",
                ".post(gating::create_waiver)",
            ] {
                code = code.replace(query, "");
            }
            code
        })
        .collect();
    let gating = &files.iter().find(|(n, _)| n == "gating.rs").unwrap().1;
    let create = gating.split("pub async fn create_waiver").nth(1).unwrap();
    let create = create.split("\n}\n").next().unwrap();
    assert!(
        create.contains("METHOD_NOT_ALLOWED") && !create.contains("waive("),
        "a waiver POSTed to the web must be refused"
    );
    assert!(
        all.contains("get(pages::jobs)"),
        "the routes moved; update this test"
    );
    for write in [
        "post(",
        "put(",
        "delete(",
        "patch(",
        "Queue::open(",
        "Queue::open_with(",
        "Store::open(",
        ".waive(",
        "fs::write",
        "File::create",
        "create_dir",
        "remove_file",
        "OpenOptions",
    ] {
        assert!(!all.contains(write), "taskotron-web uses `{write}`");
    }
    assert!(all.contains("Queue::open_read_only("));
}

/// The ways to open a file by name; only `taskotron-beneath` may use them on a
/// path a task can influence.
const OPENS: &[&str] = &[
    "std::fs::",
    "fs::read",
    "fs::write",
    "File::open(",
    "File::create(",
    "OpenOptions",
    "fs::metadata(",
    "fs::remove_file(",
    ".is_file()",
    ".is_dir()",
    ".canonicalize()",
];

/// Every file the runner reads or writes for a task (the run's artifacts, its
/// workdir, the task directory, paths a formula gives) is opened through
/// `taskotron-beneath`, which follows no link out of the run (issue 29). The
/// runner, its directives and the follower open nothing by name otherwise; the
/// allowed uses below are on paths the runner chose itself, before a task ran.
#[test]
fn the_runner_opens_task_paths_only_beneath_the_run() {
    let allowed: &[(&str, &str)] = &[
        // Creating the run's directories before the task runs, and removing the
        // scratch directory after an OK one (remove_dir_all follows no link).
        ("runner.rs", "std::fs::create_dir_all(&dir)"),
        (
            "runner.rs",
            "std::fs::remove_dir_all(scratch(opts, &run_id))",
        ),
        // The python directive checks that the task's module exists (the
        // interpreter reads it, inside the sandbox); the path was located first.
        ("directive/python.rs", "!path.is_file()"),
        // A process that did not start: was its working directory, the task
        // directory itself (the runner's, not a path in it), there at all?
        ("directive/mod.rs", "!cwd.is_dir()"),
    ];
    let mut found = Vec::new();
    for (name, code) in sources_of(&core_src()) {
        let runner = name == "runner.rs"
            || name.starts_with("runner/")
            || name.starts_with("directive/")
            || name == "follow.rs";
        if !runner {
            continue;
        }
        for (n, line) in code.lines().enumerate() {
            let line = line.trim();
            // The type is fine: what matters is how a file is opened.
            if line.starts_with("//") || line == "use std::fs::File;" {
                continue;
            }
            for open in OPENS {
                if line.contains(open)
                    && !allowed.iter().any(|(f, a)| *f == name && line.contains(a))
                {
                    found.push(format!("{name}:{}: `{open}` in `{line}`", n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "the runner opens paths by name; go through taskotron-beneath:\n{}",
        found.join("\n")
    );
    // The module exists and the runner holds it.
    assert!(holding("taskotron_beneath::").contains(&"runner.rs".to_string()));
    assert!(holding("Roots").contains(&"directive/mod.rs".to_string()));
    // The library itself forbids unsafe code, so its guarantees are the kernel's.
    let lib = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../taskotron-beneath/src/lib.rs"),
    )
    .unwrap();
    assert!(lib.contains("#![forbid(unsafe_code)]"));
    assert!(lib.contains("RESOLVE_BENEATH") || lib.contains("ResolveFlags::BENEATH"));
}

/// The web server serves and lists a run's files through `taskotron-beneath`
/// only: a running task writes its run directory and could swap a name for a
/// link between a check and a read.
#[test]
fn the_web_server_reads_artifacts_beneath_the_directory() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../taskotron-web/src");
    for (name, code) in sources_of(&src) {
        if !matches!(name.as_str(), "artifacts.rs" | "live.rs" | "pages.rs") {
            continue;
        }
        for open in [
            "File::open(",
            "fs::read_dir(",
            ".canonicalize()",
            "fs::metadata(",
        ] {
            assert!(!code.contains(open), "{name} uses `{open}`");
        }
    }
}

/// The CLI writes to its standard streams only through `outln!`, `out!` and
/// `errln!`, which end the output on a closed pipe (`taskotron directives | head`)
/// where `println!` would panic.
#[test]
fn the_cli_never_panics_on_a_closed_pipe() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../taskotron-cli/src");
    let mut offenders = Vec::new();
    for (name, code) in sources_of(&src) {
        // The macros themselves are defined in terms of `writeln!`.
        for needle in ["println!(", "eprintln!(", "eprint!(", " print!("] {
            if code.contains(needle) {
                offenders.push(format!("{name}: {needle}"));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "use outln!/out!/errln!: {offenders:?}"
    );
}

/// The fmf reader reads files and does nothing else: no process, no network, no
/// write, and no taskotron crate beneath it but the TAP crate's YAML reader.
#[test]
fn the_fmf_crate_only_reads_files() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../taskotron-fmf/src");
    for (name, code) in sources_of(&src) {
        for needle in [
            "std::process",
            "Command::new",
            "TcpStream",
            "UdpSocket",
            "fs::write",
            "File::create",
            "OpenOptions",
            "create_dir",
            "remove_",
            "rename(",
        ] {
            assert!(
                !code.contains(needle),
                "taskotron-fmf's {name} uses {needle}"
            );
        }
    }
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../taskotron-fmf/Cargo.toml"),
    )
    .unwrap();
    let deps = manifest.split("[dependencies]").nth(1).unwrap();
    let deps = deps.split("\n[").next().unwrap();
    for line in deps.lines().filter(|l| l.starts_with("taskotron")) {
        assert!(
            line.starts_with("taskotron-tap"),
            "taskotron-fmf depends on {line}"
        );
    }
}
