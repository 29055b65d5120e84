"""Find an applicant in the resident registry copy (住民基本台帳): 本人確認 by similarity.

Generic over processes: the childcare check uses it for e-applications, the OCR process for
handwritten forms. The index is built once from the registry copy; each lookup gathers a
handful of candidates from exact-key buckets (birth date, furigana key, name key) and scores
only those, so 2,000 lookups over 10,000 residents take well under a second.

Scores compare matching keys, never the printed text: 髙橋 and 高橋, ﾀｶﾊｼ and たかはし,
３丁目１番２号 and 3-1-2 are equal here.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

from civicflow.japanese import normalize_address, normalize_kana, normalize_name
from civicflow.models import Resident, ResidentMatch

#: Weights of the overall score (they add up to 100).
NAME_WEIGHT = 35.0
KANA_WEIGHT = 25.0
BIRTH_DATE_WEIGHT = 25.0
ADDRESS_WEIGHT = 15.0
#: A candidate scoring below this is not offered at all (two of four parts must agree).
DEFAULT_MIN_SCORE = 50.0


@dataclass(frozen=True)
class CandidateMatch:
    """The best candidate with what :class:`ResidentMatch` does not carry.

    Attributes:
        match: the scores, as stored and shown to a reviewer.
        resident: the registry entry matched.
        matched_previous_address: the applicant's address is the resident's previous address
            (転居: the registry moved them, the applicant wrote the old one) rather than the
            current one.
        previous_address_score: 0–100 against ``Resident.previous_address`` (0 when none).
    """

    match: ResidentMatch
    resident: Resident
    matched_previous_address: bool
    previous_address_score: float


@dataclass(frozen=True)
class _Keys:
    """A resident's matching keys, computed once."""

    resident: Resident
    name: str
    kana: str
    address: str
    previous_address: str


@dataclass(frozen=True, slots=True)
class _Scores:
    """One candidate's part scores (plain floats: only the winner becomes a model)."""

    keys: _Keys
    name: float
    kana: float
    birth_date_match: bool
    address: float
    previous_address: float

    score: float  # weighted, with the current address
    rank: float  # weighted, with the better of the current and the previous address

    @classmethod
    def of(
        cls, keys: _Keys, name_key: str, kana_key: str, birth_date: dt.date | None, address_key: str
    ) -> _Scores:
        """Score one candidate against the applicant's matching keys."""
        name = _similarity(name_key, keys.name)
        kana = _similarity(kana_key, keys.kana)
        birth_date_match = birth_date is not None and birth_date == keys.resident.birth_date
        address = _similarity(address_key, keys.address)
        previous_address = _similarity(address_key, keys.previous_address)
        score = (
            NAME_WEIGHT * name
            + KANA_WEIGHT * kana
            + BIRTH_DATE_WEIGHT * 100 * birth_date_match
            + ADDRESS_WEIGHT * address
        ) / 100
        moved_bonus = ADDRESS_WEIGHT * max(0.0, previous_address - address) / 100
        return cls(
            keys,
            name,
            kana,
            birth_date_match,
            address,
            previous_address,
            score,
            score + moved_bonus,
        )

    @property
    def resident_id(self) -> str:
        """The candidate's 宛名番号."""
        return self.keys.resident.resident_id

    def to_candidate(self) -> CandidateMatch:
        """The public result."""
        return CandidateMatch(
            match=ResidentMatch(
                resident_id=self.resident_id,
                score=round(self.score, 1),
                name_score=round(self.name, 1),
                kana_score=round(self.kana, 1),
                birth_date_match=self.birth_date_match,
                address_score=round(self.address, 1),
            ),
            resident=self.keys.resident,
            matched_previous_address=self.previous_address == 100.0 and self.address < 100.0,
            previous_address_score=round(self.previous_address, 1),
        )


def _similarity(a: str, b: str) -> float:
    """0–100 similarity of two matching keys; an empty key matches nothing."""
    if not a or not b:
        return 0.0
    return float(fuzz.ratio(a, b))


