//! walbridge's configuration: Debezium connector property names, read from a Java `.properties` file
//! and from environment variables (the environment wins), parsed and validated once at cold start.
//!
//! The vocabulary is Debezium's, so a connector's `.properties` file loads as it is; walbridge's own
//! keys (`kafka.bootstrap.servers`, `checkpoint.uri`, `window.max.changes`, …) follow the same style.
//! Each key `a.b.c` can also come from the environment variable `A_B_C`.

mod filters;
mod properties;
mod report;
mod unsupported;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

pub use filters::{ColumnFilter, Filters, KeyColumns, SkippedOperations, TableFilter};
pub use properties::{ConfigError, Properties};
pub use report::{
    CheckReport, CheckStatus, PropertyReport, ValidationReport, validate_properties,
    validate_sources,
};
use secrecy::SecretString;
use walbridge_event::envelope::{
    DEFAULT_LEGACY_CONNECTOR_VERSION, LEGACY_CONNECTOR_VERSIONS, SourceStructVersion,
};
use walbridge_event::modes::{Mode, TypeModes};

/// Everything one invocation needs, validated.
#[derive(Debug)]
#[non_exhaustive]
pub struct Config {
    /// `name`: the connector's name, used in logs only.
    pub name: String,
    pub database: DatabaseConfig,
    pub slot: SlotConfig,
    /// `table.include.list` (or the older `table.whitelist`), `table.exclude.list`,
    /// `schema.include.list`, `schema.exclude.list`, `column.include.list`, `column.exclude.list`,
    /// `message.key.columns`, `skipped.operations`: what is captured, and how it is keyed.
    /// Shared: the relay holds it for the whole invocation.
    pub filters: std::sync::Arc<Filters>,
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
    /// `database.sslmode` (default `prefer`, as Debezium's).
    pub ssl_mode: SslMode,
    /// `database.sslrootcert`: a PEM file of CA certificates (the RDS bundle, say); unset, the
    /// system's roots.
    pub ssl_root_cert: Option<PathBuf>,
}

/// `database.sslmode`, libpq's modes: whether the connection is encrypted and what is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it, plain otherwise; the certificate is not verified.
    #[default]
    Prefer,
    /// TLS or nothing; the certificate is not verified (libpq's meaning).
    Require,
    /// TLS; the certificate chains to a trusted root, whatever host name it names.
    VerifyCa,
    /// TLS; the certificate chains to a trusted root and names `database.hostname`.
    VerifyFull,
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

/// A table name as wal2json's `add-tables` understands it: a schema and a table, each a literal
/// name or `*` for any.
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
    /// `extended.headers.enabled` (default true, Debezium 3.3+): the `__debezium.context.*`
    /// headers on every record.
    pub extended_headers: bool,
    /// `source.struct.version` (default `v2`, Debezium 1.x's property): `v1` writes the wal2json
    /// era's source block and envelope for consumers built against Debezium 0.9/1.0.
    pub source_struct: SourceStructVersion,
    /// `source.struct.v1.connector.version` (default `1.0.3.Final`): the release a `v1` event names as
    /// `source.version`; 0.9.0–0.9.2 also leave out `xmin`, as those releases did.
    pub legacy_connector_version: &'static str,
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
    /// `kafka.security.protocol` `SSL` or `SASL_SSL`: TLS to the brokers.
    pub tls: Option<KafkaTls>,
    /// `kafka.security.protocol` `SASL_PLAINTEXT` or `SASL_SSL`: SASL authentication.
    pub sasl: Option<KafkaSasl>,
    /// `kafka.compression.type` (default `none`).
    pub compression: Compression,
    /// `kafka.max.request.size` (default 1 048 576, as Kafka's producer): the largest produce
    /// request; keep it at or below the broker's `message.max.bytes`.
    pub max_request_size: usize,
}

/// TLS to the brokers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KafkaTls {
    /// `kafka.ssl.truststore.location`: a PEM file of CA certificates; unset, the system's roots.
    pub ca_file: Option<PathBuf>,
}

