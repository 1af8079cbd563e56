"""Secrets come only from environment variables, and never leave the process in clear.

Configuration names the variable (``token_env: LINKEDIN_TOKEN``); `read_secret` reads it when
it is needed and remembers the value (as does `remember_secret` for tokens fetched from a
board), so that `mask` can replace it with ``****`` in any text about to be printed, logged or
stored.  Masking is a last line of defence: code that makes a message keeps secrets out of it in
the first place (board answers and URLs are masked where they are read), and `mask_values`
masks the values of a JSON document without ever touching its keys.

A secret shorter than `MIN_MASKABLE` characters is accepted with a warning: replaced everywhere,
it would mangle ordinary words, so it is masked only where it stands as a whole word.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, SecretStr

MASK = "****"
MIN_MASKABLE = 8
log = logging.getLogger("syndicate.secret")


def _environment_name(value: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        # The value is not repeated: what is pasted here by mistake is often the secret itself.
        raise ValueError(
            "must name an environment variable (e.g. LINKEDIN_TOKEN) that holds the secret, "
            "never the secret itself"
        )
    return value


EnvName = Annotated[str, BeforeValidator(_environment_name)]

_SECRETS_SEEN: set[str] = set()
_SHORT_SEEN: set[str] = set()
_WARNED: set[str] = set()


def read_secret(env_name: str) -> SecretStr | None:
    """The secret held by environment variable ``env_name``, or None when it is unset or empty.

    Every value read is remembered so that `mask` can hide it from any output.
    """
    value = os.environ.get(env_name, "")
    if not value:
        return None
    if len(value) < MIN_MASKABLE and env_name not in _WARNED:
        _WARNED.add(env_name)
        log.warning(
            "the secret in %s is shorter than %d characters: too short to mask safely in "
            "output (it is hidden only where it stands as a whole word); use a longer one",
            env_name,
            MIN_MASKABLE,
        )
    remember_secret(value)
    return SecretStr(value)


def remember_secret(value: str) -> None:
    """Hide ``value`` (a token fetched from a board, say) from every output from now on."""
    if not value:
        return
    (_SECRETS_SEEN if len(value) >= MIN_MASKABLE else _SHORT_SEEN).add(value)


def mask(text: str) -> str:
    """``text`` with every secret value seen so far replaced by ``****``."""
    for value in sorted(_SECRETS_SEEN, key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    for value in _SHORT_SEEN:
        if value in text:
            text = re.sub(rf"(?<![\w-]){re.escape(value)}(?![\w-])", MASK, text)
    return text


def mask_values(document: Any) -> Any:
    """A JSON-ready ``document`` with every string value masked; keys are never altered."""
    if isinstance(document, str):
        return mask(document)
    if isinstance(document, dict):
        return {key: mask_values(value) for key, value in document.items()}
    if isinstance(document, list | tuple):
        return [mask_values(value) for value in document]
    return document
