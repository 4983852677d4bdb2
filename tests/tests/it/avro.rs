//! Confluent's AvroConverter against the test schema registry (`SCHEMA_REGISTRY_URL`): records in
//! Confluent's framing that confluent-kafka's `AvroDeserializer` decodes, against the registry, to
//! the values the SQL wrote — change events, tombstones, TOAST placeholders, transaction and
//! heartbeat records; a new schema version when the table changes; and a registry that refuses or
//! cannot be reached failing the invocation before the slot moves.

use std::process::Command;

use serde_json::{Value, json};
use walbridge_relay::ErrorKind;
use walbridge_tests as env;

use crate::case::{Case, invoke, try_invoke};

pub(crate) const AVRO: &str = "io.confluent.connect.avro.AvroConverter";

/// The AvroConverter for keys and values with `registry`; the topic prefix is the case's schema
/// (the cases' prefixes have `-`, which Avro names do not take).
fn avro_config<'a>(
    case: &'a Case,
    registry: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut pairs = vec![
        ("topic.prefix", case.schema.as_str()),
        ("key.converter", AVRO),
        ("value.converter", AVRO),
        ("key.converter.schema.registry.url", registry),
        ("value.converter.schema.registry.url", registry),
    ];
    pairs.extend_from_slice(extra);
    pairs
}

/// The registry's answer to `GET path`, as JSON.
fn registry_get(path: &str) -> Value {
    registry_get_at(&env::var("SCHEMA_REGISTRY_URL"), path)
}

/// The answer of the registry at `base` to `GET path`, as JSON.
pub(crate) fn registry_get_at(base: &str, path: &str) -> Value {
    let url = format!("{base}{path}");
    let output = Command::new("curl")
        .args(["-s", &url])
        .output()
        .expect("run curl");
    serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("{url}: not JSON"))
}

