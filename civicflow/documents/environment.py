"""The one jinja2 Environment that renders every document template.

Templates live in the repository's top-level ``templates/`` folder (the project is
installed in editable mode, so the folder is found relative to this package).
Tests may point :func:`get_environment` at another folder.

Filters available to every template:

* ``wareki``: a date in 和暦, ``date(2024, 4, 1)`` → ``令和6年4月1日`` (``None`` → ``""``)
* ``wareki_short``: ``date(2024, 4, 1)`` → ``R6.4.1`` (``None`` → ``""``)
* ``wareki_ym``: ``date(2024, 4, 1)`` → ``令和6年4月`` (``None`` → ``""``)
* ``yen``: ``1500`` → ``1,500円`` (``None`` → ``""``)
* ``mask``: a personal name masked for counting documents (:func:`civicflow.models.mask_name`)
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from civicflow.japanese import to_wareki, wareki_year_month
from civicflow.models import mask_name

#: ``<repo>/templates``: civicflow/documents/environment.py → parents[2] is the repo root.
TEMPLATES_DIR: Path = Path(__file__).resolve().parents[2] / "templates"


def _as_date(value: dt.date) -> dt.date:
    """A datetime prints as its calendar date (to_wareki takes dates)."""
    return value.date() if isinstance(value, dt.datetime) else value


def wareki_filter(value: dt.date | None) -> str:
    """``date(2024, 4, 1)`` → ``令和6年4月1日``; ``None`` → ``""``."""
    return "" if value is None else to_wareki(_as_date(value), style="kanji")


def wareki_short_filter(value: dt.date | None) -> str:
    """``date(2024, 4, 1)`` → ``R6.4.1``; ``None`` → ``""``."""
    return "" if value is None else to_wareki(_as_date(value), style="short")


def wareki_ym_filter(value: dt.date | None) -> str:
    """``date(2024, 4, 1)`` → ``令和6年4月``; ``None`` → ``""``."""
    return "" if value is None else wareki_year_month(_as_date(value))


def yen_filter(value: int | None) -> str:
    """``1500`` → ``1,500円``; ``None`` → ``""``."""
    return "" if value is None else f"{value:,}円"


def build_environment(templates_dir: Path = TEMPLATES_DIR) -> Environment:
    """Create a document Environment over ``templates_dir`` (use :func:`get_environment`).

    Args:
        templates_dir: The folder holding the ``*.j2`` templates.

    Returns:
        An Environment with ``StrictUndefined`` (a missing variable is an error, not a
        blank on a letter), autoescape for HTML/XML templates and the document filters.
    """
    env = Environment(
        loader=FileSystemLoader(templates_dir),
        undefined=StrictUndefined,
        autoescape=select_autoescape(
            enabled_extensions=("html", "htm", "xml", "html.j2", "htm.j2", "xml.j2"),
            default_for_string=True,
            default=False,
        ),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["wareki"] = wareki_filter
    env.filters["wareki_short"] = wareki_short_filter
    env.filters["wareki_ym"] = wareki_ym_filter
    env.filters["yen"] = yen_filter
    env.filters["mask"] = mask_name
    return env


@lru_cache(maxsize=4)
def get_environment(templates_dir: Path | None = None) -> Environment:
    """The process-wide document Environment (one per templates folder, cached).

    Args:
        templates_dir: Override the templates folder (tests); ``None`` uses
            :data:`TEMPLATES_DIR`, the repository's ``templates/``.

    Returns:
        The cached Environment for that folder.
    """
    return build_environment(TEMPLATES_DIR if templates_dir is None else templates_dir)
