//! Bus messages in, trigger data out. Messages come as fedora-messaging messages
//! (`{routing_key|topic, properties: {message_id, headers}, body}`) or fedmsg
//! envelopes (`{topic, msg, msg_id, timestamp}`), one JSON object a line. Consumers
//! turn known topics into the flat mapping rules match against. Pure; no I/O.

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::Data;
use taskotron_model::item::distgit_branch;

/// A message from the bus. The body stays raw JSON text (inside the line it came in,
/// not copied) until a consumer reads the fields its topic needs, so the many fields
/// no rule looks at cost no allocations.
#[derive(Debug, Clone)]
pub struct Message {
    /// Its id, for logs.
    pub id: Option<String>,
    /// The topic (AMQP routing key).
    pub topic: String,
    /// The text the message was read from; the body is `text[body]`.
    text: String,
    body: std::ops::Range<usize>,
}

/// Why a line is not a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MessageError(pub String);

/// The envelope fields the trigger reads; everything else is skipped unread.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    routing_key: Option<&'a RawValue>,
    #[serde(borrow, default)]
    topic: Option<&'a RawValue>,
    #[serde(borrow, default)]
    msg_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    properties: Option<Properties<'a>>,
    #[serde(borrow, default)]
    body: Option<&'a RawValue>,
    #[serde(borrow, default)]
    msg: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Properties<'a> {
    #[serde(borrow, default)]
    message_id: Option<&'a RawValue>,
}

/// The text of a raw JSON value when it is a string.
fn raw_text(v: Option<&RawValue>) -> Option<String> {
    let v = v?;
    if !v.get().starts_with('"') {
        return None;
    }
    serde_json::from_str::<Cow<'_, str>>(v.get())
        .ok()
        .map(Cow::into_owned)
}

/// Whether raw JSON text is an object (it starts with `{`).
pub(crate) fn is_object(raw: &str) -> bool {
    raw.trim_start().starts_with('{')
}

impl Message {
    /// A message from parts (tests, fixtures, other adapters).
    pub fn new(id: Option<&str>, topic: &str, body: &Value) -> Self {
        let text = body.to_string();
        Self {
            id: id.map(str::to_string),
            topic: topic.to_string(),
            body: 0..text.len(),
            text,
        }
    }

    /// A message whose body is `body`, raw JSON text that must be an object (an AMQP
    /// delivery: the routing key is the topic). The rest of the body is checked when a
    /// consumer reads it ([`Consumed::Unreadable`]); a topic no consumer reads is
    /// never parsed at all.
    ///
    /// # Errors
    /// The body does not even start like a JSON object; the error names the message id.
    pub fn from_body(id: Option<&str>, topic: &str, body: String) -> Result<Self, MessageError> {
        let name = id.unwrap_or("without id");
        if !is_object(&body) {
            return Err(match serde_json::from_str::<IgnoredAny>(&body) {
                Ok(_) => MessageError(format!("message {name}: body is not a JSON object")),
                Err(e) => MessageError(format!("message {name}: body is not JSON: {e}")),
            });
        }
        Ok(Self {
            id: id.map(str::to_string),
            topic: topic.to_string(),
            body: 0..body.len(),
            text: body,
        })
    }

    /// The body, raw JSON text of an object.
    pub fn body(&self) -> &str {
        self.text.get(self.body.clone()).unwrap_or("{}")
    }

    /// The body as a JSON value.
    pub fn body_value(&self) -> Value {
        serde_json::from_str(self.body()).unwrap_or(Value::Null)
    }

    /// Reads one JSON line.
    ///
    /// # Errors
    /// Not JSON, not an object, or no topic and body.
    pub fn parse(line: &str) -> Result<Self, MessageError> {
        Self::parse_owned(line.to_string())
    }

