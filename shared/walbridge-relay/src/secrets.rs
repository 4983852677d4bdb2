//! Secrets by reference, in the style of Kafka's config providers (KIP-297): a property whose whole
//! value is `${secretsmanager:<secret name or ARN>[:<JSON key>]}` or `${ssm:<parameter name or ARN>}`
//! is replaced by the secret it names, fetched once per cold start (each secret once, however many
//! properties name it). The reference is not secret and may appear in an error; the value never
//! does, and a resolved value is masked in reports whatever its key.

use std::collections::HashMap;

use aws_config::SdkConfig;
use walbridge_config::Properties;

/// Where a reference points.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reference {
    /// A Secrets Manager secret; with a key, the secret string is a JSON object and the value is
    /// that key's.
    SecretsManager {
        /// The secret's name or ARN.
        id: String,
        /// The JSON key whose value is wanted; `None`: the whole secret string.
        key: Option<String>,
    },
    /// An SSM parameter, decrypted when it is a SecureString.
    Ssm {
        /// The parameter's name or ARN.
        name: String,
    },
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SecretsManager { id, key: Some(key) } => {
                write!(f, "${{secretsmanager:{id}:{key}}}")
            }
            Self::SecretsManager { id, key: None } => write!(f, "${{secretsmanager:{id}}}"),
            Self::Ssm { name } => write!(f, "${{ssm:{name}}}"),
        }
    }
}

/// A reference that could not be resolved. Never holds a secret value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// A `${secretsmanager:…}` or `${ssm:…}` value whose name or ARN is empty or incomplete.
    #[error(
        "{key}: malformed secret reference: use ${{secretsmanager:<secret name or ARN>[:<JSON key>]}} \
         or ${{ssm:<parameter name>}}"
    )]
    Malformed {
        /// The property holding it.
        key: String,
    },
    /// Secrets Manager or SSM refused or failed the request (permissions, a missing secret, the
    /// network).
    #[error("{key}: cannot fetch {reference}")]
    Fetch {
        /// The property holding the reference.
        key: String,
        /// The reference, as written.
        reference: String,
        /// The AWS SDK's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The secret exists but holds no string: a binary secret, or a parameter without a value.
    #[error("{key}: {reference} has no string value")]
    Empty {
        /// The property holding the reference.
        key: String,
        /// The reference, as written.
        reference: String,
    },
    /// The reference names a JSON key, and the secret string is not a JSON object with a string
    /// under that key.
    #[error("{key}: the secret of {reference} is not a JSON object with the key it names")]
    NoSuchKey {
        /// The property holding the reference.
        key: String,
        /// The reference, as written.
        reference: String,
    },
}

impl SecretError {
    /// The property whose reference failed.
    pub fn key(&self) -> &str {
        match self {
            Self::Malformed { key }
            | Self::Fetch { key, .. }
            | Self::Empty { key, .. }
            | Self::NoSuchKey { key, .. } => key,
        }
    }
}

/// The reference `value` is, if it is one; `Some(None)` for a malformed one.
pub fn parse_reference(value: &str) -> Option<Option<Reference>> {
    let inner = value.strip_prefix("${")?.strip_suffix('}')?;
    let (provider, path) = inner.split_once(':')?;
    let reference = match provider {
        "secretsmanager" => {
            // An ARN has seven colon-separated fields (arn:aws:secretsmanager:region:account:secret:
            // name); a name cannot contain a colon. What follows is the JSON key.
            let split_at = if path.starts_with("arn:") { 7 } else { 1 };
            let mut parts = path.splitn(split_at + 1, ':');
            let id: Vec<&str> = parts.by_ref().take(split_at).collect();
            let key = parts.next().map(str::to_owned);
            let id = id.join(":");
            let complete =
                id.split(':').count() == split_at && id.split(':').all(|p| !p.is_empty());
            complete.then_some(Reference::SecretsManager {
                id,
                key: key.filter(|k| !k.is_empty()),
            })
        }
        "ssm" => (!path.is_empty()).then(|| Reference::Ssm {
            name: path.to_owned(),
        }),
        _ => return None,
    };
    Some(reference)
}

