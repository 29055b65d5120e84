"""Form definitions (帳票定義): the bus-pass YAML loads, broken YAML fails clearly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from civicflow.forms import (
    FIELD_TYPES,
    FormDefinitionError,
    list_forms,
    load_form,
    load_form_file,
)


def _write(folder: Path, data: dict[str, Any], name: str | None = None) -> Path:
    path = folder / f"{name or data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_bus_pass_loads_with_every_field_the_office_needs() -> None:
    form = load_form("bus_pass")
    assert form.id == "bus_pass" and form.version == "1"
    assert (form.page.width, form.page.height) == (210, 297)
    assert len(form.registration_marks) == 4
    ids = [f.id for f in form.fields]
    assert ids == [
        "application_date",
        "furigana",
        "name",
        "gender",
        "birth_date",
        "postal_code",
        "address",
        "phone",
        "eligibility",
        "handbook_number",
    ]
    assert {f.type for f in form.fields} <= set(FIELD_TYPES)
    assert "bus_pass" in list_forms()


def test_review_policy_birth_date_always_and_two_reviewers_for_name_and_birth() -> None:
    form = load_form("bus_pass")
    assert form.field("birth_date").review.always_review
    assert {f.id for f in form.fields if f.review.critical} == {"name", "birth_date"}
    assert [f.id for f in form.fields if f.review.always_review] == ["birth_date"]


def test_layout_cells_lie_inside_their_boxes() -> None:
    form = load_form("bus_pass")
    birth = form.field("birth_date")
    assert [c.name for c in birth.cells] == [
        "era:昭和",
        "era:平成",
        "era:令和",
        "year.0",
        "year.1",
        "month.0",
        "month.1",
        "day.0",
        "day.1",
    ]
    assert len(form.field("postal_code").cells) == 7
    assert len(form.field("phone").cells) == 11
    assert [c.value for c in form.field("gender").cells] == ["男", "女"]
    assert len(form.field("eligibility").layout.group("option:")) == 10
    for f in form.fields:
        for cell in f.cells:
            assert cell.rect.inside(f.box), (f.id, cell.name)
    # the postal code's printed "-" sits in a gap between the third and fourth cells
    postal = form.field("postal_code").cells
    assert postal[3].rect.x - postal[2].rect.right == pytest.approx(4.0)


def test_the_top_left_mark_is_larger_so_orientation_can_be_told() -> None:
    marks = {m.id: m for m in load_form("bus_pass").registration_marks}
    assert marks["tl"].size > max(m.size for k, m in marks.items() if k != "tl")


@pytest.mark.parametrize(
    ("field_id", "value", "problems"),
    [
        ("furigana", "ヤマダ ハナコ", []),
        ("furigana", "やまだ はなこ", ["charset"]),
        ("name", "髙橋 一郎", []),
        ("name", "山田3", ["charset"]),
        ("postal_code", "105-0011", []),
        ("postal_code", "1050011", ["pattern"]),
        ("phone", "03-1234-5678", []),
        ("phone", "0312345678", ["pattern"]),
        ("birth_date", "1948-05-01", []),
        ("birth_date", "2030-01-01", ["range"]),
        ("birth_date", "昭和23年", ["not_a_date"]),
        ("handbook_number", "123", ["min_length"]),
        ("handbook_number", "12a45", ["charset"]),
        ("handbook_number", "", []),
        ("name", "", ["required"]),
    ],
)
def test_validators_check_the_normalised_value(
    field_id: str, value: str, problems: list[str]
) -> None:
    field = load_form("bus_pass").field(field_id)
    assert field.check_value(value, today=dt.date(2025, 6, 30)) == problems


def test_a_second_form_is_added_by_yaml_only(tiny_forms_dir: Path) -> None:
    form = load_form("tiny", forms_dir=tiny_forms_dir)
    assert form.size_px(200) == (1165, 1654)
    assert form.field("agree").cells[0].kind == "check"
    assert list_forms(tiny_forms_dir) == ["tiny"]


def _tiny(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((folder / "tiny.yaml").read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("1__box", [40, 50, 96, 9]),
            "field 'name' box [40.0, 40.0, 96.0, 14.0] overlaps field 'kana' box",
        ),
        (("0__type", "signature"), "fields[0] (name).type: Input should be 'kanji_name'"),
        (
            ("0__box", [40, 40, 120, 14]),
            "field 'name' box [40.0, 40.0, 120.0, 14.0] lies off the page (148 x 210 mm)",
        ),
        (("3__comb", 6), "a postal code has comb: 7"),
        (("1__id", "name"), "field id 'name' is used twice"),
        (("0__lenght", 3), "fields[0] (name).lenght: Extra inputs are not permitted"),
        (("2__box", [40, 63, 50, 13]), "eras and year/month/day cells need"),
        (("2__eras", ["昭和", "西暦"]), "unknown era '西暦'"),
    ],
    ids=[
        "overlap",
        "unknown-type",
        "off-page",
        "postal-comb",
        "duplicate-id",
        "typo",
        "date-too-narrow",
        "era",
    ],
)
def test_broken_yaml_fails_with_a_clear_message(
    tiny_forms_dir: Path, change: tuple[str, Any], expected: str
) -> None:
    data = _tiny(tiny_forms_dir)
    index, key = change[0].split("__")
    data["fields"][int(index)][key] = change[1]
    path = _write(tiny_forms_dir, data)
    with pytest.raises(FormDefinitionError) as caught:
        load_form_file(path)
    assert expected in caught.value.message_en
    assert "tiny.yaml" in caught.value.message_en and "tiny.yaml" in caught.value.message_ja
    assert caught.value.code == "form-definition"


def test_unknown_form_lists_the_known_ones(tiny_forms_dir: Path) -> None:
    with pytest.raises(FormDefinitionError, match="known forms: tiny"):
        load_form("bus_pas", forms_dir=tiny_forms_dir)


def test_file_name_must_match_the_id(tiny_forms_dir: Path) -> None:
    path = _write(tiny_forms_dir, _tiny(tiny_forms_dir), name="other")
    with pytest.raises(FormDefinitionError, match="must match the file name"):
        load_form_file(path)


def test_not_yaml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(FormDefinitionError, match="not valid YAML"):
        load_form_file(path)
