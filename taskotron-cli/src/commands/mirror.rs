//! `taskotron mirror`: clone or fetch the mirrors of tasks kept in git.

use crate::wiring::Wiring;
use taskotron_core::config::Config;
use taskotron_core::Diagnostic;

use super::print_json;
use crate::cli::{Format, MirrorArgs};
use crate::error::{ExpectedError, Outcome};
use crate::exit;
use crate::output::{Shell, Tone};

/// `taskotron mirror`.
pub fn run(shell: &Shell, config: &Config, args: &MirrorArgs) -> Outcome {
    use taskotron_core::mirror::Refresh;
    use taskotron_core::task::TaskLocation;
    let tasks = config.tasks();
    let names: Vec<String> = if args.tasks.is_empty() {
        config
            .tasks
            .iter()
            .filter(|(_, v)| matches!(TaskLocation::parse(v), TaskLocation::Git { .. }))
            .map(|(k, _)| k.clone())
            .collect()
    } else {
        args.tasks.clone()
    };
    if names.is_empty() && args.format == Format::Human {
        shell.status(
            "Nothing",
            "to mirror: the config's `tasks` names no git repository (`name: git://host/task.git#ref`)",
            Tone::Good,
        );
    }
    let mut rows = Vec::new();
    let mut failed = false;
    for name in &names {
        let url = match tasks.locate(name) {
            Ok(TaskLocation::Git { url, .. }) => url,
            Ok(TaskLocation::Dir(d)) => {
                shell.status(
                    "Skipped",
                    &format!("{name}: a directory ({})", d.display()),
                    Tone::Warn,
                );
                continue;
            }
            Err(why) => return Err(ExpectedError::invalid(Diagnostic::error(why))),
        };
        match tasks.mirror.update(&url, args.force) {
            Ok(r) => {
                let what = match r {
                    Refresh::Cloned => "cloned",
                    Refresh::Fetched => "fetched",
                    Refresh::Fresh => "fresh",
                };
                shell.status("Mirrored", &format!("{name}: {what} ({url})"), Tone::Good);
                rows.push(serde_json::json!({"task": name, "url": url, "refresh": what}));
            }
            Err(e) => {
                shell.diagnostics(&[Diagnostic::error(format!("{name}: {e}"))]);
                rows.push(serde_json::json!({"task": name, "url": url, "error": e.to_string()}));
                failed = true;
            }
        }
    }
    if args.format == Format::Json {
        print_json(&serde_json::json!(rows));
    }
    Ok(if failed { exit::NOT_OK } else { exit::OK })
}
