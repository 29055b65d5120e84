"""Reading the attendance CSVs and the roster workbook: good files, messy files, bad files."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from civicflow.errors import InputError
from civicflow.models import Severity
from civicflow.overtime.inputs import (
    ATTENDANCE_COLUMNS,
    parse_hours,
    parse_year_month,
    read_attendance_csv,
    read_roster,
)
from civicflow.overtime.models import PostKind
from civicflow.samples.overtime import OvertimeSampleSet

RosterWriter = Callable[..., Path]
HEADER = ",".join(ATTENDANCE_COLUMNS)
NAME = "港　太郎"  # must never appear in a problem message


def write_csv(path: Path, lines: list[str], encoding: str = "cp932", bom: bool = False) -> Path:
    data = "\r\n".join(lines).encode(encoding) + b"\r\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def row(staff_id: str, hours: str, ym: str = "2024/10", unit: str = "110101") -> str:
    return f"{staff_id},{NAME},{unit},総務課庶務係,{ym},{hours}"


# --- values -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("12:30", 750),
        ("0:00", 0),
        ("12.5", 750),
        ("12.50", 750),
        ("12.25", 735),
        ("100", 6000),
        ("１２：３０", 750),
        ("12時間30分", 750),
        ("3時間", 180),
        ("", 0),
        ("  ", 0),
        ("12:75", None),
        ("-3:00", None),
        ("abc", None),
        ("－", None),
        ("1,000", None),
    ],
)
def test_parse_hours(text: str, minutes: int | None) -> None:
    assert parse_hours(text) == minutes


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2024/10", 202410),
        ("2024/4", 202404),
        ("2024-10", 202410),
        ("202410", 202410),
        ("2024年10月", 202410),
        ("2024/10/01", 202410),
        ("令和6年10月", 202410),
        ("R6.10", 202410),
        ("令和元年5月", 201905),
        ("２０２４／１０", 202410),
        ("2024/13", None),
        ("平成32年1月", None),
        ("10月", None),
        ("", None),
    ],
)
def test_parse_year_month(text: str, value: int | None) -> None:
    assert parse_year_month(text) == value


# --- attendance CSV -------------------------------------------------------------------------------
def test_reads_a_cp932_crlf_export(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "attendance_202410.csv",
        [
            HEADER,
            row("100001", "12:30"),
            row("１００００２", "45.25"),  # full-width ID, decimal hours
            row("100003", ""),  # blank = no overtime
            row("100004", "3時間", ym="令和6年10月"),
        ],
    )
    reading = read_attendance_csv(path)
    assert reading.encoding == "cp932"
    assert reading.problems == []
    assert reading.months == [202410]
    records = reading.records
    assert list(records["staff_id"]) == ["100001", "100002", "100003", "100004"]
    assert list(records["minutes"]) == [750, 2715, 0, 180]
    assert list(records["line"]) == [2, 3, 4, 5]
    assert set(records["unit_code"]) == {"110101"}


def test_utf8_is_accepted_with_a_notice(tmp_path: Path) -> None:
    for bom in (False, True):
        path = write_csv(
            tmp_path / f"utf8_{bom}.csv", [HEADER, row("100001", "50:00")], "utf-8", bom
        )
        reading = read_attendance_csv(path)
        assert reading.encoding == "utf-8"
        assert list(reading.records["minutes"]) == [3000]
        (notice,) = reading.problems
        assert notice.code == "attendance-encoding-utf8"
        assert notice.severity is Severity.INFO
        assert "UTF-8" in notice.message_ja and "UTF-8" in notice.message_en


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (("\r\n".join([HEADER, row("100001", "1:00")])).encode("utf-16"), "attendance-encoding"),
        (b"\x82\xa0\xff\xfe\xfd\x81", "attendance-encoding"),
        (b"PK\x03\x04 an xlsx renamed to csv", "attendance-not-csv"),
        ("職員番号,氏名,年月\r\n100001,x,2024/10\r\n".encode("cp932"), "attendance-missing-column"),
        ("foo;bar\r\n1;2\r\n".encode("cp932"), "attendance-missing-column"),
        ((HEADER + "\r\n").encode("cp932"), "attendance-empty"),
        (b"", "attendance-malformed"),
    ],
    ids=["utf-16", "garbage", "xlsx", "missing-columns", "wrong-delimiter", "header-only", "empty"],
)
def test_bad_files_raise_input_error(tmp_path: Path, content: bytes, code: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        read_attendance_csv(path)
    assert caught.value.code == code
    assert "bad.csv" in caught.value.message_ja
    assert "bad.csv" in caught.value.message_en


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "a.csv", ["職員番号,氏名,所属コード,年月", "100001,x,110101,2024/10"]
    )
    with pytest.raises(InputError, match="時間外勤務時間"):
        read_attendance_csv(path)


def test_missing_file_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        read_attendance_csv(tmp_path / "nowhere.csv")
    assert caught.value.code == "attendance-unreadable"


def test_bad_rows_are_left_out_and_reported(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "attendance_202410.csv",
        [
            HEADER,
            row("100001", "12:30"),
            row("100002", "12:75"),  # line 3
            row("100003", "abc"),  # line 4
            row("", "1:00"),  # line 5
            row("100005", "1:00", ym="10月"),  # line 6
            row("100006", "800:00"),  # line 7: more than a month has
            row("100007", "10:20"),  # line 8: not 15-minute units, accepted
            row("100001", "12:30"),  # line 9: the same row twice
            "",
            ",,,,,",
        ],
    )
    reading = read_attendance_csv(path)
    assert list(reading.records["staff_id"]) == ["100001", "100007"]
    assert list(reading.records["minutes"]) == [750, 620]
    found = [(p.code, p.line, p.severity) for p in reading.problems]
    assert found == [
        ("attendance-bad-hours", 3, Severity.REVIEW),
        ("attendance-bad-hours", 4, Severity.REVIEW),
        ("attendance-bad-staff-id", 5, Severity.REVIEW),
        ("attendance-bad-year-month", 6, Severity.REVIEW),
        ("attendance-bad-hours", 7, Severity.REVIEW),
        ("attendance-duplicate-row", 9, Severity.REVIEW),
        ("attendance-hours-not-quarter", 8, Severity.INFO),
    ]
    for problem in reading.problems:
        assert NAME not in problem.message_ja + problem.message_en
        assert "太郎" not in problem.message_ja + problem.message_en
        assert problem.source == "attendance_202410.csv"


def test_a_transfer_keeps_both_rows(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "a.csv",
        [HEADER, row("100001", "30:00", unit="120101"), row("100001", "20:00", unit="110101")],
    )
    reading = read_attendance_csv(path)
    assert list(reading.records["minutes"]) == [1800, 1200]
    assert reading.problems == []


def test_a_name_in_the_hours_column_is_not_echoed(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [HEADER, row("100001", "山田花子")])
    (problem,) = read_attendance_csv(path).problems
    assert problem.code == "attendance-bad-hours"
    assert "山田" not in problem.message_ja + problem.message_en


# --- roster workbook ------------------------------------------------------------------------------
STAFF = [
    ["100001", "髙橋　一郎", "110101", "タカハシ イチロウ", "総務部", "総務課", "庶務係", "主事"],
    [100002, "山田　花子", 110101, "ヤマダ ハナコ", "総務部", "総務課", "庶務係", "主任"],
    ["１００００３", "佐藤　誠", "110100", "サトウ マコト", "総務部", "総務課", "", "課長"],
]
POSTS = [
    ["P1100", "総務部長", "部長", "11", "", "P0002", "欠員", "", "", ""],
    ["P1101", "総務課長", "課長", "11", "1101", "P1100", 100003, "", "", "○"],
    [
        "P1101A",
        "総務事業担当課長",
        "担当課長",
        11,
        1101,
        "P1100",
        "",
        "P1100",
        "110101、110102",
        "",
    ],
]


def test_reads_a_small_roster(tmp_path: Path, write_roster: RosterWriter) -> None:
    reading = read_roster(write_roster(tmp_path / "roster.xlsx", STAFF, POSTS))
    roster = reading.roster
    assert reading.problems == []
    assert list(roster.staff) == ["100001", "100002", "100003"]
    assert roster.staff["100001"].name == "髙橋　一郎"  # kept as written
    assert roster.staff["100003"].section_code == "1101"
    head, chief, responsible = roster.posts.values()
    assert head.vacant and head.kind is PostKind.DEPARTMENT_HEAD
    assert chief.holder_id == "100003" and chief.other_directed
    assert responsible.kind is PostKind.RESPONSIBLE_HEAD
    assert responsible.section_code == "1101" and responsible.department_code == "11"
    assert responsible.acting_post_id == "P1100"
    assert responsible.covers_units == ("110101", "110102")
    assert roster.other_directed_sections() == frozenset({"1101"})


def test_reads_the_messy_sample_roster(sample: OvertimeSampleSet) -> None:
    reading = read_roster(sample.roster_path)
    roster = reading.roster
    assert reading.problems == []
    assert len(roster.staff) == sample.truth.n_staff
    assert all(s.staff_id.isdigit() and len(s.staff_id) == 6 for s in roster.staff.values())
    assert all(len(s.unit_code) == 6 for s in roster.staff.values())
    # the two-row header (所属 merged over 部/課/係) was folded
    assert any(s.unit_name.endswith("係") for s in roster.staff.values())
    assert any(s.department_name.endswith("部") for s in roster.staff.values())
    vacant = [p for p in roster.posts.values() if p.vacant]
    assert len(vacant) >= 6
    assert sorted(roster.other_directed_sections()) == sample.truth.other_directed_sections


def test_roster_row_problems(tmp_path: Path, write_roster: RosterWriter) -> None:
    staff = [
        *STAFF,
        ["", "空欄　番号", "110101", "", "", "", "", ""],
        ["100001", "重複　次郎", "110101", "", "", "", "", ""],
        ["100009", "所属　花男", "11-01", "", "", "", "", ""],
        ["※兼務は組織シートを参照", None, None, None, None, None, None, None],
    ]
    posts = [*POSTS, ["P1101", "重複", "課長", "11", "1101", "", "", "", "", ""]]
    posts.append(["P1199", "謎", "係長", "11", "1101", "", "", "", "", ""])
    reading = read_roster(write_roster(tmp_path / "roster.xlsx", staff, posts))
    codes = [p.code for p in reading.problems]
    assert codes == [
        "roster-bad-staff-id",
        "roster-duplicate-staff",
        "roster-bad-unit-code",
        "roster-duplicate-post",
        "roster-bad-post",
    ]
    assert "100009" in reading.roster.staff  # kept: its chain goes to review later
    for problem in reading.problems:
        assert "次郎" not in problem.message_ja and "花男" not in problem.message_ja


def test_wrong_sheet_names(tmp_path: Path, write_roster: RosterWriter) -> None:
    path = write_roster(tmp_path / "roster.xlsx", STAFF, POSTS, sheets=("Sheet1", "組織"))
    with pytest.raises(InputError) as caught:
        read_roster(path)
    assert caught.value.code == "roster-wrong-sheet"
    assert "職員名簿" in caught.value.message_ja and "Sheet1" in caught.value.message_ja


def test_sheet_names_with_stray_spaces_are_accepted(
    tmp_path: Path, write_roster: RosterWriter
) -> None:
    path = write_roster(tmp_path / "roster.xlsx", STAFF, POSTS, sheets=("職員名簿 ", "組織"))
    assert len(read_roster(path).roster.staff) == 3


def test_missing_roster_column(tmp_path: Path, write_roster: RosterWriter) -> None:
    header = ["職員番号", "氏名", "部", "課", "係", "役職", "フリガナ", "備考"]
    path = write_roster(tmp_path / "roster.xlsx", STAFF, POSTS, staff_header=header)
    with pytest.raises(InputError) as caught:
        read_roster(path)
    assert caught.value.code == "roster-missing-column"
    assert "所属コード" in caught.value.message_ja
    assert "職員名簿" in caught.value.message_ja


def _broken_files(tmp_path: Path, good: Path) -> dict[str, Path]:
    text = tmp_path / "text.xlsx"
    text.write_text("職員番号,氏名\n", encoding="utf-8")
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    not_a_workbook = tmp_path / "other.xlsx"
    with zipfile.ZipFile(not_a_workbook, "w") as zf:
        zf.writestr("hello.txt", "not a workbook")
    xls = tmp_path / "old.xlsx"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(damaged, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet1"):
                data = data[: len(data) // 2]  # cut mid-XML
            dst.writestr(info, data)
    return {
        "roster-broken:text": text,
        "roster-broken:truncated": truncated,
        "roster-broken:not-a-workbook": not_a_workbook,
        "roster-xls:xls": xls,
        "roster-broken:damaged-sheet": damaged,
        "roster-unreadable:missing": tmp_path / "missing.xlsx",
    }


def test_broken_workbooks_raise_input_error(tmp_path: Path, write_roster: RosterWriter) -> None:
    good = write_roster(tmp_path / "good.xlsx", STAFF, POSTS)
    for key, path in _broken_files(tmp_path, good).items():
        code = key.split(":")[0]
        with pytest.raises(InputError) as caught:
            read_roster(path)
        assert caught.value.code == code, key
        assert path.name in caught.value.message_ja, key
