//! The record identity the recovery protocol relies on, and its header codec.

use walbridge_event::Lsn;

use walbridge_config::Plugin;

use crate::source::Server;

/// Where a record stands in the slot's stream: where its transaction's commit record is, the
/// change's own LSN, the change's ordinal among the changes sharing that LSN (a multi-row insert or
/// COPY writes one WAL record for many rows), the record's index among the change's records, and
/// the stream it belongs to. Strictly increasing in publish order within a stream, and a property
/// of the WAL itself: the same every time the same change is read again, whatever the table
/// filters, skipped operations, keys or partition counts are then, so it identifies a record
/// across crashes and configuration changes.
///
/// A row a snapshot read is placed after everything streamed up to the stream position
/// `commit_at` it was published at (`lsn`, `change` and `record` at their maximum) and numbered by
/// `read`, its ordinal in the snapshot (from 1); streamed records have `read` 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Where the change's transaction's commit record is: its end LSN (wal2json) or one past its
    /// start (pgoutput), which order transactions alike; for a snapshot row, the stream position
    /// it was published at.
    pub commit_at: Lsn,
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
    /// The identity of the stream read from `slot` in `database` on `server` under `epoch`, with
    /// `plugin`.
    pub fn of(server: &Server, database: &str, slot: &str, epoch: u64, plugin: Plugin) -> Self {
        // FNV-1a: stable across builds and platforms, which the std hasher does not promise.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let timeline = server.timeline.to_string();
        let epoch = epoch.to_string();
        // Earlier builds placed pgoutput's transactions by their end LSN, which its Begin does not
        // carry (one past the commit record's start places them now): a part of their own keeps
        // the positions written then from being compared with these, in which a transaction they
        // left half written would look whole. wal2json's positions never changed.
        let placement = match plugin {
            Plugin::Wal2json => None,
            Plugin::Pgoutput => Some("pgoutput:commit-start"),
        };
        let parts = [server.id.as_str(), &timeline, database, slot, &epoch];
        for part in parts.into_iter().chain(placement) {
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
            commit_at: at,
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

    /// Fixed-width upper-case hex, `<commit_at:16>-<lsn:16>-<change:8>-<record:2>`, then
    /// `-<read:16>` for a snapshot row, then `@<stream:16>`.
    pub fn to_header(self) -> Vec<u8> {
        // One buffer large enough for every part (and the partition count the sink appends): a
        // header is written for every record, so no formatting machinery either.
        let mut text = Vec::with_capacity(96);
        push_hex(&mut text, &self.commit_at.0.to_be_bytes());
        text.push(b'-');
        push_hex(&mut text, &self.lsn.0.to_be_bytes());
        text.push(b'-');
        push_hex(&mut text, &self.change.to_be_bytes());
        text.push(b'-');
        push_hex(&mut text, &[self.record]);
        if self.read != 0 {
            text.push(b'-');
            push_hex(&mut text, &self.read.to_be_bytes());
        }
        text.push(b'@');
        push_hex(&mut text, &self.stream.0.to_be_bytes());
        text
    }

    /// The position a header carries; `None` for anything else, including the headers of releases
    /// that carried no stream identity (nothing can be skipped on their account).
    pub fn from_header(bytes: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(bytes).ok()?;
        let (position, stream) = text.split_once('@')?;
        let hex64 = |t: &str| (t.len() == 16).then(|| u64::from_str_radix(t, 16).ok())?;
        let mut parts = position.split('-');
        let mut position = Position {
            commit_at: Lsn(hex64(parts.next()?)?),
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

/// Appends `bytes` as upper-case hex, two digits each.
fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut digits = [0u8; 16];
    let hex = base16ct::upper::encode(bytes, &mut digits).expect("at most 8 bytes");
    out.extend_from_slice(hex);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_rows_header_carries_its_read_count_and_reads_back() {
        let position = Position::snapshot_read(Lsn(0x1A2B), 0xC0FFEE, StreamId(0xDEAD_BEEF));
        let header = position.to_header();
        assert_eq!(
            std::str::from_utf8(&header).unwrap(),
            "0000000000001A2B-FFFFFFFFFFFFFFFF-FFFFFFFF-FF-0000000000C0FFEE@00000000DEADBEEF"
        );
        assert_eq!(Position::from_header(&header), Some(position));
    }
}
