"""Read a handwritten form (手書き帳票の読取): file in, one reading per field out.

The steps, each in its own module::

    load_pages      (images)        PNG/JPEG/TIFF/PDF → greyscale pages
    register_page   (registration)  marks → turn, deskew, warp onto the form at 200 dpi
    cut_fields      (crops)         template dropout, one crop per line / cell / box
    recognise_page  (here)          the engines, batched: one call per engine and page
    interpret_page  (here)          per field type: normalise like a clerk, read boxes
    route_page      (routing)       rules, cross-checks, registry → flags with reasons

Per field type:

* ``kanji_name``, ``katakana``: PP-OCRv6 with the field's character set; a name written
  with a gap between family and given name is read as two halves joined by a space.
* ``address``: PP-OCRv6 per written line after the printed prefix (東京都港区), which is
  added back in front: the value is the whole address a clerk would type.
* ``postal_code``, ``phone``, ``digits``: every cell with ink is read by both engines
  (PP-OCRv6 and EasyOCR, digits only); the cell's digit is PP-OCRv6's (the stronger
  reader of handwritten digits), EasyOCR's vote goes into the confidence and the
  disagreement check.
* ``date_comb``: the era box ticked (or the one era printed) + year/month/day cells →
  ``parse_date`` → ISO date.
* ``checkbox``/``checkbox_group``: ink density (:mod:`civicflow.ocr.checkbox`).

Recognition (the expensive part) is separate from interpretation and routing (cheap), so
the calibration can run the engines once and try many thresholds.

Nothing here crashes a batch on a bad page: every :class:`~civicflow.errors.InputError`
becomes a quarantined :class:`FormReading` with its reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from civicflow.errors import CivicflowError, InputError
from civicflow.forms.definition import FieldDefinition, FormDefinition
from civicflow.japanese import normalize_width, parse_date, to_katakana
from civicflow.models import Reason, Severity
from civicflow.ocr.checkbox import CheckboxThresholds, CheckState, box_confidence, classify_box
from civicflow.ocr.crops import cut_fields
from civicflow.ocr.engine import DIGITS, KANA_CHARS, OcrEngine
from civicflow.ocr.images import GrayImage, PageImage, load_pages
from civicflow.ocr.models import FieldReading, FieldValue, FormReading
from civicflow.ocr.registration import RegisteredPage, register_page
from civicflow.registry import ResidentIndex

if TYPE_CHECKING:  # routing imports this module; only the type is needed here
    from civicflow.ocr.routing import RoutingPolicy

# --- engines -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReaderEngines:
    """The engines a reader uses.

    Attributes:
        text: Reads kanji, kana, addresses and (first opinion) digits: PP-OCRv6.
        digits: A second reader of digit cells (EasyOCR), or None to read with one engine.
    """

    text: OcrEngine
    digits: OcrEngine | None = None


def default_engines(*, second_opinion: bool = True) -> ReaderEngines:
    """The real engines, each loaded once per process.

    Args:
        second_opinion: Also load EasyOCR to check every digit (2–3 s more at start).

    Raises:
        PermanentError: ``ocr_model_missing`` when a model is not installed.
    """
    from civicflow.ocr.rapid_engine import get_rapid_engine

    text = get_rapid_engine()
    if not second_opinion:
        return ReaderEngines(text)
    from civicflow.ocr.easyocr_engine import get_easyocr_engine

    return ReaderEngines(text, get_easyocr_engine())


# --- character sets and clerk's normalisation ----------------------------------------------

#: Characters a name may hold; digits, Latin letters and punctuation are excluded so the
#: model's second choice wins where it hesitated (一 rather than a dash).
_NAME_EXCLUDE = set("0123456789０１２３４５６７８９-‐‑‒–—―−－ー_.,:;!?()[]{}'\"/\\|")
_ADDRESS_EXCLUDE = set("_:;!?()[]{}'\"\\|'`~^*+=<>@#$%&")
#: Chinese forms PP-OCRv6 sometimes returns for a Japanese character (簡体字・繁体字 → 日本).
#: For matching and for the value; the raw text keeps what the engine said.
JAPANESE_FORMS = str.maketrans(
    {
        "东": "東",
        "边": "辺",
        "宫": "宮",
        "泽": "沢",
        "乡": "郷",
        "广": "広",
        "丰": "豊",
        "庆": "慶",
        "龙": "竜",
        "叶": "葉",
        "门": "門",
        "桥": "橋",
        "团": "団",
        "场": "場",
        "冈": "岡",
        "长": "長",
        "贵": "貴",
        "绘": "絵",
        "纪": "紀",
        "荣": "栄",
        "齐": "斉",
        "岛": "島",
        "滨": "浜",
        "泻": "潟",
        "荫": "蔭",
        "巷": "港",
    }
)
_DASHES = "-‐‑‒–—―−－ーｰ一"
_SMALL_YOON = str.maketrans("ャュョ", "ヤユヨ")
_SMALL_VOWEL = str.maketrans("ァィゥェォ", "アイウエオ")
#: Kana a small ャ/ュ/ョ may follow (キャ, シュ, チョ …).
_I_ROW = set("キシチニヒミリギジヂビピ")
#: Kana a small ァ/ィ/ゥ/ェ/ォ may follow (ファ, ティ, シェ, ウィ …).
_VOWEL_HOSTS = set("フヴテデシジチツウトドクグスズ")


def _fold_small_kana(text: str) -> str:
    """Make a small kana large where Japanese spelling does not allow it small.

    Handwriting rarely shows the size of a kana: PP-OCRv6 reads マエダ as マェダ. A small
    ャ/ュ/ョ stays small only after an イ-row kana, a small vowel only after the kana that
    form ファ, ティ, シェ …, and ッ only before a consonant.
    """
    chars = list(text)
    for index, char in enumerate(chars):
        before = chars[index - 1] if index else ""
        after = chars[index + 1] if index + 1 < len(chars) else ""
        if char in "ャュョ" and before not in _I_ROW:
            chars[index] = char.translate(_SMALL_YOON)
        elif char in "ァィゥェォ" and before not in _VOWEL_HOSTS:
            chars[index] = char.translate(_SMALL_VOWEL)
        elif char == "ッ" and (not before or not after or after in "アイウエオンー ヤユヨャュョ"):
            chars[index] = "ツ"
    return "".join(chars)


def normalize_katakana_reading(text: str) -> str:
    """A フリガナ reading as a clerk types it: full-width katakana, one space between names."""
    value = to_katakana(normalize_width(text))
    value = re.sub(r"[\s　]+", " ", value).strip()
    return _fold_small_kana(value)


def normalize_name_reading(text: str) -> str:
    """A 氏名 reading as a clerk types it: Japanese forms, one space between names."""
    value = normalize_width(text).translate(JAPANESE_FORMS)
    value = re.sub(r"[\s　]+", " ", value).strip()
    return value


def normalize_address_reading(prefix: str, lines: Sequence[str]) -> str:
    """An 住所 reading as a clerk types it: the printed prefix, then the written lines.

    Digits and hyphens become half-width, any dash between digits a hyphen, a dash before
    丁目 the kanji 一 it was, and a stray mark at either end of a line is dropped.
    """
    parts: list[str] = []
    for line in lines:
        text = normalize_width(line).translate(JAPANESE_FORMS)
        text = re.sub(r"\s+", "", text)
        text = re.sub(rf"(?<=\d)[{_DASHES}]+(?=\d)", "-", text)
        text = re.sub(rf"[{_DASHES}](?=丁目)", "一", text)
        text = text.strip(".,・-ー_'\"`")
        if text:
            parts.append(text)
    if not parts:
        return ""
    return prefix + " ".join(parts)


def format_postal(digits: str) -> str:
    """``1050011`` → ``105-0011``; anything else is returned as read."""
    return f"{digits[:3]}-{digits[3:]}" if re.fullmatch(r"\d{7}", digits) else digits


def format_phone(digits: str) -> str:
    """Hyphenate a Japanese number the usual way (090-1234-5678, 03-1234-5678, 045-123-4567)."""
    if not re.fullmatch(r"0\d{9,10}", digits):
        return digits
    if len(digits) == 11:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if digits[:2] in ("03", "06"):
        return f"{digits[:2]}-{digits[2:6]}-{digits[6:]}"
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"


# --- recognition ---------------------------------------------------------------------------


@dataclass
class CellResult:
    """What the engines said about one crop (a text line, a half of one, a digit cell)."""

    name: str
    kind: str
    primary: tuple[str, float] = ("", 0.0)
    second: tuple[str, float] | None = None
    ink_px: int = 0
    density: float = 0.0
    label_density: float = 0.0
    value: str = ""  # check boxes: the option or era
    struck: bool = False
    faint: bool = False


@dataclass
class FieldEvidence:
    """Everything the engines and the ink said about one field, before any threshold."""

    field: FieldDefinition
    box: tuple[int, int, int, int]
    cells: list[CellResult] = dataclasses.field(default_factory=list)


@dataclass
class PageEvidence:
    """One page's recognition: registration and the evidence per field."""

    source: str
    page: int
    form_id: str
    registered: RegisteredPage
    fields: dict[str, FieldEvidence]
    timings: dict[str, float]
    #: Digit crops still waiting for the second engine: (field id, cell index, image).
    pending: list[tuple[str, int, GrayImage]] = dataclasses.field(default_factory=list)


