"""Models of the overtime-notice process (超過勤務通知) that cross a boundary.

Hours are kept as whole **minutes** wherever a cap is compared (45 h = 2,700 min), so a
boundary such as "exactly 45:00 is not over 45 hours" is exact, never a float accident.
Names (氏名) live in these models only because the notices and labels must print them;
log lines and problem messages carry staff IDs (職員番号) and post codes (職コード).
"""

from __future__ import annotations

import datetime as dt
import math
from enum import StrEnum
from pathlib import Path
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from civicflow.models import QuarantineRecord, Reason, Severity

#: ``YYYYMM`` as an int (202404): how months travel in DataFrames and models.
YearMonth = int

#: Minato's code structure: 部 2 digits, 課 4 digits (部 + 2), 係 6 digits (課 + 2).
DEPARTMENT_CODE_LENGTH: Final = 2
SECTION_CODE_LENGTH: Final = 4
UNIT_CODE_LENGTH: Final = 6


def ym(year: int, month: int) -> YearMonth:
    """``ym(2024, 4)`` → ``202404``."""
    return year * 100 + month


def ym_index(value: YearMonth) -> int:
    """A month as a running index (months since year 0), for arithmetic on months."""
    return (value // 100) * 12 + value % 100 - 1


def ym_from_index(index: int) -> YearMonth:
    """The inverse of :func:`ym_index`."""
    year, month0 = divmod(index, 12)
    return year * 100 + month0 + 1


def ym_date(value: YearMonth) -> dt.date:
    """The first day of a ``YYYYMM`` month."""
    return dt.date(value // 100, value % 100, 1)


def fiscal_year_start(value: YearMonth, start_month: int = 4) -> YearMonth:
    """The first month of the fiscal year (年度, April–March) a month belongs to."""
    year, month = divmod(value, 100)
    return ym(year if month >= start_month else year - 1, start_month)


def format_minutes(minutes: float) -> str:
    """``2730`` → ``"45:30"``; a fraction of a minute is rounded UP (``80:00.4`` → ``80:01``).

    Rounding up keeps a value that is over a cap from printing as exactly the cap.
    """
    whole = math.ceil(round(minutes, 6))
    sign = "-" if whole < 0 else ""
    hours, rest = divmod(abs(whole), 60)
    return f"{sign}{hours}:{rest:02d}"


# --- the roster (職員名簿・組織) ---------------------------------------------------------------
class PostKind(StrEnum):
    """What kind of head a post (職) is; the label is the 種別 written in the roster."""

    EXECUTIVE = "executive"  # 区長, 副区長
    DEPARTMENT_HEAD = "department_head"  # 部長 (and 支所長, 所長)
    SECTION_HEAD = "section_head"  # 課長 (and 室長): the line head of a 課
    RESPONSIBLE_HEAD = "responsible_head"  # 担当課長: a 課長-level post beside the line 課長

    @property
    def label_ja(self) -> str:
        """The 種別 as printed."""
        return _POST_KIND_LABELS[self]


_POST_KIND_LABELS: Final = {
    PostKind.EXECUTIVE: "区長・副区長",
    PostKind.DEPARTMENT_HEAD: "部長",
    PostKind.SECTION_HEAD: "課長",
    PostKind.RESPONSIBLE_HEAD: "担当課長",
}


class StaffMember(BaseModel):
    """One row of the 職員名簿 sheet."""

    model_config = ConfigDict(frozen=True)

    staff_id: str  # 職員番号, normalised (half-width, no spaces)
    name: str  # 氏名 as written (variants kept)
    kana: str = ""  # フリガナ
    unit_code: str  # 所属コード (係, 6 digits; 課 + "00" for staff directly under a 課)
    department_name: str = ""  # 部
    section_name: str = ""  # 課
    unit_name: str = ""  # 係
    title: str = ""  # 役職 (主事, 主任, 係長, 課長 …)
    concurrent: str = ""  # 兼務 as written (informational; posts come from 組織)
    row: int = 0  # row in the sheet, for problems

    @property
    def section_code(self) -> str:
        """The 課 code: the first four digits of the 所属コード."""
        return self.unit_code[:SECTION_CODE_LENGTH]

    @property
    def department_code(self) -> str:
        """The 部 code: the first two digits of the 所属コード."""
        return self.unit_code[:DEPARTMENT_CODE_LENGTH]

    @property
    def affiliation(self) -> str:
        """部 課 係 as one line, for documents."""
        return " ".join(p for p in (self.department_name, self.section_name, self.unit_name) if p)


class Post(BaseModel):
    """One row of the 組織 sheet: a head's post, who holds it, who acts for it."""

    model_config = ConfigDict(frozen=True)

    post_id: str  # 職コード
    title: str  # 職名, e.g. "健康推進課長", "保健予防担当課長"
    kind: PostKind  # 種別
    department_code: str = ""  # 部コード
    department_name: str = ""
    section_code: str = ""  # 課コード ("" for 部長 and above)
    section_name: str = ""
    covers_units: tuple[str, ...] = ()  # 担当係コード: the 係 a 担当課長 covers; () = the whole 課
    parent_post_id: str | None = None  # 上位職コード: where a vacancy walks up to
    holder_id: str | None = None  # 職員番号 of the holder; None = 欠員 (vacant)
    acting_post_id: str | None = None  # 事務取扱: the post whose holder acts while vacant
    other_directed: bool = False  # 他律的業務の比重が高い部署 (set on the 課長 row)
    building: str = ""  # 庁舎
    floor: str = ""  # 階
    postal_code: str = ""  # 郵便番号 of the building
    address: str = ""  # 所在地 of the building
    row: int = 0

    @property
    def vacant(self) -> bool:
        """Whether nobody holds the post (欠員)."""
        return self.holder_id is None

    @property
    def affiliation(self) -> str:
        """部 課 as one line, for labels."""
        return " ".join(p for p in (self.department_name, self.section_name) if p)


class Roster(BaseModel):
    """The roster workbook: staff by 職員番号 and posts by 職コード (sheet order kept)."""

    staff: dict[str, StaffMember] = Field(default_factory=dict)
    posts: dict[str, Post] = Field(default_factory=dict)
    source: str = ""  # file name

    def other_directed_sections(self) -> frozenset[str]:
        """The 課 codes the 組織 sheet marks 他律的."""
        return frozenset(p.section_code for p in self.posts.values() if p.other_directed)


# --- attendance (勤怠) -------------------------------------------------------------------------
class OvertimeRecord(BaseModel):
    """One month of one staff member's overtime, as the attendance system exports it."""

    model_config = ConfigDict(frozen=True)

    staff_id: str
    year_month: YearMonth  # 202404
    minutes: int = Field(ge=0)
    unit_code: str = ""  # 所属コード that month (a transfer gives two rows in one month)
    source: str = ""
    line: int = 0


# --- limits (上限) ------------------------------------------------------------------------------
class Cap(StrEnum):
    """Which overtime cap a breach is about (人事院規則15-14, copied into municipal rules)."""

    MONTHLY = "monthly"  # normal sections: over 45 h in a month
    SINGLE_MONTH = "single_month"  # every section: 100 h or more in a month
    ROLLING_AVERAGE = "rolling_average"  # 他律的: over 80 h on average over 2–6 months
    ANNUAL = "annual"  # over 360 h (他律的: 720 h) in the fiscal year
    MONTHS_OVER = "months_over"  # 他律的: more than 6 months over 45 h in the fiscal year


#: The order caps are listed in (most serious first).
CAP_ORDER: Final[tuple[Cap, ...]] = (
    Cap.SINGLE_MONTH,
    Cap.ROLLING_AVERAGE,
    Cap.ANNUAL,
    Cap.MONTHS_OVER,
    Cap.MONTHLY,
)


class OvertimeLimits(BaseModel):
    """The caps, in hours; the fiscal year runs April–March.

    Normal sections: over ``monthly_hours`` in a month or over ``annual_hours`` in the
    fiscal year. Sections designated 他律的 (``other_directed_sections``, 課 codes; the
    roster's 他律的 column adds to them): over ``rolling_average_hours`` on average over
    any window of ``rolling_windows`` months ending with the month checked, over
    ``other_directed_annual_hours`` in the year, or more than
    ``other_directed_max_months_over`` months over ``monthly_hours``. Every section:
    ``single_month_hours`` or more in a month ("under 100 h").
    """

    model_config = ConfigDict(frozen=True)

    monthly_hours: float = Field(default=45, gt=0)
    single_month_hours: float = Field(default=100, gt=0)
    rolling_average_hours: float = Field(default=80, gt=0)
    rolling_windows: tuple[int, ...] = (2, 3, 4, 5, 6)
    annual_hours: float = Field(default=360, gt=0)
    other_directed_annual_hours: float = Field(default=720, gt=0)
    other_directed_max_months_over: int = Field(default=6, ge=0)
    other_directed_sections: frozenset[str] = frozenset()
    fiscal_year_start_month: int = Field(default=4, ge=1, le=12)

    @model_validator(mode="after")
    def _windows_are_sane(self) -> OvertimeLimits:
        """Refuse empty, non-positive or over-long windows."""
        if not self.rolling_windows or min(self.rolling_windows) < 1:
            raise ValueError("rolling_windows must be positive month counts")
        if max(self.rolling_windows) > 12:
            raise ValueError("rolling_windows longer than 12 months are not supported")
        return self

    @staticmethod
    def to_minutes(hours: float) -> int:
        """Hours → whole minutes (45 → 2700)."""
        return round(hours * 60)

    def with_sections(self, sections: frozenset[str]) -> OvertimeLimits:
        """A copy with more 他律的 sections (e.g. those the roster marks)."""
        return self.model_copy(
            update={"other_directed_sections": self.other_directed_sections | sections}
        )


class Breach(BaseModel):
    """One cap one staff member is over, with the window it was measured on."""

    model_config = ConfigDict(frozen=True)

    staff_id: str
    cap: Cap
    value: float  # hours (for MONTHS_OVER: the number of months over the monthly cap)
    limit: float  # the cap, same unit
    window_start: dt.date  # first month of the window (the month itself for monthly caps)
    window_end: dt.date
    window_months: int = 1

    @property
    def hours(self) -> float | None:
        """The hours measured (None for MONTHS_OVER, which counts months)."""
        return None if self.cap is Cap.MONTHS_OVER else self.value

    @property
    def label_ja(self) -> str:
        """Short label for documents, e.g. ``月45時間超``, ``3か月平均80時間超``."""
        limit = _num(self.limit)
        match self.cap:
            case Cap.MONTHLY:
                return f"月{limit}時間超"
            case Cap.SINGLE_MONTH:
                return f"月{limit}時間以上"
            case Cap.ROLLING_AVERAGE:
                return f"{self.window_months}か月平均{limit}時間超"
            case Cap.ANNUAL:
                return f"年{limit}時間超"
            case Cap.MONTHS_OVER:
                return f"月の上限超えが年{limit}か月超"
        raise AssertionError(self.cap)  # pragma: no cover

    @property
    def value_text(self) -> str:
        """The measured value as printed (``52:30`` or ``7回``)."""
        if self.cap is Cap.MONTHS_OVER:
            return f"{_num(self.value)}回"
        return format_minutes(self.value * 60)


def _num(value: float) -> str:
    """45.0 → "45", 37.5 → "37.5"."""
    return f"{value:g}"


class StaffOvertime(BaseModel):
    """One staff member over a cap: what the notice prints about them."""

    staff_id: str
    name: str = ""  # "" when the staff member is not in the roster
    unit_code: str = ""
    affiliation: str = ""  # 部 課 係
    section_name: str = ""
    unit_name: str = ""
    title: str = ""
    other_directed: bool = False
    month_minutes: int = 0  # the month checked
    fiscal_year_minutes: int = 0  # 年度累計, April to the month checked
    rolling_average_minutes: dict[int, float] = Field(default_factory=dict)  # window → average
    months_over_monthly: int = 0  # months over the monthly cap in the fiscal year
    breaches: list[Breach] = Field(default_factory=list)

    @property
    def caps(self) -> list[Cap]:
        """The caps exceeded, most serious first."""
        found = {b.cap for b in self.breaches}
        return [c for c in CAP_ORDER if c in found]

    @property
    def month_text(self) -> str:
        """This month's hours as ``h:mm``."""
        return format_minutes(self.month_minutes)

    @property
    def fiscal_year_text(self) -> str:
        """The fiscal year's hours as ``h:mm``."""
        return format_minutes(self.fiscal_year_minutes)


# --- recipients (通知先) ------------------------------------------------------------------------
class RouteKind(StrEnum):
    """How a recipient was reached from the staff member's section."""

    LINE = "line"  # the line 課長 (or 部長 for staff directly under a 部)
    RESPONSIBLE = "responsible"  # a 担当課長 attached to the 課


class Route(BaseModel):
    """One way a staff member reaches a recipient: the posts walked, and why."""

    model_config = ConfigDict(frozen=True)

    kind: RouteKind
    post_path: tuple[str, ...]  # 職コード from the starting post to the holder's post
    recipient_id: str
    description_ja: str  # e.g. "健康推進課長（欠員）→ 健康推進部長"


class Recipient(BaseModel):
    """A person who receives a notice (one notice per person, whatever posts they hold)."""

    model_config = ConfigDict(frozen=True)

    staff_id: str
    name: str
    title: str  # the primary post's 職名 (highest-ranking post held)
    roles: tuple[str, ...] = ()  # every post held, with 事務取扱 shown (…課長事務取扱)
    post_ids: tuple[str, ...] = ()
    department_name: str = ""
    section_name: str = ""
    building: str = ""
    floor: str = ""
    postal_code: str = ""
    address: str = ""

    @property
    def affiliation(self) -> str:
        """部 課 for labels."""
        return " ".join(p for p in (self.department_name, self.section_name) if p)

    @property
    def addressee_title(self) -> str:
        """Every role joined, for the notice's addressee line."""
        return "　兼　".join(self.roles) if self.roles else self.title


class ChainProblemKind(StrEnum):
    """Why a supervisor chain could not be resolved (sent to review)."""

    CYCLE = "cycle"  # vacancies / 事務取扱 that point round in a circle
    MISSING_LINK = "missing-link"  # no head post, or a code pointing to no post
    UNKNOWN_HOLDER = "unknown-holder"  # a post held by a 職員番号 not in the 職員名簿
    NOT_IN_ROSTER = "not-in-roster"  # the staff member over the cap is not in the roster


class ChainProblem(BaseModel):
    """A staff member whose chain of heads could not be followed: a person must decide."""

    model_config = ConfigDict(frozen=True)

    staff_id: str
    kind: ChainProblemKind
    route: RouteKind | None = None
    post_path: tuple[str, ...] = ()
    message_ja: str
    message_en: str


class NoticeEntry(BaseModel):
    """One staff member on one recipient's notice, with the route(s) that led there."""

    staff: StaffOvertime
    routes: list[Route] = Field(default_factory=list)

    @property
    def route_text(self) -> str:
        """Why this recipient receives it, for the check list."""
        return "／".join(r.description_ja for r in self.routes)


class Notice(BaseModel):
    """One 通知文書: a recipient and their staff over a cap."""

    recipient: Recipient
    entries: list[NoticeEntry] = Field(default_factory=list)

    @property
    def staff_ids(self) -> list[str]:
        """The staff IDs listed, in table order."""
        return [e.staff.staff_id for e in self.entries]


class NoticeBatch(BaseModel):
    """The notices of one month, in recipient order (組織 sheet order)."""

    year: int
    month: int
    notices: list[Notice] = Field(default_factory=list)

    @property
    def target(self) -> dt.date:
        """The first day of the month checked."""
        return dt.date(self.year, self.month, 1)


# --- input problems -----------------------------------------------------------------------------
class InputProblem(BaseModel):
    """A problem with one row (or a notice about one file) that did not stop the run."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    message_ja: str
    message_en: str
    source: str = ""  # file name (never a full path with a person's folder in it)
    line: int | None = None  # CSV line or sheet row, 1-based
    staff_id: str | None = None

    def as_reason(self) -> Reason:
        """The problem as the project's common :class:`~civicflow.models.Reason`."""
        return Reason(
            code=self.code,
            severity=self.severity,
            message_ja=self.message_ja,
            message_en=self.message_en,
        )


class OvertimeResult(BaseModel):
    """What :func:`civicflow.overtime.pipeline.prepare_notices` found for one month."""

    year: int
    month: int
    limits: OvertimeLimits  # as applied (with the roster's 他律的 sections)
    staff_count: int = 0  # staff in the roster
    record_count: int = 0  # attendance rows counted
    months_read: list[YearMonth] = Field(default_factory=list)
    breaches: list[StaffOvertime] = Field(default_factory=list)  # staff over a cap
    batch: NoticeBatch
    chain_problems: list[ChainProblem] = Field(default_factory=list)
    problems: list[InputProblem] = Field(default_factory=list)
    quarantined: list[QuarantineRecord] = Field(default_factory=list)

    @property
    def recipients(self) -> list[Recipient]:
        """One per notice, in notice order."""
        return [n.recipient for n in self.batch.notices]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def needs_review(self) -> bool:
        """Whether a person must look at something before the notices go out."""
        return bool(
            self.chain_problems
            or self.quarantined
            or any(p.severity is not Severity.INFO for p in self.problems)
        )


# --- address labels (宛名シール) ----------------------------------------------------------------
A4_WIDTH_MM: Final = 210.0
A4_HEIGHT_MM: Final = 297.0


class LabelLayout(BaseModel):
    """An A4 label sheet: columns × rows of equal labels, margins and gaps in mm.

    Community templates, not a vendor's specification: check one printed sheet against
    the labels in stock and adjust the margins here.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    columns: int = Field(ge=1)
    rows: int = Field(ge=1)
    label_width_mm: float = Field(gt=0)
    label_height_mm: float = Field(gt=0)
    margin_top_mm: float = Field(ge=0)
    margin_left_mm: float = Field(ge=0)
    gap_x_mm: float = Field(default=0, ge=0)
    gap_y_mm: float = Field(default=0, ge=0)
    padding_mm: float = Field(default=4, ge=0)
    font_size_pt: float = Field(default=9, gt=0)
    name_font_size_pt: float = Field(default=12, gt=0)
    outline: bool = False  # draw each label's edge (proofs on plain paper)

    @model_validator(mode="after")
    def _fits_a4(self) -> LabelLayout:
        """Refuse a layout larger than an A4 sheet."""
        width = self.margin_left_mm + self.columns * self.label_width_mm
        width += (self.columns - 1) * self.gap_x_mm
        height = self.margin_top_mm + self.rows * self.label_height_mm
        height += (self.rows - 1) * self.gap_y_mm
        if width > A4_WIDTH_MM + 0.05 or height > A4_HEIGHT_MM + 0.05:
            raise ValueError(
                f"label layout {self.name!r} is {width:.1f} × {height:.1f} mm, larger than A4"
            )
        return self

    @property
    def per_page(self) -> int:
        """Labels on one sheet."""
        return self.columns * self.rows

    def position_mm(self, index: int) -> tuple[float, float]:
        """The top-left corner (x, y) in mm of the ``index``-th label on its sheet.

        Labels fill a sheet row by row, left to right.
        """
        row, col = divmod(index % self.per_page, self.columns)
        x = self.margin_left_mm + col * (self.label_width_mm + self.gap_x_mm)
        y = self.margin_top_mm + row * (self.label_height_mm + self.gap_y_mm)
        return round(x, 3), round(y, 3)


#: 12-up, 2 × 6 labels of 86.4 × 42.3 mm, margins top/bottom 21.5, left/right 18.6, no gaps.
LABEL_12UP: Final = LabelLayout(
    name="A4-12up",
    columns=2,
    rows=6,
    label_width_mm=86.4,
    label_height_mm=42.3,
    margin_top_mm=21.5,
    margin_left_mm=18.6,
)
#: 44-up, 4 × 11 labels of 48.3 × 25.4 mm, margins top/bottom 8.8, left/right 8.4.
LABEL_44UP: Final = LabelLayout(
    name="A4-44up",
    columns=4,
    rows=11,
    label_width_mm=48.3,
    label_height_mm=25.4,
    margin_top_mm=8.8,
    margin_left_mm=8.4,
    padding_mm=1.5,
    font_size_pt=5.5,
    name_font_size_pt=7.5,
)
LABEL_LAYOUTS: Final[dict[str, LabelLayout]] = {
    LABEL_12UP.name: LABEL_12UP,
    LABEL_44UP.name: LABEL_44UP,
}


def quarantine_record(
    process: str, item_ref: str, code: str, message_ja: str, message_en: str, path: Path | None
) -> QuarantineRecord:
    """A :class:`QuarantineRecord` for a whole input file."""
    return QuarantineRecord(
        process=process,
        item_ref=item_ref,
        reason=Reason(
            code=code,
            severity=Severity.QUARANTINE,
            message_ja=message_ja,
            message_en=message_en,
        ),
        path=path,
    )