/// SASL credentials for the brokers.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KafkaSasl {
    /// `kafka.sasl.mechanism` (default `PLAIN`).
    pub mechanism: SaslMechanism,
    /// `kafka.sasl.username`
    pub username: String,
    /// `kafka.sasl.password`: never logged, never in an error.
    pub password: SecretString,
}

/// `kafka.sasl.mechanism`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaslMechanism {
    Plain,
    ScramSha256,
    ScramSha512,
    /// Amazon MSK's IAM access control: OAUTHBEARER with a SigV4-signed token made from the
    /// function's own AWS credentials; no username or password.
    AwsMskIam,
}

/// `kafka.compression.type`: the codec of produced record batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    #[default]
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MismatchStrategy {
    #[default]
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
    /// `incremental.snapshot.chunk.size` (default 1 024, as Debezium's): rows per chunk of a
    /// snapshot a signal asked for.
    pub incremental_chunk_rows: u32,
    /// `signal.data.collection` (`schema.table`): the signal table, whose inserts are Debezium
    /// signals (`signal.enabled.channels` must hold `source`, as its default does).
    pub signal_table: Option<TablePattern>,
    /// Whether an invocation's payload may carry a signal (`{"mode":"signal",…}`):
    /// `signal.enabled.channels` holds `invocation`, as its default does. Whoever may invoke the
    /// function may then start snapshots, with additional conditions run as walbridge's
    /// database user.
    pub invocation_signals: bool,
}

/// One configuration key: its name, its default, and — for a key with a closed set of values — the
/// values it accepts, declared here once so that parsing, the validate report's recommended values
/// and the documentation agree.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub name: &'static str,
    pub default: Option<&'static str>,
    /// The accepted values (matched ignoring ASCII case); empty: any value the key's parser takes.
    pub allowed: &'static [&'static str],
    /// Why only these values, appended to the error.
    pub reason: Option<&'static str>,
    /// Masked in errors, logs and reports.
    pub secret: bool,
}

impl Key {
    pub const fn new(name: &'static str, default: Option<&'static str>) -> Self {
        Self {
            name,
            default,
            allowed: &[],
            reason: None,
            secret: false,
        }
    }

    pub const fn one_of(mut self, allowed: &'static [&'static str]) -> Self {
        self.allowed = allowed;
        self
    }

    pub const fn because(mut self, reason: &'static str) -> Self {
        self.reason = Some(reason);
        self
    }

    pub const fn secret(mut self) -> Self {
        self.secret = true;
        self
    }

    /// What the key accepts, for an error: `one of a, b, c (reason)`.
    pub fn allowed_text(&self) -> String {
        let mut text = format!("one of {}", self.allowed.join(", "));
        if let Some(reason) = self.reason {
            text.push_str(&format!(" ({reason})"));
        }
        text
    }
}

