//! The transform chain (`transforms=…`), applied as Kafka Connect applies it: to every record the
//! function writes — change events, tombstones, transaction and message records — in order, after
//! the record is built and before the converter writes it.
//!
//! With a chain, the encoder writes every key and value with its schema (`{"schema":…,
//! "payload":…}`), since transforms need the schema as Connect's do; the chain's last step is the
//! converter's choice, dropping the schema where `*.converter.schemas.enable=false` (the
//! AvroConverter, [`crate::avro`], always needs it, and writes the record after the chain). Without
//! a chain the chain's part does not run.

mod cast;
mod changes;
mod extract;
mod json;
mod json_schema;
mod kafka;
mod message;
mod outbox;
mod route;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use walbridge_config::transforms::{Predicate, Transform, TransformKind};

use crate::avro::Converters;
use crate::error::PublishError;
use crate::sink::{EventSink, OutRecord};
use json::Json;

/// A record the chain cannot transform. Only a record walbridge did not build could cause one, so
/// each names the transform and the topic, never a value.
#[derive(Debug, thiserror::Error)]
pub enum TransformError {
    /// A key or value is not JSON.
    #[error("a key or value is not JSON")]
    NotJson,
    /// A key or value lacks the schema the chain needs.
    #[error("a key or value has no schema (the chain needs JsonConverter's schema envelope)")]
    NoSchema,
    /// `add.headers` names a struct, which Connect's header converter would write as text
    /// walbridge does not reproduce.
    #[error(
        "add.headers names {field}, a struct or array: name one of its fields instead \
         (for example source.ts_ms)"
    )]
    StructHeader {
        /// The field.
        field: String,
    },
    /// A Kafka transform met a value that is not a struct (Kafka Connect's fails the task).
    #[error(
        "{transform} needs a struct, and the record has none (a tombstone, or a value an earlier \
         transform made a single field): filter such records out before it (for example with a \
         RecordIsTombstone predicate)"
    )]
    NotAStruct {
        /// The transform's class.
        transform: &'static str,
    },
    /// A `Cast` or `HeaderFrom` met a value it cannot convert as Kafka Connect's does.
    #[error(
        "{transform} cannot convert the field {field} (a {from}) {to}: Kafka Connect's would fail \
         the task, or write what walbridge does not reproduce; leave the field out of the transform"
    )]
    Unconvertible {
        /// The transform's class.
        transform: &'static str,
        /// The field, or `the value` / `the key`.
        field: String,
        /// Its schema's type (or logical name).
        from: String,
        /// What it was to become.
        to: &'static str,
    },
    /// `DecodeLogicalDecodingMessageContent` met a message it cannot decode as Debezium's does
    /// (where Debezium's fails the task). The content itself is never quoted.
    #[error(
        "DecodeLogicalDecodingMessageContent cannot decode a message with {problem}, as Debezium's \
         cannot: send JSON objects under this prefix, or keep the prefix out with \
         message.prefix.exclude.list"
    )]
    MessageContent {
        /// What the content is.
        problem: String,
    },
    /// `EventRouter` met a JSON payload it cannot expand as Debezium's does.
    #[error(
        "EventRouter cannot expand the {field} column's JSON as Debezium does: it holds {problem}; \
         set table.expand.json.payload=false, or write such payloads otherwise"
    )]
    Unexpandable {
        /// The payload column.
        field: String,
        /// What the JSON holds.
        problem: &'static str,
    },
    /// `TimestampRouter` met a record without a timestamp (Kafka Connect's fails the task).
    #[error(
        "TimestampRouter needs the record's timestamp, which Debezium leaves unset on change events \
         (only an EventRouter before it sets one): give TimestampRouter a predicate, or remove it"
    )]
    NoTimestamp,
    /// `TimestampRouter` met a timestamp beyond the dates walbridge writes (years past ±262 000:
    /// an `infinity` event time), which Java's calendar would still write.
    #[error(
        "TimestampRouter met a record timestamp of {ms} ms since the epoch, beyond the years \
         walbridge formats (±262 000): give TimestampRouter a predicate that leaves such records \
         out, or fix the event time"
    )]
    TimestampOutOfRange {
        /// The timestamp.
        ms: i64,
    },
    /// An update of the outbox table, with `table.op.invalid.behavior=fatal`.
    #[error(
        "EventRouter met an update of the outbox table (table.op.invalid.behavior=fatal): outbox \
         rows are inserted, never updated — fix the writer, or set table.op.invalid.behavior=warn"
    )]
    OutboxUpdate,
    /// `drop.fields.header.name` names a header that holds text, not a list of field names
    /// (Debezium's transform fails the task).
    #[error(
        "drop.fields.header.name names the header {header}, which holds text, not a list of \
         field names: name the header ExtractChangedRecordState adds (header.changed.name or \
         header.unchanged.name)"
    )]
    NotANameList {
        /// The header.
        header: String,
    },
    /// A Kafka transform names a field the record's struct does not have.
    #[error("{transform} names the field {field}, which the record's struct does not have")]
    UnknownField {
        /// The transform's class.
        transform: &'static str,
        /// The field.
        field: String,
    },
}

