//! `plugin.name=pgoutput` against the real services: the publication made as
//! `publication.autocreate.mode` says, the same workload relayed through a pgoutput slot and a
//! wal2json slot side by side (the records must agree byte for byte, but for processing times and
//! the topic prefix), and each bad set-up refused with the SQL that fixes it.

use serde_json::Value;
use walbridge_relay::{RelayError, SlotError};
use walbridge_tests::{self as env, KafkaRecord};

use crate::case::{Case, invoke, try_invoke};

const TABLES: &str = "
    CREATE TABLE {s}.items(id int PRIMARY KEY, name text NOT NULL, price numeric(10,2),
        ok boolean, photo bytea, score double precision, at timestamptz, doc jsonb, tags text[],
        big text);
    CREATE TABLE {s}.audit(id bigint PRIMARY KEY, note text);
    ALTER TABLE {s}.audit REPLICA IDENTITY FULL;";

/// The pgoutput slot and publication of `case` (named after its schema, so the case's cleanup
/// drops the slot).
fn names(case: &Case) -> (String, String, String) {
    (
        format!("{}_pgo_slot", case.schema),
        format!("{}_pub", case.schema),
        format!("{}-pgo", case.prefix),
    )
}

/// `case`'s configuration on its pgoutput slot (made by the first invocation) and its publication
/// (made for the captured tables), with `extra` on top (later keys win).
fn pgoutput_config(case: &Case, extra: &[(&str, &str)]) -> walbridge_config::Config {
    let (slot, publication, prefix) = names(case);
    let checkpoint = format!(
        "s3://{}/relay-tests/{}/pgoutput.json",
        env::bucket(),
        case.schema
    );
    let mut props = vec![
        ("plugin.name", "pgoutput"),
        ("checkpoint.uri", checkpoint.as_str()),
        ("slot.name", slot.as_str()),
        ("slot.create", "true"),
        ("publication.name", publication.as_str()),
        ("publication.autocreate.mode", "filtered"),
        ("topic.prefix", prefix.as_str()),
    ];
    props.extend_from_slice(extra);
    case.config(&props)
}

