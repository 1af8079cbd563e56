"""Flag values checked against what exists: target names and posting ids.

An unknown value is a usage error (exit 2) that lists the choices.  A target name of the wrong
kind is told apart from an unknown one (``'indeed' is a pull target: its feed is written by
build; push targets: linkedin, hook``), and a list with nothing in it says so rather than ending
in ``choose from:``.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable
from typing import Literal

import typer

from syndicate.adapters import PullTarget, PushTarget, create_targets
from syndicate.config import Settings

TargetKind = Literal["pull", "push", "any"]
_LISTED = 12  # ids listed in full; beyond that, the closest ones and a count


def check_target_name(settings: Settings, name: str | None, kind: TargetKind = "any") -> None:
    """Raise a usage error unless ``name`` is a configured target of ``kind``."""
    if name is None:
        return
    targets = create_targets(settings)
    pull = [t.name for t in targets if isinstance(t, PullTarget)]
    push = [t.name for t in targets if isinstance(t, PushTarget)]
    wanted = pull if kind == "pull" else push if kind == "push" else [*pull, *push]
    if name in wanted:
        return
    if kind == "push" and name in pull:
        message = f"{name!r} is a pull target (a file that build writes; nothing is pushed to it)"
    elif kind == "pull" and name in push:
        message = f"{name!r} is a push target (publish sends to it; build writes no file for it)"
    else:
        message = f"{name!r} is not a configured target{_did_you_mean(name, [*pull, *push])}"
    raise typer.BadParameter(
        f"{message}; {_target_choices(kind, pull, push)}", param_hint="--target"
    )


def _target_choices(kind: TargetKind, pull: list[str], push: list[str]) -> str:
    def named(label: str, names: list[str]) -> str:
        return f"{label}: {', '.join(names)}" if names else f"no {label} configured"

    if kind == "push":
        return f"{named('push targets', push)} ({named('pull targets', pull)})"
    if kind == "pull":
        return f"{named('pull targets', pull)} ({named('push targets', push)})"
    return f"{named('pull targets', pull)}; {named('push targets', push)}"


def check_posting_ids(
    given: Iterable[str] | None, known: Collection[str], *, hint: str = "--posting"
) -> None:
    """Raise a usage error naming every id of ``given`` that is not in ``known``."""
    unknown = sorted(set(given or ()) - set(known))
    if not unknown:
        return
    hints = "".join(_did_you_mean(posting_id, known) for posting_id in unknown[:3])
    ids = ", ".join(repr(posting_id) for posting_id in unknown)
    raise typer.BadParameter(
        f"no posting with id {ids}{hints}; {_id_choices(known)}", param_hint=hint
    )


def _id_choices(known: Collection[str]) -> str:
    if not known:
        return "no posting is loaded or published"
    ordered = sorted(known)
    if len(ordered) <= _LISTED:
        return f"ids: {', '.join(ordered)}"
    shown = ", ".join(ordered[:_LISTED])
    return f"{len(ordered):,} ids ({shown}, …; `syndicate validate -v` lists them)"


def _did_you_mean(name: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
