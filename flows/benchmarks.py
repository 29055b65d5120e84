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