/// Every key walbridge reads, with its default and accepted values where it has them. One place, so
/// that the environment lookup, the unknown-key report, validation and the documentation agree.
pub const KEYS: &[Key] = &[
    Key::new("name", Some("walbridge")),
    Key::new("connector.class", None)
        .one_of(&["io.debezium.connector.postgresql.PostgresConnector"])
        .because("walbridge replaces Debezium's PostgreSQL connector"),
    Key::new("tasks.max", None)
        .one_of(&["1"])
        .because("a slot has one reader; walbridge runs with reserved concurrency 1"),
    Key::new("plugin.name", Some("wal2json"))
        .one_of(WAL2JSON_PLUGINS)
        .because(
            "walbridge reads a wal2json slot; pgoutput and decoderbufs are not supported: \
             create a wal2json slot beside them",
        ),
    Key::new("database.hostname", None),
    Key::new("database.port", Some("5432")),
    Key::new("database.user", None),
    Key::new("database.password", Some("")).secret(),
    Key::new("database.dbname", None),
    Key::new("slot.name", Some("debezium")),
    Key::new("slot.create", Some("false")).one_of(BOOLEANS),
    Key::new("table.include.list", None),
    Key::new("table.whitelist", None),
    Key::new("topic.prefix", None),
    Key::new("database.server.name", None),
    Key::new("tombstones.on.delete", Some("true")).one_of(BOOLEANS),
    Key::new("key.converter", None).one_of(&[JSON_CONVERTER]),
    Key::new("value.converter", None).one_of(&[JSON_CONVERTER]),
    Key::new("key.converter.schemas.enable", Some("true")).one_of(BOOLEANS),
    Key::new("value.converter.schemas.enable", Some("true")).one_of(BOOLEANS),
    Key::new("kafka.bootstrap.servers", None),
    Key::new("kafka.publish.timeout.ms", Some("60000")),
    Key::new("topic.creation.enable", Some("true")).one_of(BOOLEANS),
    Key::new("topic.creation.default.partitions", Some("1")),
    Key::new("topic.creation.default.replication.factor", Some("-1")),
    Key::new("checkpoint.uri", None),
    Key::new("checkpoint.s3.endpoint.url", None),
    Key::new("offset.mismatch.strategy", Some("fail")).one_of(&[
        "fail",
        "trust_slot",
        "trust_offset",
        "trust_greater_lsn",
        "no_validation",
    ]),
    Key::new("window.max.changes", Some("10000")),
    Key::new("window.fetch.rows", Some("2000")),
    Key::new("invocation.time.margin.ms", Some("10000")),
    Key::new("invocation.time.budget.ms", Some("300000")),
    Key::new("poll.interval.ms", Some("0")),
    Key::new("poll.duration.ms", Some("0")),
    // connectivity
    Key::new("database.sslmode", Some("prefer"))
        .one_of(&["disable", "prefer", "require", "verify-ca", "verify-full"])
        .because("libpq's modes; allow is not supported"),
    Key::new("database.sslrootcert", None),
    Key::new("kafka.security.protocol", Some("PLAINTEXT")).one_of(&[
        "PLAINTEXT",
        "SSL",
        "SASL_PLAINTEXT",
        "SASL_SSL",
    ]),
    Key::new("kafka.ssl.truststore.location", None),
    Key::new("kafka.ssl.truststore.type", Some("PEM"))
        .one_of(&["PEM"])
        .because("a PEM file of CA certificates; convert a JKS or PKCS12 truststore with keytool and openssl"),
    Key::new("kafka.sasl.mechanism", Some("PLAIN")).one_of(&[
        "PLAIN",
        "SCRAM-SHA-256",
        "SCRAM-SHA-512",
        "AWS_MSK_IAM",
    ]),
    Key::new("kafka.sasl.username", None),
    Key::new("kafka.sasl.password", Some("")).secret(),
    Key::new("kafka.compression.type", Some("none"))
        .one_of(&["none", "gzip", "snappy", "lz4", "zstd"]),
    Key::new("kafka.max.request.size", Some("1048576")),
    // snapshots
    Key::new("snapshot.mode", Some("initial")).one_of(&[
        "initial",
        "initial_only",
        "no_data",
        "when_needed",
        "always",
        "configuration_based",
    ]),
    Key::new("snapshot.mode.configuration.based.snapshot.data", Some("false")).one_of(BOOLEANS),
    Key::new("snapshot.mode.configuration.based.snapshot.schema", Some("false")).one_of(BOOLEANS),
    Key::new("snapshot.mode.configuration.based.start.stream", Some("false")).one_of(BOOLEANS),
    Key::new(
        "snapshot.mode.configuration.based.snapshot.on.schema.error",
        Some("false"),
    )
    .one_of(BOOLEANS),
    Key::new(
        "snapshot.mode.configuration.based.snapshot.on.data.error",
        Some("false"),
    )
    .one_of(BOOLEANS),
    Key::new("snapshot.include.collection.list", None),
    Key::new("snapshot.fetch.size", Some("10240")),
    Key::new("snapshot.max.threads", Some("1")),
    Key::new("incremental.snapshot.chunk.size", Some("1024")),
    Key::new("signal.data.collection", None),
    Key::new("signal.enabled.channels", Some("source,invocation")),
    // encoder modes
    Key::new("decimal.handling.mode", Some("precise")).one_of(&["precise", "double", "string"]),
    Key::new("time.precision.mode", Some("adaptive")).one_of(&[
        "adaptive",
        "adaptive_time_microseconds",
        "connect",
    ]),
    Key::new("binary.handling.mode", Some("bytes")).one_of(&[
        "bytes",
        "base64",
        "base64-url-safe",
        "hex",
    ]),
    Key::new("interval.handling.mode", Some("numeric")).one_of(&["numeric", "string"]),
    Key::new("hstore.handling.mode", Some("json")).one_of(&["json", "map"]),
    Key::new(
        "unavailable.value.placeholder",
        Some("__debezium_unavailable_value"),
    ),
    // filters
    Key::new("table.exclude.list", None),
    Key::new("schema.include.list", None),
    Key::new("schema.exclude.list", None),
    Key::new("column.include.list", None),
    Key::new("column.exclude.list", None),
    Key::new("message.key.columns", None),
    Key::new("skipped.operations", Some("t")),
    // headers
    Key::new("extended.headers.enabled", Some("true")).one_of(BOOLEANS),
    // legacy consumers
    Key::new("source.struct.version", Some("v2"))
        .one_of(&["v2", "v1"])
        .because(
            "v2 is Debezium 3.7.1's source block and envelope; v1 the wal2json era's (Debezium 0.9, \
             1.0 with source.struct.version=v1), for consumers built against those connectors",
        ),
    Key::new(
        "source.struct.v1.connector.version",
        Some(DEFAULT_LEGACY_CONNECTOR_VERSION),
    )
    .one_of(LEGACY_CONNECTOR_VERSIONS)
    .because(
        "the releases whose events source.struct.version=v1 reproduces; 1.1 added the envelope's \
         transaction field",
    ),
];

