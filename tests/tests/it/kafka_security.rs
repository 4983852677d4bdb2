//! Kafka security against Apache Kafka itself: the suite's broker (`tests/env/up`) has an SSL
//! listener and a SASL_SSL listener (SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN, user `walbridge`) whose
//! server certificate names `localhost` and is signed by a CA the env generated. walbridge's client
//! does TLS (custom CA, host name checked) and each SASL mechanism end to end, through the relay;
//! what it published is then read back over PLAINTEXT by the independent client (librdkafka).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use walbridge_config::{Config, KafkaConfig};
use walbridge_relay::error_chain;
use walbridge_relay::kafka::{KafkaSink, SinkSettings};
use walbridge_tests::{self as env, TestCa};

use crate::case::{Case, invoke};

const MECHANISMS: [&str; 3] = ["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"];

/// The broker's secured listeners, as `tests/env/up` exported them.
struct Listeners {
    /// `localhost:<port>` of the SSL listener.
    ssl: String,
    /// `localhost:<port>` of the SASL_SSL listener.
    sasl_ssl: String,
    ca_file: PathBuf,
    user: String,
    password: String,
}

fn listeners() -> Listeners {
    Listeners {
        ssl: env::var("WALBRIDGE_TEST_KAFKA_SSL"),
        sasl_ssl: env::var("WALBRIDGE_TEST_KAFKA_SASL_SSL"),
        ca_file: PathBuf::from(env::var("WALBRIDGE_TEST_KAFKA_CA")),
        user: env::var("WALBRIDGE_TEST_KAFKA_USER"),
        password: env::var("WALBRIDGE_TEST_KAFKA_PASSWORD"),
    }
}

/// `localhost:<port>` with another host name for the same port.
fn with_host(address: &str, host: &str) -> String {
    let (_, port) = address.rsplit_once(':').expect("host:port");
    format!("{host}:{port}")
}

