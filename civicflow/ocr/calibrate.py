"""Calibrate the routing thresholds on generated scans, reproducibly (閾値の校正).

The engines' scores mean little on their own; what matters is, at a given threshold, how
many wrong readings slip through unflagged and how many right ones are sent to a person.
Both are measured here on synthetic scans whose truth is known:

1. :func:`collect`: generate ``n`` scans with a fixed seed (``generate_scans``), run the
   engines once over every page and keep the evidence with the truth;
2. :func:`choose_policy`: set the check-box bounds from the boxes' ink densities, then the
   per-field-type confidence bounds and the engine-disagreement gate that let the fewest
   wrong readings through while at most ``review_budget`` of the fields go to review;
3. :func:`evaluate`: the figures of a policy (exact rate raw and after the rules,
   auto-accept rate, errors among accepted fields, review rate, per field type);
4. :func:`write_calibration`: ``data/ocr/calibration.json`` with the policy, the figures,
   the seed, ``n`` and the versions it was made with, so anyone can run it again::

       python -m civicflow.ocr.calibrate --n 80 --seed 2025

"Raw" is the engines' reading normalised like a clerk (before registry and rules);
"exact" compares with the truth's value as a clerk types it, character for character.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from civicflow.errors import InputError
from civicflow.forms.definition import FormDefinition, load_form
from civicflow.models import Severity
from civicflow.ocr.images import load_pages
from civicflow.ocr.reader import PageEvidence, ReaderEngines, default_engines, recognise_page
from civicflow.ocr.registration import RegisteredPage, register_page
from civicflow.ocr.routing import CALIBRATION_FILE, RoutingPolicy, route_page
from civicflow.registry import ResidentIndex

#: The goals of the issue: errors among auto-accepted fields, share of fields reviewed.
TARGET_ACCEPTED_ERROR = 0.005
#: The review budget the shipped calibration uses. The issue asks for ≤ 20 %; on generated
#: scans that is not reachable without accepting ~1 % wrong fields (生年月日 alone, always
#: reviewed, is 10 % of the fields), so the default spends up to 25 % to keep errors among
#: accepted fields ≤ 0.5 %. ``measured.tradeoff`` in the file shows the other points.
DEFAULT_REVIEW_BUDGET = 0.25
#: Candidate confidence bounds tried per field type.
CONFIDENCE_GRID = tuple(
    round(v, 3) for v in np.concatenate([np.arange(0.0, 0.9, 0.05), np.arange(0.9, 1.0001, 0.01)])
)
GATE_GRID = (0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 1.01)


@dataclass
class PageRecord:
    """One page's evidence with its truth (what calibration needs, images dropped)."""

    file: str
    page: int
    evidence: PageEvidence
    truth: dict[str, Any]  # field id → truth value (None when blank)
    boxes: list[tuple[str, str, float, bool]]  # field id, box, density, ticked in truth
    hand: str = ""


@dataclass
class Collection:
    """What :func:`collect` gathered."""

    seed: int
    n: int
    form_id: str
    records: list[PageRecord]
    registry: ResidentIndex
    reference_date: dt.date
    bad_inputs: dict[str, str]  # file → code given (the expected: quarantine)
    defects: dict[str, str]  # file → the defect the generator planted
    seconds: dict[str, float] = field(default_factory=dict)
    pages_seen: int = 0


def _slim(page: RegisteredPage) -> RegisteredPage:
    """The registered page without its pixels (only the transform is needed later)."""
    return RegisteredPage(
        np.zeros((1, 1), np.uint8), page.transform, page.ink_threshold, page.paper_level
    )


