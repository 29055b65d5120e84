"""Form definitions (帳票定義): where each handwritten field sits on a paper form.

A form is described in one YAML file, ``data/forms/<id>.yaml``; adding a form means writing
a YAML file, no code. Everything is in millimetres from the top-left corner of the page,
``y`` growing downwards, the way a ruler is laid on the printed sheet. The same geometry
draws the blank form (:mod:`civicflow.forms.render`), fills it in the synthetic scans and
tells the reader where to crop, so the three can never disagree.

A field's ``box`` is its writing area. Comb fields (郵便番号, 電話番号, digits) split the box
into ``comb`` cells, one digit per cell; date fields lay out era check boxes and
year/month/day combs inside the box; checkbox groups lay out one square per option.
:meth:`FieldDefinition.layout` computes these parts once, in millimetres, for every consumer.

Example (a minimal form)::

    id: example
    version: "1"
    title: 見本
    page: {size: A4, width: 210, height: 297, unit: mm}
    registration_marks:
      - {id: tl, x: 10, y: 10, size: 8}
      ...
    fields:
      - {id: name, label: 氏名, type: kanji_name, box: [50, 40, 120, 14]}
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from civicflow.errors import PermanentError

#: Where ``load_form`` looks by default: ``<repo>/data/forms``.
FORMS_DIR = Path(__file__).resolve().parents[2] / "data" / "forms"

MM_PER_INCH = 25.4
PT_TO_MM = MM_PER_INCH / 72.0
#: How far the middle of a CJK glyph's ink sits above the baseline, in ems (IPAexGothic:
#: ideographs span about -0.1 to 0.82 em). Texts are placed by their middle line; both
#: renderers draw from the baseline.
MIDDLE_TO_BASELINE_EM = 0.36

FieldType = Literal[
    "kanji_name",  # 氏名: kanji and kana
    "katakana",  # フリガナ
    "wareki_date",  # a 和暦 date written freely in one box (令和7年6月1日)
    "date_comb",  # era check boxes (or one printed era) + year/month/day digit combs
    "postal_code",  # 郵便番号: 7-cell comb
    "address",  # 住所: free text, optionally after a printed prefix (東京都港区)
    "phone",  # 電話番号: digit comb, no hyphens
    "checkbox",  # one square
    "checkbox_group",  # one square per option; single or multiple choice
    "digits",  # any digit comb (手帳番号 …)
]
FIELD_TYPES: tuple[str, ...] = get_args(FieldType)
#: Types written as one digit per comb cell.
COMB_TYPES = frozenset({"postal_code", "phone", "digits"})
#: Types written as free handwriting in one area.
TEXT_TYPES = frozenset({"kanji_name", "katakana", "address", "wareki_date"})

Charset = Literal["katakana", "hiragana", "kana", "kanji_name", "digits", "address", "any"]
ERAS: tuple[str, ...] = ("明治", "大正", "昭和", "平成", "令和")

_CHARSET_RE: dict[str, re.Pattern[str]] = {
    "katakana": re.compile(r"[\u30a1-\u30fa\u30fc\u30fd\u30fe \u3000]*"),
    "hiragana": re.compile(r"[\u3041-\u3096\u30fc\u309d\u309e \u3000]*"),
    "kana": re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u30fc\u309d\u309e\u30fd\u30fe \u3000]*"),
    # kanji (BMP and the supplementary planes, where 𠮷 lives), kana, 々 〆 ヶ, spaces
    "kanji_name": re.compile(
        r"[\u3005\u3006\u3041-\u3096\u30a1-\u30fa\u30fc\u4e00-\u9fff\uf900-\ufaff"
        r"\U00020000-\U0003134f\ufe00-\ufe0f\U000e0100-\U000e01ef \u3000]*"
    ),
    "digits": re.compile(r"[0-9]*"),
}


class FormDefinitionError(PermanentError):
    """A form definition YAML is missing or wrong: the operator must fix the file."""

    code = "form-definition"


# --- geometry -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rect:
    """A rectangle in millimetres: top-left corner, width and height."""

    x: float
    y: float
    w: float
    h: float

    def __post_init__(self) -> None:
        # Layouts add many small steps: keep coordinates readable (0.1 µm is plenty).
        for name in ("x", "y", "w", "h"):
            object.__setattr__(self, name, round(float(getattr(self, name)), 4))

    @property
    def right(self) -> float:
        """The x of the right edge."""
        return self.x + self.w

    @property
    def bottom(self) -> float:
        """The y of the bottom edge."""
        return self.y + self.h

    @property
    def center(self) -> tuple[float, float]:
        """The centre point."""
        return (self.x + self.w / 2, self.y + self.h / 2)

    def overlaps(self, other: Rect, tolerance: float = 0.01) -> bool:
        """Whether the two share an area (touching edges do not count)."""
        return (
            self.x < other.right - tolerance
            and other.x < self.right - tolerance
            and self.y < other.bottom - tolerance
            and other.y < self.bottom - tolerance
        )

    def inside(self, other: Rect, tolerance: float = 0.01) -> bool:
        """Whether this rectangle lies within ``other``."""
        return (
            self.x >= other.x - tolerance
            and self.y >= other.y - tolerance
            and self.right <= other.right + tolerance
            and self.bottom <= other.bottom + tolerance
        )

    def inset(self, margin: float) -> Rect:
        """The rectangle shrunk by ``margin`` on every side."""
        return Rect(self.x + margin, self.y + margin, self.w - 2 * margin, self.h - 2 * margin)

    def to_px(self, dpi: float) -> tuple[int, int, int, int]:
        """Pixel bounds ``(x0, y0, x1, y1)`` at ``dpi``, ``x1``/``y1`` exclusive.

        The same rounding as the blank PNG, so a crop taken with these bounds on an
        unskewed 200 dpi image is exactly the printed box.
        """
        return (
            mm_to_px(self.x, dpi),
            mm_to_px(self.y, dpi),
            mm_to_px(self.right, dpi),
            mm_to_px(self.bottom, dpi),
        )

    def as_list(self) -> list[float]:
        """``[x, y, w, h]`` as the YAML writes it."""
        return [self.x, self.y, self.w, self.h]


def mm_to_px(value: float, dpi: float) -> int:
    """Millimetres to the nearest pixel edge at ``dpi``."""
    return round(value * dpi / MM_PER_INCH)


def text_width_mm(text: str, size_pt: float) -> float:
    """An estimate of a printed text's width: 1 em for full-width characters, 0.55 otherwise.

    Used only to place the next element after a label; IPAexGothic's full-width glyphs are
    exactly 1 em, so the estimate is exact for Japanese labels.
    """
    ems = sum(1.0 if unicodedata.east_asian_width(c) in "WFA" else 0.55 for c in text)
    return ems * size_pt * PT_TO_MM


def _parse_rect(value: Any) -> Any:
    """Accept ``[x, y, w, h]`` for a :class:`Rect` field."""
    if isinstance(value, list | tuple):
        if len(value) != 4:
            raise ValueError(f"a box is [x, y, w, h] in mm, got {len(value)} numbers")
        x, y, w, h = (float(v) for v in value)
        if w <= 0 or h <= 0:
            raise ValueError(f"a box needs a positive width and height, got w={w} h={h}")
        return Rect(x, y, w, h)
    return value


# --- YAML schema ------------------------------------------------------------------------------
class _Strict(BaseModel):
    """Base of the YAML models: unknown keys are errors (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class PageSpec(_Strict):
    """The paper: size name and dimensions in millimetres."""

    size: str = "A4"
    width: float = Field(default=210.0, gt=0)
    height: float = Field(default=297.0, gt=0)
    unit: Literal["mm"] = "mm"
    orientation: Literal["portrait", "landscape"] = "portrait"

    @property
    def rect(self) -> Rect:
        """The whole page."""
        return Rect(0.0, 0.0, self.width, self.height)


class RegistrationMark(_Strict):
    """A filled square printed near a corner (位置合わせマーク); scans are aligned on them.

    ``x``/``y`` is the top-left corner. Give one mark a different size so a reader can
    tell an upside-down page from an upright one.
    """

    id: str
    x: float
    y: float
    size: float = Field(default=6.0, gt=0)

    @property
    def box(self) -> Rect:
        """The printed square."""
        return Rect(self.x, self.y, self.size, self.size)

    @property
    def center(self) -> tuple[float, float]:
        """The square's centre in mm (what a detector finds)."""
        return self.box.center


class TextItem(_Strict):
    """A printed text: ``y`` is its middle line, ``x`` its left/centre/right per ``align``."""

    text: str
    x: float
    y: float
    size: float = Field(default=10.0, gt=0)  # points
    align: Literal["left", "center", "right"] = "left"


class FrameItem(_Strict):
    """A printed rectangle (table rules, office-use boxes); decoration, may enclose fields."""

    box: Rect
    line: float = Field(default=0.3, ge=0)  # mm; 0 draws no outline
    fill: int | None = Field(default=None, ge=0, le=255)  # grey level, None for no fill

    _box = field_validator("box", mode="before")(_parse_rect)


class Option(_Strict):
    """One choice of a checkbox group: the stored value and the printed label."""

    value: str
    label: str


class Validators(_Strict):
    """Checks on a field's normalised value (what a clerk would type).

    ``charset``: ``katakana``, ``hiragana``, ``kana``, ``kanji_name`` (kanji, kana, 々) and
    ``digits`` are enforced; ``address`` and ``any`` document intent and accept anything.
    ``pattern``: a regular expression the whole value must match. ``range``: ISO dates (or
    ``today``) for dates, numbers for digits.
    """

    charset: Charset | None = None
    pattern: str | None = None
    min_length: int | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=1)
    range: tuple[str, str] | None = None

    @field_validator("range", mode="before")
    @classmethod
    def _range_as_text(cls, value: Any) -> Any:
        """YAML reads 1900-01-01 as a date: keep every bound as text."""
        if isinstance(value, list | tuple):
            return tuple(v.isoformat() if isinstance(v, dt.date) else str(v) for v in value)
        return value

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        """A pattern must be a valid regular expression."""
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(
                    f"pattern {value!r} is not a valid regular expression: {exc}"
                ) from exc
        return value


