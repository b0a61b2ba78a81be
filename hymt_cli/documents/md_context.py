"""Minimal escaping: translated text is escaped only where, beside its neighbours
in the rendered segment, a character would start or close Markdown structure.

The segment's `finish` step sees every rendered part, so each rule looks at the
joined output (`Scan`): text parts may be escaped, markup parts stay as written.
A character at the segment's edge is judged as if space lay beyond it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass, field

from markdown_it.common.entities import entities
from markdown_it.common.utils import normalizeReference

from hymt_cli.document import RenderedPart, Segment
from hymt_cli.documents.md_emphasis import can_close, can_open, finish_emphasis

_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_ENTITY = re.compile(r"&(#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{0,31};)")
_TAG_START = re.compile(r"<[A-Za-z/!?]")
_LINE_START = [
    (re.compile(r"#{1,6}(?=[ \t]|$)"), 0),
    (re.compile(r"[-+*>](?=[ \t]|$)|>"), 0),
    (re.compile(r"([-*_])(?:[ \t]*\1){2,}[ \t]*$"), 0),
    (re.compile(r"(?:=+|-+)[ \t]*$"), 0),
    (re.compile(r"`{3,}|~{3,}|!!!|\?\?\?|<[A-Za-z/!?]|\[[^\]]*\]:"), 0),
    (re.compile(r":(?=[ \t]|$)|:::|\*\["), 0),
    (re.compile(r"\d{1,9}(?=[.)](?:[ \t]|$))"), -1),
]
"""Line starts that open a block: pattern, and which character to escape
(0: the first; -1: the one right after the match)."""


@dataclass(frozen=True)
class Rules:
    """What a segment's spot in the document asks of its escaping."""

    line_start: bool = True
    """The segment starts a line of block content (not a heading's or cell's text)."""
    cell: bool = False
    """A table cell: `|` ends it."""
    atx: bool = False
    """An ATX heading: trailing `#`s would close it."""
    math: bool = False
    """`\\[` starts display math: brackets become entities."""
    mdx: bool = False
    """`{`, `}` and `<` start JavaScript or JSX."""
    tilde: bool = False
    """A single `~` marks subscript (pymdownx.tilde)."""
    brackets: bool = False
    """Skeleton brackets surround the segment (a container's `[title]`): escape all."""
    references: Container[str] = field(default_factory=frozenset)
    """Normalised labels of the document's link reference definitions."""


@dataclass
class Scan:
    """The joined rendered output of one segment, and what may be escaped in it."""

    whole: str
    text: list[bool]
    """Per character: it comes from translated text (may be escaped)."""
    locked: list[bool]
    """Per character: it lies in locked markup (code, HTML...), not inline text."""
    rules: Rules
    marks: set[int] = field(default_factory=set)

    def at(self, index: int) -> str:
        """The character at `index`, or "" beyond the segment."""
        return self.whole[index] if 0 <= index < len(self.whole) else ""


def markdown_finish(rules: Rules) -> Callable[[Segment, list[RenderedPart]], str]:
    """A `finish` step escaping the text parts in context, then re-marking emphasis."""

    def finish(segment: Segment, parts: list[RenderedPart]) -> str:
        return finish_emphasis(segment, escape_parts(parts, rules))

    return finish


def escape_parts(parts: list[RenderedPart], rules: Rules) -> list[RenderedPart]:
    """`parts` with the text parts escaped where their neighbours require it."""
    scan = _scan(parts, rules)
    for rule in _RULES:
        rule(scan)
    out: list[RenderedPart] = []
    pos = 0
    for role, number, text in parts:
        end = pos + len(text)
        if role == "text":
            text = "".join(_mark(scan, i) for i in range(pos, end))
        out.append((role, number, text))
        pos = end
    return out


def _scan(parts: list[RenderedPart], rules: Rules) -> Scan:
    text: list[bool] = []
    locked: list[bool] = []
    for role, _, part in parts:
        text += [role == "text"] * len(part)
        locked += [role == "locked"] * len(part)
    return Scan("".join(p for _, _, p in parts), text, locked, rules)


def _mark(scan: Scan, index: int) -> str:
    ch = scan.whole[index]
    if index not in scan.marks:
        return ch
    if scan.rules.math and ch in "[]":
        return "&#91;" if ch == "[" else "&#93;"
    return "\\" + ch


def _texts(scan: Scan, chars: str) -> Iterator[int]:
    return (i for i, ch in enumerate(scan.whole) if ch in chars and scan.text[i])


# -- rules ----------------------------------------------------------------------


def _backslashes(scan: Scan) -> None:
    """`\\` escapes the punctuation after it (or, in a cell, the `|` beyond it)."""
    for i in _texts(scan, "\\"):
        after = scan.at(i + 1)
        if after in _PUNCT or after == "\n" or (after == "" and not scan.rules.line_start):
            scan.marks.add(i)


def _entities(scan: Scan) -> None:
    """`&` before a character reference."""
    for i in _texts(scan, "&"):
        match = _ENTITY.match(scan.whole, i)
        if match and (match.group(1)[0] == "#" or match.group(1)[:-1] in entities):
            scan.marks.add(i)


def _angles(scan: Scan) -> None:
    """`<` that could start inline HTML or an autolink (in MDX: any `<`)."""
    for i in _texts(scan, "<"):
        if scan.rules.mdx or (_TAG_START.match(scan.whole, i)
                              and ">" in scan.whole[i + 1 :]):
            scan.marks.add(i)


