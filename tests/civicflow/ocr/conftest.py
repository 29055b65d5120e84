"""Shared fixtures for the OCR tests: the form, its blank page, the real engines (once).

The engines are the real ones (PP-OCRv6 and EasyOCR, both offline, on the CPU); each is
loaded once for the whole session (~1 s and ~3 s).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from civicflow.forms import FormDefinition, load_form
from civicflow.models import Resident
from civicflow.ocr.crops import template_image
from civicflow.ocr.models import PageTransform
from civicflow.ocr.reader import (
    CellResult,
    FieldEvidence,
    PageEvidence,
    ReaderEngines,
    default_engines,
)
from civicflow.ocr.registration import RegisteredPage
from civicflow.samples.scans import ScanSampleSet, generate_scans

#: The committed field crops and their expected text.
CROPS_DIR = Path(__file__).parent / "crops"


@pytest.fixture(scope="session")
def bus_pass() -> FormDefinition:
    return load_form("bus_pass")


@pytest.fixture(scope="session")
def blank_page(bus_pass: FormDefinition) -> np.ndarray:
    """The blank form at 200 dpi, greyscale (what the scans are drawn on)."""
    return np.array(template_image(bus_pass), dtype=np.uint8)


@pytest.fixture(scope="session")
def engines() -> ReaderEngines:
    """PP-OCRv6 + EasyOCR, loaded once per test session."""
    return default_engines()


@pytest.fixture(scope="session")
def three_scans(tmp_path_factory: pytest.TempPathFactory) -> ScanSampleSet:
    """Three generated scans with ground truth and the registry they come from."""
    return generate_scans(tmp_path_factory.mktemp("ocr-scans"), n=3, seed=2024)


# --- evidence as the engines would have returned it (for routing and calibration tests) ----

Spec = dict[str, Any]


def clean_page() -> dict[str, Spec]:
    """A correctly read application, as specs per field."""
    return {
        "application_date": {"date": {"year": "7", "month": "6", "day": "1"}},
        "furigana": {"text": [("ヤマダ", 0.99), ("ハナコ", 0.99)]},
        "name": {"text": [("山田", 0.99), ("花子", 0.99)]},
        "gender": {"boxes": {"男": 0.0, "女": 0.35}},
        "birth_date": {
            "date": {"year": "22", "month": "5", "day": "15"},
            "eras": {"昭和": 0.4, "平成": 0.0, "令和": 0.0},
        },
        "postal_code": {"digits": "1050012"},
        "address": {"text": [("芝大門2-19-14", 0.99)]},
        "phone": {"digits": "09088266285"},
        "eligibility": {"boxes": {"age70": 0.3}},
        "handbook_number": {"digits": ""},
    }


def _digit_cells(digits: str, names: list[str], spec: Spec) -> list[CellResult]:
    scores: dict[int, float] = spec.get("scores", {})
    second: dict[int, str] = spec.get("second", {})
    cells: list[CellResult] = []
    for index, name in enumerate(names):
        char = digits[index] if index < len(digits) else ""
        if not char:
            cells.append(CellResult(name, "digit"))
            continue
        score = scores.get(index, 0.999)
        other = second.get(index, char)
        read = "" if char == "?" else char
        cells.append(CellResult(name, "digit", (read, score), (other, 0.95), ink_px=200))
    return cells


def build(specs: dict[str, Spec], form: FormDefinition) -> PageEvidence:
    """Evidence as the engines would have produced it for these readings."""
    fields: dict[str, FieldEvidence] = {}
    for f in form.fields:
        spec = specs.get(f.id, {})
        ev = FieldEvidence(f, f.box.to_px(200))
        if f.type in ("kanji_name", "katakana", "address"):
            parts = spec.get("text", [])
            for index, (text, score) in enumerate(parts):
                name = f"text.{index}" if f.type != "address" else f"line.{index}"
                ev.cells.append(
                    CellResult(
                        name,
                        "text",
                        (text, score),
                        ink_px=spec.get("ink", 500),
                        struck=spec.get("struck", False),
                        faint=spec.get("faint", False),
                    )
                )
            if not parts and spec.get("ink"):
                ev.cells.append(
                    CellResult("text", "text", ink_px=spec["ink"], faint=spec.get("faint", False))
                )
        elif f.type in ("postal_code", "phone", "digits"):
            names = [c.name for c in f.cells]
            ev.cells = _digit_cells(spec.get("digits", ""), names, spec)
        elif f.type == "date_comb":
            eras = spec.get("eras", {})
            for cell in f.cells:
                if cell.kind == "check":
                    ev.cells.append(
                        CellResult(
                            cell.name, "check", density=eras.get(cell.value, 0.0), value=cell.value
                        )
                    )
            parts = spec.get("date", {})
            for part in ("year", "month", "day"):
                names = [c.name for c in f.cells if c.name.startswith(f"{part}.")]
                value = parts.get(part, "").rjust(2)
                ev.cells.extend(
                    _digit_cells(value.replace(" ", ""), names[2 - len(value.strip()) :], spec)
                )
        else:
            boxes = spec.get("boxes", {})
            labels = spec.get("labels", {})
            for cell in f.cells:
                ev.cells.append(
                    CellResult(
                        cell.name,
                        "check",
                        density=boxes.get(cell.value, 0.0),
                        label_density=labels.get(cell.value, 0.0),
                        value=cell.value,
                    )
                )
        fields[f.id] = ev
    transform = PageTransform(
        dpi=200,
        matrix=(1, 0, 0, 0, 1, 0),
        rotation_deg=0,
        angle_deg=0.0,
        scale=1.0,
        residual_px=0.1,
        marks_found=4,
        template_score=1.0,
    )
    registered = RegisteredPage(np.zeros((1, 1), np.uint8), transform, 200.0, 245.0)
    return PageEvidence("test.png", 1, form.id, registered, fields, {})


RESIDENT = Resident(
    resident_id="1310000001",
    name="山田 花子",
    name_kana="ヤマダ ハナコ",
    birth_date=dt.date(1947, 5, 15),
    gender="女",
    postal_code="105-0012",
    address="東京都港区芝大門2-19-14",
    phone="090-8826-6285",
)


@pytest.fixture
def specs() -> dict[str, Spec]:
    """A correctly read application, as specs per field (a fresh copy per test)."""
    return clean_page()


@pytest.fixture(scope="session")
def build_evidence() -> Callable[[dict[str, Spec], FormDefinition], PageEvidence]:
    """Build a page's evidence from specs (see :func:`build`)."""
    return build


@pytest.fixture(scope="session")
def resident() -> Resident:
    """The registry entry of the applicant in :func:`clean_page`."""
    return RESIDENT
