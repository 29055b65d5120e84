"""Registration: marks found, page turned and aligned, other pages refused with a reason."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from civicflow.errors import InputError
from civicflow.forms import FormDefinition, parse_form
from civicflow.forms.render import render_blank_png
from civicflow.ocr.images import load_pages
from civicflow.ocr.registration import register_page
from civicflow.samples.scans import OTHER_FORM, ScanSampleSet, ScanTruth


def _forward(
    size: tuple[int, int], angle: float, scale: float, shift: tuple[float, float], turn: int
) -> np.ndarray:
    """Form px → image px (continuous coordinates), as a scanner would place the page."""
    w, h = size
    a = math.radians(angle)
    cos, sin = math.cos(a) * scale, math.sin(a) * scale
    cx, cy = w / 2, h / 2
    m = np.array(
        [
            [cos, sin, cx - cos * cx - sin * cy + shift[0]],
            [-sin, cos, cy + sin * cx - cos * cy + shift[1]],
            [0.0, 0.0, 1.0],
        ]
    )
    if turn == 180:
        m = np.array([[-1.0, 0.0, w], [0.0, -1.0, h], [0.0, 0.0, 1.0]]) @ m
    return m


def _scan(page: np.ndarray, m: np.ndarray) -> np.ndarray:
    inverse = np.linalg.inv(m)
    image = Image.fromarray(page).transform(
        (page.shape[1], page.shape[0]),
        Image.Transform.AFFINE,
        tuple(inverse[:2].flatten()),
        resample=Image.Resampling.BILINEAR,
        fillcolor=250,
    )
    rng = np.random.default_rng(3)
    noisy = np.asarray(image, dtype=np.float32) + rng.normal(0, 3, (page.shape[0], page.shape[1]))
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _max_error(m_forward: np.ndarray, matrix: tuple[float, ...], size: tuple[int, int]) -> float:
    """Largest distance (form px) between where points are and where the fit puts them."""
    w, h = size
    points = np.array([[60, 60], [w - 60, 60], [60, h - 60], [w - 60, h - 60], [w / 2, h / 2]])
    image = (points + 0.5) @ m_forward[:2, :2].T + m_forward[:2, 2] - 0.5
    fit = np.array(matrix).reshape(2, 3)
    back = image @ fit[:, :2].T + fit[:, 2]
    return float(np.abs(back - points).max())


@pytest.mark.parametrize(
    ("angle", "scale", "shift", "turn"),
    [
        (3.0, 1.0, (0.0, 0.0), 0),
        (-3.0, 1.01, (6.0, -4.0), 0),
        (0.4, 0.97, (-22.0, 21.0), 0),
        (1.5, 1.0, (10.0, 10.0), 180),
        (-2.5, 1.03, (0.0, -8.0), 180),
    ],
)
def test_skewed_shifted_scaled_and_upside_down_pages_align(
    bus_pass: FormDefinition,
    blank_page: np.ndarray,
    angle: float,
    scale: float,
    shift: tuple[float, float],
    turn: int,
) -> None:
    size = (blank_page.shape[1], blank_page.shape[0])
    m = _forward(size, angle, scale, shift, turn)
    registered = register_page(_scan(blank_page, m), bus_pass)
    t = registered.transform
    assert t.marks_found == 4
    assert t.rotation_deg == turn
    assert t.residual_px < 3.0
    assert _max_error(m, t.matrix, size) < 3.0
    assert t.angle_deg == pytest.approx(angle, abs=0.15)
    assert t.template_score > 0.8
    assert registered.image.shape == blank_page.shape


def test_a_page_turned_a_quarter_is_turned_back(
    bus_pass: FormDefinition, blank_page: np.ndarray
) -> None:
    turned = np.ascontiguousarray(np.rot90(blank_page, k=-1))  # scanned lying on its side
    registered = register_page(turned, bus_pass)
    assert registered.transform.rotation_deg in (90, 270)
    assert registered.transform.residual_px < 3.0
    diff = np.abs(registered.image.astype(int) - blank_page.astype(int))
    assert float((diff > 100).mean()) < 0.01


def test_generated_scans_align_within_three_pixels_of_their_truth(
    bus_pass: FormDefinition, three_scans: ScanSampleSet
) -> None:
    for path in three_scans.files:
        truth = ScanTruth.model_validate_json(path.with_suffix(".json").read_text("utf-8"))
        for page, page_truth in zip(load_pages(path), truth.pages, strict=True):
            assert page.image is not None
            registered = register_page(page.image, bus_pass)
            m = np.vstack([np.array(page_truth.transform.matrix).reshape(2, 3), [0, 0, 1]])
            size = (page.image.shape[1], page.image.shape[0])
            assert registered.transform.residual_px < 3.0
            assert _max_error(m, registered.transform.matrix, size) < 3.0
            assert registered.transform.rotation_deg == (180 if page_truth.transform.flipped else 0)


def test_a_blank_page_is_a_blank_page(bus_pass: FormDefinition) -> None:
    rng = np.random.default_rng(5)
    paper = np.clip(rng.normal(246, 3, (2339, 1654)), 0, 255).astype(np.uint8)
    with pytest.raises(InputError) as caught:
        register_page(paper, bus_pass)
    assert caught.value.code == "blank_page"
    assert "白紙" in caught.value.message_ja


def test_a_page_of_another_form_is_not_recognised(bus_pass: FormDefinition) -> None:
    other = parse_form(OTHER_FORM, source="other")
    page = np.asarray(render_blank_png(other, 200), dtype=np.uint8)
    with pytest.raises(InputError) as caught:
        register_page(page, bus_pass)
    assert caught.value.code == "form_not_recognised"
    assert "registration marks" in caught.value.message_en


def test_a_page_with_its_corners_cut_off_is_not_recognised(
    bus_pass: FormDefinition, blank_page: np.ndarray
) -> None:
    cut = blank_page.copy()
    cut[:, 1400:] = 255  # the right-hand marks fell off the scanner glass
    with pytest.raises(InputError) as caught:
        register_page(cut, bus_pass)
    assert caught.value.code == "form_not_recognised"
