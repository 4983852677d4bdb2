//! The core relay against the real services: what reaches Kafka (read back by the independent
//! client), where the slot ends, what the checkpoint object says.

use std::time::Duration;

use serde_json::Value;
use walbridge_tests::{self as env, KafkaRecord};

use crate::case::{Case, invoke, lsn_of, value};

#[tokio::test]
async fn the_guides_keyless_table_reaches_kafka_as_a_debezium_create_event() {
    // seed-guide.txt, steps 1 and 3: a table without a primary key.
    let case = Case::new("guide", "CREATE TABLE {s}.sql_table(id INT, number INT)").await;
    case.sql("INSERT INTO {s}.sql_table(id, number) VALUES(123, 20000)")
        .await;

    let report = invoke(case.config(&[])).await;
    assert_eq!((report.changes, report.events), (1, 1));
    assert!(report.caught_up);

    let records = env::read_topic(&case.topic("sql_table"), 1);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].key, None, "a table without a key has null keys");
    let event = value(&records[0]);
    assert_eq!(event["before"], Value::Null);
    assert_eq!(
        event["after"],
        serde_json::json!({"id": 123, "number": 20000})
    );
    assert_eq!(event["op"], "c");
    let source = &event["source"];
    assert_eq!(source["connector"], "postgresql");
    assert_eq!(source["name"], case.prefix.as_str());
    assert_eq!(source["db"], env::var("PGDATABASE").as_str());
    assert_eq!(source["schema"], case.schema.as_str());
    assert_eq!(source["table"], "sql_table");
    assert_eq!(source["snapshot"], "false");
    assert!(source["txId"].as_i64().unwrap() > 0);
    assert!(source["lsn"].as_i64().unwrap() > 0);
    // the value's field order is Debezium's
    let text = records[0].value_str().unwrap();
    assert!(
        text.starts_with(
            r#"{"before":null,"after":{"id":123,"number":20000},"source":{"version":"#
        ),
        "{text}"
    );
    assert_eq!(
        case.confirmed_flush_lsn().await,
        lsn_of(&report.end_lsn),
        "the slot moved to where the report says"
    );
    case.drop_slot().await;
}

