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
