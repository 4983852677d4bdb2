use std::sync::Arc;

use tracing::warn;
use walbridge_config::Plugin;
use walbridge_event::envelope::{RecordKind, SourceInfo, TableEncoder, TransactionRecord};
use walbridge_event::pgoutput::{self, Decoded};
use walbridge_event::wal2json::{self, Action, Row};
use walbridge_event::{Lsn, TableSchema};

use std::time::Instant;

use tracing::info;

use super::{
    ChangeSource, CheckpointStore, EventSink, InvocationReport, Relay, Run, WindowEnd, now_us,
};
use crate::checkpoint::Checkpoint;
use crate::error::{RelayError, SlotError};
use crate::position::{Position, StreamId};
use crate::sink::OutRecord;
use crate::snapshot::Signal;
use crate::source::RawRow;

#[derive(Debug)]
pub(super) struct Encoder {
    pub(super) schema: String,
    pub(super) name: String,
    pub(super) table: TableEncoder,
    pub(super) topic: Arc<str>,
    /// The catalog's description it was built from (a snapshot's queries need it).
    pub(super) definition: TableSchema,
}

impl Encoder {
    /// Appends the records of one change (or truncate) of the table, numbered from `at`.
    pub(super) fn push(
        &self,
        encoded: &walbridge_event::envelope::EncodedChange,
        buf: &[u8],
        at: Position,
        pending: &mut Vec<OutRecord>,
    ) {
        push_records(&self.topic, Some(&self.table), encoded, buf, at, pending);
    }
}

/// The last transaction published: `source.sequence`'s first half, and the lag estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Committed {
    pub(super) lsn: Lsn,
    pub(super) time_us: Option<i64>,
}

impl Committed {
    /// The last transaction a checkpoint recorded as published.
    pub(super) fn of(checkpoint: &Checkpoint) -> Option<Self> {
        Some(Self {
            lsn: checkpoint.last_commit_lsn?,
            time_us: checkpoint.last_commit_time_us,
        })
    }
}

impl TxnContext {
    /// Counts a change or truncate at `lsn` (the last LSN read when it has none) and returns its
    /// LSN. Counted before any filter: the rows of one multi-row WAL record (or the tables of one
    /// TRUNCATE) share an LSN and are told apart by their ordinal, `same_lsn` — a filter leaving
    /// some of them out cannot move the others, as one such record is one table and one operation.
    pub(super) fn count(&mut self, lsn: Option<Lsn>) -> Lsn {
        let lsn = lsn.unwrap_or(self.position);
        if lsn == self.change_lsn {
            self.same_lsn += 1;
        } else {
            (self.change_lsn, self.same_lsn) = (lsn, 0);
        }
        lsn
    }

    /// The position of the transaction's BEGIN record: before any of its changes, whichever
    /// change is the first one sent.
    pub(super) fn begin_at(&self) -> Position {
        Position {
            commit_at: self.commit_at,
            ..Position::default()
        }
    }

    /// The position of the transaction's END record: after all of its changes.
    pub(super) fn end_at(&self) -> Position {
        Position {
            commit_at: self.commit_at,
            lsn: Lsn(u64::MAX),
            change: u32::MAX,
            record: u8::MAX,
            ..Position::default()
        }
    }

    /// The position of the first record of the change counted last.
    pub(super) fn at(&self, stream: StreamId) -> Position {
        Position {
            commit_at: self.commit_at,
            lsn: self.change_lsn,
            change: self.same_lsn,
            record: 0,
            read: 0,
            stream,
        }
    }
}

