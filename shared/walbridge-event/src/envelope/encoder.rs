//! [`TableEncoder`] and what it precomputes once per table: the topic, the key and value schema JSON, and
//! the constant pieces of every record.

use std::borrow::Cow;
use std::sync::Arc;

use super::source::{
    ENVELOPE_TAIL_SCHEMA, LEGACY_ENVELOPE_TAIL_SCHEMA, LEGACY_SOURCE_SCHEMA, SOURCE_SCHEMA,
};
use super::{
    EncoderConfig, PAYLOAD_OPEN, SCHEMA_OPEN, SourceStructVersion, legacy_source_has_xmin,
};
use crate::Error;
use crate::convert::{Kind, TypeInfo, default_json};
use crate::json::write_str;
use crate::names::legacy_avro_fullname;
use crate::schema::{ReplicaIdentity, TableSchema};
use crate::wal2json::Column;

#[derive(Debug)]
pub(super) struct Col {
    pub(super) name: String,
    /// The name of its field: the column's, adjusted by `field.name.adjustment.mode`.
    pub(super) field_name: String,
    pub(super) type_name: String,
    /// `"<field_name>":`, escaped.
    pub(super) field: Vec<u8>,
    pub(super) kind: Kind,
    pub(super) not_null: bool,
    /// Payload JSON of a constant DEFAULT.
    pub(super) default: Option<Vec<u8>>,
    /// An enum's labels (`allowed`).
    pub(super) allowed: Option<String>,
    pub(super) fallback: Cow<'static, [u8]>,
    /// Left out of the value by a column filter.
    pub(super) hidden: bool,
}

impl Col {
    /// Whether the value (`before`, `after`, their schema) carries the column.
    pub(super) fn in_value(&self) -> bool {
        self.kind != Kind::Omitted && !self.hidden
    }
}

/// How to fill a schema column the change does not carry.
#[derive(Clone, Copy)]
pub(super) enum Missing<'c> {
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
    pub(super) topic: String,
    pub(super) qualified: String,
    pub(super) schema: String,
    pub(super) table: String,
    pub(super) cols: Vec<Col>,
    pub(super) key: Vec<usize>,
    /// `message.key.columns` keys the records: a key column the change lacks (a delete under
    /// REPLICA IDENTITY DEFAULT carries the primary key only) is written as Debezium writes a
    /// missing value, not taken as a changed table.
    pub(super) custom_key: bool,
    pub(super) replica_identity: ReplicaIdentity,
    pub(super) key_open: Vec<u8>,
    pub(super) key_close: &'static [u8],
    /// The key's Connect schema, when kept apart from the keys.
    pub(super) key_schema: Option<Arc<str>>,
    pub(super) value_open: Vec<u8>,
    pub(super) value_close: &'static [u8],
    /// The value's Connect schema, when kept apart from the values.
    pub(super) value_schema: Option<Arc<str>>,
    pub(super) source_open: Vec<u8>,
    pub(super) source_db: Vec<u8>,
    pub(super) source_table: Vec<u8>,
    pub(super) layout: Layout,
    pub(super) tombstones: bool,
    pub(super) placeholder: String,
}

