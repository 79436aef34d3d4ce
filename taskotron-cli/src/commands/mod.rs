//! One module per subcommand; each returns its exit code or the [`ExpectedError`]
//! that stopped it, which `dispatch` reports and maps to an exit code, in one place.

mod buildbot;
mod call;
mod ci_messages;
mod config;
mod decide;
mod directives;
mod fmf;
mod gc;
mod history;
mod jobs;
mod mirror;
mod new;
mod queue;
mod report;
mod run;
mod run_job;
mod schedule;
mod serve;
mod sti;
mod tap;
mod test;
mod trigger;
mod validate;
mod web;
mod worker;

use std::io::Write;

use clap::CommandFactory;
use taskotron_core::config::Config;
use taskotron_core::Diagnostic;

use crate::cli::{Cli, Command, Format};
use crate::error::{ExpectedError, Outcome};
use crate::exit;
use crate::output::Shell;

/// Runs the parsed command line: the commands that read the configuration get it
/// loaded once, here.
pub fn dispatch(cli: Cli) -> i32 {
    let shell = Shell::new(cli.color, cli.quiet, cli.verbose);
    let format = error_format(&cli.command);
    let outcome = if reads_config(&cli.command) {
        load_config(&shell, cli.config.as_deref())
            .and_then(|loaded| with_config(&shell, &loaded, cli.command))
    } else {
        without_config(&shell, cli.command)
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            e.report(&shell, format);
            e.exit_code()
        }
    }
}

/// Whether a command reads the configuration.
fn reads_config(command: &Command) -> bool {
    !matches!(
        command,
        Command::Completions { .. }
            | Command::Man { .. }
            | Command::New(_)
            | Command::Tap(_)
            | Command::Tests(_)
            | Command::Plans(_)
            | Command::Sti(_)
            | Command::Directives(_)
            | Command::Validate(_)
    )
}

/// The format a command reports its errors in: JSON on stdout (besides stderr)
/// when its output is JSON or JSON lines.
fn error_format(command: &Command) -> Format {
    use crate::cli::{BuildbotCommand, TapCommand, TapFormat};
    match command {
        Command::Completions { .. } | Command::Man { .. } | Command::New(_) => Format::Human,
        Command::Tap(TapCommand::Parse(a)) => match a.format {
            TapFormat::Json | TapFormat::Jsonl => Format::Json,
            _ => Format::Human,
        },
        Command::Tap(TapCommand::Check(a)) => a.format,
        Command::Tests(c) | Command::Plans(c) => fmf::error_format(c),
        Command::Sti(crate::cli::StiCommand::Convert(a)) => a.format,
        Command::Directives(a) => a.format,
        Command::Call(_) => Format::Json,
        Command::Validate(a) => a.format,
        Command::Config(a) => a.format,
        Command::Schedule(a) => a.format,
        Command::Worker(a) => a.format.into(),
        Command::Serve(a) => a.format.into(),
        Command::Web(a) => a.format,
        Command::Mirror(a) => a.format,
        Command::Gc(a) => a.format,
        Command::History(a) => a.format,
        Command::Flaky(a) => a.format,
        Command::Compare(a) => a.format,
        Command::Decide(a) => a.format,
        Command::CiMessages(a) => a.format.into(),
        Command::Waive(a) => a.format,
        Command::Jobs(a) => a.format,
        Command::Trigger(a) => a.format.into(),
        Command::Report(a) => a.format,
        Command::Buildbot(BuildbotCommand::Submit { format, .. }) => *format,
        Command::Buildbot(BuildbotCommand::MasterCfg { .. }) => Format::Human,
        Command::Test(a) => a.format.document(),
        Command::Run(a) => a.format.document(),
        Command::RunJob { .. } | Command::Runtask(_) => Format::Human,
    }
}

