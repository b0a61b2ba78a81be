"""CPU decode speed: the hf engine's loop vs the llamacpp engine's, same random model.

Usage: python benchmarks/llamacpp_cpu.py [--shape 1.8b|small] [--threads 2]
       [--quants F16,Q8_0,Q4_K_M] [--batch 8,16] [--repeats 3] [--workdir DIR]

Builds a random HunYuanDenseV1 (bf16 safetensors) of the chosen shape, converts
it with `hymt_cli.gguf_convert` to F16 GGUF and quantises it with llama.cpp, then
times, in this one process and on the same prompt ids: bs1 (one prompt) and
batched (each `--batch` size) greedy generation of `--new` tokens after `--prompt`
tokens, no stop tokens. *decode* tok/s excludes the prefill (timed from the first
decode step); *end-to-end* is all generated tokens over the whole call.
Medians of `--repeats` runs after one warm-up. Writes
benchmarks/results/llamacpp_cpu.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "llamacpp_cpu.md"
SHAPES = {
    "1.8b": {"hidden": 2048, "layers": 32, "heads": 16, "kv_heads": 4, "inter": 6144,
             "vocab": 120818},
    "small": {"hidden": 512, "layers": 8, "heads": 8, "kv_heads": 2, "inter": 1536,
              "vocab": 120818},
}
Mark = Callable[[int], None]
"""Called at every step with the number of sequences that get a token from it."""
Generate = Callable[[list[list[int]], int, Mark], list[list[int]]]


def build_hf(directory: Path, shape: dict[str, int]) -> Path:
    """A random bf16 HunYuanDenseV1 of `shape` with the tiny test tokenizer."""
    import torch
    from transformers import HunYuanDenseV1Config, HunYuanDenseV1ForCausalLM

    from tests.tiny_model import build_tokenizer

    if (directory / "config.json").is_file():
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    build_tokenizer(directory)
    config = HunYuanDenseV1Config(
        vocab_size=shape["vocab"], hidden_size=shape["hidden"],
        intermediate_size=shape["inter"], num_hidden_layers=shape["layers"],
        num_attention_heads=shape["heads"], num_key_value_heads=shape["kv_heads"],
        head_dim=shape["hidden"] // shape["heads"], max_position_embeddings=32768,
        tie_word_embeddings=True, bos_token_id=0, eos_token_id=1, pad_token_id=2,
        rope_parameters={"rope_type": "dynamic", "rope_theta": 10000.0,
                         "alpha": 1000.0, "factor": 1.0},
    )
    torch.manual_seed(0)
    torch.set_default_dtype(torch.bfloat16)
    try:
        model = HunYuanDenseV1ForCausalLM(config).eval()
    finally:
        torch.set_default_dtype(torch.float32)
    model.save_pretrained(directory)
    return directory


def build_ggufs(hf_dir: Path, work: Path, quants: list[str]) -> dict[str, Path]:
    """F16 GGUF plus the requested llama.cpp quantisations (cached in `work`)."""
    from hymt_cli.gguf_convert import convert, quantize_gguf

    files = {"F16": work / "model-F16.gguf"}
    if not files["F16"].is_file():
        convert(hf_dir, files["F16"], "f16")
    for kind in quants:
        if kind != "F16":
            files[kind] = work / f"model-{kind}.gguf"
            if not files[kind].is_file():
                quantize_gguf(files["F16"], files[kind], kind)
    return {k: files[k] for k in quants}


def hf_runner(hf_dir: Path, dtype: str, threads: int) -> tuple[Generate, Callable]:
    """The hf engine's decode loop (`hf_generate.generate`); it marks a step after
    its forward pass."""
    import torch

    from hymt_cli.engines import hf_loading
    from hymt_cli.engines.hf_generate import generate

    hf_loading.set_threads(threads)
    model = hf_loading.load_model(hf_dir, torch.device("cpu"), getattr(torch, dtype))

    def run(prompts: list[list[int]], new: int, mark: Mark) -> list:
        return generate(model, prompts, pad_id=2, stop_ids=[],
                        max_new_tokens=[new] * len(prompts),
                        observer=lambda rows, cache: mark(rows))

    return run, lambda: None


def llama_runner(path: Path, threads: int, batch: int, ctx: int
                 ) -> tuple[Generate, Callable]:
    """The llamacpp engine's batched decoder on one GGUF file; it marks a step
    before its `llama_decode`."""
    from hymt_cli.engines.llamacpp_decode import BatchDecoder
    from hymt_cli.engines.llamacpp_runtime import LlamaModel

    llm = LlamaModel(path, n_ctx=ctx, n_seq=batch, threads=threads)
    decoder = BatchDecoder(llm)

    def run(prompts: list[list[int]], new: int, mark: Mark) -> list:
        decoder.observer = mark
        return decoder.generate(prompts, [], [new] * len(prompts))

    return run, llm.close


def measure(run: Generate, prompts: list[list[int]], new: int, after: bool
            ) -> tuple[float, float]:
    """(decode tok/s once every prompt is prefilled, tok/s of the whole call);
    `after`: the runner marks steps after its forward pass, not before."""
    marks: list[tuple[float, int]] = []
    start = time.perf_counter()
    outputs = run(prompts, new, lambda rows: marks.append((time.perf_counter(), rows)))
    end = time.perf_counter()
    produced = sum(len(o) for o in outputs)
    assert produced == new * len(prompts), "random weights must not stop early"
    # The last prefill step is the first that gives every prompt a token; decode
    # time starts when it ends: at its mark (after) or at the next one (before).
    full = next(i for i, (_, rows) in enumerate(marks) if rows == len(prompts))
    first = full if after else full + 1
    tokens = sum(rows for _, rows in marks[first + int(after):])
    decode = tokens / (end - marks[first][0]) if first < len(marks) else 0.0
    return decode, produced / (end - start)


def bench(run: Generate, args: argparse.Namespace, prompts: list[list[int]],
          repeats: int, after: bool) -> dict[int, tuple[float, float]]:
    """Median (decode, end-to-end) tok/s per batch size, after a short warm-up."""
    run(prompts[:1], 4, lambda rows: None)
    result = {}
    for size in [1, *args.batches]:
        runs = [measure(run, prompts[:size], args.new, after) for _ in range(repeats)]
        result[size] = (statistics.median(d for d, _ in runs),
                        statistics.median(t for _, t in runs))
    return result


def prompt_ids(count: int, length: int, vocab: int = 600) -> list[list[int]]:
    """`count` fixed pseudo-random prompts of `length` ordinary token ids."""
    import random

    rng = random.Random(0)
    return [[rng.randrange(10, vocab) for _ in range(length)] for _ in range(count)]


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="1.8b")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quants", default="F16,Q8_0,Q4_K_M")
    parser.add_argument("--batch", default="8,16", help="batch sizes, comma-separated")
    parser.add_argument("--prompt", type=int, default=64)
    parser.add_argument("--new", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--hf-repeats", type=int, default=1,
                        help="runs of the (slow) transformers engine")
    parser.add_argument("--hf-dtype", default="bfloat16")
    parser.add_argument("--skip-hf", action="store_true")
    parser.add_argument("--workdir", type=Path,
                        default=Path("/tmp/hymt-llamacpp-bench"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Build, convert, time and write the results table."""
    args = parse(argv)
    args.batches = [int(b) for b in args.batch.split(",")]
    work = args.workdir / args.shape
    started = time.perf_counter()
    hf_dir = build_hf(work / "hf", SHAPES[args.shape])
    ggufs = build_ggufs(hf_dir, work, args.quants.split(","))
    print(f"models ready in {time.perf_counter() - started:.0f} s", flush=True)
    prompts = prompt_ids(max(args.batches), args.prompt)
    rows: dict[str, dict] = {}
    runners = [] if args.skip_hf else [(f"transformers {args.hf_dtype}", lambda:
                                        hf_runner(hf_dir, args.hf_dtype, args.threads))]
    ctx = max(args.batches) * (args.prompt + args.new) + 64
    for kind, path in ggufs.items():
        runners.append((f"llama.cpp {kind}", lambda p=path: llama_runner(
            p, args.threads, max(args.batches), ctx)))
    for label, make in runners:
        run, close = make()
        repeats = args.hf_repeats if label.startswith("transformers") else args.repeats
        rows[label] = bench(run, args, prompts, repeats,
                            after=label.startswith("transformers"))
        close()
        del run
        gc.collect()
        print(label, json.dumps({k: [round(x, 2) for x in v]
                                 for k, v in rows[label].items()}), flush=True)
    write_results(args, rows, ggufs)
    return 0


