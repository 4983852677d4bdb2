//! Confluent's AvroConverter (`key.converter` / `value.converter` =
//! `io.confluent.connect.avro.AvroConverter`), the last step of every record as in Kafka Connect:
//! after the transform chain, each key and value — its Connect schema and value, which the encoder
//! and the chain write in JsonConverter's `{"schema":…,"payload":…}` form — becomes the Avro schema
//! `AvroData` makes of the Connect schema (in `schema`), registered for its id under the subject the
//! subject name strategy names (`<topic>-key` or `<topic>-value` by default), and the Avro body of
//! the value (in `encode`) behind Confluent's framing: byte 0, the id as a big-endian 32-bit
//! integer. A tombstone stays a Kafka null.
//!
//! A table's change events most often come with their Connect schemas kept apart by the table's
//! encoder (no transform reading them): the key or value is then its payload alone, and its schema
//! is known by the address of the encoder's `Arc` — neither copied nor compared per record. Any
//! other record carries its schema in place, recognised by its text.
//!
//! The Avro schema and the id of each Connect schema are kept for the cold start: a schema is
//! registered (or looked up) once per shape and topic. A registry that cannot be reached or
//! refuses fails the publish, so the invocation fails before its checkpoint and the slot stays.

mod encode;
mod registry;
mod schema;

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use walbridge_config::{AvroSettings, SubjectStrategy};
use walbridge_event::envelope::{PAYLOAD_OPEN, SCHEMA_OPEN};

pub use encode::EncodeError;
pub use registry::RegistryError;
pub use schema::SchemaError;

use crate::error::PublishError;
use crate::sink::OutRecord;
use registry::Registry;
use schema::AvroSchema;

/// Why a key or value could not be converted.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The Connect schema has no Avro schema walbridge makes.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// The value does not fit its schema.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The registry failed or refused.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// One Connect schema's Avro schema, and its ids by topic (whose subject the strategy names).
#[derive(Debug)]
struct Registered {
    /// The Connect schema's JSON text: the last encoder's `Arc` that kept it apart, if one did,
    /// whose records are then recognised by its address (held here, so not reused).
    text: Arc<str>,
    avro: AvroSchema,
    ids: HashMap<Arc<str>, u32>,
}

/// The AvroConverter of the key or of the value.
#[derive(Debug)]
pub struct AvroConverter {
    is_key: bool,
    strategy: SubjectStrategy,
    auto_register: bool,
    use_latest_version: bool,
    registry: Registry,
    /// Each Connect schema met.
    schemas: Vec<Registered>,
    /// The index in `schemas` of each Connect schema's JSON text.
    by_text: HashMap<Arc<str>, usize>,
    /// The index in `schemas` of each topic's last record's schema: the next record of the topic
    /// most often has the same, which a comparison of bytes finds without parsing or hashing it.
    last: HashMap<Arc<str>, usize>,
    /// The last record whose schema was kept apart: a table's change events come in runs, whose
    /// schema and id this finds by two addresses, without hashing the topic.
    recent: Option<Recent>,
}

/// A topic and a schema kept apart, both by their `Arc`s (held, so their addresses not reused),
/// with the schema's index in `schemas` and its id under the topic's subject.
#[derive(Debug)]
struct Recent {
    topic: Arc<str>,
    schema: Arc<str>,
    index: usize,
    id: u32,
}

/// A key or value as JsonConverter writes it with its schema, both left as text.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    schema: &'a RawValue,
    #[serde(borrow)]
    payload: &'a RawValue,
}

impl AvroConverter {
    /// The converter `settings` describe, for keys (`is_key`) or values.
    pub fn new(settings: &AvroSettings, is_key: bool) -> Self {
        Self {
            is_key,
            strategy: settings.subject_strategy,
            auto_register: settings.auto_register,
            use_latest_version: settings.use_latest_version,
            registry: Registry::new(
                &settings.registry_urls,
                settings.basic_auth.clone(),
                settings.ca_file.as_deref(),
            ),
            schemas: Vec::new(),
            by_text: HashMap::new(),
            last: HashMap::new(),
            recent: None,
        }
    }

