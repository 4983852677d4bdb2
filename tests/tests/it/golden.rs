//! Golden cases: `tests/golden/<case>.json` holds a table, a workload, connector properties and the
//! records Debezium 3.7.1 writes for them — key bytes, value bytes, partition — written by hand from
//! Debezium's documented rules and the reference samples (Debezium 3.6.3's, moved to 3.7.1's bytes
//! where the running 3.7.1 of the differential test writes others: `source.version`, a `date` at
//! `infinity`, a `timestamp(3)` at `-infinity`), never produced by walbridge. The test runs
//! walbridge on the real services and compares what the independent client reads back from Kafka.
//!
//! In expected texts, `{s}`, `{prefix}` and `{db}` stand for the case's schema, topic prefix and
//! database, `{prefix_avro}` for the prefix as Debezium's Avro schema-name adjuster wrote it (every
//! character outside `[A-Za-z0-9_.]` replaced by `_`: the legacy cases' schema names); `<n>` matches what belongs to the run, not to the rules (commit times, `txId`, LSNs,
//! processing times): one JSON integer or `null`. `"partition": "murmur2"` means Kafka's default
//! partitioner over the expected key bytes, computed here from Kafka's `Utils.murmur2` as its
//! documentation gives it (independently of walbridge's own partitioner).

use serde_json::Value;
use walbridge_tests::{self as env, KafkaRecord};

use crate::case::{Case, invoke};

const PARTITIONS: i32 = 3;

#[tokio::test]
async fn golden_numeric_shapes() {
    run("numeric_shapes").await;
}

#[tokio::test]
async fn golden_temporal() {
    run("temporal").await;
}

#[tokio::test]
async fn golden_floats_bits_enums_bytes() {
    run("floats_bits_enums_bytes").await;
}

#[tokio::test]
async fn golden_arrays() {
    run("arrays").await;
}

#[tokio::test]
async fn golden_toast_default_identity() {
    run("toast_default_identity").await;
}

#[tokio::test]
async fn golden_toast_full_identity() {
    run("toast_full_identity").await;
}

#[tokio::test]
async fn golden_schemas_on_with_string_modes() {
    run("schemas_on_string_modes").await;
}

// Legacy consumers: source.struct.version=v1, the wal2json era's events (Debezium 0.9/1.0).

#[tokio::test]
async fn golden_legacy_seed_guide_sample() {
    run("legacy_seed_guide").await;
}

#[tokio::test]
async fn golden_legacy_default_identity() {
    run("legacy_default_identity").await;
}

#[tokio::test]
async fn golden_legacy_full_identity_schemas_on() {
    run("legacy_full_identity_schemas_on").await;
}

#[tokio::test]
async fn golden_legacy_snapshot() {
    run("legacy_snapshot").await;
}

