"""Project configuration files: discovery, checking, relative paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from hymt_cli.project import ConfigError, find, load


def test_hymt_toml_is_found_upwards_and_paths_are_resolved(tmp_path: Path) -> None:
    (tmp_path / "hymt.toml").write_text(
        'sources = ["docs/**/*.md"]\ntargets = "de"\nout = "site/{lang}/{relpath}"\n'
        'glossaries = ["terms.tsv"]\ncontext-tokens = 64\nstrict_glossary = true\n',
        encoding="utf-8")
    (tmp_path / "docs" / "deep").mkdir(parents=True)
    path = find(tmp_path / "docs" / "deep")
    config = load(path)
    assert config.path == tmp_path / "hymt.toml" and config.root == tmp_path
    assert config.values == {
        "sources": (str(tmp_path / "docs/**/*.md"),),
        "targets": ("de",),
        "out": "site/{lang}/{relpath}",
        "glossaries": (str(tmp_path / "terms.tsv"),),
        "context_tokens": 64,
        "strict_glossary": True,
    }


def test_pyproject_tool_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.hymt]\ntargets = ["fr", "zh"]\n', encoding="utf-8")
    assert load(find(tmp_path)).values == {"targets": ("fr", "zh")}


def test_pyproject_without_table_is_ignored(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    assert find(tmp_path) is None
    assert load(None).values == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("colour = 1\n", "unknown key 'colour'"),
        ("batch_size = 'big'\n", "batch_size must be an integer, not 'big'"),
        ("batch_size = true\n", "batch_size must be an integer, not True"),
        ("targets = [1]\n", "targets must be a list of strings, not 1"),
        ("targets = 3\n", "targets must be a list"),
        ("targets = [\n", "invalid TOML"),
    ],
)
def test_bad_files_name_the_file_and_the_problem(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "hymt.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        load(path)
    assert str(info.value).startswith(str(path))
