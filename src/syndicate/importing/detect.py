"""Which importer reads a file: the one named by ``--format``, else the first that recognises
the content, in the order of `IMPORTERS` (most specific first, plain text last).

JSON or XML that no importer recognises is an error rather than "plain text": a Greenhouse
export with a changed shape should say so, not become a posting made of braces.
"""

from __future__ import annotations

from syndicate.errors import InputError
from syndicate.importing.base import Importer
from syndicate.importing.greenhouse import GreenhouseImporter
from syndicate.importing.html import HtmlImporter
from syndicate.importing.indeed_xml import IndeedXmlImporter
from syndicate.importing.jekyll import JekyllImporter
from syndicate.importing.jsonld import JsonLdImporter
from syndicate.importing.lever import LeverImporter
from syndicate.importing.sources import SourceFile
from syndicate.importing.text import TextImporter

IMPORTERS: tuple[type[Importer], ...] = (
    IndeedXmlImporter,
    GreenhouseImporter,
    LeverImporter,
    JsonLdImporter,
    JekyllImporter,
    HtmlImporter,
    TextImporter,
)
FORMATS: dict[str, type[Importer]] = {importer.name: importer for importer in IMPORTERS}


def importer_for(source: SourceFile, format_name: str | None = None) -> Importer:
    """The importer for ``source``; raises `InputError` when the content is in no known shape."""
    if format_name is not None:
        if format_name not in FORMATS:
            raise InputError(
                f"unknown format {format_name!r}; known: {', '.join(FORMATS)}", file=source.shown
            )
        return FORMATS[format_name]()
    if source.looks_like_xml():
        source.xml  # noqa: B018  (malformed or hostile XML fails here, clearly)
    for importer in IMPORTERS:
        if importer is TextImporter and (source.looks_like_json() or source.looks_like_xml()):
            break
        if importer.recognises(source):
            return importer()
    if source.looks_like_json():
        source.json  # noqa: B018  (invalid JSON is reported with its line)
        raise InputError(
            "is JSON in no known shape (Greenhouse or Lever API JSON, or schema.org "
            "JobPosting); give --format if it is one of them",
            file=source.shown,
        )
    raise InputError(
        "is XML but not an Indeed feed (<source> with <job> elements)", file=source.shown, line=1
    )
