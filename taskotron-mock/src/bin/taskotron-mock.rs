//! `taskotron-mock`: runs a mock service on loopback until killed, for trying a task
//! against it by hand and for the benchmarks.
//!
//! ```text
//! taskotron-mock resultsdb [FIXTURE.yaml]
//! taskotron-mock bodhi FIXTURE.yaml
//! ```
//!
//! The first line on stdout is the service's URL.

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
        _ => fail("usage: taskotron-mock resultsdb|bodhi [FIXTURE.yaml]"),
    };
    let server = server.unwrap_or_else(|e| fail(&format!("cannot listen: {e}")));
    println!("{}", server.url());
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2);
}
