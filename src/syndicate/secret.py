"""Secrets come only from environment variables, and never leave the process in clear.

Configuration names the variable (``token_env: LINKEDIN_TOKEN``); `read_secret` reads it when
it is needed and remembers the value, so that `mask` can replace it with ``****`` in any text
about to be printed, logged or stored.
"""

from __future__ import annotations

import os
import re
from typing import Annotated

from pydantic import BeforeValidator, SecretStr

MASK = "****"


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


def read_secret(env_name: str) -> SecretStr | None:
    """The secret held by environment variable ``env_name``, or None when it is unset or empty.

    Every value read is remembered so that `mask` can hide it from any output.
    """
    value = os.environ.get(env_name, "")
    if not value:
        return None
    _SECRETS_SEEN.add(value)
    return SecretStr(value)


def mask(text: str) -> str:
    """``text`` with every secret value read through `secret` replaced by ``****``."""
    for value in sorted(_SECRETS_SEEN, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text
