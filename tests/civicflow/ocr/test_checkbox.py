"""Check boxes by ink density: a table of tiny synthetic boxes (4.5 mm ≈ 35 px at 200 dpi)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from civicflow.ocr.checkbox import (
    CheckboxThresholds,
    CheckState,
    box_confidence,
    classify_box,
    dark_ratio,
    ring_density,
    stroke_density,
)

SIDE = 35
BOUNDS = CheckboxThresholds(empty_max=0.05, checked_min=0.15, circled_min=0.15)


def _paper(seed: int = 1, side: int = SIDE) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(244, 3, (side, side)), 0, 255).astype(np.uint8)


def _box(kind: str) -> np.ndarray:
    box = _paper()
    if kind == "tick":  # レ
        cv2.polylines(box, [np.array([[5, 17], [14, 30], [33, 2]])], False, 25, 4)
    elif kind == "cross":  # ✗
        cv2.line(box, (4, 4), (30, 30), 25, 4)
        cv2.line(box, (30, 4), (4, 30), 25, 4)
    elif kind == "filled":  # scribbled in
        for y in range(4, 32, 4):
            cv2.line(box, (3, y), (31, y + 2), 30, 3)
    elif kind == "faint":  # half a tick, lightly
        cv2.polylines(box, [np.array([[6, 18], [14, 28], [24, 14]])], False, 130, 3)
    elif kind == "speck":  # scanner dust
        box[10, 10] = box[20, 25] = 60
    return box


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("empty", CheckState.EMPTY),
        ("speck", CheckState.EMPTY),
        ("tick", CheckState.CHECKED),
        ("cross", CheckState.CHECKED),
        ("filled", CheckState.CHECKED),
        ("faint", CheckState.UNSURE),
    ],
)
def test_density_table(kind: str, expected: CheckState) -> None:
    density = dark_ratio(_box(kind))  # Otsu on the box itself
    assert classify_box(density, BOUNDS) is expected


@pytest.mark.parametrize(
    ("density", "label", "expected"),
    [
        (0.0, 0.0, CheckState.EMPTY),
        (0.05, 0.0, CheckState.EMPTY),
        (0.06, 0.0, CheckState.UNSURE),
        (0.149, 0.0, CheckState.UNSURE),
        (0.15, 0.0, CheckState.CHECKED),
        (0.6, 0.0, CheckState.CHECKED),
        (0.0, 0.3, CheckState.CIRCLED),
        (0.0, 0.1, CheckState.EMPTY),
    ],
)
def test_bounds_are_parameters(density: float, label: float, expected: CheckState) -> None:
    assert classify_box(density, BOUNDS, label_density=label) is expected


def test_confidence_is_lowest_inside_the_unsure_band() -> None:
    assert box_confidence(0.10, BOUNDS) == 0.5
    assert box_confidence(0.0, BOUNDS) == 1.0
    assert 0.7 <= box_confidence(0.2, BOUNDS) < box_confidence(0.9, BOUNDS) <= 1.0


def test_with_a_page_threshold_a_clean_box_is_empty_and_a_tick_counts() -> None:
    assert dark_ratio(_box("empty"), threshold=220) == 0.0
    assert dark_ratio(_box("tick"), threshold=220) > 0.15


def test_a_ring_through_the_box_is_not_a_tick() -> None:
    window = _paper(side=3 * SIDE)  # the box with one side of margin all round
    inside = (SIDE, SIDE, 2 * SIDE, 2 * SIDE)
    usable = np.ones((SIDE, SIDE), bool)
    cv2.circle(window, (0, 3 * SIDE), 2 * SIDE, 40, 8)  # a cup's ring crossing the box
    assert stroke_density(window, inside, usable, threshold=200) < 0.05
    ticked = _paper(side=3 * SIDE)
    cv2.polylines(ticked, [np.array([[40, 52], [49, 65], [68, 37]])], False, 25, 4)
    assert stroke_density(ticked, inside, usable, threshold=200) > 0.1


def test_a_ring_around_the_label_is_a_circled_choice_and_a_line_through_it_is_not() -> None:
    zone = np.full((50, 200), 244, np.uint8)
    usable = np.ones_like(zone, bool)
    ringed = zone.copy()
    cv2.ellipse(ringed, (100, 25), (95, 22), 0, 0, 360, 30, 3)
    assert ring_density(ringed, usable, threshold=200) > 0.05
    struck = zone.copy()
    cv2.line(struck, (0, 25), (199, 25), 30, 3)
    assert ring_density(struck, usable, threshold=200) == 0.0
