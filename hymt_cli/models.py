"""`--model` resolution: aliases, local directories, GGUF files, the hub cache.

The one place models are looked up, before any engine work: engines depend on
this module, never the reverse.

A hub id is looked up in the local cache first (`local_files_only=True`), so a
cached model never causes a network request. Only when it is missing, and the
network is allowed (no `--offline`, no HF_HUB_OFFLINE), are the files the engine
needs downloaded (`downloads`): one .gguf file of a GGUF repo, or the config,
tokenizer and safetensors files of a checkpoint. Offline, a missing model fails
fast with a hint.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hymt_cli import downloads
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
FULL_GGUF_FILE = "Q8_0"
"""The GGUF file `--quant full` picks: 8 bits, close to the bf16 weights."""
CHECKPOINT_FILES = (
    "config.json", "generation_config.json", "tokenizer*", "special_tokens_map.json",
    "added_tokens.json", "vocab.*", "merges.txt", "*.tiktoken", "chat_template.*",
    "quantize_config.json", "quantization_config.json", "*.safetensors",
    "*.safetensors.index.json",
)
"""What the hf engine needs of a hub checkpoint (no *.bin, *.gguf, *.pt, images)."""


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


def hub_repo(spec: str) -> str:
    """The hub repo an alias (GGUF or not) stands for; other values unchanged."""
    key = spec.strip().lower()
    return GGUF_ALIASES.get(key) or ALIASES.get(key) or spec.strip()


def _checked_repo_id(repo_id: str) -> str:
    """`repo_id` if the hub could hold it; else `ModelNotFound`, before any look-up."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise ModelNotFound(f"{repo_id!r} is neither a local model nor a hub repo id: "
                            f"{str(exc).splitlines()[0]}") from None
    return repo_id


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
        f"cache {cache}, and downloads are off (--offline or HF_HUB_OFFLINE); "
        f"drop --offline, or on a machine with hub access run `hymt models pull "
        f"{repo_id}` (or `hf download {repo_id}`; older clients: `huggingface-cli "
        f"download {repo_id}`) and copy the cache here, pass "
        "--model /path/to/model-dir, or point HF_HOME / HF_HUB_CACHE at the cache "
        "that holds it"
    )


def _missing_gguf(repo_id: str, cache: Path) -> ModelNotFound:
    return ModelNotFound(
        f"GGUF model {repo_id!r} is not in the Hugging Face cache {cache}, and "
        "downloads are off (--offline or HF_HUB_OFFLINE); drop --offline, or on a "
        f"machine with hub access run `hymt models pull {repo_id}` (or `hf download "
        f"{repo_id} --include '*{DEFAULT_GGUF_FILE}*'`) and copy the cache here, pass "
        "--model /path/to/file.gguf, or point HF_HOME / HF_HUB_CACHE at the cache")


OFFLINE_HINT = ("check the connection, proxy and HF_ENDPOINT; or copy a Hugging Face "
                "cache that holds the model here and run with --offline (or "
                "HF_HUB_OFFLINE=1)")


def _fetched(repo_id: str, fetch: Callable[[], Path]) -> Path:
    """`fetch()`, its network failures turned into a one-line `ModelNotFound`."""
    try:
        return fetch()
    except downloads.DownloadError as exc:
        where = downloads.endpoint() or "the Hugging Face Hub"
        raise ModelNotFound(f"cannot download {repo_id!r} from {where}: {exc.cause}",
                            OFFLINE_HINT) from exc


def cached_snapshot(repo_id: str, cache: Path) -> Path | None:
    """The cached snapshot folder of `repo_id`'s main branch, or None; no network."""
    from huggingface_hub.file_download import repo_folder_name

    try:
        folder = cache / repo_folder_name(repo_id=repo_id, repo_type="model")
        commit = (folder / "refs" / "main").read_text(encoding="utf-8").strip()
    except (OSError, ValueError):
        return None
    snapshot = folder / "snapshots" / commit
    return snapshot if commit and snapshot.is_dir() else None


