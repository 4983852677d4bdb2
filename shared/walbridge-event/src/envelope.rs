//! Debezium 3.6.3 change events for decoded wal2json changes, byte for byte as Kafka Connect's
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

use std::borrow::Cow;
use std::ops::Range;

use crate::Error;
use crate::Lsn;
use crate::convert::{Kind, TypeInfo, default_json};
use crate::json::{Digits, write_i64, write_str};
use crate::modes::TypeModes;
use crate::schema::{ReplicaIdentity, TableSchema};
use crate::wal2json::{Action, Change, Column, Value};

/// `source.version` Debezium 3.6.3 writes.
pub const DEFAULT_CONNECTOR_VERSION: &str = "3.6.3.Final";

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
    /// `v2` (default): Debezium 3.6.3's source block and envelope.
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
    /// `tombstones.on.delete` (default true).
    pub tombstones_on_delete: bool,
    /// `unavailable.value.placeholder` for unchanged TOASTed values.
    pub unavailable_value_placeholder: String,
    /// How numerics, temporals, binaries, intervals and hstores are represented.
    pub modes: TypeModes,
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
            tombstones_on_delete: true,
            unavailable_value_placeholder: UNAVAILABLE_VALUE_PLACEHOLDER.to_owned(),
            modes: TypeModes::default(),
        }
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

#[derive(Debug)]
struct Col {
    name: String,
    type_name: String,
    /// `"name":`, escaped.
    field: Vec<u8>,
    kind: Kind,
    not_null: bool,
    /// Payload JSON of a constant DEFAULT.
    default: Option<Vec<u8>>,
    /// An enum's labels (`allowed`).
    allowed: Option<String>,
    fallback: Cow<'static, [u8]>,
    /// Left out of the value by a column filter.
    hidden: bool,
}

impl Col {
    /// Whether the value (`before`, `after`, their schema) carries the column.
    fn in_value(&self) -> bool {
        self.kind != Kind::Omitted && !self.hidden
    }
}

/// How to fill a schema column the change does not carry.
#[derive(Clone, Copy)]
enum Missing<'c> {
    /// NULL (or the DEFAULT, as JsonConverter substitutes it).
    Null,
    /// NOT NULL columns get their DEFAULT or the type fallback (old row of a delete under DEFAULT identity).
    Fallback,
    /// Unchanged TOAST: the old value from `old` when present, else the placeholder.
    Toast(Option<&'c [Column<'c>]>),
}

/// Encodes the changes of one table. Build it once per table schema and reuse it.
#[derive(Debug)]
pub struct TableEncoder {
    topic: String,
    qualified: String,
    schema: String,
    table: String,
    cols: Vec<Col>,
    key: Vec<usize>,
    /// `message.key.columns` keys the records: a key column the change lacks (a delete under
    /// REPLICA IDENTITY DEFAULT carries the primary key only) is written as Debezium writes a
    /// missing value, not taken as a changed table.
    custom_key: bool,
    replica_identity: ReplicaIdentity,
    key_open: Vec<u8>,
    key_close: &'static [u8],
    value_open: Vec<u8>,
    value_close: &'static [u8],
    source_open: Vec<u8>,
    source_db: Vec<u8>,
    source_table: Vec<u8>,
    layout: Layout,
    tombstones: bool,
    placeholder: String,
}

/// `io.debezium.connector.postgresql.Source` v1 as Debezium 3.6.3 declares it.
const SOURCE_SCHEMA: &str = r#"{"type":"struct","fields":[{"type":"string","optional":false,"field":"version"},{"type":"string","optional":false,"field":"connector"},{"type":"string","optional":false,"field":"name"},{"type":"int64","optional":false,"field":"ts_ms"},{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},"default":"false","field":"snapshot"},{"type":"string","optional":false,"field":"db"},{"type":"string","optional":true,"field":"sequence"},{"type":"int64","optional":true,"field":"ts_us"},{"type":"int64","optional":true,"field":"ts_ns"},{"type":"string","optional":false,"field":"schema"},{"type":"string","optional":false,"field":"table"},{"type":"int64","optional":true,"field":"txId"},{"type":"int64","optional":true,"field":"lsn"},{"type":"int64","optional":true,"field":"xmin"},{"type":"string","optional":true,"field":"origin"},{"type":"int64","optional":true,"field":"origin_lsn"}],"optional":false,"name":"io.debezium.connector.postgresql.Source","version":1,"field":"source"}"#;

/// Which events a [`TableEncoder`] writes ([`SourceStructVersion`], resolved).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Debezium 3.6.3's.
    Current,
    /// The wal2json era's; `xmin` from Debezium 0.9.3 on.
    V1 { xmin: bool },
}

/// The legacy `io.debezium.connector.postgresql.Source` (Debezium 0.9 `SourceInfo.SCHEMA`, 1.x
/// `LegacyV1PostgresSourceInfoStructMaker`): no schema version, `version`/`connector`/`schema`/`table`
/// optional, a boolean `snapshot` defaulting to false. Split before `xmin`, which 0.9.0–0.9.2 lack.
const LEGACY_SOURCE_SCHEMA: [&str; 3] = [
    r#"{"type":"struct","fields":[{"type":"string","optional":true,"field":"version"},{"type":"string","optional":true,"field":"connector"},{"type":"string","optional":false,"field":"name"},{"type":"string","optional":false,"field":"db"},{"type":"int64","optional":true,"field":"ts_usec"},{"type":"int64","optional":true,"field":"txId"},{"type":"int64","optional":true,"field":"lsn"},{"type":"string","optional":true,"field":"schema"},{"type":"string","optional":true,"field":"table"},{"type":"boolean","optional":true,"default":false,"field":"snapshot"},{"type":"boolean","optional":true,"field":"last_snapshot_record"}"#,
    r#",{"type":"int64","optional":true,"field":"xmin"}"#,
    r#"],"optional":false,"name":"io.debezium.connector.postgresql.Source","field":"source"}"#,
];

/// The legacy envelope's trailing fields: no `transaction`, `ts_us`, `ts_ns`.
const LEGACY_ENVELOPE_TAIL_SCHEMA: &str = r#"{"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"}"#;

/// An Avro full name as Debezium's `SchemaNameAdjuster` made it before `schema.name.adjustment.mode`
/// (2.0 made `none` the default): every character but `[A-Za-z0-9_.]` (and a leading digit or dot)
/// becomes `_` — one per UTF-16 unit, as Java counts characters.
fn avro_fullname(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, c) in name.chars().enumerate() {
        let valid =
            c == '_' || c.is_ascii_alphabetic() || (i > 0 && (c == '.' || c.is_ascii_digit()));
        if valid {
            out.push(c);
        } else {
            out.extend(std::iter::repeat_n('_', c.len_utf16()));
        }
    }
    out
}

/// The `transaction` block (`event.block` v1) and the envelope's trailing fields.
const ENVELOPE_TAIL_SCHEMA: &str = r#"{"type":"struct","fields":[{"type":"string","optional":false,"field":"id"},{"type":"int64","optional":false,"field":"total_order"},{"type":"int64","optional":false,"field":"data_collection_order"}],"optional":true,"name":"event.block","version":1,"field":"transaction"},{"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"},{"type":"int64","optional":true,"field":"ts_us"},{"type":"int64","optional":true,"field":"ts_ns"}"#;

