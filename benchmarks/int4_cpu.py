"""fp32 / bf16 vs GPTQ int4 greedy decoding on CPU, on a random HunYuanDenseV1.

    python benchmarks/int4_cpu.py [--hidden 512] [--layers 4] [--new-tokens 64]

Builds a random model (tests/tiny_model.py builders, with bigger dims), quantises
it with `hymt_cli.quantize`, then times each variant in its own subprocess so that
peak RSS is per variant. One warm-up generation precedes the timed one. Results go
to benchmarks/results/int4_cpu.md. Random weights: speed and memory only, no quality.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "int4_cpu.md"
PROMPT = "Translate the following segment into German, without additional explanation."
VARIANTS = [
    ("fp32", "src", "float32"),
    ("bf16", "src", "bfloat16"),
    ("int4 (fp32 act)", "int4", "float32"),
    ("int4 (bf16 act)", "int4", "bfloat16"),
]


def _rss_mib() -> float:
    """Current resident set size (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _import_quant_libraries() -> None:
    try:
        import gptqmodel  # noqa: F401
        import optimum  # noqa: F401
    except ImportError:
        pass


def child(model_dir: Path, dtype: str, new_tokens: int, threads: int) -> dict:
    """Load one variant, warm up, time greedy decoding; returns the measurements."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(threads)
    _import_quant_libraries()  # same import footprint in every variant
    baseline = _rss_mib()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    started = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, dtype))
    load_s = time.perf_counter() - started
    batch = tokenizer(PROMPT, return_tensors="pt")
    options = {"do_sample": False, "max_new_tokens": new_tokens}
    options["min_new_tokens"] = new_tokens
    with torch.inference_mode():
        model.eval().generate(**batch, **options)  # warm-up
        started = time.perf_counter()
        model.generate(**batch, **options)
        seconds = time.perf_counter() - started
    weights = sum(f.stat().st_size for f in model_dir.glob("*.safetensors"))
    return {
        "tok_s": new_tokens / seconds,
        "load_s": load_s,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "model_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        - baseline,
        "weights_mib": weights / 2**20,
        "prompt_tokens": int(batch["input_ids"].shape[1]),
    }


def build(work: Path, hidden: int, layers: int) -> tuple[Path, Path]:
    """A random source model and its int4 (group 128) quantisation."""
    sys.path.insert(0, str(ROOT))
    from hymt_cli.quantize import quantize
    from tests.tiny_model import build_tiny_model

    heads = max(hidden // 64, 1)
    source = build_tiny_model(
        work / "src",
        hidden=hidden,
        layers=layers,
        heads=heads,
        kv_heads=max(heads // 4, 1),
    )
    return source, quantize(source, work / "int4", group_size=128, samples=64)


def run_child(model_dir: Path, dtype: str, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--child", str(model_dir), dtype,
               "--new-tokens", str(args.new_tokens), "--threads", str(args.threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(rows: list[tuple[str, dict]], args: argparse.Namespace) -> str:
    """The results as a markdown section."""
    lines = [
        f"# int4 vs fp32/bf16 on CPU ({datetime.date.today().isoformat()})", "",
        f"Command: `python benchmarks/int4_cpu.py --hidden {args.hidden} --layers "
        f"{args.layers} --new-tokens {args.new_tokens} --threads {args.threads}`", "",
        f"Random HunYuanDenseV1 (hidden {args.hidden}, {args.layers} layers, "
        f"intermediate {3 * args.hidden}, vocab ~600), batch 1, greedy, "
        f"{rows[0][1]['prompt_tokens']}-token prompt, {args.new_tokens} new tokens, "
        f"{args.threads} threads, {os.cpu_count()} CPUs (load average "
        f"{os.getloadavg()[0]:.1f} at the end); int4 = GPTQ W4 g128 sym.", "",
        "Peak RSS is the whole process (torch, transformers and gptqmodel imported in "
        "every variant); above imports = peak minus RSS after those imports.", "",
        "| variant | tok/s | peak RSS MiB | above imports MiB | weights MiB | load s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows:
        lines.append(
            f"| {name} | {r['tok_s']:.1f} | {r['peak_rss_mib']:.0f} | "
            f"{r['model_rss_mib']:.0f} | {r['weights_mib']:.1f} | {r['load_s']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Parse arguments; run the benchmark or, with --child, one variant."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--child", nargs=2, metavar=("DIR", "DTYPE"))
    args = parser.parse_args(argv)
    if args.child:
        directory, dtype = Path(args.child[0]), args.child[1]
        result = child(directory, dtype, args.new_tokens, args.threads)
        print(json.dumps(result))
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory(prefix="hymt-bench-") as work:
        dirs = dict(zip(("src", "int4"), build(Path(work), args.hidden, args.layers)))
        rows = [(name, run_child(dirs[k], dtype, args)) for name, k, dtype in VARIANTS]
    text = report(rows, args)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
