//! Kafka producer options against the broker under test: every `kafka.compression.type` codec
//! reaches an independent consumer (librdkafka) intact (a record wider than a compression block and a
//! long header name too), and a record larger than
//! `kafka.max.request.size` stops the invocation with the setting named, moving nothing.

use walbridge_relay::{PublishError, RelayError};
use walbridge_tests::{self as env, Broker};

use crate::case::{Case, invoke, try_invoke, value};

#[tokio::test]
async fn every_compression_codec_reaches_an_independent_consumer() {
    let case = Case::new(
        "compression",
        "CREATE TABLE {s}.none(id int PRIMARY KEY, v text); CREATE TABLE {s}.gzip(LIKE {s}.none INCLUDING ALL); \
         CREATE TABLE {s}.snappy(LIKE {s}.none INCLUDING ALL); CREATE TABLE {s}.lz4(LIKE {s}.none INCLUDING ALL); \
         CREATE TABLE {s}.zstd(LIKE {s}.none INCLUDING ALL)",
    )
    .await;
    let mut codecs = vec!["none", "gzip", "snappy", "lz4", "zstd"];
    if env::broker() == Broker::Tansu {
        // tansu 0.6.0 refuses snappy batches (UnexpectedType("Snappy")): see test-services.md.
        codecs.retain(|codec| *codec != "snappy");
    }
    // A header name longer than most and a record wider than an LZ4 block (64 KiB): each record's
    // length is counted before it is written, and LZ4 takes a batch in whole blocks.
    let header = "walbridge.test.a-header-name-longer-than-the-context-headers-of-debezium";
    for codec in &codecs {
        case.sql(&format!(
            "INSERT INTO {{s}}.{codec} SELECT i, repeat('{codec} ', 50) FROM generate_series(1, 20) i; \
             INSERT INTO {{s}}.{codec} SELECT 21, string_agg(md5(g::text), '') FROM generate_series(1, 5000) g"
        ))
        .await;
        let table = format!("{}.{codec}", case.schema);
        let report = invoke(case.config(&[
            ("kafka.compression.type", codec),
            ("table.include.list", &table),
            ("transforms", "header"),
            (
                "transforms.header.type",
                "org.apache.kafka.connect.transforms.InsertHeader",
            ),
            ("transforms.header.header", header),
            ("transforms.header.value.literal", codec),
        ]))
        .await;
        assert_eq!(report.events, 21, "{codec}: {report:?}");
        let records = env::read_topic(&case.topic(codec), 21);
        assert_eq!(records.len(), 21, "{codec}");
        let mut values: Vec<(i64, String)> = records
            .iter()
            .map(|r| {
                let after = &value(r)["after"];
                (
                    after["id"].as_i64().unwrap(),
                    after["v"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        values.sort_unstable();
        let sizes: Vec<_> = values.iter().map(|(id, v)| (*id, v.len())).collect();
        let narrow = format!("{codec} ").len() * 50;
        let expected: Vec<_> = (1..=21)
            .map(|id| (id, if id == 21 { 5000 * 32 } else { narrow }))
            .collect();
        assert_eq!(sizes, expected, "{codec}: values arrive whole");
        assert!(
            values[..20]
                .iter()
                .all(|(_, v)| v.starts_with(&format!("{codec} {codec} "))),
            "{codec}: values arrive intact"
        );
        for record in &records {
            assert!(
                record
                    .headers
                    .contains(&(header.to_owned(), Some(codec.as_bytes().to_vec()))),
                "{codec}: the long header on every record: {:?}",
                record.headers
            );
        }
    }
    case.drop_slot().await;
}

#[tokio::test]
async fn a_record_larger_than_max_request_size_fails_with_the_setting_named() {
    let case = Case::new(
        "too_large",
        "CREATE TABLE {s}.t(id int PRIMARY KEY, v text)",
    )
    .await;
    case.sql("INSERT INTO {s}.t VALUES (1, repeat('x', 4000))")
        .await;
    let before = case.confirmed_flush_lsn().await;
    let err = try_invoke(case.config(&[("kafka.max.request.size", "2048")]))
        .await
        .expect_err("a 4 kB record does not fit 2 kB requests");
    assert!(
        matches!(
            err,
            RelayError::Publish(PublishError::TooLarge { max: 2048, .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("kafka.max.request.size"), "{err}");
    assert_eq!(
        case.confirmed_flush_lsn().await,
        before,
        "the slot did not move"
    );

    // With room, the same change goes through.
    let report = invoke(case.config(&[("kafka.max.request.size", "65536")])).await;
    assert_eq!(report.events, 1);
    case.drop_slot().await;
}
