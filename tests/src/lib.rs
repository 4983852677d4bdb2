//! The real services of walbridge's integration tests, as `tests/env/up` exported them.
//!
//! Every accessor panics with the fix when a variable is missing: under the README's test command a
//! test that finds no service fails, it never passes by skipping.

use std::path::PathBuf;
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;

mod cleanup;
mod connect;
mod postgres;
pub use cleanup::PgCleanup;
pub use connect::{Answer, DebeziumConnector, KafkaConnect, POSTGRES_CONNECTOR_CLASS, Referee};
pub use postgres::PrivatePostgres;

/// Which Kafka-protocol broker the tests talk to; chosen by `WALBRIDGE_TEST_BROKER`: `kafka` (the
/// default, Apache Kafka), `noida` (noida-db, the second, independent implementation `./scripts/test`
/// runs the Kafka-facing tests against) or `tansu` (optional, `tests/env/up --tansu`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broker {
    /// Apache Kafka, the reference implementation.
    Kafka,
    /// noida-db: a second, independent implementation of the Kafka protocol.
    Noida,
    /// Tansu: a third implementation, optional.
    Tansu,
}

/// Reads a variable `tests/env/up` exports.
///
/// # Panics
/// When it is not set: the message says how to start the services.
pub fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: start the test services first with `eval \"$(tests/env/up)\"` \
             (or run ./scripts/test)"
        )
    })
}

/// The broker this run talks to (`WALBRIDGE_TEST_BROKER`).
///
/// # Panics
/// When the variable names no broker the tests know.
pub fn broker() -> Broker {
    match std::env::var("WALBRIDGE_TEST_BROKER").as_deref() {
        Err(_) | Ok("") | Ok("kafka") => Broker::Kafka,
        Ok("noida") => Broker::Noida,
        Ok("tansu") => Broker::Tansu,
        Ok(other) => {
            panic!("WALBRIDGE_TEST_BROKER={other}: allowed values are kafka, noida and tansu")
        }
    }
}

/// Bootstrap address of the broker under test.
pub fn kafka_bootstrap() -> String {
    match broker() {
        Broker::Kafka => var("KAFKA_BOOTSTRAP_SERVERS"),
        Broker::Noida => var("NOIDA_BOOTSTRAP_SERVERS"),
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

/// An S3 client for a store of a test's own (see [`PrivateService::seaweedfs`]).
pub async fn s3_at(endpoint: &str) -> aws_sdk_s3::Client {
    let shared = aws_config::load_from_env().await;
    let config = aws_sdk_s3::config::Builder::from(&shared)
        .endpoint_url(endpoint)
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
    /// The partition it was read from.
    pub partition: i32,
    /// Its offset in that partition.
    pub offset: i64,
    /// The key's bytes; `None` for a record without a key.
    pub key: Option<Vec<u8>>,
    /// The value's bytes; `None` for a tombstone.
    pub value: Option<Vec<u8>>,
    /// Every header in the order written, a `None` value being a null header.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// Its Kafka timestamp (ms since the epoch).
    pub timestamp: i64,
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
    timestamp: i64,
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
    read_topic_at(&kafka_bootstrap(), topic, min, None)
}

/// As [`read_topic`], each Avro key and value decoded by confluent-kafka's `AvroDeserializer`
/// against the schema registry at `SCHEMA_REGISTRY_URL`, as JSON (decimals as strings, bytes as
/// base64).
pub fn read_avro_topic(topic: &str, min: usize) -> Vec<KafkaRecord> {
    read_topic_at(
        &kafka_bootstrap(),
        topic,
        min,
        Some(&var("SCHEMA_REGISTRY_URL")),
    )
}

fn read_topic_at(
    bootstrap: &str,
    topic: &str,
    min: usize,
    registry: Option<&str>,
) -> Vec<KafkaRecord> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("kafka_read.py");
    let mut command = Command::new(var("WALBRIDGE_PYTHON"));
    command
        .arg(script)
        .args(["--bootstrap", bootstrap, "--topic", topic])
        .args(["--min", &min.to_string()]);
    if let Some(url) = registry {
        command.args(["--avro", url]);
    }
    let output = command.output().expect("run tests/kafka_read.py");
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
                timestamp: raw.timestamp,
            }
        })
        .collect()
}

