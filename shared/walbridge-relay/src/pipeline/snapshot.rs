use std::sync::Arc;

use tracing::{info, warn};
use walbridge_config::{Regex, debezium_pattern};
use walbridge_event::Lsn;
use walbridge_event::envelope::SourceInfo;

use super::window::Encoder;
use std::time::{Duration, Instant};

use super::{ChangeSource, CheckpointStore, EventSink, Relay, Run, WindowEnd, now_us};
use crate::checkpoint::Checkpoint;
use crate::error::{RelayError, SlotError};
use crate::position::{Position, StreamId};
use crate::sink::OutRecord;
use crate::snapshot::{CapturedTable, ChunkRead, Signal, SnapshotKind, SnapshotProgress};

/// A snapshot chunk read, waiting for the stream to pass the LSN it was read at.
#[derive(Debug)]
pub(super) struct PendingChunk {
    /// Index into the snapshot's tables.
    pub(super) table: usize,
    pub(super) encoder: Arc<Encoder>,
    pub(super) read: ChunkRead,
    /// Key bytes of each row → row index, to drop rows a newer streamed change replaces.
    pub(super) keys: std::collections::HashMap<Vec<u8>, usize>,
    pub(super) dropped: Vec<bool>,
}

/// What looking for the next snapshot chunk found.
pub(super) enum NextChunk {
    Chunk(PendingChunk),
    /// Nothing to read now; `true` when the progress changed (empty tables done, snapshot complete).
    Nothing(bool),
}

impl<S: ChangeSource, K: EventSink, C: CheckpointStore> Relay<S, K, C> {
    /// Carries out the signals received so far.
    pub(super) async fn apply_queued_signals(&mut self, run: &mut Run) -> Result<(), RelayError> {
        if !self.signals.is_empty() {
            run.progressed |= self.apply_signals(&mut run.snapshot).await?;
        }
        Ok(())
    }

    /// Reads the snapshot's next chunk, unless one is waiting or the snapshot is done or paused.
    pub(super) async fn read_next_chunk(&mut self, run: &mut Run) -> Result<(), RelayError> {
        if self.pending_chunk.is_some() {
            return Ok(());
        }
        let Some(progress) = (run.snapshot.as_mut()).filter(|s| !s.is_complete() && !s.paused)
        else {
            return Ok(());
        };
        match self.next_chunk(progress).await? {
            NextChunk::Chunk(read) => self.pending_chunk = Some(read),
            NextChunk::Nothing(changed) => run.progressed |= changed,
        }
        Ok(())
    }

    /// Publishes the pending chunk once the stream has passed the LSN it was read at: every
    /// change that committed before the read has been seen (and replaced the rows it is newer
    /// than); every later one comes after the chunk's rows.
    pub(super) async fn publish_ready_chunk(
        &mut self,
        run: &mut Run,
        window: &WindowEnd,
    ) -> Result<(), RelayError> {
        let streams = self.settings.snapshot.mode.streams();
        let Some(ready) = (self.pending_chunk)
            .take_if(|c| !streams || (window.complete && window.upto >= c.read.lsn))
        else {
            return Ok(());
        };
        let progress = run
            .snapshot
            .as_mut()
            .expect("a chunk belongs to a snapshot");
        let before = run.pending.len();
        let (lsn, table) = (
            ready.read.lsn,
            format!("{}.{}", ready.encoder.schema, ready.encoder.name),
        );
        Self::emit_chunk(
            ready,
            progress,
            window.stream_at(run.confirmed),
            self.stream,
            run.last_commit.map(|c| c.lsn),
            &mut run.buf,
            &mut run.pending,
        )
        .map_err(|source| RelayError::Encode { lsn, table, source })?;
        let published = (run.pending.len() - before) as u64;
        run.report.snapshot_rows += published;
        run.report.events += published;
        self.sink.publish(&mut run.pending).await?;
        fail::fail_point!("relay::snapshot-acknowledged");
        run.progressed = true;
        Ok(())
    }

