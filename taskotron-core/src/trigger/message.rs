//! Bus messages in, trigger data out. Messages come as fedora-messaging messages
//! (`{routing_key|topic, properties: {message_id, headers}, body}`) or fedmsg
//! envelopes (`{topic, msg, msg_id, timestamp}`), one JSON object a line. Consumers
//! turn known topics into the flat mapping rules match against. Pure; no I/O.

use serde_json::{json, Map, Value};

/// A message from the bus.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Its id, for logs.
    pub id: Option<String>,
    /// The topic (AMQP routing key).
    pub topic: String,
    /// The JSON body.
    pub body: Value,
}

/// Why a line is not a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MessageError(pub String);

impl Message {
    /// Reads one JSON line.
    ///
    /// # Errors
    /// Not JSON, not an object, or no topic and body.
    pub fn parse(line: &str) -> Result<Self, MessageError> {
        let v: Value =
            serde_json::from_str(line).map_err(|e| MessageError(format!("not JSON: {e}")))?;
        let Value::Object(mut m) = v else {
            return Err(MessageError("not a JSON object".into()));
        };
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let id = text(m.get("msg_id"))
            .or_else(|| text(m.get("id")))
            .or_else(|| text(m.get("properties").and_then(|p| p.get("message_id"))));
        let topic = text(m.get("routing_key"))
            .or_else(|| text(m.get("topic")))
            .ok_or_else(|| {
                MessageError(format!(
                    "message {} has no topic",
                    id.as_deref().unwrap_or("without id")
                ))
            })?;
        let body = m
            .remove("body")
            .or_else(|| m.remove("msg"))
            .ok_or_else(|| {
                MessageError(format!(
                    "message {} has no body",
                    id.as_deref().unwrap_or("without id")
                ))
            })?;
        Ok(Self { id, topic, body })
    }
}

/// The topics (routing-key suffixes) a consumer handles, with the message types each
/// can produce.
pub const TOPICS: &[(&str, &[&str])] = &[
    (
        "buildsys.build.state.change",
        &["KojiBuildPackageCompleted"],
    ),
    ("buildsys.tag", &["KojiTagChanged"]),
    (
        "bodhi.update.request.testing",
        &["BodhiUpdateRequestTesting"],
    ),
    ("bodhi.update.request.stable", &["BodhiUpdateRequestStable"]),
    ("bodhi.update.edit", &["BodhiUpdateEdit"]),
];

/// What a consumer made of a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Consumed {
    /// Trigger data for the rules.
    Data(Map<String, Value>),
    /// A topic no consumer handles, or an event that starts nothing (a scratch build).
    Ignored(&'static str),
    /// The topic is known but the body lacks what it needs.
    Malformed(String),
}

/// The dist-git branch of a release: `1.fc39` -> `f39`, `3.el9` -> `epel9`.
pub fn distgit_branch(release: &str) -> Option<String> {
    let tag = release
        .rsplit('.')
        .find(|p| p.starts_with("fc") || p.starts_with("el"))?;
    if let Some(n) = tag
        .strip_prefix("fc")
        .filter(|n| n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty())
    {
        return Some(format!("f{n}"));
    }
    tag.strip_prefix("el")
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        .map(|n| format!("epel{n}"))
}

