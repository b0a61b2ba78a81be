"""Real VitePress and MDX renderers (tests/node/render.mjs) as oracles for dialect tests.

One `node` process renders a whole batch; results are cached per batch, so a test
module that asks for all its documents at once starts node once. The comparison
helpers reduce the renderers' output to what a translation must not change.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from tests.html_tree import Node, html_structure

NODE_DIR = Path(__file__).parent / "node"
RENDER_SCRIPT = NODE_DIR / "render.mjs"
TIMEOUT_S = 180


def node_skip_reason() -> str | None:
    """Why the node oracles can't run (None when they can); under CI, raise instead."""
    reason = None
    if shutil.which("node") is None:
        reason = "node is not installed"
    elif not (NODE_DIR / "node_modules").is_dir():
        reason = "tests/node/node_modules is missing (run: npm ci --prefix tests/node)"
    if reason and os.environ.get("CI"):
        raise RuntimeError(f"CI must run the renderer oracle tests, but {reason}")
    return reason


@lru_cache(maxsize=32)
def _run(request_json: str) -> tuple:
    """Run render.mjs on one JSON request; raise with its stderr if it fails."""
    proc = subprocess.run(
        ["node", str(RENDER_SCRIPT)], input=request_json, capture_output=True,
        text=True, encoding="utf-8", timeout=TIMEOUT_S, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"render.mjs exited {proc.returncode}:\n{proc.stderr}")
    return tuple(json.loads(proc.stdout))


def render_vitepress(docs: list[str], files: dict[str, str] | None = None) -> list[str]:
    """HTML of each Markdown doc from VitePress's own renderer; `files` go in its srcDir."""
    request = {"renderer": "vitepress", "documents": list(docs), "files": dict(files or {})}
    return [entry["html"] for entry in _run(json.dumps(request, sort_keys=True))]


def mdx_trees(docs: list[str]) -> list[dict]:
    """The normalised hast tree of each doc compiled by @mdx-js/mdx, or {"error": ...}."""
    request = {"renderer": "mdx", "documents": list(docs)}
    return list(_run(json.dumps(request, sort_keys=True)))


# --- VitePress: element tree with generated ids normalised -------------------------

EXPLICIT_ID_RE = re.compile(r"\{#([^\s{}]+)\}")
_HEADINGS = frozenset(f"h{n}" for n in range(1, 7))
_RANDOM_ID_RE = re.compile(r"^(group|tab)-[A-Za-z0-9_-]+$")


def explicit_ids(markdown: str) -> frozenset[str]:
    """The `{#id}` heading ids written in `markdown`: these must survive as they are."""
    return frozenset(EXPLICIT_ID_RE.findall(markdown))


def vitepress_structure(html: str, keep_ids: frozenset[str]) -> tuple[Node, ...]:
    """`html_structure` of `html`, heading slugs (not `keep_ids`) and code-group ids numbered."""
    tree = html_structure(html)
    names: dict[str, str] = {}

    def collect(nodes: tuple[Node, ...]) -> None:
        for tag, attrs, children in nodes:
            for key, value in attrs:
                if tag in _HEADINGS and key == "id" and value not in keep_ids:
                    names.setdefault(value, f"heading-{len(names)}")
                elif tag in ("input", "label") and _RANDOM_ID_RE.match(value):
                    names.setdefault(value, f"{value.split('-')[0]}-{len(names)}")
            collect(children)

    def rename(key: str, value: str) -> str:
        if key == "href" and value.startswith("#") and value[1:] in names:
            return "#" + names[value[1:]]
        return names.get(value, value) if key in ("id", "name", "for") else value

    def rewrite(nodes: tuple[Node, ...]) -> tuple[Node, ...]:
        return tuple((tag, tuple((k, rename(k, v)) for k, v in attrs), rewrite(kids))
                     for tag, attrs, kids in nodes)

    collect(tree)
    return rewrite(tree)


# --- MDX: hast shape without prose --------------------------------------------------

PROSE_PROPS = frozenset(
    {"title", "alt", "label", "caption", "description", "arialabel", "placeholder"}
)
_CODE = frozenset({"pre", "code"})


def _prose_prop(name: str) -> bool:
    """Whether a property/attribute name holds prose (`ariaLabel`, `aria-label`, ...)."""
    return name.replace("-", "").lower() in PROSE_PROPS


