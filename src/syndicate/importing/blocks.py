"""Descriptions as blocks: HTML → blocks → Markdown, and the plain lines facts are read from.

Every source shape ends up here.  HTML (job-board pages, Indeed's CDATA, JSON-LD, Greenhouse and
Lever) is walked with lxml into headings, paragraphs, lists, quotes, code and tables; Jekyll's
Markdown is first rendered to HTML by cmark-gfm, so all formats come out in one house style:
``###`` headings, ``*`` bullets, ``*em*`` and ``**strong**``, one paragraph per line, blocks
separated by a blank line.

`Run` is a stretch of text with one style; adjacent runs of the same style are merged, so
``<i>a </i><i>b</i>`` is ``*a b*``, and markers always hug the text
(``<i> x </i>`` is `` *x* ``), which CommonMark needs for emphasis to be emphasis.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from urllib.parse import quote

from lxml import etree
from lxml import html as lxml_html

# Elements whose content is never part of a description.
SKIPPED_TAGS: frozenset[str] = frozenset(
    {"script", "style", "noscript", "template", "head", "title", "meta", "link", "iframe",
     "object", "embed", "svg", "canvas", "form", "button", "input", "select", "textarea",
     "img", "picture", "video", "audio", "nav"}
)  # fmt: skip
HEADING_TAGS: dict[str, int] = {f"h{level}": level for level in range(1, 7)}
_STRONG = frozenset({"b", "strong"})
_EM = frozenset({"i", "em", "cite", "dfn"})
_CODE = frozenset({"code", "tt", "kbd", "samp"})
_STRIKE = frozenset({"s", "strike", "del"})
_BLOCKISH = frozenset(
    {"p", "div", "ul", "ol", "li", "table", "blockquote", "pre", "hr", *HEADING_TAGS}
)
_LINK_SCHEMES = ("http://", "https://", "mailto:")
_EMAIL = re.compile(r"^[^@\s/:]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_SPACES = re.compile(r"\s+")
# Characters that would start Markdown syntax inside running text.
_INLINE_SYNTAX = re.compile(
    r"[\\`*\[\]~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|<(?=[A-Za-z/!?])|&(?=#?[A-Za-z0-9]+;)"
)
# What would make a paragraph's first characters a heading, quote, list or rule.
_BLOCK_START = re.compile(r"^(?:#{1,6}(?:\s|$)|>|[-+](?:\s|$)|=+\s*$|-{3,}\s*$)")
_ORDERED_START = re.compile(r"^(\d{1,9})([.)])(\s|$)")
_AUTOLINKABLE = re.compile(r"^https?://[^\s<>()\[\]]*[A-Za-z0-9/]$")


@dataclass(frozen=True, slots=True)
class Run:
    """A stretch of text in one style; ``href`` makes it (part of) a link."""

    text: str
    strong: bool = False
    em: bool = False
    code: bool = False
    strike: bool = False
    href: str | None = None
    hard_break: bool = False

    def style(self) -> tuple[bool, bool, bool, bool, str | None]:
        return (self.strong, self.em, self.code, self.strike, self.href)


Inline = tuple[Run, ...]


@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    inline: Inline


@dataclass(frozen=True, slots=True)
class Paragraph:
    inline: Inline


@dataclass(frozen=True, slots=True)
class ListBlock:
    items: tuple[tuple[Block, ...], ...]
    ordered: bool = False


@dataclass(frozen=True, slots=True)
class CodeBlock:
    text: str
    language: str = ""


@dataclass(frozen=True, slots=True)
class Quote:
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    pass


@dataclass(frozen=True, slots=True)
class Table:
    rows: tuple[tuple[Inline, ...], ...]


Block = Heading | Paragraph | ListBlock | CodeBlock | Quote | Rule | Table


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a description as plain text, with the heading of the section it is in."""

    kind: str  # heading | paragraph | item
    text: str
    section: str | None
    links: tuple[str, ...] = ()


def text_inline(text: str) -> Inline:
    """Plain text as inline content (whitespace collapsed)."""
    return normalize((Run(text),))


