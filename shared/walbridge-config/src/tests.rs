//! Unit tests of configuration parsing and validation.

use std::collections::BTreeMap;

use secrecy::ExposeSecret;
use walbridge_event::envelope::{LEGACY_CONNECTOR_VERSIONS, SourceStructVersion};
use walbridge_event::modes::{
    BinaryMode, DecimalMode, HstoreMode, IntervalMode, Mode, TimePrecisionMode, TypeModes,
};

use super::*;

const SEED: &str = include_str!("../fixtures/seed-connector.properties");

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// What a Lambda deployment adds to the user's file: where Kafka and the checkpoint are, and the
/// real host and credentials.
fn lambda_env() -> BTreeMap<String, String> {
    env(&[
        ("DATABASE_HOSTNAME", "db.internal"),
        ("DATABASE_USER", "cdc"),
        ("DATABASE_PASSWORD", "s3cr3t-pw"),
        ("KAFKA_BOOTSTRAP_SERVERS", "b1:9092, b2:9092"),
        ("CHECKPOINT_URI", "s3://bucket/walbridge/test_slot.json"),
        ("UNRELATED", "x"),
    ])
}

fn seed() -> Properties {
    Properties::parse(SEED, "file seed-connector.properties").unwrap()
}

fn error_text<T: std::fmt::Debug>(result: Result<T, ConfigError>) -> String {
    result.expect_err("configuration is refused").to_string()
}

#[test]
fn the_users_debezium_properties_file_loads_as_it_is() {
    let config = Config::from_sources(seed(), &lambda_env()).unwrap();
    assert_eq!(config.name, "debezium-psql-source");
    assert_eq!(config.database.hostname, "db.internal");
    assert_eq!(config.database.port, 5432);
    assert_eq!(config.database.user, "cdc");
    assert_eq!(config.database.password.expose_secret(), "s3cr3t-pw");
    assert_eq!(config.database.dbname, "test_database");
    assert_eq!(config.slot.name, "test_slot");
    assert!(!config.slot.create);
    assert!(!config.slot.failover, "not a failover slot unless asked");
    assert_eq!(
        config.filters.tables.pushdown(),
        [TablePattern {
            schema: "test_schema".into(),
            table: "test_table".into()
        }]
    );
    assert!(config.filters.tables.captures("test_schema", "test_table"));
    assert!(!config.filters.tables.captures("test_schema", "other"));
    assert_eq!(config.topic_prefix, "test-prefix");
    assert!(!config.events.value_schemas);
    assert!(
        config.events.key_schemas,
        "the key converter keeps Connect's default"
    );
    assert!(config.events.tombstones_on_delete);
    assert_eq!(config.kafka.bootstrap_servers, vec!["b1:9092", "b2:9092"]);
    assert_eq!(
        config.checkpoint,
        CheckpointLocation::S3 {
            bucket: "bucket".into(),
            key: "walbridge/test_slot.json".into()
        }
    );
    assert_eq!(config.window.max_changes, 0);
    assert_eq!(config.window.fetch_rows, 2_000);
    assert_eq!(config.invocation.time_margin.as_millis(), 10_000);
    assert_eq!(config.invocation.local_time_budget.as_millis(), 300_000);
    assert!(config.invocation.poll_interval.is_zero());
    assert!(config.invocation.poll_duration.is_zero());
    assert_eq!(config.ignored_keys, vec!["slot.drop_on_stop"]);
}

#[test]
fn the_environment_overrides_the_file() {
    let mut vars = lambda_env();
    vars.insert("SLOT_NAME".into(), "other_slot".into());
    vars.insert("TOPIC_PREFIX".into(), "newer".into());
    let config = Config::from_sources(seed(), &vars).unwrap();
    assert_eq!(config.slot.name, "other_slot");
    assert_eq!(
        config.topic_prefix, "newer",
        "topic.prefix wins over database.server.name"
    );
}

#[test]
fn everything_can_come_from_the_environment_alone() {
    let mut vars = lambda_env();
    vars.insert("DATABASE_DBNAME".into(), "app".into());
    vars.insert("TOPIC_PREFIX".into(), "app".into());
    let config = Config::from_sources(Properties::default(), &vars).unwrap();
    assert_eq!(config.slot.name, "debezium");
    assert!(config.filters.tables.is_everything());
    assert_eq!(config.filters.skipped, SkippedOperations::default());
    assert!(config.events.value_schemas);
}

#[test]
fn a_missing_required_key_is_named() {
    let mut vars = lambda_env();
    vars.remove("KAFKA_BOOTSTRAP_SERVERS");
    let text = error_text(Config::from_sources(seed(), &vars));
    assert!(
        text.contains("kafka.bootstrap.servers is required"),
        "{text}"
    );
}

#[test]
fn an_invalid_value_names_key_value_origin_and_what_is_allowed() {
    let mut vars = lambda_env();
    vars.insert("WINDOW_MAX_CHANGES".into(), "lots".into());
    let text = error_text(Config::from_sources(seed(), &vars));
    assert_eq!(
        text,
        "configuration key window.max.changes has an invalid value \"lots\" (from environment \
         variable WINDOW_MAX_CHANGES); allowed: an integer from 0 to 10000000"
    );
}

#[test]
fn a_secret_never_appears_in_an_error() {
    let mut props = seed();
    props.set("database.password", "hunter2");
    let err = props.invalid("database.password", "anything");
    assert!(!err.to_string().contains("hunter2"));
    assert!(!format!("{err:?}").contains("hunter2"));
    let config = Config::from_sources(props, &lambda_env()).unwrap();
    assert!(!format!("{config:?}").contains("s3cr3t-pw"));
}

