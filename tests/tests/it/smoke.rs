//! Each test service is real: PostgreSQL decodes with wal2json, the broker keeps keys, values and
//! partitions as an independent client sees them, and the object store refuses stale conditional writes.

use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::ByteStream;
use rskafka::client::partition::{Compression, UnknownTopicHandling};
use rskafka::record::{Record, RecordHeader};
use walbridge_tests as env;

#[tokio::test]
async fn wal2json_slot_returns_the_change_the_test_wrote() {
    let pg = env::pg().await;
    let schema = env::unique("smoke");
    let slot = format!("{schema}_slot");
    let _cleanup = env::PgCleanup::new(&schema);
    pg.batch_execute(&format!(
        "CREATE SCHEMA {schema}; CREATE TABLE {schema}.t (id int PRIMARY KEY, note text)"
    ))
    .await
    .unwrap();
    pg.execute(
        "SELECT pg_create_logical_replication_slot($1, 'wal2json')",
        &[&slot],
    )
    .await
    .unwrap();
    pg.execute(&format!("INSERT INTO {schema}.t VALUES (42, 'héllo')"), &[])
        .await
        .unwrap();

    let rows = pg
        .query(
            "SELECT data FROM pg_logical_slot_peek_changes($1, NULL, NULL, 'format-version', '2', \
             'include-pk', '1', 'include-type-oids', '1')",
            &[&slot],
        )
        .await
        .unwrap();
    pg.execute("SELECT pg_drop_replication_slot($1)", &[&slot])
        .await
        .unwrap();
    pg.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();

    let changes: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| serde_json::from_str(row.get::<_, &str>(0)).unwrap())
        .filter(|change: &serde_json::Value| change["action"] == "I")
        .collect();
    assert_eq!(changes.len(), 1, "one insert decoded: {changes:?}");
    let insert = &changes[0];
    assert_eq!(insert["schema"], schema.as_str());
    assert_eq!(insert["table"], "t");
    assert_eq!(insert["columns"][0]["value"], 42);
    assert_eq!(insert["columns"][1]["value"], "héllo");
    assert_eq!(insert["columns"][0]["typeoid"], 23);
    assert_eq!(insert["pk"][0]["name"], "id");
}

#[tokio::test]
async fn records_produced_with_rskafka_are_read_back_by_the_independent_client() {
    let client = env::kafka().await;
    let topic = env::unique("smoke");
    env::create_topic(&client, &topic, 3).await;

    let mut expected = Vec::new();
    for partition in 0..3 {
        let producer = client
            .partition_client(&topic, partition, UnknownTopicHandling::Retry)
            .await
            .unwrap();
        let records: Vec<Record> = (0..4)
            .map(|i| Record {
                key: Some(format!("{{\"id\":{partition}{i}}}").into_bytes()),
                value: (i != 3).then(|| {
                    format!("{{\"p\":{partition},\"i\":{i},\"s\":\"ünïcode\"}}").into_bytes()
                }),
                headers: vec![RecordHeader {
                    key: "h".into(),
                    value: vec![partition as u8, i as u8].into(),
                }],
                timestamp: chrono::Utc::now(),
            })
            .collect();
        for record in &records {
            expected.push((partition, record.key.clone(), record.value.clone()));
        }
        let offsets = producer
            .produce(records, Compression::NoCompression)
            .await
            .unwrap();
        assert_eq!(
            offsets,
            vec![0, 1, 2, 3],
            "offsets in partition {partition}"
        );
    }

    let read = env::read_topic(&topic, expected.len());
    let got: Vec<_> = read
        .iter()
        .map(|r| (r.partition, r.key.clone(), r.value.clone()))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(read[5].headers, vec![("h".to_owned(), Some(vec![1, 1]))]);
    assert!(
        read[3].value.is_none(),
        "a null value stays null (tombstone)"
    );
}

/// HTTP 412: the store refused the write because its condition did not hold.
fn precondition_failed<T, E: std::fmt::Debug>(
    result: &Result<T, SdkError<E, aws_sdk_s3::config::http::HttpResponse>>,
) -> bool {
    let status = result
        .as_ref()
        .err()
        .and_then(SdkError::raw_response)
        .map(|raw| raw.status().as_u16());
    status == Some(412)
}

#[tokio::test]
async fn object_store_refuses_stale_conditional_writes() {
    let s3 = env::s3().await;
    let bucket = env::bucket();
    let key = format!("{}/checkpoint.json", env::unique("smoke"));
    let put = |body: &'static str| {
        s3.put_object()
            .bucket(&bucket)
            .key(&key)
            .body(ByteStream::from_static(body.as_bytes()))
    };

    let first = put("one")
        .if_none_match("*")
        .send()
        .await
        .expect("first create succeeds");
    let etag = first.e_tag().expect("an ETag").to_owned();

    let again = put("two").if_none_match("*").send().await;
    assert!(
        precondition_failed(&again),
        "a second create is refused with 412: {again:?}"
    );

    let replaced = put("three")
        .if_match(&etag)
        .send()
        .await
        .expect("If-Match with the current ETag succeeds");
    let stale = put("four").if_match(&etag).send().await;
    assert!(
        precondition_failed(&stale),
        "If-Match with a stale ETag is refused with 412: {stale:?}"
    );

    let body = s3
        .get_object()
        .bucket(&bucket)
        .key(&key)
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap();
    assert_eq!(body.into_bytes().as_ref(), b"three");
    assert_ne!(replaced.e_tag(), Some(etag.as_str()));
    s3.delete_object()
        .bucket(&bucket)
        .key(&key)
        .send()
        .await
        .unwrap();
}
