"""Japanese text and calendar rules: 和暦 ⇄ ISO, width, kana, variant kanji, business days.

Everything here is a pure function with no Prefect and no I/O, so the matching and document
code across the project can call it freely and the tests run in milliseconds.

Two kinds of output live here and must not be confused:

* **Matching keys** (``normalize_kana``, ``normalize_name``, ``normalize_address``,
  ``fold_variants``): lossy on purpose so that 髙橋 and 高橋 compare equal. Never print them.
* **Document values** (``to_wareki``, ``normalize_postal_code``, ``normalize_phone``): what a
  Japanese office expects to read. Names and addresses on documents keep the original text.
"""

from __future__ import annotations

import calendar
import datetime
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal
from zoneinfo import ZoneInfo

import jpholiday

from civicflow.errors import InputError

__all__ = [
    "add_business_days",
    "add_months",
    "age_on",
    "business_days_between",
    "first_business_day_of_month",
    "fold_variants",
    "is_business_day",
    "is_holiday",
    "next_business_day",
    "normalize_address",
    "normalize_kana",
    "normalize_name",
    "normalize_phone",
    "normalize_postal_code",
    "normalize_width",
    "parse_date",
    "phone_digits",
    "to_fullwidth_kana",
    "to_halfwidth",
    "to_hiragana",
    "to_katakana",
    "to_wareki",
    "town_of",
    "try_parse_date",
    "wareki_year_month",
]

# --------------------------------------------------------------------------------------------
# Eras (元号)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Era:
    """One era: its name, one-letter abbreviation and first day."""

    name: str
    letter: str
    start: datetime.date


# 明治 starts at the proclamation (1868-10-23 in the Gregorian calendar); offices never see
# earlier dates, and the lunar-calendar years before 1873 are out of scope.
_ERAS: Final[tuple[_Era, ...]] = (
    _Era("明治", "M", datetime.date(1868, 10, 23)),
    _Era("大正", "T", datetime.date(1912, 7, 30)),
    _Era("昭和", "S", datetime.date(1926, 12, 25)),
    _Era("平成", "H", datetime.date(1989, 1, 8)),
    _Era("令和", "R", datetime.date(2019, 5, 1)),
)


def _era_tokens() -> dict[str, int]:
    """Map every spelling of an era seen on forms to its index in ``_ERAS``.

    Full name, Latin letter, first kanji, and the single-character ligatures (㍾ ㍽ ㍼ ㍻ ㋿)
    that some fonts and old systems produce.
    """
    tokens: dict[str, int] = {}
    for index, era in enumerate(_ERAS):
        tokens[era.name] = tokens[era.letter] = tokens[era.name[0]] = index
    for ligature, index in (("㍾", 0), ("㍽", 1), ("㍼", 2), ("㍻", 3), ("㋿", 4)):
        tokens[ligature] = index
    return tokens


_ERA_BY_TOKEN: Final = _era_tokens()


def _era_of(d: datetime.date) -> _Era:
    """Return the era a date falls in, or raise InputError before 明治."""
    for era in reversed(_ERAS):
        if d >= era.start:
            return era
    raise InputError(
        f"{d.isoformat()} は明治より前の日付のため和暦にできません。",
        f"{d.isoformat()} is before the Meiji era and cannot be written in wareki.",
        code="invalid_date",
    )


def _era_end(index: int) -> datetime.date | None:
    """Return the last day of the era at ``index`` (None for the current era)."""
    if index + 1 < len(_ERAS):
        return _ERAS[index + 1].start - datetime.timedelta(days=1)
    return None


# --------------------------------------------------------------------------------------------
# Width and kana
# --------------------------------------------------------------------------------------------

# Full-width ASCII block (！..～) and the ideographic space. Kana, 〒, ー, 「」 stay as they are.
_TO_HALFWIDTH: Final = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

_HALFWIDTH_KANA_RUN: Final = re.compile("[\uff61-\uff9f]+")

# Hiragana ぁ..ゖ and the iteration marks ゝゞ sit exactly 0x60 below their katakana.
_HIRA_TO_KATA: Final = {cp: cp + 0x60 for cp in range(0x3041, 0x3097)} | {
    0x309D: 0x30FD,
    0x309E: 0x30FE,
}
_KATA_TO_HIRA: Final = {v: k for k, v in _HIRA_TO_KATA.items()}


