//! The live half of `walbridge validate` and `{"mode":"validate"}`: each service the configuration
//! names is reached and checked, and each check is reported on its own, moving nothing — no slot is
//! created or advanced, no topic created, no checkpoint written.
//!
//! The checks reuse the relay's own preconditions ([`PgSlot::check_server`], [`PgSlot::check_slot`])
//! so that validate and an invocation name the same fix.

use std::time::Duration;

use walbridge_config::transforms::{Destination, destination};
use walbridge_config::{
    CheckStatus, Config, Plugin, PublicationAutocreate, TablePattern, ValidationReport,
};
use walbridge_event::envelope::{TransactionEncoder, message_topic};

use crate::bootstrap::Aws;
use crate::checkpoint::CheckpointStore;
use crate::checkpoint::CheckpointTarget;
use crate::error::{SlotError, error_chain};
use crate::kafka::{KafkaSink, SinkSettings};
use crate::postgres::{PgSlot, READ_AHEAD_READERS, RecordWay};

/// How long validate waits for the brokers: a wrong address should not take the publish timeout.
const KAFKA_TIMEOUT: Duration = Duration::from_secs(15);

/// At most this many table names in one message.
const LIST_MAX: usize = 10;

/// Runs the live checks and adds them to `report`.
pub async fn live_checks(
    config: &Config,
    checkpoint: &CheckpointTarget,
    aws: &Aws,
    report: &mut ValidationReport,
) {
    let tables = check_postgresql(config, report).await;
    check_kafka(config, aws, tables.as_deref(), report).await;
    check_checkpoint(checkpoint, report).await;
}

/// What the slot check adds when the server is a hot standby.
fn standby_note(slot: &PgSlot) -> &'static str {
    if slot.in_recovery() {
        "; the server is a standby: positions are its replay LSN"
    } else {
        ""
    }
}

