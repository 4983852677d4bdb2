//! The PostgreSQL side: one connection per invocation, the preconditions checked with errors that name
//! the fix, an advisory lock that fences concurrent invocations, and the slot read in windows through a
//! server-side cursor over `pg_logical_slot_peek_changes` (wal2json) or
//! `pg_logical_slot_peek_binary_changes` (pgoutput, through its publication), so memory stays
//! bounded however large a transaction is.
//!
//! Every user-supplied value (slot name, table list, schema and table names) is passed as a query
//! parameter, never spliced into SQL — but in a publication's DDL, which takes no parameters: there
//! each name is quoted as an identifier (`publication::quote_ident`).

use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tokio_postgres::Client;
use tracing::warn;
use walbridge_config::{
    DatabaseConfig, Plugin, PublicationConfig, SkippedOperations, SlotConfig, TableFilter,
    TablePattern,
};

use crate::error::SlotError;

mod catalog;
mod chunk;
mod connection;
mod health;
mod heartbeat;
mod preconditions;
mod publication;
mod running_xacts;
mod scout;
mod sizing;
mod window;

pub use catalog::MatchedTable;
use connection::{connect, server_version, verify_session};
pub use health::{IdleSlotTimeout, SlotHealth};
pub use heartbeat::PgHeartbeatQuery;
use preconditions::{check_partitioned, resolve_pushdown};
pub use running_xacts::RecordWay;
pub use scout::READERS as READ_AHEAD_READERS;

/// The wal2json options of every peek (format-version 2, one JSON object per row).
const WAL2JSON_OPTIONS: &str = "'format-version', '2', 'include-xids', '1', 'include-timestamp', '1', \
     'include-lsn', '1', 'include-pk', '1', 'include-transaction', '1', 'include-type-oids', '1', \
     'include-not-null', '1'";

/// The pgoutput options of every peek besides the publication: protocol version 1 (no
/// streaming of transactions in progress, which a window never reads), with logical decoding
/// messages.
const PGOUTPUT_OPTIONS: &str = "'proto_version', '1', 'messages', 'true'";

/// Added on servers whose wal2json has it: numbers as their text in JSON strings, so that a float's
/// `NaN` and `±Infinity` arrive (as JSON numbers wal2json can only write them as `null`).
const WAL2JSON_NUMBERS_AS_TEXT: &str = ", 'numeric-data-types-as-string', '1'";

/// The first major whose wal2json is sure to have `numeric-data-types-as-string`: wal2json supports
/// PostgreSQL 17 from 2.6 on, and 2.6 has the option; an older server may run an older wal2json, and
/// an option wal2json does not know fails the peek.
const NUMBERS_AS_TEXT_SINCE: i32 = 170_000;

/// Session settings that make value texts deterministic (the same as pgjdbc's, hence Debezium's):
/// each setting, and what `current_setting` must then say (`DateStyle` keeps the database's field
/// order, which ISO output does not use). `lc_monetary` decides how `money` is printed.
const SESSION_SETTINGS: [(&str, &str); 7] = [
    ("TimeZone", "UTC"),
    ("DateStyle", "ISO"),
    ("IntervalStyle", "postgres"),
    ("extra_float_digits", "3"),
    ("bytea_output", "hex"),
    ("standard_conforming_strings", "on"),
    ("lc_monetary", "C"),
];

/// How far the server's WAL has come, in SQL: on a primary what it has written, on a hot standby
/// (which writes none of its own) what it has replayed, which is as far as decoding there can read.
/// Evaluated per statement, so a standby promoted during an invocation is followed.
const WAL_WRITTEN: &str =
    "(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)";

/// As [`WAL_WRITTEN`], the WAL flushed to disk: what a window may decode up to.
const WAL_FLUSHED: &str = "(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() \
     ELSE pg_current_wal_flush_lsn() END)";

/// As [`WAL_WRITTEN`], the WAL inserted (not yet necessarily written): where a snapshot chunk's
/// transactions end at the latest.
const WAL_INSERTED: &str = "(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() \
     ELSE pg_current_wal_insert_lsn() END)";

