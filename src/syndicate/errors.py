"""One exception tree for everything syndicate reports, and the `Problem` it is made of.

```
SyndicateError
├── InputError      a posting file or import source is wrong (exit 1, nothing pushed)
├── ConfigError     config.yaml is wrong (exit 1)
├── RenderError     a posting breaks a target's rules or a template fails
├── PushError       a board refused or failed a push (``retryable`` says whether to try again)
│   └── AuthenticationError   the board refused our credentials (401/403): not the posting's
│                             fault, so what was to be sent stays queued
└── StateError      the publish state cannot be opened, read or written (``retryable`` when the
    │               database is out of reach for a while)
    └── StateLockedError   another publish holds the state's lock
```

Every error carries the context a person needs to act on it: the file and line, the field, the
target, the posting id.  ``str(error)`` reads ``file:line: field: message [target]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TypedDict, Unpack


class Severity(StrEnum):
    """How bad a problem is: errors stop a posting from publishing, warnings do not; ``omit``
    is no problem at all: the posting asks to be left out of that target (``boards:``)."""

    ERROR = "error"
    WARNING = "warning"
    OMIT = "omit"


@dataclass(frozen=True, slots=True)
class Problem:
    """One precise thing wrong with an input, located as exactly as it can be."""

    message: str
    file: Path | str | None = None
    line: int | None = None
    field: str | None = None
    target: str | None = None
    posting_id: str | None = None
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file is not None:
            parts.append(f"{self.file}:{self.line}" if self.line else str(self.file))
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        text = ": ".join(parts)
        return f"{text} [{self.target}]" if self.target else text

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form, for ``--format json``."""
        return {
            "file": str(self.file) if self.file is not None else None,
            "line": self.line,
            "field": self.field,
            "message": self.message,
            "target": self.target,
            "posting_id": self.posting_id,
            "severity": str(self.severity),
        }


class SyndicateError(Exception):
    """Base of every error syndicate raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        line: int | None = None,
        field: str | None = None,
        target: str | None = None,
        posting_id: str | None = None,
        retryable: bool = False,
        problems: Iterable[Problem] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        self.target = target
        self.posting_id = posting_id
        self.retryable = retryable
        self.problems: list[Problem] = list(problems)

    def as_problem(self) -> Problem:
        """This error as a single located problem."""
        return Problem(
            self.message,
            file=self.file,
            line=self.line,
            field=self.field,
            target=self.target,
            posting_id=self.posting_id,
        )

    def __str__(self) -> str:
        head = str(self.as_problem())
        if not self.problems:
            return head
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


class InputError(SyndicateError):
    """A posting file or an import source cannot be used as it is."""


class ConfigError(SyndicateError):
    """The configuration is invalid; ``problems`` lists every wrong key."""


class RenderError(SyndicateError):
    """A posting cannot be rendered for a target (its rules are broken or a template failed)."""


class _ErrorContext(TypedDict, total=False):
    """The keyword arguments of `SyndicateError` that `PushError` passes on."""

    file: Path | str | None
    line: int | None
    field: str | None
    target: str | None
    posting_id: str | None
    retryable: bool
    problems: Iterable[Problem]


class PushError(SyndicateError):
    """A board refused or failed a push.

    ``retryable`` is true for timeouts, connection errors, 5xx and 429; ``retry_after`` holds the
    seconds the board asked us to wait, when it said.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status_code: int | None = None,
        **context: Unpack[_ErrorContext],
    ) -> None:
        super().__init__(message, **context)
        self.retry_after = retry_after
        self.status_code = status_code


class AuthenticationError(PushError):
    """The board refused our credentials (HTTP 401 or 403): a wrong, expired or revoked token,
    or an account without the right.  Nothing more is sent to the target until it accepts
    them again; the operations stay queued."""


class StateError(SyndicateError):
    """The state store cannot be opened, read or written, or was used out of order."""


class StateLockedError(StateError):
    """Another publish holds the store's lock."""


class LeaseLostError(StateError):
    """The lease on an operation has passed to another daemon: this one must not send it."""
