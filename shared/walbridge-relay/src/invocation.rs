//! One invocation end to end, as the function runs it: clients built once per cold start
//! ([`Deps`]), then per invocation a PostgreSQL connection, the advisory lock that fences concurrent
//! invocations, the preconditions, and the [`Relay`] over the slot, Kafka and the checkpoint store.
//!
//! An invocation's payload chooses what it does ([`Request`]): `{}` or any schedule event relays
//! (polling every `poll.interval.ms` when set); `{"mode":"catchup"}` drains in one pass as far as
//! the time budget allows; `{"mode":"status"}` reports positions and lag, changing nothing;
//! `{"mode":"validate"}` reports every property and the live checks, moving nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tracing::{info, warn};
use walbridge_config::{CheckpointLocation, Config, ValidationReport};
use walbridge_event::envelope::{EncoderConfig, SourceStructVersion};

use crate::avro::{AvroConverter, Converters};
use crate::bootstrap::Aws;
use crate::checkpoint::CheckpointTarget;
use crate::checkpoint::{CheckpointStore, InvocationProgress};
use crate::error::SlotError;
use crate::error::{PublishError, RelayError};
use crate::kafka::{KafkaSink, SinkSettings};
use crate::pipeline::{
    HeartbeatSettings, InvocationReport, Polling, Relay, RelaySettings, SnapshotSettings,
};
use crate::postgres::{PgHeartbeatQuery, PgSlot, SlotHealth};
use crate::snapshot::{Signal, SignalError, SnapshotProgress};
use crate::source::ChangeSource;
use crate::transform::{Chain, Transformed};

/// What outlives an invocation: the validated configuration and the clients.
pub struct Deps {
    config: Config,
    settings: RelaySettings,
    checkpoint: CheckpointTarget,
    /// Connected on first use and kept: broker connections survive between warm invocations.
    sink: Mutex<Option<KafkaSink>>,
    /// The transform chain every record passes on its way to the sink.
    chain: Mutex<Chain>,
    /// The AvroConverters after the chain, with the schema ids of this cold start.
    converters: Mutex<Converters>,
    /// Debezium's context headers of this cold start, for the sink and the chain.
    context_headers: Arc<[rskafka::record::RecordHeader]>,
    /// `snapshot.mode=always`: a snapshot is due at this cold start until an invocation started it.
    snapshot_due: AtomicBool,
    /// The tables the slot's windows carry: the captured ones and the signal table.
    slot_tables: walbridge_config::TableFilter,
    /// The properties' half of the validate report, made at cold start by the same parser.
    report: Option<ValidationReport>,
    /// Set once the checkpoint store has been seen to honour conditional writes (probed once per
    /// cold start, before the first relay).
    store_fences: tokio::sync::OnceCell<()>,
    /// The slot's health as the current (or last) invocation read it first thing.
    health: std::sync::Mutex<Option<SlotHealth>>,
    aws: Aws,
}

/// What identifies the deployment, without values: the configuration's and the sink's may hold
/// credentials (rskafka's SASL settings print the password in clear).
impl std::fmt::Debug for Deps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deps")
            .field("name", &self.config.name)
            .field("slot", &self.settings.slot)
            .field("database", &self.settings.database)
            .field("checkpoint", &self.config.checkpoint)
            .field("sink", &self.sink)
            .finish_non_exhaustive()
    }
}

impl Deps {
    /// The slot's health as the current (or last) invocation read it before anything else, for the
    /// metrics of an invocation that then failed.
    pub fn slot_health(&self) -> Option<SlotHealth> {
        self.health.lock().map_or(None, |h| h.clone())
    }

    fn set_slot_health(&self, health: Option<SlotHealth>) {
        if let Ok(mut slot) = self.health.lock() {
            *slot = health;
        }
    }

    /// Builds the clients for `config` (no network traffic yet), with the AWS configuration loaded
    /// from the environment when it is needed.
    pub async fn new(config: Config) -> Self {
        Self::with_aws(config, Aws::default()).await
    }

