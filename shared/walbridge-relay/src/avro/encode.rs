//! A JsonConverter payload written as the Avro binary body of its [`Node`]: zig-zag varints,
//! length-prefixed strings and bytes, IEEE floats little-endian, a union's branch index before its
//! value, arrays and maps as one block and its end.
//!
//! The JSON is read once and written as it is read ([`write_json`]): a record's members come in
//! its fields' order, as walbridge's encoder and transforms write them, so no value is built.
//! Whatever that pass does not take — members in another order, a value that does not fit —
//! is parsed whole into a [`Payload`] and written by [`write()`], which is the one answer.

use std::fmt;

use base64::Engine;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::ConvertError;
use super::schema::{Kind, Node, SchemaError};

/// A payload as JsonConverter wrote it, an object's members in their written order: a map's
/// entries are written in it, which is Connect's (a Java map's iteration order), as Confluent's
/// converter writes them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Payload {
    Null,
    Bool(bool),
    Int(i64),
    /// A number beyond `i64`, or with a fraction or exponent.
    Float(f64),
    String(String),
    Array(Vec<Payload>),
    Object(Vec<(String, Payload)>),
}

impl Payload {
    /// A default from the schema as a payload.
    fn from_value(value: &Value) -> Self {
        match value {
            Value::Null => Self::Null,
            Value::Bool(b) => Self::Bool(*b),
            Value::Number(n) => n
                .as_i64()
                .map_or_else(|| Self::Float(n.as_f64().unwrap_or(f64::NAN)), Self::Int),
            Value::String(s) => Self::String(s.clone()),
            Value::Array(items) => Self::Array(items.iter().map(Self::from_value).collect()),
            Value::Object(members) => Self::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), Self::from_value(v)))
                    .collect(),
            ),
        }
    }

    fn get(&self, name: &str) -> Option<&Self> {
        match self {
            Self::Object(members) => members.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PayloadVisitor;
        impl<'de> Visitor<'de> for PayloadVisitor {
            type Value = Payload;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Payload, E> {
                Ok(Payload::Null)
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Payload, E> {
                Ok(Payload::Bool(b))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Payload, E> {
                Ok(Payload::Int(n))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Payload, E> {
                Ok(i64::try_from(n).map_or(Payload::Float(n as f64), Payload::Int))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Payload, E> {
                Ok(Payload::Float(n))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Payload, E> {
                Ok(Payload::String(s.to_owned()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Payload, E> {
                Ok(Payload::String(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Payload, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Payload::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Payload, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(Payload::Object(members))
            }
        }
        deserializer.deserialize_any(PayloadVisitor)
    }
}

/// A payload that does not fit its own schema: only a record walbridge did not build could hold
/// one. Names the Avro type, never the value.
#[derive(Debug, thiserror::Error)]
#[error("a value does not fit its schema: the Avro type {expected} met another JSON value")]
pub struct EncodeError {
    /// The Avro type.
    pub expected: &'static str,
}

/// Appends `value`'s Avro body for `node` to `out`.
pub(crate) fn write(node: &Node, value: &Payload, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    // a null field with a default is its default, as Connect's Struct.get reads it
    let default;
    let value = match (&node.default, value) {
        (Some(value), Payload::Null) => {
            default = Payload::from_value(value);
            &default
        }
        _ => value,
    };
    match (node.null_branch, value) {
        (Some(null), Payload::Null) => {
            write_long(i64::from(null), out);
            Ok(())
        }
        (None, Payload::Null) => Err(EncodeError {
            expected: name(&node.kind),
        }),
        (null, value) => {
            if let Some(null) = null {
                write_long(i64::from(1 - null), out);
            }
            write_kind(&node.kind, value, out)
        }
    }
}

/// Appends the Avro body of `json`, a payload of `node`, to `out`.
///
/// # Errors
/// The JSON is not a value ([`SchemaError::NotAnEnvelope`]), or does not fit `node`.
pub(crate) fn write_json(node: &Node, json: &[u8], out: &mut Vec<u8>) -> Result<(), ConvertError> {
    let start = out.len();
    let mut scan = Scan {
        json,
        at: 0,
        out: &mut *out,
    };
    if scan.value(node).is_some() && scan.at == json.len() {
        return Ok(());
    }
    out.truncate(start);
    let payload: Payload =
        serde_json::from_slice(json).map_err(|err| SchemaError::NotAnEnvelope(err.to_string()))?;
    write(node, &payload, out)?;
    Ok(())
}

/// Reads the JSON walbridge writes — compact, a record's members in its fields' order, strings
/// mostly without escapes — and writes each value as it reads it, without building one; `None`
/// where the JSON is anything else or does not fit (the caller then parses it whole, which gives
/// the answer, or the error). What it reads beyond that (a number with a fraction, an escaped
/// string, an array or a map) it hands to serde_json and [`write()`], as the parsed path does.
struct Scan<'j, 'o> {
    json: &'j [u8],
    at: usize,
    out: &'o mut Vec<u8>,
}

impl<'j> Scan<'j, '_> {
    fn peek(&self) -> Option<u8> {
        self.json.get(self.at).copied()
    }

    /// Steps over `byte` if it is next.
    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// Steps over `word` if it is next.
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.json[self.at..]
            .starts_with(word)
            .then(|| self.at += word.len())
    }

    /// A value read as `node`'s.
    fn value(&mut self, node: &Node) -> Option<()> {
        let scalar = match self.peek()? {
            b'"' => return self.string(node),
            b'{' => {
                if let Kind::Record(fields) = &node.kind {
                    return self.record(node, fields);
                }
                return self.parsed(node);
            }
            b'[' => return self.parsed(node),
            b'n' => self.literal(b"null").map(|()| Payload::Null)?,
            b't' => self.literal(b"true").map(|()| Payload::Bool(true))?,
            b'f' => self.literal(b"false").map(|()| Payload::Bool(false))?,
            _ => self.number()?,
        };
        write(node, &scalar, self.out).ok()
    }

    /// An object as a record's members, in its fields' order: a member left out is null (as
    /// Connect's `Struct.get` reads it), a member the record has no field for is skipped.
    fn record(&mut self, node: &Node, fields: &[(String, Node)]) -> Option<()> {
        self.at += 1;
        not_null(node, self.out);
        let mut next = 0;
        if self.eat(b'}').is_none() {
            loop {
                let field = match self.expected(fields.get(next)) {
                    Some(()) => Some(next),
                    None => {
                        let (name, escaped) = self.raw_string()?;
                        if escaped {
                            return None;
                        }
                        self.eat(b':')?;
                        fields
                            .iter()
                            .position(|(field, _)| field.as_bytes() == name)
                    }
                };
                match field {
                    Some(i) if i >= next => {
                        for (_, node) in &fields[next..i] {
                            write(node, &Payload::Null, self.out).ok()?;
                        }
                        self.value(&fields[i].1)?;
                        next = i + 1;
                    }
                    // out of order, or twice
                    Some(_) => return None,
                    None => {
                        self.skip()?;
                    }
                }
                if self.eat(b',').is_none() {
                    self.eat(b'}')?;
                    break;
                }
            }
        }
        for (_, node) in &fields[next..] {
            write(node, &Payload::Null, self.out).ok()?;
        }
        Some(())
    }

    /// Steps over the member name `"<field>":` if `field`'s is next: most often it is, which
    /// this finds without looking for the name's end.
    fn expected(&mut self, field: Option<&(String, Node)>) -> Option<()> {
        let name = field?.0.as_bytes();
        let rest = self.json.get(self.at..)?;
        let after = rest.strip_prefix(b"\"")?.strip_prefix(name)?;
        after.starts_with(b"\":").then(|| self.at += name.len() + 3)
    }

    /// A string: a string's or bytes' (JsonConverter's base64) written straight, else as a value.
    fn string(&mut self, node: &Node) -> Option<()> {
        let start = self.at;
        let (raw, escaped) = self.raw_string()?;
        let unescaped;
        let text = if escaped {
            unescaped = serde_json::from_slice::<String>(&self.json[start..self.at]).ok()?;
            unescaped.as_str()
        } else {
            std::str::from_utf8(raw).ok()?
        };
        match node.kind {
            Kind::String => {
                not_null(node, self.out);
                write_bytes(text.as_bytes(), self.out);
                Some(())
            }
            Kind::Bytes => {
                not_null(node, self.out);
                // (a failure leaves bytes behind: write_json starts over from the parsed payload)
                write_base64(text, self.out)
            }
            _ => write(node, &Payload::String(text.to_owned()), self.out).ok(),
        }
    }

    /// The bytes between the quotes of the string at hand, and whether they hold an escape.
    fn raw_string(&mut self) -> Option<(&'j [u8], bool)> {
        let json = self.json;
        self.eat(b'"')?;
        let start = self.at;
        let mut escaped = false;
        loop {
            let stop = json
                .get(self.at..)?
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
            self.at += stop;
            match json[self.at] {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    self.at += 2;
                }
                // a control character, which JSON does not allow in a string
                _ => return None,
            }
        }
        self.at += 1;
        Some((&json[start..self.at - 1], escaped))
    }

    /// A number, as the parsed path reads it: an integer that fits `i64` here, anything else by
    /// serde_json.
    fn number(&mut self) -> Option<Payload> {
        let start = self.at;
        let _ = self.eat(b'-');
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        let mut integer = true;
        if self.eat(b'.').is_some() {
            integer = false;
            self.digits_after()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            integer = false;
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            self.digits_after()?;
        }
        let token = &self.json[start..self.at];
        if integer && let Some(n) = parse_i64(token) {
            return Some(Payload::Int(n));
        }
        serde_json::from_slice(token).ok()
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
    }

    /// At least one digit.
    fn digits_after(&mut self) -> Option<()> {
        let from = self.at;
        self.digits();
        (self.at > from).then_some(())
    }

    /// A value written from what serde_json parses of it (an array, a map, an object that is not
    /// a record).
    fn parsed(&mut self, node: &Node) -> Option<()> {
        let start = self.at;
        self.extent()?;
        let value: Payload = serde_json::from_slice(&self.json[start..self.at]).ok()?;
        write(node, &value, self.out).ok()
    }

    /// Steps over one value, checked by serde_json.
    fn skip(&mut self) -> Option<()> {
        let start = self.at;
        self.extent()?;
        serde_json::from_slice::<IgnoredAny>(&self.json[start..self.at])
            .ok()
            .map(|_| ())
    }

    /// Steps over one value, unchecked: strings and brackets are matched, nothing more.
    fn extent(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => {
                self.raw_string()?;
            }
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.raw_string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => depth -= 1,
                        _ => {}
                    }
                    self.at += 1;
                    if depth == 0 {
                        break;
                    }
                }
            }
            b'n' => self.literal(b"null")?,
            b't' => self.literal(b"true")?,
            b'f' => self.literal(b"false")?,
            _ => {
                self.number()?;
            }
        }
        Some(())
    }
}

/// The union's branch of a value that is not null.
fn not_null(node: &Node, out: &mut Vec<u8>) {
    if let Some(null) = node.null_branch {
        write_long(i64::from(1 - null), out);
    }
}

/// A JSON integer's digits (and sign) as an `i64`, if it fits.
fn parse_i64(token: &[u8]) -> Option<i64> {
    let (negative, digits) = match token.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, token),
    };
    // accumulated below zero, where i64::MIN fits
    let mut n: i64 = 0;
    for &digit in digits {
        n = n.checked_mul(10)?.checked_sub(i64::from(digit - b'0'))?;
    }
    if negative { Some(n) } else { n.checked_neg() }
}

fn write_kind(kind: &Kind, value: &Payload, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let mismatch = || EncodeError {
        expected: name(kind),
    };
    match (kind, value) {
        (Kind::Boolean, Payload::Bool(b)) => out.push(u8::from(*b)),
        (Kind::Int, Payload::Int(n)) => {
            i32::try_from(*n).map_err(|_| mismatch())?;
            write_long(*n, out);
        }
        (Kind::Long, Payload::Int(n)) => write_long(*n, out),
        (Kind::Float, _) => {
            let f = float(value).ok_or_else(mismatch)? as f32;
            out.extend_from_slice(&f.to_le_bytes());
        }
        (Kind::Double, _) => {
            out.extend_from_slice(&float(value).ok_or_else(mismatch)?.to_le_bytes());
        }
        (Kind::String, Payload::String(s)) => write_bytes(s.as_bytes(), out),
        (Kind::Bytes, Payload::String(base64)) => write_base64(base64, out).ok_or_else(mismatch)?,
        (Kind::Array(items), Payload::Array(elements)) => {
            if !elements.is_empty() {
                write_long(elements.len() as i64, out);
                for element in elements {
                    write(items, element, out)?;
                }
            }
            out.push(0);
        }
        (Kind::Map(values), Payload::Object(entries)) => {
            if !entries.is_empty() {
                write_long(entries.len() as i64, out);
                for i in java_hash_map_order(entries) {
                    let (key, value) = &entries[i];
                    write_bytes(key.as_bytes(), out);
                    write(values, value, out)?;
                }
            }
            out.push(0);
        }
        (Kind::Record(fields), Payload::Object(members)) => {
            for (i, (field, node)) in fields.iter().enumerate() {
                // the members are most often in the fields' order
                let member = match members.get(i) {
                    Some((name, member)) if name == field => Some(member),
                    _ => value.get(field),
                };
                write(node, member.unwrap_or(&Payload::Null), out)?;
            }
        }
        _ => return Err(mismatch()),
    }
    Ok(())
}

/// The order in which a `java.util.HashMap` built from `entries` (with its default capacity, in
/// their order) iterates them: Confluent's `AvroData` copies a Connect map with string keys into
/// one, so its Avro map is written in that order whatever the Connect map's. By bucket — the
/// spread `String.hashCode` modulo the table's size, which doubles past three quarters full — and
/// within a bucket by insertion. (A bucket of 8 or more keys, which makes Java grow or treeify the
/// table, is not modelled: only keys chosen to collide fill one.)
fn java_hash_map_order(entries: &[(String, Payload)]) -> Vec<usize> {
    let mut capacity: usize = 16;
    while entries.len() > capacity / 4 * 3 {
        capacity *= 2;
    }
    let bucket = |key: &str| {
        let hash = key.encode_utf16().fold(0i32, |h, unit| {
            h.wrapping_mul(31).wrapping_add(i32::from(unit))
        });
        let spread = hash ^ ((hash as u32) >> 16) as i32;
        spread as u32 as usize & (capacity - 1)
    };
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by_key(|&i| bucket(&entries[i].0));
    order
}

/// A JSON number, or JsonConverter's quoted `NaN`, `Infinity`, `-Infinity`.
fn float(value: &Payload) -> Option<f64> {
    match value {
        Payload::Int(n) => Some(*n as f64),
        Payload::Float(f) => Some(*f),
        Payload::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

fn name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Boolean => "boolean",
        Kind::Int => "int",
        Kind::Long => "long",
        Kind::Float => "float",
        Kind::Double => "double",
        Kind::String => "string",
        Kind::Bytes => "bytes",
        Kind::Array(_) => "array",
        Kind::Map(_) => "map",
        Kind::Record(_) => "record",
    }
}

/// Appends JsonConverter's base64 `text` as Avro bytes (its decoded length, then the bytes, decoded
/// in place); `None`, with bytes left behind, when it is not base64.
fn write_base64(text: &str, out: &mut Vec<u8>) -> Option<()> {
    let padding = text.bytes().rev().take_while(|b| *b == b'=').count();
    let len = (text.len() / 4 * 3).saturating_sub(padding);
    write_long(len as i64, out);
    let at = out.len();
    out.resize(at + len, 0);
    let written = base64::engine::general_purpose::STANDARD
        .decode_slice(text, &mut out[at..])
        .ok()?;
    (written == len).then_some(())
}

/// Avro's `long` (and `int`): zig-zag, then 7 bits a byte, low first.
pub(crate) fn write_long(n: i64, out: &mut Vec<u8>) {
    let mut z = ((n << 1) ^ (n >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

fn write_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    write_long(bytes.len() as i64, out);
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::avro::schema::AvroSchema;

    fn body(schema: &str, payload: &str) -> Vec<u8> {
        let schema = AvroSchema::from_connect_json(schema).unwrap();
        let mut out = Vec::new();
        write(
            &schema.root,
            &serde_json::from_str(payload).unwrap(),
            &mut out,
        )
        .unwrap();
        out
    }

    #[test]
    fn varints_zigzag() {
        for (n, bytes) in [
            (0i64, vec![0u8]),
            (-1, vec![1]),
            (1, vec![2]),
            (-64, vec![0x7f]),
            (64, vec![0x80, 0x01]),
            (i64::MIN, vec![0xff; 9].into_iter().chain([1]).collect()),
        ] {
            let mut out = Vec::new();
            write_long(n, &mut out);
            assert_eq!(out, bytes, "{n}");
        }
    }

    #[test]
    fn a_record_with_unions_defaults_and_containers() {
        let schema = r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"name"},{"type":"string","optional":true,"default":"active","field":"status"},{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"price"},{"type":"array","items":{"type":"double","optional":true},"optional":false,"field":"xs"},{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"string","optional":true},"optional":false,"field":"h"},{"type":"boolean","optional":false,"field":"b"},{"type":"float","optional":false,"field":"f"}],"optional":false,"name":"p.s.t.Value"}"#;
        let payload = r#"{"id":1,"name":null,"status":null,"price":"ATk=","xs":[1.5,null,"NaN"],"h":{},"b":true,"f":1.0E0}"#;
        let mut expected = vec![2, 0, 0, 12];
        expected.extend_from_slice(b"active");
        expected.extend_from_slice(&[2, 4, 0x01, 0x39]);
        expected.extend_from_slice(&[6, 2]);
        expected.extend_from_slice(&1.5f64.to_le_bytes());
        expected.push(0);
        expected.push(2);
        expected.extend_from_slice(&f64::NAN.to_le_bytes());
        expected.push(0);
        expected.push(0);
        expected.push(1);
        expected.extend_from_slice(&1.0f32.to_le_bytes());
        assert_eq!(body(schema, payload), expected);
    }

    #[test]
    fn a_null_for_a_required_field_is_an_error() {
        let schema = r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"p.s.t.Key"}"#;
        let schema = AvroSchema::from_connect_json(schema).unwrap();
        let err = write(
            &schema.root,
            &Payload::Object(vec![("id".to_owned(), Payload::Null)]),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert_eq!(err.expected, "int");
    }

    #[test]
    fn reading_the_json_once_writes_what_the_parsed_payload_writes() {
        let schema = r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"name"},{"type":"string","optional":true,"default":"active","field":"status"},{"type":"struct","fields":[{"type":"int64","optional":false,"field":"ts"},{"type":"string","optional":false,"field":"db"}],"optional":true,"name":"p.Source","field":"source"},{"type":"array","items":{"type":"double","optional":true},"optional":true,"field":"xs"},{"type":"float","optional":false,"field":"f"},{"type":"bytes","optional":true,"field":"b"}],"optional":false,"name":"p.s.t.Value"}"#;
        let node = AvroSchema::from_connect_json(schema).unwrap().root;
        for payload in [
            r#"{"id":1,"name":"a\"b\u00e9","status":null,"source":{"ts":-5,"db":"d"},"xs":[1.5,null],"f":"NaN","b":"ATk="}"#,
            r#"{"id":1,"f":1,"b":"AQ=="}"#,
            r#"{"id":1,"f":1,"b":"AQID"}"#,
            r#"{"id":1,"f":1,"b":""}"#,
            r#"{"id":1,"f":1,"b":"A?=="}"#,
            r#"{"id":1,"name":null,"status":"x","source":null,"xs":null,"f":2}"#,
            // members in another order, left out, unknown
            r#"{"name":"n","id":7,"f":1.25,"source":{"db":"d","ts":1}}"#,
            r#"{"id":7,"f":1.25}"#,
            r#"{"id":7,"extra":{"a":[1]},"name":"n","f":0.5}"#,
            // escapes, numbers as serde_json reads them, spaces, arrays and objects that are values
            r#"{"id":-2147483648,"name":"tab\tquote\"\u00e9\ud83d\ude00","f":-0.0}"#,
            r#"{"id":0,"f":1e2,"b":"AQ\u003d\u003d"}"#,
            r#"{"id":1,"f":12345678901234567890}"#,
            r#"{"id":1,"f":123456789012345678901234567890,"xs":[1,2.5e-3,null]}"#,
            r#"{"id":1,"f":1.7976931348623157E308,"xs":[]}"#,
            r#"{"id":1,"f":0.1,"source":{"ts":9223372036854775807,"db":""}}"#,
            r#"{"id":1,"f":1,"extra":"x\"}","name":"n"}"#,
            r#"{"id":1,"f":1,"extra":[{"a":"]"},[]],"name":"n"}"#,
            r#"{ "id":1, "f":1 }"#,
            r#"{"\u0069d":1,"f":1}"#,
            r#"{"id":1,"id":2,"f":1}"#,
            // does not fit: both fail
            r#"{"id":null,"f":1}"#,
            r#"{"id":01,"f":1}"#,
            r#"{"id":1,"f":1.}"#,
            r#"{"id":1,"f":-}"#,
            r#"{"id":1,"f":1,"name":"a\qb"}"#,
            r#"{"id":1,"f":1,"extra":{"a":}}"#,
            r#"{"id":1,"f":1}x"#,
            r#"{"id":1,"f":1,"name":"\"#,
            "{\"id\":1,\"f\":1,\"name\":\"a\u{1}b\"}",
            r#"{"id":1,"name":5,"f":1}"#,
            r#"{"id":4294967296,"f":1}"#,
            r#"{"id":1,"f":1"#,
        ] {
            let parsed = serde_json::from_str::<Payload>(payload)
                .ok()
                .and_then(|tree| {
                    let mut out = vec![9];
                    write(&node, &tree, &mut out).ok().map(|()| out)
                });
            let mut out = vec![9];
            let streamed = write_json(&node, payload.as_bytes(), &mut out)
                .ok()
                .map(|()| out);
            assert_eq!(streamed, parsed, "{payload}");
        }
        // in the fields' order, members left out or unknown: read once, without the tree
        for payload in [
            r#"{"id":1,"name":"a","status":null,"source":{"ts":-5,"db":"d"},"xs":[1.5],"f":"NaN","b":"ATk="}"#,
            r#"{"id":1,"f":1,"b":"AQ=="}"#,
            r#"{"id":1,"f":1,"b":"AQID"}"#,
            r#"{"id":1,"f":1,"b":""}"#,
            r#"{"id":7,"extra":{"a":[1]},"name":"n","f":0.5}"#,
            r#"{"id":-2147483648,"name":"tab\tquote\"\u00e9","f":-0.0}"#,
            r#"{"id":1,"extra":[{"a":"]"},[]],"name":"n","f":1}"#,
            r#"{"id":1,"xs":[1,2.5e-3,null],"f":1e2}"#,
        ] {
            let mut scan = Scan {
                json: payload.as_bytes(),
                at: 0,
                out: &mut Vec::new(),
            };
            let read = scan.value(&node).is_some() && scan.at == payload.len();
            assert!(read, "{payload}");
        }
    }

    #[test]
    fn a_maps_entries_are_written_in_java_hash_map_order() {
        let entries = |keys: &[&str]| -> Vec<(String, Payload)> {
            keys.iter()
                .map(|k| ((*k).to_owned(), Payload::Null))
                .collect()
        };
        // each put in order into `new java.util.HashMap<String, Integer>()`, then its keySet
        // printed by jshell (Java 17); 13 keys grow the table to 32 buckets
        let java = |keys: &[String]| -> Vec<String> {
            java_hash_map_order(&entries(
                &keys.iter().map(String::as_str).collect::<Vec<_>>(),
            ))
            .into_iter()
            .map(|i| keys[i].clone())
            .collect()
        };
        let names = |list: &str| -> Vec<String> { list.split(", ").map(str::to_owned).collect() };
        for (put, iterated) in [
            ("type, closed", "closed, type"),
            ("c, a, b", "a, b, c"),
            (
                "k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12",
                "k0, k1, k2, k3, k4, k5, k11, k6, k10, k7, k8, k12, k9",
            ),
            (
                "key0, key1, key2, key3, key4, key5, key6, key7, key8, key9, key10, key11",
                "key1, key2, key0, key5, key6, key3, key4, key9, key7, key8, key11, key10",
            ),
            ("é, ü, Aa, BB, zz, 日本, x-y", "Aa, BB, zz, x-y, é, 日本, ü"),
        ] {
            assert_eq!(java(&names(put)), names(iterated), "{put}");
        }
    }
}
