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

EXTRA_MODULES = ("fastapi", "uvicorn", "multipart")
"""What the `serve` extra installs (python-multipart is imported as `multipart`)."""


def require_extra() -> None:
    """`UsageError` naming the install command when the `serve` extra is missing."""
    for name in EXTRA_MODULES:
        try:
            import_module(name)
        except ImportError:
            raise UsageError(f"hymt serve needs {name}, which is not installed: "
                             "pip install 'hymt-cli[serve]'") from None


def serve(config: ServeConfig) -> int:
    """Run the service until interrupted; the exit code."""
    require_extra()
    from hymt_cli.serve.server import run_until_stopped

    run_until_stopped(config)
    return EXIT_OK