/// PostgreSQL, `wal_level` and the plugin allow-list, the slot, the tables; returns the matched
/// tables for the topic check.
async fn check_postgresql(
    config: &Config,
    report: &mut ValidationReport,
) -> Option<Vec<TablePattern>> {
    let db = &config.database;
    let mut slot = match PgSlot::connect(db, &config.slot, &config.filters.tables, 1).await {
        Ok(slot) => slot,
        Err(err) => {
            report.push_check("postgresql", CheckStatus::Fail, error_chain(&err));
            for name in [
                "wal_level",
                "slot",
                "publication",
                "idle_slot_timeout",
                "read_ahead",
                "restart_point",
                "tables",
            ] {
                report.push_check(name, CheckStatus::Skipped, "PostgreSQL is not reachable");
            }
            return None;
        }
    };
    let tls = match slot.uses_tls().await {
        Ok(true) => "TLS",
        Ok(false) => "no TLS",
        Err(_) => "TLS unknown",
    };
    report.push_check(
        "postgresql",
        CheckStatus::Pass,
        format!(
            "connected to {}:{} database {} as {} ({tls})",
            db.hostname, db.port, db.dbname, db.user
        ),
    );
    slot.expect_in_publication(config.snapshot.signal_table.clone(), config.filters.skipped);
    let plugin = config.slot.plugin.slot_plugin();
    match slot.check_server().await {
        Ok(()) => report.push_check(
            "wal_level",
            CheckStatus::Pass,
            format!("wal_level=logical; {plugin} may be loaded"),
        ),
        Err(err) => report.push_check("wal_level", CheckStatus::Fail, error_chain(&err)),
    }
    let slot_name = &config.slot.name;
    match slot.check_slot().await {
        Ok(()) => report.push_check(
            "slot",
            CheckStatus::Pass,
            format!(
                "slot {slot_name} exists, uses {plugin}, belongs to {} and has failover={} as \
                 slot.failover says{}",
                db.dbname,
                config.slot.failover,
                standby_note(&slot)
            ),
        ),
        Err(SlotError::SlotMissing { .. }) if config.slot.create => match slot.check_creatable() {
            Ok(()) => report.push_check(
                "slot",
                CheckStatus::Pass,
                format!(
                    "slot {slot_name} does not exist yet: the first invocation creates it \
                     (slot.create=true{}){}",
                    if config.slot.failover {
                        ", failover"
                    } else {
                        ""
                    },
                    standby_note(&slot)
                ),
            ),
            Err(err) => report.push_check("slot", CheckStatus::Fail, error_chain(&err)),
        },
        Err(err @ SlotError::SlotInUse { .. }) => {
            report.push_check("slot", CheckStatus::Warn, error_chain(&err));
        }
        Err(err) => report.push_check("slot", CheckStatus::Fail, error_chain(&err)),
    }
    if config.slot.plugin == Plugin::Pgoutput {
        let name = &config.slot.publication.name;
        match slot.check_publication(false).await {
            Ok(()) => report.push_check(
                "publication",
                CheckStatus::Pass,
                format!(
                    "publication {name} exists and carries the captured tables and operations{}",
                    if config.slot.publication.via_root {
                        ", via the partition root"
                    } else {
                        ""
                    }
                ),
            ),
            Err(
                err @ SlotError::PublicationMissing {
                    creatable: true, ..
                },
            ) => report.push_check("publication", CheckStatus::Pass, error_chain(&err)),
            Err(SlotError::PublicationIncomplete { .. })
                if config.slot.publication.autocreate == PublicationAutocreate::Filtered =>
            {
                report.push_check(
                    "publication",
                    CheckStatus::Pass,
                    format!(
                        "publication {name} lists other tables than the captured ones: the first \
                         invocation sets it to them (publication.autocreate.mode=filtered)"
                    ),
                )
            }
            Err(err) => report.push_check("publication", CheckStatus::Fail, error_chain(&err)),
        }
    }
    match slot.idle_slot_timeout().await {
        Ok(None) => report.push_check(
            "idle_slot_timeout",
            CheckStatus::Pass,
            "the server does not invalidate idle slots (idle_replication_slot_timeout off or absent)",
        ),
        Ok(Some(timeout)) => match timeout.warning(config.invocation.schedule_period) {
            Some(warning) => report.push_check("idle_slot_timeout", CheckStatus::Warn, warning),
            None => report.push_check(
                "idle_slot_timeout",
                CheckStatus::Pass,
                format!(
                    "the schedule wakes the slot well within idle_replication_slot_timeout ({} s)",
                    timeout.0.as_secs()
                ),
            ),
        },
        Err(err) => report.push_check("idle_slot_timeout", CheckStatus::Fail, error_chain(&err)),
    }
    check_read_ahead(config, &slot, report).await;
    check_restart_point(config, &slot, report).await;
    let matched = match slot.matched_tables(&config.filters.tables).await {
        Ok(matched) => matched,
        Err(err) => {
            report.push_check("tables", CheckStatus::Fail, error_chain(&err));
            slot.close().await;
            return None;
        }
    };
    slot.close().await;

    let unmatched = config.filters.tables.unmatched_includes(
        matched
            .iter()
            .map(|t| (t.table.schema.as_str(), t.table.table.as_str())),
    );
    // What changes are decoded and published under: partitions, not their parents (or the
    // partitioned roots, with publish.via.partition.root=true).
    let tables: Vec<_> = matched.into_iter().filter(|t| t.decoded).collect();
    let uncaptured: Vec<String> = tables
        .iter()
        .filter(|t| !t.changes_captured)
        .map(|t| t.table.to_string())
        .collect();
    if !unmatched.is_empty() {
        report.push_check(
            "tables",
            CheckStatus::Fail,
            format!(
                "no captured table matches {} in database {} (anchored regular expressions over schema.table, \
                 case-insensitive; schema.include.list and schema.exclude.list apply too)",
                unmatched.join(", "),
                db.dbname
            ),
        );
    } else if !uncaptured.is_empty() {
        report.push_check(
            "tables",
            CheckStatus::Warn,
            format!(
                "{} of {} tables have neither a primary key nor REPLICA IDENTITY FULL, so their updates \
                 and deletes cannot be captured with a key: {}; add a primary key or run ALTER TABLE … \
                 REPLICA IDENTITY FULL",
                uncaptured.len(),
                tables.len(),
                shortened(&uncaptured)
            ),
        );
    } else if tables.is_empty() {
        report.push_check(
            "tables",
            CheckStatus::Warn,
            format!("database {} has no table to capture yet", db.dbname),
        );
    } else {
        let names: Vec<String> = tables.iter().map(|t| t.table.to_string()).collect();
        report.push_check(
            "tables",
            CheckStatus::Pass,
            format!(
                "{} tables, each with a key for updates and deletes: {}",
                names.len(),
                shortened(&names)
            ),
        );
    }
    Some(tables.into_iter().map(|t| t.table).collect())
}

/// Why the windows of a backlog are read one after another, if they are.
fn read_ahead_off(config: &Config) -> Option<&'static str> {
    if !config.window.read_ahead {
        Some("window.read.ahead=false")
    } else if config.slot.failover {
        Some("slot.failover=true (a copy would not wait for the standbys)")
    } else if config.window.max_changes > 0 {
        Some("window.max.changes is set (a window's end is known only once read)")
    } else {
        None
    }
}