def _ink_gaps(image: GrayImage) -> list[tuple[int, int, int]]:
    """Blank column runs between ink, widest first: ``(width, start, stop)``."""
    ink = np.asarray((image < 160).any(axis=0), dtype=bool)
    xs = np.nonzero(ink)[0]
    if xs.size == 0:
        return []
    inside = ink[xs[0] : xs[-1] + 1]
    gaps: list[tuple[int, int, int]] = []
    start: int | None = None
    for offset, has_ink in enumerate(inside):
        if not has_ink and start is None:
            start = offset
        elif has_ink and start is not None:
            gaps.append((offset - start, int(xs[0]) + start, int(xs[0]) + offset))
            start = None
    return sorted(gaps, reverse=True)


def split_at_name_gap(image: GrayImage, *, min_ratio: float = 0.35) -> list[GrayImage]:
    """Split a name line at the gap between family and given name, if there is one.

    The widest blank gap counts when it is at least ``min_ratio`` of the writing's height
    and clearly wider (1.3×) than the next one; otherwise the line stays whole.
    """
    gaps = _ink_gaps(image)
    rows = np.nonzero((image < 160).any(axis=1))[0]
    if not gaps or rows.size == 0:
        return [image]
    height = int(rows[-1] - rows[0] + 1)
    width, start, stop = gaps[0]
    if width < min_ratio * height or (len(gaps) > 1 and width < 1.3 * gaps[1][0]):
        return [image]
    middle = (start + stop) // 2
    return [image[:, :middle], image[:, middle:]]


