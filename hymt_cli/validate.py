"""Check an engine's answer against its segment: every tag exactly once, nested.

Answers that fail are not written as they are: the caller retries or falls back,
so the document structure is always intact.
"""

from __future__ import annotations

from dataclasses import dataclass

from hymt_cli.document import TAG_RE, Segment


@dataclass(frozen=True, slots=True)
class Checked:
    """An answer after validation."""

    text: str
    """The text to render: the answer, cleaned, or the source on fallback."""
    problem: str | None = None
    """Why the answer was rejected, or None when it was accepted."""

    @property
    def ok(self) -> bool:
        """Whether the answer was accepted."""
        return self.problem is None


def tag_problem(segment: Segment, answer: str) -> str | None:
    """What is wrong with the tags of `answer`, or None when they are exact."""
    expected = {tag.id for tag in segment.tags}
    seen: set[int] = set()
    stack: list[int] = []
    for match in TAG_RE.finditer(answer):
        closing, number = match.group(1) == "/", int(match.group(2))
        if number not in expected:
            return f"unknown tag s{number}"
        if not closing:
            if number in seen:
                return f"tag s{number} appears twice"
            seen.add(number)
            stack.append(number)
        elif not stack or stack.pop() != number:
            return f"tag s{number} closed out of order"
    if stack:
        return f"tag s{stack[-1]} left open"
    if missing := expected - seen:
        return f"tag s{min(missing)} missing"
    return None


def check(segment: Segment, answer: str) -> Checked:
    """Accept `answer` for `segment`, or fall back to the source text."""
    cleaned = answer.strip()
    problem = tag_problem(segment, cleaned)
    if problem is None and not cleaned and segment.text.strip():
        problem = "empty answer"
    if problem is not None:
        return Checked(segment.text, problem)
    return Checked(cleaned)
