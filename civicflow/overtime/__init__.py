"""超過勤務通知 (overtime notice): find staff over the overtime caps and tell their heads.

The procedure as plain, Prefect-free functions; ``flows/overtime_notice.py`` wraps them.

* :mod:`civicflow.overtime.inputs`: read the attendance CSVs (CP932) and the roster workbook
* :mod:`civicflow.overtime.limits`: the caps, vectorised with pandas/numpy
* :mod:`civicflow.overtime.chain`: whom to notify (line 課長, 担当課長, vacancies, 事務取扱)
* :mod:`civicflow.overtime.documents`: 通知文書 PDFs, 宛名シール sheet, チェックリスト
* :mod:`civicflow.overtime.pipeline`: :func:`prepare_notices` and :func:`write_outputs`
* :mod:`civicflow.overtime.baseline`: the plain-pandas baseline for the benchmark

Import the submodules directly; this package imports nothing heavy on its own.
"""

from __future__ import annotations

PROCESS = "overtime_notice"

__all__ = ["PROCESS"]