/// Debezium properties walbridge ignores on purpose, with the reason the validate report gives.
pub const IGNORED_BY_DESIGN: &[(&str, &str)] = &[
    (
        "slot.drop_on_stop",
        "walbridge never drops its slot: it stops between invocations, and the slot keeps the position",
    ),
    (
        "slot.drop.on.stop",
        "walbridge never drops its slot: it stops between invocations, and the slot keeps the position",
    ),
    (
        "slot.stream.params",
        "walbridge sets wal2json's options itself (format-version 2)",
    ),
    (
        "publication.name",
        "publications belong to pgoutput; walbridge reads wal2json",
    ),
    (
        "publication.autocreate.mode",
        "publications belong to pgoutput; walbridge reads wal2json",
    ),
    (
        "max.batch.size",
        "windows are sized by window.max.changes and window.fetch.rows",
    ),
    (
        "max.queue.size",
        "windows are sized by window.max.changes and window.fetch.rows",
    ),
    (
        "status.update.interval.ms",
        "walbridge advances the slot explicitly after each checkpoint",
    ),
    (
        "lsn.flush.mode",
        "walbridge advances the slot explicitly after each checkpoint",
    ),
    (
        "flush.lsn.source",
        "walbridge advances the slot explicitly after each checkpoint",
    ),
    (
        "offset.storage",
        "the offset is the checkpoint at checkpoint.uri",
    ),
    (
        "offset.flush.interval.ms",
        "the checkpoint is written after every acknowledged window",
    ),
    (
        "snapshot.select.statement.overrides",
        "snapshots are read in primary-key chunks that resume across invocations, which a free SELECT \
         cannot be cut into; choose tables with snapshot.include.collection.list, or rows with an \
         execute-snapshot signal's additional-conditions",
    ),
    (
        "snapshot.isolation.mode",
        "each snapshot chunk is its own REPEATABLE READ READ ONLY transaction, reconciled with the \
         stream by transaction visibility",
    ),
    (
        "snapshot.locking.mode",
        "snapshot chunks take no table locks (short read-only transactions)",
    ),
    (
        "snapshot.lock.timeout.ms",
        "snapshot chunks take no table locks (short read-only transactions)",
    ),
    (
        "snapshot.query.mode",
        "snapshot chunks are key-ranged queries walbridge builds itself",
    ),
];

const BOOLEANS: &[&str] = &["true", "false"];

