//! `taskotron tests ls|show|export` and `taskotron plans ls|show|export`: tmt's
//! listings over an fmf tree, read by `taskotron-fmf` (no Python, no process).

use serde_json::Value;
use taskotron_core::Diagnostic;
use taskotron_fmf::tmt::{self, Record, Selection};
use taskotron_fmf::Context;

use crate::cli::{FmfArgs, FmfCommand, FmfFormat, Format};
use crate::error::{ExpectedError, Outcome};
use crate::exit;
use crate::output::Shell;

/// Tests or plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Nodes with `test`.
    Tests,
    /// Nodes with `execute`.
    Plans,
}

/// The format errors are reported in: JSON when the output is JSON.
pub fn error_format(command: &FmfCommand) -> Format {
    match args(command).format {
        Some(FmfFormat::Json) => Format::Json,
        _ => Format::Human,
    }
}

fn args(command: &FmfCommand) -> &FmfArgs {
    match command {
        FmfCommand::Ls(a) | FmfCommand::Show(a) | FmfCommand::Export(a) => a,
    }
}

/// The context `-c` gives.
///
/// # Errors
/// A setting that is no `dim=value`, or a dimension one letter or two from a
/// known one (`dsitro`).
pub fn context(settings: &[String]) -> Result<Context, ExpectedError> {
    let mut ctx = Context::new();
    for s in settings {
        ctx.set_pair(s)
            .map_err(|e| ExpectedError::invalid(Diagnostic::error(e)))?;
    }
    let problems = taskotron_fmf::context::check_dimensions(&ctx);
    if problems.is_empty() {
        Ok(ctx)
    } else {
        Err(ExpectedError::InvalidInput(problems))
    }
}

/// Runs a `tests` or `plans` subcommand.
pub fn run(shell: &Shell, kind: Kind, command: &FmfCommand) -> Outcome {
    let a = args(command);
    let ctx = context(&a.context)?;
    let tree = tmt::load(&a.root, &ctx).map_err(ExpectedError::InvalidInput)?;
    let all = match kind {
        Kind::Tests => tmt::tests(&tree),
        Kind::Plans => tmt::plans(&tree, &ctx),
    };
    let selection = Selection {
        names: a.names.clone(),
        filters: a.filter.clone(),
        conditions: a.condition.clone(),
        links: a.link.clone(),
        excludes: a.exclude.clone(),
    };
    let mut kept: Vec<Record> = Vec::new();
    for r in all {
        if selection
            .keeps(&tree, &r)
            .map_err(|e| ExpectedError::invalid(Diagnostic::error(e)))?
        {
            kept.push(r);
        }
    }
    let _ = shell;
    match (command, a.format) {
        (FmfCommand::Ls(_), None | Some(FmfFormat::Human)) => {
            for r in &kept {
                outln!("{}", r.name());
            }
        }
        (FmfCommand::Ls(_), Some(f)) => {
            let names: Vec<Value> = kept.iter().map(|r| Value::from(r.name())).collect();
            print(f, &Value::Array(names), &kept, true)?;
        }
        (FmfCommand::Show(_), None | Some(FmfFormat::Human)) => {
            for (i, r) in kept.iter().enumerate() {
                if i > 0 {
                    outln!();
                }
                show(r);
            }
        }
        (FmfCommand::Show(_), Some(f)) | (FmfCommand::Export(_), Some(f)) => {
            print(f, &Value::Null, &kept, false)?;
        }
        (FmfCommand::Export(_), None) => print(FmfFormat::Yaml, &Value::Null, &kept, false)?,
    }
    Ok(exit::OK)
}

fn print(
    format: FmfFormat,
    names: &Value,
    kept: &[Record],
    names_only: bool,
) -> Result<(), ExpectedError> {
    match format {
        FmfFormat::Json | FmfFormat::Human if names_only => outln!("{names}"),
        FmfFormat::Json | FmfFormat::Human => {
            // Fields in tmt's order, as `tmt ... export --how json` prints them.
            let text = serde_json::to_string(kept).map_err(|e| {
                ExpectedError::failed(Diagnostic::error(format!("cannot write JSON: {e}")))
            })?;
            outln!("{text}");
        }
        FmfFormat::Yaml => {
            // Keys sorted, as tmt's YAML has them.
            let value = if names_only {
                names.clone()
            } else {
                Value::Array(kept.iter().map(|r| Value::Object(r.to_map())).collect())
            };
            let text = serde_norway::to_string(&value).map_err(|e| {
                ExpectedError::failed(Diagnostic::error(format!("cannot write YAML: {e}")))
            })?;
            out!("{text}");
        }
    }
    Ok(())
}

/// A record for people: its name, then each field that says something.
fn show(r: &Record) {
    outln!("{}", r.name());
    for (k, v) in &r.0 {
        let text = match v {
            Value::Null => continue,
            Value::Array(a) if a.is_empty() => continue,
            Value::Object(o) if o.is_empty() => continue,
            Value::String(s) => s.clone(),
            Value::Array(a) => a
                .iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        };
        if k == "name" || k == "sources" {
            continue;
        }
        outln!("{k:>20} {text}");
    }
}