/// Reads `topic` from another broker than the one under test (see [`read_topic`]).
pub fn read_topic_from(bootstrap: &str, topic: &str, min: usize) -> Vec<KafkaRecord> {
    read_topic_at(bootstrap, topic, min, None)
}

/// The `walbridge` binary (`cargo build -p walbridge`; `./scripts/test` builds it first).
pub fn walbridge_bin() -> PathBuf {
    let path = std::env::var_os("WALBRIDGE_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/walbridge"),
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "{} does not exist: run `cargo build -p walbridge` first",
        path.display()
    );
    path
}

/// A TCP port on 127.0.0.1 nobody listens on now, below the kernel's range of ephemeral ports:
/// the crash tests stop a private service and start it again on the same port, which an outgoing
/// connection of any process may take meanwhile when it lies in that range (seen in a long run:
/// SeaweedFS could not listen on its S3 port again). Never the same port twice in one test process.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let ephemeral_from = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let mut given = GIVEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if ephemeral_from > 11_000 {
        let span = u128::from(ephemeral_from - 10_000);
        for _ in 0..500 {
            let port = 10_000 + (uuid::Uuid::new_v4().as_u128() % span) as u16;
            if !given.contains(&port) && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
                given.push(port);
                return port;
            }
        }
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free port")
        .port();
    given.push(port);
    port
}

/// A service process of a test's own (a broker or an object store it can stop and start again
/// without disturbing other tests), in its own process group so a stop reaches the launcher's children.
#[derive(Debug)]
pub struct PrivateService {
    name: &'static str,
    program: PathBuf,
    args: Vec<String>,
    /// The port it serves on (the broker's listener, or the S3 API), free when it was chosen.
    pub port: u16,
    /// The test's own directory: the service's data and its log.
    pub dir: PathBuf,
    child: Option<std::process::Child>,
}

impl PrivateService {
    fn tool(name: &str) -> PathBuf {
        let python = PathBuf::from(var("WALBRIDGE_PYTHON"));
        python.parent().expect("venv bin directory").join(name)
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = PathBuf::from(var("WALBRIDGE_ENV_DIR"))
            .join("private")
            .join(unique(name));
        std::fs::create_dir_all(&dir).expect("create a scratch directory");
        dir
    }

    /// A noida-db Kafka-protocol broker of its own.
    pub fn noida() -> Self {
        let port = free_port();
        let dir = Self::scratch("noida");
        let args = vec![
            "start".into(),
            "--data-dir".into(),
            dir.join("data").display().to_string(),
            "--host".into(),
            "127.0.0.1".into(),
            "--only".into(),
            "kafka".into(),
            "--kafka-port".into(),
            port.to_string(),
        ];
        Self {
            name: "noida-db",
            program: Self::tool("noida-db"),
            args,
            port,
            dir,
            child: None,
        }
    }

    /// moto's server: a local emulator of AWS APIs (Secrets Manager and SSM here), in memory, that
    /// checks no credentials.
    pub fn moto() -> Self {
        let port = free_port();
        Self {
            name: "moto",
            program: Self::tool("moto_server"),
            args: vec![
                "-H".into(),
                "127.0.0.1".into(),
                "-p".into(),
                port.to_string(),
            ],
            port,
            dir: Self::scratch("moto"),
            child: None,
        }
    }

    /// An Apache Kafka broker of its own: one KRaft node (broker and controller) on PLAINTEXT, from
    /// the jars `tests/env/up` fetched (`WALBRIDGE_KAFKA_LIBS`), its storage formatted here. Like the
    /// suite's broker it keeps acknowledged records across a clean stop and a SIGKILL (`acks=all`
    /// waits for the single replica, which flushes on shutdown; after a SIGKILL the log is recovered
    /// from the page cache, which a killed process does not lose).
    pub fn kafka() -> Self {
        Self::kafka_advertising(None)
    }

