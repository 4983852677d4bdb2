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
    schemas: HashMap<Box<str>, Registered>,
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
            is_key,
            strategy: settings.subject_strategy,
            auto_register: settings.auto_register,
            registry: Registry::new(
                &settings.registry_urls,
                settings.basic_auth.clone(),
                settings.ca_file.as_deref(),
            ),
            schemas: HashMap::new(),
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
        encode::write(&registered.avro.root, &envelope.payload, &mut out)?;
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
}
