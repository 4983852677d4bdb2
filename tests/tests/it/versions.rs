//! What depends on the PostgreSQL major the suite runs against (`tests/env/up --postgres N`):
//! PostgreSQL 18's `idle_replication_slot_timeout` against a scheduled function's idle slot;
//! PostgreSQL 17's failover slots across a promotion, and reading a hot standby (16+), on private
//! primary/standby pairs of that major.

use std::time::{Duration, Instant};

use walbridge_config::Config;
use walbridge_relay::{Request, Response, StatusReport};
use walbridge_tests::PrivatePostgres;

use crate::case::{Case, invoke, lsn_of, try_invoke, value};

/// The server's major, or `None` (with a note) when it is older than `min`.
async fn major_at_least(case: &Case, min: i32) -> Option<i32> {
    major_for(case, min, "no idle_replication_slot_timeout").await
}

/// The server's major, or `None` (with a note saying it has `lacks`) when it is older than `min`.
async fn major_for(case: &Case, min: i32, lacks: &str) -> Option<i32> {
    let version: i32 = case
        .pg
        .query_one("SELECT current_setting('server_version_num')::int4", &[])
        .await
        .unwrap()
        .get(0);
    if version / 10_000 < min {
        eprintln!(
            "PostgreSQL {} has {lacks} (the whole test runs on tests/env/up --postgres 17 or 18)",
            version / 10_000
        );
        return None;
    }
    Some(version / 10_000)
}

