//! JSON as Kafka Connect's JsonConverter wrote it, opened only as deep as a transform looks: what
//! a transform does not touch keeps its exact bytes (Java's number formatting, escapes, order).

use indexmap::IndexMap;
use serde_json::value::RawValue;

use super::TransformError;

/// A JSON value: its bytes, or an object or array opened into its members.
#[derive(Debug, Clone)]
pub(crate) enum Json {
    Raw(Box<RawValue>),
    Object(IndexMap<String, Json>),
    Array(Vec<Json>),
}

impl Json {
    /// The value `bytes` hold (checked to be JSON, not opened).
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, TransformError> {
        serde_json::from_slice(bytes)
            .map(Self::Raw)
            .map_err(|_| TransformError::NotJson)
    }

    pub(crate) fn null() -> Self {
        Self::Raw(RawValue::from_string("null".to_owned()).expect("null is JSON"))
    }

    pub(crate) fn string(text: &str) -> Self {
        let mut out = Vec::with_capacity(text.len() + 2);
        walbridge_event::write_json_string(&mut out, text);
        Self::Raw(
            RawValue::from_string(String::from_utf8(out).expect("escaped UTF-8 stays UTF-8"))
                .expect("a JSON string"),
        )
    }

    pub(crate) fn bool(value: bool) -> Self {
        Self::Raw(RawValue::from_string(value.to_string()).expect("a boolean is JSON"))
    }

    /// The first JSON value of `text`, as Jackson's `readTree` reads a document: whatever follows
    /// it is ignored. `None` when it does not begin with a JSON value.
    pub(crate) fn read_tree(text: &str) -> Option<Self> {
        let mut values = serde_json::Deserializer::from_str(text).into_iter::<Box<RawValue>>();
        values.next()?.ok().map(Self::Raw)
    }

    /// A number (or other literal) from its JSON text.
    pub(crate) fn literal(text: String) -> Self {
        Self::Raw(RawValue::from_string(text).expect("a JSON literal"))
    }

    /// The text of a literal (a number, `true`, `null`, a quoted string); `None` for an object or
    /// array.
    pub(crate) fn literal_text(&self) -> Option<&str> {
        match self {
            Self::Raw(raw) if !raw.get().starts_with(['{', '[']) => Some(raw.get()),
            _ => None,
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Self::Raw(raw) if raw.get() == "null")
    }

    /// The object's members, opening it if needed; `None` for anything but an object.
    pub(crate) fn object(&mut self) -> Option<&mut IndexMap<String, Self>> {
        if let Self::Raw(raw) = self {
            let members: IndexMap<String, Box<RawValue>> = serde_json::from_str(raw.get()).ok()?;
            *self = Self::Object(
                members
                    .into_iter()
                    .map(|(k, v)| (k, Self::Raw(v)))
                    .collect(),
            );
        }
        match self {
            Self::Object(members) => Some(members),
            _ => None,
        }
    }

    /// The array's elements, opening it if needed; `None` for anything but an array.
    pub(crate) fn array(&mut self) -> Option<&mut Vec<Self>> {
        if let Self::Raw(raw) = self {
            let elements: Vec<Box<RawValue>> = serde_json::from_str(raw.get()).ok()?;
            *self = Self::Array(elements.into_iter().map(Self::Raw).collect());
        }
        match self {
            Self::Array(elements) => Some(elements),
            _ => None,
        }
    }

    /// The member `name` of an object.
    pub(crate) fn get(&mut self, name: &str) -> Option<&mut Self> {
        self.object()?.get_mut(name)
    }

    /// Takes the member `name` of an object out of it.
    pub(crate) fn take(&mut self, name: &str) -> Option<Self> {
        self.object()?.shift_remove(name)
    }

    /// The text of a JSON string.
    pub(crate) fn as_str(&self) -> Option<String> {
        match self {
            Self::Raw(raw) => serde_json::from_str(raw.get()).ok(),
            _ => None,
        }
    }

    /// The value as Kafka Connect's `SimpleHeaderConverter` writes a primitive: a string's text,
    /// a number's or boolean's JSON text; `None` for null, structs and arrays.
    pub(crate) fn header_text(&self) -> Option<String> {
        match self {
            Self::Raw(raw) => {
                let text = raw.get();
                match text.as_bytes().first() {
                    Some(b'"') => serde_json::from_str(text).ok(),
                    Some(b'{' | b'[') | None => None,
                    _ if text == "null" => None,
                    _ => Some(text.to_owned()),
                }
            }
            _ => None,
        }
    }

    /// Appends the value's JSON, compact as JsonConverter writes it.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        match self {
            Self::Raw(raw) => out.extend_from_slice(raw.get().as_bytes()),
            Self::Object(members) => {
                out.push(b'{');
                for (i, (name, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    serde_json::to_writer(&mut *out, name).expect("writing to a Vec");
                    out.push(b':');
                    value.write(out);
                }
                out.push(b'}');
            }
            Self::Array(elements) => {
                out.push(b'[');
                for (i, value) in elements.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    value.write(out);
                }
                out.push(b']');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Json;

    #[test]
    fn what_is_not_touched_keeps_its_bytes() {
        let text = r#"{"a":1.0E10,"b":{"c":"\u00e9","d":[1,2]},"e":null}"#;
        let mut json = Json::parse(text.as_bytes()).unwrap();
        json.get("b")
            .unwrap()
            .object()
            .unwrap()
            .insert("f".into(), Json::string("x"));
        let mut out = Vec::new();
        json.write(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":1.0E10,"b":{"c":"\u00e9","d":[1,2],"f":"x"},"e":null}"#
        );
        assert!(json.get("e").unwrap().is_null());
        assert_eq!(Json::string("é").header_text().as_deref(), Some("é"));
        assert_eq!(Json::bool(true).header_text().as_deref(), Some("true"));
        assert_eq!(Json::null().header_text(), None);
        // Jackson's readTree: the first value, what follows ignored
        let tree = Json::read_tree("{\"a\":[1]} and more").unwrap();
        assert_eq!(tree.literal_text(), None);
        let mut out = Vec::new();
        tree.write(&mut out);
        assert_eq!(out, br#"{"a":[1]}"#);
        assert!(Json::read_tree("not json").is_none());
    }
}