    /// As [`Deps::new`], with `aws` for everything that reaches AWS.
    pub async fn with_aws(config: Config, aws: Aws) -> Self {
        let checkpoint = match &config.checkpoint {
            CheckpointLocation::S3 { bucket, key } => {
                let mut s3_config = aws_sdk_s3::config::Builder::from(aws.config().await);
                // S3-compatible stores rarely have virtual-host buckets; AWS takes path-style too.
                let endpoint = match &config.checkpoint_s3_endpoint {
                    Some(endpoint) => {
                        s3_config = s3_config.endpoint_url(endpoint).force_path_style(true);
                        Some(endpoint.clone())
                    }
                    None => std::env::var("AWS_ENDPOINT_URL_S3")
                        .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
                        .ok(),
                };
                if endpoint.is_some() {
                    s3_config = s3_config.force_path_style(true);
                }
                CheckpointTarget::S3 {
                    client: aws_sdk_s3::Client::from_conf(s3_config.build()),
                    endpoint,
                    bucket: bucket.clone(),
                    key: key.clone(),
                }
            }
            CheckpointLocation::File(path) => CheckpointTarget::File(path.clone()),
        };
        // Transforms need each record's schema, as Kafka Connect's do, and so does the
        // AvroConverter; the chain's last step drops it where JsonConverter says so.
        let with_chain = !config.transforms.is_empty();
        let key_avro = config.events.key_converter.avro();
        let value_avro = config.events.value_converter.avro();
        let key_schemas = config.events.key_schemas || key_avro.is_some();
        let value_schemas = config.events.value_schemas || value_avro.is_some();
        let converters = Converters {
            key: key_avro.map(|settings| AvroConverter::new(settings, true)),
            value: value_avro.map(|settings| AvroConverter::new(settings, false)),
        };
        let mut encoder = EncoderConfig {
            key_schemas: key_schemas || with_chain,
            value_schemas: value_schemas || with_chain,
            // what only the AvroConverter reads takes its table's schema by reference, not as text
            key_schema_apart: converters.key.is_some() && !with_chain,
            value_schema_apart: converters.value.is_some() && !with_chain,
            tombstones_on_delete: config.events.tombstones_on_delete,
            transaction_topic: config.events.transaction_topic.clone(),
            modes: config.events.modes,
            unavailable_value_placeholder: config.events.unavailable_value_placeholder.clone(),
            schema_names: config.events.schema_names,
            field_names: config.events.field_names,
            ..EncoderConfig::new(&config.topic_prefix, &config.database.dbname)
        };
        if config.events.source_struct == SourceStructVersion::V1 {
            encoder = encoder.legacy(config.events.legacy_connector_version);
        }
        let settings = RelaySettings {
            slot: config.slot.name.clone(),
            database: config.database.dbname.clone(),
            plugin: config.slot.plugin,
            encoder,
            window_max_changes: config.window.max_changes,
            time_margin: config.invocation.time_margin,
            mismatch: config.mismatch,
            snapshot: SnapshotSettings {
                mode: config.snapshot.mode,
                include: config.snapshot.include.clone(),
                chunk_rows: config.snapshot.chunk_rows,
                incremental_chunk_rows: config.snapshot.incremental_chunk_rows,
                start_now: false,
                signal_table: config
                    .snapshot
                    .signal_table
                    .as_ref()
                    .map(|t| (t.schema.clone(), t.table.clone())),
            },
            filters: Arc::clone(&config.filters),
            heartbeat: config.heartbeat.as_ref().map(|h| HeartbeatSettings {
                interval: h.interval,
                topic: h.topic.clone(),
            }),
        };
        for key in &config.ignored_keys {
            info!(key, "configuration key not used by walbridge");
        }
        for warning in config.warnings() {
            warn!(key = warning.key, warning = %warning.message, "configuration");
        }
        let slot_tables = match &config.snapshot.signal_table {
            Some(signal_table) => config
                .filters
                .tables
                .clone()
                .with_pushed_down(signal_table.clone()),
            None => config.filters.tables.clone(),
        };
        let context_headers = context_headers(&config);
        let chain = Chain::new(
            config.transforms.clone(),
            key_schemas,
            value_schemas,
            Arc::clone(&context_headers),
        );
        Self {
            snapshot_due: AtomicBool::new(config.snapshot.mode.on_every_start()),
            slot_tables,
            config,
            settings,
            checkpoint,
            sink: Mutex::new(None),
            chain: Mutex::new(chain),
            converters: Mutex::new(converters),
            context_headers,
            report: None,
            store_fences: tokio::sync::OnceCell::new(),
            health: std::sync::Mutex::new(None),
            aws,
        }
    }

