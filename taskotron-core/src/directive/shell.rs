//! `shell`: runs a list of commands; exports the standard output of the last one.
//!
//! A command given as a string runs under `sh -c`; the runner has already turned
//! every substituted value into a reference to an environment variable
//! (`{script, vars, display}`), so values never reach the shell as code. A command
//! given as a list is an argv run with no shell at all. The first command to fail
//! stops the action.

use std::io::Seek;
use std::process::Command;
use std::time::Instant;

use serde_json::Value;

use super::{read_end, read_from, tail, Context, Directive, Failure, Params, Shape, Spec};
use crate::process::Ended;

/// The `shell` directive.
pub struct Shell;

static SPEC: Spec = Spec {
    name: "shell",
    summary: "run commands (strings under `sh -c`, lists as argv); export the last one's stdout",
    shape: Shape::Commands,
    returns: "standard output of the last command, trailing newlines removed",
    exactly_one: &[],
};

impl Directive for Shell {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn run(&self, params: &Params, ctx: &mut Context) -> Result<Value, Failure> {
        let commands = params
            .get("commands")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let deadline = crate::duration::deadline(Instant::now(), ctx.timeout);
        let mut last_start = 0;
        let count = commands.len();
        for (index, command) in commands.iter().enumerate() {
            // The task's environment: the runner's allow-list, then this line's values.
            let mut env = ctx.env.clone();
            let (mut cmd, shown) =
                match command {
                    Value::Array(argv) => {
                        let words: Vec<String> = argv
                            .iter()
                            .map(|w| w.as_str().map_or_else(|| w.to_string(), str::to_string))
                            .collect();
                        let Some((program, args)) = words.split_first() else {
                            return Err(Failure::new(format!(
                                "command {} is an empty list",
                                index + 1
                            )));
                        };
                        let mut c = Command::new(program);
                        c.args(args);
                        (c, words.join(" "))
                    }
                    Value::Object(line) => {
                        let text = |k: &str| {
                            line.get(k)
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_string()
                        };
                        let mut c = Command::new("sh");
                        c.arg("-c").arg(text("script"));
                        if let Some(Value::Object(vars)) = line.get("vars") {
                            env.extend(vars.iter().map(|(k, v)| {
                                (k.clone(), v.as_str().unwrap_or_default().to_string())
                            }));
                        }
                        (c, text("display"))
                    }
                    other => {
                        let line = other
                            .as_str()
                            .map_or_else(|| other.to_string(), str::to_string);
                        let mut c = Command::new("sh");
                        c.arg("-c").arg(&line);
                        (c, line)
                    }
                };
            cmd.current_dir(&ctx.taskdir);
            last_start = ctx.stdout.stream_position().unwrap_or(0);
            let remaining = deadline.saturating_duration_since(Instant::now());
            let err_start = ctx.stderr.stream_position().unwrap_or(0);
            ctx.stream_start = last_start;
            let program = cmd.get_program().to_string_lossy().into_owned();
            let ended = ctx
                .run_task(cmd, &[], remaining, &env)
                .map_err(|e| super::spawn_failure(&e, &program, &shown, &ctx.taskdir))?;
            ctx.process_exit = ended.code();
            // A suite's last command: an allowed exit code means "the suite ran".
            let suite_ran = index + 1 == count
                && ctx
                    .exit_ok
                    .as_ref()
                    .zip(ended.exit_code())
                    .is_some_and(|(ok, code)| ok.contains(&code));
            if !ended.success() && !suite_ran {
                let stderr = tail(&read_end(&ctx.stderr, err_start), 20);
                let what = match ended {
                    Ended::TimedOut => {
                        return Err(Failure {
                            message: format!(
                                "`{shown}` ran past the action's timeout of {}s and was killed",
                                ctx.timeout.as_secs()
                            ),
                            timed_out: true,
                            kind: None,
                        })
                    }
                    Ended::Interrupted(signal) => {
                        return Err(Failure::new(format!(
                            "`{shown}` was killed: taskotron was interrupted by signal {signal}"
                        )))
                    }
                    Ended::Stopped => format!("`{shown}` {}", ended.describe()),
                    Ended::Exited(_) => match &ctx.exit_ok {
                        Some(ok) if index + 1 == count && ended.exit_code().is_some() => format!(
                            "`{shown}` {}, which is not one of the suite's exit codes ({})",
                            ended.describe(),
                            ok.iter().map(i32::to_string).collect::<Vec<_>>().join(", ")
                        ),
                        _ => format!("`{shown}` {}", ended.describe()),
                    },
                };
                // `sh` exits 127 when it cannot find a command: the task ran and
                // named a program this machine does not have, which is the task's
                // failure (retrying elsewhere would not help), never TOOL_MISSING.
                if ended.exit_code() == Some(127) {
                    let kind = COMMAND_NOT_FOUND;
                    return Err(Failure::named(
                        kind,
                        format!(
                            "{what}, the shell's code for a command it cannot find{}",
                            if stderr.is_empty() {
                                String::new()
                            } else {
                                format!("; its stderr ends with:\n{stderr}")
                            }
                        ),
                    ));
                }
                return Err(Failure::new(if stderr.is_empty() {
                    what
                } else {
                    format!("{what}; its stderr ends with:\n{stderr}")
                }));
            }
            // Files opened for append report position 0 until written; re-sync.
            let _ = ctx.stdout.seek(std::io::SeekFrom::End(0));
            let _ = ctx.stderr.seek(std::io::SeekFrom::End(0));
        }
        if ctx.exit_ok.is_some() {
            // A result stream is read from the file by the runner, whatever its size.
            return Ok(Value::Null);
        }
        let printed = super::log_len(&ctx.stdout).saturating_sub(last_start);
        if printed > super::MAX_EXPORT {
            return Err(Failure::new(format!(
                "the last command printed {} MiB, more than the {} MiB a `shell` action \
                 exports as a value; declare `results: tap` (or `resultyaml`) to read a \
                 suite's output as a stream of any size, or write it to a file",
                printed >> 20,
                super::MAX_EXPORT >> 20
            )));
        }
        let out = read_from(&ctx.stdout, last_start);
        Ok(Value::String(
            out.trim_end_matches(['\n', '\r']).to_string(),
        ))
    }
}

/// A command the task ran exited 127: the shell could not find a program it named.
pub(crate) const COMMAND_NOT_FOUND: super::FailureKind =
    super::FailureKind::new("COMMAND_NOT_FOUND", super::Cause::Task);