def plain(inline: Iterable[Run]) -> str:
    """The text of inline content, whitespace collapsed."""
    return _SPACES.sub(" ", "".join(" " if r.hard_break else r.text for r in inline)).strip()


# -------------------------------------------------------------------------------- HTML → blocks


def html_parser() -> lxml_html.HTMLParser:
    """libxml2's HTML parser with the network off and comments dropped."""
    return lxml_html.HTMLParser(
        no_network=True, remove_comments=True, remove_pis=True, remove_blank_text=False
    )


def parse_html(text: str) -> lxml_html.HtmlElement:
    """An HTML document or fragment as an element tree whose root is ``<html>``."""
    if not text.strip():
        return lxml_html.fromstring("<html><body></body></html>", parser=html_parser())
    return lxml_html.document_fromstring(text, parser=html_parser())


def html_to_blocks(html: str) -> list[Block]:
    """Blocks of an HTML fragment (as found in feeds and ATS JSON)."""
    root = parse_html(html)
    body = root.find("body")
    return element_to_blocks(body if body is not None else root)


def element_to_blocks(element: etree._Element) -> list[Block]:
    """Blocks of an element's content (the element itself is treated as a container)."""
    builder = _Builder(in_item=False)
    builder.container(element, _NO_STYLE)
    return builder.finish()


_NO_STYLE = Run("")


class _Builder:
    """Walks an element tree, gathering inline runs into paragraphs between block elements."""

    def __init__(self, *, in_item: bool) -> None:
        self.in_item = in_item
        self.blocks: list[Block] = []
        self.runs: list[Run] = []

    def finish(self) -> list[Block]:
        self.flush()
        return self.blocks

    def flush(self) -> None:
        inline = normalize(self.runs)
        self.runs = []
        if plain(inline):
            self.blocks.append(Paragraph(inline))

    def text(self, value: str | None, style: Run) -> None:
        if value:
            self.runs.append(replace(style, text=value))

    def container(self, element: etree._Element, style: Run) -> None:
        self.text(element.text, style)
        for child in element:
            self.walk(child, style)
            self.text(child.tail, style)

    def walk(self, element: etree._Element, style: Run) -> None:
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if not tag or tag in SKIPPED_TAGS:
            return
        if tag in HEADING_TAGS:
            self.flush()
            inline = _heading_inline(element, style)
            if plain(inline):
                self.blocks.append(Heading(HEADING_TAGS[tag], inline))
        elif tag in ("ul", "ol", "dl"):
            self.flush()
            self._list(element, ordered=tag == "ol")
        elif tag == "pre":
            self.flush()
            code = element.text_content().strip("\n")
            if code.strip():
                self.blocks.append(CodeBlock(code, _code_language(element)))
        elif tag == "blockquote":
            self.flush()
            inner = _Builder(in_item=self.in_item)
            inner.container(element, style)
            quoted = inner.finish()
            if quoted:
                self.blocks.append(Quote(tuple(quoted)))
        elif tag == "hr":
            self.flush()
            self.blocks.append(Rule())
        elif tag == "br":
            if self.in_item:
                self.runs.append(Run("\n", hard_break=True))
            else:
                self.flush()
        elif tag == "table" and not _has_blocks_in_cells(element):
            self.flush()
            table = _table(element, style)
            if table is not None:
                self.blocks.append(table)
        elif tag in _INLINE_STYLES or tag == "a":
            inner_style = _styled(tag, element, style)
            self.container(element, inner_style)
        else:
            # p, div, section, article, li outside a list, td of a layout table...: a box of
            # its own, so what is in it is a paragraph (or several).
            self.flush()
            self.container(element, style)
            self.flush()

    def _list(self, element: etree._Element, *, ordered: bool) -> None:
        items: list[tuple[Block, ...]] = []
        for child in element:
            tag = child.tag.lower() if isinstance(child.tag, str) else ""
            if tag in ("ul", "ol") and items:
                # A list directly inside a list (invalid HTML, common in the wild) belongs to
                # the item before it.
                nested = _Builder(in_item=True)
                nested.walk(child, _NO_STYLE)
                items[-1] = items[-1] + tuple(nested.finish())
                continue
            if not tag or tag in SKIPPED_TAGS:
                continue
            item = _Builder(in_item=True)
            item.container(child, _NO_STYLE) if tag in ("li", "dt", "dd") else item.walk(
                child, _NO_STYLE
            )
            blocks = item.finish()
            if blocks:
                items.append(tuple(blocks))
        if items:
            self.blocks.append(ListBlock(tuple(items), ordered=ordered))


