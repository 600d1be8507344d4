"""Run statuses: one enum whose members are the strings the database stores."""

from __future__ import annotations

import json

from ato.tracker import RunStatus
from ato.tracker.storage.statuses import MARKABLE, stored


def test_members_are_the_stored_strings() -> None:
    assert [s.value for s in RunStatus] == [
        "running",
        "completed",
        "failed",
        "killed",
        "pruned",
        "crashed",
    ]
    assert RunStatus.COMPLETED == "completed"
    assert f"{RunStatus.FAILED}" == str(RunStatus.FAILED) == "failed"
    assert json.dumps(RunStatus.KILLED) == '"killed"'
    assert {RunStatus.RUNNING: 1}.get("running") == 1


def test_stored_gives_plain_strings_and_keeps_user_statuses() -> None:
    assert type(stored(RunStatus.KILLED)) is str and stored(RunStatus.KILLED) == "killed"
    assert stored("paused") == "paused"


def test_ato_runs_mark_sets_final_statuses_only() -> None:
    assert MARKABLE == ("failed", "killed", "completed")
    assert RunStatus.RUNNING not in MARKABLE and RunStatus.CRASHED not in MARKABLE
