#!/usr/bin/env python3
"""walbridge's relay benchmark (run it with ./scripts/bench [N]).

Writes N changes into a table of its own, then measures in one run, on the same window, for each
plugin in turn -- wal2json slots and pgoutput slots (behind a publication of the table), all made
before the writes, one for each configuration in CONFIGS (walbridge's defaults; schemas off; the
earlier default windows of 10 000 changes; Confluent's AvroConverter against the environment's schema
registry, when it has one) -- and prints them side by side (Markdown, for the README; --plugin and
--config pick some, --set KEY=VALUE sets a property in every configuration):
  (a) the raw rate at which a client (psql, COPY ... TO STDOUT) reads the window from
      pg_logical_slot_peek_changes with walbridge's wal2json options (pg_logical_slot_peek_binary_changes
      with its pgoutput options) -- every row fetched, nothing advanced;
  (b) the full relay of that window by the release `walbridge invoke` to the suite's Apache Kafka
      (without one in the environment, a noida-db of the run's own), acknowledged, checkpointed and
      advanced;
  (c) walbridge's own CPU time per change (user + system of its process / changes);
  (d) its peak RSS;
and prints all four and the ratio (b)/(a). Targets: (b)/(a) >= 0.8, (c) <= 3 us, (d) <= 64 MiB.
The broker's and PostgreSQL's CPU during (b) are printed too: on two shared cores they compete with
walbridge, and the figures say where the time went.

With --debezium (./scripts/bench starts Kafka Connect for it: `tests/env/up --connect`), the same run
also relays the same window with the real Debezium 3.7.1 PostgreSQL connector in the suite's Kafka
Connect worker (a connector created through its REST API, JsonConverter, the worker's producer) from a
pgoutput slot made beside walbridge's before the writes, to the same Apache Kafka broker, after
walbridge finished, and prints a side-by-side table (Markdown, for the README): events/s from the first
to the last record (Kafka record timestamps, both), CPU seconds per million changes and peak RSS (of
walbridge's process; of the Connect worker's JVM during the run, from /proc, its peak reset when the
connector is created), time from the start (walbridge's process; the connector's creation) to the first
record in Kafka. The worker is a warm JVM that already runs: its start-up is not in Debezium's figures.
"""
import argparse
import datetime
import functools
import json
import os
import urllib.error
import urllib.request
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PGOUTPUT_OPTIONS = "'proto_version','1','messages','true'"
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
    for publication in (f"{run}_pub", f"{run}_wbpub"):
        subprocess.run(["psql", "-X", "-q", "-c", f"DROP PUBLICATION IF EXISTS {publication}"], capture_output=True)
    subprocess.run(["psql", "-X", "-q", "-c", f"DROP SCHEMA IF EXISTS {run} CASCADE"], capture_output=True)


def hold_open_transaction(run):
    """A psql session holding a writing transaction open (an insert into `run`.open, a table of its
    own) until the process is killed: the slots' restart point cannot pass its start."""
    psql(f"CREATE TABLE {run}.open (id int)")
    holder = subprocess.Popen(["psql", "-X", "-q"], stdin=subprocess.PIPE, text=True, stdout=subprocess.DEVNULL)
    holder.stdin.write(f"BEGIN; INSERT INTO {run}.open VALUES (1);\n")
    holder.stdin.flush()
    while psql(f"SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' "
               f"AND query LIKE 'INSERT INTO {run}.open%'") == "0":
        time.sleep(0.1)
    return holder


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


@functools.cache
def postgres_data_directory():
    """The data directory of the cluster the benchmark runs on (whichever major `--postgres` chose)."""
    return psql("SHOW data_directory")


def postgres_cpu_seconds():
    """CPU seconds of every process of the test cluster (the postmaster's tree)."""
    with open(os.path.join(postgres_data_directory(), "postmaster.pid")) as f:
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


def kafka_connect():
    """The suite's Kafka Connect worker with the Debezium PostgreSQL connector (`tests/env/up --connect`,
    which ./scripts/bench runs for --debezium): (REST URL, the worker's pid)."""
    url = os.environ.get("KAFKA_CONNECT_URL")
    if not url or not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        sys.exit("--debezium needs Kafka Connect: run through ./scripts/bench, or eval \"$(tests/env/up --connect)\"")
    with open(os.path.join(os.environ["WALBRIDGE_ENV_DIR"], "connect", "pid")) as f:
        return url.rstrip("/"), int(f.read().strip())


