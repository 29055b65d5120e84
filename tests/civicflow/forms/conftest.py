"""A second, tiny form defined only in YAML, for the definition and rendering tests."""

from __future__ import annotations

from pathlib import Path

import pytest

TINY_FORM = """
id: tiny
version: "1"
title: 小さな申請書
page: {size: A5, width: 148, height: 210, unit: mm}
registration_marks:
  - {id: tl, x: 8, y: 8, size: 7}
  - {id: tr, x: 134, y: 8, size: 5}
  - {id: bl, x: 8, y: 197, size: 5}
  - {id: br, x: 134, y: 197, size: 5}
label_width: 28
fields:
  - {id: name, label: 氏名, type: kanji_name, box: [40, 40, 96, 14], review: {critical: true}}
  - {id: kana, label: フリガナ, type: katakana, box: [40, 54, 96, 9]}
  - {id: born, label: 生年月日, type: date_comb, eras: [昭和, 平成], cell_width: 7, box: [40, 63, 96, 13]}
  - {id: zip, label: 郵便番号, type: postal_code, comb: 7, separators: [3], box: [40, 76, 60, 9]}
  - {id: agree, label: 同意, type: checkbox, box: [40, 88, 5, 5]}
"""


@pytest.fixture
def tiny_forms_dir(tmp_path: Path) -> Path:
    """A forms folder holding only ``tiny.yaml``."""
    folder = tmp_path / "forms"
    folder.mkdir()
    (folder / "tiny.yaml").write_text(TINY_FORM, encoding="utf-8")
    return folder