/// The tables `publication` carries, by name.
async fn published_tables(case: &Case, publication: &str) -> Vec<String> {
    case.pg
        .query(
            "SELECT tablename::text FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1",
            &[&publication],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

async fn drop_publication(case: &Case) {
    let (_, publication, _) = names(case);
    case.sql(&format!("DROP PUBLICATION IF EXISTS \"{publication}\""))
        .await;
}

type Comparable = (Option<i32>, (Option<String>, Option<Value>));

/// Records with what differs between two runs of the same events taken out: processing times, the
/// topic prefix in `source.name` and schema names, and the partition of a record without a key
/// (the producer's choice), in partition order (each partition in offset order).
fn comparable_records(records: &[KafkaRecord], prefix: &str) -> Vec<Comparable> {
    let mut all: Vec<Comparable> = records
        .iter()
        .map(|r| (r.key.as_ref().map(|_| r.partition), comparable(r, prefix)))
        .collect();
    all.sort_by_key(|(p, _)| *p);
    all
}

fn comparable(record: &KafkaRecord, prefix: &str) -> (Option<String>, Option<Value>) {
    let key = record.key_str().map(|k| k.replace(prefix, "PREFIX"));
    let value = record.value_json().map(|mut v| {
        if let Some(o) = v.as_object_mut() {
            for field in ["ts_ms", "ts_us", "ts_ns"] {
                o.remove(field);
            }
            if let Some(source) = o.get_mut("source").and_then(Value::as_object_mut) {
                source.insert("name".into(), Value::Null);
            }
        }
        v
    });
    (key, value)
}

#[tokio::test]
async fn a_backlog_is_read_ahead_from_copies_of_a_pgoutput_slot_exactly_once() {
    let case = Case::new(
        "pgo_windows",
        "CREATE TABLE {s}.t(id int PRIMARY KEY, pad text NOT NULL)",
    )
    .await;
    let (_, _, prefix) = names(&case);
    let config = || pgoutput_config(&case, &[]);
    // The first invocation makes the publication, then the slot.
    invoke(config()).await;
    let topic = format!("{prefix}.{}.t", case.schema);
    let report = crate::relay::relay_a_backlog_in_windows(&case, config(), "t", &topic).await;
    assert!(report.windows_read_ahead >= 1, "{report:?}");
    drop_publication(&case).await;
}

#[tokio::test]
async fn a_pgoutput_slot_relays_what_a_wal2json_slot_relays() {
    let case = Case::new("pgoutput", TABLES).await;
    let (slot, publication, prefix) = names(&case);
    let pgoutput = |extra: &[(&str, &str)]| {
        let mut props = vec![
            ("skipped.operations", "none"),
            ("provide.transaction.metadata", "true"),
        ];
        props.extend_from_slice(extra);
        pgoutput_config(&case, &props)
    };
    // The first invocation makes the publication (for the captured tables), then the slot.
    let report = invoke(pgoutput(&[])).await;
    assert_eq!(report.changes, 0);
    let listed = published_tables(&case, &publication).await;
    assert_eq!(listed, ["audit", "items"]);

    case.sql(
        "INSERT INTO {s}.items VALUES
           (1, 'Alice', 1234.50, true, '\\x00ff10', 1.5, '2026-01-02 03:04:05.123456+00',
            '{\"a\": [1, null]}', '{x,\"y z\"}',
            (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 300) i)),
           (2, 'Bob', NULL, false, NULL, -0.25, NULL, NULL, '{}', NULL);
         UPDATE {s}.items SET name = 'Alicia' WHERE id = 1;
         UPDATE {s}.items SET id = 3 WHERE id = 2;
         BEGIN;
           INSERT INTO {s}.audit VALUES (10, 'kept'), (11, 'gone');
           UPDATE {s}.audit SET note = 'changed' WHERE id = 10;
           DELETE FROM {s}.audit WHERE id = 11;
         COMMIT;
         SELECT pg_logical_emit_message(false, '{s}.alone', 'outside');
         DELETE FROM {s}.items WHERE id = 3;
         TRUNCATE {s}.audit;",
    )
    .await;

    let wal2json_report = invoke(case.config(&[
        ("skipped.operations", "none"),
        ("provide.transaction.metadata", "true"),
    ]))
    .await;
    let pgoutput_report = invoke(pgoutput(&[])).await;
    assert_eq!(
        (pgoutput_report.changes, pgoutput_report.events),
        (wal2json_report.changes, wal2json_report.events)
    );
    assert!(pgoutput_report.changes >= 10, "{pgoutput_report:?}");

    for topic in ["items", "audit"] {
        let wanted = env::read_topic(&case.topic(topic), 1);
        let got = env::read_topic(&format!("{prefix}.{}.{topic}", case.schema), wanted.len());
        assert_eq!(got.len(), wanted.len(), "{topic}");
        assert_eq!(
            comparable_records(&got, &prefix),
            comparable_records(&wanted, &case.prefix),
            "{topic}"
        );
    }
    // The update left the TOASTed text unchanged: pgoutput, as wal2json, does not carry it.
    let items = env::read_topic(&format!("{prefix}.{}.items", case.schema), 1);
    let renamed = items
        .iter()
        .filter_map(KafkaRecord::value_json)
        .find(|v| v["op"] == "u" && v["after"]["id"] == 1)
        .expect("the update of item 1");
    assert_eq!(renamed["after"]["big"], "__debezium_unavailable_value");

    // Messages and transaction metadata: the same events.
    for (wal2json_topic, pgoutput_topic) in [
        (
            format!("{}.message", case.prefix),
            format!("{prefix}.message"),
        ),
        (
            format!("{}.transaction", case.prefix),
            format!("{prefix}.transaction"),
        ),
    ] {
        let wanted = env::read_topic(&wal2json_topic, 1);
        let got = env::read_topic(&pgoutput_topic, wanted.len());
        assert_eq!(
            comparable_records(&got, &prefix),
            comparable_records(&wanted, &case.prefix),
            "{pgoutput_topic}"
        );
    }

    // What wal2json cannot carry, pgoutput does: float NaN and infinities, and message content
    // with NUL and non-UTF-8 bytes.
    case.sql(
        "INSERT INTO {s}.items(id, name, score) VALUES (20, 'nan', 'NaN'), (21, 'inf', '-Infinity');
         SELECT pg_logical_emit_message(false, '{s}.bin', '\\x00ff41'::bytea);",
    )
    .await;
    let report = invoke(pgoutput(&[])).await;
    assert!(report.changes >= 2, "{report:?}");
    let items = env::read_topic(&format!("{prefix}.{}.items", case.schema), 1);
    let score = |id: i64| {
        items
            .iter()
            .filter_map(KafkaRecord::value_json)
            .find(|v| v["after"]["id"] == id)
            .map(|v| v["after"]["score"].clone())
            .unwrap()
    };
    assert_eq!(score(20), "NaN");
    assert_eq!(score(21), "-Infinity");
    let messages = env::read_topic(&format!("{prefix}.message"), 1);
    let binary = messages
        .iter()
        .filter_map(KafkaRecord::value_json)
        .find(|v| v["message"]["prefix"] == format!("{}.bin", case.schema))
        .expect("the binary message");
    assert_eq!(binary["message"]["content"], "AP9B");
    assert_eq!(
        case.confirmed_flush_lsn_of(&slot).await,
        crate::case::lsn_of(&report.end_lsn)
    );

    drop_publication(&case).await;
    case.drop_slot().await;
}

#[tokio::test]
async fn a_bad_pgoutput_set_up_is_refused_with_the_sql_that_fixes_it() {
    let case = Case::new("pgoutput_bad", TABLES).await;
    let (slot, publication, prefix) = names(&case);
    let config = |extra: &[(&str, &str)]| {
        let mut props = vec![
            ("plugin.name", "pgoutput"),
            ("slot.name", slot.as_str()),
            ("slot.create", "true"),
            ("publication.name", publication.as_str()),
            ("topic.prefix", prefix.as_str()),
        ];
        props.extend_from_slice(extra);
        case.config(&props)
    };

    // A slot of another plugin: the case's wal2json slot.
    let err = try_invoke(config(&[("slot.name", case.slot.as_str())]))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RelayError::Slot(SlotError::WrongPlugin { plugin, .. }) if plugin == "wal2json"),
        "{err:?}"
    );
    assert!(err.to_string().contains("plugin.name"), "{err}");

    // A missing publication walbridge may not create.
    let err = try_invoke(config(&[("publication.autocreate.mode", "disabled")]))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err, RelayError::Slot(SlotError::PublicationMissing { .. })),
        "{err:?}"
    );
    assert!(
        text.contains(&format!(
            "CREATE PUBLICATION \"{publication}\" FOR TABLE \"{0}\".\"audit\", \"{0}\".\"items\";",
            case.schema
        )),
        "{text}"
    );

    // A missing publication beside a slot that exists: walbridge does not create it (the slot's
    // earlier changes could not be decoded through it).
    case.pg
        .execute(
            "SELECT pg_create_logical_replication_slot($1, 'pgoutput')",
            &[&slot],
        )
        .await
        .unwrap();
    let err = try_invoke(config(&[("publication.autocreate.mode", "all_tables")]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            RelayError::Slot(SlotError::PublicationMissing {
                creatable: false,
                ..
            })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("recreate the slot"), "{err}");
    assert!(published_tables(&case, &publication).await.is_empty());
    case.pg
        .execute("SELECT pg_drop_replication_slot($1)", &[&slot])
        .await
        .unwrap();

    // A publication that leaves out a captured table.
    case.sql(&format!(
        "CREATE PUBLICATION \"{publication}\" FOR TABLE {{s}}.items"
    ))
    .await;
    let err = try_invoke(config(&[("publication.autocreate.mode", "disabled")]))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            &err,
            RelayError::Slot(SlotError::PublicationIncomplete { .. })
        ),
        "{err:?}"
    );
    assert!(
        text.contains(&format!(
            "ALTER PUBLICATION \"{publication}\" ADD TABLE \"{}\".\"audit\";",
            case.schema
        )),
        "{text}"
    );

    // A publication that does not publish deletes, which are not skipped.
    case.sql(&format!(
        "ALTER PUBLICATION \"{publication}\" ADD TABLE {{s}}.audit;
         ALTER PUBLICATION \"{publication}\" SET (publish = 'insert, update');"
    ))
    .await;
    let err = try_invoke(config(&[])).await.unwrap_err();
    assert!(
        matches!(&err, RelayError::Slot(SlotError::PublicationOperations { operations, .. }) if operations == "delete"),
        "{err:?}"
    );
    // A publication with a row filter.
    case.sql(&format!(
        "ALTER PUBLICATION \"{publication}\" SET (publish = 'insert, update, delete, truncate');
         ALTER PUBLICATION \"{publication}\" SET TABLE {{s}}.items WHERE (id > 0), {{s}}.audit;"
    ))
    .await;
    let err = try_invoke(config(&[])).await.unwrap_err();
    assert!(
        matches!(&err, RelayError::Slot(SlotError::PublicationFilters { table, .. }) if table.ends_with(".items")),
        "{err:?}"
    );

    // Nothing was created while refusing.
    let slots: i64 = case
        .pg
        .query_one(
            "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1",
            &[&slot],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(slots, 0);

    drop_publication(&case).await;
    case.drop_slot().await;
}

