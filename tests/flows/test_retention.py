"""The retention flow under the Prefect harness: only finished, old history is deleted."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from prefect import flow, task
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.actions import ArtifactCreate
from prefect.client.schemas.objects import Artifact, FlowRun
from prefect.exceptions import ObjectNotFound
from prefect.settings import get_current_settings
from prefect.states import (
    Cancelled,
    Completed,
    Crashed,
    Failed,
    Paused,
    Pending,
    Running,
    Scheduled,
    State,
    Suspended,
)

from civicflow.settings import Settings
from flows.retention import retention_flow

pytestmark = pytest.mark.usefixtures("prefect_harness")


@flow(name="retention-test-subject")
def subject() -> None:
    """Stands for any business flow; its runs are made through the API."""


@task(name="retention-test-step")
def step() -> None:
    """Stands for any task."""


@pytest.fixture
def client() -> Iterator[SyncPrefectClient]:
    with get_client(sync_client=True) as c:
        yield c


def _run(client: SyncPrefectClient, *states: State) -> FlowRun:
    """A flow run taken through ``states`` (the server stamps the end time)."""
    run = client.create_flow_run(subject, state=Pending())
    for state in states:
        client.set_flow_run_state(run.id, state, force=True)
    return client.read_flow_run(run.id)


def _exists(client: SyncPrefectClient, run_id: UUID) -> bool:
    try:
        client.read_flow_run(run_id)
    except ObjectNotFound:
        return False
    return True


def _artifact(client: SyncPrefectClient, run: FlowRun, key: str | None = None) -> UUID:
    created = client.create_artifact(
        ArtifactCreate(key=key, type="markdown", data="件数のみ / counts only", flow_run_id=run.id)
    )
    return created.id


def _read_artifacts(client: SyncPrefectClient, ids: list[UUID]) -> list[Artifact]:
    # Not client.read_artifacts: it sends the filters it is not given as null (422 here).
    body = {"artifacts": {"id": {"any_": [str(i) for i in ids]}}, "limit": len(ids), "offset": 0}
    return Artifact.model_validate_list(
        client.request("POST", "/artifacts/filter", json=body).json()
    )


def _artifact_ids(client: SyncPrefectClient, ids: list[UUID]) -> set[UUID]:
    return {a.id for a in _read_artifacts(client, ids)}


def test_only_finished_runs_and_artifacts_older_than_the_cutoff_are_deleted(
    settings: Settings, client: SyncPrefectClient
) -> None:
    old_finished = [
        _run(client, Running(), Completed()),
        _run(client, Running(), Failed()),
        _run(client, Running(), Cancelled()),
        _run(client, Running(), Crashed()),
    ]
    task_run = client.create_task_run(step, flow_run_id=old_finished[0].id, dynamic_key="0")
    paused = _run(client, Running(), Paused())
    suspended = _run(client, Running(), Suspended())
    running = _run(client, Running())
    scheduled = _run(client, Scheduled(scheduled_time=dt.datetime.now(dt.UTC)))
    unfinished = [paused, suspended, running, scheduled]
    old_artifact = _artifact(client, old_finished[1])
    old_keyed = _artifact(client, old_finished[0], key="retention-test-k")
    latest_keyed = _artifact(client, old_finished[0], key="retention-test-k")
    paused_artifact = _artifact(client, paused)

    # Everything above is "old": the cutoff is the last moment it was touched.
    artifacts = _read_artifacts(client, [old_artifact, old_keyed, latest_keyed, paused_artifact])
    assert len(artifacts) == 4 and all(r.end_time is not None for r in old_finished)
    last = max([r.end_time for r in old_finished if r.end_time] + [a.created for a in artifacts])
    cutoff = last + dt.timedelta(microseconds=1)  # "before the cutoff" is strict
    while dt.datetime.now(dt.UTC) <= cutoff:  # what follows is newer than the cutoff
        time.sleep(0.01)
    recent = _run(client, Running(), Completed())
    recent_artifact = _artifact(client, recent)

    trial = retention_flow(prefect_before=cutoff, dry_run=True)
    assert all(_exists(client, r.id) for r in old_finished)
    assert any("dry run" in note for note in trial.notes)

    summary = retention_flow(prefect_before=cutoff)

    assert not any(_exists(client, r.id) for r in old_finished)
    with pytest.raises(ObjectNotFound):  # task runs go with their flow run
        client.read_task_run(task_run.id)
    assert all(_exists(client, r.id) for r in unfinished)
    assert _exists(client, recent.id)
    assert summary.flow_run_id and _exists(client, UUID(summary.flow_run_id))
    assert trial.flow_run_id and _exists(client, UUID(trial.flow_run_id))
    assert _artifact_ids(
        client, [old_artifact, old_keyed, latest_keyed, paused_artifact, recent_artifact]
    ) == {latest_keyed, paused_artifact, recent_artifact}
    assert summary.process == "retention" and summary.batches_handled == 1
    assert any("Prefect" in note for note in summary.notes)


def test_the_default_cutoff_keeps_recent_history(
    settings: Settings, client: SyncPrefectClient
) -> None:
    finished = _run(client, Running(), Completed())
    artifact = _artifact(client, finished)
    storage = Path(get_current_settings().results.local_storage_path)
    storage.mkdir(parents=True, exist_ok=True)
    stale = storage / "retention-test-stale-result"
    stale.write_text("{}")
    long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=3)).timestamp()
    os.utime(stale, (long_ago, long_ago))
    # Younger than the longest a suspended run waits for review plus a day: kept, even
    # though the history cutoff (one day) is older.
    waiting = storage / "retention-test-waiting-result"
    waiting.write_text("{}")
    recently = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=30)).timestamp()
    os.utime(waiting, (recently, recently))

    summary = retention_flow(prefect_days=1)

    assert _exists(client, finished.id)
    assert _artifact_ids(client, [artifact]) == {artifact}
    assert summary.hours_saved > 0
    assert not stale.exists() and waiting.exists()
    assert any("result files deleted" in note for note in summary.notes)
    waiting.unlink()
