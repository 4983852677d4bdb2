//! Crash injection: the function binary (built with `--features failpoints`) dies at every step
//! boundary and at random instants (SIGKILL), PostgreSQL crashes and comes back, the broker restarts
//! or is SIGKILLed and comes back, the object store goes away — alone and together with kills — and the next invocations still
//! deliver every committed change exactly once, in commit order per key, with tombstones where due,
//! and leave the slot where the checkpoint says.
//!
//! Quick mode runs in the suite (every fault; the broker restarts on a private Apache Kafka); the
//! long modes are in the README ("Working on walbridge").

use std::collections::{BTreeMap, HashSet};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use walbridge_tests::{self as env, KafkaRecord, PrivatePostgres, PrivateService};

use crate::case::{Case, lsn_of, walbridge_invoke};

const STEPS: &[&str] = &[
    "relay::window-opened",
    "relay::published-some",
    "relay::acknowledged",
    "relay::checkpointed",
    "relay::advanced",
];

/// What every test here checks at the end: the topic holds exactly the events the workload's
/// committed changes produce, once each, in commit order per key.
struct Expected {
    /// The table the work goes to (`t`, or `t1`, `t2`, … in the outage test).
    table: String,
    /// Per key, the operations in commit order (`None` = tombstone).
    per_key: BTreeMap<i64, Vec<Option<&'static str>>>,
}

impl Expected {
    fn new() -> Self {
        Self::on("t")
    }

    fn on(table: &str) -> Self {
        Self {
            table: table.to_owned(),
            per_key: BTreeMap::new(),
        }
    }

    fn insert(&mut self, ids: std::ops::RangeInclusive<i64>) -> String {
        for id in ids.clone() {
            self.per_key.entry(id).or_default().push(Some("c"));
        }
        format!(
            "INSERT INTO {{s}}.{} SELECT g, g FROM generate_series({}, {}) g",
            self.table,
            ids.start(),
            ids.end()
        )
    }

    fn update(&mut self, ids: std::ops::RangeInclusive<i64>) -> String {
        for id in ids.clone() {
            self.per_key.entry(id).or_default().push(Some("u"));
        }
        format!(
            "UPDATE {{s}}.{} SET v = v + 1 WHERE id BETWEEN {} AND {}",
            self.table,
            ids.start(),
            ids.end()
        )
    }

    fn delete(&mut self, ids: std::ops::RangeInclusive<i64>) -> String {
        for id in ids.clone() {
            let ops = self.per_key.entry(id).or_default();
            ops.push(Some("d"));
            ops.push(None);
        }
        format!(
            "DELETE FROM {{s}}.{} WHERE id BETWEEN {} AND {}",
            self.table,
            ids.start(),
            ids.end()
        )
    }

    fn total(&self) -> usize {
        self.per_key.values().map(Vec::len).sum()
    }

