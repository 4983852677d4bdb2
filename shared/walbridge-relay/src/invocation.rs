//! One invocation end to end, as the function runs it: clients built once per cold start
//! ([`Deps`]), then per invocation a PostgreSQL connection, the advisory lock that fences concurrent
//! invocations, the preconditions, and the [`Relay`] over the slot, Kafka and the checkpoint store.

use std::time::Instant;

use tokio::sync::Mutex;
use tracing::{info, warn};
use walbridge_config::{CheckpointLocation, Config};
use walbridge_event::envelope::EncoderConfig;

use crate::checkpoint::{FileCheckpointStore, S3CheckpointStore};
use crate::error::RelayError;
use crate::pipeline::{InvocationReport, Relay, RelaySettings};
use crate::publish::{KafkaSink, SinkSettings};
use crate::slot::PgSlot;

/// What outlives an invocation: the validated configuration and the clients.
#[derive(Debug)]
pub struct Deps {
    config: Config,
    settings: RelaySettings,
    s3: Option<aws_sdk_s3::Client>,
    /// Connected on first use and kept: broker connections survive between warm invocations.
    sink: Mutex<Option<KafkaSink>>,
}

impl Deps {
    /// Builds the clients for `config` (no network traffic yet).
    pub async fn new(config: Config) -> Self {
        let s3 = match &config.checkpoint {
            CheckpointLocation::S3 { .. } => {
                let shared = aws_config::load_from_env().await;
                let mut s3_config = aws_sdk_s3::config::Builder::from(&shared);
                // S3-compatible stores rarely have virtual-host buckets; AWS takes path-style too.
                if let Some(endpoint) = &config.checkpoint_s3_endpoint {
                    s3_config = s3_config.endpoint_url(endpoint).force_path_style(true);
                } else if std::env::var_os("AWS_ENDPOINT_URL_S3").is_some()
                    || std::env::var_os("AWS_ENDPOINT_URL").is_some()
                {
                    s3_config = s3_config.force_path_style(true);
                }
                Some(aws_sdk_s3::Client::from_conf(s3_config.build()))
            }
            CheckpointLocation::File(_) => None,
        };
        let encoder = EncoderConfig {
            key_schemas: config.events.key_schemas,
            value_schemas: config.events.value_schemas,
            tombstones_on_delete: config.events.tombstones_on_delete,
            ..EncoderConfig::new(&config.topic_prefix, &config.database.dbname)
        };
        let settings = RelaySettings {
            slot: config.slot.name.clone(),
            database: config.database.dbname.clone(),
            encoder,
            window_max_changes: config.window.max_changes,
            time_margin: config.window.time_margin,
        };
        for key in &config.ignored_keys {
            info!(key, "configuration key not used by walbridge");
        }
        Self {
            config,
            settings,
            s3,
            sink: Mutex::new(None),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }
}

/// Runs one invocation until the slot is caught up or `deadline` is near.
///
/// When another invocation holds the slot's advisory lock, returns at once with a report saying so,
/// having changed nothing.
///
/// # Errors
/// A [`RelayError`]; whatever was acknowledged and checkpointed before it stays done.
pub async fn invoke(deps: &Deps, deadline: Instant) -> Result<InvocationReport, RelayError> {
    let config = &deps.config;
    let slot = PgSlot::connect(
        &config.database,
        &config.slot,
        &config.tables,
        config.window.fetch_rows,
    )
    .await?;
    if !slot.try_lock().await? {
        let reason = format!(
            "another invocation holds slot {} (PostgreSQL advisory lock); this one did nothing",
            config.slot.name
        );
        warn!(slot = %config.slot.name, "slot busy");
        slot.close().await;
        return Ok(InvocationReport::skipped(reason));
    }
    let result = relay(deps, slot, deadline).await;
    if let Err(err) = &result {
        warn!(error = %err, kind = err.kind().as_str(), "invocation failed");
    }
    result
}

async fn relay(
    deps: &Deps,
    slot: PgSlot,
    deadline: Instant,
) -> Result<InvocationReport, RelayError> {
    let config = &deps.config;
    if let Err(err) = slot.check_preconditions(config.slot.create).await {
        slot.close().await;
        return Err(err.into());
    }
    let mut sink_guard = deps.sink.lock().await;
    if sink_guard.is_none() {
        let settings = SinkSettings {
            create_topics: config.kafka.create_topics,
            timeout: config.kafka.publish_timeout,
            ..SinkSettings::default()
        };
        match KafkaSink::connect(&config.kafka.bootstrap_servers, settings).await {
            Ok(sink) => *sink_guard = Some(sink),
            Err(err) => {
                slot.close().await;
                return Err(err.into());
            }
        }
    }
    let sink = sink_guard.as_mut().expect("connected above");
    let (report, slot) = match (&config.checkpoint, &deps.s3) {
        (CheckpointLocation::S3 { bucket, key }, Some(s3)) => {
            let store = S3CheckpointStore::new(s3.clone(), bucket.clone(), key.clone());
            let mut relay = Relay::new(slot, sink, store, deps.settings.clone());
            let report = relay.run(deadline).await;
            (report, relay.into_parts().0)
        }
        (CheckpointLocation::File(path), _) => {
            let store = FileCheckpointStore::new(path.clone());
            let mut relay = Relay::new(slot, sink, store, deps.settings.clone());
            let report = relay.run(deadline).await;
            (report, relay.into_parts().0)
        }
        (CheckpointLocation::S3 { .. }, None) => unreachable!("Deps::new builds the S3 client"),
    };
    slot.close().await;
    report
}