    /// Keeps the properties' validate report for `{"mode":"validate"}`.
    pub fn with_report(mut self, report: ValidationReport) -> Self {
        self.report = Some(report);
        self
    }

    /// The configuration parsed at cold start, which every invocation of this sandbox runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }
}

/// What an invocation is asked to do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Relay until caught up; then, with `poll.interval.ms`, again every interval until
    /// `poll.duration.ms` or the time budget ends. What a schedule does.
    #[default]
    Relay,
    /// Relay in one pass as far as the time budget allows, and report the lag left.
    Catchup,
    /// Report slot lag, checkpoint position and age, and the last invocation's progress.
    Status,
    /// Report every property and the live checks; move nothing.
    Validate,
    /// Carry out a Debezium signal given in the payload (`type`, `data`: as a signal table row or
    /// the Kafka signal channel's message would carry it), then relay in one pass.
    Signal,
}

/// An invocation's payload. Fields other than `mode` (a schedule's event) are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Request {
    /// What to do; a payload without one (a schedule's event) relays.
    #[serde(default)]
    pub mode: Mode,
    /// With `"mode":"signal"`: the signal's type (`execute-snapshot`, `stop-snapshot`,
    /// `pause-snapshot`, `resume-snapshot`)…
    #[serde(default, rename = "type")]
    pub signal_type: Option<String>,
    /// …and its data (`{"data-collections":[…],"type":"incremental",…}`).
    #[serde(default)]
    pub data: Option<serde_json::Value>,
}

impl Request {
    /// Whether it relays (a schedule's event, catchup, a signal), as opposed to asking about the
    /// pipeline (status, validate).
    pub fn relays(&self) -> bool {
        matches!(self.mode, Mode::Relay | Mode::Catchup | Mode::Signal)
    }

    /// The signal a `"mode":"signal"` payload carries.
    ///
    /// # Errors
    /// A [`SignalError`] naming what is wrong.
    pub fn signal(&self) -> Result<Signal, SignalError> {
        let kind = self.signal_type.as_deref().ok_or_else(|| SignalError {
            id: "invocation".to_owned(),
            reason: "a signal needs \"type\" (execute-snapshot, stop-snapshot, pause-snapshot or \
                     resume-snapshot)"
                .to_owned(),
        })?;
        let data = self.data.as_ref().map(ToString::to_string);
        Signal::parse("invocation", kind, data.as_deref())
    }
}

/// What an invocation returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Response {
    /// `relay`, `catchup`, `signal`: what was published and where the slot stands after.
    Relayed(InvocationReport),
    /// `status`: where the slot and the checkpoint stand (boxed: the largest report by far, and
    /// the rarest).
    Status(Box<StatusReport>),
    /// `validate`: every property and the live checks.
    Validated(ValidationReport),
}

/// Where the slot and the checkpoint stand; read without changing anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusReport {
    /// The slot's name (`slot.name`).
    pub slot: String,
    /// Whether a consumer is reading the slot right now.
    pub slot_active: bool,
    /// `wal_status`: reserved, extended, unreserved (about to lose WAL) or lost.
    pub wal_status: Option<String>,
    /// How much more WAL may be written before the slot is in danger; `None` when unbounded.
    pub safe_wal_size_bytes: Option<i64>,
    /// Why PostgreSQL invalidated the slot, if it did.
    pub invalidation_reason: Option<String>,
    /// Since when no consumer has used the slot (PostgreSQL 17+; each invocation resets it).
    pub inactive_since: Option<String>,
    /// WAL bytes between the slot's restart point and its position: decoded again by every window
    /// (a transaction left open makes it grow for as long as it runs).
    pub restart_lag_bytes: Option<u64>,
    /// The server's `idle_replication_slot_timeout` in seconds, when on (PostgreSQL 18+).
    pub idle_slot_timeout_s: Option<u64>,
    /// What may go wrong before it shows as lag: the schedule against the idle timeout.
    pub warnings: Vec<String>,
    /// The slot's position: everything before it has been relayed and the WAL may be recycled.
    pub confirmed_flush_lsn: String,
    /// Where the server's WAL ends now.
    pub current_wal_lsn: String,
    /// WAL bytes between the slot's position and the end of the WAL: what is still to relay (and
    /// what the slot keeps the server from recycling).
    pub lag_bytes: u64,
    /// The checkpoint's position, `None` before the first checkpoint.
    pub checkpoint_lsn: Option<String>,
    /// How long ago (ms) the checkpoint was written; `None` before the first checkpoint.
    pub checkpoint_age_ms: Option<i64>,
    /// Commit time (ms since the epoch) of the last transaction relayed, if recorded.
    pub last_commit_ms: Option<i64>,
    /// The last invocation that wrote a checkpoint, as far as it had come.
    pub last_invocation: Option<InvocationProgress>,
    /// The last snapshot: per table rows done, estimated rows, last key; when it finished.
    pub snapshot: Option<SnapshotProgress>,
}

