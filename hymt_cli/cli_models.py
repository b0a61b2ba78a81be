"""`hymt models ...`: list, download ahead of time, and remove HY-MT models.

The models live in the standard Hugging Face cache (HF_HUB_CACHE, else HF_HOME/hub,
else ~/.cache/huggingface/hub), where `hymt translate` finds them and where it
downloads them on first use.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from hymt_cli import cli_options, model_cache
from hymt_cli.errors import UsageError
from hymt_cli.models import hub_cache_dir, is_gguf_spec, resolve_gguf, resolve_model

models_app = typer.Typer(
    help="List, download (pull) and remove (rm) HY-MT models in the Hugging Face "
         "cache.",
    invoke_without_command=True,
)

Spec = Annotated[str, typer.Argument(
    metavar="ALIAS_OR_REPO", help="A model alias (see `hymt models`) or hub id.")]

GGUFFile = cli_options.annotation("gguf_file")


@models_app.callback(invoke_without_command=True)
def list_models(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> int:
    """Without a command: every alias (repo, kind, cached, size, path) and other
    HY-MT repos in the cache."""
    if ctx.invoked_subcommand is not None:
        return 0
    rows = model_cache.entries()
    if json_out:
        data = {"cache": str(hub_cache_dir()), "models": [r.as_json() for r in rows]}
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return 0
    _print_table(rows)
    return 0


def _print_table(rows: list[model_cache.ModelEntry]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("alias", "repo", "kind", "cached", "size", "path",
                  title=f"Hugging Face cache: {hub_cache_dir()}", title_justify="left")
    for row in rows:
        table.add_row(row.alias or "-", row.repo_id, row.kind,
                      "yes" if row.cached else "no",
                      model_cache.human_size(row.size) if row.size else "",
                      row.path or "")
    # a pipe gets whole lines (no ellipses) for grep and scripts
    width = None if sys.stdout.isatty() else 10_000
    Console(file=sys.stdout, width=width).print(table)


@models_app.command()
def pull(
    spec: Spec,
    gguf_file: GGUFFile = None,
) -> int:
    """Download a model now (e.g. when building a CI image); prints its path."""
    if is_gguf_spec(spec):
        path = resolve_gguf(spec, gguf_file).path
    elif gguf_file is not None:
        raise UsageError(f"--gguf-file is for GGUF repos, and {spec!r} is not one")
    else:
        path = resolve_model(spec).path
    sys.stdout.write(f"{path}\n")
    return 0


@models_app.command()
def rm(spec: Spec) -> int:
    """Remove a model from the cache, every file and revision; exit 2 if absent."""
    repo_id, freed = model_cache.remove(spec)
    print(f"removed {repo_id} ({model_cache.human_size(freed)}) from {hub_cache_dir()}",
          file=sys.stderr)
    return 0
