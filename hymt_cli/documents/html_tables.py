"""The HTML format's tables: which elements and attributes are translatable, how."""

from __future__ import annotations

BLOCK_KINDS: dict[str, str] = {
    "p": "paragraph",
    **{f"h{level}": "heading" for level in range(1, 7)},
    "li": "list_item",
    "td": "table_cell",
    "th": "table_cell",
    "dt": "term",
    "dd": "definition",
    "caption": "caption",
    "figcaption": "caption",
    "summary": "summary",
    "label": "label",
    "button": "button",
    "option": "option",
    "optgroup": "option",
    "blockquote": "quote",
    "title": "page_title",
    "legend": "legend",
    "address": "paragraph",
}
"""Segment kind for the inline run of a block; other blocks give kind `text`."""

BLOCKS = frozenset(BLOCK_KINDS) | frozenset(
    """html head body div section article nav header footer main aside hgroup
    ul ol menu dl table thead tbody tfoot tr colgroup figure details dialog
    form fieldset select datalist center noscript search
    video audio iframe object canvas map frameset frame""".split()
)
"""Elements whose start and end tags end an inline run."""

VOID_BLOCKS = frozenset("hr meta link base col area param".split())
"""Void elements that end an inline run."""

VOID_INLINE = frozenset("img br wbr input embed source track keygen".split())
"""Void elements kept inside a run as content-locked tags."""

VOID = VOID_BLOCKS | VOID_INLINE

NEVER_TRANSLATED = frozenset(
    "script style pre code kbd samp var svg math template xmp plaintext".split()
)
"""Subtrees kept byte for byte, attributes included."""

CONTENT_LOCKED = frozenset({"textarea"})
"""Elements whose content is kept but whose attributes (placeholder) are read."""

TAG_KINDS: dict[str, str] = {
    "a": "link",
    "em": "em",
    "i": "em",
    "strong": "strong",
    "b": "strong",
    "img": "image",
    "br": "break",
    "wbr": "break",
    "code": "code",
    "kbd": "code",
    "samp": "code",
    "var": "code",
}
"""Tag kind (`Tag.kind`) per element; anything else is `html`."""

TEXT_ATTRIBUTES: dict[str, str] = {
    "alt": "alt",
    "title": "title",
    "placeholder": "placeholder",
    "aria-label": "aria-label",
}
"""Attributes people read, on any element: attribute name -> segment kind."""

META_KINDS: dict[str, str] = {
    "description": "meta_description",
    "og:title": "og_title",
    "og:description": "og_description",
    "twitter:title": "twitter_title",
    "twitter:description": "twitter_description",
}
"""`<meta name|property=... content=...>` whose content is translated."""

OFF_MARKER, ON_MARKER = "hymt:off", "hymt:on"
"""Comments that stop and resume translation."""
