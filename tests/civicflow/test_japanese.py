"""Tests for civicflow.japanese: 和暦, width, kana, variant kanji, addresses, business days."""

from __future__ import annotations

from datetime import date

import pytest

from civicflow.errors import InputError
from civicflow.japanese import (
    add_business_days,
    add_months,
    age_on,
    business_days_between,
    first_business_day_of_month,
    fold_variants,
    is_business_day,
    is_holiday,
    next_business_day,
    normalize_address,
    normalize_kana,
    normalize_name,
    normalize_phone,
    normalize_postal_code,
    normalize_width,
    parse_date,
    phone_digits,
    to_fullwidth_kana,
    to_halfwidth,
    to_hiragana,
    to_katakana,
    to_wareki,
    town_of,
    try_parse_date,
    wareki_year_month,
)

# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-04-01", date(2024, 4, 1)),
        ("2024/4/1", date(2024, 4, 1)),
        ("2024.4.1", date(2024, 4, 1)),
        ("20240401", date(2024, 4, 1)),
        ("2024年4月1日", date(2024, 4, 1)),
        ("２０２４／０４／０１", date(2024, 4, 1)),
        ("2024/04/01 0:00:00", date(2024, 4, 1)),
        ("2024-04-01T09:30:00+09:00", date(2024, 4, 1)),
        ("二〇二四年四月一日", date(2024, 4, 1)),
        ("令和6年4月1日", date(2024, 4, 1)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("昭和64年1月7日", date(1989, 1, 7)),
        ("昭和23年1月5日", date(1948, 1, 5)),
        ("大正15年12月24日", date(1926, 12, 24)),
        ("明治45年7月29日", date(1912, 7, 29)),
        ("令和六年四月一日", date(2024, 4, 1)),
        ("令和六年十二月二十五日", date(2024, 12, 25)),
        ("平成三十一年四月三十日", date(2019, 4, 30)),
        ("令和６年１２月２５日", date(2024, 12, 25)),
        (" 令和 6 年 4 月 1 日 ", date(2024, 4, 1)),
        ("令和　６年　４月　１日", date(2024, 4, 1)),
        ("令和6年4月1日(月)", date(2024, 4, 1)),
        ("令和6年4月1日（月曜日）", date(2024, 4, 1)),
        ("R6.4.1", date(2024, 4, 1)),
        ("R06.04.01", date(2024, 4, 1)),
        ("r6.4.1", date(2024, 4, 1)),
        ("Ｒ６．４．１", date(2024, 4, 1)),
        ("R元.5.1", date(2019, 5, 1)),
        ("H31/4/30", date(2019, 4, 30)),
        ("S23.1.5", date(1948, 1, 5)),
        ("T1.7.30", date(1912, 7, 30)),
        ("M1.10.23", date(1868, 10, 23)),
        ("令6.4.1", date(2024, 4, 1)),
        ("平31.4.30", date(2019, 4, 30)),
        ("㋿6年4月1日", date(2024, 4, 1)),
        ("㍻31年4月30日", date(2019, 4, 30)),
    ],
)
def test_parse_date_reads_iso_and_wareki(text: str, expected: date) -> None:
    assert parse_date(text) == expected
    assert try_parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "不明",
        "2024-4",
        "2024/4/1/2",
        "2024/04-01",
        "2024年2月30日",
        "20230229",
        "2024-13-01",
        "平成31年5月1日",
        "令和元年4月30日",
        "平成32年1月1日",
        "昭和64年1月8日",
        "平成元年1月7日",
        "大正15年12月25日",
        "M1.10.22",
        "令和0年1月1日",
        "R6.2.30",
        "X6.4.1",
        "令和6年4月1日(火)",
    ],
)
def test_parse_date_rejects_invalid_with_code(text: str) -> None:
    with pytest.raises(InputError) as excinfo:
        parse_date(text)
    assert excinfo.value.code == "invalid_date"
    assert try_parse_date(text) is None


