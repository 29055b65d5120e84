#!/usr/bin/env bash
# Start the local office: Prefect server, portal simulator, deployments, a process worker.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$CIVICFLOW_HOME"
mkdir -p "$RUN_DIR" "$PREFECT_HOME"

alive() { [ -f "$RUN_DIR/$1.pid" ] && kill -0 "$(cat "$RUN_DIR/$1.pid")" 2>/dev/null; }
start() {
  local name=$1; shift
  if alive "$name"; then echo "  $name already running (pid $(cat "$RUN_DIR/$name.pid"))"; return; fi
  setsid nohup "$@" >"$RUN_DIR/$name.log" 2>&1 < /dev/null &
  echo $! >"$RUN_DIR/$name.pid"
  echo "  started $name (pid $!, log $RUN_DIR/$name.log)"
}
wait_http() {  # url, seconds, name
  for _ in $(seq 1 "$2"); do
    if "$BIN/python" -c "import httpx,sys; sys.exit(0 if httpx.get('$1', timeout=2).status_code == 200 else 1)" 2>/dev/null; then return 0; fi
    sleep 1
  done
  echo "$3 did not become healthy; see $RUN_DIR/$3.log" >&2; tail -20 "$RUN_DIR/$3.log" >&2; exit 1
}

# Refuses a server open to the LAN without an auth string; creates missing PostgreSQL
# databases; prints which database the store and Prefect use (passwords hidden).
"$BIN/python" -m deployments.preflight
"$BIN/civicflow" db upgrade
# The UI asks its own origin for the API, so it works on http://127.0.0.1:4200, on
# http://<this PC>:4200 and behind the office's reverse proxy alike.
export PREFECT_UI_API_URL="${PREFECT_UI_API_URL:-/api}"
start server "$BIN/prefect" server start --host "$PREFECT_SERVER_API_HOST" --port "$PREFECT_SERVER_API_PORT"
wait_http "$PREFECT_API_URL/health" 90 server
start portal "$BIN/civicflow" portal serve --port "$CIVICFLOW_PORTAL_PORT"
wait_http "$CIVICFLOW_PORTAL_URL/healthz" 30 portal
"$BIN/prefect" work-pool inspect "$CIVICFLOW_POOL" >/dev/null 2>&1 \
  || "$BIN/prefect" work-pool create "$CIVICFLOW_POOL" --type process >/dev/null
"$BIN/python" -m deployments.apply >"$RUN_DIR/deploy.log" 2>&1 \
  || { cat "$RUN_DIR/deploy.log" >&2; exit 1; }
echo "  deployments applied from prefect.yaml"
start worker "$BIN/prefect" worker start --pool "$CIVICFLOW_POOL"
echo "Prefect UI: ${PREFECT_API_URL%/api}  (stop with: make down)"
