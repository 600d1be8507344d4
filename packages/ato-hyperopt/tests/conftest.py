"""Shared fixtures: the seed's search space and a fake tracker with the SQLLogger interface."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from ato.adict import ADict


@pytest.fixture
def seed_spaces() -> ADict:
    """The search space of the seed README: 5 x 4 x 2 = 40 grid configs."""
    return ADict(
        lr=ADict(param_type="FLOAT", param_range=(1e-5, 1e-1), num_samples=5, space_type="LOG"),
        batch_size=ADict(
            param_type="INTEGER", param_range=(16, 128), num_samples=4, space_type="LOG"
        ),
        model=ADict(param_type="CATEGORY", categories=["resnet50", "resnet101"]),
    )


class FakeLogger:
    """Records calls the way ato-tracker's SQLLogger would receive them."""

    _ids = itertools.count(1)

    def __init__(self, config: Any = None, accept_config: bool = True) -> None:
        self.config = config
        self.runs: dict[int, dict[str, Any]] = {}
        self.current: int | None = None
        if not accept_config:
            self.run = self._run_without_config  # type: ignore[method-assign]

    def run(self, tags: list[str] | None = None, config: Any = None) -> int:
        return self._open(tags, config)

    def _run_without_config(self, tags: list[str] | None = None) -> int:
        return self._open(tags, None)

    def _open(self, tags: list[str] | None, config: Any) -> int:
        run_id = next(self._ids)
        self.runs[run_id] = {
            "tags": list(tags or []),
            "config": config,
            "metrics": [],
            "status": "running",
        }
        self.current = run_id
        return run_id

    def log_metric(self, key: str, value: float, step: int) -> None:
        assert self.current is not None, "log_metric before run()"
        self.runs[self.current]["metrics"].append((key, value, step))

    def finish(self, status: str = "completed") -> None:
        assert self.current is not None, "finish() before run()"
        self.runs[self.current]["status"] = status
        self.current = None

    def add_tags(self, tags: list[str], run_id: int | None = None) -> list[str]:
        """ato-tracker's SQLLogger.add_tags: tag a run, also after it finished."""
        run = self.runs[run_id if run_id is not None else max(self.runs)]
        run["tags"] += [tag for tag in tags if tag not in run["tags"]]
        return list(run["tags"])


@pytest.fixture
def fake_logger() -> FakeLogger:
    return FakeLogger()


@pytest.fixture
def fake_logger_cls() -> type[FakeLogger]:
    return FakeLogger