_TRANSPARENT = frozenset(
    {"span", "font", "u", "small", "big", "sup", "sub", "abbr", "mark", "label", "time", "q"}
)
_INLINE_STYLES = _STRONG | _EM | _CODE | _STRIKE | _TRANSPARENT


def _styled(tag: str, element: etree._Element, style: Run) -> Run:
    if tag in _STRONG:
        return replace(style, strong=True)
    if tag in _EM:
        return replace(style, em=True)
    if tag in _CODE:
        return replace(style, code=True)
    if tag in _STRIKE:
        return replace(style, strike=True)
    if tag == "a":
        return replace(style, href=link_target(element.get("href")))
    return style


def _code_language(pre: etree._Element) -> str:
    """``python`` from ``<pre><code class="language-python">`` (cmark-gfm and highlighters)."""
    for element in pre.iter():
        for token in (element.get("class") or "").split():
            if token.startswith("language-") and re.fullmatch(r"[\w+#.-]+", token[9:]):
                return token[len("language-") :]
        if element.get("lang") and re.fullmatch(r"[\w+#.-]+", element.get("lang", "")):
            return element.get("lang", "")
    return ""


def link_target(href: str | None) -> str | None:
    """A link's target as a posting may hold it: http(s) or mailto (a bare address gets
    ``mailto:``); relative and other links are dropped (their text is kept)."""
    if not href:
        return None
    href = href.strip()
    if _EMAIL.match(href):
        return "mailto:" + href
    if href.lower().startswith(_LINK_SCHEMES):
        return href
    return None


def _heading_inline(element: etree._Element, style: Run) -> Inline:
    # A heading is bold already: <h3><b>Responsibilities</b></h3> is just "### Responsibilities".
    builder = _Builder(in_item=True)
    builder.container(element, style)
    runs = [replace(run, strong=False) for run in builder.runs if not run.hard_break]
    return normalize(runs)


def _has_blocks_in_cells(table: etree._Element) -> bool:
    return any(
        isinstance(cell.tag, str) and cell.tag.lower() in _BLOCKISH
        for row_cell in table.iter("td", "th")
        for cell in row_cell.iter()
        if cell is not row_cell
    )


def _table(element: etree._Element, style: Run) -> Table | None:
    rows: list[tuple[Inline, ...]] = []
    for row in element.iter("tr"):
        cells = []
        for cell in row:
            if isinstance(cell.tag, str) and cell.tag.lower() in ("td", "th"):
                builder = _Builder(in_item=True)
                builder.container(cell, style)
                cells.append(normalize([r for r in builder.runs if not r.hard_break]))
        if any(plain(cell) for cell in cells):
            rows.append(tuple(cells))
    return Table(tuple(rows)) if rows else None


def normalize(runs: Iterable[Run]) -> Inline:
    """Collapse whitespace across runs, trim the ends, merge neighbours of the same style."""
    out: list[Run] = []
    previous_space = True  # at the start, leading whitespace is dropped
    for run in runs:
        if run.hard_break:
            _trim_end(out)
            if out and not out[-1].hard_break:
                out.append(run)
            previous_space = True
            continue
        text = _SPACES.sub(" ", run.text)
        if previous_space:
            text = text.lstrip(" ")
        if not text:
            continue
        previous_space = text.endswith(" ")
        if out and not out[-1].hard_break and out[-1].style() == run.style():
            out[-1] = replace(out[-1], text=out[-1].text + text)
        else:
            out.append(replace(run, text=text))
    _trim_end(out)
    return tuple(out)


