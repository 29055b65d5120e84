"""CSV for legacy municipal systems: CP932 (Shift_JIS), CRLF, nothing silently lost.

Named ``csvfile`` so that it never shadows the standard library's ``csv``.

A character CP932 cannot hold (𠮷 U+20BB7, emoji, most characters outside JIS X 0208
and the NEC/IBM extensions) is replaced by 〓 (ゲタ, U+3013), the office convention
for "character to be filled in by hand", and reported to the caller with its row,
column and code point, so that staff can correct the record in the target system.

Characters whose JIS code point merely has a different Unicode name in CP932 are
converted, not reported: they print as the same character (:data:`CP932_EQUIVALENTS`).
Python's ``cp932`` codec already maps 〜 U+301C, − U+2212, ‖ U+2016 and ¢ £ ¬ to
their CP932 forms on its own.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from civicflow.documents import atomic_write
from civicflow.errors import PermanentError

ENCODING = "cp932"
GETA = "〓"  # U+3013 GETA MARK: the placeholder for a character that cannot be printed
#: Same JIS character, different Unicode mapping: converted silently.
CP932_EQUIVALENTS: dict[str, str] = {
    "\u2014": "\u2015",  # EM DASH (JIS X 0208 0x815C) → HORIZONTAL BAR, CP932's mapping
    "\u00a6": "\uffe4",  # BROKEN BAR → FULLWIDTH BROKEN BAR (IBM extension 0xFA55)
}
_TRANSLATION = str.maketrans(CP932_EQUIVALENTS)


class Unencodable(BaseModel):
    """A character CP932 cannot hold, replaced by 〓 in the written file.

    Attributes:
        row: 0-based index into the ``rows`` passed in (the header is not counted;
            the line in the file is ``row + 2``).
        column: The column's header.
        char: The character itself.
        codepoint: Its code point, e.g. ``"U+20BB7"``.
    """

    model_config = ConfigDict(frozen=True)

    row: int
    column: str
    char: str
    codepoint: str


def _encodable(text: str) -> bool:
    """Whether CP932 can hold every character of ``text``."""
    try:
        text.encode(ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def to_cp932_text(value: str, *, row: int = -1, column: str = "") -> tuple[str, list[Unencodable]]:
    """Make ``value`` CP932-safe: convert equivalents, replace the rest by 〓.

    Args:
        value: The text.
        row: Row index to report (see :class:`Unencodable`).
        column: Column header to report.

    Returns:
        The safe text and one :class:`Unencodable` per replaced character.
    """
    text = value.translate(_TRANSLATION)
    if _encodable(text):  # the common case: one encode per cell
        return text, []
    found: list[Unencodable] = []
    chars: list[str] = []
    for ch in text:
        if _encodable(ch):
            chars.append(ch)
        else:
            chars.append(GETA)
            found.append(Unencodable(row=row, column=column, char=ch, codepoint=f"U+{ord(ch):04X}"))
    return "".join(chars), found


def write_cp932_csv(path: Path, header: list[str], rows: list[list[str]]) -> list[Unencodable]:
    """Write a CP932 CSV with CRLF line ends; report characters replaced by 〓.

    Fields are quoted only when needed (``csv.QUOTE_MINIMAL``: a comma, a double
    quote or a line break inside). Column order is the header's. The file is
    written to a temporary name and renamed.

    Args:
        path: The CSV file to create or replace.
        header: Column titles (the first line).
        rows: Data rows, each as long as ``header``.

    Returns:
        Every character that CP932 could not hold, in file order; empty when the
        file is exact. The caller decides whether a non-empty list needs review.

    Raises:
        PermanentError: A header title cannot be written in CP932 (fix the column
            layout), or the folder is not writable.
        TransientError: Writing the file failed for another I/O reason.
        ValueError: A row's length differs from the header's.
    """
    for title in header:
        if not _encodable(title.translate(_TRANSLATION)):
            raise PermanentError(
                f"CSV の列名「{title}」に Shift_JIS（CP932）で書けない文字があります。"
                "列定義を修正してください。",
                f"The CSV column title {title!r} has a character CP932 (Shift_JIS) "
                "cannot hold. Fix the column layout.",
                code="csv-header",
            )
    problems: list[Unencodable] = []
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([title.translate(_TRANSLATION) for title in header])
    for index, values in enumerate(rows):
        if len(values) != len(header):
            raise ValueError(f"row {index} has {len(values)} cells, header has {len(header)}")
        safe_row: list[str] = []
        for column, value in zip(header, values, strict=True):
            safe, found = to_cp932_text(value, row=index, column=column)
            safe_row.append(safe)
            problems.extend(found)
        writer.writerow(safe_row)
    data = buffer.getvalue().encode(ENCODING)
    with atomic_write(path) as tmp:
        tmp.write_bytes(data)
    return problems
