"""What a reviewer sees for each doubtful paper form (確認画面の内容).

Each flagged field is shown as the crop of the applicant's handwriting beside the
machine's reading and, where the registry or the postal-code list suggests a spelling,
that proposal. The crops are small grey PNGs embedded in the markdown (the Prefect UI
shows ``data:`` images), so the screen needs no file server. The review form is the one
place outside the store where personal data appears; nothing here is logged.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from civicflow.bus_pass.entries import display_value, field_map
from civicflow.bus_pass.pipeline import ReviewAnswer, ReviewCard
from civicflow.forms.definition import FormDefinition
from civicflow.store.schema import ReviewItemRow


class FieldEntry(BaseModel):
    """One field on the review form: prefilled with the reading, editable."""

    field_id: str
    label: str = ""
    value: str = ""


class FormAnswer(BaseModel):
    """The reviewer's answer on one paper form."""

    item_id: int
    form_ref: str = ""  # shown to the reviewer; item_id is what counts
    decision: Literal["approve", "reject", "later"] = "later"
    fields: list[FieldEntry] = Field(default_factory=list)
    comment: str = ""

    def answer(self) -> ReviewAnswer:
        """As the pipeline takes it."""
        return ReviewAnswer(
            item_id=self.item_id,
            decision=self.decision,
            values={e.field_id: e.value for e in self.fields},
            comment=self.comment,
        )


def _image(path: str, alt: str) -> str:
    file = Path(path)
    if not file.is_file():
        return "（画像なし / no image）"
    data = base64.b64encode(file.read_bytes()).decode("ascii")
    return f"![{alt}](data:image/png;base64,{data})"


def _cell(value: Any) -> str:
    text = display_value(value).replace("|", "｜").replace("\n", " ")
    return text or "（空欄）"


def build_card(form: FormDefinition, item: ReviewItemRow) -> ReviewCard:
    """The review card of one waiting form (stage first: every flagged field; second:
    the critical fields only, blank, for the independent second entry)."""
    fields = field_map(form)
    proposed: dict[str, Any] = dict(item.proposed)
    stage: Literal["first", "second"] = "second" if proposed.get("stage") == "second" else "first"
    values: dict[str, Any] = dict(proposed.get("values", {}))
    crops: dict[str, str] = dict(proposed.get("crops", {}))
    proposals: dict[str, str] = dict(proposed.get("proposals", {}))
    where = f"{proposed.get('file', '')} {proposed.get('page', 1)}ページ"
    lines = [f"### 帳票 {item.item_ref}（確認番号 item_id = {item.id}）", "", f"_{where}_", ""]
    if stage == "first":
        wanted = [fid for fid in proposed.get("flagged", []) if fid in fields]
        lines += ["**確認が必要な理由 / Why this needs a person:**", ""]
        for reason in item.reasons:
            label = fields[reason["field"]].label if reason.get("field") in fields else ""
            lines.append(
                f"- {f'【{label}】' if label else ''}{reason.get('message_ja', '')} — "
                f"_{reason.get('message_en', '')}_ (`{reason.get('code', '')}`)"
            )
        lines += ["", "| 項目 | 手書き | 読取結果 | 候補（住民記録等） |", "|---|---|---|---|"]
        for fid in wanted:
            f = fields[fid]
            lines.append(
                f"| {f.label} | {_image(crops.get(fid, ''), f.label)} | {_cell(values.get(fid))} "
                f"| {_cell(proposals.get(fid, ''))} |"
            )
        if any(f.type == "checkbox_group" for fid in wanted for f in [fields[fid]]):
            for fid in wanted:
                f = fields[fid]
                if f.type == "checkbox_group":
                    options = "、".join(f"`{o.value}`={o.label}" for o in f.options)
                    lines.append(f"\n{f.label} の値 / values: {options}（複数はカンマ区切り）")
        sure = [
            f"{fields[k].label}: {_cell(v)}"
            for k, v in values.items()
            if k in fields and k not in wanted
        ]
        if sure:
            lines += ["", "自動確定した項目 / accepted by the machine: " + " ／ ".join(sure)]
        prefill = [(fid, fields[fid].label, display_value(values.get(fid))) for fid in wanted]
    else:
        wanted = [fid for fid in proposed.get("critical", []) if fid in fields]
        first = [str(e.get("reviewer", "")) for e in proposed.get("entries", [])]
        lines += [
            f"**2人目の入力 / second entry** — 重要項目を画像から入力してください。"
            f"1人目（{'・'.join(first)}）の入力は表示しません。"
            " Type the critical fields from the images; the first entry is hidden.",
            "",
            "| 項目 | 手書き |",
            "|---|---|",
        ]
        lines += [
            f"| {fields[fid].label} | {_image(crops.get(fid, ''), fields[fid].label)} |"
            for fid in wanted
        ]
        if proposed.get("disagreed"):
            lines += ["", "⚠ 前回の2人の入力が一致しませんでした / earlier entries disagreed."]
        prefill = [(fid, fields[fid].label, "") for fid in wanted]
    return ReviewCard(
        item_id=item.id,
        form_ref=item.item_ref,
        stage=stage,
        markdown="\n".join(lines),
        fields=prefill,
    )


def initial_answers(cards: list[ReviewCard]) -> list[FormAnswer]:
    """The form's prefilled answers: every decision ``later`` until the reviewer picks."""
    return [
        FormAnswer(
            item_id=c.item_id,
            form_ref=c.form_ref,
            fields=[
                FieldEntry(field_id=fid, label=label, value=value) for fid, label, value in c.fields
            ],
        )
        for c in cards
    ]


def review_description(
    cards: list[ReviewCard], pending_total: int, *, round_no: int, not_reviewer: list[str]
) -> str:
    """The markdown above the review form."""
    head = [
        f"## コミュニティバス無料乗車券 申請書の確認（{round_no}回目）/ Paper forms to review",
        "",
        f"この画面で {len(cards)} 枚を確認します（確認待ち合計 {pending_total} 枚）。"
        "各帳票の **fields** の値を画像と見比べ、誤りがあれば直してください。"
        "**decision** を `approve`（交付）、`reject`（不交付）、`later`（保留: 次回再表示）から選び、"
        "**reviewer** に氏名（職員番号）を入れて送信します。"
        "氏名・生年月日は2人の職員の入力が一致して初めて確定します（ダブルエントリー）。",
        "",
        "Compare each field with its image and fix the value if needed; choose approve (issue), "
        "reject, or later; fill in **reviewer** and submit. Name and birth date are final only "
        "when two different reviewers typed the same (double entry).",
    ]
    if not_reviewer:
        head += [
            "",
            f"**この画面は {'・'.join(not_reviewer)} 以外の職員が入力してください。"
            "同じ職員の入力は2人目として数えません。** / Must be answered by someone other than "
            f"{', '.join(not_reviewer)}.",
        ]
    return "\n".join([*head, "", "---", *[c.markdown + "\n\n---" for c in cards]])