    /// A chunk waits until the server has flushed the WAL it was read at; on an idle server that
    /// can take until the WAL writer or a checkpoint gets there, so wait between windows (longer
    /// each time, up to `stop`) rather than spin.
    pub(super) async fn wait_for_chunk(
        &self,
        run: &mut Run,
        window: &WindowEnd,
        moved: bool,
        stop: Instant,
    ) {
        let streams = self.settings.snapshot.mode.streams();
        let waiting = (self.pending_chunk.as_ref())
            .is_some_and(|c| streams && window.complete && window.upto < c.read.lsn);
        if waiting && !moved {
            run.chunk_waits += 1;
            let pause = Duration::from_millis(20 << run.chunk_waits.min(5));
            tokio::time::sleep(pause.min(stop.saturating_duration_since(Instant::now()))).await;
        } else {
            run.chunk_waits = 0;
        }
    }

    /// The snapshot this invocation works on, by `snapshot.mode`: the unfinished one of the
    /// checkpoint, or a new one (first run, `always` at a cold start, a lost position under
    /// `when_needed`), or the finished one carried on for the status.
    pub(super) async fn plan_snapshot(
        &mut self,
        checkpoint: Option<&Checkpoint>,
        position_lost: bool,
        now_ms: i64,
    ) -> Result<Option<SnapshotProgress>, RelayError> {
        let mode = self.settings.snapshot.mode;
        let previous = checkpoint.and_then(|c| c.snapshot.clone());
        let start = self.settings.snapshot.start_now
            || (checkpoint.is_none() && mode.on_first_run())
            || (position_lost && mode.on_lost_position());
        if !start {
            return Ok(previous.map(|p| self.prune_resumed(p, now_ms)));
        }
        if let Some(previous) = previous.as_ref().filter(|p| !p.is_complete())
            && !position_lost
        {
            // Unfinished: resume it rather than start over.
            return Ok(Some(self.prune_resumed(previous.clone(), now_ms)));
        }
        let include = self.settings.snapshot.include.clone();
        // `snapshot.include.collection.list` unset: every captured table.
        let tables = self
            .snapshot_candidates(Some(include.as_slice()).filter(|i| !i.is_empty()))
            .await?;
        let rows_before = previous.map_or(0, |p| p.rows_before + p.rows);
        info!(tables = tables.len(), "snapshot starts");
        let mut progress = SnapshotProgress::new(tables, now_ms, rows_before);
        if progress.tables.is_empty() {
            progress.completed_at_ms = Some(now_ms);
        }
        Ok(Some(progress))
    }

    /// An unfinished snapshot of the checkpoint as the configuration now asks for it: an initial
    /// snapshot `snapshot.mode` no longer takes, and tables the filters (or, for an initial one,
    /// `snapshot.include.collection.list`) no longer capture, are left unfinished.
    pub(super) fn prune_resumed(
        &self,
        mut progress: SnapshotProgress,
        now_ms: i64,
    ) -> SnapshotProgress {
        if progress.is_complete() {
            return progress;
        }
        let initial = progress.kind == SnapshotKind::Initial;
        let mode_takes_it = !initial || self.settings.snapshot.mode.on_first_run();
        let include = &self.settings.snapshot.include;
        for table in progress.tables.iter_mut().filter(|t| !t.done) {
            let name = format!("{}.{}", table.schema, table.table);
            let reason = if !mode_takes_it {
                "snapshot.mode no longer takes an initial snapshot"
            } else if !self
                .settings
                .filters
                .tables
                .captures(&table.schema, &table.table)
            {
                "the table filters no longer capture the table"
            } else if initial && !include.is_empty() && !include.iter().any(|r| r.is_match(&name)) {
                "snapshot.include.collection.list no longer lists the table"
            } else {
                continue;
            };
            warn!(table = %name, reason, "snapshot of the table abandoned");
            table.fail(reason.to_owned());
        }
        if progress.current().is_none() {
            progress.completed_at_ms = Some(now_ms);
        }
        progress
    }

