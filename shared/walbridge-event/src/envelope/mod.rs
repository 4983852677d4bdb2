//! Debezium 3.7.1 change events for decoded wal2json changes, byte for byte as Kafka Connect's
//! JsonConverter writes them (schemas on or off, separately for key and value).
//!
//! A [`TableEncoder`] is built once per table (and again when its schema changes); it precomputes the
//! topic, the schema JSON and every constant piece of the envelope, so [`TableEncoder::encode`] only writes
//! the row values and the run-specific numbers, straight into the caller's reusable buffer.
//!
//! Rules reproduced (Debezium `RelationalChangeRecordEmitter`, `PostgresChangeRecordEmitter`):
//! * insert → `c`; update → `u` with `before` null unless REPLICA IDENTITY FULL; delete → `d` whose
//!   `before` holds the old identity, other nullable columns null and NOT NULL ones at their DEFAULT or
//!   the type fallback, followed by a tombstone (`tombstones.on.delete`).
//! * an update that changes the key → `d` for the old key (header `__debezium.newkey`), its tombstone, and
//!   `c` for the new key (header `__debezium.oldkey`).
//! * columns wal2json leaves out of an update (unchanged TOASTed values) get the old value when the
//!   identity has it (REPLICA IDENTITY FULL), else `__debezium_unavailable_value`.
//! * a NULL in a column with a constant DEFAULT is written as the default (JsonConverter's
//!   `replace.null.with.default=true`).
//!
//! With `source.struct.version=v1` ([`SourceStructVersion::V1`]) the same writers produce the events of
//! Debezium's wal2json era (0.9.x, and 1.0.x with `source.struct.version=v1`) for older consumers: the
//! legacy source block (`ts_usec`, boolean `snapshot`, `last_snapshot_record`, optional `version`,
//! `connector`, `schema`, `table`; `xmin` from 0.9.3), the unversioned envelope
//! `before, after, source, op, ts_ms`, schema names adjusted to Avro names (Debezium's
//! `SchemaNameAdjuster`, the only mode then), and `before` as wal2json's old keys gave it: an update under
//! REPLICA IDENTITY DEFAULT carries the key columns, the other columns as a delete's.
//!
//! A [`TableEncoder`] is built in `encoder`, writes a change's records in `records`, and their `source`
//! block in `source`.

mod encoder;
mod heartbeat;
mod message;
mod records;
mod source;
mod transaction;

pub use encoder::TableEncoder;
pub use heartbeat::{
    DEFAULT_HEARTBEAT_TOPIC_PREFIX, HEARTBEAT_PARTITION, HeartbeatEncoder, HeartbeatRecord,
};
pub use message::{MessageEncoder, message_topic};
pub use transaction::{TransactionBlock, TransactionCounts, TransactionEncoder, TransactionRecord};

use std::ops::Range;

use crate::Lsn;
use crate::modes::TypeModes;
use crate::names::NameAdjustment;

/// `source.version` of the Debezium release whose events walbridge writes.
pub const DEFAULT_CONNECTOR_VERSION: &str = "3.7.1.Final";

/// `source.version` of a [`SourceStructVersion::V1`] event unless another legacy release is chosen: the last
/// release whose events had exactly this layout (1.1 added the envelope's `transaction`).
pub const DEFAULT_LEGACY_CONNECTOR_VERSION: &str = "1.0.3.Final";

/// The Debezium releases whose events [`SourceStructVersion::V1`] reproduces, as `source.version` may
/// name them (`source.struct.v1.connector.version`): 0.9.x and 1.0.x wrote this source block inside an
/// envelope without `transaction`.
pub const LEGACY_CONNECTOR_VERSIONS: &[&str] = &[
    "1.0.3.Final",
    "1.0.2.Final",
    "1.0.1.Final",
    "1.0.0.Final",
    "0.9.5.Final",
    "0.9.4.Final",
    "0.9.3.Final",
    "0.9.2.Final",
    "0.9.1.Final",
    "0.9.0.Final",
];

/// Whether the legacy source block of `version` has `xmin`: Debezium added it in 0.9.3 (the events of
/// 0.9.0–0.9.2, such as the ones the seed guide shows, end at `last_snapshot_record`).
pub fn legacy_source_has_xmin(version: &str) -> bool {
    !matches!(version, "0.9.0.Final" | "0.9.1.Final" | "0.9.2.Final")
}

