//! The message bus port: where the trigger's messages come from. A source hands each
//! message to a handler and settles it upstream by the handler's [`Verdict`]: the
//! handler says `Ack` only once the message's jobs are stored durably, so a crash
//! between the two makes the bus deliver the message again, never lose it.
//!
//! `amqp` (feature `amqp`) is the RabbitMQ adapter; the JSON-lines reader lives in the
//! CLI, since a file needs no acknowledgement. [`bindings`] says which routing keys a
//! set of rules needs.

#[cfg(feature = "amqp")]
pub mod amqp;

use std::collections::BTreeSet;

use crate::trigger::message::TOPICS;
use crate::trigger::Rules;

/// What to do with a message once the handler has seen it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Done with: its jobs are stored (or it starts none). Acknowledge it.
    Ack,
    /// It can never be read (not JSON, not an object), for this reason: reject it
    /// without requeueing, so it does not come back forever.
    Reject(String),
    /// It could not be handled now (the scheduler is unavailable): requeue it and back
    /// off before taking more.
    Retry,
}

/// What a source reports as it goes, for status lines and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusEvent {
    /// Connected and consuming from this queue.
    Consuming {
        /// The queue.
        queue: String,
        /// The routing keys bound to it.
        bindings: Vec<String>,
    },
    /// The connection went away or could not be made; trying again after the delay.
    Reconnecting {
        /// Why.
        error: String,
        /// How long until the next attempt, in milliseconds.
        delay_ms: u64,
    },
    /// A message was rejected without requeue.
    Rejected {
        /// Its id, or `without id`.
        id: String,
        /// Why.
        reason: String,
    },
}

/// The AMQP routing keys `rules` need: for each consumer topic whose message type
/// some rule can match, `#.<topic>` (any prefix: `org.fedoraproject.prod`, `stg`).
/// A rule that does not pin `message_type` needs them all.
pub fn bindings(rules: &Rules) -> Vec<String> {
    let wanted = rules.message_types();
    let keys: BTreeSet<String> = TOPICS
        .iter()
        .filter(|(_, types)| {
            wanted
                .as_ref()
                .is_none_or(|w| types.iter().any(|t| w.contains(*t)))
        })
        .map(|(topic, _)| format!("#.{topic}"))
        .collect();
    keys.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn rules(text: &str) -> Rules {
        Rules::load(text, Path::new("r.yml")).unwrap()
    }

    #[test]
    fn binds_only_the_topics_the_rules_can_match() {
        let koji =
            rules("- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [a]}]\n");
        assert_eq!(bindings(&koji), ["#.buildsys.build.state.change"]);
        let both = rules(
            "- when: {message_type: {$in: [KojiTagChanged, BodhiUpdateEdit]}, tag: '${tag}'}\n  do: [{tasks: [a]}]\n- when: {$or: [{message_type: BodhiUpdateEdit}, {message_type: KojiTagChanged}]}\n  do: [{tasks: [b]}]\n",
        );
        assert_eq!(bindings(&both), ["#.bodhi.update.edit", "#.buildsys.tag"]);
        let any = rules("- when: {item_type: koji_build}\n  do: [{tasks: [a]}]\n");
        assert_eq!(bindings(&any).len(), TOPICS.len());
        let real = Rules::load(
            include_str!("../trigger/testdata/trigger_rules.2020-final.yml"),
            Path::new("trigger_rules.yml"),
        )
        .unwrap();
        assert_eq!(bindings(&real), ["#.buildsys.build.state.change"]);
    }
}
