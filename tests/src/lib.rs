//! The real services of walbridge's integration tests, as `tests/env/up` exported them.
//!
//! Every accessor panics with the fix when a variable is missing: under the README's test command a
//! test that finds no service fails, it never passes by skipping.

use std::path::PathBuf;
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;

/// Which Kafka-protocol broker the tests talk to; chosen by `WALBRIDGE_TEST_BROKER` (`noida`, the
/// default, or `tansu`), so every Kafka assumption is checked against two implementations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broker {
    Noida,
    Tansu,
}

/// Reads a variable `tests/env/up` exports.
///
/// # Panics
/// When it is not set: the message says how to start the services.
pub fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: start the test services first with `eval \"$(tests/env/up --tansu)\"` \
             (or run ./scripts/test)"
        )
    })
}

pub fn broker() -> Broker {
    match std::env::var("WALBRIDGE_TEST_BROKER").as_deref() {
        Err(_) | Ok("") | Ok("noida") => Broker::Noida,
        Ok("tansu") => Broker::Tansu,
        Ok(other) => panic!("WALBRIDGE_TEST_BROKER={other}: allowed values are noida and tansu"),
    }
}

/// Bootstrap address of the broker under test.
pub fn kafka_bootstrap() -> String {
    match broker() {
        Broker::Noida => var("KAFKA_BOOTSTRAP_SERVERS"),
        Broker::Tansu => var("TANSU_BOOTSTRAP_SERVERS"),
    }
}

/// A name no other test (or earlier run) uses: `<prefix>_<12 hex digits>`, valid as a PostgreSQL
/// identifier, a slot name, a Kafka topic and an S3 key segment.
pub fn unique(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}_{}", &id[..12])
}

/// A superuser connection to the test database; the connection task runs in the background.
pub async fn pg() -> tokio_postgres::Client {
    let mut config = tokio_postgres::Config::new();
    config
        .host(var("PGHOST"))
        .port(var("PGPORT").parse().expect("PGPORT is a port number"))
        .user(var("PGUSER"))
        .password(var("PGPASSWORD"))
        .dbname(var("PGDATABASE"));
    let (client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .expect("connect to the test PostgreSQL");
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            eprintln!("test PostgreSQL connection ended: {err}");
        }
    });
    client
}

/// A Kafka client for the broker under test.
pub async fn kafka() -> rskafka::client::Client {
    rskafka::client::ClientBuilder::new(vec![kafka_bootstrap()])
        .build()
        .await
        .expect("connect to the test Kafka broker")
}

/// Creates a topic with `partitions` partitions, replication factor 1.
pub async fn create_topic(client: &rskafka::client::Client, topic: &str, partitions: i32) {
    client
        .controller_client()
        .expect("controller client")
        .create_topic(topic, partitions, 1, 5_000)
        .await
        .unwrap_or_else(|err| panic!("create topic {topic}: {err}"));
}

/// An S3 client for the test store (endpoint and credentials from the environment, path-style).
pub async fn s3() -> aws_sdk_s3::Client {
    var("AWS_ENDPOINT_URL_S3");
    let shared = aws_config::load_from_env().await;
    let config = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// The bucket `tests/env/up` created.
pub fn bucket() -> String {
    var("WALBRIDGE_S3_BUCKET")
}

/// One record as the independent client (`tests/kafka_read.py`, librdkafka) read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaRecord {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl KafkaRecord {
    /// The key as UTF-8 text.
    pub fn key_str(&self) -> Option<&str> {
        self.key
            .as_deref()
            .map(|k| std::str::from_utf8(k).expect("key is UTF-8"))
    }

    /// The value as UTF-8 text (`None` for a tombstone).
    pub fn value_str(&self) -> Option<&str> {
        self.value
            .as_deref()
            .map(|v| std::str::from_utf8(v).expect("value is UTF-8"))
    }

    /// The value parsed as JSON (`None` for a tombstone).
    pub fn value_json(&self) -> Option<serde_json::Value> {
        self.value
            .as_deref()
            .map(|v| serde_json::from_slice(v).expect("value is JSON"))
    }
}

#[derive(Deserialize)]
struct RawRecord {
    partition: i32,
    offset: i64,
    key: Option<String>,
    value: Option<String>,
    headers: Vec<(String, Option<String>)>,
}

fn unbase64(text: Option<String>) -> Option<Vec<u8>> {
    text.map(|t| BASE64.decode(t).expect("kafka_read.py prints base64"))
}

/// Reads every record of `topic` with the independent client, waiting until it holds at least `min`
/// records; sorted by partition, then offset.
///
/// # Panics
/// When the client fails or the topic stays short of `min` records for 30 s.
pub fn read_topic(topic: &str, min: usize) -> Vec<KafkaRecord> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("kafka_read.py");
    let output = Command::new(var("WALBRIDGE_PYTHON"))
        .arg(script)
        .args(["--bootstrap", &kafka_bootstrap(), "--topic", topic])
        .args(["--min", &min.to_string()])
        .output()
        .expect("run tests/kafka_read.py");
    assert!(
        output.status.success(),
        "kafka_read.py failed for topic {topic}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("kafka_read.py prints UTF-8")
        .lines()
        .map(|line| {
            let raw: RawRecord =
                serde_json::from_str(line).expect("kafka_read.py prints JSON lines");
            KafkaRecord {
                partition: raw.partition,
                offset: raw.offset,
                key: unbase64(raw.key),
                value: unbase64(raw.value),
                headers: raw
                    .headers
                    .into_iter()
                    .map(|(k, v)| (k, unbase64(v)))
                    .collect(),
            }
        })
        .collect()
}