class ResidentIndex:
    """The registry copy, indexed for fast candidate lookup.

    Args:
        residents: every resident of the registry copy.
        min_score: the lowest overall score :meth:`match` still offers as a candidate.
    """

    def __init__(self, residents: Iterable[Resident], *, min_score: float = DEFAULT_MIN_SCORE):
        self.min_score = min_score
        self._by_id: dict[str, _Keys] = {}
        self._by_birth_date: defaultdict[dt.date, list[_Keys]] = defaultdict(list)
        self._by_kana: defaultdict[str, list[_Keys]] = defaultdict(list)
        self._by_name: defaultdict[str, list[_Keys]] = defaultdict(list)
        for resident in residents:
            keys = _Keys(
                resident=resident,
                name=normalize_name(resident.name),
                kana=normalize_kana(resident.name_kana),
                address=normalize_address(resident.address),
                previous_address=(
                    normalize_address(resident.previous_address)
                    if resident.previous_address
                    else ""
                ),
            )
            self._by_id[resident.resident_id] = keys
            self._by_birth_date[resident.birth_date].append(keys)
            if keys.kana:
                self._by_kana[keys.kana].append(keys)
            if keys.name:
                self._by_name[keys.name].append(keys)

    def __len__(self) -> int:
        """The number of residents indexed."""
        return len(self._by_id)

    def get(self, resident_id: str) -> Resident | None:
        """The resident with this 宛名番号, or None."""
        keys = self._by_id.get(resident_id)
        return keys.resident if keys else None

    def match(
        self, name: str, kana: str, birth_date: dt.date | None, address: str
    ) -> ResidentMatch | None:
        """The best registry candidate for an applicant, or None.

        Args:
            name: 氏名 as written (variants and widths allowed).
            kana: フリガナ as written (hiragana, half-width kana allowed).
            birth_date: 生年月日, or None when unknown.
            address: 住所 as written.

        Returns:
            The best candidate's scores (the address score is against the current address),
            or None when no candidate scores at least ``min_score``.
        """
        found = self.match_detail(name, kana, birth_date, address)
        return found.match if found else None

    def match_detail(
        self, name: str, kana: str, birth_date: dt.date | None, address: str
    ) -> CandidateMatch | None:
        """Like :meth:`match`, with the resident and whether the previous address matched.

        Candidates are ranked by the overall score with the better of the current and the
        previous address, so a resident who just moved is still found; the reported score
        and ``address_score`` use the current address, so such a match never auto-accepts.

        Args:
            name: 氏名 as written.
            kana: フリガナ as written.
            birth_date: 生年月日, or None when unknown.
            address: 住所 as written.

        Returns:
            The best candidate, or None when none scores at least ``min_score``.
        """
        name_key = normalize_name(name)
        kana_key = normalize_kana(kana)
        address_key = normalize_address(address)
        best: _Scores | None = None
        for keys in self._candidates(name_key, kana_key, birth_date):
            scores = _Scores.of(keys, name_key, kana_key, birth_date, address_key)
            if scores.rank < self.min_score:
                continue
            # ties go to the lowest 宛名番号, so a lookup always gives the same answer
            if (
                best is None
                or scores.rank > best.rank
                or (scores.rank == best.rank and scores.resident_id < best.resident_id)
            ):
                best = scores
        return best.to_candidate() if best else None

    def _candidates(self, name_key: str, kana_key: str, birth_date: dt.date | None) -> list[_Keys]:
        """Residents sharing the birth date, the furigana key or the name key (no full scan)."""
        seen: dict[str, _Keys] = {}
        buckets = (
            self._by_birth_date.get(birth_date, []) if birth_date else [],
            self._by_kana.get(kana_key, []) if kana_key else [],
            self._by_name.get(name_key, []) if name_key else [],
        )
        for bucket in buckets:
            for keys in bucket:
                seen.setdefault(keys.resident.resident_id, keys)
        return list(seen.values())