impl Listeners {
    /// The `kafka.*` properties of SASL_SSL with `mechanism`, `password`, trusting `ca_file`, with
    /// `host` as the bootstrap host name.
    fn sasl_ssl(
        &self,
        mechanism: &str,
        host: &str,
        ca_file: &Path,
        password: &str,
    ) -> Vec<(String, String)> {
        [
            ("kafka.bootstrap.servers", with_host(&self.sasl_ssl, host)),
            ("kafka.security.protocol", "SASL_SSL".to_owned()),
            (
                "kafka.ssl.truststore.location",
                ca_file.display().to_string(),
            ),
            ("kafka.sasl.mechanism", mechanism.to_owned()),
            ("kafka.sasl.username", self.user.clone()),
            ("kafka.sasl.password", password.to_owned()),
            ("kafka.publish.timeout.ms", "3000".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// The `kafka.*` properties of SSL (no SASL), trusting `ca_file`.
    fn ssl(&self, host: &str, ca_file: &Path) -> Vec<(String, String)> {
        [
            ("kafka.bootstrap.servers", with_host(&self.ssl, host)),
            ("kafka.security.protocol", "SSL".to_owned()),
            (
                "kafka.ssl.truststore.location",
                ca_file.display().to_string(),
            ),
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
        let settings = SinkSettings::from_config(config, &walbridge_relay::Aws::default())
            .map_err(|err| error_chain(&err))?;
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

/// Relays 40 inserted rows with the `kafka.*` properties `security`, then reads the topic back over
/// PLAINTEXT with the independent client and checks every event arrived once.
async fn relay_through(name: &str, security: &[(String, String)], compression: &str) {
    let case = Case::new(name, "CREATE TABLE {s}.t(id int PRIMARY KEY, v text)").await;
    case.sql("INSERT INTO {s}.t SELECT i, 'row ' || i FROM generate_series(1, 40) i")
        .await;
    let mut extra: Vec<(&str, &str)> = security
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    extra.push(("kafka.compression.type", compression));
    extra.push(("kafka.publish.timeout.ms", "30000"));
    let report = invoke(case.config(&extra)).await;
    assert_eq!(report.events, 40, "{name}: {report:?}");

    let records = env::read_topic_from(&env::var("KAFKA_BOOTSTRAP_SERVERS"), &case.topic("t"), 40);
    let mut ids: Vec<i64> = records
        .iter()
        .map(|r| {
            let value = r.value_json().expect("no tombstones");
            assert_eq!(value["op"], "c", "{name}: {value}");
            assert_eq!(
                value["after"]["v"],
                format!("row {}", value["after"]["id"]),
                "{name}"
            );
            value["after"]["id"].as_i64().unwrap()
        })
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=40).collect::<Vec<_>>(), "{name}: each row once");
    case.drop_slot().await;
}

#[tokio::test]
async fn the_relay_publishes_over_sasl_ssl_with_each_mechanism_through_a_custom_ca() {
    let secure = listeners();
    for (mechanism, compression) in MECHANISMS.into_iter().zip(["gzip", "zstd", "lz4"]) {
        let properties = secure.sasl_ssl(mechanism, "localhost", &secure.ca_file, &secure.password);
        let name = format!("kafka_sasl_{}", mechanism.replace('-', "_").to_lowercase());
        // Boxed: the relay's future is large for a test's stack.
        Box::pin(relay_through(&name, &properties, compression)).await;
    }
}

#[tokio::test]
async fn the_relay_publishes_over_ssl_through_a_custom_ca() {
    let secure = listeners();
    Box::pin(relay_through(
        "kafka_ssl",
        &secure.ssl("localhost", &secure.ca_file),
        "none",
    ))
    .await;
}

#[tokio::test]
async fn a_wrong_password_host_name_or_ca_is_refused_with_the_reason() {
    let secure = listeners();
    let scratch = PathBuf::from(env::var("WALBRIDGE_ENV_DIR"))
        .join("private")
        .join(env::unique("kafka_security"));
    std::fs::create_dir_all(&scratch).unwrap();
    let other_ca_file = scratch.join("other-ca.pem");
    std::fs::write(&other_ca_file, TestCa::new("another CA").pem()).unwrap();

    let wrong = "wrong-password-4242";
    for mechanism in MECHANISMS {
        let ok = kafka_config(&secure.sasl_ssl(
            mechanism,
            "localhost",
            &secure.ca_file,
            &secure.password,
        ));
        list_topics(&ok)
            .await
            .unwrap_or_else(|err| panic!("{mechanism}: the right settings connect: {err}"));

        let err = list_topics(&kafka_config(&secure.sasl_ssl(
            mechanism,
            "localhost",
            &secure.ca_file,
            wrong,
        )))
        .await
        .expect_err("a wrong password is refused");
        eprintln!("{mechanism}, wrong password: {err}");
        assert!(
            !err.contains(wrong) && !err.contains(&secure.password),
            "{err}"
        );
        assert!(
            err.to_lowercase().contains("sasl") || err.to_lowercase().contains("auth"),
            "{err}"
        );
    }

    let err = list_topics(&kafka_config(&secure.sasl_ssl(
        "SCRAM-SHA-512",
        "127.0.0.1",
        &secure.ca_file,
        &secure.password,
    )))
    .await
    .expect_err("the certificate names localhost, not 127.0.0.1");
    eprintln!("other host name: {err}");
    assert!(err.contains("not valid for name"), "{err}");

    for (listener, properties) in [
        (
            "SASL_SSL",
            secure.sasl_ssl(
                "SCRAM-SHA-256",
                "localhost",
                &other_ca_file,
                &secure.password,
            ),
        ),
        ("SSL", secure.ssl("localhost", &other_ca_file)),
    ] {
        let err = list_topics(&kafka_config(&properties))
            .await
            .expect_err("a certificate of an untrusted CA is refused");
        eprintln!("{listener}, other CA: {err}");
        assert!(err.contains("UnknownIssuer"), "{err}");
    }
    list_topics(&kafka_config(&secure.ssl("localhost", &secure.ca_file)))
        .await
        .expect("SSL with the right CA connects");

    // MSK IAM sends OAUTHBEARER with a SigV4 token; this broker does not enable OAUTHBEARER, so it
    // refuses at the SASL handshake: the client side goes as far as this broker can take it.
    let mut iam = secure.sasl_ssl(
        "SCRAM-SHA-512",
        "localhost",
        &secure.ca_file,
        &secure.password,
    );
    iam.retain(|(key, _)| !key.starts_with("kafka.sasl."));
    iam.push(("kafka.sasl.mechanism".to_owned(), "AWS_MSK_IAM".to_owned()));
    let err = list_topics(&kafka_config(&iam))
        .await
        .expect_err("the broker does not offer OAUTHBEARER");
    eprintln!("MSK IAM against a broker without OAUTHBEARER: {err}");
    assert!(err.contains("Sasl"), "{err}");

    let missing = Path::new("/nonexistent/kafka-ca.pem");
    let err = list_topics(&kafka_config(&secure.sasl_ssl(
        "SCRAM-SHA-512",
        "localhost",
        missing,
        &secure.password,
    )))
    .await
    .expect_err("a missing CA file is named");
    assert!(err.contains("/nonexistent/kafka-ca.pem"), "{err}");
}
