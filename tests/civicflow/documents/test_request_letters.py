"""依頼書: one PDF per provider, its cases readable back from the PDF text."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path

import pdfplumber
import pytest

from civicflow.documents.childcare import letter_file_name, write_request_letters
from civicflow.errors import InputError
from civicflow.models import CaseRow, Provider

CaseFactory = Callable[..., CaseRow]
ISSUED = dt.date(2024, 4, 1)


def pdf_text(path: Path) -> str:
    """All the text of a PDF, pages joined."""
    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


@pytest.fixture(scope="module")
def letters(
    tmp_path_factory: pytest.TempPathFactory,
    make_case: CaseFactory,
    providers: dict[str, Provider],
) -> tuple[list[CaseRow], list[Path]]:
    """Two letters: P001 with three cases (one born, one with 𠮷), P002 with two."""
    cases = [
        make_case(3, start_date=dt.date(2024, 4, 22)),
        make_case(1, child_birth_date=dt.date(2024, 3, 2), due_date=None),
        make_case(2, applicant_name="吉田 𠮷乃", service="産後ドゥーラ", hours_cap=30),
        make_case(4, provider_id="P002", provider_name="一般社団法人ドゥーラ協会東京"),
        make_case(5, provider_id="P002", provider_name="一般社団法人ドゥーラ協会東京"),
    ]
    out_dir = tmp_path_factory.mktemp("letters")
    return cases, write_request_letters(cases, providers, out_dir, ISSUED, 1201)


def test_one_letter_per_provider_with_cases(
    letters: tuple[list[CaseRow], list[Path]],
) -> None:
    _, paths = letters
    assert [p.name for p in paths] == [
        letter_file_name("P001", ISSUED, 1201),
        letter_file_name("P002", ISSUED, 1202),
    ]
    assert paths[0].name == "request_P001_20240401_1201.pdf"
    assert sorted(p.name for p in paths[0].parent.iterdir()) == sorted(p.name for p in paths)


def test_letter_text_has_provider_dates_and_every_registration_no(
    letters: tuple[list[CaseRow], list[Path]],
) -> None:
    cases, paths = letters
    text = pdf_text(paths[0])
    assert "株式会社みなとケアサービス" in text
    assert "佐藤 一郎" in text
    assert "港子第1201号" in text
    assert "令和6年4月1日" in text  # issued on
    assert "令和6年4月22日" in text  # a start date
    assert "令和6年3月2日" in text  # a birth date
    assert "令和6年5月20日" in text  # a due date
    assert "産前産後家事・育児支援サービスの提供について（依頼）" in text
    for case in cases:
        assert (case.registration_no in text) == (case.provider_id == "P001")
    assert "試験 花子1" in text  # the provider gets full names


def test_second_provider_is_addressed_onchu(letters: tuple[list[CaseRow], list[Path]]) -> None:
    _, paths = letters
    text = pdf_text(paths[1])
    assert "一般社団法人ドゥーラ協会東京" in text
    assert "御中" in text
    assert "港子第1202号" in text
    assert "03000004" in text and "03000005" in text


def test_registry_characters_print_through_the_fallback_font(
    letters: tuple[list[CaseRow], list[Path]],
) -> None:
    _, paths = letters
    assert "吉田 𠮷乃" in pdf_text(paths[0])  # 𠮷 from IPAmj明朝


def test_character_outside_every_font_prints_as_geta(
    tmp_path: Path, make_case: CaseFactory, providers: dict[str, Provider]
) -> None:
    paths = write_request_letters(
        [make_case(8, applicant_name="吉田 😀乃")], providers, tmp_path, ISSUED, 1
    )
    text = pdf_text(paths[0])
    assert "吉田 〓乃" in text
    assert "😀" not in text


def test_missing_glyph_is_logged_with_receipt_no_not_name(
    tmp_path: Path,
    make_case: CaseFactory,
    providers: dict[str, Provider],
    caplog: pytest.LogCaptureFixture,
) -> None:
    case = make_case(7, applicant_name="吉田 😀乃")
    with caplog.at_level(logging.WARNING):
        write_request_letters([case], providers, tmp_path, ISSUED, 1)
    assert "R2024-00007" in caplog.text
    assert "U+1F600" in caplog.text
    assert "吉田" not in caplog.text


def test_unknown_provider_writes_nothing(
    tmp_path: Path, make_case: CaseFactory, providers: dict[str, Provider]
) -> None:
    cases = [make_case(1), make_case(2, provider_id="P999")]
    with pytest.raises(InputError) as err:
        write_request_letters(cases, providers, tmp_path / "out", ISSUED, 1)
    assert "P999" in str(err.value) and "R2024-00002" in str(err.value)
    assert not (tmp_path / "out").exists()


def test_no_cases_no_letters(tmp_path: Path, providers: dict[str, Provider]) -> None:
    assert write_request_letters([], providers, tmp_path, ISSUED, 1) == []
