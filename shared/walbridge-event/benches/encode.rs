//! Decode + encode cost of typical changes, printed as ns/change besides criterion's report:
//!
//! * `txn_*`: one single-row-insert transaction as the relay sees it — the `B`, `I` and `C` rows decoded,
//!   the `I` row encoded — for the 4-column table of the relay profile (`prof.t`), schemas off and on.
//! * `insert_*`: a 5-column insert row alone (decode + encode), schemas off and on.
//! * `pgoutput_txn_*`: the same transaction as `txn_*` as pgoutput writes it (Begin, Insert, Commit
//!   messages, the table's Relation message decoded once before), schemas off and on.
//!
//! `WALBRIDGE_BENCH_REPORT_ONLY=txn_schemas_off` (any part of a name; `_` for all) prints only the ns/change
//! lines, and `WALBRIDGE_BENCH_ITERS` sets their iteration count: together, for callgrind.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_main};
use walbridge_event::envelope::{EncoderConfig, SourceInfo, TableEncoder};
use walbridge_event::pgoutput::{Decoded, Decoder, TypeNames};
use walbridge_event::wal2json::{self, Row};
use walbridge_event::{ColumnSchema, Lsn, ReplicaIdentity, TableSchema};

const INSERT: &str = r#"{"action":"I","xid":732,"timestamp":"2026-11-26 15:55:18.631132+00","lsn":"0/1546140","schema":"inventory","table":"customers","columns":[{"name":"id","type":"integer","typeoid":23,"value":1001,"optional":false},{"name":"first_name","type":"character varying(40)","typeoid":1043,"value":"Sally","optional":false},{"name":"email","type":"text","typeoid":25,"value":"sally@example.com","optional":true},{"name":"balance","type":"numeric(12,2)","typeoid":1700,"value":1500.75,"optional":false},{"name":"created_at","type":"timestamp with time zone","typeoid":1184,"value":"2024-03-01 09:15:00.5+00","optional":true}],"pk":[{"name":"id","type":"integer","typeoid":23}]}"#;

/// The rows of one transaction of the relay profile (PostgreSQL 15 + wal2json 2.5, the pipeline's options).
const TXN: [&str; 3] = [
    r#"{"action":"B","xid":759,"timestamp":"2026-11-26 16:17:57.841543+00","lsn":"0/1968F10","nextlsn":"0/1968F40"}"#,
    r#"{"action":"I","xid":759,"timestamp":"2026-11-26 16:17:57.841543+00","lsn":"0/1968E78","schema":"prof","table":"t","columns":[{"name":"id","type":"integer","typeoid":23,"value":1},{"name":"name","type":"text","typeoid":25,"value":"customer 1","optional":false},{"name":"balance","type":"numeric(10,2)","typeoid":1700,"value":1.25},{"name":"created_at","type":"timestamp with time zone","typeoid":1184,"value":"2024-01-15 10:30:00+00"}],"pk":[{"name":"id","type":"integer","typeoid":23}]}"#,
    r#"{"action":"C","xid":759,"timestamp":"2026-11-26 16:17:57.841543+00","lsn":"0/1968F10","nextlsn":"0/1968F40"}"#,
];

