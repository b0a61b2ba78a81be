"""MkDocs' own Markdown pipeline (Python-Markdown + pymdownx) as a test oracle.

`load_mkdocs_config` reads a site's `mkdocs.yml` the way `mkdocs build` does
(its YAML loader resolves `!!python/name:` tags to Python objects, and its
config schema adds the built-in extensions), and `render_mkdocs` turns one
page into HTML through a fresh `markdown.Markdown` with those extensions.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import markdown
from mkdocs.config import load_config

MkDocsMarkdown = tuple[list[Any], dict[str, dict[str, Any]]]
"""`(extensions, extension_configs)` as `markdown.Markdown` takes them."""


def load_mkdocs_config(path: str | Path) -> MkDocsMarkdown:
    """The Markdown extensions and their configs of the site whose config is `path`.

    `mkdocs.config.load_config` parses the file with MkDocs' YAML loader and
    validates it, so the result is exactly what `mkdocs build` hands to
    Python-Markdown: the built-ins (`toc`, `tables`, `fenced_code`) followed by
    the site's `markdown_extensions`. Relative paths inside extension configs
    (`pymdownx.snippets`' `base_path`) stay relative to the working directory,
    as in `mkdocs build`, so callers render from the site's folder.
    """
    config = load_config(config_file=str(path))
    return list(config["markdown_extensions"]), dict(config["mdx_configs"])


def render_mkdocs(text: str, config: MkDocsMarkdown) -> str:
    """`text` rendered to HTML by a fresh Python-Markdown with the site's extensions."""
    extensions, extension_configs = config
    md = markdown.Markdown(
        extensions=list(extensions), extension_configs=copy.deepcopy(extension_configs)
    )
    return md.convert(text)


def comparable_config(config: MkDocsMarkdown) -> MkDocsMarkdown:
    """`config` with heading ids that do not depend on heading text.

    The one normalisation the comparison needs: `toc` derives the id of a
    heading without an explicit `{ #id }` from the heading's words, which a
    translation changes by design. Here every such heading gets the same
    slug, which `toc` numbers by position (`h`, `h_1`, ...), so source and
    translation still compare those ids (and the permalinks pointing at them)
    position for position, while explicit `{ #id }` ids, which `toc` leaves
    alone, are compared exactly as written.
    """
    extensions, extension_configs = config
    configs = dict(extension_configs)
    configs["toc"] = {**configs.get("toc", {}), "slugify": _positional_slug}
    return list(extensions), configs


def _positional_slug(value: str, separator: str) -> str:
    """The same slug for every heading; `toc` appends `_N` to keep ids unique."""
    del value, separator
    return "h"

