"""HTTP helpers shared by push targets: one way to call a board and classify what went wrong."""

from __future__ import annotations

import email.utils
import time
from typing import TYPE_CHECKING, Any

from syndicate.errors import AuthenticationError, PushError
from syndicate.secret import mask

if TYPE_CHECKING:
    import httpx  # imported when a request is sent: a command that sends none never loads it

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
AUTH_STATUS = frozenset({401, 403})  # credentials refused: the target's fault, not the posting's


def request(
    client: httpx.Client, method: str, url: str, *, target: str, **kwargs: Any
) -> httpx.Response:
    """Send one request; transport failures and retryable statuses become `PushError`s.

    A 401 or 403 is an `AuthenticationError`; a response with another 4xx status is a
    `PushError`, not retryable; both carry the board's own message.
    """
    import httpx

    try:
        response = client.request(method, url, **kwargs)
    except httpx.TimeoutException as error:
        raise PushError(
            f"timed out: {type(error).__name__}", target=target, retryable=True
        ) from None
    except httpx.TransportError as error:
        raise PushError(
            f"connection failed: {mask(str(error)) or type(error).__name__}",
            target=target,
            retryable=True,
        ) from None
    if response.is_success:
        return response
    if response.status_code in AUTH_STATUS:
        raise AuthenticationError(
            f"HTTP {response.status_code}: {board_message(response)}",
            target=target,
            status_code=response.status_code,
        )
    raise PushError(
        f"HTTP {response.status_code}: {board_message(response)}",
        target=target,
        retryable=response.status_code in RETRYABLE_STATUS,
        retry_after=retry_after(response),
        status_code=response.status_code,
    )


def board_message(response: httpx.Response) -> str:
    """The board's explanation of an error response, shortened and with secrets masked."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("message", "error", "errorMessage", "detail"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message")
            if value:
                return mask(str(value))[:500]
    return mask(response.text.strip())[:500] or response.reason_phrase


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