/// Accepted for compatibility with Debezium's wal2json decoders: all read a wal2json slot.
const WAL2JSON_PLUGINS: &[&str] = &[
    "wal2json",
    "wal2json_streaming",
    "wal2json_rds",
    "wal2json_rds_streaming",
];

const JSON_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";

/// The declaration of `name`.
///
/// # Panics
/// When `name` is not in [`KEYS`]: a programming error every test run finds.
pub fn key(name: &str) -> &'static Key {
    KEYS.iter()
        .find(|key| key.name == name)
        .unwrap_or_else(|| panic!("configuration key {name} is not declared in KEYS"))
}

impl Config {
    /// Loads the configuration the way the function does at cold start: the `.properties` file named
    /// by `WALBRIDGE_PROPERTIES` (if set), overridden by environment variables.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the key, the (masked) value and what is allowed; with several
    /// problems, [`ConfigError::Several`] lists them all.
    pub fn from_env() -> Result<Self, ConfigError> {
        let (file, env) = Self::env_sources()?;
        Self::from_sources(file, &env)
    }

    /// The sources [`Config::from_env`] reads: the properties file and the environment.
    ///
    /// # Errors
    /// [`ConfigError::Read`] when the file cannot be read or parsed.
    pub fn env_sources() -> Result<(Properties, BTreeMap<String, String>), ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let file = match env.get("WALBRIDGE_PROPERTIES").filter(|p| !p.is_empty()) {
            Some(path) => Properties::read_file(path.as_ref())?,
            None => Properties::default(),
        };
        Ok((file, env))
    }

    /// Builds the configuration from a parsed `.properties` file and an environment (variable name →
    /// value); an environment variable `A_B_C` overrides the key `a.b.c`.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the key, the (masked) value and what is allowed; with several
    /// problems, [`ConfigError::Several`] lists them all.
    pub fn from_sources(
        file: Properties,
        env: &BTreeMap<String, String>,
    ) -> Result<Self, ConfigError> {
        Self::from_properties(&merge_sources(file, env))
    }

    /// Builds the configuration from properties already merged ([`merge_sources`]) and with their
    /// secret references resolved.
    ///
    /// # Errors
    /// As [`Config::from_sources`].
    pub fn from_properties(props: &Properties) -> Result<Self, ConfigError> {
        let (config, errors) = Self::parse(props);
        into_result(config, errors)
    }

    /// The one parser: builds the configuration and goes on past a problem (using a placeholder
    /// value), so that validation can report every problem, not only the first.
    pub(crate) fn parse(props: &Properties) -> (Self, Vec<ConfigError>) {
        let mut p = Problems::default();
        check_fixed_values(props, &mut p);
        unsupported::check(
            props,
            &props.unknown_keys(KEYS.iter().map(|key| key.name)),
            &mut p.0,
        );
        let mut warnings = Vec::new();
        let snapshot = snapshot_config(props, &mut p, &mut warnings);
        warnings.extend(legacy_version_warning(
            props.get("source.struct.v1.connector.version").is_some(),
            props.get("source.struct.version"),
        ));
        let config = Self {
            name: p.take(props.string("name")),
            database: DatabaseConfig {
                hostname: p.take(props.required("database.hostname")),
                port: p.take(props.parse_in("database.port", 1..=65535)),
                user: p.take(props.required("database.user")),
                password: SecretString::from(p.take(props.string("database.password"))),
                dbname: p.take(props.required("database.dbname")),
                ssl_mode: match p.take(props.one_of("database.sslmode")) {
                    "disable" => SslMode::Disable,
                    "require" => SslMode::Require,
                    "verify-ca" => SslMode::VerifyCa,
                    "verify-full" => SslMode::VerifyFull,
                    _ => SslMode::Prefer,
                },
                ssl_root_cert: props.get("database.sslrootcert").map(PathBuf::from),
            },
            slot: SlotConfig {
                name: p.take(slot_name(props)),
                create: p.take(props.bool("slot.create")),
            },
            filters: std::sync::Arc::new(filters::filters(props, &mut p)),
            topic_prefix: p.take(topic_prefix(props)),
            events: EventConfig {
                tombstones_on_delete: p.take(props.bool("tombstones.on.delete")),
                key_schemas: p.take(props.bool("key.converter.schemas.enable")),
                value_schemas: p.take(props.bool("value.converter.schemas.enable")),
                modes: TypeModes {
                    decimal: p.take(mode(props)),
                    time: p.take(mode(props)),
                    binary: p.take(mode(props)),
                    interval: p.take(mode(props)),
                    hstore: p.take(mode(props)),
                },
                unavailable_value_placeholder: p
                    .take(props.string("unavailable.value.placeholder")),
                extended_headers: p.take(props.bool("extended.headers.enabled")),
                source_struct: SourceStructVersion::parse(
                    p.take_or(props.one_of("source.struct.version"), "v2"),
                )
                .unwrap_or_default(),
                legacy_connector_version: p.take_or(
                    props.one_of("source.struct.v1.connector.version"),
                    DEFAULT_LEGACY_CONNECTOR_VERSION,
                ),
            },
            kafka: kafka_config(props, &mut p),
            checkpoint: p.take_or(
                checkpoint_location(props),
                CheckpointLocation::File(PathBuf::new()),
            ),
            checkpoint_s3_endpoint: p.take(s3_endpoint(props)),
            mismatch: match p.take(props.one_of("offset.mismatch.strategy")) {
                "trust_slot" => MismatchStrategy::TrustSlot,
                "trust_offset" => MismatchStrategy::TrustOffset,
                "trust_greater_lsn" | "no_validation" => MismatchStrategy::TrustGreaterLsn,
                _ => MismatchStrategy::Fail,
            },
            window: WindowConfig {
                max_changes: p.take(props.parse_in("window.max.changes", 1..=10_000_000)),
                fetch_rows: p.take(props.parse_in("window.fetch.rows", 1..=100_000)),
                time_margin: Duration::from_millis(
                    p.take(props.parse_in("invocation.time.margin.ms", 0..=600_000)),
                ),
                local_time_budget: Duration::from_millis(
                    p.take(props.parse_in("invocation.time.budget.ms", 1..=86_400_000)),
                ),
                poll_interval: Duration::from_millis(
                    p.take(props.parse_in("poll.interval.ms", 0..=3_600_000)),
                ),
                poll_duration: Duration::from_millis(
                    p.take(props.parse_in("poll.duration.ms", 0..=86_400_000)),
                ),
            },
            snapshot,
            warnings,
            ignored_keys: props.unknown_keys(KEYS.iter().map(|key| key.name)),
        };
        (config, p.0)
    }
}

