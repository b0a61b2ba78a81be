"""What identifies a GGUF file and the CPU it runs on (no llama_cpp here).

Finding the file is `hymt_cli.models.resolve_gguf`'s job; this module only digests
it for the engine's fingerprint and counts the cores llama.cpp should use.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

HEADER_BYTES = 16 << 20
"""Bytes hashed for the fingerprint: GGUF metadata and tensor infos fit in this."""


def header_digest(path: Path) -> str:
    """sha256 (12 hex digits) of the file's first 16 MiB and its size: the GGUF
    header, metadata and tensor table, which differ between builds and quants."""
    digest = hashlib.sha256(str(path.stat().st_size).encode())
    with path.open("rb") as handle:
        digest.update(handle.read(HEADER_BYTES))
    return digest.hexdigest()[:12]


def physical_cores() -> int:
    """Physical cores this process may use (llama.cpp gains nothing from SMT)."""
    try:
        allowed = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        allowed = os.cpu_count() or 1
    cores: set[tuple[str, str]] = set()
    try:
        physical = ""
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "physical id":
                physical = value.strip()
            elif key.strip() == "core id":
                cores.add((physical, value.strip()))
    except OSError:
        pass
    return max(1, min(allowed, len(cores) or allowed))
