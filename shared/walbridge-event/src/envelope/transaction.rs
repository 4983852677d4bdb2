//! Transaction metadata (`provide.transaction.metadata`), as Debezium 3.7.1's PostgreSQL connector
//! writes it: the `transaction` block of each streamed event ([`TransactionBlock`]), the BEGIN and
//! END records of the transaction topic ([`TransactionEncoder`]), and the per-transaction counts
//! behind them ([`TransactionCounts`]).
//!
//! Every `id` is `<xid>:<lsn>` with the LSN of the message being handled
//! (`PostgresTransactionMonitor`): BEGIN's is the first change the transaction sends, each event's
//! its own, END's the transaction's end LSN. BEGIN and END carry the commit time as `ts_ms`.

use std::ops::Range;

use super::source::Micros;
use crate::Lsn;
use crate::json::{Digits, write_str};

/// `io.debezium.connector.common.TransactionMetadataKey` v1.
const KEY_SCHEMA: &str = r#"{"type":"struct","fields":[{"type":"string","optional":false,"field":"id"}],"optional":false,"name":"io.debezium.connector.common.TransactionMetadataKey","version":1}"#;

/// `io.debezium.connector.common.TransactionMetadataValue` v1, its `data_collections` items
/// `event.collection` v1.
const VALUE_SCHEMA: &str = r#"{"type":"struct","fields":[{"type":"string","optional":false,"field":"status"},{"type":"string","optional":false,"field":"id"},{"type":"int64","optional":true,"field":"event_count"},{"type":"array","items":{"type":"struct","fields":[{"type":"string","optional":false,"field":"data_collection"},{"type":"int64","optional":false,"field":"event_count"}],"optional":true,"name":"event.collection","version":1},"optional":true,"field":"data_collections"},{"type":"int64","optional":false,"field":"ts_ms"}],"optional":false,"name":"io.debezium.connector.common.TransactionMetadataValue","version":1}"#;

/// The `transaction` block of one streamed event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionBlock {
    /// The transaction's id: the first half of the block's `id` (`<xid>:<the event's LSN>`).
    pub xid: u32,
    /// The event's place among the transaction's events, from 1.
    pub total_order: u64,
    /// …and among those of its table, from 1.
    pub data_collection_order: u64,
}

impl TransactionBlock {
    /// The block of the event written right after this one, of the same table (the create of a
    /// key change follows its delete; the tombstone between them is no event).
    #[must_use]
    pub fn following(self) -> Self {
        Self {
            total_order: self.total_order + 1,
            data_collection_order: self.data_collection_order + 1,
            ..self
        }
    }

    /// `{"id":"<xid>:<lsn>","total_order":…,"data_collection_order":…}`.
    pub(super) fn write(&self, out: &mut Vec<u8>, lsn: Lsn) {
        out.extend_from_slice(b"{\"id\":\"");
        write_id(out, self.xid, lsn);
        out.extend_from_slice(b"\",\"total_order\":");
        out.extend_from_slice(Digits::new(self.total_order).as_bytes());
        out.extend_from_slice(b",\"data_collection_order\":");
        out.extend_from_slice(Digits::new(self.data_collection_order).as_bytes());
        out.push(b'}');
    }
}

fn write_id(out: &mut Vec<u8>, xid: u32, lsn: Lsn) {
    out.extend_from_slice(Digits::new(u64::from(xid)).as_bytes());
    out.push(b':');
    out.extend_from_slice(Digits::new(lsn.0).as_bytes());
}

/// A transaction's events so far: how many, and how many per table (`schema.table`).
///
/// END lists the tables in the iteration order of the `java.util.HashMap` Debezium counts them in
/// (`TransactionContext`), which depends on the table's capacity. Debezium clears that map for each
/// transaction, and clearing keeps the capacity it grew to: [`TransactionCounts::begin`] does the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionCounts {
    total: u64,
    /// In first-event order, with each name's Java hash.
    tables: Vec<(String, i32, u64)>,
    /// The map's table size (a power of two, 16 at first).
    capacity: usize,
    /// A bucket grew past 8 entries at a capacity of 64 or more: Java then makes it a tree, whose
    /// iteration order is not reproduced.
    treeified: bool,
}

impl Default for TransactionCounts {
    fn default() -> Self {
        Self {
            total: 0,
            tables: Vec::new(),
            capacity: JAVA_INITIAL_CAPACITY,
            treeified: false,
        }
    }
}

const JAVA_INITIAL_CAPACITY: usize = 16;

impl TransactionCounts {
    /// A new transaction: no event yet (the capacity stays what it grew to).
    pub fn begin(&mut self) {
        self.total = 0;
        self.tables.clear();
        self.treeified = false;
    }

    /// Counts an event of `table` (`schema.table`) and returns its block.
    pub fn event(&mut self, xid: u32, table: &str) -> TransactionBlock {
        self.total += 1;
        let order = match self.tables.iter_mut().find(|(name, _, _)| name == table) {
            Some((_, _, count)) => {
                *count += 1;
                *count
            }
            None => {
                self.insert(table);
                1
            }
        };
        TransactionBlock {
            xid,
            total_order: self.total,
            data_collection_order: order,
        }
    }

