//! The raw key/value layer under [`crate::Config`]: Java `.properties` parsing, environment overrides,
//! typed lookups with defaults, and errors that name the key and mask secrets.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::keys::{KEYS, Key};

/// An invalid or missing configuration value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A key that must be set is not, in the file or the environment.
    #[error("configuration key {key} is required: {hint}")]
    Missing {
        /// The key's name.
        key: &'static str,
        /// Why it is needed, or what to set.
        hint: &'static str,
    },
    #[error(
        "configuration key {key} has an invalid value {value} (from {origin}); allowed: {allowed}"
    )]
    /// A key's value does not parse, is out of range or is not among the accepted values.
    Invalid {
        /// The key's name.
        key: String,
        /// The value as given, or `****` for a secret.
        value: String,
        /// Where the value came from: the file or the environment variable.
        origin: String,
        /// What the key accepts: a range, a list of values or a form.
        allowed: String,
    },
    #[error("configuration key {key} asks for {what}, which walbridge does not implement: {fix}")]
    /// A key asks for something that would change what is written to Kafka and that walbridge
    /// does not implement: refused rather than ignored, so no event differs silently from
    /// Debezium's.
    Unsupported {
        /// The key's name.
        key: String,
        /// The feature the value asks for.
        what: &'static str,
        /// How to get a configuration walbridge runs with.
        fix: &'static str,
    },
    /// A problem with the transform chain (`transforms.*`, `predicates.*`).
    #[error("configuration key {key} {problem}")]
    Chain {
        /// The key.
        key: String,
        /// What is wrong and what to do.
        problem: String,
    },
    /// More than one problem: every one the parser found, so all can be fixed at once.
    #[error("{} configuration problems: {}", .0.len(), join(.0))]
    Several(Vec<ConfigError>),
    /// The `.properties` file cannot be read or is not a Java properties file.
    #[error("cannot read the properties file {path}")]
    Read {
        /// The file, as `WALBRIDGE_PROPERTIES` (or the caller) names it.
        path: PathBuf,
        /// What reading or parsing it failed on.
        #[source]
        source: java_properties::PropertiesError,
    },
}

impl ConfigError {
    /// The key the problem is about, if it is about one.
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::Missing { key, .. } => Some(key),
            Self::Invalid { key, .. } | Self::Unsupported { key, .. } | Self::Chain { key, .. } => {
                Some(key)
            }
            Self::Several(_) | Self::Read { .. } => None,
        }
    }
}

fn join(errors: &[ConfigError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Key/value pairs with Debezium's property names, remembering where each value came from.
#[derive(Default, Clone)]
pub struct Properties {
    values: BTreeMap<String, (String, String)>,
}

/// Keys and origins only: values may be secrets (or resolved secret references).
impl std::fmt::Debug for Properties {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.values.iter().map(|(key, (_, origin))| (key, origin)))
            .finish()
    }
}

impl Properties {
    /// Parses Java `.properties` text (`key=value`, `key: value`, `\` continuations, `#` comments).
    ///
    /// # Errors
    /// When the text is not valid `.properties` syntax.
    pub fn parse(text: &str, origin: &str) -> Result<Self, java_properties::PropertiesError> {
        let map = java_properties::read(text.as_bytes())?;
        Ok(Self {
            values: map
                .into_iter()
                .map(|(k, v)| (k, (v.trim().to_owned(), origin.to_owned())))
                .collect(),
        })
    }

    /// Reads and parses a `.properties` file.
    ///
    /// # Errors
    /// [`ConfigError::Read`] when the file cannot be read or parsed.
    pub fn read_file(path: &Path) -> Result<Self, ConfigError> {
        let read_error = |source| ConfigError::Read {
            path: path.to_owned(),
            source,
        };
        let text = std::fs::read_to_string(path)
            .map_err(|err| read_error(java_properties::PropertiesError::from(err)))?;
        Self::parse(&text, &format!("file {}", path.display())).map_err(read_error)
    }

    /// Sets one key (tests and tools).
    pub fn set(&mut self, key: &str, value: &str) {
        self.values
            .insert(key.to_owned(), (value.to_owned(), "code".to_owned()));
    }

    /// Replaces `key`'s value (a secret reference) by the secret it names; the value is masked
    /// wherever it would be shown, whatever the key.
    pub fn set_resolved(&mut self, key: &str, value: String, provider: &str) {
        if let Some((old, origin)) = self.values.get_mut(key) {
            *old = value;
            origin.push_str(&format!(", {RESOLVED} {provider}"));
        }
    }

