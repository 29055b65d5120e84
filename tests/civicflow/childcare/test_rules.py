"""The childcare rules: one small table per check; every code reachable, clean cases silent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from civicflow.childcare.rules import (
    check_applicant,
    check_eligibility,
    check_provider,
    cross_check,
    fee_per_hour,
    hours_cap,
    normalize_application,
    registration_no,
    verify_application,
)
from civicflow.models import (
    CHILDCARE_FIELD_LABELS,
    CHILDCARE_REQUIRED_FIELDS,
    Decision,
    NormalizedApplication,
    Provider,
    Reason,
    ResidentMatch,
    Severity,
)
from civicflow.registry import ResidentIndex
from civicflow.settings import Settings

FieldsFactory = Callable[..., dict[str, str]]
AppFactory = Callable[..., NormalizedApplication]


def codes(reasons: list[Reason]) -> list[str]:
    return sorted(r.code for r in reasons)


# --- normalize_application -----------------------------------------------------------------
def test_clean_application_normalises_without_reasons(
    make_fields: FieldsFactory, submitted_at: dt.datetime
) -> None:
    app, reasons = normalize_application("R-1", submitted_at, make_fields())
    assert reasons == []
    assert app.applicant_name == "高橋 花子"  # width only: the kanji stay as typed
    assert app.applicant_kana == "タカハシ ハナコ"
    assert app.applicant_birth_date == dt.date(1990, 5, 1)  # 平成２年５月１日
    assert app.postal_code == "108-0023"
    assert app.phone == "03-1234-5678"
    assert app.address == "東京都港区芝浦3丁目1番2号"
    assert app.child_birth_date == dt.date(2024, 3, 1)
    assert app.boshi_techo_date == dt.date(2023, 8, 1)  # R5.8.1
    assert app.start_date == dt.date(2024, 4, 20)
    assert app.due_date is None
    assert (app.service, app.provider_id, app.tax_status) == ("家事支援", "P001", "課税")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"applicant_kana": "たかはし　はなこ"}, {"applicant_kana": "タカハシ ハナコ"}),
        ({"applicant_kana": "ﾀｶﾊｼ ﾊﾅｺ"}, {"applicant_kana": "タカハシ ハナコ"}),
        ({"provider_id": "ｐ００１"}, {"provider_id": "P001"}),
        ({"service": " 家事支援 "}, {"service": "家事支援"}),
        ({"postal_code": "〒1080023"}, {"postal_code": "108-0023"}),
        ({"phone": "03(1234)5678"}, {"phone": "03-1234-5678"}),
        ({"postal_code": "", "phone": ""}, {"postal_code": "", "phone": ""}),
        ({"due_date": "令和元年5月1日"}, {"due_date": dt.date(2019, 5, 1)}),
    ],
)
def test_values_are_normalised(
    make_fields: FieldsFactory,
    submitted_at: dt.datetime,
    overrides: dict[str, str],
    expected: dict[str, object],
) -> None:
    app, reasons = normalize_application("R-1", submitted_at, make_fields(**overrides))
    assert reasons == []
    for key, value in expected.items():
        assert getattr(app, key) == value


@pytest.mark.parametrize("field", CHILDCARE_REQUIRED_FIELDS)
def test_blank_required_field_goes_to_review(
    make_fields: FieldsFactory, submitted_at: dt.datetime, field: str
) -> None:
    _, reasons = normalize_application("R-1", submitted_at, make_fields(**{field: "　"}))
    assert [(r.code, r.field, r.severity) for r in reasons] == [
        ("missing_field", field, Severity.REVIEW)
    ]
    assert CHILDCARE_FIELD_LABELS[field] in reasons[0].message_ja


def test_absent_keys_count_as_blank(submitted_at: dt.datetime) -> None:
    _, reasons = normalize_application("R-1", submitted_at, {})
    assert {r.field for r in reasons} == set(CHILDCARE_REQUIRED_FIELDS)


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("applicant_birth_date", "平成2年13月1日", "invalid_date"),
        ("applicant_birth_date", "令和元年4月30日", "invalid_date"),  # before 令和 began
        ("due_date", "来年の春", "invalid_date"),
        ("child_birth_date", "2024-02-30", "invalid_date"),
        ("boshi_techo_date", "R5.8", "invalid_date"),
        ("start_date", "4月20日", "invalid_date"),
        ("postal_code", "１０８－００２", "invalid_postal_code"),
        ("phone", "03-1234-ABCD", "invalid_phone"),
        ("pregnancy_status", "妊娠した", "invalid_choice"),
        ("birth_type", "双子", "invalid_choice"),
        ("tax_status", "免除", "invalid_choice"),
        ("service", "ベビーシッター", "invalid_choice"),
    ],
)
def test_unreadable_value_goes_to_review_without_echoing_it(
    make_fields: FieldsFactory, submitted_at: dt.datetime, field: str, value: str, code: str
) -> None:
    _, reasons = normalize_application("R-1", submitted_at, make_fields(**{field: value}))
    assert [(r.code, r.field, r.severity) for r in reasons] == [(code, field, Severity.REVIEW)]
    # reasons land in logs and artifacts: they name the field, never the value
    assert value not in reasons[0].message_ja + reasons[0].message_en
    assert CHILDCARE_FIELD_LABELS[field] in reasons[0].message_ja


# --- cross_check ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pdf_overrides", "expected"),
    [
        ({}, []),
        ({"phone": "03-1234-5678", "postal_code": "108-0023"}, []),  # width only
        ({"applicant_name": "高橋花子", "applicant_kana": "タカハシ ハナコ"}, []),  # spaces only
        ({"extra_key_not_on_form": "x"}, []),
        ({"address": "東京都港区芝浦4丁目1番2号"}, ["address"]),
        (
            {"child_birth_date": "令和6年3月2日", "service": "産後ドゥーラ"},
            ["child_birth_date", "service"],
        ),
        ({"applicant_name": "髙橋　花子"}, ["applicant_name"]),  # a variant is still a difference
    ],
)
def test_cross_check(
    make_fields: FieldsFactory, pdf_overrides: dict[str, str], expected: list[str]
) -> None:
    reasons = cross_check(make_fields(), make_fields(**pdf_overrides))
    assert [r.field for r in reasons] == expected
    assert {r.code for r in reasons} <= {"manifest_pdf_mismatch"}
    assert all(r.severity is Severity.REVIEW for r in reasons)


def test_cross_check_names_the_field_not_the_values(make_fields: FieldsFactory) -> None:
    pdf = make_fields()
    del pdf["phone"]
    (reason,) = cross_check(make_fields(), pdf)
    assert reason.field == "phone"
    assert "電話番号" in reason.message_ja
    assert "1234" not in reason.message_ja + reason.message_en


# --- check_applicant -----------------------------------------------------------------------
def _match(**overrides: object) -> ResidentMatch:
    values: dict[str, object] = {
        "resident_id": "R0001",
        "score": 100.0,
        "name_score": 100.0,
        "kana_score": 100.0,
        "birth_date_match": True,
        "address_score": 100.0,
    }
    values.update(overrides)
    return ResidentMatch.model_validate(values)


@pytest.mark.parametrize(
    ("match", "moved", "expected"),
    [
        (_match(), False, []),
        (None, False, ["resident_not_found"]),
        (_match(score=75.0, birth_date_match=False), False, ["birth_date_mismatch"]),
        (_match(score=97.5, kana_score=90.0), False, ["kana_mismatch"]),
        (_match(score=96.5, name_score=90.0), False, ["name_mismatch"]),
        (_match(score=97.0, address_score=80.0), True, ["address_moved"]),
        (_match(score=97.0, address_score=80.0), False, ["address_mismatch"]),
        (_match(score=94.0), False, ["resident_low_score"]),
        (
            _match(score=50.0, name_score=60.0, kana_score=70.0, birth_date_match=False),
            False,
            ["birth_date_mismatch", "kana_mismatch", "name_mismatch"],
        ),
    ],
)
def test_check_applicant(
    make_app: AppFactory,
    settings: Settings,
    match: ResidentMatch | None,
    moved: bool,
    expected: list[str],
) -> None:
    reasons = check_applicant(make_app(), match, settings, matched_previous_address=moved)
    assert codes(reasons) == expected
    assert all(r.severity is Severity.REVIEW for r in reasons)


def test_unknown_birth_date_is_not_a_mismatch_but_is_not_accepted(
    make_app: AppFactory, settings: Settings
) -> None:
    app = make_app(applicant_birth_date="")
    reasons = check_applicant(app, _match(score=75.0, birth_date_match=False), settings)
    assert codes(reasons) == ["resident_low_score"]


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"applicant_name": "髙橋花子"},
        {"applicant_name": "高橋 花子", "applicant_kana": "たかはし はなこ"},
        {"applicant_kana": "ﾀｶﾊｼ ﾊﾅｺ"},
        {"address": "港区芝浦三丁目１番地の２"},
        {"applicant_birth_date": "1990/05/01"},
    ],
)
def test_variant_and_width_differences_are_not_flagged(
    make_app: AppFactory, index: ResidentIndex, settings: Settings, overrides: dict[str, str]
) -> None:
    app = make_app(**overrides)
    found = index.match_detail(
        app.applicant_name, app.applicant_kana, app.applicant_birth_date, app.address
    )
    assert found is not None
    assert found.match.resident_id == "R0001"
    assert check_applicant(app, found.match, settings) == []


# --- check_provider ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("app_overrides", "provider_overrides", "on", "expected"),
    [
        ({}, {}, dt.date(2024, 4, 20), []),
        ({"address": "港区三田1-4-5"}, {}, dt.date(2024, 4, 1), []),  # first contract day
        ({}, {}, dt.date(2025, 3, 31), []),  # last contract day
        ({}, None, dt.date(2024, 4, 20), ["provider_unknown"]),
        (
            {"service": "産後ドゥーラ"},
            {"services": ["家事支援"]},
            dt.date(2024, 4, 20),
            ["provider_service"],
        ),
        ({}, {}, dt.date(2024, 3, 31), ["provider_contract_period"]),
        ({}, {}, dt.date(2025, 4, 1), ["provider_contract_period"]),
        ({"address": "東京都港区六本木6-10-1"}, {}, dt.date(2024, 4, 20), ["provider_area"]),
        ({"address": "東京都港区六本木6-10-1"}, {"service_area": ["*"]}, dt.date(2024, 4, 20), []),
        ({"address": "港区芝浦３丁目１－２"}, {"service_area": ["芝浦"]}, dt.date(2024, 4, 20), []),
    ],
)
def test_check_provider(
    make_app: AppFactory,
    provider: Provider,
    app_overrides: dict[str, str],
    provider_overrides: dict[str, object] | None,
    on: dt.date,
    expected: list[str],
) -> None:
    chosen = None if provider_overrides is None else provider.model_copy(update=provider_overrides)
    reasons = check_provider(make_app(**app_overrides), chosen, on)
    assert codes(reasons) == expected
    assert all(r.severity is Severity.REVIEW for r in reasons)


# --- check_eligibility ---------------------------------------------------------------------
PREGNANT = {"pregnancy_status": "妊娠中", "child_birth_date": "", "due_date": "2024-08-01"}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, []),
        # 家事支援 until the day before the 3rd birthday (on = 2024-04-10)
        ({"child_birth_date": "2021-04-11"}, []),
        ({"child_birth_date": "2021-04-10"}, ["not_eligible_age"]),
        ({"child_birth_date": "2020-01-01"}, ["not_eligible_age"]),
        # 産後ドゥーラ until the day before 7 months after birth
        ({"service": "産後ドゥーラ", "child_birth_date": "2023-09-11"}, []),
        ({"service": "産後ドゥーラ", "child_birth_date": "2023-09-10"}, ["not_eligible_age"]),
        ({"child_birth_date": "2024-04-10"}, []),  # born today
        ({"child_birth_date": ""}, ["child_birth_date_missing"]),
        ({"child_birth_date": "2024-04-11"}, ["child_birth_date_in_future"]),
        ({**PREGNANT}, []),
        ({**PREGNANT, "service": "産後ドゥーラ"}, []),
        ({**PREGNANT, "due_date": "2024-04-10"}, []),  # due today
        ({**PREGNANT, "due_date": "2025-01-15"}, []),  # on + 280 days
        ({**PREGNANT, "due_date": "2025-01-16"}, ["due_date_out_of_window"]),
        ({**PREGNANT, "due_date": "2024-04-09"}, ["due_date_out_of_window"]),
        ({**PREGNANT, "due_date": ""}, ["due_date_missing"]),
        ({**PREGNANT, "boshi_techo_date": ""}, ["boshi_techo_missing"]),
        ({"address": "東京都渋谷区渋谷1-1-1"}, ["outside_ward"]),
        ({"address": ""}, []),  # blank: normalize_application already asks for review
    ],
)
def test_check_eligibility(
    make_app: AppFactory,
    applied_on: dt.date,
    settings: Settings,
    overrides: dict[str, str],
    expected: list[str],
) -> None:
    assert codes(check_eligibility(make_app(**overrides), applied_on, settings)) == expected


@pytest.mark.parametrize(
    ("code", "severity"),
    [
        ("not_eligible_age", Severity.REJECT),
        ("due_date_out_of_window", Severity.REJECT),
        ("outside_ward", Severity.REJECT),
        ("due_date_missing", Severity.REVIEW),
        ("boshi_techo_missing", Severity.REVIEW),
        ("child_birth_date_missing", Severity.REVIEW),
        ("child_birth_date_in_future", Severity.REVIEW),
    ],
)
def test_eligibility_severities(
    make_app: AppFactory, applied_on: dt.date, settings: Settings, code: str, severity: Severity
) -> None:
    cases = {
        "not_eligible_age": {"child_birth_date": "2020-01-01"},
        "due_date_out_of_window": {**PREGNANT, "due_date": "2026-01-01"},
        "outside_ward": {"address": "東京都渋谷区渋谷1-1-1"},
        "due_date_missing": {**PREGNANT, "due_date": ""},
        "boshi_techo_missing": {**PREGNANT, "boshi_techo_date": ""},
        "child_birth_date_missing": {"child_birth_date": ""},
        "child_birth_date_in_future": {"child_birth_date": "2025-01-01"},
    }
    (reason,) = check_eligibility(make_app(**cases[code]), applied_on, settings)
    assert (reason.code, reason.severity) == (code, severity)


def test_eligibility_limits_come_from_settings(make_app: AppFactory, applied_on: dt.date) -> None:
    strict = Settings(childcare_housework_until_age=1, childcare_window_before_due_days=30)
    assert codes(
        check_eligibility(make_app(child_birth_date="2023-01-01"), applied_on, strict)
    ) == ["not_eligible_age"]
    assert codes(check_eligibility(make_app(**PREGNANT), applied_on, strict)) == [
        "due_date_out_of_window"
    ]


# --- hours and fees ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("service", "birth_type", "age", "hours"),
    [
        ("家事支援", "単胎", 0, 128),
        ("家事支援", "単胎", 1, 48),
        ("家事支援", "単胎", 2, 48),
        ("家事支援", "単胎", 3, 0),
        ("家事支援", "多胎", 0, 256),
        ("家事支援", "多胎", 1, 96),
        ("家事支援", "", 0, 128),
        ("家事支援", "単胎", -1, 128),  # pregnancy
        ("産後ドゥーラ", "単胎", 0, 30),
        ("産後ドゥーラ", "多胎", 0, 60),
        ("ベビーシッター", "単胎", 0, 0),
    ],
)
def test_hours_cap(service: str, birth_type: str, age: int, hours: int) -> None:
    assert hours_cap(service, birth_type, age) == hours


@pytest.mark.parametrize(
    ("tax_status", "birth_type", "fee"),
    [
        ("課税", "単胎", 750),
        ("課税", "多胎", 500),
        ("非課税", "単胎", 375),
        ("非課税", "多胎", 250),
        ("生活保護", "単胎", 0),
        ("生活保護", "多胎", 0),
        ("", "単胎", 750),
    ],
)
def test_fee_per_hour(tax_status: str, birth_type: str, fee: int) -> None:
    assert fee_per_hour(tax_status, birth_type) == fee


@pytest.mark.parametrize(
    ("sequence", "expected"), [(0, "03000000"), (42, "03000042"), (999_999, "03999999")]
)
def test_registration_no(sequence: int, expected: str) -> None:
    assert registration_no(sequence) == expected


@pytest.mark.parametrize("sequence", [-1, 1_000_000])
def test_registration_no_out_of_range(sequence: int) -> None:
    with pytest.raises(ValueError):
        registration_no(sequence)


# --- verify_application --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("manifest_overrides", "pdf_overrides", "decision", "expected"),
    [
        ({}, {}, Decision.ACCEPT, []),
        ({"applicant_name": "髙橋　花子"}, {"applicant_name": "髙橋　花子"}, Decision.ACCEPT, []),
        ({}, {"phone": "03-9999-0000"}, Decision.REVIEW, ["manifest_pdf_mismatch"]),
        (
            {"address": "港区三田一丁目4番5号"},
            {"address": "港区三田一丁目4番5号"},
            Decision.REVIEW,
            ["address_moved"],
        ),
        ({"provider_id": "P999"}, {"provider_id": "P999"}, Decision.REVIEW, ["provider_unknown"]),
        (
            {
                "applicant_name": "山田 太郎",
                "applicant_kana": "ヤマダ タロウ",
                "address": "東京都渋谷区渋谷1-1-1",
                "applicant_birth_date": "1970-01-01",
            },
            {
                "applicant_name": "山田 太郎",
                "applicant_kana": "ヤマダ タロウ",
                "address": "東京都渋谷区渋谷1-1-1",
                "applicant_birth_date": "1970-01-01",
            },
            Decision.REJECT,
            ["outside_ward", "provider_area", "resident_not_found"],
        ),
        (
            {"child_birth_date": "2020-01-01"},
            {"child_birth_date": "2020-01-01"},
            Decision.REJECT,
            ["not_eligible_age"],
        ),
        (  # a registered ward resident writing an outside address: ask, do not reject
            {"address": "東京都渋谷区渋谷1-1-1"},
            {"address": "東京都渋谷区渋谷1-1-1"},
            Decision.REVIEW,
            ["address_mismatch", "outside_ward", "provider_area"],
        ),
    ],
)
def test_verify_application(
    make_fields: FieldsFactory,
    submitted_at: dt.datetime,
    applied_on: dt.date,
    index: ResidentIndex,
    providers: dict[str, Provider],
    settings: Settings,
    manifest_overrides: dict[str, str],
    pdf_overrides: dict[str, str],
    decision: Decision,
    expected: list[str],
) -> None:
    result = verify_application(
        "R-1",
        submitted_at,
        make_fields(**manifest_overrides),
        make_fields(**pdf_overrides),
        index,
        providers,
        settings,
        applied_on,
    )
    assert codes(result.reasons) == expected
    assert result.decision is decision
    assert result.receipt_no == "R-1"
    assert result.application is not None


def test_verify_clean_case_carries_match_and_provider(
    make_fields: FieldsFactory,
    submitted_at: dt.datetime,
    applied_on: dt.date,
    index: ResidentIndex,
    providers: dict[str, Provider],
    settings: Settings,
) -> None:
    result = verify_application(
        "R-1", submitted_at, make_fields(), make_fields(), index, providers, settings, applied_on
    )
    assert result.resident is not None
    assert (result.resident.resident_id, result.resident.score) == ("R0001", 100.0)
    assert result.provider_id == "P001"


def test_rejection_resting_on_a_doubtful_field_is_lowered_to_review(
    make_fields: FieldsFactory,
    submitted_at: dt.datetime,
    applied_on: dt.date,
    index: ResidentIndex,
    providers: dict[str, Provider],
    settings: Settings,
) -> None:
    # the data says the child is 4, the PDF says 4 months: a person must look
    result = verify_application(
        "R-1",
        submitted_at,
        make_fields(child_birth_date="2020-01-01"),
        make_fields(),
        index,
        providers,
        settings,
        applied_on,
    )
    assert result.decision is Decision.REVIEW
    by_code = {r.code: r for r in result.reasons}
    assert by_code["not_eligible_age"].severity is Severity.REVIEW
    assert by_code["manifest_pdf_mismatch"].field == "child_birth_date"


def test_unreadable_date_is_reported_once(
    make_fields: FieldsFactory,
    submitted_at: dt.datetime,
    applied_on: dt.date,
    index: ResidentIndex,
    providers: dict[str, Provider],
    settings: Settings,
) -> None:
    fields = make_fields(**{**PREGNANT, "due_date": "八月ごろ"})
    result = verify_application(
        "R-1", submitted_at, fields, fields, index, providers, settings, applied_on
    )
    assert codes(result.reasons) == ["invalid_date"]
    assert result.decision is Decision.REVIEW


def test_provider_period_uses_submission_date_without_start_date(
    make_fields: FieldsFactory,
    submitted_at: dt.datetime,
    index: ResidentIndex,
    providers: dict[str, Provider],
    settings: Settings,
) -> None:
    fields = make_fields(start_date="", child_birth_date="2024-03-01")
    early = dt.date(2024, 3, 20)  # before the contract starts on 2024-04-01
    result = verify_application(
        "R-1", submitted_at, fields, fields, index, providers, settings, early
    )
    assert codes(result.reasons) == ["provider_contract_period"]
