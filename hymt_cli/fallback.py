"""Answers for segments whose tagged answers were rejected twice.

Flow: pipeline → engines → validate → fallback → render. First the whole segment
is translated with the plain (tag-free) template and its tags are re-inserted
(`realign`): whole sentences, tags around the matching words. What cannot be
realigned is rebuilt as the last resort: each tag-free run between tags is
translated on its own and the tags are kept where they are, so the structure
always holds. All segments of a batch share each of the two engine rounds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from hymt_cli import realign
from hymt_cli.document import Segment
from hymt_cli.engines.base import Request
from hymt_cli.validate import clean_answer, plain_runs, strip_tags

Ask = Callable[[list[Request]], list[str]]
"""Translates requests, one answer each, in order (the pipeline's engine call)."""


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """A fallback answer and the path that made it."""

    text: str
    realigned: bool
    """True: whole-segment plain translation with tags re-inserted; False: rebuilt
    from runs translated one by one."""


def rebuild(items: Sequence[tuple[Segment, Request]], ask: Ask) -> list[Rebuilt]:
    """An answer for each (segment, request): realigned where possible, else per run."""
    texts = realigned(items, ask)
    left = [i for i, text in enumerate(texts) if text is None]
    for i, text in zip(left, by_runs([items[i] for i in left], ask)):
        texts[i] = text
    return [Rebuilt(text or "", i not in left) for i, text in enumerate(texts)]


def realigned(items: Sequence[tuple[Segment, Request]], ask: Ask) -> list[str | None]:
    """Whole-segment plain translations with their tags re-inserted; None where that fails."""
    plans = [realign.plan(segment, request) for segment, request in items]
    answers = ask_unique([r for p in plans if p is not None for r in p.requests], ask)
    return [realign.finish(p, answers) if p is not None else None for p in plans]


def by_runs(items: Sequence[tuple[Segment, Request]], ask: Ask) -> list[str]:
    """Each segment with its tag-free runs translated one by one, tags kept."""
    wanted = [_run_requests(segment, request) for segment, request in items]
    answers = ask_unique([r for runs in wanted for r in runs.values()], ask)
    return [_join_runs(segment, runs, answers)
            for (segment, _), runs in zip(items, wanted)]


def ask_unique(requests: list[Request], ask: Ask) -> dict[Request, str]:
    """The answer to each distinct request, each asked once."""
    unique = list(dict.fromkeys(requests))
    return dict(zip(unique, ask(unique))) if unique else {}


def _run_requests(segment: Segment, request: Request) -> dict[int, Request]:
    """A request per run worth translating (a letter, not inside a locked tag)."""
    runs = plain_runs(segment.text)
    return {i: replace(request, text=text.strip()) for i, (plain, text) in enumerate(runs)
            if plain and any(ch.isalpha() for ch in text)
            and not _in_locked(runs, i, segment)}


def _join_runs(segment: Segment, wanted: dict[int, Request], answers: dict[Request, str]) -> str:
    """The segment's text with each wanted run replaced by its translation."""
    pieces = [text for _, text in plain_runs(segment.text)]
    for i, request in wanted.items():
        run = pieces[i]
        lead, trail = run[: len(run) - len(run.lstrip())], run[len(run.rstrip()) :]
        text = strip_tags(clean_answer(answers[request], tagged=False)).strip()
        pieces[i] = lead + (text or run.strip()) + trail
    return "".join(pieces)


def _in_locked(runs: list[tuple[bool, str]], index: int, segment: Segment) -> bool:
    """Whether run `index` lies inside a content-locked tag (never translated)."""
    opener = runs[index - 1][1] if index else "</"
    return not opener.startswith("</") and segment.tag(int(opener[2:-1])).is_locked
