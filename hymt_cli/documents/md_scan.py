"""Scanners for MDX syntax that regular expressions cannot balance.

`{…}` expressions nest and hold JavaScript strings and comments; JSX tags hold
expression attributes. Each scanner returns the offset just past what it
matched, or None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z_$][\w$.:-]*")
_ATTR_NAME = re.compile(r"[A-Za-z_$][\w$:.-]*")
_SPACE = " \t\r\n"
_QUOTES = "\"'`"


PROSE_PROPS = frozenset(
    {"title", "alt", "label", "caption", "description", "aria-label", "placeholder"}
)
"""JSX props whose string values are prose (others are identifiers, paths, ids)."""


def masked_prose_props(jsx: str) -> str:
    """`jsx` (flow JSX tags) with the values of its prose props replaced by `*`:
    what a translation must leave as it is."""
    attrs: list[JsxAttr] = []
    start = jsx.find("<")
    if start < 0 or scan_jsx_tags(jsx, start, attrs) is None:
        return jsx
    for attr in sorted(attrs, key=lambda a: a.start, reverse=True):
        if attr.name in PROSE_PROPS:
            jsx = jsx[: attr.start] + "*" + jsx[attr.end :]
    return jsx


@dataclass(frozen=True, slots=True)
class JsxAttr:
    """One JSX attribute whose value is a string literal."""

    name: str
    start: int
    """Offset of the first character inside the quotes."""
    end: int
    """Offset of the closing quote."""
    quote: str


def scan_braces(src: str, pos: int) -> int | None:
    """The end of the balanced `{…}` expression starting at `src[pos]`."""
    if src[pos : pos + 1] != "{":
        return None
    depth, i, n = 0, pos, len(src)
    while i < n:
        ch = src[i]
        if ch in _QUOTES:
            i = _string_end(src, i)
            if i is None:
                return None
            continue
        if src.startswith("/*", i):
            close = src.find("*/", i + 2)
            if close < 0:
                return None
            i = close + 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _string_end(src: str, pos: int) -> int | None:
    quote, i = src[pos], pos + 1
    while i < len(src):
        ch = src[i]
        if ch == "\\":
            i += 2
            continue
        if ch == quote:
            return i + 1
        if ch == "\n" and quote != "`":
            return None
        i += 1
    return None


def scan_jsx_tag(src: str, pos: int, attrs: list[JsxAttr] | None = None) -> int | None:
    """The end of the JSX tag (`<X …>`, `</X>`, `<>`, `</>`) at `src[pos]`."""
    if src[pos : pos + 1] != "<":
        return None
    i = _skip(src, pos + 1)
    closing = src[i : i + 1] == "/"
    if closing:
        i = _skip(src, i + 1)
    if src[i : i + 1] == ">":
        return i + 1  # fragment
    name = _NAME.match(src, i)
    if name is None:
        return None
    i = name.end()
    while True:
        j = _skip(src, i)
        if src.startswith("/>", j) and not closing:
            return j + 2
        if src[j : j + 1] == ">":
            return j + 1
        if j == i or closing:
            return None
        i = _attribute(src, j, attrs)
        if i is None:
            return None


def _attribute(src: str, pos: int, attrs: list[JsxAttr] | None) -> int | None:
    if src[pos : pos + 1] == "{":
        return scan_braces(src, pos)  # spread `{...props}`
    name = _ATTR_NAME.match(src, pos)
    if name is None:
        return None
    i = _skip(src, name.end())
    if src[i : i + 1] != "=":
        return name.end()
    i = _skip(src, i + 1)
    ch = src[i : i + 1]
    if ch in ("\"", "'") and ch:
        close = src.find(ch, i + 1)
        if close < 0:
            return None
        if attrs is not None:
            attrs.append(JsxAttr(name.group(), i + 1, close, ch))
        return close + 1
    if ch == "{":
        return scan_braces(src, i)
    if ch == "<":
        return scan_jsx_tag(src, i)
    return None


def _skip(src: str, pos: int) -> int:
    while pos < len(src) and src[pos] in _SPACE:
        pos += 1
    return pos


def scan_jsx_tags(src: str, pos: int, attrs: list[JsxAttr] | None = None) -> int | None:
    """The end of one or more JSX tags in a row (blanks between them) at `pos`."""
    end = scan_jsx_tag(src, pos, attrs)
    if end is None:
        return None
    while True:
        nxt = end
        while nxt < len(src) and src[nxt] in " \t":
            nxt += 1
        if src[nxt : nxt + 1] != "<":
            return end
        more = scan_jsx_tag(src, nxt, attrs)
        if more is None:
            return end
        end = more
