//! One CloudWatch Embedded Metric Format record per invocation: a JSON log line CloudWatch turns into
//! metrics (namespace `walbridge`, dimension `Slot`) that the deployment's alarms read.

use serde_json::{Value, json};

use crate::pipeline::InvocationReport;
use crate::postgres::SlotHealth;

/// The EMF namespace; the template's alarms use it.
pub const NAMESPACE: &str = "walbridge";

/// The EMF record for `report` of `slot`, stamped `now_ms`.
///
/// `LagSeconds` is 0 when the invocation caught up, else the age of the last commit it published
/// (a lower bound of how far behind the slot is); absent when unknown. `Skipped` is 1 when the
/// invocation found the slot locked by another session and relayed nothing (its lag is still the
/// slot's), else 0, so an alarm can catch a lock holder that never lets go. `WindowUnfinished` is 1
/// when the time ran out inside a window (a transaction larger than one invocation can carry is
/// read on over several), else 0. `Heartbeats` counts the heartbeat records published and
/// `HeartbeatQueryErrors` the runs of `heartbeat.action.query` that failed (never fatal: an alarm
/// on it is the way to hear of them).
pub fn emf_record(slot: &str, report: &InvocationReport, now_ms: i64) -> Value {
    let lag_seconds = if report.caught_up {
        Some(0.0)
    } else {
        report
            .last_commit_ms
            .map(|commit| (now_ms - commit).max(0) as f64 / 1000.0)
    };
    let mut metrics = vec![
        json!({"Name": "Changes", "Unit": "Count"}),
        json!({"Name": "Events", "Unit": "Count"}),
        json!({"Name": "Windows", "Unit": "Count"}),
        json!({"Name": "LagBytes", "Unit": "Bytes"}),
        json!({"Name": "DurationMs", "Unit": "Milliseconds"}),
        json!({"Name": "Skipped", "Unit": "Count"}),
        json!({"Name": "WindowUnfinished", "Unit": "Count"}),
        json!({"Name": "Heartbeats", "Unit": "Count"}),
        json!({"Name": "HeartbeatQueryErrors", "Unit": "Count"}),
    ];
    if lag_seconds.is_some() {
        metrics.push(json!({"Name": "LagSeconds", "Unit": "Seconds"}));
    }
    let mut record = directive(now_ms, metrics);
    merge(
        &mut record,
        json!({
            "Slot": slot,
            "Changes": report.changes,
            "Events": report.events,
            "Windows": report.windows,
            "LagBytes": report.lag_bytes,
            "DurationMs": report.duration_ms,
            "Skipped": u8::from(report.skipped.is_some()),
            "WindowUnfinished": u8::from(report.window_unfinished),
            "Heartbeats": report.heartbeats,
            "HeartbeatQueryErrors": report.heartbeat_query_errors,
            "CaughtUp": report.caught_up,
        }),
    );
    if let Some(lag) = lag_seconds {
        record["LagSeconds"] = json!(lag);
    }
    record
}

/// Adds the slot's health, read at the start of the invocation, to `record`: `WalStatus` (0
/// reserved, 1 extended, 2 unreserved, 3 lost), when `max_slot_wal_keep_size` bounds it,
/// `SafeWalBytes` — what the alarms before an invalidation read — and `RestartLagBytes`, the
/// stretch every window decodes again (what a transaction left open makes grow).
pub fn add_health(record: &mut Value, health: &SlotHealth) {
    let mut added = Vec::new();
    if let Some(code) = health.wal_status_code() {
        record["WalStatus"] = json!(code);
        added.push(json!({"Name": "WalStatus", "Unit": "None"}));
    }
    if let Some(safe) = health.safe_wal_size_bytes {
        record["SafeWalBytes"] = json!(safe);
        added.push(json!({"Name": "SafeWalBytes", "Unit": "Bytes"}));
    }
    if let Some(restart_lag) = health.restart_lag_bytes {
        record["RestartLagBytes"] = json!(restart_lag);
        added.push(json!({"Name": "RestartLagBytes", "Unit": "Bytes"}));
    }
    if let Some(metrics) = record["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array_mut() {
        metrics.extend(added);
    }
}

/// The EMF record of an invocation that failed after the watchdog read the slot's health: the lag
/// and the WAL status still reach the alarms when Kafka, the store or a window fails — exactly when
/// the slot starts to grow.
pub fn emf_failure_record(slot: &str, health: &SlotHealth, now_ms: i64) -> Value {
    let metrics = vec![
        json!({"Name": "LagBytes", "Unit": "Bytes"}),
        json!({"Name": "Failed", "Unit": "Count"}),
    ];
    let mut record = directive(now_ms, metrics);
    merge(
        &mut record,
        json!({"Slot": slot, "LagBytes": health.lag_bytes, "Failed": 1, "CaughtUp": false}),
    );
    add_health(&mut record, health);
    record
}

