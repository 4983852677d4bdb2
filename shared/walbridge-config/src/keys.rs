//! Every key walbridge reads: one typed constant per key, with its name, its default and — for a key
//! with a closed set of values — the values it accepts. The parser, the environment lookup, the
//! unknown-key report, the validate report and the tests all read these constants, so a key's
//! name, default and accepted values are written down once.
//!
//! Adding a key: declare its constant here, add it to [`KEYS`], parse it in `parse.rs`.

use walbridge_event::envelope::{
    DEFAULT_HEARTBEAT_TOPIC_PREFIX, DEFAULT_LEGACY_CONNECTOR_VERSION, LEGACY_CONNECTOR_VERSIONS,
    SourceStructVersion, UNAVAILABLE_VALUE_PLACEHOLDER as DEBEZIUM_UNAVAILABLE_VALUE,
};
use walbridge_event::modes::{
    BinaryMode, DecimalMode, HstoreMode, IntervalMode, Mode, TimePrecisionMode,
};
use walbridge_event::names::NameAdjustment;

use crate::config::{
    Compression, MismatchStrategy, Plugin, PublicationAutocreate, SaslMechanism, SslMode,
    SubjectStrategy,
};

/// One configuration key: its name, its default, and — for a key with a closed set of values — the
/// values it accepts, declared once so that parsing, the validate report's recommended values and
/// the documentation agree.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// The key as a `.properties` file spells it; the environment variable is derived from it.
    pub name: &'static str,
    /// The value in force when the key is unset; `None`: the key is required, or optional
    /// without a value.
    pub default: Option<&'static str>,
    /// The accepted values (matched ignoring ASCII case); empty: any value the key's parser takes.
    pub allowed: &'static [&'static str],
    /// Why only these values, appended to the error.
    pub reason: Option<&'static str>,
    /// Masked in errors, logs and reports.
    pub secret: bool,
}

impl Key {
    /// A key named `name` with `default` (`None`: the key is required, or optional without one).
    pub const fn new(name: &'static str, default: Option<&'static str>) -> Self {
        Self {
            name,
            default,
            allowed: &[],
            reason: None,
            secret: false,
        }
    }

    /// The key accepts only these values.
    pub const fn one_of(mut self, allowed: &'static [&'static str]) -> Self {
        self.allowed = allowed;
        self
    }

    /// Why the key accepts only its values.
    pub const fn because(mut self, reason: &'static str) -> Self {
        self.reason = Some(reason);
        self
    }

    /// The key holds a secret.
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