#[test]
fn pgoutput_is_read_through_debeziums_publication_and_decoderbufs_is_refused() {
    let config = Config::from_sources(seed(), &lambda_env()).unwrap();
    assert_eq!(config.slot.plugin, Plugin::Wal2json);
    let mut props = seed();
    props.set("plugin.name", "pgoutput");
    let config = Config::from_sources(props.clone(), &lambda_env()).unwrap();
    assert_eq!(config.slot.plugin, Plugin::Pgoutput);
    assert_eq!(
        config.slot.publication,
        PublicationConfig {
            name: "dbz_publication".into(),
            autocreate: PublicationAutocreate::AllTables,
            via_root: false,
        }
    );
    props.set("publication.name", "cdc");
    props.set("publication.autocreate.mode", "filtered");
    let config = Config::from_sources(props.clone(), &lambda_env()).unwrap();
    assert_eq!(config.slot.publication.name, "cdc");
    assert_eq!(
        config.slot.publication.autocreate,
        PublicationAutocreate::Filtered
    );

    props.set("publication.autocreate.mode", "sometimes");
    let text = error_text(Config::from_sources(props.clone(), &lambda_env()));
    assert!(text.contains("publication.autocreate.mode"), "{text}");
    props.set("publication.autocreate.mode", "disabled");
    props.set("publish.via.partition.root", "true");
    let config = Config::from_sources(props.clone(), &lambda_env()).unwrap();
    assert!(config.slot.publication.via_root);
    props.set("publish.via.partition.root", "sometimes");
    let text = error_text(Config::from_sources(props.clone(), &lambda_env()));
    assert!(text.contains("publish.via.partition.root"), "{text}");

    // wal2json names every change by its leaf partition: it cannot publish via the root
    let mut props = seed();
    props.set("publish.via.partition.root", "true");
    let text = error_text(Config::from_sources(props.clone(), &lambda_env()));
    assert!(
        text.contains("publish.via.partition.root") && text.contains("plugin.name=pgoutput"),
        "{text}"
    );
    props.set("publish.via.partition.root", "false");
    assert!(
        !Config::from_sources(props, &lambda_env())
            .unwrap()
            .slot
            .publication
            .via_root
    );

    let mut props = seed();
    props.set("plugin.name", "decoderbufs");
    let text = error_text(Config::from_sources(props, &lambda_env()));
    assert!(
        text.contains("plugin.name") && text.contains("decoderbufs is not supported"),
        "{text}"
    );
}

#[test]
fn more_than_one_task_is_refused() {
    let mut props = seed();
    props.set("tasks.max", "3");
    assert!(error_text(Config::from_sources(props, &lambda_env())).contains("tasks.max"));
}

#[test]
fn slot_names_follow_postgresql_rules() {
    for bad in [
        "Upper",
        "with-dash",
        "x'; DROP TABLE t; --",
        &"a".repeat(64),
    ] {
        let mut props = seed();
        props.set("slot.name", bad);
        let text = error_text(Config::from_sources(props, &lambda_env()));
        assert!(text.contains("slot.name"), "{bad}: {text}");
    }
}

#[test]
fn literal_table_lists_are_pushed_down_to_wal2json_and_regexes_are_not() {
    use filters::parse_table_pattern;
    assert_eq!(
        parse_table_pattern("inventory\\.customers"),
        Some(TablePattern {
            schema: "inventory".into(),
            table: "customers".into()
        })
    );
    assert_eq!(
        parse_table_pattern("inventory.*"),
        Some(TablePattern {
            schema: "inventory".into(),
            table: "*".into()
        })
    );
    assert_eq!(
        parse_table_pattern("inventory\\..*"),
        Some(TablePattern {
            schema: "inventory".into(),
            table: "*".into()
        })
    );
    assert_eq!(parse_table_pattern("inventory.cust(omers|x)"), None);
    assert_eq!(parse_table_pattern("nodot"), None);

    let mut props = seed();
    props.set("table.include.list", "a.b, c.d");
    props.set("table.whitelist", "ignored.when_include_list_is_set");
    let config = Config::from_sources(props, &lambda_env()).unwrap();
    assert_eq!(
        config
            .filters
            .tables
            .pushdown()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        vec!["a.b", "c.d"]
    );

    let mut props = seed();
    props.set("table.include.list", "a.b, c.cust(omers|x)");
    let config = Config::from_sources(props, &lambda_env()).unwrap();
    assert!(config.filters.tables.pushdown().is_empty());
    let tables = &config.filters.tables;
    assert_eq!(tables.rank("c", "customers"), Some(1));
    assert_eq!(
        tables.rank("A", "B"),
        Some(0),
        "case-insensitive, as Debezium"
    );
    assert_eq!(tables.rank("c", "customersx"), None, "anchored");
    assert_eq!(tables.rank("a", "bb"), None);
}

fn filters_of(pairs: &[(&str, &str)]) -> Result<std::sync::Arc<Filters>, ConfigError> {
    let mut props = seed();
    props.set("table.include.list", "");
    props.set("table.whitelist", "");
    for (k, v) in pairs {
        props.set(k, v);
    }
    Config::from_sources(props, &lambda_env()).map(|c| c.filters)
}

#[test]
fn table_and_schema_filters_follow_debeziums_rules() {
    let f = filters_of(&[("table.exclude.list", "public\\.audit_.*, *.tmp")]).unwrap();
    assert!(f.tables.captures("public", "orders"));
    assert!(!f.tables.captures("public", "AUDIT_log"));
    assert!(!f.tables.captures("sales", "tmp"));
    assert!(f.tables.pushdown().is_empty());

    let f = filters_of(&[
        ("schema.include.list", "sales,hr"),
        ("table.include.list", "hr.people"),
    ])
    .unwrap();
    // Both lists must match (Debezium's `Selectors.tableSelector`).
    assert!(!f.tables.captures("sales", "orders"));
    assert!(f.tables.captures("hr", "people") && !f.tables.captures("hr", "salaries"));
    assert!(!f.tables.captures("public", "people"));

    let f = filters_of(&[("schema.exclude.list", "internal.*")]).unwrap();
    assert!(!f.tables.captures("internal_2", "t"));
    assert!(f.tables.captures("public", "t"));
    assert!(!f.tables.captures("pg_catalog", "pg_class"));

    for (include, exclude) in [
        ("table.include.list", "table.exclude.list"),
        ("schema.include.list", "schema.exclude.list"),
        ("column.include.list", "column.exclude.list"),
    ] {
        let err = error_text(filters_of(&[(include, "a.b.c"), (exclude, "d.e.f")]));
        assert!(err.contains(exclude) && err.contains(include), "{err}");
    }
    let err = error_text(filters_of(&[("table.include.list", "public.(unclosed")]));
    assert!(
        err.contains("table.include.list") && err.contains("regular expressions"),
        "{err}"
    );
}

#[test]
fn column_filters_match_schema_table_column() {
    let f = filters_of(&[(
        "column.exclude.list",
        "public.users.(password|ssn), .*\\.secret_.*",
    )])
    .unwrap();
    assert!(!f.columns.keeps("public", "users", "Password"));
    assert!(f.columns.keeps("public", "users", "email"));
    assert!(f.columns.keeps("other", "users", "password"));
    assert!(!f.columns.keeps("other", "t", "secret_x"));
    let f = filters_of(&[("column.include.list", "public.users.(id|email)")]).unwrap();
    assert!(f.columns.keeps("public", "users", "id"));
    assert!(!f.columns.keeps("public", "users", "name"));
    assert!(!f.columns.keeps("public", "other", "id"));
}

