"""Serving: `--engine openai` on llama.cpp's server vs the in-process llamacpp
engine, and `hymt serve` under concurrent clients.

Usage: python benchmarks/serve.py [--part engines,serve] [--shape 1.8b]
       [--concurrency 1,4,16] [--clients 1,8,32] [--segments 32] [--new 64]
       [--threads 2] [--llama-server PATH] [--workdir DIR]

Part `engines`: the random HunYuanDenseV1 of the real 1.8B shape as Q4_K_M GGUF
(built as `llamacpp_cpu.py` builds it, cached in --workdir), `--segments` HY-MT
prompts translated (a) by the llamacpp engine in this process with batch size C
and (b) by the openai engine against llama.cpp's `llama-server` with C parallel
slots and C requests in flight, for each C of --concurrency. Both generate up to
--new tokens per segment (random weights rarely stop early); tokens/s counts what
the engines report. Part `serve`: `hymt serve` in a subprocess, 1, 8 and 32
clients each sending its own documents and checking every answer: requests/s,
p50/p99 latency, tokens/s and the batching gain (32 clients / 1 client).
Writes benchmarks/results/serve.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
RESULTS = ROOT / "benchmarks" / "results" / "serve.md"
WORDS = ("the install guide explains how each release of the tool is built tested "
         "signed and published so that teams can update their sites without "
         "breaking links anchors or code samples in any language").split()


def sentences(count: int, words: int = 30) -> list[str]:
    """`count` distinct English sentences of about `words` words."""
    import random

    rng = random.Random(7)
    return [" ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + f" ({n})."
            for n in range(count)]


def build_model(work: Path, shape: str) -> Path:
    """The Q4_K_M GGUF of the random model (built once, then reused)."""
    from llamacpp_cpu import SHAPES, build_ggufs, build_hf

    hf_dir = build_hf(work / shape / "hf", SHAPES[shape])
    return build_ggufs(hf_dir, work / shape, ["Q4_K_M"])["Q4_K_M"]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until `url` answers 200 (or the process dies: its log is shown)."""
    import urllib.request

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"server did not start: {log.read_text()[-3000:]}")


def timed(engine: object, requests: list, size: int) -> tuple[float, int]:
    """(seconds, generated tokens) to translate `requests` `size` at a time."""
    tokens: list[int] = []
    engine.on_tokens = tokens.append  # type: ignore[attr-defined]
    engine.translate_batch(requests[:1])  # warm-up: load, first prefill
    tokens.clear()
    start = time.perf_counter()
    for first in range(0, len(requests), size):
        engine.translate_batch(requests[first : first + size])  # type: ignore[attr-defined]
    return time.perf_counter() - start, sum(tokens)


