"""`--model` resolution: aliases, local directories, GGUF files, the offline hub cache.

The one place models are looked up, before any engine work: engines depend on
this module, never the reverse.

Nothing here touches the network: hub ids are looked up in the local cache only
(`local_files_only=True`), so a missing model fails fast with a hint instead of a
download attempt on a machine that may have no route to the hub.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from hymt_cli.errors import UsageError

ALIASES: dict[str, str] = {
    "1.8b": "tencent/HY-MT1.5-1.8B",
    "7b": "tencent/HY-MT1.5-7B",
    "1.8b-int4": "tencent/HY-MT1.5-1.8B-GPTQ-Int4",
    "7b-int4": "tencent/HY-MT1.5-7B-GPTQ-Int4",
    "1.8b-fp8": "tencent/HY-MT1.5-1.8B-FP8",
    "7b-fp8": "tencent/HY-MT1.5-7B-FP8",
}
"""Short names users may pass to `--model`."""

DEFAULT_MODEL = "1.8b"

GGUF_ALIASES: dict[str, str] = {
    "1.8b-gguf": "tencent/HY-MT1.5-1.8B-GGUF",
    "7b-gguf": "tencent/HY-MT1.5-7B-GGUF",
}
"""Short names for Tencent's GGUF repos."""
DEFAULT_GGUF_MODEL = "1.8b-gguf"
DEFAULT_GGUF_FILE = "Q4_K_M"
"""Picked when a repo or directory holds several GGUF files and none is named."""


class ModelNotFound(UsageError, LookupError):
    """The model is neither a local directory nor in the local Hugging Face cache."""


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """Where a `--model` value points."""

    spec: str
    """What the user typed."""
    path: Path
    """A directory holding config.json, tokenizer and weights."""
    repo_id: str | None = None
    """The hub id when it came from the cache; None for a local directory."""


@dataclass(frozen=True, slots=True)
class ResolvedGGUF:
    """Where a `--model` value for the llamacpp engine points."""

    spec: str
    """What the user typed."""
    path: Path
    """The GGUF file."""
    repo_id: str | None = None
    """The hub repo when it came from the cache; None for local files."""


def hub_cache_dir() -> Path:
    """The hub cache directory, read from the environment at call time."""
    if cache := os.environ.get("HF_HUB_CACHE"):
        return Path(cache).expanduser()
    home = os.environ.get("HF_HOME")
    if home:
        return Path(home).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME", "~/.cache")
    return Path(xdg).expanduser() / "huggingface" / "hub"


def expand_alias(spec: str) -> str:
    """The hub id for an alias such as `1.8b`; other values unchanged."""
    return ALIASES.get(spec.strip().lower(), spec.strip())


def _looks_like_path(spec: str) -> bool:
    # A hub id is `name` or `owner/name`; anything else is meant as a directory.
    return spec.startswith((".", "/", "~")) or spec.count("/") > 1 or "\\" in spec


def _local_dir(spec: str) -> Path | None:
    path = Path(spec).expanduser()
    if not path.is_dir():
        if _looks_like_path(spec):
            raise ModelNotFound(f"model directory {spec!r} does not exist")
        return None
    if not (path / "config.json").is_file():
        raise ModelNotFound(f"{spec!r} is a directory but has no config.json")
    return path


def _missing(repo_id: str, cache: Path) -> ModelNotFound:
    return ModelNotFound(
        f"model {repo_id!r} is not a local directory and is not in the Hugging Face "
        f"cache {cache}; on a machine with hub access run `hf download {repo_id}` "
        f"(older clients: `huggingface-cli download {repo_id}`) and copy the cache "
        "here, pass --model /path/to/model-dir, or point HF_HOME / HF_HUB_CACHE at "
        "the cache that holds it"
    )


def _missing_gguf(repo_id: str, cache: Path) -> ModelNotFound:
    return ModelNotFound(
        f"GGUF model {repo_id!r} is not in the Hugging Face cache {cache}; on a "
        f"machine with hub access run `hf download {repo_id} --include "
        f"'*{DEFAULT_GGUF_FILE}*'` and copy the cache here, pass --model "
        "/path/to/file.gguf, or point HF_HOME / HF_HUB_CACHE at the cache")


def _from_cache(repo_id: str, cache: Path, gguf: bool = False) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(
            snapshot_download(repo_id, cache_dir=cache, local_files_only=True)
        )
    except (LocalEntryNotFoundError, FileNotFoundError, ValueError):
        missing = _missing_gguf if gguf else _missing
        raise missing(repo_id, cache) from None


def resolve_model(spec: str = DEFAULT_MODEL) -> ResolvedModel:
    """Turn an alias, a directory or a hub id into a local model directory."""
    if is_gguf_spec(spec):
        raise ModelNotFound(f"{spec} is a GGUF model: use --engine llamacpp")
    local = _local_dir(spec)
    if local is not None:
        return ResolvedModel(spec, local)
    repo_id = expand_alias(spec)
    cache = hub_cache_dir()
    path = _from_cache(repo_id, cache)
    if not (path / "config.json").is_file():
        raise _missing(repo_id, cache)
    return ResolvedModel(spec, path, repo_id)


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
    snapshot = _from_cache(repo_id, hub_cache_dir(), gguf=True)
    file = pick_gguf_file(_gguf_files(snapshot), gguf_file, repo_id)
    return ResolvedGGUF(spec, file, repo_id)
