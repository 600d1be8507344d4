"""A tracked Hyperband search (random sampling) for a small neural network on scikit-learn's
handwritten digits.

The data set (1,797 8x8 images) ships inside scikit-learn: nothing is downloaded.

    python examples/digits/train.py                  # full search, tracked in experiments.db
    python examples/digits/train.py quick            # a named view: a shorter search
    python examples/digits/train.py optim.batch_size=32 train.max_epochs=81
    python examples/digits/train.py manual           # what each key means, view order
    python examples/digits/train.py explain          # where every value came from
    ato runs best --metric val_accuracy              # afterwards, from the database
    ato runs list --project digits --sort val_accuracy   # searched params as columns

The search composes a sampler (``RandomSampler``: learning rate, L2 strength and hidden size
drawn log-uniformly) with a schedule (``HyperbandSchedule``: several brackets of successive
halving, each trading the number of configurations against the epochs each gets; Li et al.,
JMLR 18(185), 2018). Every (trial, rung) of the search is one run in the tracker, with its
training loss and validation accuracy per epoch. Trials continue instead of retraining: each
saves its model in its checkpoint directory (``trial_context()``), and when it is promoted it
loads that model and trains only the extra epochs of the next rung. The answer's model then
reports its accuracy on a held-out test split the search never saw. The search stores the
value it ranks by under ``search/val_accuracy``; its answer is the best trial at the largest budget
any trial completed (no extra training), and only its checkpoint is kept. Look at the runs in a
browser afterwards with ``nox -s dashboard`` (or ``ato dashboard --db experiments.db --open``).
"""

from __future__ import annotations

import functools
import pickle
import time
import warnings

import numpy as np
from rich.console import Console
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from ato.adict import ADict
from ato.hyperopt import (
    HyperbandSchedule,
    RandomSampler,
    Search,
    current_logger,
    trial_context,
)
from ato.scope import Scope
from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.cli import render_runs_table

scope = Scope()


@scope.observe(default=True)
def defaults(config):
    config.data = ADict(test_fraction=0.25, val_fraction=0.2, seed=0)
    config.model = ADict(hidden=64, alpha=1e-4)
    config.optim = ADict(lr=1e-3, batch_size=64)
    config.train = ADict(max_epochs=27, min_epochs=3, seed=0)
    config.search = ADict(
        reduction_factor=3, sampler_seed=0, top_runs=8, checkpoint_root="searches"
    )
    config.experiment = ADict(project_name="digits", sql=ADict(db_path="sqlite:///experiments.db"))


@scope.observe(priority=1)
def quick(config):
    config.train.max_epochs = 9


@scope.observe(priority=1)
def small_batches(config):
    config.optim.batch_size = 32


@scope.manual
def docs(config):
    config.data.test_fraction = "share of the images held out for the final test"
    config.data.val_fraction = "share of the remaining images used to rank trials"
    config.model.hidden = "units in the hidden layer (searched)"
    config.model.alpha = "L2 regularisation strength (searched)"
    config.optim.lr = "initial learning rate of Adam (searched)"
    config.optim.batch_size = "minibatch size"
    config.train.max_epochs = "epochs of a trial that reaches the top rung (Hyperband's R)"
    config.train.min_epochs = "epochs of the lowest rung (Hyperband's r)"
    config.search.reduction_factor = "Hyperband's eta: a rung keeps 1/eta of its trials"
    config.search.sampler_seed = "seed of the random sampler (same seed, same search)"
    config.search.checkpoint_root = "folder of the per-trial model checkpoints"
    config.experiment.sql.db_path = "SQLAlchemy URL of the tracking database"


SEARCH_SPACES = {
    "optim.lr": {"param_type": "FLOAT", "param_range": (1e-4, 1e-1), "space_type": "LOG"},
    "model.alpha": {"param_type": "FLOAT", "param_range": (1e-5, 1e-1), "space_type": "LOG"},
    "model.hidden": {"param_type": "INTEGER", "param_range": (16, 128), "space_type": "LOG"},
}


@functools.lru_cache(maxsize=4)
def load_splits(test_fraction: float, val_fraction: float, seed: int) -> tuple:
    """Standardised (train, validation, test) splits of the digits data, stratified."""
    x, y = load_digits(return_X_y=True)
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=val_fraction, random_state=seed, stratify=y_rest
    )
    scaler = StandardScaler().fit(x_train)
    return (
        (scaler.transform(x_train), y_train),
        (scaler.transform(x_val), y_val),
        (scaler.transform(x_test), y_test),
    )