/// Where a transaction's commit record is, which places the transaction among the others: its end
/// with wal2json (its Begin names it, `nextlsn`), one past its start with pgoutput (its Begin names
/// only that, `final_lsn`; the end comes with the Commit, after the changes). Either lies after
/// every earlier transaction's end and before any later one's commit record, and is the same every
/// time the transaction is read again; which one is the plugin's, never the row's, so a row that
/// lacks its plugin's field is an error rather than placed another way.
pub(super) fn commit_at(
    begin: &wal2json::Txn,
    plugin: Plugin,
) -> Result<Lsn, walbridge_event::Error> {
    let missing = |field| walbridge_event::Error::MissingField { action: 'B', field };
    match plugin {
        Plugin::Wal2json => begin.next_lsn.ok_or(missing("nextlsn")),
        Plugin::Pgoutput => begin
            .lsn
            .map(|start| Lsn(start.0 + 1))
            .ok_or(missing("final_lsn")),
    }
}

/// Transaction context the envelope's `source` block needs.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct TxnContext {
    pub(super) xid: Option<u32>,
    pub(super) commit_time_us: Option<i64>,
    /// Where the transaction's commit record is ([`commit_at`]), which places its records, and
    /// the index of its next change.
    pub(super) commit_at: Lsn,
    pub(super) next_change: u32,
    /// The last LSN read (for error messages about a row that has none).
    pub(super) position: Lsn,
    /// The last change's own LSN and how many changes before it shared that LSN.
    pub(super) change_lsn: Lsn,
    pub(super) same_lsn: u32,
}

impl<S: ChangeSource, K: EventSink, C: CheckpointStore> Relay<S, K, C> {
    /// Reads one window of the slot and publishes its events: Kafka acknowledges one fetch's
    /// events while PostgreSQL sends the next rows, so at most one fetch of rows and one of events
    /// are in memory. When `stop` passes inside the window, the window is closed: what was
    /// published stays (the next invocation skips it and goes on), the transactions read whole
    /// are committed, the rest is read again.
    pub(super) async fn stream_window(
        &mut self,
        run: &mut Run,
        stop: Instant,
    ) -> Result<WindowEnd, RelayError> {
        let max_changes = self.settings.window_max_changes;
        let Some(bound) = self.source.open_window(max_changes).await? else {
            return Ok(WindowEnd::unread(run.confirmed));
        };
        let upto = bound.upto;
        fail::fail_point!("relay::window-opened");
        run.report.windows += 1;
        let window_started = Instant::now();
        let window_start = (run.report.changes, run.report.events);
        let mut row_count: u64 = 0;
        let mut txn = TxnContext {
            position: run.confirmed,
            ..TxnContext::default()
        };
        let mut tally = Tally::default();
        // Each window is a new decoding session: pgoutput describes its relations again.
        run.decoder = pgoutput::Decoder::default();

        let mut more = self.source.fetch(&mut run.rows).await?;
        while more {
            row_count += run.rows.len() as u64;
            // Debezium stamps each event when it handles it; one clock read per fetch.
            let now = now_us();
            for raw in run.rows.iter() {
                let after = txn.position;
                let decode_error = |source| RelayError::Decode { after, source };
                // One wal2json row is one row; one pgoutput message one, none (a relation), or one
                // per table (a truncate).
                let rows = match raw {
                    RawRow::Wal2json(data) => {
                        Decoded::Row(wal2json::decode(data).map_err(decode_error)?)
                    }
                    RawRow::Pgoutput { data, lsn } => run
                        .decoder
                        .decode(data, lsn, run.rows.types())
                        .map_err(decode_error)?,
                };
                for row in rows {
                    let outcome = self
                        .process_row(
                            row.map_err(decode_error)?,
                            now,
                            &mut txn,
                            &mut run.last_commit,
                            &mut run.buf,
                            &mut run.pending,
                        )
                        .await?;
                    tally.add(outcome, &mut run.report);
                }
            }
            run.report.events += run.pending.len() as u64;
            let event_bytes = run.pending.iter().map(OutRecord::own_bytes).sum();
            self.source.fetched_events(run.rows.len(), event_bytes);
            run.rows.clear();
            let (fetched, published) = tokio::join!(
                self.source.fetch(&mut run.rows),
                self.sink.publish(&mut run.pending)
            );
            published?;
            fail::fail_point!("relay::published-some");
            more = fetched?;
            if more && Instant::now() >= stop {
                self.source.close_window().await?;
                run.report.window_unfinished = true;
                warn!(
                    window = run.report.windows,
                    rows = row_count,
                    "the window could not be read and published before the deadline; the next \
                     invocation goes on from what was acknowledged"
                );
                break;
            }
        }
        run.report.events += run.pending.len() as u64;
        self.sink.publish(&mut run.pending).await?;
        fail::fail_point!("relay::acknowledged");

        // Everything read is acknowledged. A window with fewer rows than the limit holds every
        // transaction that committed before `upto`, so the slot may move there even if the
        // captured tables were idle (that releases WAL other tables and databases wrote).
        let complete = !run.report.window_unfinished
            && (max_changes == 0 || row_count < u64::from(max_changes));
        let target = match (complete, tally.last_end) {
            (true, Some(end)) => Some(end.max(upto)),
            (true, None) => Some(upto),
            (false, end) => end,
        };
        info!(
            window = run.report.windows,
            %upto,
            rows = row_count,
            changes = run.report.changes - window_start.0,
            events = run.report.events - window_start.1,
            complete,
            elapsed_ms = window_started.elapsed().as_millis() as u64,
            "window published"
        );
        Ok(WindowEnd {
            upto,
            complete,
            reaches_end: bound.reaches_end,
            target,
            replays: !complete && tally.standalone_after_end,
        })
    }

