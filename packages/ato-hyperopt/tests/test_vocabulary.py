"""One vocabulary: ``reduction_factor`` (eta) and ``rung``; the seed's ``halving_rate`` is the
same setting as ``1 / reduction_factor``."""

from __future__ import annotations

import pytest

from ato.adict import ADict
from ato.hyperopt import HyperBand, SearchSettingError, SuccessiveHalvingSchedule


def test_reduction_factor_and_halving_rate_are_one_setting() -> None:
    by_eta = SuccessiveHalvingSchedule(reduction_factor=3, num_min_samples=1, max_budget=81)
    by_rate = SuccessiveHalvingSchedule(1 / 3, 1, max_budget=81)
    assert by_eta.round_sizes(81) == by_rate.round_sizes(81) == [81, 27, 9, 3, 1]
    assert by_eta.budgets(5, 81) == by_rate.budgets(5, 81) == [1, 3, 9, 27, 81]
    assert SuccessiveHalvingSchedule(0.5, 2).reduction_factor == 2
    assert by_eta.reduction_factor == 3 and by_eta.halving_rate == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({}, "either reduction_factor"),
        ({"halving_rate": 0.5, "reduction_factor": 2}, "not both"),
        ({"reduction_factor": 1}, "reduction_factor must be a number > 1"),
        ({"reduction_factor": True}, "reduction_factor must be a number > 1"),
        ({"reduction_factor": "3"}, "reduction_factor must be a number > 1"),
        ({"reduction_factor": float("inf")}, "reduction_factor must be a number > 1"),
    ],
)
def test_bad_reduction_factor(kwargs: dict, fragment: str) -> None:
    with pytest.raises(SearchSettingError, match=fragment):
        SuccessiveHalvingSchedule(**kwargs)


def test_the_preset_keeps_halving_rate() -> None:
    spaces = {"x": dict(param_type="INTEGER", param_range=(0, 7), num_samples=8)}
    hb = HyperBand(ADict(), spaces, halving_rate=0.5, num_min_samples=2, progress=False)
    assert hb.halving_rate == 0.5 and hb.round_sizes() == [8, 4, 2, 1]
    result = hb.main(lambda config: float(config.x))()
    assert [e.__num_halved__ for e in result.logs[-1]] == [3]
