//! The schema registry's REST API (Confluent's, which Apicurio and Karapace also serve): register a
//! schema under a subject, or look it up, for its id. Each URL is tried in turn while the previous
//! one cannot be reached.

use std::path::Path;
use std::time::Duration;

use reqwest::{Client, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::tls::Verify;

const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// The registry failed, or refused. Names the subject and quotes the registry's answer (which
/// holds no row value: at most the schema).
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// No URL answered.
    #[error("no schema registry answered at {urls} for subject {subject}")]
    Unreachable {
        /// The subject.
        subject: String,
        /// The URLs tried.
        urls: String,
        /// The last HTTP client error.
        #[source]
        source: reqwest::Error,
    },
    /// The registry refused the registration: the schema is incompatible with the subject's
    /// earlier versions under its compatibility level.
    #[error(
        "the schema registry refused a new schema for subject {subject} as incompatible \
         (compatibility level {level}): {answer}; make the change compatible, or change the \
         subject's compatibility level (PUT /config/{subject})"
    )]
    Incompatible {
        /// The subject.
        subject: String,
        /// The subject's compatibility level, as the registry reports it.
        level: String,
        /// The registry's answer.
        answer: String,
    },
    /// The schema is not registered under the subject, and `auto.register.schemas` is off.
    #[error(
        "the schema is not registered under subject {subject} and auto.register.schemas is off: \
         register it, or set auto.register.schemas=true ({answer})"
    )]
    NotRegistered {
        /// The subject.
        subject: String,
        /// The registry's answer.
        answer: String,
    },
    /// `use.latest.version`: the subject has no schema yet.
    #[error(
        "no schema is registered under subject {subject}, and use.latest.version writes under \
         the subject's latest schema: register the schema, or set auto.register.schemas=true \
         ({answer})"
    )]
    NoLatest {
        /// The subject.
        subject: String,
        /// The registry's answer.
        answer: String,
    },
    /// `use.latest.version`: the subject's latest schema is not the shape of the record, so the
    /// record's bytes would not be what that schema reads.
    #[error(
        "the latest schema of subject {subject} (version {version}) is not the shape of the \
         record's schema (its Avro Parsing Canonical Form differs): with use.latest.version \
         walbridge writes only records whose schema is the latest one up to docs, defaults and \
         properties (where Confluent's serializer would write the fields by position); register \
         the record's schema as the subject's latest version, or set auto.register.schemas=true"
    )]
    LatestDiffers {
        /// The subject.
        subject: String,
        /// The latest version's number.
        version: i64,
    },
    /// The TLS configuration for the registry cannot be built (its CA file).
    #[error(
        "cannot set up TLS to the schema registry for subject {subject} \
         (schema.registry.ssl.truststore.location): {reason}"
    )]
    Tls {
        /// The subject.
        subject: String,
        /// What failed.
        reason: String,
    },
    /// Any other refusal.
    #[error("the schema registry answered HTTP {status} for subject {subject}: {answer}")]
    Refused {
        /// The subject.
        subject: String,
        /// The HTTP status.
        status: u16,
        /// The registry's answer.
        answer: String,
    },
}

/// A registry client: its URLs and credentials.
#[derive(Debug, Clone)]
pub(crate) struct Registry {
    /// The client, or why its TLS configuration could not be built (reported on first use).
    client: Result<Client, String>,
    urls: Vec<Url>,
    /// The URLs as configured, for errors.
    names: String,
    basic_auth: Option<(String, SecretString)>,
}

#[derive(Deserialize)]
struct Registered {
    id: u32,
}

/// `GET /subjects/{subject}/versions/latest`.
#[derive(Deserialize)]
struct Latest {
    id: u32,
    version: i64,
    schema: String,
}

#[derive(Deserialize)]
struct Compatibility {
    #[serde(rename = "compatibilityLevel", alias = "compatibility")]
    level: String,
}