    pub(super) async fn process_row(
        &mut self,
        decoded: Row<'_>,
        now: i64,
        txn: &mut TxnContext,
        last_commit: &mut Option<Committed>,
        buf: &mut Vec<u8>,
        pending: &mut Vec<OutRecord>,
    ) -> Result<RowOutcome, RelayError> {
        match decoded {
            Row::Begin(begin) => {
                let commit_at = commit_at(&begin, self.settings.plugin).map_err(|source| {
                    RelayError::Decode {
                        after: txn.position,
                        source,
                    }
                })?;
                self.txn_counts.begin();
                *txn = TxnContext {
                    xid: begin.xid,
                    commit_time_us: begin.commit_time_us,
                    commit_at,
                    next_change: 0,
                    position: begin.lsn.unwrap_or(txn.position),
                    ..TxnContext::default()
                };
                Ok(RowOutcome::Other)
            }
            Row::Commit(commit) => {
                // `include-lsn` gives every C row its end LSN: the only safe place to advance to.
                let end = commit.next_lsn.ok_or(RelayError::Decode {
                    after: txn.position,
                    source: walbridge_event::Error::MissingField {
                        action: 'C',
                        field: "nextlsn",
                    },
                })?;
                // `source.sequence` names the previous transaction that produced events, as
                // pgoutput (which skips empty transactions) makes Debezium do.
                if txn.next_change > 0 {
                    let time_us = commit.commit_time_us.or(txn.commit_time_us);
                    *last_commit = Some(Committed { lsn: end, time_us });
                    self.push_transaction_end(txn, end, time_us.unwrap_or(now), buf, pending);
                }
                txn.position = end;
                Ok(RowOutcome::Commit(end))
            }
            Row::Change(change) => {
                txn.count(change.lsn);
                if let Some((schema, table)) = &self.settings.snapshot.signal_table
                    && change.schema == schema.as_str()
                    && change.table == table.as_str()
                {
                    // A signal: carried out after this window, not published.
                    if change.action == wal2json::Action::Insert {
                        self.queue_signal(&change.columns);
                    }
                    return Ok(RowOutcome::Other);
                }
                let skipped = self.settings.filters.skipped;
                // By the change's operation: Debezium's publication leaves skipped operations out,
                // so a skipped update takes its key change (delete, tombstone, create) with it, and
                // a transaction of skipped changes is not seen at all (`source.sequence`).
                let skip = match change.action {
                    Action::Insert => skipped.creates,
                    Action::Update => skipped.updates,
                    Action::Delete => skipped.deletes,
                };
                if skip || !self.captures(&change.schema, &change.table) {
                    return Ok(RowOutcome::Other);
                }
                let mut encoder = self.change_encoder(&change, false).await?;
                let commit_time_us = change.commit_time_us.or(txn.commit_time_us).unwrap_or(now);
                let tx_id = change.xid.or(txn.xid);
                let transaction = self
                    .transaction_event(txn, tx_id, commit_time_us, buf, pending)
                    .map(|xid| {
                        let table = format!("{}.{}", change.schema, change.table);
                        (self.txn_counts.event(xid, &table), table)
                    });
                let source = SourceInfo {
                    commit_time_us,
                    tx_id,
                    lsn: change.lsn.unwrap_or(txn.position),
                    last_commit_lsn: last_commit.map(|c| c.lsn),
                    transaction: transaction.as_ref().map(|t| t.0),
                };
                buf.clear();
                let mut encoded = encoder.table.encode(&change, &source, now, buf);
                let stale = |e: &Result<_, walbridge_event::Error>| {
                    matches!(
                        e,
                        Err(walbridge_event::Error::SchemaMismatch { .. }
                            | walbridge_event::Error::InvalidValue { .. })
                    )
                };
                if stale(&encoded) {
                    // The table changed since its schema was read: read it again, once.
                    encoder = self.change_encoder(&change, true).await?;
                    buf.clear();
                    encoded = encoder.table.encode(&change, &source, now, buf);
                }
                if stale(&encoded) {
                    // The catalog is ahead of this change (altered after it was written): encode
                    // it as the table was then, without caching that shape.
                    let then = encoder.definition.as_of(&change);
                    encoder = Arc::new(self.build_encoder(then).map_err(|source| {
                        RelayError::Schema {
                            table: format!("{}.{}", change.schema, change.table),
                            source,
                        }
                    })?);
                    buf.clear();
                    encoded = encoder.table.encode(&change, &source, now, buf);
                }
                let encoded = encoded.map_err(|err| RelayError::Encode {
                    lsn: source.lsn,
                    table: format!("{}.{}", change.schema, change.table),
                    source: err,
                })?;
                if let Some((block, table)) = &transaction {
                    // A key change is two events (its tombstone none); the second is numbered
                    // `following` the first.
                    let events = encoded.records(buf).filter(|r| r.value.is_some()).count();
                    for _ in 1..events {
                        self.txn_counts.event(block.xid, table);
                    }
                }
                // A change the pending chunk's read could not see is newer than the row it read.
                if let Some(chunk) = self.pending_chunk.as_mut()
                    && chunk.encoder.schema == change.schema
                    && chunk.encoder.name == change.table
                    && !source.tx_id.is_some_and(|x| chunk.read.visible.sees(x))
                {
                    for record in encoded.records(buf) {
                        if let Some(&i) = record.key.and_then(|k| chunk.keys.get(k)) {
                            chunk.dropped[i] = true;
                        }
                    }
                }
                txn.next_change += 1;
                encoder.push(&encoded, buf, txn.at(self.stream), pending);
                Ok(RowOutcome::Change)
            }
            Row::Truncate(truncate) => {
                let change_lsn = txn.count(truncate.lsn);
                if !self.captures(&truncate.schema, &truncate.table) {
                    return Ok(RowOutcome::Other);
                }
                // Debezium's publication carries a captured table's truncate even when it skips
                // the event: its transaction is one `source.sequence` names, and has BEGIN and END.
                let commit_time_us = truncate
                    .commit_time_us
                    .or(txn.commit_time_us)
                    .unwrap_or(now);
                let tx_id = truncate.xid.or(txn.xid);
                let in_transaction =
                    self.transaction_event(txn, tx_id, commit_time_us, buf, pending);
                txn.next_change += 1;
                if self.settings.filters.skipped.truncates {
                    return Ok(RowOutcome::Other);
                }
                let table = format!("{}.{}", truncate.schema, truncate.table);
                let transaction = in_transaction.map(|xid| self.txn_counts.event(xid, &table));
                let encoder = match self.encoder(&truncate.schema, &truncate.table, false).await {
                    Err(RelayError::Slot(SlotError::UnknownTable { .. })) => {
                        // Dropped since: a truncate carries no columns, its envelope needs none
                        // (with schemas on, its row schemas are empty).
                        warn!(%table, "truncated table no longer in the catalog; its truncate event has empty row schemas");
                        let empty = TableSchema::new(
                            truncate.schema.as_ref(),
                            truncate.table.as_ref(),
                            Vec::new(),
                            &[],
                            walbridge_event::ReplicaIdentity::Default,
                        )
                        .map_err(|source| RelayError::Schema {
                            table: table.clone(),
                            source,
                        })?;
                        Arc::new(self.build_encoder(empty).map_err(|source| {
                            RelayError::Schema {
                                table: table.clone(),
                                source,
                            }
                        })?)
                    }
                    found => found?,
                };
                let source = SourceInfo {
                    commit_time_us,
                    tx_id,
                    lsn: change_lsn,
                    last_commit_lsn: last_commit.map(|c| c.lsn),
                    transaction,
                };
                buf.clear();
                let encoded = encoder
                    .table
                    .encode_truncate(&source, now, buf)
                    .map_err(|err| RelayError::Encode {
                        lsn: change_lsn,
                        table,
                        source: err,
                    })?;
                // A truncate the pending chunk's read could not see empties what it read.
                if let Some(chunk) = self.pending_chunk.as_mut()
                    && chunk.encoder.schema == truncate.schema
                    && chunk.encoder.name == truncate.table
                    && !source.tx_id.is_some_and(|x| chunk.read.visible.sees(x))
                {
                    chunk.dropped.iter_mut().for_each(|d| *d = true);
                }
                encoder.push(&encoded, buf, txn.at(self.stream), pending);
                Ok(RowOutcome::Change)
            }
            Row::Message(message) => self
                .process_message(&message, now, txn, last_commit, buf, pending)
                .map_err(|err| *err),
        }
    }

