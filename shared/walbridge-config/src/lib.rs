//! walbridge's configuration: Debezium connector property names, read from a Java `.properties` file
//! and from environment variables (the environment wins), parsed and validated once at cold start.
//!
//! The vocabulary is Debezium's, so a connector's `.properties` file loads as it is; walbridge's own
//! keys (`kafka.bootstrap.servers`, `checkpoint.uri`, `window.max.changes`, …) follow the same style.
//! Each key `a.b.c` can also come from the environment variable `A_B_C`.

mod properties;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

pub use properties::{ConfigError, Properties};
use secrecy::SecretString;
use walbridge_event::modes::{Mode, TypeModes};

/// Everything one invocation needs, validated.
#[derive(Debug)]
#[non_exhaustive]
pub struct Config {
    /// `name`: the connector's name, used in logs only.
    pub name: String,
    pub database: DatabaseConfig,
    pub slot: SlotConfig,
    /// `table.include.list` (or the older `table.whitelist`): the captured tables; empty = all.
    pub tables: Vec<TablePattern>,
    /// `topic.prefix` (or the older `database.server.name`): topics are `<prefix>.<schema>.<table>`.
    pub topic_prefix: String,
    pub events: EventConfig,
    pub kafka: KafkaConfig,
    /// `checkpoint.uri`: where the last published LSN is recorded.
    pub checkpoint: CheckpointLocation,
    /// `offset.mismatch.strategy` (Debezium's name): what to do when the checkpoint and the slot
    /// disagree at start-up.
    pub mismatch: MismatchStrategy,
    /// `checkpoint.s3.endpoint.url`: an S3-compatible endpoint instead of AWS's (path-style
    /// requests); unset, the AWS SDK's own resolution applies (`AWS_ENDPOINT_URL_S3`, region).
    pub checkpoint_s3_endpoint: Option<String>,
    pub window: WindowConfig,
    pub snapshot: SnapshotConfig,
    /// Things worth a warning at cold start (old spellings of values, settings walbridge reads
    /// differently); the configuration is usable.
    pub warnings: Vec<String>,
    /// Keys present in the sources that walbridge does not use (Debezium has many); logged once.
    pub ignored_keys: Vec<String>,
}

/// How to reach PostgreSQL.
#[derive(Debug)]
#[non_exhaustive]
pub struct DatabaseConfig {
    /// `database.hostname`
    pub hostname: String,
    /// `database.port` (default 5432)
    pub port: u16,
    /// `database.user`
    pub user: String,
    /// `database.password`: never logged, never in an error.
    pub password: SecretString,
    /// `database.dbname`
    pub dbname: String,
}

/// The logical replication slot walbridge reads.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SlotConfig {
    /// `slot.name` (default `debezium`, as Debezium's).
    pub name: String,
    /// `slot.create`: create the slot with wal2json when it does not exist (default false: the
    /// error then prints the SQL that creates it).
    pub create: bool,
}

/// One entry of `table.include.list`, as wal2json's `add-tables` understands it: a schema and a
/// table, each a literal name or `*` for any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TablePattern {
    pub schema: String,
    pub table: String,
}

impl fmt::Display for TablePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.table)
    }
}

/// What the events look like.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EventConfig {
    /// `tombstones.on.delete` (default true): a delete is followed by a record with a null value.
    pub tombstones_on_delete: bool,
    /// `key.converter.schemas.enable` (default true, as Kafka Connect's JsonConverter).
    pub key_schemas: bool,
    /// `value.converter.schemas.enable` (default true, as Kafka Connect's JsonConverter).
    pub value_schemas: bool,
    /// `decimal.handling.mode`, `time.precision.mode`, `binary.handling.mode`,
    /// `interval.handling.mode`, `hstore.handling.mode` (Debezium's defaults: precise, adaptive,
    /// bytes, numeric, json).
    pub modes: TypeModes,
    /// `unavailable.value.placeholder` (default `__debezium_unavailable_value`): what an unchanged
    /// TOASTed value wal2json leaves out becomes.
    pub unavailable_value_placeholder: String,
}

