"""The checks of a childcare application (産前産後家事・育児支援サービス利用申請).

Pure functions over models: each returns a list of :class:`~civicflow.models.Reason` with a
stable code and messages for an operator in Japanese and English. Messages name the field
(its label on the form), never its value: reasons end up in logs, the store and artifacts.

Severity follows what a person can do about it: anything a reviewer can settle by reading the
PDF or the registry is REVIEW; only a case that cannot be accepted as it is (outside the ward,
child too old, due date out of range) is REJECT — and not even then when the field that
decides it is itself in doubt (see :func:`verify_application`).

Reason codes:

============================ ========== ==============================================
code                         severity   meaning
============================ ========== ==============================================
missing_field                review     a required field is blank
invalid_date                 review     a date field cannot be read (和暦 or ISO)
invalid_postal_code          review     the postal code is not seven digits
invalid_phone                review     the phone number is not digits and separators
invalid_choice               review     a choice field holds a value not on the form
manifest_pdf_mismatch        review     the e-application data and its PDF disagree
resident_not_found           review     no registry candidate (本人確認)
birth_date_mismatch          review     birth date differs from the registry
kana_mismatch                review     furigana differs from the registry
name_mismatch                review     name differs from the registry beyond variants
address_moved                review     the address is the resident's previous address
address_mismatch             review     the address differs from the registry
resident_low_score           review     the match is too weak to accept unseen
provider_unknown             review     no contracted provider with this number (事業者確認)
provider_service             review     the provider is not contracted for the service
provider_contract_period     review     the date lies outside the provider's contract
provider_area                review     the provider does not cover the applicant's town
due_date_missing             review     pregnant, but no due date
due_date_out_of_window       reject     due date past, or too far ahead
boshi_techo_missing          review     pregnant, but no 母子健康手帳 issue date
child_birth_date_missing     review     after birth, but no child birth date
child_birth_date_in_future   review     the child's birth date lies after the check date
not_eligible_age             reject     the child is past the service's age limit
outside_ward                 reject     the applicant does not live in 港区
============================ ========== ==============================================
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping

from civicflow.errors import InputError
from civicflow.japanese import (
    add_months,
    fold_variants,
    normalize_phone,
    normalize_postal_code,
    normalize_width,
    to_katakana,
    town_of,
    try_parse_date,
)
from civicflow.models import (
    CHILDCARE_FIELD_LABELS,
    CHILDCARE_REQUIRED_FIELDS,
    SERVICES,
    TAX_STATUSES,
    NormalizedApplication,
    Provider,
    Reason,
    ResidentMatch,
    Severity,
    Verification,
    decide,
)
from civicflow.registry import ResidentIndex
from civicflow.settings import Settings

WARD = "港区"
PREGNANT = "妊娠中"
AFTER_BIRTH = "出産後"
PREGNANCY_STATUSES: tuple[str, ...] = (PREGNANT, AFTER_BIRTH)
SINGLE_BIRTH = "単胎"
MULTIPLE_BIRTH = "多胎"
BIRTH_TYPES: tuple[str, ...] = (SINGLE_BIRTH, MULTIPLE_BIRTH)
HOUSEWORK = "家事支援"
DOULA = "産後ドゥーラ"

#: 家事支援 hours per child by the child's age in years (pregnancy counts as age 0).
HOUSEWORK_HOURS_BY_AGE: dict[int, int] = {0: 128, 1: 48, 2: 48}
#: 産後ドゥーラ hours per child (pregnancy → the day before 7 months after birth).
DOULA_HOURS = 30
#: Hours are per child: a multiple birth counts as two children (our rule; triplets and more
#: are rare enough for the office to raise the cap by hand).
CHILDREN_PER_MULTIPLE_BIRTH = 2
FEE_PER_HOUR = 750  # 円, single birth
FEE_PER_HOUR_MULTIPLE = 500  # 円, multiple birth

_DATE_FIELDS = (
    "applicant_birth_date",
    "due_date",
    "child_birth_date",
    "boshi_techo_date",
    "start_date",
)
_CHOICES: dict[str, tuple[str, ...]] = {
    "pregnancy_status": PREGNANCY_STATUSES,
    "birth_type": BIRTH_TYPES,
    "tax_status": TAX_STATUSES,
    "service": SERVICES,
}
_SPACES = re.compile(r"\s+")


def _label(field: str) -> str:
    """The field's label on the form, e.g. 生年月日 (the key itself for unknown fields)."""
    return CHILDCARE_FIELD_LABELS.get(field, field)


