"""Whom to notify: line 課長, 担当課長, vacancies, 事務取扱, cycles and missing links."""

from __future__ import annotations

from typing import Any

import pytest

from civicflow.overtime.chain import RecipientResolver, Resolution
from civicflow.overtime.models import (
    ChainProblemKind,
    Post,
    PostKind,
    Roster,
    RouteKind,
    StaffMember,
)


def staff(staff_id: str, unit_code: str, name: str = "") -> StaffMember:
    return StaffMember(staff_id=staff_id, name=name or f"試験 {staff_id}", unit_code=unit_code)


def post(post_id: str, kind: PostKind, **fields: Any) -> Post:
    defaults: dict[str, Any] = {
        "title": post_id,
        "department_code": "11",
        "department_name": "総務部",
    }
    return Post(post_id=post_id, kind=kind, **(defaults | fields))


def roster(posts: list[Post], members: list[StaffMember]) -> Roster:
    return Roster(
        posts={p.post_id: p for p in posts},
        staff={s.staff_id: s for s in members},
    )


# A small ward: 副区長 ← 総務部長 ← 総務課長 / 人事課長; the people who hold the posts.
DEPUTY = post("P0002", PostKind.EXECUTIVE, title="副区長", holder_id="900002")
HEAD = post(
    "P1100", PostKind.DEPARTMENT_HEAD, title="総務部長", parent_post_id="P0002", holder_id="900011"
)
CHIEF_A = post(
    "P1101",
    PostKind.SECTION_HEAD,
    title="総務課長",
    section_code="1101",
    section_name="総務課",
    parent_post_id="P1100",
    holder_id="900101",
    building="本庁舎",
    floor="4階",
    postal_code="105-0011",
)
CHIEF_B = post(
    "P1102",
    PostKind.SECTION_HEAD,
    title="人事課長",
    section_code="1102",
    parent_post_id="P1100",
    holder_id="900102",
)
MANAGERS = [
    staff("900002", "100000"),
    staff("900011", "110000"),
    staff("900101", "110100"),
    staff("900102", "110200"),
    staff("900103", "110200"),
]
WORKER = staff("100001", "110101")  # 総務課 庶務係
WORKER_B = staff("100002", "110102")  # 総務課 another 係
POSTS = [DEPUTY, HEAD, CHIEF_A, CHIEF_B]


def resolve(
    posts: list[Post], staff_id: str = "100001", members: list[StaffMember] | None = None
) -> Resolution:
    people = members if members is not None else [*MANAGERS, WORKER, WORKER_B]
    return RecipientResolver(roster(posts, people)).resolve(staff_id)


def test_line_head_of_the_section() -> None:
    found = resolve(POSTS)
    assert found.recipient_ids == ["900101"]
    assert found.problems == []
    (route,) = found.routes
    assert route.kind is RouteKind.LINE
    assert route.post_path == ("P1101",)
    assert route.description_ja == "総務課長"


def test_responsible_head_of_the_whole_section_is_added() -> None:
    responsible = post(
        "P1101A",
        PostKind.RESPONSIBLE_HEAD,
        title="総務事業担当課長",
        section_code="1101",
        parent_post_id="P1100",
        holder_id="900103",  # 兼務: 人事課's staff holds it
    )
    found = resolve([*POSTS, responsible])
    assert found.recipient_ids == ["900101", "900103"]
    assert [r.kind for r in found.routes] == [RouteKind.LINE, RouteKind.RESPONSIBLE]


def test_responsible_head_covering_one_unit_only() -> None:
    responsible = post(
        "P1101A",
        PostKind.RESPONSIBLE_HEAD,
        section_code="1101",
        covers_units=("110102",),
        parent_post_id="P1100",
        holder_id="900103",
    )
    assert resolve([*POSTS, responsible], "100001").recipient_ids == ["900101"]
    assert resolve([*POSTS, responsible], "100002").recipient_ids == ["900101", "900103"]


def test_one_person_holding_both_posts_is_one_recipient() -> None:
    responsible = post(
        "P1101A",
        PostKind.RESPONSIBLE_HEAD,
        title="総務計画担当課長",
        section_code="1101",
        parent_post_id="P1100",
        holder_id="900101",
    )
    found = resolve([*POSTS, responsible])
    assert found.recipient_ids == ["900101"]
    assert len(found.routes) == 2
    resolver = RecipientResolver(roster([*POSTS, responsible], [*MANAGERS, WORKER]))
    recipient = resolver.recipient("900101", found.routes)
    assert recipient.title == "総務課長"  # the line post outranks the 担当課長 post
    assert recipient.roles == ("総務課長", "総務計画担当課長")


def test_vacancy_walks_up_to_the_department_head() -> None:
    vacant = CHIEF_A.model_copy(update={"holder_id": None})
    found = resolve([DEPUTY, HEAD, vacant, CHIEF_B])
    assert found.recipient_ids == ["900011"]
    assert found.routes[0].post_path == ("P1101", "P1100")
    assert found.routes[0].description_ja == "総務課長（欠員） → 総務部長"