def _cached_checkpoint(repo_id: str, cache: Path) -> Path | None:
    """The cached checkpoint with every file it needs (when the cache recorded the
    repo's file list, huggingface_hub checks them all), or None; no network."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        path = Path(snapshot_download(repo_id, cache_dir=cache, local_files_only=True,
                                      allow_patterns=list(CHECKPOINT_FILES)))
    except (LocalEntryNotFoundError, FileNotFoundError, ValueError):
        return None
    return path if (path / "config.json").is_file() else None


def resolve_model(spec: str = DEFAULT_MODEL, offline: bool = False) -> ResolvedModel:
    """Turn an alias, a directory or a hub id into a local model directory,
    downloading a hub checkpoint on first use unless `offline`."""
    if is_gguf_spec(spec):
        raise ModelNotFound(f"{spec} is a GGUF model: use --engine llamacpp")
    local = _local_dir(spec)
    if local is not None:
        return ResolvedModel(spec, local)
    repo_id = _checked_repo_id(expand_alias(spec))
    cache = hub_cache_dir()
    path = _cached_checkpoint(repo_id, cache)
    if path is None:
        if downloads.offline_mode(offline):
            raise _missing(repo_id, cache)
        path = _fetched(repo_id, lambda: download_checkpoint(repo_id, cache))
    return ResolvedModel(spec, path, repo_id)


def download_checkpoint(repo_id: str, cache: Path) -> Path:
    """Download what the hf engine needs of `repo_id`; the snapshot folder."""
    path = downloads.download(repo_id, cache, CHECKPOINT_FILES)
    if not (path / "config.json").is_file():
        raise ModelNotFound(f"{repo_id!r} on the hub has no config.json: not a "
                            "transformers checkpoint")
    if not any(path.glob("*.safetensors")):
        raise ModelNotFound(f"{repo_id!r} on the hub has no .safetensors weights "
                            "(hymt downloads no pickled *.bin weights)",
                            f"run `hf download {repo_id}` and pass the folder as "
                            "--model")
    return path


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


def resolve_gguf(spec: str = DEFAULT_GGUF_MODEL, gguf_file: str | None = None,
                 offline: bool = False) -> ResolvedGGUF:
    """A GGUF file from a path, a directory, an alias or a hub repo (from the cache,
    else downloading that one file unless `offline`)."""
    value = spec.strip()
    path = Path(value).expanduser()
    if path.is_file():
        return ResolvedGGUF(spec, path)
    if path.is_dir():
        return ResolvedGGUF(spec, pick_gguf_file(_gguf_files(path), gguf_file, value))
    if value.lower().endswith(".gguf") or value.startswith((".", "/", "~")):
        raise ModelNotFound(f"GGUF file {value!r} does not exist")
    repo_id = _checked_repo_id(GGUF_ALIASES.get(value.lower(), value))
    cache = hub_cache_dir()
    offline = downloads.offline_mode(offline)
    file = _cached_gguf(repo_id, cache, gguf_file, offline)
    if file is None:
        if offline:
            raise _missing_gguf(repo_id, cache)
        file = _fetched(repo_id, lambda: download_gguf(repo_id, cache, gguf_file))
    return ResolvedGGUF(spec, file, repo_id)


def _cached_gguf(repo_id: str, cache: Path, choice: str | None, offline: bool
                 ) -> Path | None:
    """The cached .gguf file `choice` picks (the only cached one when none is named
    and there is no Q4_K_M), or None; no network. Offline, a cached repo without
    that file is the picking error (it names the files there)."""
    snapshot = cached_snapshot(repo_id, cache)
    if snapshot is None:
        return None
    try:
        return pick_gguf_file(_gguf_files(snapshot), choice, repo_id)
    except ModelNotFound:
        if offline:
            raise
        return None


def download_gguf(repo_id: str, cache: Path, choice: str | None) -> Path:
    """Download the one .gguf file of `repo_id` that `choice` picks; its path."""
    names = [n for n in downloads.list_files(repo_id) if n.lower().endswith(".gguf")]
    wanted = pick_gguf_file([Path(n) for n in names], choice, repo_id)
    return downloads.download(repo_id, cache, [wanted.as_posix()]) / wanted