def connect_request(url, method, path, body=None):
    """One Kafka Connect REST request: (status, parsed JSON body or None)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            text = answer.read()
            return answer.status, json.loads(text) if text.strip() else None
    except urllib.error.HTTPError as err:
        text = err.read()
        return err.code, json.loads(text) if text.strip() else None


def topic_count(bootstrap, topic):
    """How many records a topic holds (sum of its partitions' high watermarks; nothing is deleted)."""
    from confluent_kafka import Consumer, TopicPartition
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "walbridge-bench"})
    try:
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        return sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in meta.partitions)
    finally:
        consumer.close()


def broker_pid(noida):
    """The pid whose process group is the broker walbridge writes to: the benchmark's noida-db, or
    (with --debezium) the suite's Apache Kafka."""
    if noida is not None:
        return noida.pid
    with open(os.path.join(os.environ["WALBRIDGE_ENV_DIR"], "kafka", "pid")) as f:
        return int(f.read().strip())


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


def run_debezium(connect, run, slot, publication, bootstrap, n, snapshot_mode="no_data"):
    """Relays the window (or, with snapshot_mode=initial, snapshots the table) with a Debezium connector
    in the Kafka Connect worker until its topic holds n events; deletes the connector and returns the
    measurements. The slot is the benchmark's to drop (drop_run)."""
    url, worker = connect
    prefix = run + "_dbz"
    name = prefix.replace("_", "-")
    config = {
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector", "tasks.max": "1",
        "database.hostname": os.environ["PGHOST"], "database.port": os.environ["PGPORT"],
        "database.user": os.environ["PGUSER"], "database.password": os.environ["PGPASSWORD"],
        "database.dbname": os.environ["PGDATABASE"], "plugin.name": "pgoutput", "slot.name": slot,
        "publication.name": publication, "publication.autocreate.mode": "filtered",
        "snapshot.mode": snapshot_mode, "topic.prefix": prefix, "table.include.list": f"{run}.t",
        "key.converter": "org.apache.kafka.connect.json.JsonConverter", "key.converter.schemas.enable": "false",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
    }
    from confluent_kafka.admin import AdminClient, NewTopic
    topic = f"{prefix}.{run}.t"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        future.result(timeout=30)
    print(f"relaying with Debezium 3.7.1 in Kafka Connect (connector {name}; worker log: "
          f"{os.environ.get('WALBRIDGE_LOG_DIR', '?')}/connect.log) ...", file=sys.stderr)
    # the worker's peak RSS from here on (5: reset VmHWM to the current RSS), and its CPU so far
    try:
        with open(f"/proc/{worker}/clear_refs", "w") as f:
            f.write("5")
    except OSError as err:
        print(f"  cannot reset the worker's peak RSS ({err}): it counts from the worker's start", file=sys.stderr)
    cpu_before = process_cpu_seconds(worker)
    started_ms = time.time() * 1000
    status, answer = connect_request(url, "PUT", f"/connectors/{name}/config", config)
    if status != 201:
        sys.exit(f"creating connector {name}: HTTP {status} {answer}")
    try:
        events, deadline = 0, time.monotonic() + max(300, n / 500)
        while events < n:
            _, state = connect_request(url, "GET", f"/connectors/{name}/status")
            failed = [t for t in (state or {}).get("tasks", []) if t.get("state") == "FAILED"]
            if failed:
                sys.exit(f"Debezium's task FAILED after {events} events:\n{failed[0].get('trace', '')[-4000:]}")
            if time.monotonic() > deadline:
                sys.exit(f"Debezium wrote {events} of {n} events in time; status {state}")
            time.sleep(0.5)
            events = topic_count(bootstrap, topic)
        cpu_s = process_cpu_seconds(worker) - cpu_before
        peak_mib = process_rss_peak_mib(worker)
    finally:
        connect_request(url, "DELETE", f"/connectors/{name}")
        # the task lets go of its slot once it stopped
        for _ in range(150):
            if psql(f"SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{slot}' AND active") == "0":
                break
            time.sleep(0.2)
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


PLUGINS = ("wal2json", "pgoutput")

# AWS list prices, us-east-1 (../shared/reference/postgres-and-peers-2026-12.md §5; verify before relying
# on them): Lambda arm64 duration per GB-second, requests, S3 PUTs; MSK Connect per MCU-hour.
LAMBDA_GB_S = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1e6
S3_PUT = 0.005 / 1000
MSK_CONNECT_MCU_HOUR = 0.11
# Lambda gives a function CPU in proportion to its memory: one vCPU at 1 769 MB.
VCPU_MB = 1769


