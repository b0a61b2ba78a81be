"""Inline content of one Markdown block -> a `Segment` (or skeleton pieces).

The walker visits the inline tokens in order; each non-text token knows its span
of the block's content (`meta["range"]`), and the text between tokens is taken
from the content itself, so the segment's source is exact by construction.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from markdown_it.common.utils import unescapeAll
from markdown_it.helpers import parseLinkDestination, parseLinkTitle
from markdown_it.token import Token

from hymt_cli.document import (
    LOOKALIKE_RE,
    TAG_RE,
    Escape,
    Finish,
    Markup,
    Piece,
    Segment,
    SegmentBuilder,
    strip_lead,
    strip_trail,
)
from hymt_cli.documents.md_emphasis import EMPHASIS_KINDS, finish_emphasis
from hymt_cli.documents.md_context import Rules, markdown_finish
from hymt_cli.documents.md_escape import plain_run, title_escape
from hymt_cli.documents.md_parser import RANGE
from hymt_cli.documents.md_protect import LOCKED, PAIR_CLOSE, PAIR_OPEN

_PROTECTED = re.compile(
    r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}"
    r"|(?:(?:https?|ftp)://|mailto:|www\.)[^\s<>]*[^\s<>.,:;\"')\]!?*_~]"
)
_TRAILING_ATTRS = re.compile(r"(?<=[\])])\{[^{}]*\}$")
_PAIRED = {"em_open": "em", "strong_open": "strong", "s_open": "s"}
_CLOSING = frozenset({"em_close", "strong_close", "s_close"})
_HTML_OPEN = re.compile(r"<([A-Za-z][A-Za-z0-9-]*)[^>]*(?<!/)>$", re.DOTALL)
_HTML_CLOSE = re.compile(r"</([A-Za-z][A-Za-z0-9-]*)\s*>$")
_HTML_VOID = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()
)


@dataclass
class MdContext:
    """Per-document state shared by the extractors."""

    text: str
    """The original document text (BOM and CRLF included)."""
    kinds: frozenset[str]
    """Segment kinds to translate."""
    counter: Any = field(default_factory=lambda: itertools.count(1))
    protect: tuple[re.Pattern[str], ...] = ()
    """Patterns locked in plain text besides URLs and templates (dialect, user)."""
    rules: Rules = field(default_factory=Rules)
    """The dialect's escaping rules (kind-specific fields set per segment)."""
    finishers: dict[tuple[object, ...], Finish] = field(default_factory=dict)
    """One `finish` step per distinct set of rules: a long document holds a
    handful of them, not one closure per segment."""

    def next_id(self) -> str:
        """A provisional segment id (renumbered in source order at the end)."""
        return f"t{next(self.counter)}"

    def finisher(self, rules: Rules) -> Finish:
        """The `finish` step of segments escaped by `rules` (shared)."""
        key = (rules.line_start, rules.cell, rules.atx, rules.math, rules.mdx,
               rules.tilde, rules.brackets, id(rules.references))
        if key not in self.finishers:
            self.finishers[key] = markdown_finish(rules)
        return self.finishers[key]


@dataclass(frozen=True, slots=True)
class Span:
    """Inline content plus the offset in the document of each of its characters."""

    content: str
    cmap: Sequence[int]
    """Original-text offset of each content character, plus one for the end."""
    text: str

    def raw(self, start: int, end: int) -> str:
        """The source text of content[start:end]."""
        return self.text[self.cmap[start] : self.cmap[end]]

    def sub(self, start: int, end: int) -> Span:
        """The span of content[start:end]."""
        return Span(self.content[start:end], self.cmap[start : end + 1], self.text)


def build_inline(
    ctx: MdContext, span: Span, tokens: list[Token], kind: str, escape: Escape,
    end: int | None = None, rules: Rules | None = None,
) -> Segment | list[Piece] | None:
    """A segment for the inline tokens, its nested pieces if no words, None if lost.

    With `rules`, text runs are escaped in context by the segment's `finish` step
    (`escape` then only flattens each run)."""
    walker = _Walker(ctx, span, kind, escape, rules)
    if not walker.run(tokens, len(span.content) if end is None else end):
        return None
    return walker.finish()


