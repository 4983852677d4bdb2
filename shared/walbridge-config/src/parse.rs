//! The one parser: from merged properties to a [`Config`], collecting every problem (not only the
//! first) and every warning, each naming its key.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use walbridge_event::envelope::SourceStructVersion;
use walbridge_event::modes::{Mode, TypeModes};
use walbridge_event::names::NameAdjustment;

use crate::config::{
    AvroSettings, CheckpointLocation, Config, Converter, DatabaseConfig, EventConfig,
    HeartbeatConfig, InvocationConfig, KafkaConfig, KafkaSasl, KafkaTls, Plugin, PublicationConfig,
    SaslMechanism, SlotConfig, SnapshotConfig, SnapshotMode, TablePattern, WindowConfig,
};
use crate::keys::*;
use crate::pattern::debezium_pattern;
use crate::properties::{ConfigError, Properties};
use crate::warnings::{self, Warning};
use crate::{filters, transforms, unsupported};

impl Config {
    /// The sources the function reads at cold start: the `.properties` file named by
    /// `WALBRIDGE_PROPERTIES` (if set) and the environment, whose variables override the file's
    /// keys once merged ([`merge_sources`]); secret references are resolved after that, by the relay.
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
    /// value); an environment variable `A_B_C` overrides the key `a.b.c`. Secret references are
    /// taken as they are: tests and tools only.
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
        let mut ignored_keys = props.unknown_keys(KEYS.iter().map(|key| key.name));
        ignored_keys.retain(|key| !transforms::is_chain_key(key));
        unsupported::check(props, &ignored_keys, &mut p.errors);
        let snapshot = snapshot_config(props, &mut p);
        let topic_prefix = p.take(topic_prefix(props));
        p.warnings.extend(warnings::cross_key(props));
        let config = Self {
            name: p.take(props.string(&NAME)),
            database: DatabaseConfig {
                hostname: p.take(props.required(&DATABASE_HOSTNAME)),
                port: p.number(props, &DATABASE_PORT, 1..=65535),
                user: p.take(props.required(&DATABASE_USER)),
                password: SecretString::from(p.take(props.string(&DATABASE_PASSWORD))),
                dbname: p.take(props.required(&DATABASE_DBNAME)),
                ssl_mode: p.choice(props, &DATABASE_SSLMODE, SSL_MODES),
                ssl_root_cert: props.get(DATABASE_SSLROOTCERT.name).map(PathBuf::from),
            },
            slot: SlotConfig {
                name: p.take(slot_name(props)),
                create: p.take(props.bool(&SLOT_CREATE)),
                failover: p.take(props.bool(&SLOT_FAILOVER)),
                plugin: p.choice(props, &PLUGIN_NAME, PLUGINS),
                publication: PublicationConfig {
                    name: p.take(publication_name(props)),
                    autocreate: p.choice(
                        props,
                        &PUBLICATION_AUTOCREATE_MODE,
                        PUBLICATION_AUTOCREATE_MODES,
                    ),
                    via_root: p.take(props.bool(&PUBLISH_VIA_PARTITION_ROOT)),
                },
            },
            filters: Arc::new(filters::filters(props, &mut p)),
            heartbeat: heartbeat_config(props, &topic_prefix, &mut p),
            topic_prefix,
            events: EventConfig {
                tombstones_on_delete: p.take(props.bool(&TOMBSTONES_ON_DELETE)),
                transaction_topic: transaction_topic(props, &mut p),
                key_schemas: p.take(props.bool(&KEY_CONVERTER_SCHEMAS_ENABLE)),
                value_schemas: p.take(props.bool(&VALUE_CONVERTER_SCHEMAS_ENABLE)),
                key_converter: converter(props, &KEY_SIDE, &ignored_keys, &mut p),
                value_converter: converter(props, &VALUE_SIDE, &ignored_keys, &mut p),
                modes: TypeModes {
                    decimal: p.take(mode(props, &DECIMAL_HANDLING_MODE)),
                    time: p.take(mode(props, &TIME_PRECISION_MODE)),
                    binary: p.take(mode(props, &BINARY_HANDLING_MODE)),
                    interval: p.take(mode(props, &INTERVAL_HANDLING_MODE)),
                    hstore: p.take(mode(props, &HSTORE_HANDLING_MODE)),
                },
                unavailable_value_placeholder: p.take(props.string(&UNAVAILABLE_VALUE_PLACEHOLDER)),
                schema_names: p.choice(props, &SCHEMA_NAME_ADJUSTMENT_MODE, NameAdjustment::VALUES),
                field_names: p.choice(props, &FIELD_NAME_ADJUSTMENT_MODE, NameAdjustment::VALUES),
                extended_headers: p.take(props.bool(&EXTENDED_HEADERS_ENABLED)),
                source_struct: p.choice(props, &SOURCE_STRUCT_VERSION, SourceStructVersion::VALUES),
                legacy_connector_version: p.choice_name(props, &SOURCE_STRUCT_V1_CONNECTOR_VERSION),
            },
            kafka: kafka_config(props, &mut p),
            checkpoint: p.take_or(
                checkpoint_location(props),
                CheckpointLocation::File(PathBuf::new()),
            ),
            checkpoint_s3_endpoint: p.take(s3_endpoint(props)),
            mismatch: p.choice(props, &OFFSET_MISMATCH_STRATEGY, MISMATCH_STRATEGIES),
            window: WindowConfig {
                max_changes: p.number(props, &WINDOW_MAX_CHANGES, 0..=10_000_000),
                fetch_rows: p.number(props, &WINDOW_FETCH_ROWS, 1..=100_000),
                read_ahead: p.take(props.bool(&WINDOW_READ_AHEAD)),
            },
            invocation: InvocationConfig {
                time_margin: p.millis(props, &INVOCATION_TIME_MARGIN_MS, 0..=600_000),
                local_time_budget: p.millis(props, &INVOCATION_TIME_BUDGET_MS, 1..=86_400_000),
                poll_interval: p.millis(props, &POLL_INTERVAL_MS, 0..=3_600_000),
                poll_duration: p.millis(props, &POLL_DURATION_MS, 0..=86_400_000),
                schedule_period: p.take(schedule_period(props)),
            },
            snapshot,
            transforms: transforms::chain(props, &mut p.errors),
            ignored_keys,
            parsed_warnings: p.warnings,
        };
        if config.slot.publication.via_root && config.slot.plugin == Plugin::Wal2json {
            p.errors.push(ConfigError::Unsupported {
                key: PUBLISH_VIA_PARTITION_ROOT.name.to_owned(),
                what: "a partition's changes under its partitioned root's name from a wal2json \
                       slot (wal2json reports each change under its leaf partition's name only)",
                fix: "set plugin.name=pgoutput (its publication then publishes via the root), or \
                      publish.via.partition.root=false (to merge partitions into one topic with \
                      wal2json, route them with ByLogicalTableRouter)",
            });
        }
        if config.events.transaction_topic.is_some()
            && config.events.source_struct == SourceStructVersion::V1
        {
            p.errors.push(ConfigError::Unsupported {
                key: PROVIDE_TRANSACTION_METADATA.name.to_owned(),
                what: "transaction metadata in the wal2json era's events (source.struct.version=v1), \
                       whose envelope has no transaction field",
                fix: "set source.struct.version=v2, or provide.transaction.metadata=false",
            });
        }
        // The wal2json era's events always had their schema names adjusted the old way, and
        // those releases had no adjustment modes: a mode asked for there would not be honoured.
        if config.events.source_struct == SourceStructVersion::V1 {
            for (key, mode) in [
                (&SCHEMA_NAME_ADJUSTMENT_MODE, config.events.schema_names),
                (&FIELD_NAME_ADJUSTMENT_MODE, config.events.field_names),
            ] {
                if mode != NameAdjustment::None {
                    p.errors.push(ConfigError::Unsupported {
                        key: key.name.to_owned(),
                        what: "name adjustment in the wal2json era's events \
                               (source.struct.version=v1), whose schema names are always the \
                               Avro names those releases made",
                        fix: "set source.struct.version=v2, or remove the key",
                    });
                }
            }
        }
        (config, p.errors)
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

/// `schedule.expression`'s period: `rate(N minute|minutes|hour|hours|day|days)` as EventBridge
/// Scheduler spells it; `cron(…)` and `at(…)` are valid schedules without one period.
fn schedule_period(props: &Properties) -> Result<Option<Duration>, ConfigError> {
    let Some(expression) = props.get(SCHEDULE_EXPRESSION.name) else {
        return Ok(None);
    };
    let expression = expression.trim();
    if expression.is_empty() || expression.starts_with("cron(") || expression.starts_with("at(") {
        return Ok(None);
    }
    let invalid = || {
        props.invalid(
            SCHEDULE_EXPRESSION.name,
            "an EventBridge Scheduler expression: rate(N minutes|hours|days), cron(...) or at(...)",
        )
    };
    let inner = expression
        .strip_prefix("rate(")
        .and_then(|rest| rest.strip_suffix(')'))
        .ok_or_else(invalid)?;
    let (count, unit) = inner.trim().split_once(' ').ok_or_else(invalid)?;
    let count: u64 = count.parse().map_err(|_| invalid())?;
    let unit_secs = match unit.trim() {
        "minute" | "minutes" => 60,
        "hour" | "hours" => 3_600,
        "day" | "days" => 86_400,
        _ => return Err(invalid()),
    };
    if count == 0 {
        return Err(invalid());
    }
    Ok(Some(Duration::from_secs(count.saturating_mul(unit_secs))))
}

/// The file's properties with each known key overridden by its environment variable.
pub fn merge_sources(file: Properties, env: &BTreeMap<String, String>) -> Properties {
    file.with_env_overrides(env, KEYS.iter().map(|key| key.name))
}

/// The problems and warnings found so far while parsing; a failed value is replaced by a
/// placeholder so that parsing goes on (the configuration is then refused, whatever it holds).
#[derive(Debug, Default)]
pub(crate) struct Problems {
    errors: Vec<ConfigError>,
    warnings: Vec<Warning>,
}

impl Problems {
    pub(crate) fn take<T: Default>(&mut self, result: Result<T, ConfigError>) -> T {
        self.take_or(result, T::default())
    }

