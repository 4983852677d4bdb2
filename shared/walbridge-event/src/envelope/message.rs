//! [`MessageEncoder`]: the events Debezium 3.7.1 writes for logical decoding messages
//! (`pg_logical_emit_message`), `op: "m"` on `<topic.prefix>.message`.
//!
//! Debezium's `LogicalDecodingMessageMonitor` builds them from its own schemas
//! (`PostgresSchemaFactory`): the key `MessageKey {prefix}`, the value `MessageValue {op, ts_ms,
//! source, transaction, message {prefix, content}}` — no `before`/`after`, no `ts_us`/`ts_ns` — with
//! the connector's `source` block naming the empty schema and table, and `content` in
//! `binary.handling.mode`'s representation.

use super::source::{ENVELOPE_TAIL_SCHEMA, Micros, SOURCE_SCHEMA};
use super::{EncodedChange, EncoderConfig, RecordKind, SourceInfo, SourceStructVersion, Span};
use super::{TableEncoder, encoder::Layout};
use crate::Error;
use crate::convert::{Kind, write_binary};
use crate::json::write_str;
use crate::modes::BinaryMode;
use crate::schema::{ReplicaIdentity, TableSchema};

/// The suffix Debezium appends to `topic.prefix` (not `topic.delimiter`) for message events.
const TOPIC_SUFFIX: &str = ".message";

const KEY_SCHEMA: &str = r#"{"type":"struct","fields":[{"type":"string","optional":true,"field":"prefix"}],"optional":false,"name":"io.debezium.connector.postgresql.MessageKey","version":1}"#;

/// `<topic.prefix>.message`, where message events go.
pub fn message_topic(topic_prefix: &str) -> String {
    format!("{topic_prefix}{TOPIC_SUFFIX}")
}

/// Encodes logical decoding messages. One per connector configuration.
#[derive(Debug)]
pub struct MessageEncoder {
    topic: String,
    key_open: Vec<u8>,
    key_close: &'static [u8],
    value_open: Vec<u8>,
    value_close: &'static [u8],
    /// Writes the `source` block, of the empty schema and table as Debezium's message events have.
    source: TableEncoder,
    binary: BinaryMode,
}