#[test]
fn message_key_columns_follow_the_list_order() {
    let f = filters_of(&[(
        "message.key.columns",
        "public.orders:line,ID; (.*).items:sku",
    )])
    .unwrap();
    let cols = ["id", "line", "sku", "note"];
    assert_eq!(
        f.key_columns
            .for_table("public", "orders", cols.iter().copied()),
        Some(vec!["line", "id"])
    );
    assert_eq!(
        f.key_columns
            .for_table("shop", "items", cols.iter().copied()),
        Some(vec!["sku"])
    );
    assert_eq!(
        f.key_columns
            .for_table("public", "other", cols.iter().copied()),
        None
    );
    for bad in [
        "public.orders",
        "public.orders:",
        ":id",
        "a:b:c",
        "public.orders:a,,b",
    ] {
        let err = error_text(filters_of(&[("message.key.columns", bad)]));
        assert!(err.contains("message.key.columns"), "{bad}: {err}");
    }
}

#[test]
fn skipped_operations_default_to_truncates_and_none_skips_nothing() {
    let skipped = |v: &str| filters_of(&[("skipped.operations", v)]).map(|f| f.skipped);
    assert_eq!(
        skipped("c, D").unwrap(),
        SkippedOperations {
            creates: true,
            updates: false,
            deletes: true,
            truncates: false
        }
    );
    assert_eq!(
        skipped("none").unwrap(),
        SkippedOperations {
            creates: false,
            updates: false,
            deletes: false,
            truncates: false
        }
    );
    let err = error_text(skipped("c,x"));
    assert!(
        err.contains("skipped.operations") && err.contains("none"),
        "{err}"
    );
}

#[test]
fn message_prefix_lists_are_debeziums_anchored_case_insensitive_regexes_and_not_both() {
    let all = filters_of(&[]).unwrap();
    assert!(all.messages.includes("outbox") && all.messages.includes(""));
    let include = filters_of(&[("message.prefix.include.list", "out.*, audit")]).unwrap();
    assert!(include.messages.includes("outbox") && include.messages.includes("AUDIT"));
    assert!(!include.messages.includes("audits") && !include.messages.includes("my-outbox"));
    let exclude = filters_of(&[("message.prefix.exclude.list", "skip\\..*")]).unwrap();
    assert!(!exclude.messages.includes("skip.me") && exclude.messages.includes("skipme"));
    let err = error_text(filters_of(&[
        ("message.prefix.include.list", "a"),
        ("message.prefix.exclude.list", "b"),
    ]));
    assert!(err.contains("message.prefix.exclude.list"), "{err}");
    let err = error_text(filters_of(&[("message.prefix.include.list", "(?=x)")]));
    assert!(err.contains("message.prefix.include.list"), "{err}");
    // Debezium 3.7.1 refuses `m` ("Invalid operation"): messages are filtered by prefix only.
    let err = error_text(filters_of(&[("skipped.operations", "m")]));
    assert!(err.contains("skipped.operations"), "{err}");
}

#[test]
fn checkpoint_uris_must_name_an_object() {
    for bad in [
        "s3://bucket",
        "s3://bucket/",
        "s3:///key",
        "file://relative",
        "http://x/y",
    ] {
        let mut vars = lambda_env();
        vars.insert("CHECKPOINT_URI".into(), bad.into());
        let text = error_text(Config::from_sources(seed(), &vars));
        assert!(text.contains("checkpoint.uri"), "{bad}: {text}");
    }
    let mut vars = lambda_env();
    vars.insert("CHECKPOINT_URI".into(), "file:///tmp/cp.json".into());
    assert_eq!(
        Config::from_sources(seed(), &vars).unwrap().checkpoint,
        CheckpointLocation::File("/tmp/cp.json".into())
    );
}

#[test]
fn bootstrap_servers_need_host_and_port() {
    let mut vars = lambda_env();
    vars.insert("KAFKA_BOOTSTRAP_SERVERS".into(), "broker".into());
    assert!(error_text(Config::from_sources(seed(), &vars)).contains("host:port"));
}

// encoder modes
#[test]
fn representation_modes_default_to_debeziums_and_parse_its_spellings() {
    let config = Config::from_sources(seed(), &lambda_env()).unwrap();
    assert_eq!(
        config.events.modes,
        walbridge_event::modes::TypeModes::default()
    );
    assert_eq!(
        config.events.unavailable_value_placeholder,
        "__debezium_unavailable_value"
    );
    let mut vars = lambda_env();
    vars.insert("DECIMAL_HANDLING_MODE".into(), "String".into());
    vars.insert("TIME_PRECISION_MODE".into(), "connect".into());
    vars.insert("BINARY_HANDLING_MODE".into(), "base64-url-safe".into());
    vars.insert("INTERVAL_HANDLING_MODE".into(), "string".into());
    vars.insert("HSTORE_HANDLING_MODE".into(), "map".into());
    vars.insert("UNAVAILABLE_VALUE_PLACEHOLDER".into(), "??".into());
    let config = Config::from_sources(seed(), &vars).unwrap();
    use walbridge_event::modes::*;
    assert_eq!(
        config.events.modes,
        TypeModes {
            decimal: DecimalMode::String,
            time: TimePrecisionMode::Connect,
            binary: BinaryMode::Base64UrlSafe,
            interval: IntervalMode::String,
            hstore: HstoreMode::Map,
        }
    );
    assert_eq!(config.events.unavailable_value_placeholder, "??");
}

#[test]
fn name_adjustment_modes_default_to_none_and_parse_debeziums_spellings() {
    use walbridge_event::names::NameAdjustment;
    let config = Config::from_sources(seed(), &lambda_env()).unwrap();
    assert_eq!(config.events.schema_names, NameAdjustment::None);
    assert_eq!(config.events.field_names, NameAdjustment::None);
    let mut vars = lambda_env();
    vars.insert("SCHEMA_NAME_ADJUSTMENT_MODE".into(), "Avro".into());
    vars.insert("FIELD_NAME_ADJUSTMENT_MODE".into(), "avro_unicode".into());
    let config = Config::from_sources(seed(), &vars).unwrap();
    assert_eq!(config.events.schema_names, NameAdjustment::Avro);
    assert_eq!(config.events.field_names, NameAdjustment::AvroUnicode);
    let mut vars = lambda_env();
    vars.insert("SCHEMA_NAME_ADJUSTMENT_MODE".into(), "avro".into());
    vars.insert("SOURCE_STRUCT_VERSION".into(), "v1".into());
    let text = error_text(Config::from_sources(seed(), &vars));
    assert!(
        text.contains("schema.name.adjustment.mode") && text.contains("source.struct.version=v2"),
        "{text}"
    );
    let mut vars = lambda_env();
    vars.insert("FIELD_NAME_ADJUSTMENT_MODE".into(), "avro-unicode".into());
    let text = error_text(Config::from_sources(seed(), &vars));
    assert!(
        text.contains("field.name.adjustment.mode") && text.ends_with("none, avro, avro_unicode"),
        "{text}"
    );
}