/// The commands that read the configuration.
fn with_config(
    shell: &Shell,
    loaded: &taskotron_core::config::Loaded,
    command: Command,
) -> Outcome {
    let config = &loaded.config;
    let file = loaded.file.as_deref();
    match command {
        Command::Config(args) => config::run(loaded, args.format),
        Command::Call(args) => call::run(config, &args),
        Command::Schedule(args) => schedule::run(shell, config, &args),
        Command::Worker(args) => worker::run(shell, config, file, &args),
        Command::Serve(args) => serve::run(shell, config, file, &args),
        Command::Web(args) => web::run(shell, config, &args),
        Command::Mirror(args) => mirror::run(shell, config, &args),
        Command::Buildbot(command) => buildbot::run(shell, config, &command),
        Command::Gc(args) => gc::run(shell, config, &args),
        Command::History(args) => history::history(config, &args),
        Command::Flaky(args) => history::flaky(config, &args),
        Command::Compare(args) => history::compare(config, &args),
        Command::Decide(args) => decide::decide(config, &args),
        Command::CiMessages(args) => ci_messages::run(shell, config, &args),
        Command::Waive(args) => decide::waive(config, &args),
        Command::Jobs(args) => jobs::run(shell, config, &args),
        Command::Trigger(args) => trigger::run(shell, config, &args),
        Command::Report(args) => report::run(shell, config, &args),
        Command::Test(args) => test::run(shell, config, &args),
        Command::Run(args) => run::run(shell, config, &args),
        Command::RunJob { file } => run_job::run(shell, config, &file),
        Command::Runtask(args) => run::run(shell, config, &args.into_run()),
        other => without_config(shell, other),
    }
}

/// The commands that need no configuration.
fn without_config(shell: &Shell, command: Command) -> Outcome {
    match command {
        Command::Completions { shell: target } => {
            clap_complete::generate(
                target,
                &mut completed(),
                "taskotron",
                &mut std::io::stdout(),
            );
            Ok(exit::OK)
        }
        Command::Man { out } => {
            let written = match &out {
                None => {
                    let mut root = Cli::command();
                    root.build();
                    man_page(&root, "taskotron", &mut std::io::stdout())
                }
                Some(dir) => write_man_pages(dir),
            };
            written.map(|()| exit::OK).map_err(|e| {
                ExpectedError::failed(Diagnostic::error(format!("cannot write the man page: {e}")))
            })
        }
        Command::New(args) => new::run(shell, &args),
        Command::Tap(command) => tap::run(shell, &command),
        Command::Tests(command) => fmf::run(shell, fmf::Kind::Tests, &command),
        Command::Plans(command) => fmf::run(shell, fmf::Kind::Plans, &command),
        Command::Sti(crate::cli::StiCommand::Convert(args)) => sti::convert(shell, &args),
        Command::Directives(args) => directives::run(args.format),
        Command::Validate(args) => validate::run(shell, &args),
        // Every other command reads the configuration (`config_format`).
        other => Err(ExpectedError::failed(Diagnostic::error(format!(
            "`{other:?}` needs the configuration"
        )))),
    }
}

fn load_config(
    shell: &Shell,
    explicit: Option<&std::path::Path>,
) -> Result<taskotron_core::config::Loaded, ExpectedError> {
    match Config::load(explicit, &|k| std::env::var(k).ok()) {
        Ok(loaded) => {
            // A misspelled TASKOTRON_* variable is said, like a misspelled key.
            let names: Vec<String> = std::env::vars_os()
                .filter_map(|(k, _)| k.into_string().ok())
                .collect();
            shell.diagnostics(&taskotron_core::config::keys::unknown_variables(
                names.iter().map(String::as_str),
            ));
            Ok(loaded)
        }
        Err(e) => Err(ExpectedError::InvalidInput(e.diagnostics())),
    }
}

