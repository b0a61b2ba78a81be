"""Split over-long segment text at sentence boundaries, never inside a tag pair."""

from __future__ import annotations

import re
from collections.abc import Callable

from hymt_cli.document import TAG_RE

_SENTENCE_END_RE = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|(?<=[。！？；])\s*")


def sentence_cuts(text: str) -> list[int]:
    """Offsets where a new sentence starts outside every tag pair."""
    return [
        match.end()
        for match in _SENTENCE_END_RE.finditer(text)
        if 0 < match.end() < len(text) and _depth(text[: match.end()]) == 0
    ]


def _depth(prefix: str) -> int:
    """How many tag pairs are open at the end of `prefix`."""
    return sum(-1 if m.group(1) else 1 for m in TAG_RE.finditer(prefix))


def split_text(text: str, budget: int, count: Callable[[str], int]) -> list[str]:
    """Pieces of `text`, each within `budget` tokens where sentences allow.

    Joining the pieces gives `text` back; whitespace between sentences stays at
    the end of the piece before the cut.
    """
    pieces: list[str] = []
    start, previous = 0, None
    for cut in [*sentence_cuts(text), len(text)]:
        if previous is not None and count(text[start:cut]) > budget:
            pieces.append(text[start:previous])
            start = previous
        previous = cut
    pieces.append(text[start:])
    return pieces