def cost_table(columns, n):
    """Dollars per million changes at 256, 512 and 1024 MB for each (label, result) of `columns`: billed
    duration = max(CPU seconds / the memory size's vCPU share, the run's wall time), both per million
    changes (the wall time is this machine's, where PostgreSQL and the broker shared the cores; the CPU
    bound holds wherever the function is the bottleneck), plus one request and one S3 PUT per window
    (walbridge's checkpoint) per million changes' share. Prints a Markdown table."""
    sizes = (256, 512, 1024)
    print("| per million changes | CPU s | wall s | " + " | ".join(f"{mb} MB: GB-s, $" for mb in sizes) + " |")
    print("|---|---:|---:|" + "---:|" * len(sizes))
    for label, r in columns:
        cpu = r["cpu_s"] / n * 1e6
        wall = r["relay_s"] / n * 1e6
        windows = r["report"]["windows"] / n * 1e6
        cells = []
        for mb in sizes:
            billed = max(cpu / min(mb / VCPU_MB, 1.0), wall)
            gb_s = mb / 1024 * billed
            dollars = gb_s * LAMBDA_GB_S + windows * S3_PUT + LAMBDA_REQUEST
            cells.append(f"{gb_s:.1f}, ${dollars:.5f}")
        print(f"| {label} | {cpu:.2f} | {wall:.1f} | " + " | ".join(cells) + " |")


# The configurations each plugin's window is relayed with, each from a slot of its own: walbridge's
# defaults (JsonConverter with schemas, as Kafka Connect's default is), the same with schemas off, and
# the windows of walbridge's earlier default (10 000 changes each) with schemas off.
CONFIGS = {
    "default": "",
    "schemas off": "value.converter.schemas.enable=false\nkey.converter.schemas.enable=false\n",
    # windows one after another, none decoded while the one before is published
    "no read-ahead": "window.read.ahead=false\n",
    "schemas off, no read-ahead": "value.converter.schemas.enable=false\n"
                                  "key.converter.schemas.enable=false\nwindow.read.ahead=false\n",
    "10 000-change windows, schemas off": "value.converter.schemas.enable=false\n"
                                          "key.converter.schemas.enable=false\nwindow.max.changes=10000\n",
    # Confluent's AvroConverter against the environment's schema registry (SCHEMA_REGISTRY_URL),
    # walbridge's defaults otherwise; left out when the environment has no registry
    "Avro": "key.converter=io.confluent.connect.avro.AvroConverter\n"
            "value.converter=io.confluent.connect.avro.AvroConverter\n"
            "key.converter.schema.registry.url={registry}\nvalue.converter.schema.registry.url={registry}\n",
}


def wait_for_backends(application_name):
    """Waits until no session of `application_name` is left: a backend goes on working after its
    client is gone (a large peek's reorder buffer and spill files are freed as it exits), and that
    CPU belongs to the run that made it, not to the next one's PostgreSQL figure."""
    deadline = time.monotonic() + 60
    while psql(f"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{application_name}'") != "0":
        if time.monotonic() > deadline:
            sys.exit(f"sessions of {application_name} still open after 60 s")
        time.sleep(0.05)


# A wrapper process whose only child is walbridge, so its rusage is walbridge's alone: run it as
# `python -c RUSAGE_WRAPPER USAGE_FILE walbridge invoke`.
RUSAGE_WRAPPER = ("import json, resource, subprocess, sys\n"
                  "done = subprocess.run(sys.argv[2:])\n"
                  "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
                  "json.dump({'user': u.ru_utime, 'sys': u.ru_stime, 'maxrss_kib': u.ru_maxrss}, "
                  "open(sys.argv[1], 'w'))\n"
                  "sys.exit(done.returncode)\n")


def create_table(run):
    """The benchmark's schema `run` and its table `run.t`."""
    psql(f"CREATE SCHEMA {run}; CREATE TABLE {run}.t (id int PRIMARY KEY, name text NOT NULL, "
         f"balance numeric(10,2), created_at timestamptz)")


