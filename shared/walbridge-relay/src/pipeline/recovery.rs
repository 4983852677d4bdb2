use tracing::{info, warn};
use walbridge_config::MismatchStrategy;
use walbridge_event::Lsn;

use std::time::Instant;

use super::window::Committed;
use super::{ChangeSource, CheckpointStore, EventSink, InvocationReport, Relay, Run, now_us};
use crate::checkpoint::Checkpoint;
use crate::error::{CheckpointError, RelayError};
use crate::position::StreamId;
use walbridge_event::pgoutput;

use crate::source::RowBatch;
use crate::source::Server;

impl<S: ChangeSource, K: EventSink, C: CheckpointStore> Relay<S, K, C> {
    /// Where this invocation starts: the slot's position once it agrees with the checkpoint
    /// ([`Self::reconcile`]), the stream it writes, and the snapshot it works on.
    pub(super) async fn start(&mut self) -> Result<Run, RelayError> {
        let started = Instant::now();
        let started_at_ms = now_us() / 1000;
        let slot = self.source.position().await?;
        let server = self.source.server().await?;
        let checkpoint = self.store.load().await?;
        let mut confirmed = slot.confirmed;
        let mut position_lost = false;
        let mut epoch = checkpoint.as_ref().and_then(|c| c.epoch);
        if let Some(checkpoint) = &checkpoint {
            let settled;
            (confirmed, position_lost, settled) = self
                .reconcile(checkpoint, &server, confirmed, slot.synced)
                .await?;
            if settled {
                // Another stream's records may sit in the topics with positions above ours.
                epoch = Some(now_us().unsigned_abs().max(1));
            }
        }
        self.stream = StreamId::of(
            &server,
            &self.settings.database,
            &self.settings.slot,
            epoch.unwrap_or(0),
            self.settings.plugin,
        );
        let snapshot = self
            .plan_snapshot(checkpoint.as_ref(), position_lost, started_at_ms)
            .await?;
        self.pending_chunk = None;
        // A new snapshot is recorded by the first checkpoint even if its first chunk is empty.
        let recorded = checkpoint.as_ref().and_then(|c| c.snapshot.as_ref());
        let progressed = snapshot.as_ref().is_some_and(|s| recorded != Some(s));
        Ok(Run {
            report: InvocationReport {
                start_lsn: confirmed.to_string(),
                end_lsn: confirmed.to_string(),
                polls: 1,
                ..InvocationReport::default()
            },
            started,
            started_at_ms,
            server,
            epoch,
            confirmed,
            last_commit: checkpoint.as_ref().and_then(Committed::of),
            last_heartbeat_ms: checkpoint.as_ref().and_then(|c| c.last_heartbeat_ms),
            snapshot,
            progressed,
            chunk_waits: 0,
            rows: RowBatch::default(),
            decoder: pgoutput::Decoder::default(),
            pending: Vec::new(),
            buf: Vec::new(),
        })
    }

    /// Checks that the checkpoint belongs to this slot and agrees with its position, and settles
    /// a disagreement by `offset.mismatch.strategy`; returns where to start.
    pub(super) async fn reconcile(
        &mut self,
        checkpoint: &Checkpoint,
        server: &Server,
        confirmed: Lsn,
        synced: bool,
    ) -> Result<(Lsn, bool, bool), RelayError> {
        let checkpointed = checkpoint.lsn;
        let same_slot = checkpoint.slot == self.settings.slot
            && checkpoint.database == self.settings.database
            && checkpoint.server.as_deref().is_none_or(|s| *s == server.id);
        if same_slot && checkpointed == confirmed {
            return Ok((confirmed, false, false));
        }
        // On another timeline the WAL between the slot and the checkpoint may hold other changes
        // (a standby promoted before it received them): only the same history may be skipped over.
        let died_before_advance = checkpoint.previous_lsn == Some(confirmed)
            && checkpoint.timeline.is_none_or(|t| t == server.timeline);
        // PostgreSQL writes an advanced slot position to disk at its next checkpoint only, so after
        // a crash of the server the slot can stand anywhere between its last persisted position and
        // ours (its documentation of pg_replication_slot_advance says so). On the same timeline the
        // WAL up to our checkpoint is the WAL whose changes Kafka acknowledged; a slot recreated
        // since would stand after the checkpoint, not before it.
        let server_restarted = checkpoint.timeline == Some(server.timeline);
        if same_slot && checkpointed > confirmed && (died_before_advance || server_restarted) {
            // Those events are in Kafka: move the slot to the checkpoint, skipping nothing else.
            info!(%checkpointed, slot_lsn = %confirmed, "slot behind checkpoint; advancing it");
            self.source.advance(checkpointed).await?;
            return Ok((checkpointed, false, false));
        }
        // A failover slot on a standby promoted since: its copy was synchronized every few seconds,
        // so it may stand before the checkpoint the old primary's slot had reached. It only ever
        // stands where the standby had the WAL, so reading on from it loses nothing; what lies
        // between it and the checkpoint is published again (duplicates the checkpoint bounds).
        // Skipping to the checkpoint instead is safe only if the standby had all of that WAL
        // before the promotion, which only synchronized_standby_slots guarantees.
        let promoted = synced && checkpoint.timeline.is_some_and(|t| t != server.timeline);
        if same_slot && checkpointed > confirmed && promoted {
            warn!(%checkpointed, slot_lsn = %confirmed, timeline = server.timeline,
                "failover slot of a promoted standby behind the checkpoint; reading on from the \
                 slot, publishing again what lies between them");
            return Ok((confirmed, false, true));
        }
        let found = if same_slot {
            format!("checkpoint at {checkpointed}, slot at {confirmed}")
        } else {
            format!(
                "checkpoint of slot {} in database {} on server {}, this is slot {} in {} on {}",
                checkpoint.slot,
                checkpoint.database,
                checkpoint.server.as_deref().unwrap_or("?"),
                self.settings.slot,
                self.settings.database,
                server.id
            )
        };
        let mismatch = || CheckpointError::Mismatch {
            found: found.clone(),
        };
        if self.settings.snapshot.mode.on_lost_position()
            && (!same_slot || checkpointed < confirmed)
        {
            // `when_needed`: the checkpoint's position is gone from this slot; read the tables again.
            warn!(%found, "checkpoint position not in the slot; snapshotting again from the slot");
            return Ok((confirmed, true, true));
        }
        match self.settings.mismatch {
            MismatchStrategy::Fail => Err(mismatch().into()),
            MismatchStrategy::TrustSlot => {
                warn!(%found, "checkpoint and slot disagree; trusting the slot");
                Ok((confirmed, false, true))
            }
            MismatchStrategy::TrustOffset if checkpointed < confirmed => Err(mismatch().into()),
            MismatchStrategy::TrustOffset | MismatchStrategy::TrustGreaterLsn
                if checkpointed > confirmed =>
            {
                warn!(%found, "checkpoint and slot disagree; advancing the slot to the checkpoint");
                self.source.advance(checkpointed).await?;
                Ok((checkpointed, false, true))
            }
            MismatchStrategy::TrustOffset | MismatchStrategy::TrustGreaterLsn => {
                warn!(%found, "checkpoint and slot disagree; trusting the slot");
                Ok((confirmed, false, true))
            }
        }
    }
}