def _allowlist(f: FieldDefinition, charset: str) -> str | None:
    if f.type == "katakana":
        return KANA_CHARS
    if f.type in ("kanji_name", "address"):
        return _filtered_charset(f.type, charset)
    return None


@lru_cache(maxsize=8)
def _filtered_charset(field_type: str, charset: str) -> str:
    """The model's ~18,000 characters less those a name or an address cannot hold (once)."""
    exclude = _NAME_EXCLUDE if field_type == "kanji_name" else _ADDRESS_EXCLUDE
    return "".join(c for c in charset if c not in exclude)


def recognise_page(
    page: RegisteredPage,
    form: FormDefinition,
    engines: ReaderEngines,
    *,
    source: str = "",
    page_no: int = 1,
    timings: dict[str, float] | None = None,
    second_opinion: bool = True,
) -> PageEvidence:
    """Run the engines over every field of an aligned page (one batch per engine).

    Args:
        page: The aligned page.
        form: Its form.
        engines: The engines to use.
        source: The file's name, for the evidence.
        page_no: The page within the file.
        timings: Seconds per stage so far; ``crop``, ``rapidocr``, ``easyocr`` are added.
        second_opinion: Also read every digit cell with the second engine now; when
            False, :func:`add_second_opinion` does it later for the fields that need it.

    Returns:
        The evidence per field.
    """
    timings = dict(timings or {})
    started = time.perf_counter()
    crops = cut_fields(page, form)
    timings["crop"] = time.perf_counter() - started
    charset = getattr(engines.text, "charset", "")
    evidence: dict[str, FieldEvidence] = {}
    # jobs per allowlist: (field id, cell index) → image
    text_jobs: dict[str | None, list[tuple[str, int, GrayImage]]] = {}
    digit_jobs: list[tuple[str, int, GrayImage]] = []
    for field_id, fc in crops.items():
        f = fc.field
        ev = FieldEvidence(f, fc.box)
        evidence[field_id] = ev
        allow = _allowlist(f, charset)
        for crop in fc.cells:
            if crop.kind == "check":
                ev.cells.append(
                    CellResult(
                        crop.name,
                        "check",
                        density=crop.density,
                        label_density=crop.label_density,
                        value=crop.value,
                    )
                )
                continue
            if crop.image is None:
                ev.cells.append(
                    CellResult(crop.name, crop.kind, ink_px=crop.ink_px, faint=crop.faint)
                )
                continue
            if crop.kind == "digit":
                ev.cells.append(CellResult(crop.name, "digit", ink_px=crop.ink_px))
                digit_jobs.append((field_id, len(ev.cells) - 1, crop.image))
                continue
            parts = (
                split_at_name_gap(crop.image)
                if f.type in ("kanji_name", "katakana")
                else [crop.image]
            )
            for index, part in enumerate(parts):
                name = crop.name if len(parts) == 1 else f"{crop.name}.{index}"
                ev.cells.append(
                    CellResult(
                        name, "text", ink_px=crop.ink_px, struck=crop.struck, faint=crop.faint
                    )
                )
                text_jobs.setdefault(allow, []).append((field_id, len(ev.cells) - 1, part))
    started = time.perf_counter()
    for allow, jobs in text_jobs.items():
        results = engines.text.recognize([image for _, _, image in jobs], allowlist=allow)
        for (field_id, index, _), result in zip(jobs, results, strict=True):
            evidence[field_id].cells[index].primary = result
    if digit_jobs:
        images = [image for _, _, image in digit_jobs]
        results = engines.text.recognize(images, allowlist=DIGITS)
        for (field_id, index, _), result in zip(digit_jobs, results, strict=True):
            evidence[field_id].cells[index].primary = result
    timings["rapidocr"] = time.perf_counter() - started
    timings["easyocr"] = 0.0
    recognised = PageEvidence(source, page_no, form.id, page, evidence, timings, digit_jobs)
    if second_opinion:
        add_second_opinion(recognised, engines)
    return recognised


