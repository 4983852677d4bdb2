//! Reading ahead: PostgreSQL decodes a window whole before its first row, so when windows follow
//! one another the server would sit idle while walbridge publishes a window, and walbridge while
//! the server decodes the next. Once the slot has a backlog (a window that does not reach the end
//! of the WAL), the next window is decoded while this one is published: on a connection of its
//! own, from a temporary copy of the slot (`pg_copy_logical_replication_slot`) advanced to where
//! this window ends. Two such readers take turns: one's window is read while the other decodes.
//!
//! The copies only read. The real slot moves only by [`ChangeSource::advance`], after Kafka and the
//! checkpoint, so the no-loss argument is the real slot's alone; a window decoded ahead is used
//! only when the real slot stands where it begins ([`Ahead::continues`]), else it is dropped and
//! the window is peeked from the real slot. A reader that cannot be made or fails turns reading
//! ahead off for the connection (logged), and the windows are peeked from the real slot, where an
//! error that was the data's, not the reader's, is met again and reported.
//!
//! Not with a failover slot: a peek of it waits until the standbys of
//! `synchronized_standby_slots` have the WAL it decodes, and a copy is not a failover slot, so it
//! would not wait; nor with `window.max.changes`, where a window's end is known only once read.
//!
//! [`ChangeSource::advance`]: crate::source::ChangeSource::advance

use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::PgLsn;
use tokio_postgres::{Client, Row, SimpleQueryMessage};
use tracing::{info, warn};
use walbridge_config::DatabaseConfig;
use walbridge_event::Lsn;

use super::connection::{connect, verify_session};
use super::window::Peek;
use super::{CURSOR, query_error};
use crate::error::SlotError;
use crate::source::WindowBound;

/// Readers that take turns: one is read while the other decodes.
pub const READERS: usize = 2;

/// How far past a window's bound the real slot may stand and a window decoded ahead from that
/// bound still be the same: a window ends at `max(its bound, the end of its last transaction)`,
/// and the last transaction ends past the bound only when its commit record straddles it, so no
/// record begins between the two and a peek from either reads the same transactions. A commit
/// record is a few dozen bytes; many subtransactions or invalidations make it larger, and a gap
/// beyond this is not trusted.
const STRADDLE: u64 = 1 << 20;

/// A connection of its own with a temporary copy of the slot.
#[derive(Debug)]
pub(super) struct Reader {
    pub(super) client: Client,
    connection: JoinHandle<()>,
    /// The copy, owned by the connection's session: dropped when it ends.
    slot: String,
    /// The copy's `confirmed_flush_lsn`.
    at: Lsn,
}

/// The first rows of a window decoded ahead, which the first fetch returns.
#[derive(Debug)]
pub(super) enum FirstRows {
    /// wal2json, read with the simple query protocol.
    Text(Vec<SimpleQueryMessage>),
    /// pgoutput.
    Binary(Vec<Row>),
}

/// A window decoded ahead, with its reader and its first rows.
#[derive(Debug)]
pub(super) struct Decoded {
    pub(super) reader: Reader,
    pub(super) first: FirstRows,
    /// The rows the first fetch asked for.
    pub(super) asked: usize,
}

/// A window being decoded ahead.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ahead {
    /// Where it begins: the bound of the window read now.
    pub(super) from: Lsn,
    pub(super) bound: WindowBound,
    /// WAL bytes it decodes (from the copy's restart point, about) and spans, for the sizing.
    pub(super) decodes: u64,
    pub(super) spans: u64,
}

impl Ahead {
    /// Whether the window continues the stream when the real slot stands at `confirmed`, last
    /// moved (by this connection) to `advanced_to`.
    fn continues(&self, confirmed: Lsn, advanced_to: Option<Lsn>) -> bool {
        confirmed == self.from
            || (confirmed > self.from
                && advanced_to == Some(confirmed)
                && confirmed.0 - self.from.0 <= STRADDLE)
    }
}

/// What decoding a window ahead gives: the window, and how long decoding it took.
type Decoding = JoinHandle<Result<(Decoded, Duration), SlotError>>;