/// Sets `idle_replication_slot_timeout` and waits until a new session sees it (a reload is
/// asynchronous).
fn set_idle_timeout(server: &PrivatePostgres, value: &str, shown: &str) {
    server.psql(&format!(
        "ALTER SYSTEM SET idle_replication_slot_timeout = '{value}'"
    ));
    server.psql("SELECT pg_reload_conf()");
    let until = Instant::now() + Duration::from_secs(30);
    while server.psql("SHOW idle_replication_slot_timeout") != shown {
        assert!(
            Instant::now() < until,
            "the server did not take idle_replication_slot_timeout = {value}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn config_on(case: &Case, server: &PrivatePostgres, schedule: &str) -> Config {
    let port = server.port.to_string();
    case.config(&[
        ("database.hostname", "127.0.0.1"),
        ("database.port", &port),
        ("database.user", &server.user),
        ("database.password", &server.password),
        ("database.dbname", "postgres"),
        ("schedule.expression", schedule),
    ])
}

async fn handle(config: Config, mode: &str) -> Response {
    let deps = walbridge_relay::Deps::new(config).await;
    let request: Request = serde_json::from_value(serde_json::json!({ "mode": mode })).unwrap();
    walbridge_relay::handle(&deps, &request, Instant::now() + Duration::from_secs(60))
        .await
        .unwrap_or_else(|err| panic!("{mode} failed: {err:?}"))
}

async fn status(config: Config) -> StatusReport {
    match handle(config, "status").await {
        Response::Status(status) => *status,
        other => panic!("a status report, not {other:?}"),
    }
}

/// The check `name` of `validate`: status and message.
async fn validate_check(config: Config, name: &str) -> (String, String) {
    let Response::Validated(report) = handle(config, "validate").await else {
        panic!("a validation report");
    };
    let check = report
        .checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no {name} check in {report:?}"));
    (
        serde_json::to_value(check.status)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned(),
        check.message.clone(),
    )
}

/// The slot's `inactive_since` and whether it is in use.
async fn idle_clock(case: &Case) -> (String, bool) {
    let row = case
        .pg
        .query_one(
            "SELECT inactive_since::text, active FROM pg_replication_slots WHERE slot_name = $1",
            &[&case.slot],
        )
        .await
        .unwrap();
    let since: Option<String> = row.get(0);
    (
        since.expect("an unused slot has inactive_since"),
        row.get(1),
    )
}

/// Whether timestamp `a` is later than `b`.
async fn later(case: &Case, a: &str, b: &str) -> bool {
    case.pg
        .query_one(
            "SELECT $1::text::timestamptz > $2::text::timestamptz",
            &[&a, &b],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn every_invocation_resets_the_slots_idle_clock_and_a_slow_schedule_is_warned_of() {
    // A cluster of its own: the timeout is the whole server's, and would invalidate other tests' slots.
    let server = PrivatePostgres::logical("idleslot", "walbridge", "idle-slot-pw");
    let case = Case::on(
        server.connect().await.unwrap(),
        "idleslot",
        "CREATE TABLE {s}.t(id int PRIMARY KEY)",
    )
    .await;
    if major_at_least(&case, 18).await.is_none() {
        return;
    }
    // An invocation that relays uses the slot (peek, advance): the idle clock starts again when it
    // ends.
    let (created, active) = idle_clock(&case).await;
    assert!(!active);
    case.sql("INSERT INTO {s}.t VALUES (1)").await;
    let relayed = invoke(config_on(&case, &server, "rate(1 minute)")).await;
    assert_eq!(relayed.changes, 1);
    let (after_relay, active) = idle_clock(&case).await;
    assert!(!active, "the invocation let the slot go");
    assert!(
        later(&case, &after_relay, &created).await,
        "{after_relay} after {created}"
    );
    // status and validate compare the schedule with the server's timeout.
    let quiet = status(config_on(&case, &server, "rate(1 minute)")).await;
    assert_eq!(quiet.idle_slot_timeout_s, None, "off by default");
    assert!(quiet.warnings.is_empty(), "{quiet:?}");
    assert!(quiet.inactive_since.is_some(), "{quiet:?}");
    assert_eq!(
        validate_check(
            config_on(&case, &server, "rate(1 minute)"),
            "idle_slot_timeout"
        )
        .await
        .0,
        "pass"
    );

    set_idle_timeout(&server, "1h", "1h");
    // Under the timeout an invocation with nothing to relay acquires the slot too (without it, such
    // a pass costs one query and leaves the slot alone).
    let idle = invoke(config_on(&case, &server, "rate(1 minute)")).await;
    assert_eq!(idle.changes, 0);
    let (after_idle, _) = idle_clock(&case).await;
    assert!(
        later(&case, &after_idle, &after_relay).await,
        "an invocation with nothing to relay resets it too: {after_idle} after {after_relay}"
    );

    let within = status(config_on(&case, &server, "rate(10 minutes)")).await;
    assert_eq!(within.idle_slot_timeout_s, Some(3_600));
    assert!(within.warnings.is_empty(), "{within:?}");
    assert_eq!(
        validate_check(
            config_on(&case, &server, "rate(10 minutes)"),
            "idle_slot_timeout"
        )
        .await
        .0,
        "pass"
    );

    let one_miss = status(config_on(&case, &server, "rate(45 minutes)")).await;
    assert_eq!(one_miss.warnings.len(), 1, "{one_miss:?}");
    assert!(
        one_miss.warnings[0].contains("one missed or failed invocation"),
        "{one_miss:?}"
    );
    let slower = status(config_on(&case, &server, "rate(2 hours)")).await;
    assert!(
        slower.warnings[0].contains("lost between two invocations"),
        "{slower:?}"
    );
    let (check, message) = validate_check(
        config_on(&case, &server, "rate(2 hours)"),
        "idle_slot_timeout",
    )
    .await;
    assert_eq!(check, "warn", "{message}");
    assert!(
        message.contains("every 7200 s") && message.contains("3600 s"),
        "{message}"
    );
    let (check, message) = validate_check(
        config_on(&case, &server, "cron(0 * * * ? *)"),
        "idle_slot_timeout",
    )
    .await;
    assert_eq!(
        check, "warn",
        "a schedule without one period cannot be compared: {message}"
    );
    assert!(message.contains("schedule.expression"), "{message}");

    // What the warning is about: a slot left unused past the timeout is invalidated at the next
    // checkpoint, and the next invocation says how to recover.
    set_idle_timeout(&server, "1s", "1s");
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let idle_long: bool = case
            .pg
            .query_one(
                "SELECT now() - inactive_since > interval '1.5 s' FROM pg_replication_slots WHERE slot_name = $1",
                &[&case.slot],
            )
            .await
            .unwrap()
            .get(0);
        if idle_long {
            break;
        }
        assert!(
            Instant::now() < until,
            "the slot never became idle for 1.5 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.psql("CHECKPOINT");
    let reason = server.psql(&format!(
        "SELECT invalidation_reason FROM pg_replication_slots WHERE slot_name = '{}'",
        case.slot
    ));
    assert_eq!(reason, "idle_timeout");
    let err = try_invoke(config_on(&case, &server, "rate(1 minute)"))
        .await
        .expect_err("an invalidated slot cannot be read");
    let text = walbridge_relay::error_chain(&err);
    assert!(
        text.contains("invalidated") && text.contains("when_needed"),
        "{text}"
    );
}

/// A configuration for `server` (whichever of a pair it is), with `extra` properties.
fn config_for(case: &Case, server: &PrivatePostgres, extra: &[(&str, &str)]) -> Config {
    let port = server.port.to_string();
    let mut pairs = vec![
        ("database.hostname", "127.0.0.1"),
        ("database.port", port.as_str()),
        ("database.user", server.user.as_str()),
        ("database.password", server.password.as_str()),
        ("database.dbname", "postgres"),
    ];
    pairs.extend_from_slice(extra);
    case.config(&pairs)
}

/// Drops the slot [`Case::on`] made on the primary: these tests let walbridge create theirs.
async fn drop_case_slot(case: &Case) {
    case.pg
        .execute("SELECT pg_drop_replication_slot($1)", &[&case.slot])
        .await
        .expect("drop the case's slot");
}

/// Sets a reloadable setting with ALTER SYSTEM and waits until a new session sees it.
fn set_reloaded(server: &PrivatePostgres, name: &str, value: &str) {
    server.psql(&format!("ALTER SYSTEM SET {name} = '{value}'"));
    server.psql("SELECT pg_reload_conf()");
    let until = Instant::now() + Duration::from_secs(30);
    while server.psql(&format!("SHOW {name}")) != value {
        assert!(
            Instant::now() < until,
            "the server did not take {name} = {value}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Polls `sql` (one boolean) on `server` until it is true.
fn wait_until(server: &PrivatePostgres, sql: &str, what: &str) {
    let until = Instant::now() + Duration::from_secs(60);
    while server.psql(sql) != "t" {
        if Instant::now() > until {
            let log =
                std::fs::read_to_string(server.dir.join("postgresql.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            panic!(
                "timed out waiting until {what}; the server's log ends:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The ids of the create events on `topic` and how often each came, reading until at least
/// `min` records are there.
fn created_ids(topic: &str, min: usize) -> std::collections::BTreeMap<i64, usize> {
    let mut ids = std::collections::BTreeMap::new();
    for record in walbridge_tests::read_topic(topic, min) {
        if record.value_str().is_none() {
            continue;
        }
        let event = value(&record);
        if event["op"] == "c" {
            *ids.entry(event["after"]["id"].as_i64().expect("an id"))
                .or_insert(0) += 1;
        }
    }
    ids
}

#[tokio::test]
async fn a_failover_slot_is_read_on_from_the_promoted_standby_with_nothing_lost() {
    let primary = PrivatePostgres::logical("failover", "walbridge", "failover-pw");
    let case = Case::on(
        primary.connect().await.unwrap(),
        "failover",
        "CREATE TABLE {s}.t(id int PRIMARY KEY, v text)",
    )
    .await;
    drop_case_slot(&case).await;
    if major_for(&case, 17, "no failover slots").await.is_none() {
        // Below 17 the key is refused, naming it.
        let err = try_invoke(config_for(
            &case,
            &primary,
            &[("slot.create", "true"), ("slot.failover", "true")],
        ))
        .await
        .expect_err("no failover slots before PostgreSQL 17");
        let text = walbridge_relay::error_chain(&err);
        assert!(
            text.contains("slot.failover=true needs PostgreSQL 17"),
            "{text}"
        );
        return;
    }
    let standby = PrivatePostgres::standby_of(
        &primary,
        "failover-standby",
        "standby1",
        "sync_replication_slots = on\nhot_standby_feedback = on\n",
    );
    // Logical decoding of a failover slot waits until this standby has the WAL.
    set_reloaded(&primary, "synchronized_standby_slots", "standby1");
    let failover = [("slot.create", "true"), ("slot.failover", "true")];
    let insert = |from: i32, to: i32| {
        format!("INSERT INTO {{s}}.t SELECT g, 'row ' || g FROM generate_series({from}, {to}) g")
    };

    // walbridge creates the failover slot on the primary and relays through it.
    case.sql(&insert(1, 40)).await;
    let first = invoke(config_for(&case, &primary, &failover)).await;
    assert_eq!(first.changes, 0, "the slot is created after these rows");
    case.sql(&insert(41, 80)).await;
    case.sql(&insert(81, 100)).await;
    let relayed = invoke(config_for(&case, &primary, &failover)).await;
    assert_eq!(relayed.changes, 60);
    assert_eq!(
        primary.psql(&format!(
            "SELECT failover FROM pg_replication_slots WHERE slot_name = '{}'",
            case.slot
        )),
        "t"
    );
    // A config that disagrees with the slot's flag is refused, naming the key.
    let err = try_invoke(config_for(&case, &primary, &[]))
        .await
        .expect_err("slot.failover=false against a failover slot");
    let text = walbridge_relay::error_chain(&err);
    assert!(
        text.contains("failover=true") && text.contains("slot.failover=false"),
        "{text}"
    );
    // validate says the same, and passes when they agree.
    let slot_check = |report: walbridge_relay::Response| {
        let Response::Validated(report) = report else {
            panic!("a validation report");
        };
        let check = report
            .checks
            .into_iter()
            .find(|c| c.name == "slot")
            .unwrap();
        (
            serde_json::to_value(check.status)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned(),
            check.message,
        )
    };
    let (status, message) = slot_check(handle(config_for(&case, &primary, &[]), "validate").await);
    assert_eq!(status, "fail", "{message}");
    assert!(message.contains("slot.failover=false"), "{message}");
    let (status, message) =
        slot_check(handle(config_for(&case, &primary, &failover), "validate").await);
    assert_eq!(status, "pass", "{message}");
    assert!(message.contains("failover=true"), "{message}");

    // The standby has its copy of the slot, synchronized up to the primary's position. It is
    // synchronized only once the primary's slot no longer needs catalog rows the standby may have
    // removed: its catalog_xmin moves on when a window decodes a running-transactions record (the
    // primary logs one every 15 s while it writes), as scheduled invocations make it do.
    let until = Instant::now() + Duration::from_secs(90);
    loop {
        primary.psql("SELECT pg_log_standby_snapshot()");
        let idle = invoke(config_for(&case, &primary, &failover)).await;
        assert_eq!(idle.changes, 0);
        let position = primary.psql(&format!(
            "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '{}'",
            case.slot
        ));
        let synced = standby.psql(&format!(
            "SELECT coalesce(bool_and(synced AND failover AND confirmed_flush_lsn = '{position}'), \
             false) FROM pg_replication_slots WHERE slot_name = '{}'",
            case.slot
        ));
        if synced == "t" {
            break;
        }
        assert!(
            Instant::now() < until,
            "the standby never had the failover slot at the primary's position"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // A standby of synchronized_standby_slots that never confirms: the peek waits for it, and
    // the statement_timeout ends it before the invocation's deadline, naming the cause.
    primary.psql("SELECT pg_create_physical_replication_slot('absent_standby')");
    set_reloaded(
        &primary,
        "synchronized_standby_slots",
        "standby1, absent_standby",
    );
    case.sql(&insert(101, 110)).await;
    let deps = walbridge_relay::Deps::new(config_for(&case, &primary, &failover)).await;
    let started = Instant::now();
    let err = walbridge_relay::invoke(&deps, Instant::now() + Duration::from_secs(8))
        .await
        .expect_err("the peek waits for a standby that is not there");
    let text = walbridge_relay::error_chain(&err);
    assert!(
        text.contains("statement_timeout") && text.contains("synchronized_standby_slots"),
        "{text}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    set_reloaded(&primary, "synchronized_standby_slots", "standby1");
    primary.psql("SELECT pg_drop_replication_slot('absent_standby')");

    // The standby stops synchronizing, so its copy stays behind what the primary relays next;
    // then the primary dies and the standby is promoted.
    set_reloaded(&standby, "sync_replication_slots", "off");
    wait_until(
        &standby,
        "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'slotsync worker'",
        "the standby's slot synchronization stopped",
    );
    case.sql(&insert(111, 150)).await;
    let relayed = invoke(config_for(&case, &primary, &failover)).await;
    assert_eq!(relayed.changes, 50, "101–110 and 111–150");
    let checkpointed = case.checkpoint().await["lsn"].as_str().unwrap().to_owned();
    primary.stop("immediate");
    standby.promote();
    let synced_at = standby.psql(&format!(
        "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '{}'",
        case.slot
    ));
    assert!(
        lsn_of(&synced_at) < lsn_of(&checkpointed),
        "the promoted copy {synced_at} stands before the checkpoint {checkpointed}"
    );

    // The relay goes on from the promoted standby: what lies between its copy of the slot and the
    // checkpoint is published again, and nothing is missing.
    let new_primary = standby.connect().await.unwrap();
    new_primary
        .batch_execute(&insert(151, 200).replace("{s}", &case.schema))
        .await
        .unwrap();
    let after = invoke(config_for(&case, &standby, &failover)).await;
    assert!(after.changes >= 50, "{after:?}");
    let ids = created_ids(&case.topic("t"), 200);
    let missing: Vec<i64> = (41..=200).filter(|id| !ids.contains_key(id)).collect();
    assert!(
        missing.is_empty(),
        "missing after the failover: {missing:?}"
    );
    let again: Vec<i64> = ids
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| *id)
        .collect();
    assert!(
        again.iter().all(|id| (101..=150).contains(id)),
        "duplicates only of what the copy had not confirmed: {again:?}"
    );
    assert!(ids.keys().all(|id| (41..=200).contains(id)), "{ids:?}");
    // The slot on the new primary stands where the checkpoint says.
    let slot_at = standby.psql(&format!(
        "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '{}'",
        case.slot
    ));
    assert_eq!(case.checkpoint().await["lsn"].as_str().unwrap(), slot_at);
    assert_eq!(case.checkpoint().await["timeline"], 2);
    eprintln!(
        "failover: checkpoint {checkpointed}, promoted copy at {synced_at}, {} ids published again",
        again.len()
    );
}

#[tokio::test]
async fn a_hot_standby_relays_the_primarys_changes_at_its_replay_position() {
    let primary = PrivatePostgres::logical("onstandby", "walbridge", "on-standby-pw");
    let case = Case::on(
        primary.connect().await.unwrap(),
        "onstandby",
        "CREATE TABLE {s}.t(id int PRIMARY KEY, v text); CREATE TABLE {s}.hb(at timestamptz)",
    )
    .await;
    drop_case_slot(&case).await;
    let standby = PrivatePostgres::standby_of(
        &primary,
        "onstandby-standby",
        "standby1",
        "hot_standby_feedback = on\n",
    );
    if major_for(&case, 16, "no logical decoding on a standby")
        .await
        .is_none()
    {
        // Below 16 a standby cannot decode: refused, naming the cause and the fix.
        let err = try_invoke(config_for(&case, &standby, &[("slot.create", "true")]))
            .await
            .expect_err("no logical decoding on a standby before PostgreSQL 16");
        let text = walbridge_relay::error_chain(&err);
        assert!(
            text.contains("is a standby") && text.contains("needs PostgreSQL 16"),
            "{text}"
        );
        return;
    }
    // Creating a slot on a standby waits for the primary to log its running transactions.
    let logger = primary.connect().await.unwrap();
    let logging = tokio::spawn(async move {
        loop {
            let _ = logger
                .execute("SELECT pg_log_standby_snapshot()", &[])
                .await;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    // Rows from before the slot: an initial snapshot reads them on the standby.
    case.sql("INSERT INTO {s}.t SELECT g, 'old ' || g FROM generate_series(1001, 1010) g")
        .await;
    let on_standby = [("slot.create", "true"), ("snapshot.mode", "initial")];

    // A failover slot cannot be made on a standby: refused, naming the key and the fix.
    let err = try_invoke(config_for(
        &case,
        &standby,
        &[("slot.create", "true"), ("slot.failover", "true")],
    ))
    .await
    .expect_err("no failover slot on a standby");
    let text = walbridge_relay::error_chain(&err);
    assert!(
        text.contains("slot.failover") && text.contains("primary"),
        "{text}"
    );

    let written = primary.psql("SELECT pg_current_wal_lsn()");
    wait_until(
        &standby,
        &format!("SELECT pg_last_wal_replay_lsn() >= '{written}'"),
        "the standby replayed the rows",
    );
    let first = invoke(config_for(&case, &standby, &on_standby)).await;
    assert_eq!(first.changes, 0);
    assert_eq!(first.snapshot_rows, 10, "{first:?}");
    logging.abort();
    assert_eq!(
        standby.psql(&format!(
            "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{}'",
            case.slot
        )),
        "1",
        "the slot is the standby's"
    );

    case.sql("INSERT INTO {s}.t SELECT g, 'row ' || g FROM generate_series(1, 30) g")
        .await;
    case.sql("UPDATE {s}.t SET v = 'changed' WHERE id <= 5")
        .await;
    case.sql("DELETE FROM {s}.t WHERE id BETWEEN 26 AND 30")
        .await;
    let written = primary.psql("SELECT pg_current_wal_lsn()");
    wait_until(
        &standby,
        &format!("SELECT pg_last_wal_replay_lsn() >= '{written}'"),
        "the standby replayed the changes",
    );
    let relayed = invoke(config_for(&case, &standby, &on_standby)).await;
    assert_eq!(relayed.changes, 40, "{relayed:?}");
    let ids = created_ids(&case.topic("t"), 10 + 30 + 5 + 10);
    assert_eq!(
        ids.keys().copied().collect::<Vec<_>>(),
        (1..=30).collect::<Vec<_>>()
    );
    assert!(ids.values().all(|n| *n == 1), "{ids:?}");
    let read: Vec<i64> = walbridge_tests::read_topic(&case.topic("t"), 55)
        .iter()
        .filter(|record| record.value_str().is_some())
        .map(value)
        .filter(|event| event["op"] == "r")
        .map(|event| event["after"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(read.len(), 10, "the snapshot, once: {read:?}");
    assert_eq!(
        read.iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>(),
        (1001..=1010).collect(),
        "the snapshot, once"
    );
    // The slot and the checkpoint stand at the standby's replay position.
    let slot_at = standby.psql(&format!(
        "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '{}'",
        case.slot
    ));
    assert!(
        lsn_of(&slot_at) >= lsn_of(&written),
        "{slot_at} < {written}"
    );
    assert_eq!(case.checkpoint().await["lsn"].as_str().unwrap(), slot_at);

    // status reads the replay position; validate passes and says it is a standby.
    let report = status(config_for(&case, &standby, &on_standby)).await;
    let replayed = standby.psql("SELECT pg_last_wal_replay_lsn()");
    assert!(
        lsn_of(&slot_at) <= lsn_of(&report.current_wal_lsn)
            && lsn_of(&report.current_wal_lsn) <= lsn_of(&replayed),
        "status reads the replay position: {report:?}, replayed {replayed}"
    );
    let Response::Validated(validated) =
        handle(config_for(&case, &standby, &on_standby), "validate").await
    else {
        panic!("a validation report");
    };
    let slot_check = validated.checks.iter().find(|c| c.name == "slot").unwrap();
    assert!(slot_check.message.contains("standby"), "{slot_check:?}");

    // A heartbeat query that writes cannot run on a standby: counted, the relay goes on.
    case.sql("INSERT INTO {s}.t VALUES (100, 'last')").await;
    let written = primary.psql("SELECT pg_current_wal_lsn()");
    wait_until(
        &standby,
        &format!("SELECT pg_last_wal_replay_lsn() >= '{written}'"),
        "the standby replayed the insert",
    );
    let hb_query = format!("INSERT INTO {}.hb VALUES (now())", case.schema);
    let with_query = invoke(config_for(
        &case,
        &standby,
        &[
            ("heartbeat.interval.ms", "1"),
            ("heartbeat.action.query", hb_query.as_str()),
        ],
    ))
    .await;
    assert_eq!(with_query.changes, 1);
    assert!(with_query.heartbeat_query_errors >= 1, "{with_query:?}");
}

/// How far the slot's restart point lies behind its position, bytes, as `status` (and the
/// RestartLagBytes metric) report it.
async fn restart_behind(config: Config) -> u64 {
    Box::pin(status(config))
        .await
        .restart_lag_bytes
        .expect("a slot with a position and a restart point")
}

/// A server of the test's own with a case on it, its slot made before any write.
async fn restart_case(name: &str) -> (PrivatePostgres, Case) {
    let server = PrivatePostgres::logical(name, "walbridge", "restart-follows-pw");
    let case = Case::on(
        server.connect().await.unwrap(),
        name,
        "CREATE TABLE {s}.t(id int PRIMARY KEY, pad text NOT NULL)",
    )
    .await;
    (server, case)
}

/// About 40 MB of WAL in one burst: several windows, whose restart point stays where it began
/// unless a running-transactions record lies after it.
const BURST: &str = "DO $$ BEGIN FOR i IN 0..39 LOOP
       INSERT INTO {s}.t SELECT i * 1000 + g, repeat('x', 1000) FROM generate_series(0, 999) g;
       COMMIT;
     END LOOP; END $$;";

/// A window over a long stretch of WAL after the slot's restart point writes a running-transactions
/// record, so the restart point follows the slot instead of waiting for the server's own record
/// (every 15 s under writes): each peek and advance decodes again only what lies between the two.
/// As a superuser: `pg_log_standby_snapshot()` on 16+, a temporary slot on 15. On a server of the
/// test's own: a writing transaction of another test open at the record would hold the restart
/// point back.
#[tokio::test]
async fn the_slots_restart_point_follows_it() {
    let (server, case) = restart_case("restart_follows").await;
    case.sql(BURST).await;
    assert_eq!(
        invoke(config_for(&case, &server, &[])).await.changes,
        40_000
    );
    case.sql("INSERT INTO {s}.t VALUES (-1, 'after')").await;
    assert_eq!(invoke(config_for(&case, &server, &[])).await.changes, 1);
    let behind = restart_behind(config_for(&case, &server, &[])).await;
    assert!(
        behind < 1 << 20,
        "the restart point is {behind} bytes behind the slot"
    );
    let way = if major_for(&case, 16, "no pg_log_standby_snapshot()")
        .await
        .is_some()
    {
        "pg_log_standby_snapshot()"
    } else {
        "temporary logical slot"
    };
    let (status, message) = validate_check(config_for(&case, &server, &[]), "restart_point").await;
    assert_eq!(status, "pass", "{message}");
    assert!(message.contains(way), "{message}");
    case.drop_slot().await;
}

/// Three transactions of about 1 MB of WAL each: one window, longer than the stretch from which a
/// window writes a running-transactions record.
const SMALL_BURST: &str = "DO $$ BEGIN FOR i IN 0..2 LOOP
       INSERT INTO {s}.t SELECT {base} + i * 1000 + g, repeat('x', 1000) FROM generate_series(0, 999) g;
       COMMIT;
     END LOOP; END $$;";

/// The window that writes the running-transactions record reads up to the end of the WAL after it,
/// so when it reaches that end its own advance passes the record and the restart point follows
/// within the invocation: not left to a later pass, which would decode the whole stretch again to
/// cross the record alone. As a user with REPLICATION only, so on every major the record is the
/// temporary slot's, which is flushed as it is written (`pg_log_standby_snapshot()` leaves that to
/// the WAL writer, and a window may be read before it did).
#[tokio::test]
async fn the_window_that_writes_the_record_passes_it() {
    let (server, case) = restart_case("restart_same_window").await;
    let (role, password) = replication_role(&case, "restart-same-window").await;
    let settings = [
        ("database.user", role.as_str()),
        ("database.password", password),
    ];
    for base in ["0", "10000"] {
        case.sql(&SMALL_BURST.replace("{base}", base)).await;
        let report = invoke(config_for(&case, &server, &settings)).await;
        assert_eq!((report.changes, report.windows), (3_000, 1), "{report:?}");
    }
    let behind = restart_behind(config_for(&case, &server, &settings)).await;
    assert!(
        behind < 1 << 20,
        "the restart point is {behind} bytes behind the slot"
    );
    case.drop_slot().await;
}

/// A role with REPLICATION and read access to the case's schema only; its password.
async fn replication_role(case: &Case, password: &'static str) -> (String, &'static str) {
    let role = format!("{}_user", case.schema);
    case.sql(&format!(
        "CREATE ROLE {role} LOGIN REPLICATION PASSWORD '{password}';
         GRANT USAGE ON SCHEMA {{s}} TO {role};
         GRANT SELECT ON ALL TABLES IN SCHEMA {{s}} TO {role};"
    ))
    .await;
    (role, password)
}

/// The same as a user with REPLICATION only, to whom `pg_log_standby_snapshot()` is not granted:
/// the record is written by creating a temporary logical slot. While a writing transaction stays
/// open, creating it is cancelled after a moment (the restart point cannot pass that transaction
/// anyway), the windows go on, and no slot is left behind.
#[tokio::test]
async fn the_slots_restart_point_follows_it_for_a_replication_user() {
    let (server, case) = restart_case("restart_follows_repl").await;
    let (role, password) = replication_role(&case, "restart-follows").await;
    let as_role = |case: &Case| {
        config_for(
            case,
            &server,
            &[("database.user", &role), ("database.password", password)],
        )
    };
    case.sql(BURST).await;
    assert_eq!(invoke(as_role(&case)).await.changes, 40_000);
    case.sql("INSERT INTO {s}.t VALUES (-1, 'after')").await;
    assert_eq!(invoke(as_role(&case)).await.changes, 1);
    let behind = restart_behind(as_role(&case)).await;
    assert!(
        behind < 1 << 20,
        "the restart point is {behind} bytes behind the slot"
    );
    let (check, message) = validate_check(as_role(&case), "restart_point").await;
    assert_eq!(check, "pass", "{message}");
    assert!(message.contains("temporary logical slot"), "{message}");

    // A writing transaction left open across the next burst.
    let open = server.connect().await.unwrap();
    open.batch_execute(&format!(
        "BEGIN; INSERT INTO {}.t VALUES (-2, 'open')",
        case.schema
    ))
    .await
    .unwrap();
    case.sql(
        BURST
            .replace("i * 1000 + g", "100000 + i * 1000 + g")
            .as_str(),
    )
    .await;
    assert_eq!(invoke(as_role(&case)).await.changes, 40_000);
    // Held back by the open transaction, followed once it ends.
    let held = restart_behind(as_role(&case)).await;
    assert!(
        held > 30 << 20,
        "the restart point is {held} bytes behind the slot"
    );
    let left: i64 = case
        .pg
        .query_one(
            "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'walbridge_record_%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "a temporary slot was left behind");
    // Tried once, when the stretch first grew long, not again by every window while the
    // transaction ran.
    let log = std::fs::read_to_string(server.dir.join("postgresql.log")).unwrap();
    let cancelled = log
        .matches("canceling statement due to statement timeout")
        .count();
    assert_eq!(cancelled, 1, "temporary slots cancelled: {cancelled}");
    open.batch_execute("COMMIT").await.unwrap();
    assert_eq!(invoke(as_role(&case)).await.changes, 1);
    let followed = restart_behind(as_role(&case)).await;
    assert!(
        followed < 1 << 20,
        "the restart point is {followed} bytes behind the slot"
    );
}
