"""Read the overtime-notice inputs: attendance CSVs and the roster workbook.

**Attendance CSV** (勤怠システムの時間外勤務実績): one file per month as the attendance
system exports it, CP932 (Shift_JIS), CRLF, a header line, then one line per staff member
and 所属 (a transfer within the month gives two lines, which add up)::

    職員番号,氏名,所属コード,所属名,年月,時間外勤務時間
    100234,港　太郎,110101,総務課庶務係,2024/10,12:30

Required columns: 職員番号, 所属コード, 年月, 時間外勤務時間 (氏名 and 所属名 are not read).
年月 may be ``2024/10``, ``2024-10``, ``202410``, ``2024年10月`` or ``令和6年10月``; the hours
``12:30`` (h:mm), ``12.5`` (decimal hours), ``12時間30分`` or blank (= 0). Full-width digits
are accepted everywhere.

**Encoding decision**: a file in UTF-8 (with or without BOM) instead of CP932 is detected
and ACCEPTED with an ``info`` problem ``attendance-encoding-utf8``: the text is unambiguous
(Japanese CP932 text is practically never valid UTF-8), and rejecting it would only make
HR export again. Anything that is neither (UTF-16, binary, an Excel file renamed .csv) is
quarantined with a reason.

**Roster workbook** (``.xlsx``): two sheets.

* ``職員名簿``: one row per staff member. Columns 職員番号, 氏名, フリガナ, 所属 (部/課/係,
  often a merged header over three sub-columns), 所属コード, 役職, 兼務, 備考. Title rows above
  the header, blank rows between departments and notes starting with ※ are skipped.
* ``組織``: one row per head's post (職). Columns 職コード, 職名, 種別 (区長/副区長/部長/
  課長/室長/担当課長), 部コード, 部名, 課コード, 課名, 担当係コード (the 係 a 担当課長 covers;
  blank = the whole 課), 上位職コード, 職員番号 (the holder; blank or 欠員 = vacant),
  事務取扱 (the 職コード whose holder acts while the post is vacant), 他律的 (○),
  庁舎, 階, 郵便番号, 所在地.

Every file-level problem raises :class:`~civicflow.errors.InputError` (quarantine the file);
row-level problems come back as :class:`~civicflow.overtime.models.InputProblem` with a
code and Japanese and English messages. Messages carry file names, line numbers, staff IDs
and column names, never a name or an address.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pandas as pd

from civicflow.errors import InputError
from civicflow.japanese import normalize_width, parse_date, to_halfwidth
from civicflow.models import Severity
from civicflow.overtime.models import (
    DEPARTMENT_CODE_LENGTH,
    SECTION_CODE_LENGTH,
    UNIT_CODE_LENGTH,
    InputProblem,
    Post,
    PostKind,
    Roster,
    StaffMember,
    YearMonth,
)

log = logging.getLogger(__name__)

# --- attendance CSV -------------------------------------------------------------------------
COL_STAFF_ID = "職員番号"
COL_NAME = "氏名"
COL_UNIT_CODE = "所属コード"
COL_UNIT_NAME = "所属名"
COL_YEAR_MONTH = "年月"
COL_HOURS = "時間外勤務時間"
#: The columns the attendance system writes, in its order.
ATTENDANCE_COLUMNS: Final = (
    COL_STAFF_ID,
    COL_NAME,
    COL_UNIT_CODE,
    COL_UNIT_NAME,
    COL_YEAR_MONTH,
    COL_HOURS,
)
ATTENDANCE_REQUIRED: Final = (COL_STAFF_ID, COL_UNIT_CODE, COL_YEAR_MONTH, COL_HOURS)
#: The columns of :attr:`AttendanceReading.records`.
RECORD_COLUMNS: Final = ("staff_id", "unit_code", "year_month", "minutes", "source", "line")

#: More than a whole month of hours cannot be real (31 × 24 h).
MAX_MONTH_MINUTES: Final = 31 * 24 * 60
#: Overtime is ordered in 15-minute units.
QUARTER_MINUTES: Final = 15

_STAFF_ID: Final = re.compile(r"[0-9A-Z]{3,12}")
_WS: Final = re.compile(r"\s+")
_HALFWIDTH_TABLE: Final = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


@dataclass
class AttendanceReading:
    """What one attendance CSV held: its good rows and the problems of the others."""

    source: str
    encoding: str  # "cp932" or "utf-8"
    records: pd.DataFrame  # RECORD_COLUMNS
    problems: list[InputProblem] = field(default_factory=list)

    @property
    def months(self) -> list[YearMonth]:
        """The distinct months the file's good rows cover, ascending."""
        return sorted(int(m) for m in self.records["year_month"].unique())


