"""Re-encoding translated plain text so it cannot create Markdown structure.

Each function gets one run of text between tags. Escaping stays minimal (no
escapes for `.`, `!` mid-line, `#` mid-line...) so CJK output reads cleanly.
"""

from __future__ import annotations

import re

from hymt_cli.document import Escape

_NEWLINES = re.compile(r"\r\n?|\n")
_INLINE = re.compile(r"[\\`*_\[\]<~]|&(?=#?[0-9A-Za-z]+;)")
_INLINE_CELL = re.compile(r"[\\`*_\[\]<~|]|&(?=#?[0-9A-Za-z]+;)")
_LINE_START = re.compile(r"[#>+\-]|!!!|\?\?\?|:(?=\s|$)|=+\s*$|\d{1,9}(?=[.)])")
_TRAILING_HASHES = re.compile(r"#+\s*$")


def _backslash(match: re.Match[str]) -> str:
    return "\\" + match.group()


def _escape(text: str, inline: re.Pattern[str]) -> str:
    text = inline.sub(_backslash, _NEWLINES.sub(" ", text))
    body = text.lstrip(" \t")
    lead = " " if len(body) < len(text) else ""
    start = _LINE_START.match(body)
    if start is not None:
        digits = start.group().isdigit()
        cut = start.end() if digits else 0
        body = body[:cut] + "\\" + body[cut:]
    if body.endswith("!"):
        body = body[:-1] + "\\!"
    return lead + body


def escape_text(text: str) -> str:
    """Escape a run of paragraph-like text (also alt text, terms, titles of notes)."""
    return _escape(text, _INLINE)


def escape_cell(text: str) -> str:
    """Escape a run of table-cell text: as `escape_text`, plus `|`."""
    return _escape(text, _INLINE_CELL)


def escape_heading(text: str) -> str:
    """Escape a run of ATX heading text: trailing `#`s would close the heading."""
    text = escape_text(text)
    match = _TRAILING_HASHES.search(text)
    if match is not None and not text[: match.start()].endswith("\\"):
        text = text[: match.start()] + "\\" + text[match.start() :]
    return text


def title_escape(opener: str) -> Escape:
    """The escape for a link title delimited by `opener` (`"`, `'` or `(`)."""
    specials = {"(": "()"}.get(opener, opener)
    pattern = re.compile("[\\\\" + re.escape(specials) + "]|&(?=#?[0-9A-Za-z]+;)")

    def escape(text: str) -> str:
        return pattern.sub(_backslash, _NEWLINES.sub(" ", text))

    return escape
