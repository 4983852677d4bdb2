//! The Kafka Connect worker `tests/env/up --connect` starts (`KAFKA_CONNECT_URL`), through its REST
//! API, as users drive it with curl: a few blocking HTTP/1.0 requests on loopback need no HTTP
//! client crate.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The Kafka Connect worker's REST API.
#[derive(Debug, Clone)]
pub struct KafkaConnect {
    /// `host:port`
    address: String,
}

/// One answer of the REST API: the status code and the body (JSON, or `Value::Null` when empty).
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status code.
    pub status: u16,
    /// The body as JSON; `Value::Null` when empty.
    pub body: Value,
}

impl KafkaConnect {
    /// The worker `KAFKA_CONNECT_URL` names.
    ///
    /// # Panics
    /// When the variable is not set (the message says how to start the worker) or is no
    /// `http://host:port` URL.
    pub fn from_env() -> Self {
        let url = std::env::var("KAFKA_CONNECT_URL").unwrap_or_else(|_| {
            panic!(
                "KAFKA_CONNECT_URL is not set: start Kafka Connect with `eval \"$(tests/env/up --connect)\"` \
                 (./scripts/test does)"
            )
        });
        let address = url
            .strip_prefix("http://")
            .unwrap_or_else(|| panic!("KAFKA_CONNECT_URL={url}: expected http://host:port"))
            .trim_end_matches('/')
            .to_owned();
        Self { address }
    }

