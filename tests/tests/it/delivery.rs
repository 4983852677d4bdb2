//! The delivery promise outside the crash harness's envelope: other streams sharing the topics,
//! captured tables dropped before their changes were relayed, session settings the database would
//! change, SQL arriving in signals. Each change reaches Kafka once or the invocation fails loudly.

use std::collections::BTreeSet;

use walbridge_tests::{self as env, KafkaRecord};

use crate::case::{Case, invoke, value};

/// The `after.id`s of a topic's records.
pub(crate) fn ids(records: &[KafkaRecord]) -> BTreeSet<i64> {
    records
        .iter()
        .filter_map(|r| r.value_json())
        .map(|v| v["after"]["id"].as_i64().expect("an id"))
        .collect()
}

/// A superuser connection to database `dbname` of the test server.
async fn pg_in(dbname: &str) -> tokio_postgres::Client {
    let mut config = tokio_postgres::Config::new();
    config
        .host(env::var("PGHOST"))
        .port(env::var("PGPORT").parse().expect("a port"))
        .user(env::var("PGUSER"))
        .password(env::var("PGPASSWORD"))
        .dbname(dbname);
    let (client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .expect("connect to the second database");
    tokio::spawn(connection);
    client
}

#[tokio::test]
async fn two_databases_of_one_server_sharing_a_topic_prefix_lose_nothing() {
    // Two functions relay the same table of two databases into the same topics (one
    // `topic.prefix`). B's changes are older than A's but are relayed after them: their positions
    // are below A's in every partition, and must not be taken for records already written.
    let a = Case::new("twodb", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    let db_b = format!("{}_b", a.schema);
    a.pg.batch_execute(&format!("CREATE DATABASE {db_b}"))
        .await
        .expect("create the second database");
    let pg_b = pg_in(&db_b).await;
    let slot_b = format!("{}_b_slot", a.schema);
    // one statement per call: a slot cannot be created in a transaction that wrote
    for sql in [
        format!(
            "CREATE SCHEMA {s}; CREATE TABLE {s}.t(id int PRIMARY KEY)",
            s = a.schema
        ),
        format!("SELECT pg_create_logical_replication_slot('{slot_b}', 'wal2json')"),
        format!(
            "INSERT INTO {s}.t SELECT generate_series(1001, 1050)",
            s = a.schema
        ),
    ] {
        pg_b.batch_execute(&sql)
            .await
            .expect("set up the second database");
    }
    a.sql("INSERT INTO {s}.t SELECT generate_series(1, 50)")
        .await;

    let report_a = invoke(a.config(&[])).await;
    assert_eq!(report_a.events, 50);
    let checkpoint_b = format!("s3://{}/{}.b", env::bucket(), a.checkpoint_key);
    let report_b = invoke(a.config(&[
        ("database.dbname", &db_b),
        ("slot.name", &slot_b),
        ("checkpoint.uri", &checkpoint_b),
    ]))
    .await;
    assert_eq!(report_b.events, 50);

    let records = env::read_topic(&a.topic("t"), 100);
    let expected: BTreeSet<i64> = (1..=50).chain(1001..=1050).collect();
    assert_eq!(ids(&records), expected, "every change of both databases");
    assert_eq!(records.len(), 100, "each once");

    pg_b.execute("SELECT pg_drop_replication_slot($1)", &[&slot_b])
        .await
        .expect("drop the second slot");
    drop(pg_b);
    a.drop_slot().await;
    a.pg.batch_execute(&format!("DROP DATABASE {db_b} WITH (FORCE)"))
        .await
        .expect("drop the second database");
}

#[tokio::test]
async fn records_of_another_stream_at_the_tail_of_a_partition_are_not_taken_for_ours() {
    // Records another stream left at the end of every partition (a migrated server, a restored
    // backup, a mirrored topic), in this release's header format and in the earlier one.
    let case = Case::new("foreign", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    let kafka = env::kafka().await;
    env::create_topic(&kafka, &case.topic("t"), 3).await;
    let foreign: [&[u8]; 3] = [
        b"7FFFFFFFFFFFFFFF-00000000-00",
        b"7FFFFFFFFFFFFFFF-7FFFFFFFFFFFFFFF-00000000-00@0123456789ABCDEF",
        b"7FFFFFFFFFFFFFFF-00000000-00",
    ];
    for (partition, header) in foreign.iter().enumerate() {
        let client = kafka
            .partition_client(
                case.topic("t"),
                partition as i32,
                rskafka::client::partition::UnknownTopicHandling::Retry,
            )
            .await
            .unwrap();
        let record = rskafka::record::Record {
            key: Some(b"{\"id\":-1}".to_vec()),
            value: None,
            headers: vec![rskafka::record::RecordHeader {
                key: "__walbridge.position".into(),
                value: header.to_vec().into(),
            }],
            timestamp: chrono::Utc::now(),
        };
        client
            .produce(
                vec![record],
                rskafka::client::partition::Compression::NoCompression,
            )
            .await
            .unwrap();
    }
    for round in 0..2 {
        let first = 1 + round * 50;
        case.sql(&format!(
            "INSERT INTO {{s}}.t SELECT generate_series({first}, {})",
            first + 49
        ))
        .await;
        let report = invoke(case.config(&[])).await;
        assert_eq!(report.events, 50);
    }
    let records = env::read_topic(&case.topic("t"), 103);
    assert_eq!(ids(&records), (1..=100).collect());
    assert_eq!(records.len(), 103);
    case.drop_slot().await;
}

#[tokio::test]
async fn a_table_dropped_renamed_or_moved_before_its_changes_were_relayed_stalls_nothing() {
    let case = Case::new(
        "dropped",
        "CREATE TABLE {s}.t(id int PRIMARY KEY); CREATE SCHEMA {s}_other",
    )
    .await;
    // A staging table created, filled and dropped; a table renamed; one moved to another schema;
    // then a change to a table that stays.
    case.sql(
        "CREATE TABLE {s}.staging(id int PRIMARY KEY, v text NOT NULL); \
         INSERT INTO {s}.staging VALUES (1, 'a'), (2, 'b'); DROP TABLE {s}.staging; \
         CREATE TABLE {s}.a(id int PRIMARY KEY); INSERT INTO {s}.a VALUES (3); \
         ALTER TABLE {s}.a RENAME TO b; \
         CREATE TABLE {s}.m(id int PRIMARY KEY); INSERT INTO {s}.m VALUES (4); \
         ALTER TABLE {s}.m SET SCHEMA {s}_other; \
         INSERT INTO {s}.t VALUES (42)",
    )
    .await;
    let report = invoke(case.config(&[])).await;
    assert!(report.caught_up);
    assert_eq!(report.events, 5);
    let staging = env::read_topic(&case.topic("staging"), 2);
    assert_eq!(ids(&staging), [1, 2].into());
    let event = value(&staging[0]);
    assert_eq!(event["op"], "c");
    assert!(event["after"]["v"].is_string(), "{event}");
    assert!(
        staging.iter().all(|r| r.key.is_some()),
        "keyed by its primary key"
    );
    assert_eq!(ids(&env::read_topic(&case.topic("a"), 1)), [3].into());
    assert_eq!(ids(&env::read_topic(&case.topic("m"), 1)), [4].into());
    assert_eq!(ids(&env::read_topic(&case.topic("t"), 1)), [42].into());
    assert_eq!(
        case.confirmed_flush_lsn().await,
        crate::case::lsn_of(&report.end_lsn)
    );
    case.sql("DROP SCHEMA {s}_other CASCADE").await;
    case.drop_slot().await;
}

/// Makes the OS locale `de_DE.UTF-8` exist (root, Debian's `locales` data), so PostgreSQL accepts it.
fn german_locale() {
    let listed = std::process::Command::new("locale")
        .arg("-a")
        .output()
        .expect("run locale -a");
    let listed = String::from_utf8_lossy(&listed.stdout).to_lowercase();
    if !listed.lines().any(|l| l == "de_de.utf8") {
        let status = std::process::Command::new("localedef")
            .args(["-i", "de_DE", "-f", "UTF-8", "de_DE.UTF-8"])
            .status()
            .expect("run localedef");
        assert!(
            status.success(),
            "localedef -i de_DE -f UTF-8 de_DE.UTF-8 failed: install Debian's locales package"
        );
    }
}

#[tokio::test]
async fn money_is_exact_under_a_database_whose_lc_monetary_is_german() {
    // `money` prints through lc_monetary: `12,30 €` and `1.234,56 €` under de_DE.
    german_locale();
    // A cluster of its own, started after the locale exists (a running server does not see
    // locales generated after it started).
    let server = walbridge_tests::PrivatePostgres::logical("money", "walbridge", "money-test-pw");
    let case = Case::new("money", "").await;
    let pg = server
        .connect()
        .await
        .expect("connect to the private cluster");
    let slot = format!("{}_de_slot", case.schema);
    for sql in [
        "ALTER DATABASE postgres SET lc_monetary = 'de_DE.UTF-8'".to_owned(),
        format!(
            "CREATE SCHEMA {s}; CREATE TABLE {s}.m(id int PRIMARY KEY, amount money)",
            s = case.schema
        ),
        format!("SELECT pg_create_logical_replication_slot('{slot}', 'wal2json')"),
        format!(
            "INSERT INTO {s}.m VALUES (1, 12.30::numeric::money), (2, 1234.56::numeric::money)",
            s = case.schema
        ),
    ] {
        pg.batch_execute(&sql)
            .await
            .expect("set up the German database");
    }
    // a new session sees the database's setting
    let pg = server
        .connect()
        .await
        .expect("connect to the private cluster");
    let port = server.port.to_string();
    for mode in ["no_data", "initial"] {
        let uri = format!("s3://{}/{}.{mode}", env::bucket(), case.checkpoint_key);
        let prefix = format!("{}-{mode}", case.prefix);
        invoke(case.config(&[
            ("database.hostname", "127.0.0.1"),
            ("database.port", &port),
            ("database.user", "walbridge"),
            ("database.password", "money-test-pw"),
            ("database.dbname", "postgres"),
            ("slot.name", &slot),
            ("checkpoint.uri", &uri),
            ("topic.prefix", &prefix),
            ("snapshot.mode", mode),
            ("decimal.handling.mode", "string"),
        ]))
        .await;
        let records = env::read_topic(&format!("{prefix}.{}.m", case.schema), 2);
        let mut amounts: Vec<(i64, String)> = records
            .iter()
            .map(|r| {
                let v = value(r);
                (
                    v["after"]["id"].as_i64().unwrap(),
                    v["after"]["amount"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        amounts.sort();
        assert_eq!(
            amounts,
            [(1, "12.30".to_owned()), (2, "1234.56".to_owned())],
            "snapshot.mode={mode}"
        );
    }
    drop(pg);
    drop(server);
    case.drop_slot().await;
}

#[tokio::test]
async fn a_signal_condition_carrying_sql_is_refused_and_runs_nothing() {
    let case = Case::new(
        "inject",
        "CREATE TABLE {s}.t(id int PRIMARY KEY); INSERT INTO {s}.t SELECT generate_series(1, 10)",
    )
    .await;
    let filter = format!(
        "true); COMMIT; CREATE TABLE {}.pwned(x int); --",
        case.schema
    );
    let request: walbridge_relay::Request = serde_json::from_value(serde_json::json!({
        "mode": "signal",
        "type": "execute-snapshot",
        "data": {
            "data-collections": [format!("{}.t", case.schema)],
            "additional-conditions": [
                {"data-collection": format!("{}.t", case.schema), "filter": filter}
            ]
        }
    }))
    .unwrap();
    let deps = walbridge_relay::Deps::new(case.config(&[])).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    // Refused with the signal (a warning), so the invocation goes on streaming.
    let response = walbridge_relay::handle(&deps, &request, deadline)
        .await
        .expect("the invocation streams on");
    let walbridge_relay::Response::Relayed(report) = response else {
        panic!("{response:?}")
    };
    assert_eq!(report.snapshot_rows, 0);
    let created: Option<String> = case
        .pg
        .query_one(
            &format!("SELECT to_regclass('{}.pwned')::text", case.schema),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(created, None, "the condition's statement never ran");
    case.drop_slot().await;
}

#[tokio::test]
async fn a_snapshot_whose_table_was_dropped_midway_finishes_the_others_and_streams_on() {
    let case = Case::new(
        "snapdrop",
        "CREATE TABLE {s}.t1(id int PRIMARY KEY); CREATE TABLE {s}.t2(id int PRIMARY KEY); \
         INSERT INTO {s}.t1 SELECT generate_series(1, 500); \
         INSERT INTO {s}.t2 SELECT generate_series(1, 50000);",
    )
    .await;
    let config = || {
        case.config(&[
            ("snapshot.mode", "initial"),
            ("snapshot.fetch.size", "100"),
            ("table.include.list", &format!("{0}.t1,{0}.t2", case.schema)),
        ])
    };
    // Short budgets leave the snapshot inside t2 (t2's 500 chunks take far longer).
    let deps = walbridge_relay::Deps::new(config()).await;
    for _ in 0..20 {
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(1200);
        walbridge_relay::invoke(&deps, deadline)
            .await
            .expect("part of the snapshot");
        if case.checkpoint().await["snapshot"]["tables"][0]["done"] == true {
            break;
        }
    }
    drop(deps);
    let progress = case.checkpoint().await["snapshot"].clone();
    assert!(
        progress["completed_at_ms"].is_null(),
        "unfinished: {progress}"
    );
    assert_eq!(progress["tables"][0]["done"], true, "t1 read: {progress}");

    case.sql("DROP TABLE {s}.t2; INSERT INTO {s}.t1 VALUES (501)")
        .await;
    let mut report = invoke(config()).await;
    for _ in 0..20 {
        if report.caught_up {
            break;
        }
        report = invoke(config()).await;
    }
    assert!(report.caught_up);
    let progress = case.checkpoint().await["snapshot"].clone();
    assert!(!progress["completed_at_ms"].is_null(), "{progress}");
    assert!(
        progress["tables"][1]["failed"].is_string(),
        "t2 left unfinished, with the reason: {progress}"
    );
    let t1 = env::read_topic(&case.topic("t1"), 501);
    assert_eq!(ids(&t1), (1..=501).collect());
    case.drop_slot().await;
}

#[tokio::test]
async fn a_table_listed_in_another_case_than_its_name_is_streamed() {
    // Debezium matches table.include.list without regard to case; wal2json's add-tables does not.
    let case = Case::new("casing", r#"CREATE TABLE {s}."Orders"(id int PRIMARY KEY)"#).await;
    case.sql(r#"INSERT INTO {s}."Orders" SELECT generate_series(1, 5)"#)
        .await;
    let report =
        invoke(case.config(&[("table.include.list", &format!("{}.orders", case.schema))])).await;
    assert_eq!(report.events, 5);
    assert_eq!(
        ids(&env::read_topic(&case.topic("Orders"), 5)),
        (1..=5).collect()
    );
    case.drop_slot().await;
}

#[tokio::test]
async fn a_partitioned_table_listed_without_its_partitions_is_refused() {
    let case = Case::new(
        "parted",
        "CREATE TABLE {s}.m(id int, day date, PRIMARY KEY (id, day)) PARTITION BY RANGE (day); \
         CREATE TABLE {s}.m_2026 PARTITION OF {s}.m FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
    )
    .await;
    case.sql("INSERT INTO {s}.m VALUES (1, '2026-12-06')").await;
    let only_parent = format!("{}.m", case.schema);
    let err = crate::case::try_invoke(case.config(&[("table.include.list", &only_parent)]))
        .await
        .expect_err("refused rather than publishing nothing");
    let message = err.to_string();
    assert!(
        message.contains(&format!("{}.m_2026", case.schema)) && message.contains("partition"),
        "{message}"
    );
    // with the partition listed, its rows arrive
    let both = format!("{0}.m,{0}.m_2026", case.schema);
    let report = invoke(case.config(&[("table.include.list", &both)])).await;
    assert_eq!(report.events, 1);
    assert_eq!(ids(&env::read_topic(&case.topic("m_2026"), 1)), [1].into());
    case.drop_slot().await;
}

#[tokio::test]
async fn a_warm_function_follows_a_topic_recreated_with_other_partition_counts() {
    let case = Case::new("regrow", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    let deps = walbridge_relay::Deps::new(case.config(&[])).await;
    let kafka = env::kafka().await;
    let controller = kafka.controller_client().unwrap();
    let run = || async {
        walbridge_relay::invoke(
            &deps,
            std::time::Instant::now() + std::time::Duration::from_secs(60),
        )
        .await
        .expect("the invocation")
    };
    let mut next = 1;
    for partitions in [3, 1, 3] {
        // The topic deleted and created again with another partition count between two
        // invocations of the same warm function.
        let _ = controller.delete_topic(case.topic("t"), 5_000).await;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        env::create_topic(&kafka, &case.topic("t"), partitions).await;
        case.sql(&format!(
            "INSERT INTO {{s}}.t SELECT generate_series({next}, {})",
            next + 29
        ))
        .await;
        let report = run().await;
        assert_eq!(report.events, 30);
        let records = env::read_topic(&case.topic("t"), 30);
        assert_eq!(ids(&records), (next..next + 30).collect());
        let used: BTreeSet<i32> = records.iter().map(|r| r.partition).collect();
        assert_eq!(
            used.len(),
            partitions as usize,
            "keys spread over every partition"
        );
        next += 30;
    }
    case.drop_slot().await;
}

#[tokio::test]
async fn the_invocation_signal_channel_can_be_turned_off() {
    let case = Case::new("nopayload", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    let request: walbridge_relay::Request = serde_json::from_value(serde_json::json!({
        "mode": "signal",
        "type": "execute-snapshot",
        "data": {"data-collections": [format!("{}.t", case.schema)]}
    }))
    .unwrap();
    let deps =
        walbridge_relay::Deps::new(case.config(&[("signal.enabled.channels", "source")])).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let err = walbridge_relay::handle(&deps, &request, deadline)
        .await
        .expect_err("refused");
    assert!(
        err.to_string().contains("signal.enabled.channels"),
        "names the key: {err}"
    );
    case.drop_slot().await;
}

/// `walbridge invoke` (the failpoints build) with `properties`, as the crash tests run it.
pub(crate) fn walbridge_with(
    case: &Case,
    properties: &str,
    failpoints: Option<&str>,
) -> std::process::Output {
    let dir = std::path::PathBuf::from(env::var("WALBRIDGE_ENV_DIR"))
        .join("private")
        .join(&case.schema);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("connector.properties");
    std::fs::write(&file, properties).unwrap();
    let mut command =
        crate::case::walbridge_invoke(&format!("s3://{}/{}", env::bucket(), case.checkpoint_key));
    command
        .env("WALBRIDGE_PROPERTIES", &file)
        .env("RUST_LOG", "warn");
    if let Some(failpoints) = failpoints {
        command.env("FAILPOINTS", failpoints);
    }
    command.output().expect("run walbridge invoke")
}

#[tokio::test]
async fn a_crash_mid_transaction_then_a_narrower_include_list_loses_nothing() {
    // A noisy audit table's changes interleave with the real ones in one transaction; the function
    // dies after publishing part of it; the operator then leaves the audit table out.
    let case = Case::new(
        "narrow",
        "CREATE TABLE {s}.a(id int PRIMARY KEY); CREATE TABLE {s}.audit(id int PRIMARY KEY)",
    )
    .await;
    case.sql(
        "DO $$ BEGIN FOR i IN 1..2000 LOOP \
           INSERT INTO {s}.a VALUES (i); INSERT INTO {s}.audit VALUES (i); \
         END LOOP; END $$",
    )
    .await;
    let properties = |include: &str| {
        format!(
            "slot.name={}\ntable.include.list={include}\ntopic.prefix={}\n\
             value.converter.schemas.enable=false\nkey.converter.schemas.enable=false\n\
             window.fetch.rows=100\ntopic.creation.default.partitions=3\nsnapshot.mode=no_data\n",
            case.slot, case.prefix
        )
    };
    let both = format!("{0}.a,{0}.audit", case.schema);
    let crashed = walbridge_with(
        &case,
        &properties(&both),
        Some("relay::published-some=4*off->panic"),
    );
    assert!(!crashed.status.success(), "the failpoint stopped it");
    let partial = env::read_topic(&case.topic("a"), 1).len();
    assert!(partial > 0 && partial < 2000, "part of a landed: {partial}");

    let only_a = format!("{}.a", case.schema);
    let recovered = walbridge_with(&case, &properties(&only_a), None);
    assert!(
        recovered.status.success(),
        "{}",
        String::from_utf8_lossy(&recovered.stderr)
    );
    let records = env::read_topic(&case.topic("a"), 2000);
    assert_eq!(ids(&records), (1..=2000).collect(), "every change of a");
    assert_eq!(records.len(), 2000, "each once");
    case.drop_slot().await;
}

/// A TCP proxy in front of a Kafka broker that lets every `every`-th produce request through to the
/// broker (which appends it) and then, instead of relaying the broker's answer, closes the client's
/// connection: the answer is lost, the records are in the log.
struct AnswerDropper {
    dropped: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl AnswerDropper {
    /// Listens on `port`, forwarding to the broker on `upstream`.
    async fn start(port: u16, upstream: u16, every: usize) -> Self {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind the proxy");
        let produced = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&dropped);
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let Ok(broker) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
                else {
                    continue;
                };
                let (mut client_read, mut client_write) = client.into_split();
                let (mut broker_read, mut broker_write) = broker.into_split();
                let doomed = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
                let (produced, doomed_in) = (Arc::clone(&produced), Arc::clone(&doomed));
                // client → broker: frames are a 4-byte length, then api_key (2), api_version (2),
                // correlation_id (4), …
                tokio::spawn(async move {
                    loop {
                        let Ok(len) = client_read.read_u32().await else {
                            return;
                        };
                        let mut frame = vec![0; len as usize];
                        if client_read.read_exact(&mut frame).await.is_err() {
                            return;
                        }
                        let api_key = i16::from_be_bytes([frame[0], frame[1]]);
                        if api_key == 0
                            && (produced.fetch_add(1, Ordering::SeqCst) + 1) % every == 0
                        {
                            let id = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
                            doomed_in.lock().unwrap().insert(id);
                        }
                        if broker_write.write_u32(len).await.is_err()
                            || broker_write.write_all(&frame).await.is_err()
                        {
                            return;
                        }
                    }
                });
                // broker → client: answers start with the correlation id
                let counted = Arc::clone(&counted);
                tokio::spawn(async move {
                    loop {
                        let Ok(len) = broker_read.read_u32().await else {
                            return;
                        };
                        let mut frame = vec![0; len as usize];
                        if broker_read.read_exact(&mut frame).await.is_err() {
                            return;
                        }
                        let id = i32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
                        if doomed.lock().unwrap().remove(&id) {
                            counted.fetch_add(1, Ordering::SeqCst);
                            // dropping both halves closes the client's connection
                            return;
                        }
                        if client_write.write_u32(len).await.is_err()
                            || client_write.write_all(&frame).await.is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        Self { dropped }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_produce_whose_answer_is_lost_is_not_written_twice() {
    // A private Apache Kafka reached through the proxy: every third produce request is appended
    // and its answer never arrives (a connection reset, a broker restart at the wrong moment).
    let proxy_port = env::free_port();
    let mut broker = walbridge_tests::PrivateService::kafka_advertising(Some(proxy_port));
    let proxy = AnswerDropper::start(proxy_port, broker.port, 3).await;
    broker.start();
    let case = Case::new("lostanswer", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    for batch in 0..10 {
        case.sql(&format!(
            "INSERT INTO {{s}}.t SELECT generate_series({}, {})",
            batch * 100 + 1,
            batch * 100 + 100
        ))
        .await;
    }
    let bootstrap = format!("127.0.0.1:{proxy_port}");
    let report = invoke(case.config(&[
        ("kafka.bootstrap.servers", &bootstrap),
        ("window.fetch.rows", "100"),
        ("window.max.changes", "200"),
    ]))
    .await;
    assert_eq!(report.events, 1000);
    let lost = proxy.dropped.load(std::sync::atomic::Ordering::SeqCst);
    assert!(lost > 0, "some answers were lost");
    let records = env::read_topic_from(&broker.bootstrap(), &case.topic("t"), 1000);
    assert_eq!(ids(&records), (1..=1000).collect());
    let positions: BTreeSet<Vec<u8>> = records
        .iter()
        .map(|r| {
            r.headers
                .iter()
                .find(|(name, _)| name == "__walbridge.position")
                .and_then(|(_, v)| v.clone())
                .expect("a position")
        })
        .collect();
    assert_eq!(
        (records.len(), positions.len()),
        (1000, 1000),
        "each change once although {lost} answers were lost"
    );
    broker.stop();
    case.drop_slot().await;
}

#[tokio::test]
async fn a_crash_inside_the_rows_of_one_copy_loses_and_repeats_nothing() {
    // COPY writes one WAL record for many rows (they share an LSN and are told apart by their
    // ordinal); the function dies after publishing part of them.
    let case = Case::new("copied", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    case.sql("COPY {s}.t FROM PROGRAM 'seq 1 3000'").await;
    let shared: i64 = case
        .pg
        .query_one(
            "SELECT count(*) - count(DISTINCT (data::jsonb)->>'lsn') FROM \
             pg_logical_slot_peek_changes($1, NULL, NULL, 'format-version', '2', 'include-lsn', '1') \
             WHERE (data::jsonb)->>'action' = 'I'",
            &[&case.slot],
        )
        .await
        .unwrap()
        .get(0);
    assert!(shared > 0, "COPY's rows share LSNs");
    let properties = format!(
        "slot.name={}\ntable.include.list={}.t\ntopic.prefix={}\n\
         value.converter.schemas.enable=false\nkey.converter.schemas.enable=false\n\
         window.fetch.rows=100\ntopic.creation.default.partitions=3\nsnapshot.mode=no_data\n",
        case.slot, case.schema, case.prefix
    );
    let crashed = walbridge_with(
        &case,
        &properties,
        Some("relay::published-some=6*off->panic"),
    );
    assert!(!crashed.status.success(), "the failpoint stopped it");
    let partial = env::read_topic(&case.topic("t"), 1).len();
    assert!(
        partial > 0 && partial < 3000,
        "part of the COPY landed: {partial}"
    );
    let recovered = walbridge_with(&case, &properties, None);
    assert!(
        recovered.status.success(),
        "{}",
        String::from_utf8_lossy(&recovered.stderr)
    );
    let records = env::read_topic(&case.topic("t"), 3000);
    assert_eq!(ids(&records), (1..=3000).collect());
    assert_eq!(records.len(), 3000, "each once");
    case.drop_slot().await;
}

#[tokio::test]
async fn a_crash_after_a_snapshot_chunk_was_acknowledged_reads_that_chunk_again_and_loses_nothing()
{
    // The one crash point where a snapshot repeats rows (README "Snapshots"): Kafka acknowledged a
    // chunk, the process died before the checkpoint recorded it. The next invocation reads that
    // chunk again; streamed changes stay exactly-once.
    let case = Case::new("chunkack", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    case.sql("INSERT INTO {s}.t SELECT generate_series(1, 3000)")
        .await;
    let properties = format!(
        "slot.name={}\ntable.include.list={}.t\ntopic.prefix={}\n\
         value.converter.schemas.enable=false\nkey.converter.schemas.enable=false\n\
         snapshot.fetch.size=1000\n",
        case.slot, case.schema, case.prefix
    );
    let reads = |records: &[KafkaRecord]| -> Vec<i64> {
        let mut ids: Vec<i64> = records
            .iter()
            .filter_map(|r| r.value_json())
            .filter(|v| v["op"] == "r")
            .map(|v| v["after"]["id"].as_i64().expect("an id"))
            .collect();
        ids.sort_unstable();
        ids
    };
    // the second chunk acknowledged, then the process dies before checkpointing it
    let crashed = walbridge_with(
        &case,
        &properties,
        Some("relay::snapshot-acknowledged=1*off->panic"),
    );
    assert!(!crashed.status.success(), "the failpoint stopped it");
    let landed = env::read_topic(&case.topic("t"), 5000);
    assert_eq!(reads(&landed), (1..=2000).collect::<Vec<_>>());

    let recovered = walbridge_with(&case, &properties, None);
    assert!(
        recovered.status.success(),
        "{}",
        String::from_utf8_lossy(&recovered.stderr)
    );
    let records = env::read_topic(&case.topic("t"), 7000);
    let mut expected: Vec<i64> = (1..=3000).chain(1001..=2000).collect();
    expected.sort_unstable();
    assert_eq!(
        reads(&records),
        expected,
        "every row, the unrecorded chunk twice"
    );
    let created = records.iter().filter(|r| value(r)["op"] == "c").count();
    assert_eq!(created, 3000, "each streamed insert once");
    case.drop_slot().await;
}

#[tokio::test]
async fn a_migration_to_a_new_server_keeping_the_topics_loses_nothing() {
    // The old server's records stay at the tails of the topics; the new server (a restore, an
    // upgrade by dump) writes the same tables under the same topic prefix, with a WAL that starts
    // far below the old one's positions. Its changes are a stream of their own: none is taken for
    // a record that already landed.
    let old = Case::new("migrate", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    old.sql("INSERT INTO {s}.t SELECT generate_series(1, 50)")
        .await;
    assert_eq!(invoke(old.config(&[])).await.events, 50);

    let server = walbridge_tests::PrivatePostgres::logical("migrate", "walbridge", "migrate-pw");
    let pg = server.connect().await.expect("connect to the new server");
    pg.batch_execute(&format!(
        "CREATE SCHEMA {0}; CREATE TABLE {0}.t(id int PRIMARY KEY)",
        old.schema
    ))
    .await
    .unwrap();
    pg.execute(
        "SELECT pg_create_logical_replication_slot($1, 'wal2json')",
        &[&old.slot],
    )
    .await
    .unwrap();
    pg.batch_execute(&format!(
        "INSERT INTO {}.t SELECT generate_series(51, 100)",
        old.schema
    ))
    .await
    .unwrap();
    let lsn = |row: tokio_postgres::Row| crate::case::lsn_of(row.get::<_, &str>(0));
    let wal = "SELECT pg_current_wal_lsn()::text";
    let new_at = lsn(pg.query_one(wal, &[]).await.unwrap());
    let old_at = lsn(old.pg.query_one(wal, &[]).await.unwrap());
    assert!(
        new_at < old_at,
        "the new server's WAL stands below the old one's"
    );

    let port = server.port.to_string();
    let checkpoint = format!("s3://{}/{}-new", env::bucket(), old.checkpoint_key);
    let moved = old.config(&[
        ("database.hostname", "127.0.0.1"),
        ("database.port", &port),
        ("database.user", &server.user),
        ("database.password", &server.password),
        ("database.dbname", "postgres"),
        ("checkpoint.uri", &checkpoint),
    ]);
    assert_eq!(invoke(moved).await.events, 50);
    let records = env::read_topic(&old.topic("t"), 100);
    assert_eq!(ids(&records), (1..=100).collect(), "every change of both");
    assert_eq!(records.len(), 100, "each once");
    old.drop_slot().await;
}
