"""Fetching models from the Hugging Face Hub on first use, through huggingface_hub.

`models` decides what a model needs; this module only talks to the hub: list a
repo's files, download some of them into the standard cache, and turn the many
ways that can fail into one `DownloadError` with a one-line cause. huggingface_hub
downloads to a temporary file and retries a connection cut mid-file with a Range
request (up to five times, one second apart), so a flaky link still completes.

The environment is read at call time (HF_HUB_OFFLINE, HF_ENDPOINT), not when
huggingface_hub was imported, so a long-lived process and the tests see the
current values.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

TRUE_VALUES = frozenset({"1", "ON", "YES", "TRUE"})
"""What huggingface_hub accepts as true in an environment variable."""


class DownloadError(Exception):
    """The hub could not be reached, or refused; `cause` says why in one line."""

    def __init__(self, repo_id: str, cause: str) -> None:
        super().__init__(f"{repo_id}: {cause}")
        self.repo_id = repo_id
        self.cause = cause


def offline_mode(flag: bool = False) -> bool:
    """Whether the network is off: `--offline`, or HF_HUB_OFFLINE (falling back to
    TRANSFORMERS_OFFLINE, as huggingface_hub does) read now."""
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE")
    return flag or (value or "").strip().upper() in TRUE_VALUES


def endpoint() -> str | None:
    """HF_ENDPOINT as it is now; None: huggingface_hub's default."""
    return os.environ.get("HF_ENDPOINT", "").strip().rstrip("/") or None


def list_files(repo_id: str) -> list[str]:
    """The file names of `repo_id` on the hub (its `siblings`)."""
    from huggingface_hub import HfApi

    with _translated_errors(repo_id):
        info = HfApi(endpoint=endpoint()).model_info(repo_id)
    return [s.rfilename for s in info.siblings or ()]


def download(repo_id: str, cache: Path, patterns: Sequence[str]) -> Path:
    """Download the files of `repo_id` matching `patterns` into the cache; the
    snapshot folder. Files already there are not fetched again."""
    from huggingface_hub import snapshot_download

    log.debug("downloading %s (%s) into %s", repo_id, ", ".join(patterns), cache)
    title = f"downloading {repo_id} to {cache}"
    with _translated_errors(repo_id), _progress_bars(title):
        folder = snapshot_download(repo_id, cache_dir=cache, endpoint=endpoint(),
                                   allow_patterns=list(patterns), max_workers=4)
    return Path(folder)


@contextmanager
def _progress_bars(title: str) -> Iterator[None]:
    """`title` and huggingface_hub's progress bars on a terminal; nothing when
    stderr is not one."""
    from huggingface_hub.utils import (
        are_progress_bars_disabled,
        disable_progress_bars,
        enable_progress_bars,
    )

    show = sys.stderr is not None and sys.stderr.isatty()
    if show:
        print(title, file=sys.stderr, flush=True)
    was_disabled = are_progress_bars_disabled()
    if not show:
        disable_progress_bars()
    try:
        yield
    finally:
        if not show and not was_disabled:
            enable_progress_bars()


@contextmanager
def _translated_errors(repo_id: str) -> Iterator[None]:
    """Raise `DownloadError` for what the network or the hub can do wrong."""
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        yield
    except (HfHubHTTPError, LocalEntryNotFoundError, httpx2.HTTPError, OSError) as exc:
        raise DownloadError(repo_id, describe(exc)) from exc


def describe(exc: BaseException) -> str:
    """One line about why a hub call failed."""
    from huggingface_hub.errors import (
        GatedRepoError,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
    )

    if isinstance(exc, GatedRepoError):
        return ("the repository is gated: log in with `hf auth login` and accept "
                "its terms")
    if isinstance(exc, RepositoryNotFoundError):
        return "the hub has no such repository (or it is private)"
    if isinstance(exc, RemoteEntryNotFoundError):
        return "a file is missing on the hub"
    root = exc
    while root.__cause__ is not None:  # huggingface_hub wraps the network error
        root = root.__cause__
    lines = [line.strip() for line in str(root).splitlines() if line.strip()]
    return f"{type(root).__name__}: {lines[0]}" if lines else type(root).__name__
