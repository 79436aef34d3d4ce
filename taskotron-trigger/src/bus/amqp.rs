//! The RabbitMQ adapter (AMQP 0-9-1, fedora-messaging's wire format): a durable named
//! queue bound to `amq.topic` with the routing keys the rules need, a prefetch window,
//! and each delivery settled by the handler's [`Verdict`] (acknowledged only once its
//! jobs are stored). The connection is re-made with a doubling back-off whenever the
//! broker goes away; deliveries that were not acknowledged come again, marked
//! redelivered, and the scheduler's once-per-message-id rule keeps their jobs single.
//!
//! The API is blocking: lapin runs on a current-thread tokio runtime owned by
//! [`consume`], so callers need no async runtime of their own.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_lite::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    BasicRejectOptions, ConfirmSelectOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};

use super::{BusEvent, Verdict};
use crate::trigger::message::{Message, MessageError};

/// The first delay before reconnecting; it doubles up to [`MAX_BACKOFF`].
pub const MIN_BACKOFF: Duration = Duration::from_millis(200);
/// The longest delay between two connection attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How often a waiting consumer looks at its stop flag and at its connection.
const POLL: Duration = Duration::from_millis(100);
/// How long a connection must have been consuming to count as having worked, so
/// that losing it starts the back-off afresh even on a quiet bus (a broker that
/// drops every connection at once still waits out the doubling delays).
pub const STEADY: Duration = Duration::from_secs(10);
/// The default [`AmqpSettings::exchange_timeout`].
pub const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(30);

/// Client certificate files for `amqps://` with the EXTERNAL mechanism.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The broker's CA certificate (PEM); the system's roots when absent.
    pub ca_cert: Option<PathBuf>,
    /// The client certificate (PEM).
    pub client_cert: PathBuf,
    /// Its private key (PEM, PKCS#8).
    pub client_key: PathBuf,
}

/// Where and how to consume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmqpSettings {
    /// `amqp://user:pass@host:port/vhost` (or `amqps://...`).
    pub uri: String,
    /// The durable queue's name.
    pub queue: String,
    /// Routing keys bound from `amq.topic` (see [`super::bindings`]).
    pub bindings: Vec<String>,
    /// Unacknowledged deliveries the broker may hand out at once.
    pub prefetch: u16,
    /// Client certificates, for `amqps://`.
    pub tls: Option<TlsFiles>,
    /// The longest one exchange with the broker may take (connecting and declaring,
    /// or settling a delivery) before the connection counts as lost and is made
    /// again. A broker that accepts the TCP connection and then says nothing (one
    /// still booting, one half gone) must not stall the consumer for ever.
    pub exchange_timeout: Duration,
}

/// Why consuming could not even start. Once it has started, broker trouble is retried,
/// not returned.
#[derive(Debug, thiserror::Error)]
pub enum AmqpError {
    /// The URI is not an AMQP URI.
    #[error("`{uri}` is not an AMQP URI: {why}")]
    Uri {
        /// The URI, with any password hidden.
        uri: String,
        /// What is wrong with it.
        why: String,
    },
    /// `amqps://` in a build without TLS.
    #[error("`amqps://` needs taskotron built with the `amqp-tls` feature")]
    TlsUnavailable,
    /// A certificate or key file could not be read.
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The async runtime could not be made.
    #[error("cannot start the AMQP client: {0}")]
    Runtime(std::io::Error),
    /// Publishing failed (for [`publish`]).
    #[error("publishing failed: {0}")]
    Publish(String),
}

/// `uri` with its password replaced by `***`, for messages.
pub fn redact(uri: &str) -> String {
    taskotron_model::redact::url(uri)
}

/// Reads a delivery: the routing key is the topic, the body a JSON object.
///
/// # Errors
/// The body is not JSON or not an object; the error names the message id.
pub fn message_from_delivery(
    routing_key: &str,
    message_id: Option<&str>,
    data: &[u8],
) -> Result<Message, MessageError> {
    let name = message_id.unwrap_or("without id");
    let text = String::from_utf8(data.to_vec())
        .map_err(|e| MessageError(format!("message {name}: body is not JSON: {e}")))?;
    Message::from_body(message_id, routing_key, text)
}