/// Runs what `request` asks until `deadline` is near.
///
/// # Errors
/// A [`RelayError`]; whatever was acknowledged and checkpointed before it stays done.
pub async fn handle(
    deps: &Deps,
    request: &Request,
    deadline: Instant,
) -> Result<Response, RelayError> {
    match request.mode {
        Mode::Status => status(deps)
            .await
            .map(|report| Response::Status(Box::new(report))),
        Mode::Validate => Ok(Response::Validated(validate(deps).await)),
        Mode::Catchup => invoke(deps, deadline).await.map(Response::Relayed),
        Mode::Signal => {
            if !deps.config.snapshot.invocation_signals {
                return Err(RelayError::BadRequest(
                    "signals in the invocation's payload are turned off: signal.enabled.channels \
                     does not list invocation (add it to accept them; whoever may invoke the \
                     function may then start snapshots as walbridge's database user)"
                        .to_owned(),
                ));
            }
            let signal = request
                .signal()
                .map_err(|err| RelayError::BadRequest(err.to_string()))?;
            invoke_with(deps, deadline, vec![signal])
                .await
                .map(Response::Relayed)
        }
        Mode::Relay => poll(deps, deadline).await.map(Response::Relayed),
    }
}

/// Relays, then again every `poll.interval.ms` until `poll.duration.ms` or the budget ends.
async fn poll(deps: &Deps, deadline: Instant) -> Result<InvocationReport, RelayError> {
    let invocation = &deps.config.invocation;
    let polling = (!invocation.poll_interval.is_zero()).then(|| {
        let mut until = crate::pipeline::stop_time(deadline, invocation.time_margin);
        if !invocation.poll_duration.is_zero() {
            until = until.min(Instant::now() + invocation.poll_duration);
        }
        Polling {
            interval: invocation.poll_interval,
            until,
        }
    });
    pass(deps, deadline, Vec::new(), polling).await
}

/// The properties' report with the live checks added.
pub async fn validate(deps: &Deps) -> ValidationReport {
    let mut report = deps
        .report
        .clone()
        .unwrap_or_else(|| ValidationReport::empty(&deps.config.name));
    crate::validate::live_checks(&deps.config, &deps.checkpoint, &deps.aws, &mut report).await;
    report
}

/// Reads the slot and the checkpoint; takes no lock and moves nothing.
async fn status(deps: &Deps) -> Result<StatusReport, RelayError> {
    let config = &deps.config;
    let mut slot =
        PgSlot::connect(&config.database, &config.slot, &config.filters.tables, 1).await?;
    let position = slot.position().await;
    let active = slot.is_active().await;
    let health = slot.health().await;
    let idle_timeout = slot.idle_slot_timeout().await;
    slot.close().await;
    let (position, active, health, idle_timeout) = (position?, active?, health?, idle_timeout?);
    let warnings = idle_timeout
        .and_then(|timeout| timeout.warning(config.invocation.schedule_period))
        .into_iter()
        .collect();
    let checkpoint = deps.checkpoint.store().load().await?;
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    Ok(StatusReport {
        slot: config.slot.name.clone(),
        slot_active: active,
        wal_status: health.wal_status,
        safe_wal_size_bytes: health.safe_wal_size_bytes,
        invalidation_reason: health.invalidation_reason,
        inactive_since: health.inactive_since,
        restart_lag_bytes: health.restart_lag_bytes,
        idle_slot_timeout_s: idle_timeout.map(|timeout| timeout.0.as_secs()),
        warnings,
        confirmed_flush_lsn: position.confirmed.to_string(),
        current_wal_lsn: position.current.to_string(),
        lag_bytes: position.current.0.saturating_sub(position.confirmed.0),
        checkpoint_lsn: checkpoint.as_ref().map(|c| c.lsn.to_string()),
        checkpoint_age_ms: checkpoint.as_ref().map(|c| now_ms - c.written_at_ms),
        last_commit_ms: checkpoint
            .as_ref()
            .and_then(|c| c.last_commit_time_us)
            .map(|us| us / 1000),
        snapshot: checkpoint.as_ref().and_then(|c| c.snapshot.clone()),
        last_invocation: checkpoint.and_then(|c| c.invocation),
    })
}

