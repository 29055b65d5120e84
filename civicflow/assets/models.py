"""Models of the asset-ledger export (財産台帳 → 公会計 CSV): config, layout, rows, results.

Kept here rather than in :mod:`civicflow.models` while the export is young; the result
(:class:`AssetExportResult`) is what crosses the task boundary.

Exported rows are a frozen, slotted stdlib dataclass (:class:`AssetRecord`), not a pydantic
model: building 100,000 pydantic rows costs about a second, the dataclass a fifth of that,
and pydantic still validates and serialises them inside :class:`AssetExportResult`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from civicflow.japanese import normalize_width
from civicflow.models import QuarantineRecord, Reason

#: The process name used in quarantine records and summaries.
PROCESS = "asset_ledger_export"

#: ``<repo>/data/asset_export``: civicflow/assets/models.py → parents[2] is the repo root.
DATA_DIR: Path = Path(__file__).resolve().parents[2] / "data" / "asset_export"

#: Values an import column can carry (``key`` in columns.yaml) and the type each one has.
FIELD_TYPES: dict[str, Literal["string", "date", "integer"]] = {
    "asset_no": "string",  # 資産番号
    "name": "string",  # 名称
    "location": "string",  # 所在地
    "acquired_on": "date",  # 取得年月日
    "cost": "integer",  # 取得価額 (円)
    "useful_life": "integer",  # 耐用年数
    "accumulated_depreciation": "integer",  # 減価償却累計額 (年度末)
    "book_value": "integer",  # 期末簿価
    "depreciation_for_year": "integer",  # 本年度減価償却額
    "account": "string",  # 勘定科目
    "use": "string",  # 用途
    "department": "string",  # 所管課
    "note": "string",  # 備考
    "fiscal_year": "integer",  # 会計年度
    "source_ref": "string",  # 台帳の参照 (ファイル/シート/行)
}

#: Japanese names of the fields, for messages and the rejects workbook.
FIELD_LABELS: dict[str, str] = {
    "asset_no": "資産番号",
    "name": "名称",
    "location": "所在地",
    "acquired_on": "取得年月日",
    "cost": "取得価額",
    "useful_life": "耐用年数",
    "accumulated_depreciation": "減価償却累計額",
    "book_value": "期末簿価",
    "depreciation_for_year": "本年度減価償却額",
    "account": "勘定科目",
    "use": "用途",
    "department": "所管課",
    "note": "備考",
    "fiscal_year": "会計年度",
    "source_ref": "台帳参照",
}

#: Sheet names (or parts of them) that hold no ledger: instructions, examples, lists.
DEFAULT_IGNORED_SHEET_WORDS: tuple[str, ...] = (
    "説明",
    "記入例",
    "入力例",
    "記載例",
    "作成要領",
    "記入要領",
    "目次",
    "凡例",
    "注意事項",
    "リスト",
    "選択肢",
)


class AssetExportConfig(BaseModel):
    """Settings of one export run; every default is the office's usual choice.

    Attributes:
        columns_path: The import layout (columns.yaml).
        useful_life_path: The 耐用年数 table (useful_life.yaml).
        depreciation_tolerance_yen: How far the ledger's 減価償却累計額 / 期末簿価 may be
            from the straight-line figure before the row is rejected. A 千円 ledger is
            always allowed at least its rounding (1,000 yen).
        capitalisation_thresholds_yen: 勘定科目 → the smallest 取得価額 recorded as a
            fixed asset (物品 ≥ ¥500,000 here; some cities use ¥1,000,000).
        depreciation_start: ``"next_fiscal_year"``: no depreciation in the fiscal year of
            acquisition, a full year in each later one (no 月割り);
            ``"acquisition_fiscal_year"``: a full year already in the year of acquisition.
        reader: ``"fast"``: the streaming reader of :mod:`civicflow.assets.ledger` (5× faster);
            ``"openpyxl"``: openpyxl read-only mode, as a cross-check.
        default_amount_unit_yen: Yen per ledger unit when neither the header nor a
            「単位：千円」 note above it says (1 = 円).
        header_scan_rows: How many rows from the top are searched for the header.
        ignored_sheet_words: A sheet whose name contains one of these is skipped.
    """

    model_config = ConfigDict(frozen=True)

    columns_path: Path = DATA_DIR / "columns.yaml"
    useful_life_path: Path = DATA_DIR / "useful_life.yaml"
    depreciation_tolerance_yen: int = Field(default=1000, ge=0)
    capitalisation_thresholds_yen: dict[str, int] = Field(
        default_factory=lambda: {"物品": 500_000, "車両": 500_000}
    )
    depreciation_start: Literal["next_fiscal_year", "acquisition_fiscal_year"] = "next_fiscal_year"
    reader: Literal["fast", "openpyxl"] = "fast"
    default_amount_unit_yen: Literal[1, 1000] = 1
    header_scan_rows: int = Field(default=30, ge=2)
    ignored_sheet_words: tuple[str, ...] = DEFAULT_IGNORED_SHEET_WORDS


# --- the import layout (columns.yaml) ------------------------------------------------------
class ExportColumn(BaseModel):
    """One column of the import CSV."""

    model_config = ConfigDict(frozen=True)

    key: str
    name: str
    type: Literal["string", "date", "integer"]
    required: bool = False
    required_for: tuple[str, ...] = ()
    format: str | None = None
    max_length: int | None = Field(default=None, ge=1)
    description: str = ""

    @model_validator(mode="after")
    def _check_key_and_type(self) -> ExportColumn:
        if self.key not in FIELD_TYPES:
            raise ValueError(f"unknown key {self.key!r}; known keys: {', '.join(FIELD_TYPES)}")
        if FIELD_TYPES[self.key] != self.type:
            raise ValueError(
                f"column {self.key!r} has type {self.type!r}, but its values are "
                f"{FIELD_TYPES[self.key]!r}"
            )
        if self.type == "date" and self.format is not None and "%" not in self.format:
            raise ValueError(f"date column {self.key!r} needs a strftime format, e.g. %Y/%m/%d")
        return self


class ExportLayout(BaseModel):
    """The import file's layout: encoding, line ends and the columns in order."""

    model_config = ConfigDict(frozen=True)

    layout: str
    version: int
    encoding: Literal["cp932"] = "cp932"
    line_ending: Literal["CRLF"] = "CRLF"
    header: Literal[True] = True
    columns: tuple[ExportColumn, ...]

    @field_validator("columns")
    @classmethod
    def _unique_keys(cls, columns: tuple[ExportColumn, ...]) -> tuple[ExportColumn, ...]:
        if not columns:
            raise ValueError("the layout has no columns")
        keys = [c.key for c in columns]
        duplicated = sorted({k for k in keys if keys.count(k) > 1})
        if duplicated:
            raise ValueError(f"keys used twice: {', '.join(duplicated)}")
        return columns

    @property
    def header_names(self) -> list[str]:
        """The column titles, in order."""
        return [c.name for c in self.columns]


