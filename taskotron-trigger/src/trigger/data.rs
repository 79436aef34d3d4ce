//! Trigger data: the flat mapping a consumer makes of a message and rules match
//! against (`message_type`, `item`, `item_type` and the topic's own fields). A small
//! vector with mostly static keys: a message has about ten fields, so a linear scan
//! beats a tree, and static keys cost no allocation per message. Pure; no I/O.

use std::borrow::Cow;

use serde_json::{Map, Value};

/// Field lookup, for the query matcher: trigger data and plain JSON objects alike.
pub trait Fields {
    /// The value of the top-level field `name`.
    fn field(&self, name: &str) -> Option<&Value>;
}

impl Fields for Map<String, Value> {
    fn field(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

/// The trigger data of one message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Data {
    /// Values a consumer sets for every message (`message_type: KojiTagChanged`) are
    /// shared statics, not allocated per message.
    fields: Vec<(Cow<'static, str>, Cow<'static, Value>)>,
}

static NULL: Value = Value::Null;

/// String equality that settles most mismatches on length and first byte, before
/// comparing the rest (this runs for every field a rule looks at).
#[inline]
pub(crate) fn same_text(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

impl Data {
    /// Empty data with room for `n` fields.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            fields: Vec::with_capacity(n),
        }
    }

    /// Sets `name` (replacing an earlier value).
    pub fn insert(&mut self, name: impl Into<Cow<'static, str>>, value: Value) {
        let name = name.into();
        match self.fields.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = Cow::Owned(value),
            None => self.fields.push((name, Cow::Owned(value))),
        }
    }

    /// Adds a field the caller knows is not there yet (a consumer building data),
    /// skipping the search [`Data::insert`] does.
    pub(crate) fn push_new(&mut self, name: &'static str, value: Cow<'static, Value>) {
        debug_assert!(self.get(name).is_none(), "{name} set twice");
        self.fields.push((Cow::Borrowed(name), value));
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(k, _)| same_text(k, name))
            .map(|(_, v)| v.as_ref())
    }

    /// The fields, in the order they were set.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields.iter().map(|(k, v)| (k.as_ref(), v.as_ref()))
    }

    /// The fields as a JSON object.
    pub fn to_map(&self) -> Map<String, Value> {
        self.iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }
}

impl Fields for Data {
    fn field(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

impl From<Map<String, Value>> for Data {
    fn from(map: Map<String, Value>) -> Self {
        Self {
            fields: map
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k), Cow::Owned(v)))
                .collect(),
        }
    }
}

impl std::ops::Index<&str> for Data {
    type Output = Value;

    /// The value of a field, or null, as `serde_json` indexing does.
    fn index(&self, name: &str) -> &Value {
        self.get(name).unwrap_or(&NULL)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn looks_up_replaces_and_converts() {
        let mut d = Data::with_capacity(2);
        d.insert("item", json!("a-1-1"));
        d.insert("name", json!("a"));
        d.insert("item", json!("b-1-1"));
        assert_eq!(d["item"], "b-1-1");
        assert_eq!(d["missing"], Value::Null);
        assert_eq!(d.get("nam"), None);
        let map = d.to_map();
        assert_eq!(Data::from(map.clone()).to_map(), map);
        assert_eq!(map.len(), 2);
    }
}
