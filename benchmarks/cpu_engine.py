"""CPU throughput of the hf engine on random HunYuanDenseV1 models, batched or not.

Usage: python benchmarks/cpu_engine.py [--sizes tiny,small] [--requests N] [--threads T]

Each (model, mode) runs in its own subprocess so peak RSS is per configuration.
Random weights seldom hit a stop token, so most requests run to their budget
(min(cap, 2 * source tokens + 32)): the numbers measure the decode loop, not quality.
Results go to benchmarks/results/cpu_engine.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "cpu_engine.md"
SIZES = {
    "tiny": {"hidden": 64, "layers": 2, "heads": 4, "kv_heads": 2},
    "small": {"hidden": 512, "layers": 8, "heads": 8, "kv_heads": 2},
}
SENTENCES = [
    "Press <s1>Save</s1> to keep all changes.",
    "The quick brown fox jumps over the lazy dog.",
    "今天天气很好，我们去公园玩吧。",
    "Machine translation turns documents in one language into another, segment by "
    "segment, and keeps the formatting tags where they belong.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "Hello.",
]


def requests(count: int) -> list:
    """`count` requests of varied length, cycling through SENTENCES."""
    from hymt_cli.engines.base import Request
    from hymt_cli.languages import LANGUAGES

    targets = [LANGUAGES["de"], LANGUAGES["zh"], LANGUAGES["fr"]]
    return [
        Request(" ".join([SENTENCES[i % len(SENTENCES)]] * (1 + i % 3)), targets[i % 3])
        for i in range(count)
    ]


def reference_generate(engine: object) -> Callable:
    """A stand-in for `HFEngine._generate`: transformers' `generate`, no eviction."""
    import torch

    from hymt_cli.engines.hf_generate import left_pad

    def run(prompts: list[list[int]], batch: list) -> list[list[int]]:
        budgets = [engine.budget(r) for r in batch]
        stops = sorted(engine.stop_ids)
        ids, mask = left_pad(prompts, engine.pad_id, torch.device("cpu"))
        out = engine.model.generate(
            input_ids=ids, attention_mask=mask, max_new_tokens=max(budgets),
            do_sample=False, eos_token_id=stops, pad_token_id=engine.pad_id,
        )[:, ids.shape[1] :].tolist()
        return [_until_stop(row[:b], stops) for row, b in zip(out, budgets)]

    return run


def _until_stop(row: list[int], stops: list[int]) -> list[int]:
    return next((row[:i] for i, token in enumerate(row) if token in stops), row)


def worker(
    model_dir: str, mode: str, batch_size: int, count: int, threads: int
) -> dict:
    """Time one configuration in this process; returns its measurements."""
    from hymt_cli.engines.hf import HFEngine

    engine = HFEngine(
        model_dir, device="cpu", dtype="float32", batch_size=batch_size, threads=threads
    )
    work = requests(count)
    engine.translate_batch(work[:2])  # warm-up: load, first kernels
    generate = engine._generate if mode == "engine" else reference_generate(engine)
    tokens = 0

    def counted(prompts: list[list[int]], batch: list) -> list[list[int]]:
        nonlocal tokens
        outputs = generate(prompts, batch)
        tokens += sum(len(o) for o in outputs)
        return outputs

    engine._generate = counted  # type: ignore[method-assign]
    start = time.perf_counter()
    engine.translate_batch(work)
    wall = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"tokens": tokens, "wall_s": wall, "peak_rss_mib": peak_kib / 1024}


def run_config(
    model_dir: Path, mode: str, batch_size: int, count: int, threads: int
) -> dict:
    """Run `worker` in a fresh interpreter and parse its JSON line."""
    command = [
        sys.executable, __file__, "--worker", str(model_dir), "--mode", mode,
        "--batch-size", str(batch_size), "--requests", str(count),
        "--threads", str(threads),
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def build(size: str, directory: Path) -> Path:
    """Build the random model `size` under `directory`."""
    sys.path.insert(0, str(ROOT))
    from tests.tiny_model import build_tiny_model

    return build_tiny_model(directory / size, **SIZES[size])


def configs(batch_size: int) -> list[tuple[str, str, int]]:
    """(label, worker mode, batch size) for every configuration measured."""
    return [
        ("engine, sequential", "engine", 1),
        (f"engine, batched {batch_size}", "engine", batch_size),
        (f"transformers generate, batched {batch_size}", "reference", batch_size),
    ]


def table(rows: list[tuple[str, str, dict]]) -> str:
    """Markdown table of the measurements."""
    lines = [
        "| model | mode | kept tokens | wall s | tok/s | peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for size, mode, r in rows:
        rate = r["tokens"] / r["wall_s"]
        lines.append(
            f"| {size} | {mode} | {r['tokens']} | {r['wall_s']:.2f} | {rate:.0f} "
            f"| {r['peak_rss_mib']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Benchmark every size sequentially (batch 1) and batched; write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="tiny,small")
    parser.add_argument("--requests", type=int, default=24)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--worker", metavar="MODEL_DIR")
    parser.add_argument("--mode", choices=["engine", "reference"], default="engine")
    args = parser.parse_args(argv)
    if args.worker:
        options = (args.batch_size, args.requests, args.threads)
        result = worker(args.worker, args.mode, *options)
        print(json.dumps(result))
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            model_dir = build(size, Path(tmp))
            for label, mode, batch in configs(args.batch_size):
                result = run_config(model_dir, mode, batch, args.requests, args.threads)
                rows.append((size, label, result))
    command = sys.argv if argv is None else ["cpu_engine.py", *argv]
    write_report(table(rows), command, args)
    print(table(rows))
    return 0


def write_report(body: str, argv: list[str], args: argparse.Namespace) -> None:
    """Write RESULTS with the date, the command and the machine."""
    import torch

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    command = "python benchmarks/cpu_engine.py " + " ".join(argv[1:])
    RESULTS.write_text(
        f"# hf engine on CPU: sequential vs batched\n\n"
        f"- date: {dt.datetime.now().isoformat(timespec='seconds')}\n"
        f"- command: `{command.strip()}`\n"
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, torch "
        f"{torch.__version__}, {args.threads} threads, float32, {args.requests} "
        "requests, random weights\n"
        f"- sizes: {json.dumps({s: SIZES[s] for s in args.sizes.split(',')})}\n"
        f"- load average at the end (other jobs share this machine): {load}\n\n"
        f"{body}\n"
    )


if __name__ == "__main__":
    raise SystemExit(main())
