//! Warnings: settings that load but deserve a word (an old spelling, a key that changes nothing
//! with the others set as they are). Only the parser makes them, so the cold-start log and the
//! validate report show the same list.

use std::fmt;

use crate::keys::{
    DATABASE_SSLMODE, DATABASE_SSLROOTCERT, HEARTBEAT_ACTION_QUERY, HEARTBEAT_INTERVAL_MS,
    KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SECURITY_PROTOCOL,
    KAFKA_SSL_TRUSTSTORE_LOCATION, Key, SNAPSHOT_MAX_THREADS, SNAPSHOT_MODE,
    SOURCE_STRUCT_V1_CONNECTOR_VERSION, SOURCE_STRUCT_VERSION,
};
use crate::properties::Properties;

/// A configuration that is usable but worth a word: the key it is about and a sentence that
/// names the key and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Warning {
    /// The key the validate report shows it under.
    pub key: &'static str,
    /// One sentence: what is off and what to do about it.
    pub message: String,
}

impl Warning {
    fn new(key: &Key, message: String) -> Self {
        Self {
            key: key.name,
            message,
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A `snapshot.mode` name Debezium removed (users' files still carry them): the value walbridge
/// applies instead.
pub(crate) fn old_snapshot_mode(value: &str) -> Option<Warning> {
    let message = match value.to_ascii_lowercase().as_str() {
        old @ ("never" | "schema_only") => format!(
            "snapshot.mode={old} is an old name (removed in Debezium 3.3); use snapshot.mode=no_data, which walbridge applies"
        ),
        "exported" => "snapshot.mode=exported is a Debezium 1.x name (removed in 2.0); use snapshot.mode=initial, which walbridge applies"
            .to_owned(),
        _ => return None,
    };
    Some(Warning::new(&SNAPSHOT_MODE, message))
}

/// `snapshot.max.threads` above 1: walbridge reads one chunk at a time.
pub(crate) fn snapshot_threads(threads: u32) -> Option<Warning> {
    (threads > 1).then(|| {
        Warning::new(
            &SNAPSHOT_MAX_THREADS,
            format!(
                "snapshot.max.threads={threads}: walbridge reads one chunk at a time (each chunk is a short transaction between windows of the slot)"
            ),
        )
    })
}

/// The warnings about keys that only matter together with others, from the values as given.
pub(crate) fn cross_key(props: &Properties) -> Vec<Warning> {
    let value_of = |key: &Key| props.get(key.name);
    let in_force = |key: &Key| value_of(key).or(key.default).unwrap_or_default();
    let mut warnings = Vec::new();

    let struct_version = value_of(&SOURCE_STRUCT_VERSION);
    let v1 = struct_version.is_some_and(|v| v.trim().eq_ignore_ascii_case("v1"));
    if value_of(&SOURCE_STRUCT_V1_CONNECTOR_VERSION).is_some() && !v1 {
        warnings.push(Warning::new(
            &SOURCE_STRUCT_V1_CONNECTOR_VERSION,
            "source.struct.v1.connector.version is used only with source.struct.version=v1; the \
             events are v2's"
                .to_owned(),
        ));
    }

    if value_of(&DATABASE_SSLROOTCERT).is_some() {
        let mode = in_force(&DATABASE_SSLMODE);
        if !mode.eq_ignore_ascii_case("verify-ca") && !mode.eq_ignore_ascii_case("verify-full") {
            warnings.push(Warning::new(
                &DATABASE_SSLROOTCERT,
                format!(
                    "database.sslrootcert is used only with database.sslmode verify-ca or \
                     verify-full (it is {mode}): the server's certificate is not verified"
                ),
            ));
        }
    }

    let protocol = in_force(&KAFKA_SECURITY_PROTOCOL);
    for (key, needs) in [
        (&KAFKA_SSL_TRUSTSTORE_LOCATION, "SSL"),
        (&KAFKA_SASL_MECHANISM, "SASL"),
        (&KAFKA_SASL_USERNAME, "SASL"),
    ] {
        if value_of(key).is_some() && !protocol.to_ascii_uppercase().contains(needs) {
            warnings.push(Warning::new(
                key,
                format!(
                    "{} is ignored: kafka.security.protocol is {protocol}, not a {needs} protocol",
                    key.name
                ),
            ));
        }
    }

    let heartbeats_off = in_force(&HEARTBEAT_INTERVAL_MS).trim() == "0";
    if value_of(&HEARTBEAT_ACTION_QUERY).is_some_and(|q| !q.trim().is_empty()) && heartbeats_off {
        warnings.push(Warning::new(
            &HEARTBEAT_ACTION_QUERY,
            "heartbeat.action.query runs only with heartbeats (as in Debezium): set \
             heartbeat.interval.ms above 0 to run it"
                .to_owned(),
        ));
    }
    warnings
}
