"""Documents in, translated documents out: context, glossary, batching, validation.

Segments of consecutive documents share batches (the engine orders each batch by
length), and each document is yielded as soon as its last segment is done. Each
answer is repaired and checked; a rejected one is retried once, then the segment
falls back (`fallback`): translated whole without its tags, which are put back
around the matching words, or as the last resort its tag-free runs one by one
with the markup rebuilt around them, so a document's structure never depends on
the engine. An answer with good tags still meets the gates (`gates.reject`:
context echo, script, repetition, length); one that fails them even after the
fallback keeps its source text (with `strict`, the document is not written and
the answer is not stored, so a rerun asks again).
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace

from hymt_cli import fallback
from hymt_cli.document import TAG_RE, Document, Segment
from hymt_cli.engines.base import DEFAULT_BATCH_SIZE, Engine, PartialAnswers, Request
from hymt_cli.gates import UNCHANGED_ENGINES, Rejection, reject, unchanged
from hymt_cli.glossary import Glossary, misses, searchable_text
from hymt_cli.languages import Language
from hymt_cli.memory import TranslationMemory, request_entry, request_key
from hymt_cli.prompts import TEMPLATE_VERSION
from hymt_cli.settings import default
from hymt_cli.splitting import split_text
from hymt_cli.render import Digests, render_checked
from hymt_cli.validate import repair, strip_tags

log = logging.getLogger(__name__)

TARGET_KINDS = frozenset({"lang", "dir"})
"""Segment kinds set from the target language, never sent to an engine."""

NO_CONTEXT_KINDS = frozenset({
    "alt", "title", "placeholder", "aria-label", "page_title", "meta_description",
    "og_title", "og_description", "twitter_title", "twitter_description",
    "front_matter",
})
"""Segment kinds that neither get nor give sliding-window context."""


@dataclass(frozen=True, slots=True)
class Job:
    """One document to translate, with what its prompts need."""

    name: str
    """How reports name it: a path, or `-` for stdin."""
    document: Document
    target: Language
    source: Language | None = None
    context: str = ""
    """Source text that precedes the document (a service request's `context`): it
    seeds the sliding context window, so the first segments get it as context,
    within `Settings.context_tokens` like any preceding text (0: none)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """How the pipeline feeds the engine."""

    batch_size: int | None = DEFAULT_BATCH_SIZE
    """Segments per engine call; None: the engine's own (`engine.batch_size`),
    asked only when a batch is sent, so a run the memory answers never sizes
    batches (for `hf` that imports torch)."""
    context_tokens: int = default("context_tokens")
    """Budget of preceding source text given as context (0: none)."""
    glossary: Glossary = Glossary()
    """Terms to enforce; each prompt gets only those its segment contains."""
    max_segment_tokens: int = default("max_segment_tokens")
    """Longer segments are split at sentence boundaries and rejoined (0: never)."""
    memory: TranslationMemory | None = None
    """Where accepted answers are looked up first and stored per batch."""
    gates: frozenset[str] = frozenset(default("gates"))
    """The gates answers must pass (`gates.GATES`); `untranslated` only reports."""
    check_structure: bool = True
    """Compare each rendered document's structure with its source's before it is
    yielded (`render_checked`); off, documents are rendered as answered."""
    strict: bool = default("strict")
    """A segment that fails a gate even after the fallback is not stored: its
    document fails now, and again on a rerun (without it, the source text it
    keeps is stored, so reruns and `--check` are stable)."""


@dataclass(slots=True)
class Report:
    """What happened to one document."""

    name: str
    segments: int = 0
    """Segments in the document (target-set ones excluded)."""
    translated: int = 0
    """Segments whose accepted answer differs from the source."""
    from_memory: int = 0
    """Segments (or pieces of split ones) answered by the translation memory."""
    repairs: int = 0
    """Answers accepted after a repair (wrapper, notes, tag spelling...)."""
    retries: int = 0
    """Segments asked again after a rejected answer."""
    realigned: int = 0
    """Segments translated whole without tags, the tags put back by alignment."""
    fallbacks: int = 0
    """Segments rebuilt from separately translated tag-free runs (the last resort)."""
    glossary_misses: list[str] = field(default_factory=list)
    """`segment id: source term -> target term` for each term missing in an answer."""
    problems: list[str] = field(default_factory=list)
    """One line per rejected answer or repair: segment id and what happened."""
    gate_rejections: Counter[str] = field(default_factory=Counter)
    """Answers rejected per gate (retries and fallback runs included)."""
    gate_failures: list[str] = field(default_factory=list)
    """`segment id: gate` for each segment that failed a gate even after the
    fallback; it keeps its source text (`strict`: the document fails)."""
    untranslated: int = 0
    """Prose segments (or pieces) the engine returned unchanged."""


@dataclass(slots=True)
class _Unit:
    """A segment, or one piece of a split one, on its way through the engine."""

    job_index: int
    segment: Segment
    request: Request
    answer: str | None = None
    whole: _Whole | None = None
    """For a piece of a split segment: the segment it belongs to."""
    repairs: int = 0
    """Repairs the accepted answer needed (a fallback counts as one more)."""
    rejection: Rejection | None = None
    """The latest gate rejection (an echo drops the context from the retry)."""
    failed: bool = False
    """Failed a gate even after the fallback: keeps its source text, not stored."""


@dataclass(slots=True)
class _Whole:
    """A split segment, collecting the answers of its pieces."""

    segment: Segment
    answers: list[str | None]


def target_value(segment: Segment, target: Language) -> str:
    """The value a target-set segment takes: the language code, or the direction."""
    if segment.kind == "lang":
        return target.code
    if segment.kind == "dir":
        return "rtl" if target.rtl else ("ltr" if segment.source else "")
    raise ValueError(f"segment kind {segment.kind!r} is not set from the target")


def translate(
    jobs: Iterable[Job],
    engine: Engine,
    settings: Settings = Settings(),
    batch_size: int | None = None,
) -> Iterator[tuple[Job, str, Report]]:
    """Translate each job's document, yielding each as soon as it is done."""
    if batch_size is not None:
        settings = replace(settings, batch_size=batch_size)
    run = _Run(engine, settings)
    for job in jobs:
        run.add(job)
        while run.fill() >= run.window:
            run.step()
            yield from run.finished()
        yield from run.finished()
    while run.fill():
        run.step()
        yield from run.finished()
    yield from run.finished()


def translate_document(
    job: Job, engine: Engine, settings: Settings = Settings(), batch_size: int | None = None
) -> tuple[str, Report]:
    """Translate one document; the rendered text and a report."""
    ((_, text, report),) = translate([job], engine, settings, batch_size)
    return text, report


class _Run:
    """The state of one `translate` call: queued units and unfinished documents."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine, self.settings = engine, settings
        self.jobs: dict[int, tuple[Job, Report, dict[str, str]]] = {}
        self.waiting: dict[int, int] = {}
        self.queue: list[_Unit] = []
        self.sources: deque[tuple[int, Iterator[_Unit]]] = deque()
        """Documents whose units are still to be made, oldest first."""
        self.digests: Digests = {}
        """Source structure digests by document (`render_checked`)."""
        self.size = settings.batch_size
        """Segments per engine call, once known (see `Settings.batch_size`)."""
        self.window = 4 * (self.size or DEFAULT_BATCH_SIZE)
        """Units queued at a time: four batches."""
        self.order: list[int] = []
        self.added = 0
        self.count_tokens = engine.count_tokens
        self.fingerprint = engine.fingerprint
        self.gates = settings.gates - (
            {"untranslated"} if engine.name in UNCHANGED_ENGINES else set())

    def add(self, job: Job) -> None:
        """Take `job` on; its segments are queued as `fill` asks for them."""
        index = self.added
        self.added += 1
        self.order.append(index)
        report, translations = Report(job.name), {}
        self.jobs[index] = (job, report, translations)
        report.segments = self.waiting[index] = sum(
            s.kind not in TARGET_KINDS for s in job.document.segments())
        self.sources.append((index, self._units(index, job, translations)))

    def fill(self) -> int:
        """Queue units until a window's worth waits for the engine (or none are
        left); units the memory answers are finished on the way. Units are made
        lazily, so a long document never holds all its requests at once."""
        while len(self.queue) < self.window and self.sources:
            index, units = self.sources[0]
            chunk = list(itertools.islice(units, self.window))
            if not chunk:
                self.sources.popleft()
                continue
            self.queue.extend(self._recall(chunk, self.jobs[index][1]))
        return len(self.queue)

    def _recall(self, units: list[_Unit], report: Report) -> list[_Unit]:
        """Finish the units the memory knows; return the others."""
        memory = self.settings.memory
        if memory is None or not units:
            return units
        keys = [self._key(u) for u in units]
        known = memory.lookup(keys)
        job = self.jobs[units[0].job_index][0]
        human = memory.lookup_imported(
            job.target.code, [u.segment.text for u in units],
            job.source.code if job.source else None)
        misses = []
        for unit, key in zip(units, keys):
            answer = known.get(key, human.get(unit.segment.text))
            checked = repair(unit.segment, answer) if answer is not None else None
            if checked is not None and checked.ok:
                unit.answer = checked.text
                report.from_memory += 1
                self._done(unit)
            else:
                misses.append(unit)
        return misses

    def _key(self, unit: _Unit) -> str:
        return request_key(unit.request, self.fingerprint, TEMPLATE_VERSION)

    def _units(self, index: int, job: Job, translations: dict[str, str]) -> Iterator[_Unit]:
        glossary = self.settings.glossary.for_languages(job.target, job.source)
        window = _Window(self.settings.context_tokens, self.count_tokens)
        window.push(job.context)
        for segment in job.document.segments():
            if segment.kind in TARGET_KINDS:
                translations[segment.id] = target_value(segment, job.target)
                continue
            context = "" if segment.kind in NO_CONTEXT_KINDS else window.text()
            yield from self._pieces(index, job, segment, context, glossary)
            if segment.kind not in NO_CONTEXT_KINDS:
                window.push(strip_tags(TAG_RE.sub("", segment.text)))

    def _pieces(
        self, index: int, job: Job, segment: Segment, context: str, glossary: Glossary
    ) -> Iterator[_Unit]:
        budget = self.settings.max_segment_tokens
        texts = split_text(segment.text, budget, self.count_tokens) if budget else []
        whole = _Whole(segment, [None] * len(texts)) if len(texts) > 1 else None
        parts = [_piece(segment, n, t) for n, t in enumerate(texts)] if whole else [segment]
        for part in parts:
            terms = glossary.find(searchable_text(part)) if glossary.terms else ()
            request = Request(part.text, job.target, job.source, context=context,
                              terms=terms, kind=segment.kind)
            yield _Unit(index, part, request, whole=whole)

    def step(self) -> None:
        """Translate up to four batches' worth of queued units."""
        size = self._batch_size()
        chunk = self.queue[: self.window]
        del self.queue[: len(chunk)]
        for start in range(0, len(chunk), size):
            self._translate(chunk[start : start + size])

    def _batch_size(self) -> int:
        """The batch size, asking the engine the first time when it is its own."""
        if self.size is None:
            self.size = max(1, self.engine.batch_size)
            self.window = 4 * self.size
        return self.size

    def _translate(self, batch: list[_Unit]) -> None:
        todo = batch
        for attempt in (0, 1):
            requests = [replace(_retried(u), attempt=attempt) for u in todo]
            try:
                answers = _ask(self.engine, requests)
            except PartialAnswers as failure:
                self._keep_answered(batch, todo, failure)
                raise
            for unit, answer in zip(todo, answers):
                self._accept(unit, answer)
            todo = [u for u in todo if u.answer is None]
            if not todo:
                break
            for unit in todo:
                self.jobs[unit.job_index][1].retries += attempt == 0
        self._fall_back(todo)
        self._remember([u for u in batch if not (u.failed and self.settings.strict)])
        for unit in batch:
            self._done(unit)

    def _keep_answered(
        self, batch: list[_Unit], todo: list[_Unit], failure: PartialAnswers
    ) -> None:
        """Before an engine failure ends the run: accept the answers the engine got
        and store every accepted one, so a rerun asks only for the rest."""
        if len(failure.answers) == len(todo):
            for unit, answer in zip(todo, failure.answers):
                if answer is not None:
                    self._accept(unit, answer)
        self._remember([u for u in batch if u.answer is not None])

    def _fall_back(self, units: list[_Unit]) -> None:
        """Answer the units still rejected: realigned, else rebuilt from runs."""
        rebuilt = fallback.rebuild([(u.segment, _last_try(u)) for u in units], self._ask)
        for unit, result in zip(units, rebuilt):
            report = self.jobs[unit.job_index][1]
            unit.answer, unit.repairs = self._gated(unit, result.text), unit.repairs + 1
            if result.realigned:
                report.realigned += 1
                report.problems.append(f"{unit.segment.id}: realigned (translated "
                                       "without tags, tags put back)")
            else:
                report.fallbacks += 1
                report.problems.append(f"{unit.segment.id}: fallback (runs between "
                                       "tags translated one by one)")

    def _ask(self, requests: list[Request]) -> list[str]:
        """Answers to any number of requests, a batch at a time."""
        size = self._batch_size()
        return [answer for start in range(0, len(requests), size)
                for answer in _ask(self.engine, requests[start : start + size])]

    def _remember(self, batch: list[_Unit]) -> None:
        """Store a batch's answers in one transaction: a killed run loses one batch."""
        if self.settings.memory is not None:
            self.settings.memory.store([
                request_entry(u.request, self.fingerprint, TEMPLATE_VERSION,
                              u.answer or "", u.repairs)
                for u in batch
            ])

    def _accept(self, unit: _Unit, answer: str) -> None:
        report = self.jobs[unit.job_index][1]
        checked = repair(unit.segment, answer)
        sid = unit.segment.id
        if not checked.ok:
            report.problems.append(f"{sid}: rejected ({checked.problem})")
            return
        if self._refused(unit, checked.text, report):
            return
        if checked.repairs:
            unit.repairs = len(checked.repairs)
            report.repairs += 1
            report.problems.append(f"{sid}: repaired ({', '.join(checked.repairs)})")
        if "untranslated" in self.gates and unchanged(unit.segment, checked.text):
            report.untranslated += 1
            report.problems.append(f"{sid}: returned unchanged (untranslated)")
        unit.answer = checked.text

    def _refused(self, unit: _Unit, answer: str, report: Report) -> bool:
        """Whether a gate rejects `answer` (counted, listed, kept on the unit)."""
        rejection = reject(unit.segment, unit.request, answer, self.gates,
                           self.engine.name)
        if rejection is None:
            return False
        unit.rejection = rejection
        report.gate_rejections[rejection.gate] += 1
        report.problems.append(f"{unit.segment.id}: rejected by the {rejection}")
        return True

    def _gated(self, unit: _Unit, answer: str) -> str:
        """The fallback's `answer`, or the source text when it still fails a gate."""
        report = self.jobs[unit.job_index][1]
        unit.rejection = None
        if not self._refused(unit, answer, report):
            return answer
        assert unit.rejection is not None
        sid, unit.failed = unit.segment.id, True
        report.gate_failures.append(f"{sid}: {unit.rejection.gate}")
        report.problems.append(f"{sid}: failed the {unit.rejection.gate} gate after "
                               "retry and fallback; the source text is kept")
        return unit.segment.text

    def _done(self, unit: _Unit) -> None:
        job, report, translations = self.jobs[unit.job_index]
        assert unit.answer is not None
        for source, target in misses(unit.answer, unit.request.terms):
            report.glossary_misses.append(f"{unit.segment.id}: {source} -> {target}")
        segment, answer = unit.segment, unit.answer
        if unit.whole is not None:
            unit.whole.answers[int(segment.id.rsplit(".", 1)[1])] = answer
            if any(a is None for a in unit.whole.answers):
                return
            segment, answer = unit.whole.segment, _join(unit.whole.answers)
        translations[segment.id] = answer
        report.translated += answer != segment.text
        self.waiting[unit.job_index] -= 1

    def finished(self) -> Iterator[tuple[Job, str, Report]]:
        """Documents whose segments are all done, in input order, rendered."""
        while self.order and self.waiting[self.order[0]] == 0:
            index = self.order.pop(0)
            job, report, translations = self.jobs.pop(index)
            if self.settings.check_structure:
                text, broken = render_checked(job.document, translations,
                                              self.digests)
                for sid in broken:
                    report.fallbacks += 1
                    report.problems.append(f"{sid}: its translation changed the "
                                           "document's structure; the source text "
                                           "is kept")
            else:
                text = job.document.render(translations)
            yield job, text, report


