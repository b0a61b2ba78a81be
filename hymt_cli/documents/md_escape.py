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


_BRACKET_ENTITIES = {"[": "&#91;", "]": "&#93;"}


def _math_safe(match: re.Match[str]) -> str:
    """Where `\\[ … \\]` is display math (arithmatex), brackets become entities."""
    return _BRACKET_ENTITIES.get(match.group()) or "\\" + match.group()


def without_math_brackets(escape: Escape) -> Escape:
    """`escape` for a dialect with `\\[…\\]` math: no backslash before `[` or `]`."""
    return _MATH_SAFE.get(escape, escape)


def _escape(text: str, inline: re.Pattern[str], mark=_backslash) -> str:
    text = inline.sub(mark, _NEWLINES.sub(" ", text))
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


def plain_run(text: str) -> str:
    """A run of text on one line, its leading white space one space; the escaping
    is left to the segment's `finish` step, which sees the neighbours."""
    text = _NEWLINES.sub(" ", text)
    body = text.lstrip(" \t")
    return (" " if len(body) < len(text) else "") + body


def escape_text(text: str) -> str:
    """Escape a run of paragraph-like text (also alt text, terms, titles of notes)."""
    return _escape(text, _INLINE)


def escape_cell(text: str) -> str:
    """Escape a run of table-cell text: as `escape_text`, plus `|`."""
    return _escape(text, _INLINE_CELL)


def escape_heading(text: str) -> str:
    """Escape a run of ATX heading text: trailing `#`s would close the heading."""
    return _keep_hashes(escape_text(text))


def _keep_hashes(text: str) -> str:
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


def _math_text(text: str) -> str:
    return _escape(text, _INLINE, _math_safe)


def _math_cell(text: str) -> str:
    return _escape(text, _INLINE_CELL, _math_safe)


def _math_heading(text: str) -> str:
    return _keep_hashes(_math_text(text))


_MATH_SAFE: dict[Escape, Escape] = {
    escape_text: _math_text, escape_cell: _math_cell, escape_heading: _math_heading,
}


_BRACES = re.compile(r"[{}]")


def with_braces_escaped(escape: Escape) -> Escape:
    """`escape` for MDX, where `{` and `}` in text start and end JavaScript."""

    def braces(text: str) -> str:
        return _BRACES.sub(_backslash, escape(text))

    return braces


def plain_line(text: str) -> str:
    """Text read raw, up to a closing `}}` (mdBook's `{{#title …}}`): one line, no
    escapes, and no `}}` of its own."""
    return " ".join(text.split()).replace("}}", "} }")
