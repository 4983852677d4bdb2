//! The data path of one invocation, top to bottom: peek a window → decode → envelope → publish →
//! checkpoint → advance, repeated until the slot is caught up or the time budget runs out.
//!
//! The three side effects sit behind traits ([`ChangeSource`], [`EventSink`], [`CheckpointStore`]) so
//! these rules are unit-tested with in-memory fakes and integration-tested with PostgreSQL, Kafka and S3.
//!
//! # Why no change can be lost
//! The slot is the source of truth: PostgreSQL keeps every change after `confirmed_flush_lsn`, and
//! peeking does not consume anything. Consider the process dying at each point:
//! 1. while reading or publishing a window: nothing was advanced; the next invocation peeks the same
//!    window again and re-publishes it (duplicates are possible, loss is not: at-least-once, as Debezium).
//! 2. after every record of the window is acknowledged (`acks=all`), before the checkpoint is written:
//!    as 1.
//! 3. after the checkpoint, before `pg_replication_slot_advance`: the checkpoint is ahead of the slot;
//!    the next invocation advances the slot to the checkpoint before reading, so the acknowledged window
//!    is neither lost nor published twice.
//! 4. after the advance: the window is done; the slot and the checkpoint agree.
//!
//! The slot only ever moves to the end LSN of a transaction whose every event was acknowledged, or to the
//! window's upper bound when the window held every transaction committed before it.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tracing::{Instrument, info, info_span, warn};
use walbridge_config::{Filters, MismatchStrategy, SnapshotMode};
use walbridge_event::envelope::{EncoderConfig, SourceInfo, TableEncoder};
use walbridge_event::wal2json::{self, Action, Row};
use walbridge_event::{Lsn, TableSchema};

use crate::error::{CheckpointError, PublishError, RelayError, SlotError};
use crate::snapshot::{
    CapturedTable, ChunkRead, Signal, SnapshotKind, SnapshotProgress, collection_pattern,
};

/// Rows of `pg_logical_slot_peek_changes` (wal2json's `data` texts), stored back to back in one
/// buffer reused from fetch to fetch, so reading a row costs no allocation.
#[derive(Debug, Default, Clone)]
pub struct RowBatch {
    text: String,
    ends: Vec<usize>,
}

impl RowBatch {
    pub fn push(&mut self, data: &str) {
        self.text.push_str(data);
        self.ends.push(self.text.len());
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(|(start, end)| &self.text[start..end])
    }
}

/// Where the slot stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotPosition {
    /// `confirmed_flush_lsn`: the next window starts after it.
    pub confirmed: Lsn,
    /// `pg_current_wal_lsn()`: how far the server has written.
    pub current: Lsn,
}

/// The change source: a logical replication slot read in bounded windows.
///
/// Contract: a window holds whole transactions in commit order; rows are returned in the order
/// PostgreSQL decoded them; nothing is consumed until [`ChangeSource::advance`].
// Native async fn: the implementations are concrete types of this workspace, whose futures are
// Send, and the function checks that where it runs the relay.
#[allow(async_fn_in_trait)]
pub trait ChangeSource {
    /// The slot's position now.
    async fn position(&mut self) -> Result<SlotPosition, SlotError>;

    /// The server's identity and WAL timeline, recorded in checkpoints so a checkpoint of another
    /// server, or of another WAL history of this one, is recognised.
    async fn server(&mut self) -> Result<Server, SlotError>;

    /// Starts a window of at most `max_changes` rows (PostgreSQL only stops at a transaction
    /// boundary, so one large transaction can exceed it) up to the current WAL position, which it
    /// returns: a window that yields fewer rows than `max_changes` is complete up to that LSN.
    async fn open_window(&mut self, max_changes: u32) -> Result<Lsn, SlotError>;

    /// Appends the next rows of the open window to `rows` (a bounded number); returns `false`, having
    /// closed the window, when it has no more rows.
    async fn fetch(&mut self, rows: &mut RowBatch) -> Result<bool, SlotError>;

    /// The catalog's description of a table (columns, key order, replica identity).
    async fn table_schema(&mut self, schema: &str, table: &str) -> Result<TableSchema, SlotError>;

    /// Checks, without running anything, that `filter` is one boolean condition PostgreSQL accepts
    /// on the rows of `schema.table` (a signal's `additional-conditions`).
    async fn check_filter(
        &mut self,
        schema: &str,
        table: &str,
        filter: &str,
    ) -> Result<(), SlotError>;

    /// Closes the open window before it was read to its end.
    async fn close_window(&mut self) -> Result<(), SlotError>;

    /// Moves the slot's `confirmed_flush_lsn` to `to`, releasing the WAL before it.
    async fn advance(&mut self, to: Lsn) -> Result<(), SlotError>;

    /// The tables the slot's windows can carry (ordinary permanent tables), in name order; the
    /// table filters choose among them.
    async fn captured_tables(&mut self) -> Result<Vec<CapturedTable>, SlotError>;

    /// Reads up to `limit` rows of `table` after the key `after`, in key order, in one short
    /// read-only transaction, with what that transaction could see; `later` are the tables the
    /// snapshot reads after this one (is any of them non-empty?). No window may be open.
    async fn read_chunk(
        &mut self,
        table: &TableSchema,
        after: Option<&[String]>,
        filter: Option<&str>,
        limit: u32,
        later: &[(String, String)],
    ) -> Result<ChunkRead, SlotError>;
}

/// Where a record stands in the slot's stream: its transaction's end LSN, the change's own LSN, the
/// change's ordinal among the changes sharing that LSN (a multi-row insert or COPY writes one WAL
/// record for many rows), the record's index among the change's records, and the stream it belongs
/// to. Strictly increasing in publish order within a stream, and a property of the WAL itself: the
/// same every time the same change is read again, whatever the table filters, skipped operations,
/// keys or partition counts are then, so it identifies a record across crashes and configuration
/// changes.
///
/// A row a snapshot read is placed after everything streamed up to the stream position `txn_end` it
/// was published at (`lsn`, `change` and `record` at their maximum) and numbered by `read`, its
/// ordinal in the snapshot (from 1); streamed records have `read` 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub txn_end: Lsn,
    pub lsn: Lsn,
    pub change: u32,
    pub record: u8,
    pub read: u64,
    /// The [`StreamId`] of the server, timeline, database, slot and epoch it was read from.
    pub stream: StreamId,
}

/// Which stream of changes a position belongs to: a hash of the server's `system_identifier`, its
/// WAL timeline, the database, the slot and the checkpoint's epoch (minted anew whenever a
/// disagreement between checkpoint and slot is settled). Positions of different streams say nothing
/// about each other: a topic shared by two databases, a server that replaced another, or a timeline
/// forked by a failover or a point-in-time recovery holds records whose LSNs belong to another WAL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId(pub u64);

