//! Crash injection: the function binary (built with `--features failpoints`) dies at every step
//! boundary and at random instants (SIGKILL), and the next invocations still deliver every committed
//! change exactly once, in commit order per key, with tombstones where due, and leave the slot where
//! the checkpoint says.
//!
//! Quick mode runs in the suite; the long mode is
//! `WALBRIDGE_CRASH_KILLS=200 WALBRIDGE_CRASH_TXNS=5 cargo test -p walbridge-tests --test it crash:: -- --nocapture`.

use std::collections::{BTreeMap, HashSet};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use walbridge_tests::{self as env, KafkaRecord};

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
    /// Per key, the operations in commit order (`None` = tombstone).
    per_key: BTreeMap<i64, Vec<Option<&'static str>>>,
}

impl Expected {
    fn new() -> Self {
        Self {
            per_key: BTreeMap::new(),
        }
    }

    fn insert(&mut self, ids: std::ops::RangeInclusive<i64>) -> String {
        for id in ids.clone() {
            self.per_key.entry(id).or_default().push(Some("c"));
        }
        format!(
            "INSERT INTO {{s}}.t SELECT g, g FROM generate_series({}, {}) g",
            ids.start(),
            ids.end()
        )
    }

    fn update(&mut self, ids: std::ops::RangeInclusive<i64>) -> String {
        for id in ids.clone() {
            self.per_key.entry(id).or_default().push(Some("u"));
        }
        format!(
            "UPDATE {{s}}.t SET v = v + 1 WHERE id BETWEEN {} AND {}",
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
            "DELETE FROM {{s}}.t WHERE id BETWEEN {} AND {}",
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
            } else if got != expected {
                out_of_order += 1;
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

#[derive(Debug, PartialEq, Eq)]
struct CrashFigures {
    changes: usize,
    lost: usize,
    duplicated: usize,
    out_of_order: usize,
    unexpected: usize,
}

fn walbridge(case: &Case, failpoints: Option<&str>) -> Command {
    let properties = format!(
        "slot.name={}\ntable.include.list={}.t\ntopic.prefix={}\n\
         value.converter.schemas.enable=false\nkey.converter.schemas.enable=false\n\
         window.max.changes=400\nwindow.fetch.rows=100\ntopic.creation.default.partitions=3\n\
         kafka.publish.timeout.ms=10000\nsnapshot.mode=no_data\n",
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
fn run_until_caught_up(case: &Case, attempts: usize) {
    for _ in 0..attempts {
        let output = walbridge(case, None).output().unwrap();
        if output.status.success() {
            let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            if report["caught_up"] == true {
                return;
            }
        } else {
            eprintln!("invocation failed: {}", stderr(&output));
        }
    }
    panic!("no invocation caught up in {attempts} attempts");
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn assert_delivered_exactly_once(case: &Case, expected: &Expected) -> CrashFigures {
    let records = env::read_topic(&case.topic("t"), expected.total());
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
    let checkpoint = case.checkpoint().await;
    assert_eq!(
        lsn_of(checkpoint["lsn"].as_str().unwrap()),
        case.confirmed_flush_lsn().await,
        "the slot is where the checkpoint says"
    );
    figures
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
    for step in STEPS {
        // a few windows of work: inserts in many transactions, updates, deletes (tombstones)
        for _ in 0..6 {
            case.sql(&expected.insert(next_id..=next_id + 99)).await;
            next_id += 100;
        }
        case.sql(&expected.update(next_id - 600..=next_id - 551))
            .await;
        case.sql(&expected.delete(next_id - 550..=next_id - 531))
            .await;
        // the second time the step is reached, the process dies there
        let output = walbridge(&case, Some(&format!("{step}=1*off->panic")))
            .output()
            .unwrap();
        assert!(
            !output.status.success(),
            "{step}: the failpoint fired (is the binary built with --features failpoints?): {}",
            stderr(&output)
        );
    }
    run_until_caught_up(&case, 5);
    let figures = assert_delivered_exactly_once(&case, &expected).await;
    eprintln!("crash at every step: {figures:?}");
    case.drop_slot().await;
}

#[tokio::test]
async fn sigkill_at_random_instants_loses_and_duplicates_nothing() {
    let setting = |name: &str, default: u64| -> u64 {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let kills = setting("WALBRIDGE_CRASH_KILLS", 5) as usize;
    // transactions of 100 inserts before each run (the long mode uses fewer, to keep topics small)
    let txns = setting("WALBRIDGE_CRASH_TXNS", 30) as i64;
    let case = Case::new("crashkill", "CREATE TABLE {s}.t(id int PRIMARY KEY, v int)").await;
    let mut expected = Expected::new();
    let mut next_id = 1;
    let mut killed = 0;
    let mut seed = u64::from_str_radix(&case.schema[case.schema.len() - 8..], 16).unwrap();
    while killed < kills {
        // new work before every run: 3 000 changes in 30 transactions, some updates and deletes
        for _ in 0..30 {
            case.sql(&expected.insert(next_id..=next_id + 99)).await;
            next_id += 100;
        }
        case.sql(&expected.update(next_id - 3000..=next_id - 2901))
            .await;
        case.sql(&expected.delete(next_id - 2900..=next_id - 2851))
            .await;
        let mut child = walbridge(&case, None).spawn().unwrap();
        // xorshift: a different instant every run, reproducible from the schema name
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        tokio::time::sleep(Duration::from_millis(20 + seed % (25 * txns as u64))).await;
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
    }
    run_until_caught_up(&case, 10);
    let figures = assert_delivered_exactly_once(&case, &expected).await;
    eprintln!("SIGKILL x{killed}: {figures:?}");
    case.drop_slot().await;
}
