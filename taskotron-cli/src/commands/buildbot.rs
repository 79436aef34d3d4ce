//! `taskotron buildbot master-cfg` and `taskotron buildbot submit`.

use crate::wiring::Wiring;
use std::io::Write;
use std::time::Duration;

use serde_json::json;
use taskotron_core::buildbot::{render, BuildbotClient};
use taskotron_core::config::Config;
use taskotron_core::{Diagnostic, JobRequest};

use super::print_json;
use crate::cli::{BuildbotCommand, Format};
use crate::error::{ExpectedError, Outcome};
use crate::exit;
use crate::output::{Shell, Tone};

/// Runs a `buildbot` subcommand.
pub fn run(shell: &Shell, config: &Config, command: &BuildbotCommand) -> Outcome {
    match command {
        BuildbotCommand::MasterCfg { out } => {
            let text = render(&config.buildbot());
            let written = match out {
                Some(path) => path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map_or(Ok(()), std::fs::create_dir_all)
                    .and_then(|()| std::fs::write(path, text))
                    .map_err(|e| format!("cannot write `{}`: {e}", path.display())),
                None => std::io::stdout()
                    .write_all(text.as_bytes())
                    .map_err(|e| e.to_string()),
            };
            written
                .map(|()| exit::OK)
                .map_err(|e| ExpectedError::failed(Diagnostic::error(e)))
        }
        BuildbotCommand::Submit {
            taskname,
            item,
            item_type,
            arch,
            wait,
            format,
        } => {
            if let Err(e) = item_type.validate(item) {
                return Err(ExpectedError::invalid(Diagnostic::error(e.to_string())));
            }
            let client = BuildbotClient::new(&config.buildbot_url);
            let mut submitted = Vec::new();
            for a in arch {
                let job = JobRequest {
                    item: item.clone(),
                    item_type: *item_type,
                    taskname: taskname.clone(),
                    arch: *a,
                    source: None,
                    plan: None,
                };
                let build_id = taskotron_core::resultsdb::new_group_id();
                match client.submit(&job, &build_id) {
                    Ok(request) => {
                        shell.status(
                            "Submitted",
                            &format!("{taskname} on {a}: build {build_id}, request {request}"),
                            Tone::Good,
                        );
                        submitted.push((*a, build_id, request));
                    }
                    Err(e) => return Err(ExpectedError::failed(Diagnostic::error(e.to_string()))),
                }
            }
            let mut rows = Vec::new();
            let mut failed = false;
            for (a, build_id, request) in submitted {
                let mut row = json!({"arch": a, "build_id": build_id, "buildrequest": request});
                if *wait {
                    match client.wait(request, config.job_timeout + Duration::from_secs(60)) {
                        Ok(done) => {
                            failed |= done.results != 0;
                            shell.status(
                                "Finished",
                                &format!(
                                    "{taskname} on {a}: result {} on {}",
                                    done.results,
                                    done.worker.as_deref().unwrap_or("?")
                                ),
                                if done.results == 0 {
                                    Tone::Good
                                } else {
                                    Tone::Bad
                                },
                            );
                            row["results"] = json!(done.results);
                            row["worker"] = json!(done.worker);
                            row["report"] = json!(done.report);
                        }
                        Err(e) => {
                            shell.diagnostics(&[Diagnostic::error(e.to_string())]);
                            failed = true;
                        }
                    }
                }
                rows.push(row);
            }
            if *format == Format::Json {
                print_json(&json!(rows));
            }
            Ok(if failed { exit::NOT_OK } else { exit::OK })
        }
    }
}
