//! Kafka security for real, as far as the test brokers allow. noida-db speaks neither TLS nor SASL.
//! tansu 0.6.0 authenticates with SASL SCRAM-SHA-512 (users it stores), but its TLS flags cannot be
//! used (`--cert` and `--key` are declared mutually exclusive), so TLS is terminated by a proxy of
//! the test's own — rustls, with a certificate for `localhost` from a CA the test generates — in
//! front of tansu, which advertises the proxy's address. walbridge's client thus does TLS (custom CA,
//! host name checked) and SCRAM end to end, through the relay.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use walbridge_config::{Config, KafkaConfig};
use walbridge_relay::error_chain;
use walbridge_relay::publish::{KafkaSink, SinkSettings};
use walbridge_tests::{PrivateService, TestCa};

use crate::case::{Case, invoke};

const USER: &str = "walbridge";
const PASSWORD: &str = "scram-test-password-0815";

/// A TLS-terminating proxy on 127.0.0.1 in front of a plain-TCP broker; stops when dropped.
struct TlsProxy {
    port: u16,
    task: JoinHandle<()>,
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn tls_proxy(ca: &TestCa, upstream: u16) -> TlsProxy {
    let (cert, key) = ca.server_cert(&["localhost"]);
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()],
        PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that refuses our certificate ends its handshake here: nothing to relay.
                let Ok(mut client) = acceptor.accept(client).await else {
                    return;
                };
                let Ok(mut broker) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut client, &mut broker).await;
            });
        }
    });
    TlsProxy { port, task }
}

/// A tansu broker that requires SCRAM (user `USER`), behind a TLS proxy it advertises.
struct SecureBroker {
    _broker: PrivateService,
    proxy: TlsProxy,
    ca_file: PathBuf,
    other_ca_file: PathBuf,
}

async fn secure_broker() -> SecureBroker {
    let mut broker = PrivateService::tansu(None, &[]);
    broker.start();
    // Users are created through the broker, before it requires authentication.
    let created = std::process::Command::new(PrivateService::tansu_bin())
        .args(["user", "create", "--broker"])
        .arg(format!("tcp://{}", broker.bootstrap()))
        .args([USER, PASSWORD])
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    broker.stop();

    let ca = TestCa::new("walbridge test Kafka CA");
    let proxy = tls_proxy(&ca, broker.port).await;
    broker.set_tansu_flags(
        Some(&format!("localhost:{}", proxy.port)),
        &["--authentication"],
    );
    broker.start();
    let ca_file = broker.dir.join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let other_ca_file = broker.dir.join("other-ca.pem");
    std::fs::write(&other_ca_file, TestCa::new("another CA").pem()).unwrap();
    SecureBroker {
        _broker: broker,
        proxy,
        ca_file,
        other_ca_file,
    }
}

