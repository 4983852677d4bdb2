//! Snapshots against the real services: the existing rows as `op: "r"` events, read in chunks
//! across invocations while writers change the table, and each `snapshot.mode` on a fresh slot and
//! on a slot with a checkpoint.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use walbridge_relay::{Deps, InvocationReport};
use walbridge_tests::{self as env, KafkaRecord};

use crate::case::{Case, invoke, value};

const TABLE: &str = "CREATE TABLE {s}.t (id int PRIMARY KEY, v int NOT NULL, note text); \
     ALTER TABLE {s}.t REPLICA IDENTITY FULL;";

async fn invoke_for(config: walbridge_config::Config, budget: Duration) -> InvocationReport {
    let deps = Deps::new(config).await;
    walbridge_relay::invoke(&deps, Instant::now() + budget)
        .await
        .unwrap_or_else(|err| panic!("invocation failed: {err:?}"))
}

fn op(record: &KafkaRecord) -> Option<String> {
    record
        .value_json()
        .map(|v| v["op"].as_str().unwrap().to_owned())
}

/// Folds a topic by key, checking on the way that every event follows from the state before it:
/// a read equals the state the changes before it built (or starts it), an update's and a delete's
/// `before` (REPLICA IDENTITY FULL) equal the state, a create finds no row. Returns the final rows.
fn fold(records: &[KafkaRecord]) -> BTreeMap<String, Value> {
    let mut state: BTreeMap<String, Option<Value>> = BTreeMap::new();
    for record in records {
        let key = record.key_str().expect("keyed").to_owned();
        let Some(event) = record.value_json() else {
            continue;
        };
        let current = state.get(&key).cloned();
        let after = event["after"].clone();
        let before = event["before"].clone();
        match event["op"].as_str().unwrap() {
            "r" => match &current {
                Some(Some(row)) => assert_eq!(&after, row, "read of {key} older than its changes"),
                Some(None) => panic!("read of {key} after its delete"),
                None => {
                    state.insert(key, Some(after));
                }
            },
            "c" => {
                assert!(
                    !matches!(current, Some(Some(_))),
                    "create of existing {key}"
                );
                state.insert(key, Some(after));
            }
            "u" => {
                if let Some(Some(row)) = &current {
                    assert_eq!(&before, row, "update of {key} from another state");
                }
                state.insert(key, Some(after));
            }
            "d" => {
                if let Some(Some(row)) = &current {
                    assert_eq!(&before, row, "delete of {key} from another state");
                }
                state.insert(key, None);
            }
            other => panic!("unexpected op {other}"),
        }
    }
    state
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
}

async fn table_rows(case: &Case) -> BTreeMap<String, Value> {
    case.pg
        .query(&format!("SELECT id, v, note FROM {}.t", case.schema), &[])
        .await
        .unwrap()
        .iter()
        .map(|row| {
            let id: i32 = row.get(0);
            let v: i32 = row.get(1);
            let note: Option<String> = row.get(2);
            (
                json!({ "id": id }).to_string(),
                json!({ "id": id, "v": v, "note": note }),
            )
        })
        .collect()
}