/// The first major that decodes on a hot standby.
const STANDBY_DECODING_SINCE: i32 = 160_000;

/// The first major with `pg_log_standby_snapshot()`, which writes a running-transactions record
/// ([`running_xacts`]).
const LOG_SNAPSHOT_SINCE: i32 = 160_000;

/// WAL between the slot's restart point and the end of the WAL from which a window writes a
/// running-transactions record ([`running_xacts`]): every peek and advance decodes that stretch
/// again. Small: under a steady writer a polling window spans about a megabyte, and a stretch
/// several times that was most of each window's decoding; the record costs a round trip (a few ms
/// through a temporary slot).
const LOG_SNAPSHOT_FROM: u64 = 1 << 20;

/// The first major with failover slots (`pg_create_logical_replication_slot`'s `failover`).
const FAILOVER_SINCE: i32 = 170_000;

/// What a statement under the invocation's timeout keeps of the remaining time at most: the
/// timeout leaves this (or half the remaining time, if less) for the error to be reported.
const TIMEOUT_RESERVE: Duration = Duration::from_secs(1);

/// The shortest `statement_timeout`: a window that began before the time ran out is still
/// published, checkpointed and advanced after it (a local run's budget is not a hard limit), and
/// that advance must not fail for a timeout of a few ms. On Lambda the function ends at its
/// deadline anyway; this only bounds how long the server goes on waiting after it.
const TIMEOUT_FLOOR: Duration = Duration::from_secs(2);

/// First half of the advisory lock key: "WALB". The second half is `hashtext(slot name)`.
const ADVISORY_LOCK_CLASS: i32 = 0x5741_4C42;

const CURSOR: &str = "walbridge_window";

/// About how many bytes of rows one fetch of a window holds (besides `window.fetch.rows`): rows of
/// 100 KB fetched 2 000 at a time would need hundreds of MB, more than a small function has.
const FETCH_BYTES: usize = 8 << 20;

/// About how many bytes of events one fetch's rows come to (besides [`FETCH_BYTES`]): a fetch's
/// events are written to Kafka (copied into their batches, compressed) after all its rows were
/// processed, and those of a fetch larger than the processor's cache come back from memory. With
/// JsonConverter's schemas, 2 000 rows of 1 000-row transactions came to 8 MB of events; a quarter
/// of that cost a tenth less CPU per change.
const FETCH_EVENT_BYTES: usize = 2 << 20;

/// Rows the first fetch asks for, before the rows' width is known.
const FIRST_FETCH_ROWS: usize = 256;

/// About how many bytes of rows one snapshot chunk holds (besides its row limit): the chunk stays in
/// memory until the stream has passed it.
const CHUNK_BYTES: usize = 32 << 20;

/// Whether the server cancelled a statement for its `statement_timeout`.
fn timed_out(err: &tokio_postgres::Error) -> bool {
    err.code() == Some(&tokio_postgres::error::SqlState::QUERY_CANCELED)
        && err
            .as_db_error()
            .is_some_and(|db| db.message().contains("statement timeout"))
}

/// The error of a statement on (or for) `slot` that failed `action`.
fn query_error(
    slot: &str,
    action: &'static str,
) -> impl FnOnce(tokio_postgres::Error) -> SlotError {
    let slot = slot.to_owned();
    move |source| SlotError::Query {
        action,
        slot,
        source,
    }
}

/// A `statement_timeout` in ms that ends before `left` has passed: [`TIMEOUT_RESERVE`] (or half
/// of `left`, if less) before — but never under [`TIMEOUT_FLOOR`].
fn timeout_within(left: Duration) -> u64 {
    let timeout = left.saturating_sub(TIMEOUT_RESERVE.min(left / 2));
    timeout.max(TIMEOUT_FLOOR).as_millis() as u64
}

