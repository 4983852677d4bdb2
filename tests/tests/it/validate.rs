//! `walbridge validate` and `{"mode":"validate"}` against the real services: every property reported,
//! each live check on its own, the exit status, nothing moved, no secret shown.

use std::process::{Command, Output};

use serde_json::Value;
use walbridge_tests as env;

use crate::case::{Case, walbridge_invoke};

/// `walbridge validate --json` (or `invoke '{"mode":"validate"}'`) for `case`, with its slot and
/// tables, plus `extra` environment variables.
pub(crate) fn validate_command(case: &Case, args: &[&str], extra: &[(&str, &str)]) -> Command {
    // walbridge_invoke's environment, with other arguments than its `invoke`.
    let invoke = walbridge_invoke(&format!("s3://{}/{}", env::bucket(), case.checkpoint_key));
    let mut command = Command::new(invoke.get_program());
    for (key, value) in invoke.get_envs() {
        if let Some(value) = value {
            command.env(key, value);
        }
    }
    command
        .args(args)
        .env("SLOT_NAME", &case.slot)
        .env("TABLE_INCLUDE_LIST", format!("{}.*", case.schema))
        .env("TOPIC_PREFIX", &case.prefix)
        .env_remove("WALBRIDGE_PROPERTIES");
    for (key, value) in extra {
        command.env(key, value);
    }
    command
}

pub(crate) fn run(mut command: Command) -> (Output, Value) {
    let output = command.output().expect("run walbridge");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|err| {
        panic!(
            "not a JSON report ({err}): {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output, report)
}

pub(crate) fn check<'r>(report: &'r Value, name: &str) -> (&'r str, &'r str) {
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report:#}"));
    (
        check["status"].as_str().unwrap(),
        check["message"].as_str().unwrap(),
    )
}

pub(crate) fn property<'r>(report: &'r Value, name: &str) -> &'r Value {
    report["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no property {name} in {report:#}"))
}

#[tokio::test]
async fn a_ready_configuration_passes_every_check_and_nothing_moves() {
    let case = Case::new(
        "validate_ok",
        "CREATE TABLE {s}.t(id int PRIMARY KEY, v text)",
    )
    .await;
    case.sql("INSERT INTO {s}.t VALUES (1, 'a')").await;
    let before = case.confirmed_flush_lsn().await;

    let (output, report) = run(validate_command(&case, &["validate", "--json"], &[]));
    assert!(output.status.success(), "{report:#}");
    assert_eq!(report["passed"], true);
    for name in [
        "postgresql",
        "wal_level",
        "slot",
        "read_ahead",
        "restart_point",
        "tables",
        "kafka",
        "topics",
        "checkpoint",
    ] {
        assert_eq!(check(&report, name).0, "pass", "{name}: {report:#}");
    }
    assert!(
        check(&report, "topics").1.contains("will be created"),
        "{report:#}"
    );

    // The invoke mode answers the same report through the Lambda handler.
    let (output, invoked) = run(validate_command(
        &case,
        &["invoke", r#"{"mode":"validate"}"#],
        &[],
    ));
    assert!(output.status.success());
    assert_eq!(invoked["passed"], true);
    // Names and outcomes: the messages count the cluster's topics, which parallel tests change.
    let outcomes = |report: &Value| -> Vec<(String, String)> {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["name"].to_string(), c["status"].to_string()))
            .collect()
    };
    assert_eq!(outcomes(&invoked), outcomes(&report));

    assert_eq!(
        case.confirmed_flush_lsn().await,
        before,
        "the slot did not move"
    );
    let checkpoint = env::s3()
        .await
        .head_object()
        .bucket(env::bucket())
        .key(&case.checkpoint_key)
        .send()
        .await;
    assert!(checkpoint.is_err(), "no checkpoint was written");
    let topics = env::kafka().await.list_topics().await.unwrap();
    assert!(
        !topics.iter().any(|t| t.name == case.topic("t")),
        "no topic was created"
    );
    case.drop_slot().await;
}