    fn check(&self, records: &[KafkaRecord]) -> CrashFigures {
        let mut seen = HashSet::new();
        let mut duplicated = 0;
        let mut per_key: BTreeMap<i64, Vec<Option<String>>> = BTreeMap::new();
        for record in records {
            let position = record
                .headers
                .iter()
                .find(|(name, _)| name == "__walbridge.position")
                .and_then(|(_, v)| v.clone())
                .expect("every record has a position");
            if !seen.insert(position) {
                duplicated += 1;
                continue;
            }
            let key: serde_json::Value =
                serde_json::from_slice(record.key.as_ref().expect("keyed table")).unwrap();
            let op = record
                .value_json()
                .map(|v| v["op"].as_str().unwrap().to_owned());
            per_key
                .entry(key["id"].as_i64().unwrap())
                .or_default()
                .push(op);
        }
        let mut lost = 0;
        let mut out_of_order = 0;
        for (id, expected) in &self.per_key {
            let got = per_key.remove(id).unwrap_or_default();
            let expected: Vec<Option<String>> =
                expected.iter().map(|op| op.map(str::to_owned)).collect();
            if got.len() < expected.len() {
                lost += expected.len() - got.len();
                eprintln!("key {id}: expected {expected:?}, got {got:?}");
            } else if got != expected {
                out_of_order += 1;
                eprintln!("key {id}: expected {expected:?}, got {got:?}");
            }
        }
        CrashFigures {
            changes: self.total(),
            lost,
            duplicated,
            out_of_order,
            unexpected: per_key.values().map(Vec::len).sum(),
        }
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
struct CrashFigures {
    changes: usize,
    lost: usize,
    duplicated: usize,
    out_of_order: usize,
    unexpected: usize,
}

impl CrashFigures {
    fn add(&mut self, other: &Self) {
        self.changes += other.changes;
        self.lost += other.lost;
        self.duplicated += other.duplicated;
        self.out_of_order += other.out_of_order;
        self.unexpected += other.unexpected;
    }
}

fn walbridge(case: &Case, failpoints: Option<&str>) -> Command {
    walbridge_with(case, failpoints, "")
}

/// [`walbridge`] with `extra` properties (`key=value` lines).
fn walbridge_with(case: &Case, failpoints: Option<&str>, extra: &str) -> Command {
    let properties = format!(
        "slot.name={}\ntable.include.list={}.t[0-9]*\ntopic.prefix={}\n\
         value.converter.schemas.enable=false\nkey.converter.schemas.enable=false\n\
         window.max.changes=400\nwindow.fetch.rows=100\ntopic.creation.default.partitions=3\n\
         kafka.publish.timeout.ms=10000\nsnapshot.mode=no_data\n{extra}",
        case.slot, case.schema, case.prefix
    );
    let dir = std::path::PathBuf::from(env::var("WALBRIDGE_ENV_DIR"))
        .join("private")
        .join(&case.schema);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("connector.properties"), properties).unwrap();
    let mut command = walbridge_invoke(&format!("s3://{}/{}", env::bucket(), case.checkpoint_key));
    command
        .env("WALBRIDGE_PROPERTIES", dir.join("connector.properties"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(failpoints) = failpoints {
        command.env("FAILPOINTS", failpoints);
    }
    command
}

/// Runs invocations until one catches up; panics if none does within `attempts`.
async fn run_until_caught_up(invocation: impl Fn() -> Command, attempts: usize) {
    for _ in 0..attempts {
        let output = invocation().output().unwrap();
        if output.status.success() {
            let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            if report["caught_up"] == true {
                return;
            }
        } else {
            // a service that just came back may need a moment before it serves
            eprintln!("invocation failed: {}", stderr(&output));
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    panic!("no invocation caught up in {attempts} attempts");
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Checks what the independent client read from `bootstrap` and the checkpoint the store behind
/// `s3` holds.
async fn assert_delivered_exactly_once(
    case: &Case,
    expected: &Expected,
    bootstrap: &str,
    s3: &aws_sdk_s3::Client,
) -> CrashFigures {
    // the last invocation caught up: everything it published is acknowledged, so whatever is
    // missing now is lost, and the figures say how much
    let records = env::read_topic_from(bootstrap, &case.topic(&expected.table), 1);
    let figures = expected.check(&records);
    assert_eq!(
        figures,
        CrashFigures {
            changes: expected.total(),
            lost: 0,
            duplicated: 0,
            out_of_order: 0,
            unexpected: 0,
        }
    );
    let checkpoint = case.checkpoint_in(s3).await;
    assert_eq!(
        lsn_of(checkpoint["lsn"].as_str().unwrap()),
        case.confirmed_flush_lsn().await,
        "the slot is where the checkpoint says"
    );
    figures
}

/// New work before a run: `txns` transactions of 100 inserts, then an update of the first 100 rows
/// and a delete of the next 50 (tombstones).
async fn write_work(case: &Case, expected: &mut Expected, next_id: &mut i64, txns: i64) {
    let first = *next_id;
    for _ in 0..txns {
        case.sql(&expected.insert(*next_id..=*next_id + 99)).await;
        *next_id += 100;
    }
    case.sql(&expected.update(first..=first + 99)).await;
    case.sql(&expected.delete(first + 100..=first + 149)).await;
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// xorshift: a different instant every run, reproducible from the schema name.
struct Instants(u64);

impl Instants {
    fn new(case: &Case) -> Self {
        Self(u64::from_str_radix(&case.schema[case.schema.len() - 8..], 16).unwrap() | 1)
    }

    /// Milliseconds in `0..below`.
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

/// SIGKILLs `child` if it still runs; whether it did.
fn kill(child: &mut Child) -> bool {
    if child.try_wait().unwrap().is_none() {
        child.kill().unwrap();
        child.wait().unwrap();
        true
    } else {
        false
    }
}

/// Per step of [`STEPS`]: `work` writes more, then walbridge (with `extra` properties) runs and
/// dies the second time it reaches that step; then it runs until it has caught up.
async fn crash_at_every_step(case: &Case, extra: &str, mut work: impl AsyncFnMut()) {
    for step in STEPS {
        work().await;
        let output = walbridge_with(case, Some(&format!("{step}=1*off->panic")), extra)
            .output()
            .unwrap();
        assert!(
            !output.status.success(),
            "{step}: the failpoint fired (is the binary built with --features failpoints?): {}",
            stderr(&output)
        );
    }
    run_until_caught_up(|| walbridge_with(case, None, extra), 5).await;
}

#[tokio::test]
async fn a_crash_at_every_step_boundary_loses_and_duplicates_nothing() {
    let case = Case::new(
        "crashsteps",
        "CREATE TABLE {s}.t(id int PRIMARY KEY, v int)",
    )
    .await;
    let mut expected = Expected::new();
    let mut next_id = 1;
    // per step, a few windows of work: inserts in many transactions, updates, deletes (tombstones)
    crash_at_every_step(&case, "", async || {
        for _ in 0..6 {
            case.sql(&expected.insert(next_id..=next_id + 99)).await;
            next_id += 100;
        }
        case.sql(&expected.update(next_id - 600..=next_id - 551))
            .await;
        case.sql(&expected.delete(next_id - 550..=next_id - 531))
            .await;
    })
    .await;
    let figures =
        assert_delivered_exactly_once(&case, &expected, &env::kafka_bootstrap(), &env::s3().await)
            .await;
    eprintln!("crash at every step: {figures:?}");
    case.drop_slot().await;
}

/// The same with windows bounded by WAL (no row limit) over a backlog of several windows, so the
/// next window is decoded ahead from copies of the slot while one is published, and the process
/// dies with a window decoded ahead, or being read, at every step.
#[tokio::test]
async fn a_crash_at_every_step_boundary_while_reading_ahead_loses_and_duplicates_nothing() {
    let case = Case::new(
        "crashahead",
        "CREATE TABLE {s}.t(id int PRIMARY KEY, v int, pad text DEFAULT repeat('x', 1000))",
    )
    .await;
    let mut expected = Expected::new();
    let mut next_id = 1;
    let no_row_limit = "window.max.changes=0\nwindow.fetch.rows=2000\n";
    // per step about 12 MB of WAL, more than the first window spans (8 MiB): the second time the
    // step is reached is in the second window, decoded ahead
    crash_at_every_step(&case, no_row_limit, async || {
        for _ in 0..12 {
            case.sql(&expected.insert(next_id..=next_id + 999)).await;
            next_id += 1000;
        }
        case.sql(&expected.update(next_id - 1000..=next_id - 951))
            .await;
        case.sql(&expected.delete(next_id - 950..=next_id - 931))
            .await;
    })
    .await;
    // and without a crash, those windows are decoded ahead
    for _ in 0..12 {
        case.sql(&expected.insert(next_id..=next_id + 999)).await;
        next_id += 1000;
    }
    let output = walbridge_with(&case, None, no_row_limit).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(report["windows_read_ahead"].as_u64() >= Some(1), "{report}");
    let figures =
        assert_delivered_exactly_once(&case, &expected, &env::kafka_bootstrap(), &env::s3().await)
            .await;
    eprintln!("crash at every step, reading ahead: {figures:?}");
    case.drop_slot().await;
}

/// With transaction metadata on, a crash at every step boundary — `relay::published-some` cuts a
/// window, and so a transaction, after Kafka took part of it — still leaves each transaction one
/// BEGIN, one END whose counts are its events', and events numbered 1, 2, … without a gap or a
/// repeat.
#[tokio::test]
async fn transaction_metadata_survives_a_crash_at_every_step_boundary() {
    let case = Case::new("crashtx", "CREATE TABLE {s}.t(id int PRIMARY KEY, v int)").await;
    // other tests' transactional messages (the database's) would stop a relay with metadata on
    let metadata = "provide.transaction.metadata=true\nmessage.prefix.exclude.list=.*\n";
    let mut expected = Expected::new();
    let mut next_id = 1;
    let mut transactions = 0;
    crash_at_every_step(&case, metadata, async || {
        for _ in 0..6 {
            case.sql(&expected.insert(next_id..=next_id + 99)).await;
            next_id += 100;
        }
        case.sql(&expected.update(next_id - 600..=next_id - 551))
            .await;
        case.sql(&expected.delete(next_id - 550..=next_id - 531))
            .await;
        transactions += 8;
    })
    .await;
    assert_delivered_exactly_once(&case, &expected, &env::kafka_bootstrap(), &env::s3().await)
        .await;

    // per xid: the events' total orders, and their data_collection orders
    let events = env::read_topic_from(&env::kafka_bootstrap(), &case.topic("t"), 1);
    let mut orders: BTreeMap<String, (Vec<i64>, Vec<i64>)> = BTreeMap::new();
    for record in &events {
        let Some(value) = record.value_json() else {
            continue;
        };
        let block = &value["transaction"];
        let xid = block["id"].as_str().unwrap().split(':').next().unwrap();
        let entry = orders.entry(xid.to_owned()).or_default();
        entry.0.push(block["total_order"].as_i64().unwrap());
        entry
            .1
            .push(block["data_collection_order"].as_i64().unwrap());
    }
    assert_eq!(orders.len(), transactions, "every transaction's events");
    let topic = format!("{}.transaction", case.prefix);
    let records = env::read_topic_from(&env::kafka_bootstrap(), &topic, 2 * transactions);
    assert_eq!(
        records.len(),
        2 * transactions,
        "one BEGIN and one END each"
    );
    let mut seen: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for record in &records {
        let value = record.value_json().unwrap();
        let xid = value["id"].as_str().unwrap().split(':').next().unwrap();
        seen.entry(xid.to_owned()).or_default().push(value);
    }
    let table = format!("{}.t", case.schema);
    for (xid, (mut total, mut per_table)) in orders {
        // BEGIN and END have different ids (each names its own LSN), so may sit in different
        // partitions: compared as a set
        let records = seen.get_mut(&xid).unwrap();
        records.sort_by_key(|v| v["status"].as_str().unwrap().to_owned());
        let status: Vec<&str> = records
            .iter()
            .map(|v| v["status"].as_str().unwrap())
            .collect();
        assert_eq!(status, ["BEGIN", "END"], "xid {xid}");
        total.sort_unstable();
        per_table.sort_unstable();
        let n = total.len() as i64;
        assert_eq!(total, (1..=n).collect::<Vec<_>>(), "xid {xid}");
        assert_eq!(per_table, total, "xid {xid}: one table");
        let end = &seen[&xid][1];
        assert_eq!(end["event_count"], n, "xid {xid}");
        assert_eq!(
            end["data_collections"],
            serde_json::json!([{"data_collection": table, "event_count": n}]),
            "xid {xid}"
        );
    }
    eprintln!("transaction metadata after a crash at every step: {transactions} transactions");
    case.drop_slot().await;
}

#[tokio::test]
async fn sigkill_at_random_instants_loses_and_duplicates_nothing() {
    let kills = setting("WALBRIDGE_CRASH_KILLS", 5) as usize;
    // transactions of 100 inserts before each run (the long mode uses fewer, to keep topics small)
    let txns = setting("WALBRIDGE_CRASH_TXNS", 30) as i64;
    let case = Case::new("crashkill", "CREATE TABLE {s}.t(id int PRIMARY KEY, v int)").await;
    let mut expected = Expected::new();
    let mut next_id = 1;
    let mut killed = 0;
    let mut instants = Instants::new(&case);
    while killed < kills {
        write_work(&case, &mut expected, &mut next_id, txns).await;
        let mut child = walbridge(&case, None).spawn().unwrap();
        tokio::time::sleep(Duration::from_millis(20 + instants.next(25 * txns as u64))).await;
        killed += usize::from(kill(&mut child));
    }
    run_until_caught_up(|| walbridge(&case, None), 10).await;
    let figures =
        assert_delivered_exactly_once(&case, &expected, &env::kafka_bootstrap(), &env::s3().await)
            .await;
    eprintln!("SIGKILL x{killed}: {figures:?}");
    case.drop_slot().await;
}

#[tokio::test]
async fn a_slot_a_postgresql_crash_sent_back_is_moved_to_the_checkpoint_without_republishing() {
    let stage = Stage::start(false);
    let ddl = "CREATE TABLE {s}.t(id int PRIMARY KEY, v int)";
    let mut case = Case::on(stage.pg.connect().await.unwrap(), "pgcrash", ddl).await;
    let s3 = env::s3_at(&stage.store.url()).await;
    let mut expected = Expected::new();
    let mut next_id = 1;
    write_work(&case, &mut expected, &mut next_id, 5).await;
    run_until_caught_up(|| stage.walbridge(&case), 5).await;
    let checkpointed = lsn_of(case.checkpoint_in(&s3).await["lsn"].as_str().unwrap());
    assert_eq!(case.confirmed_flush_lsn().await, checkpointed);

    // PostgreSQL crashes before its next checkpoint: the advance never reached the disk
    stage.pg.stop("immediate");
    stage.pg.start();
    case.pg = stage.pg.connect().await.unwrap();
    let after_crash = case.confirmed_flush_lsn().await;
    assert!(
        after_crash < checkpointed,
        "the crash sent the slot back ({after_crash} vs checkpoint {checkpointed})"
    );

    write_work(&case, &mut expected, &mut next_id, 5).await;
    run_until_caught_up(|| stage.walbridge(&case), 1).await;
    let figures =
        assert_delivered_exactly_once(&case, &expected, &stage.broker.bootstrap(), &s3).await;
    eprintln!("slot back from {checkpointed} to {after_crash} after the crash: {figures:?}");
}

/// What the outage test does to the services during a run, one fault per run, in turn; the function
/// is also SIGKILLed during every other outage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    Kill,
    /// An immediate stop: no shutdown checkpoint, crash recovery at the next start, and the slot's
    /// position is whatever PostgreSQL last wrote to disk (advances are written at its checkpoints).
    PostgresCrash,
    /// A clean stop of the broker (Apache Kafka, see [`Stage::start`]) and a start: its
    /// acknowledged records stay.
    BrokerRestart,
    /// The broker's process SIGKILLed and started again: no controlled shutdown, and the log is
    /// recovered at start. With one replica, `acks=all` acknowledges what the broker wrote to its
    /// log (the page cache, which outlives the process), so acknowledged records stay here too.
    BrokerKill,
    /// The object store stops serving for a while.
    StoreOutage,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::Kill => "kill",
            Fault::PostgresCrash => "postgres",
            Fault::BrokerRestart => "broker",
            Fault::BrokerKill => "broker-kill",
            Fault::StoreOutage => "store",
        }
    }
}

const FAULTS: [Fault; 5] = [
    Fault::Kill,
    Fault::PostgresCrash,
    Fault::BrokerRestart,
    Fault::StoreOutage,
    Fault::BrokerKill,
];

/// The moments of one run of the outage test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Stop,
    Start,
    Kill,
}

/// The services the outage test stops and starts: its own, so other tests keep theirs.
struct Stage {
    pg: PrivatePostgres,
    broker: PrivateService,
    store: PrivateService,
}

impl Stage {
    /// `restarts_broker`: the broker is a private Apache Kafka, whichever broker the suite tests —
    /// noida-db 0.2.3 loses acknowledged records when it restarts under load (librdkafka alone: 4 of
    /// 5 254 acknowledged records gone after one SIGTERM and start), so it cannot referee
    /// exactly-once across broker restarts; otherwise a private broker of the suite's kind (noida-db
    /// in its pass, Apache Kafka else).
    fn start(restarts_broker: bool) -> Self {
        let mut broker = match env::broker() {
            env::Broker::Noida if !restarts_broker => PrivateService::noida(),
            _ => PrivateService::kafka(),
        };
        broker.start();
        let mut store = PrivateService::seaweedfs();
        store.start();
        Self {
            pg: PrivatePostgres::logical("chaospg", "walbridge", "chaos-test-password"),
            broker,
            store,
        }
    }

    /// `walbridge invoke` against these services.
    fn walbridge(&self, case: &Case) -> Command {
        let mut command = walbridge(case, None);
        command
            .env("DATABASE_HOSTNAME", "127.0.0.1")
            .env("DATABASE_PORT", self.pg.port.to_string())
            .env("DATABASE_USER", &self.pg.user)
            .env("DATABASE_PASSWORD", &self.pg.password)
            .env("DATABASE_DBNAME", "postgres")
            .env("KAFKA_BOOTSTRAP_SERVERS", self.broker.bootstrap())
            .env("AWS_ENDPOINT_URL_S3", self.store.url());
        command
    }

    fn stop(&mut self, fault: Fault) {
        match fault {
            Fault::Kill => {}
            Fault::PostgresCrash => self.pg.stop("immediate"),
            Fault::BrokerRestart => self.broker.stop(),
            Fault::BrokerKill => self.broker.kill(),
            Fault::StoreOutage => self.store.stop(),
        }
    }

    fn start_again(&mut self, fault: Fault) {
        match fault {
            Fault::Kill => {}
            Fault::PostgresCrash => self.pg.start(),
            Fault::BrokerRestart | Fault::BrokerKill => self.broker.start(),
            Fault::StoreOutage => self.store.start(),
        }
    }
}

/// Waits for the run to end by itself (a failed run ends within the publish timeout).
async fn wait_for(child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "an invocation ran for 2 minutes");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn postgres_crashes_broker_restarts_and_store_outages_with_kills_lose_and_duplicate_nothing()
{
    let kills = setting("WALBRIDGE_CRASH_KILLS", 4) as usize;
    let txns = setting("WALBRIDGE_CRASH_TXNS", 10) as i64;
    // WALBRIDGE_CRASH_FAULTS=postgres,broker (names as in `Fault::name`) narrows a hunt
    let chosen: Vec<Fault> = match std::env::var("WALBRIDGE_CRASH_FAULTS") {
        Ok(names) => FAULTS
            .into_iter()
            .filter(|f| names.split(',').any(|n| n == f.name()))
            .collect(),
        Err(_) => FAULTS.to_vec(),
    };
    let mut stage =
        Stage::start(chosen.contains(&Fault::BrokerRestart) || chosen.contains(&Fault::BrokerKill));
    let ddl = "CREATE TABLE {s}.t(id int PRIMARY KEY, v int)";
    let mut case = Case::on(stage.pg.connect().await.unwrap(), "chaos", ddl).await;
    // a new table (and so topic) every 20 runs: the long mode's read-backs stay small
    let mut expected = Expected::new();
    let mut filled = Vec::new();
    let mut next_id = 1;
    let mut killed = 0;
    let mut faults: BTreeMap<Fault, usize> = BTreeMap::new();
    let mut instants = Instants::new(&case);
    let mut round = 0;
    // every fault at least twice, and as many kills as asked for
    while killed < kills || round < 2 * chosen.len() {
        let fault = chosen[round % chosen.len()];
        if round > 0 && round % 20 == 0 {
            let table = format!("t{}", round / 20);
            case.sql(&format!(
                "CREATE TABLE {{s}}.{table}(id int PRIMARY KEY, v int)"
            ))
            .await;
            filled.push(std::mem::replace(&mut expected, Expected::on(&table)));
        }
        round += 1;
        write_work(&case, &mut expected, &mut next_id, txns).await;
        let mut child = stage.walbridge(&case).spawn().unwrap();
        // what happens during the run, at random instants in time order: the service stops, comes
        // back a while later, and the function is killed before, during or after the outage
        let stop_at = 20 + instants.next(25 * txns as u64);
        let mut timeline = vec![
            (stop_at, Step::Stop),
            (stop_at + instants.next(1500), Step::Start),
        ];
        if fault == Fault::Kill || round % 2 == 0 {
            timeline.push((20 + instants.next(25 * txns as u64 + 1000), Step::Kill));
        }
        timeline.sort();
        let started = Instant::now();
        for (at, step) in timeline {
            let at = Duration::from_millis(at);
            tokio::time::sleep(at.saturating_sub(started.elapsed())).await;
            match step {
                Step::Stop => stage.stop(fault),
                Step::Start => stage.start_again(fault),
                Step::Kill => killed += usize::from(kill(&mut child)),
            }
        }
        *faults.entry(fault).or_default() += 1;
        if round % 25 == 0 {
            eprintln!("{round} runs, faults {faults:?}, SIGKILL x{killed}");
        }
        wait_for(&mut child).await;
        if fault == Fault::PostgresCrash {
            case.pg = stage.pg.connect().await.expect("PostgreSQL is back");
        }
    }
    run_until_caught_up(|| stage.walbridge(&case), 20).await;
    filled.push(expected);
    let s3 = env::s3_at(&stage.store.url()).await;
    let mut total = CrashFigures::default();
    for expected in &filled {
        let figures =
            assert_delivered_exactly_once(&case, expected, &stage.broker.bootstrap(), &s3).await;
        total.add(&figures);
    }
    eprintln!(
        "{round} runs over {} tables, faults {faults:?}, SIGKILL x{killed}: {total:?}",
        filled.len()
    );
}