/// Which events a [`TableEncoder`] writes ([`SourceStructVersion`], resolved).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Layout {
    /// Debezium 3.7.1's.
    Current,
    /// The wal2json era's; `xmin` from Debezium 0.9.3 on.
    V1 { xmin: bool },
}

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
    /// [`Error::InvalidSchema`] when `field.name.adjustment.mode` gives two columns one field name.
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
            Layout::Current => config
                .schema_names
                .schema_name(&format!("{base}.{suffix}"))
                .into_owned(),
            Layout::V1 { .. } => legacy_avro_fullname(&format!("{base}.{suffix}")),
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
                let field_name = config.field_names.field_name(&c.name).into_owned();
                let mut field = Vec::with_capacity(field_name.len() + 3);
                write_str(&mut field, &field_name);
                field.push(b':');
                Col {
                    name: c.name.clone(),
                    field_name,
                    type_name: c.type_name.clone(),
                    field,
                    kind,
                    not_null: c.not_null,
                    default: c
                        .default
                        .as_deref()
                        .and_then(|d| default_json(kind, c.type_oid, d)),
                    allowed: c.enum_values.clone(),
                    fallback: kind.fallback(),
                    hidden: schema.is_hidden(i),
                }
            })
            .collect();
        let key = schema.message_key().to_vec();
        // Two columns whose adjusted names meet would be one field twice: Kafka Connect's
        // SchemaBuilder refuses that ("field name duplication") and Debezium's task fails, so
        // walbridge fails too rather than write a record that loses one. (Debezium's adjuster
        // itself detects no conflict: its first-time-only bookkeeping is made afresh per name.)
        // A column left out of both the key and the value has no field.
        let fields = |i: usize| cols[i].in_value() || key.contains(&i);
        for (i, c) in cols.iter().enumerate().filter(|&(i, _)| fields(i)) {
            let mut before = cols[..i].iter().enumerate().filter(|&(j, _)| fields(j));
            if let Some((_, other)) = before.find(|(_, o)| o.field_name == c.field_name) {
                return Err(Error::InvalidSchema {
                    table: format!("{}.{}", schema.schema(), schema.table()),
                    column: format!("{} and {} are both {}", other.name, c.name, c.field_name),
                    reason: "two columns have one field name under field.name.adjustment.mode, \
                             which Kafka Connect refuses under Debezium too: use avro_unicode, \
                             rename one, or leave one out with column.exclude.list",
                });
            }
        }

        let key_schema = config.key_schemas.then(|| {
            let mut s = b"{\"type\":\"struct\",\"fields\":[".to_vec();
            for (i, &k) in key.iter().enumerate() {
                if i > 0 {
                    s.push(b',');
                }
                let c = &cols[k];
                // Primary key columns are NOT NULL; `message.key.columns` may name nullable
                // ones, which Debezium declares optional, and so does it a key column the column
                // filters leave out of the value (seen from Debezium 3.7.1 in the differential).
                c.kind.write_field_schema(
                    &mut s,
                    !c.not_null || c.hidden,
                    c.default.as_deref(),
                    &c.field_name,
                    c.allowed.as_deref(),
                );
            }
            s.extend_from_slice(b"],\"optional\":false,\"name\":");
            write_str(&mut s, &schema_name("Key"));
            s.push(b'}');
            s
        });
        let (key_open, key_close, key_schema) = place_schema(key_schema, config.key_schema_apart);

        let value_schema = config.value_schemas.then(|| {
            let mut s = b"{\"type\":\"struct\",\"fields\":[".to_vec();
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
                        &c.field_name,
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
                Layout::Current => b",\"version\":2}",
                Layout::V1 { .. } => b"}",
            });
            s
        });
        let (mut value_open, value_close, value_schema) =
            place_schema(value_schema, config.value_schema_apart);
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
            key_schema,
            value_open,
            value_close,
            value_schema,
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

    /// The key's Connect schema (JsonConverter's schema JSON) when it is kept apart
    /// ([`EncoderConfig::key_schema_apart`]): the keys are then their payload alone. One `Arc` per
    /// encoder, so a converter may know it by its address.
    pub fn key_schema(&self) -> Option<&Arc<str>> {
        self.key_schema.as_ref()
    }

    /// As [`TableEncoder::key_schema`], for the values ([`EncoderConfig::value_schema_apart`]).
    pub fn value_schema(&self) -> Option<&Arc<str>> {
        self.value_schema.as_ref()
    }
}