/// `source.struct.version`, Debezium 1.x's property: which source block, and so which envelope, events
/// carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SourceStructVersion {
    /// `v2` (default): Debezium 3.7.1's source block and envelope.
    #[default]
    V2,
    /// `v1`: the wal2json era's (Debezium 0.9.x, 1.0.x with `source.struct.version=v1`), for consumers
    /// built against those connectors.
    V1,
}

impl crate::modes::Mode for SourceStructVersion {
    const KEY: &'static str = "source.struct.version";
    const VALUES: &'static [(&'static str, Self)] = &[
        ("v2", SourceStructVersion::V2),
        ("v1", SourceStructVersion::V1),
    ];
}

/// Debezium's default `unavailable.value.placeholder`.
pub const UNAVAILABLE_VALUE_PLACEHOLDER: &str = "__debezium_unavailable_value";

/// How JsonConverter's key or value with its schema begins, before the schema:
/// `{"schema":<schema>,"payload":<payload>}`.
pub const SCHEMA_OPEN: &[u8] = b"{\"schema\":";

/// What is between the schema and the payload of JsonConverter's key or value with its schema.
pub const PAYLOAD_OPEN: &[u8] = b",\"payload\":";

/// Header on the delete event of a key change: the new key.
pub const NEWKEY_HEADER: &str = "__debezium.newkey";

/// Header on the create event of a key change: the old key.
pub const OLDKEY_HEADER: &str = "__debezium.oldkey";

/// Connector-wide settings that shape every event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncoderConfig {
    /// `topic.prefix`: first part of topic names and schema names, and `source.name`.
    pub topic_prefix: String,
    /// `database.dbname`: `source.db`.
    pub database: String,
    /// `source.version`: [`DEFAULT_CONNECTOR_VERSION`], or with [`SourceStructVersion::V1`] one of
    /// [`LEGACY_CONNECTOR_VERSIONS`] (which also decides whether the legacy block has `xmin`).
    pub connector_version: String,
    /// `source.struct.version` (default `v2`): the current events, or the wal2json era's.
    pub source_struct: SourceStructVersion,
    /// `key.converter.schemas.enable` (Kafka Connect's default: true).
    pub key_schemas: bool,
    /// `value.converter.schemas.enable` (Kafka Connect's default: true).
    pub value_schemas: bool,
    /// With `key_schemas` on, a [`TableEncoder`]'s keys are their payload alone and the key's
    /// Connect schema is kept apart ([`TableEncoder::key_schema`]): for a converter that takes the
    /// schema by reference (the AvroConverter, when no transform reads the record), so that no
    /// record copies nor compares the schema's text. The other writers (transaction, heartbeat and
    /// message records) write their schemas in place still.
    pub key_schema_apart: bool,
    /// As `key_schema_apart`, for the values ([`TableEncoder::value_schema`]).
    pub value_schema_apart: bool,
    /// `tombstones.on.delete` (default true).
    pub tombstones_on_delete: bool,
    /// `unavailable.value.placeholder` for unchanged TOASTed values.
    pub unavailable_value_placeholder: String,
    /// How numerics, temporals, binaries, intervals and hstores are represented.
    pub modes: TypeModes,
    /// `topic.transaction` when `provide.transaction.metadata` is on (default off): events carry
    /// a `transaction` block, and BEGIN/END records go to `<topic.prefix>.<topic.transaction>`.
    pub transaction_topic: Option<String>,
    /// `schema.name.adjustment.mode` (default none): the Key, Value and Envelope schema names,
    /// which carry `topic.prefix` and the table's names; Debezium's own fixed names are valid
    /// already, so it leaves them as they are.
    pub schema_names: NameAdjustment,
    /// `field.name.adjustment.mode` (default none): the columns' field names, in the schemas and
    /// the payloads.
    pub field_names: NameAdjustment,
}