def _singles(scan: Scan) -> None:
    """`!` before `[`; `|` in a cell; `{`, `}` in MDX."""
    chars = "|" * scan.rules.cell + "{}" * scan.rules.mdx
    for i in _texts(scan, "!" + chars):
        if scan.whole[i] != "!" or scan.at(i + 1) == "[":
            scan.marks.add(i)


def _runs(scan: Scan, ch: str) -> list[tuple[int, int]]:
    """Maximal runs of `ch` outside locked markup: (start, end)."""
    runs: list[tuple[int, int]] = []
    for match in re.finditer(re.escape(ch) + "+", scan.whole):
        start = match.start()
        for i in range(match.start(), match.end() + 1):
            if i == match.end() or scan.locked[i]:
                if i > start:
                    runs.append((start, i))
                start = i + 1
    return runs


def _delimiters(scan: Scan) -> None:
    """`*`, `_`, `~` runs that could open or close emphasis (strikethrough) with
    another run in the segment; a text run touching markup always."""
    for ch in "*_~":
        runs = _runs(scan, ch)
        if ch == "*":
            runs += [r for r in _runs(scan, "_") if not any(scan.text[r[0]:r[1]])]
        flanks = [_flanks(scan, ch, run) for run in runs]
        for n, (start, end) in enumerate(runs):
            if scan.whole[start] != ch or not any(scan.text[start:end]):
                continue
            if _delimiter_needs(scan, n, runs, flanks):
                scan.marks.update(i for i in range(start, end) if scan.text[i])


def _flanks(scan: Scan, ch: str, run: tuple[int, int]) -> tuple[bool, bool]:
    start, end = run
    if ch == "~" and end - start == 1 and not scan.rules.tilde:
        return False, False
    before, after = scan.at(start - 1), scan.at(end)
    marker = "*" if ch == "~" else ch
    return can_open(marker, before, after), can_close(marker, before, after)


def _delimiter_needs(scan: Scan, n: int, runs: list[tuple[int, int]],
                     flanks: list[tuple[bool, bool]]) -> bool:
    start, end = runs[n]
    if not all(scan.text[start:end]):
        return True
    opens, closes = flanks[n]
    later = any(flanks[k][1] for k, run in enumerate(runs) if run[0] > start)
    earlier = any(flanks[k][0] for k, run in enumerate(runs) if run[0] < start)
    return (opens and later) or (closes and earlier)


def _backticks(scan: Scan) -> None:
    """A backtick run that another run of its length could close (or open)."""
    runs = [m.span() for m in re.finditer("`+", scan.whole)]
    for start, end in runs:
        if not any(scan.text[start:end]):
            continue
        mixed = not all(scan.text[start:end])
        twin = any(e - s == end - start for s, e in runs if s != start)
        if mixed or twin:
            scan.marks.update(i for i in range(start, end) if scan.text[i])


def _brackets(scan: Scan) -> None:
    """Brackets that pair with link markup, or pair as a link or reference."""
    for opener, closer in _bracket_pairs(scan):
        if (opener is None or closer is None) and not scan.rules.brackets:
            continue
        if opener is None or closer is None:
            scan.marks.update(i for i in (opener, closer) if i is not None and scan.text[i])
            continue
        both = (opener, closer)
        if not (scan.text[opener] and scan.text[closer]) or _links(scan, opener, closer):
            scan.marks.update(i for i in both if scan.text[i])


def _bracket_pairs(scan: Scan) -> list[tuple[int | None, int | None]]:
    stack: list[int] = []
    pairs: list[tuple[int | None, int | None]] = []
    for i, ch in enumerate(scan.whole):
        if ch not in "[]" or scan.locked[i]:
            continue
        if ch == "[":
            stack.append(i)
        else:
            pairs.append((stack.pop() if stack else None, i))
    return pairs + [(i, None) for i in stack]


def _links(scan: Scan, opener: int, closer: int) -> bool:
    label = scan.whole[opener + 1 : closer]
    if scan.rules.brackets or any(scan.locked[opener:closer]):
        return True  # a locked template may render as anything
    if scan.at(closer + 1) in ("(", "[") or label.startswith("^"):
        return True
    return normalizeReference(label) in scan.rules.references


def _line_starts(scan: Scan) -> None:
    """The first character of a line, where it would open a block."""
    starts = [0] if scan.rules.line_start else []
    starts += [m.end() for m in re.finditer(r"\n[ \t]*", scan.whole)]
    for start in starts:
        line = scan.whole[start : scan.whole.find("\n", start) % (len(scan.whole) + 1)]
        for pattern, which in _LINE_START:
            match = pattern.match(line)
            if match is not None:
                index = start + (match.end() if which == -1 else 0)
                if index < len(scan.whole) and scan.text[index]:
                    scan.marks.update(_run_from(scan, index))
                break


def _run_from(scan: Scan, index: int) -> Iterator[int]:
    """`index`, and for a fence character the text rest of its run (an escaped
    first backtick leaves a shorter run that could still open a code span)."""
    ch = scan.whole[index]
    yield index
    while ch in "`~" and scan.at(index + 1) == ch and scan.text[index + 1]:
        index += 1
        yield index


_CLOSING_HASHES = re.compile(r"(?:^|(?<=[ \t]))#+[ \t]*$")


def _closing_hashes(scan: Scan) -> None:
    """Trailing `#`s after a space would close an ATX heading."""
    match = _CLOSING_HASHES.search(scan.whole) if scan.rules.atx else None
    if match is not None and scan.text[match.start()]:
        scan.marks.add(match.start())


_RULES: tuple[Callable[[Scan], None], ...] = (
    _backslashes, _entities, _angles, _singles, _delimiters, _backticks,
    _brackets, _line_starts, _closing_hashes,
)