    /// Reads the next non-empty chunk of the snapshot; marks empty tables done and the snapshot
    /// complete when nothing is left.
    pub(super) async fn next_chunk(
        &mut self,
        progress: &mut SnapshotProgress,
    ) -> Result<NextChunk, RelayError> {
        let mut changed = false;
        while let Some(index) = progress.current() {
            let (schema, name) = {
                let t = &progress.tables[index];
                (t.schema.clone(), t.table.clone())
            };
            let encoder = match self.encoder(&schema, &name, false).await {
                Err(err) if persistent_for_table(&err) => {
                    Self::give_up_table(progress, index, &err);
                    changed = true;
                    continue;
                }
                found => found?,
            };
            let later: Vec<(String, String)> = progress.tables[index + 1..]
                .iter()
                .filter(|t| !t.done)
                .map(|t| (t.schema.clone(), t.table.clone()))
                .collect();
            let limit = if progress.kind == SnapshotKind::Initial {
                self.settings.snapshot.chunk_rows
            } else {
                self.settings.snapshot.incremental_chunk_rows
            };
            let read = self
                .source
                .read_chunk(
                    &encoder.definition,
                    progress.tables[index].last_key.as_deref(),
                    progress.tables[index].filter.as_deref(),
                    limit,
                    &later,
                )
                .await
                .map_err(RelayError::from);
            let read = match read {
                Err(err) if persistent_for_table(&err) => {
                    Self::give_up_table(progress, index, &err);
                    changed = true;
                    continue;
                }
                read => read?,
            };
            if read.rows.is_empty() && !read.more {
                progress.tables[index].done = true;
                changed = true;
                continue;
            }
            let mut keys = std::collections::HashMap::with_capacity(read.rows.len());
            let mut key_buf = Vec::new();
            for (i, row) in read.rows.iter().enumerate() {
                let columns = crate::snapshot::row_columns(&encoder.definition, row);
                key_buf.clear();
                let key = encoder
                    .table
                    .encode_key(&columns, &mut key_buf)
                    .map_err(|source| RelayError::Encode {
                        lsn: read.lsn,
                        table: format!("{schema}.{name}"),
                        source,
                    })?;
                if let Some(range) = key {
                    keys.insert(key_buf[range].to_vec(), i);
                }
            }
            let dropped = vec![false; read.rows.len()];
            return Ok(NextChunk::Chunk(PendingChunk {
                table: index,
                encoder,
                read,
                keys,
                dropped,
            }));
        }
        if !progress.is_complete() {
            progress.completed_at_ms = Some(now_us() / 1000);
            info!(rows = progress.rows, "snapshot complete");
            changed = true;
        }
        Ok(NextChunk::Nothing(changed))
    }

    /// Leaves a table whose chunks cannot be read unfinished, so the snapshot and the stream go on.
    pub(super) fn give_up_table(progress: &mut SnapshotProgress, index: usize, err: &RelayError) {
        let table = &mut progress.tables[index];
        warn!(
            table = %format!("{}.{}", table.schema, table.table),
            error = %err,
            "snapshot of the table abandoned: its chunks cannot be read; the other tables and the \
             stream go on (a new execute-snapshot signal reads it again once the cause is fixed)"
        );
        table.fail(err.to_string());
    }

    /// The captured tables a snapshot may read (all but the signal table), in the order of
    /// table.include.list (the tables one entry matches in name order), as Debezium reads them:
    /// the same order gives the same markers. With `matching`, only the tables one of its patterns
    /// matches (over `schema.table`).
    pub(super) async fn snapshot_candidates(
        &mut self,
        matching: Option<&[Regex]>,
    ) -> Result<Vec<CapturedTable>, RelayError> {
        let signal_table = self.settings.snapshot.signal_table.clone();
        let captured = &self.settings.filters.tables;
        let mut tables: Vec<(usize, CapturedTable)> = self
            .source
            .captured_tables()
            .await?
            .into_iter()
            .filter(|t| {
                signal_table
                    .as_ref()
                    .is_none_or(|(schema, table)| t.schema != *schema || t.table != *table)
            })
            .filter(|t| {
                let name = format!("{}.{}", t.schema, t.table);
                matching.is_none_or(|patterns| patterns.iter().any(|p| p.is_match(&name)))
            })
            .filter_map(|t| Some((captured.rank(&t.schema, &t.table)?, t)))
            .collect();
        tables.sort_by_key(|(rank, _)| *rank);
        Ok(tables.into_iter().map(|(_, t)| t).collect())
    }

