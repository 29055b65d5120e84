"""The application PDF: render → parse round trip, and every bad input's error code."""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Callable, Sequence

import pdfplumber
import pypdfium2
import pytest
from fpdf import FPDF

from civicflow.childcare import form
from civicflow.childcare.form import FORM_TITLE, parse_application_pdf, render_application_pdf
from civicflow.errors import InputError
from civicflow.models import CHILDCARE_FIELD_LABELS

FieldsFactory = Callable[..., dict[str, str]]
MAX = 5 * 1024 * 1024
AT = dt.datetime(2024, 4, 10, 9, 30)


def round_trip(fields: dict[str, str], receipt_no: str = "2024-000123") -> dict[str, str]:
    parsed = parse_application_pdf(render_application_pdf(receipt_no, AT, fields), max_bytes=MAX)
    assert parsed.receipt_no == receipt_no
    return parsed.fields


def test_round_trip_keeps_every_value_exactly(make_fields: FieldsFactory) -> None:
    fields = make_fields(
        applicant_name="髙橋　﨑子",
        applicant_kana="ﾀｶﾊｼ ｻｷｺ",
        applicant_birth_date="平成３年４月１日",
        postal_code="１０８－００２３",
        phone="０３－１２３４－５６７８",
        child_name="渡邉　𠮷太郎",
        address="東京都港区芝浦３丁目１番２号　芝浦ハイツ１０１",
        due_date="",
        start_date="R6.5.1",
    )
    assert round_trip(fields) == fields


@pytest.mark.parametrize(
    "value",
    [
        "𠮷田",  # missing from IPAexGothic: drawn as 吉, read back as 𠮷
        "𩸽 𠀋 㐂",  # plane-2 kanji the font has
        "𠀀😀",  # no glyph at all: an empty box, read back all the same
        "  leading and trailing  ",
        "二重  スペース",
        "令和元年５月１日",
        "A" * 200,  # shrunk to fit the cell
        "港区" * 60,
        "港区 芝浦　" * 120,  # wrapped over lines inside the cell, spaces kept
        "",
    ],
)
def test_round_trip_of_awkward_values(make_fields: FieldsFactory, value: str) -> None:
    fields = make_fields(applicant_name=value)
    assert round_trip(fields)["applicant_name"] == value


def test_a_wrapped_value_leaves_its_label_at_normal_size() -> None:
    data = render_application_pdf("R1", AT, {"applicant_name": "港区" * 300})
    with pdfplumber.open(io.BytesIO(data)) as doc:
        chars = doc.pages[0].chars
    label = [c for c in chars if c["text"] in "申請者氏名" and c["x0"] < 150]
    value = [c for c in chars if c["text"] in "港区"]
    assert {round(c["size"]) for c in label} == {10}
    assert {round(c["size"]) for c in value} == {6}


def test_values_too_long_for_a_page_are_refused() -> None:
    with pytest.raises(ValueError):
        render_application_pdf("R1", AT, {"address": "港" * 10_000})


def test_missing_keys_print_empty_cells_and_extra_keys_are_ignored() -> None:
    parsed = round_trip({"applicant_name": "高橋 花子", "not_on_the_form": "x"})
    assert parsed == {key: "" for key in CHILDCARE_FIELD_LABELS} | {"applicant_name": "高橋 花子"}


def test_control_characters_print_as_spaces(make_fields: FieldsFactory) -> None:
    assert round_trip(make_fields(address="港区芝浦\n3-1-2"))["address"] == "港区芝浦 3-1-2"


def test_layout_title_header_and_rows_in_form_order(make_fields: FieldsFactory) -> None:
    data = render_application_pdf("2024-000123", AT, make_fields())
    with pdfplumber.open(io.BytesIO(data)) as doc:
        assert len(doc.pages) == 1
        page = doc.pages[0]
        assert (round(page.width), round(page.height)) == (595, 842)  # A4 in points
        lines = page.extract_text().splitlines()
        table = page.extract_table()
        fonts = {char["fontname"] for char in page.chars}
    assert lines[0] == FORM_TITLE
    assert lines[1].startswith("受付番号：2024-000123") and "申請日時：2024-04-10 09:30" in lines[1]
    assert [row[0] for row in table] == list(CHILDCARE_FIELD_LABELS.values())
    assert fonts == {"MPDFAA+IPAexGothic"}  # one subset-embedded font
    assert len(data) < 60_000  # a subset, not the 6 MB font


def test_same_submission_gives_the_same_bytes(make_fields: FieldsFactory) -> None:
    assert render_application_pdf("R1", AT, make_fields()) == render_application_pdf(
        "R1", AT, make_fields()
    )


def _bitmap(data: bytes) -> bytes:
    page = pypdfium2.PdfDocument(data)[0]
    return bytes(page.render(scale=1).to_pil().convert("L").tobytes())