/// Rows of `row_bytes` each that fit in `budget`: at least 1, at most `max`.
fn rows_within(budget: usize, row_bytes: usize, max: usize) -> usize {
    (budget / row_bytes.max(1)).clamp(1, max.max(1))
}

/// Whether changes of partitions are named by their partitioned root: a pgoutput publication with
/// `publish_via_partition_root` (wal2json names leaf partitions only; the configuration refuses
/// `publish.via.partition.root=true` with it).
fn via_root(slot: &SlotConfig) -> bool {
    slot.plugin == Plugin::Pgoutput && slot.publication.via_root
}

/// A wal2json or pgoutput logical replication slot, read over one PostgreSQL connection.
#[derive(Debug)]
pub struct PgSlot {
    client: Client,
    connection: JoinHandle<()>,
    slot: String,
    database: String,
    plugin: Plugin,
    /// pgoutput: the publication, and what it must carry (the captured tables, the signal table,
    /// the operations not skipped).
    publication: PublicationConfig,
    /// Whether changes of partitions are named by their partitioned root ([`via_root`]).
    via_root: bool,
    tables: TableFilter,
    signal_table: Option<TablePattern>,
    skipped: SkippedOperations,
    /// wal2json `add-tables`, from `table.include.list` when it names tables literally.
    add_tables: Option<String>,
    /// `server_version_num`.
    server_version: i32,
    /// Whether the server was a hot standby (in recovery) when connected.
    in_recovery: bool,
    /// `slot.failover`.
    failover: bool,
    /// The invocation's deadline: with a failover slot, statements that can wait on others (a
    /// peek waits for the standbys of `synchronized_standby_slots`) run under a
    /// `statement_timeout` that ends before it.
    deadline: Option<Instant>,
    /// The `statement_timeout` of the open window's transaction, ms.
    window_timeout: Option<u64>,
    /// `window.fetch.rows`: the most rows one fetch asks for…
    fetch_rows: usize,
    /// …and how many the next one asks for: fewer when rows are wide, so one fetch holds about
    /// [`FETCH_BYTES`].
    next_fetch_rows: usize,
    window: WindowState,
    /// How much WAL the next window decodes.
    sizing: sizing::WindowSizing,
    /// Whether the server's `idle_replication_slot_timeout` is on, read once the first pass finds
    /// no WAL after the slot.
    idle_timeout_on: Option<bool>,
    /// How a window writes a running-transactions record when the restart point lags.
    record_writer: running_xacts::RecordWriter,
    /// Where the last running-transactions record this connection wrote ends: no other is written
    /// while the slot stands before it.
    record_ahead: Option<walbridge_event::Lsn>,
    /// The next window decoded while this one is read, and its readers.
    /// (Boxed: the invocation's future holds the slot, and stays small.)
    read_ahead: Box<scout::ReadAhead>,
    /// Where this connection last moved the slot.
    advanced_to: Option<walbridge_event::Lsn>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WindowState {
    Closed,
    Open,
    /// The last fetch returned every remaining row; the cursor is closed.
    Drained,
}

impl PgSlot {
    /// Connects with the session settings walbridge decodes under.
    ///
    /// # Errors
    /// [`SlotError::Connect`] when PostgreSQL cannot be reached or refuses the credentials.
    pub async fn connect(
        database: &DatabaseConfig,
        slot: &SlotConfig,
        tables: &TableFilter,
        fetch_rows: u32,
    ) -> Result<Self, SlotError> {
        let (client, connection) = connect(database).await?;
        verify_session(&client).await?;
        let (server_version, in_recovery) = server_version(&client).await?;
        let via_root = via_root(slot);
        check_partitioned(&client, tables, via_root).await?;
        let pushdown = tables.pushdown();
        let add_tables = if pushdown.is_empty() {
            None
        } else {
            Some(resolve_pushdown(&client, pushdown).await?.join(","))
        };
        Ok(Self {
            client,
            connection,
            slot: slot.name.clone(),
            database: database.dbname.clone(),
            plugin: slot.plugin,
            publication: slot.publication.clone(),
            via_root,
            tables: tables.clone(),
            signal_table: None,
            skipped: SkippedOperations::default(),
            add_tables,
            server_version,
            in_recovery,
            failover: slot.failover,
            deadline: None,
            window_timeout: None,
            fetch_rows: fetch_rows as usize,
            next_fetch_rows: (fetch_rows as usize).min(FIRST_FETCH_ROWS),
            window: WindowState::Closed,
            sizing: sizing::WindowSizing::default(),
            idle_timeout_on: None,
            record_writer: running_xacts::RecordWriter::for_server(server_version, in_recovery),
            record_ahead: None,
            read_ahead: Box::new(scout::ReadAhead::new(
                database.clone(),
                slot.name.clone(),
                slot.failover,
            )),
            advanced_to: None,
        })
    }

