//! The `source` block of an event, Debezium 3.7.1's and the wal2json era's legacy one, with their Connect
//! schemas, and the `ts_ms`/`ts_us`/`ts_ns` writer the envelope shares.

use super::{SnapshotMarker, SourceInfo, TableEncoder};
use crate::json::{Digits, write_i64};

/// `io.debezium.connector.postgresql.Source` v1 as Debezium 3.7.1 declares it.
pub(super) const SOURCE_SCHEMA: &str = r#"{"type":"struct","fields":[{"type":"string","optional":false,"field":"version"},{"type":"string","optional":false,"field":"connector"},{"type":"string","optional":false,"field":"name"},{"type":"int64","optional":false,"field":"ts_ms"},{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},"default":"false","field":"snapshot"},{"type":"string","optional":false,"field":"db"},{"type":"string","optional":true,"field":"sequence"},{"type":"int64","optional":true,"field":"ts_us"},{"type":"int64","optional":true,"field":"ts_ns"},{"type":"string","optional":false,"field":"schema"},{"type":"string","optional":false,"field":"table"},{"type":"int64","optional":true,"field":"txId"},{"type":"int64","optional":true,"field":"lsn"},{"type":"int64","optional":true,"field":"xmin"},{"type":"string","optional":true,"field":"origin"},{"type":"int64","optional":true,"field":"origin_lsn"}],"optional":false,"name":"io.debezium.connector.postgresql.Source","version":1,"field":"source"}"#;

/// The legacy `io.debezium.connector.postgresql.Source` (Debezium 0.9 `SourceInfo.SCHEMA`, 1.x
/// `LegacyV1PostgresSourceInfoStructMaker`): no schema version, `version`/`connector`/`schema`/`table`
/// optional, a boolean `snapshot` defaulting to false. Split before `xmin`, which 0.9.0–0.9.2 lack.
pub(super) const LEGACY_SOURCE_SCHEMA: [&str; 3] = [
    r#"{"type":"struct","fields":[{"type":"string","optional":true,"field":"version"},{"type":"string","optional":true,"field":"connector"},{"type":"string","optional":false,"field":"name"},{"type":"string","optional":false,"field":"db"},{"type":"int64","optional":true,"field":"ts_usec"},{"type":"int64","optional":true,"field":"txId"},{"type":"int64","optional":true,"field":"lsn"},{"type":"string","optional":true,"field":"schema"},{"type":"string","optional":true,"field":"table"},{"type":"boolean","optional":true,"default":false,"field":"snapshot"},{"type":"boolean","optional":true,"field":"last_snapshot_record"}"#,
    r#",{"type":"int64","optional":true,"field":"xmin"}"#,
    r#"],"optional":false,"name":"io.debezium.connector.postgresql.Source","field":"source"}"#,
];

/// The legacy envelope's trailing fields: no `transaction`, `ts_us`, `ts_ns`.
pub(super) const LEGACY_ENVELOPE_TAIL_SCHEMA: &str = r#"{"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"}"#;

/// The `transaction` block (`event.block` v1) and the envelope's trailing fields.
pub(super) const ENVELOPE_TAIL_SCHEMA: &str = r#"{"type":"struct","fields":[{"type":"string","optional":false,"field":"id"},{"type":"int64","optional":false,"field":"total_order"},{"type":"int64","optional":false,"field":"data_collection_order"}],"optional":true,"name":"event.block","version":1,"field":"transaction"},{"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"},{"type":"int64","optional":true,"field":"ts_us"},{"type":"int64","optional":true,"field":"ts_ns"}"#;

impl TableEncoder {
    /// Debezium 3.7.1's `source` block.
    pub(super) fn write_source(
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
    pub(super) fn write_legacy_source(
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
pub(super) struct Micros {
    digits: Option<Digits>,
    us: i64,
}

impl Micros {
    #[inline]
    pub(super) fn new(us: i64) -> Self {
        let shared = (1000..=i64::MAX / 1000).contains(&us);
        Micros {
            digits: shared.then(|| Digits::new(us.unsigned_abs())),
            us,
        }
    }

    #[inline]
    pub(super) fn write_ms(&self, out: &mut Vec<u8>) {
        match &self.digits {
            Some(d) => out.extend_from_slice(d.without_last(3)),
            None => write_i64(out, self.us.div_euclid(1000)),
        }
    }

    #[inline]
    pub(super) fn write_us(&self, out: &mut Vec<u8>) {
        match &self.digits {
            Some(d) => out.extend_from_slice(d.as_bytes()),
            None => write_i64(out, self.us),
        }
    }

    #[inline]
    pub(super) fn write_ns(&self, out: &mut Vec<u8>) {
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
    use crate::envelope::test_support::*;
    use crate::envelope::{DEFAULT_LEGACY_CONNECTOR_VERSION, legacy_source_has_xmin};
    use crate::schema::{ColumnSchema, ReplicaIdentity, TableSchema};
    use crate::wal2json::{Row, decode};

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
            transaction: None,
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
            transaction: None,
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