class ReviewPolicy(_Strict):
    """When a reading of this field goes to a person (確認方針).

    ``always_review``: a person looks at it whatever the confidence (生年月日 decides the
    age requirement); with ``registry_suffices`` a reading the resident registry confirms
    (name, kana and this value all agree with one resident) counts as checked instead. ``critical``: two reviewers must agree (氏名, 生年月日).
    ``min_confidence``: this field's own threshold, instead of the process default.
    """

    always_review: bool = False
    registry_suffices: bool = False
    critical: bool = False
    min_confidence: float | None = Field(default=None, ge=0, le=1)


# --- layout of a field's parts -------------------------------------------------------------
CellKind = Literal["text", "digit", "check"]


@dataclass(frozen=True)
class Cell:
    """One place to read: a text area, one comb cell or one check box.

    ``name`` identifies the part within its field: ``text``, ``0`` … for combs,
    ``year.0`` … for dates, ``era:昭和`` or ``option:age70`` for check boxes.
    """

    name: str
    kind: CellKind
    rect: Rect
    value: str = ""  # the option / era a check box stands for


@dataclass(frozen=True)
class PrintedText:
    """A text the blank form prints inside a field (an option label, 年, 〒, a prefix)."""

    text: str
    x: float
    y: float  # middle line
    size: float  # points
    align: Literal["left", "center", "right"] = "left"


