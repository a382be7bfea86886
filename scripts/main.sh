#!/usr/bin/env bash
# The main job: the whole local system up, with a paper-trading demo session visible in the Temporal UI.
#
#   bash scripts/main.sh up      stack (Temporal, MariaDB, FerretDB) + migrations + session worker +
#                                paper-broker worker + demo session replaying the market + live feeder
#   bash scripts/main.sh down    stop the workers and feeder this script started, then the stack
#   bash scripts/main.sh status
#
# Idempotent: `up` twice reuses what runs. Worker logs: .run/logs/<name>.log (also in MongoDB maologs).
# Metrics (the ports nagios/maotrade.cfg checks, see ops/nagios-config.ts): session worker /metrics on
# :9464 (Temporal SDK :9465), paper broker worker on :9466 (:9467); SESSION_METRICS_PORT and
# PAPER_METRICS_PORT move them (then regenerate the Nagios configuration with the same ports).
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="$ROOT/.run"
mkdir -p "$RUN/pids" "$RUN/logs"
cd "$ROOT"

export TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-127.0.0.1:7233}"
export MYSQL_URL="${MYSQL_URL:-mysql://maotrade:maotrade@127.0.0.1:3306}"
export MONGO_URL="${MONGO_URL:-mongodb://127.0.0.1:27017/maologs}"
export LOG_LEVEL="${LOG_LEVEL:-info}"
# Paper trading is simulated: the paper broker worker runs with trading enabled so the demo trades.
export TRADING_ENABLE="${TRADING_ENABLE:-true}"

alive() { local f="$RUN/pids/$1.pid"; [[ -f $f ]] && kill -0 "$(<"$f")" 2>/dev/null; }

# start <name> <ready-pattern> cmd...: start detached unless running; wait for the ready line in its log.
start() {
  local name=$1 ready=$2; shift 2
  if alive "$name"; then printf '✓ %-15s already running (pid %s)\n' "$name" "$(<"$RUN/pids/$name.pid")"; return; fi
  : >"$RUN/logs/$name.log"
  setsid "$@" >>"$RUN/logs/$name.log" 2>&1 < /dev/null &
  echo $! >"$RUN/pids/$name.pid"
  for _ in $(seq 1 120); do
    if grep -q -- "$ready" "$RUN/logs/$name.log"; then printf '✓ %-15s pid %s\n' "$name" "$(<"$RUN/pids/$name.pid")"; return; fi
    if ! alive "$name"; then echo "✗ $name exited during start; last lines of .run/logs/$name.log:" >&2; tail -n 20 "$RUN/logs/$name.log" >&2; exit 1; fi
    sleep 0.5
  done
  echo "✗ $name not ready after 60 s; see .run/logs/$name.log" >&2; exit 1
}

stop() {
  local name=$1 f="$RUN/pids/$1.pid"
  [[ -f $f ]] || return 0
  local pid; pid=$(<"$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    printf '○ %-15s stopped\n' "$name"
  fi
  rm -f "$f"
}

case "${1:-up}" in
  up)
    [[ -d node_modules ]] || npm ci --no-audit --no-fund
    bash scripts/stack.sh up
    # The workers run compiled (as in production): a restart after a crash skips the TypeScript step.
    npm run --silent build:workers
    start session-worker '"state":"RUNNING"' env METRICS_PORT="${SESSION_METRICS_PORT:-9464}" node .run/dist/session-worker.js
    start broker-paper '"state":"RUNNING"' env METRICS_PORT="${PAPER_METRICS_PORT:-9466}" node .run/dist/broker-worker.js paper
    NODE=(node --import tsx)
    "${NODE[@]}" scripts/demo.ts
    start demo-feeder 'live feeder' "${NODE[@]}" scripts/demo.ts --live
    # Alerts to a person (workers/notifier-worker.ts): only when a channel is configured (NOTIFIER_*).
    if [[ -n "${NOTIFIER_WEBHOOK_URL:-}${NOTIFIER_TELEGRAM_BOT_TOKEN:-}${NOTIFIER_SMTP_HOST:-}" ]]; then
      NOTIFIER_ACCOUNTS="${NOTIFIER_ACCOUNTS:-demo}" start notifier 'notifier running' "${NODE[@]}" workers/notifier-worker.ts
    fi
    echo "The demo session keeps trading one frame a minute. Stop everything with: npm run stop"
    ;;
  down)
    stop notifier; stop demo-feeder; stop broker-paper; stop session-worker
    bash scripts/stack.sh down
    ;;
  status)
    bash scripts/stack.sh status || true
    for n in session-worker broker-paper demo-feeder notifier; do
      if alive "$n"; then printf '✓ %-15s pid %s\n' "$n" "$(<"$RUN/pids/$n.pid")"; else printf '○ %-15s down\n' "$n"; fi
    done
    ;;
  *) echo "usage: bash scripts/main.sh up|down|status" >&2; exit 64 ;;
esac