/// A key or value with its schema, as the transforms see it.
#[derive(Debug, Clone)]
pub(crate) struct Data {
    pub(crate) schema: Json,
    pub(crate) payload: Json,
}

impl Data {
    fn parse(bytes: &[u8]) -> Result<Self, TransformError> {
        let mut doc = Json::parse(bytes)?;
        let schema = doc.take("schema").ok_or(TransformError::NoSchema)?;
        let payload = doc.take("payload").ok_or(TransformError::NoSchema)?;
        Ok(Self { schema, payload })
    }

    /// The bytes JsonConverter writes, with the schema or without.
    fn write(&self, schemas: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if schemas {
            out.extend_from_slice(b"{\"schema\":");
            self.schema.write(&mut out);
            out.extend_from_slice(b",\"payload\":");
            self.payload.write(&mut out);
            out.push(b'}');
        } else {
            self.payload.write(&mut out);
        }
        out
    }

    /// The schema's name (`<prefix>.<schema>.<table>.Envelope`, …).
    pub(crate) fn schema_name(&mut self) -> Option<String> {
        self.schema.get("name")?.as_str()
    }

    /// Whether this is a change event's envelope (Debezium's `Envelope.isEnvelopeSchema`): what
    /// Debezium's transforms act on, letting transaction, message and heartbeat records pass.
    pub(crate) fn is_envelope(&mut self) -> bool {
        self.schema_name()
            .is_some_and(|name| name.ends_with(".Envelope"))
    }
}

/// A header: its name and its value.
pub(crate) type Header = (Cow<'static, str>, HeaderValue);

/// A header's value as the header converter (Connect's `SimpleHeaderConverter`) writes it, and
/// what it was before: `ExtractNewRecordState`'s `drop.fields.header.name` reads a list of names,
/// which text alone does not tell from a string that looks like one.
#[derive(Debug, Clone)]
pub(crate) struct HeaderValue {
    bytes: Vec<u8>,
    kind: HeaderKind,
}

/// What a header's value was in Connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeaderKind {
    /// A string, number or boolean.
    Text,
    /// Null (written empty: the Kafka client cannot write a null header).
    Null,
    /// A list of field names.
    Names(Vec<String>),
}

impl HeaderValue {
    /// A header of this text, or a null one.
    pub(crate) fn text(text: Option<String>) -> Self {
        match text {
            Some(text) => text.into_bytes().into(),
            None => Self {
                bytes: Vec::new(),
                kind: HeaderKind::Null,
            },
        }
    }

    /// A list of names, written as `SimpleHeaderConverter` writes an array of strings:
    /// `["a","b"]`, with `\` and `"` escaped.
    pub(crate) fn names(names: Vec<String>) -> Self {
        let mut bytes = vec![b'['];
        for (at, name) in names.iter().enumerate() {
            if at > 0 {
                bytes.push(b',');
            }
            bytes.push(b'"');
            for c in name.bytes() {
                if c == b'\\' || c == b'"' {
                    bytes.push(b'\\');
                }
                bytes.push(c);
            }
            bytes.push(b'"');
        }
        bytes.push(b']');
        Self {
            bytes,
            kind: HeaderKind::Names(names),
        }
    }