/// How to reach Kafka.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KafkaConfig {
    /// `kafka.bootstrap.servers`: `host:port` list.
    pub bootstrap_servers: Vec<String>,
    /// `topic.creation.enable` (default true), `topic.creation.default.partitions` (default 1) and
    /// `topic.creation.default.replication.factor` (default -1: the broker's default), as Kafka
    /// Connect names them: create a missing topic with these settings; `None` when disabled.
    pub create_topics: Option<(i32, i16)>,
    /// `kafka.publish.timeout.ms` (default 60 000): how long publishing one batch may take,
    /// retries of transient broker errors included.
    pub publish_timeout: Duration,
}

/// `checkpoint.uri`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointLocation {
    /// `s3://bucket/key`
    S3 { bucket: String, key: String },
    /// `file:///path` (local runs)
    File(PathBuf),
}

impl fmt::Display for CheckpointLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
            Self::File(path) => write!(f, "file://{}", path.display()),
        }
    }
}

/// `offset.mismatch.strategy`: `fail` (default: refuse to guess), `trust_slot`, `trust_offset`,
/// `trust_greater_lsn`; Debezium's `no_validation` is taken as `trust_greater_lsn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MismatchStrategy {
    Fail,
    TrustSlot,
    TrustOffset,
    TrustGreaterLsn,
}

/// How much one invocation reads at a time, and for how long.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WindowConfig {
    /// `window.max.changes` (default 10 000, 1 ..= 10 000 000): `upto_nchanges` of one peek.
    /// PostgreSQL stops a window only at a transaction boundary, so a window can hold more.
    pub max_changes: u32,
    /// `window.fetch.rows` (default 2 000, 1 ..= 100 000): rows fetched from the peek at a time,
    /// which bounds memory however large a transaction is.
    pub fetch_rows: u32,
    /// `invocation.time.margin.ms` (default 10 000): no new window starts when less than this
    /// remains of the invocation's time.
    pub time_margin: Duration,
    /// `invocation.time.budget.ms` (default 300 000): the time budget of a local run, where Lambda
    /// gives no deadline.
    pub local_time_budget: Duration,
    /// `poll.interval.ms` (default 0: one pass): a scheduled invocation relays, then again every
    /// this often, so a schedule of one minute (EventBridge's smallest rate) delivers every N seconds.
    pub poll_interval: Duration,
    /// `poll.duration.ms` (default 0: until the time budget ends): how long one invocation keeps
    /// polling; set it below the schedule's rate so invocations do not overlap.
    pub poll_duration: Duration,
}

/// `snapshot.mode`: when the existing rows are read as `op: "r"` events (Debezium 3.x's values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotMode {
    /// Snapshot when there is no checkpoint yet (or a snapshot is unfinished), then stream.
    Initial,
    /// As `initial`, but never stream.
    InitialOnly,
    /// Never snapshot; stream from the slot's position (Debezium's older `never`).
    NoData,
    /// As `initial`, and again when the checkpoint's position is no longer in the slot.
    WhenNeeded,
    /// Snapshot at every start (for a function: every cold start), then stream.
    Always,
    /// `snapshot.mode.configuration.based.*` decide.
    ConfigurationBased {
        /// `…snapshot.data`: snapshot at every start.
        data: bool,
        /// `…start.stream`: stream.
        stream: bool,
        /// `…snapshot.on.data.error`: snapshot again when the checkpoint's position is gone.
        on_data_error: bool,
    },
}

impl SnapshotMode {
    /// Whether changes are streamed (after or beside the snapshot).
    pub fn streams(self) -> bool {
        match self {
            Self::InitialOnly => false,
            Self::ConfigurationBased { stream, .. } => stream,
            _ => true,
        }
    }

    /// Whether a snapshot starts when there is no checkpoint at all.
    pub fn on_first_run(self) -> bool {
        match self {
            Self::NoData => false,
            Self::ConfigurationBased { data, .. } => data,
            _ => true,
        }
    }

    /// Whether a snapshot starts at every cold start.
    pub fn on_every_start(self) -> bool {
        match self {
            Self::Always => true,
            Self::ConfigurationBased { data, .. } => data,
            _ => false,
        }
    }

