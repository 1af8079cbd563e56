"""Import sources: the files found under the given paths, read safely.

- A file larger than `MAX_INPUT_BYTES` is refused before it is read whole.
- Text is UTF-8 (a byte-order mark is allowed, and UTF-16 with one); HTML may declare another
  charset, XML its encoding.  Anything else is an error naming the line of the first bad byte.
- XML is parsed by lxml with entities, DTDs and the network off and no huge-tree allowance, and a
  document that carries a DOCTYPE is refused outright: entity declarations are how XXE (reading
  local files) and "billion laughs" (exponential expansion) attacks work.
- HTML goes through libxml2's HTML parser (`blocks.parse_html`), JSON through the standard
  library with its nesting bounded by the interpreter's recursion limit.

Every problem is an `InputError` located at the file (and line when known); the caller reports
it for that file and goes on with the others.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from lxml import etree

from syndicate.errors import InputError
from syndicate.loading import display_path

MAX_INPUT_BYTES = 10 * 1024 * 1024
# Files in a source folder that are about the folder, not postings.
_DOCUMENTATION = re.compile(
    r"^(readme|license|licence|changelog|contributing|authors|notice|copying)(\..*)?$", re.I
)
# Files in a source folder that are never postings (site assets, configuration, archives).
SKIPPED_SUFFIXES: frozenset[str] = frozenset(
    {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".ico", ".bmp", ".pdf", ".zip", ".gz",
     ".tgz", ".bz2", ".xz", ".tar", ".css", ".scss", ".js", ".map", ".yml", ".yaml", ".toml",
     ".lock", ".py", ".rb", ".woff", ".woff2", ".ttf", ".eot", ".mp4", ".mp3"}
)  # fmt: skip
_HTML_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)


@dataclass(frozen=True)
class SourceFile:
    """One file to import: its bytes, and its path as shown in messages."""

    path: Path
    data: bytes
    shown: Path = field(default=Path())

    @cached_property
    def text(self) -> str:
        """The file as text (raises `InputError` when it is not decodable)."""
        return decode_text(self.data, self.shown)

    @cached_property
    def head(self) -> str:
        """The first characters of the text, lowercased, for recognising the format."""
        return self.text[:4096].lstrip("\ufeff \t\r\n").lower()

    @cached_property
    def json(self) -> Any:
        """The file parsed as JSON (raises `InputError` when it is not JSON)."""
        return parse_json(self.text, self.shown)

    @cached_property
    def xml(self) -> etree._Element:
        """The file parsed as XML, hardened (raises `InputError`; see `parse_xml`)."""
        return parse_xml(self.data, self.shown)

    def looks_like_xml(self) -> bool:
        return self.data.lstrip()[:5].lower() == b"<?xml"

    def looks_like_json(self) -> bool:
        return self.head[:1] in ("{", "[")


@dataclass(slots=True)
class FoundSources:
    """The files to import, and those left out of the given folders with the reason."""

    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)


def find_sources(paths: Iterable[Path], *, exclude: Path | None = None) -> FoundSources:
    """Every file given, and every file under every folder given (hidden ones skipped).

    In folders, documentation (README, LICENSE…) and files that are never postings (images,
    stylesheets, configuration) are skipped, and so is the ``exclude`` folder (where the
    imported postings go); a file named explicitly is always imported.
    """
    found = FoundSources()
    seen: set[Path] = set()
    excluded = exclude.resolve() if exclude is not None else None
    for path in paths:
        if path.is_dir():
            for file in _walk(path):
                if excluded is not None and excluded in file.resolve().parents:
                    continue
                reason = skip_reason(file)
                if reason:
                    found.skipped.append((file, reason))
                elif file.resolve() not in seen:
                    seen.add(file.resolve())
                    found.files.append(file)
        elif path.exists():
            if path.resolve() not in seen:
                seen.add(path.resolve())
                found.files.append(path)
        else:
            found.missing.append(path)
    return found


def _walk(folder: Path) -> list[Path]:
    files: list[Path] = []
    for directory, subdirs, names in os.walk(folder):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        files.extend(Path(directory, name) for name in names if not name.startswith("."))
    return sorted(files)


def skip_reason(path: Path) -> str | None:
    """Why a file found in a folder is not imported, or None."""
    if _DOCUMENTATION.match(path.name):
        return "documentation, not a posting"
    if path.suffix.lower() in SKIPPED_SUFFIXES:
        return f"a {path.suffix} file is not a posting format"
    return None


def read_source(path: Path, *, max_bytes: int = MAX_INPUT_BYTES) -> SourceFile:
    """Read one file, refusing it when it is larger than ``max_bytes``."""
    shown = display_path(path)
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise InputError(_too_large(size, max_bytes), file=shown)
            data = handle.read(max_bytes + 1)
    except OSError as error:
        raise InputError(f"cannot be read: {error.strerror or error}", file=shown) from None
    if len(data) > max_bytes:  # a file that grew, or a device that reports no size
        raise InputError(_too_large(len(data), max_bytes), file=shown)
    if not data.strip():
        raise InputError("is empty", file=shown, line=1)
    return SourceFile(path=path, data=data, shown=shown)


def _too_large(size: int, limit: int) -> str:
    return (
        f"is {size / 1024 / 1024:.1f} MB; import reads files of at most "
        f"{limit / 1024 / 1024:g} MB (split the export, or raise "
        "syndicate.importing.sources.MAX_INPUT_BYTES)"
    )


def decode_text(data: bytes, shown: Path | str) -> str:
    """UTF-8 (with or without a BOM), UTF-16 with a BOM, or HTML in the charset it declares."""
    if data.startswith(codecs.BOM_UTF8):
        return _decode(data[len(codecs.BOM_UTF8) :], "utf-8", shown)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode(data, "utf-16", shown)
    declared = _HTML_CHARSET.search(data[:4096])
    if declared:
        name = declared[1].decode("ascii", "replace")
        try:
            encoding = codecs.lookup(name).name
        except LookupError:
            raise InputError(f"declares an unknown charset {name!r}", file=shown, line=1) from None
        return _decode(data, encoding, shown)
    return _decode(data, "utf-8", shown)


def _decode(data: bytes, encoding: str, shown: Path | str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputError(
            f"is not valid {encoding} text (byte 0x{data[error.start]:02x}); "
            "save it as UTF-8 and import it again",
            file=shown,
            line=line,
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError("holds NUL characters: a binary file, not text", file=shown, line=line)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def xml_parser() -> etree.XMLParser:
    """lxml's XML parser with every external or expanding feature off."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        strip_cdata=True,
    )


def parse_xml(data: bytes, shown: Path | str) -> etree._Element:
    """The root element of an XML document; a DOCTYPE, or malformed XML, is an `InputError`."""
    try:
        root = etree.fromstring(data, parser=xml_parser())
    except etree.XMLSyntaxError as error:
        line = error.lineno if error.lineno and error.lineno > 0 else None
        message = (error.msg or "not well-formed").strip()
        raise InputError(f"is not well-formed XML: {message}", file=shown, line=line) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise InputError(
            "declares a DOCTYPE; XML with DTDs or entity declarations is refused "
            "(they can read local files or expand without bound), and job feeds need none",
            file=shown,
            line=1,
        )
    return root


def parse_json(text: str, shown: Path | str) -> Any:
    """JSON data; syntax errors and pathological nesting are an `InputError` with the line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"is not valid JSON: {error.msg}", file=shown, line=error.lineno) from None
    except RecursionError:
        raise InputError("is JSON nested too deeply to be a job posting", file=shown) from None
