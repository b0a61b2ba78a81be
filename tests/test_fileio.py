"""File handling: decoding, output paths, discovery and atomic writes."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest

from hymt_cli import fileio
from hymt_cli.fileio import (
    InputError,
    Source,
    check_pattern,
    decode,
    discover,
    is_previous_output,
    output_path,
    walk,
    write_atomic,
)


def touch(path: Path, text: str = "Hello.\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# decoding ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "encoding", "bom"),
    [
        (b"plain\r\nCRLF\r\n", "utf-8", b""),
        (codecs.BOM_UTF8 + "caf\u00e9\n".encode(), "utf-8", codecs.BOM_UTF8),
        (codecs.BOM_UTF16_LE + "hi\r\n".encode("utf-16-le"), "utf-16-le",
         codecs.BOM_UTF16_LE),
        (codecs.BOM_UTF16_BE + "hi\n".encode("utf-16-be"), "utf-16-be",
         codecs.BOM_UTF16_BE),
    ],
)
def test_decode_round_trips_bytes(data: bytes, encoding: str, bom: bytes) -> None:
    decoded = decode("f.txt", data)
    assert (decoded.encoding, decoded.bom) == (encoding, bom)
    assert not decoded.text.startswith("\ufeff")
    assert decoded.encode(decoded.text) == data


def test_decode_keeps_line_endings() -> None:
    assert decode("f", b"a\r\nb\rc\n").text == "a\r\nb\rc\n"


def test_invalid_utf8_names_byte_line_and_column() -> None:
    with pytest.raises(InputError) as info:
        decode("f.md", b"ok\nab\xffc\n")
    assert info.value.problem == "not valid utf-8 at byte 5 (line 2, column 3)"
    assert "--encoding" in info.value.hint


def test_invalid_utf8_offset_counts_the_bom() -> None:
    with pytest.raises(InputError, match="at byte 4 "):
        decode("f.md", codecs.BOM_UTF8 + b"a\xfe")


def test_explicit_encoding_overrides() -> None:
    decoded = decode("f", "caf\u00e9".encode("latin-1"), "latin-1")
    assert decoded.text == "caf\u00e9"
    assert decoded.encode(decoded.text) == b"caf\xe9"


@pytest.mark.parametrize("data", [b"", codecs.BOM_UTF8])
def test_empty_is_refused(data: bytes) -> None:
    with pytest.raises(InputError, match="file is empty"):
        decode("f", data)


def test_nul_byte_means_binary() -> None:
    with pytest.raises(InputError, match=r"binary file \(NUL byte at offset 3\)"):
        decode("f", b"PNG\0\1\2")


def test_nul_beyond_the_probe_is_a_decode_matter() -> None:
    text = "a" * fileio.BINARY_PROBE + "\0"
    assert decode("f", text.encode()).text == text


# output paths ----------------------------------------------------------------------


def test_default_output_is_beside_the_source() -> None:
    source = Source(Path("docs/guide.md"))
    assert output_path(source, "de") == Path("docs/guide.de.md")
    assert output_path(Source(Path("a.txt")), "zh-Hant") == Path("a.zh-Hant.txt")


def test_pattern_fields() -> None:
    source = Source(Path("docs/sub/page.html"), root=Path("docs"))
    pattern = "out/{lang}/{relpath}|{dir}|{stem}|{suffix}"
    assert str(output_path(source, "fr", pattern)) == (
        "out/fr/sub/page.html|docs/sub|page|.html"
    )


def test_relpath_of_a_file_argument_is_its_name() -> None:
    source = Source(Path("a/b/c.md"))
    assert output_path(source, "ja", "t/{lang}/{relpath}") == Path("t/ja/c.md")


@pytest.mark.parametrize("pattern", ["{name}", "{0}", "{lang!r}", "{lang:>4}", "{"])
def test_bad_patterns(pattern: str) -> None:
    with pytest.raises(ValueError):
        check_pattern(pattern)


def test_good_pattern() -> None:
    check_pattern("{dir}/{stem}.{lang}{suffix} {relpath} {{literal}}")


# discovery -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("guide.de.md", True),
        ("guide.zh-Hant.md", True),
        ("guide.ZH-HANT.md", True),
        ("guide.md", False),
        ("v1.2.md", False),
        ("de.md", False),
        ("guide.xx.md", False),
    ],
)
def test_previous_outputs(name: str, expected: bool) -> None:
    assert is_previous_output(Path(name)) is expected


def test_walk_skips_hidden_vendored_outputs_and_unknown(tmp_path: Path) -> None:
    for name in ["a.md", "sub/b.html", "sub/c.txt", "a.de.md", "sub/b.fr.html",
                 ".hidden/x.md", ".venv/y.md", "node_modules/z.md", ".dot.md",
                 "image.png", "sub/deeper/d.markdown"]:
        touch(tmp_path / name)
    found = [p.relative_to(tmp_path).as_posix() for p in walk(tmp_path)]
    assert found == ["a.md", "sub/b.html", "sub/c.txt", "sub/deeper/d.markdown"]


def test_discover_files_dirs_globs_and_stdin(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    touch(tmp_path / "docs/a.md")
    touch(tmp_path / "docs/b.txt")
    touch(tmp_path / "docs/a.de.md")
    touch(tmp_path / "top.md")
    found = discover(["top.md", "docs", "-", "docs/*.md"])
    names = [s.name for s in found]
    assert names == ["top.md", "docs/a.md", "docs/b.txt", "-"]  # globbed a.md deduped
    docs = found[1]
    assert isinstance(docs, Source) and docs.root == Path("docs") and docs.walked


def test_discover_reports_missing_and_unmatched(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    touch(tmp_path / "x.png")
    found = discover(["nope.md", "*.md", "*.png"])
    assert all(isinstance(f, InputError) for f in found)
    assert [f.path for f in found] == ["nope.md", "*.md", "*.png"]
    assert [s.name for s in discover(["*.png"], any_suffix=True)] == ["x.png"]


def test_explicit_previous_output_is_kept(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    touch(tmp_path / "a.de.md")
    assert [s.name for s in discover(["a.de.md"])] == ["a.de.md"]


def test_recursive_glob(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    touch(tmp_path / "a/b/c.md")
    touch(tmp_path / "a/b/c.ja.md")
    assert [s.name for s in discover(["**/*.md"])] == ["a/b/c.md"]


# writing ---------------------------------------------------------------------------


def test_write_creates_dirs_and_skips_unchanged(tmp_path: Path) -> None:
    target = tmp_path / "new/dir/out.md"
    assert write_atomic(target, b"one\r\n") is True
    assert target.read_bytes() == b"one\r\n"
    os.utime(target, (1_000_000, 1_000_000))
    assert write_atomic(target, b"one\r\n") is False
    assert target.stat().st_mtime == 1_000_000
    assert write_atomic(target, b"two") is True
    assert target.read_bytes() == b"two"
    assert sorted(os.listdir(target.parent)) == ["out.md"]


def test_write_keeps_mode_of_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "out.md"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_atomic(target, b"new")
    assert target.stat().st_mode & 0o777 == 0o640


def test_new_file_mode_follows_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "f", b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "f").stat().st_mode & 0o777 == 0o644


def test_failed_write_leaves_no_temp_and_keeps_old(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "out.md"
    target.write_bytes(b"old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileio.os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.md"]


def test_glob_matches_take_relpath_from_the_literal_prefix(tmp_path: Path,
                                                          monkeypatch) -> None:
    from hymt_cli.fileio import glob_root

    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs/a").mkdir(parents=True)
    (tmp_path / "docs/a/x.md").write_text("X\n")
    (source,) = discover(["docs/**/*.md"])
    assert isinstance(source, Source) and source.root == Path("docs")
    assert output_path(source, "de", "site/{lang}/{relpath}") == Path("site/de/a/x.md")
    assert glob_root("*.md") is None and glob_root("/p/q/*/r.md") == Path("/p/q")


def test_excluded_patterns_match_the_path_or_a_folder_above(tmp_path: Path) -> None:
    from hymt_cli.fileio import excluded

    root = tmp_path
    assert excluded(root / "drafts/a/b.md", ("drafts",), root)
    assert excluded(root / "drafts/a/b.md", ("drafts/*",), root)
    assert excluded(root / "x.tmp.md", ("*.tmp.md",), root)
    assert not excluded(root / "docs/a.md", ("drafts/*",), root)
    assert not excluded(root / "docs/a.md", (), root)


def test_pattern_regex_names_the_fields() -> None:
    from hymt_cli.fileio import pattern_base, pattern_regex, source_candidates

    regex = pattern_regex("site/{lang}/{relpath}", "de")
    match = regex.fullmatch("site/de/guide/a.md")
    assert match is not None and match["relpath"] == "guide/a.md"
    assert regex.fullmatch("site/fr/guide/a.md") is None
    assert source_candidates(match, {Path("docs")}) == [Path("docs/guide/a.md")]
    beside = pattern_regex("{dir}/{stem}.{lang}{suffix}", "de").fullmatch("d/a.de.md")
    assert beside is not None and source_candidates(beside, set()) == [Path("d/a.md")]
    assert pattern_base("site/{lang}/{relpath}") == Path("site")
    assert pattern_base("{dir}/{stem}.{lang}{suffix}") == Path(".")