    pub(crate) fn take_or<T>(&mut self, result: Result<T, ConfigError>, placeholder: T) -> T {
        result.unwrap_or_else(|err| {
            self.errors.push(err);
            placeholder
        })
    }

    pub(crate) fn push(&mut self, err: ConfigError) {
        self.errors.push(err);
    }

    /// `key`'s number within `range`; its default stands in for a wrong one.
    fn number<T>(&mut self, props: &Properties, key: &Key, range: RangeInclusive<T>) -> T
    where
        T: FromStr + PartialOrd + Display + Default,
    {
        let placeholder = key
            .default
            .and_then(|default| default.parse().ok())
            .unwrap_or_default();
        self.take_or(props.parse_in(key, range), placeholder)
    }

    /// `key`'s number of milliseconds within `range`, as a duration.
    fn millis(&mut self, props: &Properties, key: &Key, range: RangeInclusive<u64>) -> Duration {
        Duration::from_millis(self.number(props, key, range))
    }

    /// The value `table` gives `key`'s value (`table` holds the key's accepted values); the
    /// default's stands in for a wrong one.
    fn choice<T: Copy>(&mut self, props: &Properties, key: &Key, table: &[(&str, T)]) -> T {
        let lookup = |name: &str| {
            table
                .iter()
                .find(|(spelling, _)| spelling.eq_ignore_ascii_case(name))
                .map(|(_, value)| *value)
        };
        let placeholder = key.default.and_then(lookup).unwrap_or(table[0].1);
        match props.one_of(key) {
            Ok(name) => lookup(name).unwrap_or(placeholder),
            Err(err) => {
                self.errors.push(err);
                placeholder
            }
        }
    }