def engines_part(args: argparse.Namespace, gguf: Path) -> list[dict]:
    """Rows: per concurrency, in-process vs openai on llama-server tok/s."""
    from hymt_cli.engines import create
    from hymt_cli.engines.base import Request
    from hymt_cli.languages import resolve

    texts = sentences(args.segments)
    requests = [Request(t, resolve("de")) for t in texts]
    server = args.llama_server
    rows = []
    for size in args.concurrency:
        ctx = size * 1024
        local = create("llamacpp", model=str(gguf), batch_size=size,
                       threads=args.threads, max_new_tokens=args.new, n_ctx=ctx)
        local_s, local_tokens = timed(local, requests, size)
        local.llm.close()  # type: ignore[attr-defined]
        del local
        port = free_port()
        log = args.workdir / f"llama-server-{size}.log"
        process = subprocess.Popen(
            [server, "-m", str(gguf), "--host", "127.0.0.1", "--port", str(port),
             "-np", str(size), "-c", str(ctx), "-t", str(args.threads),
             "--alias", "hy-mt-random", "--no-webui"],
            stdout=log.open("wb"), stderr=subprocess.STDOUT)
        try:
            wait_for(f"http://127.0.0.1:{port}/health", process, log)
            remote = create("openai", base_url=(f"http://127.0.0.1:{port}/v1",),
                            concurrency=size, batch_size=size, max_new_tokens=args.new)
            remote_s, remote_tokens = timed(remote, requests, size)
            remote.close()  # type: ignore[attr-defined]
        finally:
            process.terminate()
            process.wait(30)
        row = {"c": size, "local_tps": local_tokens / local_s,
               "remote_tps": remote_tokens / remote_s, "local_tokens": local_tokens,
               "remote_tokens": remote_tokens}
        print(row, flush=True)
        rows.append(row)
    return rows


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", default="engines,serve")
    parser.add_argument("--shape", default="1.8b")
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--segments", type=int, default=32)
    parser.add_argument("--serve-engines", default="pseudo,llamacpp",
                        help="engines behind hymt serve: pseudo, llamacpp")
    parser.add_argument("--requests-per-level", type=int, default=64,
                        help="requests sent at each client count")
    parser.add_argument("--new", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--llama-server", default=shutil.which("llama-server"),
                        help="llama.cpp's server binary")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/hymt-llamacpp-bench"))
    args = parser.parse_args(argv)
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    args.clients = [int(c) for c in args.clients.split(",")]
    args.parts = args.part.split(",")
    args.serve_engines = args.serve_engines.split(",")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the parts asked for and write the results file."""
    args = parse(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    gguf = build_model(args.workdir, args.shape)
    engine_rows = []
    if "engines" in args.parts:
        if not args.llama_server:
            raise SystemExit("no llama-server binary: pass --llama-server PATH")
        engine_rows = engines_part(args, gguf)
    serve_rows = serve_part(args, gguf) if "serve" in args.parts else []
    write_results(args, gguf, engine_rows, serve_rows)
    return 0


def serve_part(args: argparse.Namespace, gguf: Path) -> list[dict]:
    """Rows: per engine and client count, requests/s, latency, tokens/s."""
    rows = []
    engines = {"pseudo": ["--engine", "pseudo"],
               "llamacpp": ["--engine", "llamacpp", "--model", str(gguf),
                            "--threads", str(args.threads),
                            "--max-new-tokens", str(args.new)]}
    for name in args.serve_engines:
        label, engine = (name if name == "pseudo" else f"llamacpp {gguf.stem}",
                         engines[name])
        port = free_port()
        log = args.workdir / f"hymt-serve-{label.split()[0]}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "hymt_cli", "serve", "--port", str(port),
             "--no-memory", "--protect", REQUEST_ID, "--timeout", str(SERVE_TIMEOUT_S),
             "--queue-size", str(max(args.clients)), *engine],
            stdout=log.open("wb"), stderr=subprocess.STDOUT,
            env=os.environ | {"PYTHONPATH": str(ROOT)})
        try:
            url = f"http://127.0.0.1:{port}"
            wait_for(f"{url}/healthz", process, log)
            post(url, 0, "Warm up the engine (0).")
            for clients in args.clients:
                rows.append({"engine": label, "clients": clients}
                            | load(url, clients, args.requests_per_level))
                print(rows[-1], flush=True)
        finally:
            process.terminate()
            process.wait(60)
    return rows


SERVE_TIMEOUT_S = 3600
"""The service's per-request limit here: 32 clients on 2 cores wait longer than
the default 300 s (they got 504), and this measures throughput, not the limit."""
REQUEST_ID = r"REQ-[0-9]+"
"""Each request carries its own id, protected, so it must come back in that
request's answer and no other: random weights cannot hide a mixed-up answer."""