def mdx_shape(tree: dict, in_code: bool = False) -> dict:
    """`tree` without prose: text dropped (kept inside pre/code), prose props masked."""
    kind = tree["type"]
    shape: dict = {"type": kind}
    name = tree.get("tagName") or tree.get("name")
    if kind == "element":
        shape["tagName"] = name
        shape["properties"] = {k: ("*" if _prose_prop(k) and isinstance(v, str) else v)
                               for k, v in tree["properties"].items()}
    elif kind in ("mdxJsxFlowElement", "mdxJsxTextElement"):
        shape["name"] = name
        shape["attributes"] = [
            {**a, "value": "*"} if isinstance(a.get("value"), str) and _prose_prop(a["name"])
            else a for a in tree["attributes"]
        ]
    elif "value" in tree and kind != "text":
        shape["value"] = tree["value"]
    inner = in_code or name in _CODE
    if "children" in tree:
        shape["children"] = [
            mdx_shape(child, inner) if child["type"] != "text" else dict(child)
            for child in tree["children"] if child["type"] != "text" or inner
        ]
    return shape


# --- fixture checks shared by the dialect oracle tests ------------------------------

MARKER_LINE_RE = re.compile(r"^\s*(?::::|import |export |<<<|\[\[toc\]\])")
CONTAINER_RE = re.compile(r"^(\s*:{3,}[ \t]*[\w-]*)(\[.*\]|[ \t]+\S.*)?$")
INLINE_MARKER_RES = (re.compile(r"\{/\*.*?\*/\}"), re.compile(r"\{\{.*?\}\}"), EXPLICIT_ID_RE)
EMOJI_RE = re.compile(r"(?<![\w:]):[a-z][a-z0-9_+-]*:(?![\w:])")


def markers(text: str, extra: tuple[re.Pattern, ...] = ()) -> list[str]:
    """Every marker of `text`: marker lines, then `{/*…*/}`, `{{ … }}`, `{#id}` (+ `extra`).

    A container line's title (`::: warning Title`, `:::note[Title]`) is prose, so it
    stands as `…`: the marker itself must be kept, the title may be translated.
    """
    found = []
    for line in text.splitlines():
        if MARKER_LINE_RE.match(line):
            container = CONTAINER_RE.match(line.rstrip())
            if container and container.group(2):
                title = container.group(2)
                line = container.group(1) + ("[…]" if title.startswith("[") else " …")
            found.append(line.rstrip())
    for pattern in INLINE_MARKER_RES + extra:
        found.extend(pattern.findall(text) if not pattern.groups else
                     [m.group(0) for m in pattern.finditer(text)])
    return found


_FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,})")
_SKIP_RE = re.compile(r"^\s*(?:<|\{|:::|\[\[|import |export |---|\|[\s:|-]*$)")
_LEAD_RE = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*+]\s+|\d+[.)]\s+|\|\s*)*")
_RAW_RE = re.compile(r"^\s*<(script|style|template|pre|textarea)\b")
_PROSE_START_RE = re.compile(r"^(?:[^\W\d]|\*\*?\w|_\w|\[(?!\[)\w)")


def prose_blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the prose lines of `text`, one range per paragraph.

    Skipped: front matter, fenced code, ESM blocks, `<script>`/`<style>`/`<pre>` blocks,
    JSX/HTML tag lines (with their multi-line attributes), expression lines, container
    markers and table rules.
    """
    lines = text.splitlines(keepends=True)
    blocks: list[tuple[int, int]] = []
    i, current = 0, None
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    if lines and lines[0].strip() == "---":
        i = next(k for k in range(1, len(lines)) if lines[k].strip() == "---") + 1
    while i < len(lines):
        line, pos = lines[i], offsets[i]
        fence = _FENCE_RE.match(line)
        skip_to = i + 1
        if fence:
            mark = fence.group(1)
            skip_to = next((k + 1 for k in range(i + 1, len(lines))
                            if lines[k].strip().startswith(mark[0] * len(mark))), len(lines))
        elif re.match(r"^(import|export) ", line):
            skip_to = next((k for k in range(i, len(lines)) if not lines[k].strip()), len(lines))
        elif raw := _RAW_RE.match(line):
            close = f"</{raw.group(1)}"
            skip_to = next((k + 1 for k in range(i, len(lines)) if close in lines[k]), len(lines))
        elif line.lstrip().startswith("<") and ">" not in line:
            skip_to = next((k + 1 for k in range(i, len(lines)) if ">" in lines[k]), len(lines))
        prose = (not fence and skip_to == i + 1 and not _SKIP_RE.match(line)
                 and _PROSE_START_RE.match(line[_LEAD_RE.match(line).end():]))
        if prose and current is None:
            current = pos
        if not prose and current is not None:
            blocks.append((current, pos))
            current = None
        i = skip_to
    if current is not None:
        blocks.append((current, len(text)))
    return blocks


def untranslated_blocks(text: str, segments, translate) -> list[str]:
    """Prose blocks of `text` that no segment overlaps whose `translate`d text differs."""
    missing = []
    for start, end in prose_blocks(text):
        if not any(s.start < end and s.end > start and translate(s.text) != s.text
                   for s in segments):
            missing.append(text[start:end])
    return missing
