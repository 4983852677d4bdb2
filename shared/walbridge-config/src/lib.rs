//! walbridge's configuration: Debezium connector property names, read from a Java `.properties` file
//! and from environment variables (the environment wins), parsed and validated once at cold start.
//!
//! The vocabulary is Debezium's, so a connector's `.properties` file loads as it is; walbridge's own
//! keys (`kafka.bootstrap.servers`, `checkpoint.uri`, `window.max.changes`, …) follow the same style.
//! Each key `a.b.c` can also come from the environment variable `A_B_C`.
//!
//! - [`keys`]: every key, with its default and accepted values ([`KEYS`]);
//! - [`Config`] and its parts: what the parser builds;
//! - [`Config::from_properties`] and [`validate_properties`]: the one parser, for cold start and
//!   for `walbridge validate`; both see the same errors and the same [`Warning`]s;
//! - [`debezium_pattern`]: how every Debezium list entry is matched.

mod config;
mod filters;
pub mod keys;
mod parse;
mod pattern;
mod properties;
mod report;
pub mod transforms;
mod unsupported;
mod warnings;

pub use config::{
    AvroSettings, CheckpointLocation, Compression, Config, Converter, DatabaseConfig, EventConfig,
    HeartbeatConfig, InvocationConfig, KafkaConfig, KafkaSasl, KafkaTls, MismatchStrategy, Plugin,
    PublicationAutocreate, PublicationConfig, SaslMechanism, SlotConfig, SnapshotConfig,
    SnapshotMode, SslMode, SubjectStrategy, TablePattern, WindowConfig,
};
pub use filters::{
    ColumnFilter, Filters, KeyColumns, MessageFilter, SkippedOperations, TableFilter,
};
pub use keys::{IGNORED_BY_DESIGN, KEYS, Key};
pub use parse::merge_sources;
pub use pattern::{debezium_pattern, java_pattern};
pub use properties::{ConfigError, Properties};
/// The type of a compiled Debezium pattern ([`debezium_pattern`], [`SnapshotConfig::include`]).
pub use regex::Regex;
pub use report::{
    CheckReport, CheckStatus, PropertyReport, ValidationReport, validate_properties,
    validate_sources,
};
pub use warnings::Warning;

#[cfg(test)]
mod tests;
