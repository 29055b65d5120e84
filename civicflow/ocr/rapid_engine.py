"""PP-OCRv6 recognition through rapidocr: the engine for kanji, kana and addresses.

rapidocr 3.10 bundles the PP-OCRv6 small models in its wheel (no download; other models
such as ``lang_type=japan`` would be fetched at run time and fail on a closed network).
Only the recogniser is used: fields are cut by the form definition, so detection (seconds
per page) and the angle classifier are never run.

The recogniser's output is decoded here rather than by rapidocr so that an ``allowlist``
can be honoured: characters outside it are masked before the CTC decoding picks the best
one per time step. A フリガナ box then cannot come back as ``三千`` instead of ``ミチ``
unless the kana were truly unreadable, and the score of the masked reading tells how
much the model preferred something else.

The engine is loaded once per process (:func:`get_rapid_engine`) and is safe to share
between threads (onnxruntime sessions are).
"""

from __future__ import annotations

from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

from civicflow.ocr.engine import model_missing

#: The recognition model rapidocr 3.10 ships (PP-OCRv6 small, 18,708 characters).
REC_MODEL = "PP-OCRv6_rec_small.onnx"
#: Crops per inference call: they are sorted by width first, so padding stays small.
BATCH = 16
#: The narrowest input (width / height) the recogniser is given. rapidocr pads every crop
#: to 320 × 48 (ratio 6.7); a single digit cell then costs as much as a whole name. At 2.5
#: a digit reads as well (97.9 % vs 98.1 % of 1,747 handwritten cells) at a third of the time.
MIN_WIDTH_RATIO = 2.5

ScoreMode = Literal["mean", "min"]


def _model_dir() -> Path:
    spec = find_spec("rapidocr")
    if spec is None or spec.origin is None:
        raise model_missing(
            "rapidocr",
            "rapidocr",
            "rapidocr==3.10.0 と onnxruntime をインストールしてください / "
            "install rapidocr==3.10.0 and onnxruntime.",
        )
    return Path(spec.origin).parent / "models"


class RapidOcrEngine:
    """PP-OCRv6 text-line recogniser (recognition only).

    Args:
        ocr: A loaded ``rapidocr.RapidOCR``; use :func:`get_rapid_engine` to share one.
        score: How a line's score is made from its characters' probabilities: ``mean``
            (rapidocr's own) or ``min`` (the least sure character; a single wrong character
            in a long name shows here, not in the mean).
    """

    name = "rapidocr"

    def __init__(self, ocr: Any, *, score: ScoreMode = "min") -> None:
        # Run once so rapidocr loads its recogniser; then use it directly.
        warm = np.full((48, 96, 3), 255, dtype=np.uint8)
        ocr(warm, use_det=False, use_cls=False, use_rec=True)
        self._rec = ocr.text_rec
        self._chars: list[str] = list(self._rec.postprocess_op.character)
        self._index = {c: i for i, c in enumerate(self._chars)}
        self.score_mode: ScoreMode = score

    @property
    def charset(self) -> str:
        """Every character the model can emit (index 0, the CTC blank, excluded)."""
        return "".join(self._chars[1:])

    @lru_cache(maxsize=32)  # noqa: B019 - one engine per process; the cache lives as long
    def _allowed(self, allowlist: str) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.intp]]:
        """The allowlist as a mask over the model's characters and as their indices."""
        mask = np.zeros(len(self._chars), dtype=bool)
        mask[0] = True  # the CTC blank
        for char in set(allowlist):
            index = self._index.get(char)
            if index is not None:
                mask[index] = True
        return mask, np.flatnonzero(mask)

    def _decode(self, probs: npt.NDArray[np.float32], allowlist: str | None) -> tuple[str, float]:
        """Greedy CTC decoding, the best allowed character at each time step."""
        best = probs.argmax(axis=1)
        if allowlist is not None:
            mask, allowed = self._allowed(allowlist)
            if not mask[best].all():  # only then is the masked (slower) search needed
                best = allowed[probs[:, allowed].argmax(axis=1)]
        best_p = probs[np.arange(len(best)), best]
        keep = np.ones(len(best), dtype=bool)
        keep[1:] = best[1:] != best[:-1]
        keep &= best != 0
        if not keep.any():
            return "", 0.0
        text = "".join(self._chars[i] for i in best[keep])
        chosen = best_p[keep]
        score = float(chosen.min() if self.score_mode == "min" else chosen.mean())
        return text, round(score, 5)

    def recognize(
        self, images: list[npt.NDArray[np.uint8]], *, allowlist: str | None = None
    ) -> list[tuple[str, float]]:
        """Read each crop as one line (see :class:`~civicflow.ocr.engine.OcrEngine`)."""
        if not images:
            return []
        bgr = [cv2.cvtColor(im, cv2.COLOR_GRAY2BGR) if im.ndim == 2 else im for im in images]
        ratios = np.array([im.shape[1] / max(im.shape[0], 1) for im in bgr])
        order = np.argsort(ratios)
        results: list[tuple[str, float]] = [("", 0.0)] * len(bgr)
        for start in range(0, len(order), BATCH):
            chunk = order[start : start + BATCH]
            max_ratio = max(MIN_WIDTH_RATIO, float(ratios[chunk].max()))
            batch = np.stack([self._rec.resize_norm_img(bgr[i], max_ratio) for i in chunk])
            preds = self._rec.session(batch.astype(np.float32))
            for row, index in enumerate(chunk):
                results[int(index)] = self._decode(preds[row], allowlist)
        return results


@lru_cache(maxsize=2)
def get_rapid_engine(score: ScoreMode = "min") -> RapidOcrEngine:
    """The process's PP-OCRv6 engine, loaded on first use (~0.6 s).

    Raises:
        PermanentError: ``ocr_model_missing`` when rapidocr, onnxruntime or the bundled
            model is not installed (nothing is downloaded).
    """
    model = _model_dir() / REC_MODEL
    if not model.is_file():
        raise model_missing(
            "rapidocr (PP-OCRv6)",
            str(model),
            "rapidocr==3.10.0 を再インストールしてください / reinstall rapidocr==3.10.0.",
        )
    if find_spec("onnxruntime") is None:
        raise model_missing(
            "rapidocr (onnxruntime)",
            "onnxruntime",
            "onnxruntime をインストールしてください（rapidocr は依存に含めません） / "
            "install onnxruntime (rapidocr does not pull it in).",
        )
    from rapidocr import RapidOCR

    from civicflow.settings import get_settings

    params: dict[str, object] = {
        "Global.log_level": "error",
        "Global.use_det": False,
        "Global.use_cls": False,
        "Global.use_rec": True,
        "Rec.model_path": str(model),
    }
    threads = get_settings().ocr_threads
    if threads:
        import cv2

        cv2.setNumThreads(threads)
        params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
        params["EngineConfig.onnxruntime.inter_op_num_threads"] = 1
    ocr = RapidOCR(params=params)
    return RapidOcrEngine(ocr, score=score)
