"""Keep translated emphasis emphasis: CommonMark's flanking rules, re-checked.

Whether `*`, `_` or `~` markers open or close depends on the characters beside
them. A translation changes those neighbours: `_x_` between CJK letters is no
longer emphasis, and `*` right after a letter and before `「` cannot open. For
each emphasis tag whose markers would no longer pair, `_` becomes `*` when that
flanks, and otherwise the tag is written as the HTML element it renders to, which
gives the same structure whatever surrounds it.
"""

from __future__ import annotations

import unicodedata

from hymt_cli.document import RenderedPart, Segment

EMPHASIS_KINDS = {"em": "em", "strong": "strong", "s": "s"}
"""Tag kind -> the HTML element markdown-it renders it as."""


def _is_space(ch: str) -> bool:
    return ch == "" or ch.isspace()


def _is_punct(ch: str) -> bool:
    return ch != "" and unicodedata.category(ch)[0] in "PS"


def left_flanking(before: str, after: str) -> bool:
    """CommonMark: a delimiter run followed by these characters is left-flanking."""
    return not _is_space(after) and (
        not _is_punct(after) or _is_space(before) or _is_punct(before))


def right_flanking(before: str, after: str) -> bool:
    """CommonMark: a delimiter run preceded by these characters is right-flanking."""
    return not _is_space(before) and (
        not _is_punct(before) or _is_space(after) or _is_punct(after))


def can_open(marker: str, before: str, after: str) -> bool:
    """Whether a run of `marker` between `before` and `after` can open emphasis."""
    left = left_flanking(before, after)
    if marker == "_":
        return left and (not right_flanking(before, after) or _is_punct(before))
    return left


def can_close(marker: str, before: str, after: str) -> bool:
    """Whether a run of `marker` between `before` and `after` can close emphasis."""
    right = right_flanking(before, after)
    if marker == "_":
        return right and (not left_flanking(before, after) or _is_punct(after))
    return right


def finish_emphasis(segment: Segment, parts: list[RenderedPart]) -> str:
    """Join rendered parts, re-marking emphasis whose markers would not pair."""
    texts = [text for _, _, text in parts]
    tags = _emphasis_tags(segment)
    openers = [i for number, _ in tags if (i := _index(parts, "open", number)) is not None]
    for number, kind in tags:
        opener = _index(parts, "open", number)
        closer = _index(parts, "close", number)
        if opener is None or closer is None:
            continue
        marker = texts[opener][:1]
        for choice in _choices(marker, texts[opener], texts[closer]):
            texts[opener], texts[closer] = choice
            # with other runs of the same marker about (as written now: `_` may
            # have become `*`), a run that could both open and close may pair
            # with one of them instead
            strict = sum(texts[i][:1] == choice[0][:1] for i in openers) > 1
            if _pairs(texts, opener, closer, strict):
                break
        else:
            element = EMPHASIS_KINDS[kind]
            # a closing run longer than the opening one holds literal markers
            extra = texts[closer][len(texts[opener]):]
            texts[opener] = f"<{element}>"
            texts[closer] = f"</{element}>{extra}"
    return "".join(texts)


def _emphasis_tags(segment: Segment) -> list[tuple[int, str]]:
    return [(tag.id, tag.kind) for tag in segment.tags
            if tag.kind in EMPHASIS_KINDS and isinstance(tag.open, str)
            and tag.open and set(tag.open) <= set("*_~")]


def _index(parts: list[RenderedPart], role: str, number: int) -> int | None:
    return next((i for i, (r, n, _) in enumerate(parts) if r == role and n == number),
                None)


def _choices(marker: str, opening: str, closing: str) -> list[tuple[str, str]]:
    choices = [(opening, closing)]
    if marker == "_":
        choices.append((opening.replace("_", "*"), closing.replace("_", "*")))
    return choices


def _pairs(texts: list[str], opener: int, closer: int, strict: bool) -> bool:
    """Whether the markers at parts `opener` and `closer` open and close (and, when
    `strict`, only open and only close)."""
    marker = texts[opener][0]
    before_open, after_open = _before(texts, opener), _after(texts, opener)
    before_close, after_close = _before(texts, closer), _after(texts, closer)
    if marker in (before_open, after_close) or not "".join(texts[opener + 1 : closer]):
        return False  # touching runs merge; markers around nothing are text
    if not (can_open(marker, before_open, after_open)
            and can_close(marker, before_close, after_close)):
        return False
    both = (can_close(marker, before_open, after_open)
            or can_open(marker, before_close, after_close))
    if both and _rule_of_three(len(texts[opener]), len(texts[closer])):
        return False
    return not strict or not both


def _rule_of_three(opening: int, closing: int) -> bool:
    """CommonMark: when either run can both open and close, runs whose lengths add
    up to a multiple of 3 do not pair (unless both lengths are multiples of 3)."""
    return (opening + closing) % 3 == 0 and not (opening % 3 == 0 and closing % 3 == 0)


def _before(texts: list[str], index: int) -> str:
    joined = "".join(texts[:index])
    return joined[-1:] if joined else ""


def _after(texts: list[str], index: int) -> str:
    joined = "".join(texts[index + 1 :])
    return joined[:1]
