//! Snapshots: the rows that existed before streaming began, as Debezium's `op: "r"` events, read in
//! primary-key order one chunk at a time, between windows of the slot.
//!
//! A consistent snapshot of a whole database cannot outlive one invocation (PostgreSQL exports a
//! snapshot only to a replication connection, and only until its next command), so each chunk is its
//! own short `REPEATABLE READ READ ONLY` transaction that records what it could see
//! (`pg_current_snapshot()`) and how far the WAL had come (`pg_current_wal_insert_lsn()`; on a hot
//! standby `pg_last_wal_replay_lsn()`, past every commit its snapshot sees). The relay
//! keeps streaming the slot and publishes the chunk's rows only once the stream has passed that LSN; a
//! streamed change the chunk's snapshot could not see (committed later) is newer than the row read,
//! so the row is dropped and the change stands (the DBLog watermark rule, decided by transaction
//! visibility instead of written watermarks, so a read-only user can snapshot). A streamed change the
//! snapshot could see is already in the row, and is published before it. Per key a consumer thus sees
//! the row as read followed by exactly the later changes.
//!
//! Progress (table, last key, rows) is checkpointed with the LSN in the same conditional write, after
//! Kafka acknowledged the chunk; a killed invocation re-reads the chunk it had not checkpointed, so a
//! crash between publishing a chunk and checkpointing it can publish that chunk's rows twice (each
//! copy followed by exactly the later changes, so folding by key still ends at the table's state).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use walbridge_event::wal2json::{Column, Value};
use walbridge_event::{Lsn, TableSchema};

/// Which snapshot it is; in the checkpoint as its lower-case name (`"initial"`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotKind {
    /// The snapshot a first run takes.
    Initial,
    /// A signal's `execute-snapshot`: rows marked `incremental`.
    Incremental,
    /// A signal's `execute-snapshot` with `"type": "blocking"`: rows marked as an initial
    /// snapshot's.
    Blocking,
}

/// A snapshot's progress, kept in the checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotProgress {
    /// Who asked for it, which decides how its rows are marked (`source.snapshot`).
    pub kind: SnapshotKind,
    /// `pause-snapshot` was signalled (and no `resume-snapshot` since): no chunk is read.
    #[serde(default)]
    pub paused: bool,
    /// When the snapshot started, ms since the epoch.
    pub started_at_ms: i64,
    /// The tables in the order they are read.
    pub tables: Vec<TableProgress>,
    /// Rows published so far; numbers the snapshot's records (their positions).
    pub rows: u64,
    /// Rows published by every earlier snapshot of this slot: positions stay increasing when a
    /// later snapshot publishes at the same stream position.
    #[serde(default)]
    pub rows_before: u64,
    /// When the last table was done, ms since the epoch; `None` while the snapshot runs.
    #[serde(default)]
    pub completed_at_ms: Option<i64>,
}

/// One table's part of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableProgress {
    /// The table's schema, as the catalog names it.
    pub schema: String,
    /// The table's name, as the catalog names it.
    pub table: String,
    /// `pg_class.reltuples` when the snapshot started (-1: never analysed).
    pub estimated_rows: i64,
    /// Rows published.
    pub rows: u64,
    /// The key of the last row published, as PostgreSQL's text of each key column.
    #[serde(default)]
    pub last_key: Option<Vec<String>>,
    /// Every row was published (or the table was given up on: see `failed`).
    pub done: bool,
    /// `additional-conditions` of the signal that asked for it: a SQL condition on the table's
    /// rows, written by whoever may write the signal table (as Debezium trusts it), and run inside
    /// the chunk's read-only transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// Why the table was left unfinished (its chunks cannot be read, or the configuration no longer
    /// asks for it); the snapshot went on with the other tables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

impl TableProgress {
    /// Gives up on this table for `reason` (no row values in it), keeping what was published.
    pub fn fail(&mut self, reason: String) {
        self.done = true;
        self.failed = Some(reason);
    }
}

impl SnapshotProgress {
    /// An initial snapshot of `tables`, in that order, none of them begun; `rows_before` is
    /// what earlier snapshots of the slot published, so this one's positions follow theirs.
    pub fn new(tables: Vec<CapturedTable>, started_at_ms: i64, rows_before: u64) -> Self {
        Self {
            kind: SnapshotKind::Initial,
            started_at_ms,
            tables: tables
                .into_iter()
                .map(|t| TableProgress {
                    schema: t.schema,
                    table: t.table,
                    estimated_rows: t.estimated_rows,
                    rows: 0,
                    last_key: None,
                    done: false,
                    filter: None,
                    failed: None,
                })
                .collect(),
            rows: 0,
            rows_before,
            completed_at_ms: None,
            paused: false,
        }
    }

    /// The `source.snapshot` marker family of its rows.
    pub fn incremental(&self) -> bool {
        self.kind == SnapshotKind::Incremental
    }

    /// The table being read, if any is left.
    pub fn current(&self) -> Option<usize> {
        self.tables.iter().position(|t| !t.done)
    }

