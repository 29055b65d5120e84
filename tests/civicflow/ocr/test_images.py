"""Opening scanned files: formats, pages, and every bad input with its code."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from fpdf import FPDF
from PIL import Image

from civicflow.errors import InputError
from civicflow.forms.render import find_print_font
from civicflow.ocr.images import load_pages


def _png(array: np.ndarray, dpi: int = 200) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", dpi=(dpi, dpi))
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF"])
def test_single_image_formats_open_as_one_grey_page(blank_page: np.ndarray, fmt: str) -> None:
    buffer = io.BytesIO()
    Image.fromarray(blank_page).convert("RGB").save(buffer, format=fmt, dpi=(200, 200))
    pages = load_pages(buffer.getvalue(), name=f"scan.{fmt.lower()}")
    assert len(pages) == 1
    page = pages[0]
    assert page.error is None and page.image is not None
    assert page.image.dtype == np.uint8 and page.image.shape == blank_page.shape
    assert page.dpi == pytest.approx(200, abs=1)


def test_multi_page_pdf_and_tiff_give_every_page(blank_page: np.ndarray) -> None:
    tifffile = pytest.importorskip("tifffile")  # Pillow 13 cannot write multi-page TIFF
    second = 255 - blank_page // 2
    images = [Image.fromarray(blank_page), Image.fromarray(second)]
    pdf, tiff = io.BytesIO(), io.BytesIO()
    images[0].save(pdf, format="PDF", save_all=True, append_images=images[1:], resolution=200.0)
    tifffile.imwrite(tiff, np.stack([blank_page, second]), photometric="minisblack")
    for data in (pdf.getvalue(), tiff.getvalue()):
        pages = load_pages(data, name="batch")
        assert [p.page for p in pages] == [1, 2]
        assert all(p.image is not None and p.image.shape == blank_page.shape for p in pages)
    pdf_pages = load_pages(pdf.getvalue())
    assert pdf_pages[0].dpi == pytest.approx(200, rel=0.01)


def test_a_path_is_read_like_bytes(tmp_path: Path, blank_page: np.ndarray) -> None:
    path = tmp_path / "scan.png"
    path.write_bytes(_png(blank_page))
    assert load_pages(path)[0].image is not None


def test_a_72_dpi_photo_is_refused_as_too_low_a_resolution(blank_page: np.ndarray) -> None:
    small = Image.fromarray(blank_page).resize((595, 842)).convert("RGB")
    buffer = io.BytesIO()
    small.save(buffer, format="JPEG", quality=35, dpi=(72, 72))
    page = load_pages(buffer.getvalue(), name="photo.jpg")[0]
    assert page.image is None and page.error is not None
    assert page.error.code == "resolution_too_low"
    assert "dpi" in page.error.message_en and "解像度" in page.error.message_ja


def test_a_truncated_tiff_is_reported_as_truncated(blank_page: np.ndarray) -> None:
    buffer = io.BytesIO()
    Image.fromarray(blank_page).save(buffer, format="TIFF", compression="tiff_lzw")
    data = buffer.getvalue()
    with pytest.raises(InputError) as caught:
        load_pages(data[: len(data) // 2], name="cut.tif")
    assert caught.value.code == "image_truncated"
    assert "途中" in caught.value.message_ja


def test_a_truncated_jpeg_is_reported_as_truncated(blank_page: np.ndarray) -> None:
    buffer = io.BytesIO()
    Image.fromarray(blank_page).save(buffer, format="JPEG")
    with pytest.raises(InputError) as caught:
        load_pages(buffer.getvalue()[:5000], name="cut.jpg")
    assert caught.value.code == "image_truncated"


def test_a_text_only_pdf_has_no_image() -> None:
    pdf = FPDF(unit="mm", format="A4")
    pdf.add_font("IPAexGothic", "", str(find_print_font()))
    pdf.add_page()
    pdf.set_font("IPAexGothic", size=14)
    pdf.text(20, 30, "FAX 送信票")
    with pytest.raises(InputError) as caught:
        load_pages(bytes(pdf.output()), name="fax.pdf")
    assert caught.value.code == "pdf_no_image"
    assert "PDF" in caught.value.message_en


def test_something_that_is_no_image_is_unreadable() -> None:
    with pytest.raises(InputError) as caught:
        load_pages(b"name,address\n", name="list.csv")
    assert caught.value.code == "image_unreadable"
    with pytest.raises(InputError) as empty:
        load_pages(b"", name="empty.png")
    assert empty.value.code == "image_truncated"


def test_truncation_is_found_even_when_pillow_is_told_to_accept_it(
    blank_page: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import ImageFile

    # WeasyPrint sets this process-wide on import; the loader must not depend on it
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    for fmt in ("JPEG", "PNG"):
        buffer = io.BytesIO()
        Image.fromarray(blank_page).save(buffer, format=fmt)
        data = buffer.getvalue()
        with pytest.raises(InputError) as caught:
            load_pages(data[: len(data) * 2 // 3], name=f"cut.{fmt.lower()}")
        assert caught.value.code == "image_truncated"
