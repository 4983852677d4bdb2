//! The change source seam: a logical replication slot read in bounded windows.

use walbridge_event::{Lsn, TableSchema};

use crate::error::SlotError;
use crate::snapshot::{CapturedTable, ChunkRead};

/// Rows of `pg_logical_slot_peek_changes` (wal2json's `data` texts), stored back to back in one
/// buffer reused from fetch to fetch, so reading a row costs no allocation.
#[derive(Debug, Default, Clone)]
pub struct RowBatch {
    text: String,
    ends: Vec<usize>,
}

impl RowBatch {
    /// Appends one row's text.
    pub fn push(&mut self, data: &str) {
        self.text.push_str(data);
        self.ends.push(self.text.len());
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether no row is held.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Forgets the rows, keeping the buffers' capacity for the next fetch.
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    /// The rows' texts, in the order they were pushed.
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
    /// `pg_current_wal_lsn()`: how far the server has written (on a hot standby
    /// `pg_last_wal_replay_lsn()`, how far it has replayed).
    pub current: Lsn,
    /// Whether the slot was synchronized from a primary (PostgreSQL 17's `synced`): a failover
    /// slot on a standby, which keeps the flag when the standby is promoted.
    pub synced: bool,
}

/// The change source: a logical replication slot read in bounded windows.
///
/// Contract: a window holds whole transactions in commit order; rows are returned in the order
/// PostgreSQL decoded them; nothing is consumed until [`ChangeSource::advance`].
// Native async fn: the implementations are concrete types of this workspace, whose futures are
// Send; `invocations_are_send` (invocation.rs) fails to compile if one stops being.
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

/// Which PostgreSQL server and WAL history a position belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// `system_identifier`: the same for a cluster and its physical copies.
    pub id: String,
    /// The WAL timeline: a new one begins when a standby is promoted or a backup is restored to a
    /// point in time, so the same LSN can stand for other changes on another timeline.
    pub timeline: u32,
}

/// A borrowed source is a source: the caller keeps the connection (and closes it) after the relay.
impl<T: ChangeSource> ChangeSource for &mut T {
    async fn position(&mut self) -> Result<SlotPosition, SlotError> {
        (**self).position().await
    }

    async fn server(&mut self) -> Result<Server, SlotError> {
        (**self).server().await
    }

    async fn open_window(&mut self, max_changes: u32) -> Result<Lsn, SlotError> {
        (**self).open_window(max_changes).await
    }

    async fn fetch(&mut self, rows: &mut RowBatch) -> Result<bool, SlotError> {
        (**self).fetch(rows).await
    }

    async fn table_schema(&mut self, schema: &str, table: &str) -> Result<TableSchema, SlotError> {
        (**self).table_schema(schema, table).await
    }

    async fn check_filter(
        &mut self,
        schema: &str,
        table: &str,
        filter: &str,
    ) -> Result<(), SlotError> {
        (**self).check_filter(schema, table, filter).await
    }

    async fn close_window(&mut self) -> Result<(), SlotError> {
        (**self).close_window().await
    }

    async fn advance(&mut self, to: Lsn) -> Result<(), SlotError> {
        (**self).advance(to).await
    }

    async fn captured_tables(&mut self) -> Result<Vec<CapturedTable>, SlotError> {
        (**self).captured_tables().await
    }

    async fn read_chunk(
        &mut self,
        table: &TableSchema,
        after: Option<&[String]>,
        filter: Option<&str>,
        limit: u32,
        later: &[(String, String)],
    ) -> Result<ChunkRead, SlotError> {
        (**self)
            .read_chunk(table, after, filter, limit, later)
            .await
    }
}