def _reason(
    code: str, severity: Severity, message_ja: str, message_en: str, field: str | None = None
) -> Reason:
    return Reason(
        code=code, severity=severity, message_ja=message_ja, message_en=message_en, field=field
    )


def _review(code: str, message_ja: str, message_en: str, field: str | None = None) -> Reason:
    return _reason(code, Severity.REVIEW, message_ja, message_en, field)


def _reject(code: str, message_ja: str, message_en: str, field: str | None = None) -> Reason:
    return _reason(code, Severity.REJECT, message_ja, message_en, field)


def _clean(value: str) -> str:
    """Half-width ASCII, full-width kana, outer spaces removed (kanji kept as written)."""
    return normalize_width(value).strip()


def _compact(value: str) -> str:
    """A comparison key: width-normalised with every space removed."""
    return _SPACES.sub("", normalize_width(value))


# --- 1. normalisation ------------------------------------------------------------------------
def normalize_application(
    receipt_no: str, submitted_at: dt.datetime, fields: Mapping[str, str]
) -> tuple[NormalizedApplication, list[Reason]]:
    """Normalise an application's raw fields: ISO dates, widths, katakana furigana.

    Nothing is rejected here: a blank required field, an unreadable date, postal code or
    phone number, or a choice not on the form gives a REVIEW reason on that field (a person
    can read the PDF), and the field is kept as written (dates become None).

    Args:
        receipt_no: 受付番号.
        submitted_at: 申請日時.
        fields: field key → raw value, as the manifest or the PDF gave them.

    Returns:
        The normalised application and the reasons found.
    """
    reasons: list[Reason] = []
    raw = {key: fields.get(key, "") or "" for key in CHILDCARE_FIELD_LABELS}

    for key in CHILDCARE_REQUIRED_FIELDS:
        if not raw[key].strip():
            reasons.append(
                _review(
                    "missing_field",
                    f"必須項目「{_label(key)}」が空欄です。",
                    f"The required field '{_label(key)}' is blank.",
                    key,
                )
            )

    dates: dict[str, dt.date | None] = {}
    for key in _DATE_FIELDS:
        dates[key] = try_parse_date(raw[key]) if raw[key].strip() else None
        if raw[key].strip() and dates[key] is None:
            reasons.append(
                _review(
                    "invalid_date",
                    f"「{_label(key)}」を日付として読めません。PDFの原本で確認してください。",
                    f"'{_label(key)}' cannot be read as a date. Check the PDF.",
                    key,
                )
            )

    postal_code = _normalized_or_review(
        raw["postal_code"], normalize_postal_code, "postal_code", "invalid_postal_code", reasons
    )
    phone = _normalized_or_review(raw["phone"], normalize_phone, "phone", "invalid_phone", reasons)

    choices: dict[str, str] = {}
    for key, allowed in _CHOICES.items():
        value = _compact(raw[key])
        choices[key] = value
        if value and value not in allowed:
            reasons.append(
                _review(
                    "invalid_choice",
                    f"「{_label(key)}」の値が様式の選択肢（{'・'.join(allowed)}）にありません。",
                    f"'{_label(key)}' is not one of the form's choices ({', '.join(allowed)}).",
                    key,
                )
            )

    application = NormalizedApplication(
        receipt_no=receipt_no,
        submitted_at=submitted_at,
        applicant_name=_clean(raw["applicant_name"]),
        applicant_kana=to_katakana(_clean(raw["applicant_kana"])),
        applicant_birth_date=dates["applicant_birth_date"],
        postal_code=postal_code,
        address=_clean(raw["address"]),
        phone=phone,
        pregnancy_status=choices["pregnancy_status"],
        due_date=dates["due_date"],
        child_birth_date=dates["child_birth_date"],
        child_name=_clean(raw["child_name"]),
        birth_type=choices["birth_type"],
        boshi_techo_date=dates["boshi_techo_date"],
        tax_status=choices["tax_status"],
        service=choices["service"],
        provider_id=_compact(raw["provider_id"]).upper(),
        start_date=dates["start_date"],
    )
    return application, reasons