#[tokio::test]
async fn a_signal_through_a_filtered_publication_starts_an_incremental_snapshot() {
    let case = Case::new(
        "pgoutput_signal",
        "CREATE TABLE {s}.t(id int PRIMARY KEY, v text);
         CREATE TABLE {s}.debezium_signal(id varchar(42) PRIMARY KEY, type varchar(32) NOT NULL,
           data varchar(2048) NULL);
         INSERT INTO {s}.t SELECT g, 'v' || g FROM generate_series(1, 1200) g;",
    )
    .await;
    let (_, publication, prefix) = names(&case);
    let signal_table = format!("{}.debezium_signal", case.schema);
    let include = format!("{}\\.t", case.schema);
    let config = || {
        pgoutput_config(
            &case,
            &[
                ("table.include.list", include.as_str()),
                ("signal.data.collection", signal_table.as_str()),
                ("incremental.snapshot.chunk.size", "500"),
            ],
        )
    };
    let report = invoke(config()).await;
    assert_eq!(report.snapshot_rows, 0);
    // The filtered publication carries the captured table and the signal table.
    let listed = published_tables(&case, &publication).await;
    assert_eq!(listed, ["debezium_signal", "t"]);

    case.sql(&format!(
        "INSERT INTO {{s}}.debezium_signal VALUES ('ad-hoc-1', 'execute-snapshot',
           '{{\"data-collections\":[\"{}\\\\.t\"],\"type\":\"incremental\"}}');
         UPDATE {{s}}.t SET v = 'changed' WHERE id = 7;",
        case.schema
    ))
    .await;
    let mut rows = 0;
    for _ in 0..20 {
        let report = invoke(config()).await;
        rows += report.snapshot_rows;
        if report.caught_up && rows >= 1200 {
            break;
        }
    }
    assert_eq!(rows, 1200);
    let records = env::read_topic(&format!("{prefix}.{}.t", case.schema), 1201);
    let reads: Vec<Value> = records
        .iter()
        .filter_map(KafkaRecord::value_json)
        .filter(|v| v["op"] == "r")
        .collect();
    assert_eq!(reads.len(), 1200);
    assert!(
        reads
            .iter()
            .all(|r| r["source"]["snapshot"] == "incremental")
    );
    // The last word on row 7 is its change, whichever came first.
    let last_7 = records
        .iter()
        .filter_map(KafkaRecord::value_json)
        .rfind(|v| v["after"]["id"] == 7)
        .expect("row 7");
    assert_eq!(last_7["after"]["v"], "changed");

    drop_publication(&case).await;
    case.drop_slot().await;
}