    /// Reads one JSON line it takes over, so that the body need not be copied.
    ///
    /// # Errors
    /// Not JSON, not an object, or no topic and body.
    pub fn parse_owned(line: String) -> Result<Self, MessageError> {
        if !is_object(&line) {
            return Err(match serde_json::from_str::<IgnoredAny>(&line) {
                Ok(_) => MessageError("not a JSON object".into()),
                Err(e) => MessageError(format!("not JSON: {e}")),
            });
        }
        let e: Envelope<'_> =
            serde_json::from_str(&line).map_err(|e| MessageError(format!("not JSON: {e}")))?;
        let id = raw_text(e.msg_id)
            .or_else(|| raw_text(e.id))
            .or_else(|| raw_text(e.properties.and_then(|p| p.message_id)));
        let name = || id.as_deref().unwrap_or("without id").to_string();
        let topic = raw_text(e.routing_key)
            .or_else(|| raw_text(e.topic))
            .ok_or_else(|| MessageError(format!("message {} has no topic", name())))?;
        let body = e
            .body
            .or(e.msg)
            .ok_or_else(|| MessageError(format!("message {} has no body", name())))?;
        if !is_object(body.get()) {
            return Err(MessageError(format!(
                "message {}: body is not a JSON object",
                name()
            )));
        }
        // The raw body is a slice of `line`: its place there, by address.
        let start = body.get().as_ptr() as usize - line.as_ptr() as usize;
        let range = start..start + body.get().len();
        Ok(Self {
            id,
            topic,
            body: range,
            text: line,
        })
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
    Data(Data),
    /// A topic no consumer handles, or an event that starts nothing (a scratch build).
    Ignored(&'static str),
    /// The topic is known but the body lacks what it needs.
    Malformed(String),
    /// The topic is known but the body is not JSON: the message can never be read.
    Unreadable(String),
}

/// The longest text a field the trigger reads may hold (a package name, a version,
/// a tag, an update alias, an NVR); anything longer is not a real one.
pub const MAX_FIELD_LEN: usize = 256;

/// A field the trigger reads as text, borrowed from the body when it has no escapes.
/// Only a JSON string is text: a number (`name: 12345`, `1.5e300`), a boolean, a list
/// or an object is the wrong type, and the message is ignored with that reason
/// rather than turned into an item such as `12345-3.3.0-1.fc41`.
#[derive(Debug, Default)]
enum Text<'a> {
    /// Missing, or `null`.
    #[default]
    Absent,
    /// A string.
    Str(Cow<'a, str>),
    /// Anything else: what it was, for the message.
    Wrong(&'static str),
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text::Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text::Str(Cow::Owned(v)))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Text::Wrong("a number"))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Text::Wrong("a number"))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Text::Wrong("a number"))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Text::Wrong("a boolean"))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Text::Absent)
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Text::Absent)
            }
            fn visit_some<D: serde::Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Self::Value, D::Error> {
                d.deserialize_any(V(std::marker::PhantomData))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Self::Value, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text::Wrong("a list"))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Self::Value, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text::Wrong("an object"))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl Text<'_> {
    /// The text of field `name`: `None` when absent; an error naming the field when it
    /// is not a string or longer than [`MAX_FIELD_LEN`].
    fn field(self, name: &str) -> Result<Option<String>, String> {
        match self {
            Text::Absent => Ok(None),
            Text::Wrong(kind) => Err(format!("`{name}` is {kind}, not a string")),
            Text::Str(s) if s.len() > MAX_FIELD_LEN => Err(format!(
                "`{name}` is {} bytes long; a real one has at most {MAX_FIELD_LEN}",
                s.len()
            )),
            Text::Str(s) => Ok(Some(s.into_owned())),
        }
    }
}

/// [`Text::field`] as a JSON value (`null` when absent).
fn value(text: Text<'_>, name: &str) -> Result<Value, String> {
    Ok(text.field(name)?.map_or(Value::Null, Value::String))
}

/// Whether a build request (`[source, target, {options}]`) asks for a scratch build;
/// read without keeping any of it.
#[derive(Debug, Default)]
struct Scratch(bool);