    /// With transaction metadata on, a change its transaction sends (one of a captured table, of an
    /// operation not skipped, or a captured table's truncate): the first one is where pgoutput
    /// (PostgreSQL 15+, which skips empty transactions) sends BEGIN, so Debezium's BEGIN record is
    /// written here, named by this change's LSN. Returns the xid the events are counted under.
    pub(super) fn transaction_event(
        &self,
        txn: &TxnContext,
        tx_id: Option<u32>,
        commit_time_us: i64,
        buf: &mut Vec<u8>,
        pending: &mut Vec<OutRecord>,
    ) -> Option<u32> {
        let (encoder, xid) = (self.transactions.as_ref()?, tx_id?);
        if txn.next_change == 0 {
            buf.clear();
            let record = encoder.begin(xid, txn.change_lsn, commit_time_us, buf);
            pending.push(self.transaction_record(&record, buf, txn.change_lsn, txn.begin_at()));
        }
        Some(xid)
    }

    /// With transaction metadata on, the END record of a transaction that sent changes.
    fn push_transaction_end(
        &self,
        txn: &TxnContext,
        end: Lsn,
        commit_time_us: i64,
        buf: &mut Vec<u8>,
        pending: &mut Vec<OutRecord>,
    ) {
        let (Some(encoder), Some(xid)) = (self.transactions.as_ref(), txn.xid) else {
            return;
        };
        if !self.txn_counts.order_reproduced() {
            warn!(
                xid,
                "the transaction's END lists its tables in an order Debezium's may differ from: \
                 more than 8 of them share a bucket of Debezium's hash map, which Java then keeps \
                 as a tree"
            );
        }
        buf.clear();
        let record = encoder.end(xid, end, commit_time_us, &self.txn_counts, buf);
        pending.push(self.transaction_record(&record, buf, end, txn.end_at()));
    }

