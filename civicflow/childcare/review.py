"""What a reviewer sees for each doubtful application (確認画面の内容).

The review form is the one place where personal data is shown outside the store:
the reviewer must compare the application with the registry to decide. Nothing
here is logged.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy.orm import Session

from civicflow import models
from civicflow.japanese import to_wareki, try_parse_date
from civicflow.store import repositories as repo
from civicflow.store.schema import ResidentRow, ReviewItemRow

ROWS: tuple[tuple[str, str], ...] = (
    ("applicant_name", "氏名"),
    ("applicant_kana", "フリガナ"),
    ("applicant_birth_date", "生年月日"),
    ("address", "住所"),
    ("phone", "電話番号"),
)
REGISTRY_ATTR = {
    "applicant_name": "name",
    "applicant_kana": "name_kana",
    "applicant_birth_date": "birth_date",
    "address": "address",
    "phone": "phone",
}


class ReviewCard(BaseModel):
    """One item as the review form shows it."""

    item_id: int
    receipt_no: str
    markdown: str
    resident_id: str
    provider_id: str


def _cell(value: object) -> str:
    text = str(value or "").replace("|", "｜").replace("\n", " ")
    return text or "—"


def _date_cell(value: object) -> str:
    text = str(value or "")
    parsed = try_parse_date(text)
    return f"{text}（{to_wareki(parsed)}）" if parsed and text != to_wareki(parsed) else _cell(text)


def build_cards(session: Session, items: list[ReviewItemRow]) -> list[ReviewCard]:
    """The review cards for the given pending items, with registry and provider facts."""
    providers = repo.load_providers(session)
    cards = []
    for item in items:
        app = repo.get_application(session, item.item_ref)
        fields = {**(app.fields if app else {}), **(app.pdf_fields if app else {})}
        resident_id = str(item.proposed.get("resident_id") or "")
        resident = session.get(ResidentRow, resident_id) if resident_id else None
        provider_id = str(item.proposed.get("provider_id") or fields.get("provider_id", ""))
        lines = [
            f"### 受付番号 {item.item_ref}（確認番号 item_id = {item.id}）",
            "",
            "**確認が必要な理由 / Why this needs a person:**",
            "",
        ]
        for reason in item.reasons:
            label = models.CHILDCARE_FIELD_LABELS.get(str(reason.get("field") or ""), "")
            where = f"【{label}】" if label else ""
            lines.append(
                f"- {where}{reason.get('message_ja', '')} — _{reason.get('message_en', '')}_"
                f" (`{reason.get('code', '')}`)"
            )
        score = item.proposed.get("resident_score")
        lines += [
            "",
            f"| 項目 | 申請内容 | 住民記録 ({resident_id or '該当なし'}"
            f"{f', 一致度 {float(score):.0f}' if score else ''}) |",
            "|---|---|---|",
        ]
        for key, label in ROWS:
            registry_value = getattr(resident, REGISTRY_ATTR[key], "") if resident else ""
            if key == "applicant_birth_date":
                applied, registered = _date_cell(fields.get(key)), _date_cell(registry_value)
            else:
                applied, registered = _cell(fields.get(key)), _cell(registry_value)
            lines.append(f"| {label} | {applied} | {registered} |")
        if resident is not None and resident.previous_address:
            lines.append(f"| 前住所 | | {_cell(resident.previous_address)} |")
        for key in ("pregnancy_status", "due_date", "child_birth_date", "service", "start_date"):
            lines.append(f"| {models.CHILDCARE_FIELD_LABELS[key]} | {_cell(fields.get(key))} | |")
        provider = providers.get(provider_id)
        if provider is not None:
            area = "区内全域" if "*" in provider.service_area else "・".join(provider.service_area)
            lines += [
                "",
                f"**希望事業者** {provider.provider_id} {provider.name}: "
                f"サービス {'・'.join(provider.services)} / 対象地域 {area} / "
                f"契約期間 {to_wareki(provider.contract_start)}〜{to_wareki(provider.contract_end)}",
            ]
        else:
            lines += ["", f"**希望事業者** {_cell(provider_id)}: 契約事業者一覧にありません"]
        cards.append(
            ReviewCard(
                item_id=item.id,
                receipt_no=item.item_ref,
                markdown="\n".join(lines),
                resident_id=resident_id,
                provider_id=provider_id,
            )
        )
    return cards


def review_description(cards: list[ReviewCard], pending_total: int) -> str:
    """The markdown shown above the review form."""
    head = [
        "## 産前産後家事・育児支援サービス 申請の確認 / Applications to review",
        "",
        f"この画面で {len(cards)} 件を確認します（確認待ち合計 {pending_total} 件）。"
        "各項目の **decision** を選んでください: "
        "`approve` 承認して登録 / `correct` 修正して登録（corrections に項目名と正しい値、"
        "または resident_id・provider_id を変更）/ `reject` 却下 / `later` 保留（次回の実行で再表示）。"
        "**reviewer** に氏名を入れて送信すると登録されます。",
        "",
        "Choose a decision per item: approve, correct (put field → value in corrections, or "
        "change resident_id / provider_id), reject, or later (offered again next run). "
        "Fill in **reviewer** and submit.",
        "",
        "---",
    ]
    return "\n".join(head + [c.markdown + "\n\n---" for c in cards])
