//! The pipeline's rules with in-memory fakes of the slot, the sink and the checkpoint store.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use walbridge_event::envelope::EncoderConfig;
use walbridge_event::{ColumnSchema, Lsn, ReplicaIdentity, TableSchema};

use super::*;
use crate::error::{CheckpointError, PublishError, SlotError};
use crate::position::Position;
use crate::sink::OutRecord;
use crate::snapshot::{CapturedTable, ChunkRead};
use crate::source::{Server, SlotPosition, WindowBound};
use walbridge_config::SnapshotMode;

/// A row of the fake slot: its LSN (where the fake decides windows) and wal2json's text.
#[derive(Debug, Clone)]
struct SlotRow {
    lsn: Lsn,
    data: String,
}

/// A transaction of `n` inserts into `inventory.items`, committed with end LSN `end`.
fn txn(xid: u32, end: u64, ids: std::ops::Range<u32>) -> Vec<SlotRow> {
    let commit = end - 8;
    let mut rows = vec![SlotRow {
        lsn: Lsn(commit),
        data: format!(
            r#"{{"action":"B","xid":{xid},"timestamp":"2024-01-15 10:30:00.123456+00","lsn":"{}","nextlsn":"{}"}}"#,
            Lsn(commit),
            Lsn(end)
        ),
    }];
    for (i, id) in ids.enumerate() {
        let lsn = Lsn(commit - 100 + i as u64);
        rows.push(SlotRow {
            lsn,
            data: format!(
                r#"{{"action":"I","xid":{xid},"timestamp":"2024-01-15 10:30:00.123456+00","lsn":"{lsn}","schema":"inventory","table":"items","columns":[{{"name":"id","type":"integer","typeoid":23,"value":{id}}}],"pk":[{{"name":"id","type":"integer","typeoid":23}}]}}"#
            ),
        });
    }
    rows.push(SlotRow {
        lsn: Lsn(end),
        data: format!(
            r#"{{"action":"C","xid":{xid},"timestamp":"2024-01-15 10:30:00.123456+00","lsn":"{}","nextlsn":"{}"}}"#,
            Lsn(commit),
            Lsn(end)
        ),
    });
    rows
}

/// A slot over a fixed list of transactions (each ends at its last row's LSN).
#[derive(Debug, Default)]
struct FakeSlot {
    transactions: Vec<Vec<SlotRow>>,
    confirmed: Lsn,
    current: Lsn,
    fetch_rows: usize,
    window: VecDeque<SlotRow>,
    advances: Vec<Lsn>,
    windows: Vec<Lsn>,
    /// The one table a snapshot finds (`inventory.items`), its ids, and what a chunk read sees.
    table_ids: Option<Vec<u32>>,
    /// Transactions below this id are visible to chunk reads.
    visible_below: u64,
    chunk_lsn: Lsn,
    chunk_reads: usize,
    timeline: u32,
    /// A failover slot synchronized from a primary (and kept when its standby was promoted).
    synced: bool,
    /// How long each fetch takes.
    fetch_delay: Duration,
    /// What the relay said each fetch's rows came to: (rows, bytes of events).
    fetched: Vec<(usize, usize)>,
}

impl FakeSlot {
    fn new(transactions: Vec<Vec<SlotRow>>, current: u64) -> Self {
        Self {
            transactions,
            current: Lsn(current),
            fetch_rows: 3,
            timeline: 1,
            ..Self::default()
        }
    }
}

impl ChangeSource for FakeSlot {
    async fn position(&mut self) -> Result<SlotPosition, SlotError> {
        Ok(SlotPosition {
            confirmed: self.confirmed,
            current: self.current,
            synced: self.synced,
        })
    }

    async fn server(&mut self) -> Result<Server, SlotError> {
        Ok(Server {
            id: "fake-server".into(),
            timeline: self.timeline,
        })
    }

    async fn open_window(&mut self, max_changes: u32) -> Result<Option<WindowBound>, SlotError> {
        // As PostgreSQL: whole transactions committed after the slot, until the row limit is reached.
        self.window.clear();
        if self.current <= self.confirmed {
            return Ok(None);
        }
        for txn in &self.transactions {
            let end = txn.last().expect("a transaction has rows").lsn;
            if end <= self.confirmed || end > self.current {
                continue;
            }
            if max_changes > 0 && self.window.len() >= max_changes as usize {
                break;
            }
            self.window.extend(txn.iter().cloned());
        }
        self.windows.push(self.current);
        Ok(Some(WindowBound {
            upto: self.current,
            reaches_end: true,
        }))
    }

    async fn fetch(&mut self, rows: &mut RowBatch) -> Result<bool, SlotError> {
        tokio::time::sleep(self.fetch_delay).await;
        let n = self.fetch_rows.min(self.window.len());
        for row in self.window.drain(..n) {
            rows.push(&row.data);
        }
        Ok(n > 0)
    }

    fn fetched_events(&mut self, rows: usize, event_bytes: usize) {
        self.fetched.push((rows, event_bytes));
    }

    async fn table_schema(&mut self, schema: &str, table: &str) -> Result<TableSchema, SlotError> {
        Ok(TableSchema::new(
            schema,
            table,
            vec![ColumnSchema::new("id", "integer", 23, true)],
            &["id"],
            ReplicaIdentity::Default,
        )
        .expect("valid schema"))
    }

    async fn close_window(&mut self) -> Result<(), SlotError> {
        self.window.clear();
        Ok(())
    }

    async fn check_filter(&mut self, _: &str, _: &str, filter: &str) -> Result<(), SlotError> {
        match filter.contains(';') {
            true => Err(SlotError::Malformed {
                slot: "fake".into(),
                what: "two statements".into(),
            }),
            false => Ok(()),
        }
    }

    async fn advance(&mut self, to: Lsn) -> Result<(), SlotError> {
        assert!(to >= self.confirmed, "the slot never moves back");
        self.confirmed = to;
        self.advances.push(to);
        Ok(())
    }

    async fn captured_tables(&mut self) -> Result<Vec<CapturedTable>, SlotError> {
        Ok(self
            .table_ids
            .iter()
            .map(|ids| CapturedTable {
                schema: "inventory".into(),
                table: "items".into(),
                estimated_rows: ids.len() as i64,
            })
            .collect())
    }

    async fn read_chunk(
        &mut self,
        table: &TableSchema,
        after: Option<&[String]>,
        _filter: Option<&str>,
        limit: u32,
        later: &[(String, String)],
    ) -> Result<ChunkRead, SlotError> {
        assert_eq!(table.table(), "items");
        assert!(later.is_empty());
        self.chunk_reads += 1;
        let after: u32 = after.map_or(0, |k| k[0].parse().unwrap());
        let mut rows: Vec<Vec<Option<String>>> = self
            .table_ids
            .iter()
            .flatten()
            .filter(|&&id| id > after)
            .map(|id| vec![Some(id.to_string())])
            .collect();
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        Ok(ChunkRead {
            rows,
            visible: crate::snapshot::XidSnapshot {
                xmin: self.visible_below,
                xmax: self.visible_below,
                xip: Vec::new(),
            },
            lsn: self.chunk_lsn,
            read_time_us: 1_700_000_000_000_000,
            more,
            later_rows: false,
        })
    }
}

