"""What a run reports: one `Outcome` per input and target, and the `Summary`.

Planning (`plan`) reports inputs that fail before any work; the run stage (`run`)
reports each output as it is written, checked or counted; `progress` shows them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from hymt_cli.fileio import InputError
from hymt_cli.pipeline import Report


class Mode(StrEnum):
    """What a run does: translate and write, compare outputs with memory, or count."""

    TRANSLATE = "translate"
    CHECK = "check"
    DRY_RUN = "dry-run"


class Status(StrEnum):
    """What happened to one output."""

    WROTE = "wrote"
    UNCHANGED = "unchanged"
    """The file already held exactly this translation; it was not rewritten."""
    STDOUT = "stdout"
    FAILED = "failed"
    CURRENT = "current"
    """--check: the file equals what the memory renders."""
    STALE = "stale"
    MISSING = "missing"
    PLANNED = "planned"
    """--dry-run: counted, not translated."""


BAD = frozenset({Status.FAILED, Status.STALE, Status.MISSING})
"""Statuses that make a run exit 1."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one input for one target."""

    name: str
    """The input as messages name it."""
    status: Status
    """wrote, unchanged, stdout, failed; current, stale, missing (--check);
    planned (--dry-run)."""
    output: str = ""
    """Where the translation goes (empty for stdout and failures)."""
    report: Report | None = None
    error: InputError | None = None
    """Why it failed (status failed)."""
    cause: BaseException | None = None
    """The exception behind an unexpected failure, for `--debug`."""
    target: str = ""
    """The target language code ('' when the input failed before that)."""
    pending: int = 0
    """Segments not in the memory (--dry-run, --check)."""
    tokens: int = 0
    """Approximate source tokens of the pending segments."""


@dataclass(slots=True)
class Summary:
    """The outcomes of a run, in the order they happened."""

    outcomes: list[Outcome] = field(default_factory=list)
    elapsed: float = 0.0
    """Seconds the run took."""
    pruned: list[str] = field(default_factory=list)
    """Outputs deleted (or, in a dry run, that would be) by --prune."""
    mode: Mode = Mode.TRANSLATE

    @property
    def failed(self) -> int:
        """How many outcomes are failures (stale or missing ones in --check)."""
        return sum(o.status in BAD for o in self.outcomes)

    def counts(self) -> Counter[Status]:
        """Outcomes per status."""
        return Counter(o.status for o in self.outcomes)


class Watcher(Protocol):
    """Receives a run's progress (see `hymt_cli.progress`)."""

    def start(self, files: int, segments: int) -> None:
        """The run knows its work: outputs to make and segments in them."""

    def advance(self, segments: int, tokens: int) -> None:
        """The engine answered `segments` segments of about `tokens` tokens."""

    def generating(self, tokens: int) -> None:
        """The engine generated `tokens` more tokens (during a batch)."""

    def stop(self) -> None:
        """The run's work is over (also on errors): stop any clock; idempotent."""

    def outcome(self, outcome: Outcome) -> None:
        """One output is done (or failed)."""

    def note(self, text: str) -> None:
        """A line worth showing (e.g. an output pruned)."""