/// Sets `subject`'s compatibility level.
fn set_compatibility(subject: &str, level: &str) {
    let url = format!("{}/config/{subject}", env::var("SCHEMA_REGISTRY_URL"));
    let status = Command::new("curl")
        .args(["-sf", "-X", "PUT", &url, "-d"])
        .arg(format!(r#"{{"compatibility":"{level}"}}"#))
        .status()
        .expect("run curl");
    assert!(status.success(), "PUT {url}");
}

#[tokio::test]
async fn avro_records_decode_to_what_the_sql_wrote_and_schema_changes_register_versions() {
    let case = Case::new(
        "avro",
        "CREATE TABLE {s}.items(id int PRIMARY KEY, name text, price numeric(10,2) NOT NULL DEFAULT 0,
           qty smallint, big bigint, ratio double precision, flag boolean, blob bytea, tags int[],
           doc jsonb, made timestamp, day date, uid uuid, status varchar(10) DEFAULT 'active',
           note text);
         ALTER TABLE {s}.items ALTER COLUMN note SET STORAGE EXTERNAL;",
    )
    .await;
    let registry = env::var("SCHEMA_REGISTRY_URL");
    let config = || {
        case.config(&avro_config(
            &case,
            &registry,
            &[
                ("provide.transaction.metadata", "true"),
                ("heartbeat.interval.ms", "1"),
            ],
        ))
    };
    case.sql(
        "INSERT INTO {s}.items VALUES (1, 'widget', 12.34, 7, 9000000000, 0.5, true, '\\x00ff',
           '{1,NULL,3}', '{\"a\": 1}', '2024-01-15 10:30:00.123456', '2024-01-15',
           'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', NULL, repeat('x', 5000));
         UPDATE {s}.items SET name = 'gadget' WHERE id = 1;
         DELETE FROM {s}.items WHERE id = 1;",
    )
    .await;
    let report = invoke(config()).await;
    assert_eq!(report.changes, 3);

    let topic = format!("{0}.{0}.items", case.schema);
    // Confluent's framing: magic byte 0, the schema id; the tombstone stays a Kafka null
    let raw = env::read_topic(&topic, 4);
    assert_eq!(raw.len(), 4);
    let id = |bytes: &[u8]| {
        assert_eq!(bytes[0], 0, "the magic byte");
        u32::from_be_bytes(bytes[1..5].try_into().unwrap())
    };
    let value_id = id(raw[0].value.as_deref().expect("a value"));
    let key_id = id(raw[0].key.as_deref().expect("a key"));
    assert_ne!(value_id, key_id);
    assert!(
        raw[..3]
            .iter()
            .all(|r| id(r.value.as_deref().unwrap()) == value_id)
    );
    assert!(raw[3].value.is_none(), "the tombstone is a Kafka null");
    assert_eq!(id(raw[3].key.as_deref().unwrap()), key_id);
    // the partition is the Java producer's for the key's bytes as the converter wrote them (the
    // framed Avro; the case's topics have 3 partitions)
    for record in &raw {
        let key = record.key.as_deref().unwrap();
        let partition = walbridge_event::partition::partition_for_key(key, 3);
        assert_eq!(i64::from(record.partition), i64::from(partition));
    }

    // confluent-kafka's AvroDeserializer reads them, with the registry, to the SQL's values
    let records = env::read_avro_topic(&topic, 4);
    let values: Vec<Value> = records
        .iter()
        .map(|r| r.value_json().unwrap_or(Value::Null))
        .collect();
    for record in &records {
        let key: Value = serde_json::from_slice(record.key.as_deref().unwrap()).unwrap();
        assert_eq!(key, json!({"id": 1}));
    }
    let ops: Vec<&str> = values[..3]
        .iter()
        .map(|v| v["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["c", "u", "d"]);
    assert_eq!(values[3], Value::Null);
    let after = &values[0]["after"];
    let expected = json!({
        "id": 1, "name": "widget", "price": "12.34", "qty": 7, "big": 9_000_000_000_i64,
        "ratio": 0.5, "flag": true, "blob": "AP8=", "tags": [1, null, 3], "doc": "{\"a\": 1}",
        "made": 1_705_314_600_123_456_i64, "day": 19_737,
        "uid": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        // a NULL in a column with a default is written as the default, as Connect's converters do
        "status": "active", "note": "x".repeat(5000),
    });
    assert_eq!(after, &expected);
    assert_eq!(values[0]["before"], Value::Null);
    assert_eq!(values[0]["source"]["table"], "items");
    assert_eq!(values[0]["source"]["snapshot"], "false");
    assert!(values[0]["transaction"]["id"].is_string());
    // the update leaves the TOASTed note out: Debezium's placeholder
    assert_eq!(values[1]["after"]["name"], "gadget");
    assert_eq!(values[1]["after"]["note"], "__debezium_unavailable_value");
    assert_eq!(values[2]["before"]["id"], 1);
    assert_eq!(values[2]["after"], Value::Null);

    // transaction metadata and heartbeats are Avro too
    let transactions = env::read_avro_topic(&format!("{}.transaction", case.schema), 2);
    // (BEGIN's and END's keys name different LSNs, so their partitions may differ)
    let mut statuses: Vec<String> = transactions
        .iter()
        .map(|r| {
            r.value_json().unwrap()["status"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    statuses.sort();
    assert_eq!(statuses, ["BEGIN", "END"]);
    let beats = env::read_avro_topic(&format!("__debezium-heartbeat.{}", case.schema), 1);
    assert!(beats[0].value_json().unwrap()["ts_ms"].is_i64());

    // each subject got one version: the schema of each shape is registered once
    let versions = |subject: &str| registry_get(&format!("/subjects/{subject}/versions"));
    assert_eq!(versions(&format!("{topic}-key")), json!([1]));
    assert_eq!(versions(&format!("{topic}-value")), json!([1]));

    // a compatible change mid-stream registers a second version
    case.sql(
        "ALTER TABLE {s}.items ADD COLUMN extra text;
         INSERT INTO {s}.items (id, name, extra) VALUES (2, 'second', 'more');",
    )
    .await;
    let report = invoke(config()).await;
    assert_eq!(report.changes, 1);
    assert_eq!(versions(&format!("{topic}-value")), json!([1, 2]));
    assert_eq!(versions(&format!("{topic}-key")), json!([1]));
    // the topic has 3 partitions: the row's record is found by its key
    let row = |records: &[env::KafkaRecord], id: i64| {
        records
            .iter()
            .find(|r| r.key_str() == Some(&format!(r#"{{"id": {id}}}"#)))
            .and_then(|r| r.value_json())
            .unwrap_or_else(|| panic!("no record of row {id}"))
    };
    let records = env::read_avro_topic(&topic, 5);
    let second = row(&records, 2);
    assert_eq!(second["after"]["extra"], "more");
    assert_eq!(second["after"]["price"], "0.00", "the column's default");

    // an incompatible one (BACKWARD: a string cannot read the int written before) fails the
    // invocation, naming the subject and the level; the slot stays
    case.sql(
        "ALTER TABLE {s}.items ALTER COLUMN qty TYPE text;
         INSERT INTO {s}.items (id, qty) VALUES (3, 'three');",
    )
    .await;
    let slot_before = case.confirmed_flush_lsn().await;
    let err = try_invoke(config())
        .await
        .expect_err("the registry refuses");
    let text = walbridge_relay::error_chain(&err);
    assert!(text.contains(&format!("subject {topic}-value")), "{text}");
    assert!(text.contains("compatibility level BACKWARD"), "{text}");
    assert_eq!(err.kind(), ErrorKind::Precondition);
    assert_eq!(case.confirmed_flush_lsn().await, slot_before);
    // once the subject allows it, the change goes through
    set_compatibility(&format!("{topic}-value"), "NONE");
    let report = invoke(config()).await;
    assert_eq!(report.changes, 1);
    let records = env::read_avro_topic(&topic, 6);
    assert_eq!(row(&records, 3)["after"]["qty"], "three");
    assert!(case.confirmed_flush_lsn().await > slot_before);
}

#[tokio::test]
async fn an_unreachable_registry_fails_the_invocation_and_the_slot_stays() {
    let case = Case::new("avro_down", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    case.sql("INSERT INTO {s}.t VALUES (1)").await;
    let nobody = format!("http://127.0.0.1:{}", env::free_port());
    let slot_before = case.confirmed_flush_lsn().await;
    let err = try_invoke(case.config(&avro_config(&case, &nobody, &[])))
        .await
        .expect_err("no registry");
    let text = walbridge_relay::error_chain(&err);
    assert!(
        text.contains(&format!(
            "no schema registry answered at {nobody} for subject {0}.{0}.t-key",
            case.schema
        )),
        "{text}"
    );
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(case.confirmed_flush_lsn().await, slot_before);

    // auto.register.schemas=false: a schema the subject lacks is an error naming it
    let registry = env::var("SCHEMA_REGISTRY_URL");
    let err = try_invoke(case.config(&avro_config(
        &case,
        &registry,
        &[("key.converter.auto.register.schemas", "false")],
    )))
    .await
    .expect_err("not registered");
    let text = walbridge_relay::error_chain(&err);
    assert!(
        text.contains(&format!(
            "not registered under subject {0}.{0}.t-key",
            case.schema
        )),
        "{text}"
    );
    assert_eq!(case.confirmed_flush_lsn().await, slot_before);
}

/// The records' identity in the stream (the position header without its stream id), by which the
/// two runs' records are paired.
fn position(record: &env::KafkaRecord) -> String {
    let (_, value) = record
        .headers
        .iter()
        .find(|(name, _)| name == "__walbridge.position")
        .expect("walbridge's position header");
    let text = String::from_utf8(value.clone().expect("a value")).unwrap();
    text.split('@').next().unwrap().to_owned()
}

/// Confluent's AvroConverter (tests/referee/AvroReferee.java, compiled once per test process) on
/// `lines` (`<topic>\t<key|value>\t<JsonConverter JSON>`): per line, the schema text it registers
/// and the hex of its body.
fn referee(lines: &[String]) -> Vec<(String, String)> {
    let jars = env::var("WALBRIDGE_AVRO_REFEREE_JARS");
    let kafka = env::var("WALBRIDGE_KAFKA_LIBS");
    let classes =
        std::env::temp_dir().join(format!("walbridge-avro-referee-{}", std::process::id()));
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("referee/AvroReferee.java");
    let classpath = format!("{}:{jars}/*:{kafka}/*", classes.display());
    if !classes.join("AvroReferee.class").exists() {
        let status = Command::new("javac")
            .args(["-d", &classes.display().to_string(), "-cp", &classpath])
            .arg(&source)
            .status()
            .expect("run javac");
        assert!(status.success(), "javac {}", source.display());
    }
    let mut child = Command::new("java")
        .args(["-cp", &classpath, "AvroReferee"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run java");
    let input = lines.join("\n") + "\n";
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        stdin.write_all(input.as_bytes()).unwrap();
    });
    let output = child.wait_with_output().expect("the referee's output");
    writer.join().unwrap();
    assert!(output.status.success(), "AvroReferee failed");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let (schema, body) = line.split_once('\t').expect("schema<TAB>body");
            (schema.to_owned(), body.to_owned())
        })
        .collect()
}

#[tokio::test]
async fn confluents_avro_converter_writes_the_same_schemas_and_bodies() {
    let case = Case::new(
        "avro_referee",
        "CREATE TYPE {s}.mood AS ENUM ('sad', 'ok', 'happy');
         CREATE TABLE {s}.items(id int PRIMARY KEY, name text, price numeric(10,2) NOT NULL DEFAULT 0,
           amount numeric, cash money, qty smallint NOT NULL DEFAULT 3, big bigint, ratio real,
           score double precision DEFAULT 1.5, flag boolean DEFAULT true, blob bytea, tags int[],
           words text[], doc jsonb, made timestamp, at timestamptz, day date, clock time,
           span interval, bits bit(3), uid uuid, mood {s}.mood, status varchar(10) DEFAULT 'active',
           attrs hstore);
         CREATE TABLE {s}.nokey(v text);",
    )
    .await;
    let slot2 = format!("{}_slot2", case.schema);
    case.pg
        .execute(
            "SELECT pg_create_logical_replication_slot($1, 'wal2json')",
            &[&slot2],
        )
        .await
        .expect("the second slot");
    case.sql(
        "INSERT INTO {s}.items VALUES (1, 'widget', 12.34, 3.14159, 9.99, 7, 9000000000, 0.25,
           -2.5e300, false, '\\x00ff10', '{1,NULL,3}', '{a,\"b c\"}', '{\"a\": [1, 2]}',
           '2024-01-15 10:30:00.123456', '2024-01-15 10:30:00+02', '2024-01-15', '10:30:00.5',
           '1 year 2 days 03:04:05', B'101', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'happy', NULL,
           'colour => red, size => XL, weight => NULL, zeta => 1, alpha => 2');
         INSERT INTO {s}.items (id) VALUES (2);
         UPDATE {s}.items SET name = 'gadget', amount = -0.001 WHERE id = 1;
         DELETE FROM {s}.items WHERE id = 2;
         INSERT INTO {s}.nokey VALUES ('x');
         TRUNCATE {s}.nokey;
         SELECT pg_logical_emit_message(false, '{s}.note', 'standalone');",
    )
    .await;
    let registry = env::var("SCHEMA_REGISTRY_URL");
    let checkpoint = |run: &str| {
        format!(
            "s3://{}/relay-tests/{}/{run}.json",
            env::bucket(),
            case.schema
        )
    };
    let (json_checkpoint, avro_checkpoint) = (checkpoint("json"), checkpoint("avro"));
    let shared = [
        ("topic.prefix", case.schema.as_str()),
        ("provide.transaction.metadata", "true"),
        ("skipped.operations", "none"),
        // a Connect map: its entries in Java's map order, as Confluent's converter writes them
        ("hstore.handling.mode", "map"),
    ];
    // the same changes twice: as JsonConverter's JSON with schemas (routed to json.<topic>),
    // and through walbridge's AvroConverter
    let mut json_run = shared.to_vec();
    json_run.extend([
        ("key.converter.schemas.enable", "true"),
        ("value.converter.schemas.enable", "true"),
        ("transforms", "route"),
        (
            "transforms.route.type",
            "org.apache.kafka.connect.transforms.RegexRouter",
        ),
        ("transforms.route.regex", "(.*)"),
        ("transforms.route.replacement", "json.$1"),
        ("checkpoint.uri", json_checkpoint.as_str()),
    ]);
    invoke(case.config(&json_run)).await;
    let mut avro_run = avro_config(&case, &registry, &shared);
    avro_run.extend([
        ("slot.name", slot2.as_str()),
        ("checkpoint.uri", avro_checkpoint.as_str()),
    ]);
    invoke(case.config(&avro_run)).await;

    let mut lines = Vec::new();
    let mut walbridge = Vec::new();
    for (topic, count) in [
        (format!("{0}.{0}.items", case.schema), 5),
        (format!("{0}.{0}.nokey", case.schema), 2),
        (format!("{}.transaction", case.schema), 2),
        (format!("{}.message", case.schema), 1),
    ] {
        let avro = env::read_topic(&topic, count);
        let decoded = env::read_avro_topic(&topic, count);
        let json = env::read_topic(&format!("json.{topic}"), count);
        assert_eq!(avro.len(), json.len(), "{topic}");
        for record in &avro {
            let at = position(record);
            let twin = json
                .iter()
                .find(|j| position(j) == at)
                .unwrap_or_else(|| panic!("{topic}: no JSON record at {at}"));
            for (side, mine, theirs) in [
                ("key", &record.key, &twin.key),
                ("value", &record.value, &twin.value),
            ] {
                let (Some(mine), Some(theirs)) = (mine, theirs) else {
                    assert_eq!(mine.is_none(), theirs.is_none(), "{topic} {side} at {at}");
                    continue;
                };
                let mut text = String::from_utf8(theirs.clone()).unwrap();
                // an event's ts_ms, ts_us, ts_ns say when each run wrote it: the JSON's get the
                // Avro run's (the payload re-written; JsonConverter reads its members by name)
                let twin_value = decoded
                    .iter()
                    .find(|d| position(d) == at)
                    .and_then(env::KafkaRecord::value_json);
                if let Some(event) = twin_value.filter(|v| side == "value" && v["op"].is_string()) {
                    let (schema, payload) = text.split_once(r#","payload":"#).expect("an envelope");
                    let mut payload: Value =
                        serde_json::from_str(&payload[..payload.len() - 1]).expect("the payload");
                    for ts in ["ts_ms", "ts_us", "ts_ns"] {
                        if payload.get(ts).is_some() {
                            payload[ts] = event[ts].clone();
                        }
                        // a standalone message's source time is the last commit the run saw
                        // before it, none in a first window: then the time the run read it
                        if event["op"] == "m" {
                            payload["source"][ts] = event["source"][ts].clone();
                        }
                    }
                    text = format!(r#"{schema},"payload":{payload}}}"#);
                }
                lines.push(format!("{topic}\t{side}\t{text}"));
                let id = u32::from_be_bytes(mine[1..5].try_into().unwrap());
                let schema = registry_get(&format!("/schemas/ids/{id}"))["schema"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                let body: String = mine[5..].iter().map(|b| format!("{b:02x}")).collect();
                walbridge.push((format!("{topic} {side} at {at}"), schema, body));
            }
        }
    }
    assert!(walbridge.len() >= 17, "{}", walbridge.len());
    let confluent = referee(&lines);
    assert_eq!(confluent.len(), walbridge.len());
    for ((what, schema, body), (their_schema, their_body)) in walbridge.iter().zip(&confluent) {
        assert_eq!(schema, their_schema, "the schema of {what}");
        assert_eq!(body, their_body, "the body of {what}");
    }
}

#[tokio::test]
async fn the_record_name_strategies_name_the_subjects() {
    let case = Case::new("avro_subjects", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    case.sql("INSERT INTO {s}.t VALUES (1)").await;
    let registry = env::var("SCHEMA_REGISTRY_URL");
    invoke(case.config(&avro_config(
        &case,
        &registry,
        &[
            (
                "key.converter.key.subject.name.strategy",
                "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy",
            ),
            (
                "value.converter.value.subject.name.strategy",
                "io.confluent.kafka.serializers.subject.RecordNameStrategy",
            ),
        ],
    )))
    .await;
    let topic = format!("{0}.{0}.t", case.schema);
    let subjects = registry_get("/subjects");
    let subjects: Vec<&str> = subjects
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter(|s| s.contains(&case.schema))
        .collect();
    assert_eq!(
        subjects,
        [format!("{topic}-{topic}.Key"), format!("{topic}.Envelope")]
    );
    let records = env::read_avro_topic(&topic, 1);
    assert_eq!(records[0].value_json().unwrap()["after"]["id"], 1);
}

/// A registry of the test's own (tests/env/registry.py, with `args`), stopped when dropped.
pub(crate) struct OwnRegistry {
    child: std::process::Child,
    port: u16,
}

impl OwnRegistry {
    pub(crate) fn start(args: &[&str]) -> Self {
        let port = env::free_port();
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("env/registry.py");
        let child = Command::new(env::var("WALBRIDGE_PYTHON"))
            .arg(script)
            .arg(port.to_string())
            .args(args)
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the registry");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "the registry did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Self { child, port }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for OwnRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn basic_auth_reaches_a_registry_that_demands_it_and_a_wrong_password_is_its_answer() {
    let case = Case::new("avro_auth", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    case.sql("INSERT INTO {s}.t VALUES (1)").await;
    let registry = OwnRegistry::start(&["--user-info", "sr-user:sr-s3cr3t"]);
    let url = registry.url();
    let auth = |user_info: &'static str| {
        [
            ("key.converter.basic.auth.credentials.source", "USER_INFO"),
            ("key.converter.basic.auth.user.info", user_info),
            ("value.converter.basic.auth.credentials.source", "USER_INFO"),
            ("value.converter.basic.auth.user.info", user_info),
        ]
    };
    let slot_before = case.confirmed_flush_lsn().await;
    let err = try_invoke(case.config(&avro_config(&case, &url, &auth("sr-user:wrong-pw"))))
        .await
        .expect_err("refused");
    let text = walbridge_relay::error_chain(&err);
    assert!(text.contains("answered HTTP 401"), "{text}");
    assert!(
        !text.contains("wrong-pw") && !text.contains("sr-s3cr3t"),
        "{text}"
    );
    assert_eq!(case.confirmed_flush_lsn().await, slot_before);

    let report = invoke(case.config(&avro_config(&case, &url, &auth("sr-user:sr-s3cr3t")))).await;
    assert_eq!(report.changes, 1);
    let raw = env::read_topic(&format!("{0}.{0}.t", case.schema), 1);
    assert_eq!(
        raw[0].value.as_deref().unwrap()[0],
        0,
        "Confluent's framing"
    );
}

#[tokio::test]
async fn a_snapshot_is_written_in_avro() {
    let case = Case::new(
        "avro_snapshot",
        "CREATE TABLE {s}.t(id int PRIMARY KEY, v numeric(6,3));
         INSERT INTO {s}.t VALUES (1, 1.5), (2, NULL);",
    )
    .await;
    let registry = env::var("SCHEMA_REGISTRY_URL");
    let report = invoke(case.config(&avro_config(
        &case,
        &registry,
        &[("snapshot.mode", "initial")],
    )))
    .await;
    assert!(report.events >= 2, "{report:?}");
    let records = env::read_avro_topic(&format!("{0}.{0}.t", case.schema), 2);
    let mut rows: Vec<(i64, Value, Value)> = records
        .iter()
        .map(|r| {
            let v = r.value_json().unwrap();
            (
                v["after"]["id"].as_i64().unwrap(),
                v["after"]["v"].clone(),
                v["op"].clone(),
            )
        })
        .collect();
    rows.sort_by_key(|row| row.0);
    assert_eq!(
        rows,
        [
            (1, json!("1.500"), json!("r")),
            (2, Value::Null, json!("r"))
        ]
    );
}

#[tokio::test]
async fn an_https_registry_is_reached_with_its_ca_and_refused_without() {
    let case = Case::new("avro_tls", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    case.sql("INSERT INTO {s}.t VALUES (1)").await;
    let ca = env::TestCa::new("walbridge avro test CA");
    let (cert, key) = ca.server_cert(&["localhost"]);
    let dir = std::env::temp_dir().join(env::unique("avro-tls"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let (cert, key, ca_file) = (
        path("server.pem", &cert),
        path("server.key", &key),
        path("ca.pem", &ca.pem()),
    );
    let other_ca = path("other.pem", &env::TestCa::new("another CA").pem());
    let registry = OwnRegistry::start(&["--tls", &cert, &key]);
    let url = format!("https://localhost:{}", registry.port);
    fn trusting(ca: &str) -> [(&'static str, &str); 2] {
        [
            ("key.converter.schema.registry.ssl.truststore.location", ca),
            (
                "value.converter.schema.registry.ssl.truststore.location",
                ca,
            ),
        ]
    }
    let slot_before = case.confirmed_flush_lsn().await;
    let err = try_invoke(case.config(&avro_config(&case, &url, &trusting(&other_ca))))
        .await
        .expect_err("a certificate of another CA");
    let text = walbridge_relay::error_chain(&err);
    assert!(text.contains("no schema registry answered"), "{text}");
    assert!(text.contains("UnknownIssuer"), "{text}");
    assert_eq!(case.confirmed_flush_lsn().await, slot_before);

    let report = invoke(case.config(&avro_config(&case, &url, &trusting(&ca_file)))).await;
    assert_eq!(report.changes, 1);
    let raw = env::read_topic(&format!("{0}.{0}.t", case.schema), 1);
    assert_eq!(
        raw[0].value.as_deref().unwrap()[0],
        0,
        "Confluent's framing"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_avro_converter_writes_what_the_transform_chain_made() {
    let case = Case::new(
        "avro_unwrap",
        "CREATE TABLE {s}.t(id int PRIMARY KEY, v text)",
    )
    .await;
    case.sql(
        "INSERT INTO {s}.t VALUES (1, 'one');
         DELETE FROM {s}.t WHERE id = 1;",
    )
    .await;
    let registry = env::var("SCHEMA_REGISTRY_URL");
    invoke(case.config(&avro_config(
        &case,
        &registry,
        &[
            ("transforms", "unwrap"),
            (
                "transforms.unwrap.type",
                "io.debezium.transforms.ExtractNewRecordState",
            ),
            (
                "transforms.unwrap.delete.tombstone.handling.mode",
                "rewrite",
            ),
            ("transforms.unwrap.add.fields", "op"),
        ],
    )))
    .await;
    let topic = format!("{0}.{0}.t", case.schema);
    let records = env::read_avro_topic(&topic, 2);
    let values: Vec<Value> = records.iter().map(|r| r.value_json().unwrap()).collect();
    assert_eq!(
        values,
        [
            json!({"id": 1, "v": "one", "__deleted": "false", "__op": "c"}),
            json!({"id": 1, "v": null, "__deleted": "true", "__op": "d"}),
        ]
    );
    let latest = registry_get(&format!("/subjects/{topic}-value/versions/latest"));
    let schema: Value = serde_json::from_str(latest["schema"].as_str().unwrap()).unwrap();
    assert_eq!(schema["name"], "Value", "the flattened row's record");
}

/// A `topic.prefix` with `-` and column names Avro refuses: as with Debezium and Confluent's
/// converter, the invocation fails on the first invalid name; `schema.name.adjustment.mode` and
/// `field.name.adjustment.mode` set to `avro` make the names valid, and the records decode.
#[tokio::test]
async fn name_adjustment_makes_a_prefix_with_a_dash_and_odd_columns_valid_avro_names() {
    let case = Case::new(
        "avro_names",
        r#"CREATE TABLE {s}.t("item id" int PRIMARY KEY, "1st" text)"#,
    )
    .await;
    assert!(case.prefix.contains('-'), "{}", case.prefix);
    case.sql(r#"INSERT INTO {s}.t VALUES (1, 'x')"#).await;
    let registry = env::var("SCHEMA_REGISTRY_URL");
    let config = |extra: &[(&'static str, &'static str)]| {
        let mut pairs = avro_config(&case, &registry, extra);
        pairs.push(("topic.prefix", case.prefix.as_str()));
        case.config(&pairs)
    };
    let slot_before = case.confirmed_flush_lsn().await;

    let err = try_invoke(config(&[]))
        .await
        .expect_err("a - in the prefix");
    let text = walbridge_relay::error_chain(&err);
    assert!(
        text.contains(&format!("{}.{}.t", case.prefix, case.schema))
            && text.contains("is not a valid Avro name"),
        "{text}"
    );
    assert_eq!(case.confirmed_flush_lsn().await, slot_before);

    // The schema names adjusted, a column name is still refused.
    let err = try_invoke(config(&[("schema.name.adjustment.mode", "avro")]))
        .await
        .expect_err("a space in a column name");
    let text = walbridge_relay::error_chain(&err);
    assert!(
        text.contains("item id") && text.contains("is not a valid Avro name"),
        "{text}"
    );
    assert_eq!(case.confirmed_flush_lsn().await, slot_before);

    invoke(config(&[
        ("schema.name.adjustment.mode", "avro"),
        ("field.name.adjustment.mode", "avro"),
    ]))
    .await;
    // Topic names keep their `-`: only schema names are adjusted.
    let topic = format!("{}.{}.t", case.prefix, case.schema);
    let records = env::read_avro_topic(&topic, 1);
    let value = records[0].value_json().unwrap();
    assert_eq!(value["after"], json!({"item_id": 1, "_1st": "x"}));
    assert_eq!(value["source"]["name"], json!(case.prefix));
    let registered = registry_get(&format!("/subjects/{topic}-value/versions/latest"));
    let schema: Value = serde_json::from_str(registered["schema"].as_str().unwrap()).unwrap();
    assert_eq!(schema["name"], "Envelope");
    assert_eq!(
        schema["namespace"],
        json!(format!(
            "{}.{}.t",
            case.prefix.replace('-', "_"),
            case.schema
        ))
    );
}

/// Registers `schema` (Avro JSON) under `subject`: its id.
fn register(subject: &str, schema: &Value) -> u32 {
    let url = format!(
        "{}/subjects/{subject}/versions",
        env::var("SCHEMA_REGISTRY_URL")
    );
    let output = Command::new("curl")
        .args([
            "-sf",
            "-X",
            "POST",
            "-H",
            "Content-Type: application/vnd.schemaregistry.v1+json",
            &url,
            "-d",
        ])
        .arg(json!({ "schema": schema.to_string() }).to_string())
        .output()
        .expect("run curl");
    assert!(output.status.success(), "POST {url}");
    let answer: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    u32::try_from(answer["id"].as_u64().expect("an id")).unwrap()
}

#[tokio::test]
async fn use_latest_version_writes_under_the_subjects_latest_schema_of_the_records_shape() {
    let case = Case::new(
        "avro_latest",
        "CREATE TABLE {s}.t(id int PRIMARY KEY, note text)",
    )
    .await;
    let registry = env::var("SCHEMA_REGISTRY_URL");
    let topic = format!("{0}.{0}.t", case.schema);
    let subject = format!("{topic}-value");
    case.sql("INSERT INTO {s}.t VALUES (1, 'one')").await;
    invoke(case.config(&avro_config(&case, &registry, &[]))).await;

    // the schema the team manages: the same shape, documented and with a property of its own
    let mut managed: Value = serde_json::from_str(
        registry_get(&format!("/subjects/{subject}/versions/latest"))["schema"]
            .as_str()
            .expect("a schema"),
    )
    .expect("Avro JSON");
    managed["doc"] = json!("change events of t, managed by the data team");
    managed["owner"] = json!("data-team");
    let managed_id = register(&subject, &managed);
    let config = || {
        case.config(&avro_config(
            &case,
            &registry,
            &[
                ("key.converter.auto.register.schemas", "false"),
                ("value.converter.auto.register.schemas", "false"),
                ("key.converter.use.latest.version", "true"),
                ("value.converter.use.latest.version", "true"),
            ],
        ))
    };
    case.sql("INSERT INTO {s}.t VALUES (2, 'two')").await;
    assert_eq!(invoke(config()).await.changes, 1);
    // The topic has 3 partitions, read in partition order: the record of row 2 is found by its
    // decoded value, then its bytes by partition and offset.
    let records = env::read_avro_topic(&topic, 2);
    let second = (records.iter())
        .find(|r| r.value_json().unwrap()["after"]["id"] == 2)
        .expect("the record of row 2");
    assert_eq!(second.value_json().unwrap()["after"]["note"], "two");
    let raw = env::read_topic(&topic, 2);
    let value = (raw.iter())
        .find(|r| (r.partition, r.offset) == (second.partition, second.offset))
        .and_then(|r| r.value.as_deref())
        .expect("a value");
    assert_eq!(value[0], 0, "the magic byte");
    assert_eq!(
        u32::from_be_bytes(value[1..5].try_into().unwrap()),
        managed_id,
        "written under the subject's latest schema"
    );

    // a latest schema of another shape: an error naming the subject and its version, no record
    set_compatibility(&subject, "NONE");
    let other = json!({"type": "record", "name": "Other", "namespace": "x",
        "fields": [{"name": "n", "type": "int"}]});
    register(&subject, &other);
    let version = registry_get(&format!("/subjects/{subject}/versions/latest"))["version"].clone();
    case.sql("INSERT INTO {s}.t VALUES (3, 'three')").await;
    let slot_before = case.confirmed_flush_lsn().await;
    let err = try_invoke(config()).await.expect_err("another shape");
    let text = walbridge_relay::error_chain(&err);
    assert!(
        text.contains(&format!(
            "the latest schema of subject {subject} (version {version}) is not the shape"
        )),
        "{text}"
    );
    assert_eq!(case.confirmed_flush_lsn().await, slot_before);
    assert_eq!(env::read_topic(&topic, 2).len(), 2);
}