impl StreamId {
    /// The identity of the stream read from `slot` in `database` on `server` under `epoch`.
    pub fn of(server: &Server, database: &str, slot: &str, epoch: u64) -> Self {
        // FNV-1a: stable across builds and platforms, which the std hasher does not promise.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let timeline = server.timeline.to_string();
        let epoch = epoch.to_string();
        for part in [server.id.as_str(), &timeline, database, slot, &epoch] {
            for byte in part.bytes().chain(std::iter::once(0)) {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        Self(hash)
    }
}

impl Position {
    /// The Kafka header that carries it.
    pub const HEADER: &'static str = "__walbridge.position";

    /// The position of a snapshot's `read`-th row published at stream position `at`.
    pub fn snapshot_read(at: Lsn, read: u64, stream: StreamId) -> Self {
        Self {
            txn_end: at,
            lsn: Lsn(u64::MAX),
            change: u32::MAX,
            record: u8::MAX,
            read,
            stream,
        }
    }

    /// Whether a record at this position was written before one at `tail` of the same stream.
    pub fn is_at_or_before(&self, tail: &Position) -> bool {
        self.stream == tail.stream && self <= tail
    }

    /// Fixed-width upper-case hex, `<txn_end:16>-<lsn:16>-<change:8>-<record:2>`, then
    /// `-<read:16>` for a snapshot row, then `@<stream:16>`.
    pub fn to_header(self) -> Vec<u8> {
        let mut text = format!(
            "{:016X}-{:016X}-{:08X}-{:02X}",
            self.txn_end.0, self.lsn.0, self.change, self.record
        );
        if self.read > 0 {
            text.push_str(&format!("-{:016X}", self.read));
        }
        text.push_str(&format!("@{:016X}", self.stream.0));
        text.into_bytes()
    }

    /// The position a header carries; `None` for anything else, including the headers of releases
    /// that carried no stream identity (nothing can be skipped on their account).
    pub fn from_header(bytes: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(bytes).ok()?;
        let (position, stream) = text.split_once('@')?;
        let hex64 = |t: &str| (t.len() == 16).then(|| u64::from_str_radix(t, 16).ok())?;
        let mut parts = position.split('-');
        let mut position = Position {
            txn_end: Lsn(hex64(parts.next()?)?),
            lsn: Lsn(hex64(parts.next()?)?),
            change: u32::from_str_radix(parts.next()?, 16).ok()?,
            record: u8::from_str_radix(parts.next()?, 16).ok()?,
            read: 0,
            stream: StreamId(hex64(stream)?),
        };
        if let Some(read) = parts.next() {
            position.read = hex64(read).filter(|r| *r > 0)?;
        }
        parts.next().is_none().then_some(position)
    }
}

/// One Kafka record to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutRecord {
    pub topic: Arc<str>,
    pub key: Option<Vec<u8>>,
    /// `None` is a tombstone.
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(&'static str, Vec<u8>)>,
    /// The change the record came from, for error messages.
    pub lsn: Lsn,
    pub position: Position,
}

/// The event sink: Kafka.
///
/// Contract: [`EventSink::publish`] returns `Ok` only when the broker acknowledged every record (with
/// `acks=all`), each written after the records before it for the same partition. On error, any subset
/// may have been written; the caller publishes the whole window again later.
// Native async fn: the implementations are concrete types of this workspace, whose futures are
// Send, and the function checks that where it runs the relay.
#[allow(async_fn_in_trait)]
pub trait EventSink {
    /// Publishes and drains `records`.
    async fn publish(&mut self, records: &mut Vec<OutRecord>) -> Result<(), PublishError>;

    /// An invocation begins: what the sink remembers of the cluster (topics, partition counts) is
    /// read again before it is relied on.
    fn begin(&mut self);

    /// While on, records that an earlier, failed invocation already wrote are skipped: per
    /// partition, those whose [`Position`] is not after the position of the partition's last record.
    fn skip_landed(&mut self, on: bool);
}

/// A sink kept between invocations is lent to each one.
impl<T: EventSink> EventSink for &mut T {
    async fn publish(&mut self, records: &mut Vec<OutRecord>) -> Result<(), PublishError> {
        (**self).publish(records).await
    }

    fn begin(&mut self) {
        (**self).begin();
    }

    fn skip_landed(&mut self, on: bool) {
        (**self).skip_landed(on);
    }
}

/// Which PostgreSQL server and WAL history a position belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// `system_identifier`: the same for a cluster and its physical copies.
    pub id: String,
    /// The WAL timeline: a new one begins when a standby is promoted or a backup is restored to a
    /// point in time, so the same LSN can stand for other changes on another timeline.
    pub timeline: u32,
}

/// What the checkpoint object records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Format version of this object.
    pub version: u32,
    pub slot: String,
    pub database: String,
    /// Every change before this LSN is in Kafka (acknowledged): the slot may be advanced to it.
    pub lsn: String,
    /// Where the slot stood when this checkpoint was written (it is advanced right after).
    #[serde(default)]
    pub previous_lsn: Option<String>,
    /// The PostgreSQL server's `system_identifier`.
    #[serde(default)]
    pub server: Option<String>,
    /// The server's WAL timeline when the checkpoint was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<u32>,
    /// End LSN of the last transaction published (`source.sequence`'s first half), if any.
    pub last_commit_lsn: Option<String>,
    /// Commit time of the last transaction published, µs since the epoch, if any.
    #[serde(default)]
    pub last_commit_time_us: Option<i64>,
    /// When it was written, ms since the epoch.
    pub written_at_ms: i64,
    /// The invocation that wrote it, as far as it had come.
    #[serde(default)]
    pub invocation: Option<InvocationProgress>,
    /// The last snapshot, finished or in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotProgress>,
    /// Minted when a disagreement between this checkpoint and the slot was settled: part of the
    /// [`StreamId`], so records written before cannot be taken for this stream's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u64>,
}

/// How far an invocation had come when it wrote a checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvocationProgress {
    pub started_at_ms: i64,
    pub changes: u64,
    pub events: u64,
    pub windows: u64,
}

impl Checkpoint {
    fn lsn(&self) -> Result<Lsn, CheckpointError> {
        self.lsn
            .parse()
            .map_err(|_| CheckpointError::Corrupt(format!("lsn {:?} is not an LSN", self.lsn)))
    }

    fn last_commit(&self) -> Option<Committed> {
        let lsn = self
            .last_commit_lsn
            .as_deref()
            .and_then(|l| l.parse().ok())?;
        Some(Committed {
            lsn,
            time_us: self.last_commit_time_us,
        })
    }
}

/// The checkpoint store.
///
/// Contract: [`CheckpointStore::save`] is conditional on the version [`CheckpointStore::load`] (or
/// the previous save) saw, so a stale or concurrent writer fails instead of overwriting.
// Native async fn: the implementations are concrete types of this workspace, whose futures are
// Send, and the function checks that where it runs the relay.
#[allow(async_fn_in_trait)]
pub trait CheckpointStore {
    /// Reads the checkpoint, remembering its version; `None` when there is none yet.
    async fn load(&mut self) -> Result<Option<Checkpoint>, CheckpointError>;
    /// Writes the checkpoint if nobody wrote it since this store last read or wrote it.
    async fn save(&mut self, checkpoint: &Checkpoint) -> Result<(), CheckpointError>;
}

/// Settings of the data path.
#[derive(Debug, Clone)]
pub struct RelaySettings {
    pub slot: String,
    pub database: String,
    pub encoder: EncoderConfig,
    /// `upto_nchanges` of one peek.
    pub window_max_changes: u32,
    /// No new window starts when less than this remains before the deadline.
    pub time_margin: Duration,
    /// What to do when the checkpoint and the slot disagree.
    pub mismatch: MismatchStrategy,
    pub snapshot: SnapshotSettings,
    /// Which tables and columns are captured, how they are keyed, which operations are skipped.
    pub filters: Arc<Filters>,
}

/// When and how the existing rows are read.
#[derive(Debug, Clone)]
pub struct SnapshotSettings {
    pub mode: SnapshotMode,
    /// `snapshot.include.collection.list`, over `schema.table`; empty = every captured table.
    pub include: Vec<regex::Regex>,
    /// Rows per chunk of an initial snapshot (`snapshot.fetch.size`)…
    pub chunk_rows: u32,
    /// …and of one a signal asked for (`incremental.snapshot.chunk.size`).
    pub incremental_chunk_rows: u32,
    /// Start a new snapshot whatever the checkpoint says (`always` at a cold start).
    pub start_now: bool,
    /// `signal.data.collection`: the signal table (schema, table), whose inserts are signals.
    pub signal_table: Option<(String, String)>,
}

impl SnapshotSettings {
    /// No snapshot ever: stream only.
    pub fn none() -> Self {
        Self {
            mode: SnapshotMode::NoData,
            include: Vec::new(),
            chunk_rows: 10_240,
            incremental_chunk_rows: 1_024,
            start_now: false,
            signal_table: None,
        }
    }
}