    /// `key`'s value as declared among its accepted values; the default stands in for a wrong one.
    fn choice_name(&mut self, props: &Properties, key: &Key) -> &'static str {
        self.take_or(props.one_of(key), key.default.unwrap_or_default())
    }
}

/// Keys Debezium users set that walbridge accepts only at the one value it implements (declared
/// with their allowed values in [`KEYS`]).
fn check_fixed_values(props: &Properties, p: &mut Problems) {
    for key in [&CONNECTOR_CLASS, &TASKS_MAX] {
        if props.get(key.name).is_some() || key.default.is_some() {
            p.take(props.one_of(key));
        }
    }
}

/// The keys of one side's converter (`key.converter.*` or `value.converter.*`).
struct ConverterKeys {
    prefix: &'static str,
    converter: Key,
    registry_url: Key,
    auto_register: Key,
    use_latest_version: Key,
    subject_name_strategy: Key,
    credentials_source: Key,
    user_info: Key,
    truststore_location: Key,
    truststore_type: Key,
}

const KEY_SIDE: ConverterKeys = ConverterKeys {
    prefix: "key.converter.",
    converter: KEY_CONVERTER,
    registry_url: KEY_CONVERTER_SCHEMA_REGISTRY_URL,
    auto_register: KEY_CONVERTER_AUTO_REGISTER_SCHEMAS,
    use_latest_version: KEY_CONVERTER_USE_LATEST_VERSION,
    subject_name_strategy: KEY_CONVERTER_KEY_SUBJECT_NAME_STRATEGY,
    credentials_source: KEY_CONVERTER_BASIC_AUTH_CREDENTIALS_SOURCE,
    user_info: KEY_CONVERTER_BASIC_AUTH_USER_INFO,
    truststore_location: KEY_CONVERTER_SCHEMA_REGISTRY_SSL_TRUSTSTORE_LOCATION,
    truststore_type: KEY_CONVERTER_SCHEMA_REGISTRY_SSL_TRUSTSTORE_TYPE,
};