class _Walker:
    """Feeds one block's inline tokens to a `SegmentBuilder`."""

    def __init__(self, ctx: MdContext, span: Span, kind: str, escape: Escape,
                 rules: Rules | None = None) -> None:
        self.ctx, self.span, self.rules = ctx, span, rules
        self.builder = SegmentBuilder(kind, span.cmap[0],
                                      escape if rules is None else plain_run)
        self.flat: list[Piece] = []
        self.parts: list[tuple[str, str]] = []
        self.words = False
        self.pos = 0
        self.links: list[tuple[int, int]] = []
        self.overrides: dict[int, dict[str, Markup]] = {}

    def run(self, tokens: list[Token], end: int) -> bool:
        """Walk `tokens` up to content index `end`; False if they cannot be placed."""
        pairs = html_pairs(tokens)
        covered = _covered(tokens)
        index = 0
        while index < len(tokens):
            token = tokens[index]
            span = token.meta.get(RANGE)
            if token.type == "text" or span is None:
                index += 1
                continue
            start, stop = markup_range(token, span)
            start, stop = _absorb(self.span.content, token, (start, stop), covered,
                                  self.pos)
            if start < self.pos or stop > end:
                return False
            stop, extra = _attached_attrs(tokens, index, stop, end)
            index = self.visit(tokens, index, start, stop, pairs) + extra
        self.gap(self.pos, end)
        self.flush(last=True)
        return True

    def visit(
        self, tokens: list[Token], index: int, start: int, stop: int, pairs: set[int]
    ) -> int:
        """Handle tokens[index] spanning content[start:stop]; returns the next index."""
        token = tokens[index]
        if token.type in ("softbreak", "hardbreak"):
            start = self.gap(self.pos, start, trim=True)
            raw = self.span.raw(start, stop)
            if token.type == "softbreak":
                self.add_text(raw, " ")
            else:
                self.atomic(raw, "", "break")
            self.pos = stop
            return index + 1
        self.gap(self.pos, start)
        self.pos = stop
        raw = self.span.raw(start, stop)
        if token.type == "text_special":
            self.add_text(raw, token.content)
        elif token.type in _PAIRED:
            self.open(raw, _PAIRED[token.type])
        elif token.type in _CLOSING:
            self.close(raw)
        elif token.type == "link_open":
            return self.link_open(tokens, index, start, stop)
        elif token.type == "link_close":
            self.link_close(start, stop)
        elif token.type == "image":
            self.image(token, start, stop)
        elif token.type == "code_inline":
            self.atomic(raw, token.content, "code")
        elif token.type == LOCKED:
            self.atomic(raw, token.meta["shown"], token.meta["kind"])
        elif token.type == PAIR_OPEN:
            self.open(raw, token.meta["kind"])
        elif token.type == PAIR_CLOSE:
            self.close(raw)
        elif token.type == "html_inline" and index in pairs:
            self.open(raw, "html") if token.content[1] != "/" else self.close(raw)
        else:
            self.atomic(raw, "", _atomic_kind(token))
        return index + 1

    # -- text ---------------------------------------------------------------

    def gap(self, start: int, stop: int, trim: bool = False) -> int:
        """Add content[start:stop] as text (URLs, templates locked); returns its end."""
        shown = self.span.content[start:stop]
        if trim:
            stop = start + len(shown.rstrip(" \t"))
            shown = shown[: stop - start]
        cursor = 0
        for begin, end, kind in protected_spans(shown, self.ctx.protect):
            self.add_text(self.span.raw(start + cursor, start + begin),
                          shown[cursor:begin])
            raw = self.span.raw(start + begin, start + end)
            self.atomic(raw, "" if kind == "protected" else shown[begin:end], kind)
            cursor = end
        self.add_text(self.span.raw(start + cursor, stop), shown[cursor:])
        return stop

    def add_text(self, raw: str, shown: str) -> None:
        """Queue a text run (merged with its neighbours before it reaches the builder)."""
        if raw:
            self.parts.append((raw, shown))
            self.words = self.words or any(ch.isalpha() for ch in shown)

    def flush(self, last: bool = False) -> None:
        """Hand queued text to the builder; lock runs that look like our tags.

        Outer white space (`&nbsp;` too) stays out of the segment: skeleton.
        """
        parts, self.parts = self.parts, []
        trail = ""
        if self.builder.empty:
            lead, parts = strip_lead(parts)
            self.builder.start += len(lead)
            self.flat += [lead] if lead else []
        if last:
            parts, trail = strip_trail(parts)
        self._flush(parts)
        self.flat += [trail] if trail else []

    def _flush(self, parts: list[tuple[str, str]]) -> None:
        shown = "".join(s for _, s in parts)
        if not parts:
            return
        if not LOOKALIKE_RE.search(shown) or all(r == s for r, s in parts):
            self._text("".join(r for r, _ in parts), shown)
            return
        for raw, part in _split_lookalikes(parts):
            if part is None:
                self._atomic(raw, "", "literal")
            else:
                self._text(raw, part)

    def _text(self, raw: str, shown: str) -> None:
        self.builder.text(raw, shown)
        self.flat.append(raw)

    # -- tags ---------------------------------------------------------------

    def open(self, raw: Markup, kind: str) -> int:
        """Open a paired tag."""
        self.flush()
        self.flat.extend((raw,) if isinstance(raw, str) else raw)
        return self.builder.open(raw, kind)

    def close(self, raw: Markup, number: int | None = None) -> None:
        """Close a paired tag (the innermost, or `number`)."""
        self.flush()
        self.flat.extend((raw,) if isinstance(raw, str) else raw)
        self.builder.close(raw, number)

    def atomic(self, raw: str | tuple[Piece, ...], shown: str, kind: str) -> int:
        """Add a content-locked tag."""
        self.flush()
        return self._atomic(raw, shown, kind)

    def _atomic(self, raw: str | tuple[Piece, ...], shown: str, kind: str) -> int:
        self.flat.extend((raw,) if isinstance(raw, str) else raw)
        return self.builder.atomic(raw, shown, kind)

    # -- links and images ---------------------------------------------------

    def link_open(self, tokens: list[Token], index: int, start: int, stop: int) -> int:
        """An inline/reference link opens a tag; an autolink is locked whole."""
        token = tokens[index]
        if token.markup == "autolink" or token.info == "auto":
            close = next(i for i in range(index, len(tokens))
                         if tokens[i].type == "link_close")
            shown = "".join(t.content for t in tokens[index + 1 : close])
            self.atomic(self.span.raw(start, stop), shown, "autolink")
            return close + 1
        number = self.open(self.span.raw(start, stop), "link")
        self.links.append((stop, number))
        return index + 1

    def link_close(self, start: int, stop: int) -> None:
        """Close a link; its markup may hold a title segment."""
        label_start, number = self.links.pop()
        markup, reference = self.tail(label_start, start, stop)
        self.close(markup, number)
        if reference is not None:
            self.overrides[number] = {"close": reference}

    def image(self, token: Token, start: int, stop: int) -> None:
        """A locked image whose pieces hold the alt text and title segments."""
        label_start = start + 2
        label_end = label_start + len(token.content)
        alt = self.alt(token, label_start, label_end)
        head: tuple[Piece, ...] = (self.span.raw(start, label_start), *alt)
        markup, reference = self.tail(label_start, label_end, stop)
        tail = (markup,) if isinstance(markup, str) else markup
        shown = TAG_RE.sub("", "".join(_shown(p) for p in alt))
        number = self.atomic((*head, *tail), shown, "image")
        if reference is not None:
            self.overrides[number] = {"locked": (*head, reference)}

    def alt(self, token: Token, start: int, stop: int) -> tuple[Piece, ...]:
        """The alt text as pieces: a segment when translatable."""
        raw = self.span.raw(start, stop)
        if "alt" not in self.ctx.kinds or not token.children:
            return (raw,) if raw else ()
        built = build_inline(self.ctx, self.span.sub(start, stop), token.children,
                             "alt", plain_run,
                             rules=replace(self.ctx.rules, line_start=False))
        if built is None:
            return (raw,) if raw else ()
        if not isinstance(built, Segment):
            return tuple(built)
        return self.around(built, start, stop)

    def around(self, segment: Segment, start: int, stop: int) -> tuple[Piece, ...]:
        """`segment` with the source of content[start:stop] it leaves out."""
        begin, end = self.span.cmap[start], self.span.cmap[stop]
        lead = self.span.text[begin : segment.start]
        trail = self.span.text[segment.end : end]
        return tuple(p for p in (lead, segment, trail) if p != "")

    def tail(self, label_start: int, start: int, stop: int) -> tuple[Markup, str | None]:
        """Markup after a link label, and the reference close to render instead
        (an attribute list the link took, `{ .class }`, is kept after either)."""
        close = self.span.content[start:stop]
        attrs = _TRAILING_ATTRS.search(close) if close.endswith("}") else None
        if attrs is None:
            return self._tail(label_start, start, stop)
        cut = start + attrs.start()
        markup, reference = self._tail(label_start, start, cut)
        raw = self.span.raw(cut, stop)
        markup = markup + raw if isinstance(markup, str) else (*markup, raw)
        return markup, None if reference is None else reference + raw

    def _tail(self, label_start: int, start: int, stop: int) -> tuple[Markup, str | None]:
        close = self.span.content[start:stop]
        if close in ("]", "][]"):
            label = " ".join(self.span.content[label_start:start].split())
            if self.builder.kind == "table_cell":
                label = label.replace("|", "\\|")
            return self.span.raw(start, stop), f"][{label}]"
        if not close.startswith("]("):
            return self.span.raw(start, stop), None
        title = _title_range(self.span.content, start + 2, stop)
        if title is None or "title" not in self.ctx.kinds:
            return self.span.raw(start, stop), None
        t0, t1 = title
        segment = self.title(t0, t1)
        if segment is None:
            return self.span.raw(start, stop), None
        return (self.span.raw(start, t0), *self.around(segment, t0, t1),
                self.span.raw(t1, stop)), None

    def title(self, start: int, stop: int) -> Segment | None:
        """A title segment for content[start:stop] (between its delimiters)."""
        opener = self.span.content[start - 1]
        builder = SegmentBuilder("title", self.span.cmap[start], title_escape(opener))
        shown = unescapeAll(self.span.content[start:stop]).replace("\n", " ")
        lead, runs = strip_lead([(self.span.raw(start, stop), shown)])
        runs, _ = strip_trail(runs)
        builder.start += len(lead)
        for raw, text in runs:
            builder.text(raw, text)
        return builder.build(self.ctx.next_id()) if builder.has_words() else None

    # -- result -------------------------------------------------------------

    def finish(self) -> Segment | list[Piece]:
        """The segment, or (without words outside locked tags) its flat pieces."""
        if not self.words and not self.overrides:
            return self.flat
        segment = self.builder.build(self.ctx.next_id())
        if self.rules is not None:
            segment = replace(segment, finish=self.ctx.finisher(self.rules))
        elif any(tag.kind in EMPHASIS_KINDS for tag in segment.tags):
            segment = replace(segment, finish=finish_emphasis)
        if not self.overrides:
            return segment
        tags = list(segment.tags)
        for number, fields in self.overrides.items():
            tags[number - 1] = replace(tags[number - 1], **fields)
        return replace(segment, tags=tuple(tags))


