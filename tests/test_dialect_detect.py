"""`detect_dialect`: every site-configuration rule, on temporary projects."""

from __future__ import annotations

from pathlib import Path

import pytest

from hymt_cli.documents import dialect_detect
from hymt_cli.documents.dialect_detect import Detected, detect_dialect, mkdocs_features
from hymt_cli.documents.dialects import DIALECT_FEATURES, get_dialect

ALWAYS = {"code_include", "annotations"}


@pytest.fixture(autouse=True)
def fresh_cache():
    """Every test sees the files it wrote, not an earlier test's cached answer."""
    dialect_detect.clear_cache()
    yield
    dialect_detect.clear_cache()


def write(root: Path, files: dict[str, str]) -> Path:
    """Create `files` (relative path → text; a path ending in `/` is a directory) under root."""
    for name, text in files.items():
        target = root / name
        if name.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


def detect(root: Path, page: str, files: dict[str, str]) -> Detected:
    """Write the project (and `page`) under root, then detect `page` with root as the limit."""
    write(root, {**files, page: "# Title\n"})
    return detect_dialect(root / page, root=root)


MATERIAL_YML = """\
site_name: Demo
theme:
  name: material
markdown_extensions:
  - admonition
  - attr_list
  - md_in_html
  - markdown.extensions.abbr
  - toc:
      permalink: !ENV [TOC_PERMALINK, true]
  - pymdownx.details
  - pymdownx.superfences:
      custom_fences:
        - name: mermaid
          class: mermaid
          format: !!python/name:pymdownx.superfences.fence_code_format
  - pymdownx.tabbed:
      alternate_style: true
  - pymdownx.emoji:
      emoji_index: !!python/name:material.extensions.emoji.twemoji
      emoji_generator: !!python/name:material.extensions.emoji.to_svg
  - pymdownx.blocks.admonition
  - pymdownx.keys
  - pymdownx.mark
  - pymdownx.caret
  - pymdownx.tilde
  - pymdownx.critic
  - pymdownx.arithmatex:
      generic: true
  - pymdownx.snippets:
      base_path: !relative $config_dir
"""


def test_mkdocs_material_config_with_python_tags(tmp_path):
    """Tags load as plain values and every listed extension maps to its feature."""
    found = detect(tmp_path, "docs/index.md", {"mkdocs.yml": MATERIAL_YML})
    assert found.dialect.name == "mkdocs"
    assert found.dialect.features == DIALECT_FEATURES["mkdocs"]
    assert found.config == tmp_path / "mkdocs.yml"
    assert found.reason == "mkdocs.yml at ./ (17 extensions)"


def test_mkdocs_extensions_narrow_the_features(tmp_path):
    """Only what markdown_extensions enables (plus the two always-on ones)."""
    yml = "site_name: x\nmarkdown_extensions:\n  - admonition\n  - pymdownx.keys\n  - toc\n"
    found = detect(tmp_path, "docs/a/b.md", {"docs-site/mkdocs.yml": yml, "docs/": ""})
    # docs-site/ is not above docs/a/b.md: a sibling never counts.
    assert found.dialect.name == "commonmark"
    found = detect(tmp_path, "docs-site/docs/a/b.md", {})
    assert found.dialect.features == {"admonition", "keys"} | ALWAYS
    assert found.reason == "mkdocs.yml at docs-site/ (3 extensions)"
    assert found.config == tmp_path / "docs-site" / "mkdocs.yml"


@pytest.mark.parametrize(
    ("yml", "features"),
    [
        ("site_name: x\n", set()),
        ("site_name: x\nmarkdown_extensions: []\n", set()),
        ("site_name: x\nmarkdown_extensions:\n", set()),
        ("", set()),
        ("markdown_extensions:\n  - pymdownx.blocks.tab\n  - pymdownx.blocks.html\n", {"blocks"}),
        ("markdown_extensions:\n  - markdown.extensions.admonition\n"
         "  - markdown.extensions.md_in_html\n", {"admonition", "md_in_html"}),
        ("markdown_extensions:\n  admonition: {}\n  pymdownx.tilde: {}\n", {"admonition", "tilde"}),
        ("markdown_extensions:\n  - pymdownx.superfences\n  - tables\n  - footnotes\n", set()),
        ("markdown_extensions:\n  - extra\n", {"abbr", "attr_list", "md_in_html"}),
    ],
)
def test_mkdocs_feature_sets(tmp_path, yml, features):
    """Each extension spelling, the mapping form, and configs without extensions."""
    found = detect(tmp_path, "docs/index.md", {"mkdocs.yaml": yml})
    assert found.dialect == get_dialect("mkdocs", features | ALWAYS)
    assert found.config == tmp_path / "mkdocs.yaml"


