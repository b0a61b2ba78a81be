"""Which Markdown dialect a file is written in, from the site configuration around it.

`detect_dialect(path)` looks from the file's directory upwards for the signs a
documentation tool leaves (mkdocs.yml, .vitepress/, docusaurus.config.js,
book.toml, hugo.toml, _config.yml, a MyST conf.py); the nearest directory
with one decides. For MkDocs the features are narrowed to the
`markdown_extensions` its mkdocs.yml enables. The YAML is read without
executing anything: `!!python/name:` and `!ENV` tags become plain values.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hymt_cli.documents.dialects import Dialect, get_dialect

_MKDOCS_ALWAYS = frozenset({"code_include", "annotations"})
"""FastAPI/Material features every MkDocs project gets (harmless elsewhere)."""

_EXTENSION_FEATURES: dict[str, frozenset[str]] = {
    "admonition": frozenset({"admonition"}),
    "pymdownx.details": frozenset({"details"}),
    "pymdownx.tabbed": frozenset({"tabbed"}),
    "attr_list": frozenset({"attr_list"}),
    "abbr": frozenset({"abbr"}),
    "pymdownx.snippets": frozenset({"snippets"}),
    "pymdownx.emoji": frozenset({"emoji"}),
    "pymdownx.keys": frozenset({"keys"}),
    "pymdownx.mark": frozenset({"mark"}),
    "pymdownx.caret": frozenset({"caret"}),
    "pymdownx.tilde": frozenset({"tilde"}),
    "pymdownx.critic": frozenset({"critic"}),
    "pymdownx.arithmatex": frozenset({"math"}),
    "md_in_html": frozenset({"md_in_html"}),
    # The bundles switch on the extensions above that they include.
    "extra": frozenset({"abbr", "attr_list", "md_in_html"}),
    "pymdownx.extra": frozenset({"abbr", "attr_list", "md_in_html"}),
}
"""MkDocs `markdown_extensions` names and the dialect features they enable."""

_DOCUSAURUS = tuple(f"docusaurus.config.{ext}" for ext in ("js", "ts", "mjs", "cjs"))
_HUGO = tuple(f"hugo.{ext}" for ext in ("toml", "yaml", "yml", "json"))
_HUGO_LEGACY = tuple(f"config.{ext}" for ext in ("toml", "yaml", "yml"))
_VITEPRESS_CONFIG = tuple(f"config.{ext}" for ext in ("ts", "mts", "js", "mjs", "cts", "cjs"))


@dataclass(frozen=True)
class Detected:
    """A detected dialect, why it was chosen, and the configuration file that decided."""

    dialect: Dialect
    reason: str
    """Short phrase for `hymt segments`, e.g. "mkdocs.yml at docs-site/ (12 extensions)"."""
    config: Path | None
    """The file (or `.vitepress/` directory) that decided; None without one."""


def _plain(constructor: Any, node: Any) -> Any:
    """An unknown-tag YAML node as the plain scalar, list or dict it spells."""
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    if isinstance(node, SequenceNode):
        return constructor.construct_sequence(node, deep=True)
    if isinstance(node, MappingNode):
        return constructor.construct_mapping(node, deep=True)
    return constructor.construct_scalar(node)


@functools.cache
def _yaml() -> Any:
    """A safe ruamel.yaml loader that turns every unknown tag into a plain value."""
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import SafeConstructor

    class PlainTags(SafeConstructor):
        """Safe constructor; `!!python/name:`, `!ENV`, `!relative` ... load as plain values."""

    PlainTags.add_constructor(None, _plain)
    loader = YAML(typ="safe", pure=True)
    loader.Constructor = PlainTags
    return loader


def _extension_names(config: Path, seen: frozenset[Path] = frozenset()) -> list[str]:
    """The `markdown_extensions` names of an mkdocs.yml, its `INHERIT` parent's first."""
    try:
        data = _yaml().load(config.read_text(encoding="utf-8"))
    except Exception as exc:  # ruamel's errors, OSError, UnicodeDecodeError
        problem = " ".join(str(exc).split()) or type(exc).__name__
        raise ValueError(f"cannot read MkDocs configuration {config}: {problem}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(f"cannot read MkDocs configuration {config}: not a mapping")
    names: list[str] = []
    parent = data.get("INHERIT")
    if isinstance(parent, str) and parent:
        parent_path = (config.parent / parent).resolve()
        if parent_path in seen:
            raise ValueError(f"cannot read MkDocs configuration {config}: INHERIT loops")
        names += _extension_names(parent_path, seen | {parent_path})
    entries = data.get("markdown_extensions") or []
    if isinstance(entries, dict):
        entries = list(entries)
    if not isinstance(entries, list):
        raise ValueError(
            f"cannot read MkDocs configuration {config}: markdown_extensions must be a list"
        )
    for entry in entries:
        if isinstance(entry, dict) and len(entry) == 1:
            entry = next(iter(entry))
        if not isinstance(entry, str):
            raise ValueError(
                f"cannot read MkDocs configuration {config}: bad markdown_extensions "
                f"entry {entry!r} (a name or a one-key mapping)"
            )
        names.append(entry)
    return names


def mkdocs_features(names: list[str]) -> frozenset[str]:
    """The dialect features a list of MkDocs `markdown_extensions` names enables."""
    features = set(_MKDOCS_ALWAYS)
    for name in names:
        name = name.strip().removeprefix("markdown.extensions.")
        if name.startswith("pymdownx.blocks."):
            features.add("blocks")
        features |= _EXTENSION_FEATURES.get(name, frozenset())
    return frozenset(features)


def _where(directory: Path, stop: Path) -> str:
    """`directory` relative to `stop` with a trailing `/` (`./` for `stop` itself)."""
    try:
        relative = directory.relative_to(stop).as_posix()
    except ValueError:
        return f"{directory.as_posix()}/"
    return "./" if relative == "." else f"{relative}/"


def _detect_in(directory: Path, stop: Path) -> Detected | None:
    """The dialect `directory`'s own files decide, or None if it has no sign."""
    where = _where(directory, stop)
    for name in ("mkdocs.yml", "mkdocs.yaml"):
        config = directory / name
        if config.is_file():
            names = list(dict.fromkeys(_extension_names(config.resolve())))
            count = f"{len(names)} extension{'' if len(names) == 1 else 's'}"
            dialect = get_dialect("mkdocs", mkdocs_features(names))
            return Detected(dialect, f"{name} at {where} ({count})", config)
    vitepress = directory / ".vitepress"
    if vitepress.is_dir():
        found = [vitepress / n for n in _VITEPRESS_CONFIG if (vitepress / n).is_file()]
        config = found[0] if found else vitepress
        return Detected(get_dialect("vitepress"), f".vitepress/ at {where}", config)
    for names, dialect_name, accept in _OTHER_SIGNS:
        for name in names:
            config = directory / name
            if config.is_file() and accept(config):
                note = _SIGN_NOTES.get(names, "")
                return Detected(get_dialect(dialect_name), f"{name}{note} at {where}", config)
    return None


def _mentions_myst(conf: Path) -> bool:
    """Whether a Sphinx conf.py names the MyST parser (`myst_parser` or `myst_nb`)."""
    try:
        text = conf.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "myst_parser" in text or "myst_nb" in text


def _any(config: Path) -> bool:
    """Any such file is a sign."""
    return True


def _beside_content(config: Path) -> bool:
    """Hugo's old `config.*` counts only next to a `content/` directory."""
    return (config.parent / "content").is_dir()


_OTHER_SIGNS = (
    (_DOCUSAURUS, "mdx", _any),
    (("book.toml",), "mdbook", _any),
    (_HUGO, "hugo", _any),
    (_HUGO_LEGACY, "hugo", _beside_content),
    (("_config.yml",), "jekyll", _any),
    (("conf.py",), "myst", _mentions_myst),
)
"""After MkDocs and VitePress: (file names, dialect, test of the file), in order."""

_SIGN_NOTES = {_HUGO_LEGACY: " with content/", ("conf.py",): " using MyST"}


def _stop_for(directory: Path) -> Path:
    """The nearest directory holding `.git` at or above `directory`, else the filesystem root."""
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return Path(directory.anchor)


@functools.lru_cache(maxsize=1024)
def _detect_directory(directory: Path, stop: Path) -> Detected:
    """The dialect of files in `directory` (resolved), looking upwards as far as `stop`."""
    found = _detect_in(directory, stop)
    if found is not None:
        return found
    if directory == stop or directory.parent == directory:
        return Detected(get_dialect("commonmark"), f"no site configuration up to {stop}", None)
    return _detect_directory(directory.parent, stop)


def detect_dialect(path: Path, root: Path | None = None) -> Detected:
    """The dialect of the document at `path`, from its suffix or the nearest site config.

    Looks from the file's directory up to `root` (inclusive), or without `root`
    to the nearest directory holding `.git`, else to the filesystem root.
    Raises ValueError for an mkdocs.yml that cannot be read.
    """
    path = Path(path)
    if path.suffix.lower() == ".mdx":
        return Detected(get_dialect("mdx"), "file suffix .mdx", None)
    directory = (path if path.is_dir() else path.parent).resolve()
    stop = Path(root).resolve() if root is not None else _stop_for(directory)
    if directory != stop and stop not in directory.parents:
        stop = Path(directory.anchor)
    return _detect_directory(directory, stop)


def clear_cache() -> None:
    """Forget cached per-directory results (tests, or after editing a site config)."""
    _detect_directory.cache_clear()