def protected_spans(
    shown: str, extra: tuple[re.Pattern[str], ...]
) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, kind) of URLs, templates and `extra` matches."""
    found = [(m.start(), m.end(), "url" if "/" in m.group() else "template")
             for m in _PROTECTED.finditer(shown)]
    for pattern in extra:
        found += [(m.start(), m.end(), "protected") for m in pattern.finditer(shown)
                  if m.end() > m.start()]
    spans: list[tuple[int, int, str]] = []
    for begin, end, kind in sorted(found, key=lambda f: (f[0], -f[1])):
        if not spans or begin >= spans[-1][1]:
            spans.append((begin, end, kind))
    return spans


def _attached_attrs(
    tokens: list[Token], index: int, stop: int, end: int
) -> tuple[int, int]:
    """An attribute list right after a link or image belongs to its markup:
    the new stop, and how many tokens it took."""
    token = tokens[index]
    if token.type not in ("link_close", "image") or index + 1 >= len(tokens):
        return stop, 0
    nxt = tokens[index + 1]
    span = nxt.meta.get(RANGE)
    if nxt.type == LOCKED and nxt.meta.get("kind") == "attr_list" and span \
            and span[0] == stop and span[1] <= end:
        return span[1], 1
    return stop, 0


def markup_range(token: Token, span: tuple[int, int]) -> tuple[int, int]:
    """The content span of a token; emphasis markers cover their whole markup."""
    start, stop = span
    if token.type in _PAIRED:
        return stop - len(token.markup), stop
    if token.type in _CLOSING:
        return start, start + len(token.markup)
    return start, stop


def _covered(tokens: list[Token]) -> set[int]:
    """Content indices inside the markup of emphasis-like tokens."""
    covered: set[int] = set()
    for token in tokens:
        if (token.type in _PAIRED or token.type in _CLOSING) and RANGE in token.meta:
            covered.update(range(*markup_range(token, token.meta[RANGE])))
    return covered


def _absorb(
    content: str, token: Token, span: tuple[int, int], covered: set[int], floor: int
) -> tuple[int, int]:
    """Widen emphasis markup over unmatched markers of the same delimiter run.

    Left as text they would be escaped, changing the run's length and so how
    CommonMark pairs the delimiters.
    """
    start, stop = span
    if token.type in _PAIRED:
        while start > floor and content[start - 1] == token.markup[0] \
                and start - 1 not in covered:
            start -= 1
    elif token.type in _CLOSING:
        while stop < len(content) and content[stop] == token.markup[0] \
                and stop not in covered:
            stop += 1
    return start, stop


def html_pairs(tokens: list[Token]) -> set[int]:
    """Indices of inline HTML tags that open or close a well-nested pair."""
    stack: list[tuple[str, int]] = []
    pairs: set[int] = set()
    for index, token in enumerate(tokens):
        if token.type != "html_inline":
            if token.nesting == 1:
                stack.append(("", index))
            elif token.nesting == -1:
                while stack and stack.pop()[0]:
                    pass
            continue
        opening = _HTML_OPEN.match(token.content)
        closing = _HTML_CLOSE.match(token.content)
        if opening and opening.group(1).lower() not in _HTML_VOID:
            stack.append((opening.group(1).lower(), index))
        elif closing and stack and stack[-1][0] == closing.group(1).lower():
            pairs.update((stack.pop()[1], index))
    return pairs


def _title_range(content: str, pos: int, stop: int) -> tuple[int, int] | None:
    """Where the title of an inline link's `(dest "title")` lies, if it has one."""
    pos = _skip_space(content, pos, stop)
    result = parseLinkDestination(content, pos, stop)
    if result.ok:
        pos = result.pos
    after = _skip_space(content, pos, stop)
    if after == pos or after >= stop or content[after] not in "\"'(":
        return None
    title = parseLinkTitle(content, after, stop)
    return (after + 1, title.pos - 1) if title.ok else None


