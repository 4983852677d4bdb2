//! The slot read in windows: the streaming half of [`ChangeSource`].

use std::time::Instant;

use tokio_postgres::types::PgLsn;
use tokio_postgres::{Client, SimpleQueryMessage};
use walbridge_config::Plugin;
use walbridge_event::{Lsn, TableSchema, pgoutput};

use super::scout::{Ahead, FirstRows};
use super::{
    CURSOR, FETCH_BYTES, FETCH_EVENT_BYTES, FIRST_FETCH_ROWS, LOG_SNAPSHOT_FROM, PGOUTPUT_OPTIONS,
    PgSlot, WAL_FLUSHED, WAL_WRITTEN, WindowState, rows_within,
};
use crate::error::SlotError;
use crate::snapshot::{CapturedTable, ChunkRead};
use crate::source::{ChangeSource, RowBatch, Server, SlotPosition, WindowBound};

/// Why a peek can outlast its timeout, and what to do.
const PEEK_WAITS: &str = "a peek of a failover slot waits until every standby named in the \
     primary's synchronized_standby_slots has confirmed the WAL it decodes: check that those \
     standbys are up and streaming (their physical slots in pg_replication_slots on the primary), \
     or take an unreachable one out of synchronized_standby_slots; a large window also takes long \
     to decode: set window.max.changes to bound it";

/// Why an advance can outlast its timeout, and what to do.
const ADVANCE_WAITS: &str = "an advance decodes the WAL up to the new position; the events are in \
     Kafka and the checkpoint, and the next invocation moves the slot to the checkpoint";

impl ChangeSource for PgSlot {
    async fn position(&mut self) -> Result<SlotPosition, SlotError> {
        let row = self
            .client
            .query_opt(
                &format!(
                    "SELECT confirmed_flush_lsn, {WAL_WRITTEN}, \
                       COALESCE((to_jsonb(s)->>'synced')::bool, false) \
                     FROM pg_replication_slots s WHERE slot_name = $1"
                ),
                &[&self.slot],
            )
            .await
            .map_err(self.query_error("read the slot position"))?
            .ok_or_else(|| self.slot_missing())?;
        let confirmed: Option<PgLsn> = row.get(0);
        let current: PgLsn = row.get(1);
        Ok(SlotPosition {
            confirmed: Lsn(confirmed.map_or(0, u64::from)),
            current: Lsn(u64::from(current)),
            synced: row.get(2),
        })
    }

    async fn server(&mut self) -> Result<Server, SlotError> {
        // On a primary the timeline is the first part of the current WAL file's name (8 hex
        // digits). A standby has no WAL of its own to name (pg_walfile_name refuses to run in
        // recovery): it follows the primary's timeline, the one it receives (its WAL receiver's,
        // visible to superusers and pg_read_all_stats) or else the one of its last restartpoint.
        let row = self
            .client
            .query_one(
                "SELECT system_identifier::text, \
                   CASE WHEN NOT pg_is_in_recovery() THEN pg_walfile_name(pg_current_wal_lsn()) END, \
                   COALESCE((SELECT received_tli FROM pg_stat_wal_receiver), \
                     (SELECT timeline_id FROM pg_control_checkpoint()))::int8 \
                 FROM pg_control_system()",
                &[],
            )
            .await
            .map_err(self.query_error("read the server's system identifier and timeline"))?;
        let timeline = match row.get::<_, Option<String>>(1) {
            Some(wal_file) => wal_file
                .get(..8)
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .ok_or_else(|| SlotError::Malformed {
                    slot: self.slot.clone(),
                    what: format!("WAL file name {wal_file:?} (expected a timeline first)"),
                })?,
            None => row
                .get::<_, Option<i64>>(2)
                .and_then(|tli| u32::try_from(tli).ok())
                .ok_or_else(|| SlotError::Malformed {
                    slot: self.slot.clone(),
                    what: "no timeline on the standby (pg_control_checkpoint)".to_owned(),
                })?,
        };
        Ok(Server {
            id: row.get(0),
            timeline,
        })
    }

