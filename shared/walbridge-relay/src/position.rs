//! The record identity the recovery protocol relies on, and its header codec.

use walbridge_event::Lsn;

use crate::source::Server;

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
    /// End LSN of the change's transaction (for a snapshot row: the stream position it was
    /// published at).
    pub txn_end: Lsn,
    /// The change's own LSN.
    pub lsn: Lsn,
    /// Ordinal of the change among those sharing `lsn`.
    pub change: u32,
    /// Index of the record among the change's records (event, tombstone, …).
    pub record: u8,
    /// A snapshot row's ordinal in the slot's snapshots, from 1; 0 for a streamed change.
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
        use std::fmt::Write as _;
        // One buffer large enough for every part (and the partition count the sink appends): a
        // header is written for every record.
        let mut text = String::with_capacity(96);
        let written = write!(
            text,
            "{:016X}-{:016X}-{:08X}-{:02X}",
            self.txn_end.0, self.lsn.0, self.change, self.record
        )
        .and_then(|()| match self.read {
            0 => Ok(()),
            read => write!(text, "-{read:016X}"),
        })
        .and_then(|()| write!(text, "@{:016X}", self.stream.0));
        written.expect("writing to a String cannot fail");
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
