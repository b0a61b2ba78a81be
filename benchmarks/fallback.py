"""How many segments end in the last-resort (per-run) fallback, before and after
the whole-segment realignment (issue 12).

    python benchmarks/fallback.py                     # 200 pages, 30 % broken
    python benchmarks/fallback.py --pages 200 --broken 0.5

A generated Markdown docs tree (the pages of benchmarks/segment.py, commonmark,
each followed by paragraphs of random words with random emphasis, links, code
and nested emphasis, so that words repeat and tags vary) goes through the pipeline in this process with a scripted engine: the pseudo
engine's translation is the good answer, and a tagged request's answer loses its
tags at a known rate (a seeded random draw per tagged request, in request order:
attempts 0 and 1 break independently, and both runs see the same draws, as the
fallback's own requests are plain). Plain requests are
always answered well. "before" runs with realignment switched off (every
rejected segment rebuilt run by run, as before issue 12); "after" as shipped.
Writes benchmarks/results/fallback.md.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import platform
import sys
import random
import time
from collections.abc import Sequence
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hymt_cli import fallback  # noqa: E402
from hymt_cli.document import TAG_RE  # noqa: E402
from hymt_cli.documents import segment  # noqa: E402
from hymt_cli.engines.base import EngineBase, Request  # noqa: E402
from hymt_cli.engines.pseudo import pseudo_translate  # noqa: E402
from hymt_cli.languages import resolve  # noqa: E402
from hymt_cli.pipeline import Job, Report, translate  # noqa: E402

RESULT = ROOT / "benchmarks" / "results" / "fallback.md"
VOCABULARY = ("the a service file list value step user page server reads writes keeps "
              "starts changes settings cache token request answer report build test "
              "run quickly again when then before after only each every new old").split()
MARKUP = ("**{}**", "*{}*", "`{}`", "[{}](../ref.md)", "**the *{}* part**")


def paragraph(rng: random.Random) -> str:
    """A sentence of random words, some in random (sometimes nested) markup."""
    words = [rng.choice(VOCABULARY) for _ in range(rng.randint(6, 18))]
    for _ in range(rng.randint(1, 3)):
        start = rng.randrange(len(words))
        end = min(len(words), start + rng.randint(1, 3))
        if all(w.isalpha() for w in words[start:end]):
            words[start:end] = [rng.choice(MARKUP).format(" ".join(words[start:end]))]
    return " ".join(words).capitalize() + ".\n\n"


def page_text(pages, index: int) -> str:
    """Page `index` of segment.py's tree, then ten random paragraphs."""
    rng = random.Random(index)
    return pages.page("commonmark", index) + "\n" + "".join(
        paragraph(rng) for _ in range(10))



def _pages_module():  # benchmarks/ is no package: load segment.py by path
    spec = importlib.util.spec_from_file_location("segment_bench",
                                                  ROOT / "benchmarks" / "segment.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Breaking(EngineBase):
    """Pseudo translation; a share of tagged answers come back without tags."""

    name = "breaking"

    def __init__(self, broken: float, seed: int = 12) -> None:
        self.broken, self.draw = broken, random.Random(seed).random
        self.requests = 0

    def translate_batch(self, requests: Sequence[Request]) -> list[str]:
        """The pseudo translation of each request, tags dropped from some."""
        self.requests += len(requests)
        return [self._answer(r) for r in requests]

    def _answer(self, request: Request) -> str:
        good = pseudo_translate(request.text)
        if TAG_RE.search(good) and self.draw() < self.broken:
            return TAG_RE.sub("", good)
        return good


def tag_texts(answer: str) -> dict[int, str]:
    """The text inside each tag pair of `answer`, tags removed, by tag number."""
    opened = {int(m.group(2)): m.end() for m in TAG_RE.finditer(answer) if not m.group(1)}
    return {int(m.group(2)): TAG_RE.sub("", answer[opened[int(m.group(2))] : m.start()])
            for m in TAG_RE.finditer(answer) if m.group(1)}


def run(
    jobs: list[Job], broken: float, realign: bool
) -> tuple[list[Report], int, float, tuple[int, int]]:
    """Reports, engine requests, seconds, and realigned answers identical to the
    good one and with each tag around the same text as in the good one."""
    engine = Breaking(broken)
    same = [0, 0]
    real = fallback.realigned

    def spy(items, ask):
        texts = real(items, ask)
        for (segment_, _), text in zip(items, texts):
            good = pseudo_translate(segment_.text)
            same[0] += text == good
            same[1] += text is not None and tag_texts(text) == tag_texts(good)
        return texts

    off = (lambda items, ask: [None] * len(items)) if not realign else spy
    start = time.perf_counter()
    with mock.patch.object(fallback, "realigned", off):
        reports = [report for _, _, report in translate(jobs, engine)]
    return reports, engine.requests, time.perf_counter() - start, (same[0], same[1])


def row(label: str, result: tuple[list[Report], int, float, tuple[int, int]],
        tagged: int) -> str:
    """One table row: a run's counts and shares."""
    reports, requests, seconds, same = result
    segments = sum(r.segments for r in reports)
    realigned = sum(r.realigned for r in reports)
    fallbacks = sum(r.fallbacks for r in reports)
    cells = [label, segments, tagged, sum(r.retries for r in reports), realigned,
             *same, fallbacks, f"{100 * fallbacks / segments:.2f} %",
             f"{100 * fallbacks / tagged:.2f} %", requests, f"{seconds:.1f}"]
    return "| " + " | ".join(map(str, cells)) + " |"


def write(rows: list[str], args: argparse.Namespace, machine: str) -> None:
    """benchmarks/results/fallback.md."""
    head = ["run", "segments", "tagged", "retried", "realigned", "identical to good", "same text in each tag",
            "last-resort fallbacks", "of all segments", "of tagged", "engine requests",
            "s"]
    lines = [
        "# Last-resort fallbacks before and after realignment (issue 12)", "",
        f"- date: {datetime.date.today().isoformat()}",
        f"- command: `python benchmarks/fallback.py --pages {args.pages} "
        f"--broken {args.broken}`",
        f"- machine: {machine}",
        f"- work: {args.pages} generated commonmark pages (benchmarks/segment.py, plus "
        "ten paragraphs of random words and markup each) into "
        "de; the engine answers with the pseudo translation and drops every tag from "
        f"{100 * args.broken:.0f} % of tagged answers (attempts 0 and 1 independently)",
        "- good: the pseudo engine's tagged translation (what a well-behaved engine "
        "returns); realigned answers identical to it, and realigned answers whose every "
        "tag holds the same text as in it (they differ from identical only where the "
        "same words stand more than once, or where an empty tag at the end of a "
        "segment sits before or after the pseudo engine's padding)", "",
        "| " + " | ".join(head) + " |", "|" + "---|" * len(head), *rows, "",
    ]
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    """Run both variants and write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--broken", type=float, default=0.3)
    args = parser.parse_args()
    pages = _pages_module()
    texts = [page_text(pages, i) for i in range(args.pages)]
    jobs = [Job(f"page-{i}.md", segment(t, "md"), resolve("de")) for i, t in enumerate(texts)]
    tagged = sum(bool(TAG_RE.search(s.text)) for j in jobs for s in j.document.segments())
    machine = (f"{os.cpu_count()} CPUs (nproc), {pages.cpu_model()}, Python "
               f"{platform.python_version()}; load average before: "
               + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    rows = [row("before (per-run only)", run(jobs, args.broken, False), tagged),
            row("after (realign first)", run(jobs, args.broken, True), tagged)]
    write(rows, args, machine)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