#[tokio::test]
async fn validate_checks_the_publication_and_moves_nothing() {
    use crate::validate::{check, run, validate_command};

    let case = Case::new("pgoutput_validate", TABLES).await;
    let (slot, publication, _) = names(&case);
    case.sql(&format!(
        "CREATE PUBLICATION \"{publication}\" FOR TABLE {{s}}.items"
    ))
    .await;
    case.pg
        .execute(
            "SELECT pg_create_logical_replication_slot($1, 'pgoutput')",
            &[&slot],
        )
        .await
        .unwrap();
    let validate = || {
        validate_command(
            &case,
            &["validate", "--json"],
            &[
                ("PLUGIN_NAME", "pgoutput"),
                ("SLOT_NAME", slot.as_str()),
                ("PUBLICATION_NAME", publication.as_str()),
                ("PUBLICATION_AUTOCREATE_MODE", "disabled"),
            ],
        )
    };
    let (_, report) = run(validate());
    assert_eq!(check(&report, "slot").0, "pass", "{report:#}");
    assert!(
        check(&report, "slot").1.contains("uses pgoutput"),
        "{report:#}"
    );
    let (status, message) = check(&report, "publication");
    assert_eq!(status, "fail", "{report:#}");
    assert!(
        message.contains(&format!(
            "ALTER PUBLICATION \"{publication}\" ADD TABLE \"{}\".\"audit\";",
            case.schema
        )),
        "{message}"
    );

    case.sql(&format!(
        "ALTER PUBLICATION \"{publication}\" ADD TABLE {{s}}.audit"
    ))
    .await;
    let (_, report) = run(validate());
    assert_eq!(check(&report, "publication").0, "pass", "{report:#}");
    // validate moved nothing: the publication is as it was, the slot where it was
    assert_eq!(
        published_tables(&case, &publication).await,
        ["audit", "items"]
    );

    drop_publication(&case).await;
    case.drop_slot().await;
}

