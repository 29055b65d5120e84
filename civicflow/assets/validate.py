"""Check one ledger row and build the record to export, or say why it cannot be exported.

Rules, each failure a :class:`~civicflow.models.Reason` with a stable code and a Japanese and
an English message that name the sheet and row, so the 所管課 can fix its ledger and submit
again:

=================================  ==========================================================
code                               rule
=================================  ==========================================================
``missing_value``                  a value the import layout marks required is blank
``invalid_date``                   取得年月日 is not a date
``acquired_after_year_end``        取得年月日 is after the fiscal year end (31 March)
``invalid_amount``                 an amount cell is not a number
``negative_amount``                an amount is below zero (△/▲/−)
``unknown_account``                勘定科目 is not in the useful-life table's accounts
``invalid_useful_life``            耐用年数 is not a whole number of years (1–100)
``unknown_useful_life``            耐用年数 blank and 勘定科目 + 用途 not in the table
``land_depreciated``               土地 with 減価償却累計額 above zero
``depreciation_mismatch``          減価償却累計額 differs from straight line beyond tolerance
``book_value_mismatch``            期末簿価 differs from straight line beyond tolerance
``below_capitalisation_threshold`` 取得価額 below the account's capitalisation threshold
``too_long``                       a text longer than the layout's ``max_length``
``duplicate_asset_no``             the same 資産番号 on two rows (:mod:`~civicflow.assets.export`)
=================================  ==========================================================

Depreciation is straight line (定額法) with the rate of 別表第八 of 減価償却資産の耐用年数等に
関する省令 (1 / 耐用年数 rounded up to three decimals), a whole year per fiscal year (no
月割り), yen below one cut off, and a fully depreciated asset kept at ¥1 (備忘価額).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from civicflow.assets.ledger import LedgerRow, LedgerSheet
from civicflow.assets.models import (
    FIELD_LABELS,
    AccountDef,
    AssetExportConfig,
    AssetRecord,
    ExportLayout,
    SourceRef,
    UsefulLifeEntry,
    UsefulLifeTable,
)
from civicflow.models import Reason, Severity

#: 備忘価額: what a fully depreciated asset is carried at.
MEMO_VALUE_YEN = 1

#: A value that counts as blank for a required column (0 yen is a value).
_BLANK: tuple[None, str] = (None, "")

#: Fields a row holds as written (the rest are computed): checked for ``required``.
_ROW_FIELDS: tuple[str, ...] = (
    "asset_no",
    "name",
    "location",
    "acquired_on",
    "cost",
    "account",
    "use",
    "note",
    "department",
)


def fiscal_year_of(day: dt.date) -> int:
    """The fiscal year (年度, April–March) a day belongs to: 2025-03-31 → 2024."""
    return day.year if day.month >= 4 else day.year - 1


def fiscal_year_end(fiscal_year: int) -> dt.date:
    """31 March that closes ``fiscal_year``: 2024 → 2025-03-31."""
    return dt.date(fiscal_year + 1, 3, 31)


def rate_permille(years: int) -> int:
    """定額法 rate in thousandths: 1 / years rounded up to three decimals (別表第八).

    >>> rate_permille(50), rate_permille(47), rate_permille(22), rate_permille(6)
    (20, 22, 46, 167)
    """
    return -(-1000 // years)


@dataclass(slots=True)  # not frozen: a frozen init costs 6x on 100,000 rows
class Depreciation:
    """Straight-line figures of one asset at one fiscal year end."""

    accumulated: int  # 減価償却累計額
    book_value: int  # 期末簿価
    for_year: int  # 本年度減価償却額
    years_counted: int  # whole years depreciated so far
    rate_permille: int


def straight_line(
    cost: int,
    useful_life: int | None,
    acquired_on: dt.date,
    fiscal_year: int,
    *,
    start: str = "next_fiscal_year",
) -> Depreciation:
    """Straight-line (定額法) depreciation as of the end of ``fiscal_year``.

    Args:
        cost: 取得価額 in yen.
        useful_life: 耐用年数; None for an asset that is not depreciated (土地).
        acquired_on: 取得年月日.
        fiscal_year: The year whose end (31 March) the figures are for.
        start: ``"next_fiscal_year"`` (the default: nothing in the year of acquisition) or
            ``"acquisition_fiscal_year"`` (a full year already then).

    Returns:
        The accumulated depreciation, book value, this year's charge and the years counted.
        The book value never goes below ¥1 (備忘価額) for a depreciable asset.
    """
    if useful_life is None or cost <= MEMO_VALUE_YEN:
        return Depreciation(0, cost, 0, 0, 0)
    rate = rate_permille(useful_life)
    annual = cost * rate // 1000
    offset = 1 if start == "acquisition_fiscal_year" else 0
    years = max(fiscal_year - fiscal_year_of(acquired_on) + offset, 0)
    ceiling = cost - MEMO_VALUE_YEN
    accumulated = min(annual * years, ceiling)
    before = min(annual * max(years - 1, 0), ceiling)
    return Depreciation(accumulated, cost - accumulated, accumulated - before, years, rate)


@dataclass(frozen=True, slots=True)
class _ColumnRule:
    """What the layout asks of one value a row holds."""

    key: str
    required: bool
    required_for: frozenset[str]
    max_length: int | None


class RuleContext:
    """What every row is checked against, built once per run, with memoised table look-ups.

    A ledger repeats the same few 勘定科目 and 用途 spellings thousands of times: each is
    matched against the table once.
    """

    def __init__(
        self,
        fiscal_year: int,
        layout: ExportLayout,
        table: UsefulLifeTable,
        config: AssetExportConfig,
    ) -> None:
        self.fiscal_year = fiscal_year
        self.layout = layout
        self.table = table
        self.config = config
        self.year_end = fiscal_year_end(fiscal_year)
        rules = [
            _ColumnRule(
                c.key,
                c.required,
                frozenset(c.required_for),
                c.max_length if c.type == "string" else None,
            )
            for c in layout.columns
            if c.key in _ROW_FIELDS
        ]
        # Split by kind so that a clean row costs a handful of getattr calls.
        self.required = tuple(r.key for r in rules if r.required and r.key != "department")
        self.required_for = tuple(
            (r.key, r.required_for) for r in rules if r.required_for and not r.required
        )
        self.max_lengths = tuple((r.key, r.max_length) for r in rules if r.max_length is not None)
        self._accounts: dict[str, AccountDef | None] = {}
        self._entries: dict[tuple[str, str], UsefulLifeEntry | None] = {}

    def account(self, text: str) -> AccountDef | None:
        """The table's account for a ledger's 勘定科目 spelling (memoised)."""
        try:
            return self._accounts[text]
        except KeyError:
            found = self._accounts[text] = self.table.account(text) if text else None
            return found

    def entry(self, account: str, use: str) -> UsefulLifeEntry | None:
        """The table's row for an account and a ledger's 用途 spelling (memoised)."""
        key = (account, use)
        try:
            return self._entries[key]
        except KeyError:
            found = self._entries[key] = self.table.entry(account, use) if use else None
            return found


def reason(
    code: str, sheet: LedgerSheet, row: int, ja: str, en: str, field: str | None = None
) -> Reason:
    """A reject reason whose messages start with the sheet and row, e.g. 「施設課」12行目."""
    return Reason(
        code=code,
        severity=Severity.REJECT,
        message_ja=f"「{sheet.sheet}」シート{row}行目: {ja}",
        message_en=f"Sheet {sheet.sheet!r}, row {row}: {en}",
        field=field,
    )


def _yen(value: int) -> str:
    """An amount as ledgers print it: ``1,200円``, ``△1,200円``."""
    return f"△{-value:,}円" if value < 0 else f"{value:,}円"


def _problem_reasons(row: LedgerRow, sheet: LedgerSheet) -> list[Reason]:
    found: list[Reason] = []
    for problem in row.problems:
        label = FIELD_LABELS[problem.field]
        if problem.code == "invalid_date":
            ja = (
                f"{label}「{problem.text}」を日付として読めません。"
                "「令和6年4月1日」「R6.4.1」「2024/4/1」のように記入してください。"
            )
            en = f"{label} {problem.text!r} is not a date. Write it like 令和6年4月1日, R6.4.1 or 2024/4/1."
        elif problem.code == "invalid_amount":
            ja = f"{label}「{problem.text}」を金額として読めません。数字だけで記入してください。"
            en = f"{label} {problem.text!r} is not an amount. Enter digits only."
        else:
            ja = (
                f"{label}「{problem.text}」を年数として読めません。1〜100の整数で記入してください。"
            )
            en = f"{label} {problem.text!r} is not a number of years. Enter a whole number from 1 to 100."
        found.append(reason(problem.code, sheet, row.row, ja, en, problem.field))
    return found


def _tolerance(ctx: RuleContext, sheet: LedgerSheet, field: str) -> int:
    # A 千円 ledger rounds to 1,000 yen: never reject for its own rounding.
    return max(ctx.config.depreciation_tolerance_yen, sheet.units.get(field, 1))


def check_row(row: LedgerRow, sheet: LedgerSheet, ctx: RuleContext) -> AssetRecord | list[Reason]:
    """Check one ledger row against every rule and build its export record.

    Args:
        row: The parsed row.
        sheet: Its sheet (name, units, 所管課).
        ctx: Fiscal year, layout, useful-life table and settings.

    Returns:
        The record to export, or every reason the row cannot be exported (never empty).
    """
    found = _problem_reasons(row, sheet) if row.problems else []
    broken = {p.field for p in row.problems} if row.problems else set()
    where = row.row
    account = ctx.account(row.account)

    missing = [key for key in ctx.required if getattr(row, key) in _BLANK]
    if account is not None:
        missing.extend(
            key
            for key, accounts in ctx.required_for
            if account.name in accounts and getattr(row, key) in _BLANK
        )
    for key in missing:
        if key not in broken:
            label = FIELD_LABELS[key]
            found.append(
                reason(
                    "missing_value",
                    sheet,
                    where,
                    f"{label}が空欄です。台帳に{label}を記入してください。",
                    f"{label} ({key}) is blank. Fill it in in the ledger.",
                    key,
                )
            )
    for key, max_length in ctx.max_lengths:
        value: str = sheet.department if key == "department" else getattr(row, key)
        if len(value) > max_length:
            found.append(
                reason(
                    "too_long",
                    sheet,
                    where,
                    f"{FIELD_LABELS[key]}が{len(value)}文字あり、取込の上限"
                    f"{max_length}文字を超えています。短くしてください。",
                    f"{FIELD_LABELS[key]} has {len(value)} characters; the import takes at "
                    f"most {max_length}. Shorten it.",
                    key,
                )
            )

    acquired_on = row.acquired_on
    if acquired_on is not None and acquired_on > ctx.year_end:
        found.append(
            reason(
                "acquired_after_year_end",
                sheet,
                where,
                f"取得年月日 {acquired_on:%Y/%m/%d} が会計年度末（{ctx.year_end:%Y/%m/%d}）より"
                "後です。今年度の台帳に載せる資産か、日付を確認してください。",
                f"取得年月日 {acquired_on.isoformat()} is after the fiscal year end "
                f"({ctx.year_end.isoformat()}). Check the date, or leave the asset for next year.",
                "acquired_on",
            )
        )
    for key, amount in (
        ("cost", row.cost),
        ("accumulated_depreciation", row.accumulated_depreciation),
        ("book_value", row.book_value),
    ):
        if amount is not None and amount < 0:
            label = FIELD_LABELS[key]
            found.append(
                reason(
                    "negative_amount",
                    sheet,
                    where,
                    f"{label}がマイナス（{_yen(amount)}）です。0以上の金額を記入してください。",
                    f"{label} is negative ({amount:,} yen). Amounts must be 0 or more.",
                    key,
                )
            )

    if row.account and account is None:
        names = "・".join(a.name for a in ctx.table.accounts)
        found.append(
            reason(
                "unknown_account",
                sheet,
                where,
                f"勘定科目「{row.account}」は取込できる科目（{names}）にありません。",
                f"勘定科目 {row.account!r} is not an account of the import ({names}).",
                "account",
            )
        )
    useful_life = row.useful_life
    entry = ctx.entry(account.name, row.use) if account is not None else None
    if account is not None and account.depreciable and useful_life is None:
        if "useful_life" not in broken:
            if entry is None:
                found.append(
                    reason(
                        "unknown_useful_life",
                        sheet,
                        where,
                        f"耐用年数が空欄で、勘定科目「{account.name}」・用途「{row.use or '（空欄）'}」"
                        "は耐用年数表にありません。耐用年数を記入するか、用途を耐用年数表の区分名で"
                        "記入してください。",
                        f"耐用年数 is blank and {account.name} / {row.use or '(blank)'} is not in "
                        "the useful-life table. Enter 耐用年数, or write 用途 as the table names it.",
                        "useful_life",
                    )
                )
            else:
                useful_life = entry.years
    if account is not None and not account.depreciable:
        useful_life = None  # land: a 耐用年数 written by mistake is not used

    if found or account is None or acquired_on is None or row.cost is None:
        return found or [
            reason(
                "missing_value",
                sheet,
                where,
                "必要な項目が空欄です。",
                "A required value is blank.",
            )
        ]

    cost = row.cost
    threshold = ctx.config.capitalisation_thresholds_yen.get(account.name)
    if threshold is not None and cost < threshold:
        found.append(
            reason(
                "below_capitalisation_threshold",
                sheet,
                where,
                f"{account.name}の取得価額 {_yen(cost)} は資産計上の基準 {_yen(threshold)} "
                "未満のため、固定資産として取り込みません。台帳から除くか、金額を確認してください。",
                f"取得価額 {cost:,} yen is below the capitalisation threshold of "
                f"{threshold:,} yen for {account.name}: not a fixed asset. Remove the row or "
                "check the amount.",
                "cost",
            )
        )

    figures = straight_line(
        cost, useful_life, acquired_on, ctx.fiscal_year, start=ctx.config.depreciation_start
    )
    ledger_acc, ledger_book = row.accumulated_depreciation, row.book_value
    if not account.depreciable:
        if ledger_acc:
            found.append(
                reason(
                    "land_depreciated",
                    sheet,
                    where,
                    f"土地は減価償却しませんが、減価償却累計額が {_yen(ledger_acc)} です。"
                    "0 にしてください。",
                    f"Land is not depreciated, but 減価償却累計額 is {ledger_acc:,} yen. Make it 0.",
                    "accumulated_depreciation",
                )
            )
    elif useful_life is not None:
        for key, stated, expected in (
            ("accumulated_depreciation", ledger_acc, figures.accumulated),
            ("book_value", ledger_book, figures.book_value),
        ):
            if stated is None or stated < 0:
                continue
            tolerance = _tolerance(ctx, sheet, key)
            if abs(stated - expected) > tolerance:
                label = FIELD_LABELS[key]
                basis_ja = (
                    f"定額法（耐用年数{useful_life}年・償却率0.{figures.rate_permille:03d}・"
                    f"{figures.years_counted}年分）"
                )
                basis_en = (
                    f"straight line ({useful_life} years, rate 0.{figures.rate_permille:03d}, "
                    f"{figures.years_counted} years)"
                )
                code = (
                    "depreciation_mismatch"
                    if key == "accumulated_depreciation"
                    else "book_value_mismatch"
                )
                found.append(
                    reason(
                        code,
                        sheet,
                        where,
                        f"{label} {_yen(stated)} が{basis_ja}の計算 {_yen(expected)} と"
                        f" {_yen(abs(stated - expected))} 違います（許容 {_yen(tolerance)}）。"
                        "取得年月日・取得価額・耐用年数・累計額を確認してください。",
                        f"{label} {stated:,} yen differs from the {basis_en} figure "
                        f"{expected:,} yen by {abs(stated - expected):,} yen (tolerance "
                        f"{tolerance:,}). Check the date, cost, useful life and the figure.",
                        key,
                    )
                )
    if found:
        return found
    return AssetRecord(
        asset_no=row.asset_no,
        name=row.name,
        location=row.location,
        acquired_on=acquired_on,
        cost=cost,
        useful_life=useful_life,
        accumulated_depreciation=figures.accumulated,
        book_value=figures.book_value,
        depreciation_for_year=figures.for_year,
        account=account.name,
        use=entry.use
        if entry is not None
        else row.use,  # the table's name: RC造 庁舎 → 鉄筋コンクリート造 事務所
        department=sheet.department,
        note=row.note,
        source=SourceRef(sheet.workbook, sheet.sheet, row.row),
    )
