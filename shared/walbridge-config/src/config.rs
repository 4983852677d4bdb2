//! The configuration's types: what one invocation needs, validated, grouped by concern.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use walbridge_event::envelope::SourceStructVersion;
use walbridge_event::modes::TypeModes;
use walbridge_event::names::NameAdjustment;

use crate::filters::Filters;
use crate::warnings::Warning;

/// Everything one invocation needs, validated.
#[derive(Debug)]
#[non_exhaustive]
pub struct Config {
    /// `name`: the connector's name, used in logs only.
    pub name: String,
    /// `database.*`: the PostgreSQL server and database the slot lives in, and how to reach it.
    pub database: DatabaseConfig,
    /// `slot.*`: the replication slot read, and whether walbridge may create it.
    pub slot: SlotConfig,
    /// `table.include.list` (or the older `table.whitelist`), `table.exclude.list`,
    /// `schema.include.list`, `schema.exclude.list`, `column.include.list`, `column.exclude.list`,
    /// `message.key.columns`, `skipped.operations`: what is captured, and how it is keyed.
    /// Shared: the relay holds it for the whole invocation.
    pub filters: std::sync::Arc<Filters>,
    /// `topic.prefix` (or the older `database.server.name`): topics are `<prefix>.<schema>.<table>`.
    pub topic_prefix: String,
    /// What the records look like: envelope, converters' schemas, value representations, headers.
    pub events: EventConfig,
    /// `heartbeat.interval.ms`, the heartbeat topic, `heartbeat.action.query`; `None` when off.
    pub heartbeat: Option<HeartbeatConfig>,
    /// `kafka.*` and `topic.creation.*`: the brokers, their security, and how records are produced.
    pub kafka: KafkaConfig,
    /// `checkpoint.uri`: where the last published LSN is recorded.
    pub checkpoint: CheckpointLocation,
    /// `offset.mismatch.strategy` (Debezium's name): what to do when the checkpoint and the slot
    /// disagree at start-up.
    pub mismatch: MismatchStrategy,
    /// `checkpoint.s3.endpoint.url`: an S3-compatible endpoint instead of AWS's (path-style
    /// requests); unset, the AWS SDK's own resolution applies (`AWS_ENDPOINT_URL_S3`, region).
    pub checkpoint_s3_endpoint: Option<String>,
    /// `window.*`: how much one window reads from the slot.
    pub window: WindowConfig,
    /// `invocation.*`, `poll.*`: how long one invocation runs, and whether it passes over the slot
    /// more than once.
    pub invocation: InvocationConfig,
    /// `snapshot.*`, `incremental.snapshot.*`, `signal.*`: when and how the existing rows are read.
    pub snapshot: SnapshotConfig,
    /// `transforms` and `predicates`: the transform chain applied to every record, in order.
    pub transforms: Vec<crate::transforms::Transform>,
    /// Keys present in the sources that walbridge does not use (Debezium has many); logged once.
    pub ignored_keys: Vec<String>,
    /// What the parser found worth a warning; see [`Config::warnings`].
    pub(crate) parsed_warnings: Vec<Warning>,
}

impl Config {
    /// Things worth a warning at cold start (old spellings of values, keys that change nothing with
    /// the others as they are); the configuration is usable. The validate report shows the same
    /// list, each under its key.
    pub fn warnings(&self) -> &[Warning] {
        &self.parsed_warnings
    }
}

/// How to reach PostgreSQL.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DatabaseConfig {
    /// `database.hostname`
    pub hostname: String,
    /// `database.port` ([default](crate::keys::DATABASE_PORT))
    pub port: u16,
    /// `database.user`
    pub user: String,
    /// `database.password`: never logged, never in an error.
    pub password: SecretString,
    /// `database.dbname`
    pub dbname: String,
    /// `database.sslmode` ([default](crate::keys::DATABASE_SSLMODE) as Debezium's).
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
    /// `slot.name` ([default](crate::keys::SLOT_NAME) as Debezium's).
    pub name: String,
    /// `slot.create`: create the slot with its plugin when it does not exist (by
    /// [default](crate::keys::SLOT_CREATE) not: the error then prints the SQL that creates it).
    pub create: bool,
    /// `slot.failover`: the slot is created with PostgreSQL 17's `failover` flag, so that standbys
    /// with `sync_replication_slots` keep a copy that survives a promotion; an existing slot's flag
    /// is checked against it (by [default](crate::keys::SLOT_FAILOVER) not a failover slot).
    pub failover: bool,
    /// `plugin.name`: the slot's logical decoding plugin.
    pub plugin: Plugin,
    /// `publication.*`: the publication a pgoutput slot is read through (unused with wal2json).
    pub publication: PublicationConfig,
}