/// What one invocation did; the function returns it as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvocationReport {
    /// Row changes (insert, update, delete) read.
    pub changes: u64,
    /// Kafka records published (events and tombstones, snapshot rows included).
    pub events: u64,
    /// Rows a snapshot read and published (`op: "r"`).
    #[serde(default)]
    pub snapshot_rows: u64,
    /// Windows read.
    pub windows: u64,
    /// Transactions read that changed captured tables.
    pub transactions: u64,
    /// Slot position before the invocation.
    pub start_lsn: String,
    /// Slot position after it.
    pub end_lsn: String,
    /// Whether the last window reached the WAL position current when it opened.
    pub caught_up: bool,
    /// Bytes of WAL written but not yet confirmed by the slot, after the invocation.
    pub lag_bytes: u64,
    pub duration_ms: u64,
    /// Passes over the slot (more than one when the invocation polls, `poll.interval.ms`).
    pub polls: u64,
    /// Commit time (ms since the epoch) of the last transaction published so far, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_commit_ms: Option<i64>,
    /// Why the invocation did nothing, when it did nothing on purpose (another one holds the slot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// The time ran out inside a window (one larger than an invocation can read and publish, such
    /// as a large transaction): what was acknowledged stays, the next invocation goes on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub window_unfinished: bool,
}

impl InvocationReport {
    /// This report followed by `next`, a later pass of the same invocation.
    pub fn then(self, next: InvocationReport) -> InvocationReport {
        InvocationReport {
            changes: self.changes + next.changes,
            events: self.events + next.events,
            snapshot_rows: self.snapshot_rows + next.snapshot_rows,
            windows: self.windows + next.windows,
            transactions: self.transactions + next.transactions,
            start_lsn: self.start_lsn,
            end_lsn: next.end_lsn,
            caught_up: next.caught_up,
            lag_bytes: next.lag_bytes,
            duration_ms: self.duration_ms + next.duration_ms,
            polls: self.polls + next.polls,
            last_commit_ms: next.last_commit_ms.or(self.last_commit_ms),
            skipped: next.skipped,
            window_unfinished: self.window_unfinished || next.window_unfinished,
        }
    }

    /// The report of an invocation that did nothing because of `reason`, with the slot where it
    /// stands (`position`) and the last relayed commit's time when the checkpoint knows it: a
    /// skipped invocation still reports the lag it leaves.
    pub fn skipped(reason: String, position: SlotPosition, last_commit_ms: Option<i64>) -> Self {
        let lag_bytes = position.current.0.saturating_sub(position.confirmed.0);
        Self {
            changes: 0,
            events: 0,
            snapshot_rows: 0,
            windows: 0,
            transactions: 0,
            start_lsn: position.confirmed.to_string(),
            end_lsn: position.confirmed.to_string(),
            caught_up: lag_bytes == 0,
            lag_bytes,
            duration_ms: 0,
            polls: 0,
            last_commit_ms,
            skipped: Some(reason),
            window_unfinished: false,
        }
    }
}

/// One invocation's data path over a source, a sink and a checkpoint store.
#[derive(Debug)]
pub struct Relay<S, K, C> {
    source: S,
    sink: K,
    store: C,
    settings: RelaySettings,
    /// One encoder per table seen; a handful of tables, searched without allocating.
    encoders: Vec<Arc<Encoder>>,
    /// Tables seen that the table filters leave out (wal2json decodes them when the filters cannot
    /// be pushed down), so each is matched once.
    uncaptured: Vec<(String, String)>,
    /// The snapshot chunk read and waiting for the stream to pass its LSN.
    pending_chunk: Option<PendingChunk>,
    /// Signals received (signal table rows, the invocation's payload), not yet carried out.
    signals: Vec<Signal>,
    /// The stream this invocation reads, set when it starts.
    stream: StreamId,
}

#[derive(Debug)]
struct Encoder {
    schema: String,
    name: String,
    table: TableEncoder,
    topic: Arc<str>,
    /// The catalog's description it was built from (a snapshot's queries need it).
    definition: TableSchema,
}

/// A snapshot chunk read, waiting for the stream to pass the LSN it was read at.
#[derive(Debug)]
struct PendingChunk {
    /// Index into the snapshot's tables.
    table: usize,
    encoder: Arc<Encoder>,
    read: ChunkRead,
    /// Key bytes of each row → row index, to drop rows a newer streamed change replaces.
    keys: std::collections::HashMap<Vec<u8>, usize>,
    dropped: Vec<bool>,
}

/// What looking for the next snapshot chunk found.
enum NextChunk {
    Chunk(PendingChunk),
    /// Nothing to read now; `true` when the progress changed (empty tables done, snapshot complete).
    Nothing(bool),
}

/// The last transaction published: `source.sequence`'s first half, and the lag estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Committed {
    lsn: Lsn,
    time_us: Option<i64>,
}

impl TxnContext {
    /// Counts a change or truncate at `lsn` (the last LSN read when it has none) and returns its
    /// LSN. Counted before any filter: the rows of one multi-row WAL record (or the tables of one
    /// TRUNCATE) share an LSN and are told apart by their ordinal, `same_lsn` — a filter leaving
    /// some of them out cannot move the others, as one such record is one table and one operation.
    fn count(&mut self, lsn: Option<Lsn>) -> Lsn {
        let lsn = lsn.unwrap_or(self.position);
        if lsn == self.change_lsn {
            self.same_lsn += 1;
        } else {
            (self.change_lsn, self.same_lsn) = (lsn, 0);
        }
        lsn
    }

    /// The position of the first record of the change counted last.
    fn at(&self, stream: StreamId) -> Position {
        Position {
            txn_end: self.end,
            lsn: self.change_lsn,
            change: self.same_lsn,
            record: 0,
            read: 0,
            stream,
        }
    }
}

/// Transaction context the envelope's `source` block needs.
#[derive(Debug, Default, Clone, Copy)]
struct TxnContext {
    xid: Option<u32>,
    commit_time_us: Option<i64>,
    /// End LSN of the transaction (the B row's `nextlsn`) and the index of its next change.
    end: Lsn,
    next_change: u32,
    /// The last LSN read (for error messages about a row that has none).
    position: Lsn,
    /// The last change's own LSN and how many changes before it shared that LSN.
    change_lsn: Lsn,
    same_lsn: u32,
}

impl<S: ChangeSource, K: EventSink, C: CheckpointStore> Relay<S, K, C> {
    pub fn new(source: S, sink: K, store: C, settings: RelaySettings) -> Self {
        Self {
            source,
            sink,
            store,
            settings,
            encoders: Vec::new(),
            uncaptured: Vec::new(),
            pending_chunk: None,
            signals: Vec::new(),
            stream: StreamId::default(),
        }
    }

    /// Queues signals to carry out after the first window (an invocation's own request).
    pub fn signal(&mut self, signals: impl IntoIterator<Item = Signal>) {
        self.signals.extend(signals);
    }

    /// The parts back, for reuse by the next invocation and for tests.
    pub fn into_parts(self) -> (S, K, C) {
        (self.source, self.sink, self.store)
    }

    /// Runs windows until the slot is caught up or `deadline` is near.
    ///
    /// # Errors
    /// The first failure of the slot, the sink or the checkpoint store, or a change that cannot be
    /// decoded or encoded. Whatever was acknowledged and checkpointed before stays done; the rest is
    /// read again by the next invocation.
    pub async fn run(&mut self, deadline: Instant) -> Result<InvocationReport, RelayError> {
        let span = info_span!("invocation", slot = %self.settings.slot);
        // Boxed: the data path keeps a window's state across awaits, too large for callers' stacks.
        Box::pin(self.run_windows(deadline).instrument(span)).await
    }

