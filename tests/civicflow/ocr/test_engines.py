"""Both engines on committed field crops (cut from generated scans by the reader itself).

The crops come from ``generate_scans(n=6, seed=41)`` (pages 0001 and 0004, klee-one and
zen-kurenaido hands, MNIST digits), cut with ``register_page`` + ``cut_fields``;
``crops/expected.json`` holds each crop's text. PP-OCRv6 reads these exactly; EasyOCR's
English model is weaker on handwritten digits (87 % of cells on the calibration set), so
it must get most of the postal code's cells right, not all.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from rapidfuzz.distance import Levenshtein

from civicflow.errors import PermanentError
from civicflow.ocr.engine import DIGITS, KANA_CHARS, OcrEngine
from civicflow.ocr.reader import ReaderEngines

CROPS_DIR = Path(__file__).parent / "crops"

EXPECTED: dict[str, str] = json.loads((CROPS_DIR / "expected.json").read_text("utf-8"))


def _crop(name: str) -> np.ndarray:
    return np.asarray(Image.open(CROPS_DIR / name).convert("L"), dtype=np.uint8)


def test_committed_crops_are_small() -> None:
    for name in EXPECTED:
        assert (CROPS_DIR / name).stat().st_size <= 20_000, name


def test_both_engines_follow_the_protocol(engines: ReaderEngines) -> None:
    assert isinstance(engines.text, OcrEngine) and engines.text.name == "rapidocr"
    assert isinstance(engines.digits, OcrEngine) and engines.digits.name == "easyocr"
    assert engines.text.recognize([]) == []


@pytest.mark.parametrize(
    ("name", "allowlist"),
    [
        ("name.png", None),
        ("furigana.png", KANA_CHARS),
        ("furigana_hiragana.png", KANA_CHARS),
        ("address.png", None),
    ],
)
def test_ppocr_reads_the_text_crops(
    engines: ReaderEngines, name: str, allowlist: str | None
) -> None:
    [(text, score)] = engines.text.recognize([_crop(name)], allowlist=allowlist)
    assert text == EXPECTED[name]
    assert 0.5 < score <= 1.0


def test_the_allowlist_is_honoured(engines: ReaderEngines) -> None:
    # the kanji name read with kana only: whatever comes back, it is kana
    [(text, score)] = engines.text.recognize([_crop("name.png")], allowlist=KANA_CHARS)
    assert all(c in KANA_CHARS for c in text)
    [(unrestricted, _)] = engines.text.recognize([_crop("name.png")])
    assert score < 0.9 or text != unrestricted


def test_both_engines_read_the_postal_cells(engines: ReaderEngines) -> None:
    names = sorted(n for n in EXPECTED if n.startswith("postal_"))
    images = [_crop(n) for n in names]
    truth = "".join(EXPECTED[n] for n in names)
    assert engines.digits is not None
    first = engines.text.recognize(images, allowlist=DIGITS)
    second = engines.digits.recognize(images, allowlist=DIGITS)
    assert "".join(t for t, _ in first) == truth
    read = "".join(t[:1] or "?" for t, _ in second)
    assert all(t.isdigit() for t, _ in second if t)
    assert 1 - Levenshtein.normalized_distance(read, truth) >= 5 / 7
    assert len(first) == len(second) == len(images)


def test_batches_keep_their_order(engines: ReaderEngines) -> None:
    names = ["address.png", "postal_0.png", "name.png", "postal_6.png"]
    batch = engines.text.recognize([_crop(n) for n in names])
    alone = [engines.text.recognize([_crop(n)])[0] for n in names]
    assert [t for t, _ in batch] == [t for t, _ in alone]


def test_a_missing_model_is_a_permanent_error_in_both_languages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from civicflow.ocr import easyocr_engine

    monkeypatch.setattr(easyocr_engine, "ENGLISH_MODEL", "no_such_model.pth")
    easyocr_engine.get_easyocr_engine.cache_clear()
    try:
        with pytest.raises(PermanentError) as caught:
            easyocr_engine.get_easyocr_engine()
    finally:
        monkeypatch.undo()
        easyocr_engine.get_easyocr_engine.cache_clear()
    assert caught.value.code == "ocr_model_missing"
    assert "ダウンロード" in caught.value.message_ja and "download" in caught.value.message_en