/// The logical decoding output plugin a slot belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Plugin {
    /// wal2json, format-version 2 (every one of Debezium's wal2json decoders reads it).
    #[default]
    Wal2json,
    /// PostgreSQL's own `pgoutput`, read through a publication.
    Pgoutput,
}

impl Plugin {
    /// The plugin's name as `pg_replication_slots.plugin` spells it.
    pub fn slot_plugin(self) -> &'static str {
        match self {
            Plugin::Wal2json => "wal2json",
            Plugin::Pgoutput => "pgoutput",
        }
    }
}

/// The publication a pgoutput slot is read through (Debezium's `publication.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicationConfig {
    /// `publication.name`, as PostgreSQL stores it.
    pub name: String,
    /// `publication.autocreate.mode`: what walbridge does when it is missing (or, `filtered`, out of
    /// date).
    pub autocreate: PublicationAutocreate,
    /// `publish.via.partition.root`: the publication publishes a partition's changes as its
    /// partitioned root's (`publish_via_partition_root`), so the root is the captured table.
    pub via_root: bool,
}

/// `publication.autocreate.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicationAutocreate {
    /// Create it `FOR ALL TABLES` when missing.
    AllTables,
    /// Create it for the captured tables when missing, and set it to them when it lists others.
    Filtered,
    /// Create it without tables when missing (tables are then added by hand).
    NoTables,
    /// Never create it: a missing publication is an error.
    Disabled,
}

impl PublicationAutocreate {
    /// The mode as `publication.autocreate.mode` spells it.
    pub fn name(self) -> &'static str {
        crate::keys::PUBLICATION_AUTOCREATE_MODES
            .iter()
            .find(|(_, mode)| *mode == self)
            .map_or("", |(name, _)| name)
    }
}

/// A table name as wal2json's `add-tables` understands it: a schema and a table, each a literal
/// name or `*` for any.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TablePattern {
    /// The schema's name as PostgreSQL stores it (case kept), or `*`.
    pub schema: String,
    /// The table's name as PostgreSQL stores it (case kept), or `*`.
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
    /// `tombstones.on.delete` ([default](crate::keys::TOMBSTONES_ON_DELETE) on): a delete is
    /// followed by a record with a null value.
    pub tombstones_on_delete: bool,
    /// `topic.transaction` when `provide.transaction.metadata` is on
    /// ([default](crate::keys::PROVIDE_TRANSACTION_METADATA) off): BEGIN and END records on
    /// `<topic.prefix>.<topic.transaction>` and a `transaction` block in every streamed event.
    pub transaction_topic: Option<String>,
    /// `key.converter.schemas.enable` ([default](crate::keys::KEY_CONVERTER_SCHEMAS_ENABLE) on, as
    /// Kafka Connect's JsonConverter).
    pub key_schemas: bool,
    /// `value.converter.schemas.enable` ([default](crate::keys::VALUE_CONVERTER_SCHEMAS_ENABLE) on,
    /// as Kafka Connect's JsonConverter).
    pub value_schemas: bool,
    /// `key.converter` ([default](crate::keys::KEY_CONVERTER) JsonConverter): how keys are
    /// serialised.
    pub key_converter: Converter,
    /// `value.converter` ([default](crate::keys::VALUE_CONVERTER) JsonConverter): how values are
    /// serialised.
    pub value_converter: Converter,
    /// `decimal.handling.mode`, `time.precision.mode`, `binary.handling.mode`,
    /// `interval.handling.mode`, `hstore.handling.mode` (Debezium's defaults, declared with
    /// their keys in [`crate::keys`]).
    pub modes: TypeModes,
    /// `unavailable.value.placeholder` ([default](crate::keys::UNAVAILABLE_VALUE_PLACEHOLDER)
    /// Debezium's): what an unchanged TOASTed value wal2json leaves out becomes.
    pub unavailable_value_placeholder: String,
    /// `schema.name.adjustment.mode` ([default](crate::keys::SCHEMA_NAME_ADJUSTMENT_MODE) none):
    /// how the Key, Value and Envelope schema names are made valid Avro names.
    pub schema_names: NameAdjustment,
    /// `field.name.adjustment.mode` ([default](crate::keys::FIELD_NAME_ADJUSTMENT_MODE) none):
    /// how the columns' field names are made valid Avro names.
    pub field_names: NameAdjustment,
    /// `extended.headers.enabled` ([default](crate::keys::EXTENDED_HEADERS_ENABLED) on, Debezium
    /// 3.3+): the `__debezium.context.*` headers on every record.
    pub extended_headers: bool,
    /// `source.struct.version` ([default](crate::keys::SOURCE_STRUCT_VERSION) the current one,
    /// Debezium 1.x's property): `v1` writes the wal2json era's source block and envelope for
    /// consumers built against Debezium 0.9/1.0.
    pub source_struct: SourceStructVersion,
    /// `source.struct.v1.connector.version`
    /// ([default](crate::keys::SOURCE_STRUCT_V1_CONNECTOR_VERSION) the newest): the release a `v1`
    /// event names as `source.version`; 0.9.0–0.9.2 also leave out `xmin`, as those releases did.
    pub legacy_connector_version: &'static str,
}