def _normalized_or_review(
    value: str,
    normalize: Callable[[str], str],
    key: str,
    code: str,
    reasons: list[Reason],
) -> str:
    """``normalize(value)``; on failure a REVIEW reason and the value as written."""
    if not value.strip():
        return ""
    try:
        return normalize(value)
    except InputError:
        # the library's message quotes the value; ours names the field only
        reasons.append(
            _review(
                code,
                f"「{_label(key)}」の形式が正しくありません。PDFの原本で確認してください。",
                f"'{_label(key)}' is not in a valid format. Check the PDF.",
                key,
            )
        )
        return _clean(value)


# --- 2. the e-application data against its PDF -------------------------------------------------
def cross_check(manifest: Mapping[str, str], pdf: Mapping[str, str]) -> list[Reason]:
    """Compare the e-application data with the fields read from its PDF, field by field.

    Values are compared after width normalisation with spaces removed, so ``０３`` and ``03``
    or ``山田　花子`` and ``山田花子`` agree. Fields not on the form are ignored.

    Args:
        manifest: field key → value from the e-application data (API / CSV).
        pdf: field key → value read from the PDF.

    Returns:
        One REVIEW ``manifest_pdf_mismatch`` per field that disagrees, naming the field only.
    """
    reasons: list[Reason] = []
    for key, label in CHILDCARE_FIELD_LABELS.items():
        if _compact(manifest.get(key, "") or "") != _compact(pdf.get(key, "") or ""):
            reasons.append(
                _review(
                    "manifest_pdf_mismatch",
                    f"「{label}」が申請データとPDFで一致しません。PDFの原本で確認してください。",
                    f"'{label}' differs between the application data and its PDF. Check the PDF.",
                    key,
                )
            )
    return reasons


# --- 3. 本人確認 -----------------------------------------------------------------------------------
def check_applicant(
    app: NormalizedApplication,
    match: ResidentMatch | None,
    settings: Settings,
    *,
    matched_previous_address: bool = False,
) -> list[Reason]:
    """Check the applicant against the best registry candidate (本人確認).

    Scores come from :class:`~civicflow.registry.ResidentIndex`, which compares matching
    keys: a name written with 髙/﨑/邉 or full-width characters scores 100 against the
    registry's 高/崎/辺, so such differences are never flagged.

    Args:
        app: the normalised application.
        match: the best candidate, or None when the registry has none.
        settings: ``auto_accept_score`` is the lowest score accepted without a person.
        matched_previous_address: the applicant's address equals the resident's previous
            address (:attr:`civicflow.registry.CandidateMatch.matched_previous_address`).

    Returns:
        REVIEW reasons; none when every part matches and the score reaches the threshold.
    """
    if match is None:
        return [
            _review(
                "resident_not_found",
                "住民記録に該当する方が見つかりません。氏名・生年月日・住所を確認してください。",
                "No matching resident in the registry. Check the name, birth date and address.",
            )
        ]
    reasons: list[Reason] = []
    if app.applicant_birth_date is not None and not match.birth_date_match:
        reasons.append(
            _review(
                "birth_date_mismatch",
                "生年月日が住民記録と一致しません。",
                "The birth date differs from the registry.",
                "applicant_birth_date",
            )
        )
    if match.kana_score < 100:
        reasons.append(
            _review(
                "kana_mismatch",
                "フリガナが住民記録と一致しません。",
                "The furigana differs from the registry.",
                "applicant_kana",
            )
        )
    if match.name_score < 100:
        reasons.append(
            _review(
                "name_mismatch",
                "氏名が住民記録と一致しません（異体字・全角半角の違いを除く）。",
                "The name differs from the registry (beyond variant kanji and width).",
                "applicant_name",
            )
        )
    if match.address_score < 100:
        if matched_previous_address:
            reasons.append(
                _review(
                    "address_moved",
                    "住所が住民記録の転居前の住所です。現住所を確認してください。",
                    "The address is the resident's previous address. Confirm the current one.",
                    "address",
                )
            )
        else:
            reasons.append(
                _review(
                    "address_mismatch",
                    "住所が住民記録と一致しません。",
                    "The address differs from the registry.",
                    "address",
                )
            )
    if not reasons and match.score < settings.auto_accept_score:
        reasons.append(
            _review(
                "resident_low_score",
                f"住民記録との一致度が基準（{settings.auto_accept_score:g}）に届きません。",
                f"The registry match scores below the threshold ({settings.auto_accept_score:g}).",
            )
        )
    return reasons