@dataclass(frozen=True)
class FieldLayout:
    """A field's cells to read and the texts printed around them."""

    cells: tuple[Cell, ...]
    printed: tuple[PrintedText, ...]

    def cell(self, name: str) -> Cell:
        """The cell called ``name``."""
        for cell in self.cells:
            if cell.name == name:
                return cell
        raise KeyError(name)

    def group(self, prefix: str) -> list[Cell]:
        """The cells whose name starts with ``prefix`` (``year.``, ``option:``)."""
        return [cell for cell in self.cells if cell.name.startswith(prefix)]


class FieldDefinition(_Strict):
    """One field of a form: where it is, what it holds, how to check and review it."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    type: FieldType
    box: Rect
    label_box: Rect | None = None  # printed label cell; default: left of box, label_width wide
    print_label: bool = True
    required: bool = False
    comb: int | None = Field(default=None, ge=1, le=40)
    separators: tuple[int, ...] = ()  # comb: a printed "-" after these many cells
    eras: tuple[str, ...] = ()  # date_comb: era choices; one era is printed, not ticked
    cell_width: float = Field(default=8.0, gt=0)  # date_comb: width of one digit cell
    options: tuple[Option, ...] = ()
    columns: int | None = Field(default=None, ge=1)  # checkbox_group: default all in a row
    multiple: bool = False  # checkbox_group: several options may be ticked
    check_size: float = Field(default=4.5, gt=0)  # side of a check-box square
    prefix: str = ""  # text printed at the start of the box (〒, 東京都港区)
    lines: int = Field(default=1, ge=1, le=4)  # text fields: lines of handwriting
    note: str = ""  # small text printed after the box (ハイフン不要)
    text_size: float = Field(default=9.0, gt=0)  # points, for labels printed in the box
    validators: Validators = Validators()
    review: ReviewPolicy = ReviewPolicy()

    _rects = field_validator("box", "label_box", mode="before")(_parse_rect)

    @field_validator("eras")
    @classmethod
    def _known_eras(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """Eras are the kanji names of 明治 … 令和."""
        unknown = [era for era in value if era not in ERAS]
        if unknown:
            raise ValueError(f"unknown era {unknown[0]!r}; expected some of {', '.join(ERAS)}")
        return value

    @model_validator(mode="after")
    def _type_needs(self) -> FieldDefinition:
        """Each type's own keys: combs need ``comb``, groups need ``options`` …"""
        if self.type in COMB_TYPES and self.comb is None:
            raise ValueError(f"field {self.id!r}: type {self.type} needs comb: <number of cells>")
        if self.type == "postal_code" and self.comb != 7:
            raise ValueError(f"field {self.id!r}: a postal code has comb: 7, got {self.comb}")
        if self.type not in COMB_TYPES and (self.comb is not None or self.separators):
            raise ValueError(
                f"field {self.id!r}: comb/separators only apply to {sorted(COMB_TYPES)}"
            )
        if self.comb is not None and any(not 0 < s < self.comb for s in self.separators):
            raise ValueError(f"field {self.id!r}: separators must lie between 1 and comb-1")
        if self.type == "checkbox_group" and len(self.options) < 2:
            raise ValueError(f"field {self.id!r}: a checkbox_group needs at least two options")
        if self.type != "checkbox_group" and self.options:
            raise ValueError(f"field {self.id!r}: options only apply to checkbox_group")
        values = [o.value for o in self.options]
        if len(set(values)) != len(values):
            raise ValueError(f"field {self.id!r}: option values must be unique")
        if self.type == "date_comb" and not self.eras:
            raise ValueError(
                f"field {self.id!r}: a date_comb needs eras: [昭和, 平成, 令和] or one printed era"
            )
        if self.type != "date_comb" and self.eras:
            raise ValueError(f"field {self.id!r}: eras only apply to date_comb")
        return self

    # --- derived geometry -------------------------------------------------------------------
    def label_rect(self, label_width: float) -> Rect | None:
        """The printed label cell, or ``None`` when the label is not printed."""
        if not self.print_label:
            return None
        if self.label_box is not None:
            return self.label_box
        return Rect(self.box.x - label_width, self.box.y, label_width, self.box.h)

    @cached_property
    def layout(self) -> FieldLayout:
        """The cells to read and the texts printed inside the box, in mm.

        Raises:
            ValueError: The parts do not fit in the box (reported by the form's validation).
        """
        if self.type in COMB_TYPES:
            layout = self._comb_layout()
        elif self.type == "date_comb":
            layout = self._date_layout()
        elif self.type == "checkbox_group":
            layout = self._group_layout()
        elif self.type == "checkbox":
            square = self._square(self.box.x, self.box.center[1])
            layout = FieldLayout((Cell("check", "check", square, "true"),), ())
        else:
            layout = self._text_layout()
        if not self.note:
            return layout
        note = PrintedText(self.note, self.box.right + 2.0, self.box.center[1], self.text_size - 1)
        return FieldLayout(layout.cells, (*layout.printed, note))

    @property
    def cells(self) -> tuple[Cell, ...]:
        """Shortcut for ``layout.cells``."""
        return self.layout.cells

    def _square(self, x: float, cy: float) -> Rect:
        """A check-box square with its left edge at ``x``, centred on ``cy``."""
        size = min(self.check_size, self.box.h)
        return Rect(x, cy - size / 2, size, size)

    def _text_layout(self) -> FieldLayout:
        if not self.prefix:
            return FieldLayout((Cell("text", "text", self.box),), ())
        # The prefix sits at the top-left; handwriting follows it on the first line.
        pad = 1.5
        width = text_width_mm(self.prefix, self.text_size)
        line_h = self.box.h / self.lines
        printed = PrintedText(
            self.prefix, self.box.x + pad, self.box.y + line_h / 2, self.text_size
        )
        area = Rect(
            self.box.x + pad + width + 1.0, self.box.y, self.box.w - pad - width - 1.0, self.box.h
        )
        if area.w < 10:
            raise ValueError(
                f"field {self.id!r}: the prefix {self.prefix!r} leaves no room to write"
            )
        return FieldLayout((Cell("text", "text", area),), (printed,))

    def _comb_layout(self) -> FieldLayout:
        assert self.comb is not None
        gap = 4.0  # room for a printed "-" between groups
        width = (self.box.w - gap * len(self.separators)) / self.comb
        cells: list[Cell] = []
        printed: list[PrintedText] = []
        x = self.box.x
        for index in range(self.comb):
            if index in self.separators:
                printed.append(
                    PrintedText("－", x + gap / 2, self.box.center[1], self.text_size, "center")
                )
                x += gap
            cells.append(Cell(str(index), "digit", Rect(x, self.box.y, width, self.box.h)))
            x += width
        if self.prefix:
            size = self.text_size + 1
            printed.append(
                PrintedText(self.prefix, self.box.x - 1.0, self.box.center[1], size, "right")
            )
        return FieldLayout(tuple(cells), tuple(printed))

    def _date_layout(self) -> FieldLayout:
        pad = 2.0
        cy = self.box.center[1]
        x = self.box.x + pad
        cells: list[Cell] = []
        printed: list[PrintedText] = []
        if len(self.eras) == 1:
            printed.append(PrintedText(self.eras[0], x, cy, self.text_size + 1))
            x += text_width_mm(self.eras[0], self.text_size + 1) + 2.0
        else:
            for era in self.eras:
                square = self._square(x, cy)
                cells.append(Cell(f"era:{era}", "check", square, era))
                label_x = square.right + 0.8
                printed.append(PrintedText(era, label_x, cy, self.text_size))
                x = label_x + text_width_mm(era, self.text_size) + 2.5
            x += 1.5
        cell_h = self.box.h - 2 * 1.5
        for part, unit in (("year", "年"), ("month", "月"), ("day", "日")):
            for index in range(2):
                cells.append(
                    Cell(
                        f"{part}.{index}",
                        "digit",
                        Rect(x, self.box.y + 1.5, self.cell_width, cell_h),
                    )
                )
                x += self.cell_width
            printed.append(PrintedText(unit, x + 0.8, cy, self.text_size + 1))
            x += 0.8 + text_width_mm(unit, self.text_size + 1) + 1.2
        if x > self.box.right + 0.01:
            raise ValueError(
                f"field {self.id!r}: eras and year/month/day cells need {x - self.box.x:.1f} mm, "
                f"the box is {self.box.w:.1f} mm wide (widen the box or lower cell_width)"
            )
        return FieldLayout(tuple(cells), tuple(printed))

    def _group_layout(self) -> FieldLayout:
        columns = self.columns or len(self.options)
        rows = math.ceil(len(self.options) / columns)
        col_w = self.box.w / columns
        row_h = self.box.h / rows
        if row_h < min(self.check_size, self.box.h):
            raise ValueError(
                f"field {self.id!r}: {rows} rows of options need more than {self.box.h} mm"
            )
        cells: list[Cell] = []
        printed: list[PrintedText] = []
        for index, option in enumerate(self.options):
            row, col = divmod(index, columns)
            x = self.box.x + col * col_w + 2.0
            cy = self.box.y + (row + 0.5) * row_h
            square = self._square(x, cy)
            cells.append(Cell(f"option:{option.value}", "check", square, option.value))
            printed.append(PrintedText(option.label, square.right + 1.2, cy, self.text_size))
            needed = square.right + 1.2 + text_width_mm(option.label, self.text_size)
            if needed > self.box.x + (col + 1) * col_w + 0.01:
                raise ValueError(
                    f"field {self.id!r}: the label {option.label!r} does not fit in its column "
                    f"({col_w:.1f} mm); use fewer columns, a wider box or a smaller text_size"
                )
        return FieldLayout(tuple(cells), tuple(printed))

    # --- checking a value ---------------------------------------------------------------------
    def check_value(self, value: str, *, today: dt.date | None = None) -> list[str]:
        """The validators this normalised value breaks (empty list: all pass).

        Args:
            value: What a clerk would type (ISO for dates, ``105-0011`` for postal codes).
            today: The day ``today`` in a date range stands for (default: the real today).

        Returns:
            Problem codes: ``required``, ``charset``, ``pattern``, ``min_length``,
            ``max_length``, ``range``, ``not_a_date``, ``not_a_number``.
        """
        rules = self.validators
        if value == "":
            return ["required"] if self.required else []
        problems: list[str] = []
        if rules.charset in _CHARSET_RE and not _CHARSET_RE[rules.charset].fullmatch(value):
            problems.append("charset")
        if rules.pattern is not None and re.fullmatch(rules.pattern, value) is None:
            problems.append("pattern")
        if rules.min_length is not None and len(value) < rules.min_length:
            problems.append("min_length")
        if rules.max_length is not None and len(value) > rules.max_length:
            problems.append("max_length")
        if rules.range is not None:
            problems.extend(self._check_range(value, rules.range, today or dt.date.today()))
        return problems

    def _check_range(self, value: str, bounds: tuple[str, str], today: dt.date) -> list[str]:
        if self.type in ("date_comb", "wareki_date"):
            try:
                day = dt.date.fromisoformat(value)
            except ValueError:
                return ["not_a_date"]
            low, high = (today if b == "today" else dt.date.fromisoformat(b) for b in bounds)
            return [] if low <= day <= high else ["range"]
        try:
            number = float(value)
        except ValueError:
            return ["not_a_number"]
        return [] if float(bounds[0]) <= number <= float(bounds[1]) else ["range"]


