"""A tracked Hyperband search with two objectives on scikit-learn's digits: validation accuracy
(higher is better) against the network's number of weights (smaller is better), with a
constraint (at most 40,000 weights).

    python examples/digits/pareto.py           # tracked in experiments.db, project digits-pareto
    ato runs best --search <printed id>        # the Pareto front and its picked member
    ato dashboard                              # the search's analysis page draws the front

The search samples the hidden layer's size, the learning rate and the L2 strength at random
(``RandomSampler``) and schedules the trials with Hyperband (Li et al., JMLR 18(185), 2018;
budgets in epochs). Its answer is a Pareto front: the feasible completed evaluations at the
largest budget that no other one there beats on both objectives, and the member nearest the
ideal point (see docs/hyperopt.md, "Several objectives").
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from ato.adict import ADict
from ato.hyperopt import HyperbandSchedule, RandomSampler, Search, current_logger, trial_context
from ato.tracker import SQLLogger

MAX_WEIGHTS = 40_000
SEARCH_SPACES = {
    "optim.lr": {"param_type": "FLOAT", "param_range": (1e-3, 1e-1), "space_type": "LOG"},
    "model.alpha": {"param_type": "FLOAT", "param_range": (1e-5, 1e-1), "space_type": "LOG"},
    "model.hidden": {"param_type": "INTEGER", "param_range": (4, 256), "space_type": "LOG"},
}


def splits() -> tuple:
    """Standardised (train, validation) splits of the digits data, stratified."""
    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=0.25, random_state=0, stratify=y
    )
    scaler = StandardScaler().fit(x_train)
    return (scaler.transform(x_train), y_train), (scaler.transform(x_val), y_val)


def weights(hidden: int, inputs: int = 64, classes: int = 10) -> int:
    """Weights and biases of a one-hidden-layer network."""
    return (inputs + 1) * hidden + (hidden + 1) * classes


def main(db: str = "sqlite:///experiments.db") -> None:
    config = ADict(
        experiment=ADict(project_name="digits-pareto", sql=ADict(db_path=db)),
        model=ADict(hidden=32, alpha=1e-4),
        optim=ADict(lr=1e-2),
    )
    (x, y), (x_val, y_val) = splits()
    search = Search(
        config,
        SEARCH_SPACES,
        sampler=RandomSampler(seed=0),
        schedule=HyperbandSchedule(max_budget=27, reduction_factor=3, min_budget=1),
        mode={"val_accuracy": "max", "weights": "min"},
        constraint_keys=["weights_over"],
        tracker=SQLLogger(config),
    )

    @search.main
    def trial(config):
        model = MLPClassifier(
            hidden_layer_sizes=(config.model.hidden,),
            alpha=config.model.alpha,
            learning_rate_init=config.optim.lr,
            random_state=0,
        )
        logger = current_logger()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for epoch in range(trial_context().budget):
                model.partial_fit(x, y, classes=np.arange(10))
                if logger is not None:
                    logger.log_metric("val_accuracy", model.score(x_val, y_val), step=epoch)
        size = weights(config.model.hidden)
        return {
            "val_accuracy": model.score(x_val, y_val),
            "weights": size,
            "weights_over": size - MAX_WEIGHTS,
        }

    result = trial()
    print(f"search {result.search_id}: {len(result.front)} runs on the Pareto front")
    print(f"picked: {dict(result.metric)} with {dict(result.config.model)}")
    print(f"the same front from the database: ato runs best --search {result.search_id}")


if __name__ == "__main__":
    main(*sys.argv[1:])