def test_fast_font_subset_draws_exactly_what_fpdf2_draws(make_fields: FieldsFactory) -> None:
    fields = make_fields(
        applicant_name="髙橋　﨑子", child_name="渡邉　優", address="港区芝浦３－１－２"
    )
    fast = form._render("R1", AT, fields, fast_fonts=True)
    slow = form._render("R1", AT, fields, fast_fonts=False)
    blank = form._render("R1", AT, {}, fast_fonts=True)
    assert _bitmap(fast) == _bitmap(slow)
    assert _bitmap(fast) != _bitmap(blank)  # and it did draw something


def test_composite_glyphs_fall_back_to_fpdf2s_subsetter(
    make_fields: FieldsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(form._GlyphStore, "subset", lambda self, names: None)
    fields = make_fields(applicant_name="髙橋　﨑子")
    assert round_trip(fields) == fields


# --- bad input -------------------------------------------------------------------------------
def _pdf_with(title: str, rows: Sequence[tuple[str, str]], header: str = "受付番号：R1") -> bytes:
    """A look-alike PDF drawn by hand (not by the renderer under test)."""
    pdf = FPDF(format="A4")
    pdf.add_font("ipa", fname=str(form._fonts().path))
    pdf.add_page()
    pdf.set_font("ipa", size=12)
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 10, header, new_x="LMARGIN", new_y="NEXT")
    for label, value in rows:
        pdf.cell(60, 9, label, border=1)
        pdf.cell(100, 9, value, border=1, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _encrypted() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, "secret")
    pdf.set_encryption(owner_password="owner", user_password="user")
    return bytes(pdf.output())


@pytest.fixture(scope="module")
def good_pdf() -> bytes:
    return render_application_pdf("R1", AT, {"applicant_name": "高橋 花子"})


BAD_INPUTS: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "random bytes": (lambda good: random.Random(1).randbytes(4000), "pdf_corrupt"),
    "empty file": (lambda good: b"", "pdf_corrupt"),
    "html error page": (lambda good: b"<html><body>503</body></html>", "pdf_corrupt"),
    "truncated": (lambda good: good[: len(good) // 2], "pdf_corrupt"),
    "truncated, end marker kept": (
        lambda good: good[: len(good) // 2] + b"\n%%EOF\n",
        "pdf_corrupt",
    ),
    "pdf header and noise": (
        lambda good: b"%PDF-1.7\n" + random.Random(2).randbytes(4000) + b"\n%%EOF\n",
        "pdf_corrupt",
    ),
    "password protected": (lambda good: _encrypted(), "pdf_encrypted"),
    "another document": (
        lambda good: _pdf_with("介護保険 負担限度額認定申請書", [("氏名", "高橋 花子")]),
        "pdf_wrong_form",
    ),
    "title without table": (lambda good: _pdf_with(FORM_TITLE, []), "pdf_wrong_form"),
    "no receipt number": (
        lambda good: _pdf_with(FORM_TITLE, [("申請者氏名", "高橋 花子")], header="申請日時：x"),
        "pdf_wrong_form",
    ),
    "unknown rows": (
        lambda good: _pdf_with(FORM_TITLE, [("申請者氏名", "高橋 花子"), ("マイナンバー", "1234")]),
        "pdf_unknown_fields",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_gives_its_code(good_pdf: bytes, case: str) -> None:
    make, code = BAD_INPUTS[case]
    with pytest.raises(InputError) as caught:
        parse_application_pdf(make(good_pdf), max_bytes=MAX)
    assert caught.value.code == code
    assert caught.value.message_ja and caught.value.message_en


def test_too_large(good_pdf: bytes) -> None:
    with pytest.raises(InputError) as caught:
        parse_application_pdf(good_pdf, max_bytes=len(good_pdf) - 1)
    assert caught.value.code == "pdf_too_large"
    assert parse_application_pdf(good_pdf, max_bytes=len(good_pdf)).receipt_no == "R1"


def test_unknown_rows_are_reported_by_number_not_content() -> None:
    data = _pdf_with(FORM_TITLE, [("申請者氏名", "高橋 花子"), ("マイナンバー", "1234")])
    with pytest.raises(InputError) as caught:
        parse_application_pdf(data, max_bytes=MAX)
    assert "2" in caught.value.message_en
    assert "1234" not in str(caught.value) and "マイナンバー" not in str(caught.value)


def test_a_library_failure_never_escapes(good_pdf: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(data: bytes) -> None:
        raise RecursionError("deeply nested objects")

    monkeypatch.setattr(form, "_read_page", explode)
    with pytest.raises(InputError) as caught:
        parse_application_pdf(good_pdf, max_bytes=MAX)
    assert caught.value.code == "pdf_corrupt"
