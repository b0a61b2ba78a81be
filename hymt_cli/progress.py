"""Progress and diagnostics on stderr, and the machine-readable run summary.

`watcher()` picks a rich progress bar (files, segments, tokens/s, ETA) when stderr
is a terminal and `CI` is unset, and plain lines otherwise. Either prints one line
per output, warnings (per-segment problems only with `--verbose`), errors with
their hint, and a summary table at the end; `--quiet` keeps the errors only.

Progress runs on a clock, not only between engine batches: a daemon `Ticker`
refreshes the bar (or prints a plain line) while the engine works, from counts the
run's thread updates (engines report generated tokens per decode step). Only that
thread writes the counts; the ticker only reads them, so no lock guards them.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
import traceback
from typing import IO, Any

from hymt_cli.fileio import InputError, display_name
from hymt_cli.outcome import Mode, Outcome, Status, Summary
from hymt_cli.pipeline import Report

PLAIN_EVERY_S = 10.0
"""How often plain progress prints a line while the engine works."""
BAR_EVERY_S = 0.5
"""How often the bar's tokens, rate and ETA are refreshed while the engine works."""

VERBS = {Status.STDOUT: "translated", Status.PLANNED: "would translate"}


class Lines:
    """Line-based progress and diagnostics (not a terminal, or `CI` set)."""

    def __init__(
        self, quiet: bool = False, verbose: bool = False, debug: bool = False,
        stream: IO[str] | None = None,
    ) -> None:
        self.quiet, self.verbose, self.debug = quiet, verbose, debug
        self.stream = stream
        self.files = self.segments = self.done = self.tokens = self.finished = 0
        self.generated = 0
        self.began = time.monotonic()
        self.ticker: Ticker | None = None
        self.printing = threading.Lock()  # the ticker's lines and the run's

    def start(self, files: int, segments: int) -> None:
        """Remember the size of the work; print progress on a clock until `stop`."""
        self.files, self.segments = files, segments
        self.began = time.monotonic()
        if not self.quiet:
            self.ticker = Ticker(self.period(), self.tick)

    def period(self) -> float:
        """Seconds between progress updates."""
        return PLAIN_EVERY_S

    def tick(self) -> None:
        """Print a progress line while work is going on."""
        if self.finished < self.files:
            self.line(self.progress_line())

    def progress_line(self) -> str:
        """E.g. `progress: 3/10 files, 120/400 segments, 35 tok/s, ETA 2m10s`."""
        eta = self.eta()
        return (f"progress: {self.finished}/{self.files} files, "
                f"{self.segments_done()}/{self.segments} segments, "
                f"{self.rate():.0f} tok/s" + (f", ETA {eta}" if eta else ""))

    def stop(self) -> None:
        """Stop the clock (idempotent; the CLI calls it in a `finally`)."""
        if self.ticker is not None:
            self.ticker.stop()

    def advance(self, segments: int, tokens: int) -> None:
        """Count segments answered (by the engine or the memory)."""
        self.done += segments
        self.tokens += tokens

    def generating(self, tokens: int) -> None:
        """Count tokens the engine generated (called during a batch)."""
        self.generated += tokens

    def segments_done(self) -> int:
        """Segments answered so far (retries and splits may overcount: capped)."""
        return min(self.done, self.segments)

    def rate(self) -> float:
        """Tokens per second so far: generated ones when the engine reports them,
        else the source tokens it answered."""
        return (self.generated or self.tokens) / max(self.elapsed(), 1e-6)

    def elapsed(self) -> float:
        """Seconds since `start`."""
        return time.monotonic() - self.began

    def eta(self) -> str:
        """Time left at the pace so far, e.g. `2m10s`; empty until estimable."""
        done = self.segments_done()
        if not done:
            return ""
        return duration(self.elapsed() * (self.segments - done) / done)

    def outcome(self, outcome: Outcome) -> None:
        """Report one output: an error, or a summary line and warnings."""
        self.finished += 1
        if outcome.report is not None:  # never sent to the engine: done now
            self.done += outcome.report.from_memory
        if outcome.error is not None:
            self.error(outcome.error, outcome.cause)
        if self.quiet or outcome.report is None:
            return
        for line in self.warnings(outcome):
            self.line(line)
        if outcome.error is None:
            self.line(describe(outcome))

    def warnings(self, outcome: Outcome) -> list[str]:
        """Warning lines for one output (all of them with --verbose)."""
        report, name = outcome.report, display_name(outcome.name)
        assert report is not None
        if self.verbose:
            lines = [f"warning: {name}: {p}" for p in report.problems]
            return lines + [f"warning: {name}: glossary term not used: {m}"
                            for m in report.glossary_misses]
        lines = []
        if report.problems:
            n, first = len(report.problems), report.problems[0]
            lines.append(f"warning: {name}: {n} segment problem(s), first {first} "
                         "(see --verbose)")
        if report.glossary_misses:
            n = len(report.glossary_misses)
            lines.append(f"warning: {name}: {n} glossary term(s) not used "
                         "(see --verbose)")
        return lines

    def note(self, text: str) -> None:
        """Print a line unless quiet."""
        if not self.quiet:
            self.line(text)

    def error(self, error: InputError, cause: BaseException | None = None) -> None:
        """Print `Error: <path>: <problem>`, a hint, and a traceback with --debug."""
        self.line(f"Error: {display_name(error.path)}: {error.problem}")
        if error.hint:
            self.line(f"  hint: {error.hint}")
        if self.debug and cause is not None:
            traceback.print_exception(cause, file=self.out())

    def finish(self, summary: Summary) -> None:
        """Close the progress display and print the summary table."""
        self.stop()
        if self.quiet or len(summary.outcomes) + len(summary.pruned) < 2:
            return
        from rich.console import Console

        Console(file=self.out(), highlight=False, width=100).print(
            summary_table(summary)
        )

    def out(self) -> IO[str]:
        """The stream diagnostics go to (stderr as it is now, for tests)."""
        return self.stream or sys.stderr

    def line(self, text: str) -> None:
        """Write one diagnostic line."""
        with self.printing:
            print(text, file=self.out(), flush=True)