/// Whether any value is a secret reference (only then is the AWS configuration loaded).
pub fn has_references(props: &Properties) -> bool {
    props
        .entries()
        .any(|(_, value, _)| parse_reference(value).is_some())
}

/// Replaces every secret reference in `props` by its secret; what could not be resolved is left as
/// it was and returned.
pub async fn resolve(props: &mut Properties, aws: &SdkConfig) -> Vec<SecretError> {
    let wanted: Vec<(String, Option<Reference>)> = props
        .entries()
        .filter_map(|(key, value, _)| parse_reference(value).map(|r| (key.to_owned(), r)))
        .collect();
    let mut errors = Vec::new();
    let mut fetched: HashMap<Reference, String> = HashMap::new();
    let secrets = aws_sdk_secretsmanager::Client::new(aws);
    let ssm = aws_sdk_ssm::Client::new(aws);
    for (key, reference) in wanted {
        let Some(reference) = reference else {
            errors.push(SecretError::Malformed { key });
            continue;
        };
        let value = match fetched.get(&reference) {
            Some(value) => Ok(value.clone()),
            None => fetch(&key, &reference, &secrets, &ssm).await,
        };
        match value {
            Ok(value) => {
                fetched.insert(reference.clone(), value.clone());
                let provider = match reference {
                    Reference::SecretsManager { .. } => "secretsmanager",
                    Reference::Ssm { .. } => "ssm",
                };
                props.set_resolved(&key, value, provider);
            }
            Err(err) => errors.push(err),
        }
    }
    errors
}

async fn fetch(
    key: &str,
    reference: &Reference,
    secrets: &aws_sdk_secretsmanager::Client,
    ssm: &aws_sdk_ssm::Client,
) -> Result<String, SecretError> {
    let fetch_error = |source: Box<dyn std::error::Error + Send + Sync>| SecretError::Fetch {
        key: key.to_owned(),
        reference: reference.to_string(),
        source,
    };
    let empty = || SecretError::Empty {
        key: key.to_owned(),
        reference: reference.to_string(),
    };
    match reference {
        Reference::SecretsManager { id, key: json_key } => {
            let output = secrets
                .get_secret_value()
                .secret_id(id)
                .send()
                .await
                .map_err(|err| fetch_error(err.into_service_error().into()))?;
            let text = output.secret_string().ok_or_else(empty)?;
            match json_key {
                None => Ok(text.to_owned()),
                Some(json_key) => serde_json::from_str::<serde_json::Value>(text)
                    .ok()
                    .and_then(|object| {
                        object
                            .get(json_key)
                            .and_then(|v| v.as_str())
                            .map(str::to_owned)
                    })
                    .ok_or_else(|| SecretError::NoSuchKey {
                        key: key.to_owned(),
                        reference: reference.to_string(),
                    }),
            }
        }
        Reference::Ssm { name } => ssm
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|err| fetch_error(err.into_service_error().into()))?
            .parameter
            .and_then(|p| p.value)
            .ok_or_else(empty),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_follow_kip_297_with_secrets_manager_arns_and_json_keys() {
        let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf";
        assert_eq!(
            parse_reference(&format!("${{secretsmanager:{arn}:password}}")),
            Some(Some(Reference::SecretsManager {
                id: arn.to_owned(),
                key: Some("password".to_owned())
            }))
        );
        assert_eq!(
            parse_reference(&format!("${{secretsmanager:{arn}}}")),
            Some(Some(Reference::SecretsManager {
                id: arn.to_owned(),
                key: None
            }))
        );
        assert_eq!(
            parse_reference("${secretsmanager:prod/db:password}"),
            Some(Some(Reference::SecretsManager {
                id: "prod/db".to_owned(),
                key: Some("password".to_owned())
            }))
        );
        assert_eq!(
            parse_reference("${ssm:/walbridge/kafka-password}"),
            Some(Some(Reference::Ssm {
                name: "/walbridge/kafka-password".to_owned()
            }))
        );
        assert_eq!(parse_reference("${secretsmanager:arn:aws:x}"), Some(None));
        assert_eq!(parse_reference("${ssm:}"), Some(None));
        assert_eq!(parse_reference("plain-password"), None);
        assert_eq!(
            parse_reference("${file:/etc/x:y}"),
            None,
            "not a provider walbridge has"
        );
    }
}