    async fn run_windows(&mut self, deadline: Instant) -> Result<InvocationReport, RelayError> {
        let started = Instant::now();
        let start = self.source.position().await?;
        let server = self.source.server().await?;
        let checkpoint = self.store.load().await?;
        let mut confirmed = start.confirmed;
        let mut last_commit = checkpoint.as_ref().and_then(Checkpoint::last_commit);
        let started_at_ms = now_us() / 1000;
        let mut position_lost = false;
        let mut epoch = checkpoint.as_ref().and_then(|c| c.epoch);
        if let Some(checkpoint) = &checkpoint {
            let settled;
            (confirmed, position_lost, settled) =
                self.reconcile(checkpoint, &server, confirmed).await?;
            if settled {
                // Another stream's records may sit in the topics with positions above ours.
                epoch = Some(now_us().unsigned_abs().max(1));
            }
        }
        let stream = StreamId::of(
            &server,
            &self.settings.database,
            &self.settings.slot,
            epoch.unwrap_or(0),
        );
        self.stream = stream;
        let mut snapshot = self
            .plan_snapshot(checkpoint.as_ref(), position_lost, started_at_ms)
            .await?;
        let streams = self.settings.snapshot.mode.streams();

        let mut report = InvocationReport {
            changes: 0,
            events: 0,
            snapshot_rows: 0,
            windows: 0,
            transactions: 0,
            start_lsn: confirmed.to_string(),
            end_lsn: confirmed.to_string(),
            caught_up: false,
            lag_bytes: 0,
            duration_ms: 0,
            polls: 1,
            last_commit_ms: None,
            skipped: None,
            window_unfinished: false,
        };
        let mut rows = RowBatch::default();
        let mut pending = Vec::new();
        let mut buf = Vec::new();
        self.pending_chunk = None;
        // A new snapshot is recorded by the first checkpoint even if its first chunk is empty.
        let mut progressed = snapshot
            .as_ref()
            .is_some_and(|s| checkpoint.as_ref().and_then(|c| c.snapshot.as_ref()) != Some(s));

        let mut chunk_waits: u32 = 0;
        self.sink.begin();
        // An earlier invocation may have died after Kafka took part of the first window.
        self.sink.skip_landed(true);
        // A short budget (Lambda's default timeout is 3 s) keeps a quarter of itself as margin,
        // not the configured margin, so it still relays.
        let margin = self
            .settings
            .time_margin
            .min(deadline.saturating_duration_since(Instant::now()) / 4);
        while Instant::now() + margin < deadline {
            // Before any chunk: a stop or pause must be able to end a snapshot whose chunks fail.
            if !self.signals.is_empty() {
                progressed |= self.apply_signals(&mut snapshot).await?;
            }
            if self.pending_chunk.is_none()
                && let Some(progress) = snapshot.as_mut().filter(|s| !s.is_complete() && !s.paused)
            {
                match self.next_chunk(progress).await? {
                    NextChunk::Chunk(read) => self.pending_chunk = Some(read),
                    NextChunk::Nothing(changed) => progressed |= changed,
                }
            }
            let mut complete = true;
            let mut upto = confirmed;
            let mut target = None;
            if streams {
                let upto_window = self
                    .source
                    .open_window(self.settings.window_max_changes)
                    .await?;
                upto = upto_window;
                fail::fail_point!("relay::window-opened");
                report.windows += 1;
                let window_started = Instant::now();
                let window_start = (report.changes, report.events);
                let mut row_count: u64 = 0;
                let mut last_end: Option<Lsn> = None;
                let mut txn = TxnContext {
                    position: confirmed,
                    ..TxnContext::default()
                };
                let mut txn_changes: u64 = 0;

                let mut more = self.source.fetch(&mut rows).await?;
                while more {
                    row_count += rows.len() as u64;
                    // Debezium stamps each event when it handles it; one clock read per chunk.
                    let now = now_us();
                    for data in rows.iter() {
                        match self
                            .process_row(
                                data,
                                now,
                                &mut txn,
                                &mut last_commit,
                                &mut buf,
                                &mut pending,
                            )
                            .await?
                        {
                            RowOutcome::Change => {
                                report.changes += 1;
                                txn_changes += 1;
                            }
                            RowOutcome::Commit(end) => {
                                // wal2json writes B/C for every transaction, also those that touched
                                // no captured table; count the ones that carried changes.
                                if txn_changes > 0 {
                                    report.transactions += 1;
                                }
                                txn_changes = 0;
                                last_end = Some(end);
                            }
                            RowOutcome::Other => {}
                        }
                    }
                    // Kafka acknowledges this chunk's events while PostgreSQL sends the next rows;
                    // at most one chunk of rows and one of events are in memory.
                    report.events += pending.len() as u64;
                    rows.clear();
                    let (fetched, published) = tokio::join!(
                        self.source.fetch(&mut rows),
                        self.sink.publish(&mut pending)
                    );
                    published?;
                    fail::fail_point!("relay::published-some");
                    more = fetched?;
                    if more && Instant::now() + margin >= deadline {
                        // Out of time inside the window: what is published stays published (the
                        // next invocation skips it and goes on), the transactions read whole are
                        // checkpointed below, the rest is read again.
                        self.source.close_window().await?;
                        report.window_unfinished = true;
                        warn!(
                            window = report.windows,
                            rows = row_count,
                            "the window could not be read and published before the deadline; the \
                             next invocation goes on from what was acknowledged"
                        );
                        break;
                    }
                }
                report.events += pending.len() as u64;
                self.sink.publish(&mut pending).await?;
                fail::fail_point!("relay::acknowledged");

                // Everything read is acknowledged. A window with fewer rows than the limit holds
                // every transaction that committed before `upto`, so the slot may move there even if
                // the captured tables were idle (that releases WAL other tables and databases wrote).
                complete = !report.window_unfinished
                    && row_count < u64::from(self.settings.window_max_changes);
                target = match (complete, last_end) {
                    (true, Some(end)) => Some(end.max(upto)),
                    (true, None) => Some(upto),
                    (false, end) => end,
                };
                info!(
                    window = report.windows,
                    %upto,
                    rows = row_count,
                    changes = report.changes - window_start.0,
                    events = report.events - window_start.1,
                    complete,
                    elapsed_ms = window_started.elapsed().as_millis() as u64,
                    "window published"
                );
            }
            // Records a crashed invocation left behind can only be among the first window's.
            self.sink.skip_landed(false);
            if !self.signals.is_empty() {
                progressed |= self.apply_signals(&mut snapshot).await?;
            }

            // A chunk is published once the stream has passed the LSN it was read at: every
            // change that committed before the read has been seen (and replaced the rows it is
            // newer than); every later one comes after the chunk's rows.
            let stream_at = target.unwrap_or(confirmed).max(confirmed);
            if let Some(ready) = self
                .pending_chunk
                .take_if(|c| !streams || (complete && upto >= c.read.lsn))
            {
                let progress = snapshot.as_mut().expect("a chunk belongs to a snapshot");
                let before = pending.len();
                let (lsn, table) = (
                    ready.read.lsn,
                    format!("{}.{}", ready.encoder.schema, ready.encoder.name),
                );
                let last_commit_lsn = last_commit.map(|c| c.lsn);
                Self::emit_chunk(
                    ready,
                    progress,
                    stream_at,
                    self.stream,
                    last_commit_lsn,
                    &mut buf,
                    &mut pending,
                )
                .map_err(|source| RelayError::Encode { lsn, table, source })?;
                let published = (pending.len() - before) as u64;
                report.snapshot_rows += published;
                report.events += published;
                self.sink.publish(&mut pending).await?;
                fail::fail_point!("relay::snapshot-acknowledged");
                progressed = true;
            }

            let moved = target.filter(|t| *t > confirmed);
            if moved.is_some() || progressed {
                let checkpoint = Checkpoint {
                    version: 1,
                    slot: self.settings.slot.clone(),
                    database: self.settings.database.clone(),
                    lsn: stream_at.to_string(),
                    previous_lsn: Some(confirmed.to_string()),
                    server: Some(server.id.clone()),
                    timeline: Some(server.timeline),
                    last_commit_lsn: last_commit.map(|c| c.lsn.to_string()),
                    last_commit_time_us: last_commit.and_then(|c| c.time_us),
                    written_at_ms: now_us() / 1000,
                    invocation: Some(InvocationProgress {
                        started_at_ms,
                        changes: report.changes,
                        events: report.events,
                        windows: report.windows,
                    }),
                    snapshot: snapshot.clone(),
                    epoch,
                };
                self.store.save(&checkpoint).await?;
                fail::fail_point!("relay::checkpointed");
                progressed = false;
                if let Some(target) = moved {
                    self.source.advance(target).await?;
                    fail::fail_point!("relay::advanced");
                    confirmed = target;
                }
            }
            let snapshotting = snapshot
                .as_ref()
                .is_some_and(|s| !s.is_complete() && !s.paused);
            if complete && !snapshotting && self.signals.is_empty() {
                report.caught_up = true;
                break;
            }
            // A chunk waits until the server has flushed the WAL it was read at; on an idle
            // server that can take until the WAL writer or a checkpoint gets there, so wait
            // between windows rather than spin.
            let waiting = self
                .pending_chunk
                .as_ref()
                .is_some_and(|c| streams && complete && upto < c.read.lsn);
            if waiting && moved.is_none() {
                chunk_waits += 1;
                let pause = Duration::from_millis(20 << chunk_waits.min(5));
                let left = deadline.saturating_duration_since(Instant::now() + margin);
                tokio::time::sleep(pause.min(left)).await;
            } else {
                chunk_waits = 0;
            }
        }

        let end = self.source.position().await?;
        report.end_lsn = end.confirmed.to_string();
        report.lag_bytes = end.current.0.saturating_sub(end.confirmed.0);
        report.duration_ms = started.elapsed().as_millis() as u64;
        report.last_commit_ms = last_commit.and_then(|c| c.time_us).map(|us| us / 1000);
        info!(
            changes = report.changes,
            events = report.events,
            snapshot_rows = report.snapshot_rows,
            windows = report.windows,
            start_lsn = %report.start_lsn,
            end_lsn = %report.end_lsn,
            caught_up = report.caught_up,
            lag_bytes = report.lag_bytes,
            "invocation done"
        );
        Ok(report)
    }