/// The configuration, or its problems: one as it is, several as [`ConfigError::Several`].
pub(crate) fn into_result(
    config: Config,
    mut errors: Vec<ConfigError>,
) -> Result<Config, ConfigError> {
    match errors.len() {
        0 => Ok(config),
        1 => Err(errors.remove(0)),
        _ => Err(ConfigError::Several(errors)),
    }
}

/// The file's properties with each known key overridden by its environment variable.
pub fn merge_sources(file: Properties, env: &BTreeMap<String, String>) -> Properties {
    file.with_env_overrides(env, KEYS.iter().map(|key| key.name))
}

/// The problems found so far while parsing; a failed value is replaced by a placeholder so that
/// parsing goes on.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<ConfigError>);

impl Problems {
    fn take<T: Default>(&mut self, result: Result<T, ConfigError>) -> T {
        self.take_or(result, T::default())
    }

    fn take_or<T>(&mut self, result: Result<T, ConfigError>, placeholder: T) -> T {
        result.unwrap_or_else(|err| {
            self.0.push(err);
            placeholder
        })
    }

    fn push(&mut self, err: ConfigError) {
        self.0.push(err);
    }
}

/// Keys Debezium users set that walbridge accepts only at the one value it implements (declared
/// with their allowed values in [`KEYS`]).
fn check_fixed_values(props: &Properties, p: &mut Problems) {
    for name in [
        "connector.class",
        "tasks.max",
        "plugin.name",
        "key.converter",
        "value.converter",
    ] {
        if props.get(name).is_some() || key(name).default.is_some() {
            p.take(props.one_of(name));
        }
    }
}