/// The EMF metadata: `metrics` of namespace [`NAMESPACE`], dimension `Slot`, at `now_ms`.
fn directive(now_ms: i64, metrics: Vec<Value>) -> Value {
    json!({
        "_aws": {
            "Timestamp": now_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Slot"]],
                "Metrics": metrics,
            }],
        },
    })
}

/// Adds the members of the object `values` to the object `record`.
fn merge(record: &mut Value, values: Value) {
    if let (Some(record), Value::Object(values)) = (record.as_object_mut(), values) {
        record.extend(values);
    }
}

#[cfg(test)]
mod tests {
    use walbridge_event::Lsn;

    use super::*;
    use crate::source::SlotPosition;

    fn report(caught_up: bool) -> InvocationReport {
        InvocationReport {
            changes: 10,
            events: 12,
            snapshot_rows: 0,
            windows: 2,
            windows_read_ahead: 1,
            transactions: 3,
            start_lsn: "0/10".into(),
            end_lsn: "0/20".into(),
            caught_up,
            lag_bytes: 4096,
            duration_ms: 150,
            polls: 1,
            last_commit_ms: Some(1_000_000),
            skipped: None,
            window_unfinished: false,
            heartbeats: 1,
            heartbeat_query_errors: 0,
        }
    }

    #[test]
    fn an_invocation_becomes_one_emf_record_with_the_slot_dimension() {
        let record = emf_record("orders_slot", &report(false), 1_004_500);
        let directive = &record["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "walbridge");
        assert_eq!(directive["Dimensions"], json!([["Slot"]]));
        let names: Vec<&str> = directive["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        for name in &names {
            assert!(record.get(*name).is_some(), "{name} has a value");
        }
        assert_eq!(record["Slot"], "orders_slot");
        assert_eq!(record["LagBytes"], 4096);
        assert_eq!(record["LagSeconds"], 4.5);
        assert_eq!(record["_aws"]["Timestamp"], 1_004_500);
    }

    #[test]
    fn a_caught_up_invocation_has_no_time_lag() {
        assert_eq!(emf_record("s", &report(true), 9_999_999)["LagSeconds"], 0.0);
    }

    #[test]
    fn a_skipped_invocation_counts_as_skipped_and_keeps_the_slots_lag() {
        assert_eq!(emf_record("s", &report(false), 1_004_500)["Skipped"], 0);
        let position = SlotPosition {
            confirmed: Lsn(0x1000),
            current: Lsn(0x5000),
            synced: false,
        };
        let skipped = InvocationReport::skipped("locked".into(), position, Some(1_000_000));
        let record = emf_record("s", &skipped, 1_004_500);
        assert_eq!(record["Skipped"], 1);
        assert_eq!(record["LagBytes"], 0x4000);
        assert_eq!(
            record["LagSeconds"], 4.5,
            "age of the checkpoint's last commit"
        );
        assert_eq!(record["CaughtUp"], false);

        let idle = SlotPosition {
            confirmed: Lsn(0x5000),
            current: Lsn(0x5000),
            synced: false,
        };
        let record = emf_record(
            "s",
            &InvocationReport::skipped("locked".into(), idle, None),
            1,
        );
        assert_eq!(
            (record["LagBytes"].as_u64(), record["LagSeconds"].as_f64()),
            (Some(0), Some(0.0))
        );
    }

    fn health(wal_status: &str, safe: Option<i64>) -> SlotHealth {
        SlotHealth {
            confirmed_flush_lsn: "0/1000".into(),
            current_wal_lsn: "0/5000".into(),
            lag_bytes: 0x4000,
            wal_status: Some(wal_status.into()),
            safe_wal_size_bytes: safe,
            invalidation_reason: None,
            inactive_since: None,
            restart_lag_bytes: Some(0x800),
        }
    }

    #[test]
    fn a_failed_invocation_still_reports_the_slots_lag_and_wal_status() {
        let record = emf_failure_record("s", &health("unreserved", Some(1 << 20)), 7);
        assert_eq!(record["LagBytes"], 0x4000);
        assert_eq!(record["WalStatus"], 2);
        assert_eq!(record["SafeWalBytes"], 1 << 20);
        assert_eq!(record["Failed"], 1);
        let names: Vec<&str> = record["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert_eq!(record["RestartLagBytes"], 0x800);
        assert_eq!(
            names,
            [
                "LagBytes",
                "Failed",
                "WalStatus",
                "SafeWalBytes",
                "RestartLagBytes"
            ]
        );
        // unbounded: no SafeWalBytes
        let mut relayed = emf_record("s", &report(true), 7);
        add_health(&mut relayed, &health("reserved", None));
        assert_eq!(relayed["WalStatus"], 0);
        assert!(relayed.get("SafeWalBytes").is_none());
    }
}
