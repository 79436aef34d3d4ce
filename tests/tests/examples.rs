//! Every example in `--help` (of every command) and in README's shell blocks runs,
//! as a user would type it.
//!
//! Each help section or README block runs in a fresh directory holding the
//! repository's `tasks/` and the files the examples name (`results.yml`,
//! `messages.jsonl`, `trigger_rules.yml`, `t/basic.t`, ... from
//! `tests/data/examples/`), its lines in order, under `sh`, with `taskotron` on the
//! `PATH`. The configuration points at mock ResultsDB, Bodhi and Koji services, so
//! examples that report or download work offline; the URLs the examples spell
//! (`http://127.0.0.1:5001`, `https://bodhi.example`) are swapped for the mocks'.
//!
//! An example passes when it ends with an exit code its command documents for a
//! run that happened (0, 1 or 100): never 2 (invalid input: the example is wrong),
//! never a panic, a signal or a missing program. Examples that run until stopped (a
//! worker without `--once`, anything reading `amqp://`) get SIGTERM after a few
//! seconds and must then end cleanly, with 0; so do those serving pages (`web`,
//! `--http`), one after another on the port they name. README lines that start with `cargo`
//! are the project's own build and CI commands, which CI runs itself.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use taskotron_mock::bodhi::User;
use taskotron_mock::resultsdb::{MockResultsDb, ResultsDbFixture};
use taskotron_mock::services::{MockServices, ServicesFixture};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A group of example lines that run in order in one directory.
#[derive(Debug)]
struct Group {
    origin: String,
    lines: Vec<String>,
}

fn help(args: &[&str]) -> String {
    let o = Command::new(taskotron_tests::bin::taskotron())
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(o.status.success(), "taskotron {args:?} --help");
    String::from_utf8(o.stdout).unwrap()
}