fn kafka_config(props: &Properties, p: &mut Problems) -> KafkaConfig {
    let protocol = p.take(props.one_of("kafka.security.protocol"));
    let tls = matches!(protocol, "SSL" | "SASL_SSL").then(|| {
        p.take(props.one_of("kafka.ssl.truststore.type"));
        KafkaTls {
            ca_file: props
                .get("kafka.ssl.truststore.location")
                .map(PathBuf::from),
        }
    });
    let sasl = if matches!(protocol, "SASL_PLAINTEXT" | "SASL_SSL") {
        let mechanism = match p.take(props.one_of("kafka.sasl.mechanism")) {
            "SCRAM-SHA-256" => SaslMechanism::ScramSha256,
            "SCRAM-SHA-512" => SaslMechanism::ScramSha512,
            "AWS_MSK_IAM" => SaslMechanism::AwsMskIam,
            _ => SaslMechanism::Plain,
        };
        let (username, password) = if mechanism == SaslMechanism::AwsMskIam {
            (String::new(), String::new())
        } else {
            (
                p.take(props.required("kafka.sasl.username")),
                p.take(props.string("kafka.sasl.password")),
            )
        };
        if password.is_empty() && mechanism != SaslMechanism::AwsMskIam {
            p.push(ConfigError::Missing {
                key: "kafka.sasl.password",
                hint: "SASL needs a password",
            });
        }
        Some(KafkaSasl {
            mechanism,
            username,
            password: SecretString::from(password),
        })
    } else {
        None
    };
    KafkaConfig {
        bootstrap_servers: p.take(bootstrap_servers(props)),
        create_topics: if p.take(props.bool("topic.creation.enable")) {
            Some((
                p.take(props.parse_in("topic.creation.default.partitions", 1..=10_000)),
                p.take(props.parse_in("topic.creation.default.replication.factor", -1..=32)),
            ))
        } else {
            None
        },
        publish_timeout: Duration::from_millis(
            p.take(props.parse_in("kafka.publish.timeout.ms", 1_000..=900_000)),
        ),
        tls,
        sasl,
        compression: match p.take(props.one_of("kafka.compression.type")) {
            "gzip" => Compression::Gzip,
            "snappy" => Compression::Snappy,
            "lz4" => Compression::Lz4,
            "zstd" => Compression::Zstd,
            _ => Compression::None,
        },
        max_request_size: p.take(props.parse_in("kafka.max.request.size", 1_024..=1_073_741_824)),
    }
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

fn snapshot_config(
    props: &Properties,
    p: &mut Problems,
    warnings: &mut Vec<String>,
) -> SnapshotConfig {
    let value = p.take(props.string("snapshot.mode"));
    let mode = match value.to_ascii_lowercase().as_str() {
        "initial" => SnapshotMode::Initial,
        "initial_only" => SnapshotMode::InitialOnly,
        "no_data" => SnapshotMode::NoData,
        "when_needed" => SnapshotMode::WhenNeeded,
        "always" => SnapshotMode::Always,
        "configuration_based" => SnapshotMode::ConfigurationBased {
            data: p.take(props.bool("snapshot.mode.configuration.based.snapshot.data")),
            stream: p.take(props.bool("snapshot.mode.configuration.based.start.stream")),
            on_data_error: p
                .take(props.bool("snapshot.mode.configuration.based.snapshot.on.data.error")),
        },
        old @ ("never" | "schema_only" | "exported") => {
            warnings.extend(snapshot_mode_warning(old));
            if old == "exported" {
                SnapshotMode::Initial
            } else {
                SnapshotMode::NoData
            }
        }
        "custom" => {
            p.push(props.invalid(
                "snapshot.mode",
                &format!(
                    "{} (custom loads a Java Snapshotter class, which a Rust function cannot run)",
                    key("snapshot.mode").allowed_text()
                ),
            ));
            SnapshotMode::NoData
        }
        _ => {
            p.push(props.invalid("snapshot.mode", &key("snapshot.mode").allowed_text()));
            SnapshotMode::NoData
        }
    };
    let include = match props.get("snapshot.include.collection.list") {
        None => Vec::new(),
        Some(list) => p.take(
            list.split(',')
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
                .collect::<Result<_, _>>(),
        ),
    };
    let threads: u32 = p.take_or(props.parse_in("snapshot.max.threads", 1..=64), 1);
    warnings.extend(snapshot_threads_warning(threads));
    let channels = p.take_or(signal_channels(props), SignalChannels::default());
    SnapshotConfig {
        mode,
        include,
        chunk_rows: p.take_or(props.parse_in("snapshot.fetch.size", 1..=1_000_000), 10_240),
        incremental_chunk_rows: p.take_or(
            props.parse_in("incremental.snapshot.chunk.size", 1..=1_000_000),
            1_024,
        ),
        signal_table: if channels.source {
            p.take(signal_table(props))
        } else {
            None
        },
        invocation_signals: channels.invocation,
    }
}

/// Which of walbridge's signal channels `signal.enabled.channels` turns on.
#[derive(Debug, Clone, Copy, Default)]
struct SignalChannels {
    source: bool,
    invocation: bool,
}

fn signal_channels(props: &Properties) -> Result<SignalChannels, ConfigError> {
    let mut channels = SignalChannels::default();
    for channel in props
        .string("signal.enabled.channels")?
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        if channel.eq_ignore_ascii_case("source") {
            channels.source = true;
        } else if channel.eq_ignore_ascii_case("invocation") {
            channels.invocation = true;
        } else {
            return Err(props.invalid(
                "signal.enabled.channels",
                "source (the signal table) and invocation (a {\"mode\":\"signal\",…} payload); \
                 the kafka channel is not supported yet, file and jmx have no meaning for a function",
            ));
        }
    }
    Ok(channels)
}