class FormDefinition(_Strict):
    """A paper form (帳票): page, registration marks, printed texts and fields."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: str
    title: str
    page: PageSpec = PageSpec()
    registration_marks: tuple[RegistrationMark, ...]
    label_width: float = Field(default=30.0, gt=0)  # mm, default width of a label cell
    label_size: float = Field(default=10.0, gt=0)  # points, label text
    title_size: float = Field(default=15.0, gt=0)
    title_y: float = 22.0  # middle line of the title
    texts: tuple[TextItem, ...] = ()
    frames: tuple[FrameItem, ...] = ()
    fields: tuple[FieldDefinition, ...]

    @model_validator(mode="after")
    def _geometry(self) -> FormDefinition:
        """Ids unique, everything on the page, no two fields or labels on top of each other."""
        problems: list[str] = []
        ids = [f.id for f in self.fields]
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            problems.append(f"field id {dup!r} is used twice")
        if len(self.registration_marks) < 3:
            problems.append(
                "a form needs at least three registration marks (four, one per corner, is usual)"
            )
        page = self.page.rect
        placed: list[tuple[str, Rect]] = []
        for mark in self.registration_marks:
            placed.append((f"registration mark {mark.id!r}", mark.box))
        for f in self.fields:
            placed.append((f"field {f.id!r} box", f.box))
            label = f.label_rect(self.label_width)
            if label is not None:
                placed.append((f"field {f.id!r} label", label))
            try:
                f.layout  # noqa: B018 - computing the layout checks that the parts fit
            except ValueError as exc:
                problems.append(str(exc))
        for frame in self.frames:
            if not frame.box.inside(page):
                problems.append(
                    f"frame {frame.box.as_list()} lies off the page ({page.w} x {page.h} mm)"
                )
        for name, rect in placed:
            if not rect.inside(page):
                problems.append(
                    f"{name} {rect.as_list()} lies off the page ({page.w:g} x {page.h:g} mm)"
                )
        for i, (name_a, a) in enumerate(placed):
            for name_b, b in placed[i + 1 :]:
                if a.overlaps(b):
                    problems.append(f"{name_a} {a.as_list()} overlaps {name_b} {b.as_list()}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def field(self, field_id: str) -> FieldDefinition:
        """The field with this id.

        Raises:
            KeyError: No such field.
        """
        for f in self.fields:
            if f.id == field_id:
                return f
        raise KeyError(f"form {self.id!r} has no field {field_id!r}")

    @property
    def size_mm(self) -> tuple[float, float]:
        """Page width and height in mm."""
        return (self.page.width, self.page.height)

    def size_px(self, dpi: float) -> tuple[int, int]:
        """Page width and height in pixels at ``dpi`` (the blank PNG's size)."""
        return (mm_to_px(self.page.width, dpi), mm_to_px(self.page.height, dpi))


# --- loading ----------------------------------------------------------------------------------
def _describe(exc: ValidationError, data: Any) -> list[str]:
    """Readable lines for a pydantic error: ``fields[3] (birth_date).type: …``."""
    lines: list[str] = []
    for error in exc.errors():
        parts: list[str] = []
        node: Any = data
        for key in error["loc"]:
            if isinstance(key, int):
                parts[-1:] = [f"{parts[-1] if parts else ''}[{key}]"]
                node = node[key] if isinstance(node, list) and key < len(node) else None
                if isinstance(node, dict) and "id" in node:
                    parts[-1] += f" ({node['id']})"
            else:
                parts.append(str(key))
                node = node.get(key) if isinstance(node, dict) else None
        where = ".".join(parts) or "form"
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"{where}: {message}")
    return lines