def collect(
    out_dir: Path,
    *,
    n: int,
    seed: int,
    form_id: str = "bus_pass",
    engines: ReaderEngines | None = None,
    workers: int = 1,
) -> Collection:
    """Generate scans and run the engines over every page once.

    Args:
        out_dir: Where the scans go (a temporary folder is fine).
        n: Filled forms to generate (bad inputs come on top once ``n >= 20``).
        seed: The generator's seed.
        form_id: The form.
        engines: The engines (default: the real ones).
        workers: Processes for generating the scans (the scans do not depend on it).

    Returns:
        The evidence of every readable page, the quarantine codes of the others.
    """
    from civicflow.samples.registry import DEFAULT_REFERENCE_DATE, read_residents_csv
    from civicflow.samples.scans import ScanTruth, generate_scans

    form = load_form(form_id)
    started = time.perf_counter()
    sample = generate_scans(out_dir, n=n, seed=seed, form_id=form_id, workers=workers)
    generated = time.perf_counter() - started
    assert sample.residents_csv is not None
    registry = ResidentIndex(read_residents_csv(sample.residents_csv))
    engines = engines or default_engines()
    records: list[PageRecord] = []
    bad: dict[str, str] = {}
    defects: dict[str, str] = {}
    pages_seen = 0
    totals: dict[str, float] = defaultdict(float)
    for path in sample.files:
        truth = ScanTruth.model_validate_json(path.with_suffix(".json").read_text("utf-8"))
        if truth.defect:
            defects[path.name] = truth.defect
        t0 = time.perf_counter()
        try:
            pages = load_pages(path)
        except InputError as exc:
            bad[path.name] = exc.code
            continue
        totals["load"] += time.perf_counter() - t0
        for page in pages:
            pages_seen += 1
            if page.image is None:
                bad[f"{path.name}#{page.page}"] = page.error.code if page.error else "?"
                continue
            t0 = time.perf_counter()
            try:
                registered = register_page(page.image, form)
            except InputError as exc:
                bad[f"{path.name}#{page.page}"] = exc.code
                continue
            totals["register"] += time.perf_counter() - t0
            evidence = recognise_page(
                registered, form, engines, source=path.name, page_no=page.page
            )
            for key in ("crop", "rapidocr", "easyocr"):
                totals[key] += evidence.timings.get(key, 0.0)
            evidence.registered = _slim(registered)
            page_truth = truth.pages[page.page - 1]
            values = {fid: ft.value for fid, ft in page_truth.fields.items()}
            boxes: list[tuple[str, str, float, bool]] = []
            for fid, fe in evidence.fields.items():
                ft = page_truth.fields[fid]
                for cell in fe.cells:
                    if cell.kind == "check":
                        boxes.append((fid, cell.name, cell.density, ft.cells.get(cell.name) == "x"))
            records.append(
                PageRecord(path.name, page.page, evidence, values, boxes, page_truth.hand)
            )
    seconds = {"generate": round(generated, 2), **{k: round(v, 3) for k, v in totals.items()}}
    return Collection(
        seed,
        n,
        form_id,
        records,
        registry,
        DEFAULT_REFERENCE_DATE,
        bad,
        defects,
        seconds,
        pages_seen,
    )


# --- scoring ---------------------------------------------------------------------------------------


def matches_truth(value: Any, truth: Any) -> bool:
    """Whether a reading's value is what a clerk would type from the truth."""
    if truth is None:
        return value in ("", [], None)
    if isinstance(truth, list):
        return isinstance(value, list) and sorted(value) == sorted(truth)
    return bool(value == truth)


@dataclass
class FieldOutcome:
    """One field on one page under a policy."""

    field_id: str
    field_type: str
    raw_ok: bool
    ok: bool
    flagged: bool
    codes: tuple[str, ...]
    confidence: float
    blank_truth: bool


def _raw_value(evidence: PageEvidence, field_id: str, policy: RoutingPolicy) -> Any:
    from civicflow.ocr.reader import interpret_field

    reading, _ = interpret_field(evidence.fields[field_id], policy.interpret())
    return reading.value


@lru_cache(maxsize=4)
def _form(form_id: str) -> FormDefinition:
    return load_form(form_id)


def outcomes(
    collection: Collection, policy: RoutingPolicy, *, registry: bool = True
) -> list[FieldOutcome]:
    """Every field of every page routed under ``policy``, compared with the truth."""
    form = _form(collection.form_id)
    types = {f.id: f.type for f in form.fields}
    out: list[FieldOutcome] = []
    for record in collection.records:
        reading = route_page(
            record.evidence,
            form,
            policy,
            today=collection.reference_date,
            registry=collection.registry if registry else None,
        )
        for f in reading.fields:
            truth = record.truth.get(f.field_id)
            raw = _raw_value(record.evidence, f.field_id, policy)
            out.append(
                FieldOutcome(
                    f.field_id,
                    types[f.field_id],
                    matches_truth(raw, truth),
                    matches_truth(f.value, truth),
                    f.flagged,
                    tuple(r.code for r in f.reasons if r.severity is not Severity.INFO),
                    f.confidence,
                    truth is None,
                )
            )
    return out