def _trim_end(runs: list[Run]) -> None:
    while runs:
        last = runs[-1]
        if last.hard_break:
            runs.pop()
            continue
        trimmed = last.text.rstrip(" ")
        if trimmed:
            runs[-1] = replace(last, text=trimmed)
            return
        runs.pop()


# ---------------------------------------------------------------------------- blocks → Markdown


def to_markdown(blocks: Iterable[Block]) -> str:
    """Markdown of the blocks, one blank line between blocks, ending with a newline."""
    rendered = _render_blocks(list(blocks))
    return rendered + "\n" if rendered else ""


def _render_blocks(blocks: list[Block]) -> str:
    parts: list[str] = []
    previous: Block | None = None
    for block in blocks:
        bullet = "*"
        if isinstance(block, ListBlock) and isinstance(previous, ListBlock):
            # Two lists in a row would merge into one; another bullet starts a new list.
            bullet = "-"
        parts.append(_render_block(block, bullet))
        previous = block
    return "\n\n".join(part for part in parts if part)


def _render_block(block: Block, bullet: str = "*") -> str:
    if isinstance(block, Heading):
        return "#" * block.level + " " + inline_markdown(block.inline)
    if isinstance(block, Paragraph):
        return _paragraph(block.inline)
    if isinstance(block, ListBlock):
        return _render_list(block, bullet)
    if isinstance(block, CodeBlock):
        fence = "`" * max(3, _longest_run(block.text, "`") + 1)
        return f"{fence}{block.language}\n{block.text}\n{fence}"
    if isinstance(block, Quote):
        inner = _render_blocks(list(block.blocks))
        return "\n".join(("> " + line).rstrip() for line in inner.split("\n"))
    if isinstance(block, Rule):
        return "---"
    return _render_table(block)


def _paragraph(inline: Inline) -> str:
    text = inline_markdown(inline)
    ordered = _ORDERED_START.match(text)
    if ordered:
        return f"{ordered[1]}\\{ordered[2]}{text[ordered.end(2) :]}"
    if _BLOCK_START.match(text):
        return "\\" + text
    return text


def _render_list(block: ListBlock, bullet: str) -> str:
    lines: list[str] = []
    for number, item in enumerate(block.items, start=1):
        marker = f"{number}. " if block.ordered else f"{bullet} "
        indent = " " * len(marker)
        pieces: list[str] = []
        for index, part in enumerate(item):
            text = _paragraph(part.inline) if isinstance(part, Paragraph) else _render_block(part)
            if index and not isinstance(part, ListBlock):
                pieces.append("")  # a second paragraph in an item needs a blank line
            pieces.append(text)
        body = "\n".join(pieces)
        body_lines = body.split("\n")
        lines.append(marker + body_lines[0])
        lines.extend((indent + line) if line else "" for line in body_lines[1:])
    return "\n".join(lines)


def _render_table(table: Table) -> str:
    width = max(len(row) for row in table.rows)

    def cells(row: tuple[Inline, ...]) -> str:
        texts = [inline_markdown(cell).replace("|", "\\|") for cell in row]
        texts += [""] * (width - len(texts))
        return "| " + " | ".join(texts) + " |"

    header, *body = table.rows
    lines = [cells(header), "| " + " | ".join(["---"] * width) + " |"]
    lines.extend(cells(row) for row in body)
    return "\n".join(lines)


def _longest_run(text: str, char: str) -> int:
    runs = re.findall(re.escape(char) + "+", text)
    return max((len(run) for run in runs), default=0)


def escape(text: str) -> str:
    """Backslash-escape what would otherwise be read as Markdown inside running text."""
    return _INLINE_SYNTAX.sub(lambda match: "\\" + match[0], text)


