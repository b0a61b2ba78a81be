"""Hostile inputs and environments (issue 10, items 2, 5, 11, 12, 13): link loops,
FIFOs, devices, huge files, bad glossaries, an unwritable stdout, odd file names,
fsync, and YAML anchors or block scalars in front matter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from hymt_cli import fileio
from hymt_cli.cli import run
from hymt_cli.documents.md_front_matter import FrontMatterError, front_matter_segments
from hymt_cli.fileio import discover, write_atomic

GUARD_S = 120
"""A hang guard for subprocesses (not a timing assertion): today's code blocks."""


def hymt(*args: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess[bytes]:
    """Run the real `hymt` command line in a subprocess."""
    command = [sys.executable, "-m", "hymt_cli", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, timeout=GUARD_S,
                          **kwargs)


def front_matter(path: Path) -> dict:
    """The YAML front matter of a Markdown file, parsed."""
    text = path.read_text(encoding="utf-8")
    return YAML(typ="safe", pure=True).load(text.split("---\n")[1])


# item 5: link loops, FIFOs, devices, size cap ----------------------------------------


def test_glob_through_a_link_loop_finds_each_file_once(tmp_path: Path,
                                                       monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t/a").mkdir(parents=True)
    (tmp_path / "t/a/x.md").write_text("# A\n")
    (tmp_path / "t/a/loop").symlink_to("..")
    assert [s.name for s in discover(["t/**/*.md"])] == ["t/a/x.md"]


def test_glob_through_several_link_loops_returns(tmp_path: Path) -> None:
    (tmp_path / "t/a").mkdir(parents=True)
    (tmp_path / "t/a/x.md").write_text("# A\n")
    for name in ("loop", "loop2"):
        (tmp_path / "t/a" / name).symlink_to("..")
    (tmp_path / "t/a/up").symlink_to("../..")
    done = hymt("translate", "t/**/*.md", "--to", "de", "--engine", "pseudo",
                "--no-memory", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0].startswith(b"wrote t/a/x.de.md")


def test_glob_follows_links_that_are_not_loops(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere/e.md").write_text("# E\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/shared").symlink_to("../elsewhere")
    assert [s.name for s in discover(["docs/**/*.md"])] == ["docs/shared/e.md"]


def test_walked_fifo_is_skipped_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    os.mkfifo(tmp_path / "w/pipe.md")
    (tmp_path / "w/b.md").write_text("# B\n")
    done = hymt("translate", "w", "--to", "de", "--engine", "pseudo", "--no-memory",
                cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert b"skipping w/pipe.md: not a regular file (FIFO)" in done.stderr
    assert (tmp_path / "w/b.de.md").is_file()


def test_named_fifo_fails_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "x.md")
    (tmp_path / "ok.md").write_text("# Ok\n")
    done = hymt("translate", "x.md", "ok.md", "--to", "de", "--engine", "pseudo",
                "--no-memory", cwd=tmp_path)
    assert done.returncode == 1
    assert b"Error: x.md: not a regular file (FIFO)" in done.stderr
    assert (tmp_path / "ok.de.md").is_file()


def test_link_to_dev_zero_fails_fast(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "z.md").symlink_to("/dev/zero")
    (tmp_path / "ok.md").write_text("# Ok\n")
    code = run(["translate", "z.md", "ok.md", "--to", "de", "--engine", "pseudo",
                "--no-memory"])
    assert code == 1
    assert "Error: z.md: not a regular file (character device)" in capsys.readouterr().err


def test_reading_a_device_directly_is_refused(tmp_path: Path) -> None:
    with pytest.raises(fileio.InputError, match="not a regular file"):
        fileio.read_source(fileio.Source(Path("/dev/zero")))


def test_max_file_size_caps_reads(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "big.md").write_text("word " * 400)
    (tmp_path / "small.md").write_text("# Small\n")
    args = ["translate", "big.md", "small.md", "--to", "de", "--engine", "pseudo",
            "--no-memory", "--max-file-size", "1K"]
    assert run(args) == 1
    err = capsys.readouterr().err
    assert "Error: big.md: larger than the 1 KB limit" in err
    assert not (tmp_path / "big.de.md").exists()
    assert (tmp_path / "small.de.md").is_file()


def test_max_file_size_from_the_project_file(tmp_path: Path, monkeypatch,
                                             capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hymt.toml").write_text('sources = ["a.md"]\ntargets = ["de"]\n'
                                        'engine = "pseudo"\nmax_file_size = 10\n')
    (tmp_path / "a.md").write_text("# A longer title\n")
    assert run(["translate", "--no-memory"]) == 1
    assert "larger than the 10 bytes limit" in capsys.readouterr().err


def test_max_file_size_caps_stdin(tmp_path: Path) -> None:
    done = hymt("translate", "-", "--to", "de", "--engine", "pseudo", "--no-memory",
                "--max-file-size", "16", cwd=tmp_path, input=b"# " + b"x" * 64 + b"\n")
    assert done.returncode == 1
    assert b"Error: -: larger than the 16 bytes limit" in done.stderr


def test_bad_max_file_size_is_a_usage_error(tmp_path: Path, monkeypatch,
                                            capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.md").write_text("# A\n")
    assert run(["translate", "a.md", "--to", "de", "--engine", "pseudo",
                "--max-file-size", "lots"]) == 2
    assert "--max-file-size: not a size: 'lots'" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "size"), [("17", 17), ("512K", 512 << 10),
                                            ("100MB", 100 << 20), ("1g", 1 << 30)])
def test_parse_size(text: str, size: int) -> None:
    assert fileio.parse_size(text) == size


# item 11: glossary errors, stdout failures ------------------------------------------


def translate_with_glossary(tmp_path: Path, name: str, content: str) -> int:
    (tmp_path / "a.md").write_text("# Repository\n")
    (tmp_path / name).write_text(content, encoding="utf-8")
    return run(["translate", "a.md", "--to", "de", "--engine", "pseudo",
                "--no-memory", "--glossary", name])


def test_glossary_terms_object_is_a_usage_error(tmp_path: Path, monkeypatch,
                                                capsys) -> None:
    monkeypatch.chdir(tmp_path)
    code = translate_with_glossary(tmp_path, "g.json", '{"terms": {"a": "b"}}')
    err = capsys.readouterr().err
    assert code == 2
    assert 'Error: g.json: "terms" must be a list of {source, target} objects' in err
    assert "unexpected" not in err


def test_conflicting_duplicate_terms_are_rejected(tmp_path: Path, monkeypatch,
                                                  capsys) -> None:
    monkeypatch.chdir(tmp_path)
    code = translate_with_glossary(
        tmp_path, "g.tsv", "source\ttarget\nrepository\tRepo\nRepository\tArchiv\n")
    assert code == 2
    err = capsys.readouterr().err
    assert ("Error: g.tsv:3: term 'Repository' has two targets: 'Repo' (g.tsv:2) "
            "and 'Archiv'") in err


def test_conflicts_across_glossary_files_name_both(tmp_path: Path, monkeypatch,
                                                   capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "one.csv").write_text("source,target\nrepository,Repo\n")
    code = translate_with_glossary(
        tmp_path, "two.json", '[{"source": "repository", "target": "Archiv"}]')
    assert code == 0  # each file alone is fine
    args = ["translate", "a.md", "--to", "de", "--engine", "pseudo", "--no-memory",
            "--glossary", "one.csv", "--glossary", "two.json"]
    assert run(args) == 2
    assert "two.json: term 1: term 'repository' has two targets: 'Repo' (one.csv:2)" \
        in capsys.readouterr().err


def test_same_duplicate_is_accepted(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert translate_with_glossary(
        tmp_path, "g.csv", "source,target\nrepository,Repo\nrepository,Repo\n") == 0


@pytest.mark.parametrize(("name", "content", "warning"), [
    ("g.csv", "source,target,note\nrepository,Repo,keep\n", "column(s) 'note' ignored"),
    ("g.tsv", "repository\tRepo\textra\n", "g.tsv:1: 3 column(s), only 2 are read"),
    ("g.json", '[{"source": "repository", "target": "Repo", "comment": "x"}]',
     "key(s) 'comment' ignored"),
])
def test_extra_glossary_columns_warn(tmp_path: Path, monkeypatch, capsys,
                                     name: str, content: str, warning: str) -> None:
    monkeypatch.chdir(tmp_path)
    assert translate_with_glossary(tmp_path, name, content) == 0
    assert warning in capsys.readouterr().err


@pytest.mark.parametrize("args", [
    ["translate", "a.md", "--to", "de", "--engine", "pseudo", "--no-memory", "--json"],
    ["translate", "-", "--to", "de", "--engine", "pseudo", "--no-memory"],
    ["segments", "a.md"],
    ["languages"],
])
@pytest.mark.parametrize("stdout", ["full", "closed"])
def test_unwritable_stdout_is_one_line(tmp_path: Path, args: list[str],
                                       stdout: str) -> None:
    (tmp_path / "a.md").write_text("# A\n")
    command = [sys.executable, "-m", "hymt_cli", *args]
    with open(tmp_path / "a.md", "rb") as stdin, open("/dev/full", "wb") as full:
        done = subprocess.run(
            command, cwd=tmp_path, stdin=stdin, stderr=subprocess.PIPE,
            stdout=full if stdout == "full" else None, timeout=GUARD_S,
            preexec_fn=None if stdout == "full" else _close_1)
    err = done.stderr.decode()
    assert done.returncode == 1, err
    expected = ("cannot write to standard output: No space left on device"
                if stdout == "full" else "standard output is closed")
    assert f"Error: {expected}" in err
    assert "unexpected" not in err and "Traceback" not in err
    assert "Exception ignored" not in err


def _close_1() -> None:
    os.close(1)


# item 12: file names that are not UTF-8, or hold a newline --------------------------


def test_json_is_valid_utf8_for_undecodable_names(tmp_path: Path) -> None:
    (tmp_path / os.fsdecode(b"lat\xe9.md")).write_text("# A\n")
    done = hymt("translate", os.fsdecode(b"lat\xe9.md"), "--to", "de",
                "--engine", "pseudo", "--no-memory", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout.decode("utf-8"))
    (row,) = data["files"]
    assert row["source"] == "lat\ufffd.md"
    assert bytes.fromhex(row["source_bytes"]) == b"lat\xe9.md"
    assert bytes.fromhex(row["output_bytes"]) == b"lat\xe9.de.md"


def test_newline_in_a_name_keeps_log_lines_one_per_output(tmp_path: Path,
                                                          monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "new\nline.md").write_text("# A\n")
    code = run(["translate", "new\nline.md", "gone\n.md", "--to", "de",
                "--engine", "pseudo", "--no-memory"])
    assert code == 1
    lines = capsys.readouterr().err.splitlines()
    assert "Error: 'gone\\n.md': no such file or directory" in lines
    assert any(line.startswith("wrote 'new\\nline.de.md' (1 segments") for line in lines)


# item 13: durability ---------------------------------------------------------------


def test_write_fsyncs_the_file_before_the_rename_and_the_folder_after(
        tmp_path: Path, monkeypatch) -> None:
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src: str, dst: object) -> None:
        events.append(("replace", str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(fileio.os, "fsync", fsync)
    monkeypatch.setattr(fileio.os, "replace", replace)
    target = tmp_path / "out.md"
    assert write_atomic(target, b"data\n") is True
    assert [kind for kind, _ in events] == ["fsync", "replace", "fsync"]
    assert Path(events[0][1]).parent == tmp_path and events[0][1].endswith(".tmp")
    assert events[2][1] == str(tmp_path)
    assert target.read_bytes() == b"data\n"


# item 2: YAML anchors, aliases and block scalars in front matter --------------------


def translate_md(tmp_path: Path, text: str, capsys) -> tuple[Path, str]:
    (tmp_path / "a.md").write_text(text, encoding="utf-8")
    code = run(["translate", "a.md", "--to", "de", "--engine", "pseudo",
                "--no-memory", "--front-matter-keys", "title,description,summary"])
    assert code == 0
    return tmp_path / "a.de.md", capsys.readouterr().err


def test_anchored_title_keeps_its_alias_valid(tmp_path: Path, monkeypatch,
                                              capsys) -> None:
    monkeypatch.chdir(tmp_path)
    out, err = translate_md(
        tmp_path, "---\ntitle: &t My Title\nog_title: *t\n---\n# A\n", capsys)
    data = front_matter(out)
    assert data == {"title": "My Title", "og_title": "My Title"}
    assert "a.md: front matter 'title' (line 1): has an anchor (&t)" in err


def test_unlisted_key_is_never_translated_through_an_alias(tmp_path: Path,
                                                           monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    out, err = translate_md(tmp_path, "---\nt: &t Secret X\ntitle: *t\n---\n# A\n",
                            capsys)
    assert front_matter(out) == {"t": "Secret X", "title": "Secret X"}
    assert "a.md: front matter 'title' (line 2): an alias (*t)" in err


def test_block_scalars_are_reported_not_skipped_silently(tmp_path: Path, monkeypatch,
                                                         capsys) -> None:
    monkeypatch.chdir(tmp_path)
    source = ("---\ntitle: Hi\ndescription: >-\n  Long folded\n  text\n"
              "summary: |\n  Literal\n---\n# A\n")
    out, err = translate_md(tmp_path, source, capsys)
    data = front_matter(out)
    assert data["description"] == "Long folded text" and data["summary"] == "Literal\n"
    assert "front matter 'description' (line 2): a block scalar" in err
    assert "front matter 'summary' (line 5): a block scalar" in err


def test_a_value_that_would_change_the_keys_is_refused() -> None:
    yaml_text = "{title: Hello world, x: 1}\n"
    (segment,) = front_matter_segments(yaml_text, ("title",), lambda i: i, yaml_text,
                                       lambda: "s1")
    assert segment.escape("Hallo Welt") == "Hallo Welt"
    with pytest.raises(FrontMatterError, match="would not parse the same"):
        segment.escape("Hallo, Welt")