def test_parse_date_error_names_the_text_in_both_languages() -> None:
    with pytest.raises(InputError) as excinfo:
        parse_date("平成31年5月1日")
    assert "平成31年5月1日" in excinfo.value.message_ja
    assert "平成31年5月1日" in excinfo.value.message_en
    assert "2019-04-30" in excinfo.value.message_en


@pytest.mark.parametrize(
    ("d", "kanji", "short"),
    [
        (date(2024, 4, 1), "令和6年4月1日", "R6.4.1"),
        (date(2019, 5, 1), "令和元年5月1日", "R1.5.1"),
        (date(2019, 4, 30), "平成31年4月30日", "H31.4.30"),
        (date(1989, 1, 8), "平成元年1月8日", "H1.1.8"),
        (date(1989, 1, 7), "昭和64年1月7日", "S64.1.7"),
        (date(1926, 12, 25), "昭和元年12月25日", "S1.12.25"),
        (date(1926, 12, 24), "大正15年12月24日", "T15.12.24"),
        (date(1912, 7, 30), "大正元年7月30日", "T1.7.30"),
        (date(1912, 7, 29), "明治45年7月29日", "M45.7.29"),
    ],
)
def test_to_wareki_round_trips(d: date, kanji: str, short: str) -> None:
    assert to_wareki(d) == kanji
    assert to_wareki(d, style="short") == short
    assert parse_date(kanji) == d
    assert parse_date(short) == d


def test_to_wareki_rejects_dates_before_meiji() -> None:
    with pytest.raises(InputError) as excinfo:
        to_wareki(date(1868, 10, 22))
    assert excinfo.value.code == "invalid_date"


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2024, 4, 15), "令和6年4月"),
        (date(2019, 5, 31), "令和元年5月"),
        (date(2019, 4, 1), "平成31年4月"),
        (date(1989, 1, 31), "平成元年1月"),
    ],
)
def test_wareki_year_month(d: date, expected: str) -> None:
    assert wareki_year_month(d) == expected


# --- width and kana --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("s", "expected"),
    [
        ("０３－１２３４", "03-1234"),
        ("ＡＢＣ　ａｂｃ！", "ABC abc!"),
        ("〒ー「アイウ」", "〒ー「アイウ」"),
        ("ｱｲｳ", "ｱｲｳ"),
        ("abc123", "abc123"),
    ],
)
def test_to_halfwidth(s: str, expected: str) -> None:
    assert to_halfwidth(s) == expected


@pytest.mark.parametrize(
    ("s", "expected"),
    [
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ タロウ"),
        ("ｶﾞﾊﾟｳﾞｰ･｢｣", "ガパヴー・「」"),
        ("ＡＢ１", "ＡＢ１"),
        ("ﾞ", "゛"),
    ],
)
def test_to_fullwidth_kana(s: str, expected: str) -> None:
    assert to_fullwidth_kana(s) == expected


@pytest.mark.parametrize(
    ("s", "expected"),
    [
        ("ＡＢ１ｶﾞｰ〒", "AB1ガー〒"),
        ("㈱ ①", "㈱ ①"),
        ("㍻ 髙\uf9dc", "㍻ 髙\uf9dc"),
    ],
)
def test_normalize_width_keeps_what_nfkc_would_change(s: str, expected: str) -> None:
    assert normalize_width(s) == expected


@pytest.mark.parametrize(
    ("hira", "kata"),
    [
        ("やまだ たろう", "ヤマダ タロウ"),
        ("ゔぁいおりん", "ヴァイオリン"),
        ("きゃっと", "キャット"),
    ],
)
def test_kana_conversion_round_trips(hira: str, kata: str) -> None:
    assert to_katakana(hira) == kata
    assert to_hiragana(kata) == hira


def test_kana_conversion_leaves_other_text_alone() -> None:
    assert to_katakana("山田ABC") == "山田ABC"
    assert to_hiragana("ヷ山田") == "ヷ山田"


