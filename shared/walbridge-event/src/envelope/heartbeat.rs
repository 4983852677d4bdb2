//! [`HeartbeatEncoder`]: the heartbeat records Debezium 3.7.1 writes when `heartbeat.interval.ms` is
//! set (`HeartbeatImpl`, its schemas from `SchemaFactory`): the key `ServerNameKey {serverName}`
//! holding `topic.prefix`, the value `Heartbeat {ts_ms}` holding the wall clock when the heartbeat
//! was made (not a database time). Both fields are required; there are no headers.

use std::ops::Range;

use crate::json::{write_i64, write_str};

/// `io.debezium.connector.common.ServerNameKey` v1.
const KEY_SCHEMA: &str = r#"{"type":"struct","fields":[{"type":"string","optional":false,"field":"serverName"}],"optional":false,"name":"io.debezium.connector.common.ServerNameKey","version":1}"#;

/// `io.debezium.connector.common.Heartbeat` v1.
const VALUE_SCHEMA: &str = r#"{"type":"struct","fields":[{"type":"int64","optional":false,"field":"ts_ms"}],"optional":false,"name":"io.debezium.connector.common.Heartbeat","version":1}"#;

/// The default of `topic.heartbeat.prefix`.
pub const DEFAULT_HEARTBEAT_TOPIC_PREFIX: &str = "__debezium-heartbeat";

/// Kafka partition Debezium names on every heartbeat record (whatever the key hashes to).
pub const HEARTBEAT_PARTITION: i32 = 0;

/// Encodes heartbeat records. One per connector configuration: the key never changes.
#[derive(Debug, Clone)]
pub struct HeartbeatEncoder {
    topic: String,
    key: Vec<u8>,
    value_schemas: bool,
}

/// Where one heartbeat's key and value are in the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatRecord {
    /// The key's bytes (`{"serverName":…}`, with its schema when the key converter asks).
    pub key: Range<usize>,
    /// The value's bytes (`{"ts_ms":…}`).
    pub value: Range<usize>,
}

impl HeartbeatEncoder {
    /// The encoder of heartbeats on `topic` for the connector named `server_name` (`topic.prefix`).
    pub fn new(
        topic: impl Into<String>,
        server_name: &str,
        key_schemas: bool,
        value_schemas: bool,
    ) -> Self {
        let mut key = Vec::new();
        if key_schemas {
            key.extend_from_slice(b"{\"schema\":");
            key.extend_from_slice(KEY_SCHEMA.as_bytes());
            key.extend_from_slice(b",\"payload\":");
        }
        key.extend_from_slice(b"{\"serverName\":");
        write_str(&mut key, server_name);
        key.push(b'}');
        if key_schemas {
            key.push(b'}');
        }
        Self {
            topic: topic.into(),
            key,
            value_schemas,
        }
    }

    /// `<topic.heartbeat.prefix>.<topic.prefix>`, or `topic.heartbeat.name`.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Appends the record of a heartbeat made at `now_ms` (ms since the epoch).
    pub fn encode(&self, now_ms: i64, out: &mut Vec<u8>) -> HeartbeatRecord {
        let start = out.len();
        out.extend_from_slice(&self.key);
        let key = start..out.len();
        let start = out.len();
        if self.value_schemas {
            out.extend_from_slice(b"{\"schema\":");
            out.extend_from_slice(VALUE_SCHEMA.as_bytes());
            out.extend_from_slice(b",\"payload\":");
        }
        out.extend_from_slice(b"{\"ts_ms\":");
        write_i64(out, now_ms);
        out.push(b'}');
        if self.value_schemas {
            out.push(b'}');
        }
        HeartbeatRecord {
            key,
            value: start..out.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(buf: &[u8], range: Range<usize>) -> &str {
        std::str::from_utf8(&buf[range]).unwrap()
    }

    #[test]
    fn heartbeats_are_debeziums_bytes_schemas_off_and_on() {
        let off =
            HeartbeatEncoder::new("__debezium-heartbeat.dbserver1", "dbserver1", false, false);
        assert_eq!(off.topic(), "__debezium-heartbeat.dbserver1");
        let mut buf = Vec::new();
        let record = off.encode(1_700_000_000_999, &mut buf);
        assert_eq!(text(&buf, record.key), r#"{"serverName":"dbserver1"}"#);
        assert_eq!(text(&buf, record.value), r#"{"ts_ms":1700000000999}"#);

        let on = HeartbeatEncoder::new("hb", "dbserver1", true, true);
        let record = on.encode(1_700_000_000_999, &mut buf);
        assert_eq!(
            text(&buf, record.key),
            r#"{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"serverName"}],"optional":false,"name":"io.debezium.connector.common.ServerNameKey","version":1},"payload":{"serverName":"dbserver1"}}"#
        );
        assert_eq!(
            text(&buf, record.value),
            r#"{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"ts_ms"}],"optional":false,"name":"io.debezium.connector.common.Heartbeat","version":1},"payload":{"ts_ms":1700000000999}}"#
        );

        // each converter on its own
        let key_only = HeartbeatEncoder::new("hb", "s", true, false);
        let record = key_only.encode(5, &mut buf);
        assert!(text(&buf, record.key).starts_with(r#"{"schema":"#));
        assert_eq!(text(&buf, record.value), r#"{"ts_ms":5}"#);
    }
}