#[tokio::test]
async fn each_failing_live_check_is_reported_on_its_own() {
    let case = Case::new(
        "validate_bad",
        "CREATE TABLE {s}.keyed(id int PRIMARY KEY); CREATE TABLE {s}.log(line text); \
         CREATE TABLE {s}.full_row(line text); ALTER TABLE {s}.full_row REPLICA IDENTITY FULL",
    )
    .await;
    let list = format!("{s}.*,{s}.missing", s = case.schema);
    let (output, report) = run(validate_command(
        &case,
        &["validate", "--json"],
        &[
            ("TABLE_INCLUDE_LIST", &list),
            ("TOPIC_CREATION_ENABLE", "false"),
            (
                "CHECKPOINT_URI",
                "s3://no-such-bucket-walbridge/x/checkpoint.json",
            ),
        ],
    ));
    assert_eq!(output.status.code(), Some(1), "{report:#}");
    assert_eq!(report["passed"], false);
    assert_eq!(check(&report, "postgresql").0, "pass");
    let (status, message) = check(&report, "tables");
    assert_eq!(status, "fail", "{message}");
    assert!(
        message.contains(&format!("{}.missing", case.schema)),
        "{message}"
    );
    let (status, message) = check(&report, "topics");
    assert_eq!(status, "fail");
    assert!(message.contains("topic.creation.enable=false"), "{message}");
    assert_eq!(check(&report, "checkpoint").0, "fail");

    // Without the missing entry, the keyless table is a warning, not a failure.
    let (output, report) = run(validate_command(&case, &["validate", "--json"], &[]));
    assert!(output.status.success(), "{report:#}");
    let (status, message) = check(&report, "tables");
    assert_eq!(status, "warn");
    assert!(
        message.contains(&format!("{}.log", case.schema)) && !message.contains("full_row"),
        "{message}"
    );

    // A missing slot without slot.create fails with the SQL that creates it.
    case.pg
        .execute("SELECT pg_drop_replication_slot($1)", &[&case.slot])
        .await
        .unwrap();
    let (_, report) = run(validate_command(&case, &["validate", "--json"], &[]));
    let (status, message) = check(&report, "slot");
    assert_eq!(status, "fail");
    assert!(
        message.contains("pg_create_logical_replication_slot"),
        "{message}"
    );
    case.sql("DROP SCHEMA {s} CASCADE").await;
}

