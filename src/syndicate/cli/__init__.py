"""The ``syndicate`` command line: parse, call, print.  The work happens in the modules it calls.

Each command module registers its commands on `app`.  A command line that names a command
imports only the module that registers it (`MODULE_OF`): ``syndicate validate`` does not pay
for what ``import`` or ``daemon`` import.  Anything else (``--help``, a mistyped command) and
`app` itself assemble every command.  ``syndicate --version`` alone imports no command.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from syndicate.cli.base import app

__all__ = ["MODULE_OF", "app", "main"]

# The module of `syndicate.cli` that registers each command (tests/test_cli_startup.py checks
# it against the assembled app).
MODULE_OF = {
    "boards": "boards",
    "init": "commands",
    "validate": "commands",
    "build": "commands",
    "preview": "commands",
    "publish": "publishing",
    "status": "publishing",
    "daemon": "daemon",
    "import": "importing",
    "state": "state",
}
_VALUED = {"--config", "-c"}  # the global options that take a value


def command_name(args: Sequence[str]) -> str | None:
    """The command a command line names: its first word that is neither an option nor the
    value of one."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _VALUED:
            skip = True
        elif arg == "--":
            return None
        elif not arg.startswith("-"):
            return arg
    return None


def assembled(command: str | None = None) -> ModuleType:
    """`syndicate.cli.base`, once the module registering ``command`` (or every command
    module) has registered its commands on `app`."""
    module = MODULE_OF.get(command or "")
    names = [module] if module else sorted(set(MODULE_OF.values()))
    for name in names:
        importlib.import_module(f"syndicate.cli.{name}")
    return importlib.import_module("syndicate.cli.base")


def main() -> None:
    """Console entry point (see `syndicate.cli.base.main`)."""
    args = sys.argv[1:]
    if args == ["--version"]:
        from syndicate import __version__

        print(f"syndicate {__version__}")
        return
    command = command_name(args)
    if command == "publish" and "--plan" in args:
        from syndicate.cli.quick import try_plan

        if try_plan(args):  # nothing changed: told without importing the publisher
            return
    assembled(command).main()


def __getattr__(name: str) -> Any:
    if name == "app":
        return assembled().app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
