"""End to end: `make demo`'s script on a small N, with a real server, worker and portal.

Starts everything on free loopback ports with its own var/ folder, answers the childcare
review the way staff do — in the Prefect UI, in headless Debian chromium driven by
`tests/e2e/ui/resume_review.mjs` — and checks through the API and the store that the run
completed with the decisions applied under the name the browser typed, the letters and the
ledger written. Screenshots of each step are kept in test-output/ui/. Stops the services
whatever happens.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from civicflow.settings import Settings
from civicflow.store import repositories as repo
from civicflow.store.db import session_scope
from civicflow.store.schema import AuditLogRow, ReviewItemRow

ROOT = Path(__file__).resolve().parents[2]
UI_DIR = ROOT / "tests/e2e/ui"
SCREENSHOTS = ROOT / "test-output/ui"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
REVIEWER = "港 花子"  # typed into the form by the browser; must come back in the store
pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CIVICFLOW_"))}
    env.update(
        CIVICFLOW_VAR_DIR=str(var_dir),
        PREFECT_SERVER_API_PORT=str(_free_port()),
        CIVICFLOW_PORTAL_PORT=str(_free_port()),
    )
    return env


def _run(args: list[str], env: dict[str, str], timeout: float) -> str:
    done = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _state(run_id: str, env: dict[str, str]) -> str:
    script = (
        "from prefect.client.orchestration import get_client\n"
        f"with get_client(sync_client=True) as c: print(c.read_flow_run('{run_id}').state.name)"
    )
    return _run([str(ROOT / ".venv/bin/python"), "-c", script], env, 60).strip().splitlines()[-1]


def _require_browser() -> str:
    """The browser test's tools, installed by `make setup`; fail (not skip) when missing."""
    node = shutil.which("node")
    missing = [
        what
        for what, present in [
            (f"Debian chromium ({CHROMIUM})", CHROMIUM.exists()),
            ("Node.js (node)", node is not None),
            (
                f"npm playwright-core ({UI_DIR / 'node_modules'})",
                (UI_DIR / "node_modules/playwright-core/package.json").exists(),
            ),
        ]
        if not present
    ]
    assert not missing, (
        f"the browser test needs {', '.join(missing)}: run `make setup`, which installs "
        "them (apt chromium, npm ci in tests/e2e/ui)"
    )
    assert node is not None
    return node


