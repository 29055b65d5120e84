"""Recording quarantined inputs (隔離) for any process."""

from __future__ import annotations

from civicflow import models
from civicflow.settings import Settings
from civicflow.store import repositories as repo
from civicflow.store.db import session_scope


def record_quarantine(
    settings: Settings, records: list[models.QuarantineRecord], flow_run_id: str | None
) -> int:
    """Store quarantined inputs so an operator sees them; returns how many are new.

    An input still broken from an earlier run keeps its open record and is not counted
    again; ``quarantine_open`` in a summary shows everything still waiting for a fix.
    """
    if not records:
        return 0
    with session_scope(settings.db_url) as session:
        return sum(repo.quarantine(session, r, flow_run_id=flow_run_id) for r in records)
