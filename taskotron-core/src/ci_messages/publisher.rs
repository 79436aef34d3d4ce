//! Publishing the queue's events as Fedora CI messages: read from the feed's
//! cursor, build each message, hand the batch to the broker and, once it
//! confirmed them, move the cursor. What the broker did not confirm is read
//! again on the next round: nothing accepted is lost, and a message published
//! twice keeps its id.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::message::{message, stage_of, Artifact, CiMessage, CiSettings, Subject};
use crate::bodhi::BodhiClient;
use crate::koji::KojiClient;
use crate::scheduler::{Queue, QueueError};
use crate::ItemType;

/// The feed cursor the publisher moves.
pub const CURSOR: &str = "ci_messages";

/// How many events one round reads at most.
const BATCH: usize = 200;

/// Why a round published nothing; the next round tries again.
#[derive(Debug, thiserror::Error)]
pub enum PublisherError {
    /// The queue could not be read or the cursor moved.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// Koji could not say who built a build (the message needs its task id),
    /// or Bodhi which builds an update holds.
    #[error("cannot ask {service} about `{nvr}`: {why}")]
    Lookup {
        /// `Koji` or `Bodhi`.
        service: &'static str,
        /// The build or update.
        nvr: String,
        /// What went wrong.
        why: String,
    },
    /// The broker did not take the messages.
    #[error("cannot publish: {0}")]
    Send(String),
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Published {
    /// Messages the broker confirmed.
    pub messages: usize,
    /// Events that announce nothing (a claim, a job that is neither a Koji
    /// build's nor an update's, a build Koji or an update Bodhi no longer knows).
    pub skipped: usize,
    /// Where the cursor now stands.
    pub position: i64,
}

/// Where a build's artifact facts come from: Koji (and Bodhi, for an update's
/// builds) in service, a table in tests.
pub trait Builds {
    /// The build `nvr`'s task and issuer; `Ok(None)` when Koji does not know it.
    ///
    /// # Errors
    /// Koji could not be asked.
    fn artifact(&mut self, nvr: &str) -> Result<Option<Artifact>, String>;

    /// The N-V-Rs of the update `alias`'s builds; `Ok(None)` when there is no
    /// such update (or nobody to ask).
    ///
    /// # Errors
    /// Bodhi could not be asked.
    fn update(&mut self, alias: &str) -> Result<Option<Vec<String>>, String>;
}

/// The services a deployment asks: Koji about builds, Bodhi about updates.
pub struct Fedora {
    /// Koji, for each build's task and owner.
    pub koji: KojiClient,
    /// Bodhi, for an update's builds; without it updates announce nothing.
    pub bodhi: Option<BodhiClient>,
}

impl Builds for Fedora {
    fn artifact(&mut self, nvr: &str) -> Result<Option<Artifact>, String> {
        Ok(self
            .koji
            .lookup(nvr)
            .map_err(|e| e.to_string())?
            .map(|b| Artifact {
                // An imported build has no task; 0 still validates and says "none".
                task_id: b.task_id.unwrap_or(0),
                issuer: b.owner_name.unwrap_or_else(|| "unknown".into()),
                source: b.source,
            }))
    }

    fn update(&mut self, alias: &str) -> Result<Option<Vec<String>>, String> {
        match &self.bodhi {
            Some(bodhi) => bodhi.builds(alias).map_err(|e| e.to_string()),
            None => Ok(None),
        }
    }
}

/// Reads the feed and publishes it.
pub struct Publisher<B> {
    settings: CiSettings,
    builds: B,
    /// A build's or an update's facts do not change: asked once per item.
    known: HashMap<String, Option<Subject>>,
}

impl<B: Builds> Publisher<B> {
    /// A publisher of `settings`'s messages, asking `builds` about builds.
    pub fn new(settings: CiSettings, builds: B) -> Self {
        Self {
            settings,
            builds,
            known: HashMap::new(),
        }
    }

