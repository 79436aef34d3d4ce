//! The pages people read, for fixed data: insta snapshots of their HTML.

use taskotron_core::scheduler::{CrashCause, JobEvent, JobOrigin, JobState, QueuedJob};
use taskotron_core::{Arch, ExecutionReport, ItemType, JobRequest};
use taskotron_web::params::ListQuery;

fn job(state: JobState, n: u32) -> QueuedJob {
    let report: Option<ExecutionReport> = (state == JobState::Finished).then(|| {
        serde_json::from_value(serde_json::json!({
            "execution_status": "OK", "status": null, "build_id": format!("job-{n}"), "run_id": format!("run-{n}"),
            "item": "htop-3.3.0-1.fc41", "item_type": "koji_build", "arch": "x86_64",
            "checkname": "dist.rpmlint", "artifacts": format!("/srv/artifacts/run-{n}"),
            "started_at": "2026-01-01T00:00:01Z", "duration_ms": 12_345, "actions": [], "outcome": "FAILED",
            "results": [
                {"item": "htop-3.3.0-1.fc41", "type": "koji_build", "outcome": "FAILED", "note": "2 errors", "checkname": "dist.rpmlint", "artifact": "rpmlint.log"},
                {"item": "htop-3.3.0-1.fc41", "type": "koji_build", "outcome": "PASSED", "note": "", "checkname": "dist.rpmlint.spec"}
            ],
            "exit_code": null, "task_commit": "89ab01c"
        }))
        .unwrap()
    });
    QueuedJob {
        build_id: format!("job-{n}"),
        request: JobRequest {
            item: "htop-3.3.0-1.fc41".into(),
            item_type: ItemType::KojiBuild,
            taskname: "rpmlint".into(),
            arch: Arch::X86_64,
            source: None,
            plan: None,
        },
        state,
        attempts: if state == JobState::Scheduled { 0 } else { 1 },
        worker: (state != JobState::Scheduled).then(|| "worker-1".into()),
        scheduled_at: "2026-01-01T00:00:00.000Z".into(),
        updated_at: "2026-01-01T00:00:14.000Z".into(),
        report,
        crash: (state == JobState::Crashed).then(|| {
            (
                CrashCause::Infrastructure,
                "its worker stopped renewing the lease 3 times".into(),
            )
        }),
        origin: Some(JobOrigin {
            message_id: Some("2026-abc".into()),
            topic: "org.fedoraproject.prod.buildsys.build.state.change".into(),
        }),
        run_id: (state != JobState::Scheduled).then(|| format!("run-{n}")),
    }
}

/// One element a line, so a change shows as a small diff.
fn lines(html: String) -> String {
    let start = html.find("</head>").unwrap_or(0);
    html[start..].replace("><", ">\n<")
}

#[test]
fn the_job_list() {
    let jobs = [
        job(JobState::Running, 3),
        job(JobState::Crashed, 2),
        job(JobState::Finished, 1),
    ];
    let q = ListQuery::parse(Some("task=rpmlint&page=2&limit=3")).unwrap();
    insta::assert_snapshot!(lines(
        taskotron_web::pages::list_page(&q, &jobs, true).into_string()
    ));
}

#[test]
fn a_finished_job() {
    let history = vec![
        JobEvent {
            at: "2026-01-01T00:00:00.000Z".into(),
            event: "SCHEDULED".into(),
            worker: None,
            attempt: None,
            lease_until: None,
            detail: Some(
                "from message 2026-abc (org.fedoraproject.prod.buildsys.build.state.change)".into(),
            ),
        },
        JobEvent {
            at: "2026-01-01T00:00:01.000Z".into(),
            event: "CLAIMED".into(),
            worker: Some("worker-1".into()),
            attempt: Some(1),
            lease_until: Some("2026-01-01T00:10:01.000Z".into()),
            detail: None,
        },
        JobEvent {
            at: "2026-01-01T00:00:14.000Z".into(),
            event: "FINISHED".into(),
            worker: Some("worker-1".into()),
            attempt: None,
            lease_until: None,
            detail: Some("OK".into()),
        },
    ];
    let files = vec![
        "actions/".to_string(),
        "report.html".to_string(),
        "taskotron.log".to_string(),
    ];
    insta::assert_snapshot!(lines(
        taskotron_web::pages::job_page(&job(JobState::Finished, 1), &history, &files, None)
            .into_string()
    ));
}

#[test]
fn a_crashed_job() {
    insta::assert_snapshot!(lines(
        taskotron_web::pages::job_page(&job(JobState::Crashed, 2), &[], &[], None).into_string()
    ));
}

/// A running job shows its run and the log so far (escaped), with the few lines of
/// script that follow it.
#[test]
fn a_running_job() {
    let log = taskotron_web::live::LogTail {
        text: "2026-01-01T00:00:02.000Z run run-3: dist.rpmlint\n2026-01-01T00:00:03.000Z action 1 <b>not markup</b>\n".into(),
        offset: 4242,
    };
    insta::assert_snapshot!(lines(
        taskotron_web::pages::job_page(
            &job(JobState::Running, 3),
            &[],
            &["taskotron.log".into()],
            Some(&log)
        )
        .into_string()
    ));
}

/// A job of a build's dist-git tests names its plan and the commit it runs.
#[test]
fn a_dist_git_plan_job() {
    let mut j = job(JobState::Scheduled, 4);
    j.request.taskname = "dist-git:htop".into();
    j.request.plan = Some("/plans/smoke".into());
    j.request.source = Some(taskotron_core::dict::TaskSource {
        repo: "https://src.fedoraproject.org/rpms/htop.git".into(),
        git_ref: Some("0123abc".into()),
    });
    insta::assert_snapshot!(lines(
        taskotron_web::pages::job_page(&j, &[], &[], None).into_string()
    ));
}