#[test]
fn an_unsupported_mode_is_refused_with_the_allowed_values() {
    let mut vars = lambda_env();
    vars.insert("TIME_PRECISION_MODE".into(), "isostring".into());
    let text = error_text(Config::from_sources(seed(), &vars));
    assert_eq!(
        text,
        "configuration key time.precision.mode has an invalid value \"isostring\" (from \
         environment variable TIME_PRECISION_MODE); allowed: adaptive, \
         adaptive_time_microseconds, connect"
    );
    let mut vars = lambda_env();
    vars.insert("BINARY_HANDLING_MODE".into(), "base32".into());
    let text = error_text(Config::from_sources(seed(), &vars));
    assert!(
        text.ends_with("allowed: bytes, base64, base64-url-safe, hex"),
        "{text}"
    );
}

fn report_for(props: Properties, vars: &BTreeMap<String, String>) -> ValidationReport {
    validate_sources(props, vars).1
}

fn property<'r>(report: &'r ValidationReport, name: &str) -> &'r PropertyReport {
    report
        .configs
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("{name} is not in the report"))
}

#[test]
fn the_users_file_validates_with_a_note_for_what_walbridge_ignores_by_design() {
    let report = report_for(seed(), &lambda_env());
    assert!(report.passed, "{report}");
    assert_eq!(report.error_count, 0);
    let drop = property(&report, "slot.drop_on_stop");
    assert!(drop.warnings.is_empty());
    assert!(drop.notes[0].contains("never drops its slot"), "{drop:?}");
    assert!(property(&report, "table.whitelist").notes[0].contains("Debezium 1.x"));
}

#[test]
fn every_problem_is_reported_per_property_not_only_the_first() {
    let mut props = seed();
    props.set("tasks.max", "2");
    props.set("plugin.name", "decoderbufs");
    props.set("offset.mismatch.strategy", "bogus");
    props.set("database.port", "99999");
    props.set("kafka.compression.type", "brotli");
    let report = report_for(props.clone(), &lambda_env());
    assert!(!report.passed);
    assert_eq!(report.error_count, 5, "{report}");
    let strategy = property(&report, "offset.mismatch.strategy");
    assert_eq!(
        strategy.errors,
        vec![
            "Value must be one of fail, trust_slot, trust_offset, trust_greater_lsn, no_validation"
        ]
    );
    assert_eq!(strategy.recommended_values.len(), 5);
    assert!(property(&report, "tasks.max").errors[0].contains("a slot has one reader"));
    let plugin = property(&report, "plugin.name");
    assert!(
        plugin.errors[0].contains("wal2json_rds_streaming")
            && plugin.errors[0].contains("decoderbufs is not supported"),
        "{plugin:?}"
    );
    assert_eq!(plugin.value.as_deref(), Some("decoderbufs"));
    assert!(property(&report, "database.port").errors[0].contains("from 1 to 65535"));
    assert_eq!(
        property(&report, "kafka.compression.type").recommended_values,
        vec!["none", "gzip", "snappy", "lz4", "zstd"]
    );

    // Cold start refuses the same configuration, naming every problem.
    let text = error_text(Config::from_sources(props, &lambda_env()));
    assert!(text.starts_with("5 configuration problems"), "{text}");
}

#[test]
fn an_unknown_property_is_a_warning_not_a_silent_ignore() {
    let mut props = seed();
    props.set("snapshot.lock.timeout.mz", "10");
    let report = report_for(props, &lambda_env());
    assert!(report.passed);
    assert_eq!(report.warning_count, 1);
    assert!(
        property(&report, "snapshot.lock.timeout.mz").warnings[0]
            .contains("does not know this property")
    );
}

#[test]
fn a_missing_required_property_is_reported_against_it() {
    let mut vars = lambda_env();
    vars.remove("KAFKA_BOOTSTRAP_SERVERS");
    let report = report_for(seed(), &vars);
    let servers = property(&report, "kafka.bootstrap.servers");
    assert_eq!(servers.origin, "unset");
    assert!(servers.errors[0].starts_with("Missing required configuration"));
}

#[test]
fn secrets_never_appear_in_the_report_or_its_errors() {
    let mut props = seed();
    props.set("kafka.security.protocol", "SASL_SSL");
    props.set("kafka.sasl.mechanism", "SCRAM-SHA-512");
    props.set("kafka.sasl.username", "walbridge");
    props.set("kafka.sasl.password", "kafka-hunter2");
    props.set("tasks.max", "7");
    let report = report_for(props.clone(), &lambda_env());
    let json = serde_json::to_string(&report).unwrap();
    let text = report.to_string();
    for leak in ["s3cr3t-pw", "kafka-hunter2"] {
        assert!(
            !json.contains(leak) && !text.contains(leak),
            "{leak} leaked"
        );
    }
    assert_eq!(
        property(&report, "database.password").value.as_deref(),
        Some("****")
    );
    assert!(
        !format!("{props:?}").contains("hunter2"),
        "Properties' Debug shows no value"
    );
    let err = Config::from_sources(props, &lambda_env()).unwrap_err();
    assert!(!format!("{err} {err:?}").contains("hunter2"));
}

#[test]
fn unknown_keys_whose_names_suggest_a_secret_are_masked_in_both_forms() {
    let mut props = seed();
    let secrets = [
        ("database.sslpassword", "hunter2-ssl"),
        (
            "schema.history.internal.producer.sasl.jaas.config",
            "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" \
             password=\"jaas-4711\";",
        ),
        ("debezium.source.database.password", "server-pw-4711"),
        (
            "schema.history.internal.consumer.ssl.keystore.password",
            "ks-4711",
        ),
        ("database.sslkey", "/keys/client-4711.key"),
        ("schema.registry.basic.auth.user.info", "user:registry-4711"),
    ];
    for (key, value) in secrets {
        props.set(key, value);
    }
    props.set("snapshot.lock.timeout.mz", "visible-5000");
    let report = report_for(props, &lambda_env());
    let json = serde_json::to_string(&report).unwrap();
    let text = report.to_string();
    for (key, value) in secrets {
        assert!(
            !json.contains(value) && !text.contains(value),
            "{key}'s value leaked"
        );
        assert_eq!(
            property(&report, key).value.as_deref(),
            Some("****"),
            "{key}"
        );
        assert!(text.contains(key), "the key itself is still reported");
    }
    assert_eq!(
        property(&report, "snapshot.lock.timeout.mz")
            .value
            .as_deref(),
        Some("visible-5000"),
        "an unknown key that is no secret still shows its value, for spotting a typo"
    );
}

