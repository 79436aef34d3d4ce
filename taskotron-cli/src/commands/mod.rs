//! One module per subcommand; each returns the process exit code.

mod buildbot;
mod config;
mod directives;
mod new;
mod queue;
mod report;
mod run;
mod run_job;
mod serve;
mod tap;
mod test;
mod trigger;
mod validate;

use std::io::Write;

use clap::CommandFactory;
use taskotron_core::config::Config;
use taskotron_core::Diagnostic;

use crate::cli::{Cli, Command, Format};
use crate::exit;
use crate::output::Shell;

/// Runs the parsed command line.
pub fn dispatch(cli: Cli) -> i32 {
    let shell = Shell::new(cli.color, cli.quiet, cli.verbose);
    match cli.command {
        Command::Completions { shell: target } => {
            clap_complete::generate(
                target,
                &mut Cli::command(),
                "taskotron",
                &mut std::io::stdout(),
            );
            exit::OK
        }
        Command::Man { out } => {
            let written = match &out {
                None => clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()),
                Some(dir) => write_man_pages(dir),
            };
            match written {
                Ok(()) => exit::OK,
                Err(e) => {
                    shell.diagnostics(&[Diagnostic::error(format!(
                        "cannot write the man page: {e}"
                    ))]);
                    exit::NOT_OK
                }
            }
        }
        Command::New(args) => new::run(&shell, &args),
        Command::Tap(command) => tap::run(&shell, &command),
        Command::Directives(args) => directives::run(args.format),
        Command::Validate(args) => validate::run(&shell, &args),
        Command::Config(args) => match load_config(&shell, cli.config.as_deref(), args.format) {
            Some(loaded) => config::run(&loaded, args.format),
            None => exit::INVALID_INPUT,
        },
        Command::Schedule(args) => match load_config(&shell, cli.config.as_deref(), args.format) {
            Some(loaded) => queue::schedule(&shell, &loaded.config, &args),
            None => exit::INVALID_INPUT,
        },
        Command::Worker(args) => match load_config(&shell, cli.config.as_deref(), args.format) {
            Some(loaded) => queue::worker(&shell, &loaded.config, loaded.file.as_deref(), &args),
            None => exit::INVALID_INPUT,
        },
        Command::Serve(args) => match load_config(&shell, cli.config.as_deref(), args.format) {
            Some(loaded) => serve::run(&shell, &loaded.config, loaded.file.as_deref(), &args),
            None => exit::INVALID_INPUT,
        },
        Command::Mirror(args) => match load_config(&shell, cli.config.as_deref(), args.format) {
            Some(loaded) => queue::mirror(&shell, &loaded.config, &args),
            None => exit::INVALID_INPUT,
        },
        Command::Buildbot(command) => {
            let format = match &command {
                crate::cli::BuildbotCommand::Submit { format, .. } => *format,
                crate::cli::BuildbotCommand::MasterCfg { .. } => crate::cli::Format::Human,
            };
            match load_config(&shell, cli.config.as_deref(), format) {
                Some(loaded) => buildbot::run(&shell, &loaded.config, &command),
                None => exit::INVALID_INPUT,
            }
        }
        Command::Gc(args) => match load_config(&shell, cli.config.as_deref(), args.format) {
            Some(loaded) => queue::gc(&shell, &loaded.config, &args),
            None => exit::INVALID_INPUT,
        },
        Command::Jobs(args) => match load_config(&shell, cli.config.as_deref(), args.format) {
            Some(loaded) => queue::jobs(&shell, &loaded.config, &args),
            None => exit::INVALID_INPUT,
        },
        Command::Trigger(args) => match load_config(&shell, cli.config.as_deref(), args.format) {
            Some(loaded) => trigger::run(&shell, &loaded.config, &args),
            None => exit::INVALID_INPUT,
        },
        Command::Report(args) => match load_config(&shell, cli.config.as_deref(), args.format) {
            Some(loaded) => report::run(&shell, &loaded.config, &args),
            None => exit::INVALID_INPUT,
        },
        Command::Test(args) => {
            match load_config(&shell, cli.config.as_deref(), args.format.document()) {
                Some(loaded) => test::run(&shell, &loaded.config, &args),
                None => exit::INVALID_INPUT,
            }
        }
        Command::Run(args) => {
            match load_config(&shell, cli.config.as_deref(), args.format.document()) {
                Some(loaded) => run::run(&shell, &loaded.config, &args),
                None => exit::INVALID_INPUT,
            }
        }
        Command::RunJob { file } => match load_config(&shell, cli.config.as_deref(), Format::Human)
        {
            Some(loaded) => run_job::run(&shell, &loaded.config, &file),
            None => exit::INVALID_INPUT,
        },
        Command::Runtask(args) => match load_config(&shell, cli.config.as_deref(), Format::Human) {
            Some(loaded) => run::run(&shell, &loaded.config, &args.into_run()),
            None => exit::INVALID_INPUT,
        },
    }
}

fn load_config(
    shell: &Shell,
    explicit: Option<&std::path::Path>,
    format: Format,
) -> Option<taskotron_core::config::Loaded> {
    match Config::load(explicit, &|k| std::env::var(k).ok()) {
        Ok(loaded) => {
            // A misspelled TASKOTRON_* variable is said, like a misspelled key.
            let names: Vec<String> = std::env::vars_os()
                .filter_map(|(k, _)| k.into_string().ok())
                .collect();
            shell.diagnostics(&taskotron_core::config::keys::unknown_variables(
                names.iter().map(String::as_str),
            ));
            Some(loaded)
        }
        Err(e) => {
            report_invalid(shell, format, &[e.diagnostic()]);
            None
        }
    }
}

/// Reports diagnostics that stop a command: on stderr for people, and for
/// `--format json` also as `{"error": ..., "diagnostics": [...]}` on stdout.
pub fn report_invalid(shell: &Shell, format: Format, diagnostics: &[Diagnostic]) {
    shell.diagnostics(diagnostics);
    if format == Format::Json {
        let doc = serde_json::json!({"error": "invalid input", "diagnostics": diagnostics});
        print_json(&doc);
    }
}

/// Prints one JSON document on a line of stdout.
pub fn print_json(value: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}");
}

/// `taskotron.1`, and `taskotron-<command>.1` for each visible command (nested
/// ones as `taskotron-tap-check.1`), all from the one CLI definition.
fn write_man_pages(dir: &std::path::Path) -> std::io::Result<()> {
    fn write(cmd: clap::Command, name: &str, dir: &std::path::Path) -> std::io::Result<()> {
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd.clone())
            .title(name.to_string())
            .render(&mut page)?;
        std::fs::write(dir.join(format!("{name}.1")), page)?;
        for sub in cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        {
            write(sub.clone(), &format!("{name}-{}", sub.get_name()), dir)?;
        }
        Ok(())
    }
    std::fs::create_dir_all(dir)?;
    let mut root = Cli::command();
    root.build();
    write(root, "taskotron", dir)
}