    /// Whether a checkpoint whose position the slot no longer has means "snapshot again".
    pub fn on_lost_position(self) -> bool {
        match self {
            Self::WhenNeeded => true,
            Self::ConfigurationBased { on_data_error, .. } => on_data_error,
            _ => false,
        }
    }
}

/// How the existing rows are read.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SnapshotConfig {
    /// `snapshot.mode` (default `initial`).
    pub mode: SnapshotMode,
    /// `snapshot.include.collection.list`: the captured tables to snapshot (anchored,
    /// case-insensitive regular expressions over `schema.table`); empty = every captured table.
    pub include: Vec<regex::Regex>,
    /// `snapshot.fetch.size` (default 10 240, 1 ..= 1 000 000): rows per chunk. Each chunk is one
    /// short read-only transaction, published and checkpointed before the next.
    pub chunk_rows: u32,
}

/// Every key walbridge reads, with its default where it has one. One place, so that the environment
/// lookup, the unknown-key report and the documentation agree.
pub const KEYS: &[(&str, Option<&str>)] = &[
    ("name", Some("walbridge")),
    ("connector.class", None),
    ("tasks.max", None),
    ("plugin.name", Some("wal2json")),
    ("database.hostname", None),
    ("database.port", Some("5432")),
    ("database.user", None),
    ("database.password", Some("")),
    ("database.dbname", None),
    ("slot.name", Some("debezium")),
    ("slot.create", Some("false")),
    ("table.include.list", None),
    ("table.whitelist", None),
    ("topic.prefix", None),
    ("database.server.name", None),
    ("tombstones.on.delete", Some("true")),
    ("key.converter", None),
    ("value.converter", None),
    ("key.converter.schemas.enable", Some("true")),
    ("value.converter.schemas.enable", Some("true")),
    ("kafka.bootstrap.servers", None),
    ("kafka.publish.timeout.ms", Some("60000")),
    ("topic.creation.enable", Some("true")),
    ("topic.creation.default.partitions", Some("1")),
    ("topic.creation.default.replication.factor", Some("-1")),
    ("checkpoint.uri", None),
    ("checkpoint.s3.endpoint.url", None),
    ("offset.mismatch.strategy", Some("fail")),
    ("window.max.changes", Some("10000")),
    ("window.fetch.rows", Some("2000")),
    ("invocation.time.margin.ms", Some("10000")),
    ("invocation.time.budget.ms", Some("300000")),
    ("poll.interval.ms", Some("0")),
    ("poll.duration.ms", Some("0")),
    // snapshots (issue 10)
    ("snapshot.mode", Some("initial")),
    (
        "snapshot.mode.configuration.based.snapshot.data",
        Some("false"),
    ),
    (
        "snapshot.mode.configuration.based.snapshot.schema",
        Some("false"),
    ),
    (
        "snapshot.mode.configuration.based.start.stream",
        Some("false"),
    ),
    (
        "snapshot.mode.configuration.based.snapshot.on.schema.error",
        Some("false"),
    ),
    (
        "snapshot.mode.configuration.based.snapshot.on.data.error",
        Some("false"),
    ),
    ("snapshot.include.collection.list", None),
    ("snapshot.fetch.size", Some("10240")),
    ("snapshot.max.threads", Some("1")),
    // encoder modes (issue 4)
    ("decimal.handling.mode", Some("precise")),
    ("time.precision.mode", Some("adaptive")),
    ("binary.handling.mode", Some("bytes")),
    ("interval.handling.mode", Some("numeric")),
    ("hstore.handling.mode", Some("json")),
    (
        "unavailable.value.placeholder",
        Some("__debezium_unavailable_value"),
    ),
];

/// Keys whose values are masked in errors.
const SECRET_KEYS: &[&str] = &["database.password"];

/// Accepted for compatibility with Debezium's wal2json decoders: all read a wal2json slot.
const WAL2JSON_PLUGINS: &[&str] = &[
    "wal2json",
    "wal2json_streaming",
    "wal2json_rds",
    "wal2json_rds_streaming",
];

const JSON_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";

