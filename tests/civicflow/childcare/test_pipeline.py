"""The childcare pipeline without Prefect: crash safety, fix-and-rerun, a flaky portal."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from civicflow.childcare.form import render_application_pdf
from civicflow.childcare.pipeline import run_plain
from civicflow.samples.childcare import generate_childcare
from civicflow.samples.loading import load_masters_into_store
from civicflow.settings import Settings
from civicflow.simulators.portal import Faults, create_app
from civicflow.sources.export_folder import ExportFolderSource
from civicflow.sources.portal import PortalClient
from civicflow.store import repositories as repo
from civicflow.store.db import session_scope
from civicflow.store.schema import ApplicationRow, AuditLogRow, ChildcareCaseRow

TODAY = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pipeline-samples")
    generate_childcare(out, seed=21, n=80, reference_date=TODAY)
    return out


def _truth(samples: Path) -> dict[str, object]:
    return json.loads((samples / "childcare" / "truth.json").read_text())  # type: ignore[no-any-return]


def _folder(samples: Path, settings: Settings) -> ExportFolderSource:
    return ExportFolderSource(samples / "childcare" / "export", settings.max_attachment_bytes)


def _cases(settings: Settings) -> int:
    with session_scope(settings.db_url) as s:
        return int(s.scalar(select(func.count()).select_from(ChildcareCaseRow)) or 0)


CRASH_SCRIPT = """
import datetime as dt, sys
from pathlib import Path
from civicflow.childcare.pipeline import run_plain
from civicflow.settings import Settings
from civicflow.sources.export_folder import ExportFolderSource
settings = Settings(var_dir=Path(sys.argv[1]), batch_size=5)
source = ExportFolderSource(Path(sys.argv[2]), settings.max_attachment_bytes)
run_plain(source, settings, today=dt.date(2026, 11, 20))
"""


def test_a_run_killed_mid_batch_then_rerun_enters_everything_exactly_once(
    settings: Settings, samples: Path
) -> None:
    load_masters_into_store(settings, samples)
    export = samples / "childcare" / "export"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICFLOW_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASH_SCRIPT, str(settings.var_dir), str(export)], env=env
    )
    deadline = time.monotonic() + 120
    while _cases(settings) < 15 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed; raise n"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = _cases(settings)
    assert 15 <= killed_at < _truth(samples)["counts"]["accept"]  # type: ignore[index]

    summary = run_plain(_folder(samples, settings), settings, today=TODAY)
    expected = _truth(samples)["counts"]["accept"]  # type: ignore[index]
    assert _cases(settings) == expected
    assert summary.entered == expected - killed_at
    with session_scope(settings.db_url) as s:
        enters = s.scalar(select(func.count()).where(AuditLogRow.action == "enter"))
        assert enters == expected  # one audit row per case: nothing entered twice
        left = s.scalar(select(func.count()).where(ApplicationRow.status == "received"))
        assert left == 0  # the one in flight at the kill was picked up again


def test_a_quarantined_pdf_fixed_by_the_operator_is_taken_on_the_next_run(
    settings: Settings, samples: Path, tmp_path: Path
) -> None:
    load_masters_into_store(settings, samples)
    export = tmp_path / "export"
    import shutil

    shutil.copytree(samples / "childcare" / "export", export)
    source = ExportFolderSource(export, settings.max_attachment_bytes)
    first = run_plain(source, settings, today=TODAY)
    with session_scope(settings.db_url) as s:
        corrupt = [
            q
            for q in repo.open_quarantine(s, "childcare_support")
            if q.reason_code == "pdf_corrupt"
        ]
        assert corrupt, "the sample set has a corrupt PDF"
        receipt_no = corrupt[0].item_ref
        fields = dict(repo.get_application(s, receipt_no).fields)  # type: ignore[union-attr]
        submitted_at = repo.get_application(s, receipt_no).submitted_at  # type: ignore[union-attr]
    # the operator asks for the file again and puts the good one in place
    (export / "pdf" / f"{receipt_no}.pdf").write_bytes(
        render_application_pdf(receipt_no, submitted_at, fields)
    )
    second = run_plain(source, settings, today=TODAY)
    assert second.received == 1 and first.quarantined > second.quarantined
    with session_scope(settings.db_url) as s:
        status = repo.get_application(s, receipt_no).status  # type: ignore[union-attr]
        assert status in {"entered", "review", "rejected"}
        assert receipt_no not in {q.item_ref for q in repo.open_quarantine(s, "childcare_support")}


def test_a_flaky_portal_is_retried_and_nothing_is_fetched_twice(
    settings: Settings, samples: Path, tmp_path: Path
) -> None:
    load_masters_into_store(settings, samples)
    app = create_app(
        samples / "childcare" / "export",
        tmp_path / "portal-state.json",
        Faults(fail_rate=0.25, seed=3),
    )
    fetched: Counter[str] = Counter()
    client = TestClient(app, base_url="http://portal.test")

    def count(request: httpx.Request) -> None:
        if "/attachments/" in request.url.path:
            fetched[request.url.path] += 1

    client.event_hooks["request"].append(count)
    source = PortalClient(
        "http://portal.test",
        "minato-kosodate",
        "simulator-secret",
        retries=8,
        backoff_s=0.0,
        client=client,
        sleep=lambda _s: None,
    )
    first = run_plain(source, settings, today=TODAY)
    second = run_plain(source, settings, today=TODAY)  # marked 処理中: not listed again
    assert first.received > 0 and second.received == 0
    successful_downloads = first.received + first.quarantined
    assert sum(fetched.values()) >= successful_downloads  # retries happened on 503s …
    with session_scope(settings.db_url) as s:
        stored = s.scalar(select(func.count()).select_from(ApplicationRow))
    assert stored == first.received  # … yet each application was stored once