    /// What the publication of a pgoutput slot must carry besides the captured tables: the signal
    /// table, and the operations `skipped` does not leave out.
    pub fn expect_in_publication(
        &mut self,
        signal_table: Option<TablePattern>,
        skipped: SkippedOperations,
    ) {
        self.signal_table = signal_table;
        self.skipped = skipped;
    }

    /// The slot's plugin, as `plugin.name` chose it.
    pub fn plugin(&self) -> Plugin {
        self.plugin
    }

    /// The error for a slot that does not exist.
    fn slot_missing(&self) -> SlotError {
        SlotError::SlotMissing {
            slot: self.slot.clone(),
            database: self.database.clone(),
            plugin: self.plugin.slot_plugin(),
        }
    }

    /// The server's `server_version_num` (170004 for 17.4).
    pub fn server_version(&self) -> i32 {
        self.server_version
    }

    /// Whether the server was a hot standby when connected.
    pub fn in_recovery(&self) -> bool {
        self.in_recovery
    }

    /// Sets the invocation's deadline: from now on every peek, advance and slot creation runs
    /// under a `statement_timeout` that ends before it.
    pub fn set_deadline(&mut self, deadline: Instant) {
        self.deadline = Some(deadline);
    }

    /// The `statement_timeout` for a statement starting now, ms: shorter than the time left before
    /// the deadline (unless that is under [`TIMEOUT_FLOOR`]); `None` without one.
    fn statement_timeout_ms(&self) -> Option<u64> {
        // Only a failover slot's statements wait on others (the standbys of
        // synchronized_standby_slots); any other slot's window that began in time is let finish,
        // however loaded the server, rather than failed.
        if !self.failover {
            return None;
        }
        let left = self.deadline?.saturating_duration_since(Instant::now());
        Some(timeout_within(left))
    }

    /// Maps a statement's error to [`SlotError::StatementTimeout`] when the server cancelled it
    /// for `statement_timeout` (`timeout_ms`), else to [`SlotError::Query`].
    fn timed_error(
        &self,
        action: &'static str,
        timeout_ms: Option<u64>,
        cause: &'static str,
    ) -> impl FnOnce(tokio_postgres::Error) -> SlotError {
        let slot = self.slot.clone();
        move |source| match timeout_ms {
            Some(timeout_ms) if timed_out(&source) => SlotError::StatementTimeout {
                action,
                slot,
                timeout_ms,
                cause,
            },
            _ => SlotError::Query {
                action,
                slot,
                source,
            },
        }
    }

    /// `SET [LOCAL] statement_timeout` to [`Self::statement_timeout_ms`]; returns it.
    async fn arm_timeout(&self, local: bool) -> Result<Option<u64>, SlotError> {
        let Some(ms) = self.statement_timeout_ms() else {
            return Ok(None);
        };
        let scope = if local { "LOCAL " } else { "" };
        self.client
            .batch_execute(&format!("SET {scope}statement_timeout = {ms}"))
            .await
            .map_err(self.query_error("set statement_timeout"))?;
        Ok(Some(ms))
    }

