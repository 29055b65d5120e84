"""What reviewers type, made into the values a clerk enters."""

from __future__ import annotations

import pytest

from civicflow.bus_pass.entries import EntryError, normalize_entry, same_value
from civicflow.forms import load_form

FIELDS = {f.id: f for f in load_form("bus_pass").fields}


@pytest.mark.parametrize(
    ("field_id", "typed", "entered"),
    [
        ("birth_date", "昭和25年4月3日", "1950-04-03"),
        ("birth_date", "S25.4.3", "1950-04-03"),
        ("birth_date", "1950-04-03", "1950-04-03"),
        ("furigana", "やまだ\u3000はなこ", "ヤマダ ハナコ"),
        ("furigana", "ﾔﾏﾀﾞ", "ヤマダ"),
        ("postal_code", "１０５００１１", "105-0011"),
        ("phone", "0312345678", "03-1234-5678"),
        ("phone", "090-1234-5678", "090-1234-5678"),
        ("handbook_number", "１２３４", "1234"),
        ("eligibility", "age70, shintai", ["age70", "shintai"]),
        ("eligibility", "70歳以上", ["age70"]),
        ("eligibility", "", []),
        ("gender", "女", ["女"]),
        ("name", " 山田\u3000 花子 ", "山田 花子"),
        ("address", "東京都港区芝公園１－２－３", "東京都港区芝公園1-2-3"),
    ],
)
def test_typed_values_are_normalised(field_id: str, typed: str, entered: object) -> None:
    assert normalize_entry(FIELDS[field_id], typed) == entered


@pytest.mark.parametrize(
    ("field_id", "typed", "message"),
    [
        ("birth_date", "昭和65年1月1日", "日付"),
        ("birth_date", "2月30日", "日付"),
        ("postal_code", "105-001", "7桁"),
        ("phone", "12345", "電話番号"),
        ("handbook_number", "12a4", "数字"),
        ("furigana", "山田", "カタカナ"),
        ("eligibility", "age60", "選択肢"),
        ("gender", "男,女", "1つだけ"),
    ],
)
def test_values_that_cannot_be_entered_are_refused(field_id: str, typed: str, message: str) -> None:
    with pytest.raises(EntryError) as caught:
        normalize_entry(FIELDS[field_id], typed)
    assert message in caught.value.message_ja
    assert caught.value.message_ja.startswith(f"【{FIELDS[field_id].label}】")


def test_double_entries_compare_as_a_clerk_would() -> None:
    assert same_value(FIELDS["name"], "髙橋\u3000一郎", "高橋一郎")
    assert same_value(FIELDS["furigana"], "ヤマダ ハナコ", "ヤマダハナコ")
    assert not same_value(FIELDS["birth_date"], "1950-04-03", "1950-04-08")
    assert same_value(FIELDS["eligibility"], ["shintai", "age70"], ["age70", "shintai"])
