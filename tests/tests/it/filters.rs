//! Debezium's filters and keys against the real services: which tables and columns reach Kafka,
//! what the records are keyed by (and partitioned on), which operations are skipped — asserted on
//! the bytes read back by the independent client.

use serde_json::{Value, json};
use walbridge_event::partition::partition_for_key;
use walbridge_tests::{self as env, KafkaRecord};

use crate::case::{Case, invoke, value};

fn ops(records: &[KafkaRecord]) -> Vec<String> {
    let mut ops: Vec<String> = records
        .iter()
        .map(|r| match r.value_json() {
            Some(v) => v["op"]
                .as_str()
                .or_else(|| v["payload"]["op"].as_str())
                .unwrap()
                .to_owned(),
            None => "tombstone".to_owned(),
        })
        .collect();
    ops.sort();
    ops
}

#[tokio::test]
async fn table_regexes_pick_tables_case_insensitively_and_exclusions_win() {
    let case = Case::new(
        "flt_tables",
        "CREATE TABLE {s}.orders_2024(id int PRIMARY KEY);
         CREATE TABLE {s}.orders_2025(id int PRIMARY KEY);
         CREATE TABLE {s}.orders_archive(id int PRIMARY KEY);
         CREATE TABLE {s}.\"Customers\"(id int PRIMARY KEY);",
    )
    .await;
    case.sql(
        "INSERT INTO {s}.orders_2024 VALUES (1);
         INSERT INTO {s}.orders_2025 VALUES (2);
         INSERT INTO {s}.orders_archive VALUES (3);
         INSERT INTO {s}.\"Customers\" VALUES (4);",
    )
    .await;
    // A regex (not expressible as wal2json add-tables): filtered in walbridge.
    let include = format!(
        "{0}\\.orders_\\d{{4}},{0}.customers",
        case.schema.to_uppercase()
    );
    let report = invoke(case.config(&[("table.include.list", include.as_str())])).await;
    assert_eq!((report.changes, report.events), (3, 3), "{report:?}");
    for (table, id) in [("orders_2024", 1), ("orders_2025", 2), ("Customers", 4)] {
        let records = env::read_topic(&case.topic(table), 1);
        assert_eq!(records.len(), 1, "{table}");
        assert_eq!(value(&records[0])["after"], json!({ "id": id }), "{table}");
    }

    // The exclude list, over the whole schema.
    case.sql(
        "INSERT INTO {s}.orders_2024 VALUES (10);
         INSERT INTO {s}.orders_archive VALUES (30);",
    )
    .await;
    let report = invoke(case.config(&[
        ("table.include.list", ""),
        ("schema.include.list", case.schema.as_str()),
        ("table.exclude.list", ".*\\.ORDERS_2.*"),
    ]))
    .await;
    assert_eq!((report.changes, report.events), (1, 1), "{report:?}");
    let archive = env::read_topic(&case.topic("orders_archive"), 1);
    assert_eq!(archive.len(), 1, "the first run left orders_archive out");
    assert_eq!(value(&archive[0])["after"], json!({"id": 30}));
    assert_eq!(env::read_topic(&case.topic("orders_2024"), 1).len(), 1);
    case.drop_slot().await;
}

