"""``syndicate import``: existing postings, from the shapes they live in today, into posting files.

One module per source format, each a small `Importer` class (``name``, ``summary``,
``recognises``, ``read``):

- `jekyll`: Markdown pages with YAML front matter (and canonical posting files);
- `text`: plain-text exports, headings and lists recognised from the shape of the lines;
- `html`: job-board HTML pages and fragments;
- `indeed_xml`: Indeed XML feeds, one posting per job (or per requisition);
- `jsonld`: schema.org JobPosting, in JSON files or embedded in pages;
- `greenhouse` and `lever`: the JSON of their public job-board APIs.

Shared pieces: `sources` (reading files safely), `detect` (which importer), `blocks` (HTML →
Markdown), `facts` and `places` (what a text states plainly: salary, apply route, places,
remote rule, employer), `ids`, `dates`, `writer` (posting files) and `report`.  `run` ties them
together; the command line is ``syndicate.cli.importing``.

Facts only: a field the source does not state stays empty and is reported, never invented.
"""

from syndicate.importing.detect import FORMATS, IMPORTERS, importer_for
from syndicate.importing.report import ImportReport, PostingResult, SourceResult
from syndicate.importing.run import ImportOptions, import_sources

__all__ = [
    "FORMATS",
    "IMPORTERS",
    "ImportOptions",
    "ImportReport",
    "PostingResult",
    "SourceResult",
    "import_sources",
    "importer_for",
]
