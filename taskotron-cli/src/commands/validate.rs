//! `taskotron validate`.

use serde_json::json;
use taskotron_core::formula::Defined;
use taskotron_core::Diagnostic;

use super::print_json;
use crate::cli::{Format, ValidateArgs};
use crate::error::Outcome;
use crate::exit;
use crate::output::{Shell, Tone};

/// Checks every formula given and reports every problem.
pub fn run(shell: &Shell, args: &ValidateArgs) -> Outcome {
    let mut defined = Defined::for_validation();
    defined
        .names
        .extend(args.overrides.iter().map(|(k, _)| k.clone()));
    let mut results = Vec::new();
    let mut invalid = 0;
    for task in &args.tasks {
        let diagnostics: Vec<Diagnostic> = match taskotron_core::load_task_checked(task, &defined) {
            Ok(loaded) => loaded.warnings,
            Err(diagnostics) => diagnostics,
        };
        let valid = !diagnostics.iter().any(Diagnostic::is_error);
        if !valid {
            invalid += 1;
        }
        shell.diagnostics(&diagnostics);
        results.push(json!({"task": task, "valid": valid, "diagnostics": diagnostics}));
    }
    let total = args.tasks.len();
    let summary = format!(
        "{total} formula{}: {} valid, {invalid} invalid",
        if total == 1 { "" } else { "s" },
        total - invalid
    );
    shell.status(
        "Validated",
        &summary,
        if invalid == 0 { Tone::Good } else { Tone::Bad },
    );
    if args.format == Format::Json {
        print_json(&json!({"valid": invalid == 0, "tasks": results}));
    }
    // Invalid formulas are what this command reports, not what stopped it.
    Ok(if invalid == 0 {
        exit::OK
    } else {
        exit::INVALID_INPUT
    })
}