    async fn open_window(&mut self, max_changes: u32) -> Result<Option<WindowBound>, SlotError> {
        if self.window != WindowState::Closed {
            self.end_transaction().await?;
        }
        let (mut flushed, confirmed, restart) = self.window_positions().await?;
        // Under PostgreSQL 18's idle_replication_slot_timeout a slot nobody acquires is
        // invalidated: then even a pass that finds no WAL peeks (which acquires the slot and
        // restarts its idle clock), at the cost of decoding the stretch from its restart point.
        if flushed <= confirmed {
            if self.idle_timeout_on.is_none() {
                self.idle_timeout_on = Some(self.idle_slot_timeout().await?.is_some());
            }
            if self.idle_timeout_on == Some(false) {
                return Ok(None);
            }
        }
        // The windows planned here decode from the restart point: when that stretch is long, a
        // running-transactions record goes first, and the end of the WAL is read after it, so the
        // window that reaches the end passes it and its advance moves the restart point there —
        // not a later pass, which would decode the stretch again to cross the record alone. None
        // while one written before lies ahead of the slot: an advance moves the restart point to
        // the first record it passes. (`pg_log_standby_snapshot()` leaves its record for the WAL
        // writer to flush: a window that reaches the end before then leaves it to the next pass.)
        if flushed.saturating_sub(restart) >= LOG_SNAPSHOT_FROM
            && self.record_ahead.is_none_or(|at| at.0 <= confirmed)
            && let Some(at) = self.log_running_transactions().await
        {
            self.record_ahead = Some(at);
            (flushed, _, _) = self.window_positions().await?;
        }
        let confirmed = Lsn(confirmed);
        // A window decoded ahead, if it continues the stream, is read instead of a new peek.
        let taken = self.read_ahead.take(confirmed, self.advanced_to).await;
        let left = (self.deadline).map(|d| d.saturating_duration_since(Instant::now()));
        let bound = if let Some((ahead, decoded, took)) = taken {
            self.sizing.decoded(ahead.decodes, took);
            self.sizing.opened_decoded(ahead.spans);
            self.window_timeout = None;
            self.read_ahead.first_rows = Some((decoded.first, decoded.asked));
            self.read_ahead.reading = Some(decoded.reader);
            self.window = WindowState::Open;
            // It was bounded when it was decoded: it reaches the end if no WAL came since.
            WindowBound {
                upto: ahead.bound.upto,
                reaches_end: ahead.bound.upto.0 == flushed,
            }
        } else {
            let span = self
                .sizing
                .span(confirmed.0.saturating_sub(restart), left, None);
            let upto = flushed.min(confirmed.0.saturating_add(span));
            self.sizing.opened(
                upto.saturating_sub(restart),
                upto.saturating_sub(confirmed.0),
            );
            self.client
                .batch_execute("BEGIN")
                .await
                .map_err(self.query_error("begin the window's transaction"))?;
            // The peek runs at the first FETCH; it and every later FETCH end before the deadline.
            self.window_timeout = self.arm_timeout(true).await?;
            self.peek(Lsn(upto), max_changes)
                .declare(&self.client, &self.slot)
                .await
                .map_err(self.query_error("open a window on the slot"))?;
            self.window = WindowState::Open;
            WindowBound {
                upto: Lsn(upto),
                reaches_end: upto == flushed,
            }
        };
        // A backlog past this window: the server decodes the next one while this one is read.
        if !bound.reaches_end && max_changes == 0 && self.read_ahead.can_start() {
            let prefix = bound.upto.0.saturating_sub(restart);
            let relayed = bound.upto.0.saturating_sub(confirmed.0);
            let span = self.sizing.span(prefix, left, Some(relayed));
            let upto = flushed.min(bound.upto.0.saturating_add(span));
            let ahead = Ahead {
                from: bound.upto,
                bound: WindowBound {
                    upto: Lsn(upto),
                    reaches_end: upto == flushed,
                },
                decodes: upto.saturating_sub(restart),
                spans: upto.saturating_sub(bound.upto.0),
            };
            let peek = self.peek(Lsn(upto), 0);
            // Its first fetch only has to make the server decode it: a few rows, little memory.
            self.read_ahead
                .start(ahead, peek, self.next_fetch_rows.min(FIRST_FETCH_ROWS));
        }
        Ok(Some(bound))
    }

    async fn fetch(&mut self, rows: &mut RowBatch) -> Result<bool, SlotError> {
        match self.window {
            WindowState::Closed => return Ok(false),
            WindowState::Drained => {
                self.end_transaction().await?;
                return Ok(false);
            }
            WindowState::Open => {}
        }
        // The peek runs (and decodes the whole window into a server-side tuplestore) on the first
        // FETCH; rows then stream in fetches of at most `fetch_rows` rows and about FETCH_BYTES.
        let asked =
            (self.read_ahead.first_rows.as_ref()).map_or(self.next_fetch_rows, |(_, asked)| *asked);
        let before = rows.len();
        let bytes = match self.plugin {
            Plugin::Wal2json => self.fetch_wal2json(asked, rows).await?,
            Plugin::Pgoutput => self.fetch_pgoutput(asked, rows).await?,
        };
        let fetched = rows.len() - before;
        self.sizing.fetched(fetched < asked);
        if let Some(row_bytes) = bytes.checked_div(fetched) {
            self.next_fetch_rows = rows_within(FETCH_BYTES, row_bytes, self.fetch_rows);
        }
        if fetched < asked {
            self.window = WindowState::Drained;
        }
        if fetched == 0 {
            self.end_transaction().await?;
            return Ok(false);
        }
        Ok(true)
    }

