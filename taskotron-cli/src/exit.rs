//! Exit codes: the contract scripts and CI rely on.

/// The run happened and the task executed (`execution_status: OK`); for `validate`,
/// every formula is valid.
pub const OK: i32 = 0;
/// The run happened but the task did not execute properly (`NOT_OK`).
pub const NOT_OK: i32 = 1;
/// Invalid input (arguments, configuration, formula): nothing ran.
pub const INVALID_INPUT: i32 = 2;
