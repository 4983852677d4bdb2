//! Running-transactions records, written when the slot's restart point lags behind it.
//!
//! The slot's restart point moves only where the WAL holds a running-transactions record, which the
//! server writes every 15 s under writes (and at checkpoints): between two, every peek and every
//! advance decodes again all the WAL since the last one. A window that would decode a long stretch
//! from there ([`LOG_SNAPSHOT_FROM`](super::LOG_SNAPSHOT_FROM)) writes one at the end of the WAL, a
//! few bytes, before it reads where the WAL ends, so the advance of the window that passes it —
//! the last of a backlog, or this one when it reaches the end — moves the restart point to about
//! there:
//! - with `pg_log_standby_snapshot()` (PostgreSQL 16+; the superuser's unless granted);
//! - else by creating a temporary logical slot and dropping it: creating a logical slot writes the
//!   record first thing (where its decoding may start) and flushes it — what the REPLICATION
//!   privilege the slot needs anyway allows, on every version. Finding that start then waits for
//!   the transactions running at the record to end, a few ms under short transactions; a long
//!   writing transaction would hold it, so it runs under [`CREATE_WAIT`] (the record is written by
//!   then, and the slot is dropped with the cancelled statement), and it is not tried again while
//!   that transaction runs — the restart point cannot pass its start anyway — nor within
//!   [`AFTER_CANCELLED`], so that overlapping long transactions cost at most one wait that long.
//!
//! On a hot standby neither writes WAL, and none is written.

use std::time::{Duration, Instant};

use tokio_postgres::SimpleQueryMessage;
use tokio_postgres::error::SqlState;
use tracing::{info, warn};
use walbridge_event::Lsn;

use super::{LOG_SNAPSHOT_SINCE, PgSlot, timed_out};
use crate::error::SlotError;

/// How long creating the temporary slot may wait for the transactions running at its record.
const CREATE_WAIT: Duration = Duration::from_millis(200);

/// How long after a cancelled creation the next is tried at the earliest: as often as the server
/// writes its own record under writes.
const AFTER_CANCELLED: Duration = Duration::from_secs(15);

/// How this connection writes a running-transactions record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RecordWriter {
    /// `pg_log_standby_snapshot()`.
    Function,
    /// A temporary logical slot, created and dropped; the last creation cancelled, if any.
    TemporarySlot { cancelled: Option<Cancelled> },
    /// None: a hot standby, or both ways failed on this connection.
    Off,
}

/// A creation of the temporary slot cancelled after [`CREATE_WAIT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Cancelled {
    at: Instant,
    /// One past the oldest transaction then running (its txid): every transaction that held the
    /// creation is older.
    blocked_below: i64,
}

impl RecordWriter {
    /// The first way to try on a server of `server_version`, `in_recovery` or not.
    pub(super) fn for_server(server_version: i32, in_recovery: bool) -> Self {
        if in_recovery {
            RecordWriter::Off
        } else if server_version >= LOG_SNAPSHOT_SINCE {
            RecordWriter::Function
        } else {
            RecordWriter::TemporarySlot { cancelled: None }
        }
    }
}

/// How this connection's windows write running-transactions records, as `validate` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordWay {
    /// `pg_log_standby_snapshot()`, granted.
    Function,
    /// A temporary logical slot: below PostgreSQL 16, or the function is not granted.
    TemporarySlot {
        /// Whether the server has the function, so that granting it would avoid the slot.
        grantable: bool,
    },
    /// None: a hot standby writes no WAL (the primary's own records move the restart point).
    None,
}

impl PgSlot {
    /// How this connection's windows would write running-transactions records.
    ///
    /// # Errors
    /// [`SlotError::Query`] when the function's privilege cannot be read.
    pub async fn record_way(&self) -> Result<RecordWay, SlotError> {
        match self.record_writer {
            RecordWriter::Off => Ok(RecordWay::None),
            RecordWriter::TemporarySlot { .. } => Ok(RecordWay::TemporarySlot {
                grantable: self.server_version >= LOG_SNAPSHOT_SINCE,
            }),
            RecordWriter::Function => {
                let granted: bool = self
                    .client
                    .query_one(
                        "SELECT has_function_privilege('pg_catalog.pg_log_standby_snapshot()', \
                         'EXECUTE')",
                        &[],
                    )
                    .await
                    .map_err(self.query_error("read the privilege on pg_log_standby_snapshot()"))?
                    .get(0);
                Ok(if granted {
                    RecordWay::Function
                } else {
                    RecordWay::TemporarySlot { grantable: true }
                })
            }
        }
    }