const VALUE_SIDE: ConverterKeys = ConverterKeys {
    prefix: "value.converter.",
    converter: VALUE_CONVERTER,
    registry_url: VALUE_CONVERTER_SCHEMA_REGISTRY_URL,
    auto_register: VALUE_CONVERTER_AUTO_REGISTER_SCHEMAS,
    use_latest_version: VALUE_CONVERTER_USE_LATEST_VERSION,
    subject_name_strategy: VALUE_CONVERTER_VALUE_SUBJECT_NAME_STRATEGY,
    credentials_source: VALUE_CONVERTER_BASIC_AUTH_CREDENTIALS_SOURCE,
    user_info: VALUE_CONVERTER_BASIC_AUTH_USER_INFO,
    truststore_location: VALUE_CONVERTER_SCHEMA_REGISTRY_SSL_TRUSTSTORE_LOCATION,
    truststore_type: VALUE_CONVERTER_SCHEMA_REGISTRY_SSL_TRUSTSTORE_TYPE,
};

/// One side's converter. With the AvroConverter every other `<side>.converter.*` key is an
/// AvroConverter setting walbridge does not implement, and refused: each changes what is written
/// or where the schemas go.
fn converter(
    props: &Properties,
    side: &ConverterKeys,
    ignored_keys: &[String],
    p: &mut Problems,
) -> Converter {
    if p.take_or(props.one_of(&side.converter), JSON_CONVERTER) != AVRO_CONVERTER {
        return Converter::Json;
    }
    for key in ignored_keys {
        if key.starts_with(side.prefix) && !unsupported::is_declared(key) {
            p.push(ConfigError::Unsupported {
                key: key.clone(),
                what: "an AvroConverter setting walbridge does not implement",
                fix: "remove the key: walbridge's AvroConverter takes schema.registry.url, \
                      auto.register.schemas, use.latest.version, the subject name strategy, \
                      basic.auth.credentials.source, basic.auth.user.info and \
                      schema.registry.ssl.truststore.location",
            });
        }
    }
    let subject_strategy = p.choice(props, &side.subject_name_strategy, SUBJECT_STRATEGIES);
    let registry_urls: Vec<String> = p
        .take(props.required(&side.registry_url))
        .split(',')
        .map(|url| url.trim().trim_end_matches('/').to_owned())
        .filter(|url| !url.is_empty())
        .collect();
    for url in &registry_urls {
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"));
        if rest.is_none_or(|rest| rest.split('/').next().unwrap_or("").is_empty()) {
            p.push(props.invalid(
                side.registry_url.name,
                "http:// or https:// URLs, comma-separated",
            ));
        } else if rest.is_some_and(|rest| rest.split('/').next().unwrap_or("").contains('@')) {
            p.push(ConfigError::Unsupported {
                key: side.registry_url.name.to_owned(),
                what: "credentials in the registry URL (basic.auth.credentials.source=URL)",
                fix: "set basic.auth.credentials.source=USER_INFO and basic.auth.user.info=user:password",
            });
        }
    }
    let basic_auth = if p.take_or(props.one_of(&side.credentials_source), "URL") == "USER_INFO" {
        let info = p.take(props.required(&side.user_info));
        match info.split_once(':') {
            Some((user, password)) => Some((user.to_owned(), SecretString::from(password))),
            None => {
                p.push(props.invalid(side.user_info.name, "user:password"));
                None
            }
        }
    } else {
        None
    };
    p.take(props.one_of(&side.truststore_type));
    Converter::Avro(Box::new(AvroSettings {
        ca_file: props.get(side.truststore_location.name).map(PathBuf::from),
        registry_urls,
        auto_register: p.take(props.bool(&side.auto_register)),
        use_latest_version: p.take(props.bool(&side.use_latest_version)),
        basic_auth,
        subject_strategy,
    }))
}