    /// Ends what [`Self::arm_timeout`] set for the session.
    async fn disarm_timeout(&self, armed: Option<u64>) -> Result<(), SlotError> {
        if armed.is_some() {
            self.client
                .batch_execute("RESET statement_timeout")
                .await
                .map_err(self.query_error("reset statement_timeout"))?;
        }
        Ok(())
    }

    /// The wal2json options of this server's peeks.
    fn wal2json_options(&self) -> String {
        let mut options = WAL2JSON_OPTIONS.to_owned();
        if self.server_version >= NUMBERS_AS_TEXT_SINCE {
            options.push_str(WAL2JSON_NUMBERS_AS_TEXT);
        }
        options
    }

    fn query_error(&self, action: &'static str) -> impl FnOnce(tokio_postgres::Error) -> SlotError {
        query_error(&self.slot, action)
    }
    /// Turns reading ahead off (`window.read.ahead=false`).
    pub fn no_read_ahead(&mut self) {
        self.read_ahead.turn_off_by_config();
    }

    /// Replication slots free beside those in use, and `max_replication_slots`: reading ahead makes
    /// two temporary copies of the slot at most.
    pub async fn free_replication_slots(&self) -> Result<(i64, i64), SlotError> {
        let row = self
            .client
            .query_one(
                "SELECT current_setting('max_replication_slots')::int8, \
                   (SELECT count(*) FROM pg_replication_slots)",
                &[],
            )
            .await
            .map_err(self.query_error("count the free replication slots"))?;
        let (max, used): (i64, i64) = (row.get(0), row.get(1));
        Ok((max - used, max))
    }

    /// Windows read that had been decoded ahead, while the one before was read.
    pub fn windows_read_ahead(&self) -> u32 {
        self.read_ahead.used
    }

    /// Ends the connection (and with it the advisory lock) and those of the readers ahead.
    pub async fn close(mut self) {
        self.read_ahead.shut_down();
        drop(self.client);
        if let Err(err) = self.connection.await {
            warn!(error = %err, "postgresql connection task failed");
        }
    }

    async fn end_transaction(&mut self) -> Result<(), SlotError> {
        self.window = WindowState::Closed;
        self.read_ahead.first_rows = None;
        if let Some(reader) = self.read_ahead.reading.take() {
            self.read_ahead.put_back(reader).await;
            return Ok(());
        }
        self.client
            .batch_execute("ROLLBACK")
            .await
            .map_err(self.query_error("end the window's transaction"))
    }
}

#[cfg(test)]
mod tests {
    use super::connection::session_options;
    use super::*;

    #[test]
    fn wide_rows_are_fetched_fewer_at_a_time() {
        // 100 KB rows: 8 MB hold 83 of them
        assert_eq!(rows_within(FETCH_BYTES, 100_000, 2_000), 83);
        // small rows: the row limit
        assert_eq!(rows_within(FETCH_BYTES, 300, 2_000), 2_000);
        // a row over the budget still moves on, one at a time
        assert_eq!(rows_within(FETCH_BYTES, 64 << 20, 2_000), 1);
        assert_eq!(rows_within(FETCH_BYTES, 0, 2_000), 2_000);
    }

    #[test]
    fn a_statement_timeout_ends_before_the_deadline() {
        assert_eq!(timeout_within(Duration::from_secs(60)), 59_000);
        assert_eq!(timeout_within(Duration::from_millis(4_000)), 3_000);
        assert_eq!(timeout_within(Duration::from_millis(2_500)), 2_000);
        // the advance of a window that ran past the end of the budget
        assert_eq!(timeout_within(Duration::from_millis(5)), 2_000);
        assert_eq!(
            timeout_within(Duration::ZERO),
            2_000,
            "never 0, no timeout at all"
        );
    }

    #[test]
    fn the_session_options_set_every_setting_that_is_verified() {
        let options = session_options();
        for (name, value) in SESSION_SETTINGS {
            assert!(options.contains(&format!("-c {name}={value}")), "{options}");
        }
        assert!(options.contains("-c lc_monetary=C"));
    }
}
