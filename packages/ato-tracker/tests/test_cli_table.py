"""The ``ato`` command table: every row is reachable and listed in ``--help`` and in the
package docstring; unknown commands are usage errors; ``ato dashboard`` is found by entry
point, never by the tracker importing the dashboard, and says what to install without it."""

from __future__ import annotations

import ast
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

import ato.tracker.cli as cli_package
from ato.tracker.cli import build_parser, main
from ato.tracker.cli import external as external_module
from ato.tracker.cli.registry import COMMANDS, GROUPS, first_words

TRACKER_SOURCES = Path(cli_package.__file__).parent.parent


def _help(capsys: Any, *words: str) -> str:
    assert main([*words, "--help"]) == 0
    return capsys.readouterr().out


def test_every_first_word_is_listed_in_ato_help(capsys: Any):
    out = _help(capsys)
    for word in first_words():
        assert f"\n    {word} " in out, word


def test_every_grouped_command_is_listed_in_its_group_help_with_its_help(capsys: Any):
    grouped = [c for c in COMMANDS if len(c.words) == 2]
    assert {c.words[0] for c in grouped} == set(GROUPS)
    for command in grouped:
        out = " ".join(_help(capsys, command.words[0]).split())  # unwrap help lines
        assert f" {command.words[1]} {command.help.split()[0]}" in out, command.name


def test_every_command_parses_to_its_own_table_row():
    parser = build_parser()
    minimal = {
        "runs show": ["1"],
        "runs compare": ["1", "2"],
        "runs metrics": ["1"],
        "runs explain": ["1", "optim.lr"],
        "runs mark": ["1", "--status", "killed"],
        "runs artifacts": ["1"],
        "runs get": ["1", "model.pt"],
        "import optuna": ["--storage", "sqlite://", "--study", "s"],
        "import mlflow": ["--from", "mlruns"],
        "import tensorboard": ["logs"],
        "search status": ["s1"],
        "search workers": ["2", "--", "python", "worker.py"],
    }
    for command in COMMANDS:
        args = parser.parse_args([*command.words, *minimal.get(command.name, [])])
        assert args.command is command


def test_the_package_docstring_lists_every_command():
    doc = cli_package.__doc__ or ""
    for command in COMMANDS:
        assert f"ato {command.name}" in doc, command.name


@pytest.mark.parametrize("words", [["bogus"], ["runs", "bogus"], ["db", "downgrade"]])
def test_an_unknown_command_is_a_usage_error(words: list[str], capsys: Any):
    assert main(words) == 2
    err = capsys.readouterr().err
    assert f"invalid choice: {words[-1]!r}" in err


def test_no_command_is_a_usage_error_naming_the_commands(capsys: Any):
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "{" + ",".join(first_words()) + "}" in err


def _no_entry_points(monkeypatch: Any) -> None:
    monkeypatch.setattr(
        external_module.metadata, "entry_points", lambda **_: metadata.EntryPoints(())
    )


def test_without_ato_dashboard_the_dashboard_command_says_what_to_install(
    monkeypatch: Any, capsys: Any
):
    _no_entry_points(monkeypatch)

    def absent(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(external_module.metadata, "version", absent)
    assert main(["dashboard", "--db", "x.db", "--port", "1", "--allow-host", "h", "--open"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ato: error: `ato dashboard` comes from a separate package")
    assert "pip install ato-dashboard (or pip install 'ato[dashboard]')" in err


def test_an_ato_dashboard_without_the_entry_point_asks_for_a_reinstall(
    monkeypatch: Any, capsys: Any
):
    _no_entry_points(monkeypatch)
    monkeypatch.setattr(external_module.metadata, "version", lambda name: "2.9.0")
    assert main(["dashboard"]) == 2
    err = capsys.readouterr().err
    assert "ato-dashboard 2.9.0 is installed but registers no 'ato.commands' entry point" in err
    assert "pip install ato-dashboard" in err


def test_other_commands_do_not_load_the_dashboard(tmp_path: Path):
    probe = (
        "import sys; from ato.tracker.cli import main; "
        f"code = main(['projects', '--db', {str(tmp_path / 'absent.db')!r}]); "
        "print(code, 'ato.dashboard' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.split() == ["2", "False"], done.stderr


def test_no_tracker_module_imports_the_dashboard():
    importing = []
    for path in sorted(TRACKER_SOURCES.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            importing += [f"{path.name}: {n}" for n in names if n.startswith("ato.dashboard")]
    assert importing == []