    /// Writes a running-transactions record at the end of the WAL, the first way that works (see
    /// the module); returns a position at or after its end, or `None` when none was written (or
    /// where is not known). Never fails the window: a way that fails is logged and not tried again
    /// on this connection, and the restart point then moves at the server's own records.
    pub(super) async fn log_running_transactions(&mut self) -> Option<Lsn> {
        if self.record_writer == RecordWriter::Function {
            let err = match self
                .client
                .simple_query("SELECT pg_log_standby_snapshot()")
                .await
            {
                Ok(messages) => return first_lsn(&messages),
                Err(err) => err,
            };
            // Only the message tells the causes apart: either way the slot's way is next.
            if err.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) {
                info!(
                    error = %err,
                    "pg_log_standby_snapshot() is not granted to this user: running-transactions \
                     records are written by creating a temporary logical slot instead (GRANT \
                     EXECUTE ON FUNCTION pg_log_standby_snapshot() TO the user avoids it)"
                );
            } else {
                warn!(
                    error = %err,
                    "pg_log_standby_snapshot() failed: running-transactions records are written \
                     by creating a temporary logical slot instead"
                );
            }
            self.record_writer = RecordWriter::TemporarySlot { cancelled: None };
        }
        let RecordWriter::TemporarySlot { cancelled } = self.record_writer else {
            return None;
        };
        let (writer, written) = self.create_temporary_slot(cancelled).await;
        self.record_writer = writer;
        written
    }

    /// One record by way of a temporary slot; returns how to write the next one, and where the
    /// slot's decoding would have begun (after the record) when it was created.
    async fn create_temporary_slot(
        &self,
        cancelled: Option<Cancelled>,
    ) -> (RecordWriter, Option<Lsn>) {
        if let Some(last) = cancelled {
            let unchanged = (RecordWriter::TemporarySlot { cancelled }, None);
            if last.at.elapsed() < AFTER_CANCELLED {
                return unchanged;
            }
            match self.oldest_running_txid().await {
                Ok(oldest) if oldest < last.blocked_below => return unchanged,
                Ok(_) => {}
                Err(err) => return (self.temporary_slot_failed(&err), None),
            }
        }
        // One implicit transaction: a cancelled statement takes its SET back with it.
        let sql = format!(
            "SET statement_timeout = {}; \
             SELECT lsn, pg_drop_replication_slot(slot_name) FROM \
               pg_create_logical_replication_slot('walbridge_record_' || pg_backend_pid(), '{}', \
               true); \
             RESET statement_timeout",
            CREATE_WAIT.as_millis(),
            self.plugin.slot_plugin()
        );
        match self.client.simple_query(&sql).await {
            Ok(messages) => (
                RecordWriter::TemporarySlot { cancelled: None },
                first_lsn(&messages),
            ),
            Err(err) if timed_out(&err) => match self.oldest_running_txid().await {
                // Some transaction that ran when the record was written has not ended: the
                // restart point cannot pass it, so there is no use trying before it has.
                Ok(oldest) => (
                    RecordWriter::TemporarySlot {
                        cancelled: Some(Cancelled {
                            at: Instant::now(),
                            blocked_below: oldest.saturating_add(1),
                        }),
                    },
                    None,
                ),
                Err(err) => (self.temporary_slot_failed(&err), None),
            },
            Err(err) => (self.temporary_slot_failed(&err), None),
        }
    }

    /// The txid of the oldest transaction still running (the next one's, if none runs).
    async fn oldest_running_txid(&self) -> Result<i64, tokio_postgres::Error> {
        let row = self
            .client
            .query_one("SELECT txid_snapshot_xmin(txid_current_snapshot())", &[])
            .await?;
        row.try_get(0)
    }

    fn temporary_slot_failed(&self, err: &tokio_postgres::Error) -> RecordWriter {
        let why = if err.code() == Some(&SqlState::CONFIGURATION_LIMIT_EXCEEDED) {
            " (max_replication_slots leaves no slot free: raise it by one)"
        } else {
            ""
        };
        warn!(
            error = %err,
            slot = %self.slot,
            "could not write a running-transactions record through a temporary logical slot{why}: \
             not tried again on this connection, so the slot's restart point moves at the \
             server's own records (every 15 s under writes) and each window decodes the WAL \
             since the last one again"
        );
        RecordWriter::Off
    }
}

/// The LSN in the first column of a simple query's first row.
fn first_lsn(messages: &[SimpleQueryMessage]) -> Option<Lsn> {
    messages.iter().find_map(|message| match message {
        SimpleQueryMessage::Row(row) => row.get(0)?.parse().ok(),
        _ => None,
    })
}
