"""What a reviewer types, made into the value a clerk would enter (確認入力の正規化).

The review form shows every doubtful field as text, prefilled with the machine's
reading. What comes back is normalised the same way the reader normalises its own
output — katakana for furigana, ISO dates (和暦 accepted), ``105-0011``,
``03-1234-5678``, option values for check boxes — so a reviewer may type ``S25.4.3`` or
``ﾔﾏﾀﾞ`` and the pass system still gets one spelling. A value that cannot be understood
is refused with a message, never guessed.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import jaconv

from civicflow.forms.definition import FieldDefinition, FormDefinition
from civicflow.japanese import normalize_kana, normalize_name, phone_digits, try_parse_date
from civicflow.ocr.reader import format_phone, format_postal

#: Field types whose reviewed value needs a second, independent reviewer when critical.
DATE_TYPES = frozenset({"date_comb", "wareki_date"})


class EntryError(ValueError):
    """A reviewer's value that cannot be entered, with messages in Japanese and English."""

    def __init__(self, field: FieldDefinition, message_ja: str, message_en: str) -> None:
        super().__init__(message_en)
        self.field_id = field.id
        self.message_ja = f"【{field.label}】{message_ja}"
        self.message_en = f"{field.id}: {message_en}"


def display_value(value: Any) -> str:
    """A machine reading as review-form text (check boxes as ``age70,shintai``)."""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


def _options(f: FieldDefinition, text: str) -> list[str]:
    by_label = {unicodedata.normalize("NFKC", o.label): o.value for o in f.options}
    known = {o.value for o in f.options}
    chosen: list[str] = []
    for part in re.split(r"[,、，\s]+", unicodedata.normalize("NFKC", text)):
        if not part:
            continue
        value = part if part in known else by_label.get(part)
        if value is None:
            raise EntryError(
                f,
                f"「{part}」は選択肢にありません（{', '.join(sorted(known))}）。",
                f"{part!r} is not an option ({', '.join(sorted(known))}).",
            )
        if value not in chosen:
            chosen.append(value)
    if len(chosen) > 1 and not f.multiple:
        raise EntryError(f, "選択肢は1つだけです。", "only one option may be chosen.")
    return chosen


def normalize_entry(f: FieldDefinition, text: str) -> str | list[str]:
    """The value to enter for what a reviewer typed into field ``f``.

    Raises:
        EntryError: The text is not a value of this field (a date that does not exist,
            letters in a phone number, an unknown option).
    """
    text = text.strip()
    if f.type == "checkbox_group":
        return _options(f, text)
    if not text:
        return ""
    if f.type == "checkbox":
        return (
            "x"
            if unicodedata.normalize("NFKC", text).lower() in ("x", "✓", "レ", "1", "on")
            else ""
        )
    if f.type in DATE_TYPES:
        day = try_parse_date(text)
        if day is None:
            raise EntryError(
                f,
                "日付として読めません（例: 昭和25年4月3日、S25.4.3、1950-04-03）。",
                "not a date (e.g. 1950-04-03 or S25.4.3).",
            )
        return day.isoformat()
    if f.type == "katakana":
        kana = jaconv.hira2kata(unicodedata.normalize("NFKC", text))
        if not re.fullmatch(r"[\u30a0-\u30ff\u3000 ]+", kana):
            raise EntryError(f, "カタカナで入力してください。", "type it in katakana.")
        return re.sub(r"[ \u3000]+", " ", kana)  # one space, as the reader writes it
    if f.type == "postal_code":
        digits = phone_digits(text)
        if len(digits) != 7:
            raise EntryError(f, "郵便番号は7桁です。", "a postal code has 7 digits.")
        return format_postal(digits)
    if f.type == "phone":
        digits = phone_digits(text)
        if not re.fullmatch(r"0\d{9,10}", digits):
            raise EntryError(
                f, "電話番号は0から始まる10桁か11桁です。", "a phone number is 0 + 9 or 10 digits."
            )
        return format_phone(digits)
    if f.type == "digits":
        digits = phone_digits(text)
        if digits != unicodedata.normalize("NFKC", text).replace("-", "").replace(" ", ""):
            raise EntryError(f, "数字だけを入力してください。", "digits only.")
        return digits
    if f.type == "kanji_name":
        return re.sub(r"[ \u3000]+", " ", unicodedata.normalize("NFKC", text).strip())
    return unicodedata.normalize("NFKC", text)


def same_value(f: FieldDefinition, a: Any, b: Any) -> bool:
    """Whether two entries of a field say the same (double-entry comparison, 突合).

    Names compare without spaces and with variant kanji folded; kana by reading;
    everything else exactly after normalisation.
    """
    if f.type == "kanji_name":
        return normalize_name(str(a)) == normalize_name(str(b))
    if f.type == "katakana":
        return normalize_kana(str(a)) == normalize_kana(str(b))
    if isinstance(a, list) or isinstance(b, list):
        return sorted(a or []) == sorted(b or [])
    return bool(a == b)


def field_map(form: FormDefinition) -> dict[str, FieldDefinition]:
    """The form's fields by id."""
    return {f.id: f for f in form.fields}