class Bar(Lines):
    """A rich progress bar on a terminal, with the same lines printed above it."""

    def __init__(self, quiet: bool = False, verbose: bool = False,
                 debug: bool = False) -> None:
        super().__init__(quiet, verbose, debug)
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.console = Console(file=sys.stderr)
        self.bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"), TextColumn("{task.fields[eta]}"),
            console=self.console, transient=True,
        )
        self.file_task = self.segment_task = None

    def start(self, files: int, segments: int) -> None:
        """Show the bars."""
        if not self.quiet:
            self.bar.start()
            self.file_task = self.bar.add_task("files", total=files, rate="", eta="")
            self.segment_task = self.bar.add_task("segments", total=segments,
                                                  rate="", eta="")
        super().start(files, segments)

    def period(self) -> float:
        """Seconds between bar refreshes."""
        return BAR_EVERY_S

    def tick(self) -> None:
        """Refresh the segment bar: segments done, tokens, rate, ETA."""
        if self.segment_task is None:
            return
        eta = self.eta()
        self.bar.update(self.segment_task, completed=self.segments_done(),
                        rate=f"{self.generated or self.tokens} tokens, "
                             f"{self.rate():.0f} tok/s",
                        eta=f"ETA {eta}" if eta else "")

    def advance(self, segments: int, tokens: int) -> None:
        """Count segments and move the segment bar."""
        super().advance(segments, tokens)
        self.tick()

    def outcome(self, outcome: Outcome) -> None:
        """Print the output's line above the bar and move the file bar."""
        super().outcome(outcome)
        if self.file_task is not None:
            self.bar.update(self.file_task, advance=1)
        self.tick()

    def stop(self) -> None:
        """Stop the clock and remove the bars (idempotent)."""
        super().stop()
        self.bar.stop()

    def line(self, text: str) -> None:
        """Print above the bar."""
        self.console.print(text, markup=False, highlight=False)


class Ticker:
    """Calls `tick` every `period` seconds on a daemon thread until `stop`."""

    def __init__(self, period: float, tick: Callable[[], None]) -> None:
        self.period, self.tick = period, tick
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, name="hymt-progress",
                                       daemon=True)
        self.thread.start()

    def run(self) -> None:
        """Tick until stopped; a failing tick (a closed stream) ends the clock."""
        while not self.stopped.wait(self.period):
            try:
                self.tick()
            except Exception:
                return

    def stop(self) -> None:
        """Stop ticking and wait for the thread to end."""
        self.stopped.set()
        if self.thread is not threading.current_thread():
            self.thread.join()


def watcher(quiet: bool = False, verbose: bool = False, debug: bool = False) -> Lines:
    """A progress bar on a terminal (unless `CI` is set), plain lines otherwise."""
    if sys.stderr.isatty() and not os.environ.get("CI"):
        return Bar(quiet, verbose, debug)
    return Lines(quiet, verbose, debug)


