"""Draw a blank form from its definition: a printable PDF (fpdf2) and a PNG (Pillow).

Both come from one list of drawing operations in millimetres, so the PDF a clerk prints
and the PNG the synthetic scans are made from have the same geometry: at 200 dpi every
registration mark lands on the pixel the YAML gives, within a pixel.

The print font is IPAexGothic (IPA licence), shipped with ``matplotlib-fontja`` and found
without importing that package (importing it switches matplotlib's default font).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from civicflow.documents import atomic_write
from civicflow.documents.pdf import find_japanese_font
from civicflow.forms.definition import (
    MIDDLE_TO_BASELINE_EM,
    PT_TO_MM,
    TEXT_TYPES,
    FormDefinition,
    Rect,
    load_form,
    text_width_mm,
)

DEFAULT_DPI = 200
FONT_FAMILY = "IPAexGothic"
LABEL_FILL = 235  # grey of the label cells
THIN = 0.3  # mm: cell and box rules
HAIR = 0.2  # mm: comb dividers
#: The PDF's creation date: fixed, so the same definition always gives the same bytes.
PDF_DATE = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)

Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class _Box:
    """Draw a rectangle: ``fill`` (grey level) and/or an outline ``line`` mm wide."""

    rect: Rect
    line: float = THIN
    fill: int | None = None


@dataclass(frozen=True)
class _Text:
    """Draw a text whose middle line is at ``y``."""

    text: str
    x: float
    y: float
    size: float  # points
    align: Align = "left"


def find_print_font() -> Path:
    """The IPAexGothic TTF shipped with ``matplotlib-fontja`` (located, not imported).

    Raises:
        PermanentError: The package or the font file is missing.
    """
    return find_japanese_font()


def _fit(text: str, size: float, width: float) -> float:
    """The largest size up to ``size`` at which ``text`` fits in ``width`` mm."""
    needed = text_width_mm(text, size)
    return size if needed <= width else size * width / needed


def drawing_ops(form: FormDefinition) -> tuple[list[_Box], list[_Text]]:
    """Everything the blank form prints, in mm: fills and rules first, then texts.

    Args:
        form: The form definition.

    Returns:
        The rectangles (in drawing order; registration marks last) and the texts.
    """
    fills: list[_Box] = []
    rules: list[_Box] = []
    texts: list[_Text] = [
        _Text(form.title, form.page.width / 2, form.title_y, form.title_size, "center")
    ]
    for frame in form.frames:
        if frame.fill is not None:
            fills.append(_Box(frame.box, 0.0, frame.fill))
        if frame.line > 0:
            rules.append(_Box(frame.box, frame.line))
    for item in form.texts:
        texts.append(_Text(item.text, item.x, item.y, item.size, item.align))
    for field in form.fields:
        label = field.label_rect(form.label_width)
        if label is not None:
            fills.append(_Box(label, 0.0, LABEL_FILL))
            rules.append(_Box(label))
            size = _fit(field.label, form.label_size, label.w - 2.0)
            texts.append(_Text(field.label, label.center[0], label.center[1], size, "center"))
        if field.type in TEXT_TYPES or field.type in ("date_comb", "checkbox_group"):
            rules.append(_Box(field.box))
        for cell in field.cells:
            if cell.kind == "digit":
                rules.append(_Box(cell.rect, THIN if field.type == "date_comb" else HAIR))
            elif cell.kind == "check":
                rules.append(_Box(cell.rect))
        if field.type in ("postal_code", "phone", "digits"):
            # One bold outline per group of cells, so the gap of a printed "-" stays open.
            bounds = [0, *field.separators, len(field.cells)]
            for start, stop in itertools.pairwise(bounds):
                first, last = field.cells[start].rect, field.cells[stop - 1].rect
                rules.append(_Box(_comb_outline(first, last)))
        for printed in field.layout.printed:
            texts.append(_Text(printed.text, printed.x, printed.y, printed.size, printed.align))
    marks = [_Box(mark.box, 0.0, 0) for mark in form.registration_marks]
    return fills + rules + marks, texts


def _comb_outline(first: Rect, last: Rect) -> Rect:
    """The outer rule of a comb (drawn thicker than the dividers)."""
    return Rect(first.x, first.y, last.right - first.x, first.h)


# --- PDF ------------------------------------------------------------------------------------------
def render_blank_pdf(form: FormDefinition) -> bytes:
    """The blank form as a one-page PDF to print, font embedded.

    Args:
        form: The form definition.

    Returns:
        The PDF bytes (the same definition always gives the same bytes).
    """
    pdf = FPDF(
        orientation="landscape" if form.page.orientation == "landscape" else "portrait",
        unit="mm",
        format=(form.page.width, form.page.height)
        if form.page.orientation == "portrait"
        else (form.page.height, form.page.width),
    )
    pdf.set_creation_date(PDF_DATE)
    pdf.set_title(f"{form.title} ({form.id} v{form.version})")
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.add_font(FONT_FAMILY, "", str(find_print_font()))
    pdf.add_page()
    boxes, texts = drawing_ops(form)
    pdf.set_draw_color(0)
    for box in boxes:
        r = box.rect
        if box.fill is not None:
            pdf.set_fill_color(box.fill)
            pdf.rect(r.x, r.y, r.w, r.h, style="F")
        if box.line > 0:
            pdf.set_line_width(box.line)
            pdf.rect(r.x, r.y, r.w, r.h, style="D")
    pdf.set_text_color(0)
    for text in texts:
        pdf.set_font(FONT_FAMILY, size=text.size)
        width = pdf.get_string_width(text.text)
        x = text.x - (
            width / 2 if text.align == "center" else width if text.align == "right" else 0
        )
        pdf.text(x, _baseline(text), text.text)
    return bytes(pdf.output())


def _baseline(text: _Text) -> float:
    """The baseline (mm) of a text placed by its middle line."""
    return text.y + MIDDLE_TO_BASELINE_EM * text.size * PT_TO_MM


# --- PNG --------------------------------------------------------------------------------------------
@lru_cache(maxsize=64)
def _pil_font(path: Path, size_px: float) -> ImageFont.FreeTypeFont:
    """A Pillow font, loaded once per size."""
    return ImageFont.truetype(str(path), size=size_px)


def render_blank_png(form: FormDefinition, dpi: int = DEFAULT_DPI) -> Image.Image:
    """The blank form as a greyscale image, drawn with the same geometry as the PDF.

    Millimetres become pixels as ``round(mm * dpi / 25.4)``; a rule ``w`` mm wide is
    centred on its edge, as PDF strokes are.

    Args:
        form: The form definition.
        dpi: Resolution (the scans are made at 200 dpi).

    Returns:
        A mode ``L`` image of ``form.size_px(dpi)`` with ``info["dpi"]`` set.
    """
    scale = dpi / 25.4
    image = Image.new("L", form.size_px(dpi), 255)
    draw = ImageDraw.Draw(image)
    boxes, texts = drawing_ops(form)

    def px(value: float) -> int:
        return round(value * scale)

    for box in boxes:
        r = box.rect
        if box.fill is not None:
            draw.rectangle((px(r.x), px(r.y), px(r.right) - 1, px(r.bottom) - 1), fill=box.fill)
        if box.line > 0:
            half = box.line / 2
            for x0, y0, x1, y1 in (
                (r.x - half, r.y - half, r.right + half, r.y + half),  # top
                (r.x - half, r.bottom - half, r.right + half, r.bottom + half),  # bottom
                (r.x - half, r.y - half, r.x + half, r.bottom + half),  # left
                (r.right - half, r.y - half, r.right + half, r.bottom + half),  # right
            ):
                left, top = px(x0), px(y0)
                draw.rectangle(
                    (left, top, max(px(x1), left + 1) - 1, max(px(y1), top + 1) - 1), fill=0
                )
    font_path = find_print_font()
    anchors = {"left": "ls", "center": "ms", "right": "rs"}
    for text in texts:
        font = _pil_font(font_path, text.size * dpi / 72)
        draw.text(
            (text.x * scale, _baseline(text) * scale),
            text.text,
            fill=0,
            font=font,
            anchor=anchors[text.align],
        )
    image.info["dpi"] = (dpi, dpi)
    return image


def write_blank_form(
    form_id: str,
    out_dir: Path,
    *,
    forms_dir: Path | None = None,
    dpi: int = DEFAULT_DPI,
) -> list[Path]:
    """Write ``<form_id>.pdf`` (to print) and ``<form_id>.png`` (to make scans from).

    Args:
        form_id: The form, e.g. ``"bus_pass"``.
        out_dir: The folder to write to (created if missing).
        forms_dir: Where the definitions are (default ``data/forms``).
        dpi: The PNG's resolution.

    Returns:
        The PDF and PNG paths.

    Raises:
        FormDefinitionError: The form is unknown or its YAML is wrong.
    """
    form = load_form(form_id, forms_dir)
    pdf_path = out_dir / f"{form.id}.pdf"
    png_path = out_dir / f"{form.id}.png"
    with atomic_write(pdf_path) as tmp:
        tmp.write_bytes(render_blank_pdf(form))
    with atomic_write(png_path) as tmp:
        render_blank_png(form, dpi).save(tmp, format="PNG", dpi=(dpi, dpi), optimize=True)
    return [pdf_path, png_path]
