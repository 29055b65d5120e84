"""Align a scanned page onto its form (位置合わせ) by the printed registration marks.

Every form prints a filled square near each corner; the top-left one is larger, so a page
fed upside down (or turned a quarter) is recognised by where the large mark ended up. The
reader:

1. binarises the page once (Otsu) and looks for solid squares of the marks' size in the
   four corner windows only (a stray blot in the middle of the page is never a candidate);
2. decides the page's turn (0°, 90°, 180°, 270°) from the corner holding the large mark;
3. fits a similarity transform (rotation + uniform scale + shift) from the marks' centres
   to the template's with ``cv2.estimateAffinePartial2D`` and warps the page onto the
   template at 200 dpi in one ``cv2.warpAffine``;
4. checks the fit: the residual of the marks, a plausible scale, and that the form's
   printed rules are where the template has them (a page of another form with similar
   marks fails here).

A page without marks becomes ``InputError("blank_page")`` when it holds almost no ink and
``InputError("form_not_recognised")`` otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt

from civicflow.errors import InputError
from civicflow.forms.definition import MM_PER_INCH, FormDefinition, RegistrationMark
from civicflow.ocr.images import GrayImage
from civicflow.ocr.levels import (
    counts_above,
    level_counts,
    median_abs_deviation_of_counts,
    percentile_of_counts,
)
from civicflow.ocr.models import PageTransform

#: The resolution the page is aligned to (the blank PNG and the synthetic scans use it).
FORM_DPI = 200
#: Corner windows searched for marks, as a share of the page's width and height.
CORNER_WINDOW = (0.22, 0.16)
#: A mark may appear this much smaller or larger than printed (scan scale, blur, ink spread).
SIZE_RANGE = (0.6, 1.5)
#: The large mark is at least this much larger (in area) than the others (8 mm vs 6 mm: 1.78).
LARGE_MARK_RATIO = 1.35
#: Above this RMS residual (form pixels at 200 dpi) the alignment is not trusted.
MAX_RESIDUAL_PX = 6.0
#: Below this share of the template's rules found on the aligned page, it is another form.
MIN_TEMPLATE_SCORE = 0.45
#: A pixel is ink when it is darker than the paper by this many grey levels at least …
INK_MIN_CONTRAST = 20.0
#: … and by this many standard deviations of the paper's grain.
INK_NOISE_SIGMAS = 5.0
#: Below this share of dark pixels a page without marks counts as blank.
BLANK_INK_RATIO = 0.002


@dataclass(frozen=True)
class RegisteredPage:
    """A page aligned onto its form.

    Attributes:
        image: The page in form pixels at :data:`FORM_DPI`, greyscale, the template's size.
        transform: How it was aligned (matrix, turn, residual, marks found).
        ink_threshold: Grey level below which a pixel counts as ink on this page (handwriting
            included, faint pencil too), estimated from the paper's own noise.
        paper_level: The paper's grey level.
    """

    image: GrayImage
    transform: PageTransform
    ink_threshold: float
    paper_level: float


@dataclass(frozen=True)
class _Blob:
    """A solid square found on the page (image pixels)."""

    cx: float
    cy: float
    side: float
    area: float


def _not_recognised(detail_ja: str, detail_en: str) -> InputError:
    return InputError(
        f"申請書の位置合わせマーク（四隅の黒い四角）が見つかりません: {detail_ja}。"
        "別の書類が混ざっていないか確認し、申請書なら四隅が写るようにスキャンし直してください。",
        f"The form's registration marks (black squares in the corners) were not found: "
        f"{detail_en}. Check that no other document slipped in; if it is the application "
        "form, scan it again with all four corners on the page.",
        code="form_not_recognised",
    )


def _blank_page() -> InputError:
    return InputError(
        "白紙のページです（何も書かれていません）。裏面や区切りの紙が混ざっていないか確認してください。",
        "The page is blank (nothing printed or written). Check for a back side or a "
        "separator sheet in the batch.",
        code="blank_page",
    )


def _otsu(gray: GrayImage) -> float:
    """Otsu's threshold of an image: pixels below it are dark (a subsample is plenty).

    Otsu returns the last level of the dark class, so one is added: a bilevel scan (0 and
    255 only) gives 1, and ``gray < threshold`` is the dark class in every case.
    """
    sample = gray[::4, ::4]
    value, _ = cv2.threshold(sample, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return float(value) + 1.0


def paper_and_ink(gray: GrayImage) -> tuple[float, float]:
    """The paper's grey level and a threshold below which a pixel is ink.

    The paper is the brightest common level (the 75th percentile: most of a form is
    paper); the threshold sits a few noise widths below it, so pencil and a faint
    ballpoint still count while scanner noise does not.

    Args:
        gray: A page or a region of one.

    Returns:
        ``(paper_level, ink_threshold)``.
    """
    counts = level_counts(gray[::3, ::3])
    paper = percentile_of_counts(counts, 75)
    # the spread of the paper's own grain (median absolute deviation, robust to ink), over
    # the light pixels only (levels above paper − 60)
    light = counts_above(counts, paper - 60)
    mad = median_abs_deviation_of_counts(light) if light.any() else 2.0
    sigma = 1.4826 * mad
    threshold = paper - max(INK_MIN_CONTRAST, INK_NOISE_SIGMAS * sigma)
    return paper, max(threshold, 40.0)


def _blobs(
    binary: npt.NDArray[np.uint8], offset: tuple[int, int], side_px: tuple[float, float]
) -> list[_Blob]:
    """Solid, square connected components whose side lies in ``side_px``."""
    count, _, stats, centroids = cv2.connectedComponentsWithStats(binary, connectivity=8)
    found: list[_Blob] = []
    low, high = side_px
    for label in range(1, count):
        _x, _y, w, h, area = (int(v) for v in stats[label])
        if not (low <= w <= high * 1.12 and low <= h <= high * 1.12):
            continue
        if not 0.75 <= w / h <= 1.33:
            continue
        side = math.sqrt(area)
        if not low <= side <= high:
            continue
        # a square turned by a few degrees still fills ~90 % of its bounding box
        if area / (w * h) < 0.78:
            continue
        cx, cy = centroids[label]
        found.append(_Blob(float(cx) + offset[0], float(cy) + offset[1], side, float(area)))
    return found


def _find_marks(gray: GrayImage, form: FormDefinition, threshold: float) -> dict[str, _Blob]:
    """The best square candidate in each corner window, keyed tl/tr/bl/br (image corners)."""
    h, w = gray.shape
    # Pixels per mm, assuming the image spans the page (in either orientation).
    page_w, page_h = form.size_mm
    portrait = h >= w
    px_per_mm = (w / page_w + h / page_h) / 2 if portrait else (w / page_h + h / page_w) / 2
    sizes = [m.size for m in form.registration_marks]
    side_px = (min(sizes) * px_per_mm * SIZE_RANGE[0], max(sizes) * px_per_mm * SIZE_RANGE[1])
    ww, wh = round(w * CORNER_WINDOW[0]), round(h * CORNER_WINDOW[1])
    if not portrait:
        ww, wh = round(w * CORNER_WINDOW[1]), round(h * CORNER_WINDOW[0])
    windows = {
        "tl": (0, 0),
        "tr": (w - ww, 0),
        "bl": (0, h - wh),
        "br": (w - ww, h - wh),
    }
    marks: dict[str, _Blob] = {}
    for corner, (x0, y0) in windows.items():
        region = gray[y0 : y0 + wh, x0 : x0 + ww]
        binary = (region < threshold).astype(np.uint8)
        candidates = _blobs(binary, (x0, y0), side_px)
        if not candidates:
            continue
        # the mark nearest the page's corner (a filled check box lies further in)
        corner_x = 0.0 if corner in ("tl", "bl") else float(w)
        corner_y = 0.0 if corner in ("tl", "tr") else float(h)
        marks[corner] = min(candidates, key=lambda b: math.hypot(b.cx - corner_x, b.cy - corner_y))
    return marks


#: Where the template's top-left mark lands for each turn of the page (image corner → turn).
_TURN_OF_LARGE_CORNER = {"tl": 0, "tr": 90, "br": 180, "bl": 270}


def _turn_matrix(turn: int, w: int, h: int) -> npt.NDArray[np.float64]:
    """The 3×3 map from image pixels to the page turned upright by ``turn`` degrees.

    ``turn`` is how far the page was turned clockwise when scanned; undoing it turns the
    image counter-clockwise by the same amount.
    """
    if turn == 0:
        return np.eye(3)
    if turn == 180:
        return np.array([[-1.0, 0.0, w - 1.0], [0.0, -1.0, h - 1.0], [0.0, 0.0, 1.0]])
    if turn == 90:  # the top-left mark is at the top right: turn counter-clockwise
        return np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, w - 1.0], [0.0, 0.0, 1.0]])
    # 270: the top-left mark is at the bottom left: turn clockwise
    return np.array([[0.0, -1.0, h - 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


def _template_points(form: FormDefinition, dpi: int) -> dict[str, tuple[float, float]]:
    """Each mark's centre in form pixels (pixel centres at integer coordinates)."""
    s = dpi / MM_PER_INCH
    return {m.id: (m.center[0] * s - 0.5, m.center[1] * s - 0.5) for m in form.registration_marks}


