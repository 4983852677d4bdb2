#!/usr/bin/env python3
"""Builds (or settings) compared on one backlog, alternated (./scripts/bench --alternate N ...).

Usage: alternate_bench.py CHANGES BUILD[,KEY=VALUE...] BUILD[,KEY=VALUE...] ... [--rows-per-transaction K]
       [--rounds R] [--plugin P]

The relay's CPU per change moves by 10-20 % from run to run on a shared machine, more than most changes
worth measuring; two builds compared in separate benchmark runs differ by the machine's state as much as
by themselves. Here one backlog is written once (CHANGES changes in transactions of K rows into a table of
the run's own schema, as the relay benchmark writes them), every build has a slot of its own for each of
R rounds (all made before the writes), and each round relays the backlog once with every build, the
order reversed every other round, each `walbridge invoke` to the suite's Apache Kafka at its defaults
plus the KEY=VALUE properties given after its path. Prints each relay, then per build the median and the
least of walbridge's CPU per change (its rusage), the median wall time, and the median against the first
build's. Everything the run made in PostgreSQL is dropped at the end, even on failure.
"""
import argparse
import os
import statistics
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from relay_bench import PLUGINS, create_table, drop_run, invoke, machine, psql, write_backlog  # noqa: E402


def relay_once(binary, settings, run, slot, plugin, tag, work, n):
    """One `walbridge invoke` of the backlog from `slot`: (CPU s, user s, wall s, peak RSS MiB, windows)."""
    usage, report, wall = invoke(binary, run, slot, plugin, tag, work, settings, os.environ["KAFKA_BOOTSTRAP_SERVERS"])
    if report["changes"] != n:
        sys.exit(f"{binary}: relayed {report['changes']} changes, expected {n}: {report}")
    return (usage["user"] + usage["sys"], usage["user"], wall, usage["maxrss_kib"] / 1024, report["windows"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("changes", type=int)
    parser.add_argument("builds", nargs="+", metavar="BUILD[,KEY=VALUE...]",
                        help="a walbridge binary, and properties away from its defaults after commas")
    parser.add_argument("--rows-per-transaction", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--plugin", choices=PLUGINS, default="wal2json")
    args = parser.parse_args()
    if len(args.builds) < 2:
        sys.exit("give two builds (or settings) at least")
    n, per_tx = args.changes, args.rows_per_transaction
    builds = [(b.split(",")[0], b.split(",")[1:]) for b in args.builds]
    for binary, _ in builds:
        if not os.access(binary, os.X_OK):
            sys.exit(f"{binary}: not an executable")

    run = "alt_" + uuid.uuid4().hex[:10]
    work = tempfile.mkdtemp(prefix="walbridge-alternate-")
    slots = [f"{run}_r{r}_b{i}" for r in range(args.rounds) for i in range(len(builds))]
    try:
        print(f"writing {n} changes ({per_tx} per transaction) into {run}.t ...", file=sys.stderr)
        create_table(run)
        psql(f"CREATE PUBLICATION {run}_wbpub FOR TABLE {run}.t")
        for slot in slots:
            psql(f"SELECT pg_create_logical_replication_slot('{slot}', '{args.plugin}')")
        write_backlog(run, n, per_tx)

        results = [[] for _ in builds]
        for r in range(args.rounds):
            order = list(enumerate(builds))
            if r % 2:
                order.reverse()
            for i, (binary, settings) in order:
                figures = relay_once(binary, settings, run, f"{run}_r{r}_b{i}", args.plugin, f"r{r}b{i}", work, n)
                results[i].append(figures)
                cpu, _, wall, rss, windows = figures
                print(f"round {r + 1}, {args.builds[i]}: {cpu / n * 1e6:.2f} µs per change, {wall:.2f} s, "
                      f"{rss:.1f} MiB, {windows} windows", flush=True)

        print()
        print(f"{n:,} changes ({per_tx} per transaction) from a {args.plugin} slot, each build relaying it once a "
              f"round, {args.rounds} rounds alternated; {machine()}")
        print()
        print("| build | CPU µs per change, median | least | median / the first's | wall s, median |")
        print("|---|---:|---:|---:|---:|")
        first = None
        for build, figures in zip(args.builds, results):
            cpu = [f[0] / n * 1e6 for f in figures]
            median = statistics.median(cpu)
            first = first or median
            print(f"| {build} | {median:.2f} | {min(cpu):.2f} | {median / first:.2f} | "
                  f"{statistics.median(f[2] for f in figures):.2f} |")
    finally:
        drop_run(run, slots)


if __name__ == "__main__":
    main()