def to_halfwidth(s: str) -> str:
    """Turn full-width ASCII digits, letters, symbols and spaces into half-width.

    Kana (full or half width), 〒, ー and other Japanese punctuation are left alone.

    Args:
        s: Any text.

    Returns:
        The text with ``０-９``, ``Ａ-Ｚ``, ``ａ-ｚ``, ``！-～`` and ``　`` made half-width.
    """
    return s.translate(_TO_HALFWIDTH)


def _compose_halfwidth_kana(match: re.Match[str]) -> str:
    # NFKC widens ｶ and composes ｶﾞ into ガ; a voicing mark with nothing to combine with
    # would stay a combining character, so turn it into the spacing ゛/゜ instead.
    widened = unicodedata.normalize("NFKC", match.group(0))
    return widened.replace("\u3099", "゛").replace("\u309a", "゜")


def to_fullwidth_kana(s: str) -> str:
    """Turn half-width katakana (and ｡｢｣､･ｰ) into full-width, composing voiced marks.

    Args:
        s: Any text.

    Returns:
        The text with e.g. ``ﾔﾏﾀﾞ ﾀﾛｳ`` made ``ヤマダ タロウ``; nothing else changes.
    """
    return _HALFWIDTH_KANA_RUN.sub(_compose_halfwidth_kana, s)


def normalize_width(s: str) -> str:
    """Apply both width rules: half-width ASCII and full-width kana.

    NFKC is deliberately not used on the whole text: it would also rewrite ㈱, ①, ㍻ and
    the compatibility kanji, which documents must keep.

    Args:
        s: Any text.

    Returns:
        The text with ASCII half-width and katakana full-width.
    """
    return to_fullwidth_kana(to_halfwidth(s))


def to_katakana(s: str) -> str:
    """Turn hiragana into katakana (ゔ → ヴ, ゝ → ヽ); everything else is kept.

    Args:
        s: Any text.

    Returns:
        The text with hiragana replaced by katakana.
    """
    return s.translate(_HIRA_TO_KATA)


def to_hiragana(s: str) -> str:
    """Turn full-width katakana into hiragana; ヷヸヹヺ, which have no hiragana, are kept.

    Args:
        s: Any text.

    Returns:
        The text with katakana replaced by hiragana.
    """
    return s.translate(_KATA_TO_HIRA)


_KANA_CHARS: Final = "ぁ-ゖゝゞァ-ヺー-ヾ"
_DASHES: Final = "\\-‐‑‒–—―−"
_KANA_DASH_RUN: Final = re.compile(f"(?<=[{_KANA_CHARS}])[{_DASHES}]+")
_MIDDLE_DOTS: Final = re.compile("[・·‧]")
_WHITESPACE: Final = re.compile(r"\s+")


def normalize_kana(s: str) -> str:
    """Make a matching key from a furigana (フリガナ) reading.

    Width-normalised, hiragana made katakana, every space and middle dot removed, and a dash
    typed after a kana (ｰ, -, ‐, －, —, ―) read as the long-vowel mark ー. ヴ is kept as ヴ
    (not folded to ブ) and small kana stay small.

    Args:
        s: A reading as typed or OCR'd, e.g. ``"ﾔﾏﾀﾞ　ﾀﾛｰ"`` or ``"やまだ たろう"``.

    Returns:
        The key, e.g. ``"ヤマダタロー"``. Never print it on a document.
    """
    t = to_katakana(normalize_width(s))
    t = _WHITESPACE.sub("", _MIDDLE_DOTS.sub("", t))
    return _KANA_DASH_RUN.sub(lambda m: "ー" * len(m.group(0)), t)


# --------------------------------------------------------------------------------------------
# Variant kanji (異体字)
# --------------------------------------------------------------------------------------------

# Old or variant forms → the common form. For MATCHING ONLY: a resident's 髙 stays 髙 on
# every document. 龍 → 竜 is debatable (both are common in names and people care which);
# it is folded here because a mismatch only sends the case to a reviewer, who sees both.
_VARIANTS: Final = str.maketrans(
    {
        "髙": "高",
        "\ufa11": "崎",  # 﨑: a compatibility-block ideograph that NFKC leaves alone
        "嵜": "崎",
        "邉": "辺",
        "邊": "辺",
        "濵": "浜",
        "濱": "浜",
        "德": "徳",
        "櫻": "桜",
        "齋": "斎",
        "齊": "斉",
        "廣": "広",
        "澤": "沢",
        "圓": "円",
        "藏": "蔵",
        "國": "国",
        "眞": "真",
        "髮": "髪",
        "\U00020bb7": "吉",  # 𠮷 (つちよし), outside CP932
        "檜": "桧",
        "冨": "富",
        "惠": "恵",
        "榮": "栄",
        "壽": "寿",
        "實": "実",
        "學": "学",
        "龍": "竜",
        "淵": "渕",
        "曾": "曽",
        "條": "条",
        "瀨": "瀬",
        "槇": "槙",
        "嶋": "島",
        "嶌": "島",
        "峯": "峰",
        "栁": "柳",
        "ヶ": "ケ",
    }
)