/// Turns a message into trigger data.
pub fn consume(message: &Message) -> Consumed {
    let b = &message.body;
    let s = |k: &str| {
        b.get(k).and_then(|v| {
            v.as_str()
                .map(str::to_string)
                .or_else(|| v.as_u64().map(|n| n.to_string()))
        })
    };
    let topic = message.topic.as_str();
    if topic.ends_with("buildsys.build.state.change") {
        if b.get("new").and_then(Value::as_i64) != Some(1) {
            return Consumed::Ignored("koji build not completed");
        }
        if b.get("instance")
            .and_then(Value::as_str)
            .is_some_and(|i| i != "primary")
        {
            return Consumed::Ignored("koji build on a secondary instance");
        }
        let scratch = b
            .get("request")
            .and_then(|r| r.get(2))
            .and_then(|o| o.get("scratch"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if scratch {
            return Consumed::Ignored("scratch build");
        }
        let (Some(name), Some(version), Some(release)) = (s("name"), s("version"), s("release"))
        else {
            return Consumed::Malformed(
                "a build state change needs name, version and release".into(),
            );
        };
        let mut data = json!({
            "message_type": "KojiBuildPackageCompleted",
            "item": format!("{name}-{version}-{release}"),
            "item_type": "koji_build",
            "name": name, "version": version, "release": release,
            "owner": s("owner"),
            "distgit_branch": distgit_branch(&release),
        });
        data["topic"] = Value::String(message.topic.clone());
        return Consumed::Data(data.as_object().cloned().unwrap_or_default());
    }
    if topic.ends_with("buildsys.tag") {
        let Some(tag) = s("tag") else {
            return Consumed::Malformed("a tag message needs `tag`".into());
        };
        let data = json!({
            "message_type": "KojiTagChanged", "item": tag, "item_type": "koji_tag", "tag": tag,
            "name": s("name"), "version": s("version"), "release": s("release"), "owner": s("owner"),
            "topic": message.topic,
        });
        return Consumed::Data(data.as_object().cloned().unwrap_or_default());
    }
    if let Some(kind) = topic.split("bodhi.update.").nth(1) {
        let message_type = match kind {
            "request.testing" => "BodhiUpdateRequestTesting",
            "request.stable" => "BodhiUpdateRequestStable",
            "edit" => "BodhiUpdateEdit",
            _ => return Consumed::Ignored("bodhi topic without a consumer"),
        };
        let update = b.get("update");
        let Some(alias) = update.and_then(|u| u.get("alias")).and_then(Value::as_str) else {
            return Consumed::Malformed("a bodhi update message needs update.alias".into());
        };
        let builds: Vec<Value> = update
            .and_then(|u| u.get("builds"))
            .and_then(Value::as_array)
            .map(|bs| bs.iter().filter_map(|b| b.get("nvr").cloned()).collect())
            .unwrap_or_default();
        let data = json!({
            "message_type": message_type, "item": alias, "item_type": "bodhi_update",
            "release": update.and_then(|u| u.get("release")).and_then(|r| r.get("name")),
            "builds": builds, "topic": message.topic,
        });
        return Consumed::Data(data.as_object().cloned().unwrap_or_default());
    }
    Consumed::Ignored("topic without a consumer")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> String {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("src/trigger/testdata")
                .join(name),
        )
        .unwrap();
        serde_json::to_string(&serde_json::from_str::<Value>(&text).unwrap()).unwrap()
    }

    #[test]
    fn real_messages_become_trigger_data() {
        let koji = Message::parse(&sample("koji-buildsys-build-state-change.amqp.json")).unwrap();
        assert_eq!(
            koji.id.as_deref(),
            Some("704de723-240c-4fb3-9bc1-3af96213b705")
        );
        let Consumed::Data(d) = consume(&koji) else {
            panic!("not consumed")
        };
        assert_eq!(d["item"], "grep-3.11-1.fc39");
        assert_eq!(d["message_type"], "KojiBuildPackageCompleted");
        assert_eq!(d["distgit_branch"], "f39");
        let bodhi = Message::parse(&sample("bodhi-update-request-testing.amqp.json")).unwrap();
        let Consumed::Data(d) = consume(&bodhi) else {
            panic!("not consumed")
        };
        assert_eq!(
            (d["item"].as_str(), d["message_type"].as_str()),
            (
                Some("FEDORA-2019-f1ca3c00e5"),
                Some("BodhiUpdateRequestTesting")
            )
        );
        let tag = Message {
            id: None,
            topic: "org.fedoraproject.prod.buildsys.tag".into(),
            body: serde_json::from_str(&sample("koji-buildsys-tag.body.json")).unwrap(),
        };
        let Consumed::Data(d) = consume(&tag) else {
            panic!("not consumed")
        };
        assert_eq!(d["item"], "epel9-build-side-68659");
    }

    #[test]
    fn other_messages_are_ignored_or_refused() {
        assert!(Message::parse("not json")
            .unwrap_err()
            .0
            .starts_with("not JSON"));
        assert!(Message::parse("[1]").is_err());
        assert!(Message::parse(r#"{"msg_id": "m-1", "body": {}}"#)
            .unwrap_err()
            .0
            .contains("m-1"));
        let m = |topic: &str, body: Value| {
            consume(&Message {
                id: None,
                topic: topic.into(),
                body,
            })
        };
        assert_eq!(
            m("x.buildsys.build.state.change", json!({"new": 2})),
            Consumed::Ignored("koji build not completed")
        );
        assert_eq!(
            m(
                "x.buildsys.build.state.change",
                json!({"new": 1, "request": ["a", "b", {"scratch": true}]})
            ),
            Consumed::Ignored("scratch build")
        );
        assert!(matches!(
            m("x.buildsys.build.state.change", json!({"new": 1})),
            Consumed::Malformed(_)
        ));
        assert_eq!(
            m("x.other.thing", json!({})),
            Consumed::Ignored("topic without a consumer")
        );
        assert_eq!(distgit_branch("1.fc39"), Some("f39".into()));
        assert_eq!(distgit_branch("17.el9"), Some("epel9".into()));
        assert_eq!(distgit_branch("1"), None);
    }
}
