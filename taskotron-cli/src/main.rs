//! The `taskotron` binary: parses arguments, loads configuration, calls the library
//! and renders its results. No domain logic lives here.

mod cli;
mod commands;
mod exit;
mod output;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    taskotron_core::process::install_interrupt_handler();
    let code = commands::dispatch(args);
    std::process::exit(code);
}