#[derive(Debug, Default)]
struct FakeSink {
    published: Vec<OutRecord>,
    /// Fail the publish call with this index (0-based).
    fail_on_call: Option<usize>,
    calls: usize,
    /// `skip_landed` per publish call.
    skipping: Vec<bool>,
    /// How many records had been published when each publish call returned.
    published_after: Vec<usize>,
    skip: bool,
}

impl EventSink for FakeSink {
    async fn publish(&mut self, records: &mut Vec<OutRecord>) -> Result<(), PublishError> {
        let call = self.calls;
        self.calls += 1;
        if self.fail_on_call == Some(call) {
            return Err(PublishError::Timeout { seconds: 1 });
        }
        self.skipping.push(self.skip);
        self.published.append(records);
        self.published_after.push(self.published.len());
        Ok(())
    }

    fn begin(&mut self) {}

    fn skip_landed(&mut self, on: bool) {
        self.skip = on;
    }
}

#[derive(Debug, Default)]
struct FakeStore {
    checkpoint: Option<Checkpoint>,
    saves: usize,
    fail: bool,
}

impl CheckpointStore for FakeStore {
    async fn load(&mut self) -> Result<Option<Checkpoint>, CheckpointError> {
        Ok(self.checkpoint.clone())
    }

    async fn save(&mut self, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
        if self.fail {
            return Err(CheckpointError::Conflict {
                location: "fake".into(),
            });
        }
        self.saves += 1;
        self.checkpoint = Some(checkpoint.clone());
        Ok(())
    }
}

fn settings(window: u32) -> RelaySettings {
    RelaySettings {
        slot: "s".into(),
        database: "db".into(),
        plugin: Plugin::Wal2json,
        encoder: EncoderConfig::new("p", "db").with_schemas(false, false),
        window_max_changes: window,
        time_margin: Duration::from_millis(10),
        mismatch: walbridge_config::MismatchStrategy::Fail,
        snapshot: SnapshotSettings::none(),
        filters: std::sync::Arc::default(),
        heartbeat: None,
    }
}

fn far() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

fn ids(records: &[OutRecord]) -> Vec<String> {
    records
        .iter()
        .map(|r| String::from_utf8(r.key.clone().unwrap()).unwrap())
        .collect()
}

fn checkpoint_lsn(store: &FakeStore) -> Lsn {
    store.checkpoint.as_ref().unwrap().lsn
}

