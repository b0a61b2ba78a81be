"""Project configuration: `hymt.toml`, or `[tool.hymt]` in `pyproject.toml`.

The file gives defaults for a run; command-line options override it. Paths in it
(sources, glossaries, memory, output pattern) are relative to the file's folder.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hymt_cli.errors import UsageError
from hymt_cli.settings import PROJECT, Setting

CONFIG_NAME = "hymt.toml"


class ConfigError(UsageError, ValueError):
    """A configuration file that cannot be used; the message names the file."""


FIELDS: dict[str, Setting] = {s.name: s for s in PROJECT}
"""Every key a configuration file may set."""


@dataclass(frozen=True, slots=True)
class ProjectConfig:
    """Settings read from a configuration file, paths made absolute."""

    path: Path | None = None
    """The file they came from, or None when there is none."""
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def root(self) -> Path | None:
        """The folder the file's relative paths start from."""
        return self.path.parent if self.path else None


def find(start: Path) -> Path | None:
    """The nearest `hymt.toml`, or `pyproject.toml` with `[tool.hymt]`, upwards."""
    for folder in (start.resolve(), *start.resolve().parents):
        if (folder / CONFIG_NAME).is_file():
            return folder / CONFIG_NAME
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "hymt" in _read(pyproject).get("tool", {}):
            return pyproject
        if (folder / ".git").exists():
            break
    return None


def load(path: Path | None) -> ProjectConfig:
    """Read and check the settings in `path` (None gives an empty configuration)."""
    if path is None:
        return ProjectConfig()
    table = _read(path)
    if path.name == "pyproject.toml":
        table = table.get("tool", {}).get("hymt", {})
    return ProjectConfig(path, _checked(path, table))


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None


def _checked(path: Path, table: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        spec = FIELDS.get(name)
        if spec is None:
            known = ", ".join(FIELDS)
            raise ConfigError(f"{path}: unknown key {key!r} (known: {known})")
        values[name] = _value(path, key, spec, value)
    return values


def _value(path: Path, key: str, spec: Setting, value: Any) -> Any:
    items = [value] if spec.many and isinstance(value, str) else value
    check = items if spec.many else [items]
    if spec.many and not isinstance(items, list):
        raise ConfigError(f"{path}: {key} must be a list")
    for item in check:
        if not isinstance(item, spec.kind) or (spec.kind is int and isinstance(item, bool)):
            raise ConfigError(f"{path}: {key} must be {_type_name(spec)}, not {item!r}")
    if spec.paths:
        check = [_absolute(path.parent, item) for item in check]
    return tuple(check) if spec.many else check[0]


def _absolute(root: Path, item: str) -> str:
    return item if Path(item).is_absolute() else str(root / item)


_TYPE_NAMES = {str: ("a string", "strings"), int: ("an integer", "integers"),
               bool: ("true or false", "booleans")}


def _type_name(spec: Setting) -> str:
    one, many = _TYPE_NAMES[spec.kind]
    return f"a list of {many}" if spec.many else one
