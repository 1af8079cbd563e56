"""Private partner feeds: files served only with ``Authorization: Bearer <token>`` or HTTP
Basic credentials (RFC 7617).

The token and the password of each file (or folder) are read from the environment variables the
configuration names (``server.private``), compared in constant time, and never logged.  A
missing or wrong credential gets ``401`` with ``WWW-Authenticate`` naming the schemes the file
takes (RFC 6750: ``error="invalid_token"`` when a bearer token was sent); while a variable is
unset, that way in is closed.
"""

from __future__ import annotations

import base64
import binascii
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
    token_env: str | None
    token: SecretStr | None
    username: str | None = None
    password: SecretStr | None = None

    def covers(self, relative: str) -> bool:
        """True when ``relative`` (a path under output) is this file or lies in this folder."""
        if self.path.endswith("/"):
            return relative.startswith(self.path) or relative == self.path.rstrip("/")
        return relative == self.path

    def allows(self, authorization: str | None) -> bool:
        """True when the ``Authorization`` header carries this rule's token."""
        if not authorization:
            return False
        scheme, _, given = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and self.token is not None:
            expected = self.token.get_secret_value().encode()
            return hmac.compare_digest(given.strip().encode(), expected)
        if scheme.lower() == "basic" and self.username is not None and self.password is not None:
            return self._basic(given.strip())
        return False

    def _basic(self, given: str) -> bool:
        assert self.username is not None and self.password is not None
        try:
            decoded = base64.b64decode(given, validate=True)
        except (binascii.Error, ValueError):
            return False
        user, colon, password = decoded.partition(b":")
        # Both compared, whatever the first gives: the time says nothing of which was wrong.
        same_user = hmac.compare_digest(user, self.username.encode())
        same_password = hmac.compare_digest(password, self.password.get_secret_value().encode())
        return bool(colon) and same_user and same_password

    def challenge(self, authorization: str | None) -> str:
        """The ``WWW-Authenticate`` value of a refusal: the schemes this file takes."""
        schemes = []
        if self.token_env is not None:
            bearer = 'Bearer realm="syndicate"'
            if authorization:
                bearer += ', error="invalid_token"'
            schemes.append(bearer)
        if self.username is not None:
            schemes.append('Basic realm="syndicate", charset="UTF-8"')
        return ", ".join(schemes) or 'Bearer realm="syndicate"'


class PrivateFiles:
    """The private rules of the server, matched by request path and by resolved path."""

    def __init__(self, rules: Iterable[PrivateRule] = ()) -> None:
        self.rules = tuple(rules)

    @classmethod
    def from_config(cls, private: Mapping[str, PrivateFeed]) -> PrivateFiles:
        """Rules for ``server.private``, with each token read from its environment variable."""
        rules = [
            PrivateRule(
                path,
                feed.token_env,
                read_secret(feed.token_env) if feed.token_env else None,
                feed.username,
                read_secret(feed.password_env) if feed.password_env else None,
            )
            for path, feed in private.items()
        ]
        for (path, feed), rule in zip(private.items(), rules, strict=True):
            unset = [
                name
                for name, value in (
                    (feed.token_env, rule.token),
                    (feed.password_env, rule.password),
                )
                if name is not None and value is None
            ]
            if unset:
                log.warning(
                    "private feed %s: environment variable %s is unset; that way in is closed",
                    path,
                    ", ".join(unset),
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
