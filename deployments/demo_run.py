"""Trigger each process's deployment, wait until it finishes or waits for a person, say where to look."""

from __future__ import annotations

import os
import sys
import time
from typing import Any, cast

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment

from civicflow.settings import get_settings
from civicflow.store import repositories as repo
from civicflow.store.db import session_scope

# (deployment, parameters, what a person does when it waits)
RUNS: list[tuple[str, dict[str, Any], str]] = [
    (
        "childcare-support/childcare-nightly",
        {},
        "applications wait for a reviewer: menu ⋮ → Resume shows each one beside the registry record",
    ),
    (
        "bus-pass/bus-pass-nightly",
        {},
        "handwritten forms wait for review: menu ⋮ → Resume shows each doubtful field's crop "
        "beside the reading; name and birth date then need a second, different reviewer",
    ),
    (
        "overtime-notice/overtime-monthly",
        {"force": True},  # the demo runs any day; the schedule runs on the first business day
        "the notices wait for HR's double check: menu ⋮ → Resume, decision issue or hold",
    ),
    ("asset-ledger-export/asset-export-monthly", {"force": True}, ""),
    ("hours-saved-report/hours-report-monthly", {}, ""),
]


def run_and_wait(name: str, parameters: dict[str, Any]) -> tuple[FlowRun, str]:
    """Start a deployment run and wait until it is final or waits for a person."""
    run = cast(FlowRun, run_deployment(name, parameters=parameters, timeout=0))
    state_name = ""
    with get_client(sync_client=True) as client:
        for _ in range(450):
            state = client.read_flow_run(run.id).state
            state_name = (state.name or "") if state else ""
            if state and (state.is_final() or state.is_paused()):
                break
            time.sleep(2)
    return run, state_name


def main() -> int:
    """Run the demo and print where to look."""
    ui = os.environ.get("PREFECT_API_URL", "http://127.0.0.1:4200/api").removesuffix("/api")
    settings = get_settings()
    ok = True
    for name, parameters, waiting in RUNS:
        print(f"== {name}")
        run, state_name = run_and_wait(name, parameters)
        with session_scope(settings.db_url) as session:
            summaries = [s for s in repo.run_summaries(session) if s.flow_run_id == str(run.id)]
        print(f"   state: {state_name}   UI: {ui}/v2/runs/flow-run/{run.id}")
        if summaries:
            s = summaries[-1]
            print(
                f"   received {s.received}, entered {s.entered}, to review {s.sent_to_review}, "
                f"rejected {s.rejected}, quarantined {s.quarantined}, hours saved {s.hours_saved:.2f}"
            )
        if state_name in {"Suspended", "Paused"}:
            print(f"   waiting: {waiting}")
            if name.startswith("childcare"):
                print(
                    "   or from a shell: .venv/bin/civicflow review resume "
                    f"{run.id} --reviewer demo --approve-all"
                )
            if name.startswith("bus-pass"):
                print(
                    "   or from a shell: .venv/bin/civicflow review resume "
                    f"{run.id} --process bus_pass --reviewer demo --approve-all"
                )
        ok = ok and state_name in {"Suspended", "Paused", "Completed"}
    out = settings.output_dir
    print("== where to look")
    print(f"   all runs:        {ui}/v2/runs")
    print(f"   childcare:       {out / 'childcare'}  (依頼書 letters/*.pdf, 実績管理 ledger .xlsx)")
    print(f"   overtime:        {out / 'overtime'}  (draft/ until checked, then issued/)")
    print(f"   assets:          {out / 'assets'}  (import CSV, rejects workbook)")
    print(f"   bus pass:        {out / 'bus_pass'}  (受付簿 .xlsx for the year, PDF for the day)")
    print(
        f"   scans:           {settings.bus_pass_inbox.parent}  (inbox/, processed/, quarantine/ with reasons)"
    )
    print(f"   hours saved:     {out / 'reports'}  (CSV + chart; also the report run's artifacts)")
    print("   quarantined:     .venv/bin/civicflow quarantine list --process childcare_support")
    print("                    .venv/bin/civicflow quarantine list --process bus_pass")
    print("   stop everything: make down")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
