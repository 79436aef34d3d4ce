//! `taskotron ci-messages`: the queue's job events published as Fedora CI
//! messages (the decisions are `taskotron_core::ci_messages`'s; this prints).

use crate::wiring::Wiring;
use serde_json::json;
use taskotron_core::bodhi::BodhiClient;
use taskotron_core::ci_messages::{CiMessage, Fedora, Published, Publisher, PublisherError};
use taskotron_core::config::Config;
use taskotron_core::diagnostic::Diagnostic;
use taskotron_core::koji::KojiClient;
use taskotron_core::process::StopOnSignal;

use super::print_json;
use crate::cli::{CiMessagesArgs, LinesFormat};
use crate::error::{ExpectedError, Outcome};
use crate::exit;
use crate::output::{Shell, Tone};

/// How often a publisher that is up to date looks at the queue again.
const POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// What hands a batch to the broker at `uri`, returning once it confirmed them.
#[cfg(feature = "amqp")]
pub fn sender(config: &Config, uri: &str) -> impl FnMut(&[CiMessage]) -> Result<(), String> {
    use taskotron_trigger::bus::amqp::{self, Outgoing};
    let settings = config.ci_amqp(uri);
    move |messages: &[CiMessage]| {
        let outgoing: Vec<Outgoing> = messages
            .iter()
            .map(|m| Outgoing {
                routing_key: m.topic.clone(),
                message_id: Some(m.id.clone()),
                body: serde_json::to_vec(&m.body).unwrap_or_default(),
            })
            .collect();
        amqp::publish_with(&settings, &outgoing).map_err(|e| e.to_string())
    }
}

/// Without AMQP support every batch is refused (and stays in the feed).
#[cfg(not(feature = "amqp"))]
pub fn sender(_: &Config, _: &str) -> impl FnMut(&[CiMessage]) -> Result<(), String> {
    |_: &[CiMessage]| Err("taskotron was built without the `amqp` feature".to_string())
}

/// A publisher of `config`'s messages, asking its Koji about builds and its
/// Bodhi (when one is named) about updates.
pub fn publisher(config: &Config) -> Publisher<Fedora> {
    let services = config.services();
    let bodhi = config
        .bodhi_url
        .as_deref()
        .map(|url| BodhiClient::new(url, "", services.timeout));
    Publisher::new(
        config.ci_messages(),
        Fedora {
            koji: KojiClient::new(&services.koji_url, services.timeout),
            bodhi,
        },
    )
}

/// A broker URI that cannot be one is the user's mistake (exit 2), found before
/// the feed moves.
pub fn check_broker(uri: &str) -> Result<(), ExpectedError> {
    #[cfg(feature = "amqp")]
    taskotron_trigger::bus::amqp::check_uri(uri)
        .map_err(|e| ExpectedError::invalid(Diagnostic::error(e.to_string())))?;
    #[cfg(not(feature = "amqp"))]
    let _ = uri;
    Ok(())
}

fn failed(e: &PublisherError) -> ExpectedError {
    ExpectedError::failed(Diagnostic::error(e.to_string()))
}

/// Runs the command.
pub fn run(shell: &Shell, config: &Config, args: &CiMessagesArgs) -> Outcome {
    let mut queue =
        super::queue::open_queue(shell, config).map_err(|e| super::queue::queue_failed(&e))?;
    let mut publisher = publisher(config);
    if args.dry_run {
        let (messages, skipped, _) = publisher.pending(&queue).map_err(|e| failed(&e))?;
        for m in &messages {
            match args.format {
                LinesFormat::Json => {
                    print_json(&json!({"topic": m.topic, "id": m.id, "body": m.body}));
                }
                LinesFormat::Human => outln!(
                    "{:<44} {} {} {}",
                    m.topic,
                    m.body["artifact"]["nvr"].as_str().unwrap_or(""),
                    m.body["system"][0]["architecture"].as_str().unwrap_or(""),
                    m.body["test"]["type"].as_str().unwrap_or("")
                ),
            }
        }
        shell.status(
            "Pending",
            &format!(
                "{} CI messages ({skipped} events announce nothing)",
                messages.len()
            ),
            Tone::Good,
        );
        return Ok(exit::OK);
    }
    let Some(uri) = args.to.clone().or_else(|| config.ci_messages_url.clone()) else {
        return Err(ExpectedError::invalid(
            Diagnostic::error("no broker to publish to").help(
                "pass `--to amqp://...` or set `ci_messages_url` (TASKOTRON_CI_MESSAGES_URL)",
            ),
        ));
    };
    check_broker(&uri)?;
    let at = Publisher::<Fedora>::start(&mut queue).map_err(|e| super::queue::queue_failed(&e))?;
    let mut send = sender(config, &uri);
    let said = |p: &Published| {
        format!(
            "{} CI messages to {} ({} events announce nothing; feed at {})",
            p.messages,
            taskotron_core::redact::in_text(&uri),
            p.skipped,
            p.position
        )
    };
    if args.once {
        let done = publisher
            .drain(&mut queue, &mut send)
            .map_err(|e| failed(&e))?;
        if args.format == LinesFormat::Json {
            print_json(&json!(done));
        }
        shell.status("Published", &said(&done), Tone::Good);
        return Ok(exit::OK);
    }
    shell.status(
        "Publishing",
        &format!(
            "CI messages to {} from feed position {at}, until SIGINT or SIGTERM",
            taskotron_core::redact::in_text(&uri)
        ),
        Tone::Good,
    );
    let stop = StopOnSignal::start();
    let flag = stop.shared();
    publisher.run(
        &mut queue,
        &flag,
        POLL,
        &mut send,
        &mut |round| match round {
            Ok(p) => {
                if args.format == LinesFormat::Json {
                    print_json(&json!(p));
                }
                shell.status("Published", &said(p), Tone::Good);
            }
            Err(e) => shell.status("Retrying", &e.to_string(), Tone::Warn),
        },
    );
    Ok(exit::OK)
}

/// `serve`'s publisher: publishes `feed`'s events to `uri` until `stop`, then
/// once more, so that what the last jobs said goes out before serve ends.
pub fn announce(
    shell: &Shell,
    config: &Config,
    uri: &str,
    feed: &mut taskotron_core::scheduler::Queue,
    stop: &std::sync::atomic::AtomicBool,
) {
    let mut publisher = publisher(config);
    let mut send = sender(config, uri);
    let shown = taskotron_core::redact::in_text(uri);
    let mut report = |round: &Result<Published, PublisherError>| match round {
        Ok(p) => shell.status(
            "Published",
            &format!("{} CI messages to {shown}", p.messages),
            Tone::Good,
        ),
        Err(e) => shell.status("Retrying", &format!("CI messages: {e}"), Tone::Warn),
    };
    publisher.run(feed, stop, POLL, &mut send, &mut report);
    let last = publisher.drain(feed, &mut send);
    if !matches!(&last, Ok(p) if p.messages == 0) {
        report(&last);
    }
}