def summarise(results: Iterable[FieldOutcome]) -> dict[str, Any]:
    """Exact rates, auto-accept, errors among accepted and review rate, overall and per type."""
    groups: dict[str, list[FieldOutcome]] = defaultdict(list)
    for r in results:
        groups[r.field_type].append(r)
        groups["all"].append(r)

    def figures(items: Sequence[FieldOutcome]) -> dict[str, Any]:
        accepted = [r for r in items if not r.flagged]
        errors = [r for r in accepted if not r.ok]
        return {
            "fields": len(items),
            "exact_raw": round(sum(r.raw_ok for r in items) / len(items), 4),
            "exact_after_rules": round(sum(r.ok for r in items) / len(items), 4),
            "auto_accept_rate": round(len(accepted) / len(items), 4),
            "review_rate": round(1 - len(accepted) / len(items), 4),
            "errors_among_accepted": len(errors),
            "error_rate_among_accepted": round(len(errors) / len(accepted), 4) if accepted else 0.0,
            "wrong_caught": sum(1 for r in items if r.flagged and not r.ok),
            "wrong_total": sum(1 for r in items if not r.ok),
        }

    table = {key: figures(items) for key, items in sorted(groups.items())}
    codes: dict[str, int] = defaultdict(int)
    for r in groups["all"]:
        for code in set(r.codes):
            codes[code] += 1
    table["all"]["reasons"] = dict(sorted(codes.items(), key=lambda kv: -kv[1]))
    not_always = [r for r in groups["all"] if r.codes != ("always_review",)]
    table["all"]["review_rate_without_always_review"] = round(
        sum(r.flagged for r in not_always) / max(len(groups["all"]), 1), 4
    )
    return table


# --- choosing the thresholds ---------------------------------------------------------------------


def choose_checkbox_bounds(collection: Collection) -> dict[str, float]:
    """Check-box bounds from the densities of boxes ticked and not ticked in the truth.

    ``empty_max`` sits halfway between the densest empty box (specks) and 0.05; the
    densest empty box decides only if it is lower. ``checked_min`` is the lightest ticked
    box's density less a margin, but never below twice ``empty_max``: what falls between
    goes to a person.
    """
    empty = sorted(d for r in collection.records for _, _, d, on in r.boxes if not on)
    ticked = sorted(d for r in collection.records for _, _, d, on in r.boxes if on and d > 0.0)
    # the 99.5th percentile of empty boxes: a coffee-ring through one box is not the rule
    empty_hi = float(np.percentile(empty, 99.5)) if empty else 0.02
    empty_max = round(min(0.05, max(0.02, empty_hi + 0.01)), 3)
    ticked_lo = float(np.percentile(ticked, 1)) if ticked else 0.15
    checked_min = round(max(2 * empty_max, min(0.15, ticked_lo * 0.8)), 3)
    return {"empty_max": empty_max, "checked_min": checked_min, "circled_min": 0.12}


def choose_policy(
    collection: Collection,
    *,
    review_budget: float = DEFAULT_REVIEW_BUDGET,
    base: RoutingPolicy | None = None,
) -> tuple[RoutingPolicy, dict[str, Any]]:
    """The policy with the fewest wrong readings accepted within the review budget.

    Coordinate descent: the check-box bounds are set first; then, repeatedly, each field
    type's confidence bound and the disagreement gate are moved to the grid value that
    lowers (errors accepted × 1000 + fields reviewed) as long as the review rate stays
    within ``review_budget``, until nothing moves.

    Args:
        collection: The evidence and truth.
        review_budget: The largest share of fields that may go to review.
        base: The starting policy (default: the defaults).

    Returns:
        The chosen policy and a log of the search.
    """
    policy = (base or RoutingPolicy()).model_copy(update=choose_checkbox_bounds(collection))
    types = sorted(
        {f.type for f in _form(collection.form_id).fields} - {"checkbox", "checkbox_group"}
    )
    log: list[dict[str, Any]] = []

    def cost(p: RoutingPolicy) -> tuple[float, float, int]:
        results = outcomes(collection, p)
        accepted_wrong = sum(1 for r in results if not r.flagged and not r.ok)
        review = sum(r.flagged for r in results) / max(len(results), 1)
        penalty = 0.0 if review <= review_budget else 1e6 * (review - review_budget)
        return accepted_wrong * 1000 + review * len(results) + penalty, review, accepted_wrong

    best, review, wrong = cost(policy)
    log.append({"step": "start", "review_rate": round(review, 4), "accepted_wrong": wrong})
    for _ in range(3):
        moved = False
        for kind in [*types, "__gate__"]:
            grid = GATE_GRID if kind == "__gate__" else CONFIDENCE_GRID
            for value in grid:
                if kind == "__gate__":
                    candidate = policy.model_copy(update={"disagreement_gate": value})
                else:
                    bounds = {**policy.min_confidence, kind: float(value)}
                    candidate = policy.model_copy(update={"min_confidence": bounds})
                score, rev, wr = cost(candidate)
                if score < best - 1e-9:
                    best, policy, moved = score, candidate, True
                    log.append(
                        {
                            "step": kind,
                            "value": float(value),
                            "review_rate": round(rev, 4),
                            "accepted_wrong": wr,
                        }
                    )
        if not moved:
            break
    return policy, {"search": log}


