//! Exit codes: the contract scripts and CI rely on. Besides these, `taskotron run`
//! of an OK run exits with what an `exitcode` action asked for: 100 when results
//! are not PASSED or INFO.

/// The run happened and the task executed (`execution_status: OK`); for `validate`,
/// every formula is valid.
pub const OK: i32 = 0;
/// The run happened but the task did not execute properly (`NOT_OK`).
pub const NOT_OK: i32 = 1;
/// Invalid input (arguments, configuration, formula): nothing ran.
pub const INVALID_INPUT: i32 = 2;
/// `tap check`: the stream is valid but has failing tests or results.
pub const FAILURES: i32 = 1;
/// `run`: an `exitcode` action asked for it, or `--fail-on-results` found a result
/// that is FAILED or NEEDS_INSPECTION; `test`: a case failed.
pub const RESULTS_FAILED: i32 = 100;
/// `test`: no test case was found (an empty `tests.yaml`, or a filter that matches
/// nothing).
pub const NO_TESTS: i32 = 4;

/// The exit code of a run: NOT_OK is 1; an OK run exits with what an `exitcode`
/// action asked for, or 100 with `fail_on_results` when a result needs attention.
pub fn of_run(report: &taskotron_core::ExecutionReport, fail_on_results: bool) -> i32 {
    if !report.is_ok() {
        // A playbook that does not parse: nothing of the task ran, as for a
        // formula that does not load.
        let invalid = taskotron_core::ansible::PLAYBOOK_INVALID.name;
        if report.failure.as_ref().is_some_and(|f| f.kind == invalid) {
            return INVALID_INPUT;
        }
        return NOT_OK;
    }
    let asked = report.exit_code.unwrap_or(OK);
    let failing = fail_on_results && taskotron_core::runner::results_need_attention(report);
    if failing {
        asked.max(RESULTS_FAILED)
    } else {
        asked
    }
}