def empty_records() -> pd.DataFrame:
    """An empty frame with the record columns and dtypes."""
    return pd.DataFrame(
        {
            "staff_id": pd.Series([], dtype=str),
            "unit_code": pd.Series([], dtype=str),
            "year_month": pd.Series([], dtype="int64"),
            "minutes": pd.Series([], dtype="int64"),
            "source": pd.Series([], dtype=str),
            "line": pd.Series([], dtype="int64"),
        }
    )


def _problem(
    code: str,
    severity: Severity,
    ja: str,
    en: str,
    source: str,
    line: int | None = None,
    staff_id: str | None = None,
) -> InputProblem:
    """An input problem (shorthand)."""
    return InputProblem(
        code=code,
        severity=severity,
        message_ja=ja,
        message_en=en,
        source=source,
        line=line,
        staff_id=staff_id,
    )


def normalize_staff_id(value: object) -> str:
    """A 職員番号 as a matching key: half-width, no spaces, upper case, no ``.0``.

    Excel hands back numbers (``100234`` or ``100234.0``); people type ``１００２３４``.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    return _WS.sub("", to_halfwidth(str(value))).upper()


def normalize_code(value: object, width: int) -> str:
    """An organisation code (部/課/係/職): half-width, zero-padded when all digits."""
    text = normalize_staff_id(value)
    if text.isdigit() and len(text) < width:
        return text.zfill(width)
    return text


def is_valid_staff_id(staff_id: str) -> bool:
    """Whether a normalised 職員番号 looks like one (3–12 letters or digits)."""
    return _STAFF_ID.fullmatch(staff_id) is not None


_YM_WESTERN: Final = re.compile(r"(\d{4})(?:[/\-.年]?)(\d{1,2})月?(?:[/\-.](\d{1,2})日?)?")
_YM_WAREKI: Final = re.compile(r"(\D{1,2})(元|\d{1,2})[年.\-/](\d{1,2})月?")


def parse_year_month(text: str) -> YearMonth | None:
    """Read a 年月 cell: ``2024/10``, ``202410``, ``2024年10月``, ``令和6年10月``, ``R6.10``.

    Args:
        text: The cell as exported.

    Returns:
        ``YYYYMM`` as an int, or None when the text is not a month.
    """
    t = _WS.sub("", to_halfwidth(text))
    if m := _YM_WESTERN.fullmatch(t):
        year, month = int(m[1]), int(m[2])
        return year * 100 + month if 1 <= month <= 12 and year >= 1900 else None
    if m := _YM_WAREKI.fullmatch(t):
        try:
            day = parse_date(f"{m[1]}{m[2]}年{m[3]}月1日")
        except InputError:
            return None
        return day.year * 100 + day.month
    return None


_HOURS_HMM: Final = re.compile(r"(\d{1,3}):(\d{2})")
_HOURS_DECIMAL: Final = re.compile(r"\d{1,4}(?:\.\d+)?")
_HOURS_KANJI: Final = re.compile(r"(\d{1,3})時間(?:(\d{1,2})分)?")


def parse_hours(text: str) -> int | None:
    """Read an hours cell into minutes: ``12:30`` → 750, ``12.5`` → 750, blank → 0.

    ``12時間30分`` is read too; full-width digits and colons are accepted. A decimal that
    is not a whole minute is rounded to the nearest minute.

    Args:
        text: The cell as exported.

    Returns:
        Minutes (0 or more), or None when the text is not an amount of hours (``12:75``,
        ``-3:00``, ``abc``).
    """
    t = _WS.sub("", to_halfwidth(text))
    if not t:
        return 0
    if m := _HOURS_HMM.fullmatch(t):
        hours, minutes = int(m[1]), int(m[2])
        return hours * 60 + minutes if minutes < 60 else None
    if _HOURS_DECIMAL.fullmatch(t):
        return round(float(t) * 60)
    if m := _HOURS_KANJI.fullmatch(t):
        hours, minutes = int(m[1]), int(m[2] or 0)
        return hours * 60 + minutes if minutes < 60 else None
    return None


def decode_csv_bytes(data: bytes, source: str) -> tuple[str, str]:
    """Decode an attendance export: CP932 as expected, or UTF-8 (accepted, reported).

    Args:
        data: The file's bytes.
        source: The file name, for messages.

    Returns:
        The text and the encoding found (``"cp932"`` or ``"utf-8"``).

    Raises:
        InputError: ``attendance-encoding`` when it is neither (UTF-16, binary), or
            ``attendance-not-csv`` for an Excel workbook saved under a .csv name.
    """
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise InputError(
            f"{source} は CSV ではなく Excel ファイルです。勤怠システムから CSV 形式で出力し直してください。",
            f"{source} is an Excel file, not CSV. Export it from the attendance system as CSV.",
            code="attendance-not-csv",
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        raise _encoding_error(source, "UTF-16")
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            raise _encoding_error(source, "UTF-8 (BOM)") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        # Pure ASCII reads the same in both; only real UTF-8 text is reported.
        return text, "cp932" if text.isascii() else "utf-8"
    try:
        return data.decode("cp932"), "cp932"
    except UnicodeDecodeError:
        raise _encoding_error(source, "?") from None


def _encoding_error(source: str, found: str) -> InputError:
    """The error for a file that is neither CP932 nor UTF-8."""
    return InputError(
        f"{source} の文字コードを読めません（推定: {found}）。"
        "勤怠システムから Shift_JIS（CP932）の CSV で出力し直してください。",
        f"Cannot read the character encoding of {source} (looks like {found}). "
        "Export it again from the attendance system as Shift_JIS (CP932) CSV.",
        code="attendance-encoding",
    )


def _clean_header(name: object) -> str:
    """A CSV column title without BOM, spaces or full-width letters."""
    return _WS.sub("", normalize_width(str(name))).lstrip("\ufeff")


def read_attendance_csv(path: Path) -> AttendanceReading:
    """Read one attendance export into records (one row per staff × month × 所属).

    Rows with a bad 職員番号, 年月 or hours are left out and reported (``review``); hours
    that are not in 15-minute units, and a UTF-8 file, are accepted and reported
    (``info``); a row repeated exactly (same 職員番号, 年月 and 所属コード) counts once.

    Args:
        path: The CSV file.

    Returns:
        The good rows as a DataFrame (:data:`RECORD_COLUMNS`) and the problems found.

    Raises:
        InputError: The file cannot be read, is not CP932/UTF-8 text, is not CSV, lacks a
            required column, or holds no data row. Quarantine it and carry on.
    """
    source = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"勤怠データ {source} を開けません（{exc.strerror or type(exc).__name__}）。"
            "ファイルの場所と権限を確認してください。",
            f"Cannot open the attendance file {source} ({exc.strerror or type(exc).__name__}). "
            "Check where it is and its permissions.",
            code="attendance-unreadable",
        ) from exc
    text, encoding = decode_csv_bytes(data, source)
    problems: list[InputProblem] = []
    if encoding == "utf-8":
        problems.append(
            _problem(
                "attendance-encoding-utf8",
                Severity.INFO,
                f"{source} は Shift_JIS（CP932）ではなく UTF-8 で保存されていました。"
                "内容は読めたのでそのまま処理しました。次回から勤怠システムの標準の出力を使ってください。",
                f"{source} was saved as UTF-8, not Shift_JIS (CP932). It was readable and was "
                "processed as is; use the attendance system's standard export next time.",
                source,
            )
        )
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeError) as exc:
        raise InputError(
            f"{source} を CSV として読めません（{type(exc).__name__}）。"
            "勤怠システムから出力し直してください。",
            f"{source} cannot be read as CSV ({type(exc).__name__}). "
            "Export it again from the attendance system.",
            code="attendance-malformed",
        ) from exc
    frame.columns = pd.Index([_clean_header(c) for c in frame.columns])
    _require_columns(source, list(frame.columns), ATTENDANCE_REQUIRED, "attendance")

    frame = frame[list(dict.fromkeys(ATTENDANCE_REQUIRED))]
    frame["line"] = pd.RangeIndex(2, len(frame) + 2)
    # An empty line or a line of commas; whitespace-only cells are checked per column below.
    blank = (frame[list(ATTENDANCE_REQUIRED)] == "").all(axis=1)
    frame = frame[~blank]
    if frame.empty:
        raise InputError(
            f"{source} にデータ行がありません。勤怠システムの出力を確認してください。",
            f"{source} has no data rows. Check the attendance system's export.",
            code="attendance-empty",
        )

    raw_id = frame[COL_STAFF_ID]
    staff_id = raw_id.str.upper()
    unusual = ~raw_id.str.fullmatch(r"[0-9A-Za-z]*")  # full-width, spaces: the slow path
    if unusual.any():
        staff_id[unusual] = raw_id[unusual].map(normalize_staff_id)
    # Few distinct values (some hundred 係, one or two months, a few hundred hour amounts):
    # parse each distinct value once.
    unit_text = frame[COL_UNIT_CODE]
    unit_map = {v: normalize_code(v, UNIT_CODE_LENGTH) for v in unit_text.unique()}
    unit_code = unit_text.map(unit_map)
    ym_text = frame[COL_YEAR_MONTH]
    ym_map = {v: parse_year_month(v) for v in ym_text.unique()}
    year_month = ym_text.map(ym_map)
    hours_text = frame[COL_HOURS]
    hours_map = {v: parse_hours(v) for v in hours_text.unique()}
    minutes = hours_text.map(hours_map)

    id_ok = staff_id.str.fullmatch(_STAFF_ID.pattern)
    ym_ok = year_month.notna()
    hours_ok = minutes.notna() & (minutes.fillna(0) <= MAX_MONTH_MINUTES)
    good = id_ok & ym_ok & hours_ok
    lines = frame["line"]
    for index in frame.index[~good]:
        problems.append(
            _row_problem(
                source,
                int(lines[index]),
                staff_id[index],
                bool(id_ok[index]),
                bool(ym_ok[index]),
                hours_text[index],
            )
        )

    records = pd.DataFrame(
        {
            "staff_id": staff_id[good],
            "unit_code": unit_code[good],
            "year_month": year_month[good].astype("int64"),
            "minutes": minutes[good].astype("int64"),
            "source": source,
            "line": lines[good].astype("int64"),
        }
    )
    repeated = records.duplicated(["staff_id", "year_month", "unit_code"], keep="first")
    for index in records.index[repeated]:
        problems.append(
            _problem(
                "attendance-duplicate-row",
                Severity.REVIEW,
                f"{source} {lines[index]}行目: 職員番号 {staff_id[index]} の同じ月・同じ所属の行が重複しています。"
                "最初の行だけを数えました。勤怠システムのデータを確認してください。",
                f"{source} line {lines[index]}: staff {staff_id[index]} has the same month and "
                "section twice. Only the first row was counted; check the attendance data.",
                source,
                int(lines[index]),
                staff_id[index],
            )
        )
    records = records[~repeated]
    not_quarter = records["minutes"] % QUARTER_MINUTES != 0
    for index in records.index[not_quarter]:
        problems.append(
            _problem(
                "attendance-hours-not-quarter",
                Severity.INFO,
                f"{source} {lines[index]}行目: 職員番号 {staff_id[index]} の時間外勤務時間「{hours_text[index]}」が"
                "15分単位ではありません。そのまま集計しました。命令簿と照合してください。",
                f"{source} line {lines[index]}: staff {staff_id[index]}'s overtime "
                f"{hours_text[index]!r} is not in 15-minute units. Counted as is; check it "
                "against the overtime order book.",
                source,
                int(lines[index]),
                staff_id[index],
            )
        )
    records = records.reset_index(drop=True)
    log.info(
        "attendance %s: %d rows read, %d problems (%s)",
        source,
        len(records),
        len(problems),
        encoding,
    )
    return AttendanceReading(source=source, encoding=encoding, records=records, problems=problems)


_SAFE_HOURS_TEXT: Final = re.compile(r"[0-9０-９:：.．\-－ 　時間分]{0,12}")


def _shown_value(text: str) -> str:
    """A cell value fit for a message: shown only when it cannot be personal data."""
    return text if _SAFE_HOURS_TEXT.fullmatch(text) else "（表示省略）"


def _row_problem(
    source: str, line: int, staff_id: str, id_ok: bool, ym_ok: bool, hours_text: str
) -> InputProblem:
    """The problem of a left-out attendance row (the first thing wrong with it)."""
    where_ja = f"{source} {line}行目"
    where_en = f"{source} line {line}"
    if not id_ok:
        return _problem(
            "attendance-bad-staff-id",
            Severity.REVIEW,
            f"{where_ja}: 職員番号が空欄か、職員番号として読めません。この行は集計していません。",
            f"{where_en}: the staff ID is blank or not a staff ID. The row was not counted.",
            source,
            line,
        )
    if not ym_ok:
        return _problem(
            "attendance-bad-year-month",
            Severity.REVIEW,
            f"{where_ja}: 職員番号 {staff_id} の年月が読めません。この行は集計していません。",
            f"{where_en}: staff {staff_id}'s year-month cannot be read. The row was not counted.",
            source,
            line,
            staff_id,
        )
    hours_text = _shown_value(hours_text)
    return _problem(
        "attendance-bad-hours",
        Severity.REVIEW,
        f"{where_ja}: 職員番号 {staff_id} の時間外勤務時間「{hours_text}」が読めないか、ありえない値です"
        "（例: 12:30 または 12.5）。この行は集計していません。勤怠システムで訂正して再出力してください。",
        f"{where_en}: staff {staff_id}'s overtime {hours_text!r} cannot be read or is "
        "impossible (expected e.g. 12:30 or 12.5). The row was not counted; correct it in "
        "the attendance system and export again.",
        source,
        line,
        staff_id,
    )


def _require_columns(
    source: str, found: Sequence[str], required: Iterable[str], what: str, sheet: str = ""
) -> None:
    """Raise ``<what>-missing-column`` naming the missing columns and those found."""
    missing = [c for c in required if c not in found]
    if not missing:
        return
    shown = "、".join(c for c in found if c and not c.startswith("Unnamed")) or "（なし）"
    shown_en = ", ".join(c for c in found if c and not c.startswith("Unnamed")) or "(none)"
    in_sheet = f"シート「{sheet}」" if sheet else ""
    in_sheet_en = f" sheet {sheet!r}" if sheet else ""
    hint_ja = hint_en = ""
    if what == "attendance" and len(missing) == len(list(required)):
        hint_ja = "文字コードや区切り文字が違う、または別のファイルの可能性があります。"
        hint_en = " The encoding or delimiter may be wrong, or it is another file."
    raise InputError(
        f"{source}{in_sheet}に必要な列がありません: {'、'.join(missing)}（見つかった列: {shown}）。"
        f"{hint_ja}出力の設定を確認してください。",
        f"{source}{in_sheet_en} lacks required column(s): {', '.join(missing)} "
        f"(columns found: {shown_en}).{hint_en} Check the export settings.",
        code=f"{what}-missing-column",
    )


# --- roster workbook --------------------------------------------------------------------------
STAFF_SHEET = "職員名簿"
ORG_SHEET = "組織"
STAFF_REQUIRED: Final = ("職員番号", "氏名", "所属コード")
STAFF_OPTIONAL: Final = ("フリガナ", "部", "課", "係", "役職", "兼務", "備考")
ORG_REQUIRED: Final = (
    "職コード",
    "職名",
    "種別",
    "部コード",
    "課コード",
    "上位職コード",
    "職員番号",
)
ORG_OPTIONAL: Final = (
    "部名",
    "課名",
    "担当係コード",
    "事務取扱",
    "他律的",
    "庁舎",
    "階",
    "郵便番号",
    "所在地",
    "備考",
)
#: Other spellings of column titles seen in rosters → the title used here.
COLUMN_ALIASES: Final = {
    "職員NO": "職員番号",
    "職員NO.": "職員番号",
    "職員ID": "職員番号",
    "職員コード": "職員番号",
    "ﾌﾘｶﾞﾅ": "フリガナ",
    "ふりがな": "フリガナ",
    "役職名": "役職",
    "職層": "役職",
    "所属部": "部",
    "所属課": "課",
    "所属係": "係",
    "在職者職員番号": "職員番号",
    "上位職": "上位職コード",
    "事務取扱職コード": "事務取扱",
}
#: 種別 → kind. 室長 heads a 室, which counts as a 課.
POST_KINDS: Final = {
    "区長": PostKind.EXECUTIVE,
    "副区長": PostKind.EXECUTIVE,
    "部長": PostKind.DEPARTMENT_HEAD,
    "所長": PostKind.DEPARTMENT_HEAD,
    "支所長": PostKind.DEPARTMENT_HEAD,
    "総合支所長": PostKind.DEPARTMENT_HEAD,
    "課長": PostKind.SECTION_HEAD,
    "室長": PostKind.SECTION_HEAD,
    "担当課長": PostKind.RESPONSIBLE_HEAD,
}
_TRUTHY: Final = frozenset(
    {"○", "〇", "◯", "●", "✓", "✔", "1", "TRUE", "Y", "YES", "はい", "有", "該当"}
)
_HEADER_SCAN_ROWS: Final = 15
_LIST_SPLIT: Final = re.compile(r"[,、，・/\s]+")

Row = Sequence[object]


@dataclass
class RosterReading:
    """The roster and the problems of rows that were skipped or look wrong."""

    roster: Roster
    problems: list[InputProblem] = field(default_factory=list)


def _cell_text(value: object) -> str:
    """A cell as text: ``None`` → "", ``100234.0`` → "100234", strings stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header_name(value: object) -> str:
    """A sheet header cell as a column name (aliases applied)."""
    name = _WS.sub("", normalize_width(_cell_text(value)))
    return COLUMN_ALIASES.get(name.upper(), COLUMN_ALIASES.get(name, name))


