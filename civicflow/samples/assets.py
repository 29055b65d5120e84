"""Synthetic property ledgers (財産台帳) with the mess real ones have, and their expected outcome.

:func:`generate_assets` writes one workbook per 部 with one sheet per 所管課, the way staff keep
them: a title and 「（単位：千円）」 above the table, headers spelt differently from sheet to
sheet (資産番号/財産番号, 名称/件名 …), sometimes over two rows under a merged 取得 group,
和暦 text, Excel dates and bare date serials, full-width digits, amounts in 千円 or 円,
小計/合計 rows, ※ notes, blank lines, 説明/記入例 sheets and a hidden list sheet. A few rows
of each kind in :data:`BAD_ROW_KINDS` are wrong, a few names or addresses hold 𠮷 (outside
CP932), and the bad files of :data:`BAD_FILE_KINDS` sit beside the good ones.

Layout under ``out_dir``::

    assets/ledgers/<部>.xlsx     the departments' ledgers (good and bad files together,
                                as they arrive on the share)
    assets/ledgers/<…>.csv       a CSV sent instead of a workbook
    assets/truth.json            what the export should find: counts, codes, row by row

Everything comes from ``random.Random(seed)``; the workbooks are written with fixed ZIP
timestamps and document dates, so the same arguments give byte-identical files. The 耐用年数
and depreciation here are computed independently of :mod:`civicflow.assets` so the truth is
not the code checking itself.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from pydantic import BaseModel

from civicflow.japanese import to_wareki
from civicflow.samples.names import TSUCHIYOSHI
from civicflow.samples.registry import MINATO_TOWN_NAMES, random_date, random_minato_address
from civicflow.samples.xlsx import freeze_xlsx

#: Bad rows: kind → the reason codes the export must give (book_value_mismatch joins
#: depreciation_mismatch where the sheet has a 期末簿価 column).
BAD_ROW_KINDS: dict[str, tuple[str, ...]] = {
    "missing_date": ("missing_value",),
    "invalid_date": ("invalid_date",),
    "negative_amount": ("negative_amount",),
    "unknown_useful_life": ("unknown_useful_life",),
    "depreciation_mismatch": ("depreciation_mismatch",),
    "below_threshold": ("below_capitalisation_threshold",),
    "duplicate_asset_no": ("duplicate_asset_no",),  # both rows of a pair are rejected
}
#: Bad files: kind → the quarantine code the export must give.
BAD_FILE_KINDS: dict[str, str] = {
    "wrong_sheet": "no_ledger_header",
    "missing_column": "missing_column",
    "broken_xlsx": "broken_workbook",
    "csv_as_xlsx": "not_a_workbook_csv",
    "csv_file": "not_a_workbook_csv",
}
#: Below this many rows no bad rows are injected (there is not room for them).
MIN_ROWS_FOR_MESS = 40

WAREKI_FORMAT = '[$-411]ggge"年"m"月"d"日"'
_FIXED_TIME = dt.datetime(2025, 4, 1, 9, 0, 0)  # stamped into every generated workbook
_FULLWIDTH = str.maketrans({**{str(d): chr(0xFF10 + d) for d in range(10)}, "-": "－", ",": "，"})
_FULLWIDTH_ALNUM = str.maketrans(
    {**{chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}, " ": "　"}
)


# --------------------------------------------------------------------------------------------
# What a ward owns
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Kind:
    """A kind of asset: its account, how ledgers spell its 用途, names and cost range."""

    account: str  # canonical 勘定科目
    uses: tuple[tuple[str, int], ...]  # (用途 as ledgers write it, 耐用年数 of the 省令)
    names: tuple[str, ...]  # {town} {n} {facility} are filled in
    cost: tuple[int, int]  # yen, drawn in thousands
    located: bool = True  # has a street address (物品 and 車両 have a place instead)
    since: int = 1965  # earliest year of acquisition
    paired: bool = False  # names[i] goes with uses[i] (a piano is not a copier)


_FACILITIES = (
    "港区役所 本庁舎",
    "芝地区総合支所",
    "麻布地区総合支所",
    "赤坂地区総合支所",
    "高輪地区総合支所",
    "芝浦港南地区総合支所",
    "みなとパーク芝浦",
    "港区スポーツセンター",
)

KINDS: dict[str, _Kind] = {
    "office": _Kind(
        "建物",
        (("鉄筋コンクリート造 事務所", 50), ("RC造 庁舎", 50), ("SRC造 事務所", 50)),
        ("{facility} 庁舎", "{town}区民センター", "{town}いきいきプラザ", "{town}地区防災倉庫"),
        (80_000_000, 4_000_000_000),
    ),
    "school": _Kind(
        "建物",
        (("鉄筋コンクリート造 学校", 47), ("RC造 校舎", 47), ("RC造 体育館", 47)),
        ("港区立{town}小学校 校舎", "港区立{town}中学校 校舎", "港区立{town}小学校 体育館"),
        (200_000_000, 3_000_000_000),
    ),
    "housing": _Kind(
        "建物",
        (("鉄筋コンクリート造 住宅", 47), ("RC造 区営住宅", 47)),
        ("区営{town}住宅 {n}号棟", "区立{town}アパート"),
        (150_000_000, 1_500_000_000),
    ),
    "wooden": _Kind(
        "建物",
        (("木造 集会所", 24), ("木造 事務所", 24)),
        ("{town}児童遊園 管理棟", "{town}集会所", "{town}公園 休憩所"),
        (8_000_000, 60_000_000),
        since=1990,
    ),
    "steel": _Kind(
        "建物",
        (("鉄骨造 事務所", 38), ("S造 体育館", 34)),
        ("{town}清掃作業所 車庫棟", "{town}資源回収拠点", "{town}小学校 屋内運動場"),
        (30_000_000, 400_000_000),
    ),
    "land": _Kind(
        "土地",
        (("", 0),),
        (
            "{facility} 敷地",
            "{town}公園 用地",
            "港区立{town}小学校 敷地",
            "{town}区民センター 敷地",
        ),
        (100_000_000, 9_000_000_000),
    ),
    "road": _Kind(
        "工作物",
        (
            ("舗装道路 アスファルト敷", 10),
            ("アスファルト舗装", 10),
            ("舗装道路 コンクリート敷", 15),
        ),
        ("区道{n}号線 舗装（{town}）", "{town}歩道 舗装改良"),
        (5_000_000, 120_000_000),
        since=1995,
    ),
    "bridge": _Kind(
        "工作物",
        (("橋りょう 鉄筋コンクリート造", 60), ("RC橋", 60)),
        ("{town}橋", "新{town}橋", "{town}歩道橋"),
        (80_000_000, 900_000_000),
    ),
    "park": _Kind(
        "工作物",
        (("公園 遊具", 10), ("遊具", 10), ("緑化施設", 20), ("水泳プール", 30)),
        (
            "{town}公園 遊具（すべり台）",
            "{town}児童遊園 ぶらんこ",
            "{town}公園 植栽",
            "港区立{town}小学校 プール",
        ),
        (2_000_000, 90_000_000),
        since=1995,
    ),
    "vehicle": _Kind(
        "車両",
        (("乗用自動車", 6), ("公用車", 6), ("貨物自動車", 5), ("軽自動車", 4), ("散水車", 5)),
        (
            "公用車（ハイブリッド）",
            "公用車（電気自動車）",
            "資源回収車（小型貨物）",
            "広報車（軽）",
            "散水車",
        ),
        (1_500_000, 12_000_000),
        located=False,
        since=2012,
        paired=True,
    ),
    "goods": _Kind(
        "物品",
        (
            ("複合機", 5),
            ("サーバー", 5),
            ("エアコン", 6),
            ("業務用冷蔵庫", 6),
            ("キャビネット 金属製", 15),
            ("グランドピアノ", 5),
            ("放送設備", 5),
            ("会議テーブル 木製", 8),
        ),
        (
            "デジタル複合機",
            "業務系サーバー装置",
            "業務用エアコン（{facility}）",
            "給食室 業務用冷蔵庫",
            "スチール書庫",
            "グランドピアノ",
            "館内放送設備",
            "会議用大型テーブル",
        ),
        (500_000, 9_000_000),
        located=False,
        since=2010,
        paired=True,
    ),
}

#: How ledgers spell the accounts besides the canonical name.
_ACCOUNT_SPELLINGS: dict[str, tuple[str, ...]] = {
    "土地": ("土地", "用地"),
    "建物": ("建物",),
    "工作物": ("工作物", "構築物"),
    "車両": ("車両", "車両運搬具"),
    "物品": ("物品", "備品", "器具備品"),
}
_ASSET_PREFIX = {"土地": "L", "建物": "B", "工作物": "K", "車両": "V", "物品": "G"}


@dataclass(frozen=True)
class _Section:
    """A 所管課 and the kinds of asset it holds (weights)."""

    name: str
    kinds: tuple[tuple[str, int], ...]
    weight: int


#: 部 → its 課; names follow Minato's organisation loosely, the assets are invented.
DEPARTMENTS: tuple[tuple[str, tuple[_Section, ...]], ...] = (
    (
        "総務部",
        (
            _Section("契約管財課", (("office", 3), ("land", 3), ("goods", 2)), 3),
            _Section("施設課", (("office", 3), ("steel", 1), ("goods", 2)), 2),
            _Section("総務課", (("vehicle", 3), ("goods", 4)), 1),
        ),
    ),
    (
        "街づくり支援部",
        (
            _Section("土木課", (("road", 5), ("bridge", 1), ("park", 3), ("land", 2)), 5),
            _Section("地域交通課", (("vehicle", 2), ("goods", 1), ("road", 1)), 1),
        ),
    ),
    (
        "環境リサイクル支援部",
        (
            _Section("みなとリサイクル清掃事務所", (("steel", 2), ("vehicle", 4), ("goods", 1)), 2),
            _Section("環境課", (("park", 3), ("goods", 1)), 1),
        ),
    ),
    (
        "教育委員会事務局",
        (
            _Section("教育総務課", (("school", 5), ("land", 2), ("park", 1)), 4),
            _Section("学務課", (("goods", 4), ("school", 1)), 2),
        ),
    ),
    (
        "子ども家庭支援部",
        (
            _Section("子ども家庭課", (("wooden", 2), ("goods", 2)), 1),
            _Section("保育課", (("office", 1), ("wooden", 1), ("goods", 2)), 1),
        ),
    ),
    (
        "産業・地域振興支援部",
        (_Section("地域振興課", (("office", 3), ("housing", 2), ("land", 1)), 2),),
    ),
)


# --------------------------------------------------------------------------------------------
# The truth: straight-line depreciation, written here independently of civicflow.assets
# --------------------------------------------------------------------------------------------
def _fiscal_year(day: dt.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def _ledger_depreciation(cost: int, years: int, acquired: dt.date, fiscal_year: int) -> int:
    """減価償却累計額 as the department's own system computes it (定額法, 別表第八 rate)."""
    if years <= 0 or cost <= 1:
        return 0
    rate = Decimal(1000 // years + (1 if 1000 % years else 0)) / 1000
    annual = int(Decimal(cost) * rate)
    counted = max(fiscal_year - _fiscal_year(acquired), 0)
    return min(annual * counted, cost - 1)


def _in_thousands(yen: int) -> int:
    return int((Decimal(yen) / 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --------------------------------------------------------------------------------------------
# Sheets
# --------------------------------------------------------------------------------------------
_LABELS: dict[str, tuple[str, ...]] = {
    "asset_no": ("資産番号", "財産番号", "資産番号", "台帳番号"),
    "account": ("勘定科目", "科目", "勘定科目", "財産区分"),
    "name": ("名称", "件名", "財産の名称", "名称"),
    "use": ("用途", "構造・用途", "種目", "用途"),
    "location": ("所在地", "所在地", "設置場所・所在地", "所在"),
    "acquired_on": ("取得年月日", "取得日", "取得年月日（和暦）", "取得年月日"),
    "cost": ("取得価額", "取得価格", "取得価額", "取得金額"),
    "useful_life": ("耐用年数", "耐用\n年数", "耐用年数（年）", "耐用年数"),
    "accumulated_depreciation": (
        "減価償却累計額",
        "償却累計額",
        "減価償却\n累計額",
        "減価償却累計額",
    ),
    "book_value": ("期末簿価", "帳簿価額", "期末簿価", "年度末簿価"),
    "note": ("備考", "摘要", "備考", "備考"),
}
_ORDERS: tuple[tuple[str, ...], ...] = (
    ("asset_no", "account", "name", "use", "location", "acquired_on", "cost", "useful_life",
     "accumulated_depreciation", "book_value", "note"),
    ("asset_no", "name", "location", "acquired_on", "cost", "useful_life",
     "accumulated_depreciation", "book_value", "account", "use", "note"),
)  # fmt: skip


@dataclass
class _Style:
    """How one 所管課 keeps its sheet."""

    unit: int  # 1 (円) or 1000 (千円)
    unit_in_header: bool  # 取得価額（千円） rather than 「（単位：千円）」 above the table
    two_row_header: bool  # 取得 merged over 年月日 | 価額
    labels: dict[str, str]
    columns: list[str]
    subtotal_in_name: bool


def _draw_style(rng: random.Random) -> _Style:
    spelling = rng.randrange(4)
    labels = {
        key: options[spelling if rng.random() < 0.7 else 0] for key, options in _LABELS.items()
    }
    columns = list(rng.choice(_ORDERS))
    if rng.random() < 0.15:
        columns.remove("useful_life")  # the table supplies it
    if rng.random() < 0.1:
        columns.remove("accumulated_depreciation")  # computed
    return _Style(
        unit=1000 if rng.random() < 0.45 else 1,
        unit_in_header=rng.random() < 0.5,
        two_row_header=rng.random() < 0.4,
        labels=labels,
        columns=columns,
        subtotal_in_name=rng.random() < 0.3,
    )


# --------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------
@dataclass
class _Asset:
    """One asset as the generator knows it (the truth), before the ledger's mess."""

    asset_no: str
    account: str
    use: str
    years: int  # 0 for land
    name: str
    location: str
    acquired: dt.date
    date_style: str
    cost: int
    accumulated: int
    book: int
    note: str = ""
    bad: str = ""  # a BAD_ROW_KINDS key, or "" for a clean row
    codes: tuple[str, ...] = ()
    tsuchiyoshi: str = ""  # the import column that holds 𠮷, if any


@dataclass
class _Truth:
    exported: int = 0
    rejected: int = 0
    rejected_by_code: dict[str, int] = field(default_factory=dict)
    bad_rows: list[dict[str, object]] = field(default_factory=list)
    unencodable: list[dict[str, object]] = field(default_factory=list)
    quarantined: list[dict[str, str]] = field(default_factory=list)
    skipped_sheets: list[str] = field(default_factory=list)


def _asset_name(rng: random.Random, kind: _Kind, pick: int | None = None) -> str:
    pattern = kind.names[pick] if pick is not None else rng.choice(kind.names)
    return pattern.format(
        town=rng.choice(MINATO_TOWN_NAMES),
        n=rng.randint(1, 120),
        facility=rng.choice(_FACILITIES),
    )


def _draw_date_style(rng: random.Random, acquired: dt.date) -> str:
    styles = ("date_wareki", "date", "kanji", "short", "iso", "slash", "fullwidth", "serial")
    style = rng.choices(styles, weights=(30, 10, 20, 8, 8, 8, 6, 5))[0]
    if acquired < dt.date(1989, 1, 1) and rng.random() < 0.15:
        return rng.choice(("year_only", "fiscal_year_only"))
    return style


def _draw_asset(
    rng: random.Random, kind_key: str, serial: int, fiscal_year: int, road_land: bool
) -> _Asset:
    kind = KINDS[kind_key]
    pick = rng.randrange(len(kind.uses))
    use, years = kind.uses[pick]
    end = dt.date(fiscal_year + 1, 3, 31)
    acquired = random_date(rng, dt.date(kind.since, 4, 1), end)
    style = _draw_date_style(rng, acquired)
    if style == "year_only":
        acquired = dt.date(acquired.year, 3, 31)  # the export assumes 31 March of the year
    elif style == "fiscal_year_only":
        acquired = dt.date(_fiscal_year(acquired) + 1, 3, 31)
    low, high = kind.cost
    cost = rng.randint(low // 1000, high // 1000) * 1000
    name = _asset_name(rng, kind, pick if kind.paired else None)
    if kind_key == "land" and road_land and rng.random() < 0.2:
        name, cost = f"区道{rng.randint(1, 300)}号線 道路敷地", 1  # 道路敷地 at ¥1
    location = ""
    if kind.located:
        location = random_minato_address(rng, building_rate=0.0).render(
            rng.choice(("kanji", "hyphen")), prefecture=rng.random() < 0.5
        )
    elif rng.random() < 0.6:
        location = rng.choice(_FACILITIES)
    accumulated = _ledger_depreciation(cost, years, acquired, fiscal_year)
    note = ""
    if rng.random() < 0.08:
        note = rng.choice(("寄附による取得", "R2 外壁改修", "一部供用廃止予定", "リース満了後買取"))
    return _Asset(
        asset_no=f"{_ASSET_PREFIX[kind.account]}-{serial:06d}",
        account=kind.account,
        use=use,
        years=years,
        name=name,
        location=location,
        acquired=acquired,
        date_style=style,
        cost=cost,
        accumulated=accumulated,
        book=cost - accumulated,
        note=note,
    )


def _date_cell(ws: WriteOnlyWorksheet, asset: _Asset) -> object:
    day, style = asset.acquired, asset.date_style
    if style == "date_wareki":
        cell = WriteOnlyCell(ws, value=dt.datetime(day.year, day.month, day.day))
        cell.number_format = WAREKI_FORMAT
        return cell
    if style == "date":
        return day
    if style == "kanji":
        return to_wareki(day)
    if style == "short":
        return to_wareki(day, style="short")
    if style == "iso":
        return day.isoformat()
    if style == "slash":
        return f"{day.year}/{day.month}/{day.day}"
    if style == "fullwidth":
        return to_wareki(day).translate(_FULLWIDTH)
    if style == "serial":
        return (day - dt.date(1899, 12, 30)).days
    if style == "year_only":
        return to_wareki(dt.date(day.year, 6, 30)).split("年")[0] + "年"
    return to_wareki(dt.date(day.year - 1, 6, 30)).split("年")[0] + "年度"


def _amount_cell(rng: random.Random, yen: int, unit: int) -> object:
    value = yen if unit == 1 else _in_thousands(yen)
    roll = rng.random()
    if roll < 0.72:
        return value
    if roll < 0.86:
        return f"{value:,}"
    if roll < 0.96:
        return f"{value:,}".translate(_FULLWIDTH)
    return float(value)


def _life_cell(rng: random.Random, years: int) -> object:
    if years == 0:
        return rng.choice((None, "－", None))
    roll = rng.random()
    if roll < 0.6:
        return years
    if roll < 0.75:
        return str(years).translate(_FULLWIDTH)
    if roll < 0.85:
        return f"{years}年"
    return None  # blank: the export takes it from the table


def _row_values(
    rng: random.Random, ws: WriteOnlyWorksheet, asset: _Asset, style: _Style
) -> list[object]:
    cells: dict[str, object] = {}
    asset_no = asset.asset_no
    if rng.random() < 0.03:
        asset_no = asset_no.translate(_FULLWIDTH_ALNUM)
    cells["asset_no"] = asset_no
    spellings = _ACCOUNT_SPELLINGS[asset.account]
    cells["account"] = spellings[0] if rng.random() < 0.8 else rng.choice(spellings)
    name = asset.name
    roll = rng.random()
    if roll < 0.02 and " " in name:
        name = name.replace(" ", "\n", 1)  # a line break typed in the cell (Alt+Enter)
    elif roll < 0.05:
        name = name.replace(" ", "　")
    cells["name"] = name
    use = asset.use
    if use and rng.random() < 0.05:
        use = use.translate(_FULLWIDTH_ALNUM)
    cells["use"] = use or None
    cells["location"] = asset.location or None
    cells["acquired_on"] = _date_cell(ws, asset)
    cells["cost"] = _amount_cell(rng, asset.cost, style.unit)
    cells["useful_life"] = _life_cell(rng, asset.years)
    if asset.years == 0:
        cells["accumulated_depreciation"] = rng.choice((0, None, "－"))
    elif rng.random() < 0.05:
        cells["accumulated_depreciation"] = None  # left for the export to compute
    else:
        cells["accumulated_depreciation"] = _amount_cell(rng, asset.accumulated, style.unit)
    cells["book_value"] = None if rng.random() < 0.03 else _amount_cell(rng, asset.book, style.unit)
    cells["note"] = asset.note or None
    return [cells[c] for c in style.columns]


def _inject(rng: random.Random, asset: _Asset, kind: str, style: _Style, fiscal_year: int) -> None:
    """Turn a clean asset into a bad row of ``kind`` (the cells are written from it)."""
    asset.bad = kind
    asset.codes = BAD_ROW_KINDS[kind]
    if kind == "missing_date":
        asset.date_style = "blank"
    elif kind == "invalid_date":
        asset.date_style = "invalid"
    elif kind == "negative_amount":
        asset.date_style = "kanji"
        asset.cost = -asset.cost  # written as △1,200
    elif kind == "unknown_useful_life":
        asset.account, asset.use, asset.years = "物品", "ドローン（空撮用）", -1
        asset.name, asset.cost = "災害調査用ドローン", rng.randint(600, 2000) * 1000
        asset.location, asset.accumulated, asset.book = "", 0, asset.cost
    elif kind == "below_threshold":
        asset.account, asset.use, asset.years = "物品", "エアコン", 6
        asset.name, asset.cost = "家庭用エアコン（会議室）", rng.randint(80, 450) * 1000
        asset.location = ""
        asset.acquired = dt.date(fiscal_year - 2, 7, 1)
        asset.date_style = "iso"
        asset.accumulated = _ledger_depreciation(asset.cost, 6, asset.acquired, fiscal_year)
        asset.book = asset.cost - asset.accumulated
    elif kind == "depreciation_mismatch":
        # an asset several years old whose ledger counts too much depreciation
        asset.account, asset.use, asset.years = "建物", "鉄筋コンクリート造 事務所", 50
        asset.name = f"{rng.choice(MINATO_TOWN_NAMES)}区民センター"
        asset.location = asset.location or random_minato_address(rng, building_rate=0.0).render()
        asset.acquired = dt.date(fiscal_year - 20, 6, 1)
        asset.date_style = "iso"
        asset.cost = max(asset.cost, 100_000_000) // 1000 * 1000
        right = _ledger_depreciation(asset.cost, 50, asset.acquired, fiscal_year)
        asset.accumulated = right + asset.cost // 4
        asset.book = asset.cost - asset.accumulated
        # the sheet may keep only 期末簿価: then that is what disagrees
        asset.codes = tuple(
            code
            for column, code in (
                ("accumulated_depreciation", "depreciation_mismatch"),
                ("book_value", "book_value_mismatch"),
            )
            if column in style.columns
        )


def _bad_cells(
    rng: random.Random, ws: WriteOnlyWorksheet, asset: _Asset, style: _Style
) -> list[object]:
    values = _row_values(rng, ws, asset, style)
    where = {c: i for i, c in enumerate(style.columns)}
    if asset.bad == "missing_date":
        values[where["acquired_on"]] = None
    elif asset.bad == "invalid_date":
        values[where["acquired_on"]] = "令和3年2月30日"
    elif asset.bad == "negative_amount":
        shown = -asset.cost if style.unit == 1 else _in_thousands(-asset.cost)
        values[where["cost"]] = f"△{shown:,}"
    elif asset.bad == "unknown_useful_life":
        if "useful_life" in where:
            values[where["useful_life"]] = None
        if "accumulated_depreciation" in where:
            values[where["accumulated_depreciation"]] = None
        values[where["book_value"]] = None
    elif asset.bad == "depreciation_mismatch":
        if "useful_life" in where:
            values[where["useful_life"]] = 50
        values[where["use"]] = "鉄筋コンクリート造 事務所"
        values[where["account"]] = "建物"
        values[where["cost"]] = asset.cost // style.unit
        if "accumulated_depreciation" in where:
            values[where["accumulated_depreciation"]] = asset.accumulated // style.unit
        values[where["book_value"]] = asset.book // style.unit
    return values


# --------------------------------------------------------------------------------------------
# Writing workbooks
# --------------------------------------------------------------------------------------------
_HEADER_FILL = PatternFill(fill_type="solid", start_color="DDEBF7", end_color="DDEBF7")
_HEADER_FONT = Font(bold=True)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _header_cell(ws: WriteOnlyWorksheet, text: str | None) -> Cell:
    cell = WriteOnlyCell(ws, value=text)
    cell.fill = _HEADER_FILL
    cell.font = _HEADER_FONT
    cell.alignment = _CENTER
    return cell


def _letter(col: int) -> str:
    letters = ""
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _merge(ws: WriteOnlyWorksheet, ref: str) -> None:
    # Write-only sheets keep the Worksheet's merged-cell list and write it at close; the
    # stubs do not declare the attribute.
    ws.merged_cells.add(ref)  # type: ignore[attr-defined]


def _write_title(
    ws: WriteOnlyWorksheet, style: _Style, section: str, fiscal_year: int, width: int
) -> int:
    """Title, 所管課 and unit note above the table; returns the rows written."""
    era = to_wareki(dt.date(fiscal_year, 4, 1)).split("年")[0]
    title = WriteOnlyCell(ws, value=f"{era}年度 財産台帳（{section}）")
    title.font = Font(bold=True, size=14)
    ws.append([title])
    _merge(ws, f"A1:{_letter(width)}1")
    unit_note = (
        None
        if style.unit_in_header
        else ("（単位：千円）" if style.unit == 1000 else "（単位：円）")
    )
    ws.append([f"所管課：{section}", *([None] * (width - 2)), unit_note])
    ws.append([])
    return 3


def _write_header(ws: WriteOnlyWorksheet, style: _Style, first_row: int) -> int:
    """The header in one or two rows; returns the rows written."""
    unit_label = "（千円）" if style.unit == 1000 else "（円）"
    labels = []
    for column in style.columns:
        label = style.labels[column]
        if column in ("cost", "accumulated_depreciation", "book_value") and style.unit_in_header:
            label += unit_label
        labels.append(label)
    if not style.two_row_header:
        ws.append([_header_cell(ws, label) for label in labels])
        return 1
    top: list[Cell] = []
    bottom: list[Cell] = []
    date_col = style.columns.index("acquired_on")
    for index, (column, label) in enumerate(zip(style.columns, labels, strict=True)):
        letter = _letter(index + 1)
        if column == "acquired_on":
            top.append(_header_cell(ws, "取得"))
            bottom.append(_header_cell(ws, "年月日"))
            _merge(ws, f"{letter}{first_row}:{_letter(index + 2)}{first_row}")
        elif column == "cost" and index == date_col + 1:
            top.append(_header_cell(ws, None))
            bottom.append(_header_cell(ws, "価額" + (unit_label if style.unit_in_header else "")))
        else:
            top.append(_header_cell(ws, label))
            bottom.append(_header_cell(ws, None))
            _merge(ws, f"{letter}{first_row}:{letter}{first_row + 1}")
    ws.append(top)
    ws.append(bottom)
    return 2


def _save(wb: Workbook, path: Path) -> Path:
    buffer = io.BytesIO()
    wb.save(buffer)
    path.write_bytes(freeze_xlsx(buffer.getvalue(), _FIXED_TIME))
    return path


def _write_instructions(wb: Workbook) -> None:
    ws = wb.create_sheet("説明")
    for line in (
        "財産台帳の記入要領",
        "1. 所管課ごとに1シートとし、シート名は所管課名とします。",
        "2. 取得年月日は和暦で記入してください（例：令和6年4月1日）。",
        "3. 金額は見出しの単位で記入し、マイナスは△を付けます。",
    ):
        ws.append([line])


def _write_example(wb: Workbook) -> None:
    """A 記入例 sheet with a complete example ledger: the export must skip it."""
    ws = wb.create_sheet("記入例")
    ws.append(
        ["資産番号", "名称", "所在地", "取得年月日", "取得価額", "耐用年数", "勘定科目", "用途"]
    )
    ws.append(["B-999999", "（例）港区役所 本庁舎", "東京都港区芝公園1-5-25", "令和元年5月1日", 1_000_000_000, 50, "建物", "鉄筋コンクリート造 事務所"])  # fmt: skip
    ws.append(["G-999999", "（例）デジタル複合機", "", "R6.4.1", 800_000, 5, "物品", "複合機"])


def _write_list_sheet(wb: Workbook) -> None:
    """A hidden sheet holding the drop-down lists, as many ledgers have."""
    ws = wb.create_sheet("リスト")
    ws.sheet_state = "hidden"
    for account in _ACCOUNT_SPELLINGS:
        ws.append([account])


# --------------------------------------------------------------------------------------------
# Bad files
# --------------------------------------------------------------------------------------------
def _good_small_workbook(rng: random.Random, fiscal_year: int, section: str, serial: int) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(section)
    ws.append(
        ["資産番号", "名称", "所在地", "取得年月日", "取得価額", "耐用年数", "勘定科目", "用途"]
    )
    for i in range(5):
        asset = _draw_asset(rng, "office", serial + i, fiscal_year, road_land=False)
        ws.append([asset.asset_no, asset.name, asset.location, to_wareki(asset.acquired), asset.cost, asset.years, "建物", asset.use])  # fmt: skip
    buffer = io.BytesIO()
    wb.save(buffer)
    return freeze_xlsx(buffer.getvalue(), _FIXED_TIME)


def _write_bad_files(
    rng: random.Random, ledger_dir: Path, fiscal_year: int, truth: _Truth
) -> list[Path]:
    written: list[Path] = []
    # a workbook whose only sheet is an inventory list, not a ledger
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("備品一覧")
    ws.append(["品名", "数量", "保管場所", "点検日"])
    for _ in range(8):
        ws.append([rng.choice(("パイプ椅子", "長机", "ホワイトボード")), rng.randint(1, 40), rng.choice(_FACILITIES), "R6.10.1"])  # fmt: skip
    path = _save(wb, ledger_dir / "防災危機管理室.xlsx")
    truth.quarantined.append({"item_ref": f"{path.name}「備品一覧」", "code": "no_ledger_header", "kind": "wrong_sheet"})  # fmt: skip
    written.append(path)

    # a ledger without its 取得価額 column
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("会計課")
    ws.append(["資産番号", "名称", "所在地", "取得年月日", "耐用年数", "勘定科目", "用途"])
    for i in range(6):
        asset = _draw_asset(rng, "goods", 900_000 + i, fiscal_year, road_land=False)
        ws.append([asset.asset_no, asset.name, asset.location, to_wareki(asset.acquired), asset.years, "物品", asset.use])  # fmt: skip
    path = _save(wb, ledger_dir / "会計室.xlsx")
    truth.quarantined.append({"item_ref": f"{path.name}「会計課」", "code": "missing_column", "kind": "missing_column"})  # fmt: skip
    written.append(path)

    # a workbook cut off in transfer
    data = _good_small_workbook(rng, fiscal_year, "区議会事務局", 910_000)
    path = ledger_dir / "区議会事務局.xlsx"
    path.write_bytes(data[: len(data) // 2])
    truth.quarantined.append({"item_ref": path.name, "code": "broken_workbook", "kind": "broken_xlsx"})  # fmt: skip
    written.append(path)

    # a Shift_JIS CSV saved under an .xlsx name
    lines = [
        "資産番号,名称,取得年月日,取得価額",
        "B-920001,みなと保健所 庁舎,平成5年4月1日,850000000",
    ]
    path = ledger_dir / "みなと保健所.xlsx"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
    truth.quarantined.append({"item_ref": path.name, "code": "not_a_workbook_csv", "kind": "csv_as_xlsx"})  # fmt: skip
    written.append(path)

    # a CSV (UTF-8) sent where a workbook was expected
    path = ledger_dir / "選挙管理委員会事務局.csv"
    path.write_bytes(("\r\n".join([*lines[:1], "G-930001,投票箱,R2.4.1,600000"]) + "\r\n").encode("utf-8"))  # fmt: skip
    truth.quarantined.append({"item_ref": path.name, "code": "not_a_workbook_csv", "kind": "csv_file"})  # fmt: skip
    written.append(path)
    return written


# --------------------------------------------------------------------------------------------
# The sample set
# --------------------------------------------------------------------------------------------
class AssetSampleSet(BaseModel):
    """What :func:`generate_assets` wrote, with what the export should find."""

    out_dir: Path
    ledger_dir: Path
    workbooks: list[Path]  # every file in ledger_dir, sorted: good, bad and CSV alike
    good_workbooks: list[Path]  # the 部 workbooks only
    truth_json: Path
    seed: int
    rows: int  # asset rows in the good workbooks (exported + rejected)
    fiscal_year: int
    expected_exported: int
    expected_rejected: int
    rejected_by_code: dict[str, int]  # code → rows rejected with it
    expected_quarantined: list[dict[str, str]]  # item_ref, code, kind
    expected_unencodable: int


def _split_rows(rows: int, weights: Sequence[int]) -> list[int]:
    total = sum(weights)
    counts = [rows * w // total for w in weights]
    for i in range(rows - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


def _plan_bad_rows(
    rng: random.Random, rows: int
) -> tuple[dict[int, str], dict[int, int], set[int]]:
    """Choose which global row indexes are bad, which duplicate which, which hold 𠮷."""
    if rows < MIN_ROWS_FOR_MESS:
        return {}, {}, set()
    per_kind = max(1, min(5, rows // 200))
    kinds = [k for k in BAD_ROW_KINDS if k != "duplicate_asset_no"]
    needed = per_kind * (len(kinds) + 3)
    chosen = rng.sample(range(rows), k=needed)
    bad: dict[int, str] = {}
    for i, kind in enumerate(kinds):
        for index in chosen[i * per_kind : (i + 1) * per_kind]:
            bad[index] = kind
    rest = chosen[len(kinds) * per_kind :]
    pairs = rest[: 2 * per_kind]
    duplicates: dict[int, int] = {}
    for first, second in zip(pairs[0::2], pairs[1::2], strict=True):
        source, copy = min(first, second), max(first, second)
        duplicates[copy] = source
        bad[source] = bad[copy] = "duplicate_asset_no"
    tsuchiyoshi = set(rest[2 * per_kind : 3 * per_kind])
    return bad, duplicates, tsuchiyoshi


def generate_assets(out_dir: Path, *, seed: int, rows: int, fiscal_year: int) -> AssetSampleSet:
    """Write departments' property ledgers with known outcomes, plus bad files.

    ``out_dir/assets`` is replaced.

    Args:
        out_dir: Where to write (created if needed).
        seed: Seed of the one ``random.Random`` everything is drawn from.
        rows: Asset rows across the good workbooks (subtotal, note and blank rows come on
            top). From :data:`MIN_ROWS_FOR_MESS` rows on, 1–5 rows of each bad kind and as
            many 𠮷 rows are mixed in.
        fiscal_year: 会計年度 of the ledgers: assets were acquired up to 31 March of
            ``fiscal_year + 1`` and the ledgers' depreciation is as of that day.

    Returns:
        The paths and the expected counts (also in ``truth.json``).
    """
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows}")
    rng = random.Random(seed)
    base = out_dir / "assets"
    if base.exists():
        shutil.rmtree(base)
    ledger_dir = base / "ledgers"
    ledger_dir.mkdir(parents=True)

    sections = [(dept, s) for dept, secs in DEPARTMENTS for s in secs]
    counts = _split_rows(rows, [s.weight for _, s in sections])
    bad, duplicates, tsuchiyoshi = _plan_bad_rows(rng, rows)
    truth = _Truth()
    assets_by_index: dict[int, _Asset] = {}
    good: list[Path] = []
    index = 0
    section_iter = iter(zip(sections, counts, strict=True))
    for d_index, (dept, secs) in enumerate(DEPARTMENTS):
        wb = Workbook(write_only=True)
        file_name = f"{dept}.xlsx"
        if d_index % 2 == 0:
            _write_instructions(wb)
            truth.skipped_sheets.append(f"{file_name}「説明」")
        for _ in secs:
            (_, section), n_rows = next(section_iter)
            style = _draw_style(rng)
            ws = wb.create_sheet(section.name)
            width = len(style.columns)
            excel_row = _write_title(ws, style, section.name, fiscal_year, width)
            excel_row += _write_header(ws, style, excel_row + 1)
            kinds = [k for k, _ in section.kinds]
            weights = [w for _, w in section.kinds]
            next_subtotal = rng.randint(40, 300)
            subtotal_cost = 0
            for _ in range(n_rows):
                if rng.random() < 0.01:
                    ws.append([])
                    excel_row += 1
                if rng.random() < 0.002:
                    ws.append(["※ 平成30年度に一部改修を実施（改修費は別行）", *([None] * (width - 1))])  # fmt: skip
                    excel_row += 1
                kind = rng.choices(kinds, weights=weights)[0]
                asset = _draw_asset(rng, kind, index + 1, fiscal_year, road_land=style.unit == 1)
                if index in duplicates:
                    asset.asset_no = assets_by_index[duplicates[index]].asset_no
                bad_kind = bad.get(index, "")
                if bad_kind and bad_kind != "duplicate_asset_no":
                    _inject(rng, asset, bad_kind, style, fiscal_year)
                    values = _bad_cells(rng, ws, asset, style)
                else:
                    if bad_kind:
                        asset.bad, asset.codes = bad_kind, BAD_ROW_KINDS[bad_kind]
                    if index in tsuchiyoshi:
                        if asset.location and rng.random() < 0.5:
                            asset.location = asset.location.replace("港区", f"港区{TSUCHIYOSHI}", 1)
                            asset.tsuchiyoshi = "所在地"
                        else:
                            asset.name = f"{TSUCHIYOSHI}祥記念{asset.name}"
                            asset.tsuchiyoshi = "名称"
                    values = _row_values(rng, ws, asset, style)
                ws.append(values)
                excel_row += 1
                assets_by_index[index] = asset
                _record(truth, file_name, section.name, excel_row, asset)
                index += 1
                subtotal_cost += max(asset.cost, 0)
                next_subtotal -= 1
                if next_subtotal == 0:
                    ws.append(_subtotal_row(style, "小計", subtotal_cost))
                    excel_row += 1
                    next_subtotal, subtotal_cost = rng.randint(40, 300), 0
            ws.append(_subtotal_row(style, "合計", subtotal_cost))
            if rng.random() < 0.5:
                ws.append([None, "（以下余白）"])
        if d_index == 1:
            _write_example(wb)
            truth.skipped_sheets.append(f"{file_name}「記入例」")
        if d_index == 2:
            _write_list_sheet(wb)
            truth.skipped_sheets.append(f"{file_name}「リスト」")
        good.append(_save(wb, ledger_dir / file_name))

    bad_files = _write_bad_files(rng, ledger_dir, fiscal_year, truth)
    truth_json = base / "truth.json"
    payload = {
        "seed": seed,
        "rows": rows,
        "fiscal_year": fiscal_year,
        "good_workbooks": [p.name for p in good],
        "bad_files": [p.name for p in bad_files],
        "expected": {
            "exported": truth.exported,
            "rejected": truth.rejected,
            "rejected_by_code": dict(sorted(truth.rejected_by_code.items())),
            "quarantined": truth.quarantined,
            "unencodable": truth.unencodable,
            "skipped_sheets": truth.skipped_sheets,
        },
        "bad_rows": truth.bad_rows,
    }
    truth_json.write_text(
        json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return AssetSampleSet(
        out_dir=out_dir,
        ledger_dir=ledger_dir,
        workbooks=sorted(ledger_dir.iterdir()),
        good_workbooks=good,
        truth_json=truth_json,
        seed=seed,
        rows=rows,
        fiscal_year=fiscal_year,
        expected_exported=truth.exported,
        expected_rejected=truth.rejected,
        rejected_by_code=dict(sorted(truth.rejected_by_code.items())),
        expected_quarantined=truth.quarantined,
        expected_unencodable=len(truth.unencodable),
    )


def _subtotal_row(style: _Style, label: str, cost: int) -> list[object]:
    values: list[object] = [None] * len(style.columns)
    where = "name" if style.subtotal_in_name else "asset_no"
    values[style.columns.index(where)] = label
    values[style.columns.index("cost")] = cost if style.unit == 1 else _in_thousands(cost)
    return values


def _record(truth: _Truth, workbook: str, sheet: str, row: int, asset: _Asset) -> None:
    if asset.codes:
        truth.rejected += 1
        for code in asset.codes:
            truth.rejected_by_code[code] = truth.rejected_by_code.get(code, 0) + 1
        truth.bad_rows.append(
            {
                "workbook": workbook,
                "sheet": sheet,
                "row": row,
                "kind": asset.bad,
                "codes": list(asset.codes),
            }
        )
        return
    truth.exported += 1
    if asset.tsuchiyoshi:
        truth.unencodable.append(
            {
                "workbook": workbook,
                "sheet": sheet,
                "row": row,
                "column": asset.tsuchiyoshi,
                "char": TSUCHIYOSHI,
            }
        )
