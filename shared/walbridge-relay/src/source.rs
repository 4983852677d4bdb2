//! The change source seam: a logical replication slot read in bounded windows.

use walbridge_event::pgoutput::TypeNames;
use walbridge_event::{Lsn, TableSchema};

use crate::error::SlotError;
use crate::snapshot::{CapturedTable, ChunkRead};

/// Rows of a window, stored back to back in buffers reused from fetch to fetch, so reading a row
/// costs no allocation: wal2json's `data` texts, or pgoutput's binary messages with their LSNs.
#[derive(Debug, Default, Clone)]
pub struct RowBatch {
    text: String,
    bytes: Vec<u8>,
    ends: Vec<usize>,
    /// pgoutput: each message's LSN.
    lsns: Vec<Lsn>,
    /// pgoutput: the names of the column types Relation messages named, kept across fetches.
    types: TypeNames,
}

/// One row of a [`RowBatch`].
#[derive(Debug, Clone, Copy)]
pub enum RawRow<'a> {
    /// A wal2json `data` text.
    Wal2json(&'a str),
    /// A pgoutput message.
    Pgoutput {
        /// The message.
        data: &'a [u8],
        /// The row's LSN (a change's own).
        lsn: Lsn,
    },
}

impl RowBatch {
    /// Appends one wal2json row's text.
    pub fn push(&mut self, data: &str) {
        self.text.push_str(data);
        self.ends.push(self.text.len());
    }

    /// Appends one pgoutput message.
    pub fn push_binary(&mut self, data: &[u8], lsn: Lsn) {
        self.bytes.extend_from_slice(data);
        self.ends.push(self.bytes.len());
        self.lsns.push(lsn);
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
        self.bytes.clear();
        self.ends.clear();
        self.lsns.clear();
    }

    /// The rows, in the order they were pushed.
    pub fn iter(&self) -> impl Iterator<Item = RawRow<'_>> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .enumerate()
            .map(|(i, (start, end))| match self.lsns.get(i) {
                Some(&lsn) => RawRow::Pgoutput {
                    data: &self.bytes[start..end],
                    lsn,
                },
                None => RawRow::Wal2json(&self.text[start..end]),
            })
    }

    /// The column type names pgoutput's Relation messages need.
    pub fn types(&self) -> &TypeNames {
        &self.types
    }

    /// The same, to add the names of new types.
    pub fn types_mut(&mut self) -> &mut TypeNames {
        &mut self.types
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

/// Where an open window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowBound {
    /// The window's upper bound: it holds the transactions that committed before it.
    pub upto: Lsn,
    /// Whether `upto` is as far as the server's WAL went when the window opened (else the window
    /// was cut shorter, to bound how much WAL one window decodes).
    pub reaches_end: bool,
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

    /// Starts a window of at most `max_changes` rows (0: no row limit; PostgreSQL only stops at a
    /// transaction boundary, so one large transaction can exceed it) up to an LSN no further than
    /// the WAL the server has flushed, which it returns: a window that yields fewer rows than
    /// `max_changes` is complete up to that LSN. `None`, having opened nothing, when no WAL was
    /// written after the slot's position (so a poll that finds nothing costs one query).
    async fn open_window(&mut self, max_changes: u32) -> Result<Option<WindowBound>, SlotError>;

    /// Appends the next rows of the open window to `rows` (a bounded number); returns `false`, having
    /// closed the window, when it has no more rows.
    async fn fetch(&mut self, rows: &mut RowBatch) -> Result<bool, SlotError>;

    /// The last fetch's `rows` came to `event_bytes` of events: a source may ask for fewer rows
    /// next, so that the events of one fetch stay few enough to be written while still in the
    /// processor's cache.
    fn fetched_events(&mut self, _rows: usize, _event_bytes: usize) {}

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

    async fn open_window(&mut self, max_changes: u32) -> Result<Option<WindowBound>, SlotError> {
        (**self).open_window(max_changes).await
    }

    async fn fetch(&mut self, rows: &mut RowBatch) -> Result<bool, SlotError> {
        (**self).fetch(rows).await
    }

    fn fetched_events(&mut self, rows: usize, event_bytes: usize) {
        (**self).fetched_events(rows, event_bytes);
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
