"""Plain-text postings, as exported from job boards and ATSs (the Canonical seeds).

The shape of the lines is all there is to go on:

- the first line is the title; "The role of a Sales Director at Canonical" gives the title and
  the employer, and stays in the description as its first heading;
- a heading is a short line (at most 80 characters, 12 words) that does not end like a sentence,
  standing between sentences: after a paragraph, a heading or the start of a block, and before
  a paragraph or the end of a block.  A short line ending with ``:`` is a heading too;
- two or more consecutive lines of at most 200 characters are a list (lines starting with a
  bullet, ``•``, ``-``, ``*`` or ``1.``, always are); every other line is a paragraph;
- LinkedIn's recruiter tags (``LI-Remote``, ``#LI-Hybrid``, ``#LI-DNI``) are taken out, the
  remote ones read as the remote rule;
- artefacts of the export are trimmed: a lost escape glued to the first word (``fThe role…``,
  from ``\\f``) and the apostrophes and slashes lost in words that cannot be anything else
  (``andor`` → ``and/or``, ``weve`` → ``we've``).  Words that could be right as they are
  (``worlds``, ``Canonicals``) are left alone.
"""

from __future__ import annotations

import re
from typing import ClassVar

from syndicate.importing.base import Draft, Importer
from syndicate.importing.blocks import Block, Heading, ListBlock, Paragraph, text_inline
from syndicate.importing.facts import LINKEDIN_TAG, linkedin_rule, role_title
from syndicate.importing.sources import SourceFile

HEADING_MAX_CHARS = 80
HEADING_MAX_WORDS = 12
ITEM_MAX_CHARS = 200
TITLE_LABELS = ("job title", "title", "position", "role")
# Words an export lost an apostrophe or slash from, which are no English word without it.
LOST_PUNCTUATION: dict[str, str] = {
    "andor": "and/or", "weve": "we've", "youre": "you're", "youve": "you've",
    "youll": "you'll", "theyre": "they're", "theyve": "they've", "dont": "don't",
    "doesnt": "doesn't", "didnt": "didn't", "isnt": "isn't", "arent": "aren't",
    "wasnt": "wasn't", "werent": "weren't", "havent": "haven't", "hasnt": "hasn't",
    "shouldnt": "shouldn't", "wouldnt": "wouldn't", "couldnt": "couldn't",
}  # fmt: skip
_LOST_WORD = re.compile(r"\b(" + "|".join(LOST_PUNCTUATION) + r")\b", re.I)
# "\f", "\n", "\r", "\t" whose backslash an export dropped, glued to the first word.
_LOST_ESCAPE = re.compile(r"^([fnrt])(?=[A-Z][a-z])")
_TAG_LINE = re.compile(r"^(?:\s*#?LI-[A-Za-z][A-Za-z0-9]*\s*)+$")
_TRAILING_TAGS = re.compile(r"(?:\s+#LI-[A-Za-z][A-Za-z0-9]*)+\s*$")
_BULLET = re.compile(r"^\s*(?:[•●◦▪▫·‣*+–-]|\d{1,3}[.)])\s+")
_ORDERED_BULLET = re.compile(r"^\s*\d{1,3}[.)]\s+")
_LABEL_LINE = re.compile(r"^[A-Za-z][A-Za-z .&/'-]{0,30}:\s+\S")
_SENTENCE_END = (".", "!", "?", ";", ",")
# Section names that are headings even when list items follow them without a blank line.
SECTION_NAMES = frozenset(
    {"responsibilities", "key responsibilities", "requirements", "qualifications",
     "minimum qualifications", "preferred qualifications", "benefits", "perks", "what we offer",
     "what you'll do", "what you will do", "who you are", "about you", "about us",
     "about the role", "the role", "your profile", "your tasks", "skills", "nice to have",
     "how to apply", "job description", "duties", "overview", "summary"}
)  # fmt: skip


