//! Heartbeats against the real services: the interval counts across invocations through the
//! checkpoint object, the record lands on partition 0 whatever its key hashes to, and a failing
//! `heartbeat.action.query` is reported without stopping the relay.

use walbridge_event::partition::partition_for_key;
use walbridge_tests as env;

use crate::case::{Case, invoke, value};

const HOUR_MS: &str = "3600000";

/// A `topic.prefix` beside the case's whose heartbeat key does not hash to partition 0 of 3: the
/// partition then shows whether the record names its own.
fn prefix_off_partition_0(case: &Case) -> String {
    (0..)
        .map(|i| format!("{}-{i}", case.prefix))
        .find(|prefix| {
            let key = format!(r#"{{"serverName":"{prefix}"}}"#);
            partition_for_key(key.as_bytes(), 3) != 0
        })
        .expect("some prefix")
}

#[tokio::test]
async fn the_heartbeat_interval_counts_across_invocations_through_the_checkpoint() {
    let case = Case::new("heartbeat", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    let prefix = prefix_off_partition_0(&case);
    let topic = format!("__debezium-heartbeat.{prefix}");
    let beating = [
        ("topic.prefix", prefix.as_str()),
        ("heartbeat.interval.ms", HOUR_MS),
    ];

    // A checkpoint written without heartbeats (as by a release before them) loads.
    case.sql("INSERT INTO {s}.t VALUES (1)").await;
    let report = invoke(case.config(&[("topic.prefix", &prefix)])).await;
    assert_eq!((report.events, report.heartbeats), (1, 0));
    assert!(case.checkpoint().await.get("last_heartbeat_ms").is_none());

    // Heartbeats on: none was ever made, so the first invocation makes one.
    case.sql("INSERT INTO {s}.t VALUES (2)").await;
    let before = chrono::Utc::now().timestamp_millis();
    let report = invoke(case.config(&beating)).await;
    assert_eq!((report.events, report.heartbeats), (1, 1));
    let records = env::read_topic(&topic, 1);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].partition, 0, "Debezium names partition 0");
    assert_eq!(
        records[0].key_str(),
        Some(format!(r#"{{"serverName":"{prefix}"}}"#).as_str())
    );
    let made = value(&records[0])["ts_ms"].as_i64().expect("ts_ms");
    assert!(made >= before, "{made} < {before}");
    let checkpoint = case.checkpoint().await;
    assert_eq!(checkpoint["last_heartbeat_ms"], made);

    // A later invocation (a cold start: only the checkpoint remembers) within the hour: none.
    case.sql("INSERT INTO {s}.t VALUES (3)").await;
    let report = invoke(case.config(&beating)).await;
    assert_eq!((report.events, report.heartbeats), (1, 0));
    assert_eq!(case.checkpoint().await["last_heartbeat_ms"], made);
    // …nor with nothing to relay.
    let report = invoke(case.config(&beating)).await;
    assert_eq!((report.events, report.heartbeats), (0, 0));

    // Once the interval has passed since that one (1 ms has, by now), the next invocation makes
    // one, with nothing to relay too.
    let report = invoke(case.config(&[
        ("topic.prefix", prefix.as_str()),
        ("heartbeat.interval.ms", "1"),
    ]))
    .await;
    assert_eq!((report.events, report.heartbeats), (0, 1));
    let records = env::read_topic(&topic, 2);
    assert_eq!(records.len(), 2);
    let second = value(&records[1])["ts_ms"].as_i64().expect("ts_ms");
    assert!(second > made);
    assert_eq!(records[1].partition, 0);
    assert_eq!(case.checkpoint().await["last_heartbeat_ms"], second);
    // the data went to its own topic meanwhile
    assert_eq!(
        env::read_topic(&format!("{prefix}.{}.t", case.schema), 3).len(),
        3
    );
    case.drop_slot().await;
}

#[tokio::test]
async fn a_failing_heartbeat_action_query_is_reported_and_relaying_goes_on() {
    let case = Case::new(
        "heartbeat_query",
        "CREATE TABLE {s}.t(id int PRIMARY KEY); \
         CREATE TABLE {s}.beats(id serial PRIMARY KEY, secret text)",
    )
    .await;
    case.sql("INSERT INTO {s}.t VALUES (1)").await;
    let failing = format!(
        "INSERT INTO {}.no_such_table VALUES ('sesame-4711')",
        case.schema
    );
    let report = invoke(case.config(&[
        ("heartbeat.interval.ms", "1"),
        ("heartbeat.action.query", &failing),
    ]))
    .await;
    assert_eq!(report.events, 1);
    assert_eq!(report.heartbeats, 1);
    assert_eq!(report.heartbeat_query_errors, 1);
    assert!(report.caught_up);
    let json = serde_json::to_string(&report).unwrap();
    assert!(json.contains(r#""heartbeat_query_errors":1"#), "{json}");
    assert!(!json.contains("sesame"), "{json}");
    assert_eq!(
        env::read_topic(&format!("__debezium-heartbeat.{}", case.prefix), 1).len(),
        1
    );
    let lsn = case.confirmed_flush_lsn().await;
    assert!(lsn > 0);

    // A working query runs on a connection of its own: committed, whatever the slot's session
    // does with its window's transaction.
    let working = format!(
        "INSERT INTO {}.beats(secret) VALUES ('sesame-4711')",
        case.schema
    );
    case.sql("INSERT INTO {s}.t VALUES (2)").await;
    let report = invoke(case.config(&[
        ("heartbeat.interval.ms", "1"),
        ("heartbeat.action.query", &working),
    ]))
    .await;
    assert_eq!(report.events, 1);
    assert_eq!((report.heartbeats, report.heartbeat_query_errors), (1, 0));
    let beats: i64 = case
        .pg
        .query_one(&format!("SELECT count(*) FROM {}.beats", case.schema), &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(beats, 1);
    assert!(case.confirmed_flush_lsn().await > lsn);
    case.drop_slot().await;
}