    /// As [`PrivateService::kafka`], telling clients to reach it at `advertised` (a proxy's port)
    /// rather than at the port it listens on.
    pub fn kafka_advertising(advertised: Option<u16>) -> Self {
        let port = free_port();
        let advertised = advertised.unwrap_or(port);
        let controller = free_port();
        let dir = Self::scratch("kafka");
        let properties = format!(
            "process.roles=broker,controller\nnode.id=1\n\
             controller.quorum.voters=1@127.0.0.1:{controller}\ncontroller.listener.names=CONTROLLER\n\
             listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}\n\
             advertised.listeners=PLAINTEXT://127.0.0.1:{advertised}\n\
             listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n\
             inter.broker.listener.name=PLAINTEXT\nlog.dirs={}\nnum.partitions=1\n\
             num.network.threads=2\nnum.io.threads=2\n\
             offsets.topic.replication.factor=1\noffsets.topic.num.partitions=1\n\
             transaction.state.log.replication.factor=1\ntransaction.state.log.min.isr=1\n\
             transaction.state.log.num.partitions=1\n\
             share.coordinator.state.topic.replication.factor=1\nshare.coordinator.state.topic.min.isr=1\n\
             group.initial.rebalance.delay.ms=0\n",
            dir.join("data").display()
        );
        std::fs::write(dir.join("server.properties"), properties).expect("write server.properties");
        let java_args = |heap: &str| {
            vec![
                format!("-Xmx{heap}"),
                format!(
                    "-Dlog4j2.configurationFile={}",
                    Self::kafka_log4j().display()
                ),
                "-cp".to_owned(),
                format!("{}/*", var("WALBRIDGE_KAFKA_LIBS")),
            ]
        };
        let mut format = Command::new("java");
        format
            .args(java_args("256m"))
            .args(["kafka.tools.StorageTool", "format", "--cluster-id"])
            .arg(kafka_cluster_id())
            .arg("--config")
            .arg(dir.join("server.properties"));
        let output = format.output().expect("run java (Kafka's storage tool)");
        assert!(
            output.status.success(),
            "formatting a private Kafka's storage failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let mut args = java_args("384m");
        args.extend([
            // a test broker restarted tens of times: the client compiler and the serial collector
            // halve its start (about 4 s instead of 7-9 s here); it serves little load
            "-XX:TieredStopAtLevel=1".to_owned(),
            "-XX:+UseSerialGC".to_owned(),
            "kafka.Kafka".to_owned(),
            dir.join("server.properties").display().to_string(),
        ]);
        Self {
            name: "kafka",
            program: PathBuf::from("java"),
            args,
            port,
            dir,
            child: None,
        }
    }

    fn kafka_log4j() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("env/kafka/log4j2.properties")
    }

    /// A SeaweedFS S3 store of its own, with the test identity and bucket.
    pub fn seaweedfs() -> Self {
        let port = free_port();
        let dir = Self::scratch("seaweedfs");
        let identity = serde_json::json!({"identities": [{
            "name": "walbridge",
            "credentials": [{"accessKey": var("AWS_ACCESS_KEY_ID"), "secretKey": var("AWS_SECRET_ACCESS_KEY")}],
            "actions": ["Admin", "Read", "Write", "List"],
        }]});
        std::fs::write(dir.join("s3.json"), identity.to_string()).expect("write s3.json");
        let mut args = vec![
            "mini".to_owned(),
            format!("-dir={}", dir.join("data").display()),
            "-ip=127.0.0.1".into(),
            "-ip.bind=127.0.0.1".into(),
            "-master.telemetry=false".into(),
            "-admin.ui=false".into(),
            "-webdav=false".into(),
            "-s3.port.iceberg=0".into(),
            "-s3.port.lance=0".into(),
            format!("-s3.port={port}"),
            format!("-s3.config={}", dir.join("s3.json").display()),
            format!("-bucket={}", bucket()),
        ];
        for flag in [
            "s3.port.grpc",
            "master.port",
            "master.port.grpc",
            "volume.port",
            "volume.port.grpc",
            "filer.port",
            "filer.port.grpc",
        ] {
            args.push(format!("-{flag}={}", free_port()));
        }
        std::fs::create_dir_all(dir.join("data")).expect("create the data directory");
        Self {
            name: "seaweedfs",
            program: Self::tool("weed"),
            args,
            port,
            dir,
            child: None,
        }
    }

