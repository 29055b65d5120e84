"""Order statistics from level counts give exactly what NumPy gives on the pixels."""

from __future__ import annotations

import numpy as np
import pytest

from civicflow.ocr.levels import (
    counts_above,
    level_counts,
    median_abs_deviation_of_counts,
    median_of_counts,
    percentile_of_counts,
)
from civicflow.samples.scans import ScanSampleSet


def _reference(pixels: np.ndarray, q: float) -> tuple[float, float, float]:
    values = pixels.astype(np.float32).ravel()
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - np.median(values))))
    return float(np.percentile(values, q)), median, mad


def _images(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [
        rng.integers(0, 256, size=(1, 1), dtype=np.uint8),
        rng.integers(0, 256, size=(1, 2), dtype=np.uint8),
        rng.integers(200, 203, size=(7, 5), dtype=np.uint8),  # few levels, many ties
        rng.integers(0, 256, size=(41, 37), dtype=np.uint8),
        np.clip(rng.normal(230, 4, size=(120, 90)), 0, 255).astype(np.uint8),  # paper grain
        np.full((10, 10), 255, np.uint8),
        np.zeros((3, 4), np.uint8),
    ]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("q", [0, 5, 25, 50, 75, 99.5, 100])
def test_counts_give_numpys_order_statistics(seed: int, q: float) -> None:
    for image in _images(seed):
        counts = level_counts(image)
        assert int(counts.sum()) == image.size
        percentile, median, mad = _reference(image, q)
        assert percentile_of_counts(counts, q) == percentile
        assert median_of_counts(counts) == median
        assert median_abs_deviation_of_counts(counts) == mad


@pytest.mark.parametrize("level", [-70.5, 0, 139.25, 140, 254.75, 255, 300])
def test_counts_above_keeps_the_brighter_pixels(level: float) -> None:
    image = np.arange(256, dtype=np.uint8).reshape(16, 16)
    brighter = image[image > level]
    counts = counts_above(level_counts(image), level)
    assert int(counts.sum()) == brighter.size
    if brighter.size:
        assert median_abs_deviation_of_counts(counts) == _reference(brighter, 50)[2]


def test_empty_counts_are_refused() -> None:
    empty = np.zeros(256, np.int64)
    with pytest.raises(ValueError):
        percentile_of_counts(empty, 50)
    with pytest.raises(ValueError):
        median_of_counts(empty)


def test_paper_and_ink_equal_the_sorting_version_on_real_scans(
    three_scans: ScanSampleSet,
) -> None:
    """The page-level figures the reader uses are unchanged by counting instead of sorting."""
    from civicflow.ocr.images import load_pages
    from civicflow.ocr.registration import INK_MIN_CONTRAST, INK_NOISE_SIGMAS, paper_and_ink

    for path in three_scans.files:
        for page in load_pages(path):
            if page.image is None:
                continue
            sample = page.image[::3, ::3].astype(np.float32)
            paper = float(np.percentile(sample, 75))
            light = sample[sample > paper - 60]
            mad = float(np.median(np.abs(light - np.median(light))))
            threshold = max(paper - max(INK_MIN_CONTRAST, INK_NOISE_SIGMAS * 1.4826 * mad), 40.0)
            assert paper_and_ink(page.image) == (paper, threshold)
