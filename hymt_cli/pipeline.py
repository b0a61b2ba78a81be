"""Documents in, translated documents out: batching, validation, reassembly."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from hymt_cli.document import Document, Segment
from hymt_cli.engines.base import Engine, Request
from hymt_cli.languages import Language
from hymt_cli.validate import check

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
    fallbacks: int = 0
    """Segments kept in the source language because every answer was rejected."""
    problems: list[str] = field(default_factory=list)
    """One line per rejected answer: segment id and why."""


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
        answers = engine.translate_batch([_request(job, s) for s in batch])
        _accept(batch, answers, translations, report)
    return job.document.render(translations), report


def _request(job: Job, segment: Segment) -> Request:
    return Request(segment.text, job.target, job.source, kind=segment.kind)


def _accept(
    batch: list[Segment],
    answers: list[str],
    translations: dict[str, str],
    report: Report,
) -> None:
    if len(answers) != len(batch):
        raise RuntimeError(f"engine returned {len(answers)} answers for {len(batch)}")
    for segment, answer in zip(batch, answers):
        checked = check(segment, answer)
        if not checked.ok:
            report.fallbacks += 1
            report.problems.append(f"{segment.id}: {checked.problem}")
        elif checked.text != segment.text:
            report.translated += 1
        translations[segment.id] = checked.text


