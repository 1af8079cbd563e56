"""The ``profile`` target: a feed board described by a profile file, without Python.

``{type: profile, profile: adzuna}`` in config.yaml renders the board's feed from the profile
``adzuna`` (built in, or ``adapters/adzuna.yaml`` beside config.yaml) and checks its rules in
``validate`` like any coded target.  The feed is written one posting at a time and streamed in
chunks of `CHUNK_POSTINGS` postings, so memory stays flat in the number of postings; each
posting's items are a cached fragment (`PullTarget.each_fragment`), made ahead in worker
processes for large builds like the coded feeds' (docs/profiles.md).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from syndicate.adapters import tagging
from syndicate.adapters.base import Document, PullTarget, RenderContext, TargetOptions
from syndicate.adapters.indeed_xml import spots as place_spots
from syndicate.adapters.places import Spot, assign
from syndicate.adapters.profiles import finding, loader, readback
from syndicate.adapters.profiles.engine import Engine, Record
from syndicate.adapters.profiles.options import ProfileOptions
from syndicate.adapters.profiles.rules import Finding, findings, override_findings
from syndicate.adapters.profiles.spec import Per, Profile, Severity
from syndicate.errors import Problem
from syndicate.model import Posting, starts_at

if TYPE_CHECKING:
    from syndicate.config import Settings

CHUNK_POSTINGS = 200
MEDIA_TYPE = "application/xml"
GZIP_TYPE = "application/gzip"
# A posting's fragment is "<items>\0<xml>": NUL never occurs in XML text (it is removed), so
# the count of its items is read back without parsing them (for ``items_per_file``).
_COUNT_END = b"\0"


class ProfileTarget(PullTarget):
    """A feed board as its profile describes it."""

    summary: ClassVar[str] = "board profile"
    Options: ClassVar[type[TargetOptions]] = ProfileOptions
    options: ProfileOptions

    def __init__(self, name: str, options: TargetOptions, settings: Settings) -> None:
        super().__init__(name, options, settings)
        found = finding.find(self.options.profile, settings.root)
        self.origin = found
        self.profile: Profile = loader.load(found.path)
        self.engine = _engine(self.profile, settings)
        # The same for every posting, and never changed by an expression (the sandbox is
        # immutable): made once.
        self.organization = _organization(settings)
        references = self.profile.references
        self.reference_scheme = references.scheme if references is not None else None

    # ------------------------------------------------------------------------------- identity

    @property
    def file_name(self) -> str:
        """The feed's file under ``output`` (``.gz`` added when the profile gzips)."""
        name = self.options.file or self.profile.file_name()
        return name + ".gz" if self.gzip and not name.endswith(".gz") else name

    @property
    def gzip(self) -> bool:
        """Whether the feed is written gzipped."""
        return self.profile.limits.gzip if self.options.gzip is None else self.options.gzip

    def fingerprint(self) -> str:
        """Its options and profile; with a `MaxAge` rule, today too (so the cached checks of
        the rule, which depend on the day, are made again each day)."""
        today = f"\0{self._today()}" if self.profile.max_age is not None else ""
        return super().fingerprint() + "\0" + self.profile.model_dump_json() + today

    def _today(self) -> date:
        return datetime.now(self.settings.timezone).date()

    def url_tags(self) -> dict[str, str] | None:
        """The parameters added to this target's job and apply URLs (None: tagging is off):
        the profile's ``url_params``, or the target's own."""
        option = self.options.tagging
        if option is True and self.options.url_params:
            option = dict(self.options.url_params)
        return tagging.params_for(option, self.profile.url_params, self.name)

    # ---------------------------------------------------------------------------------- rules

    def check(self, posting: Posting) -> list[Problem]:
        """The profile's field rules on every item of the posting, and its own options."""
        context = RenderContext(settings=self.settings, build_time=datetime.min.replace(tzinfo=UTC))
        found: list[Finding] = []
        given = posting.boards.get(self.name)
        if isinstance(given, dict):
            found.extend(override_findings(given, self.profile.overrides, self.name))
        found.extend(self._age_findings(posting))
        records = self._records(posting, context)
        if not records:
            found.append(Finding("locations", "gives no place to list the job at", False))
        for record in records:
            found.extend(
                findings(self.engine.values(record), record, self.name, self.profile.summary)
            )
        unique = dict.fromkeys(found)
        return [self.problem(posting, f.field, f.message, warning=f.warning) for f in unique]

    def _age_findings(self, posting: Posting) -> list[Finding]:
        """The profile's `MaxAge` rule: a job posted too long ago for the board to list it."""
        rule = self.profile.max_age
        if rule is None:
            return []
        posted = starts_at(posting.date_posted, self.settings.timezone).date()
        age = (self._today() - posted).days
        if age < rule.days:
            return []
        message = rule.message or (
            f"was posted {age} days ago; {self.profile.summary} lists only jobs posted less "
            f"than {rule.days} days ago"
        )
        return [
            Finding(
                "date_posted", f"{message} (posted {posted})", rule.severity is Severity.WARNING
            )
        ]

    def spots(self, posting: Posting) -> list[Spot]:
        """The places the posting's items are listed at (for its reference numbers)."""
        return place_spots(posting) if self.profile.document.per is Per.LOCATION else []

    # ------------------------------------------------------------------------------- records

    def _numbers(self, posting: Posting, context: RenderContext) -> list[str]:
        if self.profile.document.per is Per.POSTING:
            return [posting.id]
        known = context.references.get(posting.id) if context.references else None
        return list(known) if known is not None else assign(posting.id, place_spots(posting), {})

    def _records(self, posting: Posting, context: RenderContext) -> list[Record]:
        return self.engine.records(
            posting,
            job_url=context.job_url(posting),
            company=context.company(posting),
            organization=self.organization,
            numbers=self._numbers(posting, context),
            target=self.name,
            build_time=context.build_time,
            changed_at=context.changed_at(posting),
            url_params=self.url_tags(),
        )

    def items_xml(self, posting: Posting, context: RenderContext, indent: str) -> list[str]:
        """The posting's items as XML text, one string per item."""
        return self.engine.items_xml(self._records(posting, context), indent)

    # ------------------------------------------------------------------------------ rendering

    def preview(self, posting: Posting, context: RenderContext) -> str:
        """The posting's items, as the feed holds them."""
        return "\n".join(self.items_xml(posting, context, "")) + "\n"

    def fragment_makers(self, context: RenderContext) -> dict[str, Callable[[Posting], bytes]]:
        """A posting's items."""
        return {"items": functools.partial(self._fragment, context=context)}

    def fragment_variant(self, posting_id: str, context: RenderContext) -> str:
        """A posting's items carry its reference numbers, which the state decides."""
        known = context.references.get(posting_id) if context.references else None
        return hashlib.sha256("\n".join(known).encode()).hexdigest()[:16] if known else ""

    def _fragment(self, posting: Posting, context: RenderContext) -> bytes:
        items = self.items_xml(posting, context, self._item_indent())
        xml = "".join("\n" + item for item in items).encode("utf-8")
        return str(len(items)).encode() + _COUNT_END + xml

    def _item_indent(self) -> str:
        return "  " * len(self.profile.document.root.split("/"))

    def render(self, postings: Iterable[Posting], context: RenderContext) -> Iterator[Document]:
        """The feed: one document, or one per ``items_per_file`` items (``name-2.xml``…).

        With a limit, each document's chunks must be read before the next document is asked
        for (as the build writes them): the split is found while streaming.
        """
        make = self.fragment_makers(context)["items"]
        pieces = iter(self.each_fragment(postings, "items", make))
        head, tail = self._frame(context)
        limit = self.profile.limits.items_per_file
        media = GZIP_TYPE if self.gzip else MEDIA_TYPE
        pending: list[bytes | None] = [next(pieces, None)]
        number = 1
        while True:
            done: list[bool] = []
            chunks = self._file_chunks(pieces, pending, head, tail, limit, done)
            yield Document(self._numbered(number), media, self._compressed(chunks))
            if limit is None or pending[0] is None:
                return
            if not done:
                raise RuntimeError("a split feed's documents must be read one after the other")
            number += 1

    def _file_chunks(
        self,
        pieces: Iterator[bytes],
        pending: list[bytes | None],
        head: bytes,
        tail: bytes,
        limit: int | None,
        done: list[bool],
    ) -> Iterator[bytes]:
        # ``pending`` holds the next posting's fragment, shared with `render`: a posting whose
        # items would go past ``limit`` starts the next file.
        out, items, postings = [head], 0, 0
        while pending[0] is not None:
            count, _, xml = pending[0].partition(_COUNT_END)
            if limit is not None and items and items + int(count) > limit:
                break
            out.append(xml)
            items += int(count)
            postings += 1
            pending[0] = next(pieces, None)
            if postings % CHUNK_POSTINGS == 0:
                yield b"".join(out)
                out = []
        out.append(tail)
        done.append(True)
        yield b"".join(out)

    def _numbered(self, number: int) -> str:
        name = self.file_name
        if number == 1:
            return name
        stem, dot, rest = name.partition(".")
        return f"{stem}-{number}{dot}{rest}"

    def _compressed(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        if not self.gzip:
            yield from chunks
            return
        # mtime 0 in the gzip header (zlib's own): the same feed gives the same bytes.
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
        for chunk in chunks:
            data = compressor.compress(chunk)
            if data:
                yield data
        yield compressor.flush()

    def _frame(self, context: RenderContext) -> tuple[bytes, bytes]:
        """The document around its items: declaration, root, header; the closing tags."""
        document = self.profile.document
        names = document.root.split("/")
        attributes = "".join(f' {key}="{value}"' for key, value in document.attributes.items())
        record = {"organization": _organization(self.settings), "build_time": context.build_time,
                  "target": self.name}  # fmt: skip
        header = self.engine.header_xml(self.engine.header_values(record), "  ")
        lines = [document.declaration, f"<{names[0]}{attributes}>", *header]
        lines.extend(f"{'  ' * depth}<{name}>" for depth, name in enumerate(names[1:], start=1))
        closing = [f"{'  ' * depth}</{name}>" for depth, name in reversed(list(enumerate(names)))]
        return "\n".join(lines).encode(), ("\n" + "\n".join(closing) + "\n").encode()

    def reference_seed(self, output: Path) -> dict[str, dict[str, str]]:
        """The numbers the feed as written gives, by posting id and place signature
        (`syndicate.adapters.profiles.readback`; `seed_keys` turns them into place keys)."""
        if self.reference_scheme is None or self.profile.document.per is not Per.LOCATION:
            return {}
        files = []
        for number in itertools.count(1):
            path = output / self._numbered(number)
            if not path.is_file():
                break
            files.append(path)
        prefix, _, suffix = self.settings.job_url("\0").partition("%00")
        return readback.read_numbers(self.profile, files, {"prefix": prefix, "suffix": suffix})

    def seed_keys(self, posting: Posting, seeded: Mapping[str, str]) -> dict[str, str]:
        """The seeded numbers of ``posting`` by the place key of the place whose signature
        they were read with (a place whose fields changed since gets a new number)."""
        context = RenderContext(settings=self.settings, build_time=datetime.min.replace(tzinfo=UTC))
        fields = {id(spec) for spec in readback.place_fields(self.profile)}
        keyed: dict[str, str] = {}
        seen: dict[str, int] = {}
        records = self._records(posting, context)
        for spot, record in zip(self.spots(posting), records, strict=False):
            texts = [w.text for w in self.engine.values(record) if id(w.spec) in fields]
            number = seeded.get(readback.ranked_key(readback.signature(texts), seen))
            if number is not None:
                keyed[spot.key] = number
        return keyed


_ENGINES: dict[tuple[str, str], Engine] = {}


def _engine(profile: Profile, settings: Settings) -> Engine:
    """One engine per profile and timezone in a process (its expressions compiled once)."""
    key = (profile.model_dump_json(), str(settings.timezone))
    engine = _ENGINES.get(key)
    if engine is None:
        engine = _ENGINES[key] = Engine(profile, settings.timezone)
    return engine


def _organization(settings: Settings) -> dict[str, Any]:
    return settings.organization.model_dump(mode="json")
