"""What the Hugging Face cache holds of HY-MT models, and removing one (`hymt models`).

Read with `huggingface_hub.scan_cache_dir` and removed with its delete strategy,
so hymt never edits the cache layout itself. Nothing here touches the network.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hymt_cli.errors import UsageError
from hymt_cli.models import (
    ALIASES,
    GGUF_ALIASES,
    cached_snapshot,
    hub_cache_dir,
    hub_repo,
    is_gguf_spec,
)

if TYPE_CHECKING:
    from huggingface_hub import CachedRepoInfo, HFCacheInfo

FAMILY = "hy-mt"
"""Cached repos whose id contains this (any case) are listed besides the aliases."""


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """One row of `hymt models`."""

    alias: str
    """The short name for `--model`; empty for a repo that has none."""
    repo_id: str
    kind: str
    """`gguf` (llamacpp engine) or `hf` (transformers checkpoint)."""
    cached: bool
    size: int
    """Bytes on disk in the cache (0 when not cached)."""
    path: str | None
    """The cached snapshot folder; None when not cached."""

    def as_json(self) -> dict[str, Any]:
        """The entry as a JSON object."""
        return asdict(self)


def human_size(size: int) -> str:
    """`1.1 GB`, `523.4 KB`, `17 bytes`."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024:
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def scan(cache: Path) -> HFCacheInfo | None:
    """huggingface_hub's scan of the cache; None when the cache does not exist."""
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        return scan_cache_dir(cache)
    except CacheNotFound:
        return None


def cached_repos(scanned: HFCacheInfo | None) -> dict[str, CachedRepoInfo]:
    """The model repos of a scan, by id."""
    repos = scanned.repos if scanned is not None else ()
    return {r.repo_id: r for r in repos if r.repo_type == "model"}


def entries(cache: Path | None = None) -> list[ModelEntry]:
    """Every alias, then other cached HY-MT repos, with what the cache holds."""
    cache = cache or hub_cache_dir()
    repos = cached_repos(scan(cache))
    named = {**ALIASES, **GGUF_ALIASES}
    rows = [_entry(alias, repo, cache, repos) for alias, repo in named.items()]
    others = sorted(r for r in repos if FAMILY in r.lower() and r not in named.values())
    return rows + [_entry("", repo, cache, repos) for repo in others]


def _entry(alias: str, repo_id: str, cache: Path,
           repos: dict[str, CachedRepoInfo]) -> ModelEntry:
    snapshot = cached_snapshot(repo_id, cache)
    info = repos.get(repo_id)
    kind = "gguf" if is_gguf_spec(alias or repo_id) else "hf"
    return ModelEntry(alias, repo_id, kind, snapshot is not None,
                      info.size_on_disk if info else 0,
                      str(snapshot) if snapshot else None)


def remove(spec: str, cache: Path | None = None) -> tuple[str, int]:
    """Delete a model (alias or hub id) from the cache, every revision of it;
    (repo id, bytes freed). `UsageError` when the cache does not hold it."""
    import shutil

    cache = cache or hub_cache_dir()
    repo_id = hub_repo(spec)
    scanned = scan(cache)
    info = cached_repos(scanned).get(repo_id)
    if info is None:
        raise UsageError(f"{repo_id!r} is not in the Hugging Face cache {cache}",
                         "`hymt models` lists what is cached")
    hashes = [revision.commit_hash for revision in info.revisions]
    if not hashes:  # only an interrupted download's leftovers: no revision to name
        shutil.rmtree(info.repo_path)
        return repo_id, info.size_on_disk
    assert scanned is not None
    strategy = scanned.delete_revisions(*hashes)
    strategy.execute()
    return repo_id, strategy.expected_freed_size