/// Whether the windows of a backlog can be decoded ahead: two temporary copies of the slot at most.
async fn check_read_ahead(config: &Config, slot: &PgSlot, report: &mut ValidationReport) {
    if let Some(off) = read_ahead_off(config) {
        let detail = format!("windows are read one after another: {off}");
        report.push_check("read_ahead", CheckStatus::Skipped, detail);
        return;
    }
    let needed = READ_AHEAD_READERS as i64;
    match slot.free_replication_slots().await {
        Ok((free, max)) if free >= needed => report.push_check(
            "read_ahead",
            CheckStatus::Pass,
            format!(
                "{free} of max_replication_slots={max} free: on a backlog the next window is \
                 decoded while one is published, from up to {needed} temporary copies of the slot"
            ),
        ),
        Ok((free, max)) => report.push_check(
            "read_ahead",
            CheckStatus::Warn,
            format!(
                "{free} of max_replication_slots={max} free, and reading ahead needs {needed} \
                 temporary copies of the slot: the windows of a backlog are read one after another \
                 (raise max_replication_slots, or set window.read.ahead=false)"
            ),
        ),
        Err(err) => report.push_check("read_ahead", CheckStatus::Fail, error_chain(&err)),
    }
}

/// How the slot's restart point is kept near it: the running-transactions records a window writes,
/// and (through a temporary slot) the free slot that takes.
async fn check_restart_point(config: &Config, slot: &PgSlot, report: &mut ValidationReport) {
    const WHY: &str = "so the slot's restart point follows it and a window decodes again about one \
         window of WAL, not up to the 15 s between the server's own records";
    let way = match slot.record_way().await {
        Ok(way) => way,
        Err(err) => {
            report.push_check("restart_point", CheckStatus::Fail, error_chain(&err));
            return;
        }
    };
    match way {
        RecordWay::None => report.push_check(
            "restart_point",
            CheckStatus::Skipped,
            "a hot standby writes no WAL: the restart point moves at the primary's \
             running-transactions records",
        ),
        RecordWay::Function => report.push_check(
            "restart_point",
            CheckStatus::Pass,
            format!(
                "windows write running-transactions records with pg_log_standby_snapshot(), {WHY}"
            ),
        ),
        RecordWay::TemporarySlot { grantable } => {
            // The copies that read ahead may hold their slots at the same moment.
            let needed = 1 + if read_ahead_off(config).is_none() {
                READ_AHEAD_READERS as i64
            } else {
                0
            };
            let grant = if grantable {
                format!(
                    " (GRANT EXECUTE ON FUNCTION pg_log_standby_snapshot() TO {} writes them \
                     without a slot)",
                    config.database.user
                )
            } else {
                String::new()
            };
            let how = format!(
                "windows write running-transactions records by creating a temporary logical slot \
                 and dropping it, {WHY}{grant}"
            );
            match slot.free_replication_slots().await {
                Ok((free, max)) if free >= needed => report.push_check(
                    "restart_point",
                    CheckStatus::Pass,
                    format!("{how}; {free} of max_replication_slots={max} free"),
                ),
                Ok((free, max)) => report.push_check(
                    "restart_point",
                    CheckStatus::Warn,
                    format!(
                        "{how}, but {free} of max_replication_slots={max} are free and it needs \
                         {needed} with the copies that read ahead: raise max_replication_slots"
                    ),
                ),
                Err(err) => {
                    report.push_check("restart_point", CheckStatus::Fail, error_chain(&err))
                }
            }
        }
    }
}