#[test]
fn a_name_suggests_a_secret_by_its_words_or_a_last_part_ending_in_key() {
    for key in [
        "database.sslpassword",
        "producer.sasl.jaas.config",
        "ssl.keystore.password",
        "ssl.key.password",
        "ssl.keystore.key",
        "database.sslkey",
        "sasl.oauthbearer.client.secret",
        "api_token",
        "aws.secret.access.key",
        "basic.auth.user.info",
        "DATABASE.PASSWORD",
    ] {
        assert!(properties::names_a_secret(key), "{key}");
    }
    for key in [
        "key.converter",
        "key.converter.schemas.enable",
        "message.key.columns",
        "snapshot.lock.timeout.ms",
        "database.sslrootcert",
        "ssl.keystore.location",
        "slot.drop_on_stop",
    ] {
        assert!(!properties::names_a_secret(key), "{key}");
    }
}

#[test]
fn the_declared_secret_keys_are_exactly_those_the_name_rule_finds() {
    // One rule: a new declared key named like a secret must be declared secret, and no declared
    // key's value is hidden by accident.
    for key in KEYS {
        assert_eq!(
            key.secret,
            properties::names_a_secret(key.name),
            "{}: declared secret {}",
            key.name,
            key.secret
        );
    }
}

#[test]
fn connectivity_settings_parse() {
    let mut props = seed();
    props.set("database.sslmode", "VERIFY-FULL");
    props.set("database.sslrootcert", "/opt/rds-global-bundle.pem");
    props.set("kafka.security.protocol", "sasl_ssl");
    props.set("kafka.ssl.truststore.location", "/opt/ca.pem");
    props.set("kafka.sasl.mechanism", "SCRAM-SHA-256");
    props.set("kafka.sasl.username", "cdc");
    props.set("kafka.sasl.password", "pw");
    props.set("kafka.compression.type", "zstd");
    let config = Config::from_sources(props, &lambda_env()).unwrap();
    assert_eq!(config.database.ssl_mode, SslMode::VerifyFull);
    assert_eq!(
        config.database.ssl_root_cert.as_deref(),
        Some(std::path::Path::new("/opt/rds-global-bundle.pem"))
    );
    assert_eq!(
        config.kafka.tls,
        Some(KafkaTls {
            ca_file: Some("/opt/ca.pem".into())
        })
    );
    let sasl = config.kafka.sasl.expect("SASL configured");
    assert_eq!(sasl.mechanism, SaslMechanism::ScramSha256);
    assert_eq!(sasl.password.expose_secret(), "pw");
    assert_eq!(config.kafka.compression, Compression::Zstd);
    assert_eq!(config.kafka.max_request_size, 1_048_576);

    let plain = Config::from_sources(seed(), &lambda_env()).unwrap();
    assert_eq!(
        plain.database.ssl_mode,
        SslMode::Prefer,
        "Debezium's default"
    );
    assert!(plain.kafka.tls.is_none() && plain.kafka.sasl.is_none());
}

#[test]
fn sasl_without_credentials_is_refused() {
    let mut props = seed();
    props.set("kafka.security.protocol", "SASL_PLAINTEXT");
    let text = error_text(Config::from_sources(props, &lambda_env()));
    assert!(
        text.contains("kafka.sasl.username") && text.contains("kafka.sasl.password"),
        "{text}"
    );
}

#[test]
fn every_declared_allowed_value_parses() {
    // values that hold only beside another key's
    let needs = [(
        crate::keys::PUBLISH_VIA_PARTITION_ROOT.name,
        ("plugin.name", "pgoutput"),
    )];
    for key in KEYS.iter().filter(|k| !k.allowed.is_empty()) {
        for value in key.allowed {
            let mut props = seed();
            for (_, (other, other_value)) in needs.iter().filter(|(k, _)| *k == key.name) {
                props.set(other, other_value);
            }
            props.set(key.name, value);
            let report = report_for(props, &lambda_env());
            assert!(
                property(&report, key.name).errors.is_empty(),
                "{}={value}: {report}",
                key.name
            );
        }
    }
}

// snapshots
#[test]
fn snapshot_mode_defaults_to_initial_and_takes_debeziums_values() {
    let config = Config::from_sources(seed(), &lambda_env()).unwrap();
    assert_eq!(config.snapshot.mode, SnapshotMode::Initial);
    assert_eq!(config.snapshot.chunk_rows, 10_240);
    assert!(config.snapshot.include.is_empty());
    for (value, mode) in [
        ("initial_only", SnapshotMode::InitialOnly),
        ("NO_DATA", SnapshotMode::NoData),
        ("when_needed", SnapshotMode::WhenNeeded),
        ("always", SnapshotMode::Always),
    ] {
        let mut props = seed();
        props.set("snapshot.mode", value);
        let config = Config::from_sources(props, &lambda_env()).unwrap();
        assert_eq!(config.snapshot.mode, mode, "{value}");
        assert!(config.warnings().is_empty());
    }
    let mut props = seed();
    props.set("snapshot.mode", "configuration_based");
    props.set("snapshot.mode.configuration.based.snapshot.data", "true");
    props.set("snapshot.mode.configuration.based.start.stream", "true");
    let mode = Config::from_sources(props, &lambda_env())
        .unwrap()
        .snapshot
        .mode;
    assert!(mode.on_every_start() && mode.streams() && !mode.on_lost_position());
}

#[test]
fn old_snapshot_mode_names_load_with_a_warning_naming_the_new_one() {
    for (old, mode, new) in [
        ("never", SnapshotMode::NoData, "no_data"),
        ("schema_only", SnapshotMode::NoData, "no_data"),
        ("exported", SnapshotMode::Initial, "initial"),
    ] {
        let mut props = seed();
        props.set("snapshot.mode", old);
        let config = Config::from_sources(props.clone(), &lambda_env()).unwrap();
        assert_eq!(config.snapshot.mode, mode);
        assert_eq!(config.warnings().len(), 1);
        assert!(
            config.warnings()[0]
                .message
                .contains(&format!("snapshot.mode={new}")),
            "{:?}",
            config.warnings()
        );
        let report = report_for(props, &lambda_env());
        let property = property(&report, "snapshot.mode");
        assert!(property.errors.is_empty());
        assert_eq!(property.warnings, [config.warnings()[0].message.as_str()]);
    }
}

#[test]
fn bogus_and_custom_snapshot_modes_are_refused_with_the_allowed_list() {
    for value in ["bogus", "custom"] {
        let mut props = seed();
        props.set("snapshot.mode", value);
        let report = report_for(props.clone(), &lambda_env());
        let errors = &property(&report, "snapshot.mode").errors;
        assert_eq!(errors.len(), 1, "{report}");
        assert!(
            errors[0].starts_with(
                "Value must be one of initial, initial_only, no_data, when_needed, always, configuration_based"
            ),
            "{errors:?}"
        );
        assert!(Config::from_sources(props, &lambda_env()).is_err());
    }
    let mut props = seed();
    props.set("snapshot.include.collection.list", "public.(unclosed");
    props.set("snapshot.fetch.size", "0");
    let report = report_for(props, &lambda_env());
    assert_eq!(
        property(&report, "snapshot.include.collection.list")
            .errors
            .len(),
        1
    );
    assert_eq!(property(&report, "snapshot.fetch.size").errors.len(), 1);
}

