//! Decode + encode cost of one typical change: a wal2json insert of a 5-column row into a Debezium value,
//! schemas off and on. Prints ns/change besides criterion's report.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use walbridge_event::envelope::{EncoderConfig, SourceInfo, TableEncoder};
use walbridge_event::wal2json::{self, Row};
use walbridge_event::{ColumnSchema, Lsn, ReplicaIdentity, TableSchema};

const INSERT: &str = r#"{"action":"I","xid":732,"timestamp":"2026-11-26 15:55:18.631132+00","lsn":"0/1546140","schema":"inventory","table":"customers","columns":[{"name":"id","type":"integer","typeoid":23,"value":1001,"optional":false},{"name":"first_name","type":"character varying(40)","typeoid":1043,"value":"Sally","optional":false},{"name":"email","type":"text","typeoid":25,"value":"sally@example.com","optional":true},{"name":"balance","type":"numeric(12,2)","typeoid":1700,"value":1500.75,"optional":false},{"name":"created_at","type":"timestamp with time zone","typeoid":1184,"value":"2024-03-01 09:15:00.5+00","optional":true}],"pk":[{"name":"id","type":"integer","typeoid":23}]}"#;

fn encoder(schemas: bool) -> TableEncoder {
    let schema = TableSchema::new(
        "inventory",
        "customers",
        vec![
            ColumnSchema::new("id", "integer", 23, true),
            ColumnSchema::new("first_name", "character varying(40)", 1043, true),
            ColumnSchema::new("email", "text", 25, false),
            ColumnSchema::new("balance", "numeric(12,2)", 1700, true).with_default("0"),
            ColumnSchema::new("created_at", "timestamp with time zone", 1184, false),
        ],
        &["id"],
        ReplicaIdentity::Default,
    )
    .expect("valid schema");
    let config = EncoderConfig::new("walbridge", "postgres").with_schemas(schemas, schemas);
    TableEncoder::new(&schema, &config).expect("encoder")
}

fn one(enc: &TableEncoder, buf: &mut Vec<u8>) -> usize {
    buf.clear();
    let Ok(Row::Change(change)) = wal2json::decode(black_box(INSERT)) else {
        panic!("bench row must decode")
    };
    let source = SourceInfo {
        commit_time_us: change.commit_time_us.unwrap_or(0),
        tx_id: change.xid,
        lsn: change.lsn.unwrap_or(Lsn(0)),
        last_commit_lsn: Some(Lsn(0x154_6000)),
    };
    let out = enc
        .encode(&change, &source, 1_795_708_164_520_353, buf)
        .expect("encodes");
    out.len() + buf.len()
}

/// CPU time of this thread in ns (Linux `schedstat`), so the figure holds on a busy machine too.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

fn report_ns_per_change(name: &str, enc: &TableEncoder) {
    let mut buf = Vec::with_capacity(8192);
    // WALBRIDGE_BENCH_ITERS lowers the count for instruction counting under valgrind.
    let n: u32 = std::env::var("WALBRIDGE_BENCH_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500_000);
    for _ in 0..n / 25 {
        black_box(one(enc, &mut buf));
    }
    let cpu = thread_cpu_ns();
    let t = Instant::now();
    for _ in 0..n {
        black_box(one(enc, &mut buf));
    }
    let wall = t.elapsed().as_nanos() as f64 / f64::from(n);
    let cpu = match (cpu, thread_cpu_ns()) {
        (Some(a), Some(b)) => format!("{:.0} ns/change CPU, ", (b - a) as f64 / f64::from(n)),
        _ => String::new(),
    };
    println!(
        "{name}: {cpu}{wall:.0} ns/change wall (decode + encode, {} output bytes)",
        buf.len()
    );
}

fn bench(c: &mut Criterion) {
    for (name, schemas) in [("insert_schemas_off", false), ("insert_schemas_on", true)] {
        let enc = encoder(schemas);
        let mut buf = Vec::with_capacity(8192);
        c.bench_function(name, |b| b.iter(|| one(&enc, &mut buf)));
        report_ns_per_change(name, &enc);
    }
    let mut group = c.benchmark_group("parts");
    group.bench_function("decode_only", |b| {
        b.iter(|| wal2json::decode(black_box(INSERT)).map(|r| matches!(r, Row::Change(_))))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
