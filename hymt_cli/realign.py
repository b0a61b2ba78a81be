"""Put a segment's tags back into a plain translation of the whole segment.

Flow: pipeline → engines → validate → fallback → render. When a segment's tagged
answers are rejected twice, `fallback` asks for the segment without its tags
(plain template, one sentence) and for the text inside each tag pair on its own;
here each translated inner text is found in the whole translation, in order and
without overlap (nested pairs inside their outer pair's span), and wrapped in its
tags. Content-locked tags keep the text they show; a line break between words
is shown as a space and put over the white space nearest its proportional
position, and another empty pair goes to the word edge nearest it. When any pair cannot be placed, `finish` gives up (None)
and the segment is rebuilt from its runs instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from hymt_cli.document import TAG_RE, Segment, Tag, markup_source
from hymt_cli.engines.base import Request
from hymt_cli.validate import clean_answer, plain_runs, repair, strip_tags


@dataclass(frozen=True, slots=True)
class Span:
    """One tag pair of a segment, located in the segment's plain text."""

    number: int
    start: int
    """Offset of the inner text in the plain text."""
    inner: str
    """The plain text inside the pair (nested tags removed, locked text kept)."""
    translated: bool
    """Whether the inner text is sent to the engine (unlocked, holds a letter)."""
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
    """The plain request for each translated span, by tag number."""

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
             for s in _walk(spans) if s.translated}
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
            translated = not tag.is_locked and _has_letter(inner)
            stack[-1][2].append(Span(number, start, inner, translated, tuple(children)))
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
    placed = _place(plan.spans, wanted, whole, (0, len(whole)), _scale(plan, whole))
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


def _wanted(span: Span, plan: Plan, answers: Mapping[Request, str]) -> str:
    """The text to find for `span`: its translation (trimmed) or its own text;
    a space for a pair holding only white space (a line break between words)."""
    source = span.inner.strip()
    if not span.translated:
        return source or span.inner[:1]
    return _trim(_clean(answers[plan.inner[span.number]]), source) or source


def _trim(text: str, source: str) -> str:
    """`text` without the punctuation an engine adds around a short phrase (a full
    stop, quotes, the pseudo engine's brackets) when `source` has none there."""
    if source[:1].isalnum():
        text = re.sub(r"\A[\W_]+", "", text)
    if source[-1:].isalnum():
        text = re.sub(r"[\W_]+\Z", "", text)
    return text


def _scale(plan: Plan, whole: str) -> float:
    """Characters of the whole translation per character of plain source."""
    return len(whole) / max(1, len(plan.plain))


def _place(
    spans: tuple[Span, ...], wanted: Mapping[int, str], whole: str,
    window: tuple[int, int], scale: float,
) -> tuple[_Placed, ...] | None:
    """Find `spans` in `whole[window]`, in order, without overlap; None if one is lost."""
    cursor, end = window
    placed: list[_Placed] = []
    for span in spans:
        expected = min(max(cursor, round(span.start * scale)), end)
        found = _find(wanted[span.number], whole, (cursor, end), expected)
        if found is None:
            return None
        children = _place(span.children, wanted, whole, found, scale)
        if children is None:
            return None
        placed.append(_Placed(span.number, *found, children))
        cursor = found[1]
    return tuple(placed)


def _find(
    text: str, whole: str, window: tuple[int, int], expected: int
) -> tuple[int, int] | None:
    """Where `text` stands in `whole[window]`, nearest `expected`: exact first, then
    ignoring case and white space. White space goes over the nearest white space,
    an empty `text` (or white space where there is none) to the nearest word edge."""
    patterns = _patterns(text) if text.strip() else [re.compile(r"\s+")] * bool(text)
    for pattern in patterns:
        matches = [m.span() for m in pattern.finditer(whole, *window)
                   if _bounded(whole, *m.span())]
        if matches:
            return min(matches, key=lambda span: abs(span[0] - expected))
    if text.strip():
        return None
    spot = _word_edge(whole, window, expected)
    return spot, spot


def _patterns(text: str) -> list[re.Pattern[str]]:
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
