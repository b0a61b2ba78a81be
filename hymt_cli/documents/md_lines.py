"""Where each character of a block's inline content lies in the (normalised) source.

markdown-it strips container prefixes (`> `, list indentation), trims lines and
unescapes `\\|` in table cells before it hands a block's text to the inline
parser, and keeps only line numbers. These functions rebuild, for every inline
token, a map from content index to source offset (`token.meta["cmap"]`, one entry
per character plus one for the end), using the block state while it still holds
the container-adjusted line starts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markdown_it.rules_block import StateBlock
from markdown_it.token import Token

CMAP = "cmap"
"""Key of the content map in `Token.meta`."""

_BLANK = " \t"


def annotate(state: StateBlock, new_tokens: Sequence[Token]) -> None:
    """Attach content maps to the inline tokens a block rule just pushed."""
    cells: dict[int, int] = {}
    previous: Token | None = None
    for token in new_tokens:
        if token.type == "front_matter" and token.map:
            token.meta.setdefault("start", state.bMarks[token.map[0] + 1])
        if token.type == "inline" and CMAP not in token.meta and token.map:
            first = _first_position(state, token, previous, cells)
            starts = _starts(state, token)
            token.meta[CMAP] = (
                None if first is None else walk(state.src, token.content, first, starts)
            )
        previous = token


def _starts(state: StateBlock, token: Token) -> Callable[[int], int]:
    line0 = token.map[0] if token.map else 0
    return lambda k: state.bMarks[line0 + k] + state.tShift[line0 + k]


def _first_position(
    state: StateBlock, token: Token, previous: Token | None, cells: dict[int, int]
) -> int | None:
    assert token.map is not None
    line = token.map[0]
    start, end = state.bMarks[line] + state.tShift[line], state.eMarks[line]
    src, content = state.src, token.content
    parent = previous.type if previous is not None else ""
    if parent in ("th_open", "td_open"):
        return _cell_position(src, content, cells.get(line, start), cells, line)
    if parent == "admonition_title_open":
        found = src.rfind(content, start, end) if content else -1
        return found if found >= 0 else None
    if previous is not None and parent == "heading_open" and previous.markup[:1] == "#":
        while start < end and src[start] == "#":
            start += 1
    while start < end and src[start].isspace() and not content.startswith(src[start]):
        start += 1
    return start


def _cell_position(
    src: str, content: str, cursor: int, cells: dict[int, int], line: int
) -> int | None:
    """Skip to the next cell of a table row (whitespace, one pipe, whitespace)."""
    cursor = _skip_blank(src, cursor)
    if cursor < len(src) and src[cursor] == "|":
        cursor = _skip_blank(src, cursor + 1)
    cells[line] = cursor
    if not content:
        return None
    cmap = walk(src, content, cursor, lambda k: cursor)
    if cmap is None:
        return None
    cells[line] = cmap[-1]
    return cursor


def _skip_blank(src: str, pos: int) -> int:
    while pos < len(src) and src[pos] in _BLANK:
        pos += 1
    return pos


def walk(
    src: str, content: str, first: int, line_start: Callable[[int], int]
) -> list[int] | None:
    """Map each character of `content` to its offset in `src`, or None if it fails.

    `first` is where the content begins; `line_start(k)` is the first non-blank
    offset of the k-th line. Blanks that begin a continuation line may be virtual
    (tab expansion) and map to the line start without consuming source.
    """
    cmap: list[int] = []
    pos = first
    for k, line in enumerate(content.split("\n")):
        if k:
            if pos >= len(src) or src[pos] != "\n":
                return None
            cmap.append(pos)
            pos = line_start(k)
            lead = len(line) - len(line.lstrip(_BLANK))
            cmap.extend([pos] * lead)
            line = line[lead:]
        if src.startswith(line, pos):
            cmap.extend(range(pos, pos + len(line)))
            pos += len(line)
        else:
            pos = _walk_slow(src, line, pos, cmap)
            if pos < 0:
                return None
    cmap.append(pos)
    return cmap


def _walk_slow(src: str, line: str, pos: int, cmap: list[int]) -> int:
    """Char by char, allowing `\\|` in the source for `|` (table cells)."""
    for ch in line:
        if pos < len(src) and src[pos] == ch:
            cmap.append(pos)
            pos += 1
        elif ch == "|" and src.startswith("\\|", pos):
            cmap.append(pos)
            pos += 2
        else:
            return -1
    return pos
