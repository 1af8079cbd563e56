"""What every target is: a small class with its identity declared as class attributes.

A *pull* target renders documents (files in ``output``) that aggregators fetch; its ``render``
is pure: postings in, bytes out, no I/O.  A *push* target sends operations to a board's HTTP
API; its payload building is pure too, and only ``push`` touches the network.

Each target declares:

- ``Options``: a pydantic model of its config.yaml options, whose ``type: Literal["name"]`` is
  the target's type name (``type_name``, unique in `syndicate.registry`);
- ``kind``: pull or push (from `PullTarget` or `PushTarget`);
- ``check(posting)``: the board's documented rules, as `Problem`s tagged with the target name.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Protocol

from pydantic import Field, SecretStr

from syndicate.adapters import tagging
from syndicate.adapters.auth import Credentials, StaticBearer
from syndicate.durations import Duration
from syndicate.errors import Problem, Severity
from syndicate.model import Posting, starts_at
from syndicate.operations import OperationKind
from syndicate.pacing import RateLimiter
from syndicate.postings import LoadedPosting, PostingList
from syndicate.registry import SECRET, TRANSPORT, TargetOptions, marked, type_name_of
from syndicate.secret import read_secret
from syndicate.splice import Piece, Pieces, framed, resolved

if TYPE_CHECKING:
    import httpx

    from syndicate.config import Settings


class TargetKind(StrEnum):
    """Pull targets are files fetched by aggregators; push targets are APIs we call."""

    PULL = "pull"
    PUSH = "push"


class FragmentSource(Protocol):
    """Where a build keeps a target's per-posting pieces (`syndicate.cache.Fragments`)."""

    def each(
        self, refs: Sequence[LoadedPosting], part: str, make: Callable[[Posting], bytes]
    ) -> Iterator[bytes]:
        """``make(ref.posting)`` for each ref in order, from the cache where it has them."""
        ...

    def pieces(
        self, refs: Sequence[LoadedPosting], part: str, make: Callable[[Posting], bytes]
    ) -> Iterator[Piece]:
        """What `each` gives, as `Piece`s: named, and read only when their bytes are asked."""
        ...


@dataclass(frozen=True, slots=True)
class Document:
    """One output file of a pull target: its path under ``output`` and its bytes, streamed.

    ``pieces``, when given, makes the same bytes as literal bytes and named `Piece`s (the
    cached per-posting fragments), so that the build may copy the unchanged ones from the
    previous file rather than read them (`syndicate.splice`).
    """

    path: str
    media_type: str
    chunks: Iterable[bytes]
    pieces: Pieces | None = None


@dataclass(frozen=True, slots=True)
class RenderContext:
    """What a render needs besides the postings: who publishes, where, and when."""

    settings: Settings
    build_time: datetime
    # Reference numbers by posting id, as the build found them in the publish state (for
    # targets that list a job once per place); None: by the rule.
    references: Mapping[str, Sequence[str]] | None = None
    # When each posting's content last changed, by posting id, as the publish state remembers
    # it (sitemap lastmod, Atom updated); None, or a posting it lacks: when it was posted.
    changed: Mapping[str, datetime] | None = None

    def changed_at(self, posting: Posting) -> datetime:
        """When ``posting`` last changed in a way its readers should notice (never before it
        was posted)."""
        posted = starts_at(posting.date_posted, self.settings.timezone)
        known = self.changed.get(posting.id) if self.changed else None
        return max(known, posted) if known is not None else posted

    def job_url(self, posting: Posting) -> str:
        """The public URL of a posting's careers page (Indeed's ``url``, JSON-LD ``url``)."""
        return self.settings.job_url(posting.id)

    def company(self, posting: Posting) -> str:
        """The employer's name: the posting's own, or the configured organization's."""
        return posting.company or self.settings.organization.name


def _called(make: Callable[[], Iterable[bytes | Piece]]) -> Iterator[bytes | Piece]:
    """``make()``'s pieces, made only once the first is asked for."""
    yield from make()


def _selected(posting: Posting, key: str, allowed: Sequence[str]) -> bool:
    """Whether the posting's ``key`` field has one of the ``allowed`` values (`select`)."""
    if key == "country":
        values = [loc.country for loc in posting.locations] + list(posting.applicant_locations)
    elif key == "employment_type":
        values = [str(kind) for kind in posting.employment_type]
    else:
        value = getattr(posting, key)
        values = [] if value is None else [str(value)]
    wanted = {value.casefold() for value in allowed}
    return any(value.casefold() in wanted for value in values)