/// The spellings of a table of values, for [`Key::one_of`]: a key whose values map to an enum
/// declares the table once and takes its accepted values from it.
const fn names<T, const N: usize>(table: &[(&'static str, T)]) -> [&'static str; N] {
    assert!(table.len() == N, "the array holds every name of the table");
    let mut names = [""; N];
    let mut i = 0;
    while i < N {
        names[i] = table[i].0;
        i += 1;
    }
    names
}

const BOOLEANS: &[&str] = &["true", "false"];

/// `plugin.name`: Debezium's wal2json decoders (all read the same wal2json slot) and pgoutput.
pub(crate) const PLUGINS: &[(&str, Plugin)] = &[
    ("wal2json", Plugin::Wal2json),
    ("wal2json_streaming", Plugin::Wal2json),
    ("wal2json_rds", Plugin::Wal2json),
    ("wal2json_rds_streaming", Plugin::Wal2json),
    ("pgoutput", Plugin::Pgoutput),
];

/// `publication.autocreate.mode`, as Debezium spells its modes.
pub(crate) const PUBLICATION_AUTOCREATE_MODES: &[(&str, PublicationAutocreate)] = &[
    ("all_tables", PublicationAutocreate::AllTables),
    ("filtered", PublicationAutocreate::Filtered),
    ("no_tables", PublicationAutocreate::NoTables),
    ("disabled", PublicationAutocreate::Disabled),
];

/// Kafka's JsonConverter, the default converter.
pub const JSON_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";
/// Confluent's AvroConverter: Avro bodies framed with their schema registry id.
pub const AVRO_CONVERTER: &str = "io.confluent.connect.avro.AvroConverter";
const CONVERTERS: &[&str] = &[JSON_CONVERTER, AVRO_CONVERTER];
const TOPIC_NAME_STRATEGY: &str = "io.confluent.kafka.serializers.subject.TopicNameStrategy";

/// `*.subject.name.strategy`: Confluent's strategies, by class.
pub(crate) const SUBJECT_STRATEGIES: &[(&str, SubjectStrategy)] = &[
    (TOPIC_NAME_STRATEGY, SubjectStrategy::Topic),
    (
        "io.confluent.kafka.serializers.subject.RecordNameStrategy",
        SubjectStrategy::Record,
    ),
    (
        "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy",
        SubjectStrategy::TopicRecord,
    ),
];
const SUBJECT_STRATEGY_NAMES: [&str; SUBJECT_STRATEGIES.len()] = names(SUBJECT_STRATEGIES);
const CREDENTIALS_SOURCES: &[&str] = &["URL", "USER_INFO"];

// The values of the keys that map to an enum, each declared once: the parser looks values up here,
// and the keys below take their accepted spellings from here.

/// `database.sslmode`: libpq's modes.
pub(crate) const SSL_MODES: &[(&str, SslMode)] = &[
    ("disable", SslMode::Disable),
    ("prefer", SslMode::Prefer),
    ("require", SslMode::Require),
    ("verify-ca", SslMode::VerifyCa),
    ("verify-full", SslMode::VerifyFull),
];

/// `offset.mismatch.strategy`; Debezium's `no_validation` is taken as `trust_greater_lsn`.
pub(crate) const MISMATCH_STRATEGIES: &[(&str, MismatchStrategy)] = &[
    ("fail", MismatchStrategy::Fail),
    ("trust_slot", MismatchStrategy::TrustSlot),
    ("trust_offset", MismatchStrategy::TrustOffset),
    ("trust_greater_lsn", MismatchStrategy::TrustGreaterLsn),
    ("no_validation", MismatchStrategy::TrustGreaterLsn),
];

/// `kafka.sasl.mechanism`.
pub(crate) const SASL_MECHANISMS: &[(&str, SaslMechanism)] = &[
    ("PLAIN", SaslMechanism::Plain),
    ("SCRAM-SHA-256", SaslMechanism::ScramSha256),
    ("SCRAM-SHA-512", SaslMechanism::ScramSha512),
    ("AWS_MSK_IAM", SaslMechanism::AwsMskIam),
];

/// `kafka.compression.type`.
pub(crate) const COMPRESSIONS: &[(&str, Compression)] = &[
    ("none", Compression::None),
    ("gzip", Compression::Gzip),
    ("snappy", Compression::Snappy),
    ("lz4", Compression::Lz4),
    ("zstd", Compression::Zstd),
];

const PLUGIN_NAMES: [&str; PLUGINS.len()] = names(PLUGINS);
const PUBLICATION_AUTOCREATE_MODE_NAMES: [&str; PUBLICATION_AUTOCREATE_MODES.len()] =
    names(PUBLICATION_AUTOCREATE_MODES);
const SSL_MODE_NAMES: [&str; SSL_MODES.len()] = names(SSL_MODES);
const MISMATCH_STRATEGY_NAMES: [&str; MISMATCH_STRATEGIES.len()] = names(MISMATCH_STRATEGIES);
const SASL_MECHANISM_NAMES: [&str; SASL_MECHANISMS.len()] = names(SASL_MECHANISMS);
const COMPRESSION_NAMES: [&str; COMPRESSIONS.len()] = names(COMPRESSIONS);
// The representation modes' spellings belong to the encoder (`walbridge_event::modes`).
const DECIMAL_MODE_NAMES: [&str; DecimalMode::VALUES.len()] = names(DecimalMode::VALUES);
const TIME_PRECISION_MODE_NAMES: [&str; TimePrecisionMode::VALUES.len()] =
    names(TimePrecisionMode::VALUES);
const BINARY_MODE_NAMES: [&str; BinaryMode::VALUES.len()] = names(BinaryMode::VALUES);
const INTERVAL_MODE_NAMES: [&str; IntervalMode::VALUES.len()] = names(IntervalMode::VALUES);
const HSTORE_MODE_NAMES: [&str; HstoreMode::VALUES.len()] = names(HstoreMode::VALUES);
const SOURCE_STRUCT_VERSION_NAMES: [&str; SourceStructVersion::VALUES.len()] =
    names(SourceStructVersion::VALUES);
const NAME_ADJUSTMENT_NAMES: [&str; NameAdjustment::VALUES.len()] = names(NameAdjustment::VALUES);

// The connector

/// The connector's name: in logs and the validate report only
/// ([`Config::name`](crate::Config::name)).
pub const NAME: Key = Key::new("name", Some("walbridge"));
/// Debezium's connector class: accepted so a connector's file loads, at Debezium's PostgreSQL
/// connector only.
pub const CONNECTOR_CLASS: Key = Key::new("connector.class", None)
    .one_of(&["io.debezium.connector.postgresql.PostgresConnector"])
    .because("walbridge replaces Debezium's PostgreSQL connector");
/// Kafka Connect's task count: accepted at 1 only, since a slot has one reader.
pub const TASKS_MAX: Key = Key::new("tasks.max", None)
    .one_of(&["1"])
    .because("a slot has one reader; walbridge runs with reserved concurrency 1");
/// Debezium's logical decoding plugin ([`SlotConfig::plugin`](crate::SlotConfig::plugin)): any of
/// its wal2json decoders, which all read the same slot, or pgoutput.
pub const PLUGIN_NAME: Key = Key::new("plugin.name", Some("wal2json"))
    .one_of(&PLUGIN_NAMES)
    .because(
        "walbridge reads a wal2json or a pgoutput slot; decoderbufs is not supported: create a \
         pgoutput slot beside it",
    );
/// The publication a pgoutput slot is read through
/// ([`PublicationConfig::name`](crate::PublicationConfig::name)).
pub const PUBLICATION_NAME: Key = Key::new("publication.name", Some("dbz_publication"));
/// What is done about a missing publication
/// ([`PublicationConfig::autocreate`](crate::PublicationConfig::autocreate)).
pub const PUBLICATION_AUTOCREATE_MODE: Key =
    Key::new("publication.autocreate.mode", Some("all_tables"))
        .one_of(&PUBLICATION_AUTOCREATE_MODE_NAMES);
/// Whether the publication names a partition's changes by its partitioned root
/// ([`PublicationConfig::via_root`](crate::PublicationConfig::via_root)); pgoutput only.
pub const PUBLISH_VIA_PARTITION_ROOT: Key =
    Key::new("publish.via.partition.root", Some("false")).one_of(BOOLEANS);

// PostgreSQL and the slot

/// The PostgreSQL server's host name or address
/// ([`DatabaseConfig::hostname`](crate::DatabaseConfig::hostname)).
pub const DATABASE_HOSTNAME: Key = Key::new("database.hostname", None);
/// The PostgreSQL server's TCP port ([`DatabaseConfig::port`](crate::DatabaseConfig::port)).
pub const DATABASE_PORT: Key = Key::new("database.port", Some("5432"));
/// The role walbridge connects as; reading a slot needs the REPLICATION attribute (on RDS, the
/// `rds_replication` role).
pub const DATABASE_USER: Key = Key::new("database.user", None);
/// That role's password, or a secret reference; empty: no password (a trusted login).
pub const DATABASE_PASSWORD: Key = Key::new("database.password", Some("")).secret();
/// The database whose changes are relayed: a logical slot decodes one database.
pub const DATABASE_DBNAME: Key = Key::new("database.dbname", None);
/// The replication slot read ([`SlotConfig::name`](crate::SlotConfig::name)).
pub const SLOT_NAME: Key = Key::new("slot.name", Some("debezium"));
/// Whether walbridge creates a missing slot ([`SlotConfig::create`](crate::SlotConfig::create)).
pub const SLOT_CREATE: Key = Key::new("slot.create", Some("false")).one_of(BOOLEANS);
/// Whether the slot is a failover slot, synchronized to standbys (PostgreSQL 17+; Debezium's key)
/// ([`SlotConfig::failover`](crate::SlotConfig::failover)).
pub const SLOT_FAILOVER: Key = Key::new("slot.failover", Some("false")).one_of(BOOLEANS);

// Topics and the event format

/// Which tables are captured, as Debezium's regular expressions over `schema.table`
/// ([`TableFilter`](crate::TableFilter)).
pub const TABLE_INCLUDE_LIST: Key = Key::new("table.include.list", None);
/// Debezium 1.x's name of [`TABLE_INCLUDE_LIST`].
pub const TABLE_WHITELIST: Key = Key::new("table.whitelist", None);
/// The first part of every topic's name ([`Config::topic_prefix`](crate::Config::topic_prefix)).
pub const TOPIC_PREFIX: Key = Key::new("topic.prefix", None);
/// Debezium 1.x's name of [`TOPIC_PREFIX`].
pub const DATABASE_SERVER_NAME: Key = Key::new("database.server.name", None);
/// Whether a delete is followed by a tombstone, so log compaction can drop the key
/// ([`EventConfig::tombstones_on_delete`](crate::EventConfig::tombstones_on_delete)).
pub const TOMBSTONES_ON_DELETE: Key =
    Key::new("tombstones.on.delete", Some("true")).one_of(BOOLEANS);
/// Whether BEGIN/END records and `transaction` blocks are written
/// ([`EventConfig::transaction_topic`](crate::EventConfig::transaction_topic)).
pub const PROVIDE_TRANSACTION_METADATA: Key =
    Key::new("provide.transaction.metadata", Some("false")).one_of(BOOLEANS);
/// The transaction topic's name after `<topic.prefix>.` (Debezium's `AbstractTopicNamingStrategy`).
pub const TOPIC_TRANSACTION: Key = Key::new("topic.transaction", Some("transaction"));
/// Kafka Connect's key converter: Kafka's JsonConverter (the default) or Confluent's AvroConverter
/// ([`EventConfig::key_converter`](crate::EventConfig::key_converter)).
pub const KEY_CONVERTER: Key = Key::new("key.converter", Some(JSON_CONVERTER)).one_of(CONVERTERS);
/// Kafka Connect's value converter: Kafka's JsonConverter (the default) or Confluent's
/// AvroConverter ([`EventConfig::value_converter`](crate::EventConfig::value_converter)).
pub const VALUE_CONVERTER: Key =
    Key::new("value.converter", Some(JSON_CONVERTER)).one_of(CONVERTERS);
/// The schema registry's URLs (comma-separated, tried in turn) for the key's AvroConverter.
pub const KEY_CONVERTER_SCHEMA_REGISTRY_URL: Key =
    Key::new("key.converter.schema.registry.url", None);
/// The schema registry's URLs (comma-separated, tried in turn) for the value's AvroConverter.
pub const VALUE_CONVERTER_SCHEMA_REGISTRY_URL: Key =
    Key::new("value.converter.schema.registry.url", None);
/// Whether the key's AvroConverter registers a schema the subject lacks (Confluent's default), or
/// only looks it up.
pub const KEY_CONVERTER_AUTO_REGISTER_SCHEMAS: Key =
    Key::new("key.converter.auto.register.schemas", Some("true")).one_of(BOOLEANS);
/// Whether the value's AvroConverter registers a schema the subject lacks (Confluent's default),
/// or only looks it up.
pub const VALUE_CONVERTER_AUTO_REGISTER_SCHEMAS: Key =
    Key::new("value.converter.auto.register.schemas", Some("true")).one_of(BOOLEANS);
/// Confluent's `use.latest.version` for the key: with `auto.register.schemas=false`, the key is
/// written under the id of its subject's latest schema (which must be the key's shape).
pub const KEY_CONVERTER_USE_LATEST_VERSION: Key =
    Key::new("key.converter.use.latest.version", Some("false")).one_of(BOOLEANS);
/// Confluent's `use.latest.version` for the value: with `auto.register.schemas=false`, the value
/// is written under the id of its subject's latest schema (which must be the value's shape).
pub const VALUE_CONVERTER_USE_LATEST_VERSION: Key =
    Key::new("value.converter.use.latest.version", Some("false")).one_of(BOOLEANS);
/// The subject the key's schema is registered under: `<topic>-key` (TopicNameStrategy), the record's
/// full name (RecordNameStrategy) or `<topic>-<record's full name>` (TopicRecordNameStrategy).
pub const KEY_CONVERTER_KEY_SUBJECT_NAME_STRATEGY: Key = Key::new(
    "key.converter.key.subject.name.strategy",
    Some(TOPIC_NAME_STRATEGY),
)
.one_of(&SUBJECT_STRATEGY_NAMES);
/// The subject the value's schema is registered under: `<topic>-value` (TopicNameStrategy), the
/// record's full name (RecordNameStrategy) or `<topic>-<record's full name>`
/// (TopicRecordNameStrategy).
pub const VALUE_CONVERTER_VALUE_SUBJECT_NAME_STRATEGY: Key = Key::new(
    "value.converter.value.subject.name.strategy",
    Some(TOPIC_NAME_STRATEGY),
)
.one_of(&SUBJECT_STRATEGY_NAMES);
/// Where the key's registry credentials come from: `URL` (the default: the URLs' user info, which
/// walbridge does not take) or `USER_INFO` (`key.converter.basic.auth.user.info`).
pub const KEY_CONVERTER_BASIC_AUTH_CREDENTIALS_SOURCE: Key =
    Key::new("key.converter.basic.auth.credentials.source", Some("URL"))
        .one_of(CREDENTIALS_SOURCES)
        // not a secret, but named like one: the one rule of secret names masks it too
        .secret();
/// Where the value's registry credentials come from: `URL` (the default: the URLs' user info,
/// which walbridge does not take) or `USER_INFO` (`value.converter.basic.auth.user.info`).
pub const VALUE_CONVERTER_BASIC_AUTH_CREDENTIALS_SOURCE: Key =
    Key::new("value.converter.basic.auth.credentials.source", Some("URL"))
        .one_of(CREDENTIALS_SOURCES)
        // not a secret, but named like one: the one rule of secret names masks it too
        .secret();
/// A PEM file of CA certificates for the key's registry's `https://` certificate (else the
/// system's roots).
pub const KEY_CONVERTER_SCHEMA_REGISTRY_SSL_TRUSTSTORE_LOCATION: Key = Key::new(
    "key.converter.schema.registry.ssl.truststore.location",
    None,
);
/// A PEM file of CA certificates for the value's registry's `https://` certificate (else the
/// system's roots).
pub const VALUE_CONVERTER_SCHEMA_REGISTRY_SSL_TRUSTSTORE_LOCATION: Key = Key::new(
    "value.converter.schema.registry.ssl.truststore.location",
    None,
);
/// The key's registry truststore's format: PEM only, since walbridge reads no Java keystore.
pub const KEY_CONVERTER_SCHEMA_REGISTRY_SSL_TRUSTSTORE_TYPE: Key = Key::new(
    "key.converter.schema.registry.ssl.truststore.type",
    Some("PEM"),
)
.one_of(&["PEM"])
.because(PEM_ONLY_REASON);
/// The value's registry truststore's format: PEM only, since walbridge reads no Java keystore.
pub const VALUE_CONVERTER_SCHEMA_REGISTRY_SSL_TRUSTSTORE_TYPE: Key = Key::new(
    "value.converter.schema.registry.ssl.truststore.type",
    Some("PEM"),
)
.one_of(&["PEM"])
.because(PEM_ONLY_REASON);
/// `user:password` for the key's registry, with `basic.auth.credentials.source=USER_INFO`.
pub const KEY_CONVERTER_BASIC_AUTH_USER_INFO: Key =
    Key::new("key.converter.basic.auth.user.info", None).secret();
/// `user:password` for the value's registry, with `basic.auth.credentials.source=USER_INFO`.
pub const VALUE_CONVERTER_BASIC_AUTH_USER_INFO: Key =
    Key::new("value.converter.basic.auth.user.info", None).secret();
/// Whether keys carry their Connect schema
/// ([`EventConfig::key_schemas`](crate::EventConfig::key_schemas)).
pub const KEY_CONVERTER_SCHEMAS_ENABLE: Key =
    Key::new("key.converter.schemas.enable", Some("true")).one_of(BOOLEANS);
/// Whether values carry their Connect schema
/// ([`EventConfig::value_schemas`](crate::EventConfig::value_schemas)).
pub const VALUE_CONVERTER_SCHEMAS_ENABLE: Key =
    Key::new("value.converter.schemas.enable", Some("true")).one_of(BOOLEANS);

// Kafka

/// The brokers first contacted, `host:port,…`
/// ([`KafkaConfig::bootstrap_servers`](crate::KafkaConfig::bootstrap_servers)).
pub const KAFKA_BOOTSTRAP_SERVERS: Key = Key::new("kafka.bootstrap.servers", None);
/// How long publishing one batch may take, ms
/// ([`KafkaConfig::publish_timeout`](crate::KafkaConfig::publish_timeout)).
pub const KAFKA_PUBLISH_TIMEOUT_MS: Key = Key::new("kafka.publish.timeout.ms", Some("60000"));
/// Whether a missing topic is created
/// ([`KafkaConfig::create_topics`](crate::KafkaConfig::create_topics)).
pub const TOPIC_CREATION_ENABLE: Key =
    Key::new("topic.creation.enable", Some("true")).one_of(BOOLEANS);
/// Partitions of a topic walbridge creates.
pub const TOPIC_CREATION_DEFAULT_PARTITIONS: Key =
    Key::new("topic.creation.default.partitions", Some("1"));
/// Replication factor of a topic walbridge creates; -1: the broker's `default.replication.factor`.
pub const TOPIC_CREATION_DEFAULT_REPLICATION_FACTOR: Key =
    Key::new("topic.creation.default.replication.factor", Some("-1"));

// The checkpoint

/// Where the checkpoint lives, `s3://…` or `file://…`
/// ([`Config::checkpoint`](crate::Config::checkpoint)).
pub const CHECKPOINT_URI: Key = Key::new("checkpoint.uri", None);
/// An S3-compatible store's endpoint
/// ([`Config::checkpoint_s3_endpoint`](crate::Config::checkpoint_s3_endpoint)).
pub const CHECKPOINT_S3_ENDPOINT_URL: Key = Key::new("checkpoint.s3.endpoint.url", None);
/// What to do when checkpoint and slot disagree ([`MismatchStrategy`]).
pub const OFFSET_MISMATCH_STRATEGY: Key =
    Key::new("offset.mismatch.strategy", Some("fail")).one_of(&MISMATCH_STRATEGY_NAMES);

// Windows and the invocation's time

/// Changes one peek asks for at most, 0 for no limit
/// ([`WindowConfig::max_changes`](crate::WindowConfig::max_changes)).
pub const WINDOW_MAX_CHANGES: Key = Key::new("window.max.changes", Some("0"));
/// Rows fetched from a peek at a time
/// ([`WindowConfig::fetch_rows`](crate::WindowConfig::fetch_rows)).
pub const WINDOW_FETCH_ROWS: Key = Key::new("window.fetch.rows", Some("2000"));
/// Whether the next window is decoded while one is published
/// ([`WindowConfig::read_ahead`](crate::WindowConfig::read_ahead)).
pub const WINDOW_READ_AHEAD: Key = Key::new("window.read.ahead", Some("true")).one_of(BOOLEANS);
/// Time kept in reserve before the deadline, ms
/// ([`InvocationConfig::time_margin`](crate::InvocationConfig::time_margin)).
pub const INVOCATION_TIME_MARGIN_MS: Key = Key::new("invocation.time.margin.ms", Some("10000"));
/// A local run's time budget, ms
/// ([`InvocationConfig::local_time_budget`](crate::InvocationConfig::local_time_budget)).
pub const INVOCATION_TIME_BUDGET_MS: Key = Key::new("invocation.time.budget.ms", Some("300000"));
/// How often a relaying invocation passes over the slot again, ms; 0: once
/// ([`InvocationConfig::poll_interval`](crate::InvocationConfig::poll_interval)).
pub const POLL_INTERVAL_MS: Key = Key::new("poll.interval.ms", Some("0"));
/// How long a relaying invocation keeps polling, ms; 0: until its time budget ends
/// ([`InvocationConfig::poll_duration`](crate::InvocationConfig::poll_duration)).
pub const POLL_DURATION_MS: Key = Key::new("poll.duration.ms", Some("0"));
/// The EventBridge schedule that wakes the function (set by SAM and Terraform)
/// ([`InvocationConfig::schedule_period`](crate::InvocationConfig::schedule_period)).
pub const SCHEDULE_EXPRESSION: Key = Key::new("schedule.expression", None);

// Connectivity

/// TLS to PostgreSQL and what it verifies ([`SslMode`]).
pub const DATABASE_SSLMODE: Key = Key::new("database.sslmode", Some("prefer"))
    .one_of(&SSL_MODE_NAMES)
    .because("libpq's modes; allow is not supported");
/// A PEM file of CA certificates for PostgreSQL's certificate; unset: the system's roots.
pub const DATABASE_SSLROOTCERT: Key = Key::new("database.sslrootcert", None);
/// TLS and SASL to the brokers, as Kafka's clients name the four combinations.
pub const KAFKA_SECURITY_PROTOCOL: Key = Key::new("kafka.security.protocol", Some("PLAINTEXT"))
    .one_of(&["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]);
/// A PEM file of CA certificates for the brokers' certificates ([`KafkaTls`](crate::KafkaTls)).
pub const KAFKA_SSL_TRUSTSTORE_LOCATION: Key = Key::new("kafka.ssl.truststore.location", None);
/// The truststore's format: PEM only, since walbridge reads no Java keystore.
pub const KAFKA_SSL_TRUSTSTORE_TYPE: Key = Key::new("kafka.ssl.truststore.type", Some("PEM"))
    .one_of(&["PEM"])
    .because(PEM_ONLY_REASON);
const PEM_ONLY_REASON: &str =
    "a PEM file of CA certificates; convert a JKS or PKCS12 truststore with keytool and openssl";
/// How SASL authenticates ([`SaslMechanism`]).
pub const KAFKA_SASL_MECHANISM: Key =
    Key::new("kafka.sasl.mechanism", Some("PLAIN")).one_of(&SASL_MECHANISM_NAMES);
/// The SASL user (not for `AWS_MSK_IAM`).
pub const KAFKA_SASL_USERNAME: Key = Key::new("kafka.sasl.username", None);
/// The SASL user's password, or a secret reference.
pub const KAFKA_SASL_PASSWORD: Key = Key::new("kafka.sasl.password", Some("")).secret();
/// The codec of produced batches ([`Compression`]). LZ4 where Kafka Connect's producer sends
/// batches as they are: consumers read the same records either way, and the schemas JsonConverter
/// repeats in every record make uncompressed batches several times larger, which costs the relay,
/// the kernel and the brokers more CPU than compressing them does.
pub const KAFKA_COMPRESSION_TYPE: Key =
    Key::new("kafka.compression.type", Some("lz4")).one_of(&COMPRESSION_NAMES);
/// The largest produce request, and so the largest record, bytes
/// ([`KafkaConfig::max_request_size`](crate::KafkaConfig::max_request_size)).
pub const KAFKA_MAX_REQUEST_SIZE: Key = Key::new("kafka.max.request.size", Some("1048576"));

// Snapshots

/// When the existing rows are read ([`SnapshotMode`](crate::SnapshotMode)).
pub const SNAPSHOT_MODE: Key = Key::new("snapshot.mode", Some("initial")).one_of(&[
    "initial",
    "initial_only",
    "no_data",
    "when_needed",
    "always",
    "configuration_based",
]);
/// With `configuration_based`: snapshot at every start.
pub const SNAPSHOT_MODE_CONFIGURATION_BASED_SNAPSHOT_DATA: Key = Key::new(
    "snapshot.mode.configuration.based.snapshot.data",
    Some("false"),
)
.one_of(BOOLEANS);
/// With `configuration_based`: accepted and unused, as walbridge keeps no schema history.
pub const SNAPSHOT_MODE_CONFIGURATION_BASED_SNAPSHOT_SCHEMA: Key = Key::new(
    "snapshot.mode.configuration.based.snapshot.schema",
    Some("false"),
)
.one_of(BOOLEANS);
/// With `configuration_based`: stream changes (after or beside the snapshot).
pub const SNAPSHOT_MODE_CONFIGURATION_BASED_START_STREAM: Key = Key::new(
    "snapshot.mode.configuration.based.start.stream",
    Some("false"),
)
.one_of(BOOLEANS);
/// With `configuration_based`: accepted and unused, as walbridge keeps no schema history.
pub const SNAPSHOT_MODE_CONFIGURATION_BASED_SNAPSHOT_ON_SCHEMA_ERROR: Key = Key::new(
    "snapshot.mode.configuration.based.snapshot.on.schema.error",
    Some("false"),
)
.one_of(BOOLEANS);
/// With `configuration_based`: snapshot again when the checkpoint's position is gone from the
/// slot.
pub const SNAPSHOT_MODE_CONFIGURATION_BASED_SNAPSHOT_ON_DATA_ERROR: Key = Key::new(
    "snapshot.mode.configuration.based.snapshot.on.data.error",
    Some("false"),
)
.one_of(BOOLEANS);
/// Which captured tables a snapshot reads
/// ([`SnapshotConfig::include`](crate::SnapshotConfig::include)).
pub const SNAPSHOT_INCLUDE_COLLECTION_LIST: Key =
    Key::new("snapshot.include.collection.list", None);
/// Rows per snapshot chunk ([`SnapshotConfig::chunk_rows`](crate::SnapshotConfig::chunk_rows)).
pub const SNAPSHOT_FETCH_SIZE: Key = Key::new("snapshot.fetch.size", Some("10240"));
/// Debezium's parallel snapshot readers: accepted; above 1 a warning, as chunks are read one at a
/// time.
pub const SNAPSHOT_MAX_THREADS: Key = Key::new("snapshot.max.threads", Some("1"));
/// Rows per chunk of a signalled snapshot
/// ([`SnapshotConfig::incremental_chunk_rows`](crate::SnapshotConfig::incremental_chunk_rows)).
pub const INCREMENTAL_SNAPSHOT_CHUNK_SIZE: Key =
    Key::new("incremental.snapshot.chunk.size", Some("1024"));
/// The signal table ([`SnapshotConfig::signal_table`](crate::SnapshotConfig::signal_table)).
pub const SIGNAL_DATA_COLLECTION: Key = Key::new("signal.data.collection", None);
/// Where signals may come from: `source` (the signal table), `invocation` (a payload).
pub const SIGNAL_ENABLED_CHANNELS: Key =
    Key::new("signal.enabled.channels", Some("source,invocation"));

// How values are represented

/// How `numeric` and `decimal` values are written ([`DecimalMode`]).
pub const DECIMAL_HANDLING_MODE: Key =
    Key::new(DecimalMode::KEY, Some("precise")).one_of(&DECIMAL_MODE_NAMES);
/// How temporal values are written ([`TimePrecisionMode`]).
pub const TIME_PRECISION_MODE: Key =
    Key::new(TimePrecisionMode::KEY, Some("adaptive")).one_of(&TIME_PRECISION_MODE_NAMES);
/// How `bytea` values are written ([`BinaryMode`]).
pub const BINARY_HANDLING_MODE: Key =
    Key::new(BinaryMode::KEY, Some("bytes")).one_of(&BINARY_MODE_NAMES);
/// How `interval` values are written ([`IntervalMode`]).
pub const INTERVAL_HANDLING_MODE: Key =
    Key::new(IntervalMode::KEY, Some("numeric")).one_of(&INTERVAL_MODE_NAMES);
/// How `hstore` values are written ([`HstoreMode`]).
pub const HSTORE_HANDLING_MODE: Key =
    Key::new(HstoreMode::KEY, Some("json")).one_of(&HSTORE_MODE_NAMES);
/// What stands for an unchanged TOASTed value
/// ([`EventConfig`](crate::EventConfig::unavailable_value_placeholder)).
pub const UNAVAILABLE_VALUE_PLACEHOLDER: Key = Key::new(
    "unavailable.value.placeholder",
    Some(DEBEZIUM_UNAVAILABLE_VALUE),
);
/// How the Key, Value and Envelope schema names (`<topic.prefix>.<schema>.<table>.Value`…) are
/// made valid Avro names ([`NameAdjustment`]; Debezium's default, none, leaves them as they are).
pub const SCHEMA_NAME_ADJUSTMENT_MODE: Key =
    Key::new("schema.name.adjustment.mode", Some("none")).one_of(&NAME_ADJUSTMENT_NAMES);
/// How the columns' field names are made valid Avro names ([`NameAdjustment`]).
pub const FIELD_NAME_ADJUSTMENT_MODE: Key =
    Key::new("field.name.adjustment.mode", Some("none")).one_of(&NAME_ADJUSTMENT_NAMES);

// Filters

/// Tables not captured, as regular expressions over `schema.table`; not with an include list.
pub const TABLE_EXCLUDE_LIST: Key = Key::new("table.exclude.list", None);
/// Which schemas are captured, as regular expressions over the schema's name.
pub const SCHEMA_INCLUDE_LIST: Key = Key::new("schema.include.list", None);
/// Schemas not captured; not with an include list.
pub const SCHEMA_EXCLUDE_LIST: Key = Key::new("schema.exclude.list", None);
/// Which columns appear in events, as regular expressions over `schema.table.column`
/// ([`ColumnFilter`](crate::ColumnFilter)).
pub const COLUMN_INCLUDE_LIST: Key = Key::new("column.include.list", None);
/// Columns left out of events; not with an include list.
pub const COLUMN_EXCLUDE_LIST: Key = Key::new("column.exclude.list", None);
/// Key columns per table instead of the primary key ([`KeyColumns`](crate::KeyColumns)).
pub const MESSAGE_KEY_COLUMNS: Key = Key::new("message.key.columns", None);
/// Streamed operations that publish nothing ([`SkippedOperations`](crate::SkippedOperations)).
pub const SKIPPED_OPERATIONS: Key = Key::new("skipped.operations", Some("t"));
/// Which logical decoding messages are published, by prefix
/// ([`MessageFilter`](crate::MessageFilter)).
pub const MESSAGE_PREFIX_INCLUDE_LIST: Key = Key::new("message.prefix.include.list", None);
/// Logical decoding messages not published, by prefix; not with an include list.
pub const MESSAGE_PREFIX_EXCLUDE_LIST: Key = Key::new("message.prefix.exclude.list", None);

// Heartbeats

/// 0: no heartbeats.
pub const HEARTBEAT_INTERVAL_MS: Key = Key::new("heartbeat.interval.ms", Some("0"));
/// The heartbeat topic is `<topic.heartbeat.prefix>.<topic.prefix>`.
pub const TOPIC_HEARTBEAT_PREFIX: Key = Key::new(
    "topic.heartbeat.prefix",
    Some(DEFAULT_HEARTBEAT_TOPIC_PREFIX),
);
/// The heartbeat topic's whole name, instead of `<topic.heartbeat.prefix>.<topic.prefix>`.
pub const TOPIC_HEARTBEAT_NAME: Key = Key::new("topic.heartbeat.name", None);
/// SQL of the user's, which may hold literals: masked wherever keys' values are shown.
pub const HEARTBEAT_ACTION_QUERY: Key = Key::new("heartbeat.action.query", None).secret();

// Headers

/// Whether records carry the `__debezium.context.*` headers
/// ([`EventConfig::extended_headers`](crate::EventConfig::extended_headers)).
pub const EXTENDED_HEADERS_ENABLED: Key =
    Key::new("extended.headers.enabled", Some("true")).one_of(BOOLEANS);

// Legacy consumers

/// Which Debezium generation's envelope and source block are written
/// ([`EventConfig::source_struct`](crate::EventConfig::source_struct)).
pub const SOURCE_STRUCT_VERSION: Key = Key::new(SourceStructVersion::KEY, Some("v2"))
    .one_of(&SOURCE_STRUCT_VERSION_NAMES)
    .because(
        "v2 is Debezium 3.7.1's source block and envelope; v1 the wal2json era's (Debezium 0.9, 1.0 \
         with source.struct.version=v1), for consumers built against those connectors",
    );
/// With `v1`: the Debezium release the events reproduce
/// ([`EventConfig::legacy_connector_version`](crate::EventConfig::legacy_connector_version)).
pub const SOURCE_STRUCT_V1_CONNECTOR_VERSION: Key = Key::new(
    "source.struct.v1.connector.version",
    Some(DEFAULT_LEGACY_CONNECTOR_VERSION),
)
.one_of(LEGACY_CONNECTOR_VERSIONS)
.because(
    "the releases whose events source.struct.version=v1 reproduces; 1.1 added the envelope's \
     transaction field",
);

/// Every key walbridge reads, in the order the validate report lists them. One list, so that the
/// environment lookup, the unknown-key report, validation and the documentation agree.
pub const KEYS: &[Key] = &[
    NAME,
    CONNECTOR_CLASS,
    TASKS_MAX,
    PLUGIN_NAME,
    PUBLICATION_NAME,
    PUBLICATION_AUTOCREATE_MODE,
    PUBLISH_VIA_PARTITION_ROOT,
    DATABASE_HOSTNAME,
    DATABASE_PORT,
    DATABASE_USER,
    DATABASE_PASSWORD,
    DATABASE_DBNAME,
    SLOT_NAME,
    SLOT_CREATE,
    SLOT_FAILOVER,
    TABLE_INCLUDE_LIST,
    TABLE_WHITELIST,
    TOPIC_PREFIX,
    DATABASE_SERVER_NAME,
    TOMBSTONES_ON_DELETE,
    PROVIDE_TRANSACTION_METADATA,
    TOPIC_TRANSACTION,
    KEY_CONVERTER,
    VALUE_CONVERTER,
    KEY_CONVERTER_SCHEMAS_ENABLE,
    VALUE_CONVERTER_SCHEMAS_ENABLE,
    KEY_CONVERTER_SCHEMA_REGISTRY_URL,
    VALUE_CONVERTER_SCHEMA_REGISTRY_URL,
    KEY_CONVERTER_AUTO_REGISTER_SCHEMAS,
    VALUE_CONVERTER_AUTO_REGISTER_SCHEMAS,
    KEY_CONVERTER_USE_LATEST_VERSION,
    VALUE_CONVERTER_USE_LATEST_VERSION,
    KEY_CONVERTER_KEY_SUBJECT_NAME_STRATEGY,
    VALUE_CONVERTER_VALUE_SUBJECT_NAME_STRATEGY,
    KEY_CONVERTER_BASIC_AUTH_CREDENTIALS_SOURCE,
    VALUE_CONVERTER_BASIC_AUTH_CREDENTIALS_SOURCE,
    KEY_CONVERTER_BASIC_AUTH_USER_INFO,
    VALUE_CONVERTER_BASIC_AUTH_USER_INFO,
    KEY_CONVERTER_SCHEMA_REGISTRY_SSL_TRUSTSTORE_LOCATION,
    VALUE_CONVERTER_SCHEMA_REGISTRY_SSL_TRUSTSTORE_LOCATION,
    KEY_CONVERTER_SCHEMA_REGISTRY_SSL_TRUSTSTORE_TYPE,
    VALUE_CONVERTER_SCHEMA_REGISTRY_SSL_TRUSTSTORE_TYPE,
    KAFKA_BOOTSTRAP_SERVERS,
    KAFKA_PUBLISH_TIMEOUT_MS,
    TOPIC_CREATION_ENABLE,
    TOPIC_CREATION_DEFAULT_PARTITIONS,
    TOPIC_CREATION_DEFAULT_REPLICATION_FACTOR,
    CHECKPOINT_URI,
    CHECKPOINT_S3_ENDPOINT_URL,
    OFFSET_MISMATCH_STRATEGY,
    WINDOW_MAX_CHANGES,
    WINDOW_FETCH_ROWS,
    WINDOW_READ_AHEAD,
    INVOCATION_TIME_MARGIN_MS,
    INVOCATION_TIME_BUDGET_MS,
    POLL_INTERVAL_MS,
    POLL_DURATION_MS,
    SCHEDULE_EXPRESSION,
    DATABASE_SSLMODE,
    DATABASE_SSLROOTCERT,
    KAFKA_SECURITY_PROTOCOL,
    KAFKA_SSL_TRUSTSTORE_LOCATION,
    KAFKA_SSL_TRUSTSTORE_TYPE,
    KAFKA_SASL_MECHANISM,
    KAFKA_SASL_USERNAME,
    KAFKA_SASL_PASSWORD,
    KAFKA_COMPRESSION_TYPE,
    KAFKA_MAX_REQUEST_SIZE,
    SNAPSHOT_MODE,
    SNAPSHOT_MODE_CONFIGURATION_BASED_SNAPSHOT_DATA,
    SNAPSHOT_MODE_CONFIGURATION_BASED_SNAPSHOT_SCHEMA,
    SNAPSHOT_MODE_CONFIGURATION_BASED_START_STREAM,
    SNAPSHOT_MODE_CONFIGURATION_BASED_SNAPSHOT_ON_SCHEMA_ERROR,
    SNAPSHOT_MODE_CONFIGURATION_BASED_SNAPSHOT_ON_DATA_ERROR,
    SNAPSHOT_INCLUDE_COLLECTION_LIST,
    SNAPSHOT_FETCH_SIZE,
    SNAPSHOT_MAX_THREADS,
    INCREMENTAL_SNAPSHOT_CHUNK_SIZE,
    SIGNAL_DATA_COLLECTION,
    SIGNAL_ENABLED_CHANNELS,
    DECIMAL_HANDLING_MODE,
    TIME_PRECISION_MODE,
    BINARY_HANDLING_MODE,
    INTERVAL_HANDLING_MODE,
    HSTORE_HANDLING_MODE,
    UNAVAILABLE_VALUE_PLACEHOLDER,
    SCHEMA_NAME_ADJUSTMENT_MODE,
    FIELD_NAME_ADJUSTMENT_MODE,
    TABLE_EXCLUDE_LIST,
    SCHEMA_INCLUDE_LIST,
    SCHEMA_EXCLUDE_LIST,
    COLUMN_INCLUDE_LIST,
    COLUMN_EXCLUDE_LIST,
    MESSAGE_KEY_COLUMNS,
    SKIPPED_OPERATIONS,
    MESSAGE_PREFIX_INCLUDE_LIST,
    MESSAGE_PREFIX_EXCLUDE_LIST,
    HEARTBEAT_INTERVAL_MS,
    TOPIC_HEARTBEAT_PREFIX,
    TOPIC_HEARTBEAT_NAME,
    HEARTBEAT_ACTION_QUERY,
    EXTENDED_HEADERS_ENABLED,
    SOURCE_STRUCT_VERSION,
    SOURCE_STRUCT_V1_CONNECTOR_VERSION,
];

/// Debezium properties walbridge ignores on purpose, with the reason the validate report gives.
pub const IGNORED_BY_DESIGN: &[(&str, &str)] = &[
    (
        "heartbeat.topics.prefix",
        "Debezium 3.x names the heartbeat topic from topic.heartbeat.prefix (or \
         topic.heartbeat.name) and ignores this legacy key as well",
    ),
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
        "walbridge sets the plugin's options itself (wal2json format-version 2, pgoutput protocol \
         version 1 with messages)",
    ),
    (
        "max.batch.size",
        "windows are sized by the WAL they decode (window.max.changes bounds their rows) and \
         window.fetch.rows",
    ),
    (
        "max.queue.size",
        "windows are sized by the WAL they decode (window.max.changes bounds their rows) and \
         window.fetch.rows",
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