def add_second_opinion(
    evidence: PageEvidence, engines: ReaderEngines, field_ids: set[str] | None = None
) -> None:
    """Read the digit cells of ``field_ids`` (all when None) with the second engine.

    The reader asks only for fields the registry did not confirm: a confirmed field's
    digits are settled, a second opinion on them would cost time and change nothing.

    Args:
        evidence: A page recognised by the first engine.
        engines: The engines (nothing happens without a second one).
        field_ids: The fields to check.
    """
    jobs = [job for job in evidence.pending if field_ids is None or job[0] in field_ids]
    evidence.pending = [
        job for job in evidence.pending if field_ids is not None and job[0] not in field_ids
    ]
    if not jobs or engines.digits is None:
        return
    started = time.perf_counter()
    results = engines.digits.recognize([image for _, _, image in jobs], allowlist=DIGITS)
    for (field_id, index, _), result in zip(jobs, results, strict=True):
        evidence.fields[field_id].cells[index].second = result
    evidence.timings["easyocr"] = evidence.timings.get("easyocr", 0.0) + (
        time.perf_counter() - started
    )


# --- interpretation ---------------------------------------------------------------------------


@dataclass
class FieldFacts:
    """What the interpretation found that the rules need (not part of the public reading).

    Attributes:
        min_score: The least sure engine score among the field's parts (1.0 for a blank).
        disagreements: Digit cells where the two engines read different digits, with the
            first engine's score for each.
        unreadable: Parts with ink where no engine read anything.
        faint: Ink too faint to read was found in an otherwise blank field.
        struck: A struck-through correction (二重線) was found and left out.
        unsure_boxes: Check boxes in the unsure density band.
        circled: Options chosen by circling the label instead of ticking.
        checked: Check boxes read as ticked (option or era values).
        date_parts: date_comb: (era, year, month, day) as read, for the messages.
        date_error: date_comb: why the date could not be formed ("" when it could).
    """

    min_score: float = 1.0
    disagreements: list[tuple[str, float]] = dataclasses.field(default_factory=list)
    unreadable: list[str] = dataclasses.field(default_factory=list)
    faint: bool = False
    struck: bool = False
    unsure_boxes: list[str] = dataclasses.field(default_factory=list)
    circled: list[str] = dataclasses.field(default_factory=list)
    checked: list[str] = dataclasses.field(default_factory=list)
    date_parts: tuple[str, str, str, str] | None = None
    date_error: str = ""


@dataclass(frozen=True)
class InterpretPolicy:
    """The thresholds interpretation needs (check-box bounds); see :mod:`routing`."""

    empty_max: float = 0.05
    checked_min: float = 0.15
    circled_min: float = 0.15


def _digit_of(text: str) -> str:
    """One digit from an engine's text for a cell ("" when none)."""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", text))
    return digits[:1]


def _cell_confidence(cell: CellResult) -> float:
    """A digit cell's confidence: the first engine's score, raised when the second agrees."""
    first_digit, first_score = _digit_of(cell.primary[0]), cell.primary[1]
    if cell.second is None:
        return first_score
    second_digit, second_score = _digit_of(cell.second[0]), cell.second[1]
    if first_digit and first_digit == second_digit:
        return 1.0 - (1.0 - first_score) * (1.0 - 0.5 * second_score)
    return first_score * (1.0 - 0.5 * second_score)


