//! `taskotron-mock koji|all FIXTURE` as a harness starts it: the first line is the
//! service's URL, then the configuration it stands for, and the mock Koji answers
//! its hub's calls there (issue 24, item 11).

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

/// The lines the mock prints before it serves, and the process.
fn start(
    which: &str,
    fixture: &std::path::Path,
    lines: usize,
) -> (std::process::Child, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_taskotron-mock"))
        .arg(which)
        .arg(fixture)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut got = Vec::new();
    for _ in 0..lines {
        let mut l = String::new();
        out.read_line(&mut l).unwrap();
        got.push(l.trim_end().to_string());
    }
    (child, got)
}

/// A `getBuild` call to the hub at `url` (`http://127.0.0.1:PORT/kojihub`).
fn get_build(url: &str, nvr: &str) -> String {
    let rest = url.strip_prefix("http://").unwrap();
    let (addr, path) = rest.split_once('/').unwrap();
    let body = format!(
        "<?xml version=\"1.0\"?><methodCall><methodName>getBuild</methodName><params><param><value><string>{nvr}</string></value></param></params></methodCall>"
    );
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST /{path} HTTP/1.1\r\nHost: t\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer
}

fn fixture() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tasks/rpmlint/fixtures/koji.yaml")
}

#[test]
fn koji_alone_prints_its_url_and_its_configuration() {
    let (mut child, lines) = start("koji", &fixture(), 3);
    let url = &lines[0];
    assert!(url.starts_with("http://127.0.0.1:"), "{lines:?}");
    assert_eq!(lines[1], format!("TASKOTRON_KOJI_URL={url}/kojihub"));
    assert_eq!(lines[2], format!("TASKOTRON_KOJI_PKGS_URL={url}"));
    let answer = get_build(&format!("{url}/kojihub"), "htop-3.3.0-1.fc41");
    assert!(answer.contains("htop"), "{answer}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn all_prints_every_service_of_the_fixture() {
    let (mut child, lines) = start("all", &fixture(), 5);
    for key in [
        "TASKOTRON_KOJI_URL=",
        "TASKOTRON_KOJI_PKGS_URL=",
        "TASKOTRON_BODHI_API_URL=",
        "TASKOTRON_DISTGIT_URL=",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(key)),
            "no {key} in {lines:?}"
        );
    }
    let hub = lines
        .iter()
        .find_map(|l| l.strip_prefix("TASKOTRON_KOJI_URL="))
        .unwrap()
        .to_string();
    assert!(get_build(&hub, "badpkg-1.0-1.fc41").contains("badpkg"));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_fixture_that_cannot_be_read_is_exit_2() {
    let o = Command::new(env!("CARGO_BIN_EXE_taskotron-mock"))
        .args(["koji", "/nonexistent/koji.yaml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/koji.yaml"));
}