# --- 4. 事業者確認 -----------------------------------------------------------------------------------
def check_provider(
    app: NormalizedApplication, provider: Provider | None, on: dt.date
) -> list[Reason]:
    """Check the requested provider against the contract list (事業者確認).

    Args:
        app: the normalised application.
        provider: the contracted provider with the requested number, or None.
        on: the day the service would be used: the requested start date, or the
            submission date when none was given.

    Returns:
        REVIEW reasons: unknown provider, service not contracted, ``on`` outside the
        contract period, applicant's town outside the provider's area.
    """
    if provider is None:
        return [
            _review(
                "provider_unknown",
                "希望事業者番号の委託事業者が見つかりません。",
                "No contracted provider has the requested provider number.",
                "provider_id",
            )
        ]
    reasons: list[Reason] = []
    if app.service and app.service not in provider.services:
        reasons.append(
            _review(
                "provider_service",
                "希望事業者はこのサービスの委託を受けていません。",
                "The provider is not contracted for this service.",
                "service",
            )
        )
    if not provider.contract_start <= on <= provider.contract_end:
        reasons.append(
            _review(
                "provider_contract_period",
                "利用開始日が希望事業者の契約期間外です。",
                "The start date lies outside the provider's contract period.",
                "start_date",
            )
        )
    areas = {fold_variants(_compact(area)) for area in provider.service_area}
    town = fold_variants(town_of(app.address))
    if "*" not in areas and town not in areas:
        reasons.append(
            _review(
                "provider_area",
                "申請者の町名は希望事業者の対応地域外です。",
                "The applicant's town is outside the provider's service area.",
                "address",
            )
        )
    return reasons


# --- 5. 対象要件 ------------------------------------------------------------------------------------
def check_eligibility(app: NormalizedApplication, on: dt.date, settings: Settings) -> list[Reason]:
    """Check the application against the service's conditions (対象要件) on a day.

    * the applicant lives in the ward (the address contains 港区), else REJECT;
    * pregnant (妊娠中): a due date within ``[on, on + childcare_window_before_due_days]``
      (else REJECT; missing → REVIEW) and a 母子健康手帳 issue date (missing → REVIEW);
    * after birth (出産後): the child's birth date, not after ``on`` (REVIEW), and ``on``
      before the child's ``childcare_housework_until_age`` birthday for 家事支援, or before
      ``childcare_doula_until_months`` months after birth for 産後ドゥーラ (else REJECT).

    Args:
        app: the normalised application.
        on: the day eligibility is judged (the submission date).
        settings: the age and window limits.

    Returns:
        The reasons found.
    """
    reasons: list[Reason] = []
    if app.address and WARD not in app.address:
        reasons.append(
            _reject(
                "outside_ward",
                f"住所が{WARD}内ではありません。区内在住の方が対象です。",
                "The address is outside Minato ward; the service is for ward residents.",
                "address",
            )
        )
    if app.pregnancy_status == PREGNANT:
        reasons += _check_pregnancy(app, on, settings)
    elif app.pregnancy_status == AFTER_BIRTH:
        reasons += _check_child_age(app, on, settings)
    return reasons