fn kafka_config(props: &Properties, p: &mut Problems) -> KafkaConfig {
    let protocol = p.take(props.one_of(&KAFKA_SECURITY_PROTOCOL));
    let tls = matches!(protocol, "SSL" | "SASL_SSL").then(|| {
        p.take(props.one_of(&KAFKA_SSL_TRUSTSTORE_TYPE));
        KafkaTls {
            ca_file: props
                .get(KAFKA_SSL_TRUSTSTORE_LOCATION.name)
                .map(PathBuf::from),
        }
    });
    let sasl = if matches!(protocol, "SASL_PLAINTEXT" | "SASL_SSL") {
        let mechanism = p.choice(props, &KAFKA_SASL_MECHANISM, SASL_MECHANISMS);
        let (username, password) = if mechanism == SaslMechanism::AwsMskIam {
            (String::new(), String::new())
        } else {
            (
                p.take(props.required(&KAFKA_SASL_USERNAME)),
                p.take(props.string(&KAFKA_SASL_PASSWORD)),
            )
        };
        if password.is_empty() && mechanism != SaslMechanism::AwsMskIam {
            p.push(ConfigError::Missing {
                key: KAFKA_SASL_PASSWORD.name,
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
        create_topics: if p.take(props.bool(&TOPIC_CREATION_ENABLE)) {
            Some((
                p.number(props, &TOPIC_CREATION_DEFAULT_PARTITIONS, 1..=10_000),
                p.number(props, &TOPIC_CREATION_DEFAULT_REPLICATION_FACTOR, -1..=32),
            ))
        } else {
            None
        },
        publish_timeout: p.millis(props, &KAFKA_PUBLISH_TIMEOUT_MS, 1_000..=900_000),
        tls,
        sasl,
        compression: p.choice(props, &KAFKA_COMPRESSION_TYPE, COMPRESSIONS),
        max_request_size: p.number(props, &KAFKA_MAX_REQUEST_SIZE, 1_024..=1_073_741_824),
    }
}

fn slot_name(props: &Properties) -> Result<String, ConfigError> {
    let name = props.string(&SLOT_NAME)?;
    let valid = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    valid.then_some(name).ok_or_else(|| {
        props.invalid(
            SLOT_NAME.name,
            "1 to 63 characters of a-z, 0-9 and _ (PostgreSQL's rule for slot names)",
        )
    })
}

fn publication_name(props: &Properties) -> Result<String, ConfigError> {
    let name = props.string(&PUBLICATION_NAME)?;
    if name.is_empty() || name.len() > 63 {
        return Err(props.invalid(
            PUBLICATION_NAME.name,
            "1 to 63 bytes (PostgreSQL's limit for names)",
        ));
    }
    Ok(name)
}

fn topic_prefix(props: &Properties) -> Result<String, ConfigError> {
    let (key, prefix) = match props.get(TOPIC_PREFIX.name) {
        Some(prefix) => (&TOPIC_PREFIX, prefix.to_owned()),
        None => match props.get(DATABASE_SERVER_NAME.name) {
            Some(prefix) => (&DATABASE_SERVER_NAME, prefix.to_owned()),
            None => {
                return Err(ConfigError::Missing {
                    key: TOPIC_PREFIX.name,
                    hint: "set the topic prefix (Debezium 1.x called it database.server.name); topics are <topic.prefix>.<schema>.<table>",
                });
            }
        },
    };
    topic_name(props, key, prefix)
}

/// `value` of `key` when it is a name Kafka accepts as (part of) a topic name.
fn topic_name(props: &Properties, key: &Key, value: String) -> Result<String, ConfigError> {
    let valid = !value.is_empty()
        && value.len() <= 200
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    valid.then_some(value).ok_or_else(|| {
        props.invalid(
            key.name,
            "1 to 200 characters of A-Z, a-z, 0-9, '.', '_' and '-' (Kafka's rule for topic names)",
        )
    })
}

/// `topic.transaction` when `provide.transaction.metadata` asks for the transaction topic.
fn transaction_topic(props: &Properties, p: &mut Problems) -> Option<String> {
    if !p.take(props.bool(&PROVIDE_TRANSACTION_METADATA)) {
        return None;
    }
    let name = p.take(props.string(&TOPIC_TRANSACTION));
    Some(p.take(topic_name(props, &TOPIC_TRANSACTION, name)))
}

/// Heartbeats when `heartbeat.interval.ms` asks for them. The topic is named as Debezium's
/// `AbstractTopicNamingStrategy` names it: `topic.heartbeat.name` when set, else
/// `<topic.heartbeat.prefix>.<topic.prefix>`.
fn heartbeat_config(
    props: &Properties,
    topic_prefix: &str,
    p: &mut Problems,
) -> Option<HeartbeatConfig> {
    let interval = p.millis(props, &HEARTBEAT_INTERVAL_MS, 0..=i32::MAX as u64);
    if interval.is_zero() {
        return None;
    }
    let named = props
        .get(TOPIC_HEARTBEAT_NAME.name)
        .filter(|name| !name.is_empty());
    let topic = match named {
        Some(name) => p.take(topic_name(props, &TOPIC_HEARTBEAT_NAME, name.to_owned())),
        None => {
            let prefix = p.take(props.string(&TOPIC_HEARTBEAT_PREFIX));
            let prefix = p.take(topic_name(props, &TOPIC_HEARTBEAT_PREFIX, prefix));
            format!("{prefix}.{topic_prefix}")
        }
    };
    Some(HeartbeatConfig {
        interval,
        topic,
        action_query: props
            .get(HEARTBEAT_ACTION_QUERY.name)
            .filter(|query| !query.trim().is_empty())
            .map(str::to_owned),
    })
}

fn snapshot_config(props: &Properties, p: &mut Problems) -> SnapshotConfig {
    let value = p.take(props.string(&SNAPSHOT_MODE));
    let mode = match value.to_ascii_lowercase().as_str() {
        "initial" => SnapshotMode::Initial,
        "initial_only" => SnapshotMode::InitialOnly,
        "no_data" => SnapshotMode::NoData,
        "when_needed" => SnapshotMode::WhenNeeded,
        "always" => SnapshotMode::Always,
        "configuration_based" => SnapshotMode::ConfigurationBased {
            data: p.take(props.bool(&SNAPSHOT_MODE_CONFIGURATION_BASED_SNAPSHOT_DATA)),
            stream: p.take(props.bool(&SNAPSHOT_MODE_CONFIGURATION_BASED_START_STREAM)),
            on_data_error: p
                .take(props.bool(&SNAPSHOT_MODE_CONFIGURATION_BASED_SNAPSHOT_ON_DATA_ERROR)),
        },
        old @ ("never" | "schema_only" | "exported") => {
            p.warnings.extend(warnings::old_snapshot_mode(old));
            if old == "exported" {
                SnapshotMode::Initial
            } else {
                SnapshotMode::NoData
            }
        }
        "custom" => {
            p.push(props.invalid(
                SNAPSHOT_MODE.name,
                &format!(
                    "{} (custom loads a Java Snapshotter class, which a Rust function cannot run)",
                    SNAPSHOT_MODE.allowed_text()
                ),
            ));
            SnapshotMode::NoData
        }
        _ => {
            p.push(props.invalid(SNAPSHOT_MODE.name, &SNAPSHOT_MODE.allowed_text()));
            SnapshotMode::NoData
        }
    };
    let include = match props.get(SNAPSHOT_INCLUDE_COLLECTION_LIST.name) {
        None => Vec::new(),
        Some(list) => p.take(
            list.split(',')
                .map(str::trim)
                .filter(|entry| !entry.is_empty())
                .map(|entry| {
                    debezium_pattern(entry).map_err(|_| {
                        props.invalid(
                            SNAPSHOT_INCLUDE_COLLECTION_LIST.name,
                            "a comma-separated list of regular expressions over schema.table",
                        )
                    })
                })
                .collect::<Result<_, _>>(),
        ),
    };
    let threads: u32 = p.number(props, &SNAPSHOT_MAX_THREADS, 1..=64);
    p.warnings.extend(warnings::snapshot_threads(threads));
    let channels = p.take(signal_channels(props));
    SnapshotConfig {
        mode,
        include,
        chunk_rows: p.number(props, &SNAPSHOT_FETCH_SIZE, 1..=1_000_000),
        incremental_chunk_rows: p.number(props, &INCREMENTAL_SNAPSHOT_CHUNK_SIZE, 1..=1_000_000),
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
        .string(&SIGNAL_ENABLED_CHANNELS)?
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
                SIGNAL_ENABLED_CHANNELS.name,
                "source (the signal table) and invocation (a {\"mode\":\"signal\",…} payload); \
                 the kafka channel is not supported yet, file and jmx have no meaning for a function",
            ));
        }
    }
    Ok(channels)
}

