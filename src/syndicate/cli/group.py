"""The command classes behind ``syndicate``: global options anywhere, and a clean ``--help``.

- ``--config``, ``-v`` and ``-q`` are accepted before the command name (``syndicate -q build``)
  and after it (``syndicate build -q``): every command gets a copy of the group's options that
  updates the shared `Runtime` when given;
- help shows ``--format FORMAT`` rather than ``<str>``, and flags without ``<bool>``;
- docstrings are written wrapped at 100 columns; their paragraphs are joined into one line each,
  so that help reflows them to the terminal's width instead of breaking lines twice.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any, Protocol

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

GLOBAL_OPTIONS = ("config", "verbose", "quiet")
GLOBAL_PANEL = "Global options (before or after the command)"
_LIST_ITEM = re.compile(r"^\s*([-*•]|\d+\.)\s")


class TakesOptions(Protocol):
    """The context object (the CLI's `Runtime`) that a global option given after the command
    name is applied to."""

    def apply_option(self, name: str, value: Any) -> None: ...


def reflow(text: str | None) -> str | None:
    """Join the lines of each paragraph of a docstring (lists and ``\\b`` blocks stay as they
    are), so that help wraps it once, at the terminal's width."""
    if not text:
        return text
    paragraphs = re.split(r"\n\s*\n", text.strip())
    joined = []
    for paragraph in paragraphs:
        lines = [line.strip() for line in paragraph.splitlines()]
        if paragraph.startswith("\b") or any(_LIST_ITEM.match(line) for line in lines):
            joined.append(paragraph)
        else:
            joined.append(" ".join(lines))
    return "\n\n".join(joined)


def _quiet_metavars(params: Sequence[Any]) -> None:
    """``--quiet`` rather than ``--quiet <bool>``, ``--format FORMAT`` rather than ``<str>``."""
    for param in params:
        if isinstance(param, TyperArgument):  # its name says it: no ``<path>`` beside it
            param.display_type_rich = _no_type  # type: ignore[method-assign]
            continue
        if not isinstance(param, TyperOption) or param.metavar is not None:
            continue
        if param.is_flag or param.count:
            param.metavar = ""
        else:
            long = [opt for opt in param.opts if opt.startswith("--")] or param.opts
            param.metavar = long[0].lstrip("-").replace("-", "_").upper()


def _no_type(ctx: Any) -> None:
    return None


class Command(TyperCommand):
    """A ``syndicate`` command: reflowed help, plain metavars."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["help"] = reflow(kwargs.get("help"))
        super().__init__(*args, **kwargs)

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        _quiet_metavars(params)
        return params


class Group(TyperGroup):
    """The ``syndicate`` group: gives each command the global options (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["help"] = reflow(kwargs.get("help"))
        super().__init__(*args, **kwargs)
        shared = [p for p in self.params if isinstance(p, TyperOption) and p.name in GLOBAL_OPTIONS]
        for param in shared:
            param.rich_help_panel = GLOBAL_PANEL
        for command in self.commands.values():
            self._share(command, shared)

    def _share(self, command: Any, shared: list[Any]) -> None:
        """Give ``command`` (and every command of a sub-group) the global options."""
        if isinstance(command, Group):
            for inner in command.commands.values():
                self._share(inner, shared)
            return
        if not isinstance(command, Command):
            raise TypeError(f"command {command.name!r} must be made with cls=Command")
        command.params.extend(self._copy(param) for param in shared)

    def _copy(self, param: Any) -> Any:
        """The group's option for one command: not passed to the function, and applied to the
        shared runtime (over what was given before the command name) only when given."""
        option = copy.copy(param)
        option.expose_value = False
        option.show_default = False
        option.default = False if param.is_flag else 0 if param.count else None
        option.callback = self._apply
        return option

    def _apply(self, ctx: Any, param: Any, value: Any) -> Any:
        runtime: TakesOptions | None = ctx.obj
        if value not in (None, False, 0) and runtime is not None:
            runtime.apply_option(param.name, value)
        return value

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        _quiet_metavars(params)
        return params
