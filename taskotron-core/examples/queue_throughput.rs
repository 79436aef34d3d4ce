//! The embedded queue's own overhead, for `cargo xtask bench schedule`: JOBS no-op
//! jobs enqueued (one transaction each, as the trigger hands them over), then claimed
//! and finished by WORKERS threads with their own connections, as workers do. The
//! task is left out: only queue and claim time is measured. Prints one JSON object.
//!
//! Usage: queue_throughput DIR JOBS WORKERS

use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use taskotron_core::dict::ExecutionReport;
use taskotron_core::scheduler::{JobState, Queue};
use taskotron_core::{Arch, ItemType, JobRequest};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, jobs, workers] = args.as_slice() else {
        eprintln!("usage: queue_throughput DIR JOBS WORKERS");
        std::process::exit(2);
    };
    let (jobs, workers): (usize, usize) =
        (jobs.parse().unwrap_or(1000), workers.parse().unwrap_or(2));
    let path = PathBuf::from(dir).join("queue.sqlite");
    let _ = std::fs::remove_file(&path);
    let mut queue = Queue::open(&path).expect("queue");
    let report: ExecutionReport = serde_json::from_str(
        r#"{"execution_status": "OK", "status": null, "build_id": null, "run_id": "r", "item": "noop-1-1.fc41",
            "item_type": "koji_build", "arch": "x86_64", "checkname": "dist.noop", "artifacts": "/tmp",
            "started_at": "2026-01-01T00:00:00Z", "duration_ms": 0, "actions": [], "outcome": "PASSED",
            "results": [], "exit_code": null}"#,
    )
    .expect("report");
    let start = Instant::now();
    for n in 0..jobs {
        let request = JobRequest {
            item: format!("noop{n}-1-1.fc41"),
            item_type: ItemType::KojiBuild,
            taskname: "noop".into(),
            arch: Arch::X86_64,
            source: None,
            plan: None,
        };
        queue
            .enqueue(&[request], SystemTime::now())
            .expect("enqueue");
    }
    let enqueued = start.elapsed();
    let start = Instant::now();
    std::thread::scope(|scope| {
        for w in 0..workers {
            let (path, report) = (&path, &report);
            scope.spawn(move || {
                let mut q = Queue::open(path).expect("queue");
                let name = format!("w{w}");
                while let Some(job) = q
                    .claim(
                        &name,
                        &[Arch::X86_64],
                        std::time::Duration::from_secs(60),
                        3,
                        SystemTime::now(),
                    )
                    .expect("claim")
                {
                    assert!(q
                        .finish(&job.build_id, &name, report, SystemTime::now())
                        .expect("finish"));
                }
            });
        }
    });
    let ran = start.elapsed();
    let finished = queue.list(Some(JobState::Finished)).expect("list").len();
    println!(
        "{{\"jobs\": {jobs}, \"workers\": {workers}, \"finished\": {finished}, \"enqueue_seconds\": {}, \"claim_finish_seconds\": {}}}",
        enqueued.as_secs_f64(),
        ran.as_secs_f64()
    );
}