def write_backlog(run, n, per_tx):
    """Inserts `n` rows into `run.t`, `per_tx` per transaction; then lets autovacuum's and the
    checkpointer's work on them finish, so that what is measured next sees a quiet server."""
    psql(f"""DO $$ BEGIN FOR i IN 0..{(n + per_tx - 1) // per_tx - 1} LOOP
               INSERT INTO {run}.t SELECT g, 'customer ' || g, g * 1.25, '2024-01-15 10:30:00+00'
                 FROM generate_series(i * {per_tx} + 1, least((i + 1) * {per_tx}, {n})) g;
               COMMIT;
             END LOOP; END $$""")
    psql(f"VACUUM (ANALYZE) {run}.t")
    psql("CHECKPOINT")


def raw_read(plugin, run, slot, upto):
    """(a) a plain client reading the window from `slot` (nothing advanced): its time in seconds."""
    if plugin == "wal2json":
        peek = (f"SELECT lsn, xid, data FROM pg_logical_slot_peek_changes('{slot}', '{upto}', NULL, "
                f"{WAL2JSON_OPTIONS}, 'add-tables', '{run}.t')")
    else:
        peek = (f"SELECT lsn, xid, data FROM pg_logical_slot_peek_binary_changes('{slot}', '{upto}', NULL, "
                f"{PGOUTPUT_OPTIONS}, 'publication_names', '{run}_wbpub')")
    started = time.monotonic()
    with open(os.devnull, "w") as devnull:
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                        f"COPY ({peek}) TO STDOUT"], check=True, stdout=devnull,
                       env=dict(os.environ, PGAPPNAME="walbridge_bench_raw"))
    elapsed = time.monotonic() - started
    wait_for_backends("walbridge_bench_raw")
    return elapsed


def invoke(binary, run, slot, plugin, tag, work, settings, bootstrap):
    """One `walbridge invoke` of the run's table from `slot` to topics `<run>_<tag>.*` on `bootstrap`,
    at walbridge's defaults plus `settings` (KEY=VALUE lines), its checkpoint a file in `work`; waits until
    its PostgreSQL sessions are gone. Returns its rusage (user, sys, maxrss_kib), its report and the wall
    seconds."""
    properties = os.path.join(work, f"{tag}.properties")
    with open(properties, "w") as f:
        f.write(f"slot.name={slot}\ntable.include.list={run}.t\ntopic.prefix={run}_{tag}\n"
                f"plugin.name={plugin}\npublication.name={run}_wbpub\npublication.autocreate.mode=disabled\n"
                f"snapshot.mode=no_data\ncheckpoint.uri=file://{work}/checkpoint-{tag}.json\n"
                + "".join(f"{setting}\n" for setting in settings))
    env = dict(os.environ, WALBRIDGE_PROPERTIES=properties, DATABASE_HOSTNAME=os.environ["PGHOST"],
               DATABASE_PORT=os.environ["PGPORT"], DATABASE_USER=os.environ["PGUSER"],
               DATABASE_PASSWORD=os.environ["PGPASSWORD"], DATABASE_DBNAME=os.environ["PGDATABASE"],
               KAFKA_BOOTSTRAP_SERVERS=bootstrap, RUST_LOG="warn")
    usage_file = os.path.join(work, f"rusage-{tag}.json")
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-c", RUSAGE_WRAPPER, usage_file, binary, "invoke"], env=env,
                         check=True, capture_output=True, text=True)
    wall_s = time.monotonic() - started
    wait_for_backends("walbridge")
    with open(usage_file) as f:
        usage = json.load(f)
    return usage, json.loads(out.stdout), wall_s