impl<'de> Deserialize<'de> for Scratch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Options {
            #[serde(default)]
            scratch: Option<Value>,
        }
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Scratch;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a build request")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Scratch, A::Error> {
                let mut scratch = false;
                let mut n = 0;
                while n < 2 && a.next_element::<IgnoredAny>()?.is_some() {
                    n += 1;
                }
                if n == 2 {
                    if let Some(Some(o)) = a.next_element::<Option<Options>>().ok().flatten() {
                        scratch = o.scratch.and_then(|s| s.as_bool()).unwrap_or(false);
                    }
                    while a.next_element::<IgnoredAny>().ok().flatten().is_some() {}
                }
                Ok(Scratch(scratch))
            }
            fn visit_unit<E>(self) -> Result<Scratch, E> {
                Ok(Scratch(false))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Scratch, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scratch(false))
            }
        }
        d.deserialize_any(V)
    }
}

/// The fields of `buildsys.build.state.change` the trigger reads.
#[derive(Deserialize)]
struct BuildStateChange<'a> {
    #[serde(default)]
    new: Option<Value>,
    #[serde(borrow, default)]
    instance: Text<'a>,
    #[serde(borrow, default)]
    name: Text<'a>,
    #[serde(borrow, default)]
    version: Text<'a>,
    #[serde(borrow, default)]
    release: Text<'a>,
    #[serde(borrow, default)]
    owner: Text<'a>,
    #[serde(default)]
    request: Scratch,
}

/// The fields of `buildsys.tag` the trigger reads.
#[derive(Deserialize)]
struct Tag<'a> {
    #[serde(borrow, default)]
    tag: Text<'a>,
    #[serde(borrow, default)]
    name: Text<'a>,
    #[serde(borrow, default)]
    version: Text<'a>,
    #[serde(borrow, default)]
    release: Text<'a>,
    #[serde(borrow, default)]
    owner: Text<'a>,
}

/// The fields of a Bodhi update message the trigger reads.
#[derive(Deserialize)]
struct UpdateMessage<'a> {
    #[serde(borrow, default)]
    update: Option<Update<'a>>,
}

#[derive(Deserialize)]
struct Update<'a> {
    #[serde(borrow, default)]
    alias: Text<'a>,
    #[serde(borrow, default)]
    builds: Option<Vec<Build<'a>>>,
    #[serde(borrow, default)]
    release: Option<Release<'a>>,
}

#[derive(Deserialize)]
struct Build<'a> {
    #[serde(borrow, default)]
    nvr: Text<'a>,
}

#[derive(Deserialize)]
struct Release<'a> {
    #[serde(borrow, default)]
    name: Text<'a>,
}

/// `name-version-release`, without the formatting machinery (this runs per message).
fn nvr(name: &str, version: &str, release: &str) -> String {
    let mut s = String::with_capacity(name.len() + version.len() + release.len() + 2);
    s.push_str(name);
    s.push('-');
    s.push_str(version);
    s.push('-');
    s.push_str(release);
    s
}

/// A value every message of a kind shares.
type Shared = std::sync::LazyLock<Value>;

macro_rules! shared {
    ($($name:ident = $text:literal),* $(,)?) => {
        $(static $name: Shared = Shared::new(|| Value::String($text.into()));)*
    };
}

shared! {
    KOJI_BUILD_COMPLETED = "KojiBuildPackageCompleted",
    KOJI_TAG_CHANGED = "KojiTagChanged",
    BODHI_REQUEST_TESTING = "BodhiUpdateRequestTesting",
    BODHI_REQUEST_STABLE = "BodhiUpdateRequestStable",
    BODHI_EDIT = "BodhiUpdateEdit",
    KOJI_BUILD = "koji_build",
    KOJI_TAG = "koji_tag",
    BODHI_UPDATE = "bodhi_update",
}

fn shared(v: &'static Shared) -> Cow<'static, Value> {
    Cow::Borrowed(&**v)
}

fn own(v: Value) -> Cow<'static, Value> {
    Cow::Owned(v)
}

fn data<const N: usize>(pairs: [(&'static str, Cow<'static, Value>); N]) -> Data {
    let mut d = Data::with_capacity(N);
    for (k, v) in pairs {
        d.push_new(k, v);
    }
    d
}

/// A body that failed to read: not JSON at all, or JSON of the wrong shape.
fn unreadable_or(e: serde_json::Error, shape: &str) -> Consumed {
    if e.is_syntax() || e.is_eof() {
        Consumed::Unreadable(format!("body is not JSON: {e}"))
    } else {
        Consumed::Malformed(format!("{shape}: {e}"))
    }
}