    pub(crate) fn kind(&self) -> &HeaderKind {
        &self.kind
    }
}

impl From<Vec<u8>> for HeaderValue {
    fn from(bytes: Vec<u8>) -> Self {
        Self {
            bytes,
            kind: HeaderKind::Text,
        }
    }
}

/// A record on its way through the chain.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) topic: String,
    pub(crate) key: Option<Data>,
    /// `None`: a tombstone.
    pub(crate) value: Option<Data>,
    pub(crate) headers: Vec<Header>,
    /// The Kafka timestamp the record names (ms), kept by every transform but `EventRouter`.
    pub(crate) timestamp_ms: Option<i64>,
    /// The Kafka partition the record names, kept by every transform but `EventRouter`.
    pub(crate) partition: Option<i32>,
}

/// The chain of one deployment, built once per cold start.
#[derive(Debug)]
pub struct Chain {
    transforms: Vec<Transform>,
    key_schemas: bool,
    value_schemas: bool,
    /// The headers Debezium writes on change events (`__debezium.context.*`): part of the record
    /// the transforms see, as in Kafka Connect.
    context_headers: Arc<[rskafka::record::RecordHeader]>,
    /// The routed topics' names, shared by their records.
    topics: HashMap<String, Arc<str>>,
    /// Per transform, the headers it added to the last delete (see [`extract::apply`]).
    delete_headers: Vec<Vec<Header>>,
    /// Per transform, the value struct names an EventRouter gave (see [`outbox::apply`]).
    value_names: Vec<HashMap<String, String>>,
}

impl Chain {
    /// The chain `transforms`, ending in the converters' `schemas.enable` choices; change events
    /// carry `context_headers`.
    pub fn new(
        transforms: Vec<Transform>,
        key_schemas: bool,
        value_schemas: bool,
        context_headers: Arc<[rskafka::record::RecordHeader]>,
    ) -> Self {
        Self {
            delete_headers: vec![Vec::new(); transforms.len()],
            value_names: vec![HashMap::new(); transforms.len()],
            transforms,
            key_schemas,
            value_schemas,
            context_headers,
            topics: HashMap::new(),
        }
    }

    /// Whether there is a transform: if not, records pass untouched, and the encoder writes them
    /// as the converters ask.
    pub fn is_empty(&self) -> bool {
        self.transforms.is_empty()
    }

