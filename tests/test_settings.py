"""The settings table agrees with the project keys, the flags, the help and the
defaults everywhere, and a project-file value meets the same check as a flag."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import typer

from hymt_cli import cli_config, pipeline, plan, project, settings
from hymt_cli.cli import app, run
from hymt_cli.errors import UsageError
from hymt_cli.settings import BY_NAME, PROJECT, SETTINGS

README = Path(__file__).resolve().parents[1] / "README.md"


def command_params(name: str) -> dict[str, object]:
    """The click parameters of one `hymt` command, by name."""
    group = typer.main.get_command(app)
    command = group.commands[name]  # type: ignore[attr-defined]
    return {p.name: p for p in command.params}


def spelled(param: object) -> tuple[str, ...]:
    """A click option's flags as the table writes them (`--a/--b` for a pair)."""
    opts = list(param.opts)  # type: ignore[attr-defined]
    off = list(param.secondary_opts)  # type: ignore[attr-defined]
    return (f"{opts[0]}/{off[0]}", *opts[1:]) if off else tuple(opts)


def test_project_keys_are_the_project_settings() -> None:
    assert list(project.FIELDS) == [s.name for s in PROJECT]
    assert cli_config.DEFAULTS == {s.name: s.default for s in PROJECT}
    assert {"threads", "check", "config", "debug"}.isdisjoint(project.FIELDS)


def test_every_setting_is_one_translate_parameter_with_its_flags() -> None:
    params = command_params("translate")
    assert list(params) == [s.name for s in SETTINGS]
    for setting in SETTINGS:
        param = params[setting.name]
        assert spelled(param) == setting.flags or not setting.flags
        assert param.help == setting.help_text  # type: ignore[attr-defined]
    assert spelled(params["quiet"]) == ("--quiet", "-q")
    assert spelled(params["sampling"]) == ("--sampling/--greedy",)


def test_shared_segments_options_come_from_the_table() -> None:
    params = {spelled(p): p for p in command_params("segments").values()}
    for name in ("format", "encoding", "front_matter_keys", "dialect", "protect"):
        param = params[BY_NAME[name].flags]
        assert param.help == BY_NAME[name].help_text  # type: ignore[attr-defined]


@pytest.mark.parametrize("setting", [s for s in SETTINGS if type(s.default) is int],
                         ids=lambda s: s.name)
def test_numeric_defaults_in_help_come_from_the_table(
    setting: settings.Setting,
) -> None:
    assert "{default}" in setting.help
    assert f"default {setting.show(setting.default)}" not in setting.help
    assert f"default {setting.show(setting.default)}" in setting.help_text


def test_defaults_elsewhere_are_the_table_defaults() -> None:
    run_config = {f.name: f.default for f in dataclasses.fields(plan.RunConfig)}
    feed = pipeline.Settings()
    for name in ("context_tokens", "max_segment_tokens", "max_file_size"):
        assert run_config[name] == settings.default(name)
    assert feed.context_tokens == settings.default("context_tokens")
    assert feed.max_segment_tokens == settings.default("max_segment_tokens")


def test_readme_options_are_flags_of_the_table() -> None:
    known = {f for s in SETTINGS for spelling in s.flags for f in spelling.split("/")}
    lines = README.read_text(encoding="utf-8").splitlines()
    table = [line for line in lines if line.startswith("| `--")]
    flags = {f for line in table
             for f in re.findall(r"`(--[a-z-]+)", line.split("|")[1])}
    assert flags and flags <= known
    keys = {k for line in table for k in re.findall(r"\[`(\w+)`\]", line)}
    assert keys and keys <= set(project.FIELDS)


def test_flag_values_become_merge_values() -> None:
    values = {"targets": "de,fr", "front_matter_keys": " title, ,alt", "skip_kinds": [],
              "protect": ["x+"], "sampling": False, "context_tokens": 0}
    merged = settings.from_flags(values)
    assert merged["targets"] == ("de,fr",)
    assert merged["front_matter_keys"] == ("title", "alt")
    assert merged["skip_kinds"] is None and merged["protect"] == ("x+",)
    assert merged["sampling"] is False and merged["context_tokens"] == 0
    assert settings.from_flags({"targets": ""})["targets"] is None


def test_checks_convert_and_refuse() -> None:
    values = cli_config.merge({"targets": ("de",), "dtype": "bf16"},
                              project.ProjectConfig()) | {"engine": "pseudo"}
    checked = settings.checked(values)
    assert [t.code for t in checked["targets"]] == ["de"]
    assert checked["dtype"] == "bfloat16" and checked["device"] is None
    assert checked["skip_kinds"] == frozenset()
    with pytest.raises(UsageError, match="--max-segment-tokens is out of range: -1"):
        settings.checked(values | {"max_segment_tokens": -1})
    with pytest.raises(UsageError, match="unknown device 'tpu'"):
        settings.checked(values | {"device": "tpu"})


@pytest.mark.parametrize(("line", "message"), [
    ("context_tokens = -1", "--context-tokens is out of range: -1"),
    ("batch_size = 0", "--batch-size must be at least 1"),
    ('dtype = "int3"', "unknown dtype 'int3'"),
    ('dialect = "rst"', "unknown dialect 'rst'"),
    ('format = "rst"', "unknown format 'rst'"),
    ('out = "{nope}"', "{nope}"),
])
def test_project_values_meet_the_flag_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    line: str, message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / "a.md").write_text("# Hi\n")
    (tmp_path / "hymt.toml").write_text(f'targets = ["de"]\n{line}\n')
    assert run(["translate", "a.md", "--engine", "pseudo"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and message in err
    assert not (tmp_path / "a.de.md").exists()