@pytest.mark.parametrize(
    ("s", "expected"),
    [
        ("ﾔﾏﾀﾞ　ﾀﾛｳ", "ヤマダタロウ"),
        ("やまだ たろう", "ヤマダタロウ"),
        ("ヤマダ・タロウ", "ヤマダタロウ"),
        ("ｽﾐｽ･ｼﾞｮﾝ", "スミスジョン"),
        ("ゔぃくとりあ", "ヴィクトリア"),
        ("サト-", "サトー"),
        ("コ―ヒ－", "コーヒー"),
        ("ｺｰﾋｰ", "コーヒー"),
        ("ユ‐キ", "ユーキ"),
    ],
)
def test_normalize_kana(s: str, expected: str) -> None:
    assert normalize_kana(s) == expected


# --- variant kanji and names -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "common"),
    [
        ("髙", "高"),
        ("\ufa11", "崎"),  # 﨑
        ("嵜", "崎"),
        ("邉", "辺"),
        ("邊", "辺"),
        ("濵", "浜"),
        ("濱", "浜"),
        ("德", "徳"),
        ("櫻", "桜"),
        ("齋", "斎"),
        ("齊", "斉"),
        ("廣", "広"),
        ("澤", "沢"),
        ("圓", "円"),
        ("藏", "蔵"),
        ("國", "国"),
        ("眞", "真"),
        ("髮", "髪"),
        ("\uf9dc", "\u9686"),  # compatibility 隆 → 隆
        ("\U00020bb7", "吉"),  # 𠮷
        ("檜", "桧"),
        ("冨", "富"),
        ("惠", "恵"),
        ("榮", "栄"),
        ("壽", "寿"),
        ("實", "実"),
        ("學", "学"),
        ("龍", "竜"),
        ("淵", "渕"),
        ("曾", "曽"),
        ("條", "条"),
        ("瀨", "瀬"),
        ("槇", "槙"),
        ("葛\U000e0100", "葛"),  # an ideographic variation sequence
    ],
)
def test_fold_variants(variant: str, common: str) -> None:
    assert fold_variants(variant) == common


def test_fold_variants_leaves_common_text_alone() -> None:
    assert fold_variants("山田太郎 ヤマダ 123") == "山田太郎 ヤマダ 123"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("髙橋", "高橋"),
        ("山\ufa11", "山崎"),
        ("渡邉", "渡辺"),
        ("渡邊", "渡辺"),
        ("髙橋　一郎", "高橋 一郎"),
        ("\U00020bb7田", "吉田"),
        ("ＡＢＣ商事", "ABC商事"),
    ],
)
def test_normalize_name_matches_variants(a: str, b: str) -> None:
    assert normalize_name(a) == normalize_name(b)


def test_normalize_name_removes_whitespace() -> None:
    assert normalize_name(" 髙橋\u3000一郎 ") == "高橋一郎"


# --- postal codes and phones -----------------------------------------------------------------


@pytest.mark.parametrize(
    "s", ["1050011", "105-0011", "１０５－００１１", "〒105-0011", "〒 105ー0011", " 105 0011 "]
)
def test_normalize_postal_code(s: str) -> None:
    assert normalize_postal_code(s) == "105-0011"


@pytest.mark.parametrize("s", ["", "105-001", "10500111", "105-00a1", "1-050011", "港区"])
def test_normalize_postal_code_rejects(s: str) -> None:
    with pytest.raises(InputError) as excinfo:
        normalize_postal_code(s)
    assert excinfo.value.code == "invalid_postal_code"


@pytest.mark.parametrize(
    ("s", "expected"),
    [
        ("03-1234-5678", "03-1234-5678"),
        ("０３－１２３４－５６７８", "03-1234-5678"),
        ("03ー1234ー5678", "03-1234-5678"),
        ("03‐1234―5678", "03-1234-5678"),
        ("03(1234)5678", "03-1234-5678"),
        ("(03)1234-5678", "03-1234-5678"),
        ("（０３）１２３４－５６７８", "03-1234-5678"),
        ("090 1234 5678", "090-1234-5678"),
        ("03 - 1234 - 5678", "03-1234-5678"),
        ("09012345678", "09012345678"),
        ("+81-3-1234-5678", "+81-3-1234-5678"),
    ],
)
def test_normalize_phone(s: str, expected: str) -> None:
    assert normalize_phone(s) == expected


