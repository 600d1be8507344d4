"""The seed's extension example: a random search built from GridSpaceMixIn and HyperOpt."""

from __future__ import annotations

import random

import pytest

from ato.adict import ADict
from ato.hyperopt.base import GridSpaceMixIn, HyperOpt


class RandomSearch(GridSpaceMixIn, HyperOpt):
    def main(self, func):
        configs = self.prepare_distributions(self.config, self.search_spaces)
        random.Random(0).shuffle(configs)
        results = []
        for config in configs[:10]:
            metric = func(config)
            results.append((config, metric))
        return max(results, key=lambda x: x[1])


def test_random_search_subclass_runs(seed_spaces: ADict) -> None:
    search = RandomSearch(ADict(lr=0.1, batch_size=8, model="x", epochs=2), seed_spaces)
    seen = []

    def train(config):
        seen.append(config)
        return config.batch_size * config.lr

    best_config, best_metric = search.main(train)
    assert len(seen) == 10
    assert all(c.epochs == 2 for c in seen)
    assert best_metric == max(c.batch_size * c.lr for c in seen)
    assert best_config in seen


def test_hyperopt_cannot_be_used_without_a_strategy(seed_spaces: ADict) -> None:
    from ato.hyperopt import HyperOpt as Base

    with pytest.raises(TypeError, match="abstract"):
        Base(ADict(), seed_spaces)  # type: ignore[abstract]


def test_trials_can_be_run_one_by_one_by_a_strategy(seed_spaces: ADict) -> None:
    from ato.hyperopt.tracking import TrialRecorder

    class FirstPoint(GridSpaceMixIn, HyperOpt):
        def main(self, func):
            point = self.grid_points(self.search_spaces)[0]
            return self.run_trial(func, point, 0, TrialRecorder(None, "id", "metric"))

    outcome = FirstPoint(ADict(), seed_spaces).main(lambda config: config.batch_size)
    assert outcome.metric == 16.0 and outcome.config.lr == 1e-05 and outcome.error is None
