"""Cut each field out of an aligned page, keeping only the handwriting (切り出し).

The blank form is known pixel for pixel (it is drawn from the same YAML), so the printed
box lines, comb dividers, labels and prefixes (東京都港区) are removed by *dropout*: every
pixel where the template prints something, grown by a couple of pixels for the alignment's
residual, is set to the paper's level. What is left in a field is the applicant's ink.

Then, per field:

* text fields (氏名, フリガナ, 住所) are cut to the ink's bounding box, one image per
  written line (住所 has two), contrast-stretched and cleaned of scanner specks;
* comb fields (郵便番号, 電話番号, 手帳番号, the digits of a date) are cut per cell, each ink
  stroke going to the cell its centre lies in, so a digit spilling over a divider stays
  whole and its neighbour stays clean;
* check boxes keep the inside of the square and, for "circle the label" answers, the
  ink around the printed label.

A cell or field without enough ink is blank and is never sent to an engine.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt

from civicflow.forms.definition import (
    MM_PER_INCH,
    Cell,
    FieldDefinition,
    FormDefinition,
    Rect,
    text_width_mm,
)
from civicflow.ocr.checkbox import ring_density, stroke_density
from civicflow.ocr.images import GrayImage
from civicflow.ocr.levels import counts_above, level_counts, median_abs_deviation_of_counts
from civicflow.ocr.registration import FORM_DPI, RegisteredPage

#: Template pixels grown by this much (px at 200 dpi) before dropout: covers the alignment's
#: residual (< 2 px) and the scanner's blur of the printed rules.
DROPOUT_GROW_PX = 2
#: Connected ink smaller than this (px at 200 dpi) is scanner noise, not a pen stroke.
MIN_STROKE_PX = 10
#: A text line or comb cell with less ink than this (px at 200 dpi) is blank.
MIN_TEXT_INK_PX = 60
MIN_DIGIT_INK_PX = 28
#: Faint writing: darker than the smoothed paper by at least this many grey levels.
FAINT_MIN_CONTRAST = 8.0
#: Margin around a text field searched for ink that strays over the box (mm).
TEXT_MARGIN_MM = 0.8


@lru_cache(maxsize=8)
def template_image(form: FormDefinition, dpi: int = FORM_DPI) -> GrayImage:
    """The blank form as a greyscale array (rendered once per process and form)."""
    from civicflow.forms.render import render_blank_png

    array = np.asarray(render_blank_png(form, dpi), dtype=np.uint8).copy()
    array.setflags(write=False)
    return array


@lru_cache(maxsize=8)
def dropout_mask(
    form: FormDefinition, dpi: int = FORM_DPI, grow_px: int = DROPOUT_GROW_PX
) -> npt.NDArray[np.bool_]:
    """Where the blank form prints anything, grown by ``grow_px`` pixels."""
    dark = (template_image(form, dpi) < 200).astype(np.uint8)
    kernel = np.ones((2 * grow_px + 1, 2 * grow_px + 1), np.uint8)
    mask = cv2.dilate(dark, kernel) > 0
    mask.setflags(write=False)
    return mask


@dataclass
class CellCrop:
    """One thing to read: a text line, a comb cell or a check box.

    Attributes:
        name: The cell's name in the layout (``text``, ``line.1``, ``3``, ``year.0``,
            ``option:age70``, ``era:昭和``).
        kind: ``text``, ``digit`` or ``check``.
        value: The option or era a check box stands for.
        box: ``(x0, y0, x1, y1)`` in form pixels.
        image: The cleaned crop for an engine (ink dark on white); None when blank.
        ink_px: Pixels of handwriting found.
        density: Check boxes: the share of the inside that is ink.
        label_density: Check boxes: the share of the zone around the printed label that
            is ink (a circled label instead of a tick).
    """

    name: str
    kind: str
    value: str
    box: tuple[int, int, int, int]
    image: GrayImage | None = None
    ink_px: int = 0
    density: float = 0.0
    label_density: float = 0.0
    faint: bool = False
    struck: bool = False

    @property
    def blank(self) -> bool:
        """Nothing written here."""
        return self.image is None and self.kind != "check"


@dataclass
class FieldCrops:
    """The crops of one field."""

    field: FieldDefinition
    box: tuple[int, int, int, int]
    cells: list[CellCrop] = dataclasses.field(default_factory=list)

    @property
    def blank(self) -> bool:
        """No ink in any text line or comb cell (check boxes are judged by density)."""
        return all(c.blank for c in self.cells if c.kind != "check")


def _px(rect: Rect, dpi: int, margin_mm: float = 0.0) -> tuple[int, int, int, int]:
    """Pixel bounds of a rectangle grown by ``margin_mm``."""
    return rect.inset(-margin_mm).to_px(dpi) if margin_mm else rect.to_px(dpi)


def _clip(box: tuple[int, int, int, int], shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    h, w = shape[:2]
    x0, y0, x1, y1 = box
    return max(0, x0), max(0, y0), min(w, x1), min(h, y1)


def _dropped(
    page: RegisteredPage, mask: npt.NDArray[np.bool_], box: tuple[int, int, int, int]
) -> GrayImage:
    """The region with everything the template prints set to the paper's level."""
    x0, y0, x1, y1 = box
    region = page.image[y0:y1, x0:x1].copy()
    region[mask[y0:y1, x0:x1]] = np.uint8(min(255, round(page.paper_level)))
    return region