/// A writer changing random rows in small transactions until told to stop: updates, deletes,
/// inserts and primary-key changes. Returns how many transactions it committed.
async fn write_until(schema: String, stop: tokio::sync::watch::Receiver<bool>) -> u64 {
    let pg = env::pg().await;
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut committed = 0;
    let mut new_id = 1_000_000;
    while !*stop.borrow() {
        let id = (next() % 20_000 + 1) as i32;
        let sql = match next() % 10 {
            0 => format!("DELETE FROM {schema}.t WHERE id = {id}"),
            1 => {
                new_id += 1;
                format!("INSERT INTO {schema}.t VALUES ({new_id}, 0, 'new')")
            }
            2 => {
                new_id += 1;
                format!(
                    "UPDATE {schema}.t SET id = {new_id} WHERE id = {id}; \
                     UPDATE {schema}.t SET v = v + 1 WHERE id = {}",
                    id / 2 + 1
                )
            }
            _ => format!("UPDATE {schema}.t SET v = v + 1, note = 'w' || v WHERE id = {id}"),
        };
        pg.batch_execute(&format!("BEGIN; {sql}; COMMIT"))
            .await
            .unwrap();
        committed += 1;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    committed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_initial_snapshot_spans_invocations_while_writers_change_the_table() {
    let ddl = format!(
        "{TABLE} INSERT INTO {{s}}.t SELECT g, 0, 'n' || g FROM generate_series(1, 20000) g; \
         ANALYZE {{s}}.t;"
    );
    let case = Case::new("snap_live", &ddl).await;
    let config = || {
        case.config(&[
            ("snapshot.mode", "initial"),
            ("snapshot.fetch.size", "500"),
            ("topic.creation.default.partitions", "3"),
        ])
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let writer = tokio::spawn(write_until(case.schema.clone(), stopped));

    // Short invocations (a 300 ms budget keeps 75 ms of margin), as a tight Lambda timeout would.
    let mut invocations_with_rows = 0;
    let mut snapshot_rows = 0;
    for _ in 0..200 {
        let report = invoke_for(config(), Duration::from_millis(300)).await;
        snapshot_rows += report.snapshot_rows;
        invocations_with_rows += u64::from(report.snapshot_rows > 0);
        let checkpoint = case.checkpoint().await;
        if checkpoint["snapshot"]["completed_at_ms"].is_i64() {
            break;
        }
    }
    stop.send(true).unwrap();
    let transactions = writer.await.unwrap();
    loop {
        let report = invoke(config()).await;
        assert_eq!(report.snapshot_rows, 0);
        if report.caught_up {
            break;
        }
    }
    eprintln!(
        "snapshot: {snapshot_rows} rows over {invocations_with_rows} invocations, \
         {transactions} concurrent transactions"
    );
    assert!(invocations_with_rows >= 5, "{invocations_with_rows}");
    assert!(transactions > 50, "the writer ran: {transactions}");

    let records = env::read_topic(&case.topic("t"), snapshot_rows as usize);
    let reads: Vec<&KafkaRecord> = records
        .iter()
        .filter(|r| op(r).as_deref() == Some("r"))
        .collect();
    assert_eq!(reads.len() as u64, snapshot_rows);
    // No concurrent change was lost and none applied twice: the fold is the table.
    assert_eq!(fold(&records), table_rows(&case).await);
    // Each record once (no crash here): positions are unique.
    let positions: HashSet<Vec<u8>> = records
        .iter()
        .map(|r| {
            r.headers
                .iter()
                .find(|(name, _)| name == "__walbridge.position")
                .and_then(|(_, v)| v.clone())
                .expect("a position")
        })
        .collect();
    assert_eq!(positions.len(), records.len());

    // Debezium's markers bracket the snapshot.
    let markers: Vec<String> = reads
        .iter()
        .map(|r| value(r)["source"]["snapshot"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(markers.iter().filter(|m| *m == "first").count(), 1);
    assert_eq!(markers.iter().filter(|m| *m == "last").count(), 1);
    assert!(
        markers
            .iter()
            .all(|m| ["first", "true", "last"].contains(&m.as_str()))
    );
    let first = reads
        .iter()
        .find(|r| value(r)["source"]["snapshot"] == "first")
        .unwrap();
    assert_eq!(value(first)["before"], Value::Null);
    assert_eq!(value(first)["after"]["id"], 1);

    let checkpoint = case.checkpoint().await;
    let table = &checkpoint["snapshot"]["tables"][0];
    assert_eq!(table["rows"].as_u64(), Some(snapshot_rows));
    assert_eq!(table["done"], true);
    assert_eq!(
        crate::case::lsn_of(checkpoint["lsn"].as_str().unwrap()),
        case.confirmed_flush_lsn().await
    );
    case.drop_slot().await;
}

#[tokio::test]
async fn each_snapshot_mode_on_a_fresh_slot_and_on_one_with_a_checkpoint() {
    let ddl = format!("{TABLE} INSERT INTO {{s}}.t SELECT g, 0, 'x' FROM generate_series(1, 5) g;");
    let case = Case::new("snap_modes", &ddl).await;
    let reads = |records: &[KafkaRecord]| {
        records
            .iter()
            .filter(|r| op(r).as_deref() == Some("r"))
            .count()
    };
    let run = |mode: &'static str, checkpoint: &'static str| {
        let config = case.config(&[
            ("snapshot.mode", mode),
            (
                "checkpoint.uri",
                &format!(
                    "s3://{}/{}-{checkpoint}",
                    env::bucket(),
                    case.checkpoint_key
                ),
            ),
        ]);
        invoke(config)
    };

    // no_data: streams only, from the slot's position.
    let report = run("no_data", "a").await;
    assert_eq!(report.snapshot_rows, 0);

    // initial_only on a fresh checkpoint: the rows, then no streaming (the slot stays).
    let before = case.confirmed_flush_lsn().await;
    case.sql("INSERT INTO {s}.t VALUES (6, 0, 'x')").await;
    let report = run("initial_only", "b").await;
    assert_eq!(report.snapshot_rows, 6);
    assert_eq!(report.changes, 0);
    assert_eq!(case.confirmed_flush_lsn().await, before);
    let report = run("initial_only", "b").await;
    assert_eq!((report.snapshot_rows, report.changes), (0, 0));

    // initial on a fresh checkpoint: the rows once; the next run streams.
    let report = run("initial", "c").await;
    assert_eq!(report.snapshot_rows, 6);
    case.sql("UPDATE {s}.t SET v = 1 WHERE id = 1").await;
    let report = run("initial", "c").await;
    assert_eq!((report.snapshot_rows, report.changes), (0, 1));

    // always: every cold start (each `Deps` here) reads the rows again.
    let report = run("always", "c").await;
    assert_eq!(report.snapshot_rows, 6);
    let report = run("always", "c").await;
    assert_eq!(report.snapshot_rows, 6);

    // when_needed: the slot was recreated, so the checkpoint's position is gone: read again
    // instead of failing (initial fails, naming the choice).
    case.pg
        .execute("SELECT pg_drop_replication_slot($1)", &[&case.slot])
        .await
        .unwrap();
    case.sql("INSERT INTO {s}.t VALUES (7, 0, 'x')").await;
    case.pg
        .execute(
            "SELECT pg_create_logical_replication_slot($1, 'wal2json')",
            &[&case.slot],
        )
        .await
        .unwrap();
    case.sql("UPDATE {s}.t SET v = 2 WHERE id = 2").await;
    let config = case.config(&[
        ("snapshot.mode", "initial"),
        (
            "checkpoint.uri",
            &format!("s3://{}/{}-c", env::bucket(), case.checkpoint_key),
        ),
    ]);
    let err = crate::case::try_invoke(config).await.unwrap_err();
    assert!(err.to_string().contains("checkpoint"), "{err}");
    let report = run("when_needed", "c").await;
    assert_eq!(report.snapshot_rows, 7);
    assert_eq!(report.changes, 1);

    let records = env::read_topic(&case.topic("t"), 1);
    assert_eq!(reads(&records), 6 + 6 + 6 + 6 + 7);
    case.drop_slot().await;
}