/// `signal.data.collection`.
fn signal_table(props: &Properties) -> Result<Option<TablePattern>, ConfigError> {
    let Some(name) = props.get("signal.data.collection") else {
        return Ok(None);
    };
    let literal = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
    };
    match name.split_once('.') {
        Some((schema, table)) if literal(schema) && literal(table) => Ok(Some(TablePattern {
            schema: schema.to_owned(),
            table: table.to_owned(),
        })),
        _ => Err(props.invalid(
            "signal.data.collection",
            "schema.table of the signal table, e.g. public.debezium_signal",
        )),
    }
}

/// The warning for a `snapshot.mode` name Debezium removed (users' files still carry them), if it
/// is one; it names the value walbridge applies instead.
pub fn snapshot_mode_warning(value: &str) -> Option<String> {
    match value.to_ascii_lowercase().as_str() {
        old @ ("never" | "schema_only") => Some(format!(
            "snapshot.mode={old} is an old name (removed in Debezium 3.3); use snapshot.mode=no_data, which walbridge applies"
        )),
        "exported" => Some(
            "snapshot.mode=exported is a Debezium 1.x name (removed in 2.0); use snapshot.mode=initial, which walbridge applies"
                .to_owned(),
        ),
        _ => None,
    }
}

/// The warning for `source.struct.v1.connector.version` set while `source.struct.version` is not
/// `v1` (`struct_version`, unset meaning the default `v2`): it changes nothing then.
pub fn legacy_version_warning(version_set: bool, struct_version: Option<&str>) -> Option<String> {
    let v1 = struct_version.is_some_and(|v| v.trim().eq_ignore_ascii_case("v1"));
    (version_set && !v1).then(|| {
        "source.struct.v1.connector.version is used only with source.struct.version=v1; the events \
         are v2's"
            .to_owned()
    })
}

/// The warning for `snapshot.max.threads` above 1.
pub fn snapshot_threads_warning(threads: u32) -> Option<String> {
    (threads > 1).then(|| {
        format!(
            "snapshot.max.threads={threads}: walbridge reads one chunk at a time (each chunk is a short transaction between windows of the slot)"
        )
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