#[tokio::test]
async fn a_crash_inside_a_pgoutput_window_loses_and_repeats_nothing() {
    use crate::delivery::{ids, walbridge_with};

    // COPY's rows share LSNs; small transactions make many Begin/Commit pairs; small windows and
    // fetches cut through both.
    let case = Case::new("pgoutput_crash", "CREATE TABLE {s}.t(id int PRIMARY KEY)").await;
    let (slot, publication, _) = names(&case);
    case.sql(&format!(
        "CREATE PUBLICATION \"{publication}\" FOR TABLE {{s}}.t"
    ))
    .await;
    case.pg
        .execute(
            "SELECT pg_create_logical_replication_slot($1, 'pgoutput')",
            &[&slot],
        )
        .await
        .unwrap();
    case.sql("COPY {s}.t FROM PROGRAM 'seq 1 3000'").await;
    case.sql(
        "DO $$ BEGIN FOR i IN 3001..4000 LOOP INSERT INTO {s}.t VALUES (i); COMMIT; END LOOP; END $$",
    )
    .await;
    let properties = format!(
        "plugin.name=pgoutput\nslot.name={slot}\npublication.name={publication}\n\
         publication.autocreate.mode=disabled\ntable.include.list={}.t\ntopic.prefix={}\n\
         value.converter.schemas.enable=false\nkey.converter.schemas.enable=false\n\
         window.max.changes=700\nwindow.fetch.rows=100\ntopic.creation.default.partitions=3\n\
         snapshot.mode=no_data\n",
        case.schema, case.prefix
    );
    let crashed = walbridge_with(
        &case,
        &properties,
        Some("relay::published-some=6*off->panic"),
    );
    assert!(!crashed.status.success(), "the failpoint stopped it");
    let partial = env::read_topic(&case.topic("t"), 1).len();
    assert!(partial > 0 && partial < 4000, "part landed: {partial}");
    let recovered = walbridge_with(&case, &properties, None);
    assert!(
        recovered.status.success(),
        "{}",
        String::from_utf8_lossy(&recovered.stderr)
    );
    let records = env::read_topic(&case.topic("t"), 4000);
    assert_eq!(ids(&records), (1..=4000).collect());
    assert_eq!(records.len(), 4000, "each once");
    let report: Value = serde_json::from_slice(&recovered.stdout).expect("a JSON report");
    assert!(report["windows"].as_u64().unwrap() > 1, "{report}");
    assert_eq!(
        case.confirmed_flush_lsn_of(&slot).await,
        crate::case::lsn_of(report["end_lsn"].as_str().unwrap())
    );

    drop_publication(&case).await;
    case.drop_slot().await;
}

