"""Synthetic inputs of the overtime notice (超過勤務通知) with known outcomes.

:func:`generate_overtime` writes what HR receives each month, with the mess real files
have, and a ``truth.json`` saying what the pipeline must find::

    roster.xlsx                     職員名簿 + 組織 (see civicflow.overtime.inputs)
    attendance/attendance_YYYYMM.csv  12 monthly exports ending with the target month
    truth.json

**Attendance files**: one CSV per month, because that is what attendance systems export
(a monthly 実績 file with 年月 on every row, so a misplaced file is still recognised).
CP932, CRLF, rows in 所属コード order, managers included with 0:00. The mess: the oldest
file is UTF-8 (accepted with a notice); months before a "system upgrade" write hours as
decimals (``12.50``), later ones as ``12:30``; a few full-width staff IDs; retired staff
still in the early months (not in the roster); one row with impossible hours (``12:75``)
and one with ``－`` (left out, reported); one row not in 15-minute units (``10:20``,
accepted, reported); one transfer in the target month (two rows that add up over 45 h).

**Roster**: a title row and a two-row header with 所属 merged over 部/課/係, blank rows
between departments, a ※ note under the table, staff IDs as numbers, some as full-width
text. The 組織 sheet has the tangled chains: a vacant 課長 with the 部長 as 事務取扱,
a vacant 課長 with no acting head (walk up to the 部長), a vacant 課長 under a vacant
部長 (walk up to the 副区長), one person holding two 課長 posts (兼務), 担当課長 posts (one
covering one 係, one held by another section's 課長, one held by the line 課長 itself,
one vacant), a vacant 課長 whose 上位職コード names an abolished post (missing link),
and — when ``n_staff >= 200`` — two vacant 課長 posts acting for each other (a cycle).
About one section in eight is 他律的.

Every value is drawn from ``random.Random(seed)``: the same arguments give byte-identical
files (the workbook is re-zipped with fixed timestamps).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from pydantic import BaseModel, Field

from civicflow.documents import atomic_write
from civicflow.documents.csvfile import write_cp932_csv
from civicflow.documents.excel import CellValue
from civicflow.japanese import to_wareki
from civicflow.overtime.models import (
    CAP_ORDER,
    Cap,
    ChainProblemKind,
    ym_from_index,
    ym_index,
)
from civicflow.samples import names
from civicflow.samples.registry import kanji_number, minato_postal_code, random_family_name
from civicflow.samples.xlsx import freeze_xlsx

MIN_STAFF: Final = 60
CYCLE_MIN_STAFF: Final = 200
ATTENDANCE_HEADER: Final = ["職員番号", "氏名", "所属コード", "所属名", "年月", "時間外勤務時間"]
STAFF_HEADER: Final = [
    "職員番号",
    "氏名",
    "フリガナ",
    "所属",
    "",
    "",
    "所属コード",
    "役職",
    "兼務",
    "備考",
]
ORG_HEADER: Final = [
    "職コード",
    "職名",
    "種別",
    "部コード",
    "部名",
    "課コード",
    "課名",
    "担当係コード",
    "上位職コード",
    "職員番号",
    "事務取扱",
    "他律的",
    "庁舎",
    "階",
    "郵便番号",
    "所在地",
    "備考",
]
#: The post code a missing link points to (an abolished post).
ABOLISHED_POST: Final = "P9901"

#: (部, 庁舎, 課 …): Minato-like names; larger sets number extra 課 (保健福祉第二課).
DEPARTMENTS: Final[tuple[tuple[str, str, tuple[str, ...]], ...]] = (
    ("総務部", "本庁舎", ("総務課", "人事課", "契約管財課", "施設課", "区政情報課")),
    ("企画経営部", "本庁舎", ("企画課", "財政課", "区長室", "情報政策課")),
    ("保健福祉支援部", "本庁舎", ("保健福祉課", "高齢者支援課", "障害者福祉課", "生活福祉調整課")),
    ("みなと保健所", "みなと保健所", ("生活衛生課", "保健予防課", "健康推進課")),
    ("子ども家庭支援部", "本庁舎", ("子ども家庭課", "保育政策課", "保育課", "子ども若者支援課")),
    ("街づくり支援部", "本庁舎", ("都市計画課", "住宅課", "建築課", "土木管理課", "土木課")),
    ("産業・地域振興支援部", "本庁舎", ("産業振興課", "地域振興課", "国際化推進課")),
    ("環境リサイクル支援部", "本庁舎", ("環境課", "清掃課")),
    ("芝地区総合支所", "本庁舎", ("管理課", "協働推進課", "区民課")),
    ("麻布地区総合支所", "麻布地区総合支所", ("管理課", "協働推進課", "区民課")),
    ("赤坂地区総合支所", "赤坂地区総合支所", ("管理課", "協働推進課", "区民課")),
    ("高輪地区総合支所", "高輪地区総合支所", ("管理課", "協働推進課", "区民課")),
    ("芝浦港南地区総合支所", "芝浦港南地区総合支所", ("管理課", "協働推進課", "区民課")),
    ("教育委員会事務局", "本庁舎", ("教育長室", "学校教育課", "教育指導課", "図書・文化財課")),
)
#: 庁舎 → (town, 丁目, address): postal codes come from the verified Minato town table.
BUILDINGS: Final = {
    "本庁舎": ("芝公園", 1, "東京都港区芝公園1-5-25"),
    "みなと保健所": ("三田", 1, "東京都港区三田1-4-10"),
    "麻布地区総合支所": ("六本木", 5, "東京都港区六本木5-16-45"),
    "赤坂地区総合支所": ("赤坂", 4, "東京都港区赤坂4-18-13"),
    "高輪地区総合支所": ("高輪", 1, "東京都港区高輪1-4-1"),
    "芝浦港南地区総合支所": ("芝浦", 1, "東京都港区芝浦1-16-1"),
}
UNIT_NAMES: Final = (
    "庶務係",
    "管理係",
    "企画係",
    "調整係",
    "事業係",
    "指導係",
    "審査係",
    "相談係",
    "計画係",
    "運営係",
)
STAFF_TITLES: Final = (("主事", 45), ("主任", 25), ("主査", 12), ("係長", 12), ("係長職", 6))


class OvertimeTruth(BaseModel):
    """What the pipeline must find in a generated sample."""

    seed: int
    n_staff: int
    year: int
    month: int
    roster: str
    attendance: list[str]
    other_directed_sections: list[str]
    breaches: dict[str, list[str]] = Field(default_factory=dict)  # staff → caps
    recipients: dict[str, list[str]] = Field(default_factory=dict)  # staff → recipient IDs
    chain_problems: dict[str, list[str]] = Field(default_factory=dict)  # staff → kinds
    unknown_staff: list[str] = Field(default_factory=list)
    bad_rows: list[dict[str, str | int]] = Field(default_factory=list)
    not_quarter_rows: list[dict[str, str | int]] = Field(default_factory=list)
    utf8_files: list[str] = Field(default_factory=list)
    cases: dict[str, str] = Field(default_factory=dict)  # case → 課 code (or staff ID)
    notices: int = 0


class OvertimeSampleSet(BaseModel):
    """Where a generated sample lies, and its truth."""

    out_dir: Path
    roster_path: Path
    attendance_paths: list[Path]
    truth_path: Path
    truth: OvertimeTruth


# --- the organisation ---------------------------------------------------------------------------
@dataclass
class _Person:
    """A staff member of the generated ward."""

    staff_id: str
    name: str
    kana: str
    unit_code: str
    title: str
    concurrent: list[str] = field(default_factory=list)
    manager: bool = False


@dataclass
class _Post:
    """A head's post of the generated ward."""

    post_id: str
    title: str
    kind: str  # 種別 as written
    dept: _Dept | None
    section: _Section | None = None
    covers: tuple[str, ...] = ()
    parent: str | None = None
    holder: str | None = None
    acting: str | None = None
    floor: str = ""


