//! Nothing is lost when a service fails: the invocation fails, the slot stays, and the next
//! invocation delivers everything. Each test stops a broker or store of its own, so the other tests
//! keep theirs. Also the function binary itself: the users' properties file, and bounded memory for
//! one very large transaction.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

use walbridge_relay::{CheckpointError, InvocationReport, PublishError, RelayError, error_chain};
use walbridge_tests::{self as env, PrivateService};

use crate::case::{Case, invoke, lsn_of, try_invoke, value, walbridge_invoke};

/// SeaweedFS opens its port before it serves: retry an invocation for up to a minute.
async fn invoke_when_store_serves(
    config: impl Fn() -> walbridge_config::Config,
) -> InvocationReport {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match try_invoke(config()).await {
            Ok(report) => return report,
            Err(err) if Instant::now() < deadline => {
                eprintln!("store not serving yet: {}", error_chain(&err));
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(err) => panic!("the private store never served: {}", error_chain(&err)),
        }
    }
}

fn ids(records: &[env::KafkaRecord]) -> BTreeSet<i64> {
    records
        .iter()
        .map(|r| value(r)["after"]["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_stopped_broker_fails_the_invocation_without_moving_the_slot() {
    let mut broker = PrivateService::noida();
    broker.start();
    let case = Case::new("nobroker", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    let bootstrap = broker.bootstrap();
    let config = || {
        case.config(&[
            ("kafka.bootstrap.servers", bootstrap.as_str()),
            ("kafka.publish.timeout.ms", "3000"),
        ])
    };
    case.sql("INSERT INTO {s}.t SELECT generate_series(1, 100)")
        .await;
    invoke(config()).await;
    let slot_before = case.confirmed_flush_lsn().await;

    case.sql("INSERT INTO {s}.t SELECT generate_series(101, 1100)")
        .await;
    broker.stop();
    let err = try_invoke(config())
        .await
        .expect_err("no broker, no success");
    assert!(matches!(err, RelayError::Publish(_)), "{err}");
    assert!(err.is_retryable());
    assert_eq!(
        case.confirmed_flush_lsn().await,
        slot_before,
        "the slot did not move"
    );

    broker.start();
    let report = invoke(config()).await;
    assert_eq!(report.changes, 1000);
    let records = env::read_topic_from(&bootstrap, &case.topic("t"), 1100);
    assert_eq!(ids(&records), (1..=1100).collect());
    assert_eq!(records.len(), 1100, "nothing was published twice");
    assert_eq!(case.confirmed_flush_lsn().await, lsn_of(&report.end_lsn));
    case.drop_slot().await;
}

#[tokio::test]
async fn a_stopped_object_store_fails_the_invocation_without_moving_the_slot() {
    let mut store = PrivateService::seaweedfs();
    store.start();
    let case = Case::new("nostore", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    let endpoint = store.url();
    let config = || case.config(&[("checkpoint.s3.endpoint.url", endpoint.as_str())]);
    case.sql("INSERT INTO {s}.t SELECT generate_series(1, 10)")
        .await;
    invoke_when_store_serves(config).await;
    let slot_before = case.confirmed_flush_lsn().await;

    case.sql("INSERT INTO {s}.t SELECT generate_series(11, 20)")
        .await;
    store.stop();
    let err = try_invoke(config())
        .await
        .expect_err("no store, no success");
    assert!(
        matches!(err, RelayError::Checkpoint(CheckpointError::Io { .. })),
        "{}",
        error_chain(&err)
    );
    assert_eq!(case.confirmed_flush_lsn().await, slot_before);

    store.start();
    let report = invoke_when_store_serves(config).await;
    assert_eq!(report.changes, 10);
    let records = env::read_topic(&case.topic("t"), 20);
    assert_eq!(ids(&records), (1..=20).collect());
    assert_eq!(case.confirmed_flush_lsn().await, lsn_of(&report.end_lsn));
    case.drop_slot().await;
}

#[tokio::test]
async fn a_missing_topic_with_creation_disabled_stops_the_window_with_its_name() {
    let case = Case::new("notopic", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    case.sql("INSERT INTO {s}.t VALUES (1)").await;
    let before = case.confirmed_flush_lsn().await;
    let err = try_invoke(case.config(&[("topic.creation.enable", "false")]))
        .await
        .expect_err("the topic does not exist");
    assert!(
        matches!(err, RelayError::Publish(PublishError::MissingTopic { .. })),
        "{err}"
    );
    assert!(err.to_string().contains(&case.topic("t")), "{err}");
    assert_eq!(case.confirmed_flush_lsn().await, before);
    case.drop_slot().await;
}

/// Peak resident memory of a running process, from /proc, sampled until it exits.
fn run_measuring_peak_rss(mut command: Command) -> (std::process::Output, u64) {
    let child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start walbridge");
    let status_path = format!("/proc/{}/status", child.id());
    let sampler = std::thread::spawn(move || {
        let mut peak_kib = 0;
        while let Ok(status) = std::fs::read_to_string(&status_path) {
            if let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
            {
                peak_kib = peak_kib.max(kib);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        peak_kib
    });
    let output = child.wait_with_output().expect("walbridge ran");
    (output, sampler.join().expect("sampler"))
}

#[tokio::test]
async fn one_transaction_of_200_000_rows_is_relayed_in_bounded_memory() {
    let case = Case::new(
        "bigtx",
        "CREATE TABLE {s}.t(id int PRIMARY KEY, note text NOT NULL)",
    )
    .await;
    case.sql("INSERT INTO {s}.t SELECT g, repeat('x', 100) FROM generate_series(1, 200000) g")
        .await;
    let dir = std::env::temp_dir().join(env::unique("bigtx"));
    std::fs::create_dir_all(&dir).unwrap();
    let properties = dir.join("connector.properties");
    std::fs::write(
        &properties,
        format!(
            "slot.name={}\ntable.include.list={}.t\ntopic.prefix={}\n\
             value.converter.schemas.enable=false\nkey.converter.schemas.enable=false\n\
             window.max.changes=1000\nsnapshot.mode=no_data\n",
            case.slot, case.schema, case.prefix
        ),
    )
    .unwrap();
    let mut command =
        walbridge_invoke(&format!("file://{}", dir.join("checkpoint.json").display()));
    command.env("WALBRIDGE_PROPERTIES", &properties);
    let (output, peak_kib) = run_measuring_peak_rss(command);
    assert!(
        output.status.success(),
        "walbridge invoke failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["changes"], 200_000);
    eprintln!(
        "peak RSS relaying one 200 000-row transaction: {} MiB",
        peak_kib / 1024
    );
    // the window is streamed, never held: ~40 MB of events must not be resident at once
    assert!(
        peak_kib > 0 && peak_kib < 96 * 1024,
        "peak RSS {peak_kib} KiB"
    );
    let records = env::read_topic(&case.topic("t"), 200_000);
    assert_eq!(records.len(), 200_000);
    assert_eq!(
        case.confirmed_flush_lsn().await,
        lsn_of(report["end_lsn"].as_str().unwrap())
    );
    case.drop_slot().await;
}

#[tokio::test]
async fn the_users_connector_properties_file_runs_as_it_is() {
    // seed-connector.properties, unchanged; the deployment supplies host, credentials, database,
    // its own slot, Kafka and the checkpoint through the environment.
    let seed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/walbridge-config/fixtures/seed-connector.properties"
    );
    let pg = env::pg().await;
    pg.batch_execute(
        "CREATE SCHEMA IF NOT EXISTS test_schema;
         CREATE TABLE IF NOT EXISTS test_schema.test_table(id int PRIMARY KEY, number int);",
    )
    .await
    .unwrap();
    let slot = env::unique("seed_slot");
    pg.execute(
        "SELECT pg_create_logical_replication_slot($1, 'wal2json')",
        &[&slot],
    )
    .await
    .unwrap();
    let marker: i32 = (uuid_like() % 1_000_000_000) as i32;
    pg.execute(
        "INSERT INTO test_schema.test_table VALUES ($1, 20000)",
        &[&marker],
    )
    .await
    .unwrap();

    let output = walbridge_invoke(&format!("s3://{}/seed-tests/{slot}.json", env::bucket()))
        .env("WALBRIDGE_PROPERTIES", seed)
        .env("SLOT_NAME", &slot)
        .output()
        .unwrap();
    pg.execute("SELECT pg_drop_replication_slot($1)", &[&slot])
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "walbridge invoke failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains(&env::var("PGPASSWORD")),
        "the password never reaches the log"
    );
    // one CloudWatch Embedded Metric Format record per invocation (stderr locally)
    let emf: serde_json::Value = stderr
        .lines()
        .find(|line| line.contains("\"CloudWatchMetrics\""))
        .map(|line| serde_json::from_str(line).unwrap())
        .expect("an EMF record");
    assert_eq!(emf["Slot"], slot.as_str());
    assert_eq!(
        emf["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "walbridge"
    );
    assert!(emf["Changes"].as_u64().unwrap() >= 1);
    // database.server.name=test-prefix, table.whitelist=test_schema.test_table
    let records = env::read_topic("test-prefix.test_schema.test_table", 1);
    let mine: Vec<_> = records
        .iter()
        .filter(|r| r.value_json().is_some_and(|v| v["after"]["id"] == marker))
        .collect();
    // No snapshot.mode in the file: Debezium's default (initial) applies to the first run, so the
    // row written after the slot was created is streamed, then read by the snapshot.
    let ops: Vec<_> = mine.iter().map(|r| value(r)["op"].clone()).collect();
    assert_eq!(ops, ["c", "r"]);
    let event = value(mine[0]);
    assert_eq!(event["after"]["number"], 20000);
    assert_eq!(event["source"]["name"], "test-prefix");
    // key.converter.schemas.enable is not in the file: Kafka Connect's default (true) applies
    let key: serde_json::Value = serde_json::from_slice(mine[0].key.as_ref().unwrap()).unwrap();
    assert_eq!(key["payload"]["id"], marker);
    assert_eq!(
        key["schema"]["name"],
        "test-prefix.test_schema.test_table.Key"
    );
}

fn uuid_like() -> u64 {
    let id = env::unique("m");
    u64::from_str_radix(&id[2..14], 16).unwrap()
}