    fn fetched_events(&mut self, rows: usize, event_bytes: usize) {
        if let Some(per_row) = event_bytes.checked_div(rows) {
            let within = rows_within(FETCH_EVENT_BYTES, per_row, self.fetch_rows);
            self.next_fetch_rows = self.next_fetch_rows.min(within);
        }
    }

    async fn close_window(&mut self) -> Result<(), SlotError> {
        self.sizing.closed();
        if self.window != WindowState::Closed {
            self.end_transaction().await?;
        }
        Ok(())
    }

    async fn advance(&mut self, to: Lsn) -> Result<(), SlotError> {
        let armed = self.arm_timeout(false).await?;
        self.client
            .execute(
                "SELECT pg_replication_slot_advance($1, $2)",
                &[&self.slot, &PgLsn::from(to.0)],
            )
            .await
            .map_err(self.timed_error("advance the slot", armed, ADVANCE_WAITS))?;
        self.advanced_to = Some(to);
        self.disarm_timeout(armed).await
    }

    async fn table_schema(&mut self, schema: &str, table: &str) -> Result<TableSchema, SlotError> {
        self.describe_table(schema, table).await
    }

    async fn captured_tables(&mut self) -> Result<Vec<CapturedTable>, SlotError> {
        self.capturable_tables().await
    }

    async fn check_filter(
        &mut self,
        schema: &str,
        table: &str,
        filter: &str,
    ) -> Result<(), SlotError> {
        self.prepare_filter(schema, table, filter).await
    }

    async fn read_chunk(
        &mut self,
        table: &TableSchema,
        after: Option<&[String]>,
        filter: Option<&str>,
        limit: u32,
        later: &[(String, String)],
    ) -> Result<ChunkRead, SlotError> {
        self.read_chunk_rows(table, after, filter, limit, later)
            .await
    }
}

/// One window's peek, as a cursor over a slot up to an LSN: the same for the slot and for a copy of it.
#[derive(Debug, Clone)]
pub(super) struct Peek {
    /// `DECLARE` over the slot `$1`, up to `$2`, at most `$3` rows, `$4` the publication (pgoutput)
    /// or `add-tables` (wal2json), when there is one.
    sql: String,
    upto: PgLsn,
    max_changes: Option<i32>,
    fourth: Option<String>,
    binary: bool,
}

impl Peek {
    /// Declares the window's cursor over `slot` (in a transaction `client` began).
    pub(super) async fn declare(
        &self,
        client: &Client,
        slot: &str,
    ) -> Result<u64, tokio_postgres::Error> {
        match &self.fourth {
            Some(fourth) => {
                (client.execute(&self.sql, &[&slot, &self.upto, &self.max_changes, fourth])).await
            }
            None => (client.execute(&self.sql, &[&slot, &self.upto, &self.max_changes])).await,
        }
    }

    /// Whether its rows are pgoutput's binary messages.
    pub(super) fn binary(&self) -> bool {
        self.binary
    }
}

impl PgSlot {
    /// The flushed position (on a standby the replayed one): decoding reads no further, and the
    /// slot can be advanced exactly to it; and where the slot stands and restarts decoding.
    async fn window_positions(&self) -> Result<(u64, u64, u64), SlotError> {
        let row = self
            .client
            .query_opt(
                &format!(
                    "SELECT {WAL_FLUSHED}, confirmed_flush_lsn, restart_lsn \
                     FROM pg_replication_slots WHERE slot_name = $1"
                ),
                &[&self.slot],
            )
            .await
            .map_err(self.query_error("read the current WAL position"))?
            .ok_or_else(|| self.slot_missing())?;
        let lsn = |i| row.get::<_, Option<PgLsn>>(i).map_or(0, u64::from);
        Ok((lsn(0), lsn(1), lsn(2)))
    }