def parse_form(data: Any, *, source: str = "<form>") -> FormDefinition:
    """Validate a form definition already read from YAML.

    Args:
        data: The mapping read from the YAML file.
        source: Where it came from, for the error message.

    Returns:
        The validated definition.

    Raises:
        FormDefinitionError: With one line per problem (field id, key, what is wrong).
    """
    try:
        return FormDefinition.model_validate(data)
    except ValidationError as exc:
        lines = _describe(exc, data)
        raise FormDefinitionError(
            f"帳票定義 {source} に誤りがあります。YAML を修正してください: " + " / ".join(lines),
            f"The form definition {source} is invalid; fix the YAML: " + " / ".join(lines),
        ) from exc


def load_form_file(path: Path) -> FormDefinition:
    """Read and validate one form definition YAML file.

    Args:
        path: The ``.yaml`` file.

    Returns:
        The validated definition.

    Raises:
        FormDefinitionError: The file is missing, is not YAML or does not validate.
    """
    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError:
        stamp = -1
    return _load_form_file(path.resolve(), stamp)


@lru_cache(maxsize=32)
def _load_form_file(path: Path, stamp: int) -> FormDefinition:
    """Parse once per file version (~50 ms of YAML a time; a batch reads one form per page)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FormDefinitionError(
            f"帳票定義ファイル {path} がありません。",
            f"The form definition file {path} does not exist.",
        ) from exc
    except yaml.YAMLError as exc:
        raise FormDefinitionError(
            f"帳票定義 {path.name} は YAML として読めません: {exc}",
            f"The form definition {path.name} is not valid YAML: {exc}",
        ) from exc
    form = parse_form(data, source=path.name)
    if form.id != path.stem:
        raise FormDefinitionError(
            f"帳票定義 {path.name} の id「{form.id}」がファイル名と違います。",
            f"The form definition {path.name} has id {form.id!r}; it must match the file name.",
        )
    return form


def load_form(form_id: str, forms_dir: Path | None = None) -> FormDefinition:
    """Load the form ``<forms_dir>/<form_id>.yaml`` (default folder: ``data/forms``).

    Args:
        form_id: The form's id, e.g. ``"bus_pass"``.
        forms_dir: The folder of form definitions.

    Returns:
        The validated definition.

    Raises:
        FormDefinitionError: No such form, or its YAML is wrong.
    """
    folder = forms_dir or FORMS_DIR
    path = folder / f"{form_id}.yaml"
    if not path.is_file():
        known = ", ".join(list_forms(folder)) or "none"
        raise FormDefinitionError(
            f"帳票定義「{form_id}」が {folder} にありません（登録済み: {known}）。",
            f"No form definition {form_id!r} in {folder} (known forms: {known}).",
        )
    return load_form_file(path)


def list_forms(forms_dir: Path | None = None) -> list[str]:
    """The ids of the forms defined in ``forms_dir`` (default ``data/forms``), sorted."""
    folder = forms_dir or FORMS_DIR
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