def _check_pregnancy(app: NormalizedApplication, on: dt.date, settings: Settings) -> list[Reason]:
    reasons: list[Reason] = []
    window = settings.childcare_window_before_due_days
    if app.due_date is None:
        reasons.append(
            _review(
                "due_date_missing",
                "妊娠中ですが出産予定日がありません。",
                "Pregnant, but the due date is missing.",
                "due_date",
            )
        )
    elif not on <= app.due_date <= on + dt.timedelta(days=window):
        reasons.append(
            _reject(
                "due_date_out_of_window",
                f"出産予定日が申請日から{window}日以内ではありません。",
                f"The due date is not within {window} days from the application date.",
                "due_date",
            )
        )
    if app.boshi_techo_date is None:
        reasons.append(
            _review(
                "boshi_techo_missing",
                "妊娠中ですが母子健康手帳交付日がありません。",
                "Pregnant, but the maternal and child health handbook issue date is missing.",
                "boshi_techo_date",
            )
        )
    return reasons


def _check_child_age(app: NormalizedApplication, on: dt.date, settings: Settings) -> list[Reason]:
    birth = app.child_birth_date
    if birth is None:
        return [
            _review(
                "child_birth_date_missing",
                "出産後ですがお子さんの出生日がありません。",
                "After birth, but the child's birth date is missing.",
                "child_birth_date",
            )
        ]
    if birth > on:
        return [
            _review(
                "child_birth_date_in_future",
                "出生日が申請日より後になっています。",
                "The child's birth date is after the application date.",
                "child_birth_date",
            )
        ]
    if app.service == HOUSEWORK:
        years = settings.childcare_housework_until_age
        if on >= add_months(birth, 12 * years):
            return [
                _reject(
                    "not_eligible_age",
                    f"家事支援はお子さんが{years}歳になる前日までです。",
                    f"Housework help ends the day before the child turns {years}.",
                    "child_birth_date",
                )
            ]
    elif app.service == DOULA:
        months = settings.childcare_doula_until_months
        if on >= add_months(birth, months):
            return [
                _reject(
                    "not_eligible_age",
                    f"産後ドゥーラは出生後{months}か月になる前日までです。",
                    f"Postpartum doula help ends the day before {months} months after birth.",
                    "child_birth_date",
                )
            ]
    return []


# --- 6. hours and fees ------------------------------------------------------------------------
def hours_cap(service: str, birth_type: str, child_age_years: int) -> int:
    """The hours a registration may use (利用上限時間).

    家事支援: 128 h from pregnancy to the day before age 1 (including 30 h of 産後ドゥーラ),
    48 h at age 1, 48 h at age 2, nothing from age 3. 産後ドゥーラ: 30 h. Caps are per child:
    a multiple birth (多胎) counts as two children, so the cap doubles (our rule).

    Args:
        service: 家事支援 or 産後ドゥーラ.
        birth_type: 単胎 or 多胎 (blank counts as 単胎).
        child_age_years: the child's age in completed years (0 during pregnancy).

    Returns:
        The cap in hours; 0 for an unknown service or a child past the age limit.
    """
    if service == HOUSEWORK:
        per_child = HOUSEWORK_HOURS_BY_AGE.get(max(child_age_years, 0), 0)
    elif service == DOULA:
        per_child = DOULA_HOURS
    else:
        per_child = 0
    children = CHILDREN_PER_MULTIPLE_BIRTH if birth_type == MULTIPLE_BIRTH else 1
    return per_child * children


def fee_per_hour(tax_status: str, birth_type: str) -> int:
    """The household's fee per hour in yen (利用者負担額).

    ¥750 an hour, ¥500 for a multiple birth; households exempt from resident tax (非課税)
    pay half, households on public assistance (生活保護) pay nothing. A blank or unknown
    tax status pays the full fee (an exemption must be declared).

    Args:
        tax_status: 課税, 非課税 or 生活保護.
        birth_type: 単胎 or 多胎.

    Returns:
        Yen per hour.
    """
    if tax_status == "生活保護":
        return 0
    fee = FEE_PER_HOUR_MULTIPLE if birth_type == MULTIPLE_BIRTH else FEE_PER_HOUR
    return fee // 2 if tax_status == "非課税" else fee


