//! The records of a change: [`TableEncoder::encode`] for a streamed change, `encode_read` for a snapshot
//! row and `encode_key` for a key alone, and the key, row and envelope writers under them.

use std::ops::Range;

use super::encoder::{Col, Layout, Missing};
use super::source::Micros;
use super::{
    EncodedChange, NEWKEY_HEADER, OLDKEY_HEADER, RecordKind, SnapshotMarker, SourceInfo, Span,
    TableEncoder, TransactionBlock,
};
use crate::Error;
use crate::schema::ReplicaIdentity;
use crate::wal2json::{Action, Change, Column, Value};

impl TableEncoder {
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
                        let following = SourceInfo {
                            transaction: source.transaction.map(TransactionBlock::following),
                            ..*source
                        };
                        let created = self.write_envelope(
                            out,
                            b'c',
                            None,
                            Some((&change.columns, Missing::Toast(identity))),
                            (&following, processing_time_us),
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
                            // REPLICA IDENTITY INDEX sends the old index columns only when they
                            // change, and Debezium's pgoutput path then fills `before` with them: not
                            // reproduced yet, `before` stays null.
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
            crate::json::write_header_escaped(out, &col.field_name);
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

    /// Appends the record Debezium writes for a truncate of the table: a null key, and the table's
    /// envelope with `before` and `after` null and `op: "t"`.
    ///
    /// # Errors
    /// None today; a `Result` as the other encoders.
    pub fn encode_truncate(
        &self,
        source: &SourceInfo,
        processing_time_us: i64,
        out: &mut Vec<u8>,
    ) -> Result<EncodedChange, Error> {
        let mut enc = EncodedChange::default();
        let value = self.write_envelope(out, b't', None, None, (source, processing_time_us))?;
        enc.push(Span {
            kind: RecordKind::Truncate,
            key: None,
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
                out.extend_from_slice(b",\"transaction\":");
                match &source.transaction {
                    Some(block) => block.write(out, source.lsn),
                    None => out.extend_from_slice(b"null"),
                }
                out.extend_from_slice(b",\"op\":\"");
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::test_support::*;
    use crate::envelope::{DEFAULT_LEGACY_CONNECTOR_VERSION, EncoderConfig};
    use crate::schema::{ColumnSchema, TableSchema};

    #[test]
    fn a_truncate_has_no_key_and_neither_before_nor_after() {
        let table = customers(ReplicaIdentity::Default);
        let encoder = TableEncoder::new(&table, &off()).unwrap();
        let source = SourceInfo {
            commit_time_us: 1_700_000_000_000_000,
            tx_id: Some(780),
            lsn: crate::Lsn(0x16E_8F58),
            last_commit_lsn: None,
            transaction: None,
        };
        let mut out = Vec::new();
        let encoded = encoder
            .encode_truncate(&source, 1_700_000_000_500_000, &mut out)
            .unwrap();
        let records: Vec<_> = encoded.records(&out).collect();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].kind, RecordKind::Truncate);
        assert_eq!(records[0].key, None);
        let value = std::str::from_utf8(records[0].value.unwrap()).unwrap();
        assert!(
            value.starts_with(r#"{"before":null,"after":null,"source":{"#),
            "{value}"
        );
        assert!(
            value.contains(r#""transaction":null,"op":"t","ts_ms":1700000000500,"#),
            "{value}"
        );
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
        // Debezium 3.7.1's rule stays the default.
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
    fn a_key_change_numbers_its_delete_and_create_and_not_the_tombstone() {
        let t = customers(ReplicaIdentity::Default);
        let enc = TableEncoder::new(&t, &off()).unwrap();
        let row = r#"{"action":"U","xid":780,"lsn":"0/1","schema":"inventory","table":"customers","columns":[{"name":"id","type":"integer","typeoid":23,"value":2},{"name":"name","type":"text","typeoid":25,"value":"n"},{"name":"note","type":"text","typeoid":25,"value":null}],"identity":[{"name":"id","type":"integer","typeoid":23,"value":1}]}"#;
        let source = SourceInfo {
            transaction: Some(TransactionBlock {
                xid: 780,
                total_order: 4,
                data_collection_order: 2,
            }),
            ..SOURCE
        };
        let mut buf = Vec::new();
        let out = enc
            .encode(&change(row), &source, 1_705_314_600_234_567, &mut buf)
            .unwrap();
        let values: Vec<Option<String>> = out
            .records(&buf)
            .map(|r| r.value.map(|v| String::from_utf8(v.to_vec()).unwrap()))
            .collect();
        assert_eq!(values.len(), 3);
        assert!(
            values[0].as_deref().unwrap().contains(
                r#""transaction":{"id":"780:24023128","total_order":4,"data_collection_order":2},"op":"d""#
            ),
            "{values:?}"
        );
        assert_eq!(values[1], None);
        assert!(
            values[2].as_deref().unwrap().contains(
                r#""transaction":{"id":"780:24023128","total_order":5,"data_collection_order":3},"op":"c""#
            ),
            "{values:?}"
        );
    }
}