/// Whether `uri` is an AMQP URI this build can connect to (`amqps://` needs the
/// `amqp-tls` feature), checked before any connection: a mistyped setting is the
/// user's to fix, not the broker's to be retried.
///
/// # Errors
/// Not an AMQP URI, or TLS asked of a build without it.
pub fn check_uri(uri: &str) -> Result<(), AmqpError> {
    let parsed: Result<lapin::uri::AMQPUri, String> = uri.parse();
    let uri = parsed.map_err(|why| AmqpError::Uri {
        uri: redact(uri),
        why,
    })?;
    if matches!(uri.scheme, lapin::uri::AMQPScheme::AMQPS) && !cfg!(feature = "amqp-tls") {
        return Err(AmqpError::TlsUnavailable);
    }
    Ok(())
}

#[cfg(feature = "amqp-tls")]
async fn connect(settings: &AmqpSettings) -> lapin::Result<Connection> {
    use lapin::tcp::{OwnedIdentity, OwnedTLSConfig};
    let props = ConnectionProperties::default().with_connection_name("taskotron-trigger".into());
    let Some(tls) = &settings.tls else {
        return Connection::connect(&settings.uri, props).await;
    };
    let read = |p: &PathBuf| std::fs::read(p).map_err(lapin::Error::from);
    let config = OwnedTLSConfig {
        identity: Some(OwnedIdentity::PKCS8 {
            pem: read(&tls.client_cert)?,
            key: read(&tls.client_key)?,
        }),
        cert_chain: match &tls.ca_cert {
            Some(p) => Some(String::from_utf8_lossy(&read(p)?).into_owned()),
            None => None,
        },
    };
    Connection::connect_with_config(
        &settings.uri,
        props,
        config,
        lapin::runtime::default_runtime()?,
    )
    .await
}

#[cfg(not(feature = "amqp-tls"))]
async fn connect(settings: &AmqpSettings) -> lapin::Result<Connection> {
    let props = ConnectionProperties::default().with_connection_name("taskotron-trigger".into());
    Connection::connect(&settings.uri, props).await
}

fn runtime() -> Result<tokio::runtime::Runtime, AmqpError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(AmqpError::Runtime)
}

/// Sleeps `d`, waking early when `stop` is set.
async fn pause(d: Duration, stop: &AtomicBool) {
    let mut left = d;
    while !left.is_zero() && !stop.load(Ordering::Relaxed) {
        let step = left.min(POLL);
        tokio::time::sleep(step).await;
        left -= step;
    }
}

/// The connection lost because the broker said nothing for the exchange timeout
/// while `doing`.
fn silent(settings: &AmqpSettings, doing: &str, progressed: bool) -> Ended {
    Ended::Lost {
        error: format!(
            "the broker did not answer within {:?} while {doing}",
            settings.exchange_timeout
        ),
        progressed,
    }
}

/// How one connection ended.
enum Ended {
    Stopped,
    /// The broker went away; `progressed` when something was acknowledged first or
    /// the connection had been consuming for [`STEADY`].
    Lost {
        error: String,
        progressed: bool,
    },
}

/// Consumes until `stop` is set, reconnecting as needed. `handler` gets each message
/// (or why it cannot be read) and whether the broker had delivered it before.
///
/// # Errors
/// Only problems that retrying cannot fix: a bad URI, missing TLS support.
pub fn consume(
    settings: &AmqpSettings,
    stop: &AtomicBool,
    on_event: &mut dyn FnMut(BusEvent),
    handler: &mut dyn FnMut(Result<Message, MessageError>, bool) -> Verdict,
) -> Result<(), AmqpError> {
    check_uri(&settings.uri)?;
    runtime()?.block_on(async {
        let mut delay = MIN_BACKOFF;
        while !stop.load(Ordering::Relaxed) {
            match session(settings, stop, on_event, handler).await {
                Ended::Stopped => break,
                Ended::Lost { error, progressed } => {
                    if progressed {
                        delay = MIN_BACKOFF;
                    }
                    on_event(BusEvent::Reconnecting {
                        error,
                        delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    });
                    pause(delay, stop).await;
                    delay = (delay * 2).min(MAX_BACKOFF);
                }
            }
        }
        Ok(())
    })
}