# --- 7. everything together -------------------------------------------------------------------
def verify_application(
    receipt_no: str,
    submitted_at: dt.datetime,
    manifest_fields: Mapping[str, str],
    pdf_fields: Mapping[str, str],
    index: ResidentIndex,
    providers: Mapping[str, Provider],
    settings: Settings,
    on: dt.date,
) -> Verification:
    """Run every check on one application and decide (accept / review / reject).

    The e-application data (manifest) is normalised and checked; its PDF only has to
    agree with it. A REJECT whose field's value is itself in doubt (unreadable, differing
    between data and PDF, or differing from the registry) is lowered to REVIEW: a rejection
    never rests on a value a person has not confirmed. A missing-date reason is dropped when the
    date was present but unreadable (``invalid_date`` already says so).

    Args:
        receipt_no: 受付番号.
        submitted_at: 申請日時.
        manifest_fields: field key → value from the e-application data.
        pdf_fields: field key → value read from the PDF.
        index: the resident registry copy.
        providers: provider number → contracted provider.
        settings: thresholds and limits.
        on: the submission date in JST: the day eligibility is judged, and the day the
            provider's contract must cover when no start date was requested.

    Returns:
        The verification, with the decision from :func:`civicflow.models.decide`.
    """
    reasons = cross_check(manifest_fields, pdf_fields)
    app, found = normalize_application(receipt_no, submitted_at, manifest_fields)
    reasons += found

    candidate = index.match_detail(
        app.applicant_name, app.applicant_kana, app.applicant_birth_date, app.address
    )
    reasons += check_applicant(
        app,
        candidate.match if candidate else None,
        settings,
        matched_previous_address=candidate.matched_previous_address if candidate else False,
    )
    provider = providers.get(app.provider_id)
    reasons += check_provider(app, provider, app.start_date or on)
    reasons += check_eligibility(app, on, settings)

    reasons = _settle(reasons)
    return Verification(
        receipt_no=receipt_no,
        decision=decide(reasons),
        reasons=reasons,
        application=app,
        resident=candidate.match if candidate else None,
        provider_id=provider.provider_id if provider else None,
    )


_MISSING_CODES = frozenset({"due_date_missing", "boshi_techo_missing", "child_birth_date_missing"})
#: Findings that put a field's VALUE in doubt (unlike, say, provider_area on the address).
_DOUBT_CODES = frozenset(
    {
        "missing_field",
        "invalid_date",
        "invalid_postal_code",
        "invalid_phone",
        "invalid_choice",
        "manifest_pdf_mismatch",
        "birth_date_mismatch",
        "address_moved",
        "address_mismatch",
    }
)


def _settle(reasons: list[Reason]) -> list[Reason]:
    """Drop duplicate findings and lower rejections that rest on doubtful fields."""
    unreadable = {r.field for r in reasons if r.code == "invalid_date"}
    doubtful = {r.field for r in reasons if r.code in _DOUBT_CODES and r.field}
    settled: list[Reason] = []
    for reason in reasons:
        if reason.code in _MISSING_CODES and reason.field in unreadable:
            continue
        if reason.severity is Severity.REJECT and reason.field in doubtful:
            reason = reason.model_copy(update={"severity": Severity.REVIEW})
        settled.append(reason)
    return settled


def registration_no(sequence: int) -> str:
    """登録番号: ``03`` and six digits (Minato's registration numbers start with 03).

    Args:
        sequence: 0 to 999,999, e.g. the case's row id.

    Returns:
        e.g. ``"03000042"``.

    Raises:
        ValueError: when the sequence does not fit six digits.
    """
    if not 0 <= sequence <= 999_999:
        raise ValueError(f"registration sequence out of range: {sequence}")
    return f"03{sequence:06d}"