def _locate_header(
    rows: Sequence[Row], key: str, known: frozenset[str]
) -> tuple[int, list[str], int] | None:
    """Find the header among the first rows: (header index, column names, first data index).

    A two-row header (a merged 所属 over 部/課/係) is folded: where the row below the
    header holds a known column title, that title names the column.
    """
    for index, row in enumerate(rows[:_HEADER_SCAN_ROWS]):
        names = [_header_name(v) for v in row]
        if key not in names:
            continue
        start = index + 1
        if index + 1 < len(rows):
            below = [_header_name(v) for v in rows[index + 1]]
            used = False
            for col, sub in enumerate(below):
                if sub in known and sub not in names and col < len(names):
                    names[col] = sub
                    used = True
                elif sub in known and col >= len(names):
                    names.extend([""] * (col - len(names) + 1))
                    names[col] = sub
                    used = True
            if used:
                start = index + 2
        return index, names, start
    return None


def read_roster(path: Path) -> RosterReading:
    """Read the roster workbook (職員名簿 and 組織 sheets).

    Args:
        path: The ``.xlsx`` file.

    Returns:
        The roster (staff by 職員番号, posts by 職コード, in sheet order) and row problems.

    Raises:
        InputError: The file is missing, not an ``.xlsx`` workbook (an old ``.xls``, a
            renamed file, a damaged zip), lacks one of the two sheets, or lacks a required
            column. The message says which, and what to do.
    """
    source = path.name
    try:
        with path.open("rb") as fh:
            magic = fh.read(8)
    except OSError as exc:
        raise InputError(
            f"職員名簿 {source} を開けません（{exc.strerror or type(exc).__name__}）。"
            "ファイルの場所と権限を確認してください。",
            f"Cannot open the roster {source} ({exc.strerror or type(exc).__name__}). "
            "Check where it is and its permissions.",
            code="roster-unreadable",
        ) from exc
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(
            f"{source} は古い Excel 形式（.xls）です。Excel で開き「Excel ブック（.xlsx）」として保存し直してください。",
            f"{source} is an old Excel file (.xls). Open it in Excel and save it as an Excel "
            "workbook (.xlsx).",
            code="roster-xls",
        )
    if not zipfile.is_zipfile(path):
        raise _broken_workbook(source, "not a zip archive")
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises a zoo of types on a damaged file
        raise _broken_workbook(source, type(exc).__name__) from exc
    try:
        sheets = {_WS.sub("", normalize_width(name)): name for name in workbook.sheetnames}
        for wanted in (STAFF_SHEET, ORG_SHEET):
            if wanted not in sheets:
                found = "、".join(workbook.sheetnames) or "（なし）"
                raise InputError(
                    f"{source} にシート「{wanted}」がありません（あるシート: {found}）。"
                    f"職員名簿のブックか、シート名が「{STAFF_SHEET}」「{ORG_SHEET}」になっているか確認してください。",
                    f"{source} has no sheet {wanted!r} (sheets found: "
                    f"{', '.join(workbook.sheetnames) or 'none'}). Check that this is the roster "
                    f"workbook and that its sheets are named {STAFF_SHEET!r} and {ORG_SHEET!r}.",
                    code="roster-wrong-sheet",
                )
        try:
            staff_rows = list(workbook[sheets[STAFF_SHEET]].iter_rows(values_only=True))
            org_rows = list(workbook[sheets[ORG_SHEET]].iter_rows(values_only=True))
        except Exception as exc:  # a damaged sheet part fails only when read
            raise _broken_workbook(source, type(exc).__name__) from exc
    finally:
        workbook.close()

    problems: list[InputProblem] = []
    staff = _read_staff(source, staff_rows, problems)
    posts = _read_posts(source, org_rows, problems)
    roster = Roster(staff=staff, posts=posts, source=source)
    log.info(
        "roster %s: %d staff, %d posts, %d problems",
        source,
        len(staff),
        len(posts),
        len(problems),
    )
    return RosterReading(roster=roster, problems=problems)