fn insert_encoder(schemas: bool) -> TableEncoder {
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

fn txn_encoder(schemas: bool) -> TableEncoder {
    let schema = TableSchema::new(
        "prof",
        "t",
        vec![
            ColumnSchema::new("id", "integer", 23, true),
            ColumnSchema::new("name", "text", 25, true),
            ColumnSchema::new("balance", "numeric(10,2)", 1700, false),
            ColumnSchema::new("created_at", "timestamp with time zone", 1184, false),
        ],
        &["id"],
        ReplicaIdentity::Default,
    )
    .expect("valid schema");
    let config = EncoderConfig::new("walbridge", "postgres").with_schemas(schemas, schemas);
    TableEncoder::new(&schema, &config).expect("encoder")
}

fn encode_change(
    enc: &TableEncoder,
    row: Row<'_>,
    last_commit: Option<Lsn>,
    buf: &mut Vec<u8>,
) -> usize {
    let Row::Change(change) = row else {
        panic!("bench row must be a change")
    };
    let source = SourceInfo {
        commit_time_us: change.commit_time_us.unwrap_or(0),
        tx_id: change.xid,
        lsn: change.lsn.unwrap_or(Lsn(0)),
        last_commit_lsn: last_commit,
        transaction: None,
    };
    let out = enc
        .encode(&change, &source, 1_795_708_164_520_353, buf)
        .expect("encodes");
    out.len() + buf.len()
}

/// The 5-column insert row alone: decode + encode.
fn one_insert(enc: &TableEncoder, buf: &mut Vec<u8>) -> usize {
    buf.clear();
    let row = wal2json::decode(black_box(INSERT)).expect("bench row decodes");
    encode_change(enc, row, Some(Lsn(0x154_6000)), buf)
}

/// One transaction: `B` decoded, `I` decoded and encoded, `C` decoded (what the relay does per change).
fn one_txn(enc: &TableEncoder, buf: &mut Vec<u8>) -> usize {
    buf.clear();
    let Ok(Row::Begin(begin)) = wal2json::decode(black_box(TXN[0])) else {
        panic!("B row must decode")
    };
    let row = wal2json::decode(black_box(TXN[1])).expect("I row decodes");
    let n = encode_change(enc, row, Some(Lsn(0x196_8E00)), buf);
    let Ok(Row::Commit(commit)) = wal2json::decode(black_box(TXN[2])) else {
        panic!("C row must decode")
    };
    n + begin.xid.map_or(0, |x| x as usize) + commit.next_lsn.map_or(0, |l| l.0 as usize)
}

/// `TXN` as pgoutput (protocol 1) writes it: the table's Relation message, then Begin, Insert and
/// Commit; and the type names a Relation message needs.
fn pgoutput_txn() -> (Vec<u8>, [Vec<u8>; 3], TypeNames) {
    fn name(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }
    let columns: [(&str, u32, i32, &str); 4] = [
        ("id", 23, -1, "integer"),
        ("name", 25, -1, "text"),
        ("balance", 1700, (10 << 16 | 2) + 4, "numeric(10,2)"),
        ("created_at", 1184, -1, "timestamp with time zone"),
    ];
    let mut types = TypeNames::default();
    let mut relation = vec![b'R'];
    relation.extend_from_slice(&16_384u32.to_be_bytes());
    name(&mut relation, "prof");
    name(&mut relation, "t");
    relation.push(b'd');
    relation.extend_from_slice(&4u16.to_be_bytes());
    for (i, (column, oid, typmod, type_name)) in columns.into_iter().enumerate() {
        relation.push(u8::from(i == 0));
        name(&mut relation, column);
        relation.extend_from_slice(&oid.to_be_bytes());
        relation.extend_from_slice(&typmod.to_be_bytes());
        types.insert(oid, typmod, type_name.to_owned());
    }
    let mut begin = vec![b'B'];
    begin.extend_from_slice(&0x196_8F10u64.to_be_bytes());
    begin.extend_from_slice(&848_074_677_841_543i64.to_be_bytes());
    begin.extend_from_slice(&759u32.to_be_bytes());
    let mut insert = vec![b'I'];
    insert.extend_from_slice(&16_384u32.to_be_bytes());
    insert.push(b'N');
    insert.extend_from_slice(&4u16.to_be_bytes());
    for value in ["1", "customer 1", "1.25", "2024-01-15 10:30:00+00"] {
        insert.push(b't');
        insert.extend_from_slice(&(value.len() as u32).to_be_bytes());
        insert.extend_from_slice(value.as_bytes());
    }
    let mut commit = vec![b'C', 0];
    commit.extend_from_slice(&0x196_8F10u64.to_be_bytes());
    commit.extend_from_slice(&0x196_8F40u64.to_be_bytes());
    commit.extend_from_slice(&848_074_677_841_543i64.to_be_bytes());
    (relation, [begin, insert, commit], types)
}

/// One pgoutput transaction: Begin, Insert, Commit decoded, the Insert encoded.
fn one_pgoutput_txn(
    enc: &TableEncoder,
    decoder: &mut Decoder,
    messages: &[Vec<u8>; 3],
    types: &TypeNames,
    buf: &mut Vec<u8>,
) -> usize {
    buf.clear();
    let mut n = 0;
    for message in messages {
        match decoder.decode(black_box(message), Lsn(0x196_8E78), types) {
            Ok(Decoded::Row(Row::Change(change))) => {
                n += encode_change(enc, Row::Change(change), Some(Lsn(0x196_8E00)), buf);
            }
            Ok(Decoded::Row(Row::Begin(t) | Row::Commit(t))) => {
                n += t.xid.map_or(0, |x| x as usize);
            }
            _ => panic!("messages decode"),
        }
    }
    n
}

/// Decode only, all three rows of the transaction.
fn decode_txn() -> usize {
    TXN.iter()
        .map(|row| match wal2json::decode(black_box(row)) {
            Ok(Row::Change(c)) => c.columns.len(),
            Ok(_) => 1,
            Err(_) => panic!("rows decode"),
        })
        .sum()
}

/// CPU time of this thread in ns (Linux `schedstat`), so the figure holds on a busy machine too.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

fn report_ns_per_change(name: &str, what: &str, mut f: impl FnMut(&mut Vec<u8>) -> usize) {
    let mut buf = Vec::with_capacity(8192);
    // WALBRIDGE_BENCH_ITERS lowers the count for instruction counting under valgrind.
    let n: u32 = std::env::var("WALBRIDGE_BENCH_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500_000);
    for _ in 0..n / 25 {
        black_box(f(&mut buf));
    }
    let cpu = thread_cpu_ns();
    let t = Instant::now();
    for _ in 0..n {
        black_box(f(&mut buf));
    }
    let wall = t.elapsed().as_nanos() as f64 / f64::from(n);
    let cpu = match (cpu, thread_cpu_ns()) {
        (Some(a), Some(b)) => format!("{:.0} ns/change CPU, ", (b - a) as f64 / f64::from(n)),
        _ => String::new(),
    };
    println!(
        "{name}: {cpu}{wall:.0} ns/change wall ({what}, {} output bytes)",
        buf.len()
    );
}

fn bench(c: &mut Criterion) {
    // WALBRIDGE_BENCH_REPORT_ONLY=<part of a name> skips criterion and prints only the ns/change lines whose
    // name contains it (for callgrind: `WALBRIDGE_BENCH_REPORT_ONLY=txn_schemas_off`; `_` for all).
    let report_only = std::env::var("WALBRIDGE_BENCH_REPORT_ONLY").ok();
    let wanted = |name: &str| report_only.as_deref().is_none_or(|f| name.contains(f));
    for (name, schemas) in [("txn_schemas_off", false), ("txn_schemas_on", true)] {
        if !wanted(name) {
            continue;
        }
        let enc = txn_encoder(schemas);
        if report_only.is_none() {
            let mut buf = Vec::with_capacity(8192);
            c.bench_function(name, |b| b.iter(|| one_txn(&enc, &mut buf)));
        }
        report_ns_per_change(name, "B + I + C decoded, I encoded", |buf| {
            one_txn(&enc, buf)
        });
    }
    for (name, schemas) in [
        ("pgoutput_txn_schemas_off", false),
        ("pgoutput_txn_schemas_on", true),
    ] {
        if !wanted(name) {
            continue;
        }
        let enc = txn_encoder(schemas);
        let (relation, messages, types) = pgoutput_txn();
        let mut decoder = Decoder::default();
        decoder
            .decode(&relation, Lsn(0x196_8E00), &types)
            .expect("the Relation message decodes");
        if report_only.is_none() {
            let mut buf = Vec::with_capacity(8192);
            c.bench_function(name, |b| {
                b.iter(|| one_pgoutput_txn(&enc, &mut decoder, &messages, &types, &mut buf))
            });
        }
        report_ns_per_change(
            name,
            "Begin + Insert + Commit decoded, Insert encoded",
            |buf| one_pgoutput_txn(&enc, &mut decoder, &messages, &types, buf),
        );
    }
    for (name, schemas) in [("insert_schemas_off", false), ("insert_schemas_on", true)] {
        if !wanted(name) {
            continue;
        }
        let enc = insert_encoder(schemas);
        if report_only.is_none() {
            let mut buf = Vec::with_capacity(8192);
            c.bench_function(name, |b| b.iter(|| one_insert(&enc, &mut buf)));
        }
        report_ns_per_change(name, "I decoded + encoded", |buf| one_insert(&enc, buf));
    }
    if report_only.is_some() {
        return;
    }
    let mut group = c.benchmark_group("parts");
    group.bench_function("decode_only", |b| {
        b.iter(|| wal2json::decode(black_box(INSERT)).map(|r| matches!(r, Row::Change(_))))
    });
    group.bench_function("decode_txn_only", |b| b.iter(decode_txn));
    for (name, row) in [("decode_begin", TXN[0]), ("decode_insert_4col", TXN[1])] {
        group.bench_function(name, |b| {
            b.iter(|| wal2json::decode(black_box(row)).is_ok())
        });
    }
    let enc = txn_encoder(false);
    let Ok(Row::Change(change)) = wal2json::decode(TXN[1]) else {
        panic!("I row decodes")
    };
    let source = SourceInfo {
        commit_time_us: change.commit_time_us.unwrap_or(0),
        tx_id: change.xid,
        lsn: change.lsn.unwrap_or(Lsn(0)),
        last_commit_lsn: Some(Lsn(0x196_8E00)),
        transaction: None,
    };
    let mut buf = Vec::with_capacity(8192);
    group.bench_function("encode_insert_4col_schemas_off", |b| {
        b.iter(|| {
            buf.clear();
            enc.encode(black_box(&change), &source, 1_795_708_164_520_353, &mut buf)
                .map(|e| e.len())
        })
    });
    group.finish();
}

// criterion's macro declares `pub fn benches`, which cannot carry a doc comment.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::bench);
}
criterion_main!(group::benches);
