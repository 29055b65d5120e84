"""The automation catalog (業務カタログ): each process's description, owner and manual fallback.

Know-how vanished in an audited ward when staff moved; every automation therefore carries,
once, in ``data/catalog.yaml``: its name, owning section and person, the manual baseline,
the annual volume, inputs, outputs, schedule, and the steps to do by hand when it is down.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, Field

CATALOG_PATH = Path(__file__).resolve().parent.parent / "data" / "catalog.yaml"


class CatalogEntry(BaseModel):
    """One automated process, as the next person in charge needs to know it."""

    name: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    department: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    baseline_minutes_per_case: float = Field(gt=0)
    annual_volume: int = Field(gt=0)
    schedule: str = Field(min_length=1)
    inputs: list[str] = Field(min_length=1)
    outputs: list[str] = Field(min_length=1)
    manual_fallback: list[str] = Field(min_length=1)

    @property
    def annual_hours_by_hand(self) -> float:
        """What the process costs by hand in a year (hours)."""
        return self.baseline_minutes_per_case * self.annual_volume / 60


def load_catalog(path: Path = CATALOG_PATH) -> dict[str, CatalogEntry]:
    """The catalog, keyed by flow name; a missing field fails loudly."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {flow: CatalogEntry.model_validate(entry) for flow, entry in raw.items()}


def catalog_markdown(catalog: dict[str, CatalogEntry]) -> str:
    """The catalog as a readable Markdown document."""
    total = sum(e.annual_hours_by_hand for e in catalog.values())
    lines = [
        "# 業務カタログ / Automation catalog",
        "",
        f"自動化した業務 {len(catalog)} 件、手作業なら年間 約 {total:,.0f} 時間。"
        f" / {len(catalog)} automated processes, about {total:,.0f} hours a year by hand.",
        "",
        "| フロー | 業務 | 所管 | 担当 | 手作業 (分/件) | 年間件数 | 実行 |",
        "|---|---|---|---|---:|---:|---|",
    ]
    lines += [
        f"| `{flow}` | {e.name} | {e.department} | {e.owner} | {e.baseline_minutes_per_case:g} "
        f"| {e.annual_volume:,} | {e.schedule} |"
        for flow, e in catalog.items()
    ]
    for flow, e in catalog.items():
        lines += ["", f"## {e.name} (`{flow}`)", "", f"_{e.name_en}_", ""]
        lines += [f"- 所管 / owner: {e.department} — {e.owner}", f"- 実行 / schedule: {e.schedule}"]
        lines += ["", "**入力 / inputs**", ""] + [f"- {i}" for i in e.inputs]
        lines += ["", "**出力 / outputs**", ""] + [f"- {o}" for o in e.outputs]
        lines += ["", "**ロボット停止時の手順 / when the robot is down**", ""]
        lines += [f"{n}. {step}" for n, step in enumerate(e.manual_fallback, start=1)]
    return "\n".join(lines) + "\n"