/// A Kafka Connect converter: what turns a record's key or value (its Connect schema and value)
/// into the bytes written to Kafka.
#[derive(Debug, Clone, Default)]
pub enum Converter {
    /// Kafka's JsonConverter, schemas on or off (`*.converter.schemas.enable`).
    #[default]
    Json,
    /// Confluent's AvroConverter: Avro bodies, each framed with its schema's registry id (boxed:
    /// the configuration travels by value in the invocation's futures).
    Avro(Box<AvroSettings>),
}

impl Converter {
    /// The AvroConverter's settings, when it is the converter.
    pub fn avro(&self) -> Option<&AvroSettings> {
        match self {
            Self::Avro(settings) => Some(settings),
            Self::Json => None,
        }
    }
}

/// Confluent's AvroConverter settings for the key or the value (`<side>.converter.*`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AvroSettings {
    /// `schema.registry.url`: the registry's base URLs, tried in turn.
    pub registry_urls: Vec<String>,
    /// `auto.register.schemas` (default on): register a schema the subject lacks; off, only look
    /// it up, and fail when it is not registered.
    pub auto_register: bool,
    /// `use.latest.version` (default off): with `auto_register` off, write under the id of the
    /// subject's latest schema instead of looking the record's own schema up; as Confluent's
    /// serializer, registering wins when both are on.
    pub use_latest_version: bool,
    /// `basic.auth.user.info` with `basic.auth.credentials.source=USER_INFO`: the user and
    /// password of HTTP basic authentication.
    pub basic_auth: Option<(String, SecretString)>,
    /// `key.subject.name.strategy` / `value.subject.name.strategy`: the subject a schema is
    /// registered under.
    pub subject_strategy: SubjectStrategy,
    /// `schema.registry.ssl.truststore.location`: a PEM file of CA certificates for `https://`
    /// registries; `None`, the system's roots.
    pub ca_file: Option<PathBuf>,
}

/// Confluent's subject name strategies: under which subject a record's schema is registered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SubjectStrategy {
    /// `TopicNameStrategy` (the default): `<topic>-key` or `<topic>-value`.
    #[default]
    Topic,
    /// `RecordNameStrategy`: the record's full name.
    Record,
    /// `TopicRecordNameStrategy`: `<topic>-<record's full name>`.
    TopicRecord,
}