    /// Whether every table is done.
    pub fn is_complete(&self) -> bool {
        self.completed_at_ms.is_some()
    }
}

/// A Debezium signal: a row of the signal table (`signal.data.collection`: `id`, `type`, `data`), or
/// an invocation's payload asking for the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// `execute-snapshot`: read these tables (anchored, case-insensitive regexes over
    /// `schema.table`), `blocking` or not, with per-table conditions.
    Execute {
        /// `data-collections`: which captured tables to read.
        collections: Vec<String>,
        /// `"type": "blocking"`: rows marked as an initial snapshot's rather than `incremental`.
        blocking: bool,
        /// `additional-conditions`: (`data-collection`, `filter`) pairs, a SQL condition limiting
        /// the rows read from the tables the collection matches.
        conditions: Vec<(String, String)>,
    },
    /// `stop-snapshot`: forget these tables (all when empty).
    Stop {
        /// `data-collections`: which tables of the running snapshot to drop.
        collections: Vec<String>,
    },
    /// `pause-snapshot`: read no chunk until `resume-snapshot`; streaming goes on.
    Pause,
    /// `resume-snapshot`: read chunks again.
    Resume,
}

/// A signal that cannot be carried out, with why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("signal {id:?} ignored: {reason}")]
pub struct SignalError {
    /// The signal row's `id` (`invocation` for a payload's signal).
    pub id: String,
    /// What is wrong with it, and so why it was not carried out.
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct SignalData {
    #[serde(default)]
    data_collections: Vec<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    additional_conditions: Vec<Condition>,
    #[serde(default)]
    surrogate_key: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Condition {
    data_collection: String,
    filter: String,
}

impl Signal {
    /// Reads a signal from its `type` and its `data` JSON (Debezium's signal table columns).
    ///
    /// # Errors
    /// A [`SignalError`] naming what is wrong; Debezium logs and skips such signals too.
    pub fn parse(id: &str, kind: &str, data: Option<&str>) -> Result<Self, SignalError> {
        let error = |reason: String| SignalError {
            id: id.to_owned(),
            reason,
        };
        let data: Option<SignalData> = match data.map(str::trim).filter(|d| !d.is_empty()) {
            None => None,
            Some(text) => Some(
                serde_json::from_str(text).map_err(|e| error(format!("data is not JSON: {e}")))?,
            ),
        };
        match kind {
            "execute-snapshot" => {
                let data = data.ok_or_else(|| error("execute-snapshot needs data".to_owned()))?;
                if data.surrogate_key.is_some() {
                    return Err(error(
                        "surrogate-key is not supported yet: chunks follow the primary key"
                            .to_owned(),
                    ));
                }
                let blocking = match data.kind.as_deref().map(str::to_ascii_lowercase) {
                    None => false,
                    Some(kind) if kind == "incremental" => false,
                    Some(kind) if kind == "blocking" => true,
                    Some(other) => {
                        return Err(error(format!(
                            "type {other:?}: expected incremental or blocking"
                        )));
                    }
                };
                Ok(Self::Execute {
                    collections: data.data_collections,
                    blocking,
                    conditions: data
                        .additional_conditions
                        .into_iter()
                        .map(|c| (c.data_collection, c.filter))
                        .collect(),
                })
            }
            "stop-snapshot" => Ok(Self::Stop {
                collections: data.map(|d| d.data_collections).unwrap_or_default(),
            }),
            "pause-snapshot" => Ok(Self::Pause),
            "resume-snapshot" => Ok(Self::Resume),
            other => Err(error(format!("type {other:?} is not a snapshot signal"))),
        }
    }
}

/// A table the slot captures, as the catalog lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedTable {
    /// The table's schema, as the catalog names it.
    pub schema: String,
    /// The table's name, as the catalog names it.
    pub table: String,
    /// `pg_class.reltuples` (-1: never analysed): for progress reports only.
    pub estimated_rows: i64,
}

/// What one chunk read returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkRead {
    /// Rows in key order, each column as PostgreSQL's output text (`None` for NULL), in the table
    /// schema's column order.
    pub rows: Vec<Vec<Option<String>>>,
    /// The transactions the read could see.
    pub visible: XidSnapshot,
    /// `pg_current_wal_insert_lsn()` (on a hot standby `pg_last_wal_replay_lsn()`) taken after the
    /// read's snapshot: every transaction the read saw committed before it.
    pub lsn: Lsn,
    /// The read transaction's start time, µs since the epoch (`source.ts_ms` of its rows).
    pub read_time_us: i64,
    /// Whether the table has rows after these.
    pub more: bool,
    /// When `more` is false: whether any later table of the snapshot has rows (so the chunk's last
    /// row is not the snapshot's last).
    pub later_rows: bool,
}

/// `pg_current_snapshot()`: `xmin:xmax:xip,…` with 64-bit transaction ids.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct XidSnapshot {
    /// Every transaction below it had ended when the snapshot was taken.
    pub xmin: u64,
    /// No transaction from it on had started: their work is invisible.
    pub xmax: u64,
    /// The transactions between `xmin` and `xmax` still running then: their work is invisible.
    pub xip: Vec<u64>,
}

