"""Whom a notice goes to: the line 課長, any 担当課長, and the walk past vacancies.

For a staff member in 課 ``S`` (the first four digits of their 所属コード):

1. **Line**: the 課長 (or 室長) post of ``S``; for staff directly under a 部 (課 code
   ``DD00``), the 部長 post of the 部.
2. **Responsible**: every 担当課長 post attached to ``S`` whose 担当係コード is blank
   (the whole 課) or lists the staff member's 係.
3. From each starting post, walk until a post held by someone else is found:
   a vacant post (欠員) goes to the post marked 事務取扱 for it, or else up to its
   上位職コード (課長 → 部長 → 副区長 …); a post the staff member holds themselves
   (a 課長 over the cap) goes up to its 上位職.

What cannot be followed becomes a :class:`~civicflow.overtime.models.ChainProblem` for a
person to decide, never an exception: a cycle (two vacancies acting for each other), a
missing link (no 課長 post, a code pointing at no post, a vacant post with nowhere to go),
a holder not in the 職員名簿, or a staff member not in the roster at all. One person
reached by two routes (課長 and 担当課長 held concurrently, 兼務) receives one notice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Final

from civicflow.overtime.models import (
    DEPARTMENT_CODE_LENGTH,
    SECTION_CODE_LENGTH,
    ChainProblem,
    ChainProblemKind,
    Post,
    PostKind,
    Recipient,
    Roster,
    Route,
    RouteKind,
)

#: Rank of a post kind when choosing a person's primary post (their title on a label).
KIND_RANK: Final = {
    PostKind.EXECUTIVE: 0,
    PostKind.DEPARTMENT_HEAD: 1,
    PostKind.SECTION_HEAD: 2,
    PostKind.RESPONSIBLE_HEAD: 3,
}


@dataclass
class Resolution:
    """The routes found for one staff member, and the problems met on the way."""

    staff_id: str
    routes: list[Route] = field(default_factory=list)
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def recipient_ids(self) -> list[str]:
        """Distinct recipients, in route order."""
        return list(dict.fromkeys(r.recipient_id for r in self.routes))


class RecipientResolver:
    """Resolve recipients against one roster (indexes built once)."""

    def __init__(self, roster: Roster) -> None:
        """Index the roster's posts by 課 and 部.

        Args:
            roster: The roster read from the workbook.
        """
        self.roster = roster
        self._section_heads: dict[str, list[Post]] = defaultdict(list)
        self._responsible: dict[str, list[Post]] = defaultdict(list)
        self._department_heads: dict[str, list[Post]] = defaultdict(list)
        self._held: dict[str, list[Post]] = defaultdict(list)
        for post in roster.posts.values():
            if post.kind is PostKind.SECTION_HEAD and post.section_code:
                self._section_heads[post.section_code].append(post)
            elif post.kind is PostKind.RESPONSIBLE_HEAD and post.section_code:
                self._responsible[post.section_code].append(post)
            elif post.kind is PostKind.DEPARTMENT_HEAD and post.department_code:
                self._department_heads[post.department_code].append(post)
            if post.holder_id is not None:
                self._held[post.holder_id].append(post)

    # --- resolution ----------------------------------------------------------------------------
    def resolve(self, staff_id: str) -> Resolution:
        """Find the recipients of one staff member's notice.

        Args:
            staff_id: The normalised 職員番号.

        Returns:
            The routes (one per starting post that could be followed) and the problems.
        """
        result = Resolution(staff_id)
        member = self.roster.staff.get(staff_id)
        if member is None:
            result.problems.append(
                ChainProblem(
                    staff_id=staff_id,
                    kind=ChainProblemKind.NOT_IN_ROSTER,
                    message_ja=f"職員番号 {staff_id} は上限を超えていますが、職員名簿にありません"
                    "（退職・異動・番号誤りの可能性）。通知先を決めてください。",
                    message_en=f"Staff {staff_id} is over a cap but not in the roster (left, "
                    "moved, or a wrong number). Decide who is notified.",
                )
            )
            return result
        section = member.unit_code[:SECTION_CODE_LENGTH]
        department = member.unit_code[:DEPARTMENT_CODE_LENGTH]
        line_posts = self._section_heads.get(section, [])
        if not line_posts and section.endswith("00"):
            line_posts = self._department_heads.get(department, [])
        if not line_posts:
            result.problems.append(
                ChainProblem(
                    staff_id=staff_id,
                    kind=ChainProblemKind.MISSING_LINK,
                    route=RouteKind.LINE,
                    message_ja=f"職員番号 {staff_id} の所属（課コード {section}）に課長の職が"
                    "組織シートにありません。組織シートを確認し、通知先を決めてください。",
                    message_en=f"Staff {staff_id}'s section (code {section}) has no 課長 post on "
                    "the organisation sheet. Check the sheet and decide who is notified.",
                )
            )
        starts = [(RouteKind.LINE, p) for p in line_posts[:1]]
        starts += [
            (RouteKind.RESPONSIBLE, p)
            for p in self._responsible.get(section, [])
            if not p.covers_units or member.unit_code in p.covers_units
        ]
        for kind, post in starts:
            found = self.walk(post, staff_id, kind)
            if isinstance(found, Route):
                result.routes.append(found)
            else:
                result.problems.append(found)
        return result

    def walk(self, start: Post, staff_id: str, kind: RouteKind) -> Route | ChainProblem:
        """Follow vacancies, 事務取扱 and 上位職 from ``start`` to a holder.

        Args:
            start: The starting post (the 課長 or 担当課長 post).
            staff_id: The staff member the notice is about (never their own recipient).
            kind: Line or responsible, recorded on the route.

        Returns:
            The route to the holder, or the problem that stopped the walk.
        """
        posts = self.roster.posts
        path: list[str] = []
        labels: list[str] = []
        current = start
        via_acting = False
        while True:
            if current.post_id in path:
                cycle = (*path, current.post_id)
                return self._problem(
                    staff_id,
                    ChainProblemKind.CYCLE,
                    kind,
                    cycle,
                    f"職員番号 {staff_id} の通知先をたどると職コード {' → '.join(cycle)} が循環しています"
                    "（欠員・事務取扱の設定を確認してください）。",
                    f"Following staff {staff_id}'s heads loops through posts {' → '.join(cycle)}. "
                    "Check the vacancies and acting (事務取扱) entries.",
                )
            path.append(current.post_id)
            holder = current.holder_id
            if holder is not None and holder != staff_id:
                labels.append(current.title + ("（事務取扱）" if via_acting else ""))
                if holder not in self.roster.staff:
                    return self._problem(
                        staff_id,
                        ChainProblemKind.UNKNOWN_HOLDER,
                        kind,
                        tuple(path),
                        f"職コード {current.post_id} の在職者（職員番号 {holder}）が職員名簿にありません。"
                        f"職員番号 {staff_id} の通知先を確認してください。",
                        f"The holder of post {current.post_id} (staff {holder}) is not in the staff "
                        f"list. Check who is notified about staff {staff_id}.",
                    )
                return Route(
                    kind=kind,
                    post_path=tuple(path),
                    recipient_id=holder,
                    description_ja=" → ".join(labels),
                )
            vacant = holder is None
            labels.append(current.title + ("（欠員）" if vacant else "（本人）"))
            if vacant and current.acting_post_id:
                next_id, via_acting, what = current.acting_post_id, True, ("事務取扱", "acting")
            elif current.parent_post_id:
                next_id, via_acting, what = current.parent_post_id, False, ("上位職", "parent")
            else:
                why_ja = (
                    "欠員で、事務取扱も上位職もありません"
                    if vacant
                    else "本人の職で、上位職がありません"
                )
                why_en = (
                    "is vacant with no acting or parent post" if vacant else "has no parent post"
                )
                return self._problem(
                    staff_id,
                    ChainProblemKind.MISSING_LINK,
                    kind,
                    tuple(path),
                    f"職コード {current.post_id} は{why_ja}。職員番号 {staff_id} の通知先を決めてください。",
                    f"Post {current.post_id} {why_en}. Decide who is notified about staff "
                    f"{staff_id}.",
                )
            following = posts.get(next_id)
            if following is None:
                return self._problem(
                    staff_id,
                    ChainProblemKind.MISSING_LINK,
                    kind,
                    (*path, next_id),
                    f"職コード {current.post_id} の{what[0]}コード {next_id} が組織シートにありません。"
                    f"職員番号 {staff_id} の通知先を決めてください。",
                    f"Post {current.post_id}'s {what[1]} post {next_id} is not on the organisation "
                    f"sheet. Decide who is notified about staff {staff_id}.",
                )
            current = following

    @staticmethod
    def _problem(
        staff_id: str,
        kind: ChainProblemKind,
        route: RouteKind,
        path: tuple[str, ...],
        ja: str,
        en: str,
    ) -> ChainProblem:
        """A chain problem on one route."""
        return ChainProblem(
            staff_id=staff_id, kind=kind, route=route, post_path=path, message_ja=ja, message_en=en
        )

    # --- recipients ---------------------------------------------------------------------------
    def posts_held(self, staff_id: str) -> list[Post]:
        """The posts a person holds, highest rank first (sheet order within a rank)."""
        held = self._held.get(staff_id, [])
        return sorted(held, key=lambda p: KIND_RANK[p.kind])

    def sort_key(self, staff_id: str) -> tuple[int, int, str]:
        """Order of recipients: by the sheet row of their primary post."""
        held = self.posts_held(staff_id)
        if not held:
            return (1, 0, staff_id)
        return (0, held[0].row, staff_id)

    def recipient(self, staff_id: str, routes: list[Route]) -> Recipient:
        """Build the recipient for a person reached by ``routes``.

        Args:
            staff_id: The recipient's 職員番号 (must be in the roster).
            routes: Every route that reached them (for 事務取扱 roles).

        Returns:
            Name, primary title, every role (with …事務取扱), and where to send it.
        """
        member = self.roster.staff[staff_id]
        held = self.posts_held(staff_id)
        roles = [p.title for p in held]
        for route in routes:
            if len(route.post_path) < 2:
                continue
            before = self.roster.posts.get(route.post_path[-2])
            if before is not None and before.acting_post_id == route.post_path[-1]:
                roles.append(f"{before.title}事務取扱")
        primary = held[0] if held else None
        return Recipient(
            staff_id=staff_id,
            name=member.name,
            title=primary.title if primary else member.title,
            roles=tuple(dict.fromkeys(roles)),
            post_ids=tuple(p.post_id for p in held),
            department_name=(primary.department_name if primary else member.department_name),
            section_name=(primary.section_name if primary else member.section_name),
            building=primary.building if primary else "",
            floor=primary.floor if primary else "",
            postal_code=primary.postal_code if primary else "",
            address=primary.address if primary else "",
        )
