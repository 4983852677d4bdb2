//! An invocation that finds the slot's advisory lock held by another session relays nothing, but
//! still reports the slot's real lag and counts as skipped in its metrics record, so the alarms see a
//! pipeline a stuck lock holder stalls.

use std::process::Output;
use std::time::Duration;

use serde_json::Value;
use walbridge_tests as env;

use crate::case::Case;
use crate::validate::validate_command;

/// `walbridge invoke` for `case`: its report (stdout) and its metrics record (stderr, locally).
fn invoke_binary(case: &Case) -> (Value, Value) {
    let mut command = validate_command(case, &["invoke"], &[("SNAPSHOT_MODE", "no_data")]);
    let output: Output = command.output().expect("run walbridge");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "walbridge invoke failed: {stderr}");
    let report = serde_json::from_slice(&output.stdout).expect("a JSON report");
    let emf = stderr
        .lines()
        .find(|line| line.contains("\"CloudWatchMetrics\""))
        .map(|line| serde_json::from_str(line).unwrap())
        .unwrap_or_else(|| panic!("no EMF record in {stderr}"));
    (report, emf)
}

fn emitted_metrics(emf: &Value) -> Vec<&str> {
    emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_skipped_invocation_reports_the_slots_real_lag_and_counts_as_skipped() {
    let case = Case::new("skiplag", "CREATE TABLE {s}.t(id int PRIMARY KEY, v text)").await;
    case.sql("INSERT INTO {s}.t VALUES (0, 'first')").await;
    let (report, emf) = invoke_binary(&case);
    assert_eq!(report["changes"], 1);
    assert_eq!(emf["Skipped"], 0);
    assert!(emitted_metrics(&emf).contains(&"Skipped"));

    // Another session holds the slot (a zombie backend, a long local invoke) while changes pile up.
    let holder = env::pg().await;
    holder
        .execute(
            "SELECT pg_advisory_lock($1, hashtext($2))",
            &[&0x5741_4C42_i32, &case.slot],
        )
        .await
        .unwrap();
    case.sql("INSERT INTO {s}.t SELECT i, repeat('x', 200) FROM generate_series(1, 500) i")
        .await;
    let backlog = {
        let current: tokio_postgres::types::PgLsn = case
            .pg
            .query_one("SELECT pg_current_wal_lsn()", &[])
            .await
            .unwrap()
            .get(0);
        u64::from(current) - case.confirmed_flush_lsn().await
    };
    assert!(backlog > 100_000, "500 rows of 200 bytes: {backlog}");

    let (report, emf) = invoke_binary(&case);
    assert!(
        report["skipped"]
            .as_str()
            .is_some_and(|why| why.contains("another invocation holds slot")),
        "{report}"
    );
    assert_eq!(report["changes"], 0);
    let lag = report["lag_bytes"].as_u64().unwrap();
    assert!(
        lag >= backlog,
        "reported lag {lag}, backlog at least {backlog}"
    );
    assert!(report["last_commit_ms"].as_i64().is_some(), "{report}");
    assert_eq!(emf["Skipped"], 1, "{emf}");
    assert_eq!(emf["LagBytes"], lag, "{emf}");
    assert_eq!(emf["CaughtUp"], false);
    assert!(
        emf["LagSeconds"].as_f64().is_some_and(|s| s >= 0.0),
        "the checkpoint's last commit dates the lag: {emf}"
    );
    for name in ["Skipped", "LagBytes", "LagSeconds"] {
        assert!(emitted_metrics(&emf).contains(&name), "{name}: {emf}");
    }

    drop(holder);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (report, emf) = invoke_binary(&case);
    assert_eq!(
        report["changes"], 500,
        "once the lock is free the next invocation relays"
    );
    assert_eq!(emf["Skipped"], 0);
    case.drop_slot().await;
}
