//! The event sink seam: Kafka, or a fake in tests.

use std::sync::Arc;

use walbridge_event::Lsn;
use walbridge_event::envelope::{PAYLOAD_OPEN, SCHEMA_OPEN};

use crate::error::PublishError;
use crate::position::Position;

/// One Kafka record to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutRecord {
    /// `<topic.prefix>.<schema>.<table>`, or the transaction or message topic; shared by every
    /// record of the table.
    pub topic: Arc<str>,
    /// The record's key as the key converter serialises it (JSON); it also chooses the partition.
    /// `None` for records Debezium writes without a key.
    pub key: Option<Vec<u8>>,
    /// The key's Connect schema when its encoder kept it apart
    /// ([`walbridge_event::envelope::EncoderConfig::key_schema_apart`]): `key` is then its payload
    /// alone, which the key's AvroConverter writes under this schema, known by its address.
    pub key_schema: Option<Arc<str>>,
    /// `None` is a tombstone.
    pub value: Option<Vec<u8>>,
    /// As `key_schema`, for the value.
    pub value_schema: Option<Arc<str>>,
    /// Headers the event itself carries: `__debezium.newkey` or `__debezium.oldkey` on the events
    /// of an update that changed the row's key, as Debezium writes them, and those the transform
    /// chain adds.
    pub headers: Vec<(std::borrow::Cow<'static, str>, Vec<u8>)>,
    /// Whether the sink adds Debezium's `__debezium.context.*` headers (when configured): Debezium
    /// writes them on change events, not on the transaction topic's BEGIN and END nor on messages.
    /// The transform chain, when there is one, adds them itself and clears this.
    pub context_headers: bool,
    /// The Kafka partition the record names (Debezium's heartbeats name 0); `None`, as for every
    /// change event: the partition Kafka's producer picks from the key.
    pub partition: Option<i32>,
    /// The Kafka record's timestamp (ms since the epoch) when the record names one (an
    /// `EventRouter` event carries its event's time); `None`: the time walbridge writes it.
    pub timestamp_ms: Option<i64>,
    /// The change the record came from, for error messages.
    pub lsn: Lsn,
    /// The record's identity in the stream, written as the `__walbridge.position` header so that
    /// recovery can tell which records a failed publish already landed.
    pub position: Position,
}

impl OutRecord {
    /// The bytes the record holds of its own (its key, value and headers; not a schema kept
    /// apart, which its table's records share).
    pub fn own_bytes(&self) -> usize {
        self.key.as_ref().map_or(0, Vec::len)
            + self.value.as_ref().map_or(0, Vec::len)
            + (self.headers.iter())
                .map(|(name, value)| name.len() + value.len())
                .sum::<usize>()
    }

    /// Puts the schemas kept apart back into the key and value, as JsonConverter writes them
    /// (`{"schema":…,"payload":…}`): for what reads a record whole (the transform chain, a
    /// JsonConverter), where only the AvroConverter takes a schema by reference.
    pub fn put_schemas_in_place(&mut self) {
        for (bytes, schema) in [
            (&mut self.key, &mut self.key_schema),
            (&mut self.value, &mut self.value_schema),
        ] {
            if let (Some(payload), Some(schema)) = (bytes.as_mut(), schema.take()) {
                let mut whole = Vec::with_capacity(
                    schema.len() + payload.len() + SCHEMA_OPEN.len() + PAYLOAD_OPEN.len() + 1,
                );
                whole.extend_from_slice(SCHEMA_OPEN);
                whole.extend_from_slice(schema.as_bytes());
                whole.extend_from_slice(PAYLOAD_OPEN);
                whole.extend_from_slice(payload);
                whole.push(b'}');
                *payload = whole;
            }
        }
    }
}

#[cfg(test)]
impl OutRecord {
    /// A change event's record of `topic`, its key and value whole (their schemas in place).
    pub(crate) fn of(topic: &str, key: Option<&[u8]>, value: Option<&[u8]>) -> Self {
        Self {
            topic: Arc::from(topic),
            key: key.map(<[u8]>::to_vec),
            key_schema: None,
            value: value.map(<[u8]>::to_vec),
            value_schema: None,
            headers: Vec::new(),
            context_headers: true,
            partition: None,
            timestamp_ms: None,
            lsn: Lsn(0),
            position: Position::default(),
        }
    }
}

/// The event sink: Kafka.
///
/// Contract: [`EventSink::publish`] returns `Ok` only when the broker acknowledged every record (with
/// `acks=all`), each written after the records before it for the same partition. On error, any subset
/// may have been written; the caller publishes the whole window again later.
// Native async fn: the implementations are concrete types of this workspace, whose futures are
// Send; `invocations_are_send` (invocation.rs) fails to compile if one stops being.
#[allow(async_fn_in_trait)]
pub trait EventSink {
    /// Publishes and drains `records`.
    async fn publish(&mut self, records: &mut Vec<OutRecord>) -> Result<(), PublishError>;

    /// An invocation begins: what the sink remembers of the cluster (topics, partition counts) is
    /// read again before it is relied on.
    fn begin(&mut self);

    /// While on, records that an earlier, failed invocation already wrote are skipped: per
    /// partition, those whose [`Position`] is not after the position of the partition's last record.
    fn skip_landed(&mut self, on: bool);
}

/// A sink kept between invocations is lent to each one.
impl<T: EventSink> EventSink for &mut T {
    async fn publish(&mut self, records: &mut Vec<OutRecord>) -> Result<(), PublishError> {
        (**self).publish(records).await
    }

    fn begin(&mut self) {
        (**self).begin();
    }

    fn skip_landed(&mut self, on: bool) {
        (**self).skip_landed(on);
    }
}
