"""How push targets prove who they are: bearer tokens, static or fetched and refreshed.

A target holds one `Credentials` object for its lifetime (a daemon's too) and asks it for the
``Authorization`` header before each request.  `StaticBearer` reads a token from an environment
variable.  `ClientCredentials` is OAuth 2.0's client-credentials grant (LinkedIn's "2-legged"
flow): the client id and secret come from environment variables, the token is fetched from the
token endpoint, kept in memory (never stored, logged or printed: it is registered with
`syndicate.secret.mask`) until shortly before it expires, and fetched again when the board
answers 401.  `authorized` sends one request with them and retries once after a 401 when the
credentials can fetch a new token.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from syndicate.adapters.http import request
from syndicate.errors import AuthenticationError, PushError
from syndicate.secret import mask, read_secret, remember_secret

if TYPE_CHECKING:
    import httpx

# A token is fetched again when this little of its life is left: a tenth of it, at most a minute.
EXPIRY_MARGIN_S = 60.0
EXPIRY_MARGIN_SHARE = 0.1
# A token whose endpoint announces no lifetime is taken to live two minutes.
UNANNOUNCED_LIFETIME_S = 120.0


def usable_for(lifetime: float) -> float:
    """How long a token announced to live ``lifetime`` seconds is used before it is fetched
    again: all of its life but the last tenth, or but the last minute for a long-lived one."""
    return max(0.0, lifetime - min(EXPIRY_MARGIN_S, lifetime * EXPIRY_MARGIN_SHARE))


class Credentials(Protocol):
    """What a push target authenticates with."""

    def missing(self) -> str | None:
        """Why these credentials cannot be used (an unset variable), or None."""
        ...

    def headers(self, client: httpx.Client) -> dict[str, str]:
        """The ``Authorization`` header for the next request (fetching a token if needed)."""
        ...

    def invalidate(self) -> bool:
        """Forget the current token after the board refused it; True when a new one can be
        fetched (so the request is worth sending again)."""
        ...


class StaticBearer:
    """A bearer token read from the environment variable ``env_name``."""

    def __init__(self, env_name: str) -> None:
        self.env_name = env_name

    def missing(self) -> str | None:
        return (
            None
            if read_secret(self.env_name)
            else f"environment variable {self.env_name} is not set"
        )

    def headers(self, client: httpx.Client) -> dict[str, str]:
        token = read_secret(self.env_name)
        return {"Authorization": f"Bearer {token.get_secret_value() if token else ''}"}

    def invalidate(self) -> bool:
        return False  # the same variable holds the same token


class ClientCredentials:
    """OAuth 2.0 client credentials: a token fetched from ``token_url`` with the client id and
    secret held by two environment variables, cached until shortly before it expires."""

    def __init__(
        self,
        token_url: str,
        client_id_env: str,
        client_secret_env: str,
        *,
        target: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self.client_id_env = client_id_env
        self.client_secret_env = client_secret_env
        self.target = target
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0

    def missing(self) -> str | None:
        for env_name in (self.client_id_env, self.client_secret_env):
            if not read_secret(env_name):
                return f"environment variable {env_name} is not set"
        return None

    def headers(self, client: httpx.Client) -> dict[str, str]:
        with self._lock:
            if self._token is None or self._clock() >= self._expires:
                self._token, lifetime = self._fetch(client)
                self._expires = self._clock() + usable_for(lifetime)
            return {"Authorization": f"Bearer {self._token}"}

    def invalidate(self) -> bool:
        with self._lock:
            self._token = None
        return True

    def _fetch(self, client: httpx.Client) -> tuple[str, float]:
        client_id = read_secret(self.client_id_env)
        client_secret = read_secret(self.client_secret_env)
        if client_id is None or client_secret is None:
            raise AuthenticationError(
                self.missing() or "credentials are not set", target=self.target
            )
        form = {
            "grant_type": "client_credentials",
            "client_id": client_id.get_secret_value(),
            "client_secret": client_secret.get_secret_value(),
        }
        try:
            response = request(client, "POST", self.token_url, target=self.target, data=form)
        except AuthenticationError as error:
            raise AuthenticationError(
                f"the token endpoint refused the client credentials: {error.message}",
                target=self.target,
                status_code=error.status_code,
            ) from None
        except PushError as error:
            if error.status_code is not None and not error.retryable:
                raise AuthenticationError(
                    f"the token endpoint refused the request: {error.message}", target=self.target
                ) from None
            raise
        return _token_from(response, self.target)


def _token_from(response: httpx.Response, target: str) -> tuple[str, float]:
    """``(access token, seconds it lives)`` from a token endpoint's JSON answer.

    ``expires_in`` is a number of seconds, given as a number or (as in LinkedIn's sample) as a
    string; without it the token is taken to live `UNANNOUNCED_LIFETIME_S`.
    """
    try:
        data: Any = response.json()
        token = str(data["access_token"])
    except (ValueError, KeyError, TypeError):
        raise PushError(
            f"the token endpoint answered without an access_token: {mask(response.text[:200])}",
            target=target,
            retryable=True,
        ) from None
    remember_secret(token)
    try:
        lifetime = float(data.get("expires_in", UNANNOUNCED_LIFETIME_S))
    except (TypeError, ValueError):
        lifetime = UNANNOUNCED_LIFETIME_S
    return token, lifetime


def authorized(
    credentials: Credentials,
    client: httpx.Client,
    method: str,
    url: str,
    *,
    target: str,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """`syndicate.adapters.http.request` with the credentials' header; after a 401, once more
    with a freshly fetched token when the credentials can fetch one."""
    for attempt in range(2):
        sent = {**(headers or {}), **credentials.headers(client)}
        try:
            return request(client, method, url, target=target, headers=sent, **kwargs)
        except AuthenticationError as error:
            if attempt or error.status_code != 401 or not credentials.invalidate():
                raise
    raise AssertionError("unreachable")  # pragma: no cover