/// The subcommands a help page lists.
fn subcommands(page: &str) -> Vec<String> {
    page.split("\nCommands:\n")
        .nth(1)
        .map(|rest| {
            rest.lines()
                .take_while(|l| l.starts_with("  "))
                .filter_map(|l| l.split_whitespace().next())
                .filter(|c| *c != "help")
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The `Example(s):` section of a help page.
fn help_examples(page: &str) -> Vec<String> {
    let Some(rest) = page
        .split_once("\nExamples:\n")
        .or_else(|| page.split_once("\nExample:\n"))
        .map(|(_, r)| r)
    else {
        return Vec::new();
    };
    let lines: Vec<String> = rest
        .lines()
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.trim().to_string())
        .collect();
    // Help is wrapped at 100 columns when not on a terminal: an example longer than
    // that would be cut in two, and neither half would run.
    for l in &lines {
        assert!(
            l.len() <= 96,
            "an example too long for one line of help: {l}"
        );
    }
    lines
}

/// Every help page's examples, one group per page, walking the command tree.
fn help_groups() -> Vec<Group> {
    let mut groups = Vec::new();
    let mut todo: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(path) = todo.pop() {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let page = help(&args);
        for sub in subcommands(&page) {
            let mut p = path.clone();
            p.push(sub);
            todo.push(p);
        }
        let lines = help_examples(&page);
        if !lines.is_empty() {
            groups.push(Group {
                origin: format!("taskotron {} --help", path.join(" ")),
                lines,
            });
        }
    }
    groups
}

/// README and the book's chapters (`docs/src/*.md`), named relative to the
/// workspace, with their text.
fn documents() -> Vec<(String, String)> {
    let mut names = vec!["README.md".to_string()];
    let mut chapters: Vec<String> = std::fs::read_dir(workspace().join("docs/src"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md") && n != "SUMMARY.md")
        .map(|n| format!("docs/src/{n}"))
        .collect();
    chapters.sort();
    names.extend(chapters);
    names
        .into_iter()
        .map(|n| {
            let text = std::fs::read_to_string(workspace().join(&n)).unwrap();
            (n, text)
        })
        .collect()
}

/// The ```sh blocks of README and the book, without the `cargo` lines.
fn readme_groups() -> Vec<Group> {
    let mut groups = Vec::new();
    for (name, text) in documents() {
        sh_groups(&name, &text, &mut groups);
    }
    groups
}

fn sh_groups(name: &str, text: &str, groups: &mut Vec<Group>) {
    let mut current: Option<(usize, Vec<String>)> = None;
    for (n, line) in text.lines().enumerate() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some((n + 1, Vec::new())),
            (Some((start, lines)), "```") => {
                let lines: Vec<String> = std::mem::take(lines)
                    .into_iter()
                    .filter(|l| !l.starts_with("cargo "))
                    .collect();
                if !lines.is_empty() {
                    groups.push(Group {
                        origin: format!("{name}:{start}"),
                        lines,
                    });
                }
                current = None;
            }
            (Some((_, lines)), l) if !l.trim().is_empty() => lines.push(l.to_string()),
            _ => {}
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The mock services every example talks to.
struct Services {
    _mocks: MockServices,
    _resultsdb: MockResultsDb,
    resultsdb_url: String,
    bodhi_url: String,
    config_tail: String,
    _server: taskotron_mock::http::Server,
}

fn services() -> Services {
    let mut fixture =
        ServicesFixture::load(&workspace().join("tasks/rpmlint/fixtures/koji.yaml")).unwrap();
    fixture.bodhi.users.push(User {
        name: "taskotron".into(),
        token: "examples-token".into(),
    });
    let mocks = MockServices::start(&fixture).unwrap();
    let s = mocks.services(Default::default());
    let resultsdb = MockResultsDb::new(&ResultsDbFixture::default());
    let server = resultsdb.serve().unwrap();
    let config_tail = format!(
        "koji_url: {}\nkoji_pkgs_url: {}\nbodhi_url: {}\nbodhi_token: examples-token\ndistgit_url: {}\nresultsdb_url: {}\n",
        s.koji_url,
        s.koji_pkgs_url,
        s.bodhi_url,
        s.distgit_url,
        server.url()
    );
    Services {
        resultsdb_url: server.url(),
        bodhi_url: s.bodhi_url.clone(),
        _mocks: mocks,
        _resultsdb: resultsdb,
        config_tail,
        _server: server,
    }
}

/// Runs until stopped: a worker without `--once`, anything reading a broker, and
/// anything serving pages (the line's `# comment` aside).
fn is_daemon(line: &str) -> bool {
    let command = line.split(" #").next().unwrap_or(line);
    (command.contains("amqp://") && !command.contains("--once"))
        || (command.contains("taskotron worker") && !command.contains("--once"))
        || command.contains("taskotron web")
        || command.contains("--http")
}

fn run_group(group: &Group, services: &Services, failures: &mut Vec<String>) {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("work");
    copy_dir(&workspace().join("tasks"), &dir.join("tasks"));
    copy_dir(&workspace().join("tests/data/examples"), &dir);
    let home = root.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let config = root.path().join("taskotron.yaml");
    std::fs::write(
        &config,
        format!(
            "state_dir: {r}/state\nartifacts: {r}/artifacts\ntmpdir: {r}/tmp\ntask_path: [tasks]\n\
             retry_delay: 1s\nmax_attempts: 1\nqueue_wait: 5s\nreport_deadline: 10s\n\
             buildbot_url: http://127.0.0.1:9/\ngating_policies: {r}/work/policies.yaml\n{}",
            services.config_tail,
            r = root.path().display()
        ),
    )
    .unwrap();
    let bin = taskotron_tests::bin::dir();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for line in &group.lines {
        let shown = line
            .replace("http://127.0.0.1:5001", &services.resultsdb_url)
            .replace("https://bodhi.example", &services.bodhi_url);
        let daemon = is_daemon(line);
        let script = if daemon {
            format!("exec {shown}")
        } else {
            shown.clone()
        };
        let mut child = Command::new("sh")
            .args(["-c", &script])
            .process_group(0)
            .current_dir(&dir)
            .env("PATH", &path)
            .env("HOME", &home)
            .env("TASKOTRON_CONFIG", &config)
            .env_remove("TASKOTRON_STATE_DIR")
            .env_remove("TASKOTRON_ARTIFACTS")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        let started = Instant::now();
        let limit = if daemon {
            Duration::from_secs(3)
        } else {
            Duration::from_secs(180)
        };
        let mut stopped = false;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            let group = -i32::try_from(child.id()).unwrap();
            if started.elapsed() > limit && !stopped {
                // SAFETY: kill(2) on our own child's process group.
                unsafe { libc::kill(group, if daemon { libc::SIGTERM } else { libc::SIGKILL }) };
                stopped = true;
            }
            if started.elapsed() > limit + Duration::from_secs(15) {
                // SAFETY: as above.
                unsafe { libc::kill(group, libc::SIGKILL) };
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let err = reader.join().unwrap_or_default();
        let code = status.code();
        let ok = if daemon {
            stopped && code == Some(0)
        } else {
            matches!(code, Some(0 | 1 | 100)) && !err.contains("panicked")
        };
        eprintln!("example ({}): `{line}` -> {code:?}", group.origin);
        if !ok {
            let why = if daemon && !stopped {
                "ended before it was stopped".to_string()
            } else {
                format!("exit {code:?}")
            };
            failures.push(format!(
                "{}: `{line}`: {why}\n{}",
                group.origin,
                err.lines().take(12).collect::<Vec<_>>().join("\n")
            ));
        }
    }
}

#[test]
fn every_example_in_help_and_readme_runs() {
    let services = services();
    let mut groups = help_groups();
    let from_help = groups.len();
    groups.extend(readme_groups());
    assert!(from_help >= 15, "help pages with examples: {from_help}");
    assert!(
        groups.len() > from_help + 5,
        "README blocks: {}",
        groups.len() - from_help
    );
    let mut failures = Vec::new();
    for g in &groups {
        run_group(g, &services, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} examples do not run:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The inputs a help example names exist where the examples run (`tasks/` of the
/// repository, or `tests/data/examples/`): a tidy test that names the example and
/// the path, faster and plainer than the example failing as a run. Outputs (after
/// `>`, `>>` or `--out`) and paths in the home directory are not inputs; a glob
/// must match something.
#[test]
fn help_examples_name_files_that_exist() {
    // The check itself: a glob that matches, and paths that are not there.
    assert!(example_file_exists("tasks/*/runtask.yml") && example_file_exists("t/basic.t"));
    assert!(!example_file_exists("tasks/no-such-task") && !example_file_exists("nope/*.yml"));
    let mut missing = Vec::new();
    for group in help_groups() {
        for line in &group.lines {
            let command = line.split(" #").next().unwrap_or(line);
            let mut previous = "";
            for word in command.split_whitespace() {
                let output = matches!(previous, ">" | ">>" | "--out");
                previous = word;
                let input = !output
                    && !word.starts_with(['-', '~', '$', '>', '|'])
                    && !word.contains("://")
                    && (word.contains('/')
                        || [".yml", ".yaml", ".json", ".jsonl", ".t", ".tap", ".xml"]
                            .iter()
                            .any(|e| word.ends_with(e)));
                if input && !example_file_exists(word) {
                    missing.push(format!("{}: `{word}` in `{line}`", group.origin));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "help examples name files that do not exist:\n{}",
        missing.join("\n")
    );
}

fn example_file_exists(path: &str) -> bool {
    let root = if path.starts_with("tasks/") || path == "tasks" {
        workspace()
    } else {
        workspace().join("tests/data/examples")
    };
    let mut found = vec![root];
    for part in path.trim_end_matches('/').split('/') {
        found = found
            .into_iter()
            .flat_map(|dir| match part.split_once('*') {
                None => vec![dir.join(part)],
                Some((head, tail)) => std::fs::read_dir(&dir)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with(head) && n.ends_with(tail))
                    .map(|n| dir.join(n))
                    .collect(),
            })
            .filter(|p| p.exists())
            .collect();
    }
    !found.is_empty()
}

/// The whole formulas of README and the book (```yaml blocks that start with
/// `name:`) validate, and those with an `exitcode` action run as the book says:
/// the TAP suite ends with exit 100, its failing test in the results.
#[test]
fn every_whole_formula_in_readme_validates_and_runs() {
    let text: String = documents().into_iter().map(|(_, t)| t).collect();
    let mut formulas = 0;
    for block in text.split("```yaml\n").skip(1) {
        let body = block.split("\n```").next().unwrap();
        if !body.starts_with("name:") {
            continue;
        }
        formulas += 1;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("runtask.yml"), body).unwrap();
        // A formula shown alone names its Python file; the file is the reader's.
        for line in body.lines() {
            if let Some(rest) = line.split("file: ").nth(1) {
                let name = rest.split([',', ' ', '}']).next().unwrap();
                std::fs::write(dir.path().join(name), "def run(**kwargs):\n    return ''\n")
                    .unwrap();
            }
        }
        let taskotron = |args: &[&str]| {
            Command::new(taskotron_tests::bin::taskotron())
                .args(["--color", "never"])
                .args(args)
                .arg(dir.path())
                .env("TASKOTRON_ARTIFACTS", dir.path().join("artifacts"))
                .env("TASKOTRON_TMPDIR", dir.path().join("tmp"))
                .output()
                .unwrap()
        };
        let o = taskotron(&["validate"]);
        let first = body.lines().next().unwrap();
        assert!(
            o.status.success(),
            "README formula `{first}`: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        if body.contains("exitcode:") {
            let o = taskotron(&["run", "-i", "htop-3.3.0-1.fc41", "-t", "koji_build"]);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(
                o.status.code(),
                Some(100),
                "README formula `{first}`: {err}"
            );
            assert!(err.contains("FAILED adds"), "{err}");
        }
    }
    assert!(formulas >= 2, "README lost its formulas");
}

/// The deployment chapter's units are the files in `contrib/systemd/` (the first
/// line of each names its file), each `ExecStart` is a command line taskotron
/// takes, and the chapter's configuration loads.
#[test]
fn the_deployment_chapter_matches_the_shipped_units() {
    let chapter = std::fs::read_to_string(workspace().join("docs/src/deployment.md")).unwrap();
    let mut units = 0;
    for block in chapter.split("```ini\n").skip(1) {
        let body = &block[..block.find("```").unwrap()];
        let file = body
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# "))
            .expect("a unit's first line names its file");
        let shipped = std::fs::read_to_string(workspace().join(file)).unwrap();
        assert_eq!(body, shipped, "{file} and the chapter differ");
        let exec = body
            .lines()
            .find_map(|l| l.strip_prefix("ExecStart=/usr/bin/taskotron "))
            .unwrap_or_else(|| panic!("{file} has no ExecStart"));
        // systemd's specifiers, filled in as systemd would.
        let exec = exec
            .replace("%%", "%")
            .replace("%i", "aarch64")
            .replace("%H", "host");
        let mut args: Vec<&str> = exec.split_whitespace().collect();
        args.push("--help");
        let o = Command::new(taskotron_tests::bin::taskotron())
            .args(&args)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        units += 1;
    }
    assert_eq!(units, 3);
    let start = chapter.find("```yaml\n").unwrap() + 8;
    let config = &chapter[start..];
    let config = &config[..config.find("```").unwrap()];
    taskotron_core::config::Config::parse(config, Path::new("taskotron.yaml"), &|_| None)
        .unwrap_or_else(|e| panic!("the chapter's config: {e}"));
}

/// The book's summary lists every chapter, and README's links into the book lead
/// to chapters that exist.
#[test]
fn the_book_is_whole_and_readme_links_into_it() {
    let summary = std::fs::read_to_string(workspace().join("docs/src/SUMMARY.md")).unwrap();
    for (name, _) in documents().into_iter().skip(1) {
        let file = name.strip_prefix("docs/src/").unwrap();
        assert!(
            summary.contains(&format!("({file})")),
            "SUMMARY.md lacks {file}"
        );
    }
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let mut links = 0;
    for part in readme.split("](docs/src/").skip(1) {
        let file = &part[..part.find(')').unwrap()];
        assert!(
            workspace().join("docs/src").join(file).is_file(),
            "README links to {file}"
        );
        links += 1;
    }
    assert!(links >= 8, "README lost its links into the book");
}
