//! `taskotron decide` and `taskotron waive`: gating (`taskotron_core::gating`)
//! asked and printed, waivers recorded and listed.

use crate::wiring::Wiring;
use serde_json::{json, Value};
use taskotron_core::config::Config;
use taskotron_core::diagnostic::Diagnostic;
use taskotron_gating::{DecisionError, DecisionRequest, NewWaiver};
use taskotron_history::{Store, WaiverFilter};

use super::print_json;
use crate::cli::{DecideArgs, Format, WaiveArgs};
use crate::error::{ExpectedError, Outcome};
use crate::exit;

/// The type of a subject written on the command line: an update alias
/// (`FEDORA-2026-1a2b3c`, `FEDORA-EPEL-...`) or a build's NVR.
fn guess(subject: &str, given: Option<&str>) -> String {
    match given {
        Some(t) => t.to_string(),
        None if subject.starts_with("FEDORA-") => "bodhi_update".into(),
        None => "koji_build".into(),
    }
}

fn request(args: &DecideArgs) -> Result<DecisionRequest, ExpectedError> {
    let body: Value = match &args.request {
        Some(path) => {
            let text = if path.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())
            } else {
                std::fs::read_to_string(path)
            }
            .map_err(|e| {
                ExpectedError::invalid(
                    Diagnostic::error(format!("cannot read the request: {e}")).in_file(path),
                )
            })?;
            serde_json::from_str(&text).map_err(|e| {
                ExpectedError::invalid(
                    Diagnostic::error(format!("the request is not JSON: {e}"))
                        .at_line(Some(path), e.line())
                        .expected("a Greenwave decision request such as {\"decision_context\": ..., \"product_version\": ..., \"subject\": [...]}"),
                )
            })?
        }
        None => json!({
            "decision_context": args.contexts,
            "product_version": args.product_version,
            "subject": args.subjects.iter().map(|s| json!({"item": s, "type": guess(s, args.subject_type.as_deref())})).collect::<Vec<_>>(),
            "verbose": args.facts,
        }),
    };
    DecisionRequest::from_json(&body).map_err(|e| {
        let field = if e.field.is_empty() {
            String::new()
        } else {
            format!("`{}`: ", e.field)
        };
        ExpectedError::invalid(Diagnostic::error(format!("{field}{}", e.message)))
    })
}

/// Decides and prints; exit 0 satisfied, 100 not, 4 when no policy applies.
pub fn decide(config: &Config, args: &DecideArgs) -> Outcome {
    let request = request(args)?;
    let settings = config.gating();
    let policies = taskotron_core::gating::load_policies(settings.policies.as_deref())
        .map_err(ExpectedError::InvalidInput)?;
    let decision = match taskotron_core::gating::decide(&settings, &policies, &request) {
        Ok(d) => d,
        Err(DecisionError::BadRequest(e)) => {
            return Err(ExpectedError::invalid(Diagnostic::error(format!(
                "`{}`: {}",
                e.field, e.message
            ))))
        }
        Err(DecisionError::NoPolicies(m)) => {
            let hint = if policies.is_empty() {
                "no policies are configured: set `gating_policies` to a Greenwave policy file or directory"
            } else {
                "`taskotron config` shows `gating_policies`; each policy names its product_versions and subject_type"
            };
            match args.format {
                Format::Json => print_json(&json!({"message": m})),
                Format::Human => {
                    errln!("{m}");
                    errln!("  = help: {hint}");
                }
            }
            return Ok(exit::NO_TESTS);
        }
        Err(DecisionError::Facts(m)) => return Err(ExpectedError::failed(Diagnostic::error(m))),
    };
    match args.format {
        Format::Json => print_json(&decision.to_json()),
        Format::Human => {
            let subjects: Vec<&str> = request
                .subjects
                .iter()
                .map(|s| s.identifier.as_str())
                .collect();
            outln!(
                "{} {}: {}",
                if decision.policies_satisfied {
                    "passes"
                } else {
                    "blocked"
                },
                subjects.join(", "),
                decision.summary
            );
            for r in decision.unsatisfied().chain(decision.satisfied()) {
                let mut line = format!(
                    "  {:<28} {:<40} {}",
                    r.kind.as_str(),
                    r.testcase,
                    r.subject.identifier
                );
                if let Some(a) = &r.system_architecture {
                    line.push_str(&format!(" {a}"));
                }
                if let Some(id) = r.result_id {
                    line.push_str(&format!(" (result {id})"));
                }
                if let Some(w) = r.waiver_id {
                    line.push_str(&format!(" (waiver {w})"));
                }
                if let Some(j) = &r.job {
                    line.push_str(&format!(
                        " ({} {})",
                        j.state,
                        j.url.as_deref().unwrap_or(&j.uuid)
                    ));
                }
                outln!("{line}");
                if let Some(d) = &r.details {
                    outln!("      {d}");
                }
            }
            outln!("  policies: {}", decision.applicable_policies.join(", "));
        }
    }
    Ok(if decision.policies_satisfied {
        exit::OK
    } else {
        exit::RESULTS_FAILED
    })
}

