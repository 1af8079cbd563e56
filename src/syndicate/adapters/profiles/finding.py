"""Where profiles are: the built-in ones, and a project's own in its ``adapters/`` folder.

Apart from `loader` (which checks a profile file and needs the format's models, JSON Schema and
Jinja2) so that a profile's name is checked when the configuration is validated, for a
disabled target too, without loading any profile.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from syndicate.errors import ConfigError

log = logging.getLogger(__name__)
PROJECT_FOLDER = "adapters"
SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class Found:
    """A profile file: its name, where it is, whether it ships with syndicate, and the built-in
    it replaces (a project profile named like one)."""

    name: str
    path: Path
    builtin: bool
    replaces: Path | None = None


def builtin_folder() -> Path:
    """The folder of the profiles shipped in the package."""
    return Path(str(resources.files("syndicate.adapters.profiles") / "builtin"))


def project_folder(root: Path) -> Path:
    """A project's own profiles: ``adapters/`` beside its config.yaml."""
    return root / PROJECT_FOLDER


def available(root: Path | None) -> dict[str, Found]:
    """Every profile by name: the built-in ones, then the project's (which win)."""
    found = {
        path.stem: Found(path.stem, path, builtin=True) for path in _profile_files(builtin_folder())
    }
    if root is not None:
        for path in _profile_files(project_folder(root)):
            replaced = found.get(path.stem)
            found[path.stem] = Found(
                path.stem, path, builtin=False, replaces=replaced.path if replaced else None
            )
    return found


def _profile_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file())


def find(name: str, root: Path | None) -> Found:
    """The profile ``name`` (ConfigError listing the known ones when there is none)."""
    known = available(root)
    found = known.get(name)
    if found is None:
        raise ConfigError(
            f"no board profile named {name!r} (built in, or in "
            f"{PROJECT_FOLDER}/{name}.yaml); known: {', '.join(sorted(known))}"
        )
    if found.replaces is not None:
        _notice_replaced(found.path, found.replaces)
    return found


@functools.cache
def _notice_replaced(path: Path, builtin: Path) -> None:
    log.warning("board profile %s replaces the built-in profile %s", path, builtin.stem)