def _broken_workbook(source: str, detail: str) -> InputError:
    """The error for a file openpyxl cannot open."""
    return InputError(
        f"{source} は Excel ブック（.xlsx）として開けません（{detail}）。"
        "ファイルが壊れているか、別の形式です。Excel で開けるか確認し、保存し直してください。",
        f"{source} cannot be opened as an Excel workbook (.xlsx) ({detail}): it is damaged "
        "or in another format. Check that it opens in Excel and save it again.",
        code="roster-broken",
    )


def _table(
    source: str, sheet: str, rows: Sequence[Row], required: Sequence[str], optional: Sequence[str]
) -> Iterator[tuple[int, dict[str, str], Row, dict[str, int]]]:
    """Yield (sheet row number, {column: text}, raw row, column index) for each data row."""
    known = frozenset(required) | frozenset(optional)
    located = _locate_header(rows, required[0], known)
    if located is None:
        _require_columns(source, [], required, "roster", sheet)
        return
    _, names, start = located
    _require_columns(source, names, required, "roster", sheet)
    index = {name: col for col, name in reversed(list(enumerate(names))) if name in known}
    for offset, row in enumerate(rows[start:]):
        texts = {
            name: _cell_text(row[col]) if col < len(row) else "" for name, col in index.items()
        }
        if not any(texts.values()):
            continue  # blank separator row
        first = next((v for v in texts.values() if v), "")
        if first.startswith(("※", "注")) and not texts.get(required[0], "").isalnum():
            continue  # a note under the table
        yield start + offset + 1, texts, row, index