    /// The peek of a window up to `upto` of at most `max_changes` rows (0: no row limit).
    fn peek(&self, upto: Lsn, max_changes: u32) -> Peek {
        // NULL: no row limit.
        let max_changes = (max_changes > 0).then(|| i32::try_from(max_changes).unwrap_or(i32::MAX));
        let upto = PgLsn::from(upto.0);
        match self.plugin {
            Plugin::Pgoutput => Peek {
                sql: format!(
                    "DECLARE {CURSOR} NO SCROLL CURSOR FOR SELECT lsn, data FROM \
                     pg_logical_slot_peek_binary_changes($1, $2, $3, {PGOUTPUT_OPTIONS}, \
                     'publication_names', quote_ident($4))"
                ),
                upto,
                max_changes,
                fourth: Some(self.publication.name.clone()),
                binary: true,
            },
            Plugin::Wal2json => {
                let options = self.wal2json_options();
                let add_tables = if self.add_tables.is_some() {
                    ", 'add-tables', $4"
                } else {
                    ""
                };
                Peek {
                    sql: format!(
                        "DECLARE {CURSOR} NO SCROLL CURSOR FOR SELECT data FROM \
                         pg_logical_slot_peek_changes($1, $2, $3, {options}{add_tables})"
                    ),
                    upto,
                    max_changes,
                    fourth: self.add_tables.clone(),
                    binary: false,
                }
            }
        }
    }

    /// The connection the open window is read on: this one, or a reader's that decoded it ahead.
    fn window_client(&self) -> &Client {
        self.read_ahead
            .reading
            .as_ref()
            .map_or(&self.client, |reader| &reader.client)
    }

    /// Appends the next `asked` wal2json rows; returns their bytes.
    async fn fetch_wal2json(
        &mut self,
        asked: usize,
        rows: &mut RowBatch,
    ) -> Result<usize, SlotError> {
        let messages = match self.read_ahead.first_rows.take() {
            Some((FirstRows::Text(messages), _)) => messages,
            _ => self
                .window_client()
                .simple_query(&format!("FETCH FORWARD {asked} FROM {CURSOR}"))
                .await
                .map_err(self.timed_error("read the window", self.window_timeout, PEEK_WAITS))?,
        };
        let mut bytes = 0;
        for message in &messages {
            if let SimpleQueryMessage::Row(row) = message {
                // wal2json's rows carry their LSNs (`include-lsn`); the SQL column is not read.
                // wal2json passes a logical decoding message's content through unchecked: bytes
                // that are not UTF-8 stop the window here rather than being published altered.
                let data = row
                    .try_get(0)
                    .map_err(|_| SlotError::Malformed {
                        slot: self.slot.clone(),
                        what: "a window row that is not UTF-8 text (a logical decoding message \
                               with binary content?)"
                            .to_owned(),
                    })?
                    .ok_or_else(|| SlotError::Malformed {
                        slot: self.slot.clone(),
                        what: "a window row without data".to_owned(),
                    })?;
                bytes += data.len();
                rows.push(data);
            }
        }
        Ok(bytes)
    }

    /// Appends the next `asked` pgoutput messages (binary, with their LSNs), then looks up the
    /// names of the column types their Relation messages name that are not known yet; returns
    /// their bytes.
    async fn fetch_pgoutput(
        &mut self,
        asked: usize,
        rows: &mut RowBatch,
    ) -> Result<usize, SlotError> {
        let fetched = match self.read_ahead.first_rows.take() {
            Some((FirstRows::Binary(rows), _)) => rows,
            _ => self
                .window_client()
                .query(&format!("FETCH FORWARD {asked} FROM {CURSOR}"), &[])
                .await
                .map_err(self.timed_error("read the window", self.window_timeout, PEEK_WAITS))?,
        };
        let mut bytes = 0;
        let mut unknown: Vec<(u32, i32)> = Vec::new();
        for row in &fetched {
            let lsn: PgLsn = row.get(0);
            let data: &[u8] = row.get(1);
            let types = pgoutput::relation_types(data).map_err(|err| SlotError::Malformed {
                slot: self.slot.clone(),
                what: err.to_string(),
            })?;
            for (oid, typmod) in types {
                if !rows.types().contains(oid, typmod) && !unknown.contains(&(oid, typmod)) {
                    unknown.push((oid, typmod));
                }
            }
            bytes += data.len();
            rows.push_binary(data, Lsn(u64::from(lsn)));
        }
        if !unknown.is_empty() {
            // wal2json names a column's type format_type(atttypid, atttypmod): so does this.
            let (oids, typmods): (Vec<u32>, Vec<i32>) = unknown.into_iter().unzip();
            let names = self
                .client
                .query(
                    "SELECT t.oid, t.typmod, format_type(t.oid, t.typmod) \
                     FROM unnest($1::oid[], $2::int4[]) AS t(oid, typmod)",
                    &[&oids, &typmods],
                )
                .await
                .map_err(self.query_error("look up the names of column types"))?;
            for row in &names {
                let name: Option<String> = row.get(2);
                let name = name.ok_or_else(|| SlotError::Malformed {
                    slot: self.slot.clone(),
                    what: format!(
                        "a column type (oid {}) the catalog does not know",
                        row.get::<_, u32>(0)
                    ),
                })?;
                rows.types_mut().insert(row.get(0), row.get(1), name);
            }
        }
        Ok(bytes)
    }
}