/// Turns a message into trigger data.
pub fn consume(message: &Message) -> Consumed {
    let topic = message.topic.as_str();
    let raw = message.body();
    if topic.ends_with("buildsys.build.state.change") {
        let b = match serde_json::from_str::<BuildStateChange>(raw) {
            Ok(b) => b,
            Err(e) => return unreadable_or(e, "a build state change must be a JSON object"),
        };
        if b.new.as_ref().and_then(Value::as_i64) != Some(1) {
            return Consumed::Ignored("koji build not completed");
        }
        // What ignores a message is decided before anything is copied out of it:
        // most build messages are scratch builds or other states.
        match &b.instance {
            Text::Str(i) if i != "primary" => {
                return Consumed::Ignored("koji build on a secondary instance")
            }
            Text::Wrong(kind) => {
                return Consumed::Malformed(format!("`instance` is {kind}, not a string"))
            }
            _ => {}
        }
        if b.request.0 {
            return Consumed::Ignored("scratch build");
        }
        let fields = (|| {
            Ok::<_, String>((
                b.name.field("name")?,
                b.version.field("version")?,
                b.release.field("release")?,
                value(b.owner, "owner")?,
            ))
        })();
        let (name, version, release, owner) = match fields {
            Ok(f) => f,
            Err(why) => return Consumed::Malformed(why),
        };
        let (Some(name), Some(version), Some(release)) = (name, version, release) else {
            return Consumed::Malformed(
                "a build state change needs name, version and release".into(),
            );
        };
        let branch = distgit_branch(&release);
        return Consumed::Data(data([
            ("message_type", shared(&KOJI_BUILD_COMPLETED)),
            ("item", own(Value::String(nvr(&name, &version, &release)))),
            ("item_type", shared(&KOJI_BUILD)),
            ("name", own(Value::String(name))),
            ("version", own(Value::String(version))),
            ("release", own(Value::String(release))),
            ("owner", own(owner)),
            (
                "distgit_branch",
                own(branch.map_or(Value::Null, Value::String)),
            ),
            ("topic", own(Value::String(message.topic.clone()))),
        ]));
    }
    if topic.ends_with("buildsys.tag") {
        let b = match serde_json::from_str::<Tag>(raw) {
            Ok(b) => b,
            Err(e) => return unreadable_or(e, "a tag message must be a JSON object"),
        };
        let fields = (|| {
            Ok::<_, String>((
                b.tag.field("tag")?,
                value(b.name, "name")?,
                value(b.version, "version")?,
                value(b.release, "release")?,
                value(b.owner, "owner")?,
            ))
        })();
        let (tag, name, version, release, owner) = match fields {
            Ok(f) => f,
            Err(why) => return Consumed::Malformed(why),
        };
        let Some(tag) = tag else {
            return Consumed::Malformed("a tag message needs `tag`".into());
        };
        return Consumed::Data(data([
            ("message_type", shared(&KOJI_TAG_CHANGED)),
            ("item", own(Value::String(tag.clone()))),
            ("item_type", shared(&KOJI_TAG)),
            ("tag", own(Value::String(tag))),
            ("name", own(name)),
            ("version", own(version)),
            ("release", own(release)),
            ("owner", own(owner)),
            ("topic", own(Value::String(message.topic.clone()))),
        ]));
    }
    if let Some(kind) = topic.split("bodhi.update.").nth(1) {
        let message_type = match kind {
            "request.testing" => &BODHI_REQUEST_TESTING,
            "request.stable" => &BODHI_REQUEST_STABLE,
            "edit" => &BODHI_EDIT,
            _ => return Consumed::Ignored("bodhi topic without a consumer"),
        };
        let update = match serde_json::from_str::<UpdateMessage>(raw) {
            Ok(m) => m.update,
            Err(e) if e.is_syntax() || e.is_eof() => {
                return Consumed::Unreadable(format!("body is not JSON: {e}"))
            }
            Err(_) => None,
        };
        let Some(update) = update else {
            return Consumed::Malformed("a bodhi update message needs update.alias".into());
        };
        let fields = (|| {
            let alias = update.alias.field("update.alias")?;
            let builds = update
                .builds
                .unwrap_or_default()
                .into_iter()
                .map(|b| b.nvr.field("update.builds[].nvr"))
                .filter_map(Result::transpose)
                .map(|nvr| nvr.map(Value::String))
                .collect::<Result<Vec<Value>, String>>()?;
            let release = match update.release {
                Some(r) => value(r.name, "update.release.name")?,
                None => Value::Null,
            };
            Ok::<_, String>((alias, builds, release))
        })();
        let (alias, builds, release) = match fields {
            Ok(f) => f,
            Err(why) => return Consumed::Malformed(why),
        };
        let Some(alias) = alias else {
            return Consumed::Malformed("a bodhi update message needs update.alias".into());
        };
        return Consumed::Data(data([
            ("message_type", shared(message_type)),
            ("item", own(Value::String(alias))),
            ("item_type", shared(&BODHI_UPDATE)),
            ("release", own(release)),
            ("builds", own(Value::Array(builds))),
            ("topic", own(Value::String(message.topic.clone()))),
        ]));
    }
    Consumed::Ignored("topic without a consumer")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

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
        let tag = Message::new(
            None,
            "org.fedoraproject.prod.buildsys.tag",
            &serde_json::from_str(&sample("koji-buildsys-tag.body.json")).unwrap(),
        );
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
        let m = |topic: &str, body: Value| consume(&Message::new(None, topic, &body));
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
        let broken = Message::from_body(
            Some("b-1"),
            "org.fedoraproject.prod.buildsys.tag",
            "{\"tag\": ".into(),
        )
        .unwrap();
        assert!(
            matches!(consume(&broken), Consumed::Unreadable(e) if e.starts_with("body is not JSON")),
            "a body that is not JSON is found when it is read"
        );
        assert!(matches!(
            m("x.buildsys.tag", json!({"tag": ["a"]})),
            Consumed::Malformed(_)
        ));
        assert!(matches!(
            m("x.bodhi.update.edit", json!({"update": 5})),
            Consumed::Malformed(_)
        ));
        assert_eq!(distgit_branch("1.fc39"), Some("f39".into()));
        assert_eq!(distgit_branch("17.el9"), Some("epel9".into()));
        assert_eq!(distgit_branch("1"), None);
    }

    #[test]
    fn fields_of_the_wrong_type_or_size_never_become_items() {
        let m = |topic: &str, body: Value| consume(&Message::new(None, topic, &body));
        let build = |field: &str, value: Value| {
            let mut body =
                json!({"new": 1, "name": "htop", "version": "3.3.0", "release": "1.fc41"});
            body[field] = value;
            m("x.buildsys.build.state.change", body)
        };
        let long = "a".repeat(5 << 20);
        for (field, value, why) in [
            ("name", json!(12345), "`name` is a number, not a string"),
            ("name", json!(1.5e300), "`name` is a number, not a string"),
            (
                "version",
                json!(true),
                "`version` is a boolean, not a string",
            ),
            (
                "release",
                json!({"a": 1}),
                "`release` is an object, not a string",
            ),
            ("owner", json!(["x"]), "`owner` is a list, not a string"),
            (
                "name",
                json!(long),
                "`name` is 5242880 bytes long; a real one has at most 256",
            ),
        ] {
            assert_eq!(
                build(field, value),
                Consumed::Malformed(why.into()),
                "{field}"
            );
        }
        assert!(matches!(build("name", json!("htop")), Consumed::Data(_)));
        assert_eq!(
            m("x.buildsys.tag", json!({"tag": 41})),
            Consumed::Malformed("`tag` is a number, not a string".into())
        );
        assert_eq!(
            m("x.bodhi.update.edit", json!({"update": {"alias": 7}})),
            Consumed::Malformed("`update.alias` is a number, not a string".into())
        );
        assert_eq!(
            m(
                "x.bodhi.update.edit",
                json!({"update": {"alias": "FEDORA-2024-1", "builds": [{"nvr": 1}]}})
            ),
            Consumed::Malformed("`update.builds[].nvr` is a number, not a string".into())
        );
    }
}
