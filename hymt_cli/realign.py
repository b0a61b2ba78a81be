"""Put a segment's tags back into a plain translation of the whole segment.

Flow: pipeline → engines → validate → fallback → render. When a segment's tagged
answers are rejected twice, `fallback` asks for the segment without its tags
(plain template, one sentence) and for the text inside each tag pair on its own;
here each translated inner text is found in the whole translation, in order and
without overlap (nested pairs inside their outer pair's span), and wrapped in its
tags. A content-locked tag's text is shown as it is and looked for as it is,
then as translated on its own (render restores it from the source anyway). A
line break between words is shown as a space and put over the white space
nearest its proportional position; another empty pair goes to the nearest word
edge. When any pair cannot be placed, `finish` gives up (None) and the segment
is rebuilt from its runs instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from hymt_cli.document import TAG_RE, Segment, Tag, markup_source
from hymt_cli.engines.base import Request
from hymt_cli.validate import clean_answer, plain_runs, repair, strip_tags

CHOICES = 3
"""Places tried per span (nearest its proportional place first) when a span after
it cannot be placed otherwise."""
BUDGET = 200
"""Placements tried per segment at most, so that backtracking stays cheap."""


@dataclass(frozen=True, slots=True)
class Span:
    """One tag pair of a segment, located in the segment's plain text."""

    number: int
    start: int
    """Offset of the inner text in the plain text."""
    inner: str
    """The plain text inside the pair (nested tags removed, locked text kept)."""
    locked: bool
    """Whether the tag is content-locked: its text is shown, never translated."""
    children: tuple[Span, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    """What realigning one segment asks of the engine, and what it needs after."""

    segment: Segment
    plain: str
    """The segment's text without tags."""
    spans: tuple[Span, ...]
    """The outermost tag pairs, in order; nested ones are their children."""
    whole: Request
    """The plain request for the whole segment."""
    inner: Mapping[int, Request]
    """The plain request for each span holding a letter, by tag number (a locked
    one too: the whole translation may have translated its text after all)."""

    @property
    def requests(self) -> list[Request]:
        """Every request of the plan: the whole segment first."""
        return [self.whole, *self.inner.values()]


@dataclass(frozen=True, slots=True)
class _Placed:
    """A span found in the whole translation: `text[start:end]` goes in its tags."""

    number: int
    start: int
    end: int
    children: tuple[_Placed, ...]


def plan(segment: Segment, request: Request) -> Plan | None:
    """The plain requests for `segment`; None when it has no tags or no words."""
    plain, spans = parse(segment)
    if not spans or not any(ch.isalpha() for ch in plain):
        return None
    inner = {s.number: replace(request, text=s.inner.strip())
             for s in _walk(spans) if _has_letter(s.inner)}
    return Plan(segment, plain, spans, replace(request, text=plain.strip()), inner)


def parse(segment: Segment) -> tuple[str, tuple[Span, ...]]:
    """The plain text of `segment` and its tag pairs as a tree."""
    plain = ""
    stack: list[tuple[int, int, list[Span]]] = [(0, 0, [])]
    runs = plain_runs(segment.text)
    for index, (is_plain, piece) in enumerate(runs):
        match = TAG_RE.fullmatch(piece)
        if is_plain or match is None:
            plain += piece
        elif match.group(1) != "/":
            stack.append((int(match.group(2)), len(plain), []))
        else:
            number, start, children = stack.pop()
            tag = segment.tag(number)
            if start == len(plain) and _is_break(tag) and _glued(plain, runs, index):
                plain += " "  # a line break stands between words: show it as a space
            inner = plain[start:]
            stack[-1][2].append(Span(number, start, inner, tag.is_locked, tuple(children)))
    return plain, tuple(stack[0][2])


def _is_break(tag: Tag) -> bool:
    """Whether `tag` is a line break (not `<wbr>`, which joins its neighbours)."""
    return tag.kind == "break" and "wbr" not in markup_source(tag.locked or "").lower()


def _glued(plain: str, runs: list[tuple[bool, str]], index: int) -> bool:
    """Whether the tag closed at `runs[index]` has no white space on either side."""
    after = runs[index + 1][1][:1] if index + 1 < len(runs) else ""
    return bool(plain[-1:].strip()) and bool(after.strip())


def finish(plan: Plan, answers: Mapping[Request, str]) -> str | None:
    """The tagged translation, when every tag is placed and `repair` accepts it."""
    whole = _clean(answers[plan.whole])
    if not whole:
        return None
    wanted = {s.number: _wanted(s, plan, answers) for s in _walk(plan.spans)}
    source = plan.plain.strip()  # the scale leaves out punctuation added at the ends
    aligner = _Aligner(whole, wanted, len(_trim(whole, source)) / max(1, len(source)))
    placed = aligner.place(plan.spans, (0, len(whole)), (0, 0))
    if placed is None:
        return None
    lead = plan.plain[: len(plan.plain) - len(plan.plain.lstrip())]
    trail = plan.plain[len(plan.plain.rstrip()) :]
    tagged = lead + _render(placed, whole, 0, len(whole)) + trail
    checked = repair(plan.segment, tagged)
    return checked.text if checked.ok else None


def _walk(spans: tuple[Span, ...]) -> list[Span]:
    """Every span of the tree, outer before inner, in order."""
    return [s for span in spans for s in (span, *_walk(span.children))]


def _has_letter(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def _clean(answer: str) -> str:
    return strip_tags(clean_answer(answer, tagged=False)).strip()


def _wanted(span: Span, plan: Plan, answers: Mapping[Request, str]) -> list[str]:
    """The texts to look for, best first: a locked span's own text, then its
    translation; an unlocked span's translation (trimmed), then its own text.
    A space for a pair holding only white space (a line break between words)."""
    source = span.inner.strip()
    if span.number not in plan.inner:
        return [source or span.inner[:1]]
    translated = _trim(_clean(answers[plan.inner[span.number]]), source)
    texts = [source, translated] if span.locked else [translated, source]
    return [text for text in dict.fromkeys(texts) if text]


def _trim(text: str, source: str) -> str:
    """`text` without the punctuation an engine adds around a short phrase (a full
    stop, quotes, the pseudo engine's brackets) when `source` has none there."""
    if source[:1].isalnum():
        text = re.sub(r"\A[\W_]+", "", text)
    if source[-1:].isalnum():
        text = re.sub(r"[\W_]+\Z", "", text)
    return text


class _Aligner:
    """Places spans in one whole translation, trying a few places per span."""

    def __init__(self, whole: str, wanted: Mapping[int, list[str]], scale: float) -> None:
        self.whole, self.wanted, self.scale = whole, wanted, scale
        self.budget = BUDGET

    def place(
        self, spans: tuple[Span, ...], window: tuple[int, int], origin: tuple[int, int]
    ) -> tuple[_Placed, ...] | None:
        """`spans` in order inside `window`, without overlap; None if one is lost.
        `origin` pairs a source offset with the translation offset known to match
        it (the end of the span before), where proportional estimates start."""
        if not spans:
            return ()
        span = spans[0]
        expected = origin[1] + round((span.start - origin[0]) * self.scale)
        expected = min(max(window[0], expected), window[1])
        for found in _candidates(self.wanted[span.number], self.whole, window, expected):
            self.budget -= 1
            placed = self._place_at(span, found, spans[1:], window[1])
            if placed is not None or self.budget <= 0:
                return placed
        return None

    def _place_at(
        self, span: Span, found: tuple[int, int], rest: tuple[Span, ...], end: int
    ) -> tuple[_Placed, ...] | None:
        """`span` at `found`, its children inside, then the spans after it."""
        children = self.place(span.children, found, (span.start, found[0]))
        if children is None:
            return None
        after = self.place(rest, (found[1], end), (span.start + len(span.inner), found[1]))
        return None if after is None else (_Placed(span.number, *found, children), *after)


def _candidates(
    texts: list[str], whole: str, window: tuple[int, int], expected: int
) -> list[tuple[int, int]]:
    """Up to CHOICES places of the first of `texts` found in `whole[window]`,
    nearest `expected` first: exact first, then ignoring case and white space.
    White space goes over white space; no text (or white space where there is
    none) to the nearest word edge."""
    for pattern in [p for text in texts for p in _patterns(text)]:
        matches = [m.span() for m in pattern.finditer(whole, *window)
                   if _bounded(whole, *m.span())]
        if matches:
            return sorted(matches, key=lambda span: abs(span[0] - expected))[:CHOICES]
    if any(text.strip() for text in texts):
        return []
    spot = _word_edge(whole, window, expected)
    return [(spot, spot)]


def _patterns(text: str) -> list[re.Pattern[str]]:
    if not text.strip():
        return [re.compile(r"\s+")] if text else []
    loose = r"\s+".join(map(re.escape, text.split()))
    return [re.compile(re.escape(text)), re.compile(loose, re.IGNORECASE)]


def _spaced(ch: str) -> bool:
    """Whether `ch` is a letter or digit of a script that spaces its words."""
    return ch.isalnum() and ord(ch) < 0x2E80


def _bounded(text: str, start: int, end: int) -> bool:
    """Whether `text[start:end]` neither starts nor ends inside a word."""
    cuts_start = 0 < start < len(text) and _spaced(text[start - 1]) and _spaced(text[start])
    cuts_end = 0 < end < len(text) and _spaced(text[end - 1]) and _spaced(text[end])
    return not (cuts_start or cuts_end)


def _word_edge(text: str, window: tuple[int, int], expected: int) -> int:
    """The position in `window` nearest `expected` that is not inside a word."""
    spots = [p for p in range(window[0], window[1] + 1) if _bounded(text, p, p)]
    return min(spots, key=lambda p: abs(p - expected)) if spots else expected


def _render(placed: tuple[_Placed, ...], whole: str, start: int, end: int) -> str:
    """`whole[start:end]` with each placed span wrapped in its tags."""
    out, cursor = [], start
    for span in placed:
        out += [whole[cursor : span.start], f"<s{span.number}>",
                _render(span.children, whole, span.start, span.end), f"</s{span.number}>"]
        cursor = span.end
    return "".join(out) + whole[cursor:end]