impl XidSnapshot {
    /// Parses `pg_current_snapshot()`'s text; `None` when it is not of that form.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split(':');
        let xmin = parts.next()?.parse().ok()?;
        let xmax = parts.next()?.parse().ok()?;
        let xip = match parts.next()? {
            "" => Vec::new(),
            list => list
                .split(',')
                .map(|x| x.parse().ok())
                .collect::<Option<_>>()?,
        };
        parts.next().is_none().then_some(Self { xmin, xmax, xip })
    }

    /// Whether the snapshot sees the work of transaction `xid` (32 bits, as wal2json writes it).
    /// 32-bit ids compare circularly, as PostgreSQL compares them: `xid` is widened to the 64-bit id
    /// nearest to `xmax`.
    pub fn sees(&self, xid: u32) -> bool {
        let offset = i64::from(xid.wrapping_sub(self.xmax as u32) as i32);
        let Some(full) = self.xmax.checked_add_signed(offset) else {
            // Before the first id: as old as can be.
            return true;
        };
        full < self.xmin || (full < self.xmax && !self.xip.contains(&full))
    }
}

/// A row read by a chunk as the columns of an insert.
pub fn row_columns<'a>(schema: &'a TableSchema, row: &'a [Option<String>]) -> Vec<Column<'a>> {
    schema
        .columns()
        .iter()
        .zip(row)
        .map(|(column, text)| Column {
            name: Cow::Borrowed(column.name.as_str()),
            type_name: Cow::Borrowed(column.type_name.as_str()),
            type_oid: Some(column.type_oid),
            value: Value::from_output(column.type_oid, text.as_deref()),
            optional: Some(!column.not_null),
        })
        .collect()
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn visibility_follows_the_snapshot() {
        let s = XidSnapshot::parse("100:105:101,103").unwrap();
        assert!(s.sees(99));
        assert!(s.sees(100));
        assert!(!s.sees(101));
        assert!(s.sees(102));
        assert!(!s.sees(103));
        assert!(s.sees(104));
        assert!(!s.sees(105));
        assert!(!s.sees(4000));
        assert_eq!(XidSnapshot::parse("7:7:").unwrap().xip, Vec::<u64>::new());
        assert_eq!(XidSnapshot::parse("7:x:"), None);
    }

    #[test]
    fn visibility_widens_xids_with_the_epoch() {
        // Epoch 1: xmax = 2^32 + 10. A 32-bit xid 5 is 2^32 + 5 (seen); 0xFFFF_FFF0 is from epoch 0.
        let base = 1u64 << 32;
        let s = XidSnapshot {
            xmin: base + 8,
            xmax: base + 10,
            xip: vec![base + 8],
        };
        assert!(s.sees(5));
        assert!(!s.sees(8));
        assert!(s.sees(9));
        assert!(!s.sees(10));
        assert!(s.sees(0xFFFF_FFF0));
    }

    #[test]
    fn signals_read_as_debezium_writes_them() {
        assert_eq!(
            Signal::parse(
                "1",
                "execute-snapshot",
                Some(
                    r#"{"data-collections":["public.t1","s\\..*"],"type":"INCREMENTAL","additional-conditions":[{"data-collection":"public.t1","filter":"color='blue'"}]}"#
                )
            ),
            Ok(Signal::Execute {
                collections: vec!["public.t1".into(), "s\\..*".into()],
                blocking: false,
                conditions: vec![("public.t1".into(), "color='blue'".into())],
            })
        );
        assert!(matches!(
            Signal::parse(
                "2",
                "execute-snapshot",
                Some(r#"{"data-collections":["a.b"],"type":"blocking"}"#)
            ),
            Ok(Signal::Execute { blocking: true, .. })
        ));
        assert_eq!(
            Signal::parse("3", "stop-snapshot", Some(r#"{"type":"INCREMENTAL"}"#)),
            Ok(Signal::Stop {
                collections: vec![]
            })
        );
        assert_eq!(
            Signal::parse("4", "pause-snapshot", None),
            Ok(Signal::Pause)
        );
        assert!(Signal::parse("5", "execute-snapshot", Some("{nope")).is_err());
        assert!(Signal::parse("6", "log", None).is_err());
    }

    #[test]
    fn values_look_like_wal2json() {
        assert_eq!(Value::from_output(23, Some("42")), Value::Number("42"));
        assert_eq!(
            Value::from_output(701, Some("NaN")),
            Value::String(Cow::Borrowed("NaN"))
        );
        assert_eq!(Value::from_output(1700, Some("NaN")), Value::Null);
        assert_eq!(Value::from_output(16, Some("t")), Value::Bool(true));
        assert_eq!(Value::from_output(16, Some("f")), Value::Bool(false));
        assert_eq!(
            Value::from_output(17, Some("\\xdead")),
            Value::String(Cow::Borrowed("dead"))
        );
        assert_eq!(
            Value::from_output(25, Some("it's")),
            Value::String(Cow::Borrowed("it's"))
        );
        assert_eq!(Value::from_output(25, None), Value::Null);
    }
}
