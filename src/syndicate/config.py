"""config.yaml as pydantic models: one definition of every setting, its default and its rules.

Paths in the file are relative to the file's folder.  Unknown keys are errors naming their path
(``targets.indeed.fiel``).  Secrets are never in the file: targets name the environment variable
that holds them (``token_env: LINKEDIN_TOKEN``); see `syndicate.secret`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from syndicate.diagnostics import Loc, problems_from_validation_error
from syndicate.durations import Duration
from syndicate.errors import ConfigError, Problem
from syndicate.model import Email, HttpUrl, Location, Text
from syndicate.registry import REGISTRY, TargetOptions
from syndicate.secret import EnvName
from syndicate.yamlsource import YamlDocument, parse_yaml

DEFAULT_CONFIG = Path("config.yaml")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Organization(_Section):
    """Who is hiring: the default employer of every posting.

    ``location`` is the headquarters: where boards that need one place for a remote job open
    to several countries (LinkedIn) locate it.
    """

    name: Text
    url: HttpUrl | None = None
    email: Email | None = None
    logo: HttpUrl | None = None
    location: Location | None = None


# The careers site's page for jobs no longer open, in its folder, as the careers target writes
# it (`syndicate.adapters.careers.target.GONE_PAGE`, which config cannot import: the adapters
# sit above it); the feed server answers it with 410.
GONE_PAGE = "gone.html"


class Site(_Section):
    """Where the careers pages and feeds are reachable from the outside.

    ``direct_apply: true`` says that every apply URL of the postings is the job's own short
    application form (Google's ``directApply``); a posting can say so alone with
    ``apply: {url: …, direct: true}``.
    """

    base_url: HttpUrl
    direct_apply: bool = False

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


class Schedule(_Section):
    """How often the daemon syncs, and whether it also watches the postings folder."""

    sync_every: Duration = timedelta(minutes=15)
    watch: bool = False


class Retry(_Section):
    """Retries of failed pushes: exponential from ``backoff`` up to ``max_backoff``.

    ``max_wait_per_run`` caps how long one run waits in all for retries (backoff and the
    boards' ``Retry-After``); what is still waiting then stays queued for the next run.
    """

    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff: Duration = timedelta(seconds=2)
    max_backoff: Duration = timedelta(minutes=10)
    max_wait_per_run: Duration = timedelta(seconds=60)


def _share(value: Any) -> float:
    """``20%`` or ``0.2`` → 0.2."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            value = float(value.strip()[:-1]) / 100
        except ValueError:
            raise ValueError(f"{value!r} is not a share such as 20% or 0.2") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{value!r} is not a share such as 20% or 0.2")
    if not 0 <= value <= 1:
        raise ValueError(f"{value!r} is not between 0% and 100%")
    return float(value)


Share = Annotated[float, BeforeValidator(_share)]


class Guard(_Section):
    """The guard against closing many jobs by accident.

    Closes that the postings ask for (``status: closed``, ``valid_through`` passed) always go
    through.  Closes caused by files that disappeared (or whose ``id`` changed) are refused
    when they would close more than ``max_close`` of a target's open jobs (a target with fewer
    than ``min_jobs`` open jobs is not held to the share), or when the postings folder is
    empty; ``syndicate publish --allow-mass-close`` lets them through once reviewed.
    """

    max_close: Share = 0.2
    min_jobs: int = Field(default=5, ge=0)


class PrivateFeed(_Section):
    """A file (or, with a trailing ``/``, a folder) of ``output`` served only to partners.

    Requests carry ``Authorization: Bearer <token>``, the token being the value of the
    environment variable ``token_env``, or HTTP Basic credentials (RFC 7617): ``username``
    and the password in the environment variable ``password_env`` (aggregators such as Adzuna
    crawl "password protected" feed URLs).  Either or both may be set; while a variable is
    unset, its way in is closed.
    """

    token_env: EnvName | None = None
    username: Annotated[str, Field(min_length=1, pattern=r"^[^:\s]+$")] | None = None
    password_env: EnvName | None = None

    @model_validator(mode="after")
    def _one_way_in(self) -> PrivateFeed:
        if (self.username is None) != (self.password_env is None):
            raise ValueError("HTTP Basic needs both username and password_env")
        if self.token_env is None and self.username is None:
            raise ValueError("needs token_env (bearer) or username and password_env (HTTP Basic)")
        return self


class Cluster(_Section):
    """How this daemon takes part in a state shared with other daemons (docs/scaling.md).

    ``id`` names the daemon in the state, ``status``, ``/healthz`` and ``/metrics`` (default:
    ``$SYNDICATE_DAEMON_ID``, else ``<host>-<pid>``).  One daemon at a time plans, under a
    lease it renews every third of ``lease_time``; a daemon that dies or loses the database
    gives it up within ``lease_time``.  Push operations are leased ``batches_per_lease``
    batches at a time for ``lease_time``, renewed while they are worked on, and taken over by
    another daemon once the lease has expired.
    """

    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._:-]{1,64}$")
    lease_time: Duration = timedelta(seconds=30)
    batches_per_lease: int = Field(default=4, ge=1, le=100)

    @field_validator("lease_time")
    @classmethod
    def _long_enough(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("lease_time must be at least 1s")
        return value


class Server(_Section):
    """Where the daemon's feed server listens, and which files it serves only to partners.

    ``private`` maps a path under ``output`` (``partners/indeed.xml``, or ``partners/`` for a
    whole folder) to the environment variable holding its bearer token.
    """

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    private: dict[str, PrivateFeed] = {}

    @field_validator("private", mode="before")
    @classmethod
    def _private_paths(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {_served_path(str(path)): feed for path, feed in value.items()}


def _served_path(path: str) -> str:
    """``path`` as a relative path under ``output``; a trailing ``/`` marks a folder."""
    folder = path.endswith("/")
    parts = path.strip("/").split("/")
    if (
        "\\" in path
        or "\0" in path
        or any(part in ("", ".", "..") or part.startswith(".") for part in parts)
    ):
        raise ValueError(
            f"private path {path!r} must be a path under output such as partners/indeed.xml "
            "(no '..', no hidden files, no empty parts)"
        )
    return "/".join(parts) + ("/" if folder else "")


class Settings(_Section):
    """The whole configuration; `load_settings` reads it from config.yaml."""

    organization: Organization
    site: Site
    postings: Path = Path("postings")
    output: Path = Path("feeds")
    state: str = "sqlite:///.syndicate/state.db"
    timezone: ZoneInfo = ZoneInfo("UTC")
    # The config file's folder; before ``targets``, whose validation is given it (a board
    # profile's name is looked up in its ``adapters/`` folder).
    root: Path = Field(default=Path("."), exclude=True)
    # Each validated by the options of the type it names, from the registry of the moment.
    targets: dict[str, SerializeAsAny[TargetOptions]] = {}
    schedule: Schedule = Schedule()
    retry: Retry = Retry()
    guard: Guard = Guard()
    server: Server = Server()
    cluster: Cluster = Cluster()
    # Processes that parse and render a large build (default: one per CPU; 1: none).
    workers: int | None = Field(default=None, ge=1, le=64)
    # The build cache (default: ``cache/`` beside a SQLite state file, else .syndicate/cache).
    cache: Path | None = None

    @field_validator("state")
    @classmethod
    def _no_password(cls, value: str) -> str:
        # A password in config.yaml would end up in git: libpq reads it from $PGPASSWORD (or
        # ~/.pgpass), and the URL carries none.
        if re.match(r"^[a-z0-9+]+://[^/@]*:[^/@]*@", value, flags=re.IGNORECASE):
            raise ValueError(
                "the state URL must not hold a password: remove it and set PGPASSWORD "
                "in the environment (or use a ~/.pgpass file)"
            )
        return value

    @field_validator("timezone", mode="before")
    @classmethod
    def _zone(cls, value: Any) -> ZoneInfo:
        if isinstance(value, ZoneInfo):
            return value
        try:
            return ZoneInfo(str(value))
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA timezone (e.g. Europe/Zurich, America/New_York, UTC)"
            ) from None

    @field_validator("targets", mode="wrap")
    @classmethod
    def _targets(cls, value: Any, _handler: Any, info: ValidationInfo) -> dict[str, TargetOptions]:
        if isinstance(value, dict):
            for name in value:
                if not re.fullmatch(r"[a-z0-9_-]{1,40}", str(name)):
                    raise ValueError(
                        f"target name {name!r} may hold only lowercase letters, digits, - and _"
                    )
        root = info.data.get("root")
        context = {"root": root} if isinstance(root, Path) else None
        return REGISTRY.options_adapter().validate_python(value, context=context)

    def path(self, relative: Path) -> Path:
        """``relative`` resolved against the config file's folder."""
        return relative if relative.is_absolute() else self.root / relative

    @property
    def postings_dir(self) -> Path:
        return self.path(self.postings)

    @property
    def output_dir(self) -> Path:
        return self.path(self.output)

    @property
    def state_url(self) -> str:
        """The state URL with a relative SQLite path made absolute against the config folder."""
        prefix = "sqlite:///"
        if self.state.startswith(prefix) and not self.state.startswith(prefix + "/"):
            return prefix + str(self.path(Path(self.state[len(prefix) :])))
        return self.state

    @property
    def cache_dir(self) -> Path:
        """Where the build cache lives: the ``cache`` setting, else beside the state."""
        if self.cache is not None:
            return self.path(self.cache)
        database = self.state_file()
        if database is not None:
            return database.parent / "cache"
        return self.work_dir / "cache"

    def state_file(self) -> Path | None:
        """The SQLite file of the publish state (None for a server database or memory): a
        command can tell there is no state without importing the state store."""
        prefix = "sqlite:///"
        url = self.state_url
        if url.startswith(prefix) and ":memory:" not in url and "mode=memory" not in url:
            return Path(url[len(prefix) :].removeprefix("file:").split("?", 1)[0])
        return None

    def posting_key(self, path: Path | str) -> str:
        """A posting file's path relative to the postings folder, as the state records it
        (the same on every machine whatever folder the postings are checked out in)."""
        return self.posting_keys([path])[0]

    def posting_keys(self, paths: Iterable[Path | str]) -> list[str]:
        """`posting_key` of each path, the folder and each directory resolved once (a plan
        asks for every file's: resolving each path whole cost 0.2 ms a file)."""
        folder = os.path.realpath(self.postings_dir)
        inside = folder.rstrip(os.sep) + os.sep
        directories: dict[str, str] = {}
        keys: list[str] = []
        for path in paths:
            head, name = os.path.split(os.path.abspath(path))
            if head not in directories:
                directories[head] = os.path.realpath(head)
            resolved = os.path.join(directories[head], name)
            if name in {"", ".", ".."} or os.path.islink(resolved):
                resolved = os.path.realpath(resolved)
            if resolved == folder:
                keys.append(".")
            elif resolved.startswith(inside):
                keys.append(resolved[len(inside) :].replace(os.sep, "/"))
            else:
                keys.append(resolved.replace(os.sep, "/"))
        return keys

    @property
    def work_dir(self) -> Path:
        """Where syndicate keeps its own files (build manifest, locks): ``.syndicate/``."""
        return self.path(Path(".syndicate"))

    def job_url(self, posting_id: str) -> str:
        """The public URL of a job's careers page."""
        return f"{self.site.base_url}/{self.careers_prefix()}{quote(posting_id)}.html"

    def careers_gone_page(self) -> str | None:
        """The careers site's page for jobs no longer open, under ``output`` (None without an
        enabled careers site)."""
        options = self._careers_site()
        if options is None or not options.enabled:
            return None
        return f"{self._careers_folder(options)}{GONE_PAGE}"

    def careers_home(self) -> str | None:
        """The careers site's index under ``output`` (``careers/``), where the feed server
        sends ``/``; None without an enabled careers site."""
        options = self._careers_site()
        if options is None or not options.enabled:
            return None
        return self._careers_folder(options)

    def careers_prefix(self) -> str:
        """The careers site's job pages under ``output`` as a URL prefix (``careers/jobs/``)."""
        return f"{self._careers_folder(self._careers_site())}jobs/"

    def _careers_site(self) -> Any:
        return next((o for o in self.targets.values() if o.type == "careers_site"), None)

    @staticmethod
    def _careers_folder(options: Any) -> str:
        """The careers site's folder as a prefix (``careers/``; ``""`` for none)."""
        folder = str(getattr(options, "dir", "") or "").strip("/")
        return f"{folder}/" if folder else ""


def _drop_union_tag(loc: Loc) -> Loc:
    # pydantic puts the discriminator value in the location: targets.<name>.<type>.<key>
    if len(loc) > 2 and loc[0] == "targets" and loc[2] in REGISTRY:
        return loc[:2] + loc[3:]
    return loc


def settings_from_data(
    data: Any,
    *,
    file: Path | str = DEFAULT_CONFIG,
    root: Path = Path("."),
    document: YamlDocument | None = None,
) -> Settings:
    """Validate parsed config data; every problem is reported at once in a `ConfigError`."""
    if not isinstance(data, dict):
        raise ConfigError("must be a mapping of settings", file=file, line=1)
    try:
        return Settings.model_validate({**data, "root": root})
    except ValidationError as error:
        problems = problems_from_validation_error(
            error,
            Settings,
            file=file,
            line_of=document.line_of if document else (lambda loc: None),
            drop_loc=_drop_union_tag,
        )
        raise ConfigError(
            f"{len(problems)} problem(s) in the configuration", file=file, problems=problems
        ) from None


def load_settings(path: Path = DEFAULT_CONFIG) -> Settings:
    """Read and validate config.yaml at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            "no configuration file here; run `syndicate init` or pass --config PATH", file=path
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot be read: {error}", file=path) from None
    document = parse_yaml(text, file=path, line_offset=0, error_type=ConfigError)
    if document.duplicates:
        raise ConfigError(
            "duplicate keys in the configuration", file=path, problems=document.duplicates
        )
    return settings_from_data(
        document.data, file=path, root=path.parent.resolve(), document=document
    )


def config_problems(error: ConfigError) -> list[Problem]:
    """The problems of a configuration error, or the error itself as one problem."""
    return error.problems or [error.as_problem()]