    /// One request; `body` is sent as JSON.
    ///
    /// # Panics
    /// When the worker cannot be reached or answers no HTTP.
    pub fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Answer {
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut stream = TcpStream::connect(&self.address)
            .unwrap_or_else(|err| panic!("connect to Kafka Connect at {}: {err}", self.address));
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .expect("set a read timeout");
        // HTTP/1.0: the worker answers with the whole body and closes, never chunked
        let request = format!(
            "{method} {path} HTTP/1.0\r\nHost: {}\r\nAccept: application/json\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.address,
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .unwrap_or_else(|err| panic!("send {method} {path}: {err}"));
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .unwrap_or_else(|err| panic!("read the answer to {method} {path}: {err}"));
        let text = String::from_utf8_lossy(&response);
        let (head, body) = text
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("{method} {path}: no HTTP answer: {text}"));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("{method} {path}: no status in {head}"));
        let body = if body.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(body).unwrap_or_else(|err| {
                panic!("{method} {path} answered {status} with no JSON ({err}): {body}")
            })
        };
        Answer { status, body }
    }

    /// `PUT /connector-plugins/<class>/config/validate`: the worker's verdict on `config`.
    pub fn validate(&self, class: &str, config: &Value) -> Answer {
        self.request(
            "PUT",
            &format!("/connector-plugins/{class}/config/validate"),
            Some(config),
        )
    }

    /// `PUT /connectors/<name>/config`: creates the connector (201) or updates it (200). Retries
    /// while the worker answers 409 (a rebalance in progress) for up to 60 s.
    pub fn put_config(&self, name: &str, config: &Value) -> Answer {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let answer = self.request("PUT", &format!("/connectors/{name}/config"), Some(config));
            if answer.status != 409 || Instant::now() > deadline {
                return answer;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// `GET /connectors/<name>/status`.
    pub fn status(&self, name: &str) -> Answer {
        self.request("GET", &format!("/connectors/{name}/status"), None)
    }

    /// `DELETE /connectors/<name>`.
    pub fn delete(&self, name: &str) -> Answer {
        self.request("DELETE", &format!("/connectors/{name}"), None)
    }

    /// Waits until the connector and all its tasks (at least one) are RUNNING.
    ///
    /// # Panics
    /// When a task FAILED (with its trace) or `timeout` passes (with the last status).
    pub fn wait_running(&self, name: &str, timeout: Duration) {
        let started = Instant::now();
        loop {
            let status = self.status(name).body;
            let tasks = status["tasks"].as_array().cloned().unwrap_or_default();
            if let Some(failed) = tasks.iter().find(|t| t["state"] == "FAILED") {
                panic!(
                    "connector {name}: task {} FAILED:\n{}",
                    failed["id"],
                    failed["trace"].as_str().unwrap_or_default()
                );
            }
            if status["connector"]["state"] == "RUNNING"
                && !tasks.is_empty()
                && tasks.iter().all(|t| t["state"] == "RUNNING")
            {
                return;
            }
            assert!(
                started.elapsed() < timeout,
                "connector {name} not RUNNING after {timeout:?}: {status}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// The Debezium PostgreSQL connector class the worker's plugin provides.
pub const POSTGRES_CONNECTOR_CLASS: &str = "io.debezium.connector.postgresql.PostgresConnector";

/// One Debezium connector's configuration, as a user sends it to `PUT /connectors/<name>/config`.
#[derive(Debug, Clone)]
pub struct DebeziumConnector {
    /// The connector's name in the worker, unique to the test.
    pub name: String,
    /// Its replication slot, dropped when the test ends.
    pub slot: String,
    /// Its publication, dropped when the test ends.
    pub publication: String,
    /// The properties sent to the worker.
    pub config: serde_json::Map<String, Value>,
}

impl DebeziumConnector {
    /// The test database's PostgreSQL connector named `name` on its own pgoutput slot and
    /// publication (`publication.autocreate.mode=filtered`, created on start for `tables`; both
    /// dropped when it stops), streaming from the moment its slot exists (`snapshot.mode=no_data`),
    /// with Kafka's JsonConverter, schemas on or off, for key and value. Headers are left to the
    /// worker's header converter (Kafka Connect's default, `SimpleHeaderConverter`).
    pub fn postgres(
        name: &str,
        slot: &str,
        publication: &str,
        topic_prefix: &str,
        tables: &[String],
        schemas: bool,
    ) -> Self {
        let schemas = schemas.to_string();
        let json = "org.apache.kafka.connect.json.JsonConverter".to_owned();
        let pairs = [
            ("connector.class", POSTGRES_CONNECTOR_CLASS.to_owned()),
            ("tasks.max", "1".into()),
            ("database.hostname", crate::var("PGHOST")),
            ("database.port", crate::var("PGPORT")),
            ("database.user", crate::var("PGUSER")),
            ("database.password", crate::var("PGPASSWORD")),
            ("database.dbname", crate::var("PGDATABASE")),
            ("plugin.name", "pgoutput".into()),
            ("slot.name", slot.into()),
            ("slot.drop.on.stop", "true".into()),
            ("publication.name", publication.into()),
            ("publication.autocreate.mode", "filtered".into()),
            ("snapshot.mode", "no_data".into()),
            ("topic.prefix", topic_prefix.into()),
            ("table.include.list", tables.join(",")),
            // a connector's own converter settings count only when it names the converter
            ("key.converter", json.clone()),
            ("key.converter.schemas.enable", schemas.clone()),
            ("value.converter", json),
            ("value.converter.schemas.enable", schemas),
        ];
        Self {
            name: name.to_owned(),
            slot: slot.to_owned(),
            publication: publication.to_owned(),
            config: pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), Value::String(v)))
                .collect(),
        }
    }

    /// Sets (or overrides) one property.
    #[must_use]
    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.config
            .insert(key.to_owned(), Value::String(value.to_owned()));
        self
    }
}

/// Debezium connectors running in the Kafka Connect worker for one test: created together, removed
/// together ([`Referee::remove`]: connectors deleted, then their slots and publications dropped).
/// Dropped without `remove` (a failing test), it prints their statuses, deletes them and drops
/// their slots and publications all the same.
#[derive(Debug)]
pub struct Referee {
    /// The worker they run in.
    pub connect: KafkaConnect,
    /// The connectors, in the order they were created.
    pub connectors: Vec<DebeziumConnector>,
    removed: bool,
}

impl Referee {
    /// Creates every connector in the worker `KAFKA_CONNECT_URL` names. Returns at once: see
    /// [`Referee::wait_streaming`].
    ///
    /// # Panics
    /// When the worker refuses a configuration.
    pub fn start(connectors: Vec<DebeziumConnector>) -> Self {
        let connect = KafkaConnect::from_env();
        let mut referee = Self {
            connect,
            connectors: Vec::new(),
            removed: false,
        };
        for connector in connectors {
            let answer = referee
                .connect
                .put_config(&connector.name, &Value::Object(connector.config.clone()));
            assert_eq!(
                answer.status, 201,
                "PUT /connectors/{}/config: {answer:?}",
                connector.name
            );
            referee.connectors.push(connector);
        }
        referee
    }

    /// The connectors' statuses, for a failure message.
    pub fn statuses(&self) -> String {
        self.connectors
            .iter()
            .map(|c| format!("{}: {}", c.name, self.connect.status(&c.name).body))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Panics with the trace when a connector or one of its tasks FAILED.
    pub fn assert_not_failed(&self) {
        for connector in &self.connectors {
            let status = self.connect.status(&connector.name).body;
            let mut states = vec![&status["connector"]];
            if let Some(tasks) = status["tasks"].as_array() {
                states.extend(tasks);
            }
            if let Some(failed) = states.iter().find(|s| s["state"] == "FAILED") {
                panic!(
                    "connector {} FAILED (Kafka Connect's log: $WALBRIDGE_LOG_DIR/connect.log):\n{}",
                    connector.name,
                    failed["trace"].as_str().unwrap_or_default()
                );
            }
        }
    }

    /// Waits until every connector runs and its slot is active (its task streams): only changes
    /// made after that reach Debezium (`snapshot.mode=no_data`). Returns how long it waited.
    ///
    /// # Panics
    /// When a task fails or `timeout` passes; the message carries the statuses.
    pub async fn wait_streaming(&self, pg: &tokio_postgres::Client, timeout: Duration) -> Duration {
        let started = Instant::now();
        let slots: Vec<String> = self.connectors.iter().map(|c| c.slot.clone()).collect();
        loop {
            self.assert_not_failed();
            let active: i64 = pg
                .query_one(
                    "SELECT count(*) FROM pg_replication_slots WHERE slot_name = ANY($1) AND active",
                    &[&slots],
                )
                .await
                .expect("read pg_replication_slots")
                .get(0);
            if usize::try_from(active).ok() == Some(slots.len()) {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < timeout,
                "the Debezium connectors' slots {slots:?} were not active after {timeout:?}:\n{}",
                self.statuses()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn delete_all(&self) {
        for connector in &self.connectors {
            let answer = self.connect.delete(&connector.name);
            if answer.status >= 300 && answer.status != 404 {
                eprintln!("DELETE connector {}: {answer:?}", connector.name);
            }
        }
    }

    /// Deletes the connectors, waits (30 s at most) until their tasks let go of their slots, then
    /// drops whatever slot and publication of theirs is left.
    pub async fn remove(mut self, pg: &tokio_postgres::Client) {
        self.removed = true;
        self.delete_all();
        drop_leftovers(pg, &self.connectors).await;
    }
}

/// Waits (30 s at most) until the connectors' tasks let go of their slots, then drops whatever slot
/// and publication of theirs is left.
async fn drop_leftovers(pg: &tokio_postgres::Client, connectors: &[DebeziumConnector]) {
    let slots: Vec<String> = connectors.iter().map(|c| c.slot.clone()).collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let active: i64 = pg
            .query_one(
                "SELECT count(*) FROM pg_replication_slots WHERE slot_name = ANY($1) AND active",
                &[&slots],
            )
            .await
            .expect("read pg_replication_slots")
            .get(0);
        if active == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    pg.execute(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
         WHERE slot_name = ANY($1) AND NOT active",
        &[&slots],
    )
    .await
    .expect("drop the Debezium connectors' slots");
    for connector in connectors {
        pg.batch_execute(&format!(
            "DROP PUBLICATION IF EXISTS {}",
            connector.publication
        ))
        .await
        .expect("drop a Debezium connector's publication");
    }
}

impl Drop for Referee {
    fn drop(&mut self) {
        if self.removed {
            return;
        }
        if std::thread::panicking() {
            eprintln!(
                "---- the Debezium connectors' statuses (Kafka Connect's log: \
                 $WALBRIDGE_LOG_DIR/connect.log):\n{}\n----",
                self.statuses()
            );
        }
        self.delete_all();
        // A failing test leaves no slot or publication behind either: on a thread of its own, since
        // this one may be inside the test's runtime. Errors are printed, not raised, while panicking.
        let connectors = self.connectors.clone();
        let cleaned = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the connectors' slots");
            runtime.block_on(async {
                let pg = crate::pg().await;
                drop_leftovers(&pg, &connectors).await;
            });
        })
        .join();
        if cleaned.is_err() {
            eprintln!(
                "dropping the Debezium connectors' slots and publications failed: {:?}",
                self.connectors
                    .iter()
                    .map(|c| (&c.slot, &c.publication))
                    .collect::<Vec<_>>()
            );
        }
    }
}