impl Registry {
    /// A client of the registry at `urls` (checked by the configuration's parser).
    pub(crate) fn new(
        urls: &[String],
        basic_auth: Option<(String, SecretString)>,
        ca_file: Option<&Path>,
    ) -> Self {
        // a registry that hangs fails the invocation well before Lambda's timeout would
        let builder = Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30));
        let client = if urls.iter().any(|url| url.starts_with("https://")) {
            crate::tls::client_config(ca_file, Verify::ChainAndHost)
                .map(|tls| builder.use_preconfigured_tls(tls))
                .map_err(|err| crate::error::error_chain(&err))
        } else {
            Ok(builder.tls_built_in_root_certs(false))
        }
        .and_then(|builder| {
            builder
                .build()
                .map_err(|err| crate::error::error_chain(&err))
        });
        Self {
            client,
            urls: urls.iter().filter_map(|url| Url::parse(url).ok()).collect(),
            names: urls.join(", "),
            basic_auth,
        }
    }

    /// The id of `schema` under `subject`: registered when `register` (the registry answers with
    /// the existing id when it has it), else looked up.
    pub(crate) async fn id(
        &self,
        subject: &str,
        schema: &str,
        register: bool,
    ) -> Result<u32, RegistryError> {
        let body = serde_json::json!({ "schema": schema }).to_string();
        let path: &[&str] = if register {
            &["subjects", subject, "versions"]
        } else {
            &["subjects", subject]
        };
        let (status, answer) = self.call(subject, path, Some(body)).await?;
        if status.is_success() {
            return serde_json::from_str::<Registered>(&answer)
                .map(|registered| registered.id)
                .map_err(|_| RegistryError::Refused {
                    subject: subject.to_owned(),
                    status: status.as_u16(),
                    answer: format!("an answer without an id: {answer}"),
                });
        }
        let subject = subject.to_owned();
        Err(match status {
            StatusCode::CONFLICT => {
                let level = self.compatibility(&subject).await;
                RegistryError::Incompatible {
                    subject,
                    level,
                    answer,
                }
            }
            StatusCode::NOT_FOUND if !register => RegistryError::NotRegistered { subject, answer },
            _ => RegistryError::Refused {
                subject,
                status: status.as_u16(),
                answer,
            },
        })
    }

    /// The id of the subject's latest schema when it is `schema` up to docs, defaults and
    /// properties, as `use.latest.version` writes.
    pub(crate) async fn latest_id(
        &self,
        subject: &str,
        schema: &str,
    ) -> Result<u32, RegistryError> {
        let (status, answer) = self
            .call(subject, &["subjects", subject, "versions", "latest"], None)
            .await?;
        if status == StatusCode::NOT_FOUND {
            return Err(RegistryError::NoLatest {
                subject: subject.to_owned(),
                answer,
            });
        }
        let latest = status
            .is_success()
            .then(|| serde_json::from_str::<Latest>(&answer).ok())
            .flatten()
            .ok_or_else(|| RegistryError::Refused {
                subject: subject.to_owned(),
                status: status.as_u16(),
                answer: answer.clone(),
            })?;
        let ours = canonical(schema);
        if ours.is_none() || canonical(&latest.schema) != ours {
            return Err(RegistryError::LatestDiffers {
                subject: subject.to_owned(),
                version: latest.version,
            });
        }
        Ok(latest.id)
    }

    /// The subject's compatibility level (the global one when it has none), or what kept it from
    /// being read.
    async fn compatibility(&self, subject: &str) -> String {
        let read = async {
            let (status, answer) = self.call(subject, &["config", subject], None).await.ok()?;
            if status.is_success() {
                return serde_json::from_str::<Compatibility>(&answer).ok();
            }
            let (_, answer) = self.call(subject, &["config"], None).await.ok()?;
            serde_json::from_str::<Compatibility>(&answer).ok()
        };
        read.await.map_or_else(
            || "unknown: the registry did not say".to_owned(),
            |c| c.level,
        )
    }

    /// One request, to each URL in turn until one answers: its status and body.
    async fn call(
        &self,
        subject: &str,
        path: &[&str],
        body: Option<String>,
    ) -> Result<(StatusCode, String), RegistryError> {
        let client = self.client.as_ref().map_err(|reason| RegistryError::Tls {
            subject: subject.to_owned(),
            reason: reason.clone(),
        })?;
        let mut last = None;
        for base in &self.urls {
            let mut url = base.clone();
            url.path_segments_mut()
                .expect("an http URL has a path")
                .pop_if_empty()
                .extend(path);
            let mut request = match &body {
                Some(body) => client
                    .post(url)
                    .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
                    .body(body.clone()),
                None => client.get(url),
            }
            .header(reqwest::header::ACCEPT, CONTENT_TYPE);
            if let Some((user, password)) = &self.basic_auth {
                request = request.basic_auth(user, Some(password.expose_secret()));
            }
            match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let text = response.text().await.unwrap_or_default();
                    return Ok((status, text));
                }
                Err(err) => last = Some(err),
            }
        }
        let Some(source) = last else {
            return Err(RegistryError::Refused {
                subject: subject.to_owned(),
                status: 0,
                answer: "no valid schema.registry.url to ask".to_owned(),
            });
        };
        Err(RegistryError::Unreachable {
            subject: subject.to_owned(),
            urls: self.names.clone(),
            source,
        })
    }
}

/// Avro's Parsing Canonical Form of `schema`: what decides the bytes (names, types, fields in
/// order, symbols, sizes), without docs, defaults, aliases or properties.
fn canonical(schema: &str) -> Option<String> {
    apache_avro::Schema::parse_str(schema)
        .ok()
        .map(|schema| schema.canonical_form())
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn schemas_that_write_the_same_bytes_have_one_canonical_form() {
        let ours = r#"{"type":"record","name":"Value","namespace":"p.s.t","fields":[{"name":"id","type":"int"},{"name":"note","type":["null","string"],"default":null}],"connect.name":"p.s.t.Value"}"#;
        let documented = r#"{"type":"record","name":"Value","namespace":"p.s.t","doc":"a table","fields":[{"name":"id","type":"int","doc":"the key"},{"name":"note","type":["null","string"]}]}"#;
        let reordered = r#"{"type":"record","name":"Value","namespace":"p.s.t","fields":[{"name":"note","type":["null","string"],"default":null},{"name":"id","type":"int"}]}"#;
        let wider = r#"{"type":"record","name":"Value","namespace":"p.s.t","fields":[{"name":"id","type":"long"},{"name":"note","type":["null","string"],"default":null}]}"#;
        assert!(canonical(ours).is_some());
        assert_eq!(canonical(ours), canonical(documented));
        assert_ne!(canonical(ours), canonical(reordered));
        assert_ne!(canonical(ours), canonical(wider));
        assert_eq!(canonical("not a schema"), None);
    }
}
