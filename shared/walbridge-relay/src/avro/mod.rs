//! Confluent's AvroConverter (`key.converter` / `value.converter` =
//! `io.confluent.connect.avro.AvroConverter`), the last step of every record as in Kafka Connect:
//! after the transform chain, each key and value — its Connect schema and value, which the encoder
//! and the chain write in JsonConverter's `{"schema":…,"payload":…}` form — becomes the Avro schema
//! `AvroData` makes of the Connect schema ([`schema`]), registered under `<topic>-key` or
//! `<topic>-value` for its id, and the Avro body of the value ([`encode`]) behind Confluent's
//! framing: byte 0, the id as a big-endian 32-bit integer. A tombstone stays a Kafka null.
//!
//! The Avro schema and the id of each Connect schema are kept for the cold start: a schema is
//! registered (or looked up) once per shape and subject. A registry that cannot be reached or
//! refuses fails the publish, so the invocation fails before its checkpoint and the slot stays.

mod encode;
mod registry;
mod schema;

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use walbridge_config::AvroSettings;

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

/// One Connect schema's Avro schema, and its ids by subject.
#[derive(Debug)]
struct Registered {
    avro: AvroSchema,
    ids: HashMap<Arc<str>, u32>,
}

/// The AvroConverter of the key or of the value.
#[derive(Debug)]
pub struct AvroConverter {
    /// `-key` or `-value`: the subject of a topic's schemas (TopicNameStrategy).
    subject_suffix: &'static str,
    auto_register: bool,
    registry: Registry,
    /// By the Connect schema's JSON text.
    schemas: HashMap<Box<str>, Registered>,
    /// `<topic><suffix>` by topic.
    subjects: HashMap<Arc<str>, Arc<str>>,
}

/// The key as JsonConverter writes it with its schema, the schema left as text.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    schema: &'a RawValue,
    payload: serde_json::Value,
}

impl AvroConverter {
    /// The converter `settings` describe, for keys (`is_key`) or values.
    pub fn new(settings: &AvroSettings, is_key: bool) -> Self {
        Self {
            subject_suffix: if is_key { "-key" } else { "-value" },
            auto_register: settings.auto_register,
            registry: Registry::new(&settings.registry_urls, settings.basic_auth.clone()),
            schemas: HashMap::new(),
            subjects: HashMap::new(),
        }
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
        let envelope: Envelope<'_> = serde_json::from_slice(json)
            .map_err(|err| SchemaError::NotAnEnvelope(err.to_string()))?;
        let schema_text = envelope.schema.get();
        let subject = match self.subjects.get(topic) {
            Some(subject) => Arc::clone(subject),
            None => {
                let subject: Arc<str> = Arc::from(format!("{topic}{}", self.subject_suffix));
                self.subjects
                    .insert(Arc::clone(topic), Arc::clone(&subject));
                subject
            }
        };
        if !self.schemas.contains_key(schema_text) {
            let avro = AvroSchema::from_connect_json(schema_text)?;
            self.schemas.insert(
                schema_text.into(),
                Registered {
                    avro,
                    ids: HashMap::new(),
                },
            );
        }
        let registered = self.schemas.get_mut(schema_text).expect("inserted above");
        let id = match registered.ids.get(&subject) {
            Some(id) => *id,
            None => {
                let id = self
                    .registry
                    .id(&subject, &registered.avro.text, self.auto_register)
                    .await?;
                registered.ids.insert(subject, id);
                id
            }
        };
        let mut out = Vec::with_capacity(json.len() / 2);
        out.push(0);
        out.extend_from_slice(&id.to_be_bytes());
        encode::write(&registered.avro.root, &envelope.payload, &mut out)?;
        Ok(out)
    }
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
