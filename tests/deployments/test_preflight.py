"""`make up`'s preflight: who may reach the server, which databases, what env.sh exports."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from civicflow.errors import PermanentError
from deployments.preflight import (
    access_problem,
    client_auth_problem,
    describe_database,
    ensure_database,
    is_loopback,
)

ROOT = Path(__file__).resolve().parents[2]
ADMIN_URL = os.environ.get("CIVICFLOW_TEST_POSTGRES_URL", "")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        (" LOCALHOST ", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.10.5", False),
        ("fe80::1", False),
        ("civicflow.office.lan", False),
        ("", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("host", "auth", "code"),
    [
        ("127.0.0.1", "", None),  # local only: no password needed
        ("localhost", "", None),
        ("0.0.0.0", "", "auth_required"),
        ("192.168.10.5", "  ", "auth_required"),
        ("civicflow.office.lan", "", "auth_required"),
        ("0.0.0.0", "civicflow:s3cret", None),
        ("127.0.0.1", "civicflow:s3cret", None),
        ("0.0.0.0", "justapassword", "auth_string_malformed"),
        ("127.0.0.1", "civicflow:", "auth_string_malformed"),
    ],
)
def test_access_problem(host: str, auth: str, code: str | None) -> None:
    problem = access_problem(host, auth)
    assert (problem.code if problem else None) == code
    if problem:
        assert "PREFECT_SERVER_API_AUTH_STRING" in problem.message_ja
        assert "PREFECT_SERVER_API_AUTH_STRING" in problem.message_en


@pytest.mark.parametrize(
    ("server", "client", "refused"),
    [("", "", False), ("a:b", "a:b", False), ("a:b", "", True), ("a:b", "a:c", True)],
)
def test_client_auth_problem(server: str, client: str, refused: bool) -> None:
    assert (client_auth_problem(server, client) is not None) is refused


def test_describe_database_hides_the_password(tmp_path: Path) -> None:
    shown = describe_database("postgresql+asyncpg://civicflow:p%40ss@db.lan:5432/civicflow_prefect")
    assert shown == "postgresql+asyncpg://civicflow:***@db.lan:5432/civicflow_prefect"
    assert describe_database("", prefect_home=tmp_path) == f"SQLite {tmp_path / 'prefect.db'}"


def test_ensure_database_says_what_to_check_when_postgres_is_unreachable() -> None:
    with pytest.raises(PermanentError) as caught:
        ensure_database("postgresql+psycopg://civicflow:topsecret@127.0.0.1:1/civicflow")
    assert caught.value.code == "database_unreachable"
    assert "CIVICFLOW_DATABASE_URL" in caught.value.message_en
    assert "topsecret" not in caught.value.message_ja + caught.value.message_en


# --- env.sh and up.sh, as bash runs them -------------------------------------------------


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CIVICFLOW_"))}
    env["CIVICFLOW_VAR_DIR"] = str(tmp_path / "var")
    env.update(extra)
    return env


def _sourced(tmp_path: Path, *names: str, **extra: str) -> dict[str, str]:
    """The values of ``names`` after sourcing env.sh in a clean environment."""
    script = f"source {ROOT}/deployments/env.sh; " + "; ".join(
        f'printf "%s=%s\\n" {n} "${{{n}:-}}"' for n in names
    )
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,  # env.sh finds the checkout by its own path
        env=_clean_env(tmp_path, **extra),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return dict(line.split("=", 1) for line in done.stdout.splitlines())


def test_env_keeps_prefect_on_sqlite_when_the_store_is_sqlite(tmp_path: Path) -> None:
    got = _sourced(tmp_path, "PREFECT_SERVER_DATABASE_CONNECTION_URL", "PREFECT_API_URL")
    assert got["PREFECT_SERVER_DATABASE_CONNECTION_URL"] == ""
    assert got["PREFECT_API_URL"] == "http://127.0.0.1:4200/api"


def test_env_puts_prefect_beside_a_postgres_store(tmp_path: Path) -> None:
    got = _sourced(
        tmp_path,
        "PREFECT_SERVER_DATABASE_CONNECTION_URL",
        CIVICFLOW_DATABASE_URL="postgresql+psycopg://civicflow:pw@db.lan:5432/civicflow",
    )
    assert (
        got["PREFECT_SERVER_DATABASE_CONNECTION_URL"]
        == "postgresql+asyncpg://civicflow:pw@db.lan:5432/civicflow_prefect"
    )


def test_env_leaves_an_explicit_prefect_database_alone(tmp_path: Path) -> None:
    explicit = "postgresql+asyncpg://prefect:pw@other.lan/prefect"
    got = _sourced(
        tmp_path,
        "PREFECT_SERVER_DATABASE_CONNECTION_URL",
        CIVICFLOW_DATABASE_URL="postgresql+psycopg://civicflow:pw@db.lan/civicflow",
        PREFECT_SERVER_DATABASE_CONNECTION_URL=explicit,
    )
    assert got["PREFECT_SERVER_DATABASE_CONNECTION_URL"] == explicit


def test_env_passes_the_auth_string_to_clients_and_reaches_a_wildcard_server_on_loopback(
    tmp_path: Path,
) -> None:
    got = _sourced(
        tmp_path,
        "PREFECT_API_AUTH_STRING",
        "PREFECT_API_URL",
        PREFECT_SERVER_API_HOST="0.0.0.0",
        PREFECT_SERVER_API_PORT="4300",
        PREFECT_SERVER_API_AUTH_STRING="civicflow:s3cret",
    )
    assert got == {
        "PREFECT_API_AUTH_STRING": "civicflow:s3cret",
        "PREFECT_API_URL": "http://127.0.0.1:4300/api",
    }


def test_up_refuses_a_server_open_to_the_lan_without_an_auth_string(tmp_path: Path) -> None:
    done = subprocess.run(
        ["bash", "deployments/up.sh"],
        cwd=ROOT,
        env=_clean_env(tmp_path, PREFECT_SERVER_API_HOST="0.0.0.0", PREFECT_SERVER_API_PORT="1"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "PREFECT_SERVER_API_AUTH_STRING" in done.stderr
    assert "起動を中止しました" in done.stderr and "Not started" in done.stderr
    assert not list((tmp_path / "var").rglob("*.pid"))  # nothing was started
    assert not (tmp_path / "var/civicflow.db").exists()  # not even the store migrated


def test_up_refuses_when_the_clients_would_send_another_auth_string(tmp_path: Path) -> None:
    done = subprocess.run(
        ["bash", "deployments/up.sh"],
        cwd=ROOT,
        env=_clean_env(
            tmp_path,
            PREFECT_SERVER_API_PORT="1",
            PREFECT_SERVER_API_AUTH_STRING="civicflow:one",
            PREFECT_API_AUTH_STRING="civicflow:other",
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "differs from PREFECT_SERVER_API_AUTH_STRING" in done.stderr
    assert "civicflow:one" not in done.stderr + done.stdout


# --- database creation on a real PostgreSQL (CI starts one) ------------------------------


@pytest.fixture
def postgres_role() -> Iterator[tuple[str, str]]:
    """A role allowed to create databases and one that is not, dropped afterwards."""
    if not ADMIN_URL:
        pytest.skip("CIVICFLOW_TEST_POSTGRES_URL not set: no PostgreSQL to create databases on")
    admin = make_url(ADMIN_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    tag = uuid.uuid4().hex[:8]
    roles = {"creator": f"cf_creator_{tag}", "plain": f"cf_plain_{tag}"}
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE \"{roles['creator']}\" LOGIN CREATEDB PASSWORD 'pw'")
        conn.execute(f"CREATE ROLE \"{roles['plain']}\" LOGIN PASSWORD 'pw'")
    try:
        yield roles["creator"], roles["plain"]
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "cf_made_{tag}" WITH (FORCE)')
            for role in roles.values():
                conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_ensure_database_creates_once_and_tells_the_dba_when_it_may_not(
    postgres_role: tuple[str, str],
) -> None:
    creator, plain = postgres_role
    name = f"cf_made_{creator.rsplit('_', 1)[1]}"
    url = make_url(ADMIN_URL).set(username=creator, password="pw", database=name)
    rendered = url.render_as_string(hide_password=False)
    assert ensure_database(rendered) is True
    assert ensure_database(rendered) is False  # idempotent: up.sh runs it every time

    with pytest.raises(PermanentError) as caught:
        ensure_database(url.set(username=plain, database=f"{name}_x").render_as_string(False))
    assert caught.value.code == "database_missing"
    assert f'CREATE DATABASE "{name}_x" OWNER "{plain}"' in caught.value.message_en