def _read_digits(cells: Sequence[CellResult], facts: FieldFacts) -> tuple[str, str, float]:
    """The digits of comb cells: value ("?" for unreadable cells), raw, confidence."""
    value: list[str] = []
    raw: list[str] = []
    scores: list[float] = []
    for cell in cells:
        if cell.kind != "digit" or (cell.ink_px == 0 and not cell.primary[0]):
            continue  # an empty cell
        digit = _digit_of(cell.primary[0])
        raw.append(cell.primary[0] or "?")
        if not digit:
            if cell.ink_px:
                facts.unreadable.append(cell.name)
                value.append("?")
                scores.append(0.0)
            continue
        value.append(digit)
        scores.append(_cell_confidence(cell))
        if cell.second is not None:
            other = _digit_of(cell.second[0])
            if other != digit:
                facts.disagreements.append((cell.name, cell.primary[1]))
    confidence = min(scores) if scores else 1.0
    return "".join(value), "".join(raw), confidence


def _boxes(
    ev: FieldEvidence, policy: InterpretPolicy, facts: FieldFacts, prefix: str = ""
) -> tuple[list[str], float, list[str]]:
    """The checked values of a field's check boxes, the confidence, and raw densities."""
    bounds = CheckboxThresholds(policy.empty_max, policy.checked_min, policy.circled_min)
    chosen: list[str] = []
    scores: list[float] = []
    raw: list[str] = []
    for cell in ev.cells:
        if cell.kind != "check" or not cell.name.startswith(prefix):
            continue
        state = classify_box(cell.density, bounds, label_density=cell.label_density)
        raw.append(f"{cell.value}={cell.density:.2f}")
        scores.append(box_confidence(cell.density, bounds))
        if state is CheckState.CHECKED:
            chosen.append(cell.value)
        elif state is CheckState.UNSURE:
            facts.unsure_boxes.append(cell.value)
        elif state is CheckState.CIRCLED:
            chosen.append(cell.value)
            facts.circled.append(cell.value)
    facts.checked.extend(chosen)
    return chosen, (min(scores) if scores else 1.0), raw


def _text_value(f: FieldDefinition, cells: Sequence[CellResult]) -> tuple[str, str]:
    """A text field's value and raw text from its line (or half-line) readings."""
    if f.type == "address":
        lines: dict[str, list[str]] = {}
        for cell in cells:
            line = (
                cell.name.split(".")[0]
                if cell.name == "text"
                else ".".join(cell.name.split(".")[:2])
            )
            lines.setdefault(line, []).append(cell.primary[0])
        texts = ["".join(parts) for parts in lines.values()]
        raw = "\n".join(t for t in texts if t)
        return normalize_address_reading(f.prefix or "", texts), raw
    raw = " ".join(c.primary[0] for c in cells if c.primary[0])
    if f.type == "katakana":
        return normalize_katakana_reading(raw), raw
    if f.type == "kanji_name":
        return normalize_name_reading(raw), raw
    return normalize_width(raw).strip(), raw


def interpret_field(ev: FieldEvidence, policy: InterpretPolicy) -> tuple[FieldReading, FieldFacts]:
    """Turn one field's evidence into the value a clerk would type.

    Args:
        ev: The field's evidence.
        policy: The check-box bounds.

    Returns:
        The reading (no reasons yet) and the facts the rules need.
    """
    f = ev.field
    facts = FieldFacts()
    reading = FieldReading(field_id=f.id, crop_box=ev.box)
    if f.type in ("checkbox", "checkbox_group"):
        chosen, confidence, densities = _boxes(ev, policy, facts)
        reading.engines = ["ink"]
        reading.raw = ",".join(densities)
        reading.confidence = confidence
        box_value: FieldValue
        if f.type == "checkbox":
            box_value = "on" if chosen else ""
        elif f.multiple:
            box_value = chosen
        else:
            box_value = chosen[0] if len(chosen) == 1 else ",".join(chosen)
        reading.value = box_value
        return reading, facts
    if f.type in ("postal_code", "phone", "digits"):
        digits, raw, confidence = _read_digits(ev.cells, facts)
        facts.min_score = confidence
        reading.raw = raw
        reading.confidence = confidence
        reading.engines = _engines_of(ev.cells)
        reading.engine_texts = _engine_texts(ev.cells)
        formatted = {"postal_code": format_postal, "phone": format_phone}.get(f.type)
        reading.value = formatted(digits) if formatted else digits
        facts.faint = any(c.faint for c in ev.cells) and not digits
        return reading, facts
    if f.type == "date_comb":
        return _interpret_date(ev, policy, reading, facts)
    # free text
    text_cells = [c for c in ev.cells if c.kind == "text"]
    read = [c for c in text_cells if c.primary[0]]
    text_value, raw = _text_value(f, read)
    reading.value = text_value
    reading.raw = raw
    scores = [c.primary[1] for c in read]
    reading.confidence = (
        min(scores) if scores else (0.0 if any(c.ink_px for c in text_cells) else 1.0)
    )
    facts.min_score = reading.confidence
    reading.engines = ["rapidocr"] if read else []
    facts.struck = any(c.struck for c in text_cells)
    facts.faint = any(c.faint for c in text_cells)
    # A split half or a second line reading nothing (a stray dot) is not "unreadable";
    # ink with no reading at all is.
    if not read:
        facts.unreadable = [c.name for c in text_cells if c.ink_px and not c.faint]
    return reading, facts


