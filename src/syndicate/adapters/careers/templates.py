"""The careers site's Jinja2 templates: the packaged ones, each replaceable by a same-named file
of the project's, rendered with autoescaping and written in chunks.

Every value a template prints goes through `syndicate.content.xml_safe` (characters XML 1.0
forbids are dropped), and an undefined variable is an error rather than an empty string.  A
template's syntax error is a `RenderError` located at its file and line.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from syndicate import content
from syndicate.adapters.careers.view import long_date
from syndicate.adapters.places import country_name
from syndicate.errors import RenderError

if TYPE_CHECKING:
    # Imported where the site renders: a command that renders no page (validate, a plan)
    # does not load Jinja2 for it.
    import jinja2

PACKAGED_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "careers"
CHUNK_SIZE = 1 << 16  # characters of a page per chunk written

# A template's name and the variables it receives.
Template = tuple[str, dict[str, Any]]


class SiteTemplates:
    """The templates one careers target renders, its errors tagged with the target.

    Jinja2 is loaded when a template is first rendered: the templates' sources (which the
    target's fingerprint holds, so every command that keys the cache needs them) are read
    without it, from the same folders and in the same order as its loader."""

    def __init__(self, overrides: Path | None, target: str) -> None:
        self.overrides = overrides
        self.target = target

    @functools.cached_property
    def environment(self) -> jinja2.Environment:
        """The Jinja2 environment of these templates (`careers_environment`)."""
        return careers_environment(self.overrides)

    def sources(self) -> Iterator[tuple[str, str]]:
        """``(name, source)`` of every template, packaged or replaced, by name: the names
        Jinja2's ``FileSystemLoader`` lists under each folder (files below it, ``/`` between
        folders), a project's file taking the place of the packaged one of its name."""
        found: dict[str, Path] = {}
        for folder in (self.overrides, PACKAGED_TEMPLATES):
            if folder is None:
                continue
            for directory, _, files in os.walk(folder):
                for file in files:
                    path = Path(directory, file)
                    found.setdefault(path.relative_to(folder).as_posix(), path)
        for name in sorted(found):
            yield name, found[name].read_text(encoding="utf-8")  # as Jinja2 reads it

    def generate(self, template: Template) -> Iterator[str]:
        """The template's output, piece by piece as Jinja2 yields it."""
        name, variables = template
        with self._errors(name):
            yield from self.environment.get_template(name).generate(variables)

    def text(self, template: Template) -> str:
        """The template's whole output (joined by Jinja2 itself: a job's page is a few hundred
        pieces, which `generate` would pass on one by one)."""
        name, variables = template
        with self._errors(name):
            return self.environment.get_template(name).render(variables)

    @contextlib.contextmanager
    def _errors(self, name: str) -> Iterator[None]:
        import jinja2

        try:
            yield
        except jinja2.TemplateSyntaxError as error:
            raise RenderError(
                f"template error: {error.message}",
                file=error.filename or name,
                line=error.lineno,
                target=self.target,
            ) from error
        except jinja2.TemplateError as error:
            raise RenderError(f"template {name}: {error}", target=self.target) from error

    def chunks(self, template: Template) -> Iterator[bytes]:
        """The template's output encoded, in chunks of about `CHUNK_SIZE` characters."""
        return _buffered(self.generate(template))


def careers_environment(overrides: Path | None) -> jinja2.Environment:
    """Jinja2 with the packaged templates, each replaced by a same-named file in ``overrides``."""
    import jinja2

    loaders: list[jinja2.BaseLoader] = []
    if overrides is not None:
        loaders.append(jinja2.FileSystemLoader(overrides))
    loaders.append(jinja2.FileSystemLoader(PACKAGED_TEMPLATES))
    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        auto_reload=False,  # a build never sees a template change: no stat per page
        autoescape=_autoescape,
        finalize=_xml_safe,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters.update(
        {"isodate": date.isoformat, "longdate": long_date, "country": country_name}
    )
    return environment


def _buffered(pieces: Iterable[str], size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The template's output in chunks of about ``size`` characters, encoded: Jinja yields a
    piece per tag and text run, and writing each one by itself would cost a call apiece."""
    buffer: list[str] = []
    length = 0
    for piece in pieces:
        buffer.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(buffer).encode()
            buffer.clear()
            length = 0
    if buffer:
        yield "".join(buffer).encode()


def _autoescape(name: str | None) -> bool:
    return name is None or not name.endswith((".css", ".js"))


class XmlSafe(Markup):
    """Markup already stripped of what XML forbids (a job's cached card or feed entry, made by
    `CareersSite`'s `_piece`): not searched again each time a template outputs it."""

    __slots__ = ()


def _xml_safe(value: Any) -> Any:
    if isinstance(value, XmlSafe):
        return value
    if isinstance(value, Markup):
        return Markup(content.xml_safe(str(value)))
    if isinstance(value, str):
        return content.xml_safe(value)
    return value