def _read_staff(
    source: str, rows: Sequence[Row], problems: list[InputProblem]
) -> dict[str, StaffMember]:
    """The 職員名簿 rows as staff members; bad rows become problems."""
    staff: dict[str, StaffMember] = {}
    for row_no, texts, raw, index in _table(
        source, STAFF_SHEET, rows, STAFF_REQUIRED, STAFF_OPTIONAL
    ):
        staff_id = normalize_staff_id(raw[index["職員番号"]])
        where_ja = f"{source} シート「{STAFF_SHEET}」{row_no}行目"
        where_en = f"{source} sheet {STAFF_SHEET!r} row {row_no}"
        if not is_valid_staff_id(staff_id):
            problems.append(
                _problem(
                    "roster-bad-staff-id",
                    Severity.REVIEW,
                    f"{where_ja}: 職員番号が空欄か、職員番号として読めません。この行は読み飛ばしました。",
                    f"{where_en}: the staff ID is blank or not a staff ID. The row was skipped.",
                    source,
                    row_no,
                )
            )
            continue
        if staff_id in staff:
            problems.append(
                _problem(
                    "roster-duplicate-staff",
                    Severity.REVIEW,
                    f"{where_ja}: 職員番号 {staff_id} が{staff[staff_id].row}行目と重複しています。"
                    "最初の行を使いました。職員名簿を訂正してください。",
                    f"{where_en}: staff ID {staff_id} repeats row {staff[staff_id].row}. The first "
                    "row was used; correct the roster.",
                    source,
                    row_no,
                    staff_id,
                )
            )
            continue
        unit_code = normalize_code(raw[index["所属コード"]], UNIT_CODE_LENGTH)
        if not (unit_code.isdigit() and len(unit_code) == UNIT_CODE_LENGTH):
            problems.append(
                _problem(
                    "roster-bad-unit-code",
                    Severity.REVIEW,
                    f"{where_ja}: 職員番号 {staff_id} の所属コードが6桁の数字ではありません。"
                    "上司をたどれないため、超過した場合は確認に回ります。",
                    f"{where_en}: staff {staff_id}'s unit code is not six digits. Their heads "
                    "cannot be found; if they are over a cap they go to review.",
                    source,
                    row_no,
                    staff_id,
                )
            )
        staff[staff_id] = StaffMember(
            staff_id=staff_id,
            name=texts["氏名"],  # as written: documents keep 髙, 﨑 and the full-width space
            kana=texts.get("フリガナ", ""),
            unit_code=unit_code,
            department_name=texts.get("部", ""),
            section_name=texts.get("課", ""),
            unit_name=texts.get("係", ""),
            title=texts.get("役職", ""),
            concurrent=texts.get("兼務", ""),
            row=row_no,
        )
    return staff


