"""Incremental runs: first run, unchanged rerun, one-paragraph edit, per engine.

Builds a 20-document Markdown tree (front matter, headings, lists, tables, code,
links; ~30 segments each) in a temporary folder and times `hymt translate` as a
subprocess (start-up included) with the translation memory on:

    python benchmarks/incremental.py            # pseudo and hf (tiny random model)
    python benchmarks/incremental.py --engines pseudo

The hf rows use the tiny random checkpoint from tests/tiny_model.py on one CPU
thread: its answers are junk, so they measure plumbing, memory and model loading,
not translation speed. Writes benchmarks/results/incremental.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "incremental.md"
DOCS = 20

FRONT = """---
title: "{title}"
description: "How the {topic} part of the product works, step by step."
tags: [docs, {topic}]
---

"""

SECTION = """## {topic} step {n}

The {topic} service reads its settings when it starts, and again whenever the
file changes. See [the reference](../reference/{topic}.md#step-{n}) for details.

- Open the **{topic}** panel and choose *Settings*.
- Set `timeout` to a value between 1 and 60 seconds.
- Save, then restart the `{topic}` worker.

| Option | Default | Meaning |
|---|---|---|
| `retries` | 3 | How often a failed {topic} request is tried again. |
| `verbose` | false | Whether every {topic} request is logged. |

```bash
hymt-demo {topic} --step {n} --timeout 30
```

> Note: changes to the {topic} step {n} take effect after the next restart.

"""

TOPICS = ["billing", "search", "upload", "accounts", "reports"]


def build_tree(folder: Path) -> list[Path]:
    """Write the sample documents; returns their paths."""
    paths = []
    for d in range(DOCS):
        topic = TOPICS[d % len(TOPICS)]
        text = FRONT.format(title=f"Guide {d}: {topic}", topic=topic)
        text += f"# The {topic} guide, part {d}\n\n"
        text += "".join(SECTION.format(topic=topic, n=f"{d}.{s}") for s in range(3))
        path = folder / "docs" / "en" / f"{topic}-{d:02}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def segments_per_doc(path: Path) -> int:
    """How many segments one sample document has."""
    out = subprocess.run([sys.executable, "-m", "hymt_cli", "segments", str(path)],
                         capture_output=True, check=True)
    return len(out.stdout.splitlines())


def hymt(folder: Path, engine_args: list[str]) -> tuple[float, dict]:
    """One timed `hymt translate` of the tree; wall seconds and its JSON summary."""
    command = [sys.executable, "-m", "hymt_cli", "translate", "docs/en", "--to", "de",
               "--out", "docs/{lang}/{relpath}", "--json", "--quiet", *engine_args]
    began = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"hymt failed: {done.stderr.decode()[-2000:]}")
    return elapsed, json.loads(done.stdout)


def edit_one_paragraph(path: Path) -> None:
    """Change one paragraph of one document."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("again whenever the", "again each time the", 1),
                    encoding="utf-8")


def measure(name: str, engine_args: list[str]) -> list[list[str]]:
    """Rows (engine, run, seconds, sent, from memory) for the three runs."""
    rows = []
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        paths = build_tree(folder)
        for label in ("first run", "unchanged rerun", "one-paragraph edit"):
            if label == "one-paragraph edit":
                edit_one_paragraph(paths[7])
            seconds, data = hymt(folder, engine_args)
            totals = data["totals"]
            rows.append([name, label, f"{seconds:.2f}", str(totals["sent"]),
                         str(totals["from_memory"]), str(totals["segments"])])
            print(" | ".join(rows[-1]), flush=True)
    return rows


def engines(names: list[str], model_dir: Path | None) -> dict[str, list[str]]:
    """Engine name -> the `hymt translate` options that select it."""
    table = {"pseudo": ["--engine", "pseudo"]}
    if "hf" in names and model_dir is not None:
        table["hf (tiny model, 1 thread)"] = [
            "--engine", "hf", "--model", str(model_dir), "--device", "cpu",
            "--dtype", "fp32", "--threads", "1", "--max-new-tokens", "8",
        ]
    return {k: v for k, v in table.items() if k.split()[0] in names}


def tiny_model(folder: Path) -> Path:
    """Build the tiny random checkpoint of the test suite."""
    sys.path.insert(0, str(ROOT))
    from tests.tiny_model import build_tiny_model

    return build_tiny_model(folder / "tiny")


def write_result(rows: list[list[str]], per_doc: int, command: str) -> None:
    """benchmarks/results/incremental.md."""
    head = ["engine", "run", "wall s", "segments sent", "from memory", "segments"]
    lines = [
        "# Incremental runs",
        "",
        f"- date: {datetime.date.today().isoformat()}",
        f"- command: `{command}`",
        f"- machine: {platform.machine()}, Python {platform.python_version()}",
        f"- tree: {DOCS} Markdown documents, {per_doc} segments each, one target (de),"
        " memory on; wall time of `hymt translate` as a subprocess, start-up included",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    """Build the tree, time the runs, write the result table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="pseudo,hf")
    args = parser.parse_args()
    names = args.engines.split(",")
    with tempfile.TemporaryDirectory() as temp:
        model_dir = tiny_model(Path(temp)) if "hf" in names else None
        with tempfile.TemporaryDirectory() as sample:
            per_doc = segments_per_doc(build_tree(Path(sample))[0])
        rows = [row for name, options in engines(names, model_dir).items()
                for row in measure(name, options)]
    write_result(rows, per_doc, "python benchmarks/incremental.py " + " ".join(
        sys.argv[1:]))
    print(RESULT.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