    /// `out` transformed, or `None` when a transform drops it.
    ///
    /// # Errors
    /// When a key or value is not what the chain can read (see [`TransformError`]).
    pub fn apply(&mut self, mut out: OutRecord) -> Result<Option<OutRecord>, TransformError> {
        if self.is_empty() {
            return Ok(Some(out));
        }
        // the chain reads each record whole, its schema with it
        out.put_schemas_in_place();
        let mut headers: Vec<Header> = out
            .headers
            .into_iter()
            .map(|(name, value)| (name, value.into()))
            .collect();
        if out.context_headers {
            headers.extend(
                self.context_headers
                    .iter()
                    .map(|h| (h.key.clone(), h.value.to_vec().into())),
            );
        }
        let mut record = Record {
            topic: out.topic.to_string(),
            key: out.key.as_deref().map(Data::parse).transpose()?,
            value: out.value.as_deref().map(Data::parse).transpose()?,
            headers,
            timestamp_ms: out.timestamp_ms,
            partition: out.partition,
        };
        let state = self.delete_headers.iter_mut().zip(&mut self.value_names);
        for (transform, (delete_headers, value_names)) in self.transforms.iter().zip(state) {
            if let Some(predicate) = &transform.predicate {
                let holds = holds(predicate, &record);
                if holds == transform.negate {
                    continue;
                }
            }
            let keep = match &transform.kind {
                TransformKind::ExtractNewRecordState(settings) => {
                    extract::apply(settings, &mut record, delete_headers)?
                }
                TransformKind::ExtractChangedRecordState { changed, unchanged } => {
                    changes::apply(changed.as_deref(), unchanged.as_deref(), &mut record)?;
                    true
                }
                TransformKind::RegexRouter(route) => {
                    if let Some(topic) = route.route(&record.topic) {
                        record.topic = topic;
                    }
                    true
                }
                TransformKind::TimestampRouter(route) => {
                    let ms = record.timestamp_ms.ok_or(TransformError::NoTimestamp)?;
                    record.topic = route::by_timestamp(route, &record.topic, ms)
                        .ok_or(TransformError::TimestampOutOfRange { ms })?;
                    true
                }
                TransformKind::ByLogicalTableRouter(settings) => {
                    route::by_logical_table(settings, &mut record);
                    true
                }
                TransformKind::Filter => false,
                TransformKind::EventRouter(settings) => {
                    outbox::apply(settings, &mut record, value_names)?
                }
                TransformKind::ReplaceField(part, settings) => {
                    kafka::replace_field(*part, settings, &mut record)?;
                    true
                }
                TransformKind::InsertField(part, settings) => {
                    kafka::insert_field(*part, settings, &mut record)?;
                    true
                }
                TransformKind::ExtractField(part, field) => {
                    kafka::extract_field(*part, field, &mut record)?;
                    true
                }
                TransformKind::ValueToKey(fields) => {
                    kafka::value_to_key(fields, &mut record)?;
                    true
                }
                TransformKind::InsertHeader { header, value } => {
                    record
                        .headers
                        .push((header.clone().into(), value.as_bytes().to_vec().into()));
                    true
                }
                TransformKind::HoistField(part, field) => {
                    kafka::hoist_field(*part, field, &mut record);
                    true
                }
                TransformKind::Cast(part, settings) => {
                    cast::apply(*part, settings, &mut record)?;
                    true
                }
                TransformKind::HeaderFrom(part, settings) => {
                    kafka::header_from(*part, settings, &mut record)?;
                    true
                }
                TransformKind::DecodeMessageContent { null_fields } => {
                    message::decode(*null_fields, &mut record)?;
                    true
                }
                TransformKind::DropHeaders(names) => {
                    record
                        .headers
                        .retain(|(name, _)| !names.iter().any(|n| n == name));
                    true
                }
            };
            if !keep {
                return Ok(None);
            }
        }
        let topic = if *out.topic == *record.topic {
            out.topic
        } else {
            Arc::clone(
                self.topics
                    .entry(record.topic.clone())
                    .or_insert_with(|| Arc::from(record.topic.as_str())),
            )
        };
        Ok(Some(OutRecord {
            topic,
            key: record.key.map(|key| key.write(self.key_schemas)),
            value: record.value.map(|value| value.write(self.value_schemas)),
            headers: record
                .headers
                .into_iter()
                .map(|(name, value)| (name, value.bytes))
                .collect(),
            timestamp_ms: record.timestamp_ms,
            partition: record.partition,
            // added above, where transforms could drop them
            context_headers: false,
            ..out
        }))
    }
}

/// Whether `predicate` holds for `record`.
fn holds(predicate: &Predicate, record: &Record) -> bool {
    match predicate {
        Predicate::TopicNameMatches(pattern) => pattern.is_match(&record.topic),
        Predicate::HasHeaderKey(name) => record.headers.iter().any(|(n, _)| n == name),
        Predicate::RecordIsTombstone => record.value.is_none(),
    }
}

/// A sink whose records go through the chain, then the converters that are not JsonConverter
/// (the AvroConverter): the one place every record passes.
#[derive(Debug)]
pub struct Transformed<'c, S> {
    inner: S,
    chain: &'c mut Chain,
    converters: &'c mut Converters,
}

impl<'c, S> Transformed<'c, S> {
    /// `inner` behind `chain` and `converters`.
    pub fn new(inner: S, chain: &'c mut Chain, converters: &'c mut Converters) -> Self {
        Self {
            inner,
            chain,
            converters,
        }
    }
}

