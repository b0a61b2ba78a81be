"""The structure check before a document is written: what translation must not change.

A page's structure is the stream of its HTML parser events (start and end tags
with their attributes, comments), text left out. Markdown is rendered to HTML a
run of blocks at a time by the segmentation parser of its dialect, so checking
a long document costs no more memory than segmenting it. Equal event streams
build equal element trees.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from itertools import zip_longest

TEXT_ATTRIBUTES = frozenset(
    {"alt", "title", "placeholder", "aria-label", "lang", "xml:lang", "dir"}
)
"""Attributes whose values are translated (or set to the target) and so may differ."""

TARGET_ATTRIBUTES = frozenset({"lang", "xml:lang", "dir"})
"""Attributes of `<html>` that translation may add, so they are left out entirely."""

TEXT_META = frozenset({"description", "og:title", "og:description", "twitter:title",
                       "twitter:description"})

VOID_ELEMENTS = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()
)
"""Elements without content: `<br>` and `<br/>` are the same element."""

Event = tuple[str, str, tuple[tuple[str, str], ...]]
"""`("start", name, attributes)`, `("end", name, ())` or `("comment", text, ())`."""

FEED_CHARS = 65_536
"""HTML is fed to the parser in slices of this many characters."""

_ABRUPT_COMMENT_RE = re.compile(r"<!---?>")


class _Events(HTMLParser):
    """Collects structure events; text, declarations and entities are ignored."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[Event] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(("start", tag, _attributes(tag, attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID_ELEMENTS:
            self.events.append(("end", tag, ()))

    def handle_comment(self, data: str) -> None:
        self.events.append(("comment", data, ()))


def _attributes(tag: str, attrs: list[tuple[str, str | None]]) -> tuple[tuple[str, str], ...]:
    values = {name: value or "" for name, value in attrs}
    text_meta = tag == "meta" and (values.get("name", "").lower() in TEXT_META
                                   or values.get("property", "").lower() in TEXT_META)
    pairs = []
    for name, value in values.items():
        if tag == "html" and name in TARGET_ATTRIBUTES:
            continue
        if name in TEXT_ATTRIBUTES or (text_meta and name == "content"):
            value = "*"
        pairs.append((name, " ".join(value.split()) if name == "class" else value))
    return tuple(sorted(pairs))


def html_events(chunks: Iterable[str]) -> Iterator[Event]:
    """The structure events of the HTML made by joining `chunks`, as they come."""
    parser = _Events()
    for chunk in chunks:
        # HTML5 (and CommonMark 0.31) end `<!-->` and `<!--->` at once; html.parser
        # would run on to the next `-->`, swallowing text, so spell them `<!---->`.
        chunk = _ABRUPT_COMMENT_RE.sub("<!---->", chunk)
        for start in range(0, len(chunk), FEED_CHARS):
            parser.feed(chunk[start : start + FEED_CHARS])
            yield from parser.events
            parser.events.clear()
    parser.close()
    yield from parser.events


def same_events(first: Iterable[Event], second: Iterable[Event]) -> bool:
    """Whether two event streams are equal (read only as far as they agree)."""
    return all(a == b for a, b in zip_longest(first, second))


def events_digest(events: Iterable[Event]) -> bytes:
    """A digest of an event stream: equal streams, equal digests."""
    digest = hashlib.blake2b(digest_size=16)
    for event in events:
        digest.update(repr(event).encode("utf-8", "surrogatepass") + b"\0")
    return digest.digest()