/// Runs one pass until the slot is caught up or `deadline` is near.
///
/// When another invocation holds the slot's advisory lock, returns at once with a report saying so,
/// having changed nothing.
///
/// # Errors
/// A [`RelayError`]; whatever was acknowledged and checkpointed before it stays done.
pub async fn invoke(deps: &Deps, deadline: Instant) -> Result<InvocationReport, RelayError> {
    invoke_with(deps, deadline, Vec::new()).await
}

/// As [`invoke`], carrying out `signals` (an invocation's own request) after the first window.
///
/// # Errors
/// As [`invoke`].
pub async fn invoke_with(
    deps: &Deps,
    deadline: Instant,
    signals: Vec<Signal>,
) -> Result<InvocationReport, RelayError> {
    pass(deps, deadline, signals, None).await
}

/// As [`invoke_with`], passing over the slot again on `polling`'s schedule once caught up.
async fn pass(
    deps: &Deps,
    deadline: Instant,
    signals: Vec<Signal>,
    polling: Option<Polling>,
) -> Result<InvocationReport, RelayError> {
    let config = &deps.config;
    let mut slot = PgSlot::connect(
        &config.database,
        &config.slot,
        &deps.slot_tables,
        config.window.fetch_rows,
    )
    .await?;
    slot.expect_in_publication(config.snapshot.signal_table.clone(), config.filters.skipped);
    if !config.window.read_ahead {
        slot.no_read_ahead();
    }
    let mut result = relay(deps, &mut slot, deadline, signals, polling).await;
    if let Ok(report) = &mut result {
        report.windows_read_ahead = slot.windows_read_ahead();
    }
    // The one place the connection ends, and with it the advisory lock.
    slot.close().await;
    if let Err(err) = &result {
        warn!(error = %err, kind = err.kind().as_str(), "invocation failed");
    }
    result
}

/// One pass over a connected slot: the watchdog, the lock, the preconditions, then the relay.
async fn relay(
    deps: &Deps,
    slot: &mut PgSlot,
    deadline: Instant,
    signals: Vec<Signal>,
    polling: Option<Polling>,
) -> Result<InvocationReport, RelayError> {
    let config = &deps.config;
    // No statement that can wait on others (a failover slot's peek waits for standbys) outlives
    // the invocation.
    slot.set_deadline(deadline);
    // The watchdog: the slot's health first, so the lag reaches the metrics even when Kafka, the
    // store or a window fails later (a slot missing yet is created by the preconditions).
    deps.set_slot_health(None);
    match slot.health().await {
        Ok(health) => {
            let invalid = health.invalid();
            deps.set_slot_health(Some(health));
            if let Some(reason) = invalid {
                return Err(SlotError::SlotInvalidated {
                    slot: config.slot.name.clone(),
                    reason,
                }
                .into());
            }
        }
        Err(SlotError::SlotMissing { .. }) => {}
        Err(err) => return Err(err.into()),
    }
    if !slot.try_lock().await? {
        let reason = format!(
            "another invocation holds slot {} (PostgreSQL advisory lock); this one did nothing",
            config.slot.name
        );
        warn!(slot = %config.slot.name, "slot busy");
        return skipped(deps, slot, reason).await;
    }
    slot.check_preconditions(config.slot.create).await?;
    // Once per cold start: on a store that ignores conditional writes the checkpoint fences
    // nothing, so the relay refuses to run rather than risk a silently overwritten position.
    deps.store_fences
        .get_or_try_init(|| async { deps.checkpoint.store().probe_write().await })
        .await?;
    let mut sink_guard = deps.sink.lock().await;
    if sink_guard.is_none() {
        let mut settings =
            SinkSettings::from_config(&config.kafka, &deps.aws).map_err(PublishError::from)?;
        settings.headers = Arc::clone(&deps.context_headers);
        *sink_guard = Some(KafkaSink::connect(&config.kafka.bootstrap_servers, settings).await?);
    }
    let mut chain = deps.chain.lock().await;
    let mut converters = deps.converters.lock().await;
    let sink = Transformed::new(
        sink_guard.as_mut().expect("connected above"),
        &mut chain,
        &mut converters,
    );
    let mut settings = deps.settings.clone();
    settings.snapshot.start_now = deps.snapshot_due.load(Ordering::Relaxed);
    let mut relay = Relay::new(slot, sink, deps.checkpoint.store(), settings);
    relay.signal(signals);
    if let Some(polling) = polling {
        relay.poll(polling);
    }
    if let Some(query) = config
        .heartbeat
        .as_ref()
        .and_then(|h| h.action_query.clone())
    {
        relay.heartbeat_action(Box::new(PgHeartbeatQuery::new(
            config.database.clone(),
            query,
        )));
    }
    let report = relay.run(deadline).await?;
    // The snapshot this cold start owed is under way (resumed from the checkpoint from now on).
    deps.snapshot_due.store(false, Ordering::Relaxed);
    Ok(report)
}