#[tokio::test]
async fn every_change_is_published_once_in_order_across_small_windows() {
    let slot = FakeSlot::new(
        vec![txn(1, 1000, 0..2), txn(2, 2000, 2..5), txn(3, 3000, 5..6)],
        5000,
    );
    let mut relay = Relay::new(slot, FakeSink::default(), FakeStore::default(), settings(4));
    let report = relay.run(far()).await.unwrap();
    let (slot, sink, store) = relay.into_parts();

    assert_eq!(
        ids(&sink.published),
        (0..6)
            .map(|i| format!(r#"{{"id":{i}}}"#))
            .collect::<Vec<_>>()
    );
    assert_eq!(report.changes, 6);
    assert_eq!(report.events, 6);
    assert_eq!(report.transactions, 3);
    assert!(report.caught_up);
    // window 1: txn 1 (4 rows = the limit, so incomplete) → end of txn 1; window 2: txns 2
    // (5 rows, incomplete) → its end; window 3: txn 3 (3 rows < 4: complete) → the upper bound.
    assert_eq!(slot.advances, vec![Lsn(1000), Lsn(2000), Lsn(5000)]);
    assert_eq!(checkpoint_lsn(&store), Lsn(5000));
    assert_eq!(report.windows, 3);
    assert_eq!(report.end_lsn, Lsn(5000).to_string());
    assert_eq!(report.lag_bytes, 0);
}

#[tokio::test]
async fn the_source_learns_what_each_fetchs_rows_came_to() {
    let slot = FakeSlot::new(vec![txn(1, 1000, 0..2), txn(2, 2000, 2..5)], 5000);
    let mut relay = Relay::new(slot, FakeSink::default(), FakeStore::default(), settings(0));
    relay.run(far()).await.unwrap();
    let (slot, sink, _) = relay.into_parts();

    // 9 rows (B, I, I, C and B, I, I, I, C) in fetches of 3; the last fetch returns none
    assert_eq!(
        slot.fetched.iter().map(|f| f.0).collect::<Vec<_>>(),
        [3, 3, 3]
    );
    let bytes: usize = sink.published.iter().map(OutRecord::own_bytes).sum();
    assert!(bytes > 0);
    assert_eq!(slot.fetched.iter().map(|f| f.1).sum::<usize>(), bytes);
    // the first fetch's rows made the first two events
    assert_eq!(
        slot.fetched[0].1,
        sink.published[..2]
            .iter()
            .map(OutRecord::own_bytes)
            .sum::<usize>()
    );
}

#[tokio::test]
async fn an_idle_slot_still_moves_to_the_window_bound() {
    let slot = FakeSlot::new(vec![], 7777);
    let mut relay = Relay::new(
        slot,
        FakeSink::default(),
        FakeStore::default(),
        settings(100),
    );
    let report = relay.run(far()).await.unwrap();
    let (slot, sink, store) = relay.into_parts();
    assert!(sink.published.is_empty());
    assert_eq!(slot.advances, vec![Lsn(7777)]);
    assert_eq!(checkpoint_lsn(&store), Lsn(7777));
    assert!(report.caught_up);
}

#[tokio::test]
async fn slot_is_not_advanced_when_publish_fails() {
    let slot = FakeSlot::new(vec![txn(1, 1000, 0..2)], 5000);
    let sink = FakeSink {
        fail_on_call: Some(0),
        ..FakeSink::default()
    };
    let mut relay = Relay::new(slot, sink, FakeStore::default(), settings(100));
    let err = relay.run(far()).await.unwrap_err();
    assert!(matches!(err, RelayError::Publish(_)), "{err}");
    let (slot, _, store) = relay.into_parts();
    assert!(slot.advances.is_empty());
    assert_eq!(slot.confirmed, Lsn(0));
    assert!(store.checkpoint.is_none());
}

#[tokio::test]
async fn slot_is_not_advanced_when_the_checkpoint_cannot_be_written() {
    let slot = FakeSlot::new(vec![txn(1, 1000, 0..2)], 5000);
    let store = FakeStore {
        fail: true,
        ..FakeStore::default()
    };
    let mut relay = Relay::new(slot, FakeSink::default(), store, settings(100));
    let err = relay.run(far()).await.unwrap_err();
    assert!(matches!(err, RelayError::Checkpoint(_)), "{err}");
    let (slot, _, _) = relay.into_parts();
    assert!(slot.advances.is_empty());
}

#[tokio::test]
async fn a_checkpoint_ahead_of_the_slot_moves_the_slot_without_republishing() {
    // Died after writing the checkpoint at 1000, before advancing the slot.
    let slot = FakeSlot::new(vec![txn(1, 1000, 0..2), txn(2, 2000, 2..3)], 2000);
    let store = FakeStore {
        checkpoint: Some(Checkpoint {
            version: 1,
            slot: "s".into(),
            database: "db".into(),
            lsn: Lsn(1000),
            previous_lsn: Some(Lsn(0)),
            server: Some("fake-server".into()),
            timeline: None,
            last_commit_lsn: Some(Lsn(1000)),
            last_commit_time_us: None,
            written_at_ms: 0,
            invocation: None,
            snapshot: None,
            epoch: None,
            last_heartbeat_ms: None,
        }),
        ..FakeStore::default()
    };
    let mut relay = Relay::new(slot, FakeSink::default(), store, settings(100));
    let report = relay.run(far()).await.unwrap();
    let (slot, sink, _) = relay.into_parts();
    assert_eq!(ids(&sink.published), vec![r#"{"id":2}"#]);
    assert_eq!(slot.advances, vec![Lsn(1000), Lsn(2000)]);
    assert_eq!(report.start_lsn, Lsn(1000).to_string());
}

#[tokio::test]
async fn no_window_starts_when_the_deadline_is_within_the_margin() {
    let slot = FakeSlot::new(vec![txn(1, 1000, 0..2)], 5000);
    let mut relay = Relay::new(
        slot,
        FakeSink::default(),
        FakeStore::default(),
        settings(100),
    );
    let report = relay.run(Instant::now()).await.unwrap();
    assert_eq!(report.windows, 0);
    assert!(!report.caught_up);
    let (slot, sink, _) = relay.into_parts();
    assert!(sink.published.is_empty());
    assert!(slot.advances.is_empty());
}

#[tokio::test]
async fn events_carry_the_transaction_context_and_the_topic() {
    let slot = FakeSlot::new(vec![txn(41, 1000, 7..8), txn(42, 2000, 8..9)], 2000);
    let mut relay = Relay::new(
        slot,
        FakeSink::default(),
        FakeStore::default(),
        settings(100),
    );
    relay.run(far()).await.unwrap();
    let (_, sink, store) = relay.into_parts();
    let second: serde_json::Value =
        serde_json::from_slice(sink.published[1].value.as_ref().unwrap()).unwrap();
    assert_eq!(&*sink.published[1].topic, "p.inventory.items");
    assert_eq!(second["source"]["txId"], 42);
    assert_eq!(second["source"]["ts_us"], 1_705_314_600_123_456_i64);
    // the previous transaction's end LSN
    assert_eq!(
        second["source"]["sequence"],
        format!(r#"["{}","{}"]"#, 1000, sink.published[1].lsn.0)
    );
    assert_eq!(store.checkpoint.unwrap().last_commit_lsn, Some(Lsn(2000)));
}

#[tokio::test]
async fn a_malformed_row_stops_the_invocation_and_names_its_lsn() {
    let mut rows = txn(1, 1000, 0..1);
    rows[1].data = "{not json".into();
    let slot = FakeSlot::new(vec![rows], 5000);
    let mut relay = Relay::new(
        slot,
        FakeSink::default(),
        FakeStore::default(),
        settings(100),
    );
    let err = relay.run(far()).await.unwrap_err();
    // the last position read before it: the transaction's commit LSN from its B row
    assert!(
        err.to_string().contains(&Lsn(1000 - 8).to_string()),
        "{err}"
    );
    let (slot, sink, _) = relay.into_parts();
    assert!(sink.published.is_empty());
    assert!(slot.advances.is_empty());
}

fn checkpoint_at(lsn: u64, previous: u64, server: &str) -> Checkpoint {
    Checkpoint {
        version: 1,
        slot: "s".into(),
        database: "db".into(),
        lsn: Lsn(lsn),
        previous_lsn: Some(Lsn(previous)),
        server: Some(server.into()),
        timeline: None,
        last_commit_lsn: None,
        last_commit_time_us: None,
        written_at_ms: 0,
        invocation: None,
        snapshot: None,
        epoch: None,
        last_heartbeat_ms: None,
    }
}

#[tokio::test]
async fn a_checkpoint_the_slot_cannot_explain_stops_the_invocation() {
    // The slot sits at 0 but the checkpoint says it was at 500 before moving to 1000: the slot was
    // recreated, or moved by someone else.
    let store = FakeStore {
        checkpoint: Some(checkpoint_at(1000, 500, "fake-server")),
        ..FakeStore::default()
    };
    let slot = FakeSlot::new(vec![txn(1, 800, 0..1)], 2000);
    let mut relay = Relay::new(slot, FakeSink::default(), store, settings(100));
    let err = relay.run(far()).await.unwrap_err();
    assert!(
        matches!(
            err,
            RelayError::Checkpoint(CheckpointError::Mismatch { .. })
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("offset.mismatch.strategy"),
        "{err}"
    );
    let (slot, sink, _) = relay.into_parts();
    assert!(slot.advances.is_empty() && sink.published.is_empty());
}

#[tokio::test]
async fn a_slot_a_server_crash_sent_back_is_moved_to_the_checkpoint_on_the_same_timeline_only() {
    // PostgreSQL persisted the slot at 0; our checkpoint says everything before 1000 is in Kafka
    // (and the slot stood at 500 when it was written).
    let run = |timeline| async move {
        let store = FakeStore {
            checkpoint: Some(Checkpoint {
                timeline: Some(timeline),
                ..checkpoint_at(1000, 500, "fake-server")
            }),
            ..FakeStore::default()
        };
        let slot = FakeSlot::new(vec![txn(1, 800, 0..1), txn(2, 1500, 1..2)], 2000);
        let mut relay = Relay::new(slot, FakeSink::default(), store, settings(100));
        let result = relay.run(far()).await;
        (result, relay.into_parts())
    };

    let (result, (slot, sink, _)) = run(1).await;
    result.unwrap();
    assert_eq!(slot.advances[0], Lsn(1000), "moved to the checkpoint first");
    assert_eq!(
        ids(&sink.published),
        vec![r#"{"id":1}"#],
        "nothing republished"
    );

    // another timeline: the LSNs before the checkpoint may stand for other changes; refuse
    let (result, (slot, sink, _)) = run(2).await;
    let err = result.unwrap_err();
    assert!(
        matches!(
            err,
            RelayError::Checkpoint(CheckpointError::Mismatch { .. })
        ),
        "{err}"
    );
    assert!(slot.advances.is_empty() && sink.published.is_empty());
}

#[tokio::test]
async fn a_promoted_standbys_failover_slot_behind_the_checkpoint_is_read_again_from_its_position() {
    // The old primary's slot reached 1000 (the checkpoint, on timeline 1); its copy on the standby,
    // synchronized a moment earlier, stands at 0 when the standby is promoted (timeline 2).
    let run = |synced| async move {
        let store = FakeStore {
            checkpoint: Some(Checkpoint {
                timeline: Some(1),
                ..checkpoint_at(1000, 500, "fake-server")
            }),
            ..FakeStore::default()
        };
        let slot = FakeSlot {
            timeline: 2,
            synced,
            ..FakeSlot::new(vec![txn(1, 800, 0..1), txn(2, 1500, 1..2)], 2000)
        };
        let mut relay = Relay::new(slot, FakeSink::default(), store, settings(100));
        let result = relay.run(far()).await;
        (result, relay.into_parts())
    };

    let (result, (slot, sink, store)) = run(true).await;
    result.unwrap();
    assert_eq!(
        ids(&sink.published),
        vec![r#"{"id":0}"#, r#"{"id":1}"#],
        "what lies between the slot and the checkpoint again (duplicates), then the rest: nothing lost"
    );
    assert_ne!(slot.advances.first(), Some(&Lsn(1000)), "not skipped over");
    let written = store.checkpoint.expect("a checkpoint");
    assert_eq!(written.timeline, Some(2));
    assert!(written.lsn >= Lsn(1500), "{}", written.lsn);

    // a slot that was not synchronized (a restored backup's): refused, as before
    let (result, (slot, sink, _)) = run(false).await;
    let err = result.unwrap_err();
    assert!(
        matches!(
            err,
            RelayError::Checkpoint(CheckpointError::Mismatch { .. })
        ),
        "{err}"
    );
    assert!(slot.advances.is_empty() && sink.published.is_empty());
}

#[tokio::test]
async fn a_checkpoint_of_another_server_is_refused() {
    let store = FakeStore {
        checkpoint: Some(checkpoint_at(0, 0, "another-server")),
        ..FakeStore::default()
    };
    let slot = FakeSlot::new(vec![], 2000);
    let mut relay = Relay::new(slot, FakeSink::default(), store, settings(100));
    let err = relay.run(far()).await.unwrap_err();
    assert!(err.to_string().contains("another-server"), "{err}");
}

#[tokio::test]
async fn trust_slot_starts_from_the_slot_and_trust_offset_moves_the_slot() {
    let trust = |strategy| RelaySettings {
        mismatch: strategy,
        ..settings(100)
    };
    let store = || FakeStore {
        checkpoint: Some(checkpoint_at(1000, 500, "fake-server")),
        ..FakeStore::default()
    };
    let transactions = || vec![txn(1, 800, 0..1), txn(2, 1500, 1..2)];

    let mut relay = Relay::new(
        FakeSlot::new(transactions(), 2000),
        FakeSink::default(),
        store(),
        trust(walbridge_config::MismatchStrategy::TrustSlot),
    );
    relay.run(far()).await.unwrap();
    let (_, sink, _) = relay.into_parts();
    assert_eq!(ids(&sink.published), vec![r#"{"id":0}"#, r#"{"id":1}"#]);

    let mut relay = Relay::new(
        FakeSlot::new(transactions(), 2000),
        FakeSink::default(),
        store(),
        trust(walbridge_config::MismatchStrategy::TrustOffset),
    );
    relay.run(far()).await.unwrap();
    let (slot, sink, _) = relay.into_parts();
    assert_eq!(ids(&sink.published), vec![r#"{"id":1}"#]);
    assert_eq!(slot.advances[0], Lsn(1000));
}

#[tokio::test]
async fn records_carry_increasing_positions_and_only_the_first_window_skips_landed_ones() {
    let slot = FakeSlot::new(
        vec![txn(1, 1000, 0..3), txn(2, 2000, 3..4), txn(3, 3000, 4..6)],
        5000,
    );
    let mut relay = Relay::new(slot, FakeSink::default(), FakeStore::default(), settings(5));
    relay.run(far()).await.unwrap();
    let (_, sink, _) = relay.into_parts();
    let positions: Vec<Position> = sink.published.iter().map(|r| r.position).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    let stream = StreamId::of(
        &Server {
            id: "fake-server".into(),
            timeline: 1,
        },
        "db",
        "s",
        0,
        Plugin::Wal2json,
    );
    assert_eq!(
        positions[3],
        Position {
            commit_at: Lsn(2000),
            lsn: Lsn(2000 - 108),
            change: 0,
            record: 0,
            read: 0,
            stream,
        }
    );
    assert_eq!(positions[2].lsn, Lsn(1000 - 108 + 2));
    assert_eq!(sink.skipping.first(), Some(&true));
    assert_eq!(sink.skipping.last(), Some(&false));
    let header = positions[3].to_header();
    assert_eq!(
        header,
        format!(
            "00000000000007D0-0000000000000764-00000000-00@{:016X}",
            stream.0
        )
        .into_bytes()
    );
    assert_eq!(Position::from_header(&header), Some(positions[3]));
    assert_eq!(Position::from_header(b"junk"), None);
    // a header of a release that carried no stream identity names no position
    assert_eq!(Position::from_header(b"00000000000007D0-00000000-00"), None);
}

#[tokio::test]
async fn a_record_is_numbered_by_its_own_lsn_whatever_the_filters_leave_out() {
    // The same transaction read twice, once with every change and once with every other change
    // left out: the changes kept have the same positions both times.
    let mut rows = txn(1, 1000, 0..4);
    // two rows of one multi-row WAL record share an LSN and are told apart by their ordinal
    let shared = rows[2].data.replace(
        &format!("{}", Lsn(1000 - 108 + 1)),
        &format!("{}", Lsn(1000 - 108)),
    );
    rows[2].data = shared;
    let run = |rows: Vec<SlotRow>| async move {
        let slot = FakeSlot::new(vec![rows], 5000);
        let mut relay = Relay::new(
            slot,
            FakeSink::default(),
            FakeStore::default(),
            settings(100),
        );
        relay.run(far()).await.unwrap();
        let (_, sink, _) = relay.into_parts();
        sink.published
            .iter()
            .map(|r| (ids(std::slice::from_ref(r)).remove(0), r.position))
            .collect::<Vec<_>>()
    };
    let all = run(rows.clone()).await;
    assert_eq!(all[0].1.lsn, all[1].1.lsn);
    assert_eq!((all[0].1.change, all[1].1.change), (0, 1));
    // a filter leaving out the third change (another table's, say) moves none of the others
    let mut fewer = rows;
    fewer.remove(3);
    let kept = run(fewer).await;
    assert_eq!(kept.len(), 3);
    for (id, position) in &kept {
        assert!(
            all.contains(&(id.clone(), *position)),
            "{id} moved to {position:?}"
        );
    }
}

#[test]
fn streams_of_other_servers_timelines_databases_slots_or_epochs_differ() {
    let server = |id: &str, timeline| Server {
        id: id.into(),
        timeline,
    };
    let of = |server: Server, database: &str, slot: &str, epoch| {
        StreamId::of(&server, database, slot, epoch, Plugin::Wal2json)
    };
    let base = of(server("7", 1), "db", "s", 0);
    assert_eq!(base, of(server("7", 1), "db", "s", 0));
    // The headers already in topics carry it: it never changes.
    assert_eq!(base, StreamId(0x37EC_245E_F195_BF54));
    for other in [
        of(server("8", 1), "db", "s", 0),
        of(server("7", 2), "db", "s", 0),
        of(server("7", 1), "db2", "s", 0),
        of(server("7", 1), "db", "s2", 0),
        of(server("7", 1), "db", "s", 1),
        // pgoutput's transactions were placed by their end LSN before.
        StreamId::of(&server("7", 1), "db", "s", 0, Plugin::Pgoutput),
    ] {
        assert_ne!(base, other);
    }
    let mine = Position {
        commit_at: Lsn(10),
        stream: base,
        ..Position::default()
    };
    let theirs = Position {
        commit_at: Lsn(u64::MAX),
        stream: StreamId(base.0 ^ 1),
        ..Position::default()
    };
    assert!(!mine.is_at_or_before(&theirs));
    assert!(mine.is_at_or_before(&Position {
        stream: base,
        ..theirs
    }));
}

#[tokio::test]
async fn a_budget_shorter_than_the_margin_still_relays() {
    let slot = FakeSlot::new(vec![txn(1, 1000, 0..2)], 5000);
    let settings = RelaySettings {
        time_margin: Duration::from_secs(10),
        ..settings(100)
    };
    let mut relay = Relay::new(slot, FakeSink::default(), FakeStore::default(), settings);
    let report = relay
        .run(Instant::now() + Duration::from_secs(3))
        .await
        .unwrap();
    assert_eq!(report.changes, 2);
    assert!(report.caught_up);
}

fn snapshot_settings(chunk_rows: u32) -> RelaySettings {
    RelaySettings {
        snapshot: SnapshotSettings {
            mode: SnapshotMode::Initial,
            chunk_rows,
            ..SnapshotSettings::none()
        },
        ..settings(100)
    }
}

/// `(op, id, source.snapshot)` of a published record.
fn op_id_marker(record: &OutRecord) -> (String, u64, String) {
    let value: serde_json::Value =
        serde_json::from_slice(record.value.as_deref().unwrap()).unwrap();
    (
        value["op"].as_str().unwrap().to_owned(),
        value["after"]["id"].as_u64().unwrap(),
        value["source"]["snapshot"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_first_run_snapshots_in_chunks_with_debeziums_markers() {
    let mut slot = FakeSlot::new(vec![txn(1, 1000, 10..11)], 5000);
    slot.table_ids = Some(vec![1, 2, 3, 4, 5]);
    slot.visible_below = 100;
    slot.chunk_lsn = Lsn(900);
    let mut relay = Relay::new(
        slot,
        FakeSink::default(),
        FakeStore::default(),
        snapshot_settings(2),
    );
    let report = relay.run(far()).await.unwrap();
    let (slot, sink, store) = relay.into_parts();
    assert_eq!(report.snapshot_rows, 5);
    assert_eq!(slot.chunk_reads, 3);
    let ops: Vec<_> = sink.published.iter().map(op_id_marker).collect();
    let expected = [
        ("c", 10, "false"),
        ("r", 1, "first"),
        ("r", 2, "true"),
        ("r", 3, "true"),
        ("r", 4, "true"),
        ("r", 5, "last"),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(op, id, m)| (op.to_string(), *id, m.to_string()))
        .collect();
    assert_eq!(ops, expected);
    let positions: Vec<Position> = sink.published.iter().map(|r| r.position).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert_eq!(
        positions[1],
        Position::snapshot_read(Lsn(5000), 1, positions[0].stream)
    );
    assert_eq!(
        Position::from_header(&positions[1].to_header()),
        Some(positions[1])
    );
    let progress = store.checkpoint.unwrap().snapshot.unwrap();
    assert!(progress.is_complete());
    assert_eq!(progress.rows, 5);
    assert_eq!(progress.tables[0].last_key, Some(vec!["5".to_owned()]));
    assert!(progress.tables[0].done);
}

#[tokio::test]
async fn a_change_the_read_could_not_see_replaces_the_row_read() {
    // xid 7 (not visible to the read, which sees xids below 5) writes id 3 after the read; xid 2
    // (visible) wrote id 2 before it: the row read for 2 stays, the one for 3 is dropped.
    let mut slot = FakeSlot::new(vec![txn(2, 1000, 2..3), txn(7, 2000, 3..4)], 5000);
    slot.table_ids = Some(vec![1, 2, 3]);
    slot.visible_below = 5;
    slot.chunk_lsn = Lsn(1500);
    let mut relay = Relay::new(
        slot,
        FakeSink::default(),
        FakeStore::default(),
        snapshot_settings(10),
    );
    relay.run(far()).await.unwrap();
    let (_, sink, _) = relay.into_parts();
    let ops: Vec<_> = sink
        .published
        .iter()
        .map(|r| {
            let (op, id, _) = op_id_marker(r);
            format!("{op}{id}")
        })
        .collect();
    assert_eq!(ops, ["c2", "c3", "r1", "r2"]);
}

#[tokio::test]
async fn a_chunk_waits_until_the_stream_passed_its_read() {
    // The read happened at 6000, beyond what the slot has flushed (5000): nothing is published
    // from the chunk in this invocation, and no progress is recorded.
    let mut slot = FakeSlot::new(vec![txn(1, 1000, 10..11)], 5000);
    slot.table_ids = Some(vec![1]);
    slot.visible_below = 100;
    slot.chunk_lsn = Lsn(6000);
    let settings = RelaySettings {
        time_margin: Duration::from_millis(0),
        ..snapshot_settings(10)
    };
    let mut relay = Relay::new(slot, FakeSink::default(), FakeStore::default(), settings);
    let report = relay
        .run(Instant::now() + Duration::from_millis(50))
        .await
        .unwrap();
    let (_, sink, store) = relay.into_parts();
    assert_eq!(report.snapshot_rows, 0);
    assert!(sink.published.iter().all(|r| op_id_marker(r).0 == "c"));
    let progress = store.checkpoint.unwrap().snapshot.unwrap();
    assert_eq!(progress.rows, 0);
    assert!(!progress.is_complete());
}

#[tokio::test]
async fn no_data_and_an_existing_checkpoint_skip_the_snapshot() {
    let mut slot = FakeSlot::new(vec![txn(1, 1000, 10..11)], 5000);
    slot.table_ids = Some(vec![1, 2]);
    let store = FakeStore::default();
    let mut relay = Relay::new(slot, FakeSink::default(), store, settings(100));
    relay.run(far()).await.unwrap();
    let (mut slot, sink, store) = relay.into_parts();
    assert_eq!(slot.chunk_reads, 0);
    assert_eq!(sink.published.len(), 1);
    // `initial` with a checkpoint already there (streamed before): no snapshot either.
    slot.transactions.push(txn(2, 2000, 11..12));
    let mut relay = Relay::new(slot, FakeSink::default(), store, snapshot_settings(10));
    relay.run(far()).await.unwrap();
    let (slot, _, store) = relay.into_parts();
    assert_eq!(slot.chunk_reads, 0);
    assert!(store.checkpoint.unwrap().snapshot.is_none());
}

#[tokio::test]
async fn out_of_time_inside_a_window_it_checkpoints_the_whole_transactions_and_stops() {
    // Three fetches of three rows hold the first transaction whole; the deadline comes before the
    // window's end.
    let mut slot = FakeSlot::new(
        vec![
            txn(1, 1000, 0..1),
            txn(2, 2000, 1..30),
            txn(3, 3000, 30..31),
        ],
        5000,
    );
    // wall-clock time, scaled so that a loaded machine's stalls do not change the outcome
    slot.fetch_delay = Duration::from_millis(100);
    let settings = RelaySettings {
        time_margin: Duration::from_millis(10),
        ..settings(1000)
    };
    let mut relay = Relay::new(slot, FakeSink::default(), FakeStore::default(), settings);
    let report = relay
        .run(Instant::now() + Duration::from_millis(800))
        .await
        .unwrap();
    let (slot, sink, store) = relay.into_parts();
    assert!(report.window_unfinished);
    assert!(!report.caught_up);
    // the first transaction is checkpointed and the slot moved past it, not further
    assert_eq!(slot.advances, vec![Lsn(1000)]);
    assert_eq!(store.checkpoint.unwrap().lsn, Lsn(1000));
    // part of the second one was published: the next invocation skips it
    assert!(sink.published.len() > 1 && sink.published.len() < 31);
}

fn metadata_settings(window: u32) -> RelaySettings {
    let mut settings = settings(window);
    settings.encoder.transaction_topic = Some("transaction".into());
    settings
}

/// `(topic, key, what is compared of the value)`: a BEGIN or END whole, an event's `transaction`
/// block (the rest holds the processing time).
fn metadata_view(records: &[OutRecord]) -> Vec<(String, String, String)> {
    records
        .iter()
        .map(|r| {
            let key = String::from_utf8(r.key.clone().unwrap_or_default()).unwrap();
            let value = r
                .value
                .as_deref()
                .map(|v| String::from_utf8(v.to_vec()).unwrap());
            let shown = match value {
                None => "tombstone".to_owned(),
                Some(v) if &*r.topic == "p.transaction" => v,
                Some(v) => {
                    let start = v.find(r#""transaction":"#).unwrap();
                    let end = v[start..].find(r#","op":"#).unwrap();
                    v[start..start + end].to_owned()
                }
            };
            (r.topic.to_string(), key, shown)
        })
        .collect()
}

/// Rows of transaction `xid` (ending at `end`): the changes `rows` (wal2json `I`/`U` rows without
/// their transaction fields, which are added), at LSNs `end - 100`, `end - 99`, …
fn txn_of(xid: u32, end: u64, rows: &[&str]) -> Vec<SlotRow> {
    let mut all = txn(xid, end, 0..0);
    let commit = all.pop().unwrap();
    for (i, row) in rows.iter().enumerate() {
        let lsn = Lsn(end - 100 + i as u64);
        all.push(SlotRow {
            lsn,
            data: format!(
                r#"{{{row},"xid":{xid},"timestamp":"2024-01-15 10:30:00.123456+00","lsn":"{lsn}"}}"#
            ),
        });
    }
    all.push(commit);
    all
}

fn insert(table: &str, id: u32) -> String {
    let (schema, table) = table.split_once('.').unwrap();
    format!(
        r#""action":"I","schema":"{schema}","table":"{table}","columns":[{{"name":"id","type":"integer","typeoid":23,"value":{id}}}],"pk":[{{"name":"id","type":"integer","typeoid":23}}]"#
    )
}

#[tokio::test]
async fn transaction_metadata_numbers_events_across_windows_and_leaves_out_unsent_transactions() {
    let key_change = r#""action":"U","schema":"inventory","table":"items","columns":[{"name":"id","type":"integer","typeoid":23,"value":100}],"identity":[{"name":"id","type":"integer","typeoid":23,"value":1}]"#;
    let slot = FakeSlot::new(
        vec![
            txn_of(
                1,
                1000,
                &[
                    &insert("inventory.items", 1),
                    &insert("inventory.other", 1),
                    key_change,
                ],
            ),
            // only a table no connector captures: pgoutput sends nothing of it
            txn_of(2, 2000, &[&insert("pg_temp_3.scratch", 1)]),
            txn(3, 3000, 2..4),
        ],
        5000,
    );
    // windows of one transaction each
    let mut relay = Relay::new(
        slot,
        FakeSink::default(),
        FakeStore::default(),
        metadata_settings(1),
    );
    let report = relay.run(far()).await.unwrap();
    assert!(report.windows >= 3, "{report:?}");
    let (_, sink, _) = relay.into_parts();
    let positions: Vec<Position> = sink.published.iter().map(|r| r.position).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    let tx = |s: &str| ("p.transaction".to_owned(), String::new(), s.to_owned());
    let mut expected = vec![
        tx(
            r#"{"status":"BEGIN","id":"1:900","event_count":null,"data_collections":null,"ts_ms":1705314600123}"#,
        ),
        (
            "p.inventory.items".into(),
            r#"{"id":1}"#.into(),
            r#""transaction":{"id":"1:900","total_order":1,"data_collection_order":1}"#.into(),
        ),
        (
            "p.inventory.other".into(),
            r#"{"id":1}"#.into(),
            r#""transaction":{"id":"1:901","total_order":2,"data_collection_order":1}"#.into(),
        ),
        // the key change: delete, tombstone, create
        (
            "p.inventory.items".into(),
            r#"{"id":1}"#.into(),
            r#""transaction":{"id":"1:902","total_order":3,"data_collection_order":2}"#.into(),
        ),
        (
            "p.inventory.items".into(),
            r#"{"id":1}"#.into(),
            "tombstone".into(),
        ),
        (
            "p.inventory.items".into(),
            r#"{"id":100}"#.into(),
            r#""transaction":{"id":"1:902","total_order":4,"data_collection_order":3}"#.into(),
        ),
        tx(
            r#"{"status":"END","id":"1:1000","event_count":4,"data_collections":[{"data_collection":"inventory.other","event_count":1},{"data_collection":"inventory.items","event_count":3}],"ts_ms":1705314600123}"#,
        ),
        tx(
            r#"{"status":"BEGIN","id":"3:2892","event_count":null,"data_collections":null,"ts_ms":1705314600123}"#,
        ),
        (
            "p.inventory.items".into(),
            r#"{"id":2}"#.into(),
            r#""transaction":{"id":"3:2892","total_order":1,"data_collection_order":1}"#.into(),
        ),
        (
            "p.inventory.items".into(),
            r#"{"id":3}"#.into(),
            r#""transaction":{"id":"3:2893","total_order":2,"data_collection_order":2}"#.into(),
        ),
        tx(
            r#"{"status":"END","id":"3:3000","event_count":2,"data_collections":[{"data_collection":"inventory.items","event_count":2}],"ts_ms":1705314600123}"#,
        ),
    ];
    // (`data_collections` in Java's HashMap order: `inventory.other` hashes to bucket 6, `items` to
    // 13); the transaction topic's keys are the ids
    for (topic, key, value) in &mut expected {
        if topic == "p.transaction" {
            let id = value.split(r#""id":""#).nth(1).unwrap();
            *key = format!(r#"{{"id":"{}"}}"#, &id[..id.find('"').unwrap()]);
        }
    }
    assert_eq!(metadata_view(&sink.published), expected);
}

#[tokio::test]
async fn a_transaction_cut_by_the_deadline_still_has_one_begin_one_end_and_its_orders() {
    let transactions = || {
        vec![
            txn(1, 1000, 0..1),
            txn(2, 2000, 1..30),
            txn(3, 3000, 30..31),
        ]
    };
    // uncut, for reference
    let mut relay = Relay::new(
        FakeSlot::new(transactions(), 5000),
        FakeSink::default(),
        FakeStore::default(),
        metadata_settings(1000),
    );
    relay.run(far()).await.unwrap();
    let whole = metadata_view(&relay.into_parts().1.published);
    assert_eq!(whole.len(), 3 * 2 + 31);

    // the first invocation runs out of time inside the second transaction…
    let mut slot = FakeSlot::new(transactions(), 5000);
    // wall-clock time, scaled so that a loaded machine's stalls do not change the outcome
    slot.fetch_delay = Duration::from_millis(100);
    let mut relay = Relay::new(
        slot,
        FakeSink::default(),
        FakeStore::default(),
        metadata_settings(1000),
    );
    let report = relay
        .run(Instant::now() + Duration::from_millis(800))
        .await
        .unwrap();
    assert!(report.window_unfinished);
    let (mut slot, first, store) = relay.into_parts();
    assert!(first.published.len() > 4 && first.published.len() < whole.len());
    // …the next one reads it again from its start, and Kafka's skip of what landed (per topic
    // here: one partition each) leaves what the first did not write
    slot.fetch_delay = Duration::ZERO;
    let mut relay = Relay::new(slot, FakeSink::default(), store, metadata_settings(1000));
    assert!(relay.run(far()).await.unwrap().caught_up);
    let (_, second, _) = relay.into_parts();
    let landed = |topic: &str| {
        (first.published.iter())
            .filter(|r| &*r.topic == topic)
            .map(|r| r.position)
            .max()
    };
    let mut all = first.published.clone();
    all.extend(
        (second.published.iter())
            .filter(|r| landed(&r.topic).is_none_or(|tail| r.position > tail))
            .cloned(),
    );
    assert_eq!(metadata_view(&all), whole);
}

/// wal2json's `M` row of a message: non-transactional ones (no `xid`) stand alone in the slot.
fn message(lsn: u64, xid: Option<u32>, prefix: &str, content: &str) -> SlotRow {
    let (xid, timestamp, transactional) = match xid {
        Some(xid) => (xid.to_string(), r#""2024-01-15 10:30:00.123456+00""#, true),
        None => ("null".to_owned(), "null", false),
    };
    SlotRow {
        lsn: Lsn(lsn),
        data: format!(
            r#"{{"action":"M","xid":{xid},"timestamp":{timestamp},"lsn":"{}","transactional":{transactional},"prefix":"{prefix}","content":"{content}"}}"#,
            Lsn(lsn)
        ),
    }
}

fn value_json(record: &OutRecord) -> serde_json::Value {
    serde_json::from_slice(record.value.as_ref().unwrap()).unwrap()
}

#[tokio::test]
async fn messages_are_published_as_debeziums_and_a_standalone_one_counts_as_a_commit() {
    // a standalone message before any transaction, a transaction with a message inside, another
    // standalone message, and a transaction after it
    let mut with_message = txn(1, 1000, 0..1);
    with_message.insert(1, message(1000 - 108, Some(1), "outbox", "{\\\"a\\\":1}"));
    let slot = FakeSlot::new(
        vec![
            vec![message(500, None, "loose", "first")],
            with_message,
            vec![message(1500, None, "loose", "bar")],
            txn(2, 2000, 1..2),
        ],
        5000,
    );
    let mut relay = Relay::new(
        slot,
        FakeSink::default(),
        FakeStore::default(),
        settings(100),
    );
    let report = relay.run(far()).await.unwrap();
    let (_, sink, store) = relay.into_parts();
    let published = &sink.published;
    let topics: Vec<&str> = published.iter().map(|r| &*r.topic).collect();
    assert_eq!(
        topics,
        [
            "p.message",
            "p.message",
            "p.inventory.items",
            "p.message",
            "p.inventory.items"
        ]
    );
    assert_eq!(report.changes, 5);
    assert_eq!(report.transactions, 2);
    // Debezium's message events carry no context headers; the changes do
    let context: Vec<bool> = published.iter().map(|r| r.context_headers).collect();
    assert_eq!(context, [false, false, true, false, true]);
    assert_eq!(
        published[0].key.as_deref(),
        Some(&br#"{"prefix":"loose"}"#[..])
    );

    let first = value_json(&published[0]);
    assert_eq!(first["op"], "m");
    assert_eq!(first["source"]["sequence"], r#"["500","500"]"#);
    assert_eq!(first["source"]["txId"], serde_json::Value::Null);
    assert_eq!(
        (
            first["source"]["schema"].as_str(),
            first["source"]["table"].as_str()
        ),
        (Some(""), Some(""))
    );
    assert_eq!(first["message"]["content"], "Zmlyc3Q=");
    assert!(first.get("ts_us").is_none());

    // inside its transaction: its txId and commit time; the standalone message is the last commit
    let inside = value_json(&published[1]);
    assert_eq!(inside["source"]["txId"], 1);
    assert_eq!(inside["source"]["ts_us"], 1_705_314_600_123_456_i64);
    assert_eq!(inside["source"]["sequence"], r#"["500","892"]"#);
    assert_eq!(inside["message"]["content"], "eyJhIjoxfQ==");
    assert_eq!(
        value_json(&published[2])["source"]["sequence"],
        r#"["500","892"]"#
    );

    // a standalone message keeps the last transaction's commit time
    let second = value_json(&published[3]);
    assert_eq!(second["source"]["sequence"], r#"["1500","1500"]"#);
    assert_eq!(second["source"]["ts_us"], 1_705_314_600_123_456_i64);
    assert_eq!(
        value_json(&published[4])["source"]["sequence"],
        r#"["1500","1892"]"#
    );

    let positions: Vec<Position> = published.iter().map(|r| r.position).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert_eq!(
        (positions[0].commit_at, positions[0].lsn),
        (Lsn(500), Lsn(500))
    );
    // the transaction's message and insert share an LSN, told apart by their ordinal
    assert_eq!((positions[1].lsn, positions[1].change), (Lsn(892), 0));
    assert_eq!((positions[2].lsn, positions[2].change), (Lsn(892), 1));
    assert_eq!(store.checkpoint.unwrap().last_commit_lsn, Some(Lsn(2000)));
}

#[tokio::test]
async fn a_window_ending_on_a_standalone_message_has_the_next_window_skip_what_landed() {
    // window 1: the transaction (3 rows) and the message reach the limit of 4, so the slot moves to
    // the transaction's end only and the message is read again by window 2
    let slot = FakeSlot::new(
        vec![
            txn(1, 1000, 0..1),
            vec![message(1500, None, "loose", "bar")],
            txn(2, 2000, 1..2),
        ],
        5000,
    );
    let mut relay = Relay::new(slot, FakeSink::default(), FakeStore::default(), settings(4));
    relay.run(far()).await.unwrap();
    let (slot, sink, _) = relay.into_parts();
    assert_eq!(slot.advances, vec![Lsn(1000), Lsn(2000), Lsn(5000)]);
    let messages: Vec<usize> = (sink.published.iter().enumerate())
        .filter(|(_, r)| &*r.topic == "p.message")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(messages.len(), 2, "published by both windows");
    let [once, again] = [messages[0], messages[1]];
    assert_eq!(
        sink.published[once].position,
        sink.published[again].position
    );
    // the publish call that sent it again skipped what landed (window 2); window 3's did not
    let call = |record: usize| {
        sink.published_after
            .iter()
            .position(|&n| n > record)
            .unwrap()
    };
    assert!(call(again) > call(once));
    assert!(sink.skipping[call(again)], "{:?}", sink.skipping);
    assert_eq!(sink.skipping.last(), Some(&false));
}

#[tokio::test]
async fn a_transactional_message_with_transaction_metadata_on_is_refused_not_miscounted() {
    let mut with_message = txn(1, 1000, 0..1);
    with_message.insert(1, message(1000 - 108, Some(1), "outbox", "x"));
    let slot = FakeSlot::new(vec![with_message], 5000);
    let mut relay = Relay::new(
        slot,
        FakeSink::default(),
        FakeStore::default(),
        metadata_settings(100),
    );
    let err = relay.run(far()).await.unwrap_err();
    let text = crate::error_chain(&err);
    assert!(
        text.contains("provide.transaction.metadata")
            && text.contains("message.prefix.exclude.list"),
        "{text}"
    );
    let (slot, _, _) = relay.into_parts();
    assert!(slot.advances.is_empty(), "the slot did not move");
}

fn heartbeat_settings(window: u32, interval: Duration) -> RelaySettings {
    RelaySettings {
        heartbeat: Some(HeartbeatSettings {
            interval,
            topic: "__debezium-heartbeat.p".into(),
        }),
        ..settings(window)
    }
}

/// `heartbeat.action.query` that fails `failures` times, counting its runs.
#[derive(Debug)]
struct FakeAction {
    runs: Arc<std::sync::atomic::AtomicUsize>,
    failures: usize,
}

impl HeartbeatAction for FakeAction {
    fn run(
        &mut self,
    ) -> futures::future::BoxFuture<'_, Result<(), crate::error::HeartbeatQueryError>> {
        let run = self.runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let failed = run < self.failures;
        Box::pin(async move {
            match failed {
                true => Err(crate::error::HeartbeatQueryError::Failed {
                    sqlstate: "42P01".into(),
                }),
                false => Ok(()),
            }
        })
    }
}

#[tokio::test]
async fn a_due_heartbeat_follows_the_window_on_partition_0_and_its_time_is_checkpointed() {
    let slot = FakeSlot::new(vec![txn(1, 1000, 0..2), txn(2, 2000, 2..3)], 5000);
    let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut relay = Relay::new(
        slot,
        FakeSink::default(),
        FakeStore::default(),
        heartbeat_settings(100, Duration::from_secs(3600)),
    );
    relay.heartbeat_action(Box::new(FakeAction {
        runs: Arc::clone(&runs),
        failures: 1,
    }));
    let before = now_us() / 1000;
    let report = relay.run(far()).await.unwrap();
    let (slot, sink, store) = relay.into_parts();

    // the three events, then the heartbeat: none was ever made, so one is due at once
    assert_eq!(sink.published.len(), 4);
    let beat = &sink.published[3];
    assert_eq!(&*beat.topic, "__debezium-heartbeat.p");
    assert_eq!(beat.partition, Some(0));
    assert_eq!(beat.key.as_deref(), Some(&br#"{"serverName":"p"}"#[..]));
    let value: serde_json::Value = serde_json::from_slice(beat.value.as_ref().unwrap()).unwrap();
    let ts = value["ts_ms"].as_i64().unwrap();
    assert!(ts >= before, "{value}");
    assert!(beat.headers.is_empty() && !beat.context_headers);
    assert!(sink.published[..3].iter().all(|r| r.partition.is_none()));
    // after the window's records, and no further than they let the slot move
    assert!(sink.published[2].position < beat.position);
    assert_eq!(beat.position.commit_at, Lsn(5000));
    assert_eq!(slot.advances, vec![Lsn(5000)]);
    let checkpoint = store.checkpoint.as_ref().unwrap();
    assert_eq!(checkpoint.last_heartbeat_ms, Some(ts));
    assert_eq!(checkpoint_lsn(&store), Lsn(5000));
    // the failed query is counted, and relaying went on
    assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(report.heartbeats, 1);
    assert_eq!(report.heartbeat_query_errors, 1);
    assert_eq!(report.events, 3);

    // the next invocation, within the interval: no heartbeat, and the time stays recorded
    let slot = FakeSlot::new(vec![txn(3, 6000, 3..4)], 7000);
    let store = FakeStore {
        checkpoint: store.checkpoint.clone(),
        ..FakeStore::default()
    };
    let mut slot = slot;
    slot.confirmed = Lsn(5000);
    let mut relay = Relay::new(
        slot,
        FakeSink::default(),
        store,
        heartbeat_settings(100, Duration::from_secs(3600)),
    );
    let report = relay.run(far()).await.unwrap();
    let (_, sink, store) = relay.into_parts();
    assert_eq!(report.heartbeats, 0);
    assert!(sink.published.iter().all(|r| r.partition.is_none()));
    assert_eq!(store.checkpoint.unwrap().last_heartbeat_ms, Some(ts));
}

#[tokio::test]
async fn an_idle_slot_beats_once_the_interval_has_passed_and_a_second_heartbeat_is_ordered_after() {
    let old = Checkpoint {
        last_heartbeat_ms: Some(now_us() / 1000 - 60_000),
        ..checkpoint_at(7777, 7000, "fake-server")
    };
    let mut slot = FakeSlot::new(vec![], 7777);
    slot.confirmed = Lsn(7777);
    let store = FakeStore {
        checkpoint: Some(old.clone()),
        ..FakeStore::default()
    };
    let mut relay = Relay::new(
        slot,
        FakeSink::default(),
        store,
        heartbeat_settings(100, Duration::from_secs(10)),
    );
    let report = relay.run(far()).await.unwrap();
    let (_, sink, store) = relay.into_parts();
    assert_eq!(report.heartbeats, 1);
    assert_eq!(sink.published.len(), 1);
    let first = sink.published[0].position;
    // the slot did not move, yet the checkpoint was written to record the heartbeat
    assert_eq!(store.saves, 1);
    let written = store.checkpoint.unwrap();
    assert_eq!(written.lsn, old.lsn);
    assert!(written.last_heartbeat_ms > old.last_heartbeat_ms);
    // a heartbeat at the same stream position, later, comes after it: never taken as landed
    let later = Position {
        read: first.read + 1,
        ..first
    };
    assert!(first.is_at_or_before(&later) && !later.is_at_or_before(&first));
}

#[test]
fn transactions_are_placed_by_their_commit_record_whichever_end_of_it_the_plugin_names() {
    use walbridge_event::wal2json::Txn;
    fn begin(lsn: u64, next_lsn: Option<u64>) -> Txn {
        Txn {
            xid: Some(1),
            commit_time_us: None,
            lsn: Some(Lsn(lsn)),
            next_lsn: next_lsn.map(Lsn),
            origin: None,
        }
    }
    // Two transactions whose commit records span [0x100, 0x140) and [0x140, 0x180): wal2json's
    // Begin names where each ends, pgoutput's only where each starts.
    let (first, second) = ((0x100, 0x140), (0x140, 0x180));
    type Place = fn((u64, u64)) -> Lsn;
    let wal2json: Place =
        |(start, end)| window::commit_at(&begin(start, Some(end)), Plugin::Wal2json).unwrap();
    let pgoutput: Place =
        |(start, _)| window::commit_at(&begin(start, None), Plugin::Pgoutput).unwrap();
    // The plugin says which field places a transaction: a wal2json Begin without its end is an
    // error, not placed by its start.
    assert!(window::commit_at(&begin(0x100, None), Plugin::Wal2json).is_err());
    assert_eq!(wal2json(first), Lsn(0x140));
    assert_eq!(pgoutput(first), Lsn(0x101));
    for place in [wal2json, pgoutput] {
        for other in [wal2json, pgoutput] {
            assert!(place(first) < other(second));
        }
    }
    // A snapshot row published where the first ends comes after it and before the second.
    for place in [wal2json, pgoutput] {
        let (before, after) = (place(first), place(second));
        let at = Position::snapshot_read(Lsn(0x140), 1, StreamId::default());
        let streamed = |commit_at| Position {
            commit_at,
            ..Position::default()
        };
        assert!(streamed(before) < at && at < streamed(after));
    }
}
