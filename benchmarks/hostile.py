"""Hostile inputs: many tags in one segment, and very large Markdown files.

    python benchmarks/hostile.py                 # 10,000 tags; 1, 10, 50 MB documents
    python benchmarks/hostile.py --mb 5 --tags 2500

Row 1: one paragraph of `--tags` `**w**` runs through the pipeline with the
identity engine, in-process, once with the answer validation of a previous
revision (`hymt_cli/validate.py` from `git show REV:…`, loaded as a temporary
module: by default the last revision whose space-moving ran one regex
substitution per tag) and once with the current one. Then, for each `--mb` size,
a Markdown document of that many MB through `hymt translate --engine pseudo
--no-memory` in a subprocess: seconds, the child's peak RSS
(`resource.getrusage(RUSAGE_CHILDREN)` in a wrapper process that runs only that
child) and peak RSS per MB of input, also net of a run on a tiny document (the
interpreter and its imports). Writes benchmarks/results/hostile.md.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hymt_cli import pipeline, validate  # noqa: E402
from hymt_cli.documents import segment  # noqa: E402
from hymt_cli.engines import create  # noqa: E402
from hymt_cli.languages import resolve  # noqa: E402

RESULT = ROOT / "benchmarks" / "results" / "hostile.md"
OLD_MARKER = "def _out_before"
"""Only the per-tag (quadratic) space-moving of validate.py defines this."""

SECTION = """## Section {n}

The **service {n}** reads its *settings* when it starts; see
[the reference](../ref/{n}.md "Reference {n}") and `config-{n}.toml`.

- Open the **panel {n}** and choose *Settings*.
- Set `timeout` to {n} seconds, then save.

| Option | Value {n} |
|---|---|
| retries | {n} |

```
run --step {n}
```

> Note: step {n} takes effect after a restart.

"""


def git(*args: str) -> str:
    """Output of a read-only git command in the repository."""
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout


def before_revision() -> str:
    """HEAD when it still has the quadratic validate.py, else the parent of the
    commit that removed it."""
    if OLD_MARKER in git("show", "HEAD:hymt_cli/validate.py"):
        return "HEAD"
    removed = git("log", "-n1", "--format=%H", f"-S{OLD_MARKER}", "--",
                  "hymt_cli/validate.py").strip()
    return f"{removed}^"


def load_validate(revision: str, folder: Path) -> ModuleType:
    """validate.py as of `revision`, imported as a module of its own."""
    path = folder / "validate_before.py"
    path.write_text(git("show", f"{revision}:hymt_cli/validate.py"), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("validate_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def time_identity(tags: int, repair: Callable[..., validate.Checked]) -> float:
    """Seconds to translate one `tags`-tag paragraph with the identity engine."""
    doc = segment(" ".join(["**w**"] * tags) + "\n", "md")
    saved = pipeline.repair
    pipeline.repair = repair  # the pipeline's one validation entry point
    try:
        start = time.perf_counter()
        text, report = pipeline.translate_document(
            pipeline.Job("bench.md", doc, resolve("de")), create("identity"))
        elapsed = time.perf_counter() - start
    finally:
        pipeline.repair = saved
    assert text == doc.source and report.fallbacks == 0, report.problems[:3]
    return elapsed


def write_document(path: Path, megabytes: float) -> int:
    """A Markdown document of about `megabytes` MB; returns its size in bytes."""
    target = int(megabytes * 1_000_000)
    with path.open("w", encoding="utf-8") as out:
        size, n = 0, 0
        while size < target:
            n += 1
            size += out.write(SECTION.format(n=n))
    return path.stat().st_size


def run_pseudo(source: Path) -> tuple[float, int, int]:
    """Seconds, peak RSS (KiB) and exit code of `hymt translate` on `source`."""
    wrapper = ("import resource, subprocess, sys\n"
               "code = subprocess.run(sys.argv[1:]).returncode\n"
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)\n")
    command = [sys.executable, "-m", "hymt_cli", "translate", source.name, "--to", "de",
               "--engine", "pseudo", "--no-memory", "--quiet"]
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", wrapper, *command], cwd=source.parent,
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    elapsed = time.perf_counter() - start
    rss, code = done.stdout.split()[-2:]
    return elapsed, int(rss), int(code)


def document_row(source: Path, megabytes: float, base: float) -> str:
    """One table row: translate a generated document of `megabytes` MB."""
    size = write_document(source, megabytes)
    seconds, rss, code = run_pseudo(source)
    mib, input_mib = rss / 1024, size / 2**20
    return (f"| {size / 1e6:.1f} MB Markdown, `hymt translate --engine pseudo "
            f"--no-memory` (exit {code}) | | {seconds:.1f} s | {mib:.0f} MiB | "
            f"{mib / input_mib:.1f} | {(mib - base) / input_mib:.1f} |")


def main() -> None:
    """Run both rows and write the results file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", type=int, default=10_000)
    parser.add_argument("--mb", default="1,10,50",
                        help="document sizes in MB, comma-separated")
    parser.add_argument("--before", help="git revision for the 'before' validate.py")
    args = parser.parse_args()
    revision = args.before or before_revision()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        old = load_validate(revision, Path(tmp))
        before = time_identity(args.tags, old.repair)
        after = time_identity(args.tags, validate.repair)
        rows.append(f"| {args.tags:,}-tag segment, identity engine (in-process) | "
                    f"{before:.2f} s | {after:.2f} s | | | |")
        print(rows[-1], flush=True)
        tiny = Path(tmp) / "tiny.md"
        write_document(tiny, 0.001)
        base = run_pseudo(tiny)[1] / 1024
        for mb in (float(x) for x in args.mb.split(",")):
            rows.append(document_row(Path(tmp) / f"big-{mb:g}.md", mb, base))
            print(rows[-1], flush=True)
    write_results(rows, revision, " ".join(sys.argv[1:]))


def write_results(rows: list[str], revision: str, argv: str) -> None:
    """Write benchmarks/results/hostile.md."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    head = git("rev-parse", "--short", "HEAD").strip()
    text = "\n".join([
        "# Hostile inputs",
        "",
        f"- date: {datetime.date.today()}",
        f"- command: `{' '.join(['python benchmarks/hostile.py', argv]).strip()}`",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {load}",
        f"- tree: HEAD {head} plus working-tree changes; 'before' validate.py from "
        f"`{revision}`",
        "",
        "| case | before | after | peak RSS | RSS per MB | net RSS per MB |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
    ])
    RESULT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
