"""Plain-text adapter: each paragraph (lines between blank lines) is a segment.

Soft line breaks inside a paragraph are shown to the engine as one space, and the
translation is written back on a single line. A line that starts with a list
marker (`-`, `*`, `+`, `•`, `1.`, `1)`) starts a segment of its own, the marker
kept, so lists stay lists. Everything outside the segments' first and last visible
characters (BOM, indentation, markers, trailing spaces, CR LF, blank lines) stays
in the skeleton byte for byte. `--protect` matches are locked tags.
"""

from __future__ import annotations

import re
from itertools import count

from hymt_cli.document import Document, Piece, SegmentBuilder
from hymt_cli.documents import SegmentOptions, protect_patterns, protected_matches

NAME = "txt"
SUFFIXES = (".txt", ".text")

_PARAGRAPH_RE = re.compile(r"[^\s\ufeff](?:[^\n]|\n(?![ \t\r\f\v]*(?:\n|\Z)))*")
"""From a visible character up to the line before the next blank line."""
_BREAK_RE = re.compile(r"[ \t\r\f\v]*\n[ \t\r\f\v]*")
"""A soft line break with the spaces around it."""
_MARKER_RE = re.compile(r"[ \t]*(?:[-*+•–]|\d{1,3}[.)])[ \t]+(?=\S)")
"""A list marker at the start of a line, with the spaces after it."""
_LINE_RE = re.compile(r"[^\n]*\n?")


def segment(text: str, options: SegmentOptions) -> Document:
    """Split plain `text` into paragraphs and list items."""
    pieces: list[Piece] = []
    ids = count(1)
    pos = 0
    protect = protect_patterns(options.protect)
    for match in _PARAGRAPH_RE.finditer(text):
        for start, end in _units(match.group().rstrip(), match.start()):
            body = text[start:end].rstrip()
            builder = _paragraph(body, start, protect)
            if builder.has_words():
                pieces += [text[pos:start], builder.build(f"s{next(ids)}")]
                pos = start + len(body)
    pieces.append(text[pos:])
    return Document(tuple(p for p in pieces if p != ""), NAME)


def _units(body: str, offset: int) -> list[tuple[int, int]]:
    """Spans of `body` (shifted by `offset`) translated alone: the lines before
    the first list item, then each item without its marker."""
    units: list[list[int]] = []
    for line in _LINE_RE.finditer(body):
        if not line.group():
            continue
        marker = _MARKER_RE.match(line.group())
        if marker or not units:
            units.append([line.start() + (marker.end() if marker else 0), line.end()])
        else:
            units[-1][1] = line.end()
    return [(offset + start, offset + end) for start, end in units]


def _paragraph(body: str, start: int, protect: tuple[re.Pattern[str], ...]
               ) -> SegmentBuilder:
    """A builder holding `body`, its line breaks shown as spaces and `--protect`
    matches locked."""
    builder = SegmentBuilder("paragraph", start)
    pos = 0
    for brk in _BREAK_RE.finditer(body):
        _words(builder, body[pos : brk.start()], protect)
        builder.text(brk.group(), " ")
        pos = brk.end()
    _words(builder, body[pos:], protect)
    return builder


def _words(builder: SegmentBuilder, run: str, protect: tuple[re.Pattern[str], ...]
           ) -> None:
    pos = 0
    for begin, end in protected_matches(run, protect):
        builder.text(run[pos:begin])
        builder.atomic(run[begin:end], "", kind="protected")
        pos = end
    builder.text(run[pos:])