/// Topic names keep `[A-Za-z0-9._-]`; Debezium replaces anything else with `_`.
fn sanitize_topic(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl TableEncoder {
    /// Precomputes everything constant for `schema` under `config`.
    ///
    /// # Errors
    /// Currently none; the `Result` leaves room for validating configurations the encoder cannot honour.
    pub fn new(schema: &TableSchema, config: &EncoderConfig) -> Result<Self, Error> {
        let base = format!(
            "{}.{}.{}",
            config.topic_prefix,
            schema.schema(),
            schema.table()
        );
        let layout = match config.source_struct {
            SourceStructVersion::V2 => Layout::Current,
            SourceStructVersion::V1 => Layout::V1 {
                xmin: legacy_source_has_xmin(&config.connector_version),
            },
        };
        // Key, Value and Envelope schema names.
        let schema_name = |suffix: &str| match layout {
            Layout::Current => format!("{base}.{suffix}"),
            Layout::V1 { .. } => avro_fullname(&format!("{base}.{suffix}")),
        };
        let cols: Vec<Col> = schema
            .columns()
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let info = TypeInfo {
                    is_enum: c.enum_values.is_some(),
                };
                let kind = Kind::classify(c.type_oid, &c.type_name, info, &config.modes);
                let mut field = Vec::with_capacity(c.name.len() + 3);
                write_str(&mut field, &c.name);
                field.push(b':');
                Col {
                    name: c.name.clone(),
                    type_name: c.type_name.clone(),
                    field,
                    kind,
                    not_null: c.not_null,
                    default: c.default.as_deref().and_then(|d| default_json(kind, d)),
                    allowed: c.enum_values.clone(),
                    fallback: kind.fallback(),
                    hidden: schema.is_hidden(i),
                }
            })
            .collect();
        let key = schema.message_key().to_vec();

        let (key_open, key_close): (Vec<u8>, &'static [u8]) = if config.key_schemas {
            let mut s = b"{\"schema\":{\"type\":\"struct\",\"fields\":[".to_vec();
            for (i, &k) in key.iter().enumerate() {
                if i > 0 {
                    s.push(b',');
                }
                let c = &cols[k];
                // Primary key columns are NOT NULL; `message.key.columns` may name nullable
                // ones, which Debezium declares optional, and so does it a key column the column
                // filters leave out of the value (seen from Debezium 3.6.3 in the differential).
                c.kind.write_field_schema(
                    &mut s,
                    !c.not_null || c.hidden,
                    c.default.as_deref(),
                    &c.name,
                    c.allowed.as_deref(),
                );
            }
            s.extend_from_slice(b"],\"optional\":false,\"name\":");
            write_str(&mut s, &schema_name("Key"));
            s.extend_from_slice(b"},\"payload\":");
            (s, b"}")
        } else {
            (Vec::new(), b"")
        };

        let (mut value_open, value_close): (Vec<u8>, &'static [u8]) = if config.value_schemas {
            let mut s = b"{\"schema\":{\"type\":\"struct\",\"fields\":[".to_vec();
            for field in ["before", "after"] {
                s.extend_from_slice(b"{\"type\":\"struct\",\"fields\":[");
                for (i, c) in cols.iter().filter(|c| c.in_value()).enumerate() {
                    if i > 0 {
                        s.push(b',');
                    }
                    c.kind.write_field_schema(
                        &mut s,
                        !c.not_null,
                        c.default.as_deref(),
                        &c.name,
                        c.allowed.as_deref(),
                    );
                }
                s.extend_from_slice(b"],\"optional\":true,\"name\":");
                write_str(&mut s, &schema_name("Value"));
                s.extend_from_slice(b",\"field\":\"");
                s.extend_from_slice(field.as_bytes());
                s.extend_from_slice(b"\"},");
            }
            match layout {
                Layout::Current => {
                    s.extend_from_slice(SOURCE_SCHEMA.as_bytes());
                    s.push(b',');
                    s.extend_from_slice(ENVELOPE_TAIL_SCHEMA.as_bytes());
                }
                Layout::V1 { xmin } => {
                    let [head, xmin_field, tail] = LEGACY_SOURCE_SCHEMA;
                    s.extend_from_slice(head.as_bytes());
                    if xmin {
                        s.extend_from_slice(xmin_field.as_bytes());
                    }
                    s.extend_from_slice(tail.as_bytes());
                    s.push(b',');
                    s.extend_from_slice(LEGACY_ENVELOPE_TAIL_SCHEMA.as_bytes());
                }
            }
            s.extend_from_slice(b"],\"optional\":false,\"name\":");
            write_str(&mut s, &schema_name("Envelope"));
            // The legacy envelope schema has no version.
            s.extend_from_slice(match layout {
                Layout::Current => b",\"version\":2},\"payload\":",
                Layout::V1 { .. } => b"},\"payload\":",
            });
            (s, b"}")
        } else {
            (Vec::new(), b"")
        };
        value_open.extend_from_slice(b"{\"before\":");

        let mut source_open = b",\"source\":{\"version\":".to_vec();
        write_str(&mut source_open, &config.connector_version);
        source_open.extend_from_slice(b",\"connector\":\"postgresql\",\"name\":");
        write_str(&mut source_open, &config.topic_prefix);
        let mut source_db = b",\"db\":".to_vec();
        write_str(&mut source_db, &config.database);
        let mut source_table = b",\"schema\":".to_vec();
        write_str(&mut source_table, schema.schema());
        source_table.extend_from_slice(b",\"table\":");
        write_str(&mut source_table, schema.table());
        match layout {
            // version, connector, name, ts_ms | snapshot | db, sequence… | schema, table, txId…
            Layout::Current => {
                source_open.extend_from_slice(b",\"ts_ms\":");
                source_db.extend_from_slice(b",\"sequence\":\"[");
                source_table.extend_from_slice(b",\"txId\":");
            }
            // version, connector, name, db, ts_usec | txId, lsn | schema, table, snapshot…
            Layout::V1 { .. } => {
                source_open.append(&mut source_db);
                source_open.extend_from_slice(b",\"ts_usec\":");
                source_table.extend_from_slice(b",\"snapshot\":");
            }
        }

        Ok(TableEncoder {
            topic: sanitize_topic(&base),
            qualified: format!("{}.{}", schema.schema(), schema.table()),
            schema: schema.schema().to_owned(),
            table: schema.table().to_owned(),
            cols,
            key,
            custom_key: schema.has_message_key(),
            replica_identity: schema.replica_identity(),
            key_open,
            key_close,
            value_open,
            value_close,
            source_open,
            source_db,
            source_table,
            layout,
            tombstones: config.tombstones_on_delete,
            placeholder: config.unavailable_value_placeholder.clone(),
        })
    }

    /// `<topic.prefix>.<schema>.<table>`, sanitised as Debezium does.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Whether the table has a key (records keyed by it) or not (null keys).
    pub fn has_key(&self) -> bool {
        !self.key.is_empty()
    }

    /// Appends the records Debezium would write for `change` to `out` and says where they are.
    ///
    /// `processing_time_us` is the envelope's `ts_ms`/`ts_us`/`ts_ns` (Debezium's clock when it handled the
    /// event), passed in so output is deterministic. `out` is only appended to, so one buffer can hold a
    /// whole batch; on error it may hold a partial record after its previous length.
    ///
    /// # Errors
    /// [`Error::SchemaMismatch`] when the change is for another table, has a column the schema lacks, or
    /// lacks a key column (reload the schema); [`Error::InvalidValue`] when a value does not parse as its
    /// column type.
    pub fn encode(
        &self,
        change: &Change<'_>,
        source: &SourceInfo,
        processing_time_us: i64,
        out: &mut Vec<u8>,
    ) -> Result<EncodedChange, Error> {
        if change.schema != self.schema.as_str() || change.table != self.table.as_str() {
            return Err(self.mismatch(
                format!("{}.{}", change.schema, change.table),
                "change is for another table",
            ));
        }
        let mut enc = EncodedChange::default();
        let ts = (source, processing_time_us);
        match change.action {
            Action::Insert => {
                let key = self.write_key(out, &change.columns)?;
                let value = self.write_envelope(
                    out,
                    b'c',
                    None,
                    Some((&change.columns, Missing::Toast(None))),
                    ts,
                )?;
                enc.push(Span {
                    kind: RecordKind::Create,
                    key,
                    value: Some(value),
                    header: None,
                });
            }
            Action::Update => {
                let identity = change.identity.as_deref();
                match identity {
                    Some(old) if self.key_changed(&change.columns, old) => {
                        let old_key = self.write_key(out, old)?;
                        let new_key = self.write_key(out, &change.columns)?;
                        let new_header = self.write_header_key(out, &change.columns)?;
                        let old_header = self.write_header_key(out, old)?;
                        let deleted = self.write_envelope(
                            out,
                            b'd',
                            Some((old, Missing::Fallback)),
                            None,
                            ts,
                        )?;
                        enc.push(Span {
                            kind: RecordKind::Delete,
                            key: old_key.clone(),
                            value: Some(deleted),
                            header: Some((NEWKEY_HEADER, new_header.clone())),
                        });
                        if self.tombstones {
                            enc.push(Span {
                                kind: RecordKind::Tombstone,
                                key: old_key,
                                value: None,
                                header: Some((NEWKEY_HEADER, new_header)),
                            });
                        }
                        let created = self.write_envelope(
                            out,
                            b'c',
                            None,
                            Some((&change.columns, Missing::Toast(identity))),
                            ts,
                        )?;
                        enc.push(Span {
                            kind: RecordKind::Create,
                            key: new_key,
                            value: Some(created),
                            header: Some((OLDKEY_HEADER, old_header)),
                        });
                    }
                    _ => {
                        let key = self.write_key(out, &change.columns)?;
                        let before = match (self.replica_identity, identity) {
                            (ReplicaIdentity::Full, Some(old)) => Some((old, Missing::Null)),
                            // wal2json always sends the identity of an update (from the new row
                            // when PostgreSQL logged no old one), and the wal2json-era decoders made
                            // `before` of it, the other columns as a delete's.
                            (_, Some(old)) if self.layout != Layout::Current => {
                                Some((old, Missing::Fallback))
                            }
                            // TODO(issue 4): REPLICA IDENTITY INDEX sends the old index columns only
                            // when they change; Debezium's pgoutput path then fills `before` with them.
                            _ => None,
                        };
                        let value = self.write_envelope(
                            out,
                            b'u',
                            before,
                            Some((&change.columns, Missing::Toast(identity))),
                            ts,
                        )?;
                        enc.push(Span {
                            kind: RecordKind::Update,
                            key,
                            value: Some(value),
                            header: None,
                        });
                    }
                }
            }
            Action::Delete => {
                let old = change.identity.as_deref().unwrap_or_default();
                let key = self.write_key(out, old)?;
                let value =
                    self.write_envelope(out, b'd', Some((old, Missing::Fallback)), None, ts)?;
                enc.push(Span {
                    kind: RecordKind::Delete,
                    key: key.clone(),
                    value: Some(value),
                    header: None,
                });
                if self.tombstones {
                    enc.push(Span {
                        kind: RecordKind::Tombstone,
                        key,
                        value: None,
                        header: None,
                    });
                }
            }
        }
        Ok(enc)
    }

    fn mismatch(&self, column: String, reason: &'static str) -> Error {
        Error::SchemaMismatch {
            table: self.qualified.clone(),
            column,
            reason,
        }
    }

    fn invalid(&self, col: &Col, reason: &'static str) -> Error {
        Error::InvalidValue {
            column: col.name.clone(),
            type_name: col.type_name.clone(),
            reason,
        }
    }

    /// The change column for schema column `idx`, trying its expected position first.
    fn lookup<'c>(&self, cols: &'c [Column<'c>], idx: usize) -> Option<&'c Column<'c>> {
        let name = self.cols[idx].name.as_str();
        match cols.get(idx) {
            Some(c) if c.name == name => Some(c),
            _ => cols.iter().find(|c| c.name == name),
        }
    }

    fn key_changed(&self, new: &[Column<'_>], old: &[Column<'_>]) -> bool {
        self.key
            .iter()
            .any(|&k| match (self.lookup(new, k), self.lookup(old, k)) {
                (Some(n), Some(o)) => n.value != o.value,
                _ => false,
            })
    }

    /// The value of key column `k`; `None` when a `message.key.columns` column is missing.
    fn key_value<'c>(
        &self,
        cols: &'c [Column<'c>],
        k: usize,
    ) -> Result<Option<&'c Value<'c>>, Error> {
        match self.lookup(cols, k) {
            Some(c) => Ok(Some(&c.value)),
            None if self.custom_key => Ok(None),
            None => Err(self.mismatch(
                self.cols[k].name.clone(),
                "key column missing from the change",
            )),
        }
    }

    fn write_key(
        &self,
        out: &mut Vec<u8>,
        cols: &[Column<'_>],
    ) -> Result<Option<Range<usize>>, Error> {
        if self.key.is_empty() {
            return Ok(None);
        }
        let start = out.len();
        out.extend_from_slice(&self.key_open);
        out.push(b'{');
        for (i, &k) in self.key.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let col = &self.cols[k];
            out.extend_from_slice(&col.field);
            match self.key_value(cols, k)? {
                Some(v) => self.write_col_value(out, col, v)?,
                None => self.write_missing(out, k, Missing::Fallback)?,
            }
        }
        out.push(b'}');
        out.extend_from_slice(self.key_close);
        Ok(Some(start..out.len()))
    }

    fn write_header_key(
        &self,
        out: &mut Vec<u8>,
        cols: &[Column<'_>],
    ) -> Result<Range<usize>, Error> {
        let start = out.len();
        out.push(b'{');
        for (i, &k) in self.key.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let col = &self.cols[k];
            out.push(b'"');
            crate::json::write_header_escaped(out, &col.name);
            out.extend_from_slice(b"\":");
            match (self.key_value(cols, k)?, &col.default) {
                (None, _) if col.not_null => {
                    out.extend_from_slice(col.default.as_deref().unwrap_or(&col.fallback));
                }
                (None, _) => out.extend_from_slice(col.default.as_deref().unwrap_or(b"null")),
                (Some(Value::Null), Some(d)) => out.extend_from_slice(d),
                (Some(v), _) => col
                    .kind
                    .write_header_value(out, v)
                    .map_err(|r| self.invalid(col, r))?,
            }
        }
        out.push(b'}');
        Ok(start..out.len())
    }

    fn write_col_value(&self, out: &mut Vec<u8>, col: &Col, v: &Value<'_>) -> Result<(), Error> {
        match (v, &col.default) {
            (Value::Null, Some(d)) => {
                out.extend_from_slice(d);
                Ok(())
            }
            _ => col
                .kind
                .write_value(out, v)
                .map_err(|r| self.invalid(col, r)),
        }
    }

    fn write_missing(
        &self,
        out: &mut Vec<u8>,
        idx: usize,
        missing: Missing<'_>,
    ) -> Result<(), Error> {
        let col = &self.cols[idx];
        match missing {
            Missing::Toast(Some(old)) if self.lookup(old, idx).is_some() => {
                let v = &self
                    .lookup(old, idx)
                    .map(|c| &c.value)
                    .unwrap_or(&Value::Null);
                return self.write_col_value(out, col, v);
            }
            Missing::Toast(_) => {
                col.kind.write_placeholder(out, &self.placeholder);
                return Ok(());
            }
            Missing::Fallback if col.not_null => {
                out.extend_from_slice(col.default.as_deref().unwrap_or(&col.fallback));
                return Ok(());
            }
            Missing::Fallback | Missing::Null => {}
        }
        out.extend_from_slice(col.default.as_deref().unwrap_or(b"null"));
        Ok(())
    }

    /// Writes the `before`/`after` struct of a row in table order.
    fn write_row(
        &self,
        out: &mut Vec<u8>,
        cols: &[Column<'_>],
        missing: Missing<'_>,
    ) -> Result<(), Error> {
        out.push(b'{');
        let mut found = 0;
        let mut cursor = 0;
        let mut first = true;
        for (i, col) in self.cols.iter().enumerate() {
            // wal2json writes columns in attnum order, so the next unread one is usually the match.
            let hit = match cols.get(cursor) {
                Some(c) if c.name == col.name.as_str() => {
                    cursor += 1;
                    Some(c)
                }
                _ => cols.iter().find(|c| c.name == col.name.as_str()),
            };
            if !col.in_value() {
                found += usize::from(hit.is_some());
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(&col.field);
            match hit {
                Some(c) => {
                    found += 1;
                    self.write_col_value(out, col, &c.value)?;
                }
                None => self.write_missing(out, i, missing)?,
            }
        }
        if found != cols.len() {
            let unknown = cols
                .iter()
                .find(|c| !self.cols.iter().any(|s| c.name == s.name.as_str()))
                .map_or_else(String::new, |c| c.name.to_string());
            return Err(self.mismatch(unknown, "column not in the table schema"));
        }
        out.push(b'}');
        Ok(())
    }

    /// Appends the record Debezium writes for a row a snapshot read (`op: "r"`, `before: null`,
    /// `source.snapshot` = `marker`) and says where it is. `columns` is the whole row, as wal2json
    /// would write it for an insert.
    ///
    /// # Errors
    /// As [`TableEncoder::encode`].
    pub fn encode_read(
        &self,
        columns: &[Column<'_>],
        source: &SourceInfo,
        marker: SnapshotMarker,
        processing_time_us: i64,
        out: &mut Vec<u8>,
    ) -> Result<EncodedChange, Error> {
        let mut enc = EncodedChange::default();
        let key = self.write_key(out, columns)?;
        let value = self.write_envelope_marked(
            out,
            b'r',
            None,
            Some((columns, Missing::Null)),
            (source, processing_time_us),
            Some(marker),
        )?;
        enc.push(Span {
            kind: RecordKind::Read,
            key,
            value: Some(value),
            header: None,
        });
        Ok(enc)
    }

    /// Appends the key record bytes of a row (`None` for a table without a key).
    ///
    /// # Errors
    /// [`Error::SchemaMismatch`] when a key column is missing, [`Error::InvalidValue`] when a
    /// value does not parse as its column type.
    pub fn encode_key(
        &self,
        columns: &[Column<'_>],
        out: &mut Vec<u8>,
    ) -> Result<Option<Range<usize>>, Error> {
        self.write_key(out, columns)
    }

    fn write_envelope(
        &self,
        out: &mut Vec<u8>,
        op: u8,
        before: Option<(&[Column<'_>], Missing<'_>)>,
        after: Option<(&[Column<'_>], Missing<'_>)>,
        ts: (&SourceInfo, i64),
    ) -> Result<Range<usize>, Error> {
        self.write_envelope_marked(out, op, before, after, ts, None)
    }

    /// `snapshot` is the read's marker; `None` for a streamed change.
    fn write_envelope_marked(
        &self,
        out: &mut Vec<u8>,
        op: u8,
        before: Option<(&[Column<'_>], Missing<'_>)>,
        after: Option<(&[Column<'_>], Missing<'_>)>,
        (source, now_us): (&SourceInfo, i64),
        snapshot: Option<SnapshotMarker>,
    ) -> Result<Range<usize>, Error> {
        let start = out.len();
        out.extend_from_slice(&self.value_open);
        match before {
            Some((cols, missing)) => self.write_row(out, cols, missing)?,
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"after\":");
        match after {
            Some((cols, missing)) => self.write_row(out, cols, missing)?,
            None => out.extend_from_slice(b"null"),
        }
        let now = Micros::new(now_us);
        match self.layout {
            Layout::Current => {
                self.write_source(out, source, snapshot);
                out.extend_from_slice(b",\"transaction\":null,\"op\":\"");
                out.extend_from_slice(&[op, b'"', b',']);
                out.extend_from_slice(b"\"ts_ms\":");
                now.write_ms(out);
                out.extend_from_slice(b",\"ts_us\":");
                now.write_us(out);
                out.extend_from_slice(b",\"ts_ns\":");
                now.write_ns(out);
            }
            Layout::V1 { xmin } => {
                self.write_legacy_source(out, source, snapshot, xmin);
                out.extend_from_slice(b",\"op\":\"");
                out.extend_from_slice(&[op, b'"', b',']);
                out.extend_from_slice(b"\"ts_ms\":");
                now.write_ms(out);
            }
        }
        out.push(b'}');
        out.extend_from_slice(self.value_close);
        Ok(start..out.len())
    }

    /// Debezium 3.6.3's `source` block.
    fn write_source(
        &self,
        out: &mut Vec<u8>,
        source: &SourceInfo,
        snapshot: Option<SnapshotMarker>,
    ) {
        let commit = Micros::new(source.commit_time_us);
        out.extend_from_slice(&self.source_open);
        commit.write_ms(out);
        out.extend_from_slice(b",\"snapshot\":\"");
        // Streamed events leave `source.snapshot` unset; JsonConverter writes its default.
        out.extend_from_slice(snapshot.map_or("false", SnapshotMarker::as_str).as_bytes());
        out.push(b'"');
        out.extend_from_slice(&self.source_db);
        // An incremental snapshot's rows carry no LSN of their own (Debezium leaves it unset).
        let digits = Digits::new(source.lsn.0);
        let lsn: &[u8] = if snapshot == Some(SnapshotMarker::Incremental) {
            b"null"
        } else {
            digits.as_bytes()
        };
        match source.last_commit_lsn {
            Some(l) => {
                out.extend_from_slice(b"\\\"");
                out.extend_from_slice(Digits::new(l.0).as_bytes());
                out.extend_from_slice(b"\\\",");
            }
            None => out.extend_from_slice(b"null,"),
        }
        if lsn == b"null" {
            out.extend_from_slice(lsn);
        } else {
            out.extend_from_slice(b"\\\"");
            out.extend_from_slice(lsn);
            out.extend_from_slice(b"\\\"");
        }
        out.extend_from_slice(b"]\",\"ts_us\":");
        commit.write_us(out);
        out.extend_from_slice(b",\"ts_ns\":");
        commit.write_ns(out);
        out.extend_from_slice(&self.source_table);
        write_tx_id(out, source.tx_id);
        out.extend_from_slice(b",\"lsn\":");
        out.extend_from_slice(lsn);
        out.extend_from_slice(b",\"xmin\":null,\"origin\":null,\"origin_lsn\":null}");
    }

    /// The wal2json era's `source` block (Debezium 0.9 `SourceInfo#source`, 1.x
    /// `LegacyV1PostgresSourceInfoStructMaker#struct`): `ts_usec` is the commit time in µs; `snapshot`
    /// is set (true) only while a snapshot reads, with `last_snapshot_record` true on its very last
    /// row; streamed changes leave both unset (JsonConverter writes `false` and `null`). An
    /// incremental snapshot's rows were not snapshot rows to 1.x's `isSnapshot()` either.
    fn write_legacy_source(
        &self,
        out: &mut Vec<u8>,
        source: &SourceInfo,
        snapshot: Option<SnapshotMarker>,
        xmin: bool,
    ) {
        out.extend_from_slice(&self.source_open);
        write_i64(out, source.commit_time_us);
        out.extend_from_slice(b",\"txId\":");
        write_tx_id(out, source.tx_id);
        out.extend_from_slice(b",\"lsn\":");
        out.extend_from_slice(Digits::new(source.lsn.0).as_bytes());
        out.extend_from_slice(&self.source_table);
        out.extend_from_slice(match snapshot {
            None | Some(SnapshotMarker::Incremental) => b"false,\"last_snapshot_record\":null",
            Some(SnapshotMarker::Last) => b"true,\"last_snapshot_record\":true",
            Some(_) => b"true,\"last_snapshot_record\":false",
        });
        if xmin {
            out.extend_from_slice(b",\"xmin\":null");
        }
        out.push(b'}');
    }
}

fn write_tx_id(out: &mut Vec<u8>, tx_id: Option<u32>) {
    match tx_id {
        Some(x) => out.extend_from_slice(Digits::new(u64::from(x)).as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
}

/// A µs timestamp printed once and written as ms, µs and ns (Debezium's `ts_ms`/`ts_us`/`ts_ns`): for
/// 1000 µs ≤ t ≤ `i64::MAX / 1000` µs the three share their digits.
struct Micros {
    digits: Option<Digits>,
    us: i64,
}

impl Micros {
    #[inline]
    fn new(us: i64) -> Self {
        let shared = (1000..=i64::MAX / 1000).contains(&us);
        Micros {
            digits: shared.then(|| Digits::new(us.unsigned_abs())),
            us,
        }
    }

    #[inline]
    fn write_ms(&self, out: &mut Vec<u8>) {
        match &self.digits {
            Some(d) => out.extend_from_slice(d.without_last(3)),
            None => write_i64(out, self.us.div_euclid(1000)),
        }
    }

    #[inline]
    fn write_us(&self, out: &mut Vec<u8>) {
        match &self.digits {
            Some(d) => out.extend_from_slice(d.as_bytes()),
            None => write_i64(out, self.us),
        }
    }

    #[inline]
    fn write_ns(&self, out: &mut Vec<u8>) {
        match &self.digits {
            Some(d) => {
                out.extend_from_slice(d.as_bytes());
                out.extend_from_slice(b"000");
            }
            None => write_i64(out, self.us.saturating_mul(1000)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ColumnSchema;
    use crate::wal2json::{Row, decode};

    fn change(data: &str) -> Change<'_> {
        match decode(data).unwrap() {
            Row::Change(c) => c,
            other => panic!("not a change: {other:?}"),
        }
    }

    fn customers(identity: ReplicaIdentity) -> TableSchema {
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

    const SOURCE: SourceInfo = SourceInfo {
        commit_time_us: 1_705_314_600_123_456,
        tx_id: Some(780),
        lsn: Lsn(24_023_128),
        last_commit_lsn: Some(Lsn(24_022_960)),
    };

    fn encode_all(
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

    fn off() -> EncoderConfig {
        EncoderConfig::new("dbserver1", "postgres").with_schemas(false, false)
    }

    const SOURCE_JSON: &str = r#""source":{"version":"3.6.3.Final","connector":"postgresql","name":"dbserver1","ts_ms":1705314600123,"snapshot":"false","db":"postgres","sequence":"[\"24022960\",\"24023128\"]","ts_us":1705314600123456,"ts_ns":1705314600123456000,"schema":"inventory","table":"customers","txId":780,"lsn":24023128,"xmin":null,"origin":null,"origin_lsn":null},"transaction":null"#;
    const TS_JSON: &str =
        r#""ts_ms":1705314600234,"ts_us":1705314600234567,"ts_ns":1705314600234567000}"#;

    fn legacy(version: &str) -> EncoderConfig {
        off().legacy(version)
    }

    /// Debezium 1.0.3's legacy source block (0.9.3+ layout, `xmin` last) for [`SOURCE`], streamed.
    const LEGACY_SOURCE_JSON: &str = r#""source":{"version":"1.0.3.Final","connector":"postgresql","name":"dbserver1","db":"postgres","ts_usec":1705314600123456,"txId":780,"lsn":24023128,"schema":"inventory","table":"customers","snapshot":false,"last_snapshot_record":null,"xmin":null},"op":"#;

    #[test]
    fn legacy_insert_has_the_v1_source_block_and_the_unversioned_envelope() {
        let recs = encode_all(
            &customers(ReplicaIdentity::Default),
            &legacy(DEFAULT_LEGACY_CONNECTOR_VERSION),
            r#"{"action":"I","xid":780,"lsn":"0/16E8F58","schema":"inventory","table":"customers","columns":[{"name":"id","type":"integer","typeoid":23,"value":1},{"name":"name","type":"text","typeoid":25,"value":"x"},{"name":"note","type":"text","typeoid":25,"value":"n"}]}"#,
        );
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].1.as_deref(), Some(r#"{"id":1}"#));
        let expected = format!(
            r#"{{"before":null,"after":{{"id":1,"name":"x","note":"n"}},{LEGACY_SOURCE_JSON}"c","ts_ms":1705314600234}}"#
        );
        assert_eq!(recs[0].2.as_deref(), Some(expected.as_str()));
    }

    #[test]
    fn legacy_source_of_0_9_2_has_no_xmin() {
        let recs = encode_all(
            &customers(ReplicaIdentity::Default),
            &legacy("0.9.2.Final"),
            r#"{"action":"I","xid":780,"lsn":"0/1","schema":"inventory","table":"customers","columns":[{"name":"id","type":"integer","typeoid":23,"value":1},{"name":"name","type":"text","typeoid":25,"value":"x"},{"name":"note","type":"text","typeoid":25,"value":"n"}]}"#,
        );
        let v = recs[0].2.as_deref().unwrap();
        assert!(
            v.ends_with(r#""source":{"version":"0.9.2.Final","connector":"postgresql","name":"dbserver1","db":"postgres","ts_usec":1705314600123456,"txId":780,"lsn":24023128,"schema":"inventory","table":"customers","snapshot":false,"last_snapshot_record":null},"op":"c","ts_ms":1705314600234}"#),
            "{v}"
        );
        assert!(legacy_source_has_xmin("0.9.3.Final") && legacy_source_has_xmin("1.0.0.Final"));
        assert!(!legacy_source_has_xmin("0.9.0.Final"));
    }

    #[test]
    fn legacy_update_under_default_identity_carries_the_key_in_before() {
        // wal2json's identity of an update under REPLICA IDENTITY DEFAULT: the key, from the new row.
        let row = r#"{"action":"U","xid":780,"lsn":"0/1","schema":"inventory","table":"customers","columns":[{"name":"id","type":"integer","typeoid":23,"value":1},{"name":"name","type":"text","typeoid":25,"value":"new"},{"name":"note","type":"text","typeoid":25,"value":"n"}],"identity":[{"name":"id","type":"integer","typeoid":23,"value":1}]}"#;
        let recs = encode_all(
            &customers(ReplicaIdentity::Default),
            &legacy(DEFAULT_LEGACY_CONNECTOR_VERSION),
            row,
        );
        assert_eq!(recs.len(), 1);
        // name: nullable, its DEFAULT for the null; note: NOT NULL, the text fallback.
        let expected = format!(
            r#"{{"before":{{"id":1,"name":"anon","note":""}},"after":{{"id":1,"name":"new","note":"n"}},{LEGACY_SOURCE_JSON}"u","ts_ms":1705314600234}}"#
        );
        assert_eq!(recs[0].2.as_deref(), Some(expected.as_str()));
        // Debezium 3.6.3's rule stays the default.
        let current = encode_all(&customers(ReplicaIdentity::Default), &off(), row);
        assert!(
            current[0]
                .2
                .as_deref()
                .unwrap()
                .starts_with(r#"{"before":null,"#)
        );
    }

    #[test]
    fn legacy_update_under_full_identity_and_delete_keep_the_old_row() {
        let row = r#"{"action":"U","xid":780,"lsn":"0/1","schema":"inventory","table":"customers","columns":[{"name":"id","type":"integer","typeoid":23,"value":1},{"name":"name","type":"text","typeoid":25,"value":"new"},{"name":"note","type":"text","typeoid":25,"value":"n"}],"identity":[{"name":"id","type":"integer","typeoid":23,"value":1},{"name":"name","type":"text","typeoid":25,"value":null},{"name":"note","type":"text","typeoid":25,"value":"o"}]}"#;
        let config = legacy(DEFAULT_LEGACY_CONNECTOR_VERSION);
        let recs = encode_all(&customers(ReplicaIdentity::Full), &config, row);
        assert!(
            recs[0].2.as_deref().unwrap().starts_with(
                r#"{"before":{"id":1,"name":"anon","note":"o"},"after":{"id":1,"name":"new","note":"n"},"source":{"#
            ),
            "{recs:?}"
        );
        let delete = r#"{"action":"D","xid":780,"lsn":"0/1","schema":"inventory","table":"customers","identity":[{"name":"id","type":"integer","typeoid":23,"value":7}]}"#;
        let recs = encode_all(&customers(ReplicaIdentity::Default), &config, delete);
        let expected = format!(
            r#"{{"before":{{"id":7,"name":"anon","note":""}},"after":null,{LEGACY_SOURCE_JSON}"d","ts_ms":1705314600234}}"#
        );
        assert_eq!(recs[0].2.as_deref(), Some(expected.as_str()));
        assert_eq!(
            recs[1],
            (RecordKind::Tombstone, Some(r#"{"id":7}"#.into()), None)
        );
    }

    #[test]
    fn legacy_snapshot_reads_are_marked_with_booleans() {
        let enc = TableEncoder::new(
            &customers(ReplicaIdentity::Default),
            &legacy(DEFAULT_LEGACY_CONNECTOR_VERSION),
        )
        .unwrap();
        let Row::Change(c) = decode(r#"{"action":"I","xid":780,"lsn":"0/1","schema":"inventory","table":"customers","columns":[{"name":"id","type":"integer","typeoid":23,"value":1},{"name":"name","type":"text","typeoid":25,"value":"x"},{"name":"note","type":"text","typeoid":25,"value":"n"}]}"#).unwrap() else {
            panic!("not a change")
        };
        let read = SourceInfo {
            tx_id: None,
            last_commit_lsn: None,
            ..SOURCE
        };
        let source_of = |marker| {
            let mut buf = Vec::new();
            let out = enc
                .encode_read(&c.columns, &read, marker, 1_705_314_600_234_567, &mut buf)
                .unwrap();
            let v = out.records(&buf).next().unwrap().value.unwrap().to_vec();
            let v = String::from_utf8(v).unwrap();
            v[v.find(r#","txId""#).unwrap()..].to_owned()
        };
        let tail = |snapshot: &str| {
            format!(
                r#","txId":null,"lsn":24023128,"schema":"inventory","table":"customers",{snapshot},"xmin":null}},"op":"r","ts_ms":1705314600234}}"#
            )
        };
        for marker in [
            SnapshotMarker::First,
            SnapshotMarker::FirstInDataCollection,
            SnapshotMarker::True,
            SnapshotMarker::LastInDataCollection,
        ] {
            assert_eq!(
                source_of(marker),
                tail(r#""snapshot":true,"last_snapshot_record":false"#)
            );
        }
        assert_eq!(
            source_of(SnapshotMarker::Last),
            tail(r#""snapshot":true,"last_snapshot_record":true"#)
        );
        assert_eq!(
            source_of(SnapshotMarker::Incremental),
            tail(r#""snapshot":false,"last_snapshot_record":null"#)
        );
    }

    #[test]
    fn legacy_schemas_are_the_v1_connect_schemas_with_avro_names() {
        let t = TableSchema::new(
            "inventory",
            "customers",
            vec![
                ColumnSchema::new("id", "integer", 23, true),
                ColumnSchema::new("name", "text", 25, false),
            ],
            &["id"],
            ReplicaIdentity::Default,
        )
        .unwrap();
        let mut config = EncoderConfig::new("test-prefix", "postgres").legacy("0.9.5.Final");
        config.tombstones_on_delete = false;
        let recs = encode_all(
            &t,
            &config,
            r#"{"action":"I","xid":780,"lsn":"0/1","schema":"inventory","table":"customers","columns":[{"name":"id","type":"integer","typeoid":23,"value":1},{"name":"name","type":"text","typeoid":25,"value":"x"}]}"#,
        );
        assert_eq!(
            recs[0].1.as_deref(),
            Some(
                r#"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"test_prefix.inventory.customers.Key"},"payload":{"id":1}}"#
            )
        );
        let value = concat!(
            r#"{"schema":{"type":"struct","fields":["#,
            r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"name"}],"optional":true,"name":"test_prefix.inventory.customers.Value","field":"before"},"#,
            r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"name"}],"optional":true,"name":"test_prefix.inventory.customers.Value","field":"after"},"#,
            r#"{"type":"struct","fields":[{"type":"string","optional":true,"field":"version"},{"type":"string","optional":true,"field":"connector"},{"type":"string","optional":false,"field":"name"},{"type":"string","optional":false,"field":"db"},{"type":"int64","optional":true,"field":"ts_usec"},{"type":"int64","optional":true,"field":"txId"},{"type":"int64","optional":true,"field":"lsn"},{"type":"string","optional":true,"field":"schema"},{"type":"string","optional":true,"field":"table"},{"type":"boolean","optional":true,"default":false,"field":"snapshot"},{"type":"boolean","optional":true,"field":"last_snapshot_record"},{"type":"int64","optional":true,"field":"xmin"}],"optional":false,"name":"io.debezium.connector.postgresql.Source","field":"source"},"#,
            r#"{"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"}],"#,
            r#""optional":false,"name":"test_prefix.inventory.customers.Envelope"},"#,
            r#""payload":{"before":null,"after":{"id":1,"name":"x"},"source":{"version":"0.9.5.Final","connector":"postgresql","name":"test-prefix","db":"postgres","ts_usec":1705314600123456,"txId":780,"lsn":24023128,"schema":"inventory","table":"customers","snapshot":false,"last_snapshot_record":null,"xmin":null},"op":"c","ts_ms":1705314600234}}"#,
        );
        assert_eq!(recs[0].2.as_deref(), Some(value));
        // 0.9.0–0.9.2: the same without xmin, in the schema too.
        let old = EncoderConfig::new("test-prefix", "postgres").legacy("0.9.2.Final");
        let v = encode_all(&t, &old, r#"{"action":"I","xid":780,"lsn":"0/1","schema":"inventory","table":"customers","columns":[{"name":"id","type":"integer","typeoid":23,"value":1},{"name":"name","type":"text","typeoid":25,"value":"x"}]}"#)[0].2.clone().unwrap();
        assert!(!v.contains("xmin"), "{v}");
        assert!(v.contains(r#"{"type":"boolean","optional":true,"field":"last_snapshot_record"}],"optional":false,"name":"io.debezium.connector.postgresql.Source","field":"source"}"#), "{v}");
    }

    #[test]
    fn avro_names_replace_what_avro_refuses_as_java_counts_characters() {
        assert_eq!(
            avro_fullname("test-prefix.s.t.Value"),
            "test_prefix.s.t.Value"
        );
        assert_eq!(avro_fullname("1a.b$c.é.😀"), "_a.b_c._.__");
        assert_eq!(avro_fullname(".a"), "_a");
        assert_eq!(avro_fullname("a_b.C9"), "a_b.C9");
    }

    #[test]
    fn ms_us_ns_share_digits_only_where_that_is_exact() {
        let edges = [
            i64::MIN,
            i64::MIN + 1,
            -1_000_000,
            -1001,
            -1000,
            -999,
            -1,
            0,
            1,
            999,
            1000,
            1001,
            1_705_314_600_123_456,
            i64::MAX / 1000 - 1,
            i64::MAX / 1000,
            i64::MAX / 1000 + 1,
            i64::MAX,
        ];
        for us in edges {
            let m = Micros::new(us);
            let (mut ms, mut u, mut ns) = (Vec::new(), Vec::new(), Vec::new());
            m.write_ms(&mut ms);
            m.write_us(&mut u);
            m.write_ns(&mut ns);
            assert_eq!(ms, us.div_euclid(1000).to_string().as_bytes(), "{us}");
            assert_eq!(u, us.to_string().as_bytes(), "{us}");
            assert_eq!(ns, us.saturating_mul(1000).to_string().as_bytes(), "{us}");
        }
    }

    #[test]
    fn insert_writes_the_full_envelope_and_substitutes_defaults_for_nulls() {
        let recs = encode_all(
            &customers(ReplicaIdentity::Default),
            &off(),
            r#"{"action":"I","xid":780,"lsn":"0/16E8F58","schema":"inventory","table":"customers","columns":[{"name":"id","type":"integer","typeoid":23,"value":1},{"name":"name","type":"text","typeoid":25,"value":null},{"name":"note","type":"text","typeoid":25,"value":"a\"b\n\u0001/é"}]}"#,
        );
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].1.as_deref(), Some(r#"{"id":1}"#));
        let expected = format!(
            r#"{{"before":null,"after":{{"id":1,"name":"anon","note":"a\"b\n\u0001/é"}},{SOURCE_JSON},"op":"c",{TS_JSON}"#
        );
        assert_eq!(recs[0].2.as_deref(), Some(expected.as_str()));
    }

    #[test]
    fn update_under_full_identity_has_before_and_under_default_has_none() {
        let row = r#"{"action":"U","xid":780,"lsn":"0/1","schema":"inventory","table":"customers","columns":[{"name":"id","type":"integer","typeoid":23,"value":1},{"name":"name","type":"text","typeoid":25,"value":"new"},{"name":"note","type":"text","typeoid":25,"value":"n"}],"identity":[{"name":"id","type":"integer","typeoid":23,"value":1},{"name":"name","type":"text","typeoid":25,"value":"old"},{"name":"note","type":"text","typeoid":25,"value":"n"}]}"#;
        let full = encode_all(&customers(ReplicaIdentity::Full), &off(), row);
        assert_eq!(full.len(), 1);
        let v = full[0].2.as_deref().unwrap();
        assert!(v.starts_with(r#"{"before":{"id":1,"name":"old","note":"n"},"after":{"id":1,"name":"new","note":"n"},"#), "{v}");
        assert!(v.contains(r#""op":"u""#));
        let default = encode_all(&customers(ReplicaIdentity::Default), &off(), row);
        assert!(
            default[0]
                .2
                .as_deref()
                .unwrap()
                .starts_with(r#"{"before":null,"after":{"id":1,"#)
        );
    }

    #[test]
    fn delete_under_default_fills_not_null_columns_with_fallbacks_and_adds_a_tombstone() {
        let row = r#"{"action":"D","xid":780,"lsn":"0/1","schema":"inventory","table":"customers","identity":[{"name":"id","type":"integer","typeoid":23,"value":7}]}"#;
        let recs = encode_all(&customers(ReplicaIdentity::Default), &off(), row);
        assert_eq!(recs.len(), 2);
        assert!(
            recs[0]
                .2
                .as_deref()
                .unwrap()
                .starts_with(r#"{"before":{"id":7,"name":"anon","note":""},"after":null,"#)
        );
        assert_eq!(
            recs[1],
            (RecordKind::Tombstone, Some(r#"{"id":7}"#.into()), None)
        );
        let mut no_tombstones = off();
        no_tombstones.tombstones_on_delete = false;
        assert_eq!(
            encode_all(&customers(ReplicaIdentity::Default), &no_tombstones, row).len(),
            1
        );
    }

    #[test]
    fn filtered_columns_leave_the_value_and_its_schema_but_not_the_key() {
        let t = customers(ReplicaIdentity::Full)
            .with_value_columns(|c| c.name != "note" && c.name != "id");
        let row = r#"{"action":"I","xid":780,"lsn":"0/1","schema":"inventory","table":"customers","columns":[{"name":"id","type":"integer","typeoid":23,"value":1},{"name":"name","type":"text","typeoid":25,"value":"x"},{"name":"note","type":"text","typeoid":25,"value":"secret"}]}"#;
        let recs = encode_all(&t, &off(), row);
        assert_eq!(recs[0].1.as_deref(), Some(r#"{"id":1}"#));
        let on = EncoderConfig::new("dbserver1", "postgres");
        let key = encode_all(&t, &on, row)[0].1.clone().unwrap();
        assert!(
            key.contains(r#"{"type":"int32","optional":true,"field":"id"}"#),
            "{key}"
        );
        let v = recs[0].2.as_deref().unwrap();
        assert!(
            v.starts_with(r#"{"before":null,"after":{"name":"x"},"#),
            "{v}"
        );
        let on = EncoderConfig::new("dbserver1", "postgres");
        let v = encode_all(&t, &on, row)[0].2.clone().unwrap();
        assert!(
            !v.contains(r#""field":"note""#) && !v.contains("secret"),
            "{v}"
        );
        assert!(v.contains(r#""field":"name""#), "{v}");
    }

    #[test]
    fn message_key_columns_replace_the_primary_key_and_a_missing_one_is_a_fallback() {
        let t = customers(ReplicaIdentity::Default)
            .with_message_key(&["note", "id"])
            .unwrap();
        let insert = r#"{"action":"I","xid":780,"lsn":"0/1","schema":"inventory","table":"customers","columns":[{"name":"id","type":"integer","typeoid":23,"value":1},{"name":"name","type":"text","typeoid":25,"value":"x"},{"name":"note","type":"text","typeoid":25,"value":"n1"}]}"#;
        assert_eq!(
            encode_all(&t, &off(), insert)[0].1.as_deref(),
            Some(r#"{"note":"n1","id":1}"#)
        );
        let on = EncoderConfig::new("dbserver1", "postgres");
        let key = encode_all(&t, &on, insert)[0].1.clone().unwrap();
        assert_eq!(
            key,
            r#"{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"note"},{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"dbserver1.inventory.customers.Key"},"payload":{"note":"n1","id":1}}"#
        );
        // REPLICA IDENTITY DEFAULT: the delete carries the primary key only.
        let delete = r#"{"action":"D","xid":780,"lsn":"0/1","schema":"inventory","table":"customers","identity":[{"name":"id","type":"integer","typeoid":23,"value":7}]}"#;
        let recs = encode_all(&t, &off(), delete);
        assert_eq!(recs[0].1.as_deref(), Some(r#"{"note":"","id":7}"#));
        assert_eq!(recs[1].1.as_deref(), Some(r#"{"note":"","id":7}"#));
    }

    #[test]
    fn missing_update_columns_take_the_old_value_or_the_placeholder() {
        let row = r#"{"action":"U","xid":780,"lsn":"0/1","schema":"inventory","table":"customers","columns":[{"name":"id","type":"integer","typeoid":23,"value":1},{"name":"name","type":"text","typeoid":25,"value":"x"}],"identity":[{"name":"id","type":"integer","typeoid":23,"value":1}]}"#;
        let recs = encode_all(&customers(ReplicaIdentity::Default), &off(), row);
        assert!(
            recs[0]
                .2
                .as_deref()
                .unwrap()
                .contains(r#""after":{"id":1,"name":"x","note":"__debezium_unavailable_value"}"#)
        );
        let full_row = row.replace(
            r#""identity":[{"name":"id","type":"integer","typeoid":23,"value":1}]"#,
            r#""identity":[{"name":"id","type":"integer","typeoid":23,"value":1},{"name":"name","type":"text","typeoid":25,"value":"y"},{"name":"note","type":"text","typeoid":25,"value":"kept"}]"#,
        );
        let recs = encode_all(&customers(ReplicaIdentity::Full), &off(), &full_row);
        assert!(
            recs[0]
                .2
                .as_deref()
                .unwrap()
                .contains(r#""after":{"id":1,"name":"x","note":"kept"}"#)
        );
    }

    #[test]
    fn schemas_on_key_matches_the_documented_example() {
        let t = TableSchema::new(
            "inventory",
            "customers",
            vec![ColumnSchema::new("id", "integer", 23, true)],
            &["id"],
            ReplicaIdentity::Default,
        )
        .unwrap();
        let config = EncoderConfig::new("dbserver1", "postgres").with_schemas(true, false);
        let recs = encode_all(
            &t,
            &config,
            r#"{"action":"I","xid":1,"lsn":"0/1","schema":"inventory","table":"customers","columns":[{"name":"id","type":"integer","typeoid":23,"value":1}]}"#,
        );
        assert_eq!(
            recs[0].1.as_deref(),
            Some(
                r#"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"dbserver1.inventory.customers.Key"},"payload":{"id":1}}"#
            )
        );
        assert!(
            recs[0]
                .2
                .as_deref()
                .unwrap()
                .starts_with(r#"{"before":null,"#)
        );
    }

    #[test]
    fn keyless_tables_get_null_keys() {
        let t = TableSchema::new(
            "inventory",
            "audit",
            vec![ColumnSchema::new("who", "text", 25, false)],
            &[],
            ReplicaIdentity::Default,
        )
        .unwrap();
        let recs = encode_all(
            &t,
            &off(),
            r#"{"action":"I","xid":1,"lsn":"0/1","schema":"inventory","table":"audit","columns":[{"name":"who","type":"text","typeoid":25,"value":"x"}],"pk":[]}"#,
        );
        assert_eq!(recs[0].1, None);
    }

    #[test]
    fn changes_that_do_not_fit_the_schema_are_rejected() {
        let enc = TableEncoder::new(&customers(ReplicaIdentity::Default), &off()).unwrap();
        let mut buf = Vec::new();
        let unknown = change(
            r#"{"action":"I","xid":1,"lsn":"0/1","schema":"inventory","table":"customers","columns":[{"name":"id","type":"integer","typeoid":23,"value":1},{"name":"added","type":"text","typeoid":25,"value":"x"}]}"#,
        );
        assert!(matches!(
            enc.encode(&unknown, &SOURCE, 0, &mut buf),
            Err(Error::SchemaMismatch { column, .. }) if column == "added"
        ));
        let other = change(
            r#"{"action":"I","xid":1,"lsn":"0/1","schema":"inventory","table":"orders","columns":[]}"#,
        );
        assert!(matches!(
            enc.encode(&other, &SOURCE, 0, &mut buf),
            Err(Error::SchemaMismatch { .. })
        ));
        let no_key = change(
            r#"{"action":"I","xid":1,"lsn":"0/1","schema":"inventory","table":"customers","columns":[{"name":"name","type":"text","typeoid":25,"value":"x"}]}"#,
        );
        assert!(
            matches!(enc.encode(&no_key, &SOURCE, 0, &mut buf), Err(Error::SchemaMismatch { column, .. }) if column == "id")
        );
        let bad = change(
            r#"{"action":"I","xid":1,"lsn":"0/1","schema":"inventory","table":"customers","columns":[{"name":"id","type":"integer","typeoid":23,"value":"x"}]}"#,
        );
        assert!(
            matches!(enc.encode(&bad, &SOURCE, 0, &mut buf), Err(Error::InvalidValue { column, .. }) if column == "id")
        );
    }

    #[test]
    fn first_transaction_has_a_null_last_commit_in_sequence_and_topics_are_sanitised() {
        let t = TableSchema::new(
            "my schema",
            "t$1",
            vec![ColumnSchema::new("id", "integer", 23, true)],
            &["id"],
            ReplicaIdentity::Default,
        )
        .unwrap();
        let enc = TableEncoder::new(&t, &off()).unwrap();
        assert_eq!(enc.topic(), "dbserver1.my_schema.t_1");
        let mut buf = Vec::new();
        let src = SourceInfo {
            last_commit_lsn: None,
            tx_id: None,
            ..SOURCE
        };
        let c = change(
            r#"{"action":"I","lsn":"0/1","schema":"my schema","table":"t$1","columns":[{"name":"id","type":"integer","typeoid":23,"value":1}]}"#,
        );
        let out = enc.encode(&c, &src, 0, &mut buf).unwrap();
        let v =
            String::from_utf8(out.records(&buf).next().unwrap().value.unwrap().to_vec()).unwrap();
        assert!(v.contains(r#""sequence":"[null,\"24023128\"]""#), "{v}");
        assert!(
            v.contains(r#""schema":"my schema","table":"t$1","txId":null,"#),
            "{v}"
        );
    }
}