    /// Carries out the queued signals on the snapshot (starting one, adding tables to the running
    /// one, stopping, pausing, resuming); returns whether the progress changed.
    pub(super) async fn apply_signals(
        &mut self,
        snapshot: &mut Option<SnapshotProgress>,
    ) -> Result<bool, RelayError> {
        let mut changed = false;
        for signal in std::mem::take(&mut self.signals) {
            info!(?signal, "signal");
            let active = snapshot.as_mut().filter(|s| !s.is_complete());
            match signal {
                Signal::Execute {
                    collections,
                    blocking,
                    conditions,
                } => {
                    let patterns: Vec<Regex> = collections
                        .iter()
                        .filter_map(|c| {
                            let pattern = debezium_pattern(c).ok();
                            if pattern.is_none() {
                                warn!(collection = %c, "signal: not a regular expression; ignored");
                            }
                            pattern
                        })
                        .collect();
                    // Debezium: an empty list asks for nothing.
                    if patterns.is_empty() {
                        continue;
                    }
                    let tables = self.snapshot_candidates(Some(&patterns)).await?;
                    // A condition PostgreSQL would refuse is refused now, with the signal, rather
                    // than failing every chunk later.
                    let mut refused = false;
                    for (collection, filter) in &conditions {
                        let Some(pattern) = debezium_pattern(collection).ok() else {
                            continue;
                        };
                        for table in tables
                            .iter()
                            .filter(|t| pattern.is_match(&format!("{}.{}", t.schema, t.table)))
                        {
                            if let Err(err) = self
                                .source
                                .check_filter(&table.schema, &table.table, filter)
                                .await
                            {
                                warn!(
                                    table = %format!("{}.{}", table.schema, table.table),
                                    error = %err,
                                    "signal refused: its additional condition is not one boolean \
                                     condition on the table's rows"
                                );
                                refused = true;
                            }
                        }
                    }
                    if refused {
                        continue;
                    }
                    let active = snapshot.as_mut().filter(|s| !s.is_complete());
                    let progress = match active {
                        Some(progress) => {
                            for table in tables {
                                let queued = progress.tables.iter().any(|t| {
                                    !t.done && t.schema == table.schema && t.table == table.table
                                });
                                if !queued {
                                    progress
                                        .tables
                                        .extend(SnapshotProgress::new(vec![table], 0, 0).tables);
                                }
                            }
                            progress
                        }
                        None => {
                            let rows_before =
                                snapshot.as_ref().map_or(0, |p| p.rows_before + p.rows);
                            let mut progress =
                                SnapshotProgress::new(tables, now_us() / 1000, rows_before);
                            progress.kind = if blocking {
                                SnapshotKind::Blocking
                            } else {
                                SnapshotKind::Incremental
                            };
                            snapshot.insert(progress)
                        }
                    };
                    for (collection, filter) in &conditions {
                        let Some(pattern) = debezium_pattern(collection).ok() else {
                            continue;
                        };
                        for table in progress.tables.iter_mut().filter(|t| !t.done) {
                            if pattern.is_match(&format!("{}.{}", table.schema, table.table)) {
                                table.filter = Some(filter.clone());
                            }
                        }
                    }
                    if progress.current().is_none() {
                        progress.completed_at_ms = Some(now_us() / 1000);
                    }
                }
                Signal::Stop { collections } => {
                    let Some(progress) = active else { continue };
                    let patterns: Vec<Regex> = collections
                        .iter()
                        .filter_map(|c| debezium_pattern(c).ok())
                        .collect();
                    for table in progress.tables.iter_mut().filter(|t| !t.done) {
                        let name = format!("{}.{}", table.schema, table.table);
                        if patterns.is_empty() || patterns.iter().any(|p| p.is_match(&name)) {
                            table.done = true;
                        }
                    }
                    if progress.current().is_none() {
                        progress.completed_at_ms = Some(now_us() / 1000);
                    }
                    // A chunk of a stopped table is not published.
                    if let Some(chunk) = &self.pending_chunk
                        && progress.tables[chunk.table].done
                    {
                        self.pending_chunk = None;
                    }
                }
                Signal::Pause => {
                    let Some(progress) = active else { continue };
                    progress.paused = true;
                    // Read again on resume.
                    self.pending_chunk = None;
                }
                Signal::Resume => {
                    let Some(progress) = active else { continue };
                    progress.paused = false;
                }
            }
            changed = true;
        }
        Ok(changed)
    }