impl<S: EventSink> EventSink for Transformed<'_, S> {
    async fn publish(&mut self, records: &mut Vec<OutRecord>) -> Result<(), PublishError> {
        if !self.chain.is_empty() {
            let mut transformed = Vec::with_capacity(records.len());
            for out in records.drain(..) {
                let (topic, lsn) = (Arc::clone(&out.topic), out.lsn);
                match self.chain.apply(out) {
                    Ok(Some(out)) => transformed.push(out),
                    Ok(None) => {}
                    Err(source) => {
                        return Err(PublishError::Transform {
                            topic: topic.to_string(),
                            lsn,
                            source,
                        });
                    }
                }
            }
            *records = transformed;
        }
        self.converters.convert_all(records).await?;
        self.inner.publish(records).await
    }

    fn begin(&mut self) {
        self.inner.begin();
    }

    fn skip_landed(&mut self, on: bool) {
        self.inner.skip_landed(on);
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    const ENVELOPE_SCHEMA: &str = r#"{"type":"struct","fields":[{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"name"}],"optional":true,"name":"p.s.t.Value","field":"before"},{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"name"}],"optional":true,"name":"p.s.t.Value","field":"after"},{"type":"struct","fields":[{"type":"string","optional":false,"field":"table"},{"type":"int64","optional":false,"field":"ts_ms"}],"optional":false,"name":"io.debezium.connector.postgresql.Source","field":"source"},{"type":"string","optional":false,"field":"op"}],"optional":false,"name":"p.s.t.Envelope","version":2}"#;
    const KEY: &str = r#"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"p.s.t.Key"},"payload":{"id":1}}"#;

    fn record(op: &str, before: &str, after: &str) -> OutRecord {
        let value = format!(
            r#"{{"schema":{ENVELOPE_SCHEMA},"payload":{{"before":{before},"after":{after},"source":{{"table":"t","ts_ms":1.0E3}},"op":"{op}"}}}}"#
        );
        OutRecord::of("p.s.t", Some(KEY.as_bytes()), Some(value.as_bytes()))
    }

    fn chain(pairs: &[(&str, &str)], schemas: bool) -> Chain {
        let config = crate::test_config::config(pairs);
        Chain::new(
            config.transforms,
            schemas,
            schemas,
            Arc::from([rskafka::record::RecordHeader {
                key: "ctx".into(),
                value: b"1".to_vec().into(),
            }]),
        )
    }

    fn text(bytes: Option<Vec<u8>>) -> String {
        String::from_utf8(bytes.expect("present")).unwrap()
    }

    #[test]
    fn a_record_whose_schemas_were_kept_apart_is_transformed_as_the_whole_one() {
        let pairs = [
            ("transforms", "unwrap"),
            (
                "transforms.unwrap.type",
                "io.debezium.transforms.ExtractNewRecordState",
            ),
        ];
        let whole = record("c", "null", r#"{"id":1,"name":"a"}"#);
        let payload = |bytes: &Option<Vec<u8>>, schema: &str| {
            let bytes = bytes.as_deref().unwrap();
            let start = r#"{"schema":,"payload":"#.len() + schema.len();
            bytes[start..bytes.len() - 1].to_vec()
        };
        let key_schema = r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"p.s.t.Key"}"#;
        let apart = OutRecord {
            key: Some(payload(&whole.key, key_schema)),
            key_schema: Some(Arc::from(key_schema)),
            value: Some(payload(&whole.value, ENVELOPE_SCHEMA)),
            value_schema: Some(Arc::from(ENVELOPE_SCHEMA)),
            ..whole.clone()
        };
        for schemas in [true, false] {
            let expected = chain(&pairs, schemas).apply(whole.clone()).unwrap();
            let out = chain(&pairs, schemas).apply(apart.clone()).unwrap();
            assert_eq!(out, expected);
            assert!(out.is_some_and(|out| out.key_schema.is_none() && out.value_schema.is_none()));
        }
    }

    #[test]
    fn rewrite_adds_deleted_and_the_fields_in_order() {
        let mut chain = chain(
            &[
                ("transforms", "unwrap"),
                (
                    "transforms.unwrap.type",
                    "io.debezium.transforms.ExtractNewRecordState",
                ),
                (
                    "transforms.unwrap.delete.tombstone.handling.mode",
                    "rewrite",
                ),
                (
                    "transforms.unwrap.add.fields",
                    "op,table,nosuch,source.ts_ms",
                ),
                ("transforms.unwrap.add.headers", "op"),
            ],
            false,
        );
        let out = chain
            .apply(record("d", r#"{"id":1,"name":null}"#, "null"))
            .unwrap()
            .unwrap();
        assert_eq!(
            text(out.value),
            r#"{"id":1,"name":null,"__deleted":"true","__op":"d","__table":"t","__source_ts_ms":1.0E3}"#
        );
        assert_eq!(text(out.key), r#"{"id":1}"#);
        assert_eq!(
            out.headers,
            vec![
                ("ctx".into(), b"1".to_vec()),
                ("__op".into(), b"d".to_vec())
            ]
        );
        assert!(!out.context_headers, "the chain wrote them");
        let mut with_schemas = chain_with_schemas();
        let out = with_schemas
            .apply(record("c", "null", r#"{"id":2,"name":"x"}"#))
            .unwrap()
            .unwrap();
        assert_eq!(
            text(out.value),
            r#"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"name"},{"type":"string","optional":true,"field":"__deleted"},{"type":"string","optional":true,"field":"__op"}],"optional":false,"name":"p.s.t.Value"},"payload":{"id":2,"name":"x","__deleted":"false","__op":"c"}}"#
        );
    }

    #[test]
    fn changed_fields_are_listed_and_the_unchanged_dropped() {
        let changes = |compatible: &'static str| {
            chain(
                &[
                    ("transforms", "changes,unwrap"),
                    (
                        "transforms.changes.type",
                        "io.debezium.transforms.ExtractChangedRecordState",
                    ),
                    ("transforms.changes.header.changed.name", "Changed"),
                    ("transforms.changes.header.unchanged.name", "Unchanged"),
                    (
                        "transforms.unwrap.type",
                        "io.debezium.transforms.ExtractNewRecordState",
                    ),
                    ("transforms.unwrap.drop.fields.header.name", "Unchanged"),
                    (
                        "transforms.unwrap.drop.fields.keep.schema.compatible",
                        compatible,
                    ),
                ],
                false,
            )
        };
        let headers = |out: &OutRecord| -> Vec<(String, String)> {
            out.headers
                .iter()
                .filter(|(name, _)| name != "ctx")
                .map(|(name, value)| (name.to_string(), String::from_utf8(value.clone()).unwrap()))
                .collect()
        };
        let pair = |changed: &str, unchanged: &str| {
            vec![
                ("Changed".to_owned(), changed.to_owned()),
                ("Unchanged".to_owned(), unchanged.to_owned()),
            ]
        };
        let mut chain = changes("true");
        let same = r#"{"id":1,"name":"x"}"#;
        let out = chain.apply(record("u", same, same)).unwrap().unwrap();
        assert_eq!(headers(&out), pair("[]", r#"["id","name"]"#));
        // only the optional name: id is required
        assert_eq!(text(out.value), r#"{"id":1}"#);
        let out = chain
            .apply(record("u", same, r#"{"id":1,"name":"y"}"#))
            .unwrap()
            .unwrap();
        assert_eq!(headers(&out), pair(r#"["name"]"#, r#"["id"]"#));
        assert_eq!(text(out.value), r#"{"id":1,"name":"y"}"#);
        // no before: both lists empty, nothing dropped
        let out = chain.apply(record("c", "null", same)).unwrap().unwrap();
        assert_eq!(headers(&out), pair("[]", "[]"));
        assert_eq!(text(out.value), same);

        let mut chain = changes("false");
        let out = chain.apply(record("u", same, same)).unwrap().unwrap();
        assert_eq!(text(out.value), "{}");

        // a header of text under the name: Debezium's transform fails the task
        let mut chain = chain_of_text_header();
        let err = chain.apply(record("u", same, same)).unwrap_err();
        assert!(matches!(err, TransformError::NotANameList { .. }), "{err}");
        assert_eq!(
            HeaderValue::names(vec![r#"a"b\c"#.to_owned()]).bytes,
            br#"["a\"b\\c"]"#.to_vec()
        );
    }

    fn chain_of_text_header() -> Chain {
        chain(
            &[
                ("transforms", "insert,unwrap"),
                (
                    "transforms.insert.type",
                    "org.apache.kafka.connect.transforms.InsertHeader",
                ),
                ("transforms.insert.header", "Unchanged"),
                ("transforms.insert.value.literal", "id"),
                (
                    "transforms.unwrap.type",
                    "io.debezium.transforms.ExtractNewRecordState",
                ),
                ("transforms.unwrap.drop.fields.header.name", "Unchanged"),
            ],
            false,
        )
    }

    fn chain_with_schemas() -> Chain {
        chain(
            &[
                ("transforms", "unwrap"),
                (
                    "transforms.unwrap.type",
                    "io.debezium.transforms.ExtractNewRecordState",
                ),
                (
                    "transforms.unwrap.delete.tombstone.handling.mode",
                    "rewrite",
                ),
                ("transforms.unwrap.add.fields", "op"),
            ],
            true,
        )
    }

    #[test]
    fn deletes_and_tombstones_follow_the_mode() {
        let unwrap = |mode: &str| {
            chain(
                &[
                    ("transforms", "unwrap"),
                    (
                        "transforms.unwrap.type",
                        "io.debezium.transforms.ExtractNewRecordState",
                    ),
                    ("transforms.unwrap.delete.tombstone.handling.mode", mode),
                ],
                false,
            )
        };
        let delete = || record("d", r#"{"id":1,"name":null}"#, "null");
        let tombstone = || OutRecord {
            value: None,
            ..record("d", "null", "null")
        };
        let truncate = || record("t", "null", "null");
        for (mode, delete_value, keeps_tombstone) in [
            ("drop", None, false),
            ("tombstone", Some(Some("null")), false),
            (
                "rewrite-with-tombstone",
                Some(Some(r#"{"id":1,"name":null,"__deleted":"true"}"#)),
                true,
            ),
            ("delete-to-tombstone", Some(None), false),
        ] {
            let mut chain = unwrap(mode);
            let out = chain.apply(delete()).unwrap();
            assert_eq!(
                out.map(|o| o.value.map(|v| String::from_utf8(v).unwrap())),
                delete_value.map(|v| v.map(str::to_owned)),
                "{mode}"
            );
            assert_eq!(
                chain.apply(tombstone()).unwrap().is_some(),
                keeps_tombstone,
                "{mode}"
            );
            assert!(chain.apply(truncate()).unwrap().is_none(), "{mode}");
        }
    }

    #[test]
    fn routers_and_predicates() {
        let mut chain = chain(
            &[
                ("transforms", "route,drop"),
                (
                    "transforms.route.type",
                    "io.debezium.transforms.ByLogicalTableRouter",
                ),
                ("transforms.route.topic.regex", "p\\.s\\.(.*)"),
                ("transforms.route.topic.replacement", "p.all"),
                (
                    "transforms.drop.type",
                    "org.apache.kafka.connect.transforms.Filter",
                ),
                ("transforms.drop.predicate", "tomb"),
                ("predicates", "tomb"),
                (
                    "predicates.tomb.type",
                    "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
                ),
            ],
            true,
        );
        let out = chain
            .apply(record("c", "null", r#"{"id":2,"name":"x"}"#))
            .unwrap()
            .unwrap();
        assert_eq!(&*out.topic, "p.all");
        assert_eq!(
            text(out.key),
            r#"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":false,"field":"__dbz__physicalTableIdentifier"}],"optional":false,"name":"p.all.Key"},"payload":{"id":1,"__dbz__physicalTableIdentifier":"p.s.t"}}"#
        );
        let value = text(out.value);
        assert!(value.contains(r#""name":"p.all.Envelope""#), "{value}");
        assert_eq!(
            value.matches(r#""name":"p.all.Value""#).count(),
            2,
            "{value}"
        );
        let tombstone = OutRecord {
            value: None,
            ..record("d", "null", "null")
        };
        assert!(chain.apply(tombstone).unwrap().is_none());
    }
}
