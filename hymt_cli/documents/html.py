"""HTML adapter: text flow of blocks and readable attributes become segments.

Design. Byte-exact reassembly needs source offsets, which bs4 does not keep, so
`html_tokens.tokenize` runs the stdlib `html.parser.HTMLParser` (the parser bs4's
`html.parser` builder uses, so both see the same tokens) and records where every
event starts; the source between two offsets is the event's exact text. One pass
over that flat token stream (`_Segmenter`) keeps a stack of open blocks and
collects the inline run of the innermost block: text, entity references, inline
elements as paired tags, void and never-translated inline elements as locked
tags. A block boundary ends the run, and `html_text.run_pieces` turns it into
skeleton plus one segment. Readable attribute values (alt, title, placeholder,
aria-label, meta description/og content) are segments of their own, nested in the
tag markup when the tag sits inside a run. `<html lang/dir>` are segments of kind
`lang`/`dir` filled from the target by the pipeline (`target_values`).
Markup is never rewritten: rendering only replaces text and attribute values,
escaped for their spot, so the element tree is kept; the pipeline checks that
before writing (`page_structure`), and the tests with bs4 trees.

Never translated: script, style, pre, code, kbd, samp, var, svg, math, template,
textarea content, comments, doctype, processing instructions, CDATA, subtrees
with translate="no" or class="notranslate", and everything between
`<!-- hymt:off -->` and `<!-- hymt:on -->`.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator
from itertools import count

from hymt_cli.document import Document, Escape, Markup, Piece, Segment, SegmentBuilder
from hymt_cli.documents import SegmentOptions, protect_patterns
from hymt_cli.documents.html_tables import (
    BLOCK_KINDS,
    BLOCKS,
    CONTENT_LOCKED,
    META_KINDS,
    NEVER_TRANSLATED,
    OFF_MARKER,
    ON_MARKER,
    TAG_KINDS,
    TEXT_ATTRIBUTES,
    VOID,
    VOID_BLOCKS,
    VOID_INLINE,
)
from hymt_cli.documents.html_text import (
    WHITESPACE,
    Item,
    quoted_escape,
    run_pieces,
    text_escape,
    text_item,
    unquoted_escape,
    value_items,
)
from hymt_cli.documents.html_tokens import (
    AttrSpan,
    Token,
    TokenizeError,
    attribute_spans,
    tokenize,
)
from hymt_cli.structure import Event, html_events

NAME = "html"
SUFFIXES = (".html", ".htm", ".xhtml")

log = logging.getLogger(__name__)

_TAG_NAME_RE = re.compile(r"<[^\t\n\r\f />\x00]*")
_WS_RUN_RE = re.compile(r"[ \t\n\r\f]+")
_HIDDEN_CONTENT = frozenset({"script", "style", "template", "svg", "math"})
"""Locked inline elements whose content is not shown to the engine."""

Edit = tuple[int, int, list[Piece]]
"""Replace `raw[start:end]` of a tag by pieces."""


def segment(text: str, options: SegmentOptions) -> Document:
    """Parse HTML `text` into skeleton and segments."""
    try:
        tokens = tokenize(text)
    except (TokenizeError, AssertionError) as error:
        # HTMLParser asserts on some declarations (`<![foo[`); bs4 rejects those too.
        log.warning("HTML kept untranslated, the parser rejected it: %s", error)
        return Document((text,) if text else (), NAME)
    segmenter = _Segmenter(tokens, protect_patterns(options.protect))
    return Document(_merge(segmenter.pieces()), NAME, structure=page_structure)


def page_structure(text: str) -> Iterator[Event]:
    """The structure of an HTML page or fragment (see `hymt_cli.structure`)."""
    return html_events([text])


def target_values(doc: Document, code: str, rtl: bool) -> dict[str, str]:
    """Translations for the `lang` and `dir` segments of `doc` for target `code`."""
    values: dict[str, str] = {}
    for seg in doc.segments():
        if seg.kind == "lang":
            values[seg.id] = code
        elif seg.kind == "dir":
            values[seg.id] = "rtl" if rtl else ("ltr" if seg.source else "")
    return values


def _merge(pieces: list[Piece]) -> tuple[Piece, ...]:
    """Join adjacent skeleton strings and drop empty ones."""
    out: list[Piece] = []
    for piece in pieces:
        if isinstance(piece, str) and out and isinstance(out[-1], str):
            out[-1] += piece
        elif piece != "":
            out.append(piece)
    return tuple(out)


def _first(token: Token, name: str) -> str:
    """The value of the first attribute `name` of `token` ("" when absent)."""
    return next((v or "" for n, v in token.attrs if n == name), "")


def _never_translated(token: Token) -> bool:
    if token.name in NEVER_TRANSLATED:
        return True
    if _first(token, "translate").strip().lower() == "no":
        return True
    return "notranslate" in _first(token, "class").lower().split()


def _is_block(name: str) -> bool:
    return name in BLOCKS or name in VOID_BLOCKS


def _attribute_kind(token: Token, span: AttrSpan) -> str | None:
    """The segment kind of an attribute value, or None when it is not read."""
    if not span.has_value:
        return None
    if token.name == "meta" and span.name == "content":
        key = _first(token, "name") or _first(token, "property")
        return META_KINDS.get(key.strip().lower())
    return TEXT_ATTRIBUTES.get(span.name)


def _splice(raw: str, edits: list[Edit]) -> Markup:
    """`raw` with `edits` applied; a plain string when no segment was added."""
    pieces: list[Piece] = []
    pos = 0
    for start, end, replacement in sorted(edits, key=lambda e: e[0]):
        pieces += [raw[pos:start], *replacement]
        pos = end
    pieces.append(raw[pos:])
    if not any(isinstance(p, Segment) for p in pieces):
        return raw
    return _merge(pieces)


def _as_pieces(markup: Markup) -> list[Piece]:
    return [markup] if isinstance(markup, str) else list(markup)


def _inserted_escape(name: str) -> Escape:
    """Escape for a missing attribute: renders ` name="value"`, or nothing."""
    quoted = quoted_escape('"')
    return lambda value: f' {name}="{quoted(value)}"' if value else ""


def _valueless_escape(value: str) -> str:
    return f'="{quoted_escape(chr(34))(value)}"' if value else ""


class _Segmenter:
    """One pass over the tokens of a document; holds the per-document state."""

    def __init__(self, tokens: list[Token], protect: tuple[re.Pattern[str], ...] = ()
                 ) -> None:
        self.tokens = tokens
        self.protect = protect
        """`--protect` patterns: their matches in text are locked."""
        self.out: list[Piece] = []
        self.run: list[Item] = []
        self.blocks: list[str] = []
        self.counter = count(1)
        self.html_seen = False

    def pieces(self) -> list[Piece]:
        """Walk every token; returns the document's pieces."""
        index = 0
        while index < len(self.tokens):
            index = self._step(index)
        self._flush()
        return self.out

    def _new_id(self) -> str:
        return f"s{next(self.counter)}"

    def _step(self, index: int) -> int:
        token = self.tokens[index]
        if token.kind in ("start", "startend"):
            return self._start(index)
        if token.kind == "end":
            self._end(token)
        elif token.kind == "data":
            self.run.append(text_item(token.raw, token.start))
        elif token.kind == "entity":
            self.run.append(text_item(token.raw, token.start, token.text))
        elif token.kind == "comment":
            return self._comment(index)
        else:  # decl, pi, cdata, junk
            item = Item("atomic", token.raw, token.start, name="html", edge=True)
            self.run.append(item)
        return index + 1

    def _flush(self) -> None:
        if not self.run:
            return
        kind = BLOCK_KINDS.get(self.blocks[-1], "text") if self.blocks else "text"
        self.out += run_pieces(self.run, kind, text_escape, self._new_id, self.protect)
        self.run = []

    def _start(self, index: int) -> int:
        token = self.tokens[index]
        name = token.name
        if _never_translated(token):
            return self._skip(index)
        if name in CONTENT_LOCKED and token.kind == "start":
            return self._locked_content(index)
        markup = self._html_markup(token) if name == "html" else self._markup(token)
        if _is_block(name):
            self._flush()
            self.out += _as_pieces(markup)
            if token.kind == "start" and name not in VOID:
                self.blocks.append(name)
        elif name in VOID_INLINE or token.kind == "startend":
            kind = TAG_KINDS.get(name, "html")
            self.run.append(Item("atomic", markup, token.start, name=kind))
        else:
            kind = TAG_KINDS.get(name, "html")
            self.run.append(Item("open", markup, token.start, name=kind, element=name))
        return index + 1

    def _end(self, token: Token) -> None:
        if not _is_block(token.name):
            item = Item("close", token.raw, token.start, element=token.name)
            self.run.append(item)
            return
        self._flush()
        self.out.append(token.raw)
        if token.name in self.blocks:
            depth = len(self.blocks) - 1 - self.blocks[::-1].index(token.name)
            del self.blocks[depth:]

    def _comment(self, index: int) -> int:
        token = self.tokens[index]
        if token.text.strip().lower() != OFF_MARKER:
            item = Item("atomic", token.raw, token.start, name="comment", edge=True)
            self.run.append(item)
            return index + 1
        self._flush()
        end = next(
            (j + 1 for j in range(index + 1, len(self.tokens)) if self._is_on(j)),
            len(self.tokens),
        )
        self.out += [t.raw for t in self.tokens[index:end]]
        return end

    def _is_on(self, index: int) -> bool:
        token = self.tokens[index]
        return token.kind == "comment" and token.text.strip().lower() == ON_MARKER

    def _skip(self, index: int) -> int:
        """Keep a never-translated subtree: a locked tag inline, skeleton in flow."""
        token = self.tokens[index]
        end = self._subtree_end(index)
        raw = "".join(t.raw for t in self.tokens[index:end])
        if _is_block(token.name) or token.name == "html":
            self._flush()
            self.out.append(raw)
            return end
        shown = "" if token.name in _HIDDEN_CONTENT else self._text_of(index + 1, end)
        kind = TAG_KINDS.get(token.name, "html")
        self.run.append(Item("atomic", raw, token.start, shown, kind))
        return end

    def _locked_content(self, index: int) -> int:
        """An element whose attributes are read but whose content is kept."""
        token = self.tokens[index]
        end = self._subtree_end(index)
        inner = "".join(t.raw for t in self.tokens[index + 1 : end])
        pieces = _merge([*_as_pieces(self._markup(token)), inner])
        self.run.append(Item("atomic", pieces, token.start, name="html"))
        return end

    def _text_of(self, start: int, end: int) -> str:
        tokens = self.tokens[start:end]
        text = "".join(t.text for t in tokens if t.kind in ("data", "entity"))
        return _WS_RUN_RE.sub(" ", text).strip(WHITESPACE)

    def _subtree_end(self, index: int) -> int:
        """Index just past the subtree opened at `index` (or where an ancestor ends)."""
        token = self.tokens[index]
        if token.kind == "startend" or token.name in VOID:
            return index + 1
        stops = {*self.blocks, *(i.element for i in self.run if i.kind == "open")}
        depth = 0
        for j in range(index, len(self.tokens)):
            other = self.tokens[j]
            if other.kind == "start" and other.name == token.name:
                depth += 1
            elif other.kind == "end" and other.name == token.name:
                depth -= 1
                if depth == 0:
                    return j + 1
            elif other.kind == "end" and other.name in stops:
                return j
        return len(self.tokens)

    def _markup(self, token: Token) -> Markup:
        """A tag's source, with readable attribute values as segments."""
        spans = attribute_spans(token)
        if spans is None:
            return token.raw
        edits: list[Edit] = []
        for span in spans:
            kind = _attribute_kind(token, span)
            if kind is not None:
                pieces = self._value_pieces(token, span, kind)
                edits.append((span.start, span.end, pieces))
        return _splice(token.raw, edits)

    def _value_pieces(self, token: Token, span: AttrSpan, kind: str) -> list[Piece]:
        value = token.raw[span.start : span.end]
        items = value_items(value, token.start + span.start)
        escape = quoted_escape(span.quote) if span.quote else unquoted_escape
        return (run_pieces(items, kind, escape, self._new_id, self.protect) if items
                else [])

    def _html_markup(self, token: Token) -> Markup:
        """The first `<html>` tag: its lang and dir become target-filled segments."""
        if self.html_seen:
            return self._markup(token)
        self.html_seen = True
        spans = attribute_spans(token)
        if spans is None:
            return token.raw
        after_name = _TAG_NAME_RE.match(token.raw).end()  # type: ignore[union-attr]
        wanted: list[tuple[int, int, str, AttrSpan | None]] = []
        for attr, kind in (("lang", "lang"), ("dir", "dir"), ("xml:lang", "lang")):
            span = next((s for s in spans if s.name == attr), None)
            if span is not None:
                wanted.append((span.start, span.end, kind, span))
            elif attr != "xml:lang":
                wanted.append((after_name, after_name, kind, None))
        wanted.sort(key=lambda w: w[0])
        edits = [(a, b, [self._lang_segment(token, k, s, a)]) for a, b, k, s in wanted]
        return _splice(token.raw, edits)

    def _lang_segment(
        self, token: Token, kind: str, span: AttrSpan | None, at: int
    ) -> Segment:
        if span is None:
            escape = _inserted_escape(kind)
        elif not span.has_value:
            escape = _valueless_escape
        else:
            escape = quoted_escape(span.quote) if span.quote else unquoted_escape
        builder = SegmentBuilder(kind, token.start + at, escape)
        value = token.raw[span.start : span.end] if span else ""
        if value:
            builder.text(value, html.unescape(value))
        return builder.build(self._new_id())
