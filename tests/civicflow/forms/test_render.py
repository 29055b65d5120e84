"""The blank form: PDF and 200 dpi PNG drawn from the YAML with the same geometry."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pdfplumber
import pytest
from PIL import Image, ImageFilter

from civicflow.forms import FormDefinition, load_form, mm_to_px
from civicflow.forms.render import render_blank_pdf, render_blank_png, write_blank_form

MM_PER_PT = 25.4 / 72


@pytest.fixture(scope="module")
def bus_pass() -> FormDefinition:
    return load_form("bus_pass")


@pytest.fixture(scope="module")
def bus_pass_png(bus_pass: FormDefinition) -> Image.Image:
    return render_blank_png(bus_pass, dpi=200)


@pytest.fixture(scope="module")
def bus_pass_pdf(bus_pass: FormDefinition) -> bytes:
    return render_blank_pdf(bus_pass)


def _mark_centroid(
    ink: np.ndarray, center: tuple[float, float], size_px: float
) -> tuple[float, float]:
    """The centroid (continuous px) of the dark pixels in a window around ``center``."""
    half = int(size_px * 0.6)  # the mark and a margin, not the printed text beside it
    x0, y0 = int(center[0]) - half, int(center[1]) - half
    window = ink[y0 : y0 + 2 * half, x0 : x0 + 2 * half]
    ys, xs = np.nonzero(window)
    return (x0 + xs.mean() + 0.5, y0 + ys.mean() + 0.5)


def test_png_is_a4_at_200_dpi(bus_pass: FormDefinition, bus_pass_png: Image.Image) -> None:
    assert bus_pass_png.size == (1654, 2339) == bus_pass.size_px(200)
    assert bus_pass_png.mode == "L"
    assert bus_pass_png.info["dpi"] == (200, 200)


def test_registration_marks_are_where_the_yaml_says(
    bus_pass: FormDefinition, bus_pass_png: Image.Image
) -> None:
    ink = np.asarray(bus_pass_png) < 128
    scale = 200 / 25.4
    for mark in bus_pass.registration_marks:
        cx, cy = (v * scale for v in mark.center)
        found = _mark_centroid(ink, (cx, cy), mark.size * scale)
        assert found == pytest.approx((cx, cy), abs=1.0), mark.id
        x0, y0, x1, y1 = mark.box.to_px(200)
        assert ink[y0:y1, x0:x1].all(), mark.id  # solid


def test_pdf_draws_marks_and_boxes_at_the_yaml_positions(
    bus_pass: FormDefinition, bus_pass_pdf: bytes
) -> None:
    with pdfplumber.open(io.BytesIO(bus_pass_pdf)) as pdf:
        page = pdf.pages[0]
        assert (page.width * MM_PER_PT, page.height * MM_PER_PT) == pytest.approx(
            (210, 297), abs=0.01
        )
        rects = [
            (
                r["x0"] * MM_PER_PT,
                r["top"] * MM_PER_PT,
                r["width"] * MM_PER_PT,
                r["height"] * MM_PER_PT,
            )
            for r in page.rects
        ]
        text = page.extract_text()
    for mark in bus_pass.registration_marks:
        assert any(
            r == pytest.approx((mark.x, mark.y, mark.size, mark.size), abs=0.01) for r in rects
        ), mark.id
    for cell in bus_pass.field("postal_code").cells:
        assert any(r == pytest.approx(cell.rect.as_list(), abs=0.01) for r in rects)
    assert "港区コミュニティバス無料乗車券" in text
    assert "生年月日" in text and "精神障害者保健福祉手帳" in text


def test_pdf_and_png_agree_pixel_for_pixel_within_one_pixel(
    bus_pass_png: Image.Image, bus_pass_pdf: bytes
) -> None:
    with pdfplumber.open(io.BytesIO(bus_pass_pdf)) as pdf:
        raster = pdf.pages[0].to_image(resolution=200).original.convert("L")
    assert raster.size == bus_pass_png.size
    png_ink = np.asarray(bus_pass_png) < 128
    pdf_ink = np.asarray(raster) < 128
    near_pdf = np.asarray(Image.fromarray(pdf_ink).filter(ImageFilter.MaxFilter(3)))
    near_png = np.asarray(Image.fromarray(png_ink).filter(ImageFilter.MaxFilter(3)))
    # nearly every inked pixel of one has ink within a pixel in the other (text antialiasing
    # differs a little between Pillow and pdfium)
    assert (png_ink & near_pdf).sum() / png_ink.sum() > 0.99
    assert (pdf_ink & near_png).sum() / pdf_ink.sum() > 0.99


def test_the_same_definition_gives_the_same_pdf_bytes(
    bus_pass: FormDefinition, bus_pass_pdf: bytes
) -> None:
    assert render_blank_pdf(bus_pass) == bus_pass_pdf


def test_comb_cells_print_where_the_layout_says(
    bus_pass: FormDefinition, bus_pass_png: Image.Image
) -> None:
    ink = np.asarray(bus_pass_png) < 128
    for cell in bus_pass.field("phone").cells:
        x0, y0, x1, y1 = cell.rect.to_px(200)
        middle = (y0 + y1) // 2
        assert ink[middle, x0 - 1 : x0 + 2].any() and ink[middle, x1 - 1 : x1 + 2].any()
        assert not ink[y0 + 4 : y1 - 4, x0 + 4 : x1 - 4].any()  # empty inside


def test_write_blank_form_writes_pdf_and_png(tmp_path: Path) -> None:
    paths = write_blank_form("bus_pass", tmp_path / "out")
    assert [p.name for p in paths] == ["bus_pass.pdf", "bus_pass.png"]
    assert paths[0].read_bytes().startswith(b"%PDF")
    with Image.open(paths[1]) as image:
        assert image.size == (1654, 2339)
        assert image.info["dpi"] == pytest.approx((200, 200), rel=1e-3)


def test_a_yaml_only_form_renders(tiny_forms_dir: Path, tmp_path: Path) -> None:
    pdf_path, png_path = write_blank_form("tiny", tmp_path, forms_dir=tiny_forms_dir)
    form = load_form("tiny", forms_dir=tiny_forms_dir)
    with Image.open(png_path) as image:
        assert image.size == (mm_to_px(148, 200), mm_to_px(210, 200))
        ink = np.asarray(image) < 128
    scale = 200 / 25.4
    for mark in form.registration_marks:
        cx, cy = (v * scale for v in mark.center)
        assert _mark_centroid(ink, (cx, cy), mark.size * scale) == pytest.approx((cx, cy), abs=1.0)
    with pdfplumber.open(pdf_path) as pdf:
        assert pdf.pages[0].width * MM_PER_PT == pytest.approx(148, abs=0.01)
        assert "小さな申請書" in pdf.pages[0].extract_text()
