"""Lossless HTML tokens: stdlib `HTMLParser` events with their exact source slices.

`HTMLParser` (the parser behind bs4's `html.parser` builder) reports events but not
their offsets. We record the line/column of each event, turn it into a character
offset, and cut the source between consecutive offsets, so the tokens' `raw` texts
concatenate back to the input exactly. Bytes the parser skips without an event
(`</>`, a lone `&` at the end) come back as `junk` tokens.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

Attrs = tuple[tuple[str, str | None], ...]


@dataclass(frozen=True, slots=True)
class Token:
    """One lexical item of an HTML source, with its exact text."""

    kind: str
    """start, startend, end, data, entity, comment, decl, pi, cdata or junk."""
    start: int
    """Character offset of `raw` in the source."""
    raw: str
    """The exact source text of the token."""
    name: str = ""
    """Lower-case tag name, for start, startend and end tokens."""
    attrs: Attrs = ()
    """Attributes as `HTMLParser` decodes them (start and startend tokens)."""
    text: str = ""
    """Decoded text (data, entity) or the body of a comment."""


@dataclass(frozen=True, slots=True)
class _Event:
    start: int
    kind: str
    name: str = ""
    attrs: Attrs = ()
    text: str = ""
    known: str | None = None


class _Recorder(HTMLParser):
    """Records every parser event with its start offset."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.events: list[_Event] = []

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def _add(self, kind: str, **fields: object) -> None:
        event = _Event(self._offset(), kind, **fields)  # type: ignore[arg-type]
        self.events.append(event)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._add("start", name=tag, attrs=tuple(attrs), known=self.get_starttag_text())

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        text = self.get_starttag_text()
        self._add("startend", name=tag, attrs=tuple(attrs), known=text)

    def handle_endtag(self, tag: str) -> None:
        self._add("end", name=tag)

    def handle_data(self, data: str) -> None:
        self._add("data", text=data, known=data)

    def handle_entityref(self, name: str) -> None:
        self._reference("&" + name)

    def handle_charref(self, name: str) -> None:
        self._reference("&#" + name)

    def _reference(self, head: str) -> None:
        offset = self._offset()
        semi = self.source.startswith(head + ";", offset)
        raw = head + ";" if semi else head
        self._add("entity", text=html.unescape(raw), known=raw)

    def handle_comment(self, data: str) -> None:
        self._add("comment", text=data)

    def handle_decl(self, decl: str) -> None:
        self._add("decl", text=decl)

    def handle_pi(self, data: str) -> None:
        self._add("pi", text=data)

    def unknown_decl(self, data: str) -> None:
        self._add("cdata", text=data)


class TokenizeError(ValueError):
    """The recorded events do not account for the source exactly."""


def tokenize(source: str) -> list[Token]:
    """Cut `source` into tokens whose raw texts concatenate back to it."""
    recorder = _Recorder(source)
    recorder.feed(source)
    recorder.close()
    events = recorder.events
    tokens: list[Token] = []
    if not events or events[0].start > 0:
        first = events[0].start if events else len(source)
        tokens += _junk(source[:first], 0)
    for event, after in zip(events, events[1:] + [None]):
        end = len(source) if after is None else after.start
        tokens += _cut(event, source[event.start : end])
    tokens = _unclosed_comment(tokens, source)
    if "".join(t.raw for t in tokens) != source:
        raise TokenizeError("tokens do not rebuild the source")
    return tokens


_ABRUPT_COMMENT = ("<!-->", "<!--->")


def _unclosed_comment(tokens: list[Token], source: str) -> list[Token]:
    """An unclosed `<!--` (or `<!`, `<?` with no `>`) runs to the end of the file
    as a comment, as browsers read it; `HTMLParser` hands it back as text."""
    for index, token in enumerate(tokens):
        if token.kind == "data" and _opens_unclosed(source, token.start):
            raw = source[token.start :]
            body = raw[4:] if raw.startswith("<!--") else raw[2:]
            return [*tokens[:index], Token("comment", token.start, raw, text=body)]
    return tokens


def _opens_unclosed(source: str, at: int) -> bool:
    if source.startswith("<!--", at):
        closed = source.find("-->", at + 4) >= 0
        return not closed and not source.startswith(_ABRUPT_COMMENT, at)
    return source.startswith(("<!", "<?"), at) and source.find(">", at) < 0


def _junk(raw: str, start: int) -> list[Token]:
    return [Token("junk", start, raw)] if raw else []


def _cut(event: _Event, raw: str) -> list[Token]:
    """The token for `event` plus junk for bytes the parser passed over."""
    if not raw:
        return []
    known = raw if event.known is None else event.known
    if not raw.startswith(known) or not known:
        raise TokenizeError(f"event {event.kind} at {event.start} does not match")
    token = Token(event.kind, event.start, known, event.name, event.attrs, event.text)
    return [token, *_junk(raw[len(known) :], event.start + len(known))]


@dataclass(frozen=True, slots=True)
class AttrSpan:
    """Where one attribute's value lies inside a start tag's source."""

    name: str
    """Lower-case attribute name."""
    start: int
    """Offset of the value (inside quotes, if any) in the tag source; for an
    attribute without a value, the offset just past its name."""
    end: int
    """Offset just past the value."""
    quote: str
    """The quote character around the value: `"`, `'`, or "" (unquoted or none)."""
    has_value: bool
    """Whether the attribute has `=value` at all."""


_TAG_NAME_RE = re.compile(r"<[a-zA-Z][^\t\n\r\f />\x00]*")
_ATTR_RE = re.compile(
    r"""(?:\s|/(?!>))*(?<=['"\s/])(?P<name>[^\s/>][^\s/=>]*)"""
    r"""(?:(?P<eq>\s*=+\s*)"""
    r"""(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<uq>(?!['"])[^>\s]*)))?"""
)


def attribute_spans(token: Token) -> list[AttrSpan] | None:
    """Value spans of a start tag's attributes, or None when they cannot be
    matched one to one with what the parser decoded."""
    raw = token.raw
    head = _TAG_NAME_RE.match(raw)
    if head is None:
        return None
    spans, pos = [], head.end()
    for match in _ATTR_RE.finditer(raw, pos):
        if match.start() != pos:
            break
        spans.append(_span(match))
        pos = match.end()
    decoded = tuple((s.name, _decode(raw, s)) for s in spans)
    return spans if decoded == token.attrs else None


def _span(match: re.Match[str]) -> AttrSpan:
    name = match.group("name").lower()
    if match.group("eq") is None:
        return AttrSpan(name, match.end(), match.end(), "", False)
    for group, quote in (("dq", '"'), ("sq", "'"), ("uq", "")):
        if match.group(group) is not None:
            return AttrSpan(name, match.start(group), match.end(group), quote, True)
    raise AssertionError("attribute value without a group")  # pragma: no cover


def _decode(raw: str, span: AttrSpan) -> str | None:
    if not span.has_value:
        return None
    value = raw[span.start : span.end]
    return html.unescape(value) if value else value
