"""Reading handwritten paper forms (手書き帳票のOCR), offline, field by field.

The public entry points::

    from civicflow.forms import load_form
    from civicflow.ocr import read_form, ocr_json

    readings = read_form(Path("scan.pdf"), load_form("bus_pass"), registry=index)
    print(ocr_json(Path("scan.png"), "bus_pass"))     # what `civicflow ocr --json` prints

Modules: :mod:`~civicflow.ocr.images` (files → pages), :mod:`~civicflow.ocr.registration`
(marks → aligned page), :mod:`~civicflow.ocr.crops` (template dropout, crops),
:mod:`~civicflow.ocr.checkbox` (ink density), :mod:`~civicflow.ocr.engine` (the
``OcrEngine`` protocol), :mod:`~civicflow.ocr.rapid_engine` (PP-OCRv6) and
:mod:`~civicflow.ocr.easyocr_engine` (EasyOCR digits), :mod:`~civicflow.ocr.reader`
(the read), :mod:`~civicflow.ocr.routing` (flags and reasons),
:mod:`~civicflow.ocr.calibrate` (thresholds from generated scans).

Importing this package loads no engine: the engines load on first use, once per process.
"""

from __future__ import annotations

from civicflow.ocr.engine import OcrEngine
from civicflow.ocr.models import FieldReading, FormReading, PageTransform
from civicflow.ocr.reader import ReaderEngines, default_engines, ocr_json, read_form
from civicflow.ocr.routing import RoutingPolicy

__all__ = [
    "FieldReading",
    "FormReading",
    "OcrEngine",
    "PageTransform",
    "ReaderEngines",
    "RoutingPolicy",
    "default_engines",
    "ocr_json",
    "read_form",
]