    /// The snapshot this invocation works on, by `snapshot.mode`: the unfinished one of the
    /// checkpoint, or a new one (first run, `always` at a cold start, a lost position under
    /// `when_needed`), or the finished one carried on for the status.
    async fn plan_snapshot(
        &mut self,
        checkpoint: Option<&Checkpoint>,
        position_lost: bool,
        now_ms: i64,
    ) -> Result<Option<SnapshotProgress>, RelayError> {
        let mode = self.settings.snapshot.mode;
        let previous = checkpoint.and_then(|c| c.snapshot.clone());
        let start = self.settings.snapshot.start_now
            || (checkpoint.is_none() && mode.on_first_run())
            || (position_lost && mode.on_lost_position());
        if !start {
            return Ok(previous.map(|p| self.prune_resumed(p, now_ms)));
        }
        if let Some(previous) = previous.as_ref().filter(|p| !p.is_complete())
            && !position_lost
        {
            // Unfinished: resume it rather than start over.
            return Ok(Some(self.prune_resumed(previous.clone(), now_ms)));
        }
        let include = self.settings.snapshot.include.clone();
        let tables: Vec<CapturedTable> = self
            .snapshot_candidates()
            .await?
            .into_iter()
            .filter(|t| {
                let name = format!("{}.{}", t.schema, t.table);
                include.is_empty() || include.iter().any(|r| r.is_match(&name))
            })
            .collect();
        let rows_before = previous.map_or(0, |p| p.rows_before + p.rows);
        info!(tables = tables.len(), "snapshot starts");
        let mut progress = SnapshotProgress::new(tables, now_ms, rows_before);
        if progress.tables.is_empty() {
            progress.completed_at_ms = Some(now_ms);
        }
        Ok(Some(progress))
    }

    /// An unfinished snapshot of the checkpoint as the configuration now asks for it: an initial
    /// snapshot `snapshot.mode` no longer takes, and tables the filters (or, for an initial one,
    /// `snapshot.include.collection.list`) no longer capture, are left unfinished.
    fn prune_resumed(&self, mut progress: SnapshotProgress, now_ms: i64) -> SnapshotProgress {
        if progress.is_complete() {
            return progress;
        }
        let initial = progress.kind == SnapshotKind::Initial;
        let mode_takes_it = !initial || self.settings.snapshot.mode.on_first_run();
        let include = &self.settings.snapshot.include;
        for table in progress.tables.iter_mut().filter(|t| !t.done) {
            let name = format!("{}.{}", table.schema, table.table);
            let reason = if !mode_takes_it {
                "snapshot.mode no longer takes an initial snapshot"
            } else if !self
                .settings
                .filters
                .tables
                .captures(&table.schema, &table.table)
            {
                "the table filters no longer capture the table"
            } else if initial && !include.is_empty() && !include.iter().any(|r| r.is_match(&name)) {
                "snapshot.include.collection.list no longer lists the table"
            } else {
                continue;
            };
            warn!(table = %name, reason, "snapshot of the table abandoned");
            table.fail(reason.to_owned());
        }
        if progress.current().is_none() {
            progress.completed_at_ms = Some(now_ms);
        }
        progress
    }

    /// Reads the next non-empty chunk of the snapshot; marks empty tables done and the snapshot
    /// complete when nothing is left.
    async fn next_chunk(
        &mut self,
        progress: &mut SnapshotProgress,
    ) -> Result<NextChunk, RelayError> {
        let mut changed = false;
        while let Some(index) = progress.current() {
            let (schema, name) = {
                let t = &progress.tables[index];
                (t.schema.clone(), t.table.clone())
            };
            let encoder = match self.encoder(&schema, &name, false).await {
                Err(err) if persistent_for_table(&err) => {
                    Self::give_up_table(progress, index, &err);
                    changed = true;
                    continue;
                }
                found => found?,
            };
            let later: Vec<(String, String)> = progress.tables[index + 1..]
                .iter()
                .filter(|t| !t.done)
                .map(|t| (t.schema.clone(), t.table.clone()))
                .collect();
            let limit = if progress.kind == SnapshotKind::Initial {
                self.settings.snapshot.chunk_rows
            } else {
                self.settings.snapshot.incremental_chunk_rows
            };
            let read = self
                .source
                .read_chunk(
                    &encoder.definition,
                    progress.tables[index].last_key.as_deref(),
                    progress.tables[index].filter.as_deref(),
                    limit,
                    &later,
                )
                .await
                .map_err(RelayError::from);
            let read = match read {
                Err(err) if persistent_for_table(&err) => {
                    Self::give_up_table(progress, index, &err);
                    changed = true;
                    continue;
                }
                read => read?,
            };
            if read.rows.is_empty() && !read.more {
                progress.tables[index].done = true;
                changed = true;
                continue;
            }
            let mut keys = std::collections::HashMap::with_capacity(read.rows.len());
            let mut key_buf = Vec::new();
            for (i, row) in read.rows.iter().enumerate() {
                let columns = crate::snapshot::row_columns(&encoder.definition, row);
                key_buf.clear();
                let key = encoder
                    .table
                    .encode_key(&columns, &mut key_buf)
                    .map_err(|source| RelayError::Encode {
                        lsn: read.lsn,
                        table: format!("{schema}.{name}"),
                        source,
                    })?;
                if let Some(range) = key {
                    keys.insert(key_buf[range].to_vec(), i);
                }
            }
            let dropped = vec![false; read.rows.len()];
            return Ok(NextChunk::Chunk(PendingChunk {
                table: index,
                encoder,
                read,
                keys,
                dropped,
            }));
        }
        if !progress.is_complete() {
            progress.completed_at_ms = Some(now_us() / 1000);
            info!(rows = progress.rows, "snapshot complete");
            changed = true;
        }
        Ok(NextChunk::Nothing(changed))
    }

    /// Leaves a table whose chunks cannot be read unfinished, so the snapshot and the stream go on.
    fn give_up_table(progress: &mut SnapshotProgress, index: usize, err: &RelayError) {
        let table = &mut progress.tables[index];
        warn!(
            table = %format!("{}.{}", table.schema, table.table),
            error = %err,
            "snapshot of the table abandoned: its chunks cannot be read; the other tables and the \
             stream go on (a new execute-snapshot signal reads it again once the cause is fixed)"
        );
        table.fail(err.to_string());
    }

    /// The captured tables a snapshot may read (all but the signal table), in the order of
    /// table.include.list (the tables one entry matches in name order), as Debezium reads them:
    /// the same order gives the same markers.
    async fn snapshot_candidates(&mut self) -> Result<Vec<CapturedTable>, RelayError> {
        let signal_table = self.settings.snapshot.signal_table.clone();
        let captured = &self.settings.filters.tables;
        let mut tables: Vec<(usize, CapturedTable)> = self
            .source
            .captured_tables()
            .await?
            .into_iter()
            .filter(|t| {
                signal_table
                    .as_ref()
                    .is_none_or(|(schema, table)| t.schema != *schema || t.table != *table)
            })
            .filter_map(|t| Some((captured.rank(&t.schema, &t.table)?, t)))
            .collect();
        tables.sort_by_key(|(rank, _)| *rank);
        Ok(tables.into_iter().map(|(_, t)| t).collect())
    }