#[test]
fn snapshot_include_list_is_anchored_and_case_insensitive() {
    let mut props = seed();
    props.set(
        "snapshot.include.collection.list",
        "public\\.orders, inventory\\..*",
    );
    props.set("snapshot.max.threads", "4");
    let config = Config::from_sources(props, &lambda_env()).unwrap();
    let matches = |name: &str| config.snapshot.include.iter().any(|r| r.is_match(name));
    assert!(matches("public.orders"));
    assert!(matches("PUBLIC.Orders"));
    assert!(!matches("public.orders_archive"));
    assert!(matches("inventory.items"));
    assert!(
        config.warnings()[0]
            .message
            .contains("snapshot.max.threads=4")
    );
}

#[test]
fn debeziums_snapshot_tuning_keys_are_noted_as_ignored_by_design() {
    let mut props = seed();
    props.set("snapshot.select.statement.overrides", "public.t");
    props.set("snapshot.locking.mode", "shared");
    let report = report_for(props, &lambda_env());
    for key in [
        "snapshot.select.statement.overrides",
        "snapshot.locking.mode",
    ] {
        let property = property(&report, key);
        assert!(property.warnings.is_empty(), "{key}: {property:?}");
        assert!(
            property.notes[0].starts_with("ignored by design:"),
            "{key}: {property:?}"
        );
    }
}

// legacy consumers
#[test]
fn source_struct_version_defaults_to_v2_and_v1_names_a_legacy_release() {
    let config = Config::from_sources(seed(), &lambda_env()).unwrap();
    assert_eq!(config.events.source_struct, SourceStructVersion::V2);
    assert_eq!(config.events.legacy_connector_version, "1.0.3.Final");
    assert!(config.warnings().is_empty(), "{:?}", config.warnings());

    let mut props = seed();
    props.set("source.struct.version", "V1");
    let mut vars = lambda_env();
    vars.insert(
        "SOURCE_STRUCT_V1_CONNECTOR_VERSION".into(),
        "0.9.2.final".into(),
    );
    let config = Config::from_sources(props, &vars).unwrap();
    assert_eq!(config.events.source_struct, SourceStructVersion::V1);
    // The spelling Debezium wrote, whatever the case given.
    assert_eq!(config.events.legacy_connector_version, "0.9.2.Final");
}

#[test]
fn an_unknown_source_struct_version_or_legacy_release_is_refused_naming_the_key() {
    let mut props = seed();
    props.set("source.struct.version", "v3");
    let text = error_text(Config::from_sources(props, &lambda_env()));
    assert!(
        text.starts_with("configuration key source.struct.version has an invalid value \"v3\""),
        "{text}"
    );
    assert!(text.contains("allowed: one of v2, v1 ("), "{text}");

    let mut props = seed();
    props.set("source.struct.version", "v1");
    props.set("source.struct.v1.connector.version", "1.9.8.Final");
    let text = error_text(Config::from_sources(props, &lambda_env()));
    assert!(
        text.contains("source.struct.v1.connector.version has an invalid value \"1.9.8.Final\""),
        "{text}"
    );
    assert!(
        text.contains("one of 1.0.3.Final, 1.0.2.Final, 1.0.1.Final, 1.0.0.Final, 0.9.5.Final, 0.9.4.Final, 0.9.3.Final, 0.9.2.Final, 0.9.1.Final, 0.9.0.Final (")
            && text.contains("transaction"),
        "{text}"
    );
}

#[test]
fn the_keys_accepted_spellings_are_the_encoders() {
    fn spellings<M: Mode>() -> Vec<&'static str> {
        M::VALUES.iter().map(|(name, _)| *name).collect()
    }
    for (key, declared) in [
        (
            &keys::SOURCE_STRUCT_VERSION,
            spellings::<SourceStructVersion>(),
        ),
        (&keys::DECIMAL_HANDLING_MODE, spellings::<DecimalMode>()),
        (&keys::TIME_PRECISION_MODE, spellings::<TimePrecisionMode>()),
        (&keys::BINARY_HANDLING_MODE, spellings::<BinaryMode>()),
        (&keys::INTERVAL_HANDLING_MODE, spellings::<IntervalMode>()),
        (&keys::HSTORE_HANDLING_MODE, spellings::<HstoreMode>()),
    ] {
        assert_eq!(key.allowed, declared.as_slice(), "{}", key.name);
    }
    assert_eq!(
        keys::SOURCE_STRUCT_V1_CONNECTOR_VERSION.allowed,
        LEGACY_CONNECTOR_VERSIONS
    );
}

#[test]
fn the_keys_defaults_are_the_types_defaults() {
    // The defaults are written in keys.rs; the types' Default (which the encoder and the relay's
    // tests use) must name the same values.
    let config = Config::from_sources(seed(), &lambda_env()).unwrap();
    assert_eq!(config.events.modes, TypeModes::default());
    assert_eq!(config.events.source_struct, SourceStructVersion::default());
    assert_eq!(config.database.ssl_mode, SslMode::default());
    assert_eq!(config.kafka.compression, Compression::default());
    assert_eq!(config.mismatch, MismatchStrategy::default());
    assert_eq!(config.filters.skipped, SkippedOperations::default());
}

#[test]
fn every_numeric_default_is_within_its_range() {
    // A default outside its range would refuse every configuration that leaves the key unset.
    let report = report_for(seed(), &lambda_env());
    for key in KEYS.iter().filter(|key| key.default.is_some()) {
        assert!(
            property(&report, key.name).errors.is_empty(),
            "{}: {report}",
            key.name
        );
    }
}

#[test]
fn the_cold_start_log_and_the_report_show_the_same_warnings() {
    let mut props = seed();
    props.set("snapshot.mode", "never");
    props.set("snapshot.max.threads", "2");
    props.set("source.struct.v1.connector.version", "0.9.2.Final");
    props.set("database.sslrootcert", "/opt/ca.pem");
    props.set("kafka.ssl.truststore.location", "/opt/ca.pem");
    props.set("kafka.sasl.username", "cdc");
    let config = Config::from_sources(props.clone(), &lambda_env()).unwrap();
    let report = report_for(props, &lambda_env());
    let keys: Vec<&str> = config.warnings().iter().map(|w| w.key).collect();
    assert_eq!(
        keys,
        [
            "snapshot.mode",
            "snapshot.max.threads",
            "source.struct.v1.connector.version",
            "database.sslrootcert",
            "kafka.ssl.truststore.location",
            "kafka.sasl.username",
        ]
    );
    for warning in config.warnings() {
        assert!(
            warning.message.contains(warning.key),
            "a logged warning names its key: {warning:?}"
        );
        assert_eq!(
            property(&report, warning.key).warnings.as_slice(),
            std::slice::from_ref(&warning.message),
            "{}",
            warning.key
        );
    }
    let shown: usize = report.configs.iter().map(|c| c.warnings.len()).sum();
    assert_eq!(shown, config.warnings().len(), "{report}");
}

