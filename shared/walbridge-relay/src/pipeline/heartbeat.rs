//! Heartbeats (`heartbeat.interval.ms`): a record on the heartbeat topic whenever the interval has
//! passed since the last one, and `heartbeat.action.query` run with each.
//!
//! Debezium checks the interval after each event, after each commit and on each poll that found
//! nothing. A window of the slot ends after a commit (or finds nothing), so the relay checks at the
//! end of each window of the stream; the last heartbeat's time is kept in the checkpoint, so the
//! interval counts across invocations and a scheduled invocation makes one as soon as it is due.
//!
//! A heartbeat carries no change: it is published after the window's records and before the
//! checkpoint, and moves neither the slot nor the checkpoint's LSN (the rules at the top of this
//! module's parent stay as they are). It only makes the next checkpoint be written, to record its
//! time. A heartbeat lost with a failed invocation is made again by the next one.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tracing::warn;
use walbridge_event::Lsn;
use walbridge_event::envelope::{EncoderConfig, HEARTBEAT_PARTITION, HeartbeatEncoder};

use super::{ChangeSource, CheckpointStore, EventSink, Relay, Run, now_us};
use crate::error::{HeartbeatQueryError, RelayError};
use crate::position::Position;
use crate::sink::OutRecord;

/// `heartbeat.interval.ms` and the heartbeat topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatSettings {
    /// `heartbeat.interval.ms`: a heartbeat is due once this has passed since the last.
    pub interval: Duration,
    /// `topic.heartbeat.name`, or `<topic.heartbeat.prefix>.<topic.prefix>`.
    pub topic: String,
}

/// `heartbeat.action.query`: something run with each heartbeat, on a connection other than the
/// slot's. Its failure is reported, never fatal.
pub trait HeartbeatAction: Send + Sync + fmt::Debug {
    /// Runs the query once.
    fn run(&mut self) -> BoxFuture<'_, Result<(), HeartbeatQueryError>>;
}

/// The heartbeats of one invocation.
#[derive(Debug)]
pub(super) struct Heartbeats {
    encoder: HeartbeatEncoder,
    topic: Arc<str>,
    interval_ms: i64,
    pub(super) action: Option<Box<dyn HeartbeatAction>>,
}

impl Heartbeats {
    pub(super) fn new(settings: &HeartbeatSettings, encoder: &EncoderConfig) -> Self {
        Self {
            encoder: HeartbeatEncoder::new(
                settings.topic.clone(),
                &encoder.topic_prefix,
                encoder.key_schemas,
                encoder.value_schemas,
            ),
            topic: Arc::from(settings.topic.as_str()),
            interval_ms: i64::try_from(settings.interval.as_millis()).unwrap_or(i64::MAX),
            action: None,
        }
    }

    /// Whether a heartbeat is due at `now_ms`: none made yet, the interval passed since the last
    /// one, or the clock stands before it (another host's clock wrote the checkpoint).
    fn due(&self, last_ms: Option<i64>, now_ms: i64) -> bool {
        last_ms.is_none_or(|last| now_ms < last || now_ms - last >= self.interval_ms)
    }
}

impl<S: ChangeSource, K: EventSink, C: CheckpointStore> Relay<S, K, C> {
    /// When a heartbeat is due, publishes it, `stream_at` being where the stream stands (every
    /// change before it is in Kafka), and runs the action query before it is published (Debezium
    /// runs it right after queueing the record).
    pub(super) async fn beat_if_due(
        &mut self,
        run: &mut Run,
        stream_at: Lsn,
    ) -> Result<(), RelayError> {
        let Some(heartbeats) = &mut self.heartbeats else {
            return Ok(());
        };
        let now_ms = now_us() / 1000;
        if !heartbeats.due(run.last_heartbeat_ms, now_ms) {
            return Ok(());
        }
        run.buf.clear();
        let record = heartbeats.encoder.encode(now_ms, &mut run.buf);
        run.pending.push(OutRecord {
            topic: Arc::clone(&heartbeats.topic),
            key: Some(run.buf[record.key].to_vec()),
            key_schema: None,
            value: Some(run.buf[record.value].to_vec()),
            value_schema: None,
            headers: Vec::new(),
            context_headers: false,
            partition: Some(HEARTBEAT_PARTITION),
            timestamp_ms: None,
            lsn: stream_at,
            // After everything streamed up to `stream_at`, and after every earlier heartbeat made
            // there: a heartbeat is never taken for one that already landed.
            position: Position {
                commit_at: stream_at,
                lsn: Lsn(u64::MAX),
                change: u32::MAX,
                record: u8::MAX,
                read: now_ms.max(1) as u64,
                stream: self.stream,
            },
        });
        if let Some(action) = &mut heartbeats.action
            && let Err(err) = action.run().await
        {
            run.report.heartbeat_query_errors += 1;
            warn!(error = %err, "heartbeat.action.query failed; relaying goes on");
        }
        self.sink.publish(&mut run.pending).await?;
        run.report.heartbeats += 1;
        run.last_heartbeat_ms = Some(now_ms);
        // The checkpoint records the heartbeat's time even when the slot does not move.
        run.progressed = true;
        Ok(())
    }
}
