#!/usr/bin/env bash
# Memory with wide rows, at default settings: ROWS rows of about KB kilobytes each (default 3 000 of
# ~96 KB) relayed by one `walbridge invoke`, streamed and then as an initial snapshot; prints each
# run's peak RSS (GNU time's maximum resident set size) and wall time. Run through ./scripts/bench --wide.
set -euo pipefail
ROWS=3000 KB=96
while [ $# -gt 0 ]; do
  case "$1" in
    --kb) KB=$2; shift 2 ;;
    *) ROWS=$1; shift ;;
  esac
done
: "${PGHOST:?run through ./scripts/bench --wide (it starts the services)}"
BIN=${WALBRIDGE_BIN:-target/release/walbridge}
S=wide_$$_$RANDOM
psql -qX -c "CREATE SCHEMA $S; CREATE TABLE $S.w(id int PRIMARY KEY, doc text)"
psql -qXAt -c "SELECT pg_create_logical_replication_slot('${S}_slot', 'wal2json')" >/dev/null
# md5 text is 32 characters: KB*1024/32 repeats make a row of about KB kilobytes
psql -qX -c "INSERT INTO $S.w SELECT g, repeat(md5(random()::text), $((KB * 32))) FROM generate_series(1, $ROWS) g"
trap 'psql -qX -c "SELECT pg_drop_replication_slot('"'"'${S}_slot'"'"')" -c "DROP SCHEMA $S CASCADE" >/dev/null 2>&1' EXIT
echo "wide rows: $ROWS rows of ~$KB KB, default settings, one invocation each ($BIN)"
for mode in no_data initial; do
  DATABASE_HOSTNAME=$PGHOST DATABASE_PORT=$PGPORT DATABASE_USER=$PGUSER DATABASE_PASSWORD=$PGPASSWORD \
    DATABASE_DBNAME=$PGDATABASE KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS SLOT_NAME="${S}_slot" \
    TOPIC_PREFIX="$S-$mode" TABLE_INCLUDE_LIST="$S.w" SNAPSHOT_MODE=$mode \
    CHECKPOINT_URI="s3://$WALBRIDGE_S3_BUCKET/bench/$S/$mode.json" \
    /usr/bin/time -f "  $mode: peak RSS %M KB, %e s" "$BIN" invoke >/dev/null 2>"/tmp/$S.$mode.err" ||
    { cat "/tmp/$S.$mode.err" >&2; exit 1; }
  grep 'peak RSS' "/tmp/$S.$mode.err"
done