impl EncoderConfig {
    /// Debezium's and Kafka Connect's defaults for the given `topic.prefix` and `database.dbname`.
    pub fn new(topic_prefix: impl Into<String>, database: impl Into<String>) -> Self {
        EncoderConfig {
            topic_prefix: topic_prefix.into(),
            database: database.into(),
            connector_version: DEFAULT_CONNECTOR_VERSION.to_owned(),
            source_struct: SourceStructVersion::V2,
            key_schemas: true,
            value_schemas: true,
            key_schema_apart: false,
            value_schema_apart: false,
            tombstones_on_delete: true,
            unavailable_value_placeholder: UNAVAILABLE_VALUE_PLACEHOLDER.to_owned(),
            modes: TypeModes::default(),
            transaction_topic: None,
            schema_names: NameAdjustment::None,
            field_names: NameAdjustment::None,
        }
    }

    /// The writer of the transaction topic's records, when transaction metadata is on.
    pub fn transaction_encoder(&self) -> Option<TransactionEncoder> {
        let topic = self.transaction_topic.as_deref()?;
        Some(TransactionEncoder::new(
            &self.topic_prefix,
            topic,
            self.key_schemas,
            self.value_schemas,
        ))
    }

    /// The wal2json era's events ([`SourceStructVersion::V1`]) naming `connector_version` as
    /// `source.version`.
    pub fn legacy(mut self, connector_version: impl Into<String>) -> Self {
        self.source_struct = SourceStructVersion::V1;
        self.connector_version = connector_version.into();
        self
    }

    /// Sets both converters' `schemas.enable`.
    pub fn with_schemas(mut self, key: bool, value: bool) -> Self {
        self.key_schemas = key;
        self.value_schemas = value;
        self
    }
}

/// The per-event part of the `source` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceInfo {
    /// Commit time of the transaction, µs since the epoch (`source.ts_ms/ts_us/ts_ns`).
    pub commit_time_us: i64,
    /// `source.txId` (the change's `xid`).
    pub tx_id: Option<u32>,
    /// `source.lsn`: the change's own LSN.
    pub lsn: Lsn,
    /// End LSN (`nextlsn`) of the last transaction committed before this one, first half of
    /// `source.sequence`; `None` before any commit was seen (Debezium then writes `null`).
    pub last_commit_lsn: Option<Lsn>,
    /// The envelope's `transaction` block (`provide.transaction.metadata`), whose `id` names `lsn`;
    /// `None` writes `null`. A change written as two events (a key change) numbers the second
    /// [`TransactionBlock::following`].
    pub transaction: Option<TransactionBlock>,
}

/// What one record is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// `op: "c"`.
    #[default]
    Create,
    /// `op: "u"`.
    Update,
    /// `op: "d"`.
    Delete,
    /// The null-valued record after a delete, so log compaction can drop the key.
    Tombstone,
    /// `op: "r"`: a row read by a snapshot.
    Read,
    /// `op: "t"`: the table was truncated (no key, no row).
    Truncate,
    /// `op: "m"`: a logical decoding message ([`MessageEncoder`]).
    Message,
}

/// `source.snapshot` of a snapshot read (Debezium's `SnapshotRecord`, written lower-case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SnapshotMarker {
    /// The first record of the whole snapshot.
    First,
    /// The first record of a table, not the first of the snapshot.
    FirstInDataCollection,
    /// Any other record of the snapshot.
    True,
    /// The last record of a table, not the last of the snapshot.
    LastInDataCollection,
    /// The last record of the whole snapshot.
    Last,
    /// A row of an incremental snapshot.
    Incremental,
}

impl SnapshotMarker {
    /// The marker as the `source.snapshot` enum writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::First => "first",
            Self::FirstInDataCollection => "first_in_data_collection",
            Self::True => "true",
            Self::LastInDataCollection => "last_in_data_collection",
            Self::Last => "last",
            Self::Incremental => "incremental",
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Span {
    kind: RecordKind,
    key: Option<Range<usize>>,
    value: Option<Range<usize>>,
    header: Option<(&'static str, Range<usize>)>,
}

/// The records one change produced (one, two or three), as ranges of the output buffer.
#[derive(Debug, Clone, Default)]
pub struct EncodedChange {
    spans: [Span; 3],
    len: usize,
}

/// One record, borrowing its bytes from the output buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'b> {
    /// What the record is.
    pub kind: RecordKind,
    /// Serialized key; `None` for a table without a key.
    pub key: Option<&'b [u8]>,
    /// Serialized value; `None` for a tombstone.
    pub value: Option<&'b [u8]>,
    /// The key-change header ([`NEWKEY_HEADER`] or [`OLDKEY_HEADER`]) and its bytes, as Kafka's
    /// SimpleHeaderConverter writes the key struct (`{"id":2002}`).
    pub header: Option<(&'static str, &'b [u8])>,
}

impl EncodedChange {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no record was produced (never the case for a successful encode).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The records in the order they must be produced, reading bytes from `buf` (the buffer passed to
    /// [`TableEncoder::encode`]).
    pub fn records<'b>(&'b self, buf: &'b [u8]) -> impl Iterator<Item = Record<'b>> + 'b {
        self.spans[..self.len].iter().map(move |s| Record {
            kind: s.kind,
            key: s.key.clone().map(|r| &buf[r]),
            value: s.value.clone().map(|r| &buf[r]),
            header: s.header.clone().map(|(name, r)| (name, &buf[r])),
        })
    }