def duration(seconds: float) -> str:
    """`45s`, `2m10s` or `1h05m`."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def describe(outcome: Outcome) -> str:
    """One line about one output, e.g. `wrote a.de.md (3 segments, 1 from memory)`."""
    report = outcome.report
    assert report is not None
    where = (display_name(outcome.output) if outcome.output
             else f"{display_name(outcome.name)} to stdout")
    verb = VERBS.get(outcome.status, outcome.status)
    if outcome.status == Status.PLANNED:
        return (f"{verb} {where}: {outcome.pending} of {report.segments} segments "
                f"not in memory (~{outcome.tokens} tokens)")
    if outcome.status in (Status.CURRENT, Status.STALE, Status.MISSING):
        extra = f", {outcome.pending} not in memory" if outcome.pending else ""
        return f"{outcome.status} {where} ({report.segments} segments{extra})"
    return (f"{verb} {where} ({report.segments} segments, {report.translated} "
            f"translated, {report.from_memory} from memory, {report.fallbacks} "
            f"fallbacks{gate_counts(report)})")


def gate_counts(report: Report) -> str:
    """`, 2 gate rejections (script 2), 1 untranslated` where any; else empty."""
    text = ""
    if rejections := report.gate_rejections:
        total = sum(rejections.values())
        each = ", ".join(f"{gate} {n}" for gate, n in sorted(rejections.items()))
        text += f", {total} gate rejections ({each})"
    if report.gate_failures:
        text += f", {len(report.gate_failures)} failed gates"
    if report.untranslated:
        text += f", {report.untranslated} untranslated"
    return text


def totals(summary: Summary) -> dict[str, Any]:
    """Counts over a run: outputs per status and segment counters."""
    reports = [o.report for o in summary.outcomes if o.report is not None]
    counts = dict(summary.counts())
    return {
        "files": counts,
        "segments": sum(r.segments for r in reports),
        "translated": sum(r.translated for r in reports),
        "sent": sum(r.segments - r.from_memory for r in reports)
        if summary.mode == Mode.TRANSLATE else 0,
        "from_memory": sum(r.from_memory for r in reports),
        "pending": sum(o.pending for o in summary.outcomes),
        "tokens": sum(o.tokens for o in summary.outcomes),
        "repairs": sum(r.repairs for r in reports),
        "fallbacks": sum(r.fallbacks for r in reports),
        "glossary_misses": sum(len(r.glossary_misses) for r in reports),
        "gate_rejections": sum(sum(r.gate_rejections.values()) for r in reports),
        "gate_failures": sum(len(r.gate_failures) for r in reports),
        "untranslated": sum(r.untranslated for r in reports),
        "pruned": len(summary.pruned),
    }


def summary_table(summary: Summary) -> Any:
    """The closing table: outputs by status, segments, repairs, time."""
    from rich.table import Table

    sums = totals(summary)
    table = Table("", "", title=f"hymt {summary.mode}", show_header=False)
    for status, count in sorted(sums["files"].items()):
        table.add_row(f"files {status}", str(count))
    rows = [("segments", "segments"), ("from_memory", "segments from memory"),
            ("repairs", "repairs"), ("fallbacks", "fallbacks"),
            ("glossary_misses", "glossary misses"),
            ("gate_rejections", "answers rejected by gates"),
            ("gate_failures", "segments failing gates"),
            ("untranslated", "segments returned unchanged"),
            ("pruned", "outputs pruned")]
    if summary.mode == Mode.TRANSLATE:
        rows.insert(1, ("sent", "segments sent to the engine"))
    else:
        rows.insert(1, ("pending", "segments not in memory"))
    for key, label in rows:
        table.add_row(label, str(sums[key]))
    table.add_row("elapsed", f"{summary.elapsed:.1f} s")
    return table


def summary_json(summary: Summary) -> dict[str, Any]:
    """The run summary as JSON-ready data (`--json`)."""
    files = []
    for o in summary.outcomes:
        r = o.report
        files.append({
            **json_path("source", o.name), "target": o.target,
            **json_path("output", o.output),
            "status": o.status, "segments": r.segments if r else 0,
            "translated": r.translated if r else 0,
            "from_memory": r.from_memory if r else 0,
            "repairs": r.repairs if r else 0, "fallbacks": r.fallbacks if r else 0,
            "glossary_misses": list(r.glossary_misses) if r else [],
            "gate_rejections": dict(r.gate_rejections) if r else {},
            "gate_failures": list(r.gate_failures) if r else [],
            "untranslated": r.untranslated if r else 0,
            "pending": o.pending, "tokens": o.tokens,
            "error": valid_text(o.error.problem) if o.error else None,
        })
    return {"mode": summary.mode, "files": files, "totals": totals(summary),
            "pruned": [valid_text(p) for p in summary.pruned],
            "elapsed": round(summary.elapsed, 3)}


def json_path(field: str, name: str) -> dict[str, str]:
    """`{field: name}`, valid UTF-8; a name that is not (bytes the file system
    gave undecoded) shows U+FFFD there, and `{field}_bytes` holds its bytes in hex."""
    text = valid_text(name)
    if text == name:
        return {field: name}
    try:
        raw = os.fsencode(name).hex()
    except UnicodeEncodeError:  # not from the file system: nothing better to give
        return {field: text}
    return {field: text, f"{field}_bytes": raw}


def valid_text(text: str) -> str:
    """`text` with lone surrogates (undecodable file-name bytes) replaced by U+FFFD."""
    return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