impl Config {
    /// Loads the configuration the way the function does at cold start: the `.properties` file named
    /// by `WALBRIDGE_PROPERTIES` (if set), overridden by environment variables.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the key, the (masked) value and what is allowed.
    pub fn from_env() -> Result<Self, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let file = match env.get("WALBRIDGE_PROPERTIES").filter(|p| !p.is_empty()) {
            Some(path) => Properties::read_file(path.as_ref())?,
            None => Properties::default(),
        };
        Self::from_sources(file, &env)
    }

    /// Builds the configuration from a parsed `.properties` file and an environment (variable name →
    /// value); an environment variable `A_B_C` overrides the key `a.b.c`.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the key, the (masked) value and what is allowed.
    pub fn from_sources(
        file: Properties,
        env: &BTreeMap<String, String>,
    ) -> Result<Self, ConfigError> {
        let props = file.with_env_overrides(env, KEYS.iter().map(|(key, _)| *key));
        let ignored_keys = props.unknown_keys(KEYS.iter().map(|(key, _)| *key));
        check_fixed_values(&props)?;
        let mut warnings = Vec::new();
        let snapshot = snapshot_config(&props, &mut warnings)?;
        Ok(Self {
            name: props.string("name")?,
            database: DatabaseConfig {
                hostname: props.required("database.hostname")?,
                port: props.parse_in("database.port", 1..=65535)?,
                user: props.required("database.user")?,
                password: SecretString::from(props.string("database.password")?),
                dbname: props.required("database.dbname")?,
            },
            slot: SlotConfig {
                name: slot_name(&props)?,
                create: props.bool("slot.create")?,
            },
            tables: table_patterns(&props)?,
            topic_prefix: topic_prefix(&props)?,
            events: EventConfig {
                tombstones_on_delete: props.bool("tombstones.on.delete")?,
                key_schemas: props.bool("key.converter.schemas.enable")?,
                value_schemas: props.bool("value.converter.schemas.enable")?,
                modes: TypeModes {
                    decimal: mode(&props)?,
                    time: mode(&props)?,
                    binary: mode(&props)?,
                    interval: mode(&props)?,
                    hstore: mode(&props)?,
                },
                unavailable_value_placeholder: props.string("unavailable.value.placeholder")?,
            },
            kafka: KafkaConfig {
                bootstrap_servers: bootstrap_servers(&props)?,
                create_topics: if props.bool("topic.creation.enable")? {
                    Some((
                        props.parse_in("topic.creation.default.partitions", 1..=10_000)?,
                        props.parse_in("topic.creation.default.replication.factor", -1..=32)?,
                    ))
                } else {
                    None
                },
                publish_timeout: Duration::from_millis(
                    props.parse_in("kafka.publish.timeout.ms", 1_000..=900_000)?,
                ),
            },
            checkpoint: checkpoint_location(&props)?,
            checkpoint_s3_endpoint: s3_endpoint(&props)?,
            mismatch: match props.string("offset.mismatch.strategy")?.as_str() {
                "fail" => MismatchStrategy::Fail,
                "trust_slot" => MismatchStrategy::TrustSlot,
                "trust_offset" => MismatchStrategy::TrustOffset,
                "trust_greater_lsn" | "no_validation" => MismatchStrategy::TrustGreaterLsn,
                _ => {
                    return Err(props.invalid(
                        "offset.mismatch.strategy",
                        "one of fail, trust_slot, trust_offset, trust_greater_lsn, no_validation",
                    ));
                }
            },
            window: WindowConfig {
                max_changes: props.parse_in("window.max.changes", 1..=10_000_000)?,
                fetch_rows: props.parse_in("window.fetch.rows", 1..=100_000)?,
                time_margin: Duration::from_millis(
                    props.parse_in("invocation.time.margin.ms", 0..=600_000)?,
                ),
                local_time_budget: Duration::from_millis(
                    props.parse_in("invocation.time.budget.ms", 1..=86_400_000)?,
                ),
                poll_interval: Duration::from_millis(
                    props.parse_in("poll.interval.ms", 0..=3_600_000)?,
                ),
                poll_duration: Duration::from_millis(
                    props.parse_in("poll.duration.ms", 0..=86_400_000)?,
                ),
            },
            snapshot,
            warnings,
            ignored_keys,
        })
    }
}

