"""Documents in, translated documents out: batching, validation, reassembly.

Each answer is repaired and checked; a rejected one is retried once, then the
segment falls back to translating its tag-free runs one by one and rebuilding
the markup around them, so a document's structure never depends on the engine.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from hymt_cli.document import Document, Segment
from hymt_cli.engines.base import Engine, Request
from hymt_cli.languages import Language
from hymt_cli.validate import plain_runs, repair, strip_tags

log = logging.getLogger(__name__)

TARGET_KINDS = frozenset({"lang", "dir"})
"""Segment kinds set from the target language, never sent to an engine."""


@dataclass(frozen=True, slots=True)
class Job:
    """One document to translate, with what its prompts need."""

    name: str
    """How reports name it: a path, or `-` for stdin."""
    document: Document
    target: Language
    source: Language | None = None


@dataclass(slots=True)
class Report:
    """What happened to one document."""

    name: str
    segments: int = 0
    """Segments in the document (target-set ones excluded)."""
    translated: int = 0
    """Segments whose accepted answer differs from the source."""
    repairs: int = 0
    """Answers accepted after a repair (wrapper, notes, tag spelling...)."""
    retries: int = 0
    """Segments asked again after a rejected answer."""
    fallbacks: int = 0
    """Segments rebuilt from separately translated tag-free runs."""
    problems: list[str] = field(default_factory=list)
    """One line per rejected answer or repair: segment id and what happened."""


def target_value(segment: Segment, target: Language) -> str:
    """The value a target-set segment takes: the language code, or the direction."""
    if segment.kind == "lang":
        return target.code
    if segment.kind == "dir":
        return "rtl" if target.rtl else ("ltr" if segment.source else "")
    raise ValueError(f"segment kind {segment.kind!r} is not set from the target")


def translate(
    jobs: Iterable[Job], engine: Engine, batch_size: int = 16
) -> Iterator[tuple[Job, str, Report]]:
    """Translate each job's document, yielding each as soon as it is done."""
    for job in jobs:
        text, report = translate_document(job, engine, batch_size)
        yield job, text, report


def translate_document(
    job: Job, engine: Engine, batch_size: int = 16
) -> tuple[str, Report]:
    """Translate one document; the rendered text and a report."""
    report = Report(job.name)
    translations: dict[str, str] = {}
    pending: list[Segment] = []
    for segment in job.document.segments():
        if segment.kind in TARGET_KINDS:
            translations[segment.id] = target_value(segment, job.target)
        else:
            pending.append(segment)
    report.segments = len(pending)
    for start in range(0, len(pending), batch_size):
        batch = pending[start : start + batch_size]
        translations.update(_translate_batch(job, batch, engine, report))
    return job.document.render(translations), report


def _translate_batch(
    job: Job, batch: list[Segment], engine: Engine, report: Report
) -> dict[str, str]:
    done: dict[str, str] = {}
    todo = batch
    for attempt in (0, 1):
        answers = _ask(engine, [_request(job, s, attempt) for s in todo])
        rejected = []
        for segment, answer in zip(todo, answers):
            checked = repair(segment, answer)
            if checked.ok:
                done[segment.id] = checked.text
                report.repairs += bool(checked.repairs)
                if checked.repairs:
                    report.problems.append(
                        f"{segment.id}: repaired ({', '.join(checked.repairs)})"
                    )
            else:
                report.problems.append(f"{segment.id}: rejected ({checked.problem})")
                rejected.append(segment)
        if not rejected:
            break
        todo = rejected
        report.retries += len(rejected) * (attempt == 0)
    for segment in rejected:
        done[segment.id] = _fallback(job, segment, engine)
        report.fallbacks += 1
    report.translated += sum(done[s.id] != s.text for s in batch)
    return done


def _ask(engine: Engine, requests: list[Request]) -> list[str]:
    answers = engine.translate_batch(requests)
    if len(answers) != len(requests):
        raise RuntimeError(
            f"engine {engine.name} returned {len(answers)} answers for {len(requests)}"
        )
    return answers


def _request(job: Job, segment: Segment, attempt: int = 0) -> Request:
    return Request(segment.text, job.target, job.source, kind=segment.kind,
                   attempt=attempt)


def _fallback(job: Job, segment: Segment, engine: Engine) -> str:
    """Translate the plain runs between tags separately and keep the tags as they are."""
    runs = plain_runs(segment.text)
    wanted = [i for i, (plain, text) in enumerate(runs)
              if plain and any(ch.isalpha() for ch in text) and not _in_locked(runs, i, segment)]
    base = _request(job, segment)
    requests = [replace(base, text=runs[i][1].strip()) for i in wanted]
    answers = _ask(engine, requests) if requests else []
    pieces = [text for _, text in runs]
    for i, answer in zip(wanted, answers):
        run = runs[i][1]
        lead, trail = run[: len(run) - len(run.lstrip())], run[len(run.rstrip()) :]
        cleaned = strip_tags(answer).strip()
        pieces[i] = lead + (cleaned or run.strip()) + trail
    return "".join(pieces)


def _in_locked(runs: list[tuple[bool, str]], index: int, segment: Segment) -> bool:
    """Whether run `index` lies inside a content-locked tag (never translated)."""
    if index == 0:
        return False
    opener = runs[index - 1][1]
    if opener.startswith("</"):
        return False
    number = int(opener[2:-1])
    return segment.tag(number).is_locked