    /// The index in `schemas` of `json`'s schema and the text of its payload: the topic's last
    /// schema when `json` carries it, the payload sliced off without parsing (`true`), else the
    /// document parsed (and a new schema mapped to Avro).
    fn open<'j>(
        &mut self,
        topic: &Arc<str>,
        json: &'j [u8],
    ) -> Result<(usize, &'j [u8], bool), SchemaError> {
        if let Some(&last) = self.last.get(topic) {
            let payload = json
                .strip_prefix(SCHEMA_OPEN)
                .and_then(|rest| rest.strip_prefix(self.schemas[last].text.as_bytes()))
                .and_then(|rest| rest.strip_prefix(PAYLOAD_OPEN))
                .and_then(|rest| rest.strip_suffix(b"}"));
            if let Some(payload) = payload {
                return Ok((last, payload, true));
            }
        }
        let (text, payload) = Self::parse(json)?;
        let index = self.index(text)?;
        self.last.insert(Arc::clone(topic), index);
        Ok((index, payload, false))
    }

    /// The index in `schemas` of `schema`, which the record's encoder kept apart: the topic's last
    /// schema when it is the same `Arc` (the record's shape known without reading it), else found
    /// by its text (or mapped to Avro) and known by this `Arc` from then on.
    fn by_reference(&mut self, topic: &Arc<str>, schema: &Arc<str>) -> Result<usize, SchemaError> {
        if let Some(&last) = self.last.get(topic)
            && Arc::ptr_eq(&self.schemas[last].text, schema)
        {
            return Ok(last);
        }
        let index = self.index(schema)?;
        self.schemas[index].text = Arc::clone(schema);
        self.last.insert(Arc::clone(topic), index);
        Ok(index)
    }

    /// The index in `schemas` of the Connect schema `text`, mapped to Avro the first time.
    fn index(&mut self, text: &str) -> Result<usize, SchemaError> {
        if let Some(&index) = self.by_text.get(text) {
            return Ok(index);
        }
        let avro = AvroSchema::from_connect_json(text)?;
        let text: Arc<str> = Arc::from(text);
        self.schemas.push(Registered {
            text: Arc::clone(&text),
            avro,
            ids: HashMap::new(),
        });
        self.by_text.insert(text, self.schemas.len() - 1);
        Ok(self.schemas.len() - 1)
    }

    /// The schema's and the payload's text of JsonConverter's envelope `json`.
    fn parse(json: &[u8]) -> Result<(&str, &[u8]), SchemaError> {
        let envelope: Envelope<'_> = serde_json::from_slice(json)
            .map_err(|err| SchemaError::NotAnEnvelope(err.to_string()))?;
        Ok((envelope.schema.get(), envelope.payload.get().as_bytes()))
    }

    /// The Confluent-framed Avro bytes of `json`, a key or value of `topic`: JsonConverter's
    /// `{"schema":…,"payload":…}`, or the payload alone when its encoder kept its `schema` apart.
    ///
    /// # Errors
    /// A [`ConvertError`]: the schema, the value, or the registry.
    pub async fn convert(
        &mut self,
        topic: &Arc<str>,
        json: &[u8],
        schema: Option<&Arc<str>>,
    ) -> Result<Vec<u8>, ConvertError> {
        if let (Some(schema), Some(recent)) = (schema, &self.recent)
            && Arc::ptr_eq(&recent.topic, topic)
            && Arc::ptr_eq(&recent.schema, schema)
        {
            let root = &self.schemas[recent.index].avro.root;
            return framed(recent.id, root, json);
        }
        let (index, payload, sliced) = match schema {
            Some(schema) => (self.by_reference(topic, schema)?, json, false),
            None => self.open(topic, json)?,
        };
        let registered = &mut self.schemas[index];
        let id = match registered.ids.get(topic) {
            Some(id) => *id,
            None => {
                let subject = subject(self.strategy, self.is_key, topic, &registered.avro)?;
                let text = &registered.avro.text;
                // as Confluent's serializer: registering wins over the latest version
                let id = if self.use_latest_version && !self.auto_register {
                    self.registry.latest_id(&subject, text).await?
                } else {
                    self.registry.id(&subject, text, self.auto_register).await?
                };
                registered.ids.insert(Arc::clone(topic), id);
                id
            }
        };
        if let Some(schema) = schema {
            self.recent = Some(Recent {
                topic: Arc::clone(topic),
                schema: Arc::clone(schema),
                index,
                id,
            });
        }
        let root = &self.schemas[index].avro.root;
        match framed(id, root, payload) {
            // what follows the schema was not the payload alone: read the document whole
            Err(_) if sliced => {
                // (its schema is the topic's: the bytes before the payload were that schema)
                let (_, payload) = Self::parse(json)?;
                framed(id, root, payload)
            }
            written => written,
        }
    }
}

