//! `taskotron new`.

use crate::cli::NewArgs;
use crate::exit;
use crate::output::{Shell, Tone};

/// Scaffolds a task directory.
pub fn run(shell: &Shell, args: &NewArgs) -> i32 {
    let dir = args.dir.clone().unwrap_or_else(|| args.name.clone().into());
    match taskotron_core::scaffold::create(&dir, &args.name) {
        Ok(files) => {
            shell.status(
                "Created",
                &format!("task `{}` in {}", args.name, dir.display()),
                Tone::Good,
            );
            for f in files {
                println!("{}", f.display());
            }
            exit::OK
        }
        Err(d) => {
            shell.diagnostics(&[*d]);
            exit::INVALID_INPUT
        }
    }
}
