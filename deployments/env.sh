# Environment shared by `make up`, `make demo` and `make down` (source it to use the CLI by hand).
CIVICFLOW_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CIVICFLOW_HOME
export CIVICFLOW_VAR_DIR="${CIVICFLOW_VAR_DIR:-$CIVICFLOW_HOME/var}"
export PREFECT_HOME="${PREFECT_HOME:-$CIVICFLOW_VAR_DIR/prefect}"
export PREFECT_SERVER_API_HOST="${PREFECT_SERVER_API_HOST:-127.0.0.1}"
export PREFECT_SERVER_API_PORT="${PREFECT_SERVER_API_PORT:-4200}"
# Clients on this machine: a server listening on every address (0.0.0.0, ::) is reached on loopback.
case "$PREFECT_SERVER_API_HOST" in
  0.0.0.0|::|"[::]") _civicflow_client_host=127.0.0.1 ;;
  *:*) _civicflow_client_host="[$PREFECT_SERVER_API_HOST]" ;;  # a bare IPv6 address
  *) _civicflow_client_host=$PREFECT_SERVER_API_HOST ;;
esac
export PREFECT_API_URL="${PREFECT_API_URL:-http://$_civicflow_client_host:$PREFECT_SERVER_API_PORT/api}"
unset _civicflow_client_host
# Access: with an auth string on the server (required beyond loopback, see preflight.py) the CLI,
# the worker and the flow runs it starts send the same string.
if [ -n "${PREFECT_SERVER_API_AUTH_STRING:-}" ] && [ -z "${PREFECT_API_AUTH_STRING:-}" ]; then
  export PREFECT_API_AUTH_STRING="$PREFECT_SERVER_API_AUTH_STRING"
fi
# One setting moves both databases: with CIVICFLOW_DATABASE_URL on PostgreSQL, Prefect's server
# uses <database>_prefect on the same server (Settings.prefect_db_url), unless the operator set
# PREFECT_SERVER_DATABASE_CONNECTION_URL. CIVICFLOW_PREFECT_DB_DERIVED remembers that we set it,
# so sourcing this file again after changing CIVICFLOW_DATABASE_URL follows the change.
if [ -z "${PREFECT_SERVER_DATABASE_CONNECTION_URL:-}" ] \
  || [ "${PREFECT_SERVER_DATABASE_CONNECTION_URL}" = "${CIVICFLOW_PREFECT_DB_DERIVED:-}" ]; then
  unset PREFECT_SERVER_DATABASE_CONNECTION_URL CIVICFLOW_PREFECT_DB_DERIVED
  if [ -x "$CIVICFLOW_HOME/.venv/bin/python" ]; then
    _civicflow_prefect_db=$(cd "$CIVICFLOW_HOME" && "$CIVICFLOW_HOME/.venv/bin/python" -c \
      'from civicflow.settings import Settings; print(Settings().prefect_db_url)')
    if [ -n "$_civicflow_prefect_db" ]; then
      export PREFECT_SERVER_DATABASE_CONNECTION_URL="$_civicflow_prefect_db"
      export CIVICFLOW_PREFECT_DB_DERIVED="$_civicflow_prefect_db"
    fi
    unset _civicflow_prefect_db
  fi
fi
# Without these the task-run recorder lags far behind a busy batch and SQLite locks.
export PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE=200
export PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_READ_BATCH_SIZE=200
export PREFECT_SERVER_ANALYTICS_ENABLED=false
export PREFECT_WORKER_QUERY_SECONDS=5
export CIVICFLOW_PORTAL_PORT="${CIVICFLOW_PORTAL_PORT:-8710}"
export CIVICFLOW_PORTAL_URL="${CIVICFLOW_PORTAL_URL:-http://127.0.0.1:$CIVICFLOW_PORTAL_PORT}"
CIVICFLOW_POOL=civicflow-process  # the work pool prefect.yaml names
RUN_DIR="$CIVICFLOW_VAR_DIR/run"
BIN="$CIVICFLOW_HOME/.venv/bin"