/// Keys Debezium users set that walbridge accepts only at the one value it implements.
fn check_fixed_values(props: &Properties) -> Result<(), ConfigError> {
    if let Some(class) = props.get("connector.class")
        && class != "io.debezium.connector.postgresql.PostgresConnector"
    {
        return Err(props.invalid(
            "connector.class",
            "io.debezium.connector.postgresql.PostgresConnector (walbridge replaces Debezium's PostgreSQL connector)",
        ));
    }
    if let Some(tasks) = props.get("tasks.max")
        && tasks.trim() != "1"
    {
        return Err(props.invalid(
            "tasks.max",
            "1 (a slot has one reader; walbridge runs with reserved concurrency 1)",
        ));
    }
    let plugin = props.string("plugin.name")?;
    if !WAL2JSON_PLUGINS.contains(&plugin.as_str()) {
        return Err(props.invalid(
            "plugin.name",
            "wal2json (or wal2json_streaming, wal2json_rds, wal2json_rds_streaming): walbridge reads a wal2json slot",
        ));
    }
    for key in ["key.converter", "value.converter"] {
        if let Some(converter) = props.get(key)
            && converter != JSON_CONVERTER
        {
            return Err(props.invalid(key, JSON_CONVERTER));
        }
    }
    Ok(())
}

fn slot_name(props: &Properties) -> Result<String, ConfigError> {
    let name = props.string("slot.name")?;
    let valid = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if valid {
        Ok(name)
    } else {
        Err(props.invalid(
            "slot.name",
            "1 to 63 characters of a-z, 0-9 and _ (PostgreSQL's rule for slot names)",
        ))
    }
}

fn topic_prefix(props: &Properties) -> Result<String, ConfigError> {
    let (key, prefix) = match props.get("topic.prefix") {
        Some(prefix) => ("topic.prefix", prefix.to_owned()),
        None => match props.get("database.server.name") {
            Some(prefix) => ("database.server.name", prefix.to_owned()),
            None => {
                return Err(ConfigError::Missing {
                    key: "topic.prefix",
                    hint: "set the topic prefix (Debezium 1.x called it database.server.name); topics are <topic.prefix>.<schema>.<table>",
                });
            }
        },
    };
    let valid = !prefix.is_empty()
        && prefix.len() <= 200
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if valid {
        Ok(prefix)
    } else {
        Err(props.invalid(
            key,
            "1 to 200 characters of A-Z, a-z, 0-9, '.', '_' and '-' (Kafka's rule for topic names)",
        ))
    }
}

fn table_patterns(props: &Properties) -> Result<Vec<TablePattern>, ConfigError> {
    let (key, list) = match (
        props.get("table.include.list"),
        props.get("table.whitelist"),
    ) {
        (Some(list), _) => ("table.include.list", list),
        (None, Some(list)) => ("table.whitelist", list),
        (None, None) => return Ok(Vec::new()),
    };
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            parse_table_pattern(entry).ok_or_else(|| {
                props.invalid(
                    key,
                    "a comma-separated list of schema.table, where either part may be * (or .* ) for any; \
                     other regular expressions cannot be pushed down to wal2json",
                )
            })
        })
        .collect()
}

/// `schema.table`, with Debezium's regex spellings of a literal dot (`\.`) and of "any" (`.*`)
/// accepted, because users copy them from their connector configuration.
fn parse_table_pattern(entry: &str) -> Option<TablePattern> {
    let (schema, table) = entry.split_once("\\.").or_else(|| entry.split_once('.'))?;
    let part = |text: &str| -> Option<String> {
        if text == "*" || text == ".*" {
            return Some("*".to_owned());
        }
        let literal = !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '$');
        literal.then(|| text.to_owned())
    };
    Some(TablePattern {
        schema: part(schema)?,
        table: part(table)?,
    })
}

const SNAPSHOT_MODES: &str =
    "one of initial, initial_only, no_data, when_needed, always, configuration_based";