/// The CLI as completions offer it: without the hidden commands (`run-job`, which
/// workers start, and `man`), which clap's generators would list.
fn completed() -> clap::Command {
    let full = Cli::command();
    let visible: Vec<clap::Command> = full
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    let mut cmd = clap::Command::new("taskotron")
        .args(full.get_arguments().cloned())
        .subcommands(visible);
    if let Some(about) = full.get_about() {
        cmd = cmd.about(about.clone());
    }
    cmd
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
        man_page(&cmd, name, &mut page)?;
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

/// One man page: clap_mangen's sections, then the help's own text in man's
/// sections: EXAMPLES with each command on a line of its own (never filled and
/// wrapped mid-command), EXIT STATUS, and the rest as NOTES.
fn man_page(cmd: &clap::Command, name: &str, out: &mut dyn Write) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone()).title(name.to_string());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(out)?;
    }
    let extra = cmd
        .get_after_long_help()
        .or_else(|| cmd.get_after_help())
        .map(ToString::to_string)
        .unwrap_or_default();
    let sections = man_sections(&extra);
    if !sections.examples.is_empty() {
        writeln!(out, ".SH EXAMPLES")?;
        for example in &sections.examples {
            writeln!(out, ".PP\n.nf\n{}\n.fi", roff(example))?;
        }
    }
    writeln!(out, ".SH \"EXIT STATUS\"")?;
    let status = sections.exit_status.unwrap_or_else(|| {
        "0 success, 1 failure (a service or the state directory failed it), 2 invalid input: nothing was done.".into()
    });
    writeln!(out, "{}", roff(&status))?;
    if !sections.notes.is_empty() {
        writeln!(out, ".SH NOTES")?;
        for paragraph in &sections.notes {
            writeln!(out, ".PP\n{}", roff(paragraph))?;
        }
    }
    // clap_mangen's version section needs a version, which subcommands lack.
    if cmd.get_version().is_some() {
        man.render_version_section(out)?;
    }
    Ok(())
}

/// A help's after-text cut into man sections.
#[derive(Debug, Default, PartialEq)]
struct ManSections {
    /// Each example command, as typed.
    examples: Vec<String>,
    /// The `Exit codes:` paragraph, without its label.
    exit_status: Option<String>,
    /// The other paragraphs, their lines joined.
    notes: Vec<String>,
}

/// Reads `Examples:` (indented lines), `Exit codes: ...` and the other paragraphs
/// of a help's after-text.
fn man_sections(text: &str) -> ManSections {
    let mut s = ManSections::default();
    for paragraph in text.split("\n\n") {
        let mut lines = paragraph.lines().peekable();
        if lines.peek().is_some_and(|l| l.trim() == "Examples:") {
            lines.next();
            s.examples.extend(
                lines
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty()),
            );
            continue;
        }
        let mut notes: Vec<&str> = Vec::new();
        let mut exit: Vec<&str> = Vec::new();
        for line in lines {
            if let Some(rest) = line.strip_prefix("Exit codes:") {
                exit.push(rest.trim());
            } else if !exit.is_empty() {
                exit.push(line.trim());
            } else {
                notes.push(line.trim());
            }
        }
        if !notes.is_empty() {
            s.notes.push(notes.join(" "));
        }
        if !exit.is_empty() {
            s.exit_status = Some(exit.join(" "));
        }
    }
    s
}

/// Text as roff reads it literally: backslashes escaped, a leading `.` or `'`
/// guarded, `-` as the minus sign a copied command needs.
fn roff(text: &str) -> String {
    text.lines()
        .map(|l| {
            let l = l.replace('\\', "\\e").replace('-', "\\-");
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_text_becomes_examples_exit_status_and_notes() {
        let s = man_sections(
            "Examples:\n  taskotron run a --item x\n  taskotron test\n\nSome prose\nover lines.\nExit codes: 0 ok,\n1 not.",
        );
        assert_eq!(s.examples, ["taskotron run a --item x", "taskotron test"]);
        assert_eq!(s.notes, ["Some prose over lines."]);
        assert_eq!(s.exit_status.as_deref(), Some("0 ok, 1 not."));
        assert_eq!(roff(".x -y \\n"), "\\&.x \\-y \\en");
    }

    #[test]
    fn every_man_page_has_examples_kept_whole_and_an_exit_status() {
        let mut root = Cli::command();
        root.build();
        let mut page = Vec::new();
        man_page(&root, "taskotron", &mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains(".SH \"EXIT STATUS\"\n0 OK, 1"), "{page}");
        assert!(
            page.contains(".nf\ntaskotron run tasks/nvr\\-check \\-\\-item htop\\-3.3.0\\-1.fc41"),
            "{page}"
        );
        for sub in root.get_subcommands().filter(|s| !s.is_hide_set()) {
            let mut page = Vec::new();
            man_page(sub, sub.get_name(), &mut page).unwrap();
            let page = String::from_utf8(page).unwrap();
            assert!(page.contains(".SH \"EXIT STATUS\""), "{}", sub.get_name());
        }
    }
}
