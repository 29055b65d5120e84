#!/usr/bin/env bash
# Stop the local office. Workers first: a worker stopped together with the server can hang.
set -uo pipefail
source "$(dirname "$0")/env.sh"
stop() {
  local name=$1 pidfile="$RUN_DIR/$1.pid"
  [ -f "$pidfile" ] || return 0
  local pid; pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"; }
    echo "  stopped $name"
  fi
  rm -f "$pidfile"
}
stop worker
stop portal
stop server