def _engines_of(cells: Sequence[CellResult]) -> list[str]:
    engines: list[str] = []
    if any(c.primary[0] for c in cells if c.kind == "digit"):
        engines.append("rapidocr")
    if any(c.second is not None for c in cells):
        engines.append("easyocr")
    return engines


def _engine_texts(cells: Sequence[CellResult]) -> dict[str, str]:
    digit_cells = [c for c in cells if c.kind == "digit" and (c.primary[0] or c.second)]
    if not digit_cells:
        return {}
    texts = {"rapidocr": "".join(_digit_of(c.primary[0]) or "?" for c in digit_cells)}
    if any(c.second is not None for c in digit_cells):
        texts["easyocr"] = "".join(
            (_digit_of(c.second[0]) or "?") if c.second else "?" for c in digit_cells
        )
    return texts


def _interpret_date(
    ev: FieldEvidence, policy: InterpretPolicy, reading: FieldReading, facts: FieldFacts
) -> tuple[FieldReading, FieldFacts]:
    f = ev.field
    # The era boxes have their own unsure band (checkbox_unsure); the confidence is the
    # digits'.
    eras = [f.eras[0]] if len(f.eras) == 1 else _boxes(ev, policy, facts, prefix="era:")[0]
    parts: dict[str, str] = {}
    scores: list[float] = [1.0]
    for part in ("year", "month", "day"):
        cells = [c for c in ev.cells if c.name.startswith(f"{part}.")]
        digits, _, confidence = _read_digits(cells, facts)
        parts[part] = digits
        if digits:
            scores.append(confidence)
    reading.engines = ["ink", *_engines_of(ev.cells)] if len(f.eras) > 1 else _engines_of(ev.cells)
    reading.engine_texts = _engine_texts(ev.cells)
    reading.confidence = min(scores)
    facts.min_score = reading.confidence
    era = eras[0] if len(eras) == 1 else ""
    facts.date_parts = (",".join(eras), parts["year"], parts["month"], parts["day"])
    raw = f"{'/'.join(eras) or '?'}{parts['year'] or '?'}年{parts['month'] or '?'}月{parts['day'] or '?'}日"
    if not any(parts.values()) and not eras:
        reading.raw = ""
        reading.value = ""
        return reading, facts
    reading.raw = raw
    if len(eras) != 1:
        facts.date_error = "era"
        reading.value = ""
        return reading, facts
    if not all(parts.values()) or "?" in "".join(parts.values()):
        facts.date_error = "incomplete"
        reading.value = ""
        return reading, facts
    try:
        day = parse_date(f"{era}{int(parts['year'])}年{int(parts['month'])}月{int(parts['day'])}日")
    except InputError:
        facts.date_error = "invalid"
        reading.value = ""
        return reading, facts
    reading.value = day.isoformat()
    return reading, facts


def interpret_page(
    evidence: PageEvidence, policy: InterpretPolicy
) -> dict[str, tuple[FieldReading, FieldFacts]]:
    """Interpret every field of a page (cheap: no engine runs)."""
    return {fid: interpret_field(ev, policy) for fid, ev in evidence.fields.items()}


# --- the whole read -------------------------------------------------------------------------------


def _quarantined(
    source: str, page: int, form: FormDefinition | None, error: InputError
) -> FormReading:
    reason = Reason(
        code=error.code,
        severity=Severity.QUARANTINE,
        message_ja=error.message_ja,
        message_en=error.message_en,
    )
    return FormReading(
        source=source,
        page=page,
        form_id=None
        if error.code in ("form_not_recognised", "blank_page")
        else (form.id if form else None),
        quarantine=reason,
    )