@dataclass
class _Section:
    """A 課 with its 係, head post and 担当課長 posts."""

    code: str
    name: str
    dept: _Dept
    units: list[tuple[str, str]]  # (code, name)
    other_directed: bool = False
    head: _Post | None = None
    responsible: list[_Post] = field(default_factory=list)
    floor: str = ""


@dataclass
class _Dept:
    """A 部 with its head post and 課."""

    code: str
    name: str
    building: str
    head: _Post | None = None
    sections: list[_Section] = field(default_factory=list)


def _kana_name(rng: random.Random, young: bool) -> tuple[str, str]:
    """A random name with its reading (family and given name)."""
    family, family_kana = random_family_name(rng)
    if rng.random() < 0.5:
        given, given_kana = rng.choice(
            names.FEMALE_GIVEN_NAMES_YOUNG if young else names.FEMALE_GIVEN_NAMES_OLD
        )
    else:
        given, given_kana = rng.choice(
            names.MALE_GIVEN_NAMES_YOUNG if young else names.MALE_GIVEN_NAMES_OLD
        )
    return f"{family}　{given}", f"{family_kana} {given_kana}"


def _section_names(base: tuple[str, ...], count: int) -> list[str]:
    """``count`` names: the base ones, then numbered ones (保健福祉第二課)."""
    out = list(base[:count])
    k = 2
    while len(out) < count:
        for name in base:
            if len(out) >= count:
                break
            out.append(f"{name[:-1]}第{kanji_number(k)}{name[-1]}")
        k += 1
    return out


