//! The validate report, in the spirit of Kafka Connect's `/connector-plugins/{type}/config/validate`:
//! every property with its value (secrets masked), where it came from, its errors, warnings and notes
//! and its recommended values; then the live checks the relay adds, each reported separately.
//!
//! The property part comes from the one parser ([`Config::parse`]): its errors and its warnings are
//! the ones cold start acts on and logs. The report adds only what concerns the sources as such:
//! keys walbridge does not know, keys it ignores on purpose, and the Debezium 1.x names.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::config::Config;
use crate::keys::{
    DATABASE_SERVER_NAME, IGNORED_BY_DESIGN, KEYS, TABLE_INCLUDE_LIST, TABLE_WHITELIST,
    TOPIC_PREFIX,
};
use crate::parse::{into_result, merge_sources};
use crate::properties::{ConfigError, Properties, is_resolved, is_secret};
use crate::warnings::Warning;

/// What `walbridge validate` and `{"mode":"validate"}` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationReport {
    /// The connector's `name`.
    pub name: String,
    /// No property error and no failed check.
    pub passed: bool,
    /// Property errors plus failed checks; any makes `passed` false.
    pub error_count: usize,
    /// Property warnings plus checks that warn: the configuration runs, but deserves a look.
    pub warning_count: usize,
    /// Every key walbridge knows, then every other key that was set.
    pub configs: Vec<PropertyReport>,
    /// The live checks, in the order they ran.
    pub checks: Vec<CheckReport>,
}

/// One property, as Kafka Connect's validate reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PropertyReport {
    /// The key, as the `.properties` file spells it.
    pub name: String,
    /// The value in force (the default when unset); `****` for a secret.
    pub value: Option<String>,
    /// `file …`, `environment variable …`, `default` or `unset`.
    pub origin: String,
    /// Why the value is refused; non-empty means cold start fails on this key.
    pub errors: Vec<String>,
    /// What is usable but worth changing (the same list cold start logs).
    pub warnings: Vec<String>,
    /// Information only: why walbridge ignores the key, or its newer name.
    pub notes: Vec<String>,
    /// The values the key accepts, for a key with a closed set; empty otherwise.
    pub recommended_values: Vec<String>,
}

/// One live check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// What was checked (`postgresql`, `wal_level`, `slot`, …), stable for scripts.
    pub name: String,
    /// The outcome.
    pub status: CheckStatus,
    /// What was found, and on failure what to do about it.
    pub message: String,
}

/// The outcome of one live check, serialised in lower case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// Works as configured.
    Pass,
    /// Works, but something will not be captured or needs attention.
    Warn,
    /// Cannot work as configured: the message says what to fix. Counts as an error.
    Fail,
    /// Not run: an earlier check or a property it depends on failed.
    Skipped,
}

impl fmt::Display for CheckStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "FAIL",
            Self::Skipped => "skipped",
        })
    }
}

/// Checks the properties without touching any service: the report, and the configuration when it
/// is valid (for the live checks).
pub fn validate_sources(
    file: Properties,
    env: &BTreeMap<String, String>,
) -> (Result<Config, ConfigError>, ValidationReport) {
    validate_properties(&merge_sources(file, env))
}

/// As [`validate_sources`], for properties already merged and with their secret references resolved.
pub fn validate_properties(props: &Properties) -> (Result<Config, ConfigError>, ValidationReport) {
    let (config, errors) = Config::parse(props);
    let report = ValidationReport::new(config.name.clone(), props, &errors, config.warnings());
    (into_result(config, errors), report)
}

impl ValidationReport {
    fn new(name: String, props: &Properties, errors: &[ConfigError], warnings: &[Warning]) -> Self {
        let set: BTreeMap<&str, (&str, &str)> = props
            .entries()
            .map(|(key, value, origin)| (key, (value, origin)))
            .collect();
        let mut configs: Vec<PropertyReport> = KEYS
            .iter()
            .map(|key| {
                let (value, origin) = match set.get(key.name).filter(|(v, _)| !v.is_empty()) {
                    Some((value, origin)) => (Some((*value).to_owned()), (*origin).to_owned()),
                    None => match key.default {
                        Some(default) => (Some(default.to_owned()), "default".to_owned()),
                        None => (None, "unset".to_owned()),
                    },
                };
                PropertyReport {
                    name: key.name.to_owned(),
                    value,
                    origin,
                    errors: Vec::new(),
                    warnings: Vec::new(),
                    notes: Vec::new(),
                    recommended_values: key.allowed.iter().map(|v| (*v).to_owned()).collect(),
                }
            })
            .collect();
        for (key, (value, origin)) in &set {
            if KEYS.iter().any(|k| k.name == *key) {
                continue;
            }
            let mut property = PropertyReport {
                name: (*key).to_owned(),
                value: Some((*value).to_owned()),
                origin: (*origin).to_owned(),
                errors: Vec::new(),
                warnings: Vec::new(),
                notes: Vec::new(),
                recommended_values: Vec::new(),
            };
            match IGNORED_BY_DESIGN.iter().find(|(k, _)| k == key) {
                Some((_, why)) => property.notes.push(format!("ignored by design: {why}")),
                None if *key == crate::transforms::TRANSFORMS => {
                    property
                        .notes
                        .push(crate::transforms::describe_chain(props));
                }
                None if crate::transforms::is_chain_key(key) => property
                    .notes
                    .push("read by the transform chain (see transforms)".to_owned()),
                None if crate::unsupported::is_declared(key) => property.notes.push(
                    "walbridge does not implement what this key turns on; an error says so when \
                     the value asks for it"
                        .to_owned(),
                ),
                None => property.warnings.push(
                    "walbridge does not know this property and ignores it (a typo, or a Debezium \
                     feature walbridge does not have)"
                        .to_owned(),
                ),
            }
            configs.push(property);
        }
        for err in errors {
            let message = match err {
                ConfigError::Missing { key, hint } => {
                    format!(
                        "Missing required configuration \"{key}\" which has no default value: {hint}"
                    )
                }
                ConfigError::Invalid { allowed, .. } => format!("Value must be {allowed}"),
                other => other.to_string(),
            };
            let key = err.key().unwrap_or("name");
            match configs.iter_mut().find(|c| c.name == key) {
                Some(property) => property.errors.push(message),
                None => configs[0].errors.push(format!("{key}: {message}")),
            }
        }
        for warning in warnings {
            if let Some(property) = configs.iter_mut().find(|c| c.name == warning.key) {
                property.warnings.push(warning.message.clone());
            }
        }
        for property in &mut configs {
            old_name_notes(property, &set);
            if is_secret(&property.name) || is_resolved(&property.origin) {
                property.value = property.value.as_ref().map(|v| {
                    if v.is_empty() {
                        String::new()
                    } else {
                        "****".to_owned()
                    }
                });
            }
        }
        let mut report = Self {
            name,
            passed: false,
            error_count: 0,
            warning_count: 0,
            configs,
            checks: Vec::new(),
        };
        report.tally();
        report
    }

