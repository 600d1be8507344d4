"""Parameter importance of a search's evaluations at one budget, by Optuna's evaluators
(the optional extra ``pip install 'ato-dashboard[importance]'``).

Methods:

- ``ped-anova`` (default): PED-ANOVA, Watanabe et al., "PED-ANOVA: Efficiently Quantifying
  Hyperparameter Importance in Arbitrary Subspaces", IJCAI 2023: how much each parameter's
  distribution among the top 10 % of evaluations differs from its distribution among all
  (Pearson divergence of Parzen estimators), in closed form; well under a second for
  thousands of evaluations.
- ``fanova``: functional ANOVA, Hutter et al., "An Efficient Approach for Assessing
  Hyperparameter Importance", ICML 2014: the share of the variance of a random forest's
  prediction that each parameter explains alone (64 trees, seed 0); slow past about 1,000
  evaluations.

Results are kept per input (method, direction, parameters, every evaluation's values): the
same search state is computed once, a new or changed evaluation computes afresh.
"""

from __future__ import annotations

import hashlib
import json
import threading
import warnings
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from . import records
from .errors import BadRequestError, FeatureUnavailableError

DEFAULT_METHOD = "ped-anova"
METHODS = {
    "ped-anova": (
        "PED-ANOVA",
        "Watanabe, Bansal and Hutter, PED-ANOVA: Efficiently Quantifying Hyperparameter "
        "Importance in Arbitrary Subspaces, IJCAI 2023",
    ),
    "fanova": (
        "fANOVA",
        "Hutter, Hoos and Leyton-Brown, An Efficient Approach for Assessing Hyperparameter "
        "Importance, ICML 2014",
    ),
}
CACHE_SIZE = 64
_cache: OrderedDict[str, dict[str, Any]] = OrderedDict()
_lock = threading.Lock()


def check_method(text: str) -> str:
    """``text`` if it names a method.

    Raises:
        BadRequestError: it names none (the message lists them).
    """
    if text not in METHODS:
        raise BadRequestError(f"method must be one of {', '.join(METHODS)}, got {text[:40]!r}")
    return text


def evaluate(
    params: Sequence[Mapping[str, Any]],
    values: Sequence[float],
    keys: Sequence[str],
    mode: str,
    method: str,
) -> dict[str, Any]:
    """The importance of each of ``keys`` for the evaluations ``params`` (one mapping per
    evaluation) that scored ``values`` (finite), where ``mode`` ``'max'``/``'min'`` is better.

    Only evaluations that have every parameter taking two or more values count.

    Returns:
        ``{'method', 'method_name', 'citation', 'n_trials', 'importances': [{'param',
        'importance'}]`` (largest first, summing to 1), ``'cached'``, ``'reason'``}``;
        ``importances`` is empty, with ``reason`` saying why, below two evaluations or
        without a varying parameter.

    Raises:
        FeatureUnavailableError: Optuna is not installed.
    """
    varying = [k for k in keys if len({_text(p.get(k)) for p in params}) > 1]
    rows = [(p, v) for p, v in zip(params, values, strict=True) if all(k in p for k in varying)]
    name, citation = METHODS[method]
    head = {"method": method, "method_name": name, "citation": citation, "n_trials": len(rows)}
    if len(rows) < 2 or not varying:
        reason = (
            "needs two or more completed evaluations"
            if len(rows) < 2
            else ("no parameter takes two values among these evaluations")
        )
        return {**head, "importances": [], "cached": False, "reason": reason}
    digest = _digest(method, mode, varying, rows)
    with _lock:
        hit = _cache.get(digest)
        if hit is not None:
            _cache.move_to_end(digest)
            return {**head, **hit, "cached": True, "reason": ""}
    found = {"importances": _compute(method, mode, varying, rows)}
    with _lock:
        _cache[digest] = found
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return {**head, **found, "cached": False, "reason": ""}


def _digest(method: str, mode: str, keys: list[str], rows: list[tuple[Any, float]]) -> str:
    text = json.dumps(
        [method, mode, keys, [[p[k] for k in keys] + [v] for p, v in rows]], default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _compute(
    method: str, mode: str, keys: list[str], rows: list[tuple[Mapping[str, Any], float]]
) -> list[dict[str, Any]]:
    try:
        import optuna
    except ImportError:
        raise FeatureUnavailableError(
            "parameter importance needs Optuna: pip install 'ato-dashboard[importance]'"
        ) from None
    spaces = {k: _distribution(optuna, [p[k] for p, _ in rows]) for k in keys}
    trials = [
        optuna.trial.create_trial(
            params={k: _choice(spaces[k], p[k]) for k in keys}, distributions=spaces, value=v
        )
        for p, v in rows
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ExperimentalWarning, and Optuna's own log lines
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        study = optuna.create_study(direction="maximize" if mode == "max" else "minimize")
        study.add_trials(trials)
        evaluator = (
            optuna.importance.PedAnovaImportanceEvaluator()
            if method == "ped-anova"
            else optuna.importance.FanovaImportanceEvaluator(seed=0)
        )
        found = optuna.importance.get_param_importances(study, evaluator=evaluator, params=keys)
    return [{"param": k, "importance": float(v)} for k, v in found.items()]


def _distribution(optuna: Any, values: list[Any]) -> Any:
    """The Optuna distribution spanning ``values``: integers and floats as ranges (log-scaled
    when positive over a factor of 8 or more, as the dashboard draws them), anything else as
    categories (non-scalar values by their JSON text)."""
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if numeric:
        low, high = min(values), max(values)
        log = low > 0 and high / low >= records.LOG_RATIO
        if all(isinstance(v, int) for v in values):
            return optuna.distributions.IntDistribution(int(low), int(high), log=log)
        return optuna.distributions.FloatDistribution(float(low), float(high), log=log)
    return optuna.distributions.CategoricalDistribution(
        sorted({_scalar(v) for v in values}, key=str)
    )


def _scalar(value: Any) -> Any:
    return value if value is None or isinstance(value, str | int | float | bool) else _text(value)


def _choice(distribution: Any, value: Any) -> Any:
    if type(distribution).__name__ == "CategoricalDistribution":
        return _scalar(value)
    return value
