"""`hymt info`: what `--engine auto` picks on this machine and why, and what the
machine has (extras, device, free memory, model cache). Loads no model.

The settings are read as `hymt translate` reads them (flags given here, the
project file, `HYMT_BASE_URL`), so the pick shown is the one a run would make.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

from hymt_cli import __version__
from hymt_cli.cli_config import env_base_urls, load_project, memory_path
from hymt_cli.engines.auto import accelerator, choose, installed
from hymt_cli.errors import HymtError
from hymt_cli.models import DEFAULT_GGUF_MODEL, DEFAULT_MODEL, hub_cache_dir

EXTRAS = {
    "llamacpp": ("llama_cpp", "llama-cpp-python"),
    "int4": ("gptqmodel", "gptqmodel"),
    "serve": ("fastapi", "fastapi"),
    "openai": ("openai", "openai"),
}
"""Optional parts: the module that shows each is installed, and its distribution."""


def facts(model: str | None, base_url: tuple[str, ...], device: str | None,
          engine: str | None, config_file: str | None) -> dict[str, Any]:
    """Everything `hymt info` reports, as JSON-ready data."""
    proj = load_project(config_file)
    values = proj.values
    model = model or values.get("model")
    urls = base_url or env_base_urls() or tuple(values.get("base_url") or ())
    device = device or values.get("device")
    engine = engine or values.get("engine") or "auto"
    choice = choose(model, urls, None if device in (None, "auto") else device)
    picked = choice.engine if engine == "auto" else engine
    return {
        "version": __version__,
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "engine": picked,
        "why": choice.reason if engine == "auto" else "set explicitly",
        "model": _model_state(picked, model, urls),
        "device": _device(),
        "memory_free_bytes": _free_memory(),
        "extras": {name: _version(dist) if installed(module) else None
                   for name, (module, dist) in EXTRAS.items()},
        "hub_cache": str(hub_cache_dir()),
        "offline": os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0", "false"),
        "base_url": list(urls),
        "project_file": str(proj.path) if proj.path else None,
        "translation_memory": str(memory_path(None, proj)),
    }


def _model_state(engine: str, model: str | None, urls: tuple[str, ...]) -> dict[str, Any]:
    """The model the engine would use and whether it is on this machine."""
    from hymt_cli.models import resolve_gguf, resolve_model

    if engine == "openai":
        return {"name": model or "the server's only model", "where": ", ".join(urls)}
    if engine not in ("hf", "llamacpp"):
        return {"name": None, "where": "needs no model"}
    spec = model or (DEFAULT_GGUF_MODEL if engine == "llamacpp" else DEFAULT_MODEL)
    try:
        found = (resolve_gguf(spec, offline=True) if engine == "llamacpp"
                 else resolve_model(spec, offline=True))
    except HymtError:
        return {"name": spec, "cached": False,
                "where": f"downloads on first use into {hub_cache_dir()} "
                         "(or ahead: hymt models pull)"}
    return {"name": spec, "cached": True, "where": str(found.path)}


def _device() -> dict[str, Any]:
    where = accelerator()
    if where != "cuda":
        return {"kind": where, "cpus": os.cpu_count()}
    import torch

    free, total = torch.cuda.mem_get_info()
    return {"kind": "cuda", "name": torch.cuda.get_device_name(0),
            "free_bytes": free, "total_bytes": total}


def _free_memory() -> int | None:
    """Available RAM in bytes (Linux's MemAvailable, else free pages)."""
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "installed"


def _gib(size: int | None) -> str:
    return "unknown" if size is None else f"{size / 2**30:.1f} GiB"


def show(data: dict[str, Any], as_json: bool) -> None:
    """Print `facts` for people, or as JSON."""
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    device = data["device"]
    where = (f"cuda ({device['name']}, {_gib(device['free_bytes'])} free)"
             if device["kind"] == "cuda" else f"{device['kind']} ({device['cpus']} CPUs)")
    model = data["model"]
    state = ("" if "cached" not in model else
             " (cached)" if model["cached"] else " (not cached)")
    extras = ", ".join(f"{name} {version}" if version else f"{name} missing"
                       for name, version in data["extras"].items())
    lines = [
        f"hymt {data['version']} on Python {data['python']}, {data['platform']}",
        f"engine:  {data['engine']} ({data['why']})",
        f"model:   {model['name'] or '-'}{state}: {model['where']}",
        f"device:  {where}",
        f"memory:  {_gib(data['memory_free_bytes'])} free",
        f"extras:  {extras}",
        f"cache:   {data['hub_cache']}" + (" (offline)" if data["offline"] else ""),
        f"project: {data['project_file'] or 'none'}; translation memory "
        f"{data['translation_memory']}",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
