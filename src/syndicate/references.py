"""Stable reference numbers for boards that list a job once per place (Indeed).

Indeed: "Unique identifying number for this instance of the job" — one per location — and "Do
not change the number after you set it" (docs.indeed.com/indeed-apply/xml-feed,
``referencenumber``); "If you duplicate the reference number in the XML, only the first
appearance of the job appears on Indeed" (2021 feed guide, as mirrored in
`mikevdberge/docs.qhse-jobs-api`).  So a posting's numbers are assigned once and remembered:

- a place's number is, in order: the place's own ``ref:`` (pinned in the posting file); the
  number the publish state remembers for that place (`ReferenceBook`, per posting, every number
  ever assigned, so a place removed and added back gets its old number, and no number is ever
  given to another place); else a new one by the rule below;
- the rule: the posting's first place takes the posting's id itself, every other place
  ``<id>-<city>-<country>`` (``-2``, ``-3`` when that is taken), so adding a place never
  renumbers the others; without a state (a build of loose postings) numbers follow the rule;
- a state written by a version of syndicate before these rules has no numbers yet: the
  numbers the target's last output gave each place (``seed``: Indeed's feed file as it is,
  read back) are taken as assigned, so an upgrade renumbers nothing Indeed already knows;
- two postings can never give the same number: `ReferenceBook.collisions` finds them, and the
  target reports both files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from syndicate.adapters.base import PullTarget
from syndicate.adapters.places import Spot, assign
from syndicate.errors import Problem
from syndicate.postings import LoadedPosting
from syndicate.state.numbers import References

if TYPE_CHECKING:
    from syndicate.state import StateStore


class ReferenceBook:
    """The numbers of one scheme's postings for one build, remembered in the publish state.

    ``spots`` gives a posting's places as the target lists them; ``seed`` the numbers the
    target's output already gives (posting id → place key → number), read only when the state
    has no numbers of the scheme yet (see the module docstring).
    """

    @classmethod
    def of(
        cls,
        target: PullTarget,
        store: StateStore | None,
        places: Callable[[LoadedPosting], list[Spot] | None] | None = None,
    ) -> ReferenceBook:
        """The book of a target that lists a job once per place (its `reference_scheme`):
        its spots (from ``places`` where it has them, else read from the posting), and its
        output as written for a seed."""
        assert target.reference_scheme is not None

        def spots(loaded: LoadedPosting) -> list[Spot]:
            found = places(loaded) if places is not None else None
            return found if found is not None else target.spots(loaded.posting)

        return cls(
            target.reference_scheme,
            spots,
            store,
            seed=lambda: target.reference_seed(target.settings.output_dir),
            seed_keys=lambda loaded, seeded: target.seed_keys(loaded.posting, seeded),
        )

    def __init__(
        self,
        scheme: str,
        spots: Callable[[LoadedPosting], list[Spot]],
        store: StateStore | None = None,
        *,
        seed: Callable[[], Mapping[str, Mapping[str, str]]] = dict,
        seed_keys: Callable[[LoadedPosting, Mapping[str, str]], dict[str, str]] | None = None,
    ) -> None:
        self.scheme = scheme
        self.store = store
        self._spots = spots
        self._known = store.references.all(scheme) if store is not None else {}
        self._seed: Mapping[str, Mapping[str, str]] = (
            seed() if store is not None and not self._known else {}
        )
        self._seed_keys = seed_keys or (lambda _loaded, seeded: dict(seeded))
        self._numbers: dict[str, list[str]] = {}
        self._fresh: dict[str, References] = {}

    def numbers(self, loaded: LoadedPosting) -> list[str]:
        """The posting's numbers, one per place (its content read only when it changed)."""
        posting_id = loaded.posting_id
        found = self._numbers.get(posting_id)
        if found is not None:
            return found
        known = self._known.get(posting_id)
        if known is not None and known.content_hash == loaded.content_hash:
            numbers = list(known.numbers)
        else:
            numbers = self._assign(loaded, known)
        self._numbers[posting_id] = numbers
        return numbers

    def _assign(self, loaded: LoadedPosting, known: References | None) -> list[str]:
        spots = self._spots(loaded)
        if known is not None:
            assigned = dict(known.assigned)
        else:
            seeded = self._seed.get(loaded.posting_id)
            assigned = self._seed_keys(loaded, seeded) if seeded else {}
        numbers = assign(loaded.posting_id, spots, assigned)
        self._fresh[loaded.posting_id] = References(
            loaded.posting_id, loaded.content_hash, assigned, numbers
        )
        return numbers

    def collisions(self, postings: Iterable[LoadedPosting]) -> dict[str, list[str]]:
        """Numbers given more than once: number → the posting ids giving it (one id twice
        when two places of one posting give it, a pin equal to another place's number)."""
        owners: dict[str, list[str]] = {}
        for loaded in postings:
            for number in self.numbers(loaded):
                owners.setdefault(number, []).append(loaded.posting_id)
        return {number: ids for number, ids in owners.items() if len(ids) > 1}

    def collision_problems(
        self, postings: Iterable[LoadedPosting], target: str, named: Callable[[str], str]
    ) -> dict[str, list[Problem]]:
        """An error per posting giving a number another place gives too (by posting id),
        naming the others with ``named(posting_id)``."""
        problems: dict[str, list[Problem]] = {}
        for number, owners in self.collisions(postings).items():
            for posting_id in dict.fromkeys(owners):
                others = ", ".join(named(other) for other in owners if other != posting_id)
                by = f"also given by {others}" if others else "given to two of its locations"
                message = (
                    f"reference number {number!r} is {by}; every job needs its own "
                    "(pin another with ref: on the location)"
                )
                problem = Problem(message, field="locations", target=target, posting_id=posting_id)
                problems.setdefault(posting_id, []).append(problem)
        return problems

    def save(self) -> None:
        """Remember the numbers assigned in this build."""
        if self.store is not None and self._fresh:
            self.store.references.save(self.scheme, self._fresh.values())
            self._known.update(self._fresh)
            self._fresh = {}