def inline_markdown(inline: Inline) -> str:
    """Markdown of inline content: emphasis nested properly, links, hard breaks."""
    out: list[str] = []
    for group in _link_groups(inline):
        href = group[0].href
        if href is None:
            out.append(_styled_markdown(group))
            continue
        inner = _styled_markdown([replace(run, href=None) for run in group])
        text = plain(group)
        if not any(run.strong or run.em or run.code or run.strike for run in group) and (
            (text == href or ("http://" + text == href and text.startswith("www.")))
            and _AUTOLINKABLE.match(href)
        ):
            out.append(escape(text))  # cmark-gfm turns it into the same link
        else:
            out.append(f"[{inner}]({_destination(href)})")
    return "".join(out)


def _link_groups(inline: Inline) -> Iterator[list[Run]]:
    group: list[Run] = []
    for run in inline:
        if group and run.href != group[0].href:
            yield group
            group = []
        group.append(run)
    if group:
        yield group


def _destination(href: str) -> str:
    if re.search(r"[\s()<>]", href):
        return "<" + quote(href, safe=":/?#[]@!$&'*+,;=%()~") + ">"
    return href


_MARKERS = (("strong", "**"), ("em", "*"), ("strike", "~~"))


def _styled_markdown(runs: list[Run]) -> str:
    """Runs with emphasis markers opened and closed around them, never around whitespace."""
    out: list[str] = []
    stack: list[str] = []

    def close_top() -> None:
        name = stack.pop()
        trailing = _pop_trailing_spaces(out)
        out.append(dict(_MARKERS)[name])
        if trailing:
            out.append(trailing)

    for run in runs:
        if run.hard_break:
            while stack:
                close_top()
            out.append("\\\n")  # a hard break; a list item indents the next line itself
            continue
        wanted = [name for name, _ in _MARKERS if getattr(run, name)]
        while any(name not in wanted for name in stack):
            close_top()
        text = run.text
        if run.code:
            fence = "`" * (_longest_run(text, "`") + 1)
            pad = " " if text.startswith("`") or text.endswith("`") else ""
            rendered = f"{fence}{pad}{text}{pad}{fence}"
        else:
            rendered = escape(text)
        leading = rendered[: len(rendered) - len(rendered.lstrip(" "))]
        if leading:
            out.append(leading)
            rendered = rendered[len(leading) :]
        for name in wanted:
            if name not in stack and rendered.strip():
                stack.append(name)
                out.append(dict(_MARKERS)[name])
        out.append(rendered)
    while stack:
        close_top()
    return "".join(out)


def _pop_trailing_spaces(out: list[str]) -> str:
    spaces = ""
    while out:
        stripped = out[-1].rstrip(" ")
        spaces = out[-1][len(stripped) :] + spaces
        if stripped:
            out[-1] = stripped
            break
        out.pop()
    return spaces


# ------------------------------------------------------------------------------- blocks → lines


def lines(blocks: Iterable[Block]) -> list[Line]:
    """Every heading, paragraph and list item as a plain line, with its section's heading."""
    found: list[Line] = []
    _collect_lines(list(blocks), None, found)
    return found


def _collect_lines(blocks: list[Block], section: str | None, found: list[Line]) -> str | None:
    for block in blocks:
        if isinstance(block, Heading):
            section = plain(block.inline)
            found.append(Line("heading", section, section))
        elif isinstance(block, Paragraph):
            found.append(Line("paragraph", plain(block.inline), section, _links(block.inline)))
        elif isinstance(block, ListBlock):
            for item in block.items:
                for part in item:
                    if isinstance(part, Paragraph):
                        found.append(Line("item", plain(part.inline), section, _links(part.inline)))
                    else:
                        _collect_lines([part], section, found)
        elif isinstance(block, Quote):
            section = _collect_lines(list(block.blocks), section, found)
        elif isinstance(block, Table):
            for row in block.rows:
                found.append(Line("paragraph", " | ".join(plain(c) for c in row), section))
    return section


def _links(inline: Inline) -> tuple[str, ...]:
    return tuple(dict.fromkeys(run.href for run in inline if run.href))
