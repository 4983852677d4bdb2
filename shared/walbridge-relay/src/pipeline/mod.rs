//! The data path of one invocation, top to bottom ([`Relay::run`]): start where the checkpoint and
//! the slot agree, then per window: peek → decode → envelope → publish → checkpoint → advance,
//! with a snapshot's chunks read between windows, until the slot is caught up or the time budget
//! runs out. Its parts: `recovery` (where to start, and the stream's identity), `window` (one
//! window of the slot, row by row; transaction metadata), `message` (logical decoding messages),
//! `snapshot` (planning, chunks, signals), `report`.
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
//!
//! The source may have decoded a window ahead, from a temporary copy of the slot, while the one before
//! was published: copies never move the slot, and such a window is read only when the slot stands
//! where it begins, so the argument above is the slot's alone.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tracing::{Instrument, info, info_span};
use walbridge_config::{Filters, MismatchStrategy, Plugin, Regex, SnapshotMode};
use walbridge_event::Lsn;
use walbridge_event::envelope::{EncoderConfig, TransactionCounts, TransactionEncoder};

use crate::checkpoint::{Checkpoint, CheckpointStore, FORMAT_VERSION, InvocationProgress};
use crate::error::RelayError;
use crate::position::StreamId;
use crate::sink::{EventSink, OutRecord};
use crate::snapshot::{Signal, SnapshotProgress};
use crate::source::{ChangeSource, RowBatch, Server};

mod heartbeat;
mod message;
mod recovery;
mod report;
mod snapshot;
mod window;

pub use heartbeat::{HeartbeatAction, HeartbeatSettings};
pub use report::InvocationReport;
use snapshot::PendingChunk;
use window::{Committed, Encoder};

/// Settings of the data path.
#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// The slot's name: part of the stream's identity and of the checkpoint, which must match it.
    pub slot: String,
    /// The database the slot decodes: part of the stream's identity and of the checkpoint.
    pub database: String,
    /// The slot's output plugin: part of the stream's identity ([`StreamId::of`]).
    pub plugin: Plugin,
    /// How changes become Debezium's records (topics, schemas, value modes, envelope version).
    pub encoder: EncoderConfig,
    /// `upto_nchanges` of one peek; 0: no row limit (the source bounds the WAL a window decodes).
    pub window_max_changes: u32,
    /// No new window starts when less than this remains before the deadline.
    pub time_margin: Duration,
    /// What to do when the checkpoint and the slot disagree.
    pub mismatch: MismatchStrategy,
    /// When and how the existing rows are read.
    pub snapshot: SnapshotSettings,
    /// Which tables and columns are captured, how they are keyed, which operations are skipped.
    pub filters: Arc<Filters>,
    /// `heartbeat.interval.ms` and the heartbeat topic; `None` when heartbeats are off.
    pub heartbeat: Option<HeartbeatSettings>,
}

/// A polling invocation's schedule: once caught up, the relay passes over the slot again an
/// `interval` after the last pass began (at once when a pass took longer) until `until`, on the
/// same connection, lock and state, so a pass that finds no new WAL costs one query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Polling {
    /// `poll.interval.ms`.
    pub interval: Duration,
    /// No pass starts after this.
    pub until: Instant,
}

impl Polling {
    /// When the pass after one that began at `last` begins, if before `until`.
    fn next(&self, last: Instant, now: Instant) -> Option<Instant> {
        let next = (last + self.interval).max(now);
        (!self.interval.is_zero() && next < self.until).then_some(next)
    }
}

/// When and how the existing rows are read.
#[derive(Debug, Clone)]
pub struct SnapshotSettings {
    /// `snapshot.mode`: when a snapshot starts and whether changes are streamed.
    pub mode: SnapshotMode,
    /// `snapshot.include.collection.list`, over `schema.table`; empty = every captured table.
    pub include: Vec<Regex>,
    /// Rows per chunk of an initial snapshot (`snapshot.fetch.size`)…
    pub chunk_rows: u32,
    /// …and of one a signal asked for (`incremental.snapshot.chunk.size`).
    pub incremental_chunk_rows: u32,
    /// Start a new snapshot whatever the checkpoint says (`always` at a cold start).
    pub start_now: bool,
    /// `signal.data.collection`: the signal table (schema, table), whose inserts are signals.
    pub signal_table: Option<(String, String)>,
}