def _head_title(dept: _Dept, section_name: str) -> str:
    """A 課長's title; 総合支所 prefix their own name (芝地区総合支所管理課長)."""
    prefix = dept.name if dept.name.endswith("総合支所") else ""
    return f"{prefix}{section_name}長"


def _dept_kind(name: str) -> str:
    """The 種別 of a 部's head: 部長, 所長 or 支所長."""
    if name.endswith("総合支所"):
        return "支所長"
    if name.endswith("保健所"):
        return "所長"
    return "部長"


def _dept_title(name: str) -> str:
    """The title of a 部's head: 総務部長, 教育委員会事務局次長."""
    return name + "長" if not name.endswith("局") else name + "次長"


@dataclass
class _World:
    """The generated ward: departments, posts, people and the special cases."""

    rng: random.Random
    depts: list[_Dept] = field(default_factory=list)
    posts: dict[str, _Post] = field(default_factory=dict)
    people: dict[str, _Person] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)
    cases: dict[str, str] = field(default_factory=dict)

    def new_id(self) -> str:
        """A fresh staff ID."""
        return self.ids.pop()

    def add_manager(self, post: _Post, unit_code: str, title: str) -> str:
        """Create a manager and make them the post's holder."""
        name, kana = _kana_name(self.rng, young=False)
        staff_id = self.new_id()
        self.people[staff_id] = _Person(staff_id, name, kana, unit_code, title, manager=True)
        post.holder = staff_id
        return staff_id


