"""Answer gates: how many faulty answers each catches, and how many clean ones it
refuses (issue 12).

    python benchmarks/gates.py                    # 200 generated pages, de and zh

Segments come from the generated docs tree of `segment.py` (CommonMark pages),
each with the context window the pipeline would give it. For every segment and
target a clean answer is made (the pseudo translation for `de`; for `zh`, every
letter turned into a Han character, spaces dropped, as real Chinese output
looks) and one answer per fault the issue reports from a real run: the clean
answer with a run of the context copied in (`echo`), with a phrase repeated six
times (`repetition`), Korean text for `de` and Latin text for `zh` (`script`),
the source returned (`unchanged`), and the answer cut to a fifth or tripled
(`length`). Each answer goes through `gates.reject` (and `gates.unchanged`,
which only reports); the table gives, per fault, the share caught by the gate
meant for it and by any gate, and the share of clean answers refused (which must
be 0). Writes benchmarks/results/gates.md.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import platform
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hymt_cli import gates  # noqa: E402
from hymt_cli.document import TAG_RE, Segment  # noqa: E402
from hymt_cli.documents import segment  # noqa: E402
from hymt_cli.engines.base import Request  # noqa: E402
from hymt_cli.engines.pseudo import pseudo_translate  # noqa: E402
from hymt_cli.languages import Language, resolve  # noqa: E402
from hymt_cli.pipeline import NO_CONTEXT_KINDS  # noqa: E402
from hymt_cli.validate import strip_tags  # noqa: E402

RESULT = ROOT / "benchmarks" / "results" / "gates.md"
KOREAN = "그런 다음 부팅할 때 서비스를 자동으로 시작할지 묻습니다"
FAULTS = ("echo", "repetition", "script", "length", "unchanged")
ALL_GATES = frozenset(gates.GATES)


def han(text: str) -> str:
    """A stand-in Chinese answer: each word becomes one Han character chosen by the
    word (so text repeats only where the source does), tags stay."""
    parts = TAG_RE.split(text)
    out = []
    for i, part in enumerate(parts):
        if i % 3 == 0:
            out.append(re.sub(r"\s+", "", re.sub(
                r"[^\W\d_]+", lambda m: chr(0x4E00 + sum(map(ord, m.group())) % 2000),
                part)))
        elif i % 3 == 2:
            out.append(f"<{parts[i - 1]}s{part}>")
    return "".join(out)


def clean(text: str, target: Language) -> str:
    """The clean answer for `target`."""
    return han(text) if target.code == "zh" else pseudo_translate(text)


def faulty(kind: str, text: str, context: str, target: Language) -> str | None:
    """The answer with fault `kind`, or None where the segment cannot carry it."""
    good = clean(text, target)
    words = strip_tags(TAG_RE.sub("", text)).split()
    if kind == "echo":
        tail = " ".join(context.split()[-12:])
        return f"{good} {tail}" if len(tail.split()) >= 10 else None
    if kind == "repetition":
        phrase = " ".join(words[:3])
        return f"{good} " + " ".join([phrase] * 6) if len(words) >= 3 else None
    if kind == "script":
        return (pseudo_translate(text) if target.code == "zh"
                else f"{KOREAN} {KOREAN}")
    if kind == "length":
        return good[: max(1, len(good) // 5)] if len(words) >= 12 else None
    return text if len(words) >= 2 else None


def requests(texts: list[str], target: Language) -> Iterator[tuple[Segment, Request]]:
    """Each prose segment with its request (a 128-character context window)."""
    for text in texts:
        window = ""
        for seg in segment(text, "md").segments():
            if not any(c.isalpha() for c in TAG_RE.sub("", seg.text)):
                continue
            context = "" if seg.kind in NO_CONTEXT_KINDS else window[-400:]
            yield seg, Request(seg.text, target, context=context, kind=seg.kind)
            if seg.kind not in NO_CONTEXT_KINDS:
                window += " " + strip_tags(TAG_RE.sub("", seg.text))


def judge(seg: Segment, request: Request, answer: str) -> str | None:
    """The gate that refuses `answer`, `untranslated` if only reported, or None."""
    rejection = gates.reject(seg, request, answer, ALL_GATES)
    if rejection is not None:
        return rejection.gate
    return "untranslated" if gates.unchanged(seg, answer) else None


def measure(texts: list[str], target: Language) -> list[str]:
    """Table rows for one target."""
    counts: dict[str, Counter[str]] = {k: Counter() for k in ("clean", *FAULTS)}
    for seg, request in requests(texts, target):
        counts["clean"][judge(seg, request, clean(seg.text, target)) or "-"] += 1
        for kind in FAULTS:
            answer = faulty(kind, seg.text, request.context, target)
            if answer is not None:
                counts[kind][judge(seg, request, answer) or "-"] += 1
    return [row(target.code, kind, counts[kind]) for kind in counts]


def row(code: str, kind: str, found: Counter[str]) -> str:
    """One row: answers, the share caught by the meant gate and by any gate."""
    total = sum(found.values())
    meant = "untranslated" if kind == "unchanged" else kind
    caught = total - found["-"]
    share: Callable[[int], str] = lambda n: f"{100 * n / total:.1f} %" if total else "-"
    by_gate = ", ".join(f"{g} {n}" for g, n in found.most_common() if g != "-")
    if kind == "clean":
        return f"| {code} | clean | {total} | | | {share(caught)} | {by_gate} |"
    return (f"| {code} | {kind} | {total} | {share(found[meant])} | {share(caught)} "
            f"| | {by_gate} |")


def pages(count: int) -> list[str]:
    """`count` generated CommonMark pages (benchmarks/segment.py's tree)."""
    spec = importlib.util.spec_from_file_location("segment_bench",
                                                  ROOT / "benchmarks" / "segment.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [module.page("commonmark", i) for i in range(count)]


def main() -> None:
    """Measure and write the results file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    texts = pages(args.pages)
    rows = [r for code in ("de", "zh") for r in measure(texts, resolve(code))]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    RESULT.write_text("\n".join([
        "# Answer gates: faults caught, clean answers refused",
        "",
        f"- date: {datetime.date.today()}",
        f"- command: `python benchmarks/gates.py --pages {args.pages}`",
        f"- machine: {platform.machine()}, Python {platform.python_version()}, "
        f"load average {load}",
        "- answers: every prose segment of the generated pages, each clean and with "
        "each fault (see the script's docstring); `unchanged` is only reported",
        "",
        "| target | answer | answers | caught by its gate | caught by any gate "
        "| clean refused | gates that fired |",
        "|---|---|---:|---:|---:|---:|---|",
        *rows, ""]), encoding="utf-8")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