def test_mkdocs_features_helper():
    """The name → feature map on its own, prefixes stripped."""
    assert mkdocs_features([]) == ALWAYS
    assert mkdocs_features(["markdown.extensions.attr_list", "pymdownx.blocks.details"]) == (
        {"attr_list", "blocks"} | ALWAYS
    )


def test_mkdocs_inherit_adds_the_parent_extensions(tmp_path):
    """`INHERIT:` merges the parent's markdown_extensions."""
    files = {
        "base.yml": "markdown_extensions:\n  - admonition\n",
        "site/mkdocs.yml": "INHERIT: ../base.yml\nmarkdown_extensions:\n  - pymdownx.mark\n",
    }
    found = detect(tmp_path, "site/docs/index.md", files)
    assert found.dialect.features == {"admonition", "mark"} | ALWAYS


@pytest.mark.parametrize(
    ("yml", "problem"),
    [
        ("site_name: [unclosed\nnav: x\n", "flow sequence"),
        ("markdown_extensions:\n  - admonition\n - bad indent\n", "mkdocs.yml"),
        ("- just\n- a list\n", "not a mapping"),
        ("markdown_extensions: admonition\n", "must be a list"),
        ("markdown_extensions:\n  - [a, b]\n", "bad markdown_extensions entry"),
    ],
)
def test_broken_mkdocs_yml_names_file_and_problem(tmp_path, yml, problem):
    """An unreadable mkdocs.yml is a ValueError naming the file and what is wrong."""
    write(tmp_path, {"mkdocs.yml": yml, "docs/index.md": "# x\n"})
    with pytest.raises(ValueError) as info:
        detect_dialect(tmp_path / "docs" / "index.md", root=tmp_path)
    message = str(info.value)
    assert str(tmp_path / "mkdocs.yml") in message
    assert problem in message


def test_undecodable_mkdocs_yml(tmp_path):
    """Bytes that are not UTF-8 are a ValueError too, not a crash."""
    (tmp_path / "mkdocs.yml").write_bytes(b"site_name: \xff\xfe\n")
    with pytest.raises(ValueError, match="mkdocs.yml"):
        detect_dialect(tmp_path / "index.md", root=tmp_path)