#[test]
fn validate_shows_the_legacy_keys_and_warns_about_a_release_without_v1() {
    let report = report_for(seed(), &lambda_env());
    let version = property(&report, "source.struct.version");
    assert_eq!(
        (version.value.as_deref(), version.origin.as_str()),
        (Some("v2"), "default")
    );
    assert_eq!(version.recommended_values, ["v2", "v1"]);
    assert!(
        property(&report, "source.struct.v1.connector.version")
            .warnings
            .is_empty()
    );

    let mut props = seed();
    props.set("source.struct.v1.connector.version", "0.9.2.Final");
    let report = report_for(props.clone(), &lambda_env());
    assert!(report.passed, "{report}");
    let release = property(&report, "source.struct.v1.connector.version");
    assert!(
        release.warnings[0].contains("only with source.struct.version=v1"),
        "{release:?}"
    );
    let config = Config::from_sources(props.clone(), &lambda_env()).unwrap();
    assert!(
        config.warnings()[0]
            .message
            .contains("only with source.struct.version=v1")
    );

    props.set("source.struct.version", "v1");
    let report = report_for(props, &lambda_env());
    assert!(
        property(&report, "source.struct.v1.connector.version")
            .warnings
            .is_empty()
    );
}

#[test]
fn a_property_that_changes_the_output_and_is_not_implemented_is_an_error() {
    let config_of = |pairs: &[(&str, &str)]| {
        let mut props = seed();
        for (k, v) in pairs {
            props.set(k, v);
        }
        Config::from_sources(props, &lambda_env()).map(|_| ())
    };
    for (key, value) in [
        ("column.mask.with.12.chars", "public.t.card"),
        ("errors.tolerance", "all"),
        ("topic.delimiter", "_"),
    ] {
        let err = error_text(config_of(&[(key, value)]));
        assert!(
            err.contains(key) && err.contains("does not implement"),
            "{key}={value}: {err}"
        );
        assert!(!err.contains(value) || value.len() < 3, "no value in {err}");
    }
    // the same keys asking for nothing are fine
    for (key, value) in [
        ("provide.transaction.metadata", "false"),
        ("heartbeat.interval.ms", "0"),
        ("errors.tolerance", "none"),
    ] {
        assert!(config_of(&[(key, value)]).is_ok(), "{key}={value}");
    }
    // a transform walbridge has never heard of is refused, naming its type, at cold start
    let err = error_text(config_of(&[
        ("transforms", "mask"),
        ("transforms.mask.type", "com.acme.MaskCreditCards"),
    ]));
    assert!(
        err.contains("transforms.mask.type") && err.contains("com.acme.MaskCreditCards"),
        "{err}"
    );
    // one it implements loads, and its keys are not reported as ignored
    let config = config_of(&[
        ("transforms", "unwrap"),
        (
            "transforms.unwrap.type",
            "io.debezium.transforms.ExtractNewRecordState",
        ),
    ]);
    assert!(config.is_ok(), "{config:?}");
}

#[test]
fn transaction_metadata_names_its_topic_and_refuses_the_legacy_envelope() {
    let config_of = |pairs: &[(&str, &str)]| {
        let mut props = seed();
        for (k, v) in pairs {
            props.set(k, v);
        }
        Config::from_sources(props, &lambda_env())
    };
    let off = config_of(&[]).unwrap();
    assert_eq!(off.events.transaction_topic, None);
    let ignored = config_of(&[("topic.transaction", "tx")]).unwrap();
    assert_eq!(ignored.events.transaction_topic, None);
    let on = config_of(&[("provide.transaction.metadata", "true")]).unwrap();
    assert_eq!(on.events.transaction_topic.as_deref(), Some("transaction"));
    let named = config_of(&[
        ("provide.transaction.metadata", "true"),
        ("topic.transaction", "tx-meta"),
    ])
    .unwrap();
    assert_eq!(named.events.transaction_topic.as_deref(), Some("tx-meta"));
    let err = error_text(
        config_of(&[
            ("provide.transaction.metadata", "true"),
            ("topic.transaction", "tx meta"),
        ])
        .map(|_| ()),
    );
    assert!(err.contains("topic.transaction"), "{err}");
    let err = error_text(
        config_of(&[
            ("provide.transaction.metadata", "true"),
            ("source.struct.version", "v1"),
        ])
        .map(|_| ()),
    );
    assert!(
        err.contains("provide.transaction.metadata") && err.contains("does not implement"),
        "{err}"
    );
}

#[test]
fn heartbeats_name_their_topic_as_debezium_does_and_keep_the_query_out_of_prints() {
    let config_of = |pairs: &[(&str, &str)]| {
        let mut props = seed();
        for (k, v) in pairs {
            props.set(k, v);
        }
        Config::from_sources(props, &lambda_env())
    };
    let off = config_of(&[("topic.heartbeat.prefix", "hb")]).unwrap();
    assert!(off.heartbeat.is_none());
    let prefix = off.topic_prefix;

    let on = config_of(&[("heartbeat.interval.ms", "10000")]).unwrap();
    let heartbeat = on.heartbeat.as_ref().unwrap();
    assert_eq!(heartbeat.interval, std::time::Duration::from_secs(10));
    assert_eq!(heartbeat.topic, format!("__debezium-heartbeat.{prefix}"));
    assert_eq!(heartbeat.action_query, None);

    let prefixed = config_of(&[
        ("heartbeat.interval.ms", "10000"),
        ("topic.heartbeat.prefix", "beats"),
    ])
    .unwrap();
    assert_eq!(prefixed.heartbeat.unwrap().topic, format!("beats.{prefix}"));
    let named = config_of(&[
        ("heartbeat.interval.ms", "10000"),
        ("topic.heartbeat.prefix", "beats"),
        ("topic.heartbeat.name", "all-heartbeats"),
    ])
    .unwrap();
    assert_eq!(named.heartbeat.unwrap().topic, "all-heartbeats");

    for (key, value) in [
        ("topic.heartbeat.name", "all heartbeats"),
        ("topic.heartbeat.prefix", "beats/"),
        ("heartbeat.interval.ms", "-1"),
        ("heartbeat.interval.ms", "often"),
    ] {
        let mut pairs = vec![(key, value)];
        if key != "heartbeat.interval.ms" {
            pairs.push(("heartbeat.interval.ms", "1000"));
        }
        let err = error_text(config_of(&pairs).map(|_| ()));
        assert!(err.contains(key), "{key}={value}: {err}");
    }

    let query = "INSERT INTO heartbeat VALUES ('sesame-4711')";
    let with_query = config_of(&[
        ("heartbeat.interval.ms", "10000"),
        ("heartbeat.action.query", query),
    ])
    .unwrap();
    assert_eq!(
        with_query
            .heartbeat
            .as_ref()
            .unwrap()
            .action_query
            .as_deref(),
        Some(query)
    );
    let printed = format!("{with_query:?}");
    assert!(!printed.contains("sesame-4711"), "{printed}");
    assert!(
        with_query.warnings().is_empty(),
        "{:?}",
        with_query.warnings()
    );

    // as in Debezium, the query runs only with heartbeats: said, not refused
    let idle = config_of(&[("heartbeat.action.query", query)]).unwrap();
    assert!(idle.heartbeat.is_none());
    let warned: Vec<_> = idle.warnings().iter().map(|w| w.key).collect();
    assert_eq!(warned, ["heartbeat.action.query"]);
    assert!(!idle.warnings()[0].message.contains("sesame"));
}

