"""The document Environment: filters, StrictUndefined, autoescape, template folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from civicflow.documents.environment import TEMPLATES_DIR, get_environment


@pytest.mark.parametrize(
    ("source", "value", "expected"),
    [
        ("{{ v | wareki }}", dt.date(2024, 4, 1), "令和6年4月1日"),
        ("{{ v | wareki }}", dt.date(2019, 5, 1), "令和元年5月1日"),
        ("{{ v | wareki }}", dt.datetime(2024, 4, 1, 23, 59), "令和6年4月1日"),
        ("{{ v | wareki }}", None, ""),
        ("{{ v | wareki_short }}", dt.date(2024, 4, 1), "R6.4.1"),
        ("{{ v | wareki_short }}", None, ""),
        ("{{ v | wareki_ym }}", dt.date(2024, 4, 30), "令和6年4月"),
        ("{{ v | yen }}", 1500, "1,500円"),
        ("{{ v | yen }}", 0, "0円"),
        ("{{ v | yen }}", None, ""),
        ("{{ v | mask }}", "山田 花子", "山＊＊＊＊"),
    ],
)
def test_filters(source: str, value: object, expected: str) -> None:
    assert get_environment().from_string(source).render(v=value) == expected


def test_missing_variable_is_an_error_not_a_blank() -> None:
    with pytest.raises(UndefinedError):
        get_environment().from_string("{{ provider.name }}").render()


def test_html_templates_are_autoescaped_text_ones_not(tmp_path: Path) -> None:
    (tmp_path / "a.html.j2").write_text("{{ v }}", encoding="utf-8")
    (tmp_path / "a.txt.j2").write_text("{{ v }}", encoding="utf-8")
    env = get_environment(tmp_path)
    assert env.get_template("a.html.j2").render(v="<b>&") == "&lt;b&gt;&amp;"
    assert env.get_template("a.txt.j2").render(v="<b>&") == "<b>&"


def test_one_environment_per_folder_over_the_repo_templates() -> None:
    assert get_environment() is get_environment()
    assert TEMPLATES_DIR.name == "templates" and (TEMPLATES_DIR / "base.html.j2").is_file()
    assert get_environment().get_template("childcare_request_letter.html.j2")
