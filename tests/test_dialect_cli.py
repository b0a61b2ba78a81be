"""`--dialect`, `--protect` and detection through the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from hymt_cli.cli import run

MKDOCS_PAGE = '=== "First tab"\n    Tab body.\n\nPress ++ctrl++ to copy.\n'


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: x\nmarkdown_extensions:\n  - pymdownx.tabbed:\n"
        "      alternate_style: true\n  - pymdownx.keys\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text(MKDOCS_PAGE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_auto_detects_mkdocs_and_segments_says_so(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["segments", "docs/a.md"]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith("dialect: mkdocs (mkdocs.yml")
    assert '"kind": "tab_title", "text": "First tab"' in captured.out
    assert '"text": "Press <s1></s1> to copy."' in captured.out


def test_translate_keeps_markers_of_the_detected_dialect(site: Path) -> None:
    assert run(["translate", "docs", "--to", "de", "--engine", "pseudo",
                "--no-memory", "-q"]) == 0
    out = (site / "docs" / "a.de.md").read_text()
    assert out.startswith('=== "') and "\n    " in out and "++ctrl++" in out
    assert "First tab" not in out


def test_forced_dialect_overrides_detection(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["segments", "docs/a.md", "--dialect", "commonmark"]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith("dialect: commonmark")
    assert "tab_title" not in captured.out


def test_dialect_project_key_and_protect(site: Path) -> None:
    (site / "hymt.toml").write_text(
        'dialect = "commonmark"\nprotect = ["First tab"]\nengine = "pseudo"\n')
    assert run(["translate", "docs/a.md", "--to", "de", "--no-memory", "-q"]) == 0
    out = (site / "docs" / "a.de.md").read_text()
    assert "First tab" in out  # protected, and the tab syntax is prose here


@pytest.mark.parametrize(("args", "message"), [
    (["--dialect", "rst"], "unknown dialect 'rst'"),
    (["--protect", "(unclosed"], "is not a regular expression"),
    (["--protect", "x*"], "matches empty text"),
])
def test_bad_dialect_options_are_usage_errors(
    site: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code = run(["translate", "docs/a.md", "--to", "de", "--engine", "pseudo", *args])
    assert code == 2
    assert message in capsys.readouterr().err


def test_broken_mkdocs_yml_fails_that_input(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (site / "mkdocs.yml").write_text("markdown_extensions: [unclosed\n")
    code = run(["translate", "docs/a.md", "--to", "de", "--engine", "pseudo",
                "--no-memory"])
    assert code == 1
    err = capsys.readouterr().err
    assert "mkdocs.yml" in err and "docs/a.md" in err
    assert not (site / "docs" / "a.de.md").exists()


def test_mdx_suffix_is_markdown_in_the_mdx_dialect(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (site / "docs" / "b.mdx").write_text("import X from 'y';\n\nHello {name}.\n")
    assert run(["segments", "docs/b.mdx"]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith("dialect: mdx")
    assert '"text": "Hello <s1></s1>."' in captured.out


def test_mdx_prose_props_are_translated_and_pass_the_structure_check(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """The structure check sees JSX tags with their prose props masked: a
    translated `title=` is not a structure change (nothing is reverted)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "page.mdx").write_text(
        '# Guide\n\n<Admonition type="tip" title="Did you know">\n\nSome text.\n\n'
        '</Admonition>\n\n<img src="/a.png" alt="A diagram" />\n', "utf-8")
    assert run(["translate", "page.mdx", "--to", "de", "--engine", "pseudo",
                "--no-memory", "--verbose"]) == 0
    assert "structure" not in capsys.readouterr().err
    out = (tmp_path / "page.de.mdx").read_text("utf-8")
    assert 'title="[Đíđ ýóú ķñóŵ' in out and 'alt="[À đíàĝŕàɱ' in out
    assert 'type="tip"' in out and 'src="/a.png"' in out