/// A table partitioned by region, two partitions, a row in each.
const PARTITIONED: &str = "
    CREATE TABLE {s}.events(id int, region text, note text, PRIMARY KEY (id, region))
        PARTITION BY LIST (region);
    CREATE TABLE {s}.events_eu PARTITION OF {s}.events FOR VALUES IN ('eu');
    CREATE TABLE {s}.events_us PARTITION OF {s}.events FOR VALUES IN ('us');
    INSERT INTO {s}.events VALUES (1, 'eu', 'first'), (2, 'us', 'first');";

/// Whether `publication` publishes via the partition root.
async fn publishes_via_root(case: &Case, publication: &str) -> bool {
    case.pg
        .query_one(
            "SELECT pubviaroot FROM pg_publication WHERE pubname = $1",
            &[&publication],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn publish_via_partition_root_publishes_partitions_as_their_root() {
    let case = Case::new("pgoutput_root", PARTITIONED).await;
    let (_, publication, prefix) = names(&case);
    let include = format!("{}\\.events", case.schema);
    let config = || {
        pgoutput_config(
            &case,
            &[
                ("publish.via.partition.root", "true"),
                ("table.include.list", include.as_str()),
                ("snapshot.mode", "initial"),
            ],
        )
    };
    // The publication is made for the root, via the root; the snapshot reads the root, which is
    // every partition's rows.
    let mut report = invoke(config()).await;
    assert!(publishes_via_root(&case, &publication).await);
    assert_eq!(published_tables(&case, &publication).await, ["events"]);
    let mut snapshot_rows = report.snapshot_rows;
    for _ in 0..5 {
        if snapshot_rows >= 2 {
            break;
        }
        report = invoke(config()).await;
        snapshot_rows += report.snapshot_rows;
    }
    assert_eq!(snapshot_rows, 2, "{report:?}");

    // Inserts into both partitions, an update and a delete.
    case.sql(
        "INSERT INTO {s}.events VALUES (3, 'eu', 'new'), (4, 'us', 'new');
         UPDATE {s}.events SET note = 'changed' WHERE id = 1;
         DELETE FROM {s}.events WHERE id = 2;",
    )
    .await;
    let report = invoke(config()).await;
    assert_eq!(report.changes, 4, "{report:?}");

    // reads 1 and 2, creates 3 and 4, the update of 1, the delete of 2 and its tombstone
    let topic = format!("{prefix}.{}.events", case.schema);
    let records = env::read_topic(&topic, 7);
    assert_eq!(records.len(), 7, "{records:?}");
    let mut ops: Vec<(String, i64, String)> = Vec::new();
    for record in &records {
        let key: Value = serde_json::from_str(record.key_str().expect("a key")).unwrap();
        let Some(value) = record.value_json() else {
            assert_eq!(key, serde_json::json!({"id": 2, "region": "us"}));
            continue;
        };
        assert_eq!(value["source"]["schema"], case.schema.as_str(), "{value}");
        assert_eq!(value["source"]["table"], "events", "{value}");
        let row = if value["op"] == "d" {
            &value["before"]
        } else {
            &value["after"]
        };
        assert_eq!(key["id"], row["id"], "{value}");
        assert_eq!(key["region"], row["region"], "{value}");
        ops.push((
            value["op"].as_str().unwrap().to_owned(),
            row["id"].as_i64().unwrap(),
            row["region"].as_str().unwrap().to_owned(),
        ));
    }
    ops.sort();
    let expected: Vec<(String, i64, String)> = [
        ("c", 3, "eu"),
        ("c", 4, "us"),
        ("d", 2, "us"),
        ("r", 1, "eu"),
        ("r", 2, "us"),
        ("u", 1, "eu"),
    ]
    .iter()
    .map(|(op, id, region)| ((*op).to_owned(), *id, (*region).to_owned()))
    .collect();
    assert_eq!(ops, expected);
    let update = records
        .iter()
        .filter_map(KafkaRecord::value_json)
        .find(|v| v["op"] == "u")
        .unwrap();
    assert_eq!(update["after"]["note"], "changed");

    drop_publication(&case).await;
    case.drop_slot().await;
}

#[tokio::test]
async fn publish_via_partition_root_must_agree_with_the_publication_and_the_filters() {
    use crate::validate::{check, run, validate_command};

    let case = Case::new("pgoutput_root_bad", PARTITIONED).await;
    let (slot, publication, prefix) = names(&case);
    let root = format!("{}\\.events", case.schema);
    let config = |extra: &[(&str, &str)]| {
        let mut props = vec![
            ("plugin.name", "pgoutput"),
            ("slot.name", slot.as_str()),
            ("slot.create", "true"),
            ("publication.name", publication.as_str()),
            ("publication.autocreate.mode", "disabled"),
            ("publish.via.partition.root", "true"),
            ("topic.prefix", prefix.as_str()),
        ];
        props.extend_from_slice(extra);
        case.config(&props)
    };

    // The case's filters capture every table of the schema, partitions included, whose changes
    // would arrive as the root's.
    let err = try_invoke(config(&[])).await.unwrap_err();
    assert!(
        matches!(&err, RelayError::Slot(SlotError::PartitionCaptured { partitions })
            if partitions.contains(&format!("{}.events_eu (of {}.events)", case.schema, case.schema))),
        "{err:?}"
    );

    // A publication that names changes by partition, with the property asking for the root.
    case.sql(&format!(
        "CREATE PUBLICATION \"{publication}\" FOR TABLE {{s}}.events"
    ))
    .await;
    let err = try_invoke(config(&[("table.include.list", root.as_str())]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            RelayError::Slot(SlotError::PublicationNotViaRoot { .. })
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&format!(
            "ALTER PUBLICATION \"{publication}\" SET (publish_via_partition_root = true);"
        )),
        "{err}"
    );
    let validate = |via_root: &str, include: &str| {
        let (_, report) = run(validate_command(
            &case,
            &["validate", "--json"],
            &[
                ("PLUGIN_NAME", "pgoutput"),
                ("SLOT_NAME", slot.as_str()),
                ("SLOT_CREATE", "true"),
                ("PUBLICATION_NAME", publication.as_str()),
                ("PUBLICATION_AUTOCREATE_MODE", "disabled"),
                ("PUBLISH_VIA_PARTITION_ROOT", via_root),
                ("TABLE_INCLUDE_LIST", include),
                ("TOPIC_PREFIX", prefix.as_str()),
            ],
        ));
        report
    };
    let report = validate("true", &root);
    let (status, message) = check(&report, "publication");
    assert_eq!(status, "fail", "{report:#}");
    assert!(
        message.contains("publish_via_partition_root = true"),
        "{message}"
    );

    // The other way round: a publication via the root, the property left false.
    case.sql(&format!(
        "ALTER PUBLICATION \"{publication}\" SET (publish_via_partition_root = true)"
    ))
    .await;
    let report = validate("true", &root);
    assert_eq!(check(&report, "publication").0, "pass", "{report:#}");
    let everything = format!("{}\\..*", case.schema);
    let err = try_invoke(config(&[
        ("publish.via.partition.root", "false"),
        ("table.include.list", everything.as_str()),
    ]))
    .await
    .unwrap_err();
    assert!(
        matches!(&err, RelayError::Slot(SlotError::PublicationViaRoot { .. })),
        "{err:?}"
    );
    let report = validate("false", &everything);
    let (status, message) = check(&report, "publication");
    assert_eq!(status, "fail", "{report:#}");
    assert!(
        message.contains("set publish.via.partition.root=true"),
        "{message}"
    );

    // Nothing was created while refusing.
    let slots: i64 = case
        .pg
        .query_one(
            "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1",
            &[&slot],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(slots, 0);
    drop_publication(&case).await;
}