def tradeoff(
    collection: Collection, budgets: Sequence[float] = (0.15, 0.20, 0.25, 0.30, 0.35)
) -> list[dict[str, float]]:
    """Errors among accepted fields at several review budgets (the curve an office picks on)."""
    curve: list[dict[str, float]] = []
    for budget in budgets:
        policy, _ = choose_policy(collection, review_budget=budget)
        results = outcomes(collection, policy)
        accepted = [r for r in results if not r.flagged]
        wrong = sum(1 for r in accepted if not r.ok)
        curve.append(
            {
                "review_budget": budget,
                "review_rate": round(1 - len(accepted) / len(results), 4),
                "errors_among_accepted": wrong,
                "error_rate_among_accepted": round(wrong / max(len(accepted), 1), 4),
            }
        )
    return curve


def measure_speed(
    files: Sequence[Path],
    form: FormDefinition,
    registry: ResidentIndex,
    *,
    engines: ReaderEngines | None = None,
    today: dt.date | None = None,
) -> dict[str, float]:
    """Time the production path (``read_form``: second engine only where needed).

    Returns:
        Wall and CPU seconds per form, the recognisers' share and the overhead ratio
        (everything / time inside the recognisers; the issue's goal is ≤ 1.25).
    """
    from civicflow.ocr.reader import read_form

    engines = engines or default_engines()
    stages: dict[str, float] = defaultdict(float)
    forms = 0
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    for path in files:
        for reading in read_form(path, form, engines=engines, today=today, registry=registry):
            if reading.quarantine is not None:
                continue
            forms += 1
            for key, value in reading.timings.items():
                stages[key] += value
    wall = time.perf_counter() - wall_start
    cpu = time.process_time() - cpu_start
    recognisers = stages["rapidocr"] + stages["easyocr"]
    per = max(forms, 1)
    return {
        "forms": forms,
        "seconds_per_form": round(wall / per, 3),
        "cpu_seconds_per_form": round(cpu / per, 3),
        "forms_per_second": round(forms / wall, 2) if wall else 0.0,
        **{f"{key}_per_form": round(value / per, 4) for key, value in sorted(stages.items())},
        "recognisers_per_form": round(recognisers / per, 3),
        "overhead_ratio": round(wall / recognisers, 3) if recognisers else 0.0,
    }


# --- the file --------------------------------------------------------------------------------------


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str] = {"python": platform.python_version()}
    for package in (
        "rapidocr",
        "onnxruntime",
        "easyocr",
        "torch",
        "opencv-python-headless",
        "numpy",
        "pillow",
    ):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "absent"
    return found


def write_calibration(
    path: Path,
    collection: Collection,
    policy: RoutingPolicy,
    search: dict[str, Any],
    *,
    review_budget: float,
    speed: dict[str, float] | None = None,
    curve: list[dict[str, float]] | None = None,
) -> dict[str, Any]:
    """Write the policy, the measured figures and how to reproduce them."""
    chosen = outcomes(collection, policy)
    no_registry = outcomes(collection, policy, registry=False)
    pages = len(collection.records)
    payload = {
        "policy": policy.model_dump(exclude={"source"}),
        "calibration": {
            "command": f"python -m civicflow.ocr.calibrate --n {collection.n} --seed {collection.seed} "
            f"--review-budget {review_budget}",
            "form_id": collection.form_id,
            "seed": collection.seed,
            "n": collection.n,
            "pages_read": pages,
            "reference_date": collection.reference_date.isoformat(),
            "review_budget": review_budget,
            "target_error_among_accepted": TARGET_ACCEPTED_ERROR,
            "versions": _versions(),
        },
        "measured": {
            "with_registry": summarise(chosen),
            "without_registry": summarise(no_registry)["all"],
            "tradeoff": curve or [],
            "bad_inputs": collection.bad_inputs,
            "bad_input_defects": collection.defects,
            "collect_seconds": collection.seconds,
            "speed": speed or {},
        },
        "search": search["search"],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return payload


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m civicflow.ocr.calibrate``: generate, read, choose, write."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=80)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--form", default="bus_pass")
    parser.add_argument("--review-budget", type=float, default=DEFAULT_REVIEW_BUDGET)
    parser.add_argument("--out", type=Path, default=CALIBRATION_FILE)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--speed-files", type=int, default=30)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="civicflow-calibrate-") as tmp:
        collection = collect(
            Path(tmp), n=args.n, seed=args.seed, form_id=args.form, workers=args.workers
        )
        files = sorted(Path(tmp, "scans").glob(f"{args.form}-*"))
        files = [f for f in files if f.suffix != ".json"][: args.speed_files]
        speed = measure_speed(
            files, load_form(args.form), collection.registry, today=collection.reference_date
        )
    policy, search = choose_policy(collection, review_budget=args.review_budget)
    curve = tradeoff(collection)
    payload = write_calibration(
        args.out,
        collection,
        policy,
        search,
        review_budget=args.review_budget,
        speed=speed,
        curve=curve,
    )
    figures = payload["measured"]["with_registry"]["all"]
    print(json.dumps({"policy": payload["policy"], "all": figures}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