#[tokio::test]
async fn excluded_columns_leave_the_value_and_its_schema_but_not_the_key() {
    let case = Case::new(
        "flt_columns",
        "CREATE TABLE {s}.users(id int, tenant int, email text, password text, PRIMARY KEY (tenant, id));
         ALTER TABLE {s}.users REPLICA IDENTITY FULL;",
    )
    .await;
    case.sql(
        "INSERT INTO {s}.users VALUES (1, 7, 'a@x', 'hunter2');
         UPDATE {s}.users SET password = 'pw2', email = 'b@x' WHERE id = 1;
         DELETE FROM {s}.users WHERE id = 1;",
    )
    .await;
    let exclude = format!("{}\\.users\\.(password|TENANT)", case.schema);
    let report = invoke(case.config(&[
        ("column.exclude.list", exclude.as_str()),
        ("value.converter.schemas.enable", "true"),
    ]))
    .await;
    assert_eq!(report.events, 4, "{report:?}");
    let records = env::read_topic(&case.topic("users"), 4);
    assert_eq!(ops(&records), ["c", "d", "tombstone", "u"]);
    for record in &records {
        assert_eq!(record.key_str(), Some(r#"{"tenant":7,"id":1}"#));
        let text = record.value_str().unwrap_or_default();
        assert!(
            !text.contains("hunter2") && !text.contains("pw2") && !text.contains("password"),
            "{text}"
        );
        let Some(event) = record.value_json() else {
            continue;
        };
        let payload = &event["payload"];
        for side in ["before", "after"] {
            if !payload[side].is_null() {
                // serde_json's map is sorted; the order is checked on the schema below.
                let fields: Vec<&str> = payload[side]
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(String::as_str)
                    .collect();
                assert_eq!(fields, ["email", "id"], "{side}: {text}");
            }
        }
        let schema_fields: Vec<&str> = event["schema"]["fields"][0]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert_eq!(schema_fields, ["id", "email"]);
    }
    case.drop_slot().await;
}

#[tokio::test]
async fn message_key_columns_key_and_partition_the_records() {
    let case = Case::new(
        "flt_keys",
        "CREATE TABLE {s}.orders(id int PRIMARY KEY, customer text NOT NULL, note text);
         ALTER TABLE {s}.orders REPLICA IDENTITY FULL;
         CREATE TABLE {s}.events(seq int, kind text);",
    )
    .await;
    case.sql(
        "INSERT INTO {s}.orders VALUES (1, 'alice', 'x'), (2, 'bob', 'y'), (3, 'alice', 'z');
         UPDATE {s}.orders SET note = 'w' WHERE id = 2;
         DELETE FROM {s}.orders WHERE id = 3;
         INSERT INTO {s}.events VALUES (5, 'boot');",
    )
    .await;
    let keys = format!(
        "{0}.orders:customer,id;{0}\\.ev.*:kind",
        case.schema.to_uppercase()
    );
    let report = invoke(case.config(&[
        ("message.key.columns", keys.as_str()),
        ("key.converter.schemas.enable", "true"),
    ]))
    .await;
    assert_eq!(report.events, 7, "{report:?}");

    let orders = env::read_topic(&case.topic("orders"), 6);
    assert_eq!(orders.len(), 6);
    let key_schema = json!({
        "type": "struct",
        "fields": [
            {"type": "string", "optional": false, "field": "customer"},
            {"type": "int32", "optional": false, "field": "id"},
        ],
        "optional": false,
        "name": format!("{}.{}.orders.Key", case.prefix, case.schema),
    });
    let mut payloads: Vec<(String, Value)> = Vec::new();
    for record in &orders {
        let key: Value = serde_json::from_slice(record.key.as_deref().unwrap()).unwrap();
        assert_eq!(key["schema"], key_schema);
        // Kafka's default partitioner: murmur2 over the key bytes, schema envelope included.
        assert_eq!(
            record.partition as u32,
            partition_for_key(record.key.as_deref().unwrap(), 3)
        );
        let op = record.value_json().map_or("tombstone".to_owned(), |v| {
            v["op"].as_str().unwrap().to_owned()
        });
        payloads.push((op, key["payload"].clone()));
    }
    payloads.sort_by_key(|(op, key)| (op.clone(), key.to_string()));
    assert_eq!(
        payloads,
        [
            ("c".to_owned(), json!({"customer": "alice", "id": 1})),
            ("c".to_owned(), json!({"customer": "alice", "id": 3})),
            ("c".to_owned(), json!({"customer": "bob", "id": 2})),
            ("d".to_owned(), json!({"customer": "alice", "id": 3})),
            (
                "tombstone".to_owned(),
                json!({"customer": "alice", "id": 3})
            ),
            ("u".to_owned(), json!({"customer": "bob", "id": 2})),
        ]
    );

    // A keyless table gets a key.
    let events = env::read_topic(&case.topic("events"), 1);
    let key: Value = serde_json::from_slice(events[0].key.as_deref().unwrap()).unwrap();
    assert_eq!(key["payload"], json!({"kind": "boot"}));
    assert_eq!(key["schema"]["fields"][0]["optional"], true);
    case.drop_slot().await;
}

#[tokio::test]
async fn skipped_operations_are_not_published() {
    let case = Case::new(
        "flt_skipped",
        "CREATE TABLE {s}.items(id int PRIMARY KEY, qty int);",
    )
    .await;
    case.sql(
        "INSERT INTO {s}.items VALUES (1, 1), (2, 2);
         UPDATE {s}.items SET qty = 5 WHERE id = 1;
         UPDATE {s}.items SET id = 20 WHERE id = 2;
         DELETE FROM {s}.items WHERE id = 1;",
    )
    .await;
    let report = invoke(case.config(&[("skipped.operations", "d,u")])).await;
    // Inserts 1 and 2 only: a skipped update takes its key change (delete, tombstone, create)
    // with it, as Debezium's publication does; the delete is skipped, tombstone included.
    assert_eq!((report.changes, report.events), (2, 2), "{report:?}");
    let records = env::read_topic(&case.topic("items"), 2);
    assert_eq!(ops(&records), ["c", "c"]);
    let mut ids: Vec<i64> = records
        .iter()
        .map(|r| value(r)["after"]["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, [1, 2]);

    // `none` skips nothing; the default (`t`) keeps deletes and their tombstones.
    case.sql("DELETE FROM {s}.items WHERE id = 20").await;
    let report = invoke(case.config(&[])).await;
    assert_eq!(report.events, 2, "{report:?}");
    let records = env::read_topic(&case.topic("items"), 4);
    assert_eq!(ops(&records), ["c", "c", "d", "tombstone"]);
    case.drop_slot().await;
}