def _skip_space(content: str, pos: int, stop: int) -> int:
    while pos < stop and content[pos] in " \t\n":
        pos += 1
    return pos


def _atomic_kind(token: Token) -> str:
    return {"html_inline": "html", "footnote_ref": "footnote"}.get(token.type, token.type)


def _shown(piece: Piece) -> str:
    return piece.text if isinstance(piece, Segment) else piece


def _split_lookalikes(
    parts: list[tuple[str, str]],
) -> list[tuple[str, str | None]]:
    """Group text parts; parts overlapping a tag look-alike become one locked run."""
    shown = "".join(s for _, s in parts)
    hits = [m.span() for m in LOOKALIKE_RE.finditer(shown)]
    offset = 0
    for raw, part in parts:  # the builder splits hits inside a verbatim part itself
        end = offset + len(part)
        if raw == part:
            hits = [(a, b) for a, b in hits if not (offset <= a and b <= end)]
        offset = end
    out: list[tuple[str, str | None]] = []
    offset = 0
    for raw, part in parts:
        end = offset + len(part)
        locked = any(a < end and offset < b for a, b in hits)
        if locked and out and out[-1][1] is None:
            out[-1] = (out[-1][0] + raw, None)
        else:
            out.append((raw, None if locked else part))
        offset = end
    return out