/// Whether windows are read ahead, and the readers.
#[derive(Debug)]
pub(super) struct ReadAhead {
    /// Why not, once known: a failover slot, a reader that failed.
    off: Option<&'static str>,
    /// Readers neither decoding nor read.
    idle: Vec<Reader>,
    /// Readers made, in all.
    made: usize,
    ahead: Option<(Ahead, Decoding)>,
    /// The reader whose window is open, when it was decoded ahead…
    pub(super) reading: Option<Reader>,
    /// …and its first rows, read when it was decoded, with the number asked for.
    pub(super) first_rows: Option<(FirstRows, usize)>,
    /// Windows read that had been decoded ahead.
    pub(super) used: u32,
    database: DatabaseConfig,
    /// The real slot, which readers copy.
    slot: String,
}

impl ReadAhead {
    pub(super) fn new(database: DatabaseConfig, slot: String, failover: bool) -> Self {
        Self {
            off: failover.then_some("the slot is a failover slot"),
            idle: Vec::new(),
            made: 0,
            ahead: None,
            reading: None,
            first_rows: None,
            used: 0,
            database,
            slot,
        }
    }

    /// Whether a window can be decoded ahead now.
    pub(super) fn can_start(&self) -> bool {
        self.off.is_none() && self.ahead.is_none() && (!self.idle.is_empty() || self.made < READERS)
    }

    /// Starts decoding `peek`'s window ahead, on an idle reader (or a new one).
    pub(super) fn start(&mut self, ahead: Ahead, peek: Peek, first_rows: usize) {
        let reader = self.idle.pop();
        if reader.is_none() {
            self.made += 1;
        }
        let (database, slot) = (self.database.clone(), self.slot.clone());
        let from = ahead.from;
        let task = tokio::spawn(async move {
            let began = Instant::now();
            let mut reader = match reader {
                Some(reader) => reader,
                None => Reader::copy(&database, &slot).await?,
            };
            reader.advance(from).await?;
            let first = reader.peek(&peek, first_rows).await?;
            let decoded = Decoded {
                reader,
                first,
                asked: first_rows,
            };
            Ok((decoded, began.elapsed()))
        });
        self.ahead = Some((ahead, task));
    }

    /// The window decoded ahead, once decoded, and how long decoding it took, when it continues
    /// the stream from `confirmed` (where the real slot stands, last moved by this connection to
    /// `advanced_to`); else `None`, having put its reader back (or turned reading ahead off when
    /// it failed).
    pub(super) async fn take(
        &mut self,
        confirmed: Lsn,
        advanced_to: Option<Lsn>,
    ) -> Option<(Ahead, Decoded, Duration)> {
        let (ahead, task) = self.ahead.take()?;
        let (decoded, took) = match task.await {
            Ok(Ok(done)) => done,
            Ok(Err(err)) => {
                self.turn_off(&err, limit_hint(&err));
                return None;
            }
            Err(err) => {
                self.turn_off(&err, "");
                return None;
            }
        };
        if ahead.continues(confirmed, advanced_to) {
            self.used += 1;
            return Some((ahead, decoded, took));
        }
        info!(
            from = %ahead.from,
            %confirmed,
            "the window decoded ahead does not continue the stream (the last one was cut short); \
             it is read again from the slot"
        );
        self.put_back(decoded.reader).await;
        None
    }

    /// A reader whose window was read: it ends the window's transaction and waits for the next.
    pub(super) async fn put_back(&mut self, reader: Reader) {
        match reader.client.batch_execute("ROLLBACK").await {
            Ok(()) => self.idle.push(reader),
            Err(err) => self.turn_off(&err, ""),
        }
    }

    /// Off as configured (`window.read.ahead=false`).
    pub(super) fn turn_off_by_config(&mut self) {
        self.off = Some("window.read.ahead=false");
        self.shut_down();
    }

    fn turn_off(&mut self, cause: &dyn std::fmt::Display, hint: &'static str) {
        warn!(
            error = %cause,
            "reading the next window ahead failed; windows are read one after another from the \
             slot{hint}"
        );
        self.off = Some("a reader failed");
        self.idle.clear();
    }

    /// Ends the readers: their sessions end, and with them their copies of the slot.
    pub(super) fn shut_down(&mut self) {
        if let Some((_, task)) = self.ahead.take() {
            task.abort();
        }
        self.idle.clear();
        self.reading = None;
        self.first_rows = None;
    }
}

