"""Private partner feeds: files served only with ``Authorization: Bearer <token>``.

The token of each file (or folder) is read from the environment variable the configuration
names (``server.private``), compared in constant time, and never logged.  A missing or wrong
token gets ``401`` with ``WWW-Authenticate: Bearer`` (RFC 6750: ``error="invalid_token"`` when
a token was sent); while the variable is unset, nobody can read the file.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pydantic import SecretStr

from syndicate.config import PrivateFeed
from syndicate.secret import read_secret

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PrivateRule:
    """One private file, or a folder when ``path`` ends with ``/``."""

    path: str
    token_env: str
    token: SecretStr | None

    def covers(self, relative: str) -> bool:
        """True when ``relative`` (a path under output) is this file or lies in this folder."""
        if self.path.endswith("/"):
            return relative.startswith(self.path) or relative == self.path.rstrip("/")
        return relative == self.path

    def allows(self, authorization: str | None) -> bool:
        """True when the ``Authorization`` header carries this rule's token."""
        if self.token is None or not authorization:
            return False
        scheme, _, given = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            return False
        expected = self.token.get_secret_value().encode()
        return hmac.compare_digest(given.strip().encode(), expected)


class PrivateFiles:
    """The private rules of the server, matched by request path and by resolved path."""

    def __init__(self, rules: Iterable[PrivateRule] = ()) -> None:
        self.rules = tuple(rules)

    @classmethod
    def from_config(cls, private: Mapping[str, PrivateFeed]) -> PrivateFiles:
        """Rules for ``server.private``, with each token read from its environment variable."""
        rules = [
            PrivateRule(path, feed.token_env, read_secret(feed.token_env))
            for path, feed in private.items()
        ]
        for rule in rules:
            if rule.token is None:
                log.warning(
                    "private feed %s: environment variable %s is unset; nobody can read it",
                    rule.path,
                    rule.token_env,
                )
        return cls(rules)

    def __bool__(self) -> bool:
        return bool(self.rules)

    def rule_for(self, relative: str) -> PrivateRule | None:
        """The rule covering the request path ``relative``, if any."""
        return next((rule for rule in self.rules if rule.covers(relative)), None)

    def rule_for_real(self, real: str, base: str) -> PrivateRule | None:
        """The rule covering a file by its resolved path ``real`` (relative to ``base``).

        This catches a private file reached through another name (a symlink inside output).
        """
        for rule in self.rules:
            target = os.path.realpath(os.path.join(base, rule.path))
            if not target.startswith(base + os.sep):
                continue
            resolved = target[len(base) + 1 :]
            if real == resolved or (rule.path.endswith("/") and real.startswith(resolved + "/")):
                return rule
        return None