/// Where a key's or value's Connect schema goes: with it, in JsonConverter's
/// `{"schema":…,"payload":…}` (how the record opens and closes around its payload), or apart
/// (returned, the record being its payload alone); nowhere when schemas are off.
fn place_schema(
    schema: Option<Vec<u8>>,
    apart: bool,
) -> (Vec<u8>, &'static [u8], Option<Arc<str>>) {
    match schema {
        None => (Vec::new(), b"", None),
        Some(schema) if apart => (
            Vec::new(),
            b"",
            Some(Arc::from(String::from_utf8_lossy(&schema))),
        ),
        Some(schema) => {
            let mut open = SCHEMA_OPEN.to_vec();
            open.extend_from_slice(&schema);
            open.extend_from_slice(PAYLOAD_OPEN);
            (open, b"}", None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::test_support::*;
    use crate::names::NameAdjustment;
    use crate::schema::ColumnSchema;

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
    fn schemas_kept_apart_are_those_written_in_place_and_the_records_their_payloads() {
        let t = customers(ReplicaIdentity::Default);
        let in_place = EncoderConfig::new("dbserver1", "postgres");
        let apart = EncoderConfig {
            key_schema_apart: true,
            value_schema_apart: true,
            ..in_place.clone()
        };
        // a key change: a delete, its tombstone and a create, each with a key
        let row = r#"{"action":"U","xid":780,"lsn":"0/1","schema":"inventory","table":"customers","columns":[{"name":"id","type":"integer","typeoid":23,"value":2},{"name":"name","type":"text","typeoid":25,"value":"n"},{"name":"note","type":"text","typeoid":25,"value":null}],"identity":[{"name":"id","type":"integer","typeoid":23,"value":1}]}"#;
        let encoder = TableEncoder::new(&t, &apart).unwrap();
        let (key, value) = (
            encoder.key_schema().unwrap(),
            encoder.value_schema().unwrap(),
        );
        assert!(
            TableEncoder::new(&t, &in_place)
                .unwrap()
                .key_schema()
                .is_none()
        );
        let whole = |schema: &str, payload: Option<String>| {
            payload.map(|p| format!(r#"{{"schema":{schema},"payload":{p}}}"#))
        };
        let expected = encode_all(&t, &in_place, row);
        let records = encode_all(&t, &apart, row);
        assert_eq!(records.len(), 3);
        for (record, expected) in records.into_iter().zip(expected) {
            assert_eq!(
                (record.0, whole(key, record.1), whole(value, record.2)),
                expected
            );
        }
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

    fn odd_names() -> TableSchema {
        TableSchema::new(
            "inventory",
            "order-items",
            vec![
                ColumnSchema::new("item id", "integer", 23, true),
                ColumnSchema::new("1st", "text", 25, false),
            ],
            &["item id"],
            ReplicaIdentity::Default,
        )
        .unwrap()
    }

    const ODD_INSERT: &str = r#"{"action":"I","xid":1,"lsn":"0/1","schema":"inventory","table":"order-items","columns":[{"name":"item id","type":"integer","typeoid":23,"value":1},{"name":"1st","type":"text","typeoid":25,"value":"x"}]}"#;

    #[test]
    fn adjustment_modes_rename_the_table_schemas_and_the_column_fields() {
        let config = EncoderConfig {
            schema_names: NameAdjustment::Avro,
            field_names: NameAdjustment::AvroUnicode,
            ..EncoderConfig::new("my-server", "postgres")
        };
        let enc = TableEncoder::new(&odd_names(), &config).unwrap();
        // The topic keeps its name: only schema names are adjusted.
        assert_eq!(enc.topic(), "my-server.inventory.order-items");
        let recs = encode_all(&odd_names(), &config, ODD_INSERT);
        let key = recs[0].1.as_deref().unwrap();
        assert!(
            key.ends_with(
                r#""field":"item_u0020id"}],"optional":false,"name":"my_server.inventory.order_items.Key"},"payload":{"item_u0020id":1}}"#
            ),
            "{key}"
        );
        let value = recs[0].2.as_deref().unwrap();
        for part in [
            r#""field":"_u0031st"}],"optional":true,"name":"my_server.inventory.order_items.Value","field":"before"}"#,
            r#""name":"my_server.inventory.order_items.Envelope","version":2}"#,
            r#""after":{"item_u0020id":1,"_u0031st":"x"}"#,
            // `source.name` is the prefix as it is, and so are Debezium's own schema names.
            r#""name":"my-server","#,
            r#""name":"io.debezium.connector.postgresql.Source""#,
        ] {
            assert!(value.contains(part), "{part} not in {value}");
        }
    }

    #[test]
    fn two_columns_adjusted_to_one_field_name_are_refused() {
        let t = TableSchema::new(
            "s",
            "t",
            vec![
                ColumnSchema::new("a-b", "integer", 23, true),
                ColumnSchema::new("a_b", "integer", 23, false),
            ],
            &["a-b"],
            ReplicaIdentity::Default,
        )
        .unwrap();
        let config = EncoderConfig {
            field_names: NameAdjustment::Avro,
            ..off()
        };
        let err = TableEncoder::new(&t, &config).err().unwrap().to_string();
        assert!(err.contains("a-b and a_b are both a_b"), "{err}");
        // avro_unicode keeps them apart, which is what it is for.
        let config = EncoderConfig {
            field_names: NameAdjustment::AvroUnicode,
            ..off()
        };
        assert!(TableEncoder::new(&t, &config).is_ok());
    }
}