# --- the useful-life table (useful_life.yaml) ------------------------------------------------
class AccountDef(BaseModel):
    """A 勘定科目 of the import file and the spellings ledgers use for it."""

    model_config = ConfigDict(frozen=True)

    name: str
    depreciable: bool = True
    aliases: tuple[str, ...] = ()


class UsefulLifeEntry(BaseModel):
    """One row of the 耐用年数 table: 勘定科目 + 用途 → years."""

    model_config = ConfigDict(frozen=True)

    account: str
    use: str
    years: int = Field(ge=1, le=100)
    ref: str = ""
    aliases: tuple[str, ...] = ()


_KEY_DROP = re.compile(r"[\s・、，,/／()（）\[\]［］「」【】]+")


class UsefulLifeTable(BaseModel):
    """The 耐用年数 table with its source, and lookups by normalised spelling."""

    model_config = ConfigDict(frozen=True)

    source: str
    accounts: tuple[AccountDef, ...]
    uses: tuple[UsefulLifeEntry, ...]
    _accounts: dict[str, AccountDef] = PrivateAttr(default_factory=dict)
    _uses: dict[tuple[str, str], UsefulLifeEntry] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check_accounts(self) -> UsefulLifeTable:
        names = {a.name for a in self.accounts}
        unknown = sorted({e.account for e in self.uses} - names)
        if unknown:
            raise ValueError(f"uses refer to accounts not listed: {', '.join(unknown)}")
        return self

    def model_post_init(self, context: Any, /) -> None:
        """Build the lookup dictionaries once."""
        accounts: dict[str, AccountDef] = {}
        for account in self.accounts:
            for spelling in (account.name, *account.aliases):
                accounts[match_key(spelling)] = account
        uses: dict[tuple[str, str], UsefulLifeEntry] = {}
        for entry in self.uses:
            for spelling in (entry.use, *entry.aliases):
                uses[(entry.account, match_key(spelling))] = entry
        self._accounts = accounts
        self._uses = uses

    def account(self, text: str) -> AccountDef | None:
        """The 勘定科目 a ledger's spelling means, or None."""
        return self._accounts.get(match_key(text))

    def entry(self, account: str, use: str) -> UsefulLifeEntry | None:
        """The table row for an account (its canonical name) and a ledger's 用途, or None."""
        return self._uses.get((account, match_key(use)))