async fn run(name: &str) {
    let path = format!("{}/golden/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let golden: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let case = Case::new(&format!("golden_{name}"), golden["ddl"].as_str().unwrap()).await;
    let table = golden["table"].as_str().unwrap();
    let kafka = env::kafka().await;
    env::create_topic(&kafka, &case.topic(table), PARTITIONS).await;
    for sql in golden["workload"].as_array().unwrap() {
        case.sql(sql.as_str().unwrap()).await;
    }
    let extra: Vec<(String, String)> = golden["config"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    let extra: Vec<(&str, &str)> = extra
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    // Boxed: the invocation's future (a whole Config and the relay inside) would make every
    // golden test's future larger than clippy's large_futures limit.
    let report = Box::pin(invoke(case.config(&extra))).await;
    assert!(report.caught_up, "{report:?}");

    let expected = golden["records"].as_array().unwrap();
    let records = env::read_topic(&case.topic(table), expected.len());
    let db = env::var("PGDATABASE");
    let fill = |t: &str| {
        t.replace("{prefix_avro}", &avro_name(&case.prefix))
            .replace("{s}", &case.schema)
            .replace("{prefix}", &case.prefix)
            .replace("{db}", &db)
    };
    assert_eq!(
        records.len(),
        expected.len(),
        "{name}: record count; read {:#?}",
        records.iter().map(show).collect::<Vec<_>>()
    );
    for (i, (got, want)) in records.iter().zip(expected).enumerate() {
        let key = want["key"].as_str().map(fill);
        assert_eq!(
            got.key_str().map(str::to_owned),
            key,
            "{name} #{i}: key bytes"
        );
        let partition = match &want["partition"] {
            Value::String(s) if s == "murmur2" => {
                let key = key.as_deref().expect("murmur2 needs a key");
                (murmur2(key.as_bytes()) & 0x7fff_ffff) % PARTITIONS
            }
            p => p.as_i64().expect("partition: a number or \"murmur2\"") as i32,
        };
        assert_eq!(got.partition, partition, "{name} #{i}: partition");
        let value = match &want["value"] {
            Value::Null => None,
            Value::Array(parts) => Some(fill(
                &parts
                    .iter()
                    .map(|p| p.as_str().unwrap())
                    .collect::<String>(),
            )),
            v => Some(fill(v.as_str().unwrap())),
        };
        let got_value = got
            .value
            .as_deref()
            .map(|v| String::from_utf8(v.to_vec()).unwrap());
        match (&got_value, &value) {
            (None, None) => {}
            (Some(g), Some(w)) => assert!(
                matches(w, g),
                "{name} #{i}: value bytes differ\n  expected {w}\n  got      {g}"
            ),
            _ => panic!("{name} #{i}: value {got_value:?}, expected {value:?}"),
        }
    }
    case.drop_slot().await;
}

/// `name` with every character outside `[A-Za-z0-9_.]` replaced by `_` (Avro's rule for a full name
/// as Debezium's `SchemaNameAdjuster` applied it; test prefixes start with a letter).
fn avro_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn show(r: &KafkaRecord) -> String {
    format!(
        "p{} key {:?} value {:?}",
        r.partition,
        r.key_str(),
        r.value.as_deref().map(String::from_utf8_lossy)
    )
}

/// `expected` with every `<n>` matching one JSON integer or `null`, everything else byte for byte.
fn matches(expected: &str, got: &str) -> bool {
    let mut rest = got;
    let mut parts = expected.split("<n>");
    let Some(first) = parts.next() else {
        return got.is_empty();
    };
    let Some(r) = rest.strip_prefix(first) else {
        return false;
    };
    rest = r;
    for part in parts {
        if let Some(r) = rest.strip_prefix("null") {
            rest = r;
        } else {
            let r = rest.strip_prefix('-').unwrap_or(rest);
            let digits = r.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return false;
            }
            rest = &r[digits..];
        }
        let Some(r) = rest.strip_prefix(part) else {
            return false;
        };
        rest = r;
    }
    rest.is_empty()
}

/// Kafka's `Utils.murmur2` (clients/src/main/java/org/apache/kafka/common/utils/Utils.java).
fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    let mut h = SEED ^ data.len() as u32;
    let chunks = data.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> 24;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M) ^ k;
    }
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

#[test]
fn murmur2_matches_kafkas_test_vectors() {
    // UtilsTest and the reference's own vectors
    assert_eq!(murmur2(b"21"), -973_932_308);
    assert_eq!(murmur2(b"foobar"), -790_332_482);
    assert_eq!(murmur2(b"abc"), 479_470_107);
    assert_eq!(murmur2(br#"{"id":1}"#), -56_768_732);
    assert_eq!(murmur2(br#"{"id":2}"#), -1_705_675_864);
}

#[test]
fn placeholders_match_numbers_and_null_only() {
    assert!(matches(r#"{"a":<n>,"b":<n>}"#, r#"{"a":-12,"b":null}"#));
    assert!(!matches(r#"{"a":<n>}"#, r#"{"a":"x"}"#));
    assert!(!matches(r#"{"a":1}"#, r#"{"a":1} "#));
}