def post(url: str, number: int, text: str) -> tuple[float, str, dict]:
    """(seconds, translation, report) of one /translate request."""
    import json
    import urllib.request

    body = json.dumps({"text": text, "target_lang": "de"}).encode()
    request = urllib.request.Request(f"{url}/translate", body,
                                     {"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as answer:
        data = json.loads(answer.read())
    return time.perf_counter() - start, data["translation"], data["report"]


def tokens_generated(url: str) -> float:
    import urllib.request

    with urllib.request.urlopen(f"{url}/metrics", timeout=30) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith("hymt_tokens_generated_total"):
                return float(line.split()[-1])
    return 0.0


def load(url: str, clients: int, total: int) -> dict:
    """`clients` threads sending `total` requests in all; every answer checked."""
    from concurrent.futures import ThreadPoolExecutor

    texts = sentences(total, words=24)
    ids = [f"REQ-{1000 + n}" for n in range(total)]
    jobs = [(n, f"Request {ids[n]}: {texts[n]}") for n in range(total)]

    def client(mine: list[tuple[int, str]]) -> list[tuple[float, bool]]:
        results = []
        for number, text in mine:
            seconds, answer, _ = post(url, number, text)
            own = ids[number] in answer
            others = [i for i in ids if i != ids[number] and i in answer]
            results.append((seconds, own and not others))
        return results

    before = tokens_generated(url)
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        done = list(pool.map(client, [jobs[c::clients] for c in range(clients)]))
    wall = time.perf_counter() - start
    tokens = tokens_generated(url) - before
    latencies = sorted(s for results in done for s, _ in results)
    wrong = sum(not ok for results in done for _, ok in results)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    return {"requests": total, "rps": total / wall, "p50": median(latencies),
            "p99": p99, "tps": tokens / wall, "wrong": wrong}


def write_results(args: argparse.Namespace, gguf: Path, engine_rows: list[dict],
                  serve_rows: list[dict]) -> None:
    """benchmarks/results/serve.md: date, command, machine, tables."""
    lines = [
        "# Serving: the openai engine on llama-server, and hymt serve", "",
        f"- date: {dt.datetime.now().isoformat(timespec='minutes')}",
        "- command: `python benchmarks/serve.py " + " ".join(sys.argv[1:]) + "`",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f}; {args.threads} threads per engine",
        f"- model: random HunYuanDenseV1 of the `{args.shape}` shape, "
        f"{gguf.name} ({gguf.stat().st_size / 2**30:.2f} GiB)",
    ]
    if engine_rows:
        lines += [
            "", "## `--engine openai` (llama-server, C slots, C requests in flight) vs "
            "the in-process `llamacpp` engine (batch C)", "",
            f"{args.segments} segments into German, up to {args.new} generated tokens "
            "each; generated tokens per second over the whole run after a warm-up.", "",
            "| C | in-process tok/s | openai tok/s | openai / in-process |",
            "|---:|---:|---:|---:|",
        ]
        for row in engine_rows:
            lines.append(f"| {row['c']} | {row['local_tps']:.1f} | {row['remote_tps']:.1f}"
                         f" | {row['remote_tps'] / row['local_tps']:.2f} |")
    if serve_rows:
        lines += serve_table(serve_rows)
    if not engine_rows or not serve_rows:  # keep the other part's last results
        lines += kept_sections(engines=not engine_rows, serve=not serve_rows)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")


def kept_sections(engines: bool, serve: bool) -> list[str]:
    """Sections of the results file to keep: a part not run this time."""
    if not RESULTS.is_file():
        return []
    kept = []
    for section in RESULTS.read_text(encoding="utf-8").split("\n## ")[1:]:
        mine = section.startswith("`--engine openai`")
        if (engines and mine) or (serve and not mine):
            kept += ["", "## " + section.rstrip("\n") + "\n\n(from an earlier run)"]
    return kept


def serve_table(rows: list[dict]) -> list[str]:
    """The `hymt serve` table, with the batching gain per engine."""
    lines = ["", "## `hymt serve`: concurrent clients, each checking its own answers", "",
             "Each request is one sentence carrying its own `REQ-n` id, protected "
             "(`--protect`), so an answer holding another request's id, or missing "
             "its own, counts as wrong. No memory (`--no-memory`).", "",
             "| engine | clients | requests | requests/s | p50 s | p99 s | tokens/s "
             "| wrong answers |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row['engine']} | {row['clients']} | {row['requests']} | "
                     f"{row['rps']:.2f} | {row['p50']:.3g} | {row['p99']:.3g} | "
                     f"{row['tps']:.1f} | {row['wrong']} |")
    for engine in dict.fromkeys(r["engine"] for r in rows):
        mine = [r for r in rows if r["engine"] == engine and r["tps"] > 0]
        if len(mine) > 1:
            gain = mine[-1]["tps"] / mine[0]["tps"]
            lines.append(f"\nBatching gain, {engine}: {gain:.2f}x the tokens/s of "
                         f"{mine[0]['clients']} client at {mine[-1]['clients']} clients.")
    return lines


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


if __name__ == "__main__":
    sys.exit(main())
