//! Snapshots against the real services: the existing rows as `op: "r"` events, read in chunks
//! across invocations while writers change the table, and each `snapshot.mode` on a fresh slot and
//! on a slot with a checkpoint.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use walbridge_relay::{Deps, InvocationReport};
use walbridge_tests::{self as env, KafkaRecord};

use crate::case::{Case, invoke, value, walbridge_invoke};

const TABLE: &str = "CREATE TABLE {s}.t (id int PRIMARY KEY, v int NOT NULL, note text); \
     ALTER TABLE {s}.t REPLICA IDENTITY FULL;";

async fn invoke_for(config: walbridge_config::Config, budget: Duration) -> InvocationReport {
    let deps = Deps::new(config).await;
    walbridge_relay::invoke(&deps, Instant::now() + budget)
        .await
        .unwrap_or_else(|err| panic!("invocation failed: {err:?}"))
}

/// Invocations as short as the machine allows: each gets `budget`, and one that moved nothing
/// (on a loaded machine connecting alone can take the whole of a short budget) makes the next
/// one's 100 ms longer, up to 3 s, so that the test measures progress across invocations rather
/// than the machine's speed.
struct ShortInvocations {
    budget: Duration,
}

impl ShortInvocations {
    fn new(budget: Duration) -> Self {
        Self { budget }
    }

