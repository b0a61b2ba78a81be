"""Typer parameters built from the settings table (`settings.SETTINGS`).

Part of the command line (command line → plan → pipeline → ...): `cli` takes the
`translate` command's whole signature from `signature`, and the options other
commands share (`segments`, `quantize`) from `annotation`, so a flag's spelling,
metavar and help exist only in the table.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Annotated, Any

import typer

from hymt_cli.settings import BY_NAME, Setting


def value_type(setting: Setting) -> Any:
    """The Python type Typer parses the flag into."""
    if not setting.flags or setting.given_as == "repeat":
        return list[str] | None
    if setting.kind is bool and not setting.project and not setting.switch:
        return bool  # a plain command flag: off unless given
    return (str if setting.given_as in ("text", "csv") else setting.kind) | None


def parameter_info(setting: Setting) -> Any:
    """The `typer.Argument` or `typer.Option` that declares `setting`."""
    if not setting.flags:
        return typer.Argument(metavar=setting.metavar, help=setting.help_text,
                              show_default=False)
    extra: dict[str, Any] = {"show_default": False} if setting.switch else {}
    if setting.minimum is not None:
        extra["min"] = setting.minimum
    return typer.Option(*setting.flags, metavar=setting.metavar,
                        help=setting.help_text, **extra)


def annotation(name: str | Setting) -> Any:
    """`Annotated[type, typer.Option(...)]` for a setting, or the one named `name`."""
    setting = BY_NAME[name] if isinstance(name, str) else name
    return Annotated[value_type(setting), parameter_info(setting)]


def cli_default(setting: Setting) -> Any:
    """The parameter's default: None (not given, the merge decides) or False."""
    return False if value_type(setting) is bool else None


def signature(table: Iterable[Setting]) -> inspect.Signature:
    """A command signature with one keyword parameter per setting, in table order."""
    return inspect.Signature([
        inspect.Parameter(s.name, inspect.Parameter.KEYWORD_ONLY,
                          annotation=annotation(s), default=cli_default(s))
        for s in table
    ], return_annotation=int)


def with_parameters(
    command: Callable[..., int], table: Iterable[Setting]
) -> Callable[..., int]:
    """`command` (taking `**values`) with Typer parameters for every setting."""
    # Typer reads parameters from `inspect.signature`, which honours __signature__
    setattr(command, "__signature__", signature(table))
    return command