    /// The events counted.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Whether END's `data_collections` order is Java's: not once a bucket became a tree.
    pub fn order_reproduced(&self) -> bool {
        !self.treeified
    }

    /// `HashMap.putVal` for a new key: appended to its bucket; a bucket that already held 8
    /// entries makes a table under 64 double (`treeifyBin`); then more entries than ¾ of the
    /// capacity double it (`resize`). A resize keeps the relative order within each bucket.
    fn insert(&mut self, table: &str) {
        let hash = java_hash(table);
        let bucket = bucket(hash, self.capacity);
        let in_bucket = (self.tables.iter())
            .filter(|(_, h, _)| self::bucket(*h, self.capacity) == bucket)
            .count();
        self.tables.push((table.to_owned(), hash, 1));
        if in_bucket >= 8 {
            if self.capacity < 64 {
                self.capacity *= 2;
            } else {
                self.treeified = true;
            }
        }
        if self.tables.len() > self.capacity / 4 * 3 {
            self.capacity *= 2;
        }
    }

    /// `(table, events)` in the order END lists them.
    pub fn data_collections(&self) -> Vec<(&str, u64)> {
        let mut ordered: Vec<(usize, usize)> = (self.tables.iter().enumerate())
            .map(|(i, (_, h, _))| (bucket(*h, self.capacity), i))
            .collect();
        ordered.sort_unstable();
        ordered
            .into_iter()
            .map(|(_, i)| (self.tables[i].0.as_str(), self.tables[i].2))
            .collect()
    }
}

/// `String.hashCode` (over UTF-16 units), spread as `HashMap.hash` does.
fn java_hash(s: &str) -> i32 {
    let h = s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    });
    h ^ ((h as u32) >> 16) as i32
}

fn bucket(hash: i32, capacity: usize) -> usize {
    (hash as u32 as usize) & (capacity - 1)
}

/// The BEGIN and END records of the transaction topic, `<topic.prefix>.<topic.transaction>`.
#[derive(Debug, Clone)]
pub struct TransactionEncoder {
    topic: String,
    key_schemas: bool,
    value_schemas: bool,
}

/// Where one BEGIN or END record's key and value are in the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionRecord {
    /// The key's bytes (`{"id": …}`, with its schema when key schemas are on).
    pub key: Range<usize>,
    /// The value's bytes (status, event counts, `ts_ms`).
    pub value: Range<usize>,
}

impl TransactionEncoder {
    /// The encoder of `<topic_prefix>.<topic_transaction>` (Debezium does not sanitise this name:
    /// the configuration checks both parts).
    pub fn new(
        topic_prefix: &str,
        topic_transaction: &str,
        key_schemas: bool,
        value_schemas: bool,
    ) -> Self {
        Self {
            topic: format!("{topic_prefix}.{topic_transaction}"),
            key_schemas,
            value_schemas,
        }
    }

    /// The transaction topic's name, `<topic.prefix>.<topic.transaction>`.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Appends the BEGIN record of transaction `xid`, whose first sent change is at `lsn`.
    pub fn begin(
        &self,
        xid: u32,
        lsn: Lsn,
        commit_time_us: i64,
        out: &mut Vec<u8>,
    ) -> TransactionRecord {
        self.write(out, b"BEGIN", xid, lsn, commit_time_us, None)
    }

    /// Appends the END record of transaction `xid` ending at `end_lsn`.
    pub fn end(
        &self,
        xid: u32,
        end_lsn: Lsn,
        commit_time_us: i64,
        counts: &TransactionCounts,
        out: &mut Vec<u8>,
    ) -> TransactionRecord {
        self.write(out, b"END", xid, end_lsn, commit_time_us, Some(counts))
    }