def match_key(text: str) -> str:
    """A spelling reduced for table matching: half-width ASCII, lower case, no separators."""
    return _KEY_DROP.sub("", normalize_width(text)).casefold()


# --- rows and results ----------------------------------------------------------------------
@dataclass(slots=True)  # not frozen: a frozen init costs 6x on 100,000 rows
class SourceRef:
    """Where a value came from: workbook file name, sheet (= 所管課) and Excel row number."""

    workbook: str
    sheet: str
    row: int

    def label_ja(self) -> str:
        """E.g. ``総務部.xlsx「施設課」12行目``."""
        return f"{self.workbook}「{self.sheet}」{self.row}行目"


@dataclass(slots=True)  # not frozen: a frozen init costs 6x on 100,000 rows
class AssetRecord:
    """One asset as exported: yen amounts, an ISO date, the table's names.

    ``accumulated_depreciation`` and ``book_value`` are the straight-line figures as of the
    fiscal year end (the ledger's own figures only cross-check them).
    """

    asset_no: str  # 資産番号
    name: str  # 名称
    location: str  # 所在地
    acquired_on: dt.date  # 取得年月日
    cost: int  # 取得価額 (円)
    useful_life: int | None  # 耐用年数 (None for land)
    accumulated_depreciation: int  # 減価償却累計額
    book_value: int  # 期末簿価
    depreciation_for_year: int  # 本年度減価償却額
    account: str  # 勘定科目
    use: str  # 用途
    department: str  # 所管課
    note: str  # 備考
    source: SourceRef


#: A cell of a ledger row as kept for the rejects workbook (booleans as text).
LedgerValue = str | int | float | dt.datetime | None


class RejectedRow(BaseModel):
    """A ledger row not exported, with the values as written and every reason."""

    model_config = ConfigDict(frozen=True)

    workbook: str
    sheet: str
    row: int
    department: str
    values: dict[str, LedgerValue]  # the ledger's header label → the cell as read
    reasons: tuple[Reason, ...]

    @property
    def codes(self) -> list[str]:
        """The reason codes, each once, in order."""
        return list(dict.fromkeys(r.code for r in self.reasons))


class UnencodableCell(BaseModel):
    """A character CP932 cannot hold in an exported value: written as 〓 in the CSV."""

    model_config = ConfigDict(frozen=True)

    workbook: str
    sheet: str
    row: int
    column: str  # the import column's name, e.g. 名称
    char: str
    codepoint: str  # U+20BB7


class SheetSummary(BaseModel):
    """What was read from one ledger sheet."""

    model_config = ConfigDict(frozen=True)

    workbook: str
    sheet: str
    department: str
    header_row: int  # the last header row (1-based); data starts below it
    amount_unit_yen: int  # 1 or 1000 (of 取得価額; other amount columns may differ)
    data_rows: int
    exported: int
    rejected: int
    skipped_blank: int
    skipped_subtotal: int
    skipped_note: int


class AssetExportResult(BaseModel):
    """Everything one export found: rows to import, rejects, quarantined inputs."""

    fiscal_year: int  # 会計年度: the ledger is as of 31 March of fiscal_year + 1
    layout: ExportLayout  # the import layout the rows were checked against
    rows: list[AssetRecord] = Field(default_factory=list)
    rejects: list[RejectedRow] = Field(default_factory=list)
    quarantined: list[QuarantineRecord] = Field(default_factory=list)
    unencodable: list[UnencodableCell] = Field(default_factory=list)
    sheets: list[SheetSummary] = Field(default_factory=list)
    skipped_sheets: list[str] = Field(default_factory=list)  # "file「sheet」": 説明, 記入例 …
    workbooks_read: int = 0

    @property
    def fiscal_year_end(self) -> dt.date:
        """The balance-sheet date, 31 March after the fiscal year began."""
        return dt.date(self.fiscal_year + 1, 3, 31)

    def reject_counts(self) -> dict[str, int]:
        """Reason code → rows rejected for it (a row with two reasons counts in both)."""
        counts: dict[str, int] = {}
        for reject in self.rejects:
            for code in dict.fromkeys(r.code for r in reject.reasons):
                counts[code] = counts.get(code, 0) + 1
        return dict(sorted(counts.items()))