    /// A report with no property in it, for a configuration that came without its sources.
    pub fn empty(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            passed: true,
            error_count: 0,
            warning_count: 0,
            configs: Vec::new(),
            checks: Vec::new(),
        }
    }

    /// Adds a problem found outside the parser (a secret reference that cannot be resolved).
    pub fn push_property_error(&mut self, key: &str, message: String) {
        match self.configs.iter_mut().find(|c| c.name == key) {
            Some(property) => property.errors.push(message),
            None => self.configs.push(PropertyReport {
                name: key.to_owned(),
                value: None,
                origin: "unset".to_owned(),
                errors: vec![message],
                warnings: Vec::new(),
                notes: Vec::new(),
                recommended_values: Vec::new(),
            }),
        }
        self.tally();
    }

    /// Adds a live check's outcome.
    pub fn push_check(&mut self, name: &str, status: CheckStatus, message: impl Into<String>) {
        self.checks.push(CheckReport {
            name: name.to_owned(),
            status,
            message: message.into(),
        });
        self.tally();
    }

    fn tally(&mut self) {
        let count = |status| self.checks.iter().filter(|c| c.status == status).count();
        self.error_count =
            self.configs.iter().map(|c| c.errors.len()).sum::<usize>() + count(CheckStatus::Fail);
        self.warning_count =
            self.configs.iter().map(|c| c.warnings.len()).sum::<usize>() + count(CheckStatus::Warn);
        self.passed = self.error_count == 0;
    }
}

/// Notes on Debezium 1.x's names of keys: accepted, or ignored beside the current name.
fn old_name_notes(property: &mut PropertyReport, set: &BTreeMap<&str, (&str, &str)>) {
    let is_set = |name: &str| set.get(name).is_some_and(|(v, _)| !v.is_empty());
    for (old, current) in [
        (&TABLE_WHITELIST, &TABLE_INCLUDE_LIST),
        (&DATABASE_SERVER_NAME, &TOPIC_PREFIX),
    ] {
        if property.name == old.name && is_set(old.name) {
            property.notes.push(if is_set(current.name) {
                format!("Debezium 1.x name; ignored because {} is set", current.name)
            } else {
                format!("Debezium 1.x name of {}; accepted", current.name)
            });
        }
    }
}

impl fmt::Display for ValidationReport {
    /// The human form: the properties that were set or have something to say, then the checks.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "connector {}: {} property/check error(s), {} warning(s)",
            self.name, self.error_count, self.warning_count
        )?;
        writeln!(f)?;
        writeln!(f, "{:<44} {:<40} origin", "property", "value")?;
        for property in &self.configs {
            let quiet = property.origin == "default" || property.origin == "unset";
            if quiet
                && property.errors.is_empty()
                && property.warnings.is_empty()
                && property.notes.is_empty()
            {
                continue;
            }
            let value = property.value.as_deref().unwrap_or("-");
            let value: String = if value.chars().count() > 40 {
                value.chars().take(37).chain("...".chars()).collect()
            } else {
                value.to_owned()
            };
            writeln!(f, "{:<44} {:<40} {}", property.name, value, property.origin)?;
            for error in &property.errors {
                writeln!(f, "    error: {error}")?;
                if !property.recommended_values.is_empty() {
                    writeln!(
                        f,
                        "    recommended: {}",
                        property.recommended_values.join(", ")
                    )?;
                }
            }
            for warning in &property.warnings {
                writeln!(f, "    warning: {warning}")?;
            }
            for note in &property.notes {
                writeln!(f, "    note: {note}")?;
            }
        }
        writeln!(f)?;
        for check in &self.checks {
            writeln!(
                f,
                "{:<8} {:<22} {}",
                check.status, check.name, check.message
            )?;
        }
        writeln!(f)?;
        write!(f, "{}", if self.passed { "PASSED" } else { "FAILED" })
    }
}