/// Heartbeats, as Debezium writes them: a record on the heartbeat topic whenever
/// `heartbeat.interval.ms` has passed since the last one.
#[derive(Clone)]
#[non_exhaustive]
pub struct HeartbeatConfig {
    /// `heartbeat.interval.ms`, above 0.
    pub interval: Duration,
    /// `topic.heartbeat.name`, else `<topic.heartbeat.prefix>.<topic.prefix>`
    /// ([default prefix](crate::keys::TOPIC_HEARTBEAT_PREFIX) Debezium's).
    pub topic: String,
    /// `heartbeat.action.query`: SQL run on a connection of its own with each heartbeat. The
    /// user's text, which may hold literals: never logged.
    pub action_query: Option<String>,
}

/// Without the action query's text.
impl fmt::Debug for HeartbeatConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeartbeatConfig")
            .field("interval", &self.interval)
            .field("topic", &self.topic)
            .field("action_query", &self.action_query.as_ref().map(|_| "****"))
            .finish()
    }
}

/// How to reach Kafka.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KafkaConfig {
    /// `kafka.bootstrap.servers`: `host:port` list.
    pub bootstrap_servers: Vec<String>,
    /// `topic.creation.enable`, `topic.creation.default.partitions` and
    /// `topic.creation.default.replication.factor` (-1: the broker's default), as Kafka
    /// Connect names them: create a missing topic with these settings; `None` when disabled.
    pub create_topics: Option<(i32, i16)>,
    /// `kafka.publish.timeout.ms` ([default](crate::keys::KAFKA_PUBLISH_TIMEOUT_MS)): how long
    /// publishing one batch may take, retries of transient broker errors included.
    pub publish_timeout: Duration,
    /// `kafka.security.protocol` `SSL` or `SASL_SSL`: TLS to the brokers.
    pub tls: Option<KafkaTls>,
    /// `kafka.security.protocol` `SASL_PLAINTEXT` or `SASL_SSL`: SASL authentication.
    pub sasl: Option<KafkaSasl>,
    /// `kafka.compression.type` ([default](crate::keys::KAFKA_COMPRESSION_TYPE): lz4).
    pub compression: Compression,
    /// `kafka.max.request.size` ([default](crate::keys::KAFKA_MAX_REQUEST_SIZE) Kafka's
    /// producer's): the largest produce request; keep it at or below the broker's
    /// `message.max.bytes`.
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
    /// `kafka.sasl.mechanism` ([default](crate::keys::KAFKA_SASL_MECHANISM)).
    pub mechanism: SaslMechanism,
    /// `kafka.sasl.username`
    pub username: String,
    /// `kafka.sasl.password`: never logged, never in an error.
    pub password: SecretString,
}

/// `kafka.sasl.mechanism`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaslMechanism {
    /// `PLAIN`: username and password sent as they are, so only over TLS (`SASL_SSL`) in earnest.
    Plain,
    /// `SCRAM-SHA-256`: salted challenge-response; the password never crosses the wire.
    ScramSha256,
    /// `SCRAM-SHA-512`: as `SCRAM-SHA-256`, with SHA-512 (Amazon MSK's SASL/SCRAM uses this one).
    ScramSha512,
    /// Amazon MSK's IAM access control: OAUTHBEARER with a SigV4-signed token made from the
    /// function's own AWS credentials; no username or password.
    AwsMskIam,
}

/// `kafka.compression.type`: the codec of produced record batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// Batches as they are (Kafka Connect's producer's default): most bytes on the wire and on the
    /// brokers' disks.
    None,
    /// gzip: the smallest batches of the classic codecs, at the most CPU.
    Gzip,
    /// Snappy: fast, moderate ratio.
    Snappy,
    /// LZ4: fast, moderate ratio; walbridge's default.
    #[default]
    Lz4,
    /// Zstandard: close to gzip's ratio at a fraction of its CPU (brokers 2.1+).
    Zstd,
}

/// `checkpoint.uri`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointLocation {
    /// `s3://bucket/key`
    S3 {
        /// The bucket (the URI's host part).
        bucket: String,
        /// The object key (the URI's path, without its leading `/`).
        key: String,
    },
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