    fn transaction_record(
        &self,
        record: &TransactionRecord,
        buf: &[u8],
        lsn: Lsn,
        at: Position,
    ) -> OutRecord {
        OutRecord {
            topic: Arc::clone(&self.transaction_topic),
            key: Some(buf[record.key.clone()].to_vec()),
            key_schema: None,
            value: Some(buf[record.value.clone()].to_vec()),
            value_schema: None,
            headers: Vec::new(),
            context_headers: false,
            partition: None,
            timestamp_ms: None,
            lsn,
            position: Position {
                stream: self.stream,
                ..at
            },
        }
    }

    /// Reads a signal table row (`id`, `type`, `data`) and queues its signal; a malformed one is
    /// logged and skipped, as Debezium does.
    pub(super) fn queue_signal(&mut self, columns: &[wal2json::Column<'_>]) {
        let text = |name: &str| {
            columns
                .iter()
                .find(|c| c.name == name)
                .and_then(|c| match &c.value {
                    wal2json::Value::String(s) => Some(s.to_string()),
                    wal2json::Value::Number(n) => Some((*n).to_owned()),
                    _ => None,
                })
        };
        let id = text("id").unwrap_or_default();
        let kind = text("type").unwrap_or_default();
        match Signal::parse(&id, &kind, text("data").as_deref()) {
            Ok(signal) => self.signals.push(signal),
            Err(err) => warn!(error = %err, "signal skipped"),
        }
    }

    /// Whether the table filters capture `schema.table`, remembered per table.
    pub(super) fn captures(&mut self, schema: &str, table: &str) -> bool {
        if self
            .encoders
            .iter()
            .any(|e| e.schema == schema && e.name == table)
        {
            return true;
        }
        if self
            .uncaptured
            .iter()
            .any(|(s, t)| s == schema && t == table)
        {
            return false;
        }
        let captured = self.settings.filters.tables.captures(schema, table);
        if !captured {
            self.uncaptured.push((schema.to_owned(), table.to_owned()));
        }
        captured
    }

    /// The encoder of the table `change` belongs to; for a table no longer in the catalog (dropped,
    /// renamed or moved since the change was written: decoding names it as it was then), one built
    /// from the change itself — names, types, key, nullability — not cached, so a table created
    /// under that name later is read from the catalog.
    pub(super) async fn change_encoder(
        &mut self,
        change: &wal2json::Change<'_>,
        refresh: bool,
    ) -> Result<Arc<Encoder>, RelayError> {
        match self.encoder(&change.schema, &change.table, refresh).await {
            Err(RelayError::Slot(SlotError::UnknownTable { table })) => {
                warn!(%table, "table no longer in the catalog; encoding its change from the change");
                self.build_encoder(TableSchema::from_change(change))
                    .map(Arc::new)
                    .map_err(|source| RelayError::Schema { table, source })
            }
            found => found,
        }
    }

    /// The encoder of `schema.table`, built from the catalog the first time (or again on
    /// `refresh`).
    pub(super) async fn encoder(
        &mut self,
        schema: &str,
        table: &str,
        refresh: bool,
    ) -> Result<Arc<Encoder>, RelayError> {
        let cached = self
            .encoders
            .iter()
            .position(|e| e.schema == schema && e.name == table);
        if !refresh && let Some(i) = cached {
            return Ok(Arc::clone(&self.encoders[i]));
        }
        let table_schema = self.source.table_schema(schema, table).await?;
        let encoder =
            Arc::new(
                self.build_encoder(table_schema)
                    .map_err(|source| RelayError::Schema {
                        table: format!("{schema}.{table}"),
                        source,
                    })?,
            );
        match cached {
            Some(i) => self.encoders[i] = Arc::clone(&encoder),
            None => self.encoders.push(Arc::clone(&encoder)),
        }
        Ok(encoder)
    }

    /// The encoder of `definition` under the column filters and `message.key.columns`.
    pub(super) fn build_encoder(
        &self,
        definition: TableSchema,
    ) -> Result<Encoder, walbridge_event::Error> {
        let (schema, table) = (definition.schema(), definition.table());
        let filters = &self.settings.filters;
        let mut shaped = definition.clone();
        if !filters.columns.is_everything() {
            shaped = shaped.with_value_columns(|c| filters.columns.keeps(schema, table, &c.name));
        }
        if let Some(key) = filters.key_columns.for_table(
            schema,
            table,
            definition.columns().iter().map(|c| c.name.as_str()),
        ) {
            shaped = shaped.with_message_key(&key)?;
        }
        let encoder = TableEncoder::new(&shaped, &self.settings.encoder)?;
        Ok(Encoder {
            schema: schema.to_owned(),
            name: table.to_owned(),
            topic: Arc::from(encoder.topic()),
            table: encoder,
            definition,
        })
    }
}

/// Appends the records of one encoded change (or truncate, or message), numbered from `at`;
/// `table`: the table's encoder, which may keep their schemas apart.
pub(super) fn push_records(
    topic: &Arc<str>,
    table: Option<&TableEncoder>,
    encoded: &walbridge_event::envelope::EncodedChange,
    buf: &[u8],
    at: Position,
    pending: &mut Vec<OutRecord>,
) {
    for (i, record) in encoded.records(buf).enumerate() {
        pending.push(OutRecord {
            topic: Arc::clone(topic),
            key: record.key.map(<[u8]>::to_vec),
            key_schema: record
                .key
                .and(table.and_then(TableEncoder::key_schema))
                .cloned(),
            value: record.value.map(<[u8]>::to_vec),
            value_schema: (record.value)
                .and(table.and_then(TableEncoder::value_schema))
                .cloned(),
            headers: record
                .header
                .map(|(name, bytes)| vec![(name.into(), bytes.to_vec())])
                .unwrap_or_default(),
            // Debezium's message events carry no context headers.
            context_headers: record.kind != RecordKind::Message,
            partition: None,
            timestamp_ms: None,
            lsn: at.lsn,
            position: Position {
                record: i as u8,
                ..at
            },
        });
    }
}

/// What a window's rows came to so far.
#[derive(Debug, Default)]
struct Tally {
    /// Changes of the open transaction.
    txn_changes: u64,
    /// The end LSN of the last transaction read whole.
    last_end: Option<Lsn>,
    /// A non-transactional message published after the last transaction end: read again if the
    /// window stops short, so the next window must skip what landed.
    standalone_after_end: bool,
}

impl Tally {
    fn add(&mut self, outcome: RowOutcome, report: &mut InvocationReport) {
        match outcome {
            RowOutcome::Change => {
                report.changes += 1;
                self.txn_changes += 1;
            }
            RowOutcome::Commit(end) => {
                // wal2json writes B/C for every transaction, also those that touched no captured
                // table; count the ones that carried changes.
                if self.txn_changes > 0 {
                    report.transactions += 1;
                }
                self.txn_changes = 0;
                self.last_end = Some(end);
                self.standalone_after_end = false;
            }
            RowOutcome::Standalone => {
                report.changes += 1;
                self.standalone_after_end = true;
            }
            RowOutcome::Other => {}
        }
    }
}

pub(super) enum RowOutcome {
    Change,
    Commit(Lsn),
    /// A published event outside any transaction (a non-transactional message).
    Standalone,
    Other,
}