def _read_posts(source: str, rows: Sequence[Row], problems: list[InputProblem]) -> dict[str, Post]:
    """The 組織 rows as posts; bad rows become problems."""
    posts: dict[str, Post] = {}
    for row_no, texts, raw, index in _table(source, ORG_SHEET, rows, ORG_REQUIRED, ORG_OPTIONAL):
        where_ja = f"{source} シート「{ORG_SHEET}」{row_no}行目"
        where_en = f"{source} sheet {ORG_SHEET!r} row {row_no}"
        post_id = normalize_staff_id(raw[index["職コード"]])
        kind = POST_KINDS.get(_WS.sub("", normalize_width(texts["種別"])))
        if not post_id or kind is None:
            what_ja = "職コードが空欄" if not post_id else f"種別「{texts['種別']}」が不明"
            what_en = (
                "the post code is blank" if not post_id else f"kind {texts['種別']!r} is unknown"
            )
            problems.append(
                _problem(
                    "roster-bad-post",
                    Severity.REVIEW,
                    f"{where_ja}: {what_ja}です（種別は {'・'.join(POST_KINDS)}）。この行は読み飛ばしました。",
                    f"{where_en}: {what_en} (kinds: {', '.join(POST_KINDS)}). The row was skipped.",
                    source,
                    row_no,
                )
            )
            continue
        if post_id in posts:
            problems.append(
                _problem(
                    "roster-duplicate-post",
                    Severity.REVIEW,
                    f"{where_ja}: 職コード {post_id} が{posts[post_id].row}行目と重複しています。最初の行を使いました。",
                    f"{where_en}: post code {post_id} repeats row {posts[post_id].row}. The first "
                    "row was used.",
                    source,
                    row_no,
                )
            )
            continue
        holder_text = texts["職員番号"]
        holder: str | None = normalize_staff_id(raw[index["職員番号"]])
        if not holder or "欠員" in holder_text:
            holder = None
        elif not is_valid_staff_id(holder):
            problems.append(
                _problem(
                    "roster-bad-holder",
                    Severity.REVIEW,
                    f"{where_ja}: 職コード {post_id} の職員番号が読めません。欠員として扱いました。",
                    f"{where_en}: the holder of post {post_id} is not a staff ID. The post was "
                    "treated as vacant.",
                    source,
                    row_no,
                )
            )
            holder = None
        acting = normalize_staff_id(texts.get("事務取扱", "")) or None
        parent = normalize_staff_id(texts["上位職コード"]) or None
        covers = tuple(
            normalize_code(c, UNIT_CODE_LENGTH)
            for c in _LIST_SPLIT.split(to_halfwidth(texts.get("担当係コード", "")))
            if c
        )
        flag = _WS.sub("", to_halfwidth(texts.get("他律的", ""))).upper()
        posts[post_id] = Post(
            post_id=post_id,
            title=texts["職名"],
            kind=kind,
            department_code=normalize_code(texts["部コード"], DEPARTMENT_CODE_LENGTH),
            department_name=texts.get("部名", ""),
            section_code=normalize_code(texts["課コード"], SECTION_CODE_LENGTH),
            section_name=texts.get("課名", ""),
            covers_units=covers,
            parent_post_id=parent,
            holder_id=holder,
            acting_post_id=acting,
            other_directed=flag in _TRUTHY,
            building=texts.get("庁舎", ""),
            floor=texts.get("階", ""),
            postal_code=texts.get("郵便番号", ""),
            address=texts.get("所在地", ""),
            row=row_no,
        )
    return posts