    /// Appends the records of a chunk's rows that no newer streamed change replaced, placed at
    /// stream position `at`, and moves the table's progress past the chunk.
    pub(super) fn emit_chunk(
        chunk: PendingChunk,
        progress: &mut SnapshotProgress,
        at: Lsn,
        stream: StreamId,
        last_commit_lsn: Option<Lsn>,
        buf: &mut Vec<u8>,
        pending: &mut Vec<OutRecord>,
    ) -> Result<(), walbridge_event::Error> {
        use walbridge_event::envelope::SnapshotMarker;
        let PendingChunk {
            table: index,
            encoder,
            read,
            dropped,
            ..
        } = chunk;
        let kept: Vec<usize> = (0..read.rows.len()).filter(|&i| !dropped[i]).collect();
        let incremental = progress.incremental();
        let source = SourceInfo {
            commit_time_us: read.read_time_us,
            tx_id: None,
            lsn: read.lsn,
            // An incremental snapshot's rows sit in the stream: `sequence` names its last commit.
            last_commit_lsn: if incremental { last_commit_lsn } else { None },
            transaction: None,
        };
        let now = now_us();
        for (n, &i) in kept.iter().enumerate() {
            let first_of_table = progress.tables[index].rows == 0;
            // Debezium marks `first` the first row of the first table only: when that table is
            // empty, no row is marked `first`.
            let first_of_snapshot = index == 0 && first_of_table;
            let last_of_table = !read.more && n + 1 == kept.len();
            let marker = if incremental {
                SnapshotMarker::Incremental
            } else if last_of_table && !read.later_rows {
                SnapshotMarker::Last
            } else if first_of_snapshot {
                SnapshotMarker::First
            } else if last_of_table {
                SnapshotMarker::LastInDataCollection
            } else if first_of_table {
                SnapshotMarker::FirstInDataCollection
            } else {
                SnapshotMarker::True
            };
            let columns = crate::snapshot::row_columns(&encoder.definition, &read.rows[i]);
            buf.clear();
            let encoded = encoder
                .table
                .encode_read(&columns, &source, marker, now, buf)?;
            progress.rows += 1;
            progress.tables[index].rows += 1;
            for record in encoded.records(buf) {
                pending.push(OutRecord {
                    topic: Arc::clone(&encoder.topic),
                    key: record.key.map(<[u8]>::to_vec),
                    key_schema: record.key.and(encoder.table.key_schema()).cloned(),
                    value: record.value.map(<[u8]>::to_vec),
                    value_schema: record.value.and(encoder.table.value_schema()).cloned(),
                    headers: Vec::new(),
                    context_headers: true,
                    partition: None,
                    timestamp_ms: None,
                    lsn: read.lsn,
                    position: Position::snapshot_read(
                        at,
                        progress.rows_before + progress.rows,
                        stream,
                    ),
                });
            }
        }
        let table = &mut progress.tables[index];
        if let Some(last) = read.rows.last() {
            table.last_key = Some(
                encoder
                    .definition
                    .key()
                    .iter()
                    .map(|&k| last[k].clone().unwrap_or_default())
                    .collect(),
            );
        }
        table.done = !read.more;
        Ok(())
    }
}

/// Whether a snapshot chunk failed for a reason of its table that retrying will not cure: the
/// table is gone or changed its key, or PostgreSQL refused the query (a bad `additional-conditions`
/// filter, a missing privilege, a value the key cannot be read back as) rather than being unreachable.
pub(super) fn persistent_for_table(err: &RelayError) -> bool {
    match err {
        RelayError::Schema { .. } => true,
        RelayError::Slot(
            SlotError::UnknownTable { .. }
            | SlotError::SnapshotKeyless { .. }
            | SlotError::SnapshotKeyChanged { .. }
            | SlotError::Schema { .. },
        ) => true,
        RelayError::Slot(SlotError::Query { source, .. }) => {
            source.as_db_error().is_some_and(|db| {
                // SQLSTATE classes: syntax or access rule (42), data exception (22), cardinality (21),
                // feature not supported (0A).
                let class = &db.code().code()[..2];
                matches!(class, "42" | "22" | "21" | "0A")
            })
        }
        _ => false,
    }
}
