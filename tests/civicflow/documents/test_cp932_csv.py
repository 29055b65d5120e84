"""CP932 CSV: CRLF, Shift_JIS bytes, 〓 for what CP932 cannot hold, reported."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from civicflow.documents.csvfile import Unencodable, to_cp932_text, write_cp932_csv
from civicflow.errors import PermanentError

HEADER = ["登録番号", "氏名", "住所", "備考"]
ROWS = [
    ["03000001", "髙橋 﨑子", "東京都港区芝浦1-2-3", "渡邉さん, 窓口"],
    ["03000002", "吉田 𠮷乃", "東京都港区三田 𠮷祥ビル", 'He said "hi"'],
    ["03000003", "山田 花子", "東京都港区高輪", ""],
]


@pytest.fixture
def written(tmp_path: Path) -> tuple[bytes, list[Unencodable]]:
    path = tmp_path / "out.csv"
    problems = write_cp932_csv(path, HEADER, ROWS)
    return path.read_bytes(), problems


def test_lines_end_in_crlf(written: tuple[bytes, list[Unencodable]]) -> None:
    data, _ = written
    assert data.endswith(b"\r\n")
    assert data.count(b"\n") == data.count(b"\r\n") == 4


def test_bytes_are_cp932_and_keep_variant_kanji(written: tuple[bytes, list[Unencodable]]) -> None:
    data, _ = written
    text = data.decode("cp932")
    assert "髙橋 﨑子" in text and "渡邉" in text
    assert "髙".encode("cp932") in data


def test_unencodable_is_reported_and_replaced_by_geta(
    written: tuple[bytes, list[Unencodable]],
) -> None:
    data, problems = written
    assert problems == [
        Unencodable(row=1, column="氏名", char="𠮷", codepoint="U+20BB7"),
        Unencodable(row=1, column="住所", char="𠮷", codepoint="U+20BB7"),
    ]
    text = data.decode("cp932")
    assert "吉田 〓乃" in text and "三田 〓祥ビル" in text


def test_column_order_and_minimal_quoting(written: tuple[bytes, list[Unencodable]]) -> None:
    data, _ = written
    text = data.decode("cp932")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[0] == HEADER
    assert parsed[1] == ROWS[0]
    assert parsed[2] == ["03000002", "吉田 〓乃", "東京都港区三田 〓祥ビル", 'He said "hi"']
    lines = text.split("\r\n")
    assert lines[0] == "登録番号,氏名,住所,備考"  # nothing quoted that need not be
    assert lines[1] == '03000001,髙橋 﨑子,東京都港区芝浦1-2-3,"渡邉さん, 窓口"'
    assert lines[2].endswith(',"He said ""hi"""')
    assert lines[3] == "03000003,山田 花子,東京都港区高輪,"


@pytest.mark.parametrize(
    ("value", "expected", "reported"),
    [
        ("髙﨑邉", "髙﨑邉", []),  # NEC/IBM extensions: in CP932
        ("〜", "〜", []),  # WAVE DASH: the codec maps it to CP932's ～
        ("1—2", "1―2", []),  # EM DASH: same JIS character, CP932 calls it U+2015
        ("😀", "〓", ["U+1F600"]),
        ("𠮷野家", "〓野家", ["U+20BB7"]),
    ],
)
def test_to_cp932_text(value: str, expected: str, reported: list[str]) -> None:
    text, found = to_cp932_text(value, row=0, column="c")
    assert text == expected
    assert [u.codepoint for u in found] == reported


def test_header_that_cp932_cannot_hold_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PermanentError):
        write_cp932_csv(tmp_path / "x.csv", ["𠮷"], [])
    assert list(tmp_path.iterdir()) == []


def test_row_length_must_match_header(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="row 0"):
        write_cp932_csv(tmp_path / "x.csv", ["a", "b"], [["1"]])


def test_rewrite_replaces_whole_file_and_leaves_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    write_cp932_csv(path, ["a"], [["1"], ["2"]])
    write_cp932_csv(path, ["a"], [["3"]])
    assert path.read_bytes() == b"a\r\n3\r\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]


def test_written_file_is_readable_by_others_as_plain_open_would_make_it(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    write_cp932_csv(path, ["a"], [["1"]])
    reference = tmp_path / "ref.csv"
    reference.write_bytes(b"")
    assert path.stat().st_mode == reference.stat().st_mode
