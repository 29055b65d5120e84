"""Read check boxes (チェック欄) by the density of ink inside the printed square.

No engine is involved: a box is the share of its inside that is ink. A レ, a ✗ or a
scribble covers 15–60 % of a 4.5 mm square; an empty box shows a few scanner specks
(< 2 %). Between the two bounds the box goes to a person (a faint tick, a blot).

Two things are not ticks and are left out of the count:

* strokes much larger than the box (a coffee-cup ring, a line across the page): a tick
  overshoots its box by a third at most;
* the printed square itself: the crop is taken inside it and the template is dropped out.

Some applicants circle the option's label instead of ticking its box (○ を付ける); a ring
around the label is measured separately (``label_density``) and reported as a circled
choice, which a person confirms.

The bounds are parameters (:class:`CheckboxThresholds`), calibrated on generated scans by
:mod:`civicflow.ocr.calibrate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np
import numpy.typing as npt

GrayImage = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]


class CheckState(StrEnum):
    """What a check box says."""

    EMPTY = "empty"
    CHECKED = "checked"
    UNSURE = "unsure"  # between the bounds: a person decides
    CIRCLED = "circled"  # box empty, label circled: a choice a person confirms


@dataclass(frozen=True)
class CheckboxThresholds:
    """Density bounds of a check box.

    Attributes:
        empty_max: At or below this share of ink the box is empty.
        checked_min: At or above this share the box is ticked; in between, unsure.
        circled_min: A ring around the label covering at least this share of the label's
            zone counts as a circled choice.
    """

    empty_max: float = 0.05
    checked_min: float = 0.15
    circled_min: float = 0.15


def dark_ratio(
    box: GrayImage, threshold: float | None = None, *, min_contrast: float = 40.0
) -> float:
    """The share of a box's pixels that are ink.

    Args:
        box: The inside of the printed square, greyscale.
        threshold: Grey level below which a pixel is ink; None: Otsu's threshold of the box
            itself, used only when the box holds real contrast (a clean empty box has
            none, and Otsu would split its paper grain in two).
        min_contrast: The grey-level spread below which a box without a given threshold
            is empty.

    Returns:
        0–1.
    """
    if box.size == 0:
        return 0.0
    if threshold is None:
        low, high = float(np.percentile(box, 1)), float(np.percentile(box, 99))
        if high - low < min_contrast:
            return 0.0
        value, _ = cv2.threshold(box, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        threshold = float(value) + 1.0
    return float((box < threshold).mean())


def stroke_density(
    window: GrayImage,
    inside: tuple[int, int, int, int],
    usable: Mask,
    threshold: float,
    *,
    max_extent: float = 1.8,
    min_px: int = 6,
) -> float:
    """The share of a box's inside covered by ink from strokes of a tick's size.

    Args:
        window: The box with a margin around it (so strokes that leave the box are seen
            whole), template already dropped out.
        inside: ``(x0, y0, x1, y1)`` of the box's inside within ``window``.
        usable: Pixels of the inside not covered by the printed template.
        threshold: The page's ink threshold.
        max_extent: Strokes wider or taller than this many box sides are not ticks.
        min_px: Strokes smaller than this are scanner specks.

    Returns:
        0–1.
    """
    x0, y0, x1, y1 = inside
    side = max(x1 - x0, y1 - y0, 1)
    if int((window[y0:y1, x0:x1][usable] < threshold).sum()) < min_px:
        return 0.0  # an empty box (most are): no need to look at strokes
    ink = (window < threshold).astype(np.uint8)
    _count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    widths = stats[:, cv2.CC_STAT_WIDTH]
    heights = stats[:, cv2.CC_STAT_HEIGHT]
    areas = stats[:, cv2.CC_STAT_AREA]
    keep = (widths <= max_extent * side) & (heights <= max_extent * side) & (areas >= min_px)
    keep[0] = False
    inner = keep[labels[y0:y1, x0:x1]] & usable
    return float(inner.sum()) / max(int(usable.sum()), 1)


def ring_density(zone: GrayImage, usable: Mask, threshold: float, *, min_px: int = 25) -> float:
    """The share of a label's zone covered by a ring drawn around the label.

    Only long strokes count (at least half the zone wide), and only when they pass both
    above and below the label: a ring does, a stray line through the label or a tick
    spilling over from the box does not. The printed label, dropped out, may cut the
    ring into an upper and a lower arc; both count.

    Args:
        zone: The label's zone, template dropped out.
        usable: Pixels not covered by the printed template.
        threshold: The page's ink threshold.
        min_px: Strokes smaller than this are ignored.

    Returns:
        0–1.
    """
    h, w = zone.shape
    ink = (zone < threshold).astype(np.uint8)
    if int(ink.sum()) < min_px:
        return 0.0
    _count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    widths = stats[:, cv2.CC_STAT_WIDTH]
    areas = stats[:, cv2.CC_STAT_AREA]
    keep = (widths >= 0.5 * w) & (areas >= min_px)
    keep[0] = False
    ring = keep[labels] & usable
    band = max(1, h // 3)
    if not (ring[:band].any() and ring[h - band :].any()):
        return 0.0
    return float(ring.sum()) / max(int(usable.sum()), 1)


def classify_box(
    density: float, thresholds: CheckboxThresholds, *, label_density: float = 0.0
) -> CheckState:
    """Empty, checked, unsure or circled, from the box's (and its label's) ink.

    Args:
        density: The share of the box's inside that is ink.
        thresholds: The calibrated bounds.
        label_density: The share of the label's zone covered by a ring.

    Returns:
        The state.
    """
    if density >= thresholds.checked_min:
        return CheckState.CHECKED
    if density > thresholds.empty_max:
        return CheckState.UNSURE
    if label_density >= thresholds.circled_min:
        return CheckState.CIRCLED
    return CheckState.EMPTY


def box_confidence(density: float, thresholds: CheckboxThresholds) -> float:
    """How far a density lies from the unsure band, as 0.5–1 (0.5 inside the band)."""
    if thresholds.empty_max < density < thresholds.checked_min:
        return 0.5
    if density <= thresholds.empty_max:
        margin = (thresholds.empty_max - density) / max(thresholds.empty_max, 1e-6)
    else:
        margin = (density - thresholds.checked_min) / max(1.0 - thresholds.checked_min, 1e-6)
    return round(0.5 + 0.5 * min(1.0, 0.4 + margin), 4)
