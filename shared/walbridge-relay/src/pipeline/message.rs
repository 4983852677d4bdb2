//! Logical decoding messages (`pg_logical_emit_message`, wal2json's `M` rows) as Debezium 3.7.1's
//! pgoutput connector publishes them: `op: "m"` events on `<topic.prefix>.message`.
//!
//! Debezium's bookkeeping, which `source.sequence` and `source.ts_ms` show (seen from the connector):
//! * a transactional message belongs to its transaction, whose commit pgoutput sends whatever the
//!   prefix filters say, so it counts as a change of that transaction before they are applied;
//! * a non-transactional one comes outside any transaction and Debezium commits its LSN before
//!   handling it, filtered or not: its own `source.sequence` is `[<its lsn>, <its lsn>]`, and the
//!   events after it name it as the last commit. It has no `txId`, and its `source.ts_ms` is the
//!   commit time of the last transaction seen (the connector keeps the last time it had).

use std::sync::Arc;

use walbridge_event::Lsn;
use walbridge_event::envelope::{MessageEncoder, SourceInfo};
use walbridge_event::wal2json::Message;

use super::window::{Committed, RowOutcome, TxnContext, push_records};
use super::{ChangeSource, CheckpointStore, EventSink, Relay};
use crate::error::RelayError;
use crate::position::Position;
use crate::sink::OutRecord;

/// The message encoder and its topic, built when the first message is published.
#[derive(Debug)]
pub(super) struct Messages {
    encoder: MessageEncoder,
    topic: Arc<str>,
}

impl<S: ChangeSource, K: EventSink, C: CheckpointStore> Relay<S, K, C> {
    /// Publishes one `M` row unless the prefix filters leave it out. (The error is boxed: this is
    /// not an `async fn`, whose futures carry it anyway.)
    pub(super) fn process_message(
        &mut self,
        message: &Message<'_>,
        now: i64,
        txn: &mut TxnContext,
        last_commit: &mut Option<Committed>,
        buf: &mut Vec<u8>,
        pending: &mut Vec<OutRecord>,
    ) -> Result<RowOutcome, Box<RelayError>> {
        let (source, at, outcome) = if message.transactional {
            let lsn = txn.count(message.lsn);
            let commit_time_us = message.commit_time_us.or(txn.commit_time_us).unwrap_or(now);
            let tx_id = message.xid.or(txn.xid);
            // pgoutput sends the message's transaction whatever Debezium's prefix filters then
            // say: with transaction metadata on, it has a BEGIN (here, if first) and an END.
            self.transaction_event(txn, tx_id, commit_time_us, buf, pending);
            txn.next_change += 1;
            let source = SourceInfo {
                commit_time_us,
                tx_id,
                lsn,
                last_commit_lsn: last_commit.map(|c| c.lsn),
                transaction: None,
            };
            (source, txn.at(self.stream), RowOutcome::Change)
        } else {
            let lsn = message.lsn.ok_or_else(|| RelayError::Decode {
                after: txn.position,
                source: walbridge_event::Error::MissingField {
                    action: 'M',
                    field: "lsn",
                },
            })?;
            let time_us = last_commit.and_then(|c| c.time_us);
            *last_commit = Some(Committed { lsn, time_us });
            txn.position = lsn;
            let source = SourceInfo {
                // Before any transaction Debezium has only the time it started with; the
                // processing time is the closest walbridge has.
                commit_time_us: time_us.unwrap_or(now),
                tx_id: None,
                lsn,
                last_commit_lsn: Some(lsn),
                // Not part of a transaction: no `transaction` block, no BEGIN/END (as Debezium).
                transaction: None,
            };
            // Outside any transaction, after every transaction that ended before it and before
            // every one that commits after it: its own LSN places it as a commit record's would.
            let at = Position {
                commit_at: lsn,
                lsn,
                change: 0,
                record: 0,
                read: 0,
                stream: self.stream,
            };
            (source, at, RowOutcome::Standalone)
        };
        if !self.settings.filters.messages.includes(&message.prefix) {
            return Ok(RowOutcome::Other);
        }
        if message.transactional && self.transactions.is_some() {
            // Debezium numbers a transactional message among its transaction's events under a
            // data collection walbridge cannot name as it does: refuse rather than write other
            // orders and counts than the user's consumers expect.
            return Err(unencodable(
                source.lsn,
                &message.prefix,
                walbridge_event::Error::Unsupported {
                    what: "a transactional logical decoding message",
                    setting: "provide.transaction.metadata=true",
                },
            ));
        }
        let messages = match &self.messages {
            Some(messages) => messages,
            None => {
                let encoder = MessageEncoder::new(&self.settings.encoder)
                    .map_err(|err| unencodable(source.lsn, &message.prefix, err))?;
                let topic = Arc::from(encoder.topic());
                self.messages.insert(Messages { encoder, topic })
            }
        };
        buf.clear();
        let encoded = messages
            .encoder
            .encode(&message.prefix, &message.content, &source, now, buf);
        push_records(&messages.topic, None, &encoded, buf, at, pending);
        Ok(outcome)
    }
}

fn unencodable(lsn: Lsn, prefix: &str, source: walbridge_event::Error) -> Box<RelayError> {
    Box::new(RelayError::Encode {
        lsn,
        table: format!(
            "(a logical decoding message with prefix {prefix:?}; leave it out with \
             message.prefix.exclude.list)"
        ),
        source,
    })
}
