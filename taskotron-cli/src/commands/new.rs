//! `taskotron new`.

use crate::cli::NewArgs;
use crate::error::{ExpectedError, Outcome};
use crate::exit;
use crate::output::{Shell, Tone};

/// Scaffolds a task directory.
pub fn run(shell: &Shell, args: &NewArgs) -> Outcome {
    let dir = args.dir.clone().unwrap_or_else(|| args.name.clone().into());
    match taskotron_core::scaffold::create(&dir, &args.name) {
        Ok(files) => {
            shell.status(
                "Created",
                &format!("task `{}` in {}", args.name, dir.display()),
                Tone::Good,
            );
            for f in files {
                outln!("{}", f.display());
            }
            Ok(exit::OK)
        }
        Err(d) => Err(ExpectedError::invalid(*d)),
    }
}
