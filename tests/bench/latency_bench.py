#!/usr/bin/env python3
"""walbridge's latency benchmark (run it with ./scripts/bench --latency RATE[,RATE...] [--seconds S]).

For each RATE (changes per second) in turn, in a schema of the run's own on the suite's test PostgreSQL:
pgbench writes one row per transaction at that steady rate (`--rate`, 4 clients, 2 threads, a custom
script) for WARMUP + S seconds, while two connectors stream the same writes to the suite's Apache Kafka
at the same time:
  - walbridge: ONE release `walbridge invoke` that polls inside the invocation (`poll.interval.ms`,
    `poll.duration.ms` covering the writes, `invocation.time.budget.ms` beyond that), default settings
    otherwise (wal2json, windows bounded by the WAL they decode, JsonConverter with schemas on);
  - Debezium 3.7.1's PostgreSQL connector in the suite's Kafka Connect worker (created through its REST
    API: pgoutput, its own slot and publication, `snapshot.mode=no_data`, the worker's converters:
    JsonConverter, schemas on), streaming before the writes start.
With --long-transaction a writing transaction is held open from before the writes to the end of the
run, so the slots' restart point cannot move: every peek and advance decodes again all the WAL written
since (the windows' time is printed for the first and last third of the measured period). With
--without-debezium walbridge alone (the machine's cores left to it, PostgreSQL, pgbench and the
broker; no Kafka Connect needed). Both slots and the publication are made before the writes. Both topics are created beforehand with
`message.timestamp.type=LogAppendTime`, so the broker stamps every record on one clock; the latency of
an event is that timestamp minus its `source.ts_ms` (the transaction's commit time, PostgreSQL's clock,
the same machine). Events committed in the first WARMUP seconds are left out (start-up, the
connectors' first passes). Prints, per rate and connector, events, p50/p90/p99/max latency, and what
pgbench achieved (its tps and schedule lag: whether the writer kept the rate), then a Markdown table
for the README. Everything the run made (connector, slots, publication, schema, topics) is dropped at
the end, even on failure.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from relay_bench import (connect_request, drop_run, hold_open_transaction, kafka_connect, machine,  # noqa: E402
                         process_cpu_seconds, psql, topic_count)

CLIENTS, THREADS = 4, 2


def create_topics(bootstrap, topics):
    """Creates `topics` (one partition each) whose records the broker stamps (LogAppendTime)."""
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 4})
    new = [NewTopic(t, 1, 1, config={"message.timestamp.type": "LogAppendTime"}) for t in topics]
    for future in admin.create_topics(new).values():
        future.result(timeout=30)


def delete_topics(bootstrap, topics):
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 4})
    for topic, future in admin.delete_topics(topics).items():
        try:
            future.result(timeout=30)
        except KafkaException as err:
            if err.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:  # never made: nothing to delete
                print(f"  deleting topic {topic}: {err}", file=sys.stderr)


def latencies(bootstrap, topic, from_commit_ms):
    """Every record of `topic`: the broker's timestamp minus the event's `source.ts_ms`, for events
    committed at or after `from_commit_ms`. Returns (latencies in ms, records read, first and last
    commit time kept)."""
    from confluent_kafka import TIMESTAMP_LOG_APPEND_TIME, Consumer, TopicPartition
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "walbridge-bench", "enable.auto.commit": False,
                         "receive.message.max.bytes": 2_000_000_000})
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        consumer.assign([TopicPartition(topic, 0, low)])
        kept, read, commits = [], 0, []
        while read < high - low:
            batch = consumer.consume(10_000, timeout=10)
            if not batch:
                sys.exit(f"{topic}: read {read} of {high - low} records")
            for msg in batch:
                if msg.error():
                    sys.exit(f"{topic}: {msg.error()}")
                read += 1
                kind, stamp = msg.timestamp()
                if kind != TIMESTAMP_LOG_APPEND_TIME:
                    sys.exit(f"{topic}: record timestamp type {kind}, not LogAppendTime")
                if msg.value() is None:
                    continue
                value = json.loads(msg.value())
                payload = value["payload"] if "schema" in value and "payload" in value else value
                commit_ms = payload["source"]["ts_ms"]
                if commit_ms >= from_commit_ms:
                    kept.append(stamp - commit_ms)
                    commits.append(commit_ms)
        return kept, read, (min(commits), max(commits)) if commits else (None, None)
    finally:
        consumer.close()


def percentile(ordered, q):
    """Nearest-rank percentile of an ascending list."""
    return ordered[min(len(ordered) - 1, max(0, int(-(-q * len(ordered) // 100)) - 1))]


def summary(values):
    ordered = sorted(values)
    if not ordered:
        return None
    return {"events": len(ordered), "p50": percentile(ordered, 50), "p90": percentile(ordered, 90),
            "p99": percentile(ordered, 99), "max": ordered[-1]}


def pgbench(script, rate, seconds):
    """Runs pgbench against the suite's PostgreSQL (PGHOST/PGPORT/... from tests/env/up) at `rate`
    transactions/s for `seconds`; returns the process (its output is parsed by pgbench_result)."""
    return subprocess.Popen(["/usr/bin/pgbench", "-n", "-M", "prepared", "-c", str(CLIENTS), "-j", str(THREADS),
                             "-R", str(rate), "-T", str(seconds), "-f", script],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def pgbench_result(output):
    tps = re.search(r"^tps = ([\d.]+)", output, re.M)
    lag = re.search(r"^rate limit schedule lag: avg ([\d.]+) \(max ([\d.]+)\) ms", output, re.M)
    if not tps:
        sys.exit(f"pgbench printed no tps:\n{output}")
    return {"tps": float(tps.group(1)), "lag_avg_ms": float(lag.group(1)) if lag else None,
            "lag_max_ms": float(lag.group(2)) if lag else None}


def wait_for(what, predicate, timeout_s, interval_s=0.5):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            sys.exit(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(interval_s)


def walbridge_windows(path):
    """walbridge's windows from its log (JSON lines, `window published`): when each ended (epoch ms),
    its rows and elapsed ms."""
    windows = []
    with open(path) as f:
        for line in f:
            try:
                entry = json.loads(line)
                at_ms = datetime.datetime.fromisoformat(entry["timestamp"]).timestamp() * 1000
            except (ValueError, KeyError):
                continue
            fields = entry.get("fields", entry)  # flattened on Lambda and with WALBRIDGE_LOG_FORMAT=json
            if fields.get("message") == "window published":
                windows.append((at_ms, int(fields["rows"]), int(fields["elapsed_ms"])))
    return windows


def median(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0


def debezium_config(run, slot, publication):
    """Debezium's connector: pgoutput, its own slot and publication, streaming only, the worker's
    converters (JsonConverter, schemas on: both connectors at their defaults)."""
    return {
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector", "tasks.max": "1",
        "database.hostname": os.environ["PGHOST"], "database.port": os.environ["PGPORT"],
        "database.user": os.environ["PGUSER"], "database.password": os.environ["PGPASSWORD"],
        "database.dbname": os.environ["PGDATABASE"], "plugin.name": "pgoutput", "slot.name": slot,
        "publication.name": publication, "publication.autocreate.mode": "filtered",
        "snapshot.mode": "no_data", "topic.prefix": f"{run}_dbz", "table.include.list": f"{run}.t",
    }


def measure(rate, args, connect, bootstrap):
    """One rate: both connectors (or walbridge alone, `connect` None) on the same writes; returns the
    figures."""
    url, worker = connect or (None, None)
    run = "lat_" + uuid.uuid4().hex[:10]
    slot, dbz_slot, publication = f"{run}_slot", f"{run}_dbz", f"{run}_pub"
    wb_topic, dbz_topic = f"{run}_wb.{run}.t", f"{run}_dbz.{run}.t"
    # the connectors measured, each with the topic of its change events
    measured = {"walbridge": wb_topic, **({"debezium": dbz_topic} if url else {})}
    connector = f"{run}-dbz".replace("_", "-")
    work = tempfile.mkdtemp(prefix="walbridge-latency-")
    writes_s = args.warmup + args.seconds
    walbridge = writer = holder = None
    log_path = os.path.join(work, "walbridge.log")
    print(f"{rate}/s for {writes_s} s ({args.warmup} s warm-up) into {run}.t ...", file=sys.stderr)
    try:
        psql(f"CREATE SCHEMA {run}; CREATE TABLE {run}.t (id bigserial PRIMARY KEY, name text NOT NULL, "
             f"balance numeric(10,2), created_at timestamptz)")
        psql(f"SELECT pg_create_logical_replication_slot('{slot}', 'wal2json')")
        if args.long_transaction:
            holder = hold_open_transaction(run)
        create_topics(bootstrap, list(measured.values()))
        if url:
            psql(f"CREATE PUBLICATION {publication} FOR TABLE {run}.t")
            psql(f"SELECT pg_create_logical_replication_slot('{dbz_slot}', 'pgoutput')")
            status, answer = connect_request(url, "PUT", f"/connectors/{connector}/config",
                                             debezium_config(run, dbz_slot, publication))
            if status != 201:
                sys.exit(f"creating connector {connector}: HTTP {status} {answer}")

            def streaming():
                _, state = connect_request(url, "GET", f"/connectors/{connector}/status")
                tasks = (state or {}).get("tasks", [])
                if any(t.get("state") == "FAILED" for t in tasks):
                    sys.exit(f"Debezium's task FAILED:\n{tasks[0].get('trace', '')[-4000:]}")
                return (any(t.get("state") == "RUNNING" for t in tasks) and
                        psql(f"SELECT active FROM pg_replication_slots WHERE slot_name = '{dbz_slot}'") == "t")
            wait_for("Debezium to stream from its slot", streaming, 120)

        properties = os.path.join(work, "walbridge.properties")
        poll_duration_ms = (writes_s + args.drain) * 1000
        with open(properties, "w") as f:
            f.write(f"slot.name={slot}\ntable.include.list={run}.t\ntopic.prefix={run}_wb\n"
                    f"snapshot.mode=no_data\ncheckpoint.uri=file://{work}/checkpoint.json\n"
                    f"poll.interval.ms={args.poll_interval_ms}\npoll.duration.ms={poll_duration_ms}\n"
                    f"invocation.time.budget.ms={poll_duration_ms + 600_000}\n")
            f.writelines(f"{setting}\n" for setting in args.set)
        env = dict(os.environ, WALBRIDGE_PROPERTIES=properties, DATABASE_HOSTNAME=os.environ["PGHOST"],
                   DATABASE_PORT=os.environ["PGPORT"], DATABASE_USER=os.environ["PGUSER"],
                   DATABASE_PASSWORD=os.environ["PGPASSWORD"], DATABASE_DBNAME=os.environ["PGDATABASE"],
                   KAFKA_BOOTSTRAP_SERVERS=bootstrap, RUST_LOG="info,rskafka=warn", WALBRIDGE_LOG_FORMAT="json")
        with open(log_path, "w") as log:
            walbridge = subprocess.Popen([args.walbridge, "invoke"], env=env, stdout=subprocess.PIPE, stderr=log,
                                         text=True)

        script = os.path.join(work, "insert.sql")
        with open(script, "w") as f:
            f.write("\\set v random(1, 1000000)\n"
                    f"INSERT INTO {run}.t (name, balance, created_at) VALUES ('customer ' || :v, :v * 1.25, now());\n")
        worker_cpu = process_cpu_seconds(worker) if url else 0
        started_ms = time.time() * 1000
        writer = pgbench(script, rate, writes_s)
        written_out, _ = writer.communicate()
        if writer.returncode != 0:
            sys.exit(f"pgbench failed:\n{written_out}")
        ended_ms = time.time() * 1000
        written = pgbench_result(written_out)
        wb_cpu = process_cpu_seconds(walbridge.pid)
        rows = int(psql(f"SELECT count(*) FROM {run}.t"))

        out, _ = walbridge.communicate(timeout=poll_duration_ms / 1000 + 600)
        if walbridge.returncode != 0:
            with open(log_path) as f:
                sys.exit(f"walbridge invoke failed ({walbridge.returncode}):\n{f.read()[-4000:]}")
        report = json.loads(out)
        if url:
            wait_for(f"Debezium's {rows} events", lambda: topic_count(bootstrap, dbz_topic) >= rows,
                     max(300, rows / 500))
            worker_cpu = process_cpu_seconds(worker) - worker_cpu

        from_ms = started_ms + args.warmup * 1000
        result = {"rate": rate, "written": written, "rows": rows, "report": report, "wb_cpu": wb_cpu,
                  "dbz_cpu": worker_cpu, "windows": walbridge_windows(log_path), "measured_ms": (from_ms, ended_ms)}
        for name, topic in measured.items():
            values, read, span = latencies(bootstrap, topic, from_ms)
            if read != rows:
                sys.exit(f"{name}: {read} records in {topic}, {rows} rows written")
            result[name] = summary(values)
            result[name + "_span"] = span
        print_result(result, args)
        return result
    finally:
        if holder is not None:
            holder.kill()
            holder.wait()
        for process in (writer, walbridge):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait()
        if url:
            connect_request(url, "DELETE", f"/connectors/{connector}")
            # the task lets go of its slot once it stopped
            for _ in range(150):
                if psql(f"SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{dbz_slot}' AND active") == "0":
                    break
                time.sleep(0.2)
        drop_run(run, [slot, dbz_slot])
        # and the topics of the logical decoding messages other sessions' tests emit meanwhile
        delete_topics(bootstrap, [wb_topic, dbz_topic, f"{run}_wb.message", f"{run}_dbz.message"])
        if args.keep_logs and os.path.exists(log_path):
            os.makedirs(args.keep_logs, exist_ok=True)
            shutil.copy(log_path, os.path.join(args.keep_logs, f"walbridge-{rate}.log"))
        shutil.rmtree(work, ignore_errors=True)


def print_result(r, args):
    w = r["written"]
    lag = f", schedule lag avg {w['lag_avg_ms']:.1f} ms (max {w['lag_max_ms']:.0f})" if w["lag_avg_ms"] is not None else ""
    print(f"{r['rate']}/s asked: pgbench {w['tps']:,.0f} tps{lag}; {r['rows']:,} rows")
    for name in ("walbridge", "debezium"):
        s = r.get(name)
        if s is None:
            continue
        print(f"  {name:<10} {s['events']:>8,} events  p50 {s['p50']:>6} ms  p90 {s['p90']:>6} ms  "
              f"p99 {s['p99']:>6} ms  max {s['max']:>6} ms")
    # where walbridge's time went while measured: its windows between the warm-up's end and the
    # writes' end (a pass that finds no WAL opens no window)
    report, windows = r["report"], r["windows"]
    start, end = r["measured_ms"]
    windows = [w for w in windows if start <= w[0] <= end]
    gaps = [b[0] - a[0] for a, b in zip(windows, windows[1:])]
    print(f"  walbridge, whole invocation: {report['polls']} passes, {report['windows']} windows; CPU "
          f"{r['wb_cpu']:.1f} s to the writes' end" +
          (f" (the Connect worker: {r['dbz_cpu']:.1f} s to Debezium's last event)" if "debezium" in r else ""))
    if windows:
        print(f"  walbridge, measured period: {len(windows)} windows; per window rows median "
              f"{median(w[1] for w in windows)}, max {max(w[1] for w in windows)}; elapsed (peek to acknowledged) "
              f"median {median(w[2] for w in windows)} ms, max {max(w[2] for w in windows)} ms; from one window's "
              f"end to the next median {median(gaps):.0f} ms, max {max(gaps, default=0):.0f} ms")
        third = len(windows) // 3
        if third:
            print(f"  walbridge, elapsed median in the first / last third of the measured period: "
                  f"{median(w[2] for w in windows[:third])} / {median(w[2] for w in windows[-third:])} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rates", help="changes per second, or a comma list run in turn (1000,5000,20000)")
    parser.add_argument("--seconds", type=int, default=30, help="seconds measured, after the warm-up")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of writes left out first")
    parser.add_argument("--poll-interval-ms", type=int, default=100, help="walbridge's poll.interval.ms")
    parser.add_argument("--drain", type=int, default=5,
                        help="seconds walbridge keeps polling after the writes end (poll.duration.ms)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a walbridge property away from its default (a tuned run; repeatable)")
    parser.add_argument("--walbridge", default="target/release/walbridge")
    parser.add_argument("--without-debezium", action="store_true",
                        help="walbridge alone: no Debezium beside it (and no Kafka Connect needed)")
    parser.add_argument("--keep-logs", metavar="DIR", help="keep walbridge's log of each rate (JSON lines) in DIR")
    parser.add_argument("--long-transaction", action="store_true",
                        help="hold a writing transaction open from before the writes to the end")
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",") if r]
    connect = None if args.without_debezium else kafka_connect()
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    results = [measure(rate, args, connect, bootstrap) for rate in rates]

    print()
    print(f"Commit to Kafka latency (Kafka LogAppendTime minus `source.ts_ms`), {args.seconds} s measured after "
          f"{args.warmup} s of warm-up; pgbench {CLIENTS} clients, {THREADS} threads, one row per transaction; "
          f"walbridge one `walbridge invoke`, poll.interval.ms={args.poll_interval_ms}, "
          f"{', '.join(args.set) if args.set else 'defaults'} otherwise; "
          + ("a writing transaction held open throughout; " if args.long_transaction else "")
          + ("walbridge alone, to Apache Kafka; " if args.without_debezium else
             "Debezium 3.7.1 in Kafka Connect, both at once to Apache Kafka; ")
          + f"{datetime.date.today().isoformat()}, {machine()}")
    print()
    print("| changes/s asked (pgbench achieved) | | events measured | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        for name, label in (("walbridge", "walbridge"), ("debezium", "Debezium 3.7.1")):
            s = r.get(name)
            if s is None:
                continue
            print(f"| {r['rate']:,} ({r['written']['tps']:,.0f}) | {label} | {s['events']:,} | {s['p50']:,} | "
                  f"{s['p90']:,} | {s['p99']:,} | {s['max']:,} |")


if __name__ == "__main__":
    main()