def new_model(config) -> MLPClassifier:
    """An untrained MLP for ``config``."""
    return MLPClassifier(
        hidden_layer_sizes=(config.model.hidden,),
        alpha=config.model.alpha,
        learning_rate_init=config.optim.lr,
        batch_size=config.optim.batch_size,
        random_state=config.train.seed,
    )


def fit(config, model: MLPClassifier, epochs: int, first_epoch: int = 0) -> MLPClassifier:
    """Train ``model`` for ``epochs`` more passes over the training split (``partial_fit``).

    Inside a tracked trial the training loss and the validation accuracy of every epoch are
    logged to the trial's run (its learning curves).
    """
    logger = current_logger()
    (x, y), (x_val, y_val), _ = load_splits(**config.data)
    classes = np.arange(10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for epoch in range(first_epoch, first_epoch + epochs):
            model.partial_fit(x, y, classes=classes)
            if logger is not None:
                logger.log_metric("train_loss", model.loss_, step=epoch)
                logger.log_metric("val_accuracy", model.score(x_val, y_val), step=epoch)
    return model


def continue_training(config) -> tuple[MLPClassifier, int]:
    """Train the trial's model up to its budget: a promoted trial loads the model its previous
    rung saved and trains only the extra epochs. Returns the model and the epochs trained now."""
    ctx = trial_context()
    checkpoint = ctx.checkpoint_dir / "model.pkl"
    done = ctx.previous_budget or 0
    model = pickle.loads(checkpoint.read_bytes()) if done else new_model(config)
    fit(config, model, epochs=ctx.budget - done, first_epoch=done)
    checkpoint.write_bytes(pickle.dumps(model))
    return model, ctx.budget - done


def _last(run, key: str) -> float:
    values = [m.value for m in run.metrics if m.key == key]
    return values[-1] if values else float("-inf")


def main() -> None:
    started = time.perf_counter()
    settings = scope.build()  # also answers `manual`, `print` and `explain`, then exits
    schedule = HyperbandSchedule(
        max_budget=settings.train.max_epochs,
        reduction_factor=settings.search.reduction_factor,
        min_budget=settings.train.min_epochs,
    )
    search = Search(
        scope,
        SEARCH_SPACES,
        sampler=RandomSampler(seed=settings.search.sampler_seed),
        schedule=schedule,
        tracker=SQLLogger,
        metric_key="val_accuracy",
        mode="max",
        checkpoint_root=settings.search.checkpoint_root,
    )
    print("Hyperband brackets (rungs as trials@epochs):")
    for rungs in schedule.brackets():
        print("  " + " → ".join(f"{n}@{e}" for n, e in rungs))
    epochs = {"trained": 0, "from_scratch": 0}

    @search.main
    def trial(config):
        model, trained = continue_training(config)
        epochs["trained"] += trained
        epochs["from_scratch"] += trial_context().budget
        _, (x_val, y_val), _ = load_splits(**config.data)
        return model.score(x_val, y_val)

    result = trial()
    best = result.config
    print(
        f"epochs trained: {epochs['trained']} (retraining every promoted trial from scratch: "
        f"{epochs['from_scratch']})"
    )
    answer_dir = settings.search.checkpoint_root + f"/{result.search_id}/trial-{result.trial_id}"
    with open(answer_dir + "/model.pkl", "rb") as fh:
        best_model = pickle.load(fh)  # trained for the full budget by the search itself
    _, _, (x_test, y_test) = load_splits(**best.data)
    test_accuracy = best_model.score(x_test, y_test)

    print("\nbest configuration:")
    print(ADict(optim=best.optim, model=best.model).to_xyz())
    print(f"validation accuracy {result.metric:.4f}, held-out test accuracy {test_accuracy:.4f}")
    print(
        f"the answer: run {result.run_id} (trial {result.trial_id}, {result.budget} epochs); "
        f"search {result.search_id}"
    )

    finder = SQLFinder(settings)
    runs = finder.get_runs_in_project(settings.experiment.project_name)
    ours = [r for r in runs if f"search:{result.search_id}" in r.tags]
    ours.sort(key=lambda run: _last(run, "val_accuracy"), reverse=True)
    print(f"\ntop {settings.search.top_runs} of {len(ours)} runs of this search:")
    top = ours[: settings.search.top_runs]
    table = render_runs_table(top, ["val_accuracy", "train_loss"], params=list(SEARCH_SPACES))
    Console(width=140).print(table)
    print(f"\nthe same answer from the database: ato runs best --search {result.search_id}")
    print(
        f"afterwards: ato runs list --project digits --search {result.search_id} --sort val_accuracy"
    )
    print("in a browser: nox -s dashboard  (or: ato dashboard --db experiments.db --open)")
    print(f"\nwall time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