    /// Carries out the queued signals on the snapshot (starting one, adding tables to the running
    /// one, stopping, pausing, resuming); returns whether the progress changed.
    async fn apply_signals(
        &mut self,
        snapshot: &mut Option<SnapshotProgress>,
    ) -> Result<bool, RelayError> {
        let mut changed = false;
        for signal in std::mem::take(&mut self.signals) {
            info!(?signal, "signal");
            let active = snapshot.as_mut().filter(|s| !s.is_complete());
            match signal {
                Signal::Execute {
                    collections,
                    blocking,
                    conditions,
                } => {
                    let patterns: Vec<regex::Regex> = collections
                        .iter()
                        .filter_map(|c| {
                            let pattern = collection_pattern(c);
                            if pattern.is_none() {
                                warn!(collection = %c, "signal: not a regular expression; ignored");
                            }
                            pattern
                        })
                        .collect();
                    // Debezium: an empty list asks for nothing.
                    if patterns.is_empty() {
                        continue;
                    }
                    let tables: Vec<CapturedTable> = self
                        .snapshot_candidates()
                        .await?
                        .into_iter()
                        .filter(|t| {
                            let name = format!("{}.{}", t.schema, t.table);
                            patterns.iter().any(|p| p.is_match(&name))
                        })
                        .collect();
                    // A condition PostgreSQL would refuse is refused now, with the signal, rather
                    // than failing every chunk later.
                    let mut refused = false;
                    for (collection, filter) in &conditions {
                        let Some(pattern) = collection_pattern(collection) else {
                            continue;
                        };
                        for table in tables
                            .iter()
                            .filter(|t| pattern.is_match(&format!("{}.{}", t.schema, t.table)))
                        {
                            if let Err(err) = self
                                .source
                                .check_filter(&table.schema, &table.table, filter)
                                .await
                            {
                                warn!(
                                    table = %format!("{}.{}", table.schema, table.table),
                                    error = %err,
                                    "signal refused: its additional condition is not one boolean \
                                     condition on the table's rows"
                                );
                                refused = true;
                            }
                        }
                    }
                    if refused {
                        continue;
                    }
                    let active = snapshot.as_mut().filter(|s| !s.is_complete());
                    let progress = match active {
                        Some(progress) => {
                            for table in tables {
                                let queued = progress.tables.iter().any(|t| {
                                    !t.done && t.schema == table.schema && t.table == table.table
                                });
                                if !queued {
                                    progress
                                        .tables
                                        .extend(SnapshotProgress::new(vec![table], 0, 0).tables);
                                }
                            }
                            progress
                        }
                        None => {
                            let rows_before =
                                snapshot.as_ref().map_or(0, |p| p.rows_before + p.rows);
                            let mut progress =
                                SnapshotProgress::new(tables, now_us() / 1000, rows_before);
                            progress.kind = if blocking {
                                SnapshotKind::Blocking
                            } else {
                                SnapshotKind::Incremental
                            };
                            snapshot.insert(progress)
                        }
                    };
                    for (collection, filter) in &conditions {
                        let Some(pattern) = collection_pattern(collection) else {
                            continue;
                        };
                        for table in progress.tables.iter_mut().filter(|t| !t.done) {
                            if pattern.is_match(&format!("{}.{}", table.schema, table.table)) {
                                table.filter = Some(filter.clone());
                            }
                        }
                    }
                    if progress.current().is_none() {
                        progress.completed_at_ms = Some(now_us() / 1000);
                    }
                }
                Signal::Stop { collections } => {
                    let Some(progress) = active else { continue };
                    let patterns: Vec<regex::Regex> = collections
                        .iter()
                        .filter_map(|c| collection_pattern(c))
                        .collect();
                    for table in progress.tables.iter_mut().filter(|t| !t.done) {
                        let name = format!("{}.{}", table.schema, table.table);
                        if patterns.is_empty() || patterns.iter().any(|p| p.is_match(&name)) {
                            table.done = true;
                        }
                    }
                    if progress.current().is_none() {
                        progress.completed_at_ms = Some(now_us() / 1000);
                    }
                    // A chunk of a stopped table is not published.
                    if let Some(chunk) = &self.pending_chunk
                        && progress.tables[chunk.table].done
                    {
                        self.pending_chunk = None;
                    }
                }
                Signal::Pause => {
                    let Some(progress) = active else { continue };
                    progress.paused = true;
                    // Read again on resume.
                    self.pending_chunk = None;
                }
                Signal::Resume => {
                    let Some(progress) = active else { continue };
                    progress.paused = false;
                }
            }
            changed = true;
        }
        Ok(changed)
    }

    /// Appends the records of a chunk's rows that no newer streamed change replaced, placed at
    /// stream position `at`, and moves the table's progress past the chunk.
    fn emit_chunk(
        chunk: PendingChunk,
        progress: &mut SnapshotProgress,
        at: Lsn,
        stream: StreamId,
        last_commit_lsn: Option<Lsn>,
        buf: &mut Vec<u8>,
        pending: &mut Vec<OutRecord>,
    ) -> Result<(), walbridge_event::Error> {
        use walbridge_event::envelope::SnapshotMarker;
        let PendingChunk {
            table: index,
            encoder,
            read,
            dropped,
            ..
        } = chunk;
        let kept: Vec<usize> = (0..read.rows.len()).filter(|&i| !dropped[i]).collect();
        let incremental = progress.incremental();
        let source = SourceInfo {
            commit_time_us: read.read_time_us,
            tx_id: None,
            lsn: read.lsn,
            // An incremental snapshot's rows sit in the stream: `sequence` names its last commit.
            last_commit_lsn: if incremental { last_commit_lsn } else { None },
        };
        let now = now_us();
        for (n, &i) in kept.iter().enumerate() {
            let first_of_table = progress.tables[index].rows == 0;
            // Debezium marks `first` the first row of the first table only: when that table is
            // empty, no row is marked `first`.
            let first_of_snapshot = index == 0 && first_of_table;
            let last_of_table = !read.more && n + 1 == kept.len();
            let marker = if incremental {
                SnapshotMarker::Incremental
            } else if last_of_table && !read.later_rows {
                SnapshotMarker::Last
            } else if first_of_snapshot {
                SnapshotMarker::First
            } else if last_of_table {
                SnapshotMarker::LastInDataCollection
            } else if first_of_table {
                SnapshotMarker::FirstInDataCollection
            } else {
                SnapshotMarker::True
            };
            let columns = crate::snapshot::row_columns(&encoder.definition, &read.rows[i]);
            buf.clear();
            let encoded = encoder
                .table
                .encode_read(&columns, &source, marker, now, buf)?;
            progress.rows += 1;
            progress.tables[index].rows += 1;
            for record in encoded.records(buf) {
                pending.push(OutRecord {
                    topic: Arc::clone(&encoder.topic),
                    key: record.key.map(<[u8]>::to_vec),
                    value: record.value.map(<[u8]>::to_vec),
                    headers: Vec::new(),
                    lsn: read.lsn,
                    position: Position::snapshot_read(
                        at,
                        progress.rows_before + progress.rows,
                        stream,
                    ),
                });
            }
        }
        let table = &mut progress.tables[index];
        if let Some(last) = read.rows.last() {
            table.last_key = Some(
                encoder
                    .definition
                    .key()
                    .iter()
                    .map(|&k| last[k].clone().unwrap_or_default())
                    .collect(),
            );
        }
        table.done = !read.more;
        Ok(())
    }