impl MessageEncoder {
    /// Precomputes the topic, the schemas and the `source` block's constant parts under `config`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] with `source.struct.version=v1`: the Debezium releases whose events
    /// that layout reproduces wrote no message events.
    pub fn new(config: &EncoderConfig) -> Result<Self, Error> {
        if config.source_struct == SourceStructVersion::V1 {
            return Err(Error::Unsupported {
                what: "a logical decoding message",
                setting: "source.struct.version=v1",
            });
        }
        let nowhere = TableSchema::new("", "", Vec::new(), &[], ReplicaIdentity::Default)?;
        let source = TableEncoder::new(&nowhere, config)?;
        debug_assert_eq!(source.layout, Layout::Current);
        let binary = config.modes.binary;
        let (key_open, key_close): (Vec<u8>, &'static [u8]) = if config.key_schemas {
            let mut s = b"{\"schema\":".to_vec();
            s.extend_from_slice(KEY_SCHEMA.as_bytes());
            s.extend_from_slice(b",\"payload\":");
            (s, b"}")
        } else {
            (Vec::new(), b"")
        };
        let (mut value_open, value_close): (Vec<u8>, &'static [u8]) = if config.value_schemas {
            // The envelope's `transaction` block, the first field of its tail.
            let transaction_end = ENVELOPE_TAIL_SCHEMA
                .find(r#""field":"transaction"}"#)
                .map_or(0, |at| at + r#""field":"transaction"}"#.len());
            let mut s = br#"{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"},"#.to_vec();
            s.extend_from_slice(SOURCE_SCHEMA.as_bytes());
            s.push(b',');
            s.extend_from_slice(&ENVELOPE_TAIL_SCHEMA.as_bytes()[..transaction_end]);
            s.extend_from_slice(br#",{"type":"struct","fields":[{"type":"string","optional":true,"field":"prefix"},"#);
            Kind::Bytes(binary).write_field_schema(&mut s, true, None, "content", None);
            s.extend_from_slice(br#"],"optional":false,"name":"io.debezium.connector.postgresql.Message","version":1,"field":"message"}],"optional":false,"name":"io.debezium.connector.postgresql.MessageValue","version":1},"payload":"#);
            (s, b"}")
        } else {
            (Vec::new(), b"")
        };
        value_open.extend_from_slice(b"{\"op\":\"m\",\"ts_ms\":");
        Ok(MessageEncoder {
            topic: message_topic(&config.topic_prefix),
            key_open,
            key_close,
            value_open,
            value_close,
            source,
            binary,
        })
    }

    /// `<topic.prefix>.message`.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Appends the record of one message: key `{prefix}`, value `op: "m"` stamped
    /// `processing_time_us`, `content` as `binary.handling.mode` represents bytes.
    pub fn encode(
        &self,
        prefix: &str,
        content: &[u8],
        source: &SourceInfo,
        processing_time_us: i64,
        out: &mut Vec<u8>,
    ) -> EncodedChange {
        let key_start = out.len();
        out.extend_from_slice(&self.key_open);
        out.extend_from_slice(b"{\"prefix\":");
        write_str(out, prefix);
        out.push(b'}');
        out.extend_from_slice(self.key_close);
        let value_start = out.len();
        out.extend_from_slice(&self.value_open);
        Micros::new(processing_time_us).write_ms(out);
        self.source.write_source(out, source, None);
        out.extend_from_slice(b",\"transaction\":null,\"message\":{\"prefix\":");
        write_str(out, prefix);
        out.extend_from_slice(b",\"content\":");
        write_binary(out, self.binary, content);
        out.extend_from_slice(b"}}");
        out.extend_from_slice(self.value_close);
        let mut encoded = EncodedChange::default();
        encoded.push(Span {
            kind: RecordKind::Message,
            key: Some(key_start..value_start),
            value: Some(value_start..out.len()),
            header: None,
        });
        encoded
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Lsn;
    use crate::envelope::test_support::off;

    fn record(encoder: &MessageEncoder, source: &SourceInfo, content: &[u8]) -> (String, String) {
        let mut out = Vec::new();
        let encoded = encoder.encode("outbox", content, source, 1_796_554_956_759_125, &mut out);
        let records: Vec<_> = encoded.records(&out).collect();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].kind, RecordKind::Message);
        assert_eq!(records[0].header, None);
        let text = |b: Option<&[u8]>| String::from_utf8(b.unwrap().to_vec()).unwrap();
        (text(records[0].key), text(records[0].value))
    }

    // The bytes Debezium 3.7.1 wrote through JsonConverter for
    // `BEGIN; SELECT pg_logical_emit_message(true, 'outbox', '{"a":"é"}'); …; COMMIT`.
    const TRANSACTIONAL: SourceInfo = SourceInfo {
        commit_time_us: 1_796_554_956_277_483,
        tx_id: Some(91789),
        lsn: Lsn(960_376_760),
        last_commit_lsn: Some(Lsn(960_376_688)),
        transaction: None,
    };

    #[test]
    fn a_message_is_keyed_by_its_prefix_with_the_empty_table_in_source_and_base64_content() {
        let encoder = MessageEncoder::new(&off()).unwrap();
        assert_eq!(encoder.topic(), "dbserver1.message");
        let (key, value) = record(&encoder, &TRANSACTIONAL, "{\"a\":\"é\"}".as_bytes());
        assert_eq!(key, r#"{"prefix":"outbox"}"#);
        assert_eq!(
            value,
            r#"{"op":"m","ts_ms":1796554956759,"source":{"version":"3.7.1.Final","connector":"postgresql","name":"dbserver1","ts_ms":1796554956277,"snapshot":"false","db":"postgres","sequence":"[\"960376688\",\"960376760\"]","ts_us":1796554956277483,"ts_ns":1796554956277483000,"schema":"","table":"","txId":91789,"lsn":960376760,"xmin":null,"origin":null,"origin_lsn":null},"transaction":null,"message":{"prefix":"outbox","content":"eyJhIjoiw6kifQ=="}}"#
        );
    }

    #[test]
    fn a_non_transactional_message_has_no_transaction_id() {
        let encoder = MessageEncoder::new(&off()).unwrap();
        let source = SourceInfo {
            tx_id: None,
            lsn: Lsn(960_377_064),
            last_commit_lsn: Some(Lsn(960_377_064)),
            ..TRANSACTIONAL
        };
        let (_, value) = record(&encoder, &source, b"after");
        assert!(
            value.contains(r#""sequence":"[\"960377064\",\"960377064\"]","#)
                && value.contains(r#""txId":null,"lsn":960377064,"#)
                && value.ends_with(r#""message":{"prefix":"outbox","content":"YWZ0ZXI="}}"#),
            "{value}"
        );
    }

    #[test]
    fn schemas_on_name_debeziums_message_schemas_and_content_follows_the_binary_mode() {
        let mut config = off().with_schemas(true, true);
        config.modes.binary = BinaryMode::Hex;
        let encoder = MessageEncoder::new(&config).unwrap();
        let (key, value) = record(&encoder, &TRANSACTIONAL, b"\xc3\xa9");
        assert_eq!(
            key,
            r#"{"schema":{"type":"struct","fields":[{"type":"string","optional":true,"field":"prefix"}],"optional":false,"name":"io.debezium.connector.postgresql.MessageKey","version":1},"payload":{"prefix":"outbox"}}"#
        );
        let schema = r#"{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"},{"type":"struct","fields":[{"type":"string","optional":false,"field":"version"},{"type":"string","optional":false,"field":"connector"},{"type":"string","optional":false,"field":"name"},{"type":"int64","optional":false,"field":"ts_ms"},{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},"default":"false","field":"snapshot"},{"type":"string","optional":false,"field":"db"},{"type":"string","optional":true,"field":"sequence"},{"type":"int64","optional":true,"field":"ts_us"},{"type":"int64","optional":true,"field":"ts_ns"},{"type":"string","optional":false,"field":"schema"},{"type":"string","optional":false,"field":"table"},{"type":"int64","optional":true,"field":"txId"},{"type":"int64","optional":true,"field":"lsn"},{"type":"int64","optional":true,"field":"xmin"},{"type":"string","optional":true,"field":"origin"},{"type":"int64","optional":true,"field":"origin_lsn"}],"optional":false,"name":"io.debezium.connector.postgresql.Source","version":1,"field":"source"},{"type":"struct","fields":[{"type":"string","optional":false,"field":"id"},{"type":"int64","optional":false,"field":"total_order"},{"type":"int64","optional":false,"field":"data_collection_order"}],"optional":true,"name":"event.block","version":1,"field":"transaction"},{"type":"struct","fields":[{"type":"string","optional":true,"field":"prefix"},{"type":"string","optional":true,"field":"content"}],"optional":false,"name":"io.debezium.connector.postgresql.Message","version":1,"field":"message"}],"optional":false,"name":"io.debezium.connector.postgresql.MessageValue","version":1},"payload":{"op":"m","ts_ms":1796554956759,"#;
        assert!(value.starts_with(schema), "{value}");
        assert!(
            value.ends_with(r#""message":{"prefix":"outbox","content":"c3a9"}}}"#),
            "{value}"
        );
        config.modes.binary = BinaryMode::Bytes;
        let encoder = MessageEncoder::new(&config).unwrap();
        let (_, value) = record(&encoder, &TRANSACTIONAL, b"bar");
        assert!(
            value.contains(r#"{"type":"bytes","optional":true,"field":"content"}"#)
                && value.ends_with(r#""content":"YmFy"}}}"#),
            "{value}"
        );
    }

    #[test]
    fn the_legacy_layout_refuses_messages() {
        let config = off().legacy(crate::envelope::DEFAULT_LEGACY_CONNECTOR_VERSION);
        assert!(matches!(
            MessageEncoder::new(&config),
            Err(Error::Unsupported { .. })
        ));
    }
}
