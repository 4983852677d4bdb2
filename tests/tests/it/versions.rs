//! What depends on the PostgreSQL major the suite runs against (`tests/env/up --postgres N`):
//! PostgreSQL 18's `idle_replication_slot_timeout` against a scheduled function's idle slot.

use std::time::{Duration, Instant};

use walbridge_config::Config;
use walbridge_relay::{Request, Response, StatusReport};
use walbridge_tests::PrivatePostgres;

use crate::case::{Case, invoke, try_invoke};

/// The server's major, or `None` (with a note) when it is older than `min`.
async fn major_at_least(case: &Case, min: i32) -> Option<i32> {
    let version: i32 = case
        .pg
        .query_one("SELECT current_setting('server_version_num')::int4", &[])
        .await
        .unwrap()
        .get(0);
    if version / 10_000 < min {
        eprintln!(
            "PostgreSQL {} has no idle_replication_slot_timeout: nothing to check",
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

/// The `idle_slot_timeout` check of `validate`: status and message.
async fn idle_check(config: Config) -> (String, String) {
    let Response::Validated(report) = handle(config, "validate").await else {
        panic!("a validation report");
    };
    let check = report
        .checks
        .iter()
        .find(|c| c.name == "idle_slot_timeout")
        .unwrap_or_else(|| panic!("no idle_slot_timeout check in {report:?}"));
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
    // Each invocation uses the slot (peek, advance): the idle clock starts again when it ends,
    // whether or not it found changes.
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
    let idle = invoke(config_on(&case, &server, "rate(1 minute)")).await;
    assert_eq!(idle.changes, 0);
    let (after_idle, _) = idle_clock(&case).await;
    assert!(
        later(&case, &after_idle, &after_relay).await,
        "an invocation with nothing to relay resets it too: {after_idle} after {after_relay}"
    );

    // status and validate compare the schedule with the server's timeout.
    let quiet = status(config_on(&case, &server, "rate(1 minute)")).await;
    assert_eq!(quiet.idle_slot_timeout_s, None, "off by default");
    assert!(quiet.warnings.is_empty(), "{quiet:?}");
    assert!(quiet.inactive_since.is_some(), "{quiet:?}");
    assert_eq!(
        idle_check(config_on(&case, &server, "rate(1 minute)"))
            .await
            .0,
        "pass"
    );

    set_idle_timeout(&server, "1h", "1h");
    let within = status(config_on(&case, &server, "rate(10 minutes)")).await;
    assert_eq!(within.idle_slot_timeout_s, Some(3_600));
    assert!(within.warnings.is_empty(), "{within:?}");
    assert_eq!(
        idle_check(config_on(&case, &server, "rate(10 minutes)"))
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
    let (check, message) = idle_check(config_on(&case, &server, "rate(2 hours)")).await;
    assert_eq!(check, "warn", "{message}");
    assert!(
        message.contains("every 7200 s") && message.contains("3600 s"),
        "{message}"
    );
    let (check, message) = idle_check(config_on(&case, &server, "cron(0 * * * ? *)")).await;
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