    fn push(&mut self, span: Span) {
        self.spans[self.len] = span;
        self.len += 1;
    }
}

/// What the encoder's tests share: the `inventory.customers` table, one change's records as text, and the
/// `source` blocks they expect.
#[cfg(test)]
mod test_support {
    use super::*;
    use crate::schema::ColumnSchema;
    use crate::schema::{ReplicaIdentity, TableSchema};
    use crate::wal2json::Change;
    use crate::wal2json::{Row, decode};

    pub(super) fn change(data: &str) -> Change<'_> {
        match decode(data).unwrap() {
            Row::Change(c) => c,
            other => panic!("not a change: {other:?}"),
        }
    }

    pub(super) fn customers(identity: ReplicaIdentity) -> TableSchema {
        TableSchema::new(
            "inventory",
            "customers",
            vec![
                ColumnSchema::new("id", "integer", 23, true),
                ColumnSchema::new("name", "text", 25, false).with_default("'anon'::text"),
                ColumnSchema::new("note", "text", 25, true),
            ],
            &["id"],
            identity,
        )
        .unwrap()
    }

    pub(super) const SOURCE: SourceInfo = SourceInfo {
        commit_time_us: 1_705_314_600_123_456,
        tx_id: Some(780),
        lsn: Lsn(24_023_128),
        last_commit_lsn: Some(Lsn(24_022_960)),
        transaction: None,
    };

    pub(super) fn encode_all(
        t: &TableSchema,
        config: &EncoderConfig,
        data: &str,
    ) -> Vec<(RecordKind, Option<String>, Option<String>)> {
        let enc = TableEncoder::new(t, config).unwrap();
        let mut buf = Vec::new();
        let out = enc
            .encode(&change(data), &SOURCE, 1_705_314_600_234_567, &mut buf)
            .unwrap();
        out.records(&buf)
            .map(|r| {
                let s = |b: Option<&[u8]>| b.map(|b| String::from_utf8(b.to_vec()).unwrap());
                (r.kind, s(r.key), s(r.value))
            })
            .collect()
    }

    pub(super) fn off() -> EncoderConfig {
        EncoderConfig::new("dbserver1", "postgres").with_schemas(false, false)
    }

    pub(super) const SOURCE_JSON: &str = r#""source":{"version":"3.7.1.Final","connector":"postgresql","name":"dbserver1","ts_ms":1705314600123,"snapshot":"false","db":"postgres","sequence":"[\"24022960\",\"24023128\"]","ts_us":1705314600123456,"ts_ns":1705314600123456000,"schema":"inventory","table":"customers","txId":780,"lsn":24023128,"xmin":null,"origin":null,"origin_lsn":null},"transaction":null"#;
    pub(super) const TS_JSON: &str =
        r#""ts_ms":1705314600234,"ts_us":1705314600234567,"ts_ns":1705314600234567000}"#;

    pub(super) fn legacy(version: &str) -> EncoderConfig {
        off().legacy(version)
    }

    /// Debezium 1.0.3's legacy source block (0.9.3+ layout, `xmin` last) for [`SOURCE`], streamed.
    pub(super) const LEGACY_SOURCE_JSON: &str = r#""source":{"version":"1.0.3.Final","connector":"postgresql","name":"dbserver1","db":"postgres","ts_usec":1705314600123456,"txId":780,"lsn":24023128,"schema":"inventory","table":"customers","snapshot":false,"last_snapshot_record":null,"xmin":null},"op":"#;
}