    fn write(
        &self,
        out: &mut Vec<u8>,
        status: &[u8],
        xid: u32,
        lsn: Lsn,
        commit_time_us: i64,
        counts: Option<&TransactionCounts>,
    ) -> TransactionRecord {
        let start = out.len();
        if self.key_schemas {
            out.extend_from_slice(b"{\"schema\":");
            out.extend_from_slice(KEY_SCHEMA.as_bytes());
            out.extend_from_slice(b",\"payload\":");
        }
        out.extend_from_slice(b"{\"id\":\"");
        write_id(out, xid, lsn);
        out.extend_from_slice(b"\"}");
        if self.key_schemas {
            out.push(b'}');
        }
        let key = start..out.len();

        let start = out.len();
        if self.value_schemas {
            out.extend_from_slice(b"{\"schema\":");
            out.extend_from_slice(VALUE_SCHEMA.as_bytes());
            out.extend_from_slice(b",\"payload\":");
        }
        out.extend_from_slice(b"{\"status\":\"");
        out.extend_from_slice(status);
        out.extend_from_slice(b"\",\"id\":\"");
        write_id(out, xid, lsn);
        out.extend_from_slice(b"\",\"event_count\":");
        match counts {
            None => out.extend_from_slice(b"null,\"data_collections\":null"),
            Some(counts) => {
                out.extend_from_slice(Digits::new(counts.total()).as_bytes());
                out.extend_from_slice(b",\"data_collections\":[");
                for (i, (table, events)) in counts.data_collections().into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(b"{\"data_collection\":");
                    write_str(out, table);
                    out.extend_from_slice(b",\"event_count\":");
                    out.extend_from_slice(Digits::new(events).as_bytes());
                    out.push(b'}');
                }
                out.push(b']');
            }
        }
        out.extend_from_slice(b",\"ts_ms\":");
        Micros::new(commit_time_us).write_ms(out);
        out.push(b'}');
        if self.value_schemas {
            out.push(b'}');
        }
        TransactionRecord {
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
    fn begin_and_end_are_debeziums_bytes_schemas_off_and_on() {
        let mut counts = TransactionCounts::default();
        counts.event(771, "public.customers");
        counts.event(771, "public.customers");
        let off = TransactionEncoder::new("dbserver1", "transaction", false, false);
        assert_eq!(off.topic(), "dbserver1.transaction");
        let mut buf = Vec::new();
        let begin = off.begin(771, Lsn(200), 1_700_000_000_123_456, &mut buf);
        assert_eq!(text(&buf, begin.key), r#"{"id":"771:200"}"#);
        assert_eq!(
            text(&buf, begin.value),
            r#"{"status":"BEGIN","id":"771:200","event_count":null,"data_collections":null,"ts_ms":1700000000123}"#
        );
        let end = off.end(771, Lsn(400), 1_700_000_000_123_456, &counts, &mut buf);
        assert_eq!(
            text(&buf, end.value),
            r#"{"status":"END","id":"771:400","event_count":2,"data_collections":[{"data_collection":"public.customers","event_count":2}],"ts_ms":1700000000123}"#
        );

        let on = TransactionEncoder::new("dbserver1", "tx", true, true);
        assert_eq!(on.topic(), "dbserver1.tx");
        let begin = on.begin(771, Lsn(200), 1_700_000_000_123_456, &mut buf);
        assert_eq!(
            text(&buf, begin.key),
            r#"{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"id"}],"optional":false,"name":"io.debezium.connector.common.TransactionMetadataKey","version":1},"payload":{"id":"771:200"}}"#
        );
        assert!(text(&buf, begin.value.clone()).starts_with(
            r#"{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"status"},"#
        ));
        assert!(text(&buf, begin.value).ends_with(
            r#""name":"io.debezium.connector.common.TransactionMetadataValue","version":1},"payload":{"status":"BEGIN","id":"771:200","event_count":null,"data_collections":null,"ts_ms":1700000000123}}"#
        ));
    }

    #[test]
    fn orders_count_per_transaction_and_per_table() {
        let mut counts = TransactionCounts::default();
        let first = counts.event(9, "s.a");
        assert_eq!((first.total_order, first.data_collection_order), (1, 1));
        let other = counts.event(9, "s.b");
        assert_eq!((other.total_order, other.data_collection_order), (2, 1));
        let again = counts.event(9, "s.a");
        assert_eq!((again.total_order, again.data_collection_order), (3, 2));
        assert_eq!(again.following().total_order, 4);
        assert_eq!(again.following().data_collection_order, 3);
        let mut buf = Vec::new();
        again.write(&mut buf, Lsn(12));
        assert_eq!(
            std::str::from_utf8(&buf).unwrap(),
            r#"{"id":"9:12","total_order":3,"data_collection_order":2}"#
        );
        counts.begin();
        assert_eq!(counts.total(), 0);
        assert!(counts.data_collections().is_empty());
    }

    /// The order Debezium's harness observed (reference §2): inserted zeta, orders, s2.a, s1.a,
    /// customers, alpha.
    #[test]
    fn data_collections_come_in_java_hash_map_order() {
        let mut counts = TransactionCounts::default();
        for table in [
            "public.zeta",
            "public.orders",
            "s2.a",
            "s1.a",
            "inventory.customers",
            "public.alpha",
        ] {
            counts.event(1, table);
        }
        let names: Vec<&str> = counts.data_collections().iter().map(|t| t.0).collect();
        assert_eq!(
            names,
            [
                "public.zeta",
                "s1.a",
                "public.orders",
                "inventory.customers",
                "s2.a",
                "public.alpha"
            ]
        );
        assert_eq!(java_hash(""), 0);
        // "Aa" and "BB" collide in Java
        assert_eq!(java_hash("Aa"), java_hash("BB"));
    }

    #[test]
    fn the_capacity_grows_past_twelve_tables_and_stays_grown() {
        let mut counts = TransactionCounts::default();
        for i in 0..13 {
            counts.event(1, &format!("s.t{i}"));
        }
        assert_eq!(counts.capacity, 32);
        counts.begin();
        assert_eq!(counts.capacity, 32);
        assert!(counts.order_reproduced());
    }
}
