"""Plain-text adapter: each paragraph (lines between blank lines) is a segment.

Soft line breaks inside a paragraph are shown to the engine as one space, and the
translation is written back on a single line. Everything outside the paragraph's
first and last visible characters (BOM, indentation, trailing spaces, CR LF, blank
lines) stays in the skeleton byte for byte.
"""

from __future__ import annotations

import re
from itertools import count

from hymt_cli.document import Document, Piece, SegmentBuilder
from hymt_cli.documents import SegmentOptions

NAME = "txt"
SUFFIXES = (".txt", ".text")

_PARAGRAPH_RE = re.compile(r"[^\s\ufeff](?:[^\n]|\n(?![ \t\r\f\v]*(?:\n|\Z)))*")
"""From a visible character up to the line before the next blank line."""
_BREAK_RE = re.compile(r"[ \t\r\f\v]*\n[ \t\r\f\v]*")
"""A soft line break with the spaces around it."""


def segment(text: str, options: SegmentOptions) -> Document:
    """Split plain `text` into paragraphs."""
    pieces: list[Piece] = []
    ids = count(1)
    pos = 0
    for match in _PARAGRAPH_RE.finditer(text):
        body = match.group().rstrip()
        builder = _paragraph(body, match.start())
        if not builder.has_words():
            continue
        pieces += [text[pos : match.start()], builder.build(f"s{next(ids)}")]
        pos = match.start() + len(body)
    pieces.append(text[pos:])
    return Document(tuple(p for p in pieces if p != ""), NAME)


def _paragraph(body: str, start: int) -> SegmentBuilder:
    """A builder holding `body`, its line breaks shown as spaces."""
    builder = SegmentBuilder("paragraph", start)
    pos = 0
    for brk in _BREAK_RE.finditer(body):
        builder.text(body[pos : brk.start()])
        builder.text(brk.group(), " ")
        pos = brk.end()
    builder.text(body[pos:])
    return builder