def test_acting_head_takes_the_vacant_post() -> None:
    vacant = CHIEF_A.model_copy(update={"holder_id": None, "acting_post_id": "P1102"})
    posts = [DEPUTY, HEAD, vacant, CHIEF_B]
    found = resolve(posts)
    assert found.recipient_ids == ["900102"]  # the 人事課長 acts, not the 部長
    assert found.routes[0].description_ja == "総務課長（欠員） → 人事課長（事務取扱）"
    recipient = RecipientResolver(roster(posts, [*MANAGERS, WORKER])).recipient(
        "900102", found.routes
    )
    assert recipient.roles == ("人事課長", "総務課長事務取扱")
    assert "事務取扱" in recipient.addressee_title


def test_vacancies_walk_up_past_a_vacant_department_head() -> None:
    posts = [
        DEPUTY,
        HEAD.model_copy(update={"holder_id": None}),
        CHIEF_A.model_copy(update={"holder_id": None}),
        CHIEF_B,
    ]
    found = resolve(posts)
    assert found.recipient_ids == ["900002"]
    assert found.routes[0].post_path == ("P1101", "P1100", "P0002")


def test_a_cycle_goes_to_review() -> None:
    posts = [
        DEPUTY,
        HEAD,
        CHIEF_A.model_copy(update={"holder_id": None, "acting_post_id": "P1102"}),
        CHIEF_B.model_copy(update={"holder_id": None, "acting_post_id": "P1101"}),
    ]
    found = resolve(posts)
    assert found.routes == []
    (problem,) = found.problems
    assert problem.kind is ChainProblemKind.CYCLE
    assert problem.post_path == ("P1101", "P1102", "P1101")
    assert "循環" in problem.message_ja
    assert "loops" in problem.message_en


def test_a_missing_parent_goes_to_review() -> None:
    posts = [
        DEPUTY,
        HEAD,
        CHIEF_A.model_copy(update={"holder_id": None, "parent_post_id": "P9901"}),
    ]
    (problem,) = resolve(posts).problems
    assert problem.kind is ChainProblemKind.MISSING_LINK
    assert problem.post_path == ("P1101", "P9901")
    assert problem.route is RouteKind.LINE


def test_a_vacant_post_with_nowhere_to_go_goes_to_review() -> None:
    posts = [CHIEF_A.model_copy(update={"holder_id": None, "parent_post_id": None})]
    (problem,) = resolve(posts).problems
    assert problem.kind is ChainProblemKind.MISSING_LINK
    assert "欠員" in problem.message_ja


def test_a_section_without_a_head_post_goes_to_review() -> None:
    found = resolve([DEPUTY, HEAD, CHIEF_B])
    assert found.routes == []
    assert [p.kind for p in found.problems] == [ChainProblemKind.MISSING_LINK]
    assert "1101" in found.problems[0].message_ja


def test_a_holder_missing_from_the_staff_list_goes_to_review() -> None:
    posts = [DEPUTY, HEAD, CHIEF_A.model_copy(update={"holder_id": "999999"}), CHIEF_B]
    (problem,) = resolve(posts).problems
    assert problem.kind is ChainProblemKind.UNKNOWN_HOLDER
    assert "999999" in problem.message_ja


def test_staff_not_in_the_roster_goes_to_review() -> None:
    found = resolve(POSTS, "555555")
    assert [p.kind for p in found.problems] == [ChainProblemKind.NOT_IN_ROSTER]


def test_a_section_head_over_the_cap_goes_to_their_own_head() -> None:
    found = resolve(POSTS, "900101")
    assert found.recipient_ids == ["900011"]
    assert found.routes[0].description_ja == "総務課長（本人） → 総務部長"


def test_staff_directly_under_a_department_go_to_its_head() -> None:
    members = [*MANAGERS, staff("100009", "110000")]
    assert resolve(POSTS, "100009", members).recipient_ids == ["900011"]


@pytest.mark.parametrize(
    ("holder", "expected"),
    [("900101", ["900101"]), (None, ["900011"])],
)
def test_problems_never_raise_and_routes_are_independent(
    holder: str | None, expected: list[str]
) -> None:
    broken = post(
        "P1101A",
        PostKind.RESPONSIBLE_HEAD,
        section_code="1101",
        parent_post_id="P9999",
        holder_id=None,
    )
    posts = [DEPUTY, HEAD, CHIEF_A.model_copy(update={"holder_id": holder}), CHIEF_B, broken]
    found = resolve(posts)
    assert found.recipient_ids == expected  # the line route still resolves
    assert [p.route for p in found.problems] == [RouteKind.RESPONSIBLE]


def test_recipient_carries_the_address_of_the_primary_post() -> None:
    resolver = RecipientResolver(roster(POSTS, [*MANAGERS, WORKER]))
    found = resolver.resolve("100001")
    recipient = resolver.recipient("900101", found.routes)
    assert (recipient.building, recipient.floor, recipient.postal_code) == (
        "本庁舎",
        "4階",
        "105-0011",
    )
    assert recipient.post_ids == ("P1101",)
