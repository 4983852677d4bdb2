use serde::{Deserialize, Serialize};

use crate::source::SlotPosition;

/// What one invocation did; the function returns it as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Windows of them PostgreSQL decoded while the one before was published (on a backlog).
    #[serde(default)]
    pub windows_read_ahead: u32,
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
    /// Wall-clock time the invocation took, ms.
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
    /// Heartbeat records published (`heartbeat.interval.ms`).
    #[serde(default)]
    pub heartbeats: u64,
    /// Runs of `heartbeat.action.query` that failed (logged with their SQLSTATE; never fatal).
    #[serde(default)]
    pub heartbeat_query_errors: u64,
}

impl InvocationReport {
    /// This report followed by `next`, a later pass of the same invocation.
    pub fn then(self, next: InvocationReport) -> InvocationReport {
        InvocationReport {
            changes: self.changes + next.changes,
            events: self.events + next.events,
            snapshot_rows: self.snapshot_rows + next.snapshot_rows,
            windows: self.windows + next.windows,
            windows_read_ahead: self.windows_read_ahead + next.windows_read_ahead,
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
            heartbeats: self.heartbeats + next.heartbeats,
            heartbeat_query_errors: self.heartbeat_query_errors + next.heartbeat_query_errors,
        }
    }

    /// The report of an invocation that did nothing because of `reason`, with the slot where it
    /// stands (`position`) and the last relayed commit's time when the checkpoint knows it: a
    /// skipped invocation still reports the lag it leaves.
    pub fn skipped(reason: String, position: SlotPosition, last_commit_ms: Option<i64>) -> Self {
        let lag_bytes = position.current.0.saturating_sub(position.confirmed.0);
        Self {
            start_lsn: position.confirmed.to_string(),
            end_lsn: position.confirmed.to_string(),
            caught_up: lag_bytes == 0,
            lag_bytes,
            last_commit_ms,
            skipped: Some(reason),
            ..Self::default()
        }
    }
}