def _piece(segment: Segment, number: int, text: str) -> Segment:
    """Piece `number` of a split segment, holding only its own tags."""
    numbers = {int(m.group(2)) for m in TAG_RE.finditer(text)}
    tags = tuple(t for t in segment.tags if t.id in numbers)
    return replace(segment, id=f"{segment.id}.{number}", text=text, tags=tags)


def _join(answers: list[str | None]) -> str:
    """Rejoin the answers of a split segment's pieces, one space between them
    unless a piece already ends or starts with white space or is CJK."""
    out = ""
    for answer in answers:
        assert answer is not None
        if out and not out[-1].isspace() and ord(out[-1]) < 0x2E80:
            out += " "
        out += answer
    return out


class _Window:
    """The sliding window of preceding source text, trimmed to a token budget."""

    def __init__(self, budget: int, count: Callable[[str], int]) -> None:
        self.budget, self.count = budget, count
        self.texts: list[str] = []

    def push(self, text: str) -> None:
        """Add the plain text of a segment just queued."""
        if self.budget > 0 and text.strip():
            self.texts.append(" ".join(text.split()))

    def text(self) -> str:
        """The latest texts that fit the budget, oldest first, one per line."""
        kept: list[str] = []
        used = 0
        for text in reversed(self.texts):
            cost = self.count(text)
            if used + cost > self.budget:
                kept.append(_tail(text, self.budget - used, self.count))
                break
            kept.append(text)
            used += cost
        return "\n".join(reversed([k for k in kept if k]))


def _tail(text: str, budget: int, count: Callable[[str], int]) -> str:
    """The longest word-aligned end of `text` within `budget` tokens."""
    words = text.split(" ")
    lo, hi = 0, len(words)
    while lo < hi:
        mid = (lo + hi) // 2
        if count(" ".join(words[mid:])) <= budget:
            hi = mid
        else:
            lo = mid + 1
    return " ".join(words[lo:])


def _ask(engine: Engine, requests: list[Request]) -> list[str]:
    answers = engine.translate_batch(requests)
    if len(answers) != len(requests):
        raise RuntimeError(
            f"engine {engine.name} returned {len(answers)} answers for {len(requests)}"
        )
    return answers


def _retried(unit: _Unit) -> Request:
    """The unit's request, without its context after an echo of it."""
    echoed = unit.rejection is not None and unit.rejection.gate == "echo"
    return replace(unit.request, context="") if echoed else unit.request


def _last_try(unit: _Unit) -> Request:
    """The request the fallback works from: after a gate refused both tries,
    without an echoed context and sampled once more."""
    request = _retried(unit)
    return replace(request, attempt=2) if unit.rejection is not None else request