    async fn invoke(&mut self, config: walbridge_config::Config) -> InvocationReport {
        let report = invoke_for(config, self.budget).await;
        if report.snapshot_rows == 0 && report.changes == 0 {
            self.budget = (self.budget + Duration::from_millis(100)).min(Duration::from_secs(3));
        }
        report
    }
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
async fn write_until(schema: String, rows: u64, stop: tokio::sync::watch::Receiver<bool>) -> u64 {
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
        let id = (next() % rows + 1) as i32;
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
    let writer = tokio::spawn(write_until(case.schema.clone(), 20_000, stopped));

    // Short invocations (a 300 ms budget keeps 75 ms of margin), as a tight Lambda timeout would.
    let mut invocations_with_rows = 0;
    let mut snapshot_rows = 0;
    // As many as it takes: on a loaded machine an invocation this short reads few rows, or none
    // (it can end before its first checkpoint); a count of invocations would fail there.
    let deadline = std::time::Instant::now() + Duration::from_secs(600);
    let mut invocations = ShortInvocations::new(Duration::from_millis(300));
    loop {
        let report = invocations.invoke(config()).await;
        snapshot_rows += report.snapshot_rows;
        invocations_with_rows += u64::from(report.snapshot_rows > 0);
        if snapshot_complete(&case).await {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the snapshot is not complete after 10 minutes of short invocations"
        );
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
    // The first row published is the lowest key read (the writer may have deleted or re-keyed
    // row 1 before it was read, or after the read and before it was published).
    let lowest = reads
        .iter()
        .map(|r| value(r)["after"]["id"].as_i64().unwrap())
        .min();
    assert_eq!(value(first)["after"]["id"].as_i64(), lowest);

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

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Whether the checkpoint records a finished snapshot (`false` while there is no checkpoint yet).
async fn snapshot_complete(case: &Case) -> bool {
    let Ok(object) = env::s3()
        .await
        .get_object()
        .bucket(env::bucket())
        .key(&case.checkpoint_key)
        .send()
        .await
    else {
        return false;
    };
    let body = object.body.collect().await.unwrap().into_bytes();
    let checkpoint: Value = serde_json::from_slice(&body).unwrap();
    checkpoint["snapshot"]["completed_at_ms"].is_i64()
}

/// The long mode: `WALBRIDGE_SNAPSHOT_ROWS=1000000 WALBRIDGE_SNAPSHOT_KILLS=50 cargo test -p
/// walbridge-tests --test it snapshot::a_snapshot_survives -- --nocapture` (after `eval "$(tests/env/up)"`
/// and `cargo build -p walbridge --features failpoints`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_survives_sigkills_between_and_inside_chunks() {
    let rows = setting("WALBRIDGE_SNAPSHOT_ROWS", 20_000);
    let kills_wanted = setting("WALBRIDGE_SNAPSHOT_KILLS", 5);
    let chunk = (rows / 40).clamp(500, 10_240);
    let ddl = format!(
        "{TABLE} INSERT INTO {{s}}.t SELECT g, 0, 'n' || g FROM generate_series(1, {rows}) g; \
         ANALYZE {{s}}.t;"
    );
    let case = Case::new("snap_kill", &ddl).await;
    let properties = format!(
        "slot.name={}\ntable.include.list={}.t\ntopic.prefix={}\n\
         value.converter.schemas.enable=false\nkey.converter.schemas.enable=false\n\
         topic.creation.default.partitions=3\nsnapshot.mode=initial\nsnapshot.fetch.size={chunk}\n",
        case.slot, case.schema, case.prefix
    );
    let dir = std::path::PathBuf::from(env::var("WALBRIDGE_ENV_DIR"))
        .join("private")
        .join(&case.schema);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("connector.properties"), properties).unwrap();
    let walbridge = || {
        let mut command =
            walbridge_invoke(&format!("s3://{}/{}", env::bucket(), case.checkpoint_key));
        command
            .env("WALBRIDGE_PROPERTIES", dir.join("connector.properties"))
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        command
    };

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let writer = tokio::spawn(write_until(case.schema.clone(), rows, stopped));
    let mut seed = u64::from_str_radix(&case.schema[case.schema.len() - 8..], 16).unwrap() | 1;
    let (mut kills, mut runs) = (0, 0);
    while !snapshot_complete(&case).await {
        runs += 1;
        assert!(runs < 10_000, "the snapshot never finished");
        let mut child = walbridge().spawn().unwrap();
        if kills < kills_wanted {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // Start-up takes ~50 ms; a chunk cycle tens of ms: kills land before, between and
            // inside chunks.
            tokio::time::sleep(Duration::from_millis(30 + seed % 400)).await;
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap();
                kills += 1;
            }
        }
        let output = child.wait_with_output().unwrap();
        if !output.status.success() && output.status.code().is_some() {
            panic!(
                "invocation failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    stop.send(true).unwrap();
    let transactions = writer.await.unwrap();
    loop {
        let output = walbridge().output().unwrap();
        assert!(output.status.success());
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        if report["caught_up"] == true {
            break;
        }
    }

    let records = env::read_topic(&case.topic("t"), rows as usize);
    let read_keys: Vec<&str> = records
        .iter()
        .filter(|r| op(r).as_deref() == Some("r"))
        .map(|r| r.key_str().unwrap())
        .collect();
    let reads = read_keys.len();
    let repeated = reads - read_keys.iter().collect::<HashSet<_>>().len();
    // Streamed records are exactly-once: their positions (no snapshot ordinal) are unique.
    let streamed: Vec<&Vec<u8>> = records
        .iter()
        .filter(|r| op(r).as_deref() != Some("r"))
        .map(|r| {
            r.headers
                .iter()
                .find(|(name, _)| name == "__walbridge.position")
                .and_then(|(_, v)| v.as_ref())
                .expect("a position")
        })
        .collect();
    let unique: HashSet<&Vec<u8>> = streamed.iter().copied().collect();
    let duplicated = streamed.len() - unique.len();
    let final_rows = table_rows(&case).await;
    let folded = fold(&records);
    eprintln!(
        "snapshot under SIGKILL: {rows} rows, {kills} kills over {runs} runs, {transactions} \
         concurrent transactions; {reads} reads published ({repeated} of them again: chunks re-read \
         after a kill), {} streamed records, {duplicated} duplicated; fold equals the table: {}",
        streamed.len(),
        folded == final_rows
    );
    assert_eq!(duplicated, 0);
    assert_eq!(folded, final_rows);
    assert!(kills >= kills_wanted.min(1), "at least one kill landed");
    assert_eq!(
        crate::case::lsn_of(case.checkpoint().await["lsn"].as_str().unwrap()),
        case.confirmed_flush_lsn().await
    );
    case.drop_slot().await;
}

const SIGNAL_TABLE: &str = "CREATE TABLE {s}.debezium_signal (id varchar(42) PRIMARY KEY, \
     type varchar(32) NOT NULL, data varchar(2048) NULL);";

/// Inserts a signal row, as a Debezium user does.
async fn signal(case: &Case, id: &str, kind: &str, data: &str) {
    case.pg
        .execute(
            &format!(
                "INSERT INTO {}.debezium_signal VALUES ($1, $2, $3)",
                case.schema
            ),
            &[&id, &kind, &data.replace("{s}", &case.schema)],
        )
        .await
        .unwrap();
}

fn signal_config(case: &Case) -> walbridge_config::Config {
    case.config(&[
        (
            "signal.data.collection",
            &format!("{}.debezium_signal", case.schema),
        ),
        ("incremental.snapshot.chunk.size", "500"),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_row_starts_an_incremental_snapshot_while_writers_change_the_table() {
    let ddl = format!(
        "{TABLE} {SIGNAL_TABLE} INSERT INTO {{s}}.t SELECT g, 0, 'n' || g FROM generate_series(1, 20000) g;"
    );
    let case = Case::new("snap_signal", &ddl).await;
    // streaming from the slot's creation: no snapshot yet
    let report = invoke(signal_config(&case)).await;
    assert_eq!(report.snapshot_rows, 0);

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let writer = tokio::spawn(write_until(case.schema.clone(), 20_000, stopped));
    signal(
        &case,
        "ad-hoc-1",
        "execute-snapshot",
        r#"{"data-collections":["{s}\\.t"],"type":"incremental"}"#,
    )
    .await;
    let mut snapshot_rows = 0;
    // as many short invocations as it takes (see the initial snapshot's test)
    let deadline = std::time::Instant::now() + Duration::from_secs(600);
    let mut invocations = ShortInvocations::new(Duration::from_millis(400));
    loop {
        let report = invocations.invoke(signal_config(&case)).await;
        snapshot_rows += report.snapshot_rows;
        if snapshot_complete(&case).await {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the incremental snapshot is not complete after 10 minutes of short invocations"
        );
    }
    stop.send(true).unwrap();
    let transactions = writer.await.unwrap();
    while !invoke(signal_config(&case)).await.caught_up {}
    eprintln!("incremental snapshot: {snapshot_rows} rows, {transactions} concurrent transactions");
    assert!(transactions > 20);

    let records = env::read_topic(&case.topic("t"), snapshot_rows as usize);
    let reads: Vec<Value> = records
        .iter()
        .filter(|r| op(r).as_deref() == Some("r"))
        .map(value)
        .collect();
    assert_eq!(reads.len() as u64, snapshot_rows);
    assert!(snapshot_rows >= 15_000, "{snapshot_rows}");
    // Debezium's incremental reads: marker `incremental`, no LSN, no transaction id
    for read in &reads {
        assert_eq!(read["source"]["snapshot"], "incremental");
        assert_eq!(read["source"]["lsn"], Value::Null);
        assert_eq!(read["source"]["txId"], Value::Null);
        assert_eq!(read["before"], Value::Null);
    }
    assert_eq!(fold(&records), table_rows(&case).await);
    let checkpoint = case.checkpoint().await;
    assert_eq!(checkpoint["snapshot"]["kind"], "incremental");
    assert_eq!(
        checkpoint["snapshot"]["tables"].as_array().unwrap().len(),
        1,
        "the signal table is not snapshotted"
    );
    case.drop_slot().await;
}

#[tokio::test]
async fn pause_resume_stop_and_additional_conditions() {
    let ddl = format!(
        "{TABLE} {SIGNAL_TABLE} CREATE TABLE {{s}}.u (id int PRIMARY KEY); \
         INSERT INTO {{s}}.t SELECT g, 0, 'x' FROM generate_series(1, 3000) g; \
         INSERT INTO {{s}}.u SELECT generate_series(1, 10);"
    );
    let case = Case::new("snap_pause", &ddl).await;
    // asked for and paused in one go: nothing read
    case.sql(&format!(
        "BEGIN; INSERT INTO {s}.debezium_signal VALUES ('1', 'execute-snapshot', \
         '{{\"data-collections\":[\"{s}.t\"],\"additional-conditions\":[{{\"data-collection\":\"{s}.t\",\"filter\":\"id % 3 = 0\"}}]}}'); \
         INSERT INTO {s}.debezium_signal VALUES ('2', 'pause-snapshot', NULL); COMMIT",
        s = case.schema
    ))
    .await;
    let report = invoke(signal_config(&case)).await;
    assert_eq!(report.snapshot_rows, 0);
    assert!(report.caught_up);
    let checkpoint = case.checkpoint().await;
    assert_eq!(checkpoint["snapshot"]["paused"], true);
    assert_eq!(checkpoint["snapshot"]["tables"][0]["filter"], "id % 3 = 0");

    // resumed: the rows the condition selects, each once
    signal(&case, "3", "resume-snapshot", "").await;
    let report = invoke(signal_config(&case)).await;
    assert_eq!(report.snapshot_rows, 1000);

    // stopped before it read anything: the table is left out
    signal(
        &case,
        "4",
        "execute-snapshot",
        r#"{"data-collections":["{s}\\.u"]}"#,
    )
    .await;
    signal(
        &case,
        "5",
        "stop-snapshot",
        r#"{"data-collections":["{s}\\.u"]}"#,
    )
    .await;
    let report = invoke(signal_config(&case)).await;
    assert_eq!(report.snapshot_rows, 0);
    let checkpoint = case.checkpoint().await;
    assert!(checkpoint["snapshot"]["completed_at_ms"].is_i64());

    // the invocation's own request, as the Kafka signal channel's message would carry it
    let request: walbridge_relay::Request = serde_json::from_value(json!({
        "mode": "signal",
        "type": "execute-snapshot",
        "data": {"data-collections": [format!("{}.u", case.schema)], "type": "blocking"}
    }))
    .unwrap();
    let deps = Deps::new(signal_config(&case)).await;
    let response =
        walbridge_relay::handle(&deps, &request, Instant::now() + Duration::from_secs(60))
            .await
            .unwrap();
    let walbridge_relay::Response::Relayed(report) = response else {
        panic!("{response:?}")
    };
    assert_eq!(report.snapshot_rows, 10);
    let bad: walbridge_relay::Request =
        serde_json::from_value(json!({"mode": "signal", "type": "execute-snapshot"})).unwrap();
    let err = walbridge_relay::handle(&deps, &bad, Instant::now() + Duration::from_secs(60))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("needs data"), "{err}");

    let reads: Vec<Value> = env::read_topic(&case.topic("t"), 1000)
        .iter()
        .filter(|r| op(r).as_deref() == Some("r"))
        .map(value)
        .collect();
    assert_eq!(reads.len(), 1000);
    assert!(
        reads
            .iter()
            .all(|r| r["after"]["id"].as_i64().unwrap() % 3 == 0)
    );
    // a blocking snapshot's rows carry an initial snapshot's markers
    let u: Vec<String> = env::read_topic(&case.topic("u"), 10)
        .iter()
        .map(|r| value(r)["source"]["snapshot"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(u.len(), 10);
    assert_eq!(u.iter().filter(|m| *m == "first").count(), 1);
    assert_eq!(u.iter().filter(|m| *m == "last").count(), 1);
    case.drop_slot().await;
}