/// Confluent's framing — byte 0, the schema's `id` as a big-endian 32-bit integer — and the Avro
/// body of `payload`, a value of `root`.
fn framed(id: u32, root: &schema::Node, payload: &[u8]) -> Result<Vec<u8>, ConvertError> {
    let mut out = Vec::with_capacity(5 + payload.len());
    out.push(0);
    out.extend_from_slice(&id.to_be_bytes());
    encode::write_json(root, payload, &mut out)?;
    Ok(out)
}

/// The subject `strategy` registers `avro`, a schema of `topic`, under.
fn subject(
    strategy: SubjectStrategy,
    is_key: bool,
    topic: &str,
    avro: &AvroSchema,
) -> Result<String, SchemaError> {
    let record = || {
        avro.record_name.as_deref().ok_or(SchemaError::NotARecord {
            topic: topic.to_owned(),
        })
    };
    Ok(match strategy {
        SubjectStrategy::Topic => format!("{topic}-{}", if is_key { "key" } else { "value" }),
        SubjectStrategy::Record => record()?.to_owned(),
        SubjectStrategy::TopicRecord => format!("{topic}-{}", record()?),
    })
}

/// The converters of a deployment that are not JsonConverter (whose bytes the encoder and the
/// chain write themselves), kept for the cold start.
#[derive(Debug, Default)]
pub struct Converters {
    /// The key's AvroConverter.
    pub key: Option<AvroConverter>,
    /// The value's AvroConverter.
    pub value: Option<AvroConverter>,
}

impl Converters {
    /// Whether neither side converts: records pass untouched.
    pub fn is_empty(&self) -> bool {
        self.key.is_none() && self.value.is_none()
    }

    /// Writes the keys and values of `records` (JSON with their schemas, in place or kept apart)
    /// in the converters' format; JsonConverter's sides as they are, their schemas in place.
    ///
    /// # Errors
    /// [`PublishError::Convert`], naming the first record that could not be written.
    pub async fn convert_all(&mut self, records: &mut [OutRecord]) -> Result<(), PublishError> {
        if self.is_empty() {
            records.iter_mut().for_each(OutRecord::put_schemas_in_place);
            return Ok(());
        }
        for record in records {
            if let Err(source) = self.convert(record).await {
                return Err(PublishError::Convert {
                    topic: record.topic.to_string(),
                    lsn: record.lsn,
                    source,
                });
            }
        }
        Ok(())
    }

