"""GGUF model resolution and identity for the `llamacpp` engine (no llama_cpp here).

`--model` may be a `.gguf` file, a directory or cached hub repo holding GGUF files
(the file picked by `gguf_file`, default the Q4_K_M one), or an alias such as
`1.8b-gguf`. Hub repos are looked up in the local Hugging Face cache only.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from hymt_cli.models import ModelNotFound, hub_cache_dir

GGUF_ALIASES: dict[str, str] = {
    "1.8b-gguf": "tencent/HY-MT1.5-1.8B-GGUF",
    "7b-gguf": "tencent/HY-MT1.5-7B-GGUF",
}
"""Short names for Tencent's GGUF repos."""
DEFAULT_GGUF_MODEL = "1.8b-gguf"
DEFAULT_GGUF_FILE = "Q4_K_M"
"""Picked when a repo or directory holds several GGUF files and none is named."""
HEADER_BYTES = 16 << 20
"""Bytes hashed for the fingerprint: GGUF metadata and tensor infos fit in this."""


@dataclass(frozen=True, slots=True)
class ResolvedGGUF:
    """Where a `--model` value for the llamacpp engine points."""

    spec: str
    """What the user typed."""
    path: Path
    """The GGUF file."""
    repo_id: str | None = None
    """The hub repo when it came from the cache; None for local files."""


def is_gguf_spec(spec: str) -> bool:
    """Whether `spec` names a GGUF model: a .gguf path, a GGUF alias or repo id."""
    value = spec.strip()
    return (value.lower().endswith(".gguf") or value.lower() in GGUF_ALIASES
            or value.upper().endswith("-GGUF"))


def pick_gguf_file(files: list[Path], choice: str | None, where: str) -> Path:
    """The file named `choice` (full name or a part such as `Q8_0`, any case), or
    the Q4_K_M file, or the only file."""
    if not files:
        raise ModelNotFound(f"{where} holds no .gguf files")
    wanted = choice or DEFAULT_GGUF_FILE
    exact = [f for f in files if f.name == wanted]
    matches = exact or [f for f in files if wanted.lower() in f.name.lower()]
    if len(matches) == 1:
        return matches[0]
    if choice is None and len(files) == 1:
        return files[0]
    names = ", ".join(sorted(f.name for f in files))
    problem = "several files match" if matches else "no file matches"
    raise ModelNotFound(f"{problem} {wanted!r} in {where} (files: {names}); "
                        "pass gguf_file (--gguf-file) with one of them")


def _gguf_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir()
                  if p.suffix.lower() == ".gguf" and p.is_file())


def _missing(repo_id: str, cache: Path) -> ModelNotFound:
    return ModelNotFound(
        f"GGUF model {repo_id!r} is not in the Hugging Face cache {cache}; on a "
        f"machine with hub access run `hf download {repo_id} --include "
        f"'*{DEFAULT_GGUF_FILE}*'` and copy the cache here, pass --model "
        "/path/to/file.gguf, or point HF_HOME / HF_HUB_CACHE at the cache")


def _from_cache(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    cache = hub_cache_dir()
    try:
        return Path(snapshot_download(repo_id, cache_dir=cache, local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, ValueError):
        raise _missing(repo_id, cache) from None


def resolve_gguf(spec: str = DEFAULT_GGUF_MODEL, gguf_file: str | None = None
                 ) -> ResolvedGGUF:
    """A GGUF file from a path, a directory, an alias or a cached hub repo."""
    value = spec.strip()
    path = Path(value).expanduser()
    if path.is_file():
        return ResolvedGGUF(spec, path)
    if path.is_dir():
        return ResolvedGGUF(spec, pick_gguf_file(_gguf_files(path), gguf_file, value))
    if value.lower().endswith(".gguf") or value.startswith((".", "/", "~")):
        raise ModelNotFound(f"GGUF file {value!r} does not exist")
    repo_id = GGUF_ALIASES.get(value.lower(), value)
    snapshot = _from_cache(repo_id)
    file = pick_gguf_file(_gguf_files(snapshot), gguf_file, repo_id)
    return ResolvedGGUF(spec, file, repo_id)


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