def read_form(
    source: Path | bytes,
    form: FormDefinition,
    *,
    engines: ReaderEngines | None = None,
    today: dt.date | None = None,
    registry: ResidentIndex | None = None,
    policy: RoutingPolicy | None = None,
    name: str | None = None,
    review_crops: int = 0,
    pages: Sequence[PageImage] | InputError | None = None,
) -> list[FormReading]:
    """Read every page of a scanned file as ``form``.

    Args:
        source: The scanned file (path or bytes): PNG, JPEG, TIFF or PDF.
        form: The form it should be.
        engines: The engines (default: PP-OCRv6 + EasyOCR, loaded once per process).
        today: The day dates are checked against (default: the real today).
        registry: The resident registry copy, to confirm readings and propose spellings.
        policy: A :class:`~civicflow.ocr.routing.RoutingPolicy` (default: the calibrated
            thresholds in ``data/ocr/calibration.json``).
        name: The file's name for messages (default: the path's name).
        review_crops: When > 0, attach a grey PNG of every flagged field to the reading
            (``FormReading.crops``), scaled down to at most this many pixels wide.
        pages: The file already decoded by :func:`~civicflow.ocr.images.load_pages` (or the
            error it raised), e.g. by a thread that loads the next file during recognition.

    Returns:
        One :class:`FormReading` per page; a page (or a whole file) that cannot be read
        comes back quarantined with its reason, never as an exception.

    Raises:
        PermanentError: An engine's model is missing (the operator must install it).
    """
    from civicflow.ocr.routing import RoutingPolicy

    label = name or (source.name if isinstance(source, Path) else "input")
    started = time.perf_counter()
    if isinstance(pages, InputError):
        return [_quarantined(label, 1, form, pages)]
    if pages is None:
        try:
            pages = load_pages(source, name=label)
        except InputError as exc:
            return [_quarantined(label, 1, form, exc)]
    load_s = time.perf_counter() - started
    engines = engines or default_engines()
    routing = policy or RoutingPolicy.load()
    readings: list[FormReading] = []
    for page in pages:
        try:
            reading = _read_page(
                page,
                form,
                engines,
                routing,
                label,
                load_s / len(pages),
                today,
                registry,
                review_crops,
            )
        except CivicflowError:
            raise  # a missing model or a broken setting: the operator must act
        except Exception as exc:  # a page must never stop the batch
            reading = _quarantined(label, page.page, form, _read_failed(label, page.page, exc))
        readings.append(reading)
    return readings


def _read_failed(label: str, page: int, exc: Exception) -> InputError:
    """An unexpected failure on one page, as a quarantine reason the operator can act on."""
    return InputError(
        f"{label} の {page} ページ目を読み取れませんでした（{type(exc).__name__}）。"
        "スキャンし直してください。繰り返す場合はシステム担当に連絡してください。",
        f"Page {page} of {label} could not be read ({type(exc).__name__}: {exc}). Scan it "
        "again; if it happens again, tell the system administrator.",
        code="read_failed",
    )


def _read_page(
    page: PageImage,
    form: FormDefinition,
    engines: ReaderEngines,
    policy: RoutingPolicy,
    label: str,
    load_s: float,
    today: dt.date | None,
    registry: ResidentIndex | None,
    review_crops: int = 0,
) -> FormReading:
    from civicflow.ocr.routing import fields_to_check, route_page

    if page.image is None:
        assert page.error is not None
        return _quarantined(label, page.page, form, page.error)
    started = time.perf_counter()
    timings = {"load": load_s}
    try:
        registered = register_page(page.image, form)
    except InputError as exc:
        reading = _quarantined(label, page.page, form, exc)
        reading.timings = {**timings, "register": time.perf_counter() - started}
        return reading
    timings["register"] = time.perf_counter() - started
    evidence = recognise_page(
        registered,
        form,
        engines,
        source=label,
        page_no=page.page,
        timings=timings,
        second_opinion=False,
    )
    started = time.perf_counter()
    needed = fields_to_check(evidence, form, policy, registry)
    rules_s = time.perf_counter() - started
    add_second_opinion(evidence, engines, needed)
    started = time.perf_counter()
    reading = route_page(evidence, form, policy, today=today, registry=registry)
    rules_s += time.perf_counter() - started
    reading.timings = {**evidence.timings, "rules": rules_s}
    reading.timings["total"] = sum(reading.timings.values())
    if review_crops:
        reading.crops = {
            f.field_id: field_crop_png(registered.image, f.crop_box, max_width=review_crops)
            for f in reading.fields
            if f.flagged
        }
    return reading


