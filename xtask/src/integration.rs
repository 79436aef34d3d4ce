//! `cargo xtask integration`: the tests that need real services. It installs what
//! they need when it is missing (RabbitMQ with apt-get; Buildbot from PyPI into
//! `target/buildbot-venv`), then runs the ignored tests of `tests/` that use them;
//! each test starts its own private services on 127.0.0.1 and stops them.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::ci::tests;
use crate::util::cargo;

/// Debian packages the integration tests need, with how to tell each is there.
const PACKAGES: &[(&str, Check)] = &[
    (
        "rabbitmq-server",
        Check::File("/usr/lib/rabbitmq/bin/rabbitmq-server"),
    ),
    ("python3-venv", Check::Python("import ensurepip, venv")),
    ("git", Check::Program("git")),
    // Renders a run's report.html headless for the screenshot test.
    ("chromium", Check::File("/usr/bin/chromium")),
    // The example tasks the screenshot run uses.
    ("rpmlint", Check::Program("rpmlint")),
    // Real suites and the JUnit schema check of the suite tests (`cargo test`).
    (
        "libglib2.0-tests",
        Check::File("/usr/libexec/installed-tests/glib/array-test"),
    ),
    ("libxml2-utils", Check::File("/usr/bin/xmllint")),
    // The createrepo directive's tests run the real createrepo_c.
    ("createrepo-c", Check::File("/usr/bin/createrepo_c")),
    // Workers run jobs in a bubblewrap sandbox (the e2e matrix, the sandbox tests).
    ("bubblewrap", Check::File("/usr/bin/bwrap")),
    // Remote runs are tested against a real OpenSSH server on loopback.
    ("openssh-server", Check::File("/usr/sbin/sshd")),
    // tmt's `provision -h local` copies the tree with rsync (the tmt oracle test).
    ("rsync", Check::File("/usr/bin/rsync")),
];