def _is_variation_selector(cp: int) -> bool:
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


def _is_compatibility_ideograph(cp: int) -> bool:
    return 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F


def fold_variants(s: str) -> str:
    """Fold old and variant kanji to their common form, for matching only.

    Folds the table above (髙→高, 﨑/嵜→崎, 邉/邊→辺, 濵/濱→浜, 齋→斎, 𠮷→吉, 龍→竜 …), maps
    CJK compatibility ideographs (e.g. U+F9DC 隆) through NFKC, and drops ideographic
    variation selectors (IVS). Documents must keep the original text; use this for keys.

    Args:
        s: Any text.

    Returns:
        The text with variant kanji folded.
    """
    chars: list[str] = []
    for ch in s:
        cp = ord(ch)
        if _is_variation_selector(cp):
            continue
        if _is_compatibility_ideograph(cp):
            ch = unicodedata.normalize("NFKC", ch)
        chars.append(ch)
    return "".join(chars).translate(_VARIANTS)


def normalize_name(s: str) -> str:
    """Make a matching key from a kanji name: width-normalised, variants folded, no spaces.

    Args:
        s: A name as written, e.g. ``"髙橋　一郎"``.

    Returns:
        The key, e.g. ``"高橋一郎"``. Never print it on a document.
    """
    return _WHITESPACE.sub("", fold_variants(normalize_width(s)))


# --------------------------------------------------------------------------------------------
# Kanji numerals (漢数字)
# --------------------------------------------------------------------------------------------