def field_crop_png(
    image: GrayImage, box: tuple[int, int, int, int], *, max_width: int, margin: int = 12
) -> bytes:
    """A field of an aligned page as a small grey PNG, for the reviewer (確認用の切り出し).

    The box grows by ``margin`` pixels so strokes over the line stay visible; the crop is
    scaled down to ``max_width`` and reduced to 16 grey levels, which keeps handwriting
    legible at a few kilobytes (the images travel inside the review form's markdown).
    """
    import cv2

    height, width = image.shape[:2]
    x0, y0, x1, y1 = box
    x0, y0 = max(0, x0 - margin), max(0, y0 - margin)
    x1, y1 = min(width, x1 + margin), min(height, y1 + margin)
    crop = image[y0:y1, x0:x1] if x1 > x0 and y1 > y0 else image[:1, :1]
    if crop.shape[1] > max_width:
        scale = max_width / crop.shape[1]
        size = (max_width, max(1, round(crop.shape[0] * scale)))
        crop = np.asarray(cv2.resize(crop, size, interpolation=cv2.INTER_AREA), np.uint8)
    levels = ((crop // 16) * 17).astype(np.uint8)  # 16 levels: 0, 17, …, 255
    ok, encoded = cv2.imencode(".png", levels, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:  # pragma: no cover - OpenCV encodes any 2-D uint8 array
        return b""
    return encoded.tobytes()


# --- the CLI's JSON -------------------------------------------------------------------------------


def reading_json(
    readings: Sequence[FormReading], *, source: str, form_id: str
) -> dict[str, object]:
    """The CLI's one JSON object for a file's readings.

    Shape::

        {"source", "form_id",
         "pages": [{"page", "decision", "registered", "quarantine", "resident_id",
                    "reasons", "fields": {field_id: {value, raw, confidence, engines,
                                                     flagged, reasons[, proposed]}},
                    "seconds"}],
         "counts": {"pages", "read", "quarantined", "fields", "flagged"}}
    """
    pages: list[dict[str, object]] = []
    flagged = fields = 0
    for reading in readings:
        quarantine = reading.quarantine
        page_fields = {f.field_id: f.summary() for f in reading.fields}
        fields += len(reading.fields)
        flagged += sum(f.flagged for f in reading.fields)
        pages.append(
            {
                "page": reading.page,
                "decision": reading.decision.value,
                "registered": reading.registered,
                "quarantine": None
                if quarantine is None
                else {
                    "code": quarantine.code,
                    "message_ja": quarantine.message_ja,
                    "message_en": quarantine.message_en,
                },
                "resident_id": reading.resident_id,
                "reasons": [
                    {"code": r.code, "message_ja": r.message_ja, "message_en": r.message_en}
                    for r in reading.reasons
                ],
                "fields": page_fields,
                "seconds": round(reading.timings.get("total", 0.0), 3),
            }
        )
    quarantined = sum(r.quarantine is not None for r in readings)
    return {
        "source": source,
        "form_id": form_id,
        "pages": pages,
        "counts": {
            "pages": len(readings),
            "read": len(readings) - quarantined,
            "quarantined": quarantined,
            "fields": fields,
            "flagged": flagged,
        },
    }


def ocr_json(
    path: Path,
    form_id: str,
    *,
    registry_csv: Path | None = None,
    today: dt.date | None = None,
    engines: ReaderEngines | None = None,
) -> str:
    """Read one scanned file and return exactly one JSON object (``civicflow ocr --json``).

    Args:
        path: The scanned file (PNG, JPEG, TIFF or PDF).
        form_id: The form definition to read it as (``bus_pass``).
        registry_csv: The resident registry copy (CSV as ``samples`` writes it), to
            confirm readings and propose spellings; None skips the registry checks.
        today: The day dates are checked against (default: the real today).
        engines: The engines (default: the real ones, loaded once per process).

    Returns:
        The JSON text (UTF-8, Japanese kept as is); see :func:`reading_json`.

    Raises:
        FormDefinitionError: No such form.
        PermanentError: An engine's model is missing.
    """
    import json

    from civicflow.forms.definition import load_form

    form = load_form(form_id)
    registry = None
    if registry_csv is not None:
        from civicflow.samples.registry import read_residents_csv

        registry = ResidentIndex(read_residents_csv(registry_csv))
    readings = read_form(path, form, engines=engines, today=today, registry=registry)
    payload = reading_json(readings, source=path.name, form_id=form.id)
    return json.dumps(payload, ensure_ascii=False, indent=1)
