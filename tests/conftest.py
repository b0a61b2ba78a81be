"""Every test runs offline, with a temporary home directory and no stray config."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# CI explores the same examples on every run (a red build is then reproducible
# and never a coin toss); developers' runs keep exploring new ones.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """A fresh HOME and Hugging Face cache per test; never the network."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(home / ".cache" / "huggingface"))
    # gptqmodel's tokenicer sets these once, at import, from the HF_HOME of
    # whichever test imported it first: later tests would share that cache.
    monkeypatch.setenv("HF_HUB_CACHE", str(home / ".cache" / "huggingface" / "hub"))
    for name in ("TRANSFORMERS_CACHE", "HF_MODULES_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.delenv("HYMT_MEMORY", raising=False)
    return home