    /// The same properties with each of `keys` overridden by its environment variable (`a.b` →
    /// `A_B`) when that variable is set.
    pub(crate) fn with_env_overrides<'k>(
        mut self,
        env: &BTreeMap<String, String>,
        keys: impl Iterator<Item = &'k str>,
    ) -> Self {
        for key in keys {
            let var = env_var_name(key);
            if let Some(value) = env.get(&var) {
                self.values.insert(
                    key.to_owned(),
                    (
                        value.trim().to_owned(),
                        format!("environment variable {var}"),
                    ),
                );
            }
        }
        self
    }

    /// Keys present here that are not among `known`.
    pub(crate) fn unknown_keys<'k>(&self, known: impl Iterator<Item = &'k str>) -> Vec<String> {
        let known: Vec<&str> = known.collect();
        self.values
            .keys()
            .filter(|key| !known.contains(&key.as_str()))
            .cloned()
            .collect()
    }

    /// The value of `key` when it is set and not blank.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .map(|(value, _)| value.as_str())
            .filter(|value| !value.is_empty())
    }

    /// The value of `key`, or its default.
    pub(crate) fn string(&self, key: &Key) -> Result<String, ConfigError> {
        match (self.get(key.name), key.default) {
            (Some(value), _) | (None, Some(value)) => Ok(value.to_owned()),
            (None, None) => Err(ConfigError::Missing {
                key: key.name,
                hint: "it has no default",
            }),
        }
    }

    /// The value of a key without a default.
    pub(crate) fn required(&self, key: &Key) -> Result<String, ConfigError> {
        self.get(key.name)
            .map(str::to_owned)
            .ok_or(ConfigError::Missing {
                key: key.name,
                hint: "set it in the properties file or as an environment variable (upper case, '.' -> '_')",
            })
    }

    /// The value of `key` as one of its declared values ([`Key::one_of`]), spelled as declared.
    pub(crate) fn one_of(&self, key: &Key) -> Result<&'static str, ConfigError> {
        let value = self.string(key)?;
        key.allowed
            .iter()
            .find(|allowed| allowed.eq_ignore_ascii_case(&value))
            .copied()
            .ok_or_else(|| self.invalid(key.name, &key.allowed_text()))
    }

    /// Every key and its value and origin, secrets included (the validate report masks them).
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.values
            .iter()
            .map(|(key, (value, origin))| (key.as_str(), value.as_str(), origin.as_str()))
    }

    pub(crate) fn bool(&self, key: &Key) -> Result<bool, ConfigError> {
        // Java's Boolean.parseBoolean is case-insensitive; anything but true/false is a mistake.
        match self.string(key)?.to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(self.invalid(key.name, "true or false")),
        }
    }

    pub(crate) fn parse_in<T>(&self, key: &Key, range: RangeInclusive<T>) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + std::fmt::Display,
    {
        self.string(key)?
            .parse::<T>()
            .ok()
            .filter(|value| range.contains(value))
            .ok_or_else(|| {
                self.invalid(
                    key.name,
                    &format!("an integer from {} to {}", range.start(), range.end()),
                )
            })
    }

    /// The error for `key`'s current value, masked when the key holds a secret.
    pub(crate) fn invalid(&self, key: &str, allowed: &str) -> ConfigError {
        let (value, origin) = self
            .values
            .get(key)
            .map(|(v, o)| (v.as_str(), o.as_str()))
            .unwrap_or(("", "default"));
        ConfigError::Invalid {
            key: key.to_owned(),
            value: if is_secret(key) || is_resolved(origin) {
                "****".to_owned()
            } else {
                format!("{value:?}")
            },
            origin: origin.to_owned(),
            allowed: allowed.to_owned(),
        }
    }
}

/// `database.hostname` → `DATABASE_HOSTNAME`.
pub fn env_var_name(key: &str) -> String {
    key.to_ascii_uppercase().replace('.', "_")
}

/// Marks the origin of a value that came from a secret reference.
const RESOLVED: &str = "resolved from";

/// Whether a value of this origin came from a secret reference (and is masked like a secret).
pub(crate) fn is_resolved(origin: &str) -> bool {
    origin.contains(RESOLVED)
}

/// Whether `key` holds a secret, masked wherever its value would be shown: declared so in [`KEYS`],
/// or a name that suggests one. A Debezium file carries credentials walbridge never reads
/// (`database.sslpassword`, `*.sasl.jaas.config`, `*.ssl.keystore.password`,
/// `debezium.source.database.password`), and the report lists every key it was given.
pub(crate) fn is_secret(key: &str) -> bool {
    KEYS.iter().any(|k| k.name == key && k.secret) || names_a_secret(key)
}

/// Parts of a key's name that make its value a secret wherever they appear in it (`sslpassword`,
/// `sasl.jaas.config`, `client.secret`, `basic.auth.user.info`, `oauth.token.endpoint` too:
/// masking a harmless value costs less than showing a credential).
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "jaas",
    "token",
    "credential",
    "auth",
];

/// Whether a key's name suggests a secret: a [`SECRET_WORDS`] part anywhere, a last part ending
/// in `key` (`database.sslkey`, `ssl.keystore.key`, `api.key`), or a last part `query`
/// (`heartbeat.action.query`: the user's SQL, whose literals may be anything). Elsewhere `key`
/// names what a setting is about, not a key (`key.converter`, `message.key.columns`).
pub(crate) fn names_a_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|word| key.contains(word))
        || key
            .rsplit(['.', '_', '-'])
            .next()
            .is_some_and(|last| last.ends_with("key") || last == "query")
}
