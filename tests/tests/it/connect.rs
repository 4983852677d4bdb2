//! Debezium 3.7 in Kafka Connect, set up as users' guide does it (`shared/reference/seed-guide.txt`:
//! a `.properties` mapping sent to `PUT /connectors/<name>/config`, problems looked up at
//! `PUT /connector-plugins/<class>/config/validate`), on the suite's Apache Kafka. Needs
//! `eval "$(tests/env/up --connect)"` (exports `KAFKA_CONNECT_URL`).

use std::time::Duration;

use serde_json::{Value, json};
use walbridge_tests::{self as env, KafkaConnect};

const CONNECTOR_CLASS: &str = "io.debezium.connector.postgresql.PostgresConnector";
const DEBEZIUM_VERSION: &str = "3.7.1.Final";

/// The errors the validate endpoint reports for `field` (empty when it has none).
fn errors_of(validation: &Value, field: &str) -> Vec<String> {
    validation["configs"]
        .as_array()
        .expect("a validation lists the configs")
        .iter()
        .find(|c| c["value"]["name"] == field)
        .map(|c| {
            c["value"]["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Every field the validate endpoint has errors for, with them (what a person reads in a failure).
fn all_errors(validation: &Value) -> Vec<(String, Vec<String>)> {
    validation["configs"]
        .as_array()
        .expect("a validation lists the configs")
        .iter()
        .filter_map(|c| {
            let errors: Vec<String> = c["value"]["errors"]
                .as_array()?
                .iter()
                .filter_map(|e| e.as_str().map(str::to_owned))
                .collect();
            (!errors.is_empty()).then(|| {
                (
                    c["value"]["name"].as_str().unwrap_or("?").to_owned(),
                    errors,
                )
            })
        })
        .collect()
}

/// Removes the connector (its task stops streaming) when the test ends, passed or not.
struct Connector<'a> {
    connect: &'a KafkaConnect,
    name: String,
}

impl Drop for Connector<'_> {
    fn drop(&mut self) {
        let answer = self.connect.delete(&self.name);
        if answer.status >= 300 && answer.status != 404 {
            eprintln!("DELETE connector {}: {answer:?}", self.name);
        }
    }
}

#[tokio::test]
async fn a_debezium_connector_created_the_guides_way_streams_an_insert() {
    let connect = KafkaConnect::from_env();
    let pg = env::pg().await;
    // the guide's schema and table: a custom schema, two integer columns, no primary key
    let schema = env::unique("connect");
    // Also the slot and the publication, named after the schema, should an assertion fail.
    let _cleanup = env::PgCleanup::new(&schema);
    pg.batch_execute(&format!(
        "CREATE SCHEMA {schema}; CREATE TABLE {schema}.sql_table(id INT, number INT)"
    ))
    .await
    .unwrap();
    let name = schema.replace('_', "-");
    let slot = format!("{schema}_slot");
    let publication = format!("{schema}_pub");
    let prefix = format!("{name}-prefix");

    // The guide's properties as they stand. Debezium 3.x reads pgoutput (or decoderbufs) only and
    // renamed database.server.name to topic.prefix, so the worker says what is wrong with them.
    let guide = json!({
        "connector.class": CONNECTOR_CLASS,
        "database.dbname": env::var("PGDATABASE"),
        "database.hostname": env::var("PGHOST"),
        "database.password": env::var("PGPASSWORD"),
        "database.port": env::var("PGPORT"),
        "database.user": env::var("PGUSER"),
        "name": name,
        "plugin.name": "wal2json",
        "slot.drop_on_stop": "true",
        "slot.name": slot,
        "table.whitelist": format!("{schema}.sql_table"),
        "tasks.max": "1",
        "database.server.name": prefix,
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
    });
    let verdict = connect.validate(CONNECTOR_CLASS, &guide);
    assert_eq!(verdict.status, 200, "{verdict:?}");
    assert_eq!(verdict.body["name"], CONNECTOR_CLASS);
    let plugin_errors = errors_of(&verdict.body, "plugin.name");
    assert!(
        plugin_errors.iter().any(|e| e.contains("pgoutput")),
        "plugin.name=wal2json is refused, pgoutput offered: {plugin_errors:?}"
    );
    let prefix_errors = errors_of(&verdict.body, "topic.prefix");
    assert!(
        prefix_errors.iter().any(|e| e.contains("required")),
        "topic.prefix is required: {prefix_errors:?}"
    );
    assert_eq!(
        verdict.body["error_count"],
        2,
        "{:?}",
        all_errors(&verdict.body)
    );

    // The same properties with Debezium 3's names (the guide's slot.drop_on_stop is no Debezium 3 key:
    // the worker accepts and ignores it); the publication is created for this table only.
    let mut config = guide.clone();
    let fields = config.as_object_mut().unwrap();
    fields.remove("database.server.name");
    fields.remove("table.whitelist");
    fields.remove("slot.drop_on_stop");
    for (key, value) in [
        ("slot.drop.on.stop", "true".to_owned()),
        ("plugin.name", "pgoutput".to_owned()),
        ("topic.prefix", prefix.clone()),
        ("table.include.list", format!("{schema}.sql_table")),
        ("publication.name", publication.clone()),
        ("publication.autocreate.mode", "filtered".to_owned()),
    ] {
        fields.insert(key.to_owned(), Value::String(value));
    }
    let verdict = connect.validate(CONNECTOR_CLASS, &config);
    assert_eq!(
        verdict.body["error_count"],
        0,
        "{:?}",
        all_errors(&verdict.body)
    );

    let created = connect.put_config(&name, &config);
    assert_eq!(
        created.status, 201,
        "PUT /connectors/{name}/config: {created:?}"
    );
    let connector = Connector {
        connect: &connect,
        name: name.clone(),
    };
    connect.wait_running(&name, Duration::from_secs(90));
    assert_eq!(
        connect.status(&name).body["connector"]["version"],
        DEBEZIUM_VERSION
    );
    // streaming starts once the task holds its slot
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let active: i64 = pg
            .query_one(
                "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1 AND active",
                &[&slot],
            )
            .await
            .unwrap()
            .get(0);
        if active == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "slot {slot} not active: {:?}",
            connect.status(&name)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    pg.batch_execute(&format!(
        "INSERT INTO {schema}.sql_table(id, number) VALUES (123, 20000)"
    ))
    .await
    .unwrap();
    let topic = format!("{prefix}.{schema}.sql_table");
    let records = env::read_topic_from(&env::var("KAFKA_BOOTSTRAP_SERVERS"), &topic, 1);
    assert_eq!(records.len(), 1, "{records:?}");
    let record = &records[0];
    assert_eq!(record.key, None, "a table without a primary key has no key");
    let value = record.value_json().expect("an event, not a tombstone");
    assert_eq!(value["op"], "c", "{value}");
    assert_eq!(value["before"], Value::Null, "{value}");
    assert_eq!(
        value["after"],
        json!({"id": 123, "number": 20000}),
        "{value}"
    );
    assert!(value.get("schema").is_none(), "schemas off: {value}");
    let source = &value["source"];
    assert_eq!(source["version"], DEBEZIUM_VERSION, "{value}");
    assert_eq!(source["connector"], "postgresql", "{value}");
    assert_eq!(source["name"], prefix.as_str(), "{value}");
    assert_eq!(source["db"], env::var("PGDATABASE").as_str(), "{value}");
    assert_eq!(source["schema"], schema.as_str(), "{value}");
    assert_eq!(source["table"], "sql_table", "{value}");
    assert_eq!(source["snapshot"], "false", "{value}");
    assert!(
        source["txId"].as_i64().is_some() && source["lsn"].as_i64().is_some(),
        "{value}"
    );

    drop(connector);
    // slot.drop.on.stop drops the slot when the task stops; whatever is left goes here
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let active: i64 = pg
            .query_one(
                "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1 AND active",
                &[&slot],
            )
            .await
            .unwrap()
            .get(0);
        if active == 0 || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    pg.execute(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
         WHERE slot_name = $1 AND NOT active",
        &[&slot],
    )
    .await
    .unwrap();
    pg.batch_execute(&format!(
        "DROP PUBLICATION IF EXISTS {publication}; DROP SCHEMA {schema} CASCADE"
    ))
    .await
    .unwrap();
}
