"""tokens/s and peak memory of the `hf` engine: sequential vs batched, float vs int4.

    python benchmarks/engine.py                          # CPU: tiny and small shapes
    python benchmarks/engine.py --device cuda            # CUDA: real 1.8B and 7B shapes

Random-weight HunYuanDenseV1 models are built with tests/tiny_model.py's builders
(real HY-MT shapes on CUDA: hidden, layers, heads, intermediate and vocabulary),
int4 variants with `hymt_cli.quantize` (GPTQ W4), and every configuration runs
through `HFEngine` -- the code `hymt translate` uses -- in a fresh subprocess, so
peak memory (RSS on CPU, `torch.cuda.max_memory_allocated` on CUDA) is its own.
One warm-up batch precedes the timed run. Random weights seldom stop early, so
requests run to their budget: the numbers measure decoding, not quality.
Results go to benchmarks/results/engine-<device>.md.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHAPES = {
    "tiny": {"hidden": 64, "layers": 2, "heads": 4, "kv_heads": 2},
    "small": {"hidden": 512, "layers": 8, "heads": 8, "kv_heads": 2},
    "1.8b": {"hidden": 2048, "layers": 32, "heads": 16, "kv_heads": 4,
             "intermediate": 6144, "vocab": 120818},
    "7b": {"hidden": 4096, "layers": 32, "heads": 32, "kv_heads": 8,
           "intermediate": 14336, "vocab": 128167},
}
"""Model shapes; the last two are HY-MT1.5's (MODEL_FACTS.md)."""
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
    """`count` requests of varied length and target."""
    from hymt_cli.engines.base import Request
    from hymt_cli.languages import LANGUAGES

    targets = [LANGUAGES["de"], LANGUAGES["zh"], LANGUAGES["fr"]]
    return [Request(" ".join([SENTENCES[i % len(SENTENCES)]] * (1 + i % 3)),
                    targets[i % 3]) for i in range(count)]


def worker(args: argparse.Namespace) -> dict:
    """Time one configuration in this process."""
    import torch

    from hymt_cli.engines.hf import HFEngine
    from hymt_cli.engines.options import HFOptions

    engine = HFEngine(HFOptions(args.worker, device=args.device, dtype=args.dtype,
                      batch_size=args.batch_size, threads=args.threads,
                      max_new_tokens=args.new_tokens))
    work = requests(args.requests)
    engine.translate_batch(work[: args.batch_size])  # warm-up: load, first kernels
    if args.device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    tokens = 0
    generate = engine.generate

    def counted(prompts: list[list[int]], budgets: list[int],
                sampling: object = None) -> list[list[int]]:
        nonlocal tokens
        outputs = generate(prompts, budgets, sampling)
        tokens += sum(len(o) for o in outputs)
        return outputs

    engine.generate = counted  # type: ignore[method-assign]
    start = time.perf_counter()
    engine.translate_batch(work)
    if args.device == "cuda":
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"tokens": tokens, "wall_s": time.perf_counter() - start, "peak_mib": peak}


def build(shape: str, directory: Path) -> Path:
    """A random model of `shape` (vocabulary padded to the real size if given)."""
    sys.path.insert(0, str(ROOT))
    from tests.tiny_model import build_model, build_tokenizer

    spec = dict(SHAPES[shape])
    vocab = spec.pop("vocab", None)
    target = directory / shape
    target.mkdir(parents=True)
    build_tokenizer(target)
    if vocab:  # a real HY-MT shape: real vocabulary, saved in bf16 (7B: 15 GB)
        _pad_vocabulary(target, vocab)
        spec["dtype"] = "bfloat16"
    build_model(target, **spec)
    return target


def _pad_vocabulary(directory: Path, size: int) -> None:
    """Add placeholder tokens so the embedding and lm_head have the real size."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(directory)
    tokenizer.add_tokens([f"<pad_{i}>" for i in range(size - len(tokenizer))])
    tokenizer.save_pretrained(directory)


def quantized(model_dir: Path, device: str) -> Path:
    """GPTQ W4 copy of `model_dir` (group 128, or 32 for the tiny shape)."""
    from hymt_cli.quantize import quantize

    group = 32 if "tiny" in model_dir.name else 128
    return quantize(model_dir, model_dir.with_name(model_dir.name + "-int4"),
                    group_size=group, device=device, samples=16)


def measure(model_dir: Path, args: argparse.Namespace, dtype: str, batch: int) -> dict:
    """Run `worker` in a fresh interpreter and parse its JSON line."""
    command = [sys.executable, __file__, "--worker", str(model_dir), "--device",
               args.device, "--dtype", dtype, "--batch-size", str(batch), "--requests",
               str(args.requests), "--threads", str(args.threads), "--new-tokens",
               str(args.new_tokens)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_all(args: argparse.Namespace, tmp: Path) -> list[tuple[str, str, dict]]:
    """Every shape x weights x batching configuration."""
    rows = []
    float_dtype = "bfloat16" if args.device == "cuda" else "float32"
    for shape in args.shapes.split(","):
        source = build(shape, tmp)
        variants = [(float_dtype.replace("bfloat16", "bf16").replace("float32", "fp32"),
                     source, float_dtype)]
        if not args.no_int4:
            variants.append(("int4", quantized(source, args.device), float_dtype))
        for weights, model_dir, dtype in variants:
            for batch in (1, args.batch_size):
                mode = "sequential" if batch == 1 else f"batched {batch}"
                rows.append((f"{shape} {weights}", mode,
                             measure(model_dir, args, dtype, batch)))
    return rows


def table(rows: list[tuple[str, str, dict]]) -> str:
    """Markdown table of the measurements."""
    lines = ["| model | mode | tokens | wall s | tok/s | peak MiB |",
             "|---|---|---:|---:|---:|---:|"]
    for model, mode, r in rows:
        lines.append(f"| {model} | {mode} | {r['tokens']} | {r['wall_s']:.2f} "
                     f"| {r['tokens'] / r['wall_s']:.0f} | {r['peak_mib']:.0f} |")
    return "\n".join(lines)


def write_report(body: str, args: argparse.Namespace) -> Path:
    """Write the results file with date, command and machine."""
    import torch

    path = ROOT / "benchmarks" / "results" / f"engine-{args.device}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    gpu = torch.cuda.get_device_name() if args.device == "cuda" else "none"
    memory = "torch.cuda.max_memory_allocated" if args.device == "cuda" else "peak RSS"
    path.write_text(
        f"# hf engine: sequential vs batched, float vs int4 ({args.device})\n\n"
        f"- date: {dt.datetime.now().isoformat(timespec='seconds')}\n"
        f"- command: `python benchmarks/engine.py {' '.join(sys.argv[1:])}`\n"
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, GPU {gpu}, torch "
        f"{torch.__version__}, {args.threads} threads, {args.requests} requests, "
        f"max {args.new_tokens} new tokens, random weights\n"
        f"- peak MiB: {memory}; load average at the end: "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}\n\n{body}\n")
    return path


def main(argv: list[str] | None = None) -> int:
    """Build, quantise, measure, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--shapes", default=None)
    parser.add_argument("--requests", type=int, default=24)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--no-int4", action="store_true")
    parser.add_argument("--worker", metavar="MODEL_DIR")
    parser.add_argument("--dtype", default="float32")
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args)))
        return 0
    args.shapes = args.shapes or ("1.8b,7b" if args.device == "cuda" else "tiny,small")
    with tempfile.TemporaryDirectory() as tmp:
        rows = run_all(args, Path(tmp))
    print(table(rows))
    print(f"written to {write_report(table(rows), args)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