    async fn convert(&mut self, record: &mut OutRecord) -> Result<(), ConvertError> {
        if let (Some(converter), Some(key)) = (&mut self.key, &record.key) {
            let schema = record.key_schema.take();
            record.key = Some(
                converter
                    .convert(&record.topic, key, schema.as_ref())
                    .await?,
            );
        }
        if let (Some(converter), Some(value)) = (&mut self.value, &record.value) {
            let schema = record.value_schema.take();
            record.value = Some(
                converter
                    .convert(&record.topic, value, schema.as_ref())
                    .await?,
            );
        }
        // a side JsonConverter writes (where an encoder would not keep a schema apart)
        record.put_schemas_in_place();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strategies_name_the_subjects_as_confluents_do() {
        let record = AvroSchema::from_connect_json(
            r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"p.s.t.Key"}"#,
        )
        .unwrap();
        let optional =
            AvroSchema::from_connect_json(r#"{"type":"string","optional":true}"#).unwrap();
        let name = |strategy, is_key, avro| subject(strategy, is_key, "p.s.t", avro).ok();
        assert_eq!(
            name(SubjectStrategy::Topic, true, &record).unwrap(),
            "p.s.t-key"
        );
        assert_eq!(
            name(SubjectStrategy::Topic, false, &optional).unwrap(),
            "p.s.t-value"
        );
        assert_eq!(
            name(SubjectStrategy::Record, true, &record).unwrap(),
            "p.s.t.Key"
        );
        assert_eq!(
            name(SubjectStrategy::TopicRecord, false, &record).unwrap(),
            "p.s.t-p.s.t.Key"
        );
        assert_eq!(name(SubjectStrategy::Record, false, &optional), None);
    }

    /// Avro values, the key JsonConverter's; no registry answers.
    fn avro_values() -> Converters {
        let config = crate::test_config::config(&[
            ("value.converter", "io.confluent.connect.avro.AvroConverter"),
            ("value.converter.schema.registry.url", "http://127.0.0.1:1"),
        ]);
        let settings = config.events.value_converter.avro().expect("Avro values");
        Converters {
            key: None,
            value: Some(AvroConverter::new(settings, false)),
        }
    }

    #[test]
    fn a_topics_last_schema_is_recognised_without_parsing_it_and_anything_else_is_parsed() {
        let mut converter = avro_values().value.unwrap();
        let topic: Arc<str> = Arc::from("t");
        let schema = r#"{"type":"string","optional":false}"#;
        let doc = format!(r#"{{"schema":{schema},"payload":"a"}}"#);
        let (first, payload, sliced) = converter.open(&topic, doc.as_bytes()).unwrap();
        assert_eq!(&*converter.schemas[first].text, schema);
        assert_eq!((payload, sliced), (&b"\"a\""[..], false));
        let (again, payload, sliced) = converter
            .open(
                &topic,
                br#"{"schema":{"type":"string","optional":false},"payload":"b"}"#,
            )
            .unwrap();
        assert!(again == first && sliced, "the fast path");
        assert_eq!(payload, b"\"b\"");
        // spaced differently, another schema, another member: parsed whole
        for (doc, schema_text) in [
            (
                r#"{"schema": {"type":"string","optional":false},"payload":"c"}"#,
                schema,
            ),
            (
                r#"{"schema":{"type":"string","optional":true},"payload":null}"#,
                r#"{"type":"string","optional":true}"#,
            ),
            (
                r#"{"schema":{"type":"string","optional":false},"payload":"d","x":1}"#,
                schema,
            ),
        ] {
            let (index, _, _) = converter.open(&topic, doc.as_bytes()).unwrap();
            assert_eq!(&*converter.schemas[index].text, schema_text, "{doc}");
        }
    }

    #[tokio::test]
    async fn a_schema_kept_apart_is_known_by_its_address_and_writes_what_its_text_writes() {
        let mut converters = avro_values();
        let topic: Arc<str> = Arc::from("p.s.t");
        let text = r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"name"}],"optional":false,"name":"p.s.t.Value"}"#;
        let payload = br#"{"id":1,"name":"a"}"#;
        let whole = format!(r#"{{"schema":{text},"payload":{{"id":1,"name":"a"}}}}"#);
        let converter = converters.value.as_mut().unwrap();
        let (index, _, _) = converter.open(&topic, whole.as_bytes()).unwrap();
        converter.schemas[index].ids = HashMap::from([(Arc::clone(&topic), 7)]);
        let mut record = OutRecord {
            topic: Arc::clone(&topic),
            key_schema: Some(Arc::from(r#"{"type":"int32","optional":false}"#)),
            ..OutRecord::of(&topic, Some(br#"{"id":1}"#), Some(whole.as_bytes()))
        };
        let mut in_place = vec![record.clone()];
        converters.convert_all(&mut in_place).await.unwrap();
        let schema: Arc<str> = Arc::from(text);
        record.value = Some(payload.to_vec());
        record.value_schema = Some(Arc::clone(&schema));
        // the second found as the recent one, by the addresses of its topic and schema
        let mut apart = vec![record.clone(), record];
        converters.convert_all(&mut apart).await.unwrap();
        assert!(converters.value.as_ref().unwrap().recent.is_some());
        assert_eq!(apart[1], apart[0]);
        apart.pop();
        assert_eq!(apart, in_place, "the same bytes, and no schema left apart");
        // the key, which JsonConverter writes, has its schema back in place
        assert_eq!(
            apart[0].key.as_deref(),
            Some(&br#"{"schema":{"type":"int32","optional":false},"payload":{"id":1}}"#[..])
        );
        let converter = converters.value.as_mut().unwrap();
        assert!(Arc::ptr_eq(&converter.schemas[index].text, &schema));
        assert_eq!(converter.by_reference(&topic, &schema).unwrap(), index);
        // another encoder's Arc of the same text: the same schema, known by that Arc from then on
        let again: Arc<str> = Arc::from(text);
        assert_eq!(converter.by_reference(&topic, &again).unwrap(), index);
        assert!(Arc::ptr_eq(&converter.schemas[index].text, &again));
        // another shape, another schema; and its text in place is recognised as the topic's last
        let other = r#"{"type":"string","optional":true}"#;
        let other_index = converter.by_reference(&topic, &Arc::from(other)).unwrap();
        assert_ne!(other_index, index);
        let doc = format!(r#"{{"schema":{other},"payload":null}}"#);
        assert_eq!(
            converter.open(&topic, doc.as_bytes()).unwrap(),
            (other_index, &b"null"[..], true)
        );
    }
}

#[cfg(test)]
mod timing {
    use super::*;
    use walbridge_event::envelope::{EncoderConfig, SourceInfo, TableEncoder};
    use walbridge_event::wal2json::{self, Row};
    use walbridge_event::{ColumnSchema, Lsn, ReplicaIdentity, TableSchema};

    const INSERT: &str = r#"{"action":"I","xid":759,"timestamp":"2026-11-26 16:17:57.841543+00","lsn":"0/1968E78","schema":"prof","table":"t","columns":[{"name":"id","type":"integer","typeoid":23,"value":1},{"name":"name","type":"text","typeoid":25,"value":"customer 1","optional":false},{"name":"balance","type":"numeric(10,2)","typeoid":1700,"value":1.25},{"name":"created_at","type":"timestamp with time zone","typeoid":1184,"value":"2024-01-15 10:30:00+00"}],"pk":[{"name":"id","type":"integer","typeoid":23}]}"#;

    /// The relay profile's table's encoder: its schemas in place, or kept apart (`apart`).
    fn encoder(apart: bool) -> TableEncoder {
        let schema = TableSchema::new(
            "prof",
            "t",
            vec![
                ColumnSchema::new("id", "integer", 23, true),
                ColumnSchema::new("name", "text", 25, true),
                ColumnSchema::new("balance", "numeric(10,2)", 1700, false),
                ColumnSchema::new("created_at", "timestamp with time zone", 1184, false),
            ],
            &["id"],
            ReplicaIdentity::Default,
        )
        .unwrap();
        let config = EncoderConfig {
            key_schema_apart: apart,
            value_schema_apart: apart,
            ..EncoderConfig::new("walbridge", "postgres").with_schemas(true, true)
        };
        TableEncoder::new(&schema, &config).unwrap()
    }

    /// The key and value of one insert as `encoder` writes them, with the schemas it keeps apart.
    fn encode(encoder: &TableEncoder, buf: &mut Vec<u8>) -> [(Vec<u8>, Option<Arc<str>>); 2] {
        let Ok(Row::Change(change)) = wal2json::decode(INSERT) else {
            panic!("a change")
        };
        let source = SourceInfo {
            commit_time_us: change.commit_time_us.unwrap_or(0),
            tx_id: change.xid,
            lsn: change.lsn.unwrap_or(Lsn(0)),
            last_commit_lsn: None,
            transaction: None,
        };
        buf.clear();
        let encoded = encoder.encode(&change, &source, 1, buf).unwrap();
        let record = encoded.records(buf).next().unwrap();
        [
            (record.key.unwrap().to_vec(), encoder.key_schema().cloned()),
            (
                record.value.unwrap().to_vec(),
                encoder.value_schema().cloned(),
            ),
        ]
    }

    /// The key and value JSON of one insert of the relay profile's table: with their schemas in
    /// place, or their payloads and the schemas kept apart (`apart`).
    fn record(apart: bool) -> [(Vec<u8>, Option<Arc<str>>); 2] {
        encode(&encoder(apart), &mut Vec::new())
    }

    /// Avro values and keys, the registry's ids of the profile's schemas known.
    fn converters(topic: &Arc<str>) -> [AvroConverter; 2] {
        let config = crate::test_config::config(&[
            ("value.converter", "io.confluent.connect.avro.AvroConverter"),
            ("value.converter.schema.registry.url", "http://127.0.0.1:1"),
        ]);
        let settings = config.events.value_converter.avro().unwrap();
        let [(key, _), (value, _)] = record(false);
        [(key, true), (value, false)].map(|(json, is_key)| {
            let mut converter = AvroConverter::new(settings, is_key);
            let (index, _, _) = converter.open(topic, &json).unwrap();
            converter.schemas[index].ids = HashMap::from([(Arc::clone(topic), 7)]);
            converter
        })
    }

    /// Nanoseconds per change (one insert) encoded, copied out as its record and converted: JSON
    /// with schemas (no conversion) beside Avro with the schemas kept apart, and in place.
    #[tokio::test]
    #[ignore = "a timing: cargo test --release -p walbridge-relay change_cost -- --ignored --nocapture"]
    async fn change_cost() {
        let topic: Arc<str> = Arc::from("walbridge.prof.t");
        let mut converters = converters(&topic);
        let rounds = 200_000;
        let mut buf = Vec::new();
        let mut cost = async |apart: bool, convert: bool| {
            let encoder = encoder(apart);
            let start = std::time::Instant::now();
            let mut bytes = 0;
            for _ in 0..rounds {
                for (converter, (json, schema)) in
                    converters.iter_mut().zip(encode(&encoder, &mut buf))
                {
                    bytes += if convert {
                        let avro = converter.convert(&topic, &json, schema.as_ref());
                        avro.await.unwrap().len()
                    } else {
                        json.len()
                    };
                }
            }
            (start.elapsed().as_nanos() / rounds, bytes / rounds as usize)
        };
        let (json_ns, json_bytes) = cost(false, false).await;
        let (apart_ns, avro_bytes) = cost(true, true).await;
        let (in_place_ns, _) = cost(false, true).await;
        println!(
            "per change: JSON with schemas {json_ns} ns ({json_bytes} bytes); Avro {apart_ns} ns \
             ({:.2}×) with the schemas kept apart, {in_place_ns} ns ({:.2}×) in place \
             ({avro_bytes} bytes)",
            apart_ns as f64 / json_ns as f64,
            in_place_ns as f64 / json_ns as f64,
        );
    }

    /// Nanoseconds per key and value converted, printed; the registry's ids known.
    #[tokio::test]
    #[ignore = "a timing: cargo test --release -p walbridge-relay conversion_cost -- --ignored --nocapture"]
    async fn conversion_cost() {
        let topic: Arc<str> = Arc::from("walbridge.prof.t");
        let [(key, _), (value, _)] = record(false);
        let mut converters: Vec<_> = converters(&topic).into_iter().zip([&key, &value]).collect();
        let rounds = 200_000;
        // the converter as it was: each payload parsed into a tree, then written
        let start = std::time::Instant::now();
        let mut bytes = 0;
        for _ in 0..rounds {
            for (converter, json) in &mut converters {
                let (index, payload, _) = converter.open(&topic, json).unwrap();
                let tree: encode::Payload = serde_json::from_slice(payload).unwrap();
                let mut out = vec![0, 0, 0, 0, 7];
                encode::write(&converter.schemas[index].avro.root, &tree, &mut out).unwrap();
                bytes += out.len();
            }
        }
        let tree_ns = start.elapsed().as_nanos() / rounds;
        let tree_bytes = bytes;
        // the schema in place, recognised by its text
        let start = std::time::Instant::now();
        let mut bytes = 0;
        for _ in 0..rounds {
            for (converter, json) in &mut converters {
                bytes += converter.convert(&topic, json, None).await.unwrap().len();
            }
        }
        let text_ns = start.elapsed().as_nanos() / rounds;
        assert_eq!(bytes, tree_bytes);
        // the payload alone, its schema kept apart and known by its address
        let apart = record(true);
        let start = std::time::Instant::now();
        let mut bytes = 0;
        for _ in 0..rounds {
            for ((converter, _), (payload, schema)) in converters.iter_mut().zip(&apart) {
                bytes += converter
                    .convert(&topic, payload, schema.as_ref())
                    .await
                    .unwrap()
                    .len();
            }
        }
        let ns = start.elapsed().as_nanos() / rounds;
        assert_eq!(bytes, tree_bytes);
        println!(
            "AvroConverter: {ns} ns per key and value, their schemas kept apart ({} + {} JSON \
             bytes); {text_ns} ns with the schemas in place ({} + {} JSON bytes); parsed into a \
             tree first: {tree_ns} ns; {} Avro bytes",
            apart[0].0.len(),
            apart[1].0.len(),
            key.len(),
            value.len(),
            bytes / rounds as usize
        );
    }
}
