"""End to end on PostgreSQL: one setting moves the store and Prefect, a process runs, all stops.

With ``CIVICFLOW_DATABASE_URL`` naming a database that does not exist yet (as a role allowed
to create databases, with a password), ``deployments/up.sh`` creates it and ``<name>_prefect``
beside it, starts the Prefect server on the latter with an auth string, and the worker runs the
asset-ledger export with the store on the former. ``deployments/down.sh`` stops everything,
whatever happened. `.ci/run` starts the PostgreSQL (deployments/postgres.sh) and sets
CIVICFLOW_TEST_POSTGRES_URL; without it this test is skipped.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
ADMIN_URL = os.environ.get("CIVICFLOW_TEST_POSTGRES_URL", "")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not ADMIN_URL,
        reason="CIVICFLOW_TEST_POSTGRES_URL not set: no PostgreSQL to run the stack on "
        "(.ci/run starts one with deployments/postgres.sh)",
    ),
]
PASSWORD = "e2e-Pa55word"
AUTH = "civicflow:e2e-auth-string"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _admin(database: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
    url = make_url(ADMIN_URL).set(drivername="postgresql", database=database)
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


def _tables(database: str) -> set[str]:
    with _admin(database) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return {str(row[0]) for row in rows}


@pytest.fixture
def store_url() -> Iterator[str]:
    """A URL for a role with CREATEDB and a database that does not exist yet; all dropped after."""
    name = f"cf_e2e_{uuid.uuid4().hex[:8]}"
    with _admin() as conn:
        conn.execute(f"CREATE ROLE \"{name}\" LOGIN CREATEDB PASSWORD '{PASSWORD}'")
    try:
        url = make_url(ADMIN_URL).set(username=name, password=PASSWORD, database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with _admin() as conn:
            for database in (name, f"{name}_prefect"):
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{name}"')


def _run(args: list[str], env: dict[str, str], timeout: float) -> str:
    done = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


def _stop_everything(env: dict[str, str], run_dir: Path) -> None:
    subprocess.run(["bash", "deployments/down.sh"], cwd=ROOT, env=env, timeout=120, check=False)
    for pidfile in run_dir.glob("*.pid"):  # down.sh failed half-way: no server left behind
        try:
            os.killpg(int(pidfile.read_text()), signal.SIGKILL)
        except (ProcessLookupError, ValueError, PermissionError):
            pass


def test_one_setting_puts_store_and_prefect_on_postgres_and_a_process_runs(
    store_url: str, tmp_path: Path
) -> None:
    var = tmp_path / "var"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CIVICFLOW_"))}
    env.update(
        CIVICFLOW_VAR_DIR=str(var),
        CIVICFLOW_DATABASE_URL=store_url,
        PREFECT_SERVER_API_PORT=str(port),
        PREFECT_SERVER_API_AUTH_STRING=AUTH,
        CIVICFLOW_PORTAL_PORT=str(_free_port()),
    )
    database = str(make_url(store_url).database)
    try:
        up = _run(["bash", "deployments/up.sh"], env, 150)
        assert f"/{database} " in up and f"/{database}_prefect " in up, up
        assert up.count("created / 作成しました") == 2, up
        assert PASSWORD not in up and AUTH not in up, up

        # Each keeps its own alembic_version; nothing went to the SQLite defaults.
        store_tables, prefect_tables = _tables(database), _tables(f"{database}_prefect")
        assert {"residents", "run_metrics", "alembic_version"} <= store_tables
        assert {"flow_run", "deployment", "alembic_version"} <= prefect_tables
        assert not {"flow_run", "deployment"} & store_tables
        assert not {"residents", "run_metrics"} & prefect_tables
        assert not (var / "civicflow.db").exists() and not (var / "prefect/prefect.db").exists()

        # The API wants the auth string; the CLI, the worker and the flow run send it.
        api = f"http://127.0.0.1:{port}/api"
        assert httpx.post(f"{api}/flows/filter", json={}, timeout=10).status_code == 401
        assert httpx.post(f"{api}/flows/filter", json={}, auth=tuple(AUTH.split(":")), timeout=10)
        client_env = {**env, "PREFECT_API_URL": api, "PREFECT_API_AUTH_STRING": AUTH}
        _run(
            [
                str(ROOT / ".venv/bin/civicflow"),
                "samples",
                "generate",
                "--n",
                "2",
                "--assets",
                "20",
            ],
            client_env,
            120,
        )
        out = _run(
            [
                str(ROOT / ".venv/bin/prefect"),
                "deployment",
                "run",
                "asset-ledger-export/asset-export-monthly",
                "--param",
                "force=true",
                "--watch",
                "--watch-timeout",
                "90",
            ],
            client_env,
            120,
        )
        assert "Completed" in out, out
        assert list((var / "output/assets").rglob("asset_import_*.csv"))
        with _admin(database) as conn:
            processes = conn.execute("SELECT process FROM run_metrics").fetchall()
        assert [p for (p,) in processes if "asset" in str(p)], processes
        with _admin(f"{database}_prefect") as conn:
            done = conn.execute(
                "SELECT name FROM flow_run WHERE state_type = 'COMPLETED'"
            ).fetchall()
        assert len(done) == 1, done  # (the schedules add future runs, SCHEDULED)
    finally:
        _stop_everything(env, var / "run")
    assert not list((var / "run").glob("*.pid"))
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