@pytest.mark.parametrize(
    ("files", "page", "dialect", "config", "reason"),
    [
        ({".vitepress/config.mts": "export default {}\n"}, "guide/a.md", "vitepress",
         ".vitepress/config.mts", ".vitepress/ at ./"),
        ({".vitepress/": ""}, "a.md", "vitepress", ".vitepress", ".vitepress/ at ./"),
        ({"docusaurus.config.js": ""}, "docs/intro.md", "mdx", "docusaurus.config.js",
         "docusaurus.config.js at ./"),
        ({"docusaurus.config.ts": ""}, "docs/intro.md", "mdx", "docusaurus.config.ts",
         "docusaurus.config.ts at ./"),
        ({"docusaurus.config.mjs": ""}, "blog/x.md", "mdx", "docusaurus.config.mjs",
         "docusaurus.config.mjs at ./"),
        ({"docusaurus.config.cjs": ""}, "x.md", "mdx", "docusaurus.config.cjs",
         "docusaurus.config.cjs at ./"),
        ({"book.toml": "[book]\n"}, "src/ch1.md", "mdbook", "book.toml", "book.toml at ./"),
        ({"hugo.toml": ""}, "content/post.md", "hugo", "hugo.toml", "hugo.toml at ./"),
        ({"hugo.yaml": ""}, "content/post.md", "hugo", "hugo.yaml", "hugo.yaml at ./"),
        ({"hugo.yml": ""}, "content/post.md", "hugo", "hugo.yml", "hugo.yml at ./"),
        ({"hugo.json": "{}"}, "content/post.md", "hugo", "hugo.json", "hugo.json at ./"),
        ({"config.toml": ""}, "content/post.md", "hugo", "config.toml",
         "config.toml with content/ at ./"),
        ({"config.yaml": ""}, "content/post.md", "hugo", "config.yaml",
         "config.yaml with content/ at ./"),
        ({"config.yml": ""}, "content/en/post.md", "hugo", "config.yml",
         "config.yml with content/ at ./"),
        ({"_config.yml": "title: Blog\n"}, "_posts/2024-01-01-a.md", "jekyll", "_config.yml",
         "_config.yml at ./"),
        ({"docs/conf.py": "extensions = ['myst_parser']\n"}, "docs/a.md", "myst", "docs/conf.py",
         "conf.py using MyST at docs/"),
        ({"conf.py": "extensions = [\"myst_nb\"]\n"}, "a.md", "myst", "conf.py",
         "conf.py using MyST at ./"),
    ],
)
def test_each_site_kind(tmp_path, files, page, dialect, config, reason):
    """One sign per tool gives that tool's dialect with its default features."""
    found = detect(tmp_path, page, files)
    assert found.dialect == get_dialect(dialect)
    assert found.config == tmp_path / config
    assert found.reason == reason


@pytest.mark.parametrize(
    "files",
    [
        {},
        {"config.toml": ""},  # no content/ directory: not Hugo
        {"conf.py": "extensions = ['sphinx.ext.autodoc']\n"},  # Sphinx without MyST
        {"docs/mkdocs.yml": "site_name: x\n"},  # below the page, not above
        {"vitepress/": ""},  # not the dot directory
    ],
)
def test_plain_commonmark(tmp_path, files):
    """Without any sign above the page it is CommonMark, and no config is named."""
    found = detect(tmp_path, "page.md", files)
    assert found.dialect == get_dialect("commonmark")
    assert found.config is None
    assert "no site configuration" in found.reason


def test_mdx_suffix_wins_whatever_the_project(tmp_path):
    """A .mdx file is MDX even inside an MkDocs or VitePress project."""
    found = detect(tmp_path, "docs/page.mdx", {"mkdocs.yml": "site_name: x\n", ".vitepress/": ""})
    assert found.dialect == get_dialect("mdx")
    assert found.config is None
    assert ".mdx" in found.reason
    assert detect_dialect(tmp_path / "docs" / "PAGE.MDX", root=tmp_path).dialect.name == "mdx"


@pytest.mark.parametrize(
    ("files", "dialect"),
    [
        ({"mkdocs.yml": "", ".vitepress/": "", "book.toml": "", "hugo.toml": ""}, "mkdocs"),
        ({".vitepress/": "", "docusaurus.config.js": "", "book.toml": ""}, "vitepress"),
        ({"docusaurus.config.js": "", "book.toml": "", "hugo.toml": ""}, "mdx"),
        ({"book.toml": "", "hugo.toml": "", "_config.yml": ""}, "mdbook"),
        ({"hugo.toml": "", "_config.yml": "", "conf.py": "myst_parser"}, "hugo"),
        ({"config.toml": "", "content/": "", "_config.yml": ""}, "hugo"),
        ({"_config.yml": "", "conf.py": "myst_parser"}, "jekyll"),
        ({"mkdocs.yml": "", "_config.yml": ""}, "mkdocs"),
    ],
)
def test_precedence_within_one_directory(tmp_path, files, dialect):
    """Several signs in the same directory: the rule order decides."""
    assert detect(tmp_path, "page.md", files).dialect.name == dialect


def test_nearest_directory_wins(tmp_path):
    """A VitePress site nested in an MkDocs repository: the nearer sign decides."""
    files = {"mkdocs.yml": "markdown_extensions: [admonition]\n", "web/.vitepress/": ""}
    assert detect(tmp_path, "web/guide/a.md", files).dialect.name == "vitepress"
    assert detect(tmp_path, "docs/a.md", files).dialect.name == "mkdocs"
    found = detect(tmp_path, "web/guide/deep/er/b.md", files)
    assert found.reason == ".vitepress/ at web/"


