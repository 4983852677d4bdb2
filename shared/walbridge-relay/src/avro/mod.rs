//! Confluent's AvroConverter (`key.converter` / `value.converter` =
//! `io.confluent.connect.avro.AvroConverter`), the last step of every record as in Kafka Connect:
//! after the transform chain, each key and value — its Connect schema and value, which the encoder
//! and the chain write in JsonConverter's `{"schema":…,"payload":…}` form — becomes the Avro schema
//! `AvroData` makes of the Connect schema (in `schema`), registered for its id under the subject the
//! subject name strategy names (`<topic>-key` or `<topic>-value` by default), and the Avro body of
//! the value (in `encode`) behind Confluent's framing: byte 0, the id as a big-endian 32-bit
//! integer. A tombstone stays a Kafka null.
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

pub use encode::EncodeError;
pub use registry::RegistryError;
pub use schema::SchemaError;

use crate::error::PublishError;
use crate::sink::OutRecord;
use encode::Payload;
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
    avro: AvroSchema,
    ids: HashMap<Arc<str>, u32>,
}

/// The AvroConverter of the key or of the value.
#[derive(Debug)]
pub struct AvroConverter {
    is_key: bool,
    strategy: SubjectStrategy,
    auto_register: bool,
    registry: Registry,
    /// By the Connect schema's JSON text.
    schemas: HashMap<Arc<str>, Registered>,
    /// The schema text of each topic's last record: the next one of the topic most often has the
    /// same, which a comparison of bytes finds without parsing it again.
    last: HashMap<Arc<str>, Arc<str>>,
}

/// How JsonConverter's envelope, as walbridge writes it, begins, and what is between its schema
/// and its payload.
const HEAD: &[u8] = b"{\"schema\":";
const MIDDLE: &[u8] = b",\"payload\":";

/// The key as JsonConverter writes it with its schema, the schema left as text.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    schema: &'a RawValue,
    payload: Payload,
}

impl AvroConverter {
    /// The converter `settings` describe, for keys (`is_key`) or values.
    pub fn new(settings: &AvroSettings, is_key: bool) -> Self {
        Self {
            is_key,
            strategy: settings.subject_strategy,
            auto_register: settings.auto_register,
            registry: Registry::new(
                &settings.registry_urls,
                settings.basic_auth.clone(),
                settings.ca_file.as_deref(),
            ),
            schemas: HashMap::new(),
            last: HashMap::new(),
        }
    }

    /// The schema text and payload of `json`: the topic's last schema when `json` carries it
    /// (only the payload parsed), else the document parsed whole.
    fn open(&self, topic: &str, json: &[u8]) -> Result<(Arc<str>, Payload), SchemaError> {
        if let Some(text) = self.last.get(topic) {
            let payload = json
                .strip_prefix(HEAD)
                .and_then(|rest| rest.strip_prefix(text.as_bytes()))
                .and_then(|rest| rest.strip_prefix(MIDDLE))
                .and_then(|rest| rest.strip_suffix(b"}"));
            if let Some(Ok(payload)) = payload.map(serde_json::from_slice) {
                return Ok((Arc::clone(text), payload));
            }
        }
        let envelope: Envelope<'_> = serde_json::from_slice(json)
            .map_err(|err| SchemaError::NotAnEnvelope(err.to_string()))?;
        let text = envelope.schema.get();
        let text = match self.schemas.get_key_value(text) {
            Some((known, _)) => Arc::clone(known),
            None => Arc::from(text),
        };
        Ok((text, envelope.payload))
    }

    /// The Confluent-framed Avro bytes of `json` (JsonConverter's `{"schema":…,"payload":…}`),
    /// a record of `topic`.
    ///
    /// # Errors
    /// A [`ConvertError`]: the schema, the value, or the registry.
    pub async fn convert(
        &mut self,
        topic: &Arc<str>,
        json: &[u8],
    ) -> Result<Vec<u8>, ConvertError> {
        let (schema_text, payload) = self.open(topic, json)?;
        if !self.schemas.contains_key(&schema_text) {
            let avro = AvroSchema::from_connect_json(&schema_text)?;
            self.schemas.insert(
                Arc::clone(&schema_text),
                Registered {
                    avro,
                    ids: HashMap::new(),
                },
            );
        }
        if !self
            .last
            .get(topic)
            .is_some_and(|last| Arc::ptr_eq(last, &schema_text))
        {
            self.last
                .insert(Arc::clone(topic), Arc::clone(&schema_text));
        }
        let registered = self.schemas.get_mut(&schema_text).expect("inserted above");
        let id = match registered.ids.get(topic) {
            Some(id) => *id,
            None => {
                let subject = subject(self.strategy, self.is_key, topic, &registered.avro)?;
                let id = self
                    .registry
                    .id(&subject, &registered.avro.text, self.auto_register)
                    .await?;
                registered.ids.insert(Arc::clone(topic), id);
                id
            }
        };
        let mut out = Vec::with_capacity(json.len() / 2);
        out.push(0);
        out.extend_from_slice(&id.to_be_bytes());
        encode::write(&registered.avro.root, &payload, &mut out)?;
        Ok(out)
    }
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

    /// Writes the keys and values of `records` (JSON with their schemas) in the converters'
    /// format; nothing when neither side converts.
    ///
    /// # Errors
    /// [`PublishError::Convert`], naming the first record that could not be written.
    pub async fn convert_all(&mut self, records: &mut [OutRecord]) -> Result<(), PublishError> {
        if self.is_empty() {
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
            record.key = Some(converter.convert(&record.topic, key).await?);
        }
        if let (Some(converter), Some(value)) = (&mut self.value, &record.value) {
            record.value = Some(converter.convert(&record.topic, value).await?);
        }
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

    #[test]
    fn a_topics_last_schema_is_recognised_without_parsing_it_and_anything_else_is_parsed() {
        let mut props = walbridge_config::Properties::default();
        for (key, value) in [
            ("database.hostname", "h"),
            ("database.user", "u"),
            ("database.dbname", "d"),
            ("topic.prefix", "p"),
            ("checkpoint.uri", "file:///tmp/c.json"),
            ("kafka.bootstrap.servers", "k:9092"),
            ("value.converter", "io.confluent.connect.avro.AvroConverter"),
            ("value.converter.schema.registry.url", "http://127.0.0.1:1"),
        ] {
            props.set(key, value);
        }
        let config = walbridge_config::Config::from_properties(&props).expect("a valid config");
        let settings = config.events.value_converter.avro().expect("Avro values");
        let mut converter = AvroConverter::new(settings, false);
        let topic: Arc<str> = Arc::from("t");
        let schema = r#"{"type":"string","optional":false}"#;
        let doc = format!(r#"{{"schema":{schema},"payload":"a"}}"#);
        let (text, payload) = converter.open(&topic, doc.as_bytes()).unwrap();
        assert_eq!((&*text, payload), (schema, Payload::String("a".into())));
        converter.last.insert(Arc::clone(&topic), Arc::clone(&text));
        let (again, payload) = converter
            .open(
                &topic,
                br#"{"schema":{"type":"string","optional":false},"payload":"b"}"#,
            )
            .unwrap();
        assert!(Arc::ptr_eq(&again, &text), "the fast path");
        assert_eq!(payload, Payload::String("b".into()));
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
            let (text, _) = converter.open(&topic, doc.as_bytes()).unwrap();
            assert_eq!(&*text, schema_text, "{doc}");
        }
    }
}