fn snapshot_config(
    props: &Properties,
    warnings: &mut Vec<String>,
) -> Result<SnapshotConfig, ConfigError> {
    let value = props.string("snapshot.mode")?;
    let mode = match value.to_ascii_lowercase().as_str() {
        "initial" => SnapshotMode::Initial,
        "initial_only" => SnapshotMode::InitialOnly,
        "no_data" => SnapshotMode::NoData,
        "when_needed" => SnapshotMode::WhenNeeded,
        "always" => SnapshotMode::Always,
        "configuration_based" => SnapshotMode::ConfigurationBased {
            data: props.bool("snapshot.mode.configuration.based.snapshot.data")?,
            stream: props.bool("snapshot.mode.configuration.based.start.stream")?,
            on_data_error: props
                .bool("snapshot.mode.configuration.based.snapshot.on.data.error")?,
        },
        // Names Debezium removed in 3.3 that users' files still carry.
        old @ ("never" | "schema_only") => {
            warnings.push(format!(
                "snapshot.mode={old} is an old name (removed in Debezium 3.3); use snapshot.mode=no_data, which walbridge applies"
            ));
            SnapshotMode::NoData
        }
        "exported" => {
            warnings.push(
                "snapshot.mode=exported is a Debezium 1.x name (removed in 2.0); use snapshot.mode=initial, which walbridge applies"
                    .to_owned(),
            );
            SnapshotMode::Initial
        }
        "custom" => {
            return Err(props.invalid(
                "snapshot.mode",
                &format!("{SNAPSHOT_MODES} (custom loads a Java Snapshotter class, which a Rust function cannot run)"),
            ));
        }
        _ => return Err(props.invalid("snapshot.mode", SNAPSHOT_MODES)),
    };
    let include = match props.get("snapshot.include.collection.list") {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                regex::RegexBuilder::new(&format!("^(?:{entry})$"))
                    .case_insensitive(true)
                    .build()
                    .map_err(|_| {
                        props.invalid(
                            "snapshot.include.collection.list",
                            "a comma-separated list of regular expressions over schema.table",
                        )
                    })
            })
            .collect::<Result<_, _>>()?,
    };
    let threads: u32 = props.parse_in("snapshot.max.threads", 1..=64)?;
    if threads > 1 {
        warnings.push(format!(
            "snapshot.max.threads={threads}: walbridge reads one chunk at a time (each chunk is a short transaction between windows of the slot)"
        ));
    }
    Ok(SnapshotConfig {
        mode,
        include,
        chunk_rows: props.parse_in("snapshot.fetch.size", 1..=1_000_000)?,
    })
}

fn bootstrap_servers(props: &Properties) -> Result<Vec<String>, ConfigError> {
    let list = props.required("kafka.bootstrap.servers")?;
    let servers: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let valid = !servers.is_empty()
        && servers.iter().all(|server| {
            server
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
        });
    if valid {
        Ok(servers)
    } else {
        Err(props.invalid(
            "kafka.bootstrap.servers",
            "a comma-separated list of host:port",
        ))
    }
}

fn checkpoint_location(props: &Properties) -> Result<CheckpointLocation, ConfigError> {
    let uri = props.required("checkpoint.uri")?;
    if let Some(rest) = uri.strip_prefix("s3://")
        && let Some((bucket, key)) = rest.split_once('/')
        && !bucket.is_empty()
        && !key.is_empty()
        && !key.ends_with('/')
    {
        return Ok(CheckpointLocation::S3 {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        });
    }
    if let Some(path) = uri.strip_prefix("file://")
        && path.starts_with('/')
        && path.len() > 1
    {
        return Ok(CheckpointLocation::File(PathBuf::from(path)));
    }
    Err(props.invalid(
        "checkpoint.uri",
        "s3://bucket/key (an object key, not a prefix) or file:///absolute/path",
    ))
}

fn s3_endpoint(props: &Properties) -> Result<Option<String>, ConfigError> {
    match props.get("checkpoint.s3.endpoint.url") {
        None => Ok(None),
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
            Ok(Some(url.to_owned()))
        }
        Some(_) => Err(props.invalid(
            "checkpoint.s3.endpoint.url",
            "an http:// or https:// URL of an S3-compatible endpoint",
        )),
    }
}

#[cfg(test)]
mod tests;

/// One of Debezium's representation modes, by its property name; an error lists the accepted values.
fn mode<M: Mode>(props: &Properties) -> Result<M, ConfigError> {
    let text = props.string(M::KEY)?;
    M::parse(&text).ok_or_else(|| props.invalid(M::KEY, &M::allowed()))
}