/// The report of an invocation that found the slot locked: with the slot's real lag and the last
/// relayed commit's time from the checkpoint, so that the lag alarms still see a pipeline that a
/// stuck lock holder stalls.
async fn skipped(
    deps: &Deps,
    slot: &mut PgSlot,
    reason: String,
) -> Result<InvocationReport, RelayError> {
    let position = slot.position().await?;
    let checkpoint = deps.checkpoint.store().load().await?;
    let last_commit_ms = checkpoint
        .and_then(|c| c.last_commit_time_us)
        .map(|us| us / 1000);
    Ok(InvocationReport::skipped(reason, position, last_commit_ms))
}

/// A compile-time check, never called: an invocation's future (through every seam's native
/// `async fn`, whose futures carry no `Send` bound of their own) stays `Send`, so it can run on
/// any executor, a multi-threaded one too.
#[allow(dead_code)]
fn invocations_are_send(deps: &Deps, request: &Request) {
    fn send<T: Send>(_: T) {}
    send(handle(deps, request, Instant::now()));
}

/// Debezium 3.3+'s `__debezium.context.*` headers (`DebeziumHeaderProducer`), when
/// `extended.headers.enabled`: the logical name (`topic.prefix`), the task (`0`: one task), the
/// connector plugin, and a run id — new with each sink, that is each cold start, as Debezium's is
/// new with each task start.
fn context_headers(config: &Config) -> Arc<[rskafka::record::RecordHeader]> {
    if !config.events.extended_headers {
        return Arc::new([]);
    }
    let header = |name: &'static str, value: &str| rskafka::record::RecordHeader {
        key: name.into(),
        value: bytes::Bytes::copy_from_slice(value.as_bytes()),
    };
    Arc::from([
        header(
            "__debezium.context.connectorLogicalName",
            &config.topic_prefix,
        ),
        header("__debezium.context.taskId", "0"),
        header("__debezium.context.connectorName", "postgresql"),
        header(
            "__debezium.context.runId",
            &uuid::Uuid::new_v4().to_string(),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use walbridge_config::Properties;

    use super::*;

    #[tokio::test]
    async fn the_deps_debug_print_shows_no_credential() {
        let mut props = Properties::default();
        for (key, value) in [
            ("database.hostname", "db.internal"),
            ("database.user", "cdc"),
            ("database.password", "db-pw-4711"),
            ("database.dbname", "shop"),
            ("topic.prefix", "shop"),
            ("kafka.bootstrap.servers", "b1:9092"),
            ("kafka.security.protocol", "SASL_PLAINTEXT"),
            ("kafka.sasl.mechanism", "SCRAM-SHA-512"),
            ("kafka.sasl.username", "cdc"),
            ("kafka.sasl.password", "kafka-pw-4711"),
            (
                "checkpoint.uri",
                "file:///tmp/walbridge-debug-test/checkpoint.json",
            ),
        ] {
            props.set(key, value);
        }
        let config = Config::from_sources(props, &BTreeMap::new()).unwrap();
        let deps = Deps::new(config).await;
        let printed = format!("{deps:?} {deps:#?}");
        assert!(printed.contains("shop"), "{printed}");
        for secret in ["db-pw-4711", "kafka-pw-4711"] {
            assert!(!printed.contains(secret), "{printed}");
        }
    }
}
