"""The same store and pipeline on a real PostgreSQL (CI starts one: deployments/postgres.sh).

Set CIVICFLOW_TEST_POSTGRES_URL to an admin URL to run these here; `.ci/run` does.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from civicflow.childcare.pipeline import run_plain
from civicflow.samples.childcare import generate_childcare
from civicflow.samples.loading import load_masters_into_store
from civicflow.settings import Settings
from civicflow.sources.export_folder import ExportFolderSource
from civicflow.store.db import get_engine, migrate, session_scope
from civicflow.store.schema import AuditLogRow, Base, ChildcareCaseRow

ADMIN_URL = os.environ.get("CIVICFLOW_TEST_POSTGRES_URL", "")
pytestmark = pytest.mark.skipif(not ADMIN_URL, reason="CIVICFLOW_TEST_POSTGRES_URL not set")
TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh database for one test, dropped afterwards."""
    admin = make_url(ADMIN_URL)
    name = f"civicflow_test_{uuid.uuid4().hex[:10]}"
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        get_engine(admin.set(database=name).render_as_string(hide_password=False)).dispose()
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_migrations_match_the_schema_on_postgres(pg_url: str) -> None:
    migrate(pg_url)
    migrate(pg_url)
    with get_engine(pg_url).connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_the_pipeline_runs_on_postgres_and_reruns_enter_nothing_twice(
    pg_url: str, tmp_path: Path
) -> None:
    settings = Settings(var_dir=tmp_path / "var", database_url=pg_url)
    samples = tmp_path / "samples"
    generate_childcare(samples, seed=9, n=40, reference_date=TODAY)
    truth = json.loads((samples / "childcare" / "truth.json").read_text())
    load_masters_into_store(settings, samples)
    source = ExportFolderSource(samples / "childcare" / "export", settings.max_attachment_bytes)

    first = run_plain(source, settings, today=TODAY)
    second = run_plain(source, settings, today=TODAY)

    assert first.entered == truth["counts"]["accept"]
    assert second.entered == 0 and second.received == 0
    with session_scope(pg_url) as s:
        assert s.scalar(select(func.count()).select_from(ChildcareCaseRow)) == first.entered
        enters = s.scalar(select(func.count()).where(AuditLogRow.action == "enter"))
        assert enters == first.entered