/// `offset.mismatch.strategy` (by [default](crate::keys::OFFSET_MISMATCH_STRATEGY), refuse to
/// guess).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MismatchStrategy {
    /// `fail`: stop with an error that names the choices; an operator decides which side is right.
    #[default]
    Fail,
    /// `trust_slot`: start from the slot's position. When the slot is behind the checkpoint, the
    /// changes between are published again; when it is ahead, they are not read again.
    TrustSlot,
    /// `trust_offset`: advance the slot to the checkpoint's position; an error when the checkpoint
    /// is behind the slot, since PostgreSQL cannot move a slot back.
    TrustOffset,
    /// `trust_greater_lsn` (and Debezium's `no_validation`): start from whichever position is
    /// further on, advancing the slot when the checkpoint is.
    TrustGreaterLsn,
}

/// What bounds one window: a peek of the slot, published and checkpointed before the next.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WindowConfig {
    /// `window.max.changes` ([default](crate::keys::WINDOW_MAX_CHANGES), 0 ..= 10 000 000):
    /// `upto_nchanges` of one peek, 0 for none (windows are then bounded by the WAL they decode,
    /// sized to the server's decoding rate). PostgreSQL stops a window only at a transaction
    /// boundary, so a window can hold more.
    pub max_changes: u32,
    /// `window.fetch.rows` ([default](crate::keys::WINDOW_FETCH_ROWS), 1 ..= 100 000): rows fetched
    /// from the peek at a time, which bounds memory however large a transaction is.
    pub fetch_rows: u32,
    /// `window.read.ahead` ([default](crate::keys::WINDOW_READ_AHEAD)): on a backlog, PostgreSQL
    /// decodes the next window on a second connection, from a temporary copy of the slot, while
    /// walbridge publishes this one (two more connections and temporary slots at most).
    pub read_ahead: bool,
}

/// What bounds one invocation: its time, and the passes over the slot it makes in that time.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InvocationConfig {
    /// `invocation.time.margin.ms` ([default](crate::keys::INVOCATION_TIME_MARGIN_MS)): no new
    /// window starts when less than this remains of the invocation's time.
    pub time_margin: Duration,
    /// `invocation.time.budget.ms` ([default](crate::keys::INVOCATION_TIME_BUDGET_MS)): the time
    /// budget of a local run, where Lambda gives no deadline.
    pub local_time_budget: Duration,
    /// `poll.interval.ms` (by [default](crate::keys::POLL_INTERVAL_MS), 0: one pass): a scheduled
    /// invocation relays, then again every this often, so a schedule of one minute (EventBridge's
    /// smallest rate) delivers every N seconds.
    pub poll_interval: Duration,
    /// `poll.duration.ms` (by [default](crate::keys::POLL_DURATION_MS), 0: until the time budget
    /// ends): how long one invocation keeps polling; set it below the schedule's rate so
    /// invocations do not overlap.
    pub poll_duration: Duration,
    /// `schedule.expression` (none by default; the deployments set it from their schedule): the
    /// period of the EventBridge Scheduler `rate(…)` expression that wakes the function, the longest
    /// the slot waits between two invocations when none fails. `None` when not set, or for `cron(…)`
    /// and `at(…)` expressions, whose gaps vary.
    pub schedule_period: Option<Duration>,
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
    /// `snapshot.mode` ([default](crate::keys::SNAPSHOT_MODE) as Debezium's).
    pub mode: SnapshotMode,
    /// `snapshot.include.collection.list`: the captured tables to snapshot (anchored,
    /// case-insensitive regular expressions over `schema.table`); empty = every captured table.
    pub include: Vec<regex::Regex>,
    /// `snapshot.fetch.size` ([default](crate::keys::SNAPSHOT_FETCH_SIZE), 1 ..= 1 000 000): rows
    /// per chunk. Each chunk is one short read-only transaction, published and checkpointed before
    /// the next.
    pub chunk_rows: u32,
    /// `incremental.snapshot.chunk.size` ([default](crate::keys::INCREMENTAL_SNAPSHOT_CHUNK_SIZE)
    /// as Debezium's): rows per chunk of a snapshot a signal asked for.
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
