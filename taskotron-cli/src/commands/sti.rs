//! `taskotron sti convert`: STI suites to tmt metadata
//! (`taskotron_core::sti::convert`).

use serde_json::json;
use taskotron_core::sti::convert;

use super::print_json;
use crate::cli::{Format, StiConvertArgs};
use crate::error::{ExpectedError, Outcome};
use crate::exit;
use crate::output::{Shell, Tone};

/// Converts, then writes (or, with `--dry-run`, shows) the files.
pub fn convert(shell: &Shell, args: &StiConvertArgs) -> Outcome {
    let (root, suites) = convert::suites_of(&args.dir).map_err(ExpectedError::InvalidInput)?;
    let tests = root.join("tests");
    let conversion = convert::convert(&suites, &|d| tests.join(d).is_dir())
        .map_err(ExpectedError::InvalidInput)?;
    if !args.dry_run {
        convert::write(&root, &conversion, args.force).map_err(ExpectedError::InvalidInput)?;
    }
    match args.format {
        Format::Json => print_json(&json!({
            "root": root,
            "written": !args.dry_run,
            "files": conversion.files.iter().map(|(p, t)| json!({"path": p, "text": t})).collect::<Vec<_>>(),
            "notes": conversion.notes,
        })),
        Format::Human => {
            for (p, text) in &conversion.files {
                if args.dry_run {
                    outln!("==> {} <==\n{text}", p.display());
                } else {
                    shell.status("Wrote", &root.join(p).display().to_string(), Tone::Good);
                }
            }
            for n in &conversion.notes {
                shell.status("Note", n, Tone::Warn);
            }
        }
    }
    Ok(exit::OK)
}
