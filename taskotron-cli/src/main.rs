//! The `taskotron` binary: parses arguments, loads configuration, calls the library
//! and renders its results. No domain logic lives here.

/// `println!` that never panics: a closed stdout (`taskotron directives | head`)
/// ends the output, not the process with a panic.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `print!` that never panics (see `outln!`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

/// `eprintln!` that never panics on a closed stderr.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod cli;
mod commands;
mod error;
mod exit;
mod mocks;
mod output;
mod wiring;

use clap::Parser;
use taskotron_core::process;
use taskotron_core::Diagnostic;

fn main() {
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(e) => usage_error(e),
    };
    signals(&args.command);
    let code = commands::dispatch(args);
    std::process::exit(code);
}

/// How each command meets SIGINT, SIGTERM and SIGHUP. Commands that run tasks stop
/// them, write what they owe and end (a runner within `process::GRACE` whatever it
/// is doing); commands that read or send stop between two items, losing none;
/// every other command ends at once, the default way, which loses nothing either
/// (the queue's writes are transactions).
fn signals(command: &cli::Command) {
    use cli::Command;
    match command {
        Command::Run(_) | Command::Runtask(_) | Command::RunJob { .. } | Command::Test(_) => {
            process::install_interrupt_handler();
            process::exit_within_after_interrupt(process::GRACE);
            process::become_subreaper();
        }
        Command::Worker(_) | Command::Serve(_) => {
            process::install_interrupt_handler();
            process::become_subreaper();
        }
        Command::Trigger(_) | Command::Report(_) | Command::Web(_) => {
            process::install_interrupt_handler()
        }
        _ => {}
    }
}

/// A command line clap refuses: its message on stderr as clap prints it and, when
/// the command line asks for JSON output, the error document on stdout as every
/// command gives it, so a program reading stdout is never left with nothing.
fn usage_error(mut e: clap::Error) -> ! {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    // clap's own suggestion misses a transposition (`rnu`); ours does not.
    if e.kind() == ErrorKind::InvalidSubcommand && e.get(ContextKind::SuggestedSubcommand).is_none()
    {
        if let Some(ContextValue::String(given)) = e.get(ContextKind::InvalidSubcommand) {
            let cmd = <cli::Cli as clap::CommandFactory>::command();
            let names: Vec<String> = cmd
                .get_subcommands()
                .filter(|c| !c.is_hide_set())
                .map(|c| c.get_name().to_string())
                .collect();
            let near =
                taskotron_core::suggest::did_you_mean(given, names.iter().map(String::as_str))
                    .map(str::to_string);
            if let Some(near) = near {
                e.insert(
                    ContextKind::SuggestedSubcommand,
                    ContextValue::Strings(vec![near]),
                );
            }
        }
    }
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit();
    }
    let argv: Vec<String> = std::env::args().collect();
    let json = argv
        .windows(2)
        .any(|w| w[0] == "--format" && matches!(w[1].as_str(), "json" | "jsonl"))
        || argv
            .iter()
            .any(|a| matches!(a.as_str(), "--format=json" | "--format=jsonl"));
    if json {
        let message = e.to_string();
        let first = message
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches("error: ")
            .to_string();
        let doc = serde_json::json!({
            "error": "invalid input",
            "diagnostics": [Diagnostic::error(first)],
        });
        outln!("{doc}");
    }
    let _ = e.print();
    std::process::exit(exit::INVALID_INPUT);
}
