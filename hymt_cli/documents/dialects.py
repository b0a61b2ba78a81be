"""Markdown dialects: named sets of syntax features beyond CommonMark + GFM.

A `Dialect` is a name plus the features it enables; `md_parser.parser_for`
turns the features into markdown-it rules (block and inline) and
`md_protect` into locked patterns. Features are the unit a site's own
configuration switches (MkDocs' `markdown_extensions`), so a dialect can be
narrowed to exactly what a project enables.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

FEATURES: dict[str, str] = {
    # Python-Markdown / pymdownx (MkDocs)
    "admonition": "`!!! type \"Title\"` admonitions with an indented body",
    "details": "`??? type \"Title\"` / `???+` collapsible admonitions",
    "tabbed": "`=== \"Title\"` content tabs with an indented body",
    "blocks": "pymdownx.blocks `/// type | Title` ... `///` with option lines",
    "attr_list": "`{ #id .class key=\"value\" }` attribute lists after headings, "
    "blocks, links and images",
    "abbr": "`*[TERM]: expansion` abbreviations (expansion translated)",
    "snippets": "`--8<-- \"file\"` snippet includes",
    "emoji": "`:material-check:` icon and emoji shortcodes",
    "keys": "`++ctrl+c++` keyboard keys",
    "mark": "`==mark==`",
    "caret": "`^^insert^^` and `^superscript^`",
    "tilde": "`~subscript~`",
    "critic": "critic markup `{++ ++}` `{-- --}` `{~~ ~> ~~}` `{== ==}` `{>> <<}`",
    "math": "`$…$`, `$$…$$`, `\\(…\\)`, `\\[…\\]` math",
    "code_include": "`{* path hl[9] *}` code includes (FastAPI/Typer docs)",
    "annotations": "code annotation markers `(1)!`",
    "md_in_html": "`markdown` attribute on HTML blocks",
    # VitePress and Docusaurus
    "containers": "`::: type Title` ... `:::` custom containers",
    "vitepress": "`[[toc]]`, `<<< @/file` imports, `{{ expr }}` interpolation",
    # MDX
    "mdx": "ESM `import`/`export`, JSX elements, `{expressions}`, `{/* comments */}`",
    # Hugo, mdBook, Jekyll
    "shortcodes": "Hugo `{{< … >}}` and `{{% … %}}` shortcodes",
    "toml_front_matter": "`+++` TOML front matter (and JSON front matter)",
    "mdbook": "mdBook `{{#include …}}`, `{{#rustdoc_include …}}`, `{{#playground …}}`, "
    "`{{#title …}}`",
    "liquid": "Liquid `{% … %}` / `{{ … }}` tags and `{% raw %}` regions",
    "kramdown": "kramdown IAL/ALD `{: .class}`",
    # MyST (Sphinx)
    "myst": "MyST roles `{role}`text``, directives ```` ```{name} ````, `(label)=` targets",
}
"""Every feature a dialect may enable, with what it covers."""


@dataclass(frozen=True, slots=True)
class Dialect:
    """A Markdown dialect: its name and the syntax features it enables."""

    name: str
    """`commonmark`, `mkdocs`, `vitepress`, `mdx`, `hugo`, `mdbook`, `jekyll`, `myst`."""
    features: frozenset[str] = frozenset()
    """Names from `FEATURES`."""

    def has(self, feature: str) -> bool:
        """Whether `feature` is enabled."""
        return feature in self.features


_MKDOCS = frozenset(
    "admonition details tabbed blocks attr_list abbr snippets emoji keys mark caret "
    "tilde critic math code_include annotations md_in_html".split()
)

DIALECT_FEATURES: dict[str, frozenset[str]] = {
    "commonmark": frozenset(),
    "mkdocs": _MKDOCS,
    "vitepress": frozenset({"containers", "vitepress", "attr_list", "emoji", "math"}),
    "mdx": frozenset({"mdx", "containers"}),
    "hugo": frozenset({"shortcodes", "toml_front_matter", "attr_list"}),
    "mdbook": frozenset({"mdbook", "math"}),
    "jekyll": frozenset({"liquid", "kramdown", "math"}),
    "myst": frozenset({"myst", "math", "attr_list"}),
}
"""Each dialect's default features (MkDocs' are narrowed by its `mkdocs.yml`)."""

DIALECTS = tuple(DIALECT_FEATURES)
"""Dialect names, `commonmark` (CommonMark + GFM, the plain default) first."""

COMMONMARK = Dialect("commonmark")


def get_dialect(name: str, features: Iterable[str] | None = None) -> Dialect:
    """The dialect `name`, with its default features unless `features` is given."""
    key = name.strip().lower()
    if key not in DIALECT_FEATURES:
        raise ValueError(f"unknown dialect {name!r} (known: {', '.join(DIALECTS)}, auto)")
    chosen = DIALECT_FEATURES[key] if features is None else frozenset(features)
    unknown = sorted(chosen - FEATURES.keys())
    if unknown:
        raise ValueError(f"unknown dialect feature(s): {', '.join(unknown)}")
    return Dialect(key, chosen)