class TextImporter(Importer):
    """Plain text: title on the first line, headings and lists from the shape of the lines."""

    name: ClassVar[str] = "text"
    summary: ClassVar[str] = "plain-text postings (title first, headings and lists by shape)"

    @classmethod
    def recognises(cls, source: SourceFile) -> bool:
        return bool(source.text.strip())  # the fallback: any text is plain text

    def read(self, source: SourceFile) -> list[Draft]:
        draft = self.draft(source, line=1)
        lines = [line.rstrip() for line in source.text.split("\n")]
        lines = self._drop_tags(draft, lines)
        lines = self._restore(draft, lines)
        first = next((i for i, line in enumerate(lines) if line.strip()), None)
        if first is None:
            return []
        title_line = lines[first].strip()
        draft.line = first + 1
        body = lines[first + 1 :]
        heading: list[Block] = []
        label = re.match(r"^([A-Za-z ]{2,12}):\s*(\S.*)$", title_line)
        role = role_title(title_line)
        if label and label[1].strip().lower() in TITLE_LABELS:
            draft.set("title", label[2].strip())
        elif role:
            draft.set("title", role[0])
            draft.set("company", role[1])
            heading = [Heading(3, text_inline(title_line))]
        else:
            draft.set("title", title_line)
        draft.blocks = heading + text_blocks(body)
        return [draft]

    def _drop_tags(self, draft: Draft, lines: list[str]) -> list[str]:
        kept: list[str] = []
        tags: list[str] = []
        for line in lines:
            if _TAG_LINE.match(line):
                tags.append(line.strip())
                continue
            trailing = _TRAILING_TAGS.search(line)
            if trailing:
                tags.append(trailing[0].strip())
                line = line[: trailing.start()]
            kept.append(line)
        rule = linkedin_rule(" ".join(tags))
        if rule is not None:
            draft.set("remote", rule)
        if tags:
            names = ", ".join(dict.fromkeys(m[0] for t in tags for m in LINKEDIN_TAG.finditer(t)))
            draft.note(f"LinkedIn tags taken out of the description: {names}", "remote")
        return kept

    def _restore(self, draft: Draft, lines: list[str]) -> list[str]:
        restored: dict[str, str] = {}

        def put_back(match: re.Match[str]) -> str:
            word = match[0]
            fixed = LOST_PUNCTUATION[word.lower()]
            fixed = fixed[0].upper() + fixed[1:] if word[0].isupper() else fixed
            restored[word] = fixed
            return fixed

        result = [_LOST_WORD.sub(put_back, line) for line in lines]
        for index, line in enumerate(result):
            if line.strip():
                escape = _LOST_ESCAPE.match(line.lstrip())
                if escape:
                    result[index] = line.lstrip()[1:]
                    draft.note(
                        f"dropped a stray {escape[1]!r} before the first line (an escape the "
                        "export lost)",
                        "title",
                    )
                break
        if restored:
            words = ", ".join(f"{old!r} → {new!r}" for old, new in restored.items())
            draft.note(f"punctuation the export lost was put back: {words}", "description")
        return result


def text_blocks(lines: list[str]) -> list[Block]:
    """Blocks of plain-text lines: headings, lists and paragraphs by the shape of the lines."""
    blocks: list[Block] = []
    for group in _groups(lines):
        kinds = _kinds(group)
        index = 0
        while index < len(group):
            if kinds[index] == "heading":
                blocks.append(Heading(3, text_inline(group[index].strip().rstrip(":"))))
                index += 1
                continue
            end = index
            while end < len(group) and kinds[end] != "heading":
                end += 1
            blocks.extend(_segment(group[index:end]))
            index = end
    return blocks


def _groups(lines: list[str]) -> list[list[str]]:
    groups: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            groups[-1].append(re.sub(r"\s+", " ", line.strip()))
        elif groups[-1]:
            groups.append([])
    return [group for group in groups if group]


def _kinds(group: list[str]) -> list[str]:
    kinds: list[str] = []
    for index, line in enumerate(group):
        before = group[index - 1] if index else None
        after = group[index + 1] if index + 1 < len(group) else None
        after_text = before is None or kinds[-1] == "heading" or _reads_as_paragraph(before)
        is_heading = _is_colon_heading(line) or (
            _heading_shape(line)
            and after_text
            and (
                after is None
                or _reads_as_paragraph(after)
                or _BULLET.match(after) is not None
                or line.lower() in SECTION_NAMES
            )
        )
        kinds.append("heading" if is_heading else "text")
    return kinds


def _heading_shape(line: str) -> bool:
    return (
        len(line) <= HEADING_MAX_CHARS
        and len(line.split()) <= HEADING_MAX_WORDS
        and (line[0].isupper() or line[0].isdigit())
        and not line.endswith(_SENTENCE_END)
        and not _LABEL_LINE.match(line)
        and not _BULLET.match(line)
    )


def _is_colon_heading(line: str) -> bool:
    return (
        line.endswith(":")
        and len(line) <= HEADING_MAX_CHARS // 2
        and ":" not in line[:-1]
        and not _BULLET.match(line)
    )


def _reads_as_paragraph(line: str) -> bool:
    return (
        len(line) > ITEM_MAX_CHARS
        or line.rstrip("\"'”’)").endswith((".", "!", "?"))
        or _LABEL_LINE.match(line) is not None
    )


def _segment(lines: list[str]) -> list[Block]:
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        end = index
        if _BULLET.match(lines[index]):
            while end < len(lines) and _BULLET.match(lines[end]):
                end += 1
            ordered = bool(_ORDERED_BULLET.match(lines[index]))
            items = [_BULLET.sub("", line, count=1) for line in lines[index:end]]
            blocks.append(_list(items, ordered=ordered))
        else:
            while end < len(lines) and _item_shape(lines[end]):
                end += 1
            if end - index >= 2:
                blocks.append(_list(lines[index:end], ordered=False))
            else:
                end = index + 1
                blocks.append(Paragraph(text_inline(lines[index])))
        index = end
    return blocks


def _item_shape(line: str) -> bool:
    return len(line) <= ITEM_MAX_CHARS and not _LABEL_LINE.match(line) and not _BULLET.match(line)


def _list(items: list[str], *, ordered: bool) -> ListBlock:
    return ListBlock(tuple((Paragraph(text_inline(item)),) for item in items), ordered=ordered)
