"""The indented JSON writer gives exactly the standard library's bytes."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from syndicate.adapters.jsontext import indented

_LEAVES: tuple[Any, ...] = (
    "plain", "é\u2028<>&\"\\\n\x01\ud800", "", 0, -3, 10**30, 2.5, 1e300, -0.0,
    float("nan"), float("inf"), True, False, None,
)  # fmt: skip


def _value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 4 or roll < 0.4:
        return rng.choice(_LEAVES)
    if roll < 0.7:
        keys = ("k", "é", "<x>", "", "a b")
        return {rng.choice(keys) + str(i): _value(rng, depth + 1) for i in range(rng.randint(0, 4))}
    items = [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return items if rng.random() < 0.5 else tuple(items)


@pytest.mark.parametrize("indent", [2, 0, 4])
def test_random_values_match_json_dumps(indent: int) -> None:
    rng = random.Random(indent)
    for _ in range(3000):
        value = _value(rng)
        assert indented(value, indent) == json.dumps(value, indent=indent, ensure_ascii=False)


def test_what_it_does_not_write_itself_is_left_to_json_dumps() -> None:
    assert indented({1: [2], None: {}}) == json.dumps({1: [2], None: {}}, indent=2)
    with pytest.raises(TypeError):
        indented({"when": object()})