def _strokes(
    region: GrayImage, threshold: float, min_px: int = MIN_STROKE_PX
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.float64]]:
    """Connected ink components: labels, stats (x, y, w, h, area) and centroids.

    Components below ``min_px`` are dropped (their stats row has area 0).
    """
    ink = (region < threshold).astype(np.uint8)
    _count, labels, stats, centroids = cv2.connectedComponentsWithStats(ink, connectivity=8)
    kept = np.asarray(stats, dtype=np.int32)
    small = kept[:, cv2.CC_STAT_AREA] < min_px
    small[0] = True  # the background
    kept[small, cv2.CC_STAT_AREA] = 0
    return (
        np.asarray(labels, dtype=np.int32),
        kept,
        np.asarray(centroids, dtype=np.float64),
    )


def _render(
    region: GrayImage,
    keep: npt.NDArray[np.bool_],
    paper: float,
    *,
    pad_ratio: float,
    min_aspect: float = 0.0,
) -> GrayImage | None:
    """The kept ink on white, contrast-stretched and cut to its bounding box plus padding."""
    rows = np.flatnonzero(keep.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(keep.any(axis=0))
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    # Only the ink's bounding box is worked on (no kept pixel lies outside it).
    keep = keep[y0:y1, x0:x1]
    values = region[y0:y1, x0:x1].astype(np.float32)
    # the anti-aliased edge of each stroke stays; everything else becomes white
    halo = cv2.dilate(keep.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    ink_level = float(np.percentile(values[keep], 5))
    span = max(paper - ink_level, 25.0)
    crop = np.clip((values - ink_level) * (255.0 / span), 0, 255)
    crop[~halo] = 255
    h, w = crop.shape
    pad_y = max(2, round(h * pad_ratio))
    pad_x = pad_y
    if min_aspect and (w + 2 * pad_x) < min_aspect * (h + 2 * pad_y):
        pad_x = max(pad_x, round((min_aspect * (h + 2 * pad_y) - w) / 2))
    out = np.full((h + 2 * pad_y, w + 2 * pad_x), 255, dtype=np.uint8)
    out[pad_y : pad_y + h, pad_x : pad_x + w] = crop.astype(np.uint8)
    return out


def _struck_span(keep: npt.NDArray[np.bool_]) -> tuple[int, int] | None:
    """The x-span of a struck-through part (二重線), or None.

    Two long horizontal strokes one above the other, each longer than the writing is
    high, are a double strike; no kanji or kana stroke is that long.
    """
    rows = np.nonzero(keep.any(axis=1))[0]
    if rows.size == 0:
        return None
    height = int(rows[-1] - rows[0] + 1)
    length = max(40, round(1.3 * height))
    if length >= keep.shape[1]:
        return None
    runs = cv2.morphologyEx(keep.astype(np.uint8), cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    if not runs.any():
        return None  # no stroke that long at all (most lines)
    count, _, stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8)
    segments = [tuple(int(v) for v in stats[i][:4]) for i in range(1, count)]
    for i, (x0, y0, w0, h0) in enumerate(segments):
        for x1, y1, w1, h1 in segments[i + 1 :]:
            overlap = min(x0 + w0, x1 + w1) - max(x0, x1)
            apart = abs((y0 + h0 / 2) - (y1 + h1 / 2))
            if overlap >= 0.6 * min(w0, w1) and 0.05 * height < apart < 0.6 * height:
                return min(x0, x1), max(x0 + w0, x1 + w1)
    return None


def _faint_threshold(region: GrayImage, paper: float) -> tuple[GrayImage, float]:
    """A smoothed region and a threshold close to the paper, for writing too faint to see.

    Smoothing (3×3) cuts the scanner's grain by two thirds, so the threshold can sit much
    nearer the paper than the page's own: a thin pencil or a worn ballpoint shows.
    """
    smooth = np.asarray(cv2.GaussianBlur(region, (3, 3), 0), dtype=np.uint8)
    light = counts_above(level_counts(smooth), paper - 40)
    mad = median_abs_deviation_of_counts(light) if light.any() else 1.0
    return smooth, paper - max(FAINT_MIN_CONTRAST, 4.0 * 1.4826 * mad)


def _text_lines(
    page: RegisteredPage, mask: npt.NDArray[np.bool_], f: FieldDefinition, dpi: int
) -> list[CellCrop]:
    """One crop per written line of a free-text field."""
    area = f.cells[0].rect
    box = _clip(_px(area, dpi, TEXT_MARGIN_MM), page.image.shape)
    region = _dropped(page, mask, box)
    labels, stats, centroids = _strokes(region, page.ink_threshold)
    kept = stats[:, cv2.CC_STAT_AREA] > 0
    faint = False
    if int(stats[kept, cv2.CC_STAT_AREA].sum()) < MIN_TEXT_INK_PX:
        # Nothing at the page's threshold: look again for very faint writing.
        smooth, threshold = _faint_threshold(region, page.paper_level)
        f_labels, f_stats, f_centroids = _strokes(smooth, threshold, min_px=2 * MIN_STROKE_PX)
        f_kept = f_stats[:, cv2.CC_STAT_AREA] > 0
        if int(f_stats[f_kept, cv2.CC_STAT_AREA].sum()) >= MIN_TEXT_INK_PX:
            region, labels, stats, centroids, kept, faint = (
                smooth,
                f_labels,
                f_stats,
                f_centroids,
                f_kept,
                True,
            )
    keep_all = kept[labels]
    height = box[3] - box[1]
    lines = max(1, f.lines)
    bounds = [0]
    if lines > 1:
        # Split between lines where the fewest ink rows are, near the nominal line border.
        profile = keep_all.sum(axis=1)
        reach = height // (4 * lines)
        for index in range(1, lines):
            nominal = round(height * index / lines)
            lo, hi = max(1, nominal - reach), min(height - 1, nominal + reach)
            window = profile[lo:hi]
            bounds.append(lo + int(np.argmin(window)) if window.size else nominal)
    bounds.append(height)
    crops: list[CellCrop] = []
    centre_x, centre_y = centroids[:, 0], centroids[:, 1]
    for index in range(lines):
        top, bottom = bounds[index], bounds[index + 1]
        # each stroke belongs to the line its centre lies in
        members = kept & (centre_y >= top) & (centre_y < bottom)
        keep = members[labels]
        struck = _struck_span(keep)
        if struck is not None:
            # drop the struck part (its strokes and the two lines); the answer follows it
            members &= ~((centre_x >= struck[0] - 2) & (centre_x <= struck[1] + 2))
            keep = members[labels]
            keep[:, : struck[1] + 2] = False
        ink_px = int(keep.sum())
        name = "text" if lines == 1 else f"line.{index}"
        line_box = (box[0], box[1] + top, box[2], box[1] + bottom)
        image = None
        if ink_px >= MIN_TEXT_INK_PX:
            image = _render(region, keep, page.paper_level, pad_ratio=0.12)
        crops.append(
            CellCrop(
                name,
                "text",
                "",
                line_box,
                image,
                ink_px,
                faint=faint and image is not None,
                struck=struck is not None,
            )
        )
    return crops


def _comb_cells(
    page: RegisteredPage, mask: npt.NDArray[np.bool_], f: FieldDefinition, dpi: int
) -> list[CellCrop]:
    """One crop per digit cell (comb fields and the digits of a date)."""
    digit_cells = [c for c in f.cells if c.kind == "digit"]
    if not digit_cells:
        return []
    left = min(c.rect.x for c in digit_cells)
    right = max(c.rect.right for c in digit_cells)
    top = min(c.rect.y for c in digit_cells)
    bottom = max(c.rect.bottom for c in digit_cells)
    span = Rect(left, top, right - left, bottom - top)
    box = _clip(_px(span, dpi, 0.6), page.image.shape)
    region = _dropped(page, mask, box)
    labels, stats, centroids = _strokes(region, page.ink_threshold)
    kept = stats[:, cv2.CC_STAT_AREA] > 0
    scale = dpi / MM_PER_INCH
    crops: list[CellCrop] = []
    cx = centroids[:, 0] + box[0]
    left_x, top_y = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    right_x = left_x + stats[:, cv2.CC_STAT_WIDTH]
    bottom_y = top_y + stats[:, cv2.CC_STAT_HEIGHT]
    for cell in digit_cells:
        x0 = cell.rect.x * scale
        x1 = cell.rect.right * scale
        members = kept & (cx >= x0) & (cx < x1)
        ink_px = int(stats[members, cv2.CC_STAT_AREA].sum())
        image = None
        if ink_px >= MIN_DIGIT_INK_PX:
            # the cell's strokes lie within their joint bounding box: label only that part
            bx0, by0 = int(left_x[members].min()), int(top_y[members].min())
            bx1, by1 = int(right_x[members].max()), int(bottom_y[members].max())
            keep = members[labels[by0:by1, bx0:bx1]]
            image = _render(
                region[by0:by1, bx0:bx1], keep, page.paper_level, pad_ratio=0.18, min_aspect=0.8
            )
        crops.append(CellCrop(cell.name, "digit", "", cell.rect.to_px(dpi), image, ink_px))
    return crops


def _check_zone(f: FieldDefinition, cell: Cell) -> Rect | None:
    """The zone around an option's printed label, where a circle would be drawn."""
    option = next((o for o in f.options if o.value == cell.value), None)
    label = option.label if option else cell.value
    if not label:
        return None
    width = text_width_mm(label, f.text_size)
    square = cell.rect
    return Rect(square.right + 0.4, square.y - 1.8, width + 4.0, square.h + 3.6)


def _check_cells(
    page: RegisteredPage, mask: npt.NDArray[np.bool_], f: FieldDefinition, dpi: int
) -> list[CellCrop]:
    """Ink density inside each check box and in a ring around its label."""
    crops: list[CellCrop] = []
    for cell in f.cells:
        if cell.kind != "check":
            continue
        inside = _clip(_px(cell.rect.inset(0.35), dpi), page.image.shape)
        window = _clip(_px(cell.rect, dpi, 2 * cell.rect.w), page.image.shape)
        region = _dropped(page, mask, window)
        local = (
            inside[0] - window[0],
            inside[1] - window[1],
            inside[2] - window[0],
            inside[3] - window[1],
        )
        usable = ~mask[inside[1] : inside[3], inside[0] : inside[2]]
        density = stroke_density(region, local, usable, page.ink_threshold)
        label_density = 0.0
        zone = _check_zone(f, cell)
        if zone is not None:
            zbox = _clip(_px(zone, dpi), page.image.shape)
            zregion = _dropped(page, mask, zbox)
            zusable = ~mask[zbox[1] : zbox[3], zbox[0] : zbox[2]]
            label_density = ring_density(zregion, zusable, page.ink_threshold)
        crops.append(
            CellCrop(
                cell.name,
                "check",
                cell.value,
                cell.rect.to_px(dpi),
                None,
                0,
                min(density, 1.0),
                min(label_density, 1.0),
            )
        )
    return crops


def cut_field(
    page: RegisteredPage,
    form: FormDefinition,
    f: FieldDefinition,
    mask: npt.NDArray[np.bool_] | None = None,
) -> FieldCrops:
    """Cut one field's cells from an aligned page.

    Args:
        page: The page aligned onto ``form``.
        form: The form definition.
        f: The field.
        mask: The form's :func:`dropout_mask` at the page's resolution, when the caller
            has it already (looking it up hashes the whole form definition).

    Returns:
        The field's crops: text lines, digit cells and/or check boxes.
    """
    dpi = page.transform.dpi
    if mask is None:
        mask = dropout_mask(form, dpi)
    crops = FieldCrops(f, f.box.to_px(dpi))
    if f.type in ("kanji_name", "katakana", "address", "wareki_date"):
        crops.cells = _text_lines(page, mask, f, dpi)
    elif f.type in ("postal_code", "phone", "digits"):
        crops.cells = _comb_cells(page, mask, f, dpi)
    elif f.type == "date_comb":
        crops.cells = _check_cells(page, mask, f, dpi) + _comb_cells(page, mask, f, dpi)
    else:  # checkbox, checkbox_group
        crops.cells = _check_cells(page, mask, f, dpi)
    return crops


def cut_fields(page: RegisteredPage, form: FormDefinition) -> dict[str, FieldCrops]:
    """Cut every field of the form from an aligned page, in form order."""
    mask = dropout_mask(form, page.transform.dpi)
    return {f.id: cut_field(page, form, f, mask) for f in form.fields}
