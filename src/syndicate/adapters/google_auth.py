"""Service-account credentials for Google's APIs, with tokens fetched over syndicate's own client.

A service account signs a JWT with the private key of its JSON key file and exchanges it at the
key's ``token_uri`` for a short-lived access token (OAuth 2.0's JWT-bearer grant).  google-auth
does the signing and the exchange; `HttpxRequest` is the transport it does it with, built on the
target's ``httpx`` client, so the token endpoint is reached like the board itself (timeouts, rate
limit, and no ``requests`` dependency).

The rules followed, and where they come from (docs/boards.md has the whole table):

- The key file's path is read from an environment variable, ``GOOGLE_APPLICATION_CREDENTIALS``
  by default: google.aip.dev/auth/4112, "Expected Behavior" step 1 ("Load the Service Account
  ID JSON file from the file path specified by GOOGLE_APPLICATION_CREDENTIALS").  A JSON key
  holds ``type: service_account``, ``client_email``, ``private_key`` and ``token_uri`` (same).
- The token is requested with the scope ``https://www.googleapis.com/auth/indexing``:
  developers.google.com/search/apis/indexing-api/v3/prereqs and the API reference
  (…/v3/reference/indexing/rest/v3/urlNotifications/publish, "Authorization Scopes").
- "Each token is good for a span of time" (…/indexing-api/v3/prereqs): the token is kept in
  memory only, registered with `syndicate.secret.remember_secret` so that no output shows it,
  and fetched again shortly before ``credentials.expiry`` (the ``expires_in`` the token endpoint
  announced, as google-auth reads it), or at once after the board answers 401.
- ``credentials.refresh(request)`` obtains the token and sets ``.token`` and ``.expiry``:
  googleapis.dev/python/google-auth, ``google.oauth2.service_account``; the transport interface
  is ``google.auth.transport.Request`` / ``Response`` (same documentation).

Errors never quote the key file: a missing variable, an unreadable file, a file that is not a
service-account key each get a sentence naming the variable and the path; a token endpoint that
refuses the key is an `AuthenticationError` (the target's credentials, not the postings).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import google.auth.exceptions
import google.auth.transport
import httpx
from google.oauth2 import service_account

from syndicate.adapters.auth import UNANNOUNCED_LIFETIME_S, usable_for
from syndicate.errors import AuthenticationError, PushError
from syndicate.secret import mask, remember_secret

INDEXING_SCOPE = "https://www.googleapis.com/auth/indexing"
KEY_FIELDS = ("client_email", "private_key", "token_uri")


@dataclass(frozen=True, slots=True)
class HttpxResponse(google.auth.transport.Response):
    """An answer as google-auth reads it."""

    status_code: int
    header_map: Mapping[str, str]
    body: bytes

    @property
    def status(self) -> int:
        return self.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self.header_map

    @property
    def data(self) -> bytes:
        return self.body


class HttpxRequest(google.auth.transport.Request):
    """google-auth's transport on an ``httpx.Client``: whatever the status, the answer is
    returned (google-auth reads the token endpoint's errors itself); a failed connection or a
    timeout is google-auth's ``TransportError``."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> HttpxResponse:
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        try:
            response = self.client.request(
                method, url, content=body, headers=dict(headers or {}), **extra
            )
        except httpx.HTTPError as error:
            detail = mask(str(error)) or type(error).__name__
            raise google.auth.exceptions.TransportError(detail) from None
        return HttpxResponse(response.status_code, dict(response.headers), response.content)


class ServiceAccount:
    """The `Credentials` of a service account whose key file's path is in ``env_name``.

    The key is read when first needed and again whenever the file's content changes (a
    rotated key);
    the access token is fetched through the target's client and kept until shortly before it
    expires.  ``clock`` is monotonic seconds (tests give a fake one).
    """

    def __init__(
        self,
        env_name: str,
        *,
        target: str,
        scopes: tuple[str, ...] = (INDEXING_SCOPE,),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.env_name = env_name
        self.target = target
        self.scopes = scopes
        self._clock = clock
        self._lock = threading.Lock()
        self._loaded: tuple[tuple[str, str], service_account.Credentials] | None = None
        self._token: str | None = None
        self._refresh_at = 0.0

    def missing(self) -> str | None:
        try:
            with self._lock:
                self._account()
        except AuthenticationError as error:
            return error.message
        return None

    def headers(self, client: httpx.Client) -> dict[str, str]:
        with self._lock:
            account = self._account()
            if self._token is None or self._clock() >= self._refresh_at:
                self._token, lifetime = self._refresh(account, client)
                self._refresh_at = self._clock() + usable_for(lifetime)
            return {"Authorization": f"Bearer {self._token}"}

    def invalidate(self) -> bool:
        with self._lock:
            self._token = None
        return True

    @property
    def client_email(self) -> str | None:
        """The service account's email, once its key was read."""
        return self._loaded[1].service_account_email if self._loaded else None

    def _account(self) -> service_account.Credentials:
        """The google-auth credentials of the key file, read again when it changed."""
        path = os.environ.get(self.env_name, "")
        if not path:
            raise AuthenticationError(
                f"environment variable {self.env_name} is not set", target=self.target
            )
        try:
            content = Path(path).read_bytes()
        except OSError as error:
            raise self._key_error(path, f"cannot be read ({error.strerror})") from None
        version = (path, hashlib.sha256(content).hexdigest())
        if self._loaded is None or self._loaded[0] != version:
            account = self._read(path, content)
            self._loaded = (version, account)
            self._token = None  # a token of the previous key is not this key's
        return self._loaded[1]

    def _read(self, path: str, content: bytes) -> service_account.Credentials:
        try:
            info = json.loads(content.decode("utf-8"))
        except ValueError:  # the decoder's message would quote the file
            raise self._key_error(path, "is not a JSON key file") from None
        if not isinstance(info, dict) or info.get("type") != "service_account":
            raise self._key_error(
                path, 'is not a service-account key (no "type": "service_account")'
            )
        absent = [
            name for name in KEY_FIELDS if not isinstance(info.get(name), str) or not info[name]
        ]
        if absent:
            raise self._key_error(
                path, f"is not a usable service-account key: no {', '.join(absent)}"
            )
        remember_secret(info["private_key"])
        try:
            return service_account.Credentials.from_service_account_info(info, scopes=self.scopes)
        except Exception:  # any error of the library: its message may quote the key
            raise self._key_error(path, "holds a private_key that cannot be read") from None

    def _key_error(self, path: str, what: str) -> AuthenticationError:
        return AuthenticationError(
            f"the file named by {self.env_name} ({path}) {what}", target=self.target
        )

    def _refresh(
        self, account: service_account.Credentials, client: httpx.Client
    ) -> tuple[str, float]:
        """A new access token and the seconds it lives, from the key's token endpoint."""
        try:
            account.refresh(HttpxRequest(client))
        except google.auth.exceptions.RefreshError as error:
            message = mask(str(error.args[0] if error.args else error))[:500]
            if error.retryable:
                raise PushError(
                    f"the token endpoint failed: {message}", target=self.target, retryable=True
                ) from None
            raise AuthenticationError(
                f"the token endpoint refused the service account "
                f"{account.service_account_email}: {message}",
                target=self.target,
            ) from None
        except google.auth.exceptions.TransportError as error:
            raise PushError(
                f"the token endpoint could not be reached: {mask(str(error))}",
                target=self.target,
                retryable=True,
            ) from None
        token = str(account.token)
        remember_secret(token)
        return token, _seconds_left(account.expiry)


def _seconds_left(expiry: datetime | None) -> float:
    """Seconds from now until ``expiry`` (google-auth's naive UTC datetime; None when the
    endpoint announced no lifetime)."""
    if expiry is None:
        return UNANNOUNCED_LIFETIME_S
    if expiry.tzinfo is None:
        expiry = expiry.replace(tzinfo=UTC)
    return max(0.0, (expiry - datetime.now(UTC)).total_seconds())


_SHARED: dict[tuple[str, str], ServiceAccount] = {}
_SHARED_LOCK = threading.Lock()


def shared_service_account(env_name: str, *, target: str) -> ServiceAccount:
    """The process's one `ServiceAccount` for ``target`` and ``env_name``: publish makes its
    targets anew each run, and a daemon's runs keep using a token while it lives."""
    with _SHARED_LOCK:
        key = (target, env_name)
        if key not in _SHARED:
            _SHARED[key] = ServiceAccount(env_name, target=target)
        return _SHARED[key]