    /// Sets the cursor at the feed's end when it was never set, so that turning
    /// messages on does not replay the queue's whole past; where it stands.
    ///
    /// # Errors
    /// The queue could not be read or written.
    pub fn start(queue: &mut Queue) -> Result<i64, QueueError> {
        if let Some(at) = queue.cursor(CURSOR)? {
            return Ok(at);
        }
        let end = queue.feed_end()?;
        queue.set_cursor(CURSOR, end)?;
        Ok(end)
    }

    /// The messages of the events after the cursor (one batch), without sending
    /// them or moving it; and the position after the last event read.
    ///
    /// # Errors
    /// The queue could not be read, or Koji could not be asked.
    pub fn pending(
        &mut self,
        queue: &Queue,
    ) -> Result<(Vec<CiMessage>, usize, i64), PublisherError> {
        // Never set: the feed starts at its end, as [`Publisher::start`] sets it.
        let from = match queue.cursor(CURSOR)? {
            Some(at) => at,
            None => queue.feed_end()?,
        };
        let events = queue.events_after(from, BATCH)?;
        let mut messages = Vec::new();
        let mut skipped = 0;
        let mut position = from;
        for fed in events {
            position = fed.position;
            if stage_of(&fed.event.event).is_none() {
                skipped += 1;
                continue;
            }
            let Some(job) = queue.get(&fed.build_id)? else {
                skipped += 1;
                continue;
            };
            let subject = match self.known.get(&job.request.item) {
                Some(a) => a.clone(),
                None => {
                    let a = self.subject(job.request.item_type, &job.request.item)?;
                    self.known.insert(job.request.item.clone(), a.clone());
                    a
                }
            };
            match subject.and_then(|a| message(&job, &fed, &a, &self.settings)) {
                Some(m) => messages.push(m),
                None => skipped += 1,
            }
        }
        Ok((messages, skipped, position))
    }

    /// What the message about `item` names: a build's Koji facts, an update's
    /// builds' (every one Koji knows); `None` for other items and unknown ones.
    fn subject(&mut self, kind: ItemType, item: &str) -> Result<Option<Subject>, PublisherError> {
        let failed = |service: &'static str, nvr: &str| {
            let nvr = nvr.to_string();
            move |why| PublisherError::Lookup { service, nvr, why }
        };
        match kind {
            ItemType::KojiBuild => Ok(self
                .builds
                .artifact(item)
                .map_err(failed("Koji", item))?
                .map(Subject::Build)),
            ItemType::BodhiUpdate => {
                let Some(nvrs) = self.builds.update(item).map_err(failed("Bodhi", item))? else {
                    return Ok(None);
                };
                let mut builds = Vec::with_capacity(nvrs.len());
                for nvr in nvrs {
                    if let Some(a) = self.builds.artifact(&nvr).map_err(failed("Koji", &nvr))? {
                        builds.push((nvr, a));
                    }
                }
                Ok(Some(Subject::Update(builds)))
            }
            _ => Ok(None),
        }
    }

    /// One round: the pending messages handed to `send` (which returns once the
    /// broker confirmed them all), then the cursor moved past them.
    ///
    /// # Errors
    /// Nothing moved: the queue, Koji or the broker failed.
    pub fn publish(
        &mut self,
        queue: &mut Queue,
        send: &mut dyn FnMut(&[CiMessage]) -> Result<(), String>,
    ) -> Result<Published, PublisherError> {
        let (messages, skipped, position) = self.pending(queue)?;
        if !messages.is_empty() {
            send(&messages).map_err(PublisherError::Send)?;
        }
        if queue.cursor(CURSOR)? != Some(position) {
            queue.set_cursor(CURSOR, position)?;
        }
        Ok(Published {
            messages: messages.len(),
            skipped,
            position,
        })
    }
}

impl<B: Builds> Publisher<B> {
    /// Rounds until one finds nothing more to read: everything pending published.
    /// Totals of the rounds.
    ///
    /// # Errors
    /// A round failed; what earlier rounds published stays published.
    pub fn drain(
        &mut self,
        queue: &mut Queue,
        send: &mut dyn FnMut(&[CiMessage]) -> Result<(), String>,
    ) -> Result<Published, PublisherError> {
        let mut total = Published {
            position: match queue.cursor(CURSOR)? {
                Some(at) => at,
                None => queue.feed_end()?,
            },
            ..Published::default()
        };
        loop {
            let round = self.publish(queue, send)?;
            let moved = round.position != total.position;
            total.messages += round.messages;
            total.skipped += round.skipped;
            total.position = round.position;
            if !moved {
                return Ok(total);
            }
        }
    }