    /// Checks that the checkpoint belongs to this slot and agrees with its position, and settles
    /// a disagreement by `offset.mismatch.strategy`; returns where to start.
    async fn reconcile(
        &mut self,
        checkpoint: &Checkpoint,
        server: &Server,
        confirmed: Lsn,
    ) -> Result<(Lsn, bool, bool), RelayError> {
        let checkpointed = checkpoint.lsn()?;
        let same_slot = checkpoint.slot == self.settings.slot
            && checkpoint.database == self.settings.database
            && checkpoint.server.as_deref().is_none_or(|s| *s == server.id);
        if same_slot && checkpointed == confirmed {
            return Ok((confirmed, false, false));
        }
        // On another timeline the WAL between the slot and the checkpoint may hold other changes
        // (a standby promoted before it received them): only the same history may be skipped over.
        let died_before_advance = checkpoint.previous_lsn.as_deref()
            == Some(confirmed.to_string().as_str())
            && checkpoint.timeline.is_none_or(|t| t == server.timeline);
        // PostgreSQL writes an advanced slot position to disk at its next checkpoint only, so after
        // a crash of the server the slot can stand anywhere between its last persisted position and
        // ours (its documentation of pg_replication_slot_advance says so). On the same timeline the
        // WAL up to our checkpoint is the WAL whose changes Kafka acknowledged; a slot recreated
        // since would stand after the checkpoint, not before it.
        let server_restarted = checkpoint.timeline == Some(server.timeline);
        if same_slot && checkpointed > confirmed && (died_before_advance || server_restarted) {
            // Those events are in Kafka: move the slot to the checkpoint, skipping nothing else.
            info!(%checkpointed, slot_lsn = %confirmed, "slot behind checkpoint; advancing it");
            self.source.advance(checkpointed).await?;
            return Ok((checkpointed, false, false));
        }
        let found = if same_slot {
            format!("checkpoint at {checkpointed}, slot at {confirmed}")
        } else {
            format!(
                "checkpoint of slot {} in database {} on server {}, this is slot {} in {} on {}",
                checkpoint.slot,
                checkpoint.database,
                checkpoint.server.as_deref().unwrap_or("?"),
                self.settings.slot,
                self.settings.database,
                server.id
            )
        };
        let mismatch = || CheckpointError::Mismatch {
            found: found.clone(),
        };
        if self.settings.snapshot.mode.on_lost_position()
            && (!same_slot || checkpointed < confirmed)
        {
            // `when_needed`: the checkpoint's position is gone from this slot; read the tables again.
            warn!(%found, "checkpoint position not in the slot; snapshotting again from the slot");
            return Ok((confirmed, true, true));
        }
        match self.settings.mismatch {
            MismatchStrategy::Fail => Err(mismatch().into()),
            MismatchStrategy::TrustSlot => {
                warn!(%found, "checkpoint and slot disagree; trusting the slot");
                Ok((confirmed, false, true))
            }
            MismatchStrategy::TrustOffset if checkpointed < confirmed => Err(mismatch().into()),
            MismatchStrategy::TrustOffset | MismatchStrategy::TrustGreaterLsn
                if checkpointed > confirmed =>
            {
                warn!(%found, "checkpoint and slot disagree; advancing the slot to the checkpoint");
                self.source.advance(checkpointed).await?;
                Ok((checkpointed, false, true))
            }
            MismatchStrategy::TrustOffset | MismatchStrategy::TrustGreaterLsn => {
                warn!(%found, "checkpoint and slot disagree; trusting the slot");
                Ok((confirmed, false, true))
            }
        }
    }

    async fn process_row(
        &mut self,
        data: &str,
        now: i64,
        txn: &mut TxnContext,
        last_commit: &mut Option<Committed>,
        buf: &mut Vec<u8>,
        pending: &mut Vec<OutRecord>,
    ) -> Result<RowOutcome, RelayError> {
        let decoded = wal2json::decode(data).map_err(|source| RelayError::Decode {
            after: txn.position,
            source,
        })?;
        match decoded {
            Row::Begin(begin) => {
                let end = begin.next_lsn.ok_or(RelayError::Decode {
                    after: txn.position,
                    source: walbridge_event::Error::MissingField {
                        action: 'B',
                        field: "nextlsn",
                    },
                })?;
                *txn = TxnContext {
                    xid: begin.xid,
                    commit_time_us: begin.commit_time_us,
                    end,
                    next_change: 0,
                    position: begin.lsn.unwrap_or(txn.position),
                    ..TxnContext::default()
                };
                Ok(RowOutcome::Other)
            }
            Row::Commit(commit) => {
                // `include-lsn` gives every C row its end LSN: the only safe place to advance to.
                let end = commit.next_lsn.ok_or(RelayError::Decode {
                    after: txn.position,
                    source: walbridge_event::Error::MissingField {
                        action: 'C',
                        field: "nextlsn",
                    },
                })?;
                // `source.sequence` names the previous transaction that produced events, as
                // pgoutput (which skips empty transactions) makes Debezium do.
                if txn.next_change > 0 {
                    *last_commit = Some(Committed {
                        lsn: end,
                        time_us: commit.commit_time_us.or(txn.commit_time_us),
                    });
                }
                txn.position = end;
                Ok(RowOutcome::Commit(end))
            }
            Row::Change(change) => {
                txn.count(change.lsn);
                if let Some((schema, table)) = &self.settings.snapshot.signal_table
                    && change.schema == schema.as_str()
                    && change.table == table.as_str()
                {
                    // A signal: carried out after this window, not published.
                    if change.action == wal2json::Action::Insert {
                        self.queue_signal(&change.columns);
                    }
                    return Ok(RowOutcome::Other);
                }
                let skipped = self.settings.filters.skipped;
                // By the change's operation: Debezium's publication leaves skipped operations out,
                // so a skipped update takes its key change (delete, tombstone, create) with it, and
                // a transaction of skipped changes is not seen at all (`source.sequence`).
                let skip = match change.action {
                    Action::Insert => skipped.creates,
                    Action::Update => skipped.updates,
                    Action::Delete => skipped.deletes,
                };
                if skip || !self.captures(&change.schema, &change.table) {
                    return Ok(RowOutcome::Other);
                }
                let mut encoder = self.change_encoder(&change, false).await?;
                let source = SourceInfo {
                    commit_time_us: change.commit_time_us.or(txn.commit_time_us).unwrap_or(now),
                    tx_id: change.xid.or(txn.xid),
                    lsn: change.lsn.unwrap_or(txn.position),
                    last_commit_lsn: last_commit.map(|c| c.lsn),
                };
                buf.clear();
                let mut encoded = encoder.table.encode(&change, &source, now, buf);
                let stale = |e: &Result<_, walbridge_event::Error>| {
                    matches!(
                        e,
                        Err(walbridge_event::Error::SchemaMismatch { .. }
                            | walbridge_event::Error::InvalidValue { .. })
                    )
                };
                if stale(&encoded) {
                    // The table changed since its schema was read: read it again, once.
                    encoder = self.change_encoder(&change, true).await?;
                    buf.clear();
                    encoded = encoder.table.encode(&change, &source, now, buf);
                }
                if stale(&encoded) {
                    // The catalog is ahead of this change (altered after it was written): encode
                    // it as the table was then, without caching that shape.
                    let then = encoder.definition.as_of(&change);
                    encoder = Arc::new(self.build_encoder(then).map_err(|source| {
                        RelayError::Schema {
                            table: format!("{}.{}", change.schema, change.table),
                            source,
                        }
                    })?);
                    buf.clear();
                    encoded = encoder.table.encode(&change, &source, now, buf);
                }
                let encoded = encoded.map_err(|err| RelayError::Encode {
                    lsn: source.lsn,
                    table: format!("{}.{}", change.schema, change.table),
                    source: err,
                })?;
                // A change the pending chunk's read could not see is newer than the row it read.
                if let Some(chunk) = self.pending_chunk.as_mut()
                    && chunk.encoder.schema == change.schema
                    && chunk.encoder.name == change.table
                    && !source.tx_id.is_some_and(|x| chunk.read.visible.sees(x))
                {
                    for record in encoded.records(buf) {
                        if let Some(&i) = record.key.and_then(|k| chunk.keys.get(k)) {
                            chunk.dropped[i] = true;
                        }
                    }
                }
                txn.next_change += 1;
                push_records(&encoder.topic, &encoded, buf, txn.at(self.stream), pending);
                Ok(RowOutcome::Change)
            }
            Row::Truncate(truncate) => {
                let change_lsn = txn.count(truncate.lsn);
                if !self.captures(&truncate.schema, &truncate.table) {
                    return Ok(RowOutcome::Other);
                }
                // Debezium's publication carries a captured table's truncate even when it skips
                // the event: its transaction is one `source.sequence` names.
                txn.next_change += 1;
                if self.settings.filters.skipped.truncates {
                    return Ok(RowOutcome::Other);
                }
                let table = format!("{}.{}", truncate.schema, truncate.table);
                let encoder = match self.encoder(&truncate.schema, &truncate.table, false).await {
                    Err(RelayError::Slot(SlotError::UnknownTable { .. })) => {
                        // Dropped since: a truncate carries no columns, its envelope needs none
                        // (with schemas on, its row schemas are empty).
                        warn!(%table, "truncated table no longer in the catalog; its truncate event has empty row schemas");
                        let empty = TableSchema::new(
                            truncate.schema.as_ref(),
                            truncate.table.as_ref(),
                            Vec::new(),
                            &[],
                            walbridge_event::ReplicaIdentity::Default,
                        )
                        .map_err(|source| RelayError::Schema {
                            table: table.clone(),
                            source,
                        })?;
                        Arc::new(self.build_encoder(empty).map_err(|source| {
                            RelayError::Schema {
                                table: table.clone(),
                                source,
                            }
                        })?)
                    }
                    found => found?,
                };
                let source = SourceInfo {
                    commit_time_us: truncate
                        .commit_time_us
                        .or(txn.commit_time_us)
                        .unwrap_or(now),
                    tx_id: truncate.xid.or(txn.xid),
                    lsn: change_lsn,
                    last_commit_lsn: last_commit.map(|c| c.lsn),
                };
                buf.clear();
                let encoded = encoder
                    .table
                    .encode_truncate(&source, now, buf)
                    .map_err(|err| RelayError::Encode {
                        lsn: change_lsn,
                        table,
                        source: err,
                    })?;
                // A truncate the pending chunk's read could not see empties what it read.
                if let Some(chunk) = self.pending_chunk.as_mut()
                    && chunk.encoder.schema == truncate.schema
                    && chunk.encoder.name == truncate.table
                    && !source.tx_id.is_some_and(|x| chunk.read.visible.sees(x))
                {
                    chunk.dropped.iter_mut().for_each(|d| *d = true);
                }
                push_records(&encoder.topic, &encoded, buf, txn.at(self.stream), pending);
                Ok(RowOutcome::Change)
            }
            // Logical decoding messages are read past (messages are refused in the configuration),
            // and the slot moves over them with their transaction.
            Row::Message(_) => Ok(RowOutcome::Other),
        }
    }