    /// This SeaweedFS also serving requests that carry no signature (SeaweedFS's `anonymous`
    /// identity), so that a test's proxy may change a request once it has dropped its signature.
    pub fn with_anonymous_access(self) -> Self {
        let identities = serde_json::json!({"identities": [
            {
                "name": "walbridge",
                "credentials": [{"accessKey": var("AWS_ACCESS_KEY_ID"), "secretKey": var("AWS_SECRET_ACCESS_KEY")}],
                "actions": ["Admin", "Read", "Write", "List"],
            },
            {"name": "anonymous", "actions": ["Admin", "Read", "Write", "List"]},
        ]});
        std::fs::write(self.dir.join("s3.json"), identities.to_string()).expect("write s3.json");
        self
    }

    /// The S3 endpoint of an object store, for `checkpoint.s3.endpoint.url`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The program this service runs: `noida-db`, `kafka`, `seaweedfs` or `moto`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The `host:port` of a broker, for `kafka.bootstrap.servers`.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts the process and waits until its port accepts connections.
    pub fn start(&mut self) {
        use std::os::unix::process::CommandExt as _;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("log"))
            .expect("open the service log");
        let child = Command::new(&self.program)
            .args(&self.args)
            .current_dir(&self.dir)
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|err| panic!("start {}: {err}", self.name));
        self.child = Some(child);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "{} did not listen on {} (log: {})",
                self.name,
                self.port,
                self.dir.join("log").display()
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Kills the process group with SIGKILL (no shutdown of any kind) and waits until every process
    /// of it has exited.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let group = child.id();
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{group}")])
                .status();
            let _ = child.wait();
            while group_alive(group) {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }

    /// Stops the process group with SIGTERM (a clean shutdown that keeps the data) and waits until
    /// every process of it has exited: noida-db closes its port first and saves its state after, so
    /// a broker started again before that would lose acknowledged records to the old one's save.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let group = child.id();
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{group}")])
                .status();
            let _ = child.wait();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while group_alive(group) {
                if std::time::Instant::now() > deadline {
                    let _ = Command::new("kill")
                        .args(["-KILL", "--", &format!("-{group}")])
                        .status();
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
    }
}

/// A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (as `kafka-storage
/// random-uuid` prints), never starting with `-`, which the storage tool would read as an option (Kafka
/// draws again in that case too).
fn kafka_cluster_id() -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    loop {
        let id = URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes());
        if !id.starts_with('-') {
            return id;
        }
    }
}

/// Whether a process of process group `group` still runs (zombies left to init do not count).
fn group_alive(group: u32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|entry| {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            return false;
        };
        // pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its closing paren
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        fields.first().is_some_and(|state| *state != "Z")
            && fields.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(group)
    })
}

impl Drop for PrivateService {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A certificate authority of a test's own, and the server certificates it signs: TLS tested with
/// real certificates, none of them checked in.
#[derive(Debug)]
pub struct TestCa {
    issuer: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
}

impl TestCa {
    /// A new self-signed CA whose certificate names `name` as its common name.
    pub fn new(name: &str) -> Self {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let key = rcgen::KeyPair::generate().expect("CA key");
        Self {
            issuer: rcgen::CertifiedIssuer::self_signed(params, key).expect("CA certificate"),
        }
    }

    /// The CA certificate, PEM.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `names` (DNS names or IP addresses) and its key, both PEM.
    pub fn server_cert(&self, names: &[&str]) -> (String, String) {
        let mut params = rcgen::CertificateParams::new(
            names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>(),
        )
        .expect("server params");
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, names[0]);
        let key = rcgen::KeyPair::generate().expect("server key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("server certificate");
        (cert.pem(), key.serialize_pem())
    }
}