@pytest.mark.parametrize("s", ["", "なし", "03-1234-567x", "---"])
def test_normalize_phone_rejects(s: str) -> None:
    with pytest.raises(InputError) as excinfo:
        normalize_phone(s)
    assert excinfo.value.code == "invalid_phone"


@pytest.mark.parametrize(
    ("s", "expected"),
    [("０３－１２３４－５６７８", "0312345678"), ("(03)1234-5678", "0312345678"), ("なし", "")],
)
def test_phone_digits(s: str, expected: str) -> None:
    assert phone_digits(s) == expected


# --- addresses -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("s", "expected"),
    [
        ("港区芝浦3丁目1番2号", "港区芝浦3-1-2"),
        ("港区芝浦3丁目1-2", "港区芝浦3-1-2"),
        ("港区芝浦3-1-2", "港区芝浦3-1-2"),
        ("港区芝浦３丁目１番地２", "港区芝浦3-1-2"),
        ("東京都港区芝浦三丁目一番二号", "港区芝浦3-1-2"),
        ("東京都 港区 芝浦 3－1－2", "港区芝浦3-1-2"),
        ("港区芝浦3ー1ー2", "港区芝浦3-1-2"),
        ("港区南青山一丁目一番地の二", "港区南青山1-1-2"),
        ("東京都港区芝浦三丁目1-2 芝浦ハイツ101", "港区芝浦3-1-2芝浦ハイツ101"),
        ("〒105-0023 東京都港区芝浦3-1-2 芝浦ﾊｲﾂ１０１号室", "港区芝浦3-1-2芝浦ハイツ101号室"),
        ("港区芝浦3丁目1番2号101号室", "港区芝浦3-1-2-101号室"),
        ("港区芝浦3-1-2 101", "港区芝浦3-1-2-101"),
        ("港区麻布十番一丁目2番3号", "港区麻布十番1-2-3"),
        ("港区麻布十番2-3-4", "港区麻布十番2-3-4"),
        ("港区六本木六丁目10番1号", "港区六本木6-10-1"),
        ("港区三田三丁目", "港区三田3丁目"),
        ("港区髙輪1-2-3", "港区高輪1-2-3"),
    ],
)
def test_normalize_address(s: str, expected: str) -> None:
    assert normalize_address(s) == expected


@pytest.mark.parametrize(
    ("address", "town"),
    [
        ("東京都港区芝浦三丁目1-2 芝浦ハイツ101", "芝浦"),
        ("港区六本木6-10-1", "六本木"),
        ("港区南青山1-1-1", "南青山"),
        ("港区三田三丁目5番", "三田"),
        ("港区麻布十番1-2-3", "麻布十番"),
        ("港区麻布十番一丁目2-3", "麻布十番"),
        ("港区 海岸 １－２－３", "海岸"),
        ("港区1-2-3", ""),
        ("芝浦3-1-2", ""),
        ("", ""),
    ],
)
def test_town_of(address: str, town: str) -> None:
    assert town_of(address) == town


# --- business days ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "holiday"),
    [
        (date(2026, 1, 12), True),  # 成人の日
        (date(2026, 5, 6), True),  # 振替休日
        (date(2026, 12, 29), True),  # 年末年始 closure
        (date(2027, 1, 3), True),
        (date(2026, 12, 28), False),
        (date(2027, 1, 4), False),
        (date(2026, 1, 13), False),
        (date(2026, 1, 10), False),  # a Saturday is not a holiday
    ],
)
def test_is_holiday(d: date, holiday: bool) -> None:
    assert is_holiday(d) is holiday


@pytest.mark.parametrize(
    ("d", "open_"),
    [
        (date(2026, 1, 13), True),
        (date(2026, 1, 10), False),  # Saturday
        (date(2026, 1, 11), False),  # Sunday
        (date(2026, 1, 12), False),  # 成人の日
        (date(2026, 12, 29), False),  # Tuesday, closed
    ],
)
def test_is_business_day(d: date, open_: bool) -> None:
    assert is_business_day(d) is open_


