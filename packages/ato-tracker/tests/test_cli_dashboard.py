"""``ato dashboard`` when the ato-dashboard package is not installed."""

from __future__ import annotations

import sys
from typing import Any

from ato.tracker.cli import main


def test_dashboard_without_the_package_names_it(monkeypatch: Any, capsys: Any):
    monkeypatch.setitem(sys.modules, "ato.dashboard.cli", None)  # import fails as if absent
    assert main(["dashboard", "--db", "x.db", "--port", "1"]) == 2
    error = capsys.readouterr().err
    assert "pip install ato-dashboard" in error and "ato[dashboard]" in error