_KANJI_DIGITS: Final = {
    "〇": 0,
    "○": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_KANJI_UNITS: Final = {"十": 10, "百": 100, "千": 1000}
_KANJI_NUMERAL_CLASS: Final = "〇○零一二三四五六七八九十百千"


def _kanji_to_int(s: str) -> int:
    """Read a kanji numeral: 三十一 → 31, 十二 → 12, 二〇二四 → 2024 (positional)."""
    if not any(ch in _KANJI_UNITS for ch in s):
        return int("".join(str(_KANJI_DIGITS[ch]) for ch in s))
    total = 0
    digit: int | None = None
    for ch in s:
        if ch in _KANJI_UNITS:
            total += (1 if digit is None else digit) * _KANJI_UNITS[ch]
            digit = None
        else:
            digit = _KANJI_DIGITS[ch]
    return total + (digit or 0)


def _replace_kanji_numeral(match: re.Match[str]) -> str:
    return str(_kanji_to_int(match.group(0)))


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------

_ERA_TOKEN: Final = "|".join(sorted(_ERA_BY_TOKEN, key=len, reverse=True))
_DATE_NUMERALS: Final = re.compile(f"[{_KANJI_NUMERAL_CLASS}]+")
_WEEKDAY_SUFFIX: Final = re.compile(r"\(([月火水木金土日])(?:曜日?)?\)$")
_TIME_SUFFIX: Final = re.compile(
    r"(?:T|\s+)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$"
)
_WESTERN_PATTERNS: Final = (
    re.compile(r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
    re.compile(r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日"),
)
_WAREKI_PATTERNS: Final = (
    re.compile(
        rf"(?P<era>{_ERA_TOKEN})(?P<y>元|\d{{1,2}})(?P<sep>[-/.])(?P<m>\d{{1,2}})(?P=sep)(?P<d>\d{{1,2}})"
    ),
    re.compile(rf"(?P<era>{_ERA_TOKEN})(?P<y>元|\d{{1,2}})年(?P<m>\d{{1,2}})月(?P<d>\d{{1,2}})日"),
)
_WEEKDAYS: Final = "月火水木金土日"


def _invalid_date(text: str, reason_ja: str = "", reason_en: str = "") -> InputError:
    ja = f"「{text}」は日付として読めません" + (f"（{reason_ja}）" if reason_ja else "")
    en = f"{text!r} is not a valid date" + (f" ({reason_en})" if reason_en else "")
    return InputError(
        ja + "。原本を確認して正しい日付を入力してください。",
        en + ". Check the original and enter the correct date.",
        code="invalid_date",
    )


def _make_date(text: str, year: int, month: int, day: int) -> datetime.date:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise _invalid_date(
            text,
            f"{year}年{month}月{day}日は暦にありません",
            f"{year}-{month:02d}-{day:02d} does not exist in the calendar",
        ) from None


def _wareki_date(text: str, match: re.Match[str]) -> datetime.date:
    index = _ERA_BY_TOKEN[match["era"]]
    era = _ERAS[index]
    era_year = 1 if match["y"] == "元" else int(match["y"])
    if era_year < 1:
        raise _invalid_date(text, f"{era.name}0年はありません", f"there is no year 0 of {era.name}")
    d = _make_date(text, era.start.year + era_year - 1, int(match["m"]), int(match["d"]))
    end = _era_end(index)
    if d < era.start or (end is not None and d > end):
        span_ja = f"{to_wareki(era.start)}から" + (f"{to_wareki(end)}まで" if end else "")
        span_en = f"from {era.start.isoformat()}" + (f" to {end.isoformat()}" if end else "")
        raise _invalid_date(text, f"{era.name}は{span_ja}です", f"{era.name} runs {span_en}")
    return d


def parse_date(text: str) -> datetime.date:
    """Read a date written in ISO, Western Japanese or 和暦 form.

    Accepts ``2024-04-01``, ``2024/4/1``, ``2024.4.1``, ``20240401``, ``2024年4月1日``,
    ``令和6年4月1日``, ``令和元年5月1日``, ``令和六年四月一日``, ``R6.4.1``, ``R06.04.01``,
    ``H31/4/30``, ``令6.4.1`` and the ligatures ㋿/㍻/㍼/㍽/㍾, in full or half width, with
    any spaces. A trailing weekday such as ``(月)`` is checked against the date, and a
    trailing time (``2024/04/01 0:00:00`` from a spreadsheet export) is ignored.

    Era boundaries are enforced: 平成31年5月1日, 令和元年4月30日 and 平成32年 do not exist.

    Args:
        text: The date as written on the form or in the export.

    Returns:
        The date.

    Raises:
        InputError: code ``invalid_date`` when the text is blank, not a date, outside its
            era, or not a real calendar day; the message names the text.
    """
    t = to_halfwidth(text).strip()
    t = _TIME_SUFFIX.sub("", t)
    t = _WHITESPACE.sub("", t).upper()
    if not t:
        raise _invalid_date(text, "空欄です", "it is blank")
    weekday = _WEEKDAY_SUFFIX.search(t)
    if weekday:
        t = t[: weekday.start()]
    t = _DATE_NUMERALS.sub(_replace_kanji_numeral, t)

    d: datetime.date | None = None
    for pattern in _WAREKI_PATTERNS:
        if m := pattern.fullmatch(t):
            d = _wareki_date(text, m)
            break
    else:
        for pattern in _WESTERN_PATTERNS:
            if m := pattern.fullmatch(t):
                d = _make_date(text, int(m["y"]), int(m["m"]), int(m["d"]))
                break
    if d is None:
        raise _invalid_date(text)
    if weekday and _WEEKDAYS[d.weekday()] != weekday.group(1):
        raise _invalid_date(
            text,
            f"{d.isoformat()}は{_WEEKDAYS[d.weekday()]}曜日です",
            f"{d.isoformat()} is a {d.strftime('%A')}",
        )
    return d


def try_parse_date(text: str) -> datetime.date | None:
    """Read a date like ``parse_date``, returning None for blank or invalid text.

    Args:
        text: The date as written.

    Returns:
        The date, or None.
    """
    try:
        return parse_date(text)
    except InputError:
        return None


def to_wareki(d: datetime.date, *, style: Literal["kanji", "short"] = "kanji") -> str:
    """Write a date in 和暦 for documents.

    Args:
        d: The date (on or after 1868-10-23).
        style: ``"kanji"`` for ``令和6年4月1日`` (year 1 as ``令和元年``), ``"short"`` for
            ``R6.4.1``.

    Returns:
        The 和暦 text.

    Raises:
        InputError: code ``invalid_date`` for a date before 明治.
    """
    era = _era_of(d)
    year = d.year - era.start.year + 1
    if style == "short":
        return f"{era.letter}{year}.{d.month}.{d.day}"
    return f"{era.name}{_wareki_year(year)}年{d.month}月{d.day}日"


def _wareki_year(year: int) -> str:
    return "元" if year == 1 else str(year)


def wareki_year_month(d: datetime.date) -> str:
    """Write the 和暦 year and month, e.g. ``令和6年4月``, for sheet names and headings.

    Args:
        d: Any day of the month.

    Returns:
        The heading text (``令和元年5月`` for 2019-05, ``平成31年4月`` for 2019-04).
    """
    era = _era_of(d)
    return f"{era.name}{_wareki_year(d.year - era.start.year + 1)}年{d.month}月"


# --------------------------------------------------------------------------------------------
# Postal codes and phone numbers
# --------------------------------------------------------------------------------------------

_ANY_DASH: Final = re.compile("[‐‑‒–—―−ーｰ－]")
_POSTAL: Final = re.compile(r"(\d{3})-?(\d{4})")


def normalize_postal_code(s: str) -> str:
    """Normalise a postal code (郵便番号) to ``NNN-NNNN``.

    Args:
        s: e.g. ``"1050011"``, ``"１０５－００１１"`` or ``"〒105-0011"``.

    Returns:
        e.g. ``"105-0011"``.

    Raises:
        InputError: code ``invalid_postal_code`` when it is not seven digits.
    """
    t = _ANY_DASH.sub("-", to_halfwidth(s))
    t = _WHITESPACE.sub("", t).removeprefix("〒")
    m = _POSTAL.fullmatch(t)
    if m is None:
        raise InputError(
            f"「{s}」は郵便番号として読めません。7桁（例: 105-0011）で入力してください。",
            f"{s!r} is not a postal code. Enter seven digits, e.g. 105-0011.",
            code="invalid_postal_code",
        )
    return f"{m.group(1)}-{m.group(2)}"


_PHONE: Final = re.compile(r"\+?\d+(?:-\d+)*")


def normalize_phone(s: str) -> str:
    """Normalise a phone number's width and separators, keeping its grouping.

    Full-width digits become half-width, every kind of dash becomes ``-``, parentheses and
    a space between two digits become ``-`` (``03(1234)5678`` and ``03 1234 5678`` →
    ``03-1234-5678``), other spaces go. The digit count is not
    checked: numbers have 10 or 11 digits in Japan, but extensions and foreign numbers exist.

    Args:
        s: The number as written, e.g. ``"０３－１２３４－５６７８"``.

    Returns:
        e.g. ``"03-1234-5678"``.

    Raises:
        InputError: code ``invalid_phone`` when anything but digits and separators remains.
    """
    t = _ANY_DASH.sub("-", to_halfwidth(s))
    t = re.sub(r"(?<=\d)\s+(?=\d)", "-", t.strip())
    t = re.sub(r"[()]", "-", _WHITESPACE.sub("", t))
    t = re.sub(r"-{2,}", "-", t).strip("-")
    if _PHONE.fullmatch(t) is None:
        raise InputError(
            f"「{s}」は電話番号として読めません。数字とハイフンで入力してください。",
            f"{s!r} is not a phone number. Enter digits and hyphens.",
            code="invalid_phone",
        )
    return t


def phone_digits(s: str) -> str:
    """Return only the digits of a phone number (full-width digits included), for matching.

    Args:
        s: The number as written.

    Returns:
        e.g. ``"0312345678"``; empty when there are no digits.
    """
    return re.sub("[^0-9]", "", to_halfwidth(s))


# --------------------------------------------------------------------------------------------
# Addresses
# --------------------------------------------------------------------------------------------

_PREFECTURES: Final = (
    "北海道|青森県|岩手県|宮城県|秋田県|山形県|福島県|茨城県|栃木県|群馬県|埼玉県|千葉県|"
    "東京都|神奈川県|新潟県|富山県|石川県|福井県|山梨県|長野県|岐阜県|静岡県|愛知県|三重県|"
    "滋賀県|京都府|大阪府|兵庫県|奈良県|和歌山県|鳥取県|島根県|岡山県|広島県|山口県|徳島県|"
    "香川県|愛媛県|高知県|福岡県|佐賀県|長崎県|熊本県|大分県|宮崎県|鹿児島県|沖縄県"
)
_ADDRESS_PREFIX: Final = re.compile(
    rf"^(?:〒\s*\d{{3}}-?\d{{4}}|\d{{3}}-\d{{4}})?\s*(?:{_PREFECTURES})?\s*"
)
_NUM: Final = f"[{_KANJI_NUMERAL_CLASS}]+"
_NUM1: Final = f"[0-9{_KANJI_NUMERAL_CLASS}]"
# 一丁目 → 1丁目 anywhere; a numeral before or after 番/番地/号/- only once a number or 丁目
# precedes it, so the town names 麻布十番, 六本木 and 三田 stay as written.
_CHOME_NUMERAL: Final = re.compile(f"{_NUM}(?=丁目)")
_BLOCK_NUMERAL: Final = re.compile(
    f"(?:(?<=丁目)|(?<={_NUM1}番)|(?<={_NUM1}番地)|(?<={_NUM1}号)|(?<={_NUM1}-)){_NUM}"
)
_BANCHI_NO: Final = re.compile(f"(?<={_NUM1})(番地?)の(?={_NUM1})")
_NUMERAL_DASH: Final = re.compile(f"(?<={_NUM1})\\s*[ー‐‑‒–—―−]\\s*(?={_NUM1})")


def _structure_address(t: str) -> str:
    """Write 丁目/番地/番/号 block numbers as dashes: 3丁目1番2号 → 3-1-2."""
    t = re.sub(r"(\d+)丁目(?=\s*\d)", r"\1-", t)
    t = re.sub(r"(\d+)番地?(?=\s*\d)", r"\1-", t)
    t = re.sub(r"(\d+)番地?", r"\1", t)
    t = re.sub(r"(\d+)号(?=\s*\d)", r"\1-", t)
    # 101号室 and 2号棟 are rooms and buildings, not block numbers.
    return re.sub(r"(\d+)号(?![室棟館])", r"\1", t)


def normalize_address(s: str) -> str:
    """Make a matching key from an address (住所).

    Width-normalised, variant kanji folded, a leading 〒 postal code and prefecture (東京都 …)
    dropped, kanji numerals in 丁目/番地/番/号 made Arabic, and the block numbers written
    as dashes: ``三丁目1番2号``, ``3丁目1-2``, ``3-1-2`` and ``３丁目１番地２`` all become
    ``3-1-2`` (``1番地の2`` too). Building names after the number are kept; a space between
    two numbers becomes ``-`` (``3-1-2 101`` → ``3-1-2-101``), other spaces are removed.

    Args:
        s: The address as written.

    Returns:
        The key, e.g. ``"港区芝浦3-1-2芝浦ハイツ101"``. Never print it on a document.
    """
    t = fold_variants(normalize_width(s)).strip()
    t = _ADDRESS_PREFIX.sub("", t)
    t = _NUMERAL_DASH.sub("-", t)
    t = _BANCHI_NO.sub(r"\1", t)
    t = _CHOME_NUMERAL.sub(_replace_kanji_numeral, t)
    t = _BLOCK_NUMERAL.sub(_replace_kanji_numeral, t)
    t = _structure_address(t)
    t = re.sub(r"(?<=\d)\s+(?=\d)", "-", t)
    t = _WHITESPACE.sub("", t)
    return re.sub(r"-{2,}", "-", t)


_AFTER_WARD: Final = re.compile(r"区(.*)$")
_TOWN: Final = re.compile(rf"(.*?)(?=[0-9]|{_NUM}丁目|[\s-]|$)")


def town_of(address: str) -> str:
    """Return the town (町名) of a ward address: the text after 区 up to the block number.

    ``東京都港区芝浦三丁目1-2 芝浦ハイツ101`` → ``芝浦``, ``港区六本木6-10-1`` → ``六本木``,
    ``港区麻布十番1-2-3`` → ``麻布十番``. A kanji numeral ends the town only when 丁目
    follows it, so 六本木 and 十番 stay whole.

    Args:
        address: The address as written.

    Returns:
        The town, width-normalised, or ``""`` when there is no ward or no town.
    """
    after = _AFTER_WARD.search(normalize_width(address).strip())
    if after is None:
        return ""
    m = _TOWN.match(after.group(1).lstrip())
    return m.group(1) if m else ""


# --------------------------------------------------------------------------------------------
# Business days (開庁日)
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _is_national_holiday(d: datetime.date) -> bool:
    return bool(jpholiday.is_holiday(d))


def _is_year_end_closure(d: datetime.date) -> bool:
    # 年末年始の閉庁日 (12/29–1/3): every municipality's 休日条例 (地方自治法 4条の2) has it.
    return (d.month == 12 and d.day >= 29) or (d.month == 1 and d.day <= 3)


def is_holiday(d: datetime.date) -> bool:
    """Tell whether the office is closed for a holiday (weekends aside).

    National holidays (祝日) including 振替休日 and 国民の休日, plus the year-end closure
    (年末年始, 12/29–1/3).

    Args:
        d: The day.

    Returns:
        True on a holiday or closure day.
    """
    return _is_year_end_closure(d) or _is_national_holiday(d)


def is_business_day(d: datetime.date) -> bool:
    """Tell whether the office is open (開庁日): a weekday that is not a holiday.

    Args:
        d: The day.

    Returns:
        True on a business day.
    """
    return d.weekday() < 5 and not is_holiday(d)


_ONE_DAY: Final = datetime.timedelta(days=1)


def next_business_day(d: datetime.date, *, include_today: bool = False) -> datetime.date:
    """Return the next business day after ``d`` (or ``d`` itself if allowed and open).

    Args:
        d: The starting day.
        include_today: Return ``d`` when it is itself a business day.

    Returns:
        The business day.
    """
    if include_today and is_business_day(d):
        return d
    d += _ONE_DAY
    while not is_business_day(d):
        d += _ONE_DAY
    return d


def add_business_days(d: datetime.date, n: int) -> datetime.date:
    """Move ``n`` business days forward (or back when ``n`` is negative).

    Friday + 1 is the next Monday; ``n == 0`` returns ``d`` unchanged even on a holiday.

    Args:
        d: The starting day.
        n: Business days to move.

    Returns:
        The day reached.
    """
    step = _ONE_DAY if n >= 0 else -_ONE_DAY
    remaining = abs(n)
    while remaining:
        d += step
        if is_business_day(d):
            remaining -= 1
    return d


def business_days_between(a: datetime.date, b: datetime.date) -> int:
    """Count the business days in the half-open range ``[a, b)``; 0 when ``b <= a``.

    Args:
        a: First day, counted.
        b: End day, not counted.

    Returns:
        The count.
    """
    return sum(1 for i in range((b - a).days) if is_business_day(a + datetime.timedelta(i)))


def first_business_day_of_month(year: int, month: int) -> datetime.date:
    """Return the month's first business day (2027-01 → 2027-01-04, after 年末年始).

    Args:
        year: Western year.
        month: Month, 1–12.

    Returns:
        The first business day.
    """
    return next_business_day(datetime.date(year, month, 1), include_today=True)


# --------------------------------------------------------------------------------------------
# Ages and months
# --------------------------------------------------------------------------------------------


def age_on(birth: datetime.date, on: datetime.date) -> int:
    """Return the ordinary calendar age (満年齢) on a day: it rises on the birthday.

    Japanese law (年齢計算ニ関スル法律) counts the age as rising at the end of the day
    *before* the birthday, which is why someone born on 4月1日 joins the earlier school year
    and a 2月29日 birth ages on 2月28日. This function returns the ordinary age; a rule that
    depends on the legal nuance must ask for ``age_on(birth, on + timedelta(days=1))``.

    Args:
        birth: Date of birth.
        on: The day the age is wanted for.

    Returns:
        Completed years.

    Raises:
        InputError: code ``invalid_date`` when ``on`` is before ``birth``.
    """
    if on < birth:
        raise InputError(
            "基準日が生年月日より前です。生年月日を確認してください。",
            "The reference date is before the date of birth. Check the date of birth.",
            code="invalid_date",
        )
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def add_months(d: datetime.date, n: int) -> datetime.date:
    """Add ``n`` months (negative allowed), clamping to the month's last day (1/31 + 1 → 2/28).

    Args:
        d: The starting day.
        n: Months to add.

    Returns:
        The day reached.
    """
    index = d.year * 12 + d.month - 1 + n
    year, month = divmod(index, 12)
    month += 1
    return datetime.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


JST: Final = ZoneInfo("Asia/Tokyo")


def jst_date(moment: datetime.datetime) -> datetime.date:
    """The calendar date of a moment in Japan (a naive moment is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(JST).date()