@pytest.mark.parametrize(
    ("d", "include_today", "expected"),
    [
        (date(2026, 1, 9), False, date(2026, 1, 13)),  # Fri → over the 3-day weekend
        (date(2026, 1, 9), True, date(2026, 1, 9)),
        (date(2026, 1, 10), True, date(2026, 1, 13)),
        (date(2026, 12, 28), False, date(2027, 1, 4)),
        (date(2026, 5, 1), False, date(2026, 5, 7)),  # ゴールデンウィーク
    ],
)
def test_next_business_day(d: date, include_today: bool, expected: date) -> None:
    assert next_business_day(d, include_today=include_today) == expected


@pytest.mark.parametrize(
    ("d", "n", "expected"),
    [
        (date(2026, 1, 9), 1, date(2026, 1, 13)),
        (date(2026, 1, 9), 0, date(2026, 1, 9)),
        (date(2026, 1, 10), 0, date(2026, 1, 10)),
        (date(2026, 1, 13), -1, date(2026, 1, 9)),
        (date(2026, 12, 25), 2, date(2027, 1, 4)),  # 12/28, then 1/4
        (date(2027, 1, 4), -1, date(2026, 12, 28)),
        (date(2026, 4, 1), 10, date(2026, 4, 15)),
    ],
)
def test_add_business_days(d: date, n: int, expected: date) -> None:
    assert add_business_days(d, n) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (date(2026, 1, 5), date(2026, 1, 12), 5),  # [Mon, next Mon)
        (date(2026, 1, 5), date(2026, 1, 14), 6),  # 1/12 成人の日 is skipped
        (date(2026, 1, 5), date(2026, 1, 5), 0),
        (date(2026, 1, 14), date(2026, 1, 5), 0),
        (date(2026, 12, 28), date(2027, 1, 5), 2),  # 12/28 and 1/4
    ],
)
def test_business_days_between(a: date, b: date, expected: int) -> None:
    assert business_days_between(a, b) == expected


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2027, 1, date(2027, 1, 4)),
        (2026, 1, date(2026, 1, 5)),
        (2026, 4, date(2026, 4, 1)),
        (2026, 2, date(2026, 2, 2)),  # 2/1 is a Sunday
        (2026, 11, date(2026, 11, 2)),
    ],
)
def test_first_business_day_of_month(year: int, month: int, expected: date) -> None:
    assert first_business_day_of_month(year, month) == expected


# --- ages and months -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "on", "expected"),
    [
        (date(1954, 4, 1), date(2024, 3, 31), 69),
        (date(1954, 4, 1), date(2024, 4, 1), 70),
        (date(1954, 4, 2), date(2024, 4, 1), 69),
        (date(2000, 2, 29), date(2023, 2, 28), 22),  # ordinary age; legally 23 already
        (date(2000, 2, 29), date(2023, 3, 1), 23),
        (date(2000, 2, 29), date(2024, 2, 29), 24),
        (date(2024, 4, 1), date(2024, 4, 1), 0),
    ],
)
def test_age_on(birth: date, on: date, expected: int) -> None:
    assert age_on(birth, on) == expected


def test_age_on_rejects_reference_before_birth() -> None:
    with pytest.raises(InputError) as excinfo:
        age_on(date(2000, 1, 2), date(2000, 1, 1))
    assert excinfo.value.code == "invalid_date"


@pytest.mark.parametrize(
    ("d", "n", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2024, 11, 15), 2, date(2025, 1, 15)),
        (date(2024, 1, 15), -13, date(2022, 12, 15)),
        (date(2024, 5, 31), 0, date(2024, 5, 31)),
        (date(2024, 8, 31), 12, date(2025, 8, 31)),
    ],
)
def test_add_months(d: date, n: int, expected: date) -> None:
    assert add_months(d, n) == expected
