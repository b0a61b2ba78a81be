"""`--model` resolution: aliases, local directories, and the offline Hugging Face cache.

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


def _from_cache(repo_id: str, cache: Path) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(
            snapshot_download(repo_id, cache_dir=cache, local_files_only=True)
        )
    except (LocalEntryNotFoundError, FileNotFoundError, ValueError):
        raise _missing(repo_id, cache) from None


def resolve_model(spec: str = DEFAULT_MODEL) -> ResolvedModel:
    """Turn an alias, a directory or a hub id into a local model directory."""
    from hymt_cli.engines.llamacpp_model import is_gguf_spec

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
