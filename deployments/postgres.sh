#!/usr/bin/env bash
# A private PostgreSQL cluster on loopback (tests, or a store on PostgreSQL by hand).
#   bash deployments/postgres.sh start   → prints the SQLAlchemy URL (the superuser 'postgres',
#                                           trust on loopback: it may CREATE ROLE / DATABASE)
#   bash deployments/postgres.sh stop
# Installs Debian's postgresql if missing. Runs as the 'postgres' user (initdb refuses root).
set -euo pipefail
cmd=${1:-start}
DIR=${PG_DIR:-/tmp/civicflow-pg}
PORT=${PG_PORT:-5433}
pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
PGBIN=$(pgbin)
case "$cmd" in
  start)
    if [ -z "$PGBIN" ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
      PGBIN=$(pgbin)
    fi
    mkdir -p "$DIR" && chown postgres "$DIR"
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
      su postgres -c "$PGBIN/initdb -D $DIR/data -A trust -U postgres -E UTF8 --locale=C.UTF-8" >/dev/null
    fi
    if ! su postgres -c "$PGBIN/pg_ctl -D $DIR/data status" >/dev/null 2>&1; then
      su postgres -c "$PGBIN/pg_ctl -D $DIR/data -w -l $DIR/log \
        -o '-p $PORT -k $DIR -c listen_addresses=127.0.0.1' start" >/dev/null
    fi
    echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
    ;;
  stop)
    [ -n "$PGBIN" ] && su postgres -c "$PGBIN/pg_ctl -D $DIR/data -m fast stop" >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
