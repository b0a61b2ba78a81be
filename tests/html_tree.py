"""The element tree of rendered HTML, text aside (bs4): the tests' oracle.

hymt itself compares structure as a stream of parser events
(`hymt_cli.structure`), which needs neither bs4 nor a whole tree in memory; this
tree is the independent reference the renderer tests compare with.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

TEXT_ATTRIBUTES = frozenset(
    {"alt", "title", "placeholder", "aria-label", "lang", "xml:lang", "dir"}
)
"""Attributes whose values are translated (or set to the target) and so may differ."""

TARGET_ATTRIBUTES = frozenset({"lang", "xml:lang", "dir"})
"""Attributes of `<html>` that translation may add, so they are left out entirely."""

TEXT_META = frozenset({"description", "og:title", "og:description", "twitter:title",
                       "twitter:description"})

Node = tuple[str, tuple[tuple[str, str], ...], tuple["Node", ...]]


_ABRUPT_COMMENT_RE = re.compile(r"<!---?>")


def html_structure(html: str) -> tuple[Node, ...]:
    """The element tree of `html`: names, non-text attributes, comments; no text."""
    # HTML5 (and CommonMark 0.31) end `<!-->` and `<!--->` at once; html.parser
    # would run on to the next `-->`, swallowing text, so spell them `<!---->`.
    html = _ABRUPT_COMMENT_RE.sub("<!---->", html)
    soup = BeautifulSoup(html, "html.parser")
    return _children(soup)


def _children(parent: Tag) -> tuple[Node, ...]:
    nodes: list[Node] = []
    for child in parent.children:
        if isinstance(child, Comment):
            nodes.append(("#comment", (("text", str(child)),), ()))
        elif isinstance(child, Tag):
            nodes.append((child.name, _attributes(child), _children(child)))
        elif isinstance(child, NavigableString):
            continue
    return tuple(nodes)


def _attributes(tag: Tag) -> tuple[tuple[str, str], ...]:
    pairs = []
    text_meta = tag.name == "meta" and (
        str(tag.get("name", "")).lower() in TEXT_META
        or str(tag.get("property", "")).lower() in TEXT_META
    )
    for name, value in tag.attrs.items():
        if tag.name == "html" and name in TARGET_ATTRIBUTES:
            continue
        if name in TEXT_ATTRIBUTES or (text_meta and name == "content"):
            value = "*"
        if isinstance(value, list):
            value = " ".join(value)
        pairs.append((name, str(value)))
    return tuple(sorted(pairs))