def _nearest_mark(
    form: FormDefinition, point: tuple[float, float], px_per_mm: float
) -> RegistrationMark:
    """The template mark nearest to a point of the upright page."""
    x_mm, y_mm = point[0] / px_per_mm, point[1] / px_per_mm
    return min(
        form.registration_marks,
        key=lambda m: math.hypot(m.center[0] - x_mm, m.center[1] - y_mm),
    )


@lru_cache(maxsize=8)
def _rule_mask(form: FormDefinition, dpi: int, step: int) -> npt.NDArray[np.bool_]:
    """Where the blank form prints its rules and frames, subsampled by ``step``."""
    from civicflow.ocr.crops import template_image

    blank = template_image(form, dpi)
    dark = blank < 128
    # Long straight runs only: rules and frames, not the text (a misread page of text lines
    # could match text anywhere).
    horizontal = cv2.morphologyEx(dark.astype(np.uint8), cv2.MORPH_OPEN, np.ones((1, 41), np.uint8))
    vertical = cv2.morphologyEx(dark.astype(np.uint8), cv2.MORPH_OPEN, np.ones((41, 1), np.uint8))
    rules = np.logical_or(horizontal > 0, vertical > 0)
    return np.asarray(rules[::step, ::step], dtype=bool)


def template_score(
    form: FormDefinition, aligned: GrayImage, threshold: float, dpi: int = FORM_DPI
) -> float:
    """The share of the form's printed rules that are dark on an aligned page.

    Args:
        form: The form.
        aligned: The page already warped onto the template.
        threshold: The page's ink threshold.
        dpi: The template's resolution.

    Returns:
        0–1; an aligned page of this form scores ~0.9, a page of another form far less.
    """
    step = 2
    rules = _rule_mask(form, dpi, step)
    dark = aligned[::step, ::step] < threshold
    # A rule one pixel off still counts: dilate the page's ink by one (subsampled) pixel.
    dark = cv2.dilate(dark.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    total = int(rules.sum())
    return float((dark & rules).sum()) / total if total else 0.0


def register_page(gray: GrayImage, form: FormDefinition, *, dpi: int = FORM_DPI) -> RegisteredPage:
    """Find the marks, turn and deskew the page, and warp it onto the form.

    Args:
        gray: The scanned page, greyscale, any resolution from ~150 dpi.
        form: The form it should be.
        dpi: The resolution of the aligned page (the template's).

    Returns:
        The aligned page and the transform.

    Raises:
        InputError: ``blank_page`` (no marks, almost no ink) or ``form_not_recognised``
            (marks missing, no larger top-left mark, a poor fit, another form's layout).
    """
    h, w = gray.shape
    threshold = _otsu(gray)
    marks = _find_marks(gray, form, threshold)
    if len(marks) < 3:
        paper, ink = paper_and_ink(gray)
        ink_ratio = float((gray[::4, ::4] < min(ink, threshold)).mean())
        if ink_ratio < BLANK_INK_RATIO:
            raise _blank_page()
        raise _not_recognised(
            f"{len(marks)} 個しか見つかりません", f"only {len(marks)} of the corner marks found"
        )
    by_area = sorted(marks.items(), key=lambda item: item[1].area, reverse=True)
    (large_corner, large), rest = by_area[0], [b for _, b in by_area[1:]]
    others = float(np.median([b.area for b in rest]))
    if large.area < LARGE_MARK_RATIO * others:
        raise _not_recognised(
            "左上の大きいマークがありません（別の様式の可能性があります）",
            "no larger top-left mark (it may be another form)",
        )
    turn = _TURN_OF_LARGE_CORNER[large_corner]
    upright = _turn_matrix(turn, w, h)
    up_w, up_h = (w, h) if turn in (0, 180) else (h, w)
    px_per_mm = (up_w / form.size_mm[0] + up_h / form.size_mm[1]) / 2
    targets = _template_points(form, dpi)
    src: list[tuple[float, float]] = []
    dst: list[tuple[float, float]] = []
    used: set[str] = set()
    for blob in marks.values():
        x, y, _ = upright @ np.array([blob.cx, blob.cy, 1.0])
        mark = _nearest_mark(form, (float(x), float(y)), px_per_mm)
        if mark.id in used:
            continue
        used.add(mark.id)
        src.append((float(x), float(y)))
        dst.append(targets[mark.id])
    if len(src) < 3:
        raise _not_recognised(
            "マークの配置が様式と合いません", "the marks do not sit where the form has them"
        )
    src_a = np.array(src, dtype=np.float64)
    dst_a = np.array(dst, dtype=np.float64)
    affine, _ = cv2.estimateAffinePartial2D(src_a, dst_a, method=cv2.LMEDS, refineIters=20)
    if affine is None:
        raise _not_recognised("位置合わせの計算ができません", "the alignment could not be computed")
    mapped = src_a @ affine[:, :2].T + affine[:, 2]
    residual = float(np.sqrt(np.mean(np.sum((mapped - dst_a) ** 2, axis=1))))
    scale = float(math.hypot(affine[0, 0], affine[1, 0]))
    angle = float(math.degrees(math.atan2(affine[1, 0], affine[0, 0])))
    expected_scale = dpi / MM_PER_INCH / px_per_mm
    if residual > MAX_RESIDUAL_PX or not 0.85 < scale / expected_scale < 1.18 or abs(angle) > 10:
        raise _not_recognised(
            f"マークの位置が様式と合いません（誤差 {residual:.1f} 画素、傾き {angle:.1f}°）",
            f"the marks do not fit the form (residual {residual:.1f} px, angle {angle:.1f}°)",
        )
    full = np.vstack([affine, [0.0, 0.0, 1.0]]) @ upright
    size = form.size_px(dpi)
    aligned = np.asarray(
        cv2.warpAffine(
            gray, full[:2], size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        ),
        dtype=np.uint8,
    )
    paper, ink = paper_and_ink(aligned)
    score = template_score(form, aligned, min(threshold + 20.0, paper - 10.0), dpi)
    if score < MIN_TEMPLATE_SCORE:
        raise _not_recognised(
            f"罫線が様式と一致しません（一致率 {score:.0%}）。別の様式か別の版の可能性があります",
            f"the printed rules do not match the form ({score:.0%} found); it may be another "
            "form or another version",
        )
    transform = PageTransform(
        dpi=dpi,
        matrix=(
            float(full[0, 0]),
            float(full[0, 1]),
            float(full[0, 2]),
            float(full[1, 0]),
            float(full[1, 1]),
            float(full[1, 2]),
        ),
        rotation_deg=turn,
        angle_deg=round(angle, 4),
        scale=round(scale, 5),
        residual_px=round(residual, 3),
        marks_found=len(src),
        template_score=round(score, 3),
    )
    return RegisteredPage(aligned, transform, ink, paper)