def write_results(args: argparse.Namespace, rows: dict[str, dict[int, tuple]],
                  ggufs: dict[str, Path]) -> None:
    """benchmarks/results/llamacpp_cpu.md: date, command, machine, table."""
    shape = SHAPES[args.shape]
    sizes = {f"llama.cpp {k}": p.stat().st_size / 2**30 for k, p in ggufs.items()}
    lines = [
        "# llamacpp engine vs hf engine on CPU (random weights)", "",
        f"- date: {dt.datetime.now().isoformat(timespec='minutes')}",
        "- command: `python benchmarks/llamacpp_cpu.py "
        + " ".join(sys.argv[1:] if argv_given() else []) + "`",
        f"- machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}",
        f"- model: random HunYuanDenseV1, shape `{args.shape}` (hidden "
        f"{shape['hidden']}, {shape['layers']} layers, {shape['heads']}/"
        f"{shape['kv_heads']} heads, inter {shape['inter']}, vocab {shape['vocab']})",
        f"- {args.prompt} prompt tokens, {args.new} generated (greedy, no stop), "
        f"{args.threads} threads, batch sizes 1,{args.batch}, median of "
        f"{args.repeats} (transformers: {args.hf_repeats}) after a warm-up", "",
        "| engine | file GiB | " + " | ".join(
            f"bs{b} decode | bs{b} end-to-end" for b in [1, *args.batches]) + " |",
        "|---|---:|" + "---:|---:|" * (1 + len(args.batches)),
    ]
    for label, row in rows.items():
        size = f"{sizes[label]:.2f}" if label in sizes else "-"
        cells = " | ".join(f"{d:.1f} | {t:.1f}" for d, t in row.values())
        lines.append(f"| {label} | {size} | {cells} |")
    lines += ["", "All speeds are generated tokens per second. *decode*: from the "
              "end of the last prefill step to the end; *end-to-end*: the whole "
              "call, prefill of all prompts included."]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")


def argv_given() -> bool:
    """Whether the script was started with options."""
    return len(sys.argv) > 1


if __name__ == "__main__":
    sys.exit(main())