/// How to tell a package is installed.
enum Check {
    File(&'static str),
    Python(&'static str),
    Program(&'static str),
}

impl Check {
    fn holds(&self) -> bool {
        let quiet = |c: &mut Command| {
            c.stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        match self {
            Check::File(f) => Path::new(f).exists(),
            Check::Python(code) => quiet(Command::new("python3").args(["-c", code])),
            Check::Program(p) => quiet(Command::new(p).arg("--version")),
        }
    }
}

/// The test targets that use real services.
const TARGETS: &[&str] = &[
    "amqp",
    "buildbot",
    "ci_messages",
    "fmf_oracle",
    "gating",
    "tmt_oracle",
    "playbooks",
    "remote",
    "report_html",
    "web",
];

/// The Buildbot the tests run (the version `reference/` was checked with).
const BUILDBOT: &[&str] = &["buildbot[bundle]==4.3.0", "buildbot-worker==4.3.0"];

/// The ansible-core playbook tasks run with in the tests: the one taskotron pins
/// (`taskotron_core::ansible::ANSIBLE_CORE`, checked by the playbooks test).
const ANSIBLE: &str = "ansible-core==2.18.19";

/// Installs ansible-core into `target/ansible-venv`, unless there.
pub(crate) fn install_ansible() -> Result<()> {
    if venv_has("ansible-venv", "ansible") {
        return Ok(());
    }
    install_venv("ansible-venv", &[ANSIBLE])
}

/// The Python fmf the fmf reader is compared with (the version `reference/` names).
const FMF: &str = "fmf==1.7.0";

/// Installs the Python fmf into `target/fmf-venv`, and unpacks its sdist (whose
/// `examples/` trees the oracle test reads) into `target/fmf-sdist`, unless there.
fn install_fmf() -> Result<()> {
    let root = crate::util::root();
    let venv = root.join("target/fmf-venv");
    if !venv_has("fmf-venv", "fmf") {
        install_venv("fmf-venv", &[FMF])?;
    }
    let sdist = root.join("target/fmf-sdist");
    if sdist.join("fmf-1.7.0/examples").is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(&sdist)?;
    let status = Command::new(venv.join("bin/pip"))
        .args([
            "download",
            "-q",
            "--no-deps",
            "--no-binary",
            ":all:",
            FMF,
            "-d",
        ])
        .arg(&sdist)
        .status()
        .context("cannot run pip download")?;
    if !status.success() {
        bail!("pip download {FMF} failed ({status})");
    }
    let status = Command::new("tar")
        .args(["xzf", "fmf-1.7.0.tar.gz"])
        .current_dir(&sdist)
        .status()
        .context("cannot run tar")?;
    if !status.success() {
        bail!("cannot unpack the fmf sdist ({status})");
    }
    Ok(())
}

/// The tmt whose listings and `results.yaml` ours are compared with.
pub(crate) const TMT: &str = "tmt==1.80.0";

/// A Python of at least 3.12 (tmt 1.80 needs it): one on PATH, else pyenv's.
pub(crate) fn python312() -> Option<PathBuf> {
    let works = |p: &Path| {
        Command::new(p)
            .args(["-c", "import sys; assert sys.version_info >= (3, 12)"])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let mut candidates: Vec<PathBuf> = ["python3.13", "python3.12", "python3"]
        .iter()
        .map(PathBuf::from)
        .collect();
    let pyenv = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")));
    if let Some(versions) = pyenv.map(|p| p.join("versions")) {
        let mut found: Vec<PathBuf> = std::fs::read_dir(versions)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("bin/python3"))
            .collect();
        found.sort();
        candidates.extend(found.into_iter().rev());
    }
    candidates.into_iter().find(|p| works(p))
}

/// Installs tmt into `target/tmt-venv` with a Python of at least 3.12, unless there.
pub(crate) fn install_tmt() -> Result<()> {
    if venv_has("tmt-venv", "tmt") {
        return Ok(());
    }
    let python =
        python312().context("tmt 1.80 needs Python 3.12 or later: none on PATH or in pyenv")?;
    let venv = crate::util::root().join("target/tmt-venv");
    eprintln!(
        "{:>12} {TMT} into target/tmt-venv ({})",
        "Installing",
        python.display()
    );
    let status = Command::new(&python)
        .args(["-m", "venv"])
        .arg(&venv)
        .status()?;
    if !status.success() {
        bail!("{} -m venv failed ({status})", python.display());
    }
    let status = Command::new(venv.join("bin/pip"))
        .args(["install", "-q", TMT])
        .status()?;
    if !status.success() {
        bail!("pip install {TMT} failed ({status})");
    }
    Ok(())
}

/// Greenwave, the oracle of the gating test: 0.9.4 is the newest release on
/// PyPI (later ones are published only as source on GitHub, out of reach here),
/// run from its sdist with the Flask 1 stack it was written for.
const GREENWAVE: &str = "greenwave==0.9.4";
const GREENWAVE_DEPS: &[&str] = &[
    "flask==1.1.4",
    "werkzeug==1.0.1",
    "jinja2==2.11.3",
    "itsdangerous==1.1.0",
    "markupsafe==2.0.1",
    "click==7.1.2",
    "requests==2.34.2",
    "PyYAML==6.0.4",
    "dogpile.cache==1.5.0",
];

/// The draft-07 validator the CI messages are checked with (fedora-messaging's own
/// dependency), with the checkers of the `date-time` and `uri` formats.
const JSONSCHEMA: &[&str] = &[
    "jsonschema==4.23.0",
    "rfc3339-validator==0.1.4",
    "rfc3986-validator==0.1.1",
];

/// Installs `jsonschema` into `target/jsonschema-venv`, unless there.
fn install_jsonschema() -> Result<()> {
    if venv_has(
        "jsonschema-venv",
        "jsonschema, rfc3339_validator, rfc3986_validator",
    ) {
        return Ok(());
    }
    install_venv("jsonschema-venv", JSONSCHEMA)
}

/// Installs Greenwave into `target/greenwave-venv` from its sdist, without the
/// fedmsg its message consumers need (the decision API does not), unless there.
fn install_greenwave() -> Result<()> {
    if venv_has("greenwave-venv", "greenwave.app_factory") {
        return Ok(());
    }
    install_venv("greenwave-venv", GREENWAVE_DEPS)?;
    let pip = crate::util::root().join("target/greenwave-venv/bin/pip");
    let status = Command::new(pip)
        .args([
            "install",
            "-q",
            "--no-deps",
            "--no-binary",
            ":all:",
            GREENWAVE,
        ])
        .status()
        .context("cannot run pip")?;
    if !status.success() {
        bail!("pip install {GREENWAVE} failed ({status})");
    }
    Ok(())
}

/// The official ResultsDB client the web test reads `/api/v2.0` with.
const RESULTSDB_API: &[&str] = &["resultsdb-api==2.1.6"];

/// Installs Buildbot into `target/buildbot-venv` unless it is there.
fn install_buildbot() -> Result<()> {
    let venv = crate::util::root().join("target/buildbot-venv");
    if venv.join("bin/buildbot").exists() && venv.join("bin/buildbot-worker").exists() {
        return Ok(());
    }
    install_venv("buildbot-venv", BUILDBOT)
}

/// Installs the ResultsDB client into `target/resultsdb-venv` unless it is there.
fn install_resultsdb_api() -> Result<()> {
    if venv_has("resultsdb-venv", "resultsdb_api") {
        return Ok(());
    }
    install_venv("resultsdb-venv", RESULTSDB_API)
}

/// Whether the venv `target/<name>` imports `module`.
fn venv_has(name: &str, module: &str) -> bool {
    Command::new(
        crate::util::root()
            .join("target")
            .join(name)
            .join("bin/python"),
    )
    .args(["-c", &format!("import {module}")])
    .stderr(std::process::Stdio::null())
    .status()
    .is_ok_and(|s| s.success())
}

/// A venv `target/<name>` with `packages` from PyPI.
fn install_venv(name: &str, packages: &[&str]) -> Result<()> {
    let venv = crate::util::root().join("target").join(name);
    eprintln!(
        "{:>12} {} into target/{name}",
        "Installing",
        packages.join(" ")
    );
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .context("cannot run python3 -m venv")?;
    if !status.success() {
        bail!("python3 -m venv failed ({status}); is python3-venv installed?");
    }
    let status = Command::new(venv.join("bin/pip"))
        .args(["install", "-q"])
        .args(packages)
        .status()
        .context("cannot run pip")?;
    if !status.success() {
        bail!("pip install {} failed ({status})", packages.join(" "));
    }
    Ok(())
}

/// Installs the packages that are missing (needs root, as CI is).
pub fn install() -> Result<()> {
    let missing: Vec<&str> = PACKAGES
        .iter()
        .filter(|(_, check)| !check.holds())
        .map(|(p, _)| *p)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("{:>12} {}", "Installing", missing.join(" "));
    // SAFETY: geteuid(2) has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!(
            "the integration tests need {}; install them (`sudo apt-get install {}`) or run as root",
            missing.join(", "),
            missing.join(" ")
        );
    }
    let run = |args: &[&str]| -> Result<()> {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .context("cannot run apt-get")?;
        if !status.success() {
            bail!("apt-get {} failed ({status})", args.join(" "));
        }
        Ok(())
    };
    run(&["update", "-q"])?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(&missing);
    run(&args)
}

/// Installs what is missing and runs the integration tests; returns (passed, failed).
pub fn run_tests() -> Result<(u64, u64)> {
    install()?;
    install_buildbot()?;
    install_resultsdb_api()?;
    install_fmf()?;
    install_tmt()?;
    install_ansible()?;
    install_greenwave()?;
    install_jsonschema()?;
    let (build, test) = plan();
    crate::util::step(&build.0, build.1)?;
    tests(test, "cargo test (integration, real services)")
}

/// The build and the test command: the tests run `taskotron` as a user does, so it
/// is built first, whatever was built before (a fresh clone, a release build).
fn plan() -> ((String, Command), Command) {
    let mut test = cargo();
    test.args(["test", "--no-fail-fast", "--package", "taskotron-tests"]);
    for t in TARGETS {
        test.args(["--test", t]);
    }
    test.args(["--", "--ignored"]).env("INSTA_UPDATE", "no");
    (crate::util::build_cli(false), test)
}

/// `cargo xtask integration`.
pub fn run() -> Result<()> {
    let (passed, failed) = run_tests()?;
    println!("integration: {passed} passed, {failed} failed");
    if failed > 0 {
        bail!("{failed} integration tests failed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::util::argv;

    #[test]
    fn the_binary_is_built_before_the_tests_that_run_it() {
        let ((name, build), test) = super::plan();
        assert_eq!(name, "cargo build -p taskotron-cli");
        assert_eq!(argv(&build), ["build", "-p", "taskotron-cli"]);
        // The same (debug) profile as the tests, which look beside themselves.
        assert!(!argv(&test).contains(&"--release".to_string()));
        assert_eq!(
            argv(&test)[..4],
            ["test", "--no-fail-fast", "--package", "taskotron-tests"]
        );
    }
}