/// The brokers, then each destination topic: it exists, or will be created.
async fn check_kafka(
    config: &Config,
    aws: &Aws,
    tables: Option<&[TablePattern]>,
    report: &mut ValidationReport,
) {
    let kafka = &config.kafka;
    let servers = kafka.bootstrap_servers.join(",");
    let connected = match SinkSettings::from_config(kafka, aws) {
        Ok(mut settings) => {
            settings.timeout = settings.timeout.min(KAFKA_TIMEOUT);
            let connect = async {
                let sink = KafkaSink::connect(&kafka.bootstrap_servers, settings).await?;
                sink.topics().await
            };
            match tokio::time::timeout(KAFKA_TIMEOUT, connect).await {
                Ok(result) => result.map_err(|err| error_chain(&err)),
                Err(_) => Err(format!(
                    "no answer from Kafka at {servers} within {} s",
                    KAFKA_TIMEOUT.as_secs()
                )),
            }
        }
        Err(err) => Err(error_chain(&err)),
    };
    let existing = match connected {
        Ok(existing) => {
            report.push_check(
                "kafka",
                CheckStatus::Pass,
                format!("connected to {servers}; {} topics", existing.len()),
            );
            existing
        }
        Err(message) => {
            report.push_check("kafka", CheckStatus::Fail, message);
            report.push_check("topics", CheckStatus::Skipped, "Kafka is not reachable");
            return;
        }
    };
    let Some(tables) = tables else {
        report.push_check(
            "topics",
            CheckStatus::Skipped,
            "the captured tables are not known (PostgreSQL check failed)",
        );
        return;
    };
    let others = other_topics(config);
    // the topics the transform chain writes to, not the ones it routes away from
    let mut by_content = Vec::new();
    let mut topics: Vec<String> = Vec::new();
    let written = tables
        .iter()
        .map(|t| format!("{}.{}.{}", config.topic_prefix, t.schema, t.table))
        .chain(others.iter().cloned());
    for topic in written {
        match destination(&config.transforms, &topic) {
            Destination::Topic(topic) if !topics.contains(&topic) => topics.push(topic),
            Destination::Topic(_) | Destination::Dropped => {}
            Destination::ByContent(transform) if !by_content.contains(&transform) => {
                by_content.push(transform);
            }
            Destination::ByContent(_) => {}
        }
    }
    let unchecked = match by_content.as_slice() {
        [] => String::new(),
        names => format!(
            "; not checked: the topics the transform(s) {} name from each record",
            names.join(", ")
        ),
    };
    let missing: Vec<String> = topics
        .iter()
        .filter(|topic| !existing.contains_key(topic.as_str()))
        .cloned()
        .collect();
    let present = topics.len() - missing.len();
    if missing.is_empty() {
        report.push_check(
            "topics",
            CheckStatus::Pass,
            format!(
                "all {} destination topics exist{}{unchecked}",
                topics.len(),
                besides(&others)
            ),
        );
    } else if let Some((partitions, replication)) = kafka.create_topics {
        report.push_check(
            "topics",
            CheckStatus::Pass,
            format!(
                "{present} destination topics exist{}; {} will be created on first use with \
                 {partitions} partitions, replication factor {replication} \
                 (topic.creation.enable=true): {}{unchecked}",
                besides(&others),
                missing.len(),
                shortened(&missing)
            ),
        );
    } else {
        report.push_check(
            "topics",
            CheckStatus::Fail,
            format!(
                "{} destination topics do not exist and topic.creation.enable=false: create \
                 {}{unchecked}",
                missing.len(),
                shortened(&missing)
            ),
        );
    }
}

/// The topics written besides the tables': the transaction topic (`provide.transaction.metadata`),
/// the message topic when `message.prefix.include.list` asks for messages, the heartbeat topic
/// (`heartbeat.interval.ms`).
fn other_topics(config: &Config) -> Vec<String> {
    let transactions = (config.events.transaction_topic.as_ref()).map(|topic| {
        TransactionEncoder::new(&config.topic_prefix, topic, false, false)
            .topic()
            .to_owned()
    });
    let messages =
        (config.filters.messages.asked_for()).then(|| message_topic(&config.topic_prefix));
    let heartbeats = config.heartbeat.as_ref().map(|h| h.topic.clone());
    [transactions, messages, heartbeats]
        .into_iter()
        .flatten()
        .collect()
}

/// `" (besides the tables' topics: a, b)"`, or nothing.
fn besides(others: &[String]) -> String {
    if others.is_empty() {
        return String::new();
    }
    format!(" (besides the tables' topics: {})", others.join(", "))
}

/// The checkpoint can be read, and written with the conditions that fence writers (probed beside
/// it, never changing it).
async fn check_checkpoint(checkpoint: &CheckpointTarget, report: &mut ValidationReport) {
    let mut store = checkpoint.store();
    let read = match store.load().await {
        Ok(Some(found)) => format!("readable (at LSN {})", found.lsn),
        Ok(None) => "readable (no checkpoint yet)".to_owned(),
        Err(err) => {
            report.push_check("checkpoint", CheckStatus::Fail, error_chain(&err));
            return;
        }
    };
    match store.probe_write().await {
        Ok(()) => report.push_check(
            "checkpoint",
            CheckStatus::Pass,
            format!("{read}, writable, and conditional writes are honoured (probed beside it)"),
        ),
        Err(err) => report.push_check(
            "checkpoint",
            CheckStatus::Fail,
            format!("{read}, but {}", error_chain(&err)),
        ),
    }
}

/// The first names of a list, and how many more there are.
pub(crate) fn shortened(names: &[String]) -> String {
    let mut text = names
        .iter()
        .take(LIST_MAX)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > LIST_MAX {
        text.push_str(&format!(" and {} more", names.len() - LIST_MAX));
    }
    text
}
