"""Re-encoding translated plain text: the per-run half.

Each run of text between tags is flattened to one line here (`plain_run`); the
escaping itself happens in the segment's `finish` step (`md_context`), which
sees every run's neighbours and so escapes only what could form Markdown there.
Link titles and mdBook titles are escaped on their own (`title_escape`,
`plain_line`): their delimiters are all that matters.
"""

from __future__ import annotations

import re

from hymt_cli.document import Escape

_NEWLINES = re.compile(r"\r\n?|\n")


def _backslash(match: re.Match[str]) -> str:
    return "\\" + match.group()


def plain_run(text: str) -> str:
    """A run of text on one line, its leading white space one space; the escaping
    is left to the segment's `finish` step, which sees the neighbours."""
    text = _NEWLINES.sub(" ", text)
    body = text.lstrip(" \t")
    return (" " if len(body) < len(text) else "") + body


def title_escape(opener: str) -> Escape:
    """The escape for a link title delimited by `opener` (`"`, `'` or `(`)."""
    specials = {"(": "()"}.get(opener, opener)
    pattern = re.compile("[\\\\" + re.escape(specials) + "]|&(?=#?[0-9A-Za-z]+;)")

    def escape(text: str) -> str:
        return pattern.sub(_backslash, _NEWLINES.sub(" ", text))

    return escape


def plain_line(text: str) -> str:
    """Text read raw, up to a closing `}}` (mdBook's `{{#title …}}`): one line, no
    escapes, and no `}}` of its own."""
    return " ".join(text.split()).replace("}}", "} }")