    /// Publishes until `stop` is set: drains, then looks again every `poll`;
    /// after a failure waits twice as long each time (up to 30 s), since the
    /// broker or Koji may be away for a while. `on_round` hears every drain that
    /// published something and every failure.
    pub fn run(
        &mut self,
        queue: &mut Queue,
        stop: &AtomicBool,
        poll: Duration,
        send: &mut dyn FnMut(&[CiMessage]) -> Result<(), String>,
        on_round: &mut dyn FnMut(&Result<Published, PublisherError>),
    ) {
        let mut wait = poll;
        while !stop.load(Ordering::Relaxed) {
            let round = self.drain(queue, send);
            match &round {
                Ok(p) => {
                    wait = poll;
                    if p.messages > 0 {
                        on_round(&round);
                    }
                }
                Err(_) => {
                    on_round(&round);
                    wait = (wait * 2).min(Duration::from_secs(30));
                }
            }
            let until = std::time::Instant::now() + wait;
            while !stop.load(Ordering::Relaxed) && std::time::Instant::now() < until {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dict::JobRequest;
    use std::time::SystemTime;

    struct Table;
    impl Builds for Table {
        fn artifact(&mut self, nvr: &str) -> Result<Option<Artifact>, String> {
            match nvr {
                "gone-1-1.fc41" => Ok(None),
                "down-1-1.fc41" => Err("connection refused".into()),
                _ => Ok(Some(Artifact {
                    task_id: 42,
                    issuer: "packager".into(),
                    source: None,
                })),
            }
        }

        fn update(&mut self, alias: &str) -> Result<Option<Vec<String>>, String> {
            match alias {
                "FEDORA-2026-two" => Ok(Some(vec![
                    "htop-3.3.0-1.fc41".into(),
                    "gone-1-1.fc41".into(),
                    "btop-1.4.0-1.fc41".into(),
                ])),
                "FEDORA-2026-down" => Err("Bodhi is away".into()),
                _ => Ok(None),
            }
        }
    }

    /// One round through a broker that takes everything: what it did and sent.
    fn publish_all(
        publisher: &mut Publisher<Table>,
        queue: &mut Queue,
    ) -> (Published, Vec<CiMessage>) {
        let mut sent = Vec::new();
        let round = publisher
            .publish(queue, &mut |m| {
                sent.extend(m.iter().cloned());
                Ok(())
            })
            .unwrap();
        (round, sent)
    }

    fn request(item: &str) -> JobRequest {
        serde_json::from_value(serde_json::json!({
            "item": item, "item_type": "koji_build", "taskname": "rpmlint", "arch": "x86_64"
        }))
        .unwrap()
    }

    #[test]
    fn every_event_is_published_once_confirmed_and_again_when_not() {
        let dir = tempfile::tempdir().unwrap();
        let mut queue = Queue::open(&dir.path().join("queue.sqlite")).unwrap();
        let mut publisher = Publisher::new(super::super::message::tests::settings(), Table);
        // Turned on with a job already queued: its past is not replayed.
        queue
            .enqueue(&[request("old-1-1.fc41")], SystemTime::now())
            .unwrap();
        let start = Publisher::<Table>::start(&mut queue).unwrap();
        assert!(start > 0);
        queue
            .enqueue(
                &[request("htop-3.3.0-1.fc41"), request("gone-1-1.fc41")],
                SystemTime::now(),
            )
            .unwrap();
        // The broker is down: nothing moves, and the same messages come next time.
        let e = publisher
            .publish(&mut queue, &mut |_| Err("connection refused".into()))
            .unwrap_err();
        assert!(e.to_string().contains("connection refused"), "{e}");
        assert_eq!(queue.cursor(CURSOR).unwrap(), Some(start));
        let (round, sent) = publish_all(&mut publisher, &mut queue);
        assert_eq!(
            (round.messages, round.skipped),
            (1, 1),
            "Koji forgot one build"
        );
        assert_eq!(sent[0].topic, "org.centos.prod.ci.koji-build.test.queued");
        assert_eq!(sent[0].body["artifact"]["nvr"], "htop-3.3.0-1.fc41");
        // Nothing new: nothing sent.
        let round = publisher
            .publish(&mut queue, &mut |_| panic!("nothing to send"))
            .unwrap();
        assert_eq!(round.messages, 0);
        // Koji down: the round fails and the event waits.
        queue
            .enqueue(&[request("down-1-1.fc41")], SystemTime::now())
            .unwrap();
        let before = queue.cursor(CURSOR).unwrap();
        assert!(publisher.publish(&mut queue, &mut |_| Ok(())).is_err());
        assert_eq!(queue.cursor(CURSOR).unwrap(), before);
    }

    #[test]
    fn an_update_is_published_with_the_builds_koji_knows() {
        let dir = tempfile::tempdir().unwrap();
        let mut queue = Queue::open(&dir.path().join("queue.sqlite")).unwrap();
        Publisher::<Table>::start(&mut queue).unwrap();
        let mut publisher = Publisher::new(super::super::message::tests::settings(), Table);
        let update = |alias: &str| {
            let mut r = request(alias);
            r.item_type = ItemType::BodhiUpdate;
            r
        };
        queue
            .enqueue(
                &[update("FEDORA-2026-two"), update("FEDORA-2026-none")],
                SystemTime::now(),
            )
            .unwrap();
        let (round, sent) = publish_all(&mut publisher, &mut queue);
        assert_eq!((round.messages, round.skipped), (1, 1), "no such update");
        assert_eq!(
            sent[0].topic,
            "org.centos.prod.ci.fedora-update.test.queued"
        );
        let builds: Vec<_> = sent[0].body["artifact"]["builds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["nvr"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(builds, ["htop-3.3.0-1.fc41", "btop-1.4.0-1.fc41"]);
        // Bodhi away: the round fails, names the update, and the event waits.
        queue
            .enqueue(&[update("FEDORA-2026-down")], SystemTime::now())
            .unwrap();
        let before = queue.cursor(CURSOR).unwrap();
        let e = publisher.publish(&mut queue, &mut |_| Ok(())).unwrap_err();
        assert!(
            e.to_string()
                .contains("cannot ask Bodhi about `FEDORA-2026-down`: Bodhi is away"),
            "{e}"
        );
        assert_eq!(queue.cursor(CURSOR).unwrap(), before);
    }

    #[test]
    fn gc_keeps_the_cursor_inside_the_feed() {
        let dir = tempfile::tempdir().unwrap();
        let mut queue = Queue::open(&dir.path().join("queue.sqlite")).unwrap();
        let long_ago = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        let ids = queue.enqueue(&[request("a-1-1.fc41")], long_ago).unwrap();
        let lease = std::time::Duration::from_secs(60);
        let claimed = queue
            .claim("w", &[crate::Arch::X86_64], lease, 3, long_ago)
            .unwrap()
            .unwrap();
        assert_eq!(claimed.build_id, ids[0]);
        queue
            .crash(
                &ids[0],
                "w",
                crate::scheduler::CrashCause::Task,
                "bad",
                long_ago,
            )
            .unwrap();
        Publisher::<Table>::start(&mut queue).unwrap();
        queue.forget_before(SystemTime::now(), false).unwrap();
        // Every event went; the next one must still be after the cursor.
        assert_eq!(queue.cursor(CURSOR).unwrap(), Some(0));
        queue
            .enqueue(&[request("b-1-1.fc41")], SystemTime::now())
            .unwrap();
        let mut publisher = Publisher::new(super::super::message::tests::settings(), Table);
        let round = publisher.publish(&mut queue, &mut |_| Ok(())).unwrap();
        assert_eq!(round.messages, 1);
    }
}