def _build_world(rng: random.Random, n_staff: int) -> _World:
    """Departments, sections, 係 and head posts for ``n_staff`` staff."""
    world = _World(rng)
    world.ids = [str(i) for i in rng.sample(range(100_001, 999_999), n_staff + 8)]
    n_sections = max(16, n_staff // 40)
    n_depts = max(4, min(len(DEPARTMENTS), n_sections // 4))
    per_dept = [
        n_sections // n_depts + (1 if d < n_sections % n_depts else 0) for d in range(n_depts)
    ]

    mayor = _Post("P0001", "区長", "区長", None)
    world.posts[mayor.post_id] = mayor
    world.add_manager(mayor, "100000", "区長")
    deputies = [_Post(f"P000{i}", "副区長", "副区長", None, parent="P0001") for i in (2, 3)]
    for deputy in deputies:
        world.posts[deputy.post_id] = deputy
        world.add_manager(deputy, "100000", "副区長")

    for d in range(n_depts):
        name, building, bases = DEPARTMENTS[d]
        dept = _Dept(code=f"{11 + d}", name=name, building=building)
        world.depts.append(dept)
        head = _Post(
            f"P{dept.code}00",
            _dept_title(name),
            _dept_kind(name),
            dept,
            parent=deputies[d % 2].post_id,
            floor=f"{rng.randint(2, 9)}階",
        )
        dept.head = head
        world.posts[head.post_id] = head
        for s, section_name in enumerate(_section_names(bases, per_dept[d])):
            code = f"{dept.code}{s + 1:02d}"
            unit_names = rng.sample(UNIT_NAMES, rng.randint(2, 4))
            section = _Section(
                code=code,
                name=section_name,
                dept=dept,
                units=[(f"{code}{u + 1:02d}", un) for u, un in enumerate(unit_names)],
                floor=f"{rng.randint(1, 9)}階",
            )
            section.other_directed = rng.random() < 0.125
            dept.sections.append(section)
            post = _Post(
                f"P{code}",
                _head_title(dept, section_name),
                "室長" if section_name.endswith("室") else "課長",
                dept,
                section,
                parent=head.post_id,
                floor=section.floor,
            )
            section.head = post
            world.posts[post.post_id] = post
    # at least one 他律的 section
    sections = [s for d in world.depts for s in d.sections]
    if not any(s.other_directed for s in sections):
        sections[len(sections) // 2].other_directed = True
    return world


def _assign_heads(world: _World, n_staff: int) -> None:
    """Fill the posts, then make the special cases (vacancies, 兼務, 担当課長, cycle …)."""
    rng = world.rng
    last = world.depts[-1]
    others = [s for d in world.depts[:-1] for s in d.sections]
    rng.shuffle(others)
    picks = iter(others)

    def pick() -> _Section:
        """The next section for a special case."""
        return next(picks)

    cases: dict[str, _Section] = {}
    cases["double_vacancy"] = last.sections[0]
    for case in ("acting", "walk_up", "concurrent_a", "concurrent_b", "missing"):
        cases[case] = pick()
    for case in ("resp_unit", "resp_whole", "resp_same", "resp_vacant"):
        cases[case] = pick()
    if n_staff >= CYCLE_MIN_STAFF:
        cases["cycle_a"] = pick()
        cases["cycle_b"] = pick()
    resp_holder_section = next(s for s in [*others, *last.sections[1:]] if s not in cases.values())

    # 部長 and 課長 posts, held by default
    for dept in world.depts:
        assert dept.head is not None
        if dept is not last:
            world.add_manager(dept.head, f"{dept.code}0000", "部長")
        for section in dept.sections:
            assert section.head is not None
            world.add_manager(section.head, f"{section.code}00", section.head.kind)

    def vacate(post: _Post) -> None:
        """Make a post vacant, returning its holder's ID to the pool."""
        if post.holder is not None:
            world.people.pop(post.holder)
            world.ids.append(post.holder)  # reuse the number for a staff member
        post.holder = None

    # a vacant 課長 with the 部長 as 事務取扱
    acting = cases["acting"].head
    assert acting is not None and acting.dept is not None and acting.dept.head is not None
    vacate(acting)
    acting.acting = acting.dept.head.post_id
    world.people[str(acting.dept.head.holder)].concurrent.append(f"{acting.title}事務取扱")
    # a vacant 課長, nobody acting: walk up to the 部長
    walk = cases["walk_up"].head
    assert walk is not None
    vacate(walk)
    # a vacant 課長 under a vacant 部長: walk up to the 副区長
    double = cases["double_vacancy"].head
    assert double is not None
    vacate(double)
    # one person holds two 課長 posts (兼務)
    post_a, post_b = cases["concurrent_a"].head, cases["concurrent_b"].head
    assert post_a is not None and post_b is not None and post_a.holder is not None
    vacate(post_b)
    post_b.holder = post_a.holder
    world.people[post_a.holder].concurrent.append(post_b.title)
    # missing link: vacant, no acting, parent abolished
    missing = cases["missing"].head
    assert missing is not None
    vacate(missing)
    missing.parent = ABOLISHED_POST
    # cycle: two vacant 課長 posts acting for each other
    if "cycle_a" in cases:
        cycle_a, cycle_b = cases["cycle_a"].head, cases["cycle_b"].head
        assert cycle_a is not None and cycle_b is not None
        vacate(cycle_a)
        vacate(cycle_b)
        cycle_a.acting, cycle_b.acting = cycle_b.post_id, cycle_a.post_id

    # 担当課長 posts
    def responsible(section: _Section, covers: tuple[str, ...], suffix: str) -> _Post:
        """Add a 担当課長 post to a section."""
        assert section.dept.head is not None
        stem = section.name.removesuffix("課")
        post = _Post(
            f"P{section.code}A",
            f"{stem}{suffix}担当課長",
            "担当課長",
            section.dept,
            section,
            covers=covers,
            parent=section.dept.head.post_id,
            floor=section.floor,
        )
        section.responsible.append(post)
        world.posts[post.post_id] = post
        return post

    unit_section = cases["resp_unit"]
    post = responsible(unit_section, (unit_section.units[-1][0],), "事業")
    world.add_manager(post, f"{unit_section.code}00", "担当課長")
    whole = responsible(cases["resp_whole"], (), "調整")
    holder_post = resp_holder_section.head
    assert holder_post is not None and holder_post.holder is not None
    whole.holder = holder_post.holder
    world.people[holder_post.holder].concurrent.append(whole.title)
    same = responsible(cases["resp_same"], (), "計画")
    same_head = cases["resp_same"].head
    assert same_head is not None and same_head.holder is not None
    same.holder = same_head.holder
    world.people[same_head.holder].concurrent.append(same.title)
    responsible(cases["resp_vacant"], (), "推進")  # vacant: walks up to the 部長

    world.cases = {case: section.code for case, section in cases.items()}
    world.cases["resp_whole_holder_section"] = resp_holder_section.code


def _add_staff(world: _World, n_staff: int) -> list[_Person]:
    """Ordinary staff spread over every 係 (at least one per section)."""
    rng = world.rng
    units = [(s, code, name) for d in world.depts for s in d.sections for code, name in s.units]
    remaining = n_staff - len(world.people)
    weights = [rng.uniform(0.6, 1.4) for _ in units]
    sections = [s for d in world.depts for s in d.sections]
    staff: list[_Person] = []
    titles = [title for title, _ in STAFF_TITLES]
    title_weights = [weight for _, weight in STAFF_TITLES]
    for i in range(remaining):
        if i < len(sections):
            section = sections[i]
            # the last 係 first: the 担当課長 case covers it
            code = section.units[-1][0]
        else:
            _, code, _ = rng.choices(units, weights=weights)[0]
        name, kana = _kana_name(rng, young=rng.random() < 0.6)
        title = rng.choices(titles, weights=title_weights)[0]
        person = _Person(world.new_id(), name, kana, code, title)
        world.people[person.staff_id] = person
        staff.append(person)
    return staff


# --- overtime -----------------------------------------------------------------------------------
def _quarters(rng: random.Random, low_h: float, high_h: float) -> int:
    """Minutes in 15-minute units, uniformly between two hour amounts."""
    return rng.randint(round(low_h * 4), round(high_h * 4)) * 15


def _exact_total(total_minutes: int, months: int, cap_minutes: int) -> list[int]:
    """``months`` quarter-hour amounts summing exactly to ``total_minutes``, each ≤ cap."""
    quarters = total_minutes // 15
    base, extra = divmod(quarters, months)
    out = [(base + (1 if i < extra else 0)) * 15 for i in range(months)]
    if max(out) > cap_minutes:
        raise ValueError("total does not fit under the cap")
    return out


def _profile_minutes(
    rng: random.Random, od: bool, fy_months: int, forced: bool
) -> tuple[str, list[int]]:
    """A staff member's 12 months of minutes (oldest first) and the profile's name."""
    r = rng.random()
    if forced:
        months = [_quarters(rng, 0, 20) for _ in range(11)]
        return "forced", [*months, _quarters(rng, 50, 70)]
    if od:
        if r < 0.35:
            return "od_heavy", [_quarters(rng, 60, 95) for _ in range(12)]
        if r < 0.75:
            return "od_moderate", [_quarters(rng, 30, 70) for _ in range(12)]
        if r < 0.78:
            return "od_boundary", [80 * 60] * 12
        return "light", [_quarters(rng, 0, 20) for _ in range(12)]
    if r < 0.62:
        return "light", [_quarters(rng, 0, 20) for _ in range(12)]
    if r < 0.82:
        return "moderate", [_quarters(rng, 10, 38) for _ in range(12)]
    if r < 0.87:
        return "steady", [_quarters(rng, 36, 44.75) for _ in range(12)]
    if r < 0.95:
        months = [_quarters(rng, 0, 25) for _ in range(11)]
        return "spike", [*months, _quarters(rng, 45.25, 80)]
    if r < 0.96:
        months = [_quarters(rng, 10, 38) for _ in range(11)]
        return "extreme", [*months, _quarters(rng, 100, 125)]
    if r < 0.975:
        months = [_quarters(rng, 0, 30) for _ in range(11)]
        return "boundary_month", [*months, 45 * 60]
    if r < 0.99 and fy_months * 45 >= 360:
        head = [_quarters(rng, 0, 30) for _ in range(12 - fy_months)]
        return "boundary_year", [*head, *_exact_total(360 * 60, fy_months, 45 * 60)]
    return "light", [_quarters(rng, 0, 20) for _ in range(12)]


def _expected_caps(minutes: list[int], od: bool, fy_months: int) -> list[str]:
    """The caps a 12-month series exceeds in its last month (written plainly)."""
    caps: set[Cap] = set()
    this_month = minutes[-1]
    fiscal = minutes[-fy_months:]
    if this_month >= 100 * 60:
        caps.add(Cap.SINGLE_MONTH)
    if od:
        if any(sum(minutes[-n:]) > 80 * 60 * n for n in range(2, 7)):
            caps.add(Cap.ROLLING_AVERAGE)
        if sum(fiscal) > 720 * 60:
            caps.add(Cap.ANNUAL)
        if sum(1 for m in fiscal if m > 45 * 60) > 6:
            caps.add(Cap.MONTHS_OVER)
    else:
        if sum(fiscal) > 360 * 60:
            caps.add(Cap.ANNUAL)
        if this_month > 45 * 60:
            caps.add(Cap.MONTHLY)
    return [c.value for c in CAP_ORDER if c in caps]


def _hours_text(minutes: int, decimal: bool) -> str:
    """Hours as the attendance system writes them (12.50 or 12:30)."""
    if decimal:
        return f"{minutes / 60:.2f}"
    return f"{minutes // 60}:{minutes % 60:02d}"


_FULLWIDTH_DIGITS: Final = str.maketrans("0123456789", "０１２３４５６７８９")


def generate_overtime(
    out_dir: Path,
    *,
    seed: int,
    n_staff: int,
    year: int,
    month: int,
) -> OvertimeSampleSet:
    """Write a roster, 12 monthly attendance CSVs and the truth for one target month.

    Args:
        out_dir: Folder to write into (created if missing; files are replaced).
        seed: Seed of the random generator.
        n_staff: Staff in the roster, managers included (at least 60; the cycle case
            needs 200).
        year: Target year (the month the notices are about).
        month: Target month.

    Returns:
        Paths of the files and the truth.

    Raises:
        ValueError: ``n_staff`` below :data:`MIN_STAFF`.
    """
    if n_staff < MIN_STAFF:
        raise ValueError(f"n_staff must be at least {MIN_STAFF}, got {n_staff}")
    rng = random.Random(seed)
    world = _build_world(rng, n_staff)
    _assign_heads(world, n_staff)
    staff = _add_staff(world, n_staff)

    target_index = year * 12 + month - 1
    months = [ym_from_index(target_index - 11 + i) for i in range(12)]
    fy_start_index = ym_index((year if month >= 4 else year - 1) * 100 + 4)
    fy_months = target_index - fy_start_index + 1

    section_of = {s.code: s for d in world.depts for s in d.sections}
    forced_sections = {
        code
        for case, code in world.cases.items()
        if case not in ("resp_unit", "resp_whole_holder_section")
    }
    forced: set[str] = set()
    for person in staff:
        section = person.unit_code[:4]
        if section in forced_sections:
            forced.add(person.staff_id)
            forced_sections.discard(section)
    unit_case = world.cases["resp_unit"]
    covered_unit = section_of[unit_case].units[-1][0]
    covered = next(p for p in staff if p.unit_code == covered_unit)
    forced.add(covered.staff_id)

    minutes: dict[str, list[int]] = {}
    unit_by_month: dict[str, list[str]] = {}
    for person in world.people.values():
        if person.manager:
            minutes[person.staff_id] = [0] * 12
            continue
        od = section_of[person.unit_code[:4]].other_directed
        _, series = _profile_minutes(rng, od, fy_months, person.staff_id in forced)
        minutes[person.staff_id] = series
    for person in world.people.values():
        unit_by_month[person.staff_id] = [person.unit_code] * 12

    # transfer in the target month: 30:00 in the old 係, 20:00 in the new one
    light = [
        p
        for p in staff
        if p.staff_id not in forced
        and not section_of[p.unit_code[:4]].other_directed
        and max(minutes[p.staff_id]) <= 20 * 60
        and p.unit_code[:4] not in world.cases.values()
    ]
    rng.shuffle(light)
    transfer = light.pop()
    old_unit = next(
        u for s in section_of.values() for u, _ in s.units if u[:4] != transfer.unit_code[:4]
    )
    transfer_rows = {transfer.staff_id: (old_unit, 30 * 60, 20 * 60)}
    minutes[transfer.staff_id][-1] = 50 * 60
    world.cases["transfer"] = transfer.staff_id

    # rows the pipeline must leave out or flag (on light staff: no breach hides behind them)
    bad_specs = [(3, "12:75"), (6, "－")]
    bad_people = [light.pop(), light.pop()]
    not_quarter_person = light.pop()
    fullwidth = {p.staff_id for p in rng.sample(light, min(5, len(light)))}
    retired = [world.new_id() for _ in range(2)]
    retired_names = [_kana_name(rng, young=False)[0] for _ in retired]
    retired_unit = next(iter(section_of.values())).units[0][0]

    # --- attendance files
    attendance_dir = out_dir / "attendance"
    attendance_paths: list[Path] = []
    truth_bad: list[dict[str, str | int]] = []
    truth_not_quarter: list[dict[str, str | int]] = []
    upgrade_at = 4  # months before this index write decimals
    people = sorted(world.people.values(), key=lambda p: (p.unit_code, p.staff_id))
    unit_names = {u: f"{s.name}{un}" for s in section_of.values() for u, un in s.units}
    unit_names |= {f"{s.code}00": s.name for s in section_of.values()}
    unit_names |= {f"{d.code}0000": d.name for d in world.depts}
    unit_names["100000"] = "区長室"
    effective = {k: list(v) for k, v in minutes.items()}
    for i, month_value in enumerate(months):
        file_name = f"attendance_{month_value}.csv"
        path = attendance_dir / file_name
        label = f"{month_value // 100}/{month_value % 100:02d}"
        decimal = i < upgrade_at
        rows: list[list[str]] = []
        for person in people:
            staff_id = person.staff_id
            shown_id = staff_id.translate(_FULLWIDTH_DIGITS) if staff_id in fullwidth else staff_id
            if i == 11 and staff_id in transfer_rows:
                old, first, second = transfer_rows[staff_id]
                rows.append(
                    [
                        shown_id,
                        person.name,
                        old,
                        unit_names[old],
                        label,
                        _hours_text(first, decimal),
                    ]
                )
                rows.append(
                    [
                        shown_id,
                        person.name,
                        person.unit_code,
                        unit_names[person.unit_code],
                        label,
                        _hours_text(second, decimal),
                    ]
                )
                continue
            value = minutes[staff_id][i]
            text = _hours_text(value, decimal)
            for (bad_month, bad_text), bad_person in zip(bad_specs, bad_people, strict=True):
                if i == bad_month and staff_id == bad_person.staff_id:
                    text = bad_text
                    effective[staff_id][i] = 0
                    truth_bad.append(
                        {"file": file_name, "line": len(rows) + 2, "code": "attendance-bad-hours"}
                    )
            if i == 7 and staff_id == not_quarter_person.staff_id:
                text = "10:20"
                effective[staff_id][i] = 620
                truth_not_quarter.append({"file": file_name, "line": len(rows) + 2})
            rows.append(
                [shown_id, person.name, person.unit_code, unit_names[person.unit_code], label, text]
            )
        if i < 3:
            for staff_id, name in zip(retired, retired_names, strict=True):
                rows.append(
                    [
                        staff_id,
                        name,
                        retired_unit,
                        unit_names[retired_unit],
                        label,
                        _hours_text(_quarters(rng, 0, 15), decimal),
                    ]
                )
        if i == 0:
            _write_utf8_csv(path, ATTENDANCE_HEADER, rows)
        else:
            write_cp932_csv(path, list(ATTENDANCE_HEADER), rows)
        attendance_paths.append(path)

    # --- roster workbook
    roster_path = out_dir / "roster.xlsx"
    as_of = dt.date(year, month, 1)
    _write_roster(roster_path, world, rng, as_of)

    # --- truth
    od_sections = sorted(s.code for s in section_of.values() if s.other_directed)
    truth = OvertimeTruth(
        seed=seed,
        n_staff=n_staff,
        year=year,
        month=month,
        roster=roster_path.name,
        attendance=[p.name for p in attendance_paths],
        other_directed_sections=od_sections,
        unknown_staff=sorted(retired),
        bad_rows=truth_bad,
        not_quarter_rows=truth_not_quarter,
        utf8_files=[attendance_paths[0].name],
        cases=dict(world.cases),
    )
    recipients_of_section = _expected_line(world)
    for person in world.people.values():
        od = section_of.get(person.unit_code[:4]) is not None and bool(
            section_of[person.unit_code[:4]].other_directed
        )
        caps = _expected_caps(effective[person.staff_id], od, fy_months)
        if not caps:
            continue
        truth.breaches[person.staff_id] = caps
        recipients, problems = _expected_recipients(world, person, recipients_of_section)
        if recipients:
            truth.recipients[person.staff_id] = recipients
        if problems:
            truth.chain_problems[person.staff_id] = problems
    truth.notices = len({r for rs in truth.recipients.values() for r in rs})
    truth_path = out_dir / "truth.json"
    with atomic_write(truth_path) as tmp:
        tmp.write_text(
            json.dumps(truth.model_dump(mode="json"), ensure_ascii=False, indent=1) + "\n",
            encoding="utf-8",
        )
    return OvertimeSampleSet(
        out_dir=out_dir,
        roster_path=roster_path,
        attendance_paths=attendance_paths,
        truth_path=truth_path,
        truth=truth,
    )


def _expected_line(world: _World) -> dict[str, tuple[str | None, str | None]]:
    """課 code → (line recipient, chain problem kind), by construction of the cases."""
    out: dict[str, tuple[str | None, str | None]] = {}
    cases = world.cases
    for dept in world.depts:
        for section in dept.sections:
            head = section.head
            assert head is not None and dept.head is not None
            if head.holder is not None:
                out[section.code] = (head.holder, None)
            elif section.code in (cases.get("cycle_a"), cases.get("cycle_b")):
                out[section.code] = (None, ChainProblemKind.CYCLE.value)
            elif section.code == cases["missing"]:
                out[section.code] = (None, ChainProblemKind.MISSING_LINK.value)
            elif section.code == cases["double_vacancy"]:
                deputy = world.posts[str(dept.head.parent)]
                out[section.code] = (deputy.holder, None)
            else:  # acting (事務取扱 = 部長) or walk-up: the 部長 either way
                out[section.code] = (dept.head.holder, None)
    return out


def _expected_recipients(
    world: _World, person: _Person, line: dict[str, tuple[str | None, str | None]]
) -> tuple[list[str], list[str]]:
    """Whom a staff member's notice must reach, by construction."""
    section_code = person.unit_code[:4]
    recipient, problem = line[section_code]
    recipients = [recipient] if recipient else []
    problems = [problem] if problem else []
    section = next(s for d in world.depts for s in d.sections if s.code == section_code)
    for post in section.responsible:
        if post.covers and person.unit_code not in post.covers:
            continue
        if post.holder is not None:
            recipients.append(post.holder)
        else:
            assert section.dept.head is not None and section.dept.head.holder is not None
            recipients.append(section.dept.head.holder)
    return sorted(set(recipients)), problems


# --- writers -------------------------------------------------------------------------------------
def _write_utf8_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """The UTF-8 (no BOM) export someone saved from a text editor."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    with atomic_write(path) as tmp:
        tmp.write_bytes(buffer.getvalue().encode("utf-8"))


_TITLE_FONT: Final = Font(name="游ゴシック", bold=True, size=14)
_HEAD_FILL: Final = PatternFill(fill_type="solid", start_color="DDEBF7", end_color="DDEBF7")
_CENTER: Final = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _id_cell(rng: random.Random, staff_id: str) -> int | str:
    """Mostly a number (as Excel keeps it); now and then full-width text typed by hand."""
    if rng.random() < 0.04:
        return staff_id.translate(_FULLWIDTH_DIGITS)
    return int(staff_id)


def _write_roster(path: Path, world: _World, rng: random.Random, as_of: dt.date) -> None:
    """Write the messy roster workbook (職員名簿 and 組織 sheets)."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "職員名簿"
    ws["A1"] = f"職員名簿（{to_wareki(as_of)}現在）"
    ws["A1"].font = _TITLE_FONT
    ws.merge_cells("A1:J1")
    for col, title in enumerate(STAFF_HEADER, start=1):
        cell = ws.cell(row=3, column=col, value=title or None)
        cell.alignment = _CENTER
        cell.fill = _HEAD_FILL
    for col, sub in ((4, "部"), (5, "課"), (6, "係")):
        cell = ws.cell(row=4, column=col, value=sub)
        cell.alignment = _CENTER
        cell.fill = _HEAD_FILL
    ws.merge_cells("D3:F3")
    for letter in ("A", "B", "C", "G", "H", "I", "J"):
        ws.merge_cells(f"{letter}3:{letter}4")
    section_of = {s.code: s for d in world.depts for s in d.sections}
    dept_of = {d.code: d for d in world.depts}
    row = 5
    previous_dept = ""
    people = sorted(world.people.values(), key=lambda p: (p.unit_code, p.staff_id))
    for person in people:
        dept_code = person.unit_code[:2]
        if previous_dept and dept_code != previous_dept:
            row += 1  # a blank row between departments
        previous_dept = dept_code
        dept = dept_of.get(dept_code)
        section = section_of.get(person.unit_code[:4])
        unit = ""
        if section is not None:
            unit = next((n for c, n in section.units if c == person.unit_code), "")
        values: list[CellValue] = [
            _id_cell(rng, person.staff_id),
            person.name + (" " if rng.random() < 0.03 else ""),
            person.kana,
            dept.name if dept else "",
            section.name if section else "",
            unit,
            person.unit_code,
            person.title,
            "、".join(person.concurrent),
            "",
        ]
        for col, value in enumerate(values, start=1):
            ws.cell(row=row, column=col, value=value)
        row += 1
    ws.cell(row=row + 1, column=1, value="※兼務・事務取扱の職は「組織」シートを参照")
    for letter, width in zip("ABCDEFGHIJ", (10, 16, 20, 18, 18, 10, 10, 10, 28, 10), strict=True):
        ws.column_dimensions[letter].width = width

    org = wb.create_sheet("組織")
    org["A1"] = f"組織・職一覧（{to_wareki(as_of)}現在）"
    org["A1"].font = _TITLE_FONT
    org.merge_cells("A1:Q1")
    for col, title in enumerate(ORG_HEADER, start=1):
        cell = org.cell(row=2, column=col, value=title)
        cell.alignment = _CENTER
        cell.fill = _HEAD_FILL
    row = 3
    posts = list(world.posts.values())
    previous = ""
    for post in posts:
        dept = post.dept
        key = dept.code if dept else ""
        if previous and key != previous:
            row += 1
        previous = key
        building = dept.building if dept else "本庁舎"
        town, chome, address = BUILDINGS[building]
        holder: int | str | None = None
        if post.holder is not None:
            holder = _id_cell(rng, post.holder)
        elif rng.random() < 0.5:
            holder = "欠員"
        note = ""
        if post.holder is None:
            note = "欠員" + ("（事務取扱あり）" if post.acting else "")
        cells: list[CellValue] = [
            post.post_id,
            post.title,
            post.kind,
            dept.code if dept else "10",
            dept.name if dept else "",
            post.section.code if post.section else "",
            post.section.name if post.section else "",
            "、".join(post.covers),
            post.parent or "",
            holder,
            post.acting or "",
            "○"
            if post.section is not None
            and post.section.other_directed
            and post.kind in ("課長", "室長")
            else "",
            building,
            post.floor or ("3階" if dept is None else ""),
            minato_postal_code(town, chome),
            address,
            note,
        ]
        for col, value in enumerate(cells, start=1):
            org.cell(row=row, column=col, value=value)
        row += 1
    for letter, width in zip(
        "ABCDEFGHIJKLMNOPQ",
        (9, 28, 9, 8, 20, 8, 18, 12, 11, 10, 9, 7, 18, 6, 10, 26, 18),
        strict=True,
    ):
        org.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    wb.save(buffer)
    with atomic_write(path) as tmp:
        tmp.write_bytes(freeze_xlsx(buffer.getvalue(), dt.datetime(2020, 1, 1)))
