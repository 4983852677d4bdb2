#!/usr/bin/env python3
"""walbridge's snapshot benchmark (run it with ./scripts/bench --snapshot [ROWS]).

Fills a table of its own with ROWS rows (default 1 000 000), then measures in one run:
  (a) one release `walbridge invoke` with snapshot.mode=initial on a fresh slot and checkpoint: every
      row published as an `op: "r"` event to a Kafka broker of its own (noida-db; with --debezium the
      suite's Apache Kafka, Debezium's), acknowledged and
      checkpointed chunk by chunk; rows per second from the first to the last record (Kafka record
      timestamps) and over the whole invocation, CPU per row, peak RSS;
  (b) the same snapshot cut into short invocations (invocation.time.budget.ms, default 3 000 ms), each
      a new process that resumes from the checkpoint: rows per invocation-second;
and, with --debezium, (c) the initial snapshot of the same table by the real Debezium 3.7.1 in the
suite's Kafka Connect worker, to the same broker (its own pgoutput slot, created by Debezium with an
exported snapshot), printed beside (a) as a Markdown table (Debezium's CPU and peak RSS: the warm
worker JVM's during the run, see relay_bench.py). Targets: (a) >= 100 000 rows/s and >= 5x Debezium; RSS bounded by the chunk, not the
table.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
import shutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from relay_bench import (drop_run, kafka_connect, machine, psql, run_debezium,  # noqa: E402
                         start_noida, stop_noida, topic_span_ms)

WRAPPER = ("import json, resource, subprocess, sys\n"
           "done = subprocess.run(sys.argv[2:], capture_output=True, text=True)\n"
           "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
           "json.dump({'user': u.ru_utime, 'sys': u.ru_stime, 'maxrss_kib': u.ru_maxrss,\n"
           "           'stdout': done.stdout, 'stderr': done.stderr[-4000:]}, open(sys.argv[1], 'w'))\n"
           "sys.exit(done.returncode)\n")


def invoke(walbridge, env, work):
    """One `walbridge invoke` in a wrapper whose only child it is: (report, rusage, seconds)."""
    usage_file = os.path.join(work, "rusage.json")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", WRAPPER, usage_file, walbridge, "invoke"], env=env)
    seconds = time.monotonic() - started
    with open(usage_file) as f:
        usage = json.load(f)
    if done.returncode != 0:
        sys.exit(f"walbridge invoke failed: {usage['stderr']}")
    return json.loads(usage["stdout"]), usage, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=10_240, help="snapshot.fetch.size")
    parser.add_argument("--budget-ms", type=int, default=3_000, help="budget of each short invocation in (b)")
    parser.add_argument("--walbridge", default="target/release/walbridge")
    parser.add_argument("--debezium", action="store_true",
                        help="also run the real Debezium 3.7.1's initial snapshot of the same table in Kafka "
                             "Connect, on the same Apache Kafka broker")
    args = parser.parse_args()
    connect = kafka_connect() if args.debezium else None
    n = args.rows

    run = "snapbench_" + uuid.uuid4().hex[:10]
    work = tempfile.mkdtemp(prefix="walbridge-snapbench-")
    # the suite's Apache Kafka (with Debezium both write to it); without one, a noida-db of the run's own
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        noida, bootstrap, broker = None, os.environ["KAFKA_BOOTSTRAP_SERVERS"], "Apache Kafka"
    else:
        noida, noida_port = start_noida(work)
        bootstrap, broker = f"127.0.0.1:{noida_port}", "noida-db"
    slots = []
    try:
        print(f"filling {run}.t with {n} rows ...", file=sys.stderr)
        psql(f"CREATE SCHEMA {run}; CREATE TABLE {run}.t (id int PRIMARY KEY, name text NOT NULL, "
             f"balance numeric(10,2), created_at timestamptz); "
             f"INSERT INTO {run}.t SELECT g, 'customer ' || g, g * 1.25, '2024-01-15 10:30:00+00' "
             f"FROM generate_series(1, {n}) g")
        psql(f"VACUUM (ANALYZE) {run}.t")
        psql("CHECKPOINT")

        def environment(label, extra=""):
            slot = f"{run}_{label}"
            psql(f"SELECT pg_create_logical_replication_slot('{slot}', 'wal2json')")
            slots.append(slot)
            properties = os.path.join(work, f"{label}.properties")
            with open(properties, "w") as f:
                f.write(f"slot.name={slot}\ntable.include.list={run}.t\ntopic.prefix={run}_{label}\n"
                        f"value.converter.schemas.enable=false\nkey.converter.schemas.enable=false\n"
                        f"snapshot.mode=initial\nsnapshot.fetch.size={args.chunk}\n"
                        f"checkpoint.uri=file://{work}/{label}-checkpoint.json\n{extra}")
            return dict(os.environ, WALBRIDGE_PROPERTIES=properties, DATABASE_HOSTNAME=os.environ["PGHOST"],
                        DATABASE_PORT=os.environ["PGPORT"], DATABASE_USER=os.environ["PGUSER"],
                        DATABASE_PASSWORD=os.environ["PGPASSWORD"], DATABASE_DBNAME=os.environ["PGDATABASE"],
                        KAFKA_BOOTSTRAP_SERVERS=bootstrap, RUST_LOG="warn")

        # (a) one invocation
        env = environment("one")
        started_ms = time.time() * 1000
        report, usage, seconds = invoke(args.walbridge, env, work)
        if report["snapshot_rows"] != n:
            sys.exit(f"snapshot published {report['snapshot_rows']} rows, expected {n}: {report}")
        first_ms, last_ms = topic_span_ms(bootstrap, f"{run}_one.{run}.t")
        span_rate = (n - 1) / max((last_ms - first_ms) / 1000, 1e-3)
        cpu_s = usage["user"] + usage["sys"]
        peak_mib = usage["maxrss_kib"] / 1024

        # (b) short invocations, each a new process resuming from the checkpoint
        env = environment("short", f"invocation.time.budget.ms={args.budget_ms}\n")
        invocations, busy_s, rows = 0, 0.0, 0
        peak_short = 0.0
        while rows < n:
            report_b, usage_b, seconds_b = invoke(args.walbridge, env, work)
            invocations += 1
            busy_s += seconds_b
            rows += report_b["snapshot_rows"]
            peak_short = max(peak_short, usage_b["maxrss_kib"] / 1024)
            if invocations > 10_000:
                sys.exit("the snapshot did not finish")

        print(f"rows                                   {n:,} (snapshot.fetch.size={args.chunk})")
        print(f"(a) one invocation, first to last rec. {span_rate:,.0f} rows/s   (target >= 100 000)")
        print(f"    whole invocation (start-up incl.)  {n / seconds:,.0f} rows/s in {seconds:.2f} s")
        print(f"    CPU per row                        {cpu_s / n * 1e6:.2f} us ({cpu_s:.2f} s)")
        print(f"    peak RSS                           {peak_mib:.1f} MiB")
        print(f"(b) {invocations} invocations of <= {args.budget_ms} ms  {rows / busy_s:,.0f} rows per "
              f"invocation-second (peak RSS {peak_short:.1f} MiB)")

        if connect:
            slots.append(f"{run}_dbz")
            dbz = run_debezium(connect, run, f"{run}_dbz", f"{run}_pub", bootstrap, n, snapshot_mode="initial")
            dbz_rate = (dbz["events"] - 1) / max((dbz["last_ms"] - dbz["first_ms"]) / 1000, 1e-3)
            table = [
                ("rows/s, first to last record", f"{span_rate:,.0f}", f"{dbz_rate:,.0f}",
                 f"{span_rate / dbz_rate:.1f}x"),
                ("CPU s per million rows", f"{cpu_s / n * 1e6:.2f}", f"{dbz['cpu_s'] / n * 1e6:.2f}",
                 f"1/{dbz['cpu_s'] / cpu_s:.1f}"),
                ("peak RSS, MiB", f"{peak_mib:.1f}", f"{dbz['peak_mib']:.0f}",
                 f"1/{dbz['peak_mib'] / peak_mib:.1f}"),
                ("start to first record, s", f"{(first_ms - started_ms) / 1000:.2f}",
                 f"{(dbz['first_ms'] - dbz['started_ms']) / 1000:.2f}", ""),
            ]
            print()
            print(f"initial snapshot of {n:,} rows, same database, table and broker ({broker}); "
                  f"{datetime.date.today().isoformat()}, {machine()}")
            print()
            print("| | walbridge | Debezium 3.7.1 (Kafka Connect) | walbridge vs Debezium |")
            print("|---|---:|---:|---:|")
            for row in table:
                print("| " + " | ".join(row) + " |")
    finally:
        drop_run(run, slots)
        if noida is not None:
            stop_noida(noida)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
