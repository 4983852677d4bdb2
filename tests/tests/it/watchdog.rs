//! The slot's health, read first thing every invocation: it reaches the metrics even when the relay
//! then fails, `walbridge status` shows it, and a slot PostgreSQL invalidated is a clear error with
//! the way out.

use std::process::Output;

use serde_json::Value;
use walbridge_tests::{self as env, PrivatePostgres};

use crate::case::{Case, walbridge_invoke};

/// The EMF records a `walbridge invoke` printed (JSON lines with `_aws` on stderr).
fn emf_records(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|v| v.get("_aws").is_some())
        .collect()
}

#[tokio::test]
async fn a_relay_failing_on_an_unreachable_broker_still_reports_the_slots_lag() {
    let case = Case::new("watchdog", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    case.sql("INSERT INTO {s}.t SELECT generate_series(1, 100)")
        .await;
    let closed = env::free_port();
    let output = walbridge_invoke(&format!("s3://{}/{}", env::bucket(), case.checkpoint_key))
        .env("SLOT_NAME", &case.slot)
        .env("TABLE_INCLUDE_LIST", format!("{}.*", case.schema))
        .env("TOPIC_PREFIX", &case.prefix)
        .env("SNAPSHOT_MODE", "no_data")
        .env("KAFKA_BOOTSTRAP_SERVERS", format!("127.0.0.1:{closed}"))
        .env("KAFKA_PUBLISH_TIMEOUT_MS", "2000")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run walbridge invoke");
    assert!(!output.status.success(), "the broker is unreachable");
    let records = emf_records(&output);
    assert_eq!(
        records.len(),
        1,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let record = &records[0];
    assert!(record["LagBytes"].as_u64().unwrap() > 0, "{record}");
    assert_eq!(record["WalStatus"], 0, "reserved: {record}");
    assert_eq!(record["Failed"], 1);

    // status shows the WAL status too
    let status = walbridge_invoke(&format!("s3://{}/{}", env::bucket(), case.checkpoint_key))
        .env("SLOT_NAME", &case.slot)
        .env("TOPIC_PREFIX", &case.prefix)
        .arg(r#"{"mode":"status"}"#)
        .output()
        .expect("run walbridge invoke status");
    let report: Value = serde_json::from_slice(&status.stdout).expect("a status report");
    assert_eq!(report["wal_status"], "reserved", "{report}");
    assert!(report.get("safe_wal_size_bytes").is_some(), "{report}");
    case.drop_slot().await;
}

#[tokio::test]
async fn a_slot_postgresql_invalidated_is_an_error_naming_the_way_out() {
    // A cluster of its own that keeps at most one WAL segment for slots.
    let server = PrivatePostgres::init("lostslot", "walbridge", "lost-slot-pw");
    server.configure(
        "wal_level = logical\nmax_replication_slots = 4\nmax_wal_senders = 4\n\
         max_slot_wal_keep_size = '1MB'\nmin_wal_size = '32MB'\nmax_wal_size = '64MB'\n",
    );
    server.start();
    server.allow_wal2json();
    server.psql("SELECT pg_create_logical_replication_slot('lost_slot', 'wal2json')");
    server.psql("CREATE TABLE t(id int, pad text)");
    // Enough WAL, over several segments, for a checkpoint to remove what the slot needs.
    for _ in 0..4 {
        server.psql(
            "INSERT INTO t SELECT g, repeat('x', 500) FROM generate_series(1, 40000) g; \
             SELECT pg_switch_wal(); CHECKPOINT;",
        );
    }
    let status = server.psql("SELECT wal_status FROM pg_replication_slots");
    assert_eq!(status, "lost", "the slot lost its WAL");

    let case = Case::new("lostslot", "").await;
    let output = walbridge_invoke(&format!("s3://{}/{}", env::bucket(), case.checkpoint_key))
        .env("DATABASE_HOSTNAME", "127.0.0.1")
        .env("DATABASE_PORT", server.port.to_string())
        .env("DATABASE_USER", "walbridge")
        .env("DATABASE_PASSWORD", "lost-slot-pw")
        .env("DATABASE_DBNAME", "postgres")
        .env("SLOT_NAME", "lost_slot")
        .env("TOPIC_PREFIX", &case.prefix)
        .env("SNAPSHOT_MODE", "no_data")
        .output()
        .expect("run walbridge invoke");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("invalidated") && stderr.contains("when_needed"),
        "{stderr}"
    );
    let records = emf_records(&output);
    assert_eq!(records.len(), 1, "{stderr}");
    assert_eq!(records[0]["WalStatus"], 3, "lost");
    case.drop_slot().await;
}