# The settings every target may render from (besides its own options).
RENDERED_SETTINGS = {"organization", "site", "timezone"}
_CONNECT_TIMEOUT = 5.0  # seconds; at most the request timeout


class Target(ABC):
    """Base of every target.  Subclasses set the class attributes and implement the rules."""

    type_name: ClassVar[str]  # the literal of ``Options.type``, set when the class is made
    kind: ClassVar[TargetKind]
    summary: ClassVar[str]
    Options: ClassVar[type[TargetOptions]]
    spec_url: ClassVar[str | None] = None  # the board's own documentation of what it takes
    # The source-tagging parameters the board's documentation asks for (`url_tags`); None:
    # it documents none, so ``tagging: true`` uses our default (`tagging.our_default`).
    documented_tags: ClassVar[Mapping[str, str] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "Options" in cls.__dict__:
            cls.type_name = type_name_of(cls.Options)

    def __init__(self, name: str, options: TargetOptions, settings: Settings) -> None:
        self.name = name
        self.options = options
        self.settings = settings

    def check(self, posting: Posting) -> list[Problem]:
        """Problems that keep ``posting`` off this target, tagged with the target name."""
        return []

    def url_tags(self) -> dict[str, str] | None:
        """The query parameters this target adds to the job and apply URLs it sends (None:
        its ``tagging`` option is off, or it has none: `syndicate.adapters.tagging`)."""
        option = getattr(self.options, "tagging", False)
        return tagging.params_for(option, self.documented_tags, self.name)

    def rules(self, posting: Posting) -> list[Problem]:
        """What decides whether ``posting`` goes to this target: the posting's own opt-out
        (``boards: {<target>: false}``, a `Severity.OMIT` problem) or the target's `check`."""
        if posting.opts_out_of(self.name):
            message = f"is left out of this target (boards: {{{self.name}: false}})"
            return [self.problem(posting, "boards", message, omit=True)]
        for key, allowed in self.options.select.items():
            if not _selected(posting, key, allowed):
                message = f"is not selected for this target (select: {key}: {', '.join(allowed)})"
                return [self.problem(posting, key, message, omit=True)]
        return self.check(posting)

    @abstractmethod
    def preview(self, posting: Posting, context: RenderContext) -> str:
        """What this target would receive for one posting, as text."""

    def fingerprint(self) -> str:
        """What, besides the postings, decides what this target receives (options, templates…).

        A build whose postings and fingerprint are unchanged keeps the previous build time; a
        push target whose fingerprint changes builds every payload again.  ``select`` decides
        which postings, not what they become, so it is left out.
        """
        return self.options.model_dump_json(exclude={"select"})

    def rendered_from(self) -> str:
        """One digest of everything besides a posting that decides what this target makes of
        it: its type and `fingerprint`, the settings every target renders from (organization,
        site, timezone) and where the job pages are (every job URL).  The cache keys its
        fragments by it, the build dates its output by it, the plan re-checks payloads when
        it changes; syndicate's own code counts too, added by each of them."""
        digest = hashlib.sha256(self.type_name.encode() + b"\0")
        digest.update(self.fingerprint().encode() + b"\0")
        digest.update(self.settings.model_dump_json(include=RENDERED_SETTINGS).encode() + b"\0")
        digest.update(self.settings.careers_prefix().encode())
        return digest.hexdigest()

    def disabled_reason(self) -> str | None:
        """Why this target will not run (None when it is enabled and ready)."""
        return None if self.options.enabled else "disabled in config (enabled: false)"

    def problem(
        self,
        posting: Posting,
        field: str | None,
        message: str,
        *,
        warning: bool = False,
        omit: bool = False,
    ) -> Problem:
        """A problem about ``posting`` on this target."""
        severity = Severity.OMIT if omit else Severity.WARNING if warning else Severity.ERROR
        return Problem(
            message, field=field, target=self.name, posting_id=posting.id, severity=severity
        )


class PullTarget(Target):
    """A target whose output is files under ``output``, served to aggregators."""

    kind: ClassVar[TargetKind] = TargetKind.PULL
    # The scheme of the reference numbers it lists a job's places with, for targets that
    # list a job once per place (`syndicate.references`); None for the others.  A profile
    # target sets its own (so an instance attribute, not a class variable).
    reference_scheme: str | None = None
    # Set by the build when it has a cache: per-posting fragments made before are reused.
    fragments: FragmentSource | None = None

    def folder(self) -> str | None:
        """The folder under ``output`` this target owns whole (replaced atomically), if any."""
        return None

    def fragment_makers(self, context: RenderContext) -> dict[str, Callable[[Posting], bytes]]:
        """The per-posting pieces `render` asks `each_fragment` for, by part name, so that a
        build can make them all ahead while it has each posting at hand (none by default)."""
        return {}

    def fragment_variant(self, posting_id: str, context: RenderContext) -> str:
        """What, besides its content and the target's key, decides a posting's fragments
        (Indeed's reference numbers, say): part of their cache key ("" for nothing)."""
        return ""

    def spots(self, posting: Posting) -> list[Any]:
        """The places the target lists a posting at, when it has a `reference_scheme`."""
        return []

    def reference_seed(self, output: Path) -> dict[str, dict[str, str]]:
        """The reference numbers the target's output under ``output`` gives now, by posting
        id and place key (for a publish state that remembers none yet)."""
        return {}

    def seed_keys(self, posting: Posting, seeded: Mapping[str, str]) -> dict[str, str]:
        """`reference_seed`'s numbers of ``posting`` by place key: as they are, for a target
        whose seed is keyed by place already; a target whose output does not say the place
        key (a profile) matches its own keys with the posting's places here."""
        return dict(seeded)

    def each_fragment(
        self, postings: Iterable[Posting], part: str, make: Callable[[Posting], bytes]
    ) -> Iterator[bytes]:
        """``make(posting)`` for each posting, in order: a render's per-posting pieces.

        When the build gave this target its `fragments` and the postings come from a cached
        load (a `syndicate.postings.PostingList`), a piece made before for the same content and
        the same target key is taken from the cache and the posting is not even read.
        """
        if self.fragments is None or not isinstance(postings, PostingList):
            return (make(posting) for posting in postings)
        return self.fragments.each(postings.files, part, make)

    def each_piece(
        self, postings: Iterable[Posting], part: str, make: Callable[[Posting], bytes]
    ) -> Iterator[Piece] | None:
        """`each_fragment` as named `Piece`s, when the build gave the target its fragments and
        the postings come from a cached load; otherwise None (the pieces would have no name)."""
        if self.fragments is None or not isinstance(postings, PostingList):
            return None
        return self.fragments.pieces(postings.files, part, make)

    def spliced(
        self, path: str, media_type: str, pieces: Callable[[], Iterable[bytes | Piece]]
    ) -> Document:
        """One document made of ``pieces`` (called once for the bytes, or by the writer)."""
        return Document(path, media_type, resolved(_called(pieces)), pieces=pieces)

    def framed_document(
        self,
        path: str,
        media_type: str,
        postings: Iterable[Posting],
        fragment: tuple[str, Callable[[Posting], bytes]],
        frame: tuple[bytes, bytes],
    ) -> Document:
        """A JSON array's file: ``frame``'s head, each posting's ``fragment`` (part, maker) one
        per line, its tail; made of named pieces when the build's fragments are at hand."""
        part, make = fragment
        head, tail = frame
        if self.each_piece(postings, part, make) is None:
            items = self.each_fragment(postings, part, make)
            return Document(path, media_type, resolved(framed(head, items, tail)))

        def pieces() -> Iterator[bytes | Piece]:
            return framed(head, self.each_piece(postings, part, make) or (), tail)

        return self.spliced(path, media_type, pieces)

    @abstractmethod
    def render(self, postings: Iterable[Posting], context: RenderContext) -> Iterator[Document]:
        """Render the listed postings (already checked) into documents; pure, no I/O."""

    def live_paths(self, files: Iterable[str], edited: Collection[str]) -> set[str]:
        """Which of the documents this target wrote (``files``, paths under ``output``) show
        something of the ``edited`` posting ids, besides the order they are in: what a daemon
        serves from the cache until the files are written again (every file by default)."""
        return set(files)

    def render_document(
        self, postings: Iterable[Posting], context: RenderContext, path: str
    ) -> Document | None:
        """The one document of `render` at ``path`` (None when it renders none there)."""
        return next((doc for doc in self.render(postings, context) if doc.path == path), None)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One planned operation as a push target sends it: the payload was built when planned."""

    key: int
    kind: OperationKind
    posting_id: str
    content_hash: str
    payload: dict[str, Any]
    task_id: str | None = None  # a board task accepted earlier and not finished yet
    task_accepted_at: datetime | None = None  # when the board accepted that task
    # A CLOSE's: when a CREATE of the posting was last sent without an answer (the board may
    # still come to show it), from `syndicate.state.StateStore.creates_in_doubt`.
    create_in_doubt_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the board said about one operation.

    ``ok`` with a ``remote_id``: done.  ``task_id`` without ``ok``: accepted, still running (poll
    it next time).  Otherwise an error; ``retryable`` errors are tried again later.
    """

    key: int
    ok: bool
    remote_id: str | None = None
    task_id: str | None = None
    error: str | None = None
    retryable: bool = False
    retry_after: float | None = None


class PushOptions(TargetOptions):
    """Options every push target takes, besides its own: how hard it may press the board."""

    timeout: Annotated[Duration, TRANSPORT] = timedelta(seconds=10)  # of one request, retried
    concurrency: Annotated[int, TRANSPORT] = Field(default=1, ge=1, le=64)  # batches in flight
    rate_limit: Annotated[float | None, TRANSPORT] = Field(default=None, gt=0)  # requests/s


class Limiter(Protocol):
    """What spaces a board's requests: `RateLimiter` in one process, or one shared by every
    process pushing to the board (`syndicate.state.coordination.SharedRateLimiter`)."""

    def acquire(self) -> None:
        """Wait for this request's turn."""

    def hold(self, seconds: float) -> None:
        """No request starts for ``seconds`` from now."""


class PushTarget(Target):
    """A target reached over HTTP; its secret comes from the environment variable it names.

    ``payload`` is pure (what the board will receive for one operation); ``send`` is the only
    network code: it pushes a batch of at most ``max_batch`` operations with the given client and
    returns one `Outcome` per operation.  It raises `PushError` when the whole batch failed (a
    timeout, a refused connection, a 5xx or a 429), with ``retryable`` and ``retry_after`` set.
    Tests give the client a fake transport (``httpx.MockTransport``) instead of patching.
    """

    kind: ClassVar[TargetKind] = TargetKind.PUSH
    _credentials: Credentials | None = None
    max_batch: ClassVar[int] = 1
    options: PushOptions

    # Whether `payload` is given what the target last accepted for an update (``previous``).
    wants_previous_payload: ClassVar[bool] = False
    # Payload keys that say which operation it is rather than what the board shows.
    operation_keys: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    def payload(
        self,
        kind: OperationKind,
        posting_id: str,
        posting: Posting | None,
        context: RenderContext,
        *,
        previous: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The body of one operation; ``posting`` is None for a CLOSE of a deleted file, and
        ``previous`` the payload the target last accepted (given for such a CLOSE, and for
        updates when `wants_previous_payload`)."""

    def payload_digest(self, payload: dict[str, Any], posting: Posting | None) -> str:
        """A digest of what the board shows from ``payload``: equal digests mean the target
        has nothing new to be told (the operation's own keys left out)."""
        shown = {key: value for key, value in payload.items() if key not in self.operation_keys}
        text = json.dumps(shown, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    @abstractmethod
    def send(self, client: httpx.Client, batch: Sequence[Outgoing]) -> list[Outcome]:
        """Push ``batch`` to the board; one outcome per operation, in order."""

    def fingerprint(self) -> str:
        return self.options.model_dump_json(exclude=set(self.transport_options()))

    @classmethod
    def transport_options(cls) -> frozenset[str]:
        """The options that say how to reach the board, not what it receives (marked
        `TRANSPORT` or `SECRET` on their fields): changing one re-sends nothing."""
        return marked(cls.Options, TRANSPORT) | marked(cls.Options, SECRET)

    @classmethod
    def secret_option(cls) -> str | None:
        """The option naming the secret's environment variable (marked `SECRET`), if any."""
        names = sorted(marked(cls.Options, SECRET))
        return names[0] if names else None

    def renew_after(self) -> timedelta | None:
        """How long after its last accepted operation an unchanged listing is renewed (None:
        never; only boards whose listings lapse need it)."""
        return None

    def renews_before_lapse(self) -> timedelta | None:
        """How long before the board's listing lapses (`listing_expiry`) a job that should stay
        listed is renewed (None: never)."""
        return None

    def listing_expiry(
        self, kind: OperationKind, payload: dict[str, Any], now: datetime, current: datetime | None
    ) -> datetime | None:
        """When the board's listing lapses once it accepts an operation of ``kind`` sent
        ``now`` (``current``: when it lapses now); None for boards whose listings do not."""
        return None

    def daily_quota(self) -> int | None:
        """How many operations the board accepts per day (None: no daily limit)."""
        return None

    def quota_cost(self, operation: Any) -> int:
        """How many units of the daily quota one accepted operation used (one request each)."""
        return 1

    def quota_day(self, now: datetime) -> date:
        """The day, as the board counts its daily quota, that ``now`` falls on (UTC unless the
        board says otherwise)."""
        return now.astimezone(UTC).date()

    def quota_resets_at(self, now: datetime) -> datetime:
        """When the board's next quota day begins after ``now``."""
        day = self.quota_day(now)
        return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)

    def accepts(self, kind: OperationKind) -> bool:
        """Whether the board knows this kind of operation (RENEW is not universal)."""
        return kind is not OperationKind.RENEW

    def longest_request(self) -> float:
        """Seconds one request may take before the client gives up on it: connecting, sending
        and waiting for the answer, each within its timeout (an answer trickling in byte by
        byte, each within the timeout, could take longer; no board answers so)."""
        seconds = self.options.timeout.total_seconds()
        return min(seconds, _CONNECT_TIMEOUT) + 2 * seconds

    def client(
        self, transport: httpx.BaseTransport | None = None, *, limiter: Limiter | None = None
    ) -> httpx.Client:
        """An HTTP client for this board: timeouts, the rate limit and Retry-After honoured
        across every thread that shares it (or, with ``limiter``, however that spaces them);
        ``transport`` replaces the network in tests."""
        import httpx  # here: commands that send nothing (validate, build) never load it

        seconds = self.options.timeout.total_seconds()
        limiter = limiter or RateLimiter(self.options.rate_limit)

        def before(_request: httpx.Request) -> None:
            limiter.acquire()

        def after(response: httpx.Response) -> None:
            if response.status_code in (429, 503):
                asked = response.headers.get("Retry-After", "")
                if asked.isdigit():
                    limiter.hold(float(asked))

        return httpx.Client(
            timeout=httpx.Timeout(seconds, connect=min(seconds, _CONNECT_TIMEOUT)),
            transport=transport,
            headers={"User-Agent": "syndicate"},
            event_hooks={"request": [before], "response": [after]},
            limits=httpx.Limits(max_connections=max(10, self.options.concurrency * 2)),
        )

    def preview(self, posting: Posting, context: RenderContext) -> str:
        """The payload of a CREATE of ``posting``, as pretty JSON."""
        body = self.payload(OperationKind.CREATE, posting.id, posting, context)
        return json.dumps(body, indent=2, ensure_ascii=False)

    def secret_env(self) -> str | None:
        """The name of the environment variable holding this target's secret, if it has one."""
        option = self.secret_option()
        return getattr(self.options, option) if option else None

    def secret(self) -> SecretStr | None:
        """The secret's value, read from the environment now (None when unset)."""
        env_name = self.secret_env()
        return read_secret(env_name) if env_name else None

    def credentials(self) -> Credentials | None:
        """What the target authenticates its requests with, made once per target: by default
        the bearer token in its secret's variable (None for a target that signs instead)."""
        if self._credentials is None:
            self._credentials = self.make_credentials()
        return self._credentials

    def make_credentials(self) -> Credentials | None:
        """The target's `Credentials` (see `credentials`)."""
        env_name = self.secret_env()
        return StaticBearer(env_name) if env_name else None

    def disabled_reason(self) -> str | None:
        reason = super().disabled_reason()
        if reason is not None:
            return reason
        credentials = self.credentials()
        if credentials is not None:
            return credentials.missing()
        if self.secret_env() and self.secret() is None:
            return f"environment variable {self.secret_env()} is not set"
        return None
