"""Shared fixtures: the seed's search space and a fake tracker with the SQLLogger interface."""

from __future__ import annotations

import pytest
from helpers import FakeLogger  # next to the tests: pyproject.toml's pytest pythonpath

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


@pytest.fixture
def fake_logger() -> FakeLogger:
    return FakeLogger()


@pytest.fixture
def fake_logger_cls() -> type[FakeLogger]:
    return FakeLogger