/// `signal.data.collection`.
fn signal_table(props: &Properties) -> Result<Option<TablePattern>, ConfigError> {
    let Some(name) = props.get(SIGNAL_DATA_COLLECTION.name) else {
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
            SIGNAL_DATA_COLLECTION.name,
            "schema.table of the signal table, e.g. public.debezium_signal",
        )),
    }
}

fn bootstrap_servers(props: &Properties) -> Result<Vec<String>, ConfigError> {
    let list = props.required(&KAFKA_BOOTSTRAP_SERVERS)?;
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
    valid.then_some(servers).ok_or_else(|| {
        props.invalid(
            KAFKA_BOOTSTRAP_SERVERS.name,
            "a comma-separated list of host:port",
        )
    })
}

fn checkpoint_location(props: &Properties) -> Result<CheckpointLocation, ConfigError> {
    let uri = props.required(&CHECKPOINT_URI)?;
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
        CHECKPOINT_URI.name,
        "s3://bucket/key (an object key, not a prefix) or file:///absolute/path",
    ))
}

fn s3_endpoint(props: &Properties) -> Result<Option<String>, ConfigError> {
    match props.get(CHECKPOINT_S3_ENDPOINT_URL.name) {
        None => Ok(None),
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
            Ok(Some(url.to_owned()))
        }
        Some(_) => Err(props.invalid(
            CHECKPOINT_S3_ENDPOINT_URL.name,
            "an http:// or https:// URL of an S3-compatible endpoint",
        )),
    }
}

/// One of Debezium's representation modes: its spellings are the encoder's, and an error lists
/// them.
fn mode<M: Mode>(props: &Properties, key: &Key) -> Result<M, ConfigError> {
    debug_assert_eq!(key.name, M::KEY);
    let text = props.string(key)?;
    M::parse(&text).ok_or_else(|| props.invalid(key.name, &M::allowed()))
}
