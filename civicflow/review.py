"""The review queue's bookkeeping shared by every process (確認待ちの管理)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from civicflow.settings import Settings
from civicflow.store.db import session_scope
from civicflow.store.schema import ReviewItemRow


def measured_review_seconds(settings: Settings, item_ids: list[int], answered: int) -> float:
    """Reviewer time when not stated: offered → now, capped per answered item."""
    with session_scope(settings.db_url) as session:
        offered = [
            row.last_offered_at
            for row in session.scalars(select(ReviewItemRow).where(ReviewItemRow.id.in_(item_ids)))
            if row.last_offered_at is not None
        ]
    if not offered or not answered:
        return 0.0
    first = min(o if o.tzinfo else o.replace(tzinfo=dt.UTC) for o in offered)
    return seconds_since(first, answered, settings.review_seconds_cap_per_item)


def seconds_since(offered: dt.datetime, answered: int, cap_per_item: float) -> float:
    """Reviewer time when not stated: offered → now, capped per answered item.

    A form left open overnight is not work; nothing answered counts nothing.
    """
    elapsed = (dt.datetime.now(dt.UTC) - offered).total_seconds()
    return max(0.0, min(elapsed, answered * cap_per_item))
