"""Write ``profile.schema.json`` from the profile models.

    .venv/bin/python -m syndicate.adapters.profiles.schema

tests/test_profiles_format.py fails when the shipped schema is not what this writes.
"""

from __future__ import annotations

import json
from pathlib import Path

from syndicate.adapters.profiles.spec import dump_schema

SCHEMA_FILE = Path(__file__).with_name("profile.schema.json")


def schema_text() -> str:
    """The schema as it is shipped: indented JSON, keys in the models' order."""
    return json.dumps(dump_schema(), indent=2) + "\n"


if __name__ == "__main__":
    SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")
