"""Segmentation speed per Markdown dialect: the model-free path CI pays every run.

For each dialect, writes a deterministic docs tree (1,000 pages of 3-8 KB that
mix the dialect's constructs) to a temporary folder, reads it back, and times
`hymt_cli.documents.segment` plus rendering a pseudo translation of every page,
in this process (no start-up, no disk in the timing). One pass over the tree
warms up and is excluded; the figure is the median of the timed passes:

    python benchmarks/segment.py                       # every dialect
    python benchmarks/segment.py --dialects hugo,mdx --files 200 --repeats 3

Writes benchmarks/results/segment.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hymt_cli.documents import SegmentOptions, segment  # noqa: E402
from hymt_cli.documents.dialects import DIALECTS, get_dialect  # noqa: E402
from hymt_cli.engines.pseudo import pseudo_translate  # noqa: E402

RESULT = ROOT / "benchmarks" / "results" / "segment.md"
TOPICS = ["billing", "search", "upload", "accounts", "reports", "themes", "caching"]

PROSE = """The {t} service reads its settings when it starts, and again whenever the
file changes. See [the reference](../reference/{t}.md#step-{n}) for the *full* list,
or run `hymt-demo {t} --help`. 设置会在重启后生效。
"""
COMMON = PROSE + """
- Open the **{t}** panel and choose *Settings*.
- Set `timeout` to a value between 1 and 60 seconds.

| Option | Default | Meaning |
|---|---|---|
| `retries` | 3 | How often a failed {t} request is tried again. |

```bash
hymt-demo {t} --step {n} --timeout 30
```

> [!NOTE]
> Changes to the {t} step {n} take effect after the next restart.
"""
SECTIONS: dict[str, str] = {
    "commonmark": COMMON + """
<details>
<summary>Why does the {t} step {n} need a restart?</summary>

The worker caches its configuration for speed.[^{n}]

</details>

- [x] Document the {t} options
- [ ] Add examples for step {n}

[^{n}]: The cache is refreshed every ten minutes.
""",
    "mkdocs": COMMON + """
!!! tip "About {t}"

    The {t} worker is **optional**. Press ++ctrl+c++ to stop it :material-check:.

=== "Linux"

    Run the {t} worker as a service with ==systemd==.

=== "macOS"

    Run the {t} worker with `launchd`.
{{ .annotate }}

*[API]: Application Programming Interface
""",
    "vitepress": COMMON + """
::: tip Using {t}
The {t} page was built from {{{{ $frontmatter.title }}}} :tada:.
:::

::: code-group

```sh [npm]
npm run {t}
```

```sh [pnpm]
pnpm run {t}
```

:::

<<< @/snippets/{t}.js{{2}}
""",
    "mdx": COMMON + """
<Tabs groupId="os">
  <TabItem value="linux">

Start the {t} worker with **systemd**, see {{props.version}}.

  </TabItem>
</Tabs>

:::tip[About {t}]

The {t} worker is optional {{/* keep short */}}.

:::
""",
    "hugo": COMMON + """
{{{{% notice tip %}}}}
The {t} worker is **optional**; see [the guide]({{{{< ref "{t}.md" >}}}}).
{{{{% /notice %}}}}

{{{{< figure src="/images/{t}.png" caption="The {t} panel" >}}}}

{{{{< highlight go >}}}}
func main() {{ fmt.Println("{t}") }}
{{{{< /highlight >}}}}

## More about {t} {{#{t}-{n}}}
""",
    "mdbook": COMMON + """
```rust,ignore
{{{{#rustdoc_include ../listings/{t}/main.rs:here}}}}
```

{{{{#playground ../listings/{t}/play.rs editable}}}}

The cost of a {t} lookup is \\\\( O(1) \\\\) on average.
""",
    "jekyll": COMMON + """
Welcome to **{{{{ site.title }}}}**, read the [{t} post]({{% link _posts/{t}.md %}}).
{{: .notice--info}}

{{% include note.html content="The {t} worker is optional." %}}

{{% raw %}}{{{{ not liquid }}}}{{% endraw %}} stays as is.

{{% if page.{t} %}}
The {t} step {n} is enabled on this page.
{{% endif %}}
""",
    "myst": COMMON + """
```{{note}}
The {t} worker is **optional**, see {{ref}}`{t}-ref`.
```

({t}-{n})=
## More about {t}
""",
}
FRONT = '---\ntitle: "Guide {i}: {t}"\ndescription: "How the {t} part works."\n---\n\n'
HUGO_FRONT = '+++\ntitle = "Guide {i}: {t}"\ndescription = "How the {t} part works."\n' \
             'draft = false\ntags = ["{t}"]\n\n[params]\nweight = {i}\n+++\n\n'


def page(dialect: str, index: int) -> str:
    """One deterministic page of 3-8 KB in `dialect`."""
    rng = random.Random(f"{dialect}-{index}")
    target = rng.randint(3000, 8000)
    topic = rng.choice(TOPICS)
    head = HUGO_FRONT if dialect == "hugo" and index % 2 else FRONT
    parts = [head.format(i=index, t=topic), f"# The {topic} guide, part {index}\n\n"]
    size, n = sum(len(p.encode()) for p in parts), 0
    while size < target:
        n += 1
        section = f"## {rng.choice(TOPICS)} step {n}\n\n" + SECTIONS[dialect].format(
            t=rng.choice(TOPICS), n=n) + "\n"
        if size + len(section.encode()) > 8000 and size >= 3000:
            break
        parts.append(section)
        size += len(section.encode())
    return "".join(parts)


def build_tree(folder: Path, dialect: str, files: int) -> list[Path]:
    """Write `files` pages under folder/docs/<section>/; returns their paths."""
    paths = []
    for index in range(files):
        path = folder / "docs" / f"section-{index // 50:02}" / f"page-{index:04}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page(dialect, index), encoding="utf-8")
        paths.append(path)
    return paths


def one_pass(texts: list[str], options: SegmentOptions) -> tuple[float, int]:
    """Seconds to segment and pseudo-render every text, and the segment count."""
    count = 0
    began = time.perf_counter()
    for text in texts:
        doc = segment(text, "md", options)
        segments = doc.segments()
        doc.render({s.id: pseudo_translate(s.text) for s in segments})
        count += len(segments)
    return time.perf_counter() - began, count


def measure(dialect: str, files: int, repeats: int) -> list[str]:
    """A result row: dialect, files, MB, segments, median s, MB/s, ms per page."""
    with tempfile.TemporaryDirectory() as temp:
        texts = [p.read_text(encoding="utf-8") for p in build_tree(Path(temp), dialect, files)]
    options = SegmentOptions(dialect=get_dialect(dialect))
    one_pass(texts, options)  # warm-up: parser construction, caches
    timings, count = [], 0
    for _ in range(repeats):
        seconds, count = one_pass(texts, options)
        timings.append(seconds)
    megabytes = sum(len(t.encode()) for t in texts) / 1e6
    median = statistics.median(timings)
    row = [dialect, str(files), f"{megabytes:.2f}", str(count), f"{median:.2f}",
           f"{megabytes / median:.2f}", f"{1000 * median / files:.2f}",
           " / ".join(f"{t:.2f}" for t in timings)]
    print(" | ".join(row), flush=True)
    return row


def cpu_model() -> str:
    """The CPU's model name (Linux), else the platform's processor string."""
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                return row.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def write_result(rows: list[list[str]], command: str, load: str) -> None:
    """benchmarks/results/segment.md."""
    head = ["dialect", "files", "MB", "segments", "median s", "MB/s", "ms/page",
            "passes s"]
    lines = [
        "# Segmentation speed per dialect",
        "",
        f"- date: {datetime.date.today().isoformat()}",
        f"- command: `{command}`",
        f"- machine: {os.cpu_count()} CPUs (nproc), {cpu_model()}, "
        f"Python {platform.python_version()}; load average before: {load}",
        "- work: `hymt_cli.documents.segment` + render of a pseudo translation, per page,"
        " in one process; one warm-up pass excluded, median of the timed passes",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    """Time every chosen dialect and write the result table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialects", default=",".join(DIALECTS))
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = [measure(name, args.files, args.repeats) for name in args.dialects.split(",")]
    write_result(rows, " ".join(["python benchmarks/segment.py", *sys.argv[1:]]), load)
    print(RESULT.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