def test_root_limits_the_search(tmp_path):
    """Signs above `root` are not looked at."""
    write(tmp_path, {"mkdocs.yml": "", "sub/page.md": "# x\n"})
    assert detect_dialect(tmp_path / "sub" / "page.md", root=tmp_path / "sub").dialect.name == (
        "commonmark"
    )
    assert detect_dialect(tmp_path / "sub" / "page.md", root=tmp_path).dialect.name == "mkdocs"


def test_without_root_the_git_directory_limits_the_search(tmp_path):
    """Without root the nearest directory holding `.git` is the last one looked at."""
    write(tmp_path, {"mkdocs.yml": "", "repo/.git/": "", "repo/docs/page.md": "# x\n"})
    assert detect_dialect(tmp_path / "repo" / "docs" / "page.md").dialect.name == "commonmark"
    write(tmp_path, {"repo/book.toml": ""})
    dialect_detect.clear_cache()
    found = detect_dialect(tmp_path / "repo" / "docs" / "page.md")
    assert found.dialect.name == "mdbook"
    assert found.reason == "book.toml at ./"


def test_git_file_of_a_worktree_also_limits(tmp_path):
    """A `.git` file (worktrees, submodules) marks the repository top as well."""
    write(tmp_path, {"_config.yml": "", "wt/.git": "gitdir: /elsewhere\n", "wt/a.md": "# x\n"})
    assert detect_dialect(tmp_path / "wt" / "a.md").dialect.name == "commonmark"


def test_without_root_or_git_it_looks_up_to_the_filesystem_root(tmp_path):
    """No `.git` anywhere above: every parent directory is looked at."""
    write(tmp_path, {"book.toml": "", "a/b/c/page.md": "# x\n"})
    found = detect_dialect(tmp_path / "a" / "b" / "c" / "page.md")
    if any((parent / ".git").exists() for parent in tmp_path.parents):
        pytest.skip("the temporary directory lies inside a git repository")
    assert found.dialect.name == "mdbook"
    assert found.config == tmp_path / "book.toml"


def test_a_directory_path_is_looked_at_itself(tmp_path):
    """Given a directory, its own signs count (as for the files in it)."""
    write(tmp_path, {"site/book.toml": ""})
    assert detect_dialect(tmp_path / "site", root=tmp_path).dialect.name == "mdbook"


def test_results_are_cached_per_directory(tmp_path):
    """Until clear_cache, a directory keeps its answer; afterwards new files count."""
    write(tmp_path, {"docs/a.md": "# a\n", "docs/b.md": "# b\n"})
    first = detect_dialect(tmp_path / "docs" / "a.md", root=tmp_path)
    assert first.dialect.name == "commonmark"
    write(tmp_path, {"book.toml": ""})
    assert detect_dialect(tmp_path / "docs" / "b.md", root=tmp_path) is first
    dialect_detect.clear_cache()
    assert detect_dialect(tmp_path / "docs" / "b.md", root=tmp_path).dialect.name == "mdbook"


def test_relative_paths_resolve(tmp_path, monkeypatch):
    """A relative page path and root work from the current directory."""
    write(tmp_path, {"hugo.toml": "", "content/p.md": "# x\n"})
    monkeypatch.chdir(tmp_path)
    found = detect_dialect(Path("content/p.md"), root=Path("."))
    assert found.dialect.name == "hugo"
    assert found.config == tmp_path / "hugo.toml"


def test_no_heavy_imports():
    """Detection and slugs stay light: no torch, markdown or pymdownx pulled in."""
    import subprocess
    import sys

    code = (
        "import sys; import hymt_cli.documents.dialect_detect as d, hymt_cli.documents.slugs;"
        "from pathlib import Path; d.detect_dialect(Path('x.md'), Path('.'));"
        "bad = [m for m in ('torch', 'markdown', 'pymdownx', 'transformers') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