fn store(config: &Config) -> Result<Store, ExpectedError> {
    std::fs::create_dir_all(&config.state_dir).map_err(|e| {
        ExpectedError::failed(Diagnostic::error(format!(
            "cannot create `{}`: {e}",
            config.state_dir.display()
        )))
    })?;
    Store::open(&taskotron_core::history::path(&config.state_dir))
        .map_err(|e| ExpectedError::failed(Diagnostic::error(e.to_string())))
}

/// Records a waiver (or a revocation), or lists the waivers.
pub fn waive(config: &Config, args: &WaiveArgs) -> Outcome {
    if args.list {
        let filter = WaiverFilter {
            subject_identifier: args.filter_subject.clone(),
            testcase: args.testcase.clone(),
            product_version: args.product_version.clone(),
            ..WaiverFilter::default()
        };
        let waivers = store(config)?
            .waivers(&[filter], args.all, 0, 1000)
            .map_err(|e| ExpectedError::failed(Diagnostic::error(e.to_string())))?;
        match args.format {
            Format::Json => print_json(
                &json!({"data": waivers.iter().map(|w| w.to_json()).collect::<Vec<_>>()}),
            ),
            Format::Human => {
                for w in &waivers {
                    outln!(
                        "{:>5} {:<8} {:<32} {:<32} {:<10} {} {}: {}",
                        w.id,
                        if w.waiver.waived { "waived" } else { "revoked" },
                        w.waiver.subject.identifier,
                        w.waiver.testcase,
                        w.waiver.product_version,
                        w.timestamp,
                        w.username,
                        w.waiver.comment
                    );
                }
            }
        }
        return Ok(exit::OK);
    }
    let (Some(subject), Some(testcase)) = (&args.subject, &args.testcase) else {
        return Err(ExpectedError::invalid(Diagnostic::error(
            "SUBJECT and TESTCASE are required",
        )));
    };
    let body = json!({
        "subject_type": guess(subject, args.subject_type.as_deref()),
        "subject_identifier": subject,
        "testcase": testcase,
        "product_version": args.product_version,
        "comment": args.comment,
        "waived": !args.revoke,
        "scenario": args.scenario,
    });
    let new = NewWaiver::from_json(&body).map_err(|e| {
        ExpectedError::invalid(Diagnostic::error(format!("`{}`: {}", e.field, e.message)))
    })?;
    let username = args.username.clone().unwrap_or_else(|| "taskotron".into());
    let w = store(config)?
        .waive(&new, &username, &taskotron_core::gating::now())
        .map_err(|e| ExpectedError::failed(Diagnostic::error(e.to_string())))?;
    match args.format {
        Format::Json => print_json(&w.to_json()),
        Format::Human => outln!(
            "{} {} for {} in {} (waiver {})",
            if w.waiver.waived {
                "Waived"
            } else {
                "Revoked the waiver of"
            },
            w.waiver.testcase,
            w.waiver.subject.identifier,
            w.waiver.product_version,
            w.id
        ),
    }
    Ok(exit::OK)
}
