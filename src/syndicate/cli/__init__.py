"""The ``syndicate`` command line: parse, call, print.  The work happens in the modules it calls.

Each module below registers its commands on `app`; importing them here assembles the command.
"""

from syndicate.cli import boards as _boards  # noqa: F401  (registers the commands)
from syndicate.cli import commands as _commands  # noqa: F401
from syndicate.cli import daemon as _daemon  # noqa: F401
from syndicate.cli import importing as _importing  # noqa: F401
from syndicate.cli import publishing as _publishing  # noqa: F401
from syndicate.cli import state as _state  # noqa: F401
from syndicate.cli.base import app, main

__all__ = ["app", "main"]
