"""One real batch: generated handwritten scans, the real engines, review answered from truth."""

from __future__ import annotations

import shutil
from pathlib import Path

from civicflow.bus_pass import bench, pipeline
from civicflow.samples.registry import DEFAULT_REFERENCE_DATE, read_residents_csv
from civicflow.samples.scans import generate_scans
from civicflow.settings import Settings
from civicflow.store import repositories as repo
from civicflow.store.db import migrate, session_scope


def test_a_few_real_scans_go_through_read_review_and_entry(
    settings: Settings, tmp_path: Path
) -> None:
    sample = generate_scans(tmp_path / "gen", n=4, seed=31)
    assert sample.residents_csv is not None
    migrate(settings.db_url)
    with session_scope(settings.db_url) as session:
        repo.upsert_residents(session, read_residents_csv(sample.residents_csv))
    settings.bus_pass_inbox.mkdir(parents=True)
    for path in sample.files:
        shutil.copy2(path, settings.bus_pass_inbox / path.name)
    truth, bad = bench.load_truth(sample.scans_dir)
    assert bad == 0 and len(truth) == 4

    reports = [
        pipeline.read_document(p, settings, today=DEFAULT_REFERENCE_DATE, flow_run_id=None)
        for p in pipeline.inbox_files(settings)
    ]
    outcomes = [page.outcome for r in reports for page in r.pages]
    assert len(outcomes) == 4 and "quarantined" not in outcomes
    assert all(page.recogniser_s > 0 for r in reports for page in r.pages)
    assert not list(settings.bus_pass_inbox.iterdir())

    bench.answer_from_truth(settings, truth, today=DEFAULT_REFERENCE_DATE)
    scores = bench.score(settings, truth)
    assert len(scores) == 40
    figures = bench.figures(scores)["all"]
    assert figures["auto_accepted_error_rate"] == 0.0  # nothing wrong entered unseen
    assert figures["entered_exact"] == 1.0  # every form entered as the truth says
    assert pipeline.pending_count(settings) == 0
