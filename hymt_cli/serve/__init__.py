"""`hymt serve`: the translation service (FastAPI on uvicorn, the `serve` extra).

Modules: `options` (the command's settings and `ServeConfig`; no web framework,
the command line reads it for every command), `service` (one request through
the library), `batcher` (dynamic batching across requests), `shared_memory`
(the memory on one thread), `metrics` (Prometheus text), `guards` (body limit,
metrics middleware, API key), `schemas` (pydantic bodies), `app` (routes),
`server` (uvicorn) and `page.html` (the web page at `/`). FastAPI and uvicorn
are imported only by `serve`, when `hymt serve` runs.
"""

from __future__ import annotations

from importlib import import_module

from hymt_cli.errors import EXIT_OK, UsageError
from hymt_cli.serve.options import ServeConfig

EXTRA_MODULES = (("fastapi",), ("uvicorn",), ("python_multipart", "multipart"))
"""What the `serve` extra installs, by import names (python-multipart's older
releases have only `multipart`)."""


def require_extra() -> None:
    """`UsageError` naming the install command when the `serve` extra is missing."""
    for names in EXTRA_MODULES:
        if not any(_importable(name) for name in names):
            raise UsageError(f"hymt serve needs {names[0]}, which is not installed: "
                             "pip install 'hymt-cli[serve]'")


def _importable(name: str) -> bool:
    try:
        import_module(name)
    except ImportError:
        return False
    return True


def serve(config: ServeConfig) -> int:
    """Run the service until interrupted; the exit code."""
    require_extra()
    from hymt_cli.serve.server import run_until_stopped

    run_until_stopped(config)
    return EXIT_OK
