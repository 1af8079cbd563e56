"""What every target is: a small class with its identity declared as class attributes.

A *pull* target renders documents (files in ``output``) that aggregators fetch; its ``render``
is pure: postings in, bytes out, no I/O.  A *push* target sends operations to a board's HTTP
API; its payload building is pure too, and only ``push`` touches the network.

Each target declares:

- ``type_name``: the ``type`` used in config.yaml, unique in the registry;
- ``kind``: pull or push;
- ``Options``: a pydantic model of its config.yaml options (``type`` and ``enabled`` included);
- ``check(posting)``: the board's documented rules, as `Problem`s tagged with the target name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, SecretStr

from syndicate.errors import Problem, Severity
from syndicate.model import Posting
from syndicate.secret import read_secret

if TYPE_CHECKING:
    from syndicate.config import Settings


class TargetKind(StrEnum):
    """Pull targets are files fetched by aggregators; push targets are APIs we call."""

    PULL = "pull"
    PUSH = "push"


class TargetOptions(BaseModel):
    """Options every target accepts; each target's own ``Options`` extends this."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Document:
    """One output file of a pull target: its path under ``output`` and its bytes, streamed."""

    path: str
    media_type: str
    chunks: Iterable[bytes]


@dataclass(frozen=True, slots=True)
class RenderContext:
    """What a render needs besides the postings: who publishes, where, and when."""

    settings: Settings
    build_time: datetime

    def job_url(self, posting: Posting) -> str:
        """The public URL of a posting's careers page (Indeed's ``url``, JSON-LD ``url``)."""
        return self.settings.job_url(posting.id)

    def company(self, posting: Posting) -> str:
        """The employer's name: the posting's own, or the configured organization's."""
        return posting.company or self.settings.organization.name


class Target(ABC):
    """Base of every target.  Subclasses set the class attributes and implement the rules."""

    type_name: ClassVar[str]
    kind: ClassVar[TargetKind]
    summary: ClassVar[str]
    Options: ClassVar[type[TargetOptions]]

    def __init__(self, name: str, options: TargetOptions, settings: Settings) -> None:
        self.name = name
        self.options = options
        self.settings = settings

    def check(self, posting: Posting) -> list[Problem]:
        """Problems that keep ``posting`` off this target, tagged with the target name."""
        return []

    def disabled_reason(self) -> str | None:
        """Why this target will not run (None when it is enabled and ready)."""
        return None if self.options.enabled else "disabled in config (enabled: false)"

    def problem(
        self, posting: Posting, field: str | None, message: str, *, warning: bool = False
    ) -> Problem:
        """A problem about ``posting`` on this target."""
        return Problem(
            message,
            field=field,
            target=self.name,
            posting_id=posting.id,
            severity=Severity.WARNING if warning else Severity.ERROR,
        )


class PullTarget(Target):
    """A target whose output is files under ``output``, served to aggregators."""

    kind: ClassVar[TargetKind] = TargetKind.PULL

    @abstractmethod
    def render(self, postings: Iterable[Posting], context: RenderContext) -> Iterator[Document]:
        """Render the listed postings (already checked) into documents; pure, no I/O."""

    @abstractmethod
    def preview(self, posting: Posting, context: RenderContext) -> str:
        """What this target would receive for one posting, as text."""


class PushTarget(Target):
    """A target reached over HTTP; its secret comes from the environment variable it names."""

    kind: ClassVar[TargetKind] = TargetKind.PUSH
    secret_option: ClassVar[str | None] = None  # the Options field naming the secret's variable

    def secret_env(self) -> str | None:
        """The name of the environment variable holding this target's secret, if it has one."""
        return getattr(self.options, self.secret_option) if self.secret_option else None

    def secret(self) -> SecretStr | None:
        """The secret's value, read from the environment now (None when unset)."""
        env_name = self.secret_env()
        return read_secret(env_name) if env_name else None

    def disabled_reason(self) -> str | None:
        reason = super().disabled_reason()
        if reason is None and self.secret_env() and self.secret() is None:
            return f"environment variable {self.secret_env()} is not set"
        return reason