impl Reader {
    /// Connects as the relay does and copies `slot` into a temporary slot of this session.
    async fn copy(database: &DatabaseConfig, slot: &str) -> Result<Self, SlotError> {
        let (client, connection) = connect(database).await?;
        verify_session(&client).await?;
        let row = client
            .query_one(
                "SELECT slot_name::text, lsn FROM pg_copy_logical_replication_slot($1, \
                   'walbridge_ahead_' || pg_backend_pid(), true)",
                &[&slot],
            )
            .await
            .map_err(query_error(slot, "copy the slot to read ahead"))?;
        let at: Option<PgLsn> = row.get(1);
        Ok(Self {
            client,
            connection,
            slot: row.get(0),
            at: Lsn(at.map_or(0, u64::from)),
        })
    }

    /// Moves the copy to `to`, where its next window begins.
    async fn advance(&mut self, to: Lsn) -> Result<(), SlotError> {
        if self.at == to {
            return Ok(());
        }
        let row = self
            .client
            .query_one(
                "SELECT end_lsn FROM pg_replication_slot_advance($1, $2)",
                &[&self.slot, &PgLsn::from(to.0)],
            )
            .await
            .map_err(query_error(&self.slot, "advance the copy of the slot"))?;
        let end: PgLsn = row.get(0);
        self.at = Lsn(u64::from(end));
        if self.at != to {
            return Err(SlotError::Malformed {
                slot: self.slot.clone(),
                what: format!("the copy of the slot moved to {} instead of {to}", self.at),
            });
        }
        Ok(())
    }

    /// Opens the window's cursor and reads its first `rows` rows (which decodes it whole).
    async fn peek(&mut self, peek: &Peek, rows: usize) -> Result<FirstRows, SlotError> {
        let error = || query_error(&self.slot, "read the window ahead");
        self.client.batch_execute("BEGIN").await.map_err(error())?;
        peek.declare(&self.client, &self.slot)
            .await
            .map_err(error())?;
        let fetch = format!("FETCH FORWARD {rows} FROM {CURSOR}");
        Ok(if peek.binary() {
            FirstRows::Binary(self.client.query(&fetch, &[]).await.map_err(error())?)
        } else {
            FirstRows::Text(self.client.simple_query(&fetch).await.map_err(error())?)
        })
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        // The connection task ends when the client is dropped; nothing waits for it.
        self.connection.abort();
    }
}

/// What a reader's failure asks of the server, when it was a limit: a copy of the slot takes a
/// replication slot, a reader a connection.
fn limit_hint(err: &SlotError) -> &'static str {
    let code = match err {
        SlotError::Connect { source, .. } | SlotError::Query { source, .. } => source.code(),
        _ => None,
    };
    match code {
        Some(code) if *code == SqlState::CONFIGURATION_LIMIT_EXCEEDED => {
            " (a copy of the slot needs a free replication slot: raise max_replication_slots, or \
             set window.read.ahead=false)"
        }
        Some(code) if *code == SqlState::TOO_MANY_CONNECTIONS => {
            " (a reader needs a connection of its own: raise max_connections, or set \
             window.read.ahead=false)"
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ahead_from(from: u64) -> Ahead {
        Ahead {
            from: Lsn(from),
            bound: WindowBound {
                upto: Lsn(from + 1000),
                reaches_end: false,
            },
            decodes: 0,
            spans: 1000,
        }
    }

    #[test]
    fn a_window_decoded_ahead_continues_the_stream_from_its_bound() {
        let ahead = ahead_from(5_000);
        assert!(ahead.continues(Lsn(5_000), Some(Lsn(5_000))));
        assert!(
            ahead.continues(Lsn(5_000), None),
            "however the slot got there"
        );
    }

    #[test]
    fn or_from_the_end_of_the_commit_that_straddles_its_bound() {
        let ahead = ahead_from(5_000);
        assert!(ahead.continues(Lsn(5_040), Some(Lsn(5_040))));
        assert!(
            !ahead.continues(Lsn(5_040), Some(Lsn(4_000))),
            "the slot was moved there by someone else"
        );
        assert!(
            !ahead.continues(Lsn(5_000 + STRADDLE + 1), Some(Lsn(5_000 + STRADDLE + 1))),
            "too far past the bound for one commit record"
        );
    }

    #[test]
    fn not_when_the_window_before_was_cut_short() {
        let ahead = ahead_from(5_000);
        assert!(!ahead.continues(Lsn(4_999), Some(Lsn(4_999))));
        assert!(!ahead.continues(Lsn(0), None));
    }
}