def relay(plugin, config, run, slot, raw_s, n, per_tx, bootstrap, broker, noida, work, args):
    """(b)-(d) for one plugin's slot under one of CONFIGS: one `walbridge invoke` relaying the window
    to topics `<run>_<plugin>_<i>.*`; prints the figures and returns them."""
    # the topic prefix names Avro records too, which take no '-'
    tag = f"{plugin}_{list(CONFIGS).index(config)}"
    settings = CONFIGS[config].format(registry=os.environ.get("SCHEMA_REGISTRY_URL", "")).splitlines()
    pg_before, broker_before = postgres_cpu_seconds(), group_cpu_seconds(broker_pid(noida))
    started_ms = time.time() * 1000
    usage, report, relay_s = invoke(args.walbridge, run, slot, plugin, tag, work, settings + args.set,
                                    bootstrap)
    pg_cpu = postgres_cpu_seconds() - pg_before
    broker_cpu = group_cpu_seconds(broker_pid(noida)) - broker_before
    changes = report["changes"]
    if changes != n:
        sys.exit(f"{plugin}: relayed {changes} changes, expected {n}: {report}")
    cpu_s = usage["user"] + usage["sys"]
    peak_mib = usage["maxrss_kib"] / 1024

    print(f"{plugin}, {config}: changes {n} ({per_tx} per transaction)")
    print(f"(a) raw peek read (psql COPY)   {raw_s:.2f} s   {n / raw_s:,.0f} changes/s")
    print(f"(b) walbridge relay to {broker:<8} {relay_s:.2f} s   {n / relay_s:,.0f} changes/s "
          f"({report['events']} events, {report['windows']} window(s))")
    print(f"(b)/(a)                         {raw_s / relay_s:.2f}   (target >= 1.0)")
    print(f"(c) walbridge CPU per change    {cpu_s / n * 1e6:.2f} us   (target <= 3 us; {cpu_s:.2f} s in all: "
          f"user {usage['user']:.2f} s, system {usage['sys']:.2f} s)")
    print(f"(d) walbridge peak RSS          {peak_mib:.1f} MiB   (target <= 64 MiB)")
    print(f"    during (b): PostgreSQL CPU {pg_cpu:.2f} s, {broker} CPU {broker_cpu:.2f} s, "
          f"on {os.cpu_count()} cores")
    first_ms, last_ms = topic_span_ms(bootstrap, f"{run}_{tag}.{run}.t")
    return {"raw_s": raw_s, "relay_s": relay_s, "cpu_s": cpu_s, "user_s": usage["user"], "sys_s": usage["sys"],
            "peak_mib": peak_mib, "pg_cpu": pg_cpu, "broker_cpu": broker_cpu,
            "report": report, "started_ms": started_ms, "first_ms": first_ms, "last_ms": last_ms}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("changes", nargs="?", type=int, default=500_000)
    parser.add_argument("--rows-per-transaction", type=int, default=1)
    parser.add_argument("--walbridge", default="target/release/walbridge")
    parser.add_argument("--long-transaction", action="store_true",
                        help="keep a transaction that wrote a row open from before the writes to the end, so "
                             "the slots' restart point cannot pass it: every peek decodes the whole backlog again")
    parser.add_argument("--debezium", action="store_true",
                        help="also relay the same window with the real Debezium 3.7.1 in Kafka Connect, on the "
                             "same Apache Kafka broker, and print both columns")
    parser.add_argument("--plugin", action="append", choices=PLUGINS,
                        help="relay from this plugin's slots only (repeatable; default: both)")
    parser.add_argument("--config", action="append", choices=list(CONFIGS),
                        help="relay in this configuration only (repeatable; default: every one)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a walbridge property set in every configuration (repeatable), e.g. "
                             "kafka.compression.type=lz4")
    args = parser.parse_args()
    connect = kafka_connect() if args.debezium else None
    plugins = args.plugin or list(PLUGINS)
    configs = args.config or [c for c in CONFIGS if c != "Avro" or os.environ.get("SCHEMA_REGISTRY_URL")]
    if "Avro" in configs and not os.environ.get("SCHEMA_REGISTRY_URL"):
        sys.exit("the Avro configuration needs a schema registry: run through ./scripts/bench, or "
                 "eval \"$(tests/env/up)\"")
    if connect and ("wal2json" not in plugins or "schemas off" not in configs):
        sys.exit("--debezium compares with walbridge's wal2json schemas-off relay: keep that plugin and configuration")
    n, per_tx = args.changes, args.rows_per_transaction

    run = "bench_" + uuid.uuid4().hex[:10]
    holder = None
    slot = run + "_slot"
    work = tempfile.mkdtemp(prefix="walbridge-bench-")
    # the suite's Apache Kafka (./scripts/bench starts it; with Debezium both write to it); without
    # one in the environment, a noida-db of the run's own
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        noida, bootstrap, broker = None, os.environ["KAFKA_BOOTSTRAP_SERVERS"], "Apache Kafka"
    else:
        noida, noida_port = start_noida(work)
        bootstrap, broker = f"127.0.0.1:{noida_port}", "noida-db"
    try:
        print(f"writing {n} changes ({per_tx} per transaction) into {run}.t ...", file=sys.stderr)
        create_table(run)
        # walbridge's slots, one per plugin and configuration: wal2json, and pgoutput behind its
        # publication (made first)
        psql(f"CREATE PUBLICATION {run}_wbpub FOR TABLE {run}.t")
        slots = {(plugin, config): f"{slot}_{plugin[:3]}{list(CONFIGS).index(config)}" for plugin in plugins
                 for config in configs}
        for (plugin, _), name in slots.items():
            psql(f"SELECT pg_create_logical_replication_slot('{name}', '{plugin}')")
        if connect:
            # Debezium's pgoutput slot and publication, beside walbridge's slot, before the writes
            psql(f"CREATE PUBLICATION {run}_pub FOR TABLE {run}.t")
            psql(f"SELECT pg_create_logical_replication_slot('{run}_dbz', 'pgoutput')")
        if args.long_transaction:
            holder = hold_open_transaction(run)
        started = time.monotonic()
        write_backlog(run, n, per_tx)
        print(f"  written in {time.monotonic() - started:.1f} s", file=sys.stderr)

        upto = psql("SELECT pg_current_wal_lsn()")
        results = {}
        for plugin in plugins:
            raw_s = raw_read(plugin, run, slots[(plugin, configs[0])], upto)
            for config in configs:
                results[(plugin, config)] = relay(plugin, config, run, slots[(plugin, config)], raw_s, n, per_tx,
                                                  bootstrap, broker, noida, work, args)

        # Every configuration side by side, from this one run.
        rate = lambda events, first, last: (events - 1) / max((last - first) / 1000, 1e-3)
        for plugin in plugins:
            print()
            print(f"{n:,} changes ({per_tx} per transaction) from a {plugin} slot, each configuration relayed by "
                  f"one `walbridge invoke` to {broker}; {datetime.date.today().isoformat()}, {machine()}")
            print()
            if args.set:
                print(f"(every configuration with {', '.join(args.set)})")
                print()
            print("| | " + " | ".join(configs) + " |")
            print("|---|" + "---:|" * len(configs))
            columns = [results[(plugin, config)] for config in configs]
            best = min(r["relay_s"] for r in columns)
            for label, value in [
                ("raw peek read, changes/s (one peek)", lambda r: n / r["raw_s"]),
                ("relay, changes/s (wall, start-up included)", lambda r: n / r["relay_s"]),
                ("relay / raw peek read", lambda r: r["raw_s"] / r["relay_s"]),
                ("relay / the best of this table", lambda r: best / r["relay_s"]),
                ("events/s, first to last record", lambda r: rate(r["report"]["events"], r["first_ms"], r["last_ms"])),
                ("windows", lambda r: r["report"]["windows"]),
                ("walbridge CPU µs per change", lambda r: r["cpu_s"] / n * 1e6),
                ("of which system (kernel) µs", lambda r: r["sys_s"] / n * 1e6),
                ("PostgreSQL CPU s during the relay", lambda r: r["pg_cpu"]),
                (f"{broker} CPU s during the relay", lambda r: r["broker_cpu"]),
                ("walbridge peak RSS, MiB", lambda r: r["peak_mib"]),
            ]:
                cells = []
                for r in columns:
                    v = value(r)
                    cells.append(f"{v:,}" if isinstance(v, int) else f"{v:,.0f}" if v >= 100 else f"{v:.2f}")
                print(f"| {label} | " + " | ".join(cells) + " |")
            print()
            print(f"Lambda (arm64) cost of relaying, from this run's {plugin} figures:")
            print()
            cost_table([(config, results[(plugin, config)]) for config in configs], n)
            print()

        if connect:
            compared = results[("wal2json", "schemas off")]
            report, cpu_s, peak_mib, started_ms = (compared[k] for k in ("report", "cpu_s", "peak_mib", "started_ms"))
            wb_first, wb_last = compared["first_ms"], compared["last_ms"]
            dbz = run_debezium(connect, run, f"{run}_dbz", f"{run}_pub", bootstrap, n)
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
                  f"(Apache Kafka) and window; {datetime.date.today().isoformat()}, {machine()}")
            print()
            print("| | walbridge | Debezium 3.7.1 (Kafka Connect) | walbridge vs Debezium |")
            print("|---|---:|---:|---:|")
            for row in rows:
                print("| " + " | ".join(row) + " |")
            print()
            print("(CPU and RSS: walbridge's whole process, start-up included; the Connect worker's JVM from /proc "
                  "during the run, a warm worker whose start is not counted; rates from the Kafka record "
                  "timestamps the producers set)")
    finally:
        if holder is not None:
            holder.kill()
            holder.wait()
        drop_run(run, [f"{slot}_{plugin[:3]}{i}" for plugin in PLUGINS for i in range(len(CONFIGS))]
                 + ([f"{run}_dbz"] if connect else []))
        if noida is not None:
            stop_noida(noida)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