#[tokio::test]
async fn bad_properties_are_reported_per_property_and_no_secret_is_shown() {
    let case = Case::new("validate_props", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    let dir = std::env::temp_dir().join(&case.schema);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("connector.properties");
    std::fs::write(
        &file,
        "tasks.max=2\nplugin.name=decoderbufs\noffset.mismatch.strategy=bogus\n\
         slot.drop_on_stop=true\nsnapshot.lock.timeout.mz=5\nkafka.security.protocol=SASL_SSL\n\
         kafka.sasl.username=cdc\nkafka.sasl.password=kafka-secret-4711\n",
    )
    .unwrap();
    let file = file.display().to_string();
    let (output, report) = run(validate_command(
        &case,
        &["validate", "--json"],
        &[("WALBRIDGE_PROPERTIES", &file)],
    ));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(report["error_count"], 3, "{report:#}");
    assert!(
        property(&report, "tasks.max")["errors"][0]
            .as_str()
            .unwrap()
            .contains("a slot has one reader")
    );
    let plugin = property(&report, "plugin.name");
    assert!(plugin["errors"][0].as_str().unwrap().contains("wal2json"));
    assert_eq!(plugin["recommended_values"][0], "wal2json");
    assert!(
        property(&report, "offset.mismatch.strategy")["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("Value must be one of fail, trust_slot")
    );
    assert!(
        property(&report, "slot.drop_on_stop")["notes"][0]
            .as_str()
            .unwrap()
            .contains("ignored by design")
    );
    assert!(
        property(&report, "snapshot.lock.timeout.mz")["warnings"][0]
            .as_str()
            .unwrap()
            .contains("does not know")
    );
    assert_eq!(check(&report, "live checks").0, "skipped");

    // A wrong database password: the live check fails, and neither password shows anywhere.
    let password = env::var("PGPASSWORD");
    let wrong = format!("wrong-{}", env::unique("pw"));
    let mut command = validate_command(&case, &["validate"], &[("DATABASE_PASSWORD", &wrong)]);
    let human = command.output().unwrap();
    let (_, report) = run(validate_command(
        &case,
        &["validate", "--json"],
        &[("DATABASE_PASSWORD", &wrong)],
    ));
    assert_eq!(check(&report, "postgresql").0, "fail");
    assert!(
        check(&report, "postgresql")
            .1
            .contains("password authentication failed")
    );
    for text in [
        String::from_utf8_lossy(&human.stdout),
        String::from_utf8_lossy(&human.stderr),
        report.to_string().into(),
    ] {
        assert!(
            !text.contains(&wrong) && !text.contains(&password),
            "{text}"
        );
        assert!(!text.contains("kafka-secret-4711"));
    }
    std::fs::remove_dir_all(dir).unwrap();
    case.drop_slot().await;
}

#[tokio::test]
async fn validate_expects_the_topics_streaming_writes_partitions_not_parents_and_no_unlogged_table()
{
    // The relay and validate share one definition of a capturable table: a partition's rows are
    // decoded (and published) under the partition's name, an unlogged table never reaches logical
    // decoding.
    let case = Case::new(
        "validate_parts",
        "CREATE TABLE {s}.t(id int PRIMARY KEY); \
         CREATE TABLE {s}.orders(id int, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at); \
         CREATE TABLE {s}.orders_2025 PARTITION OF {s}.orders \
           FOR VALUES FROM ('2025-01-01') TO ('2026-01-01'); \
         CREATE TABLE {s}.orders_2026 PARTITION OF {s}.orders \
           FOR VALUES FROM ('2026-01-01') TO ('2027-01-01'); \
         CREATE UNLOGGED TABLE {s}.scratch(id int PRIMARY KEY)",
    )
    .await;
    let (_, report) = run(validate_command(
        &case,
        &["validate", "--json"],
        &[("TOPIC_CREATION_ENABLE", "false")],
    ));
    let (status, message) = check(&report, "tables");
    assert_eq!(status, "pass", "{report:#}");
    assert!(message.starts_with("3 tables"), "{message}");
    let (status, message) = check(&report, "topics");
    assert_eq!(status, "fail", "{report:#}");
    let listed: std::collections::BTreeSet<&str> = message
        .rsplit_once("create ")
        .expect("the topics to create")
        .1
        .split(", ")
        .collect();
    let expected = ["orders_2025", "orders_2026", "t"].map(|t| case.topic(t));
    assert_eq!(
        listed,
        expected.iter().map(String::as_str).collect(),
        "{message}"
    );
    case.drop_slot().await;
}

#[tokio::test]
async fn validate_expects_the_transaction_message_and_heartbeat_topics_when_they_are_written() {
    let case = Case::new("validate_more", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    let beats = format!("{}-beats", case.prefix);
    let (_, report) = run(validate_command(
        &case,
        &["validate", "--json"],
        &[
            ("TOPIC_CREATION_ENABLE", "false"),
            ("PROVIDE_TRANSACTION_METADATA", "true"),
            ("MESSAGE_PREFIX_INCLUDE_LIST", "outbox"),
            ("HEARTBEAT_INTERVAL_MS", "10000"),
            ("TOPIC_HEARTBEAT_NAME", &beats),
        ],
    ));
    let (status, message) = check(&report, "topics");
    assert_eq!(status, "fail", "{report:#}");
    let listed: std::collections::BTreeSet<&str> = message
        .rsplit_once("create ")
        .expect("the topics to create")
        .1
        .split(", ")
        .collect();
    let transaction = format!("{}.transaction", case.prefix);
    let messages = format!("{}.message", case.prefix);
    let expected = [case.topic("t"), transaction, messages, beats];
    assert_eq!(
        listed,
        expected.iter().map(String::as_str).collect(),
        "{message}"
    );

    // Without them, only the tables' topics.
    let (_, report) = run(validate_command(
        &case,
        &["validate", "--json"],
        &[("TOPIC_CREATION_ENABLE", "false")],
    ));
    let (_, message) = check(&report, "topics");
    assert!(
        message.ends_with(&format!("create {}", case.topic("t"))),
        "{message}"
    );
    case.drop_slot().await;
}