#[cfg(test)]
impl SnapshotSettings {
    /// No snapshot ever: stream only (the chunk sizes at their keys' defaults).
    pub fn none() -> Self {
        use walbridge_config::keys::{INCREMENTAL_SNAPSHOT_CHUNK_SIZE, SNAPSHOT_FETCH_SIZE};
        let default = |key: walbridge_config::keys::Key| key.default.and_then(|d| d.parse().ok());
        Self {
            mode: SnapshotMode::NoData,
            include: Vec::new(),
            chunk_rows: default(SNAPSHOT_FETCH_SIZE).expect("a number"),
            incremental_chunk_rows: default(INCREMENTAL_SNAPSHOT_CHUNK_SIZE).expect("a number"),
            start_now: false,
            signal_table: None,
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
    /// With transaction metadata on, the BEGIN/END writer and its topic.
    transactions: Option<TransactionEncoder>,
    transaction_topic: Arc<str>,
    /// The events of the transaction being read, counted for its `transaction` blocks and END.
    txn_counts: TransactionCounts,
    /// The logical decoding messages' encoder, once one is published.
    messages: Option<message::Messages>,
    /// With heartbeats on, their writer and `heartbeat.action.query`.
    heartbeats: Option<heartbeat::Heartbeats>,
    /// Whether and how often to pass over the slot again once caught up.
    polling: Option<Polling>,
}

/// What one invocation carries from window to window.
#[derive(Debug)]
struct Run {
    report: InvocationReport,
    started: Instant,
    started_at_ms: i64,
    server: Server,
    /// The checkpoint's epoch, part of the [`StreamId`].
    epoch: Option<u64>,
    /// Where the slot stands: every change before it is in Kafka.
    confirmed: Lsn,
    last_commit: Option<Committed>,
    snapshot: Option<SnapshotProgress>,
    /// Something the next checkpoint must record even if the slot does not move.
    progressed: bool,
    /// Windows in a row that the pending chunk waited for the server to flush its WAL.
    chunk_waits: u32,
    /// When the last heartbeat was made (ms since the epoch), this invocation or an earlier one.
    last_heartbeat_ms: Option<i64>,
    /// Buffers reused from window to window: rows read, records to publish, encoding scratch.
    rows: RowBatch,
    /// pgoutput's decoding state (the relations a window's messages described).
    decoder: walbridge_event::pgoutput::Decoder,
    pending: Vec<OutRecord>,
    buf: Vec<u8>,
}

impl Run {
    /// Whether a snapshot has chunks left to read now.
    fn snapshotting(&self) -> bool {
        (self.snapshot.as_ref()).is_some_and(|s| !s.is_complete() && !s.paused)
    }
}

/// Where one window ended.
#[derive(Debug)]
struct WindowEnd {
    /// The window's upper bound.
    upto: Lsn,
    /// The window held every transaction that committed before `upto`.
    complete: bool,
    /// `upto` was as far as the server's WAL went when the window opened.
    reaches_end: bool,
    /// Where the slot may move: past the last transaction read whole (or to `upto`).
    target: Option<Lsn>,
    /// Records were published past `target` (non-transactional messages after the last
    /// transaction of a window cut short): the next window reads them again.
    replays: bool,
}

impl WindowEnd {
    /// No window read (snapshot only, or no WAL after the slot): the stream stays where it is.
    fn unread(confirmed: Lsn) -> Self {
        Self {
            upto: confirmed,
            complete: true,
            reaches_end: true,
            target: None,
            replays: false,
        }
    }

    /// How far the stream has come: every change before it is in Kafka once this window is.
    fn stream_at(&self, confirmed: Lsn) -> Lsn {
        self.target.unwrap_or(confirmed).max(confirmed)
    }
}

impl<S: ChangeSource, K: EventSink, C: CheckpointStore> Relay<S, K, C> {
    /// A relay reading `source`, publishing to `sink` and checkpointing to `store`; nothing is
    /// read or written until it runs.
    pub fn new(source: S, sink: K, store: C, settings: RelaySettings) -> Self {
        let transactions = settings.encoder.transaction_encoder();
        let heartbeats =
            (settings.heartbeat.as_ref()).map(|h| heartbeat::Heartbeats::new(h, &settings.encoder));
        Self {
            heartbeats,
            transaction_topic: Arc::from(transactions.as_ref().map_or("", |t| t.topic())),
            transactions,
            txn_counts: TransactionCounts::default(),
            source,
            sink,
            store,
            settings,
            encoders: Vec::new(),
            uncaptured: Vec::new(),
            pending_chunk: None,
            signals: Vec::new(),
            stream: StreamId::default(),
            messages: None,
            polling: None,
        }
    }

    /// Once caught up, passes over the slot again on `polling`'s schedule instead of returning.
    pub fn poll(&mut self, polling: Polling) {
        self.polling = Some(polling);
    }

    /// Queues signals to carry out after the first window (an invocation's own request).
    pub fn signal(&mut self, signals: impl IntoIterator<Item = Signal>) {
        self.signals.extend(signals);
    }

    /// Runs `action` (`heartbeat.action.query`) with each heartbeat; nothing when heartbeats are off.
    pub fn heartbeat_action(&mut self, action: Box<dyn HeartbeatAction>) {
        if let Some(heartbeats) = &mut self.heartbeats {
            heartbeats.action = Some(action);
        }
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
        let mut run = self.start().await?;
        let streams = self.settings.snapshot.mode.streams();
        let stop = stop_time(deadline, self.settings.time_margin);
        self.sink.begin();
        // An earlier invocation may have died after Kafka took part of the first window.
        self.sink.skip_landed(true);
        let mut pass_began = run.started;
        while Instant::now() < stop {
            run.report.caught_up = false;
            // Before any chunk: a stop or pause must be able to end a snapshot whose chunks fail.
            self.apply_queued_signals(&mut run).await?;
            self.read_next_chunk(&mut run).await?;
            let window = if streams {
                self.stream_window(&mut run, stop).await?
            } else {
                WindowEnd::unread(run.confirmed)
            };
            // Records a crashed invocation left behind can only be among the first window's, and
            // what this window published past where the slot moves among the next one's.
            self.sink.skip_landed(window.replays);
            self.apply_queued_signals(&mut run).await?;
            self.publish_ready_chunk(&mut run, &window).await?;
            if streams {
                let stream_at = window.stream_at(run.confirmed);
                self.beat_if_due(&mut run, stream_at).await?;
            }
            let moved = self.commit(&mut run, &window).await?;
            if window.complete
                && window.reaches_end
                && !run.snapshotting()
                && self.signals.is_empty()
            {
                run.report.caught_up = true;
                let next = (self.polling).and_then(|p| p.next(pass_began, Instant::now()));
                let Some(pass) = next.filter(|pass| *pass < stop) else {
                    break;
                };
                tokio::time::sleep_until(pass.into()).await;
                (pass_began, run.report.polls) = (pass, run.report.polls + 1);
                continue;
            }
            self.wait_for_chunk(&mut run, &window, moved, stop).await;
        }
        self.finish(run).await
    }

    /// Records what is in Kafka in the checkpoint, then moves the slot there: in this order, so
    /// the slot never passes a change the checkpoint does not say is in Kafka (the crash points
    /// above). Returns whether the slot moved.
    async fn commit(&mut self, run: &mut Run, window: &WindowEnd) -> Result<bool, RelayError> {
        let moved = window.target.filter(|t| *t > run.confirmed);
        if moved.is_none() && !run.progressed {
            return Ok(false);
        }
        let checkpoint = Checkpoint {
            version: FORMAT_VERSION,
            slot: self.settings.slot.clone(),
            database: self.settings.database.clone(),
            lsn: window.stream_at(run.confirmed),
            previous_lsn: Some(run.confirmed),
            server: Some(run.server.id.clone()),
            timeline: Some(run.server.timeline),
            last_commit_lsn: run.last_commit.map(|c| c.lsn),
            last_commit_time_us: run.last_commit.and_then(|c| c.time_us),
            written_at_ms: now_us() / 1000,
            invocation: Some(InvocationProgress {
                started_at_ms: run.started_at_ms,
                changes: run.report.changes,
                events: run.report.events,
                windows: run.report.windows,
            }),
            snapshot: run.snapshot.clone(),
            epoch: run.epoch,
            last_heartbeat_ms: run.last_heartbeat_ms,
        };
        self.store.save(&checkpoint).await?;
        fail::fail_point!("relay::checkpointed");
        run.progressed = false;
        let Some(target) = moved else {
            return Ok(false);
        };
        self.source.advance(target).await?;
        fail::fail_point!("relay::advanced");
        run.confirmed = target;
        Ok(true)
    }

    /// The report, with where the slot stands now.
    async fn finish(&mut self, run: Run) -> Result<InvocationReport, RelayError> {
        let end = self.source.position().await?;
        let mut report = run.report;
        report.end_lsn = end.confirmed.to_string();
        report.lag_bytes = end.current.0.saturating_sub(end.confirmed.0);
        report.duration_ms = run.started.elapsed().as_millis() as u64;
        report.last_commit_ms = run.last_commit.and_then(|c| c.time_us).map(|us| us / 1000);
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
}

/// When to stop starting work: `margin` before `deadline` — but a short budget (Lambda's default
/// timeout is 3 s) keeps only a quarter of itself as margin, so it still relays.
pub(crate) fn stop_time(deadline: Instant, margin: Duration) -> Instant {
    deadline - margin.min(deadline.saturating_duration_since(Instant::now()) / 4)
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

#[cfg(test)]
mod tests;
