"""Benchmark harness: the same work through the Prefect flow and as plain Python.

Not a flow itself; ``civicflow bench childcare`` calls it. Both paths run in this
process on the same generated applications, each with its own store, after a small
warm-up run so that neither pays the first-import costs alone.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from prefect import flow

from civicflow.childcare import pipeline
from civicflow.samples.childcare import generate_childcare
from civicflow.samples.loading import load_masters_into_store
from civicflow.settings import Settings, get_settings
from civicflow.sources.base import make_source


def _settings_for(var_dir: Path, export_dir: Path) -> Settings:
    os.environ["CIVICFLOW_VAR_DIR"] = str(var_dir)
    os.environ["CIVICFLOW_INTAKE_SOURCE"] = "folder"
    os.environ["CIVICFLOW_EXPORT_DIR"] = str(export_dir)
    os.environ.pop("CIVICFLOW_DATABASE_URL", None)
    get_settings.cache_clear()
    return get_settings()


@flow(name="bench-warm-up")
def _warm_up() -> int:
    """Starts the API connection (or the ephemeral server) before timing."""
    return 1


def bench_childcare(n: int, seed: int, work_dir: Path | None = None) -> dict[str, Any]:
    """Run N applications both ways; return the figures as a dict for one JSON line."""
    from flows.childcare_support import childcare_support

    root = work_dir or Path(tempfile.mkdtemp(prefix="civicflow-bench-"))
    today = dt.date.today()
    sample = generate_childcare(root / "samples", seed=seed, n=n, reference_date=today)
    export_dir = root / "samples" / "childcare" / "export"
    saved_env = {k: v for k, v in os.environ.items() if k.startswith("CIVICFLOW_")}
    try:
        warm = _settings_for(root / "var-warm", export_dir)
        load_masters_into_store(warm, root / "samples")
        pipeline.run_plain(
            make_source(warm), warm.model_copy(update={"batch_size": 5}), today=today
        )
        _warm_up()

        prefect_settings = _settings_for(root / "var-prefect", export_dir)
        load_masters_into_store(prefect_settings, root / "samples")
        t0 = time.perf_counter()
        flow_summary = childcare_support(review=False, today=today)
        prefect_s = time.perf_counter() - t0

        plain_settings = _settings_for(root / "var-plain", export_dir)
        load_masters_into_store(plain_settings, root / "samples")
        t0 = time.perf_counter()
        plain_summary = pipeline.run_plain(make_source(plain_settings), plain_settings, today=today)
        plain_s = time.perf_counter() - t0
    finally:
        for key in [k for k in os.environ if k.startswith("CIVICFLOW_")]:
            del os.environ[key]
        os.environ.update(saved_env)
        get_settings.cache_clear()
    return {
        "n": n,
        "prefect_s": round(prefect_s, 3),
        "plain_s": round(plain_s, 3),
        "ratio": round(prefect_s / plain_s, 3) if plain_s else None,
        "entered": flow_summary.entered,
        "entered_plain": plain_summary.entered,
        "expected_entered": sample.expected_entered,
        "sent_to_review": flow_summary.sent_to_review,
        "quarantined": flow_summary.quarantined,
        "rejected": flow_summary.rejected,
    }


def _warm_engines() -> bool:
    """Load the OCR engines in this process (run on every Dask worker before timing)."""
    from civicflow.ocr.reader import default_engines

    default_engines()
    return True


def _load_pdf_renderer(folder: Path, today: dt.date) -> None:
    """Import WeasyPrint and load the embedded font by printing an empty 受付簿 once."""
    from civicflow.bus_pass.ledger import TITLE
    from civicflow.documents.pdf import render_pdf

    folder.mkdir(parents=True, exist_ok=True)
    context = {"title": TITLE, "day": today, "rows": [], "counts": {}}
    render_pdf("bus_pass_ledger.html.j2", context, folder / "warm-up.pdf")


def bench_ocr(n: int, seed: int, workers: int = 1, work_dir: Path | None = None) -> dict[str, Any]:
    """Generate N scans, run the bus-pass batch, answer review from the truth, score it.

    ``workers`` 1 reads in this process, one file at a time (the default setting); 2 or
    more start a local Dask cluster of that many single-threaded processes first and
    point the flow at it (CIVICFLOW_OCR_TASK_RUNNER=dask), as a scaled-out office would.
    What a worker process does once, before its first batch, is done before the clock
    starts and reported apart as ``startup_s``: loading the engines' models (~4 s), the
    PDF renderer with its Japanese font (~0.7 s) and the connection to the Prefect API
    (here an ephemeral server, ~5 s). Review is answered from the ground truth and timed
    as zero.
    """
    import shutil

    from civicflow.bus_pass import bench
    from civicflow.ocr.reader import default_engines
    from civicflow.samples.registry import DEFAULT_REFERENCE_DATE, read_residents_csv
    from civicflow.samples.scans import generate_scans
    from civicflow.store import repositories as repo
    from civicflow.store.db import migrate, session_scope
    from flows.bus_pass import bus_pass, dask_worker_env

    root = work_dir or Path(tempfile.mkdtemp(prefix="civicflow-bench-ocr-"))
    today = DEFAULT_REFERENCE_DATE  # the generator dates the applications before this day
    sample = generate_scans(root / "gen", n=n, seed=seed, workers=2)
    assert sample.residents_csv is not None
    truth, bad_inputs = bench.load_truth(sample.scans_dir)
    saved_env = {k: v for k, v in os.environ.items() if k.startswith("CIVICFLOW_")}
    cluster = None
    try:
        for key in list(saved_env):
            del os.environ[key]
        os.environ["CIVICFLOW_VAR_DIR"] = str(root / "var")
        if workers > 1:
            from distributed import Client, LocalCluster

            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                env=dask_worker_env(1),  # one core per worker process
            )
            with Client(cluster) as client:  # type: ignore[no-untyped-call]
                client.run(_warm_engines)
            os.environ["CIVICFLOW_OCR_TASK_RUNNER"] = "dask"
            os.environ["CIVICFLOW_DASK_ADDRESS"] = str(cluster.scheduler_address)
        get_settings.cache_clear()
        settings = get_settings()
        migrate(settings.db_url)
        with session_scope(settings.db_url) as session:
            repo.upsert_residents(session, read_residents_csv(sample.residents_csv))
        inbox = settings.bus_pass_inbox
        inbox.mkdir(parents=True, exist_ok=True)
        for path in sample.files:
            shutil.copy2(path, inbox / path.name)
        t0 = time.perf_counter()
        default_engines()
        _load_pdf_renderer(root / "warm-up", today)
        _warm_up()
        startup = time.perf_counter() - t0
        t0 = time.perf_counter()
        summary = bus_pass(review=False, today=today)
        wall = time.perf_counter() - t0
        bench.answer_from_truth(settings, truth, today=today)
        table = bench.figures(bench.score(settings, truth))
    finally:
        if cluster is not None:
            cluster.close()
        for key in [k for k in os.environ if k.startswith("CIVICFLOW_")]:
            del os.environ[key]
        os.environ.update(saved_env)
        get_settings.cache_clear()
    forms = summary.verified
    overall = table["all"]
    return {
        "forms": forms,
        "fields": overall["fields"],
        "field_exact_raw": overall["field_exact_raw"],
        "auto_accept_rate": overall["auto_accept_rate"],
        "auto_accepted_error_rate": overall["auto_accepted_error_rate"],
        "review_rate": overall["review_rate"],
        "forms_per_s": round(forms / wall, 3) if wall else 0.0,
        "recognizer_s": round(summary.ocr_seconds, 3),
        "overhead_ratio": round(wall / summary.ocr_seconds, 3) if summary.ocr_seconds else None,
        "workers": workers,
        "wall_s": round(wall, 3),
        "startup_s": round(startup, 3),
        "entered_exact_after_review": overall["entered_exact"],
        "quarantined": summary.quarantined,
        "bad_inputs_planted": bad_inputs,
        "n": n,
        "seed": seed,
        "by_type": table["by_type"],
    }
