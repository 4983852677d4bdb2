//! How records are written and how the brokers are reached, from the configuration.

use std::sync::Arc;
use std::time::Duration;

use rskafka::client::partition::Compression;
use rskafka::client::{Credentials, OauthBearerCredentials, SaslConfig};
use rskafka::record::RecordHeader;
use secrecy::ExposeSecret;
use walbridge_config::{KafkaConfig, SaslMechanism};

use crate::bootstrap::Aws;
use crate::tls::{TlsError, Verify, client_config};

/// How records are written, and how the brokers are reached.
#[derive(Clone)]
pub struct SinkSettings {
    /// TLS to the brokers (`kafka.security.protocol` SSL or SASL_SSL).
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// SASL authentication (`kafka.security.protocol` SASL_PLAINTEXT or SASL_SSL).
    pub sasl: Option<SaslConfig>,
    /// `kafka.max.request.size`: no record may be larger.
    pub max_request_size: usize,
    /// Create a missing topic with this many partitions and this replication factor (`-1`: the
    /// broker's default); `None` refuses to publish to a missing topic.
    pub create_topics: Option<(i32, i16)>,
    /// `kafka.compression.type`: the codec of every produced record batch.
    pub compression: Compression,
    /// Uncompressed bytes per produce request to one partition; below the broker's default
    /// `message.max.bytes` (1 MiB) so a batch is never refused for its size.
    pub max_batch_bytes: usize,
    /// How long one publish may take, retries of transient errors included.
    pub timeout: Duration,
    /// Written on every record after its own headers (Debezium's `__debezium.context.*`).
    pub headers: Arc<[RecordHeader]>,
}

/// Without the SASL password: rskafka's `Credentials` print it in clear in their derived `Debug`.
impl std::fmt::Debug for SinkSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|h| h.key.as_ref()).collect();
        f.debug_struct("SinkSettings")
            .field("tls", &self.tls.is_some())
            .field("sasl", &self.sasl.as_ref().map(sasl_identity))
            .field("max_request_size", &self.max_request_size)
            .field("create_topics", &self.create_topics)
            .field("compression", &self.compression)
            .field("max_batch_bytes", &self.max_batch_bytes)
            .field("timeout", &self.timeout)
            .field("headers", &header_names)
            .finish()
    }
}

/// rskafka's codec for `kafka.compression.type`.
fn codec(compression: walbridge_config::Compression) -> Compression {
    match compression {
        walbridge_config::Compression::None => Compression::NoCompression,
        walbridge_config::Compression::Gzip => Compression::Gzip,
        walbridge_config::Compression::Snappy => Compression::Snappy,
        walbridge_config::Compression::Lz4 => Compression::Lz4,
        walbridge_config::Compression::Zstd => Compression::Zstd,
    }
}

/// The mechanism and user name of a SASL configuration: what may be shown of it.
fn sasl_identity(sasl: &SaslConfig) -> String {
    let (mechanism, credentials) = match sasl {
        SaslConfig::Plain(credentials) => ("PLAIN", Some(credentials)),
        SaslConfig::ScramSha256(credentials) => ("SCRAM-SHA-256", Some(credentials)),
        SaslConfig::ScramSha512(credentials) => ("SCRAM-SHA-512", Some(credentials)),
        SaslConfig::Oauthbearer(_) => ("OAUTHBEARER", None),
    };
    match credentials {
        Some(credentials) => format!("{mechanism} as {}", credentials.username),
        None => mechanism.to_owned(),
    }
}

impl Default for SinkSettings {
    fn default() -> Self {
        Self {
            tls: None,
            sasl: None,
            max_request_size: 1_048_576,
            create_topics: Some((1, -1)),
            compression: codec(walbridge_config::Compression::default()),
            max_batch_bytes: 900 * 1024,
            timeout: Duration::from_secs(60),
            headers: Arc::new([]),
        }
    }
}

impl SinkSettings {
    /// The settings `config` asks for: security, compression, sizes, topic creation.
    ///
    /// # Errors
    /// A [`TlsError`] when the CA file cannot be read.
    pub fn from_config(config: &KafkaConfig, aws: &Aws) -> Result<Self, TlsError> {
        let tls = match &config.tls {
            Some(tls) => Some(Arc::new(client_config(
                tls.ca_file.as_deref(),
                Verify::ChainAndHost,
            )?)),
            None => None,
        };
        let sasl = config.sasl.as_ref().map(|sasl| {
            let credentials = Credentials::new(
                sasl.username.clone(),
                sasl.password.expose_secret().to_owned(),
            );
            match sasl.mechanism {
                SaslMechanism::Plain => SaslConfig::Plain(credentials),
                SaslMechanism::ScramSha256 => SaslConfig::ScramSha256(credentials),
                SaslMechanism::ScramSha512 => SaslConfig::ScramSha512(credentials),
                SaslMechanism::AwsMskIam => SaslConfig::Oauthbearer(OauthBearerCredentials {
                    callback: Arc::new({
                        let aws = aws.clone();
                        move || {
                            let aws = aws.clone();
                            Box::pin(async move { msk_iam_token(aws.config().await).await })
                        }
                    }),
                    authz_id: None,
                    bearer_kvs: Vec::new(),
                }),
            }
        });
        Ok(Self {
            tls,
            sasl,
            max_request_size: config.max_request_size,
            create_topics: config.create_topics,
            compression: codec(config.compression),
            // Room for the request's and the batch's own framing within the broker's limit.
            max_batch_bytes: config.max_request_size - config.max_request_size / 10,
            timeout: config.publish_timeout,
            headers: Arc::new([]),
        })
    }
}

/// Amazon MSK's IAM token: a `kafka-cluster:Connect` request presigned with SigV4 (AWS's signer
/// library), with `aws`'s region and credentials — the function's execution role on Lambda. rskafka
/// asks for one at each authentication, so an expired token is never reused.
///
/// # Errors
/// When there is no region or no credentials, or signing fails.
pub async fn msk_iam_token(
    aws: &aws_config::SdkConfig,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let region = aws
        .region()
        .cloned()
        .ok_or("MSK IAM needs an AWS region: set AWS_REGION")?;
    let credentials = aws
        .credentials_provider()
        .ok_or("MSK IAM needs AWS credentials (the function's execution role)")?;
    let (token, _expires_ms) =
        aws_msk_iam_sasl_signer::generate_auth_token_from_credentials_provider(region, credentials)
            .await?;
    Ok(token)
}
