"""render_pdf: the font is required, failures leave the old file, glyph coverage."""

from __future__ import annotations

from pathlib import Path

import pytest

from civicflow.documents.pdf import find_japanese_font, missing_glyphs, render_pdf
from civicflow.errors import PermanentError


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "note.html.j2").write_text(
        "<style>@font-face { font-family: F; src: url('{{ font_url }}'); }"
        " html { font-family: F; }</style><p>{{ message }}</p>",
        encoding="utf-8",
    )
    return folder


def test_font_is_found() -> None:
    font = find_japanese_font()
    assert font.name == "ipaexg.ttf" and font.is_file()


def test_renders_japanese_text(tmp_path: Path, templates: Path) -> None:
    import pdfplumber

    from civicflow.documents.environment import get_environment

    out = render_pdf(
        "note.html.j2",
        {"message": "令和6年 髙橋"},
        tmp_path / "a.pdf",
        env=get_environment(templates),
    )
    with pdfplumber.open(out) as pdf:
        assert "令和6年 髙橋" in pdf.pages[0].extract_text()


def test_missing_font_is_a_permanent_error_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(PermanentError) as err:
        render_pdf("base.html.j2", {}, tmp_path / "a.pdf", font_path=tmp_path / "none.ttf")
    assert err.value.code == "font-missing"
    assert "matplotlib-fontja" in err.value.message_ja
    assert list(tmp_path.iterdir()) == []


def test_template_error_keeps_the_previous_file(tmp_path: Path) -> None:
    out = tmp_path / "a.pdf"
    out.write_bytes(b"previous")
    with pytest.raises(PermanentError) as err:
        render_pdf("childcare_request_letter.html.j2", {}, out)  # variables missing
    assert err.value.code == "template"
    assert out.read_bytes() == b"previous"


def test_write_failure_keeps_the_previous_file_and_no_temp(
    tmp_path: Path, templates: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import weasyprint

    from civicflow.documents.environment import get_environment

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", broken)
    out = tmp_path / "a.pdf"
    out.write_bytes(b"previous")
    with pytest.raises(RuntimeError):
        render_pdf("note.html.j2", {"message": "x"}, out, env=get_environment(templates))
    assert out.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pdf", "templates"]


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("髙橋 﨑 邉 ①㈱〓", []),
        ("吉田 𠮷乃 𠮷", []),  # not in IPAexGothic, but in the IPAmj明朝 fallback
        ("顔😀 😀", ["😀"]),  # in neither font
        ("葛\U000e0100飾", []),  # an ideographic variation selector is not a glyph of its own
    ],
)
def test_missing_glyphs(text: str, missing: list[str]) -> None:
    assert missing_glyphs(text) == missing