#[test]
fn the_schedule_gives_its_period_when_it_has_one() {
    use std::time::Duration;
    let period = |expression: &str| {
        let mut vars = lambda_env();
        vars.insert("SCHEDULE_EXPRESSION".into(), expression.into());
        Config::from_sources(seed(), &vars).map(|c| c.invocation.schedule_period)
    };
    assert_eq!(
        Config::from_sources(seed(), &lambda_env())
            .unwrap()
            .invocation
            .schedule_period,
        None
    );
    assert_eq!(
        period("rate(1 minute)").unwrap(),
        Some(Duration::from_secs(60))
    );
    assert_eq!(
        period("rate(5 minutes)").unwrap(),
        Some(Duration::from_secs(300))
    );
    assert_eq!(
        period("rate(2 hours)").unwrap(),
        Some(Duration::from_secs(7_200))
    );
    assert_eq!(
        period("rate(1 day)").unwrap(),
        Some(Duration::from_secs(86_400))
    );
    assert_eq!(period("cron(0/5 * * * ? *)").unwrap(), None);
    assert_eq!(period("at(2027-01-01T00:00:00)").unwrap(), None);
    for wrong in [
        "rate(0 minutes)",
        "rate(5 seconds)",
        "every 5 minutes",
        "rate(five minutes)",
    ] {
        let text = error_text(period(wrong));
        assert!(
            text.contains("schedule.expression") && text.contains("rate(N minutes"),
            "{text}"
        );
    }
}

#[test]
fn slot_failover_is_a_boolean() {
    let mut env = lambda_env();
    env.insert("SLOT_FAILOVER".into(), "true".into());
    assert!(Config::from_sources(seed(), &env).unwrap().slot.failover);
    env.insert("SLOT_FAILOVER".into(), "yes please".into());
    let err = Config::from_sources(seed(), &env).unwrap_err().to_string();
    assert!(err.contains("slot.failover"), "{err}");
}

fn with_props(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut props = seed();
    for (key, value) in pairs {
        props.set(key, value);
    }
    Config::from_sources(props, &lambda_env())
}

#[test]
fn the_avro_converter_takes_its_registry_and_refuses_what_it_does_not_implement() {
    const AVRO: &str = "io.confluent.connect.avro.AvroConverter";
    let config = with_props(&[
        ("value.converter", AVRO),
        (
            "value.converter.schema.registry.url",
            "http://r1:8081/, http://r2:8081",
        ),
        ("value.converter.auto.register.schemas", "false"),
        ("value.converter.basic.auth.credentials.source", "USER_INFO"),
        ("value.converter.basic.auth.user.info", "sr-user:sr-pa:ss"),
    ])
    .unwrap();
    assert!(matches!(config.events.key_converter, Converter::Json));
    let avro = config.events.value_converter.avro().expect("Avro values");
    assert_eq!(avro.registry_urls, ["http://r1:8081", "http://r2:8081"]);
    assert!(!avro.auto_register);
    assert_eq!(avro.subject_strategy, SubjectStrategy::Topic);
    let strategy = |name: &str| {
        let config = with_props(&[
            ("key.converter", AVRO),
            ("key.converter.schema.registry.url", "http://r1:8081"),
            ("key.converter.key.subject.name.strategy", name),
        ])
        .unwrap();
        config.events.key_converter.avro().unwrap().subject_strategy
    };
    assert_eq!(
        strategy("io.confluent.kafka.serializers.subject.RecordNameStrategy"),
        SubjectStrategy::Record
    );
    assert_eq!(
        strategy("io.confluent.kafka.serializers.subject.TopicRecordNameStrategy"),
        SubjectStrategy::TopicRecord
    );
    let (user, password) = avro.basic_auth.as_ref().expect("basic auth");
    assert_eq!(
        (user.as_str(), password.expose_secret()),
        ("sr-user", "sr-pa:ss")
    );

    let missing = error_text(with_props(&[("key.converter", AVRO)]));
    assert!(
        missing.contains("key.converter.schema.registry.url"),
        "{missing}"
    );
    for (key, value) in [
        ("value.converter.use.latest.version", "yes"),
        (
            "value.converter.value.subject.name.strategy",
            "io.confluent.kafka.serializers.subject.SomeOtherStrategy",
        ),
        ("value.converter.schema.registry.ssl.truststore.type", "JKS"),
        (
            "value.converter.schema.registry.ssl.keystore.location",
            "/x",
        ),
        ("value.converter.schema.registry.url", "http://u:p@r1:8081"),
        ("value.converter.enhanced.avro.schema.support", "true"),
        ("value.converter.connect.meta.data", "false"),
        (
            "value.converter.schema.registry.ssl.endpoint.identification.algorithm",
            "",
        ),
    ] {
        let mut pairs = vec![("value.converter", AVRO)];
        if key != "value.converter.schema.registry.url" {
            pairs.push(("value.converter.schema.registry.url", "http://r1:8081"));
        }
        pairs.push((key, value));
        let text = error_text(with_props(&pairs));
        assert!(text.contains(key), "{key}: {text}");
    }
    let secret = error_text(with_props(&[
        ("value.converter", AVRO),
        ("value.converter.schema.registry.url", "http://r1:8081"),
        ("value.converter.basic.auth.credentials.source", "USER_INFO"),
        ("value.converter.basic.auth.user.info", "no-colon-s3cr3t"),
    ]));
    assert!(!secret.contains("no-colon-s3cr3t"), "{secret}");
    // JsonConverter ignores the AvroConverter's keys, as Kafka Connect's does
    assert!(with_props(&[("value.converter.schema.registry.url", "https://x")]).is_ok());
    let other = error_text(with_props(&[(
        "value.converter",
        "io.apicurio.registry.utils.converter.AvroConverter",
    )]));
    assert!(other.contains("value.converter"), "{other}");
}
