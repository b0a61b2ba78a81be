"""A new user's first run: the README's install, then `hymt translate` with nothing
but a file and a language, the model fetched on first use.

Usage: python benchmarks/first_run.py [--install] [--page README.md]

With `--install`: a fresh clone of this repository's HEAD, a fresh virtualenv and
an empty pip cache (`PIP_NO_CACHE_DIR=1`), then the README's first set-up
command, timed (llama-cpp-python compiles llama.cpp from source in it). Always:
the tiny random HY-MT model's GGUF served by the loopback hub of
`tests/fake_hub.py` as `tencent/HY-MT1.5-1.8B-GGUF` (`HF_ENDPOINT`), an empty
Hugging Face cache, and `hymt translate PAGE --to ja` timed twice in a
subprocess: the first run downloads and translates, the second finds the model
in the cache (the hub stopped). Writes benchmarks/results/first_run.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "first_run.md"
GGUF_REPO = "tencent/HY-MT1.5-1.8B-GGUF"
GGUF_NAME = "HY-MT1.5-1.8B-Q4_K_M.gguf"


def readme_install_command() -> str:
    """The README's first set-up command, as written there."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Set up", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return block.strip()


def time_install(work: Path) -> tuple[float, str]:
    """Seconds of the README install in a fresh clone with a cold pip cache."""
    clone = work / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    command = readme_install_command()
    env = os.environ | {"PIP_NO_CACHE_DIR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    start = time.perf_counter()
    subprocess.run(["bash", "-c", command], cwd=clone, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, command


def time_first_runs(work: Path, page: Path) -> list[tuple[str, float, int]]:
    """(what, seconds, bytes fetched) for the downloading run and the cached one."""
    from tests.fake_hub import FakeHub
    from tests.tiny_gguf import build_tiny_gguf

    _, gguf = build_tiny_gguf(work / "model")
    home = work / "home"
    shutil.copy(page, work / page.name)
    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HYMT_BASE_URL")}
    env |= {"HF_HOME": str(home), "PYTHONPATH": str(ROOT), "NO_PROXY": "127.0.0.1"}
    command = [sys.executable, "-m", "hymt_cli", "translate", page.name, "--to", "ja"]
    rows = []
    with FakeHub() as hub:
        hub.add_repo(GGUF_REPO, {GGUF_NAME: gguf.read_bytes()})
        env["HF_ENDPOINT"] = hub.url
        start = time.perf_counter()
        subprocess.run(command, cwd=work, env=env, check=True)
        fetched = sum(len(hub.repos[GGUF_REPO].files[name]) for name in hub.fetched())
        rows.append(("first run: download + translate", time.perf_counter() - start,
                     fetched))
    (work / f"{page.stem}.ja{page.suffix}").unlink()
    start = time.perf_counter()
    subprocess.run([*command, "--no-memory"], cwd=work, env=env, check=True)
    rows.append(("second run: cached model, hub stopped", time.perf_counter() - start, 0))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--install", action="store_true")
    parser.add_argument("--page", type=Path, default=ROOT / "examples" / "guide.md")
    args = parser.parse_args(argv)
    lines = ["# A new user's first run", "",
             f"- date: {dt.datetime.now().isoformat(timespec='minutes')}",
             "- command: `python benchmarks/first_run.py " + " ".join(sys.argv[1:]) + "`",
             f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, load average "
             f"{os.getloadavg()[0]:.2f}", ""]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.install:
            seconds, command = time_install(work)
            lines += ["## Install (fresh clone, fresh virtualenv, no pip cache)", "",
                      f"`{command}`", "", f"**{seconds / 60:.1f} min** ({seconds:.0f} s)",
                      ""]
        rows = time_first_runs(work, args.page)
    lines += [f"## `hymt translate {args.page.name} --to ja`, tiny model from the "
              "loopback hub", "", "| run | seconds | bytes fetched |", "|---|---:|---:|"]
    lines += [f"| {what} | {seconds:.2f} | {fetched:,} |" for what, seconds, fetched in rows]
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
