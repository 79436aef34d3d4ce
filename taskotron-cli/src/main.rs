//! The `taskotron` binary: parses arguments, loads configuration, calls the library
//! and renders its results. No domain logic lives here.

mod cli;
mod commands;
mod exit;
mod mocks;
mod output;

use clap::Parser;
use taskotron_core::process;

fn main() {
    let args = cli::Cli::parse();
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
        Command::Trigger(_) | Command::Report(_) => process::install_interrupt_handler(),
        _ => {}
    }
}
