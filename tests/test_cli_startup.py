"""What the command line imports before it runs a command (start-up time is measured by
``python -m benchmarks``, never here): each command imports the module that registers it, and
``validate`` of a project without a publish state needs neither the state store (SQLAlchemy)
nor the build."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from syndicate import cli
from tests.cli import copy_examples, run

# Prints, after running the command line given as arguments, which of these modules it imported.
_IMPORTED = """
import json, sys
sys.argv = ["syndicate", *sys.argv[1:]]
from syndicate.cli import main
try:
    main()
except SystemExit:
    pass
watched = ["sqlalchemy", "syndicate.build", "syndicate.publish", "syndicate.importing",
           "syndicate.daemon", "syndicate.cli.commands", "typer", "jinja2",
           "syndicate.adapters.profiles.target", "http.client"]
print(json.dumps({name: name in sys.modules for name in watched}))
"""


def _imported(*args: str, cwd: Path) -> dict[str, bool]:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTED, *args], cwd=cwd, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_command_is_registered_by_the_module_named_for_it() -> None:
    app = cli.app  # assembles every command module
    registered = {
        (info.name or info.callback.__name__): info.callback.__module__
        for info in app.registered_commands
        if info.callback is not None
    }
    registered |= {group.name: "syndicate.cli.state" for group in app.registered_groups}
    assert registered == {name: f"syndicate.cli.{module}" for name, module in cli.MODULE_OF.items()}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["validate"], "validate"),
        (["-q", "--config", "site/config.yaml", "publish", "--plan"], "publish"),
        (["-c", "validate", "build"], "build"),  # a config file named like a command
        (["--config=x.yaml", "-v", "status"], "status"),
        (["--help"], None),
        (["--", "validate"], None),
    ],
)
def test_the_command_named_is_found_past_the_global_options(
    args: list[str], expected: str | None
) -> None:
    assert cli.command_name(args) == expected


def test_version_imports_no_command(tmp_path: Path) -> None:
    imported = _imported("--version", cwd=tmp_path)
    assert not imported["typer"] and not imported["syndicate.cli.commands"]
    assert run("--version", cwd=tmp_path).stdout.strip().startswith("syndicate ")


def test_validate_without_a_state_imports_neither_the_build_nor_other_commands(
    tmp_path: Path,
) -> None:
    project = copy_examples(tmp_path)
    imported = _imported("-q", "validate", cwd=project)
    assert imported["syndicate.cli.commands"]  # it did run
    assert not imported["syndicate.build"]
    assert not imported["syndicate.publish"]
    assert not imported["syndicate.importing"]
    assert not imported["syndicate.daemon"]
    # The example's only board profile is disabled, and no careers page is rendered: neither
    # the profile engine nor Jinja2 is loaded (the careers fingerprint reads its templates).
    assert not imported["syndicate.adapters.profiles.target"]
    assert not imported["jinja2"]
    assert not imported["http.client"]  # nor what only a push parses answers with
    # The command itself still works, as the other tests of `validate` check in detail.
    assert run("-q", "validate", cwd=project).returncode in (0, 1)
