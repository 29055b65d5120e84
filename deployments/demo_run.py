"""Trigger the childcare deployment, wait until it finishes or waits for review, say where to look."""

from __future__ import annotations

import os
import sys
import time
from typing import cast

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment

from civicflow.settings import get_settings
from civicflow.store import repositories as repo
from civicflow.store.db import session_scope

DEPLOYMENT = "childcare-support/childcare-nightly"


def main() -> int:
    """Run the demo and print where to look."""
    ui = os.environ.get("PREFECT_API_URL", "http://127.0.0.1:4200/api").removesuffix("/api")
    run = cast(FlowRun, run_deployment(DEPLOYMENT, timeout=0))
    print(f"  flow run {run.name} ({run.id}) scheduled; the worker picks it up within seconds")
    state_name: str = ""
    with get_client(sync_client=True) as client:
        for _ in range(600):
            state = client.read_flow_run(run.id).state
            state_name = (state.name or "") if state else ""
            if state and (state.is_final() or state.is_paused()):
                break
            time.sleep(2)
    settings = get_settings()
    with session_scope(settings.db_url) as session:
        summaries = [
            s
            for s in repo.run_summaries(session, "childcare_support")
            if s.flow_run_id == str(run.id)
        ]
        pending = repo.count_pending_reviews(session, "childcare_support")
        quarantined = len(repo.open_quarantine(session, "childcare_support"))
    print(f"== state: {state_name}")
    if summaries:
        s = summaries[-1]
        print(
            f"  received {s.received}, entered {s.entered}, sent to review {s.sent_to_review}, "
            f"rejected {s.rejected}, quarantined {s.quarantined}, hours saved {s.hours_saved:.2f}"
        )
    print(f"== Prefect UI:      {ui}/v2/runs/flow-run/{run.id}")
    print(f"   all runs:        {ui}/runs")
    print(
        f"   documents:       {settings.output_dir / 'childcare'}  (依頼書 letters/*.pdf, 実績管理 ledger .xlsx)"
    )
    print(f"   quarantined:     {quarantined} inputs — civicflow quarantine list")
    if state_name in {"Suspended", "Paused"}:
        print(
            f"   review:          {pending} applications wait for a reviewer. Open the run above, menu ⋮ → "
            "Resume shows each application beside the registry record; or from a shell:\n"
            f"                    .venv/bin/civicflow review resume {run.id} --reviewer demo --approve-all"
        )
    print("   stop everything: make down")
    return 0 if state_name in {"Suspended", "Paused", "Completed"} else 1


if __name__ == "__main__":
    sys.exit(main())