impl SecureBroker {
    fn properties(
        &self,
        host: &str,
        ca_file: &std::path::Path,
        password: &str,
    ) -> Vec<(String, String)> {
        [
            (
                "kafka.bootstrap.servers",
                format!("{host}:{}", self.proxy.port),
            ),
            ("kafka.security.protocol", "SASL_SSL".to_owned()),
            (
                "kafka.ssl.truststore.location",
                ca_file.display().to_string(),
            ),
            ("kafka.sasl.mechanism", "SCRAM-SHA-512".to_owned()),
            ("kafka.sasl.username", USER.to_owned()),
            ("kafka.sasl.password", password.to_owned()),
            ("kafka.publish.timeout.ms", "3000".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

/// Only the Kafka half of a configuration.
fn kafka_config(properties: &[(String, String)]) -> KafkaConfig {
    let mut props = walbridge_config::Properties::default();
    for (key, value) in [
        ("database.hostname", "127.0.0.1"),
        ("database.user", "unused"),
        ("database.dbname", "unused"),
        ("topic.prefix", "unused"),
        ("checkpoint.uri", "file:///tmp/unused.json"),
    ] {
        props.set(key, value);
    }
    for (key, value) in properties {
        props.set(key, value);
    }
    Config::from_sources(props, &BTreeMap::new())
        .expect("valid configuration")
        .kafka
}

/// Connects as the relay does and lists the topics; the error as a person reads it.
async fn list_topics(config: &KafkaConfig) -> Result<usize, String> {
    let attempt = async {
        let settings = SinkSettings::from_config(config).map_err(|err| error_chain(&err))?;
        let sink = KafkaSink::connect(&config.bootstrap_servers, settings)
            .await
            .map_err(|err| error_chain(&err))?;
        sink.topics()
            .await
            .map(|topics| topics.len())
            .map_err(|err| error_chain(&err))
    };
    tokio::time::timeout(Duration::from_secs(30), attempt)
        .await
        .unwrap_or_else(|_| Err("timed out".to_owned()))
}

#[tokio::test]
async fn the_relay_publishes_over_tls_with_scram_through_a_custom_ca() {
    let secure = secure_broker().await;
    let case = Case::new(
        "kafka_sasl_tls",
        "CREATE TABLE {s}.t(id int PRIMARY KEY, v text)",
    )
    .await;
    case.sql("INSERT INTO {s}.t SELECT i, 'row ' || i FROM generate_series(1, 40) i")
        .await;
    let properties = secure.properties("localhost", &secure.ca_file, PASSWORD);
    let mut extra: Vec<(&str, &str)> = properties
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    extra.push(("kafka.compression.type", "gzip"));
    extra.push(("kafka.publish.timeout.ms", "30000"));
    let config = case.config(&extra);
    let kafka = config.kafka.clone();
    let report = invoke(config).await;
    assert_eq!(report.events, 40, "{report:?}");

    // Read back through the same TLS and SCRAM settings.
    let settings = SinkSettings::from_config(&kafka).unwrap();
    let client = rskafka::client::ClientBuilder::new(kafka.bootstrap_servers.clone())
        .tls_config(settings.tls.clone().unwrap())
        .sasl_config(settings.sasl.clone().unwrap())
        .build()
        .await
        .expect("connect with TLS and SCRAM");
    let topic = case.topic("t");
    let mut values = Vec::new();
    for partition in 0..3 {
        let partition = client
            .partition_client(
                topic.clone(),
                partition,
                rskafka::client::partition::UnknownTopicHandling::Error,
            )
            .await
            .unwrap();
        let (records, _) = partition
            .fetch_records(0, 1..10_000_000, 100)
            .await
            .unwrap();
        values.extend(records.into_iter().filter_map(|r| r.record.value));
    }
    assert_eq!(values.len(), 40);
    assert!(
        values
            .iter()
            .all(|v| String::from_utf8_lossy(v).contains("\"op\":\"r\"")
                || String::from_utf8_lossy(v).contains("\"op\":\"c\""))
    );
    case.drop_slot().await;
}

#[tokio::test]
async fn a_wrong_password_host_name_or_ca_is_refused_with_the_reason() {
    let secure = secure_broker().await;
    let ok = kafka_config(&secure.properties("localhost", &secure.ca_file, PASSWORD));
    list_topics(&ok).await.expect("the right settings connect");

    let wrong = "wrong-password-4242";
    let err = list_topics(&kafka_config(&secure.properties(
        "localhost",
        &secure.ca_file,
        wrong,
    )))
    .await
    .expect_err("a wrong password is refused");
    eprintln!("wrong password: {err}");
    assert!(!err.contains(wrong) && !err.contains(PASSWORD), "{err}");
    assert!(
        err.to_lowercase().contains("sasl") || err.to_lowercase().contains("auth"),
        "{err}"
    );

    let err = list_topics(&kafka_config(&secure.properties(
        "127.0.0.1",
        &secure.ca_file,
        PASSWORD,
    )))
    .await
    .expect_err("the certificate names localhost, not 127.0.0.1");
    eprintln!("other host name: {err}");
    assert!(err.contains("not valid for name"), "{err}");

    let err = list_topics(&kafka_config(&secure.properties(
        "localhost",
        &secure.other_ca_file,
        PASSWORD,
    )))
    .await
    .expect_err("a certificate of an untrusted CA is refused");
    eprintln!("other CA: {err}");
    assert!(err.contains("UnknownIssuer"), "{err}");

    // MSK IAM sends OAUTHBEARER with a SigV4 token; tansu has no OAUTHBEARER, so it refuses at the
    // SASL handshake: the client side goes as far as this broker can take it.
    let mut iam = secure.properties("localhost", &secure.ca_file, PASSWORD);
    iam.retain(|(key, _)| !key.starts_with("kafka.sasl."));
    iam.push(("kafka.sasl.mechanism".to_owned(), "AWS_MSK_IAM".to_owned()));
    let err = list_topics(&kafka_config(&iam))
        .await
        .expect_err("tansu does not offer OAUTHBEARER");
    eprintln!("MSK IAM against tansu: {err}");
    assert!(err.contains("Sasl"), "{err}");

    let missing = std::path::Path::new("/nonexistent/kafka-ca.pem");
    let err = list_topics(&kafka_config(&secure.properties(
        "localhost",
        missing,
        PASSWORD,
    )))
    .await
    .expect_err("a missing CA file is named");
    assert!(err.contains("/nonexistent/kafka-ca.pem"), "{err}");
}