async fn session(
    settings: &AmqpSettings,
    stop: &AtomicBool,
    on_event: &mut dyn FnMut(BusEvent),
    handler: &mut dyn FnMut(Result<Message, MessageError>, bool) -> Verdict,
) -> Ended {
    let mut progressed = false;
    let lost = |e: lapin::Error, progressed: bool| Ended::Lost {
        error: e.to_string(),
        progressed,
    };
    let setup = async {
        let conn = connect(settings).await?;
        let ch = conn.create_channel().await?;
        ch.queue_declare(
            settings.queue.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await?;
        for key in &settings.bindings {
            ch.queue_bind(
                settings.queue.as_str().into(),
                "amq.topic".into(),
                key.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        }
        ch.basic_qos(settings.prefetch, BasicQosOptions::default())
            .await?;
        let consumer = ch
            .basic_consume(
                settings.queue.as_str().into(),
                "taskotron-trigger".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        Ok::<_, lapin::Error>((conn, ch, consumer))
    };
    let (conn, channel, mut consumer) =
        match tokio::time::timeout(settings.exchange_timeout, setup).await {
            Ok(Ok(x)) => x,
            Ok(Err(e)) => return lost(e, false),
            Err(_) => return silent(settings, "connecting", progressed),
        };
    on_event(BusEvent::Consuming {
        queue: settings.queue.clone(),
        bindings: settings.bindings.clone(),
    });
    let mut retry = MIN_BACKOFF;
    let consuming_since = tokio::time::Instant::now();
    loop {
        progressed = progressed || consuming_since.elapsed() >= STEADY;
        if stop.load(Ordering::Relaxed) {
            // Deliveries still prefetched go back to the queue when the connection closes.
            let _ = conn.close(200, "taskotron trigger stopping".into()).await;
            return Ended::Stopped;
        }
        let Ok(next) = tokio::time::timeout(POLL, consumer.next()).await else {
            // A consumer is not always told that its connection died; its connection
            // and channel are, so an idle consumer looks at them.
            if !conn.status().connected() || !channel.status().connected() {
                return Ended::Lost {
                    error: "the connection to the broker closed".into(),
                    progressed,
                };
            }
            continue;
        };
        let delivery = match next {
            Some(Ok(d)) => d,
            Some(Err(e)) => return lost(e, progressed),
            None => {
                return Ended::Lost {
                    error: "the broker cancelled the consumer".into(),
                    progressed,
                }
            }
        };
        let id = delivery
            .properties
            .message_id()
            .as_ref()
            .map(|s| s.as_str().to_string());
        let message =
            message_from_delivery(delivery.routing_key.as_str(), id.as_deref(), &delivery.data);
        let verdict = handler(message, delivery.redelivered);
        let settle = async {
            match &verdict {
                Verdict::Ack => {
                    retry = MIN_BACKOFF;
                    progressed = true;
                    delivery.ack(BasicAckOptions::default()).await
                }
                Verdict::Reject(reason) => {
                    on_event(BusEvent::Rejected {
                        id: id.unwrap_or_else(|| "without id".into()),
                        reason: reason.clone(),
                    });
                    delivery.reject(BasicRejectOptions { requeue: false }).await
                }
                Verdict::Retry => {
                    delivery
                        .nack(BasicNackOptions {
                            requeue: true,
                            multiple: false,
                        })
                        .await
                }
            }
        };
        match tokio::time::timeout(settings.exchange_timeout, settle).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return lost(e, progressed),
            Err(_) => return silent(settings, "settling a delivery", progressed),
        }
        if matches!(verdict, Verdict::Retry) {
            pause(retry, stop).await;
            retry = (retry * 2).min(MAX_BACKOFF);
        }
    }
}

/// One message to publish: routing key, message id and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The routing key (the full topic).
    pub routing_key: String,
    /// The message id.
    pub message_id: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

/// Publishes `messages` to `amq.topic` as fedora-messaging does (persistent, JSON,
/// with a message id), waiting for the broker's confirmation of each. For replaying
/// recorded messages into a broker, and for tests.
///
/// # Errors
/// The broker could not be reached or did not confirm a message.
pub fn publish(uri: &str, messages: &[Outgoing]) -> Result<(), AmqpError> {
    let settings = AmqpSettings {
        uri: uri.to_string(),
        queue: String::new(),
        bindings: Vec::new(),
        prefetch: 1,
        tls: None,
        exchange_timeout: EXCHANGE_TIMEOUT,
    };
    publish_with(&settings, messages)
}

/// [`publish`] to the broker `settings` names, with its client certificates, the
/// whole exchange bounded by its `exchange_timeout` (the CI messages publisher: a
/// broker that says nothing must not stall it).
///
/// # Errors
/// A bad URI; the broker could not be reached in time or did not confirm a message.
pub fn publish_with(settings: &AmqpSettings, messages: &[Outgoing]) -> Result<(), AmqpError> {
    check_uri(&settings.uri)?;
    let fail = |e: lapin::Error| AmqpError::Publish(e.to_string());
    let exchange = async {
        let conn = connect(settings).await.map_err(fail)?;
        let ch = conn.create_channel().await.map_err(fail)?;
        ch.confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(fail)?;
        let mut pending = Vec::with_capacity(messages.len());
        for m in messages {
            let mut props = BasicProperties::default()
                .with_content_type("application/json".into())
                .with_content_encoding("utf-8".into())
                .with_delivery_mode(2);
            if let Some(id) = &m.message_id {
                props = props.with_message_id(id.as_str().into());
            }
            let confirm = ch
                .basic_publish(
                    "amq.topic".into(),
                    m.routing_key.as_str().into(),
                    BasicPublishOptions::default(),
                    &m.body,
                    props,
                )
                .await
                .map_err(fail)?;
            pending.push(confirm);
        }
        for confirm in pending {
            let confirmation = confirm.await.map_err(fail)?;
            if !confirmation.is_ack() {
                return Err(AmqpError::Publish(
                    "the broker did not confirm a message".into(),
                ));
            }
        }
        let _ = conn.close(200, "published".into()).await;
        Ok(())
    };
    runtime()?.block_on(async {
        tokio::time::timeout(settings.exchange_timeout, exchange)
            .await
            .unwrap_or_else(|_| {
                Err(AmqpError::Publish(format!(
                    "the broker at {} did not answer within {}",
                    redact(&settings.uri),
                    humantime::format_duration(settings.exchange_timeout)
                )))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_become_messages_or_say_why_not() {
        let m = message_from_delivery(
            "org.fedoraproject.prod.buildsys.tag",
            Some("id-1"),
            br#"{"tag": "f39"}"#,
        )
        .unwrap();
        assert_eq!(m.topic, "org.fedoraproject.prod.buildsys.tag");
        assert_eq!(m.id.as_deref(), Some("id-1"));
        let e = message_from_delivery("t", Some("id-2"), b"\xff{").unwrap_err();
        assert!(e.0.starts_with("message id-2: body is not JSON"), "{e}");
        let e = message_from_delivery("t", None, b"[1]").unwrap_err();
        assert_eq!(e.0, "message without id: body is not a JSON object");
    }

    #[test]
    fn passwords_never_show_and_bad_uris_are_refused_up_front() {
        assert_eq!(
            redact("amqp://guest:secret@127.0.0.1:5672/%2f"),
            "amqp://guest:***@127.0.0.1:5672/%2f"
        );
        assert_eq!(redact("amqp://127.0.0.1"), "amqp://127.0.0.1");
        let e = check_uri("http://x:pw@h/").unwrap_err().to_string();
        assert!(e.starts_with("`http://x:***@h/` is not an AMQP URI"), "{e}");
        if !cfg!(feature = "amqp-tls") {
            assert!(matches!(
                check_uri("amqps://h/%2f"),
                Err(AmqpError::TlsUnavailable)
            ));
        }
    }

    #[test]
    fn a_broker_that_accepts_and_says_nothing_is_left_and_tried_again() {
        // A TCP server that takes connections and never answers the AMQP header, as
        // a broker still booting can.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let held = {
            let accepted = accepted.clone();
            std::thread::spawn(move || {
                let mut open = Vec::new();
                for conn in listener.incoming().take(2) {
                    accepted.fetch_add(1, Ordering::SeqCst);
                    open.push(conn);
                }
                std::thread::sleep(Duration::from_secs(3));
            })
        };
        let settings = AmqpSettings {
            uri: format!("amqp://guest:guest@127.0.0.1:{port}/%2f"),
            queue: "q".into(),
            bindings: vec![],
            prefetch: 1,
            tls: None,
            exchange_timeout: Duration::from_millis(300),
        };
        let stop = AtomicBool::new(false);
        let mut events = Vec::new();
        let mut on_event = |e: BusEvent| {
            if matches!(e, BusEvent::Reconnecting { .. }) && events.len() == 1 {
                stop.store(true, Ordering::Relaxed);
            }
            events.push(e);
        };
        let mut handler = |_: Result<Message, MessageError>, _: bool| Verdict::Ack;
        consume(&settings, &stop, &mut on_event, &mut handler).unwrap();
        held.join().unwrap();
        assert_eq!(accepted.load(Ordering::SeqCst), 2, "it connected again");
        assert_eq!(events.len(), 2, "{events:?}");
        for (e, delay_ms) in events.iter().zip([200, 400]) {
            assert_eq!(
                e,
                &BusEvent::Reconnecting {
                    error: "the broker did not answer within 300ms while connecting".into(),
                    delay_ms,
                }
            );
        }
    }
}