    /// Reads a signal table row (`id`, `type`, `data`) and queues its signal; a malformed one is
    /// logged and skipped, as Debezium does.
    fn queue_signal(&mut self, columns: &[wal2json::Column<'_>]) {
        let text = |name: &str| {
            columns
                .iter()
                .find(|c| c.name == name)
                .and_then(|c| match &c.value {
                    wal2json::Value::String(s) => Some(s.to_string()),
                    wal2json::Value::Number(n) => Some((*n).to_owned()),
                    _ => None,
                })
        };
        let id = text("id").unwrap_or_default();
        let kind = text("type").unwrap_or_default();
        match Signal::parse(&id, &kind, text("data").as_deref()) {
            Ok(signal) => self.signals.push(signal),
            Err(err) => warn!(error = %err, "signal skipped"),
        }
    }

    /// Whether the table filters capture `schema.table`, remembered per table.
    fn captures(&mut self, schema: &str, table: &str) -> bool {
        if self
            .encoders
            .iter()
            .any(|e| e.schema == schema && e.name == table)
        {
            return true;
        }
        if self
            .uncaptured
            .iter()
            .any(|(s, t)| s == schema && t == table)
        {
            return false;
        }
        let captured = self.settings.filters.tables.captures(schema, table);
        if !captured {
            self.uncaptured.push((schema.to_owned(), table.to_owned()));
        }
        captured
    }

    /// The encoder of the table `change` belongs to; for a table no longer in the catalog (dropped,
    /// renamed or moved since the change was written: decoding names it as it was then), one built
    /// from the change itself — names, types, key, nullability — not cached, so a table created
    /// under that name later is read from the catalog.
    async fn change_encoder(
        &mut self,
        change: &wal2json::Change<'_>,
        refresh: bool,
    ) -> Result<Arc<Encoder>, RelayError> {
        match self.encoder(&change.schema, &change.table, refresh).await {
            Err(RelayError::Slot(SlotError::UnknownTable { table })) => {
                warn!(%table, "table no longer in the catalog; encoding its change from the change");
                self.build_encoder(TableSchema::from_change(change))
                    .map(Arc::new)
                    .map_err(|source| RelayError::Schema { table, source })
            }
            found => found,
        }
    }

    /// The encoder of `schema.table`, built from the catalog the first time (or again on
    /// `refresh`).
    async fn encoder(
        &mut self,
        schema: &str,
        table: &str,
        refresh: bool,
    ) -> Result<Arc<Encoder>, RelayError> {
        let cached = self
            .encoders
            .iter()
            .position(|e| e.schema == schema && e.name == table);
        if !refresh && let Some(i) = cached {
            return Ok(Arc::clone(&self.encoders[i]));
        }
        let table_schema = self.source.table_schema(schema, table).await?;
        let encoder =
            Arc::new(
                self.build_encoder(table_schema)
                    .map_err(|source| RelayError::Schema {
                        table: format!("{schema}.{table}"),
                        source,
                    })?,
            );
        match cached {
            Some(i) => self.encoders[i] = Arc::clone(&encoder),
            None => self.encoders.push(Arc::clone(&encoder)),
        }
        Ok(encoder)
    }

    /// The encoder of `definition` under the column filters and `message.key.columns`.
    fn build_encoder(&self, definition: TableSchema) -> Result<Encoder, walbridge_event::Error> {
        let (schema, table) = (definition.schema(), definition.table());
        let filters = &self.settings.filters;
        let mut shaped = definition.clone();
        if !filters.columns.is_everything() {
            shaped = shaped.with_value_columns(|c| filters.columns.keeps(schema, table, &c.name));
        }
        if let Some(key) = filters.key_columns.for_table(
            schema,
            table,
            definition.columns().iter().map(|c| c.name.as_str()),
        ) {
            shaped = shaped.with_message_key(&key)?;
        }
        let encoder = TableEncoder::new(&shaped, &self.settings.encoder)?;
        Ok(Encoder {
            schema: schema.to_owned(),
            name: table.to_owned(),
            topic: Arc::from(encoder.topic()),
            table: encoder,
            definition,
        })
    }
}

/// Appends the records of one encoded change (or truncate), numbered from `at`.
fn push_records(
    topic: &Arc<str>,
    encoded: &walbridge_event::envelope::EncodedChange,
    buf: &[u8],
    at: Position,
    pending: &mut Vec<OutRecord>,
) {
    for (i, record) in encoded.records(buf).enumerate() {
        pending.push(OutRecord {
            topic: Arc::clone(topic),
            key: record.key.map(<[u8]>::to_vec),
            value: record.value.map(<[u8]>::to_vec),
            headers: record
                .header
                .map(|(name, bytes)| vec![(name, bytes.to_vec())])
                .unwrap_or_default(),
            lsn: at.lsn,
            position: Position {
                record: i as u8,
                ..at
            },
        });
    }
}

/// Whether a snapshot chunk failed for a reason of its table that retrying will not cure: the
/// table is gone or changed its key, or PostgreSQL refused the query (a bad `additional-conditions`
/// filter, a missing privilege, a value the key cannot be read back as) rather than being unreachable.
fn persistent_for_table(err: &RelayError) -> bool {
    match err {
        RelayError::Schema { .. } => true,
        RelayError::Slot(
            SlotError::UnknownTable { .. }
            | SlotError::SnapshotKeyless { .. }
            | SlotError::SnapshotKeyChanged { .. }
            | SlotError::Schema { .. },
        ) => true,
        RelayError::Slot(SlotError::Query { source, .. }) => {
            source.as_db_error().is_some_and(|db| {
                // SQLSTATE classes: syntax or access rule (42), data exception (22), cardinality (21),
                // feature not supported (0A).
                let class = &db.code().code()[..2];
                matches!(class, "42" | "22" | "21" | "0A")
            })
        }
        _ => false,
    }
}

enum RowOutcome {
    Change,
    Commit(Lsn),
    Other,
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;