#[tokio::test]
async fn a_keyed_table_through_insert_update_delete_and_key_change() {
    let case = Case::new(
        "keyed",
        "CREATE TABLE {s}.customers(id int PRIMARY KEY, name text NOT NULL, balance numeric(10,2));
         CREATE TABLE {s}.orders(id bigint PRIMARY KEY, customer int, note text);",
    )
    .await;
    case.sql(
        "INSERT INTO {s}.customers VALUES (1, 'Alice', 1234.50), (2, 'Bob', 0.01);
         UPDATE {s}.customers SET balance = 1000.00 WHERE id = 1;
         UPDATE {s}.customers SET id = 3 WHERE id = 2;
         DELETE FROM {s}.customers WHERE id = 1;
         BEGIN;
           INSERT INTO {s}.orders VALUES (10, 3, 'two tables, one transaction');
           UPDATE {s}.customers SET name = 'Robert' WHERE id = 3;
         COMMIT;",
    )
    .await;

    let report = invoke(case.config(&[])).await;
    assert_eq!(report.changes, 7);
    // 2 inserts, 1 update, key change (delete + tombstone + create), delete + tombstone, 2 in the
    // two-table transaction
    assert_eq!(report.events, 10);

    let customers = env::read_topic(&case.topic("customers"), 8);
    let summary: Vec<(String, Option<String>)> = customers
        .iter()
        .map(|r| {
            (
                r.key_str().unwrap().to_owned(),
                r.value_json().map(|v| v["op"].as_str().unwrap().to_owned()),
            )
        })
        .collect();
    // per key, in order (partitions are per key, so compare key by key)
    let of_key = |key: &str| -> Vec<Option<String>> {
        summary
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, op)| op.clone())
            .collect()
    };
    let op = |s: &str| Some(s.to_owned());
    assert_eq!(of_key(r#"{"id":1}"#), vec![op("c"), op("u"), op("d"), None]);
    assert_eq!(of_key(r#"{"id":2}"#), vec![op("c"), op("d"), None]);
    assert_eq!(of_key(r#"{"id":3}"#), vec![op("c"), op("u")]);

    let by_key_and_op = |key: &str, wanted: &str| -> &KafkaRecord {
        customers
            .iter()
            .find(|r| r.key_str() == Some(key) && r.value_json().is_some_and(|v| v["op"] == wanted))
            .unwrap()
    };
    let created = value(by_key_and_op(r#"{"id":1}"#, "c"));
    assert_eq!(
        created["after"],
        serde_json::json!({"id": 1, "name": "Alice", "balance": "AeI6"})
    );
    let deleted = value(by_key_and_op(r#"{"id":1}"#, "d"));
    assert_eq!(
        deleted["before"],
        serde_json::json!({"id": 1, "name": "", "balance": null}),
        "a delete under REPLICA IDENTITY DEFAULT: key columns, NOT NULL ones at their fallback"
    );
    let moved = by_key_and_op(r#"{"id":2}"#, "d");
    assert!(
        moved.headers.contains(&(
            "__debezium.newkey".to_owned(),
            Some(br#"{"id":3}"#.to_vec())
        )),
        "{:?}",
        moved.headers
    );
    // every record says where it stands in the slot's stream, strictly increasing per partition
    for partition in 0..3 {
        let positions: Vec<Vec<u8>> = customers
            .iter()
            .filter(|r| r.partition == partition)
            .map(|r| {
                r.headers
                    .iter()
                    .find(|(name, _)| name == "__walbridge.position")
                    .and_then(|(_, v)| v.clone())
                    .expect("a position header")
            })
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]));
    }
    // every record of one key sits in one partition: Kafka's murmur2 over the key bytes
    for key in [r#"{"id":1}"#, r#"{"id":2}"#, r#"{"id":3}"#] {
        let expected = walbridge_event::partition::partition_for_key(key.as_bytes(), 3) as i32;
        assert!(
            customers
                .iter()
                .filter(|r| r.key_str() == Some(key))
                .all(|r| r.partition == expected),
            "{key} in partition {expected}"
        );
    }

    let orders = env::read_topic(&case.topic("orders"), 1);
    let order = value(&orders[0]);
    let renamed = value(by_key_and_op(r#"{"id":3}"#, "u"));
    assert_eq!(
        order["source"]["txId"], renamed["source"]["txId"],
        "one transaction across two tables"
    );
    case.drop_slot().await;
}

#[tokio::test]
async fn ten_thousand_changes_cross_small_windows_exactly_once_in_order() {
    let case = Case::new(
        "windows",
        "CREATE TABLE {s}.t(id int PRIMARY KEY, v int NOT NULL)",
    )
    .await;
    // 1 000 transactions of 10 inserts each
    case.sql(
        "DO $$ BEGIN FOR i IN 0..999 LOOP
           INSERT INTO {s}.t SELECT i * 10 + g, i FROM generate_series(0, 9) g;
           COMMIT;
         END LOOP; END $$;",
    )
    .await;

    let config = || case.config(&[("window.max.changes", "250"), ("window.fetch.rows", "100")]);
    let mut report = invoke(config()).await;
    // Every transaction of the database costs its B and C rows in a window, also those of other
    // tests: on a busy server one invocation may run out of time before it catches up.
    for _ in 0..10 {
        if report.caught_up {
            break;
        }
        report = report.then(invoke(config()).await);
    }
    assert!(report.caught_up, "{report:?}");
    assert_eq!(report.changes, 10_000);
    assert_eq!(report.transactions, 1_000);
    assert!(report.windows >= 40, "{report:?}");

    let records = env::read_topic(&case.topic("t"), 10_000);
    assert_eq!(records.len(), 10_000, "exactly once: no duplicates");
    let mut ids: Vec<i64> = records
        .iter()
        .map(|r| value(r)["after"]["id"].as_i64().unwrap())
        .collect();
    // in order within each partition
    for partition in 0..3 {
        let in_partition: Vec<i64> = records
            .iter()
            .filter(|r| r.partition == partition)
            .map(|r| value(r)["after"]["id"].as_i64().unwrap())
            .collect();
        assert!(
            in_partition.windows(2).all(|w| w[0] < w[1]),
            "partition {partition} in commit order"
        );
    }
    ids.sort_unstable();
    assert_eq!(ids, (0..10_000).collect::<Vec<_>>());

    let slot_lsn = case.confirmed_flush_lsn().await;
    let checkpoint = case.checkpoint().await;
    assert_eq!(lsn_of(checkpoint["lsn"].as_str().unwrap()), slot_lsn);
    assert_eq!(lsn_of(&report.end_lsn), slot_lsn);

    // nothing is left: a second invocation publishes nothing
    let again = invoke(case.config(&[])).await;
    assert_eq!(again.changes, 0);
    case.drop_slot().await;
}

#[tokio::test]
async fn a_backlog_larger_than_a_window_is_read_in_windows_bounded_by_wal_exactly_once() {
    let case = Case::new(
        "wal_windows",
        "CREATE TABLE {s}.t(id int PRIMARY KEY, pad text NOT NULL);
         CREATE TABLE {s}.u(id int PRIMARY KEY, pad text NOT NULL);",
    )
    .await;
    let report = relay_a_backlog_in_windows(&case, case.config(&[]), "t", &case.topic("t")).await;
    assert!(
        report.windows_read_ahead >= 1,
        "PostgreSQL decodes the next window while one is published: {report:?}"
    );
    let slot_lsn = case.confirmed_flush_lsn().await;
    assert_eq!(
        lsn_of(case.checkpoint().await["lsn"].as_str().unwrap()),
        slot_lsn
    );
    assert_eq!(lsn_of(&report.end_lsn), slot_lsn);
    // The same, one window after the other.
    let one_by_one = case.config(&[("window.read.ahead", "false")]);
    let report = relay_a_backlog_in_windows(&case, one_by_one, "u", &case.topic("u")).await;
    assert_eq!(report.windows_read_ahead, 0, "{report:?}");
    assert_eq!(
        lsn_of(&report.end_lsn),
        case.confirmed_flush_lsn().await,
        "{report:?}"
    );
    case.drop_slot().await;
}

/// Writes about 40 MB of WAL to `{s}.<table>` (rows of 1 KB, stored uncompressed; more than the
/// first window spans, 8 MiB) in 40 transactions of 1 000 rows, relays it with `config` (no row
/// limit on the windows, the default) and checks that every row reached `topic` once and that
/// the windows ended at WAL bounds, not at row limits; returns the report.
pub(crate) async fn relay_a_backlog_in_windows(
    case: &Case,
    config: walbridge_config::Config,
    table: &str,
    topic: &str,
) -> walbridge_relay::InvocationReport {
    case.sql(&format!(
        "DO $$ BEGIN FOR i IN 0..39 LOOP
           INSERT INTO {{s}}.{table} SELECT i * 1000 + g, repeat('x', 1000)
             FROM generate_series(0, 999) g;
           COMMIT;
         END LOOP; END $$;"
    ))
    .await;
    let report = Box::pin(invoke(config)).await;
    assert!(report.caught_up, "{report:?}");
    assert_eq!(report.changes, 40_000);
    assert!(
        report.windows >= 2,
        "the first window ends at a WAL bound, not at a row limit: {report:?}"
    );
    let records = env::read_topic(topic, 40_000);
    assert_eq!(records.len(), 40_000, "exactly once: no duplicates");
    let mut ids: Vec<i64> = records
        .iter()
        .map(|r| value(r)["after"]["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..40_000).collect::<Vec<_>>());
    report
}

#[tokio::test]
async fn the_slot_moves_while_captured_tables_are_idle() {
    let case = Case::new(
        "idle",
        "CREATE TABLE {s}.captured(id int PRIMARY KEY); CREATE TABLE {s}.other(id int);",
    )
    .await;
    let include = format!("{}.captured", case.schema);
    let config = || case.config(&[("table.include.list", include.as_str())]);
    invoke(config()).await;
    let before = case.confirmed_flush_lsn().await;
    case.sql("INSERT INTO {s}.other SELECT generate_series(1, 1000)")
        .await;

    let report = invoke(config()).await;
    assert_eq!(
        report.changes, 0,
        "the other table is filtered inside wal2json"
    );
    let after = case.confirmed_flush_lsn().await;
    assert!(
        after > before,
        "confirmed_flush_lsn moved from {before:X} to {after:X}"
    );
    assert_eq!(after, lsn_of(&report.end_lsn));
    case.drop_slot().await;
}

#[tokio::test]
async fn a_second_concurrent_invocation_is_refused_and_changes_nothing() {
    let case = Case::new("fence", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    case.sql("INSERT INTO {s}.t SELECT generate_series(1, 10)")
        .await;
    // Another invocation holds the slot: its advisory lock is held by this session.
    let holder = env::pg().await;
    let locked: bool = holder
        .query_one(
            "SELECT pg_try_advisory_lock($1, hashtext($2))",
            &[&0x5741_4C42_i32, &case.slot],
        )
        .await
        .unwrap()
        .get(0);
    assert!(locked);
    let before = case.confirmed_flush_lsn().await;

    let report = invoke(case.config(&[])).await;
    assert!(
        report
            .skipped
            .as_deref()
            .unwrap()
            .contains("another invocation holds slot"),
        "{report:?}"
    );
    assert_eq!(report.events, 0);
    assert_eq!(case.confirmed_flush_lsn().await, before);

    drop(holder);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let report = invoke(case.config(&[])).await;
    assert_eq!(
        report.changes, 10,
        "once the lock is free the next invocation relays"
    );
    case.drop_slot().await;
}

#[tokio::test]
async fn two_invocations_at_once_relay_everything_exactly_once() {
    let case = Case::new("race", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    case.sql("INSERT INTO {s}.t SELECT generate_series(1, 20000)")
        .await;
    let (a, b) = tokio::join!(invoke(case.config(&[])), invoke(case.config(&[])));
    let mut changes = [a.changes, b.changes];
    changes.sort_unstable();
    assert_eq!(
        changes,
        [0, 20_000],
        "one relays, the other is refused or finds nothing: {a:?} {b:?}"
    );
    let records = env::read_topic(&case.topic("t"), 20_000);
    assert_eq!(records.len(), 20_000);
    case.drop_slot().await;
}

async fn handle(config: walbridge_config::Config, mode: &str) -> walbridge_relay::Response {
    let deps = walbridge_relay::Deps::new(config).await;
    let request: walbridge_relay::Request =
        serde_json::from_value(serde_json::json!({ "mode": mode })).unwrap();
    walbridge_relay::handle(
        &deps,
        &request,
        std::time::Instant::now() + Duration::from_secs(60),
    )
    .await
    .unwrap_or_else(|err| panic!("{mode} failed: {err:?}"))
}

#[tokio::test]
async fn status_reports_lag_and_checkpoint_and_changes_nothing() {
    let case = Case::new("status", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    case.sql("INSERT INTO {s}.t SELECT generate_series(1, 5)")
        .await;
    invoke(case.config(&[])).await;
    case.sql("INSERT INTO {s}.t SELECT generate_series(6, 8)")
        .await;
    let before = case.confirmed_flush_lsn().await;

    let walbridge_relay::Response::Status(status) = handle(case.config(&[]), "status").await else {
        panic!("a status report");
    };
    assert_eq!(
        case.confirmed_flush_lsn().await,
        before,
        "status moved nothing"
    );
    assert_eq!(lsn_of(&status.confirmed_flush_lsn), before);
    assert!(status.lag_bytes > 0, "three rows are waiting: {status:?}");
    assert_eq!(
        lsn_of(status.checkpoint_lsn.as_deref().unwrap()),
        before,
        "the checkpoint is where the slot is"
    );
    assert!(status.checkpoint_age_ms.unwrap() >= 0);
    assert!(status.last_commit_ms.unwrap() > 0);
    assert_eq!(status.last_invocation.unwrap().changes, 5);
    assert!(!status.slot_active);

    let walbridge_relay::Response::Relayed(report) = handle(case.config(&[]), "catchup").await
    else {
        panic!("a relay report");
    };
    assert_eq!(report.changes, 3);
    assert!(report.caught_up);
    case.drop_slot().await;
}

#[tokio::test]
async fn a_scheduled_invocation_polls_every_interval_until_its_duration_ends() {
    let case = Case::new("poll", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    case.sql("INSERT INTO {s}.t VALUES (1)").await;
    let config = case.config(&[("poll.interval.ms", "300"), ("poll.duration.ms", "2000")]);
    let writer = async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        case.sql("INSERT INTO {s}.t VALUES (2)").await;
    };
    let started = std::time::Instant::now();
    let (response, ()) = tokio::join!(handle(config, "relay"), writer);
    let walbridge_relay::Response::Relayed(report) = response else {
        panic!("a relay report");
    };
    let took = started.elapsed();
    assert_eq!(
        report.changes, 2,
        "the row written mid-invocation arrived in a later poll"
    );
    assert!(report.polls >= 5, "{report:?}");
    assert!(
        took >= Duration::from_millis(1700) && took < Duration::from_secs(10),
        "polled for about poll.duration.ms: {took:?}"
    );
    assert_eq!(env::read_topic(&case.topic("t"), 2).len(), 2);
    case.drop_slot().await;
}

#[tokio::test]
async fn debeziums_context_headers_are_on_every_record_unless_disabled() {
    let case = Case::new("ctx_headers", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    case.sql("INSERT INTO {s}.t VALUES (1); DELETE FROM {s}.t WHERE id = 1")
        .await;
    invoke(case.config(&[("extended.headers.enabled", "true")])).await;
    let records = env::read_topic(&case.topic("t"), 3);
    assert_eq!(records.len(), 3, "create, delete, tombstone");
    let run_id = |r: &KafkaRecord| {
        r.headers
            .iter()
            .find(|(n, _)| n == "__debezium.context.runId")
            .and_then(|(_, v)| v.clone())
            .map(|v| String::from_utf8(v).unwrap())
            .expect("a run id")
    };
    for record in &records {
        let names: Vec<&str> = record.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "__debezium.context.connectorLogicalName",
                "__debezium.context.connectorName",
                "__debezium.context.runId",
                "__debezium.context.taskId",
                "__walbridge.position",
            ]
        );
        let value = |name: &str| {
            record
                .headers
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, v)| v.as_deref())
                .map(|v| std::str::from_utf8(v).unwrap().to_owned())
        };
        assert_eq!(
            value("__debezium.context.connectorLogicalName").as_deref(),
            Some(case.prefix.as_str())
        );
        assert_eq!(value("__debezium.context.taskId").as_deref(), Some("0"));
        assert_eq!(
            value("__debezium.context.connectorName").as_deref(),
            Some("postgresql")
        );
        assert_eq!(run_id(record).len(), 36, "a UUID");
        assert_eq!(run_id(record), run_id(&records[0]), "one run id per run");
    }

    case.sql("INSERT INTO {s}.t VALUES (2)").await;
    invoke(case.config(&[("extended.headers.enabled", "false")])).await;
    let records = env::read_topic(&case.topic("t"), 4);
    let second = records
        .iter()
        .find(|r| r.value_json().is_some_and(|v| v["after"]["id"] == 2))
        .expect("the second insert");
    let names: Vec<&str> = second.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["__walbridge.position"]);
    case.drop_slot().await;
}

#[tokio::test]
async fn schema_changes_mid_stream_are_followed_without_a_restart() {
    let case = Case::new(
        "schema_change",
        "CREATE TABLE {s}.t(id int PRIMARY KEY, a int);",
    )
    .await;
    // All in one window, the catalog already at its last shape when walbridge reads it.
    case.sql(
        "INSERT INTO {s}.t VALUES (1, 1);
         ALTER TABLE {s}.t ADD COLUMN b text;
         INSERT INTO {s}.t VALUES (2, 2, 'x');
         ALTER TABLE {s}.t DROP COLUMN a;
         INSERT INTO {s}.t VALUES (3, 'y');
         ALTER TABLE {s}.t ALTER COLUMN b TYPE int USING length(b);
         INSERT INTO {s}.t VALUES (4, 7);",
    )
    .await;
    let report = crate::case::try_invoke(case.config(&[])).await;
    let report = report.unwrap_or_else(|err| panic!("{err:?}"));
    assert_eq!(report.events, 4, "{report:?}");
    let records = env::read_topic(&case.topic("t"), 4);
    let mut afters: Vec<Value> = records.iter().map(|r| value(r)["after"].clone()).collect();
    afters.sort_by_key(|a| a["id"].as_i64());
    assert_eq!(
        afters,
        [
            serde_json::json!({"id": 1, "a": 1}),
            serde_json::json!({"id": 2, "a": 2, "b": "x"}),
            serde_json::json!({"id": 3, "b": "y"}),
            serde_json::json!({"id": 4, "b": 7}),
        ]
    );
    case.drop_slot().await;
}

#[tokio::test]
async fn logical_decoding_messages_reach_kafka_as_debeziums_message_events() {
    let case = Case::new("messages", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    case.sql("INSERT INTO {s}.t VALUES (1)").await;
    case.sql("SELECT pg_logical_emit_message(false, '{s}.loose', 'standalone')")
        .await;
    case.sql(
        r#"BEGIN;
           SELECT pg_logical_emit_message(true, '{s}.outbox', '{"id":1}');
           INSERT INTO {s}.t VALUES (2);
           SELECT pg_logical_emit_message(true, '{s}.noise', 'left out');
         COMMIT"#,
    )
    .await;
    // a rolled-back transaction's messages are not decoded, its standalone ones are
    case.sql(
        "BEGIN;
           SELECT pg_logical_emit_message(false, '{s}.loose', 'kept');
           SELECT pg_logical_emit_message(true, '{s}.outbox', 'rolled back');
         ROLLBACK",
    )
    .await;
    case.sql("SELECT pg_logical_emit_message(false, '{s}.noise', 'left out too')")
        .await;
    // PostgreSQL 15 does not flush a standalone message's WAL (a window reads flushed WAL only); a
    // commit does, and the messages before it with it
    case.sql("INSERT INTO {s}.t VALUES (3)").await;

    // other tests' messages share the database: the include list leaves them out
    let include = format!("{}\\.(outbox|LOOSE)", case.schema);
    let report = invoke(case.config(&[("message.prefix.include.list", &include)])).await;
    assert_eq!((report.changes, report.events), (6, 6), "{report:?}");
    assert_eq!(
        case.confirmed_flush_lsn().await,
        lsn_of(&report.end_lsn),
        "the slot moved over the messages"
    );

    let topic = format!("{}.message", case.prefix);
    let ours = |records: Vec<KafkaRecord>| -> Vec<(String, Value, Vec<String>)> {
        records
            .into_iter()
            .map(|r| {
                let key = String::from_utf8(r.key.clone().unwrap()).unwrap();
                let headers = r.headers.iter().map(|(n, _)| n.clone()).collect();
                (key, value(&r), headers)
            })
            .filter(|(key, _, _)| key.contains(&case.schema))
            .collect()
    };
    let records = ours(env::read_topic(&topic, 3));
    assert_eq!(records.len(), 3, "{records:?}");
    let content = |v: &Value| {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(v["message"]["content"].as_str().unwrap())
            .unwrap();
        String::from_utf8(bytes).unwrap()
    };
    let by_prefix = |prefix: &str| -> Vec<&Value> {
        let key = format!(r#"{{"prefix":"{}.{prefix}"}}"#, case.schema);
        records
            .iter()
            .filter(|(k, _, _)| *k == key)
            .map(|(_, v, _)| v)
            .collect()
    };
    for (_, event, headers) in &records {
        assert_eq!(event["op"], "m");
        assert_eq!(
            (&event["source"]["schema"], &event["source"]["table"]),
            (&Value::from(""), &Value::from(""))
        );
        assert_eq!(event["transaction"], Value::Null);
        assert!(event.get("ts_us").is_none() && event["ts_ms"].as_i64().is_some());
        assert_eq!(headers, &["__walbridge.position"], "no context headers");
    }
    // standalone: no transaction id, its own LSN as the last commit, in emitted order
    let loose = by_prefix("loose");
    assert_eq!(
        loose.iter().map(|v| content(v)).collect::<Vec<_>>(),
        ["standalone", "kept"]
    );
    for event in &loose {
        let lsn = event["source"]["lsn"].as_i64().unwrap();
        assert_eq!(event["source"]["txId"], Value::Null);
        assert_eq!(event["source"]["sequence"], format!(r#"["{lsn}","{lsn}"]"#));
    }
    // in its transaction: its transaction id
    let outbox = by_prefix("outbox");
    assert_eq!(outbox.len(), 1);
    assert_eq!(content(outbox[0]), r#"{"id":1}"#);
    let changes = env::read_topic(&case.topic("t"), 3);
    let insert = changes
        .iter()
        .map(value)
        .find(|v| v["after"]["id"] == 2)
        .expect("the second insert");
    assert_eq!(outbox[0]["source"]["txId"], insert["source"]["txId"]);
    assert_eq!(outbox[0]["source"]["ts_us"], insert["source"]["ts_us"]);
    assert!(
        outbox[0]["source"]["lsn"].as_i64() <= insert["source"]["lsn"].as_i64(),
        "emitted before the insert"
    );

    // the exclude list instead
    case.sql("SELECT pg_logical_emit_message(false, '{s}.noise', 'excluded')")
        .await;
    case.sql("SELECT pg_logical_emit_message(false, '{s}.loose', 'after')")
        .await;
    case.sql("INSERT INTO {s}.t VALUES (4)").await;
    invoke(case.config(&[("message.prefix.exclude.list", ".*\\.NOISE")])).await;
    let records = ours(env::read_topic(&topic, 4));
    let keys: Vec<&str> = records.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(records.len(), 4, "{keys:?}");
    assert!(keys.iter().all(|k| !k.contains(".noise")), "{keys:?}");
    case.drop_slot().await;
}
