"""End to end: `make demo`'s script on a small N, with a real server, worker and portal.

Starts everything on free loopback ports with its own var/ folder, answers the review from
the command line (as a reviewer would from the UI) and checks the run completed with the
letters and the ledger written. Stops the services whatever happens.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
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


def test_demo_runs_suspends_for_review_and_completes_after_the_answer(tmp_path: Path) -> None:
    env = _env(tmp_path / "var")
    try:
        out = _run(["bash", "deployments/demo.sh", "24", "4"], env, 420)
        assert out.count("state: Suspended") == 2, out  # childcare review, overtime check
        assert "state: Completed" in out, out  # the asset export needs no person
        match = re.search(r"review resume ([0-9a-f-]{36})", out)
        assert match, out
        run_id = match.group(1)
        letters = list((tmp_path / "var/output/childcare/letters").glob("request_*.pdf"))
        assert letters, "letters are written before the review checkpoint"

        env_cli = {
            **env,
            "PREFECT_API_URL": f"http://127.0.0.1:{env['PREFECT_SERVER_API_PORT']}/api",
        }
        _run(
            [
                str(ROOT / ".venv/bin/civicflow"),
                "review",
                "resume",
                run_id,
                "--reviewer",
                "e2e",
                "--approve-all",
            ],
            env_cli,
            60,
        )
        deadline = time.monotonic() + 180
        state = ""
        while time.monotonic() < deadline:
            state = _state(run_id, env_cli)
            if state in {"Completed", "Failed", "Crashed"}:
                break
            time.sleep(3)
        assert state == "Completed"
        assert (tmp_path / "var/output/childcare/実績管理_childcare.xlsx").exists()
        pending = _run([str(ROOT / ".venv/bin/civicflow"), "review", "list"], env_cli, 60)
        # approve-all enters everything that has a registry match; the rest stays pending
        assert all("resident_not_found" in line for line in pending.splitlines() if line)
    finally:
        subprocess.run(["bash", "deployments/down.sh"], cwd=ROOT, env=env, timeout=120, check=False)