def _resume_in_browser(node: str, ui: str, run_id: str) -> dict[str, Any]:
    """Find the waiting run in the UI, approve every item as REVIEWER, submit, wait for the end."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    args = [
        node,
        str(UI_DIR / "resume_review.mjs"),
        "--base",
        ui,
        "--out",
        str(SCREENSHOTS),
        "--reviewer",
        REVIEWER,
        "--decision",
        "approve",
        "--run-id",
        run_id,
        "--wait-final-s",
        "180",
    ]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=360)
    lines = done.stdout.strip().splitlines()
    assert lines, f"the browser script printed nothing:\n{done.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(lines[-1])
    assert done.returncode == 0, (
        f"answering the review in the UI failed: {result.get('error')}\n"
        f"screenshots: {SCREENSHOTS}\n{json.dumps(result, ensure_ascii=False, indent=1)}\n"
        f"{done.stderr[-2000:]}"
    )
    return result


def _wait_state(run_id: str, env: dict[str, str], wanted: set[str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        state = _state(run_id, env)
        if state in wanted:
            return state
        time.sleep(3)
    raise AssertionError(f"run {run_id} stayed {state}, expected {wanted}")


def _approvable_as_read(settings: Settings, item: ReviewItemRow) -> bool:
    """Whether approving the prefilled readings unchanged is a valid first entry."""
    from civicflow.bus_pass.pipeline import normalise_answer
    from civicflow.bus_pass.review import build_card, initial_answers
    from civicflow.forms.definition import load_form

    form = load_form(settings.bus_pass_form)
    (prefilled,) = initial_answers([build_card(form, item)])
    _, refused = normalise_answer(form, prefilled.answer(), item.proposed.get("flagged", []))
    return not refused


def _bus_pass_review_in_two_rounds(out: str, var_dir: Path, env: dict[str, str]) -> None:
    """The bus-pass run suspends; a first reviewer answers; it suspends again for the second
    entry of name and birth date (the flow re-ran from the top, its readings cached); a
    second answer completes it. Nothing is entered twice."""
    from civicflow.bus_pass.pipeline import PROCESS
    from civicflow.store.schema import BusPassRow

    match = re.search(r"review resume ([0-9a-f-]{36}) --process bus_pass", out)
    assert match, out
    run_id = match.group(1)
    settings = Settings(var_dir=var_dir)
    assert list((var_dir / "scans/quarantine").glob("*.reason.txt")), "bad scans are quarantined"
    assert list((var_dir / "output/bus_pass").glob("受付簿_*.pdf"))
    with session_scope(settings.db_url) as session:
        passes_before = len(list(session.scalars(select(BusPassRow))))
        offered = [
            i for i in repo.pending_reviews(session, PROCESS, 1000) if i.last_offered_run == run_id
        ]
    assert offered, "the batch sent doubtful forms to review"
    # Make sure one form has a doubtful critical field (which ones are depends on the day's
    # sample), so that the run must ask a second reviewer after the first answer. It must be
    # a form that "approve as read" can pass: one with an unreadable field stays at the first
    # stage until a person types the value.
    approvable = [i for i in offered if _approvable_as_read(settings, i)]
    assert approvable, [(i.item_ref, i.reasons) for i in offered]
    with session_scope(settings.db_url) as session:
        first = session.get(ReviewItemRow, approvable[0].id)
        assert first is not None
        if not first.proposed.get("critical"):
            first.proposed = {
                **first.proposed,
                "flagged": [*first.proposed["flagged"], "name"],
                "critical": ["name"],
            }
    cli = str(ROOT / ".venv/bin/civicflow")
    _run(
        [
            cli,
            "review",
            "resume",
            run_id,
            "--process",
            "bus_pass",
            "--reviewer",
            "sato",
            "--approve-all",
        ],
        env,
        60,
    )
    state = _wait_state(run_id, env, {"Suspended", "Completed"}, 240)
    with session_scope(settings.db_url) as session:
        second = [
            i
            for i in repo.pending_reviews(session, PROCESS, 1000)
            if i.proposed.get("stage") == "second"
        ]
        passes_after_first = len(list(session.scalars(select(BusPassRow))))
    assert passes_after_first >= passes_before  # forms without a critical doubt are entered
    assert second, "a form with a critical field waits for its second entry"
    if second:
        assert state == "Suspended", "the second entry is asked for in the same run"
        answers = [
            {
                "item_id": i.id,
                "decision": "approve",
                "fields": [
                    {"field_id": fid, "value": str(i.proposed["entries"][0]["values"][fid] or "")}
                    for fid in i.proposed["critical"]
                ],
            }
            for i in second
        ]
        script = (
            "import json,sys\nfrom prefect.flow_runs import resume_flow_run\n"
            f"resume_flow_run('{run_id}', run_input={{'reviewer': 'suzuki', 'forms': json.loads(sys.argv[1])}})"
        )
        _run(
            [str(ROOT / ".venv/bin/python"), "-c", script, json.dumps(answers, ensure_ascii=False)],
            env,
            60,
        )
    assert _wait_state(run_id, env, {"Completed", "Failed", "Crashed"}, 240) == "Completed"
    with session_scope(settings.db_url) as session:
        passes = list(session.scalars(select(BusPassRow)))
        summary = next(s for s in repo.run_summaries(session) if s.flow_run_id == run_id)
    assert len({p.form_id for p in passes}) == len(passes)  # nothing entered twice
    for p in passes:
        if p.form_id in {i.item_ref for i in second}:
            assert p.reviewed_by == ["sato", "suzuki"]
    assert summary.fields_read > 0 and summary.reviewed > 0
    assert summary.entered == len(passes)


def test_demo_runs_suspends_for_review_and_completes_after_the_answer_in_the_ui(
    tmp_path: Path,
) -> None:
    node = _require_browser()
    var_dir = tmp_path / "var"
    env = _env(var_dir)
    ui = f"http://127.0.0.1:{env['PREFECT_SERVER_API_PORT']}"
    try:
        out = _run(["bash", "deployments/demo.sh", "24", "4"], env, 420)
        # childcare review, bus-pass review, overtime check
        assert out.count("state: Suspended") == 3, out
        assert "state: Completed" in out, out  # the asset export needs no person
        match = re.search(r"review resume ([0-9a-f-]{36})", out)
        assert match, out
        run_id = match.group(1)
        letters = list((var_dir / "output/childcare/letters").glob("request_*.pdf"))
        assert letters, "letters are written before the review checkpoint"

        answered = _resume_in_browser(node, ui, run_id)
        assert answered["run_id"] == run_id, answered  # the run the UI listed as waiting
        assert answered["state_before"] == "Suspended", answered
        assert answered["state_after"] == "Completed", answered
        assert answered["items"], answered
        assert {i["decision"] for i in answered["items"]} == {"approve"}, answered
        assert (SCREENSHOTS / "04-form-filled.png").exists()
        assert (SCREENSHOTS / "06-run-final.png").exists()

        env_cli = {**env, "PREFECT_API_URL": f"{ui}/api"}
        assert _state(run_id, env_cli) == "Completed"  # the API agrees with the page
        assert (var_dir / "output/childcare/実績管理_childcare.xlsx").exists()

        item_ids = [int(i["item_id"]) for i in answered["items"]]
        with session_scope(Settings(var_dir=var_dir).db_url) as session:
            items = list(
                session.scalars(select(ReviewItemRow).where(ReviewItemRow.id.in_(item_ids)))
            )
            decided = [i for i in items if i.status == "decided"]
            pending = [i for i in items if i.status == "pending"]
            audits = list(
                session.scalars(
                    select(AuditLogRow).where(
                        AuditLogRow.flow_run_id == run_id,
                        AuditLogRow.entity == "review_item",
                        AuditLogRow.action == "review_approve",
                    )
                )
            )
            summary = next(s for s in repo.run_summaries(session) if s.flow_run_id == run_id)
            assert len(items) == len(item_ids)
            # approve enters everything that has a registry match; the rest stays pending
            assert decided, [(i.item_ref, i.reasons) for i in items]
            assert all(i.decision == "approve" and i.reviewer == REVIEWER for i in decided)
            assert all(
                {r.get("code") for r in i.reasons} == {"resident_not_found"} for i in pending
            ), [(i.item_ref, i.reasons) for i in pending]
            assert sorted(a.entity_id for a in audits) == sorted(i.item_ref for i in decided)
            assert {a.actor for a in audits} == {REVIEWER}
            assert summary.reviewed == len(decided)
            assert summary.reviewer_seconds > 0
            assert summary.finished_at is not None

        _bus_pass_review_in_two_rounds(out, var_dir, env_cli)
    finally:
        subprocess.run(["bash", "deployments/down.sh"], cwd=ROOT, env=env, timeout=120, check=False)
