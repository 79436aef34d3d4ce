//! `taskotron-mock`: runs a mock service on loopback until killed, for trying a task
//! against it by hand and for the benchmarks.
//!
//! ```text
//! taskotron-mock resultsdb [FIXTURE.yaml]
//! taskotron-mock bodhi FIXTURE.yaml
//! taskotron-mock koji FIXTURE.yaml     # a task's fixture, as `run --mock` reads it
//! taskotron-mock all FIXTURE.yaml      # its Koji, Bodhi and dist-git
//! ```
//!
//! The first line on stdout is the service's URL. `koji` and `all` then print the
//! configuration they stand for, one `TASKOTRON_<KEY>=value` per line, so that the
//! original `runtask` or a third-party harness can be pointed at them.

use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let fixture = args.get(1).map(|p| {
        std::fs::read_to_string(p).unwrap_or_else(|e| fail(&format!("cannot read {p}: {e}")))
    });
    let server = match args.first().map(String::as_str) {
        Some("resultsdb") => {
            let f = fixture
                .map(|t| serde_norway::from_str(&t).unwrap_or_else(|e| fail(&e.to_string())))
                .unwrap_or_default();
            taskotron_mock::resultsdb::MockResultsDb::new(&f).serve()
        }
        Some("bodhi") => {
            let f = fixture
                .map(|t| serde_norway::from_str(&t).unwrap_or_else(|e| fail(&e.to_string())))
                .unwrap_or_default();
            taskotron_mock::bodhi::MockBodhi::new(&f).serve()
        }
        Some(which @ ("koji" | "all")) => {
            let path = args
                .get(1)
                .unwrap_or_else(|| fail(&format!("usage: taskotron-mock {which} FIXTURE.yaml")));
            serve_fixture(which, std::path::Path::new(path))
        }
        _ => fail("usage: taskotron-mock resultsdb|bodhi|koji|all [FIXTURE.yaml]"),
    };
    let server = server.unwrap_or_else(|e| fail(&format!("cannot listen: {e}")));
    println!("{}", server.url());
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}

/// Koji alone, or every service of a task's fixture, until killed.
fn serve_fixture(which: &str, path: &std::path::Path) -> ! {
    use taskotron_mock::services::{MockServices, ServicesFixture};
    let fixture = ServicesFixture::load(path).unwrap_or_else(|e| {
        // The rendered diagnostic starts with `error:` and points into the file.
        eprintln!("{}", e.diagnostic());
        std::process::exit(2)
    });
    let mut lines = Vec::new();
    // Kept alive until the process ends.
    let _running: Box<dyn std::any::Any> = if which == "koji" {
        let koji = taskotron_mock::koji::MockKoji::new(&fixture.koji)
            .unwrap_or_else(|e| fail(&e.to_string()));
        let server = koji
            .serve()
            .unwrap_or_else(|e| fail(&format!("cannot listen: {e}")));
        lines.push(server.url());
        lines.push(format!("TASKOTRON_KOJI_URL={}/kojihub", server.url()));
        lines.push(format!("TASKOTRON_KOJI_PKGS_URL={}", server.url()));
        Box::new((koji, server))
    } else {
        let mocks = MockServices::start(&fixture).unwrap_or_else(|e| fail(&e.to_string()));
        let s = mocks.services(Default::default());
        lines.push(s.koji_pkgs_url.clone());
        lines.push(format!("TASKOTRON_KOJI_URL={}", s.koji_url));
        lines.push(format!("TASKOTRON_KOJI_PKGS_URL={}", s.koji_pkgs_url));
        lines.push(format!("TASKOTRON_BODHI_API_URL={}", s.bodhi_url));
        lines.push(format!("TASKOTRON_DISTGIT_URL={}", s.distgit_url));
        if let Some(y) = &s.yumrepoinfo {
            lines.push(format!("TASKOTRON_YUMREPOINFO={}", y.display()));
        }
        Box::new(mocks)
    };
    let mut out = std::io::stdout().lock();
    for l in lines {
        let _ = writeln!(out, "{l}");
    }
    let _ = out.flush();
    drop(out);
    loop {
        std::thread::park();
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2);
}
