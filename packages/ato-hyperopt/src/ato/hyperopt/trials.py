"""Running one trial: build its config, call the trial function, record the outcome."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ato.adict import ADict

from .configs import NUM_HALVED, to_adict
from .errors import TrialResultError
from .metric import as_metric, worst
from .targets import ConfigTarget, ScopeTarget, TrialFn
from .tracking import TrialRecorder

logger = logging.getLogger("ato.hyperopt")

METRIC = "__metric__"
ERROR = "__error__"
RUN_ID = "__run_id__"
ON_ERROR = ("continue", "raise")


@dataclass
class TrialOutcome:
    """What one trial produced. Picklable (sent between ranks), except ``exception``.

    Attributes:
        config: the trial's full config as an ADict (with ``__num_halved__``).
        metric: the returned metric; the worst value for ``mode`` if the trial failed.
        error: ``"ExcType: message"`` if the trial raised, else None.
        run_id: the tracker run id, or None without a tracker.
        fatal: True if this outcome must stop the search (``on_error='raise'`` or a
            trial that returned a non-number).
        exception: the exception itself, kept only in the process that ran the trial.
    """

    config: ADict
    metric: float
    error: str | None = None
    run_id: Any = None
    fatal: bool = False
    exception: BaseException | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["exception"] = None
        return state

    def log_entry(self) -> ADict:
        """The trial's config with ``__metric__`` (and ``__error__``/``__run_id__`` if any)."""
        entry = ADict.clone(self.config)
        entry[METRIC] = self.metric
        if self.error is not None:
            entry[ERROR] = self.error
        if self.run_id is not None:
            entry[RUN_ID] = self.run_id
        return entry


def run_trial(
    target: ConfigTarget | ScopeTarget,
    func: TrialFn,
    values: Mapping[str, Any],
    round_index: int,
    mode: str,
    on_error: str,
    recorder: TrialRecorder,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    *,
    extra: Mapping[str, Any] | None = None,
    tags: tuple[str, ...] = (),
    interrupt_status: str = "failed",
) -> TrialOutcome:
    """Evaluate ``func`` on the config for ``values`` in round ``round_index``.

    ``__num_halved__`` of the trial config is ``round_index``; ``extra`` holds more top-level
    keys and ``tags`` more tracker tags. Exceptions from the trial are caught and recorded (the
    search goes on) unless ``on_error='raise'``; a non-number result is always fatal. A fatal
    outcome carries the exception; the caller re-raises it. On KeyboardInterrupt/SystemExit the
    run is closed with ``interrupt_status`` and the exception propagates.
    """
    state: dict[str, Any] = {"logger": None, "run_id": None}

    def on_config(config: Any) -> None:
        state["config"] = to_adict(config)
        state["logger"], state["run_id"] = recorder.start(config, round_index, tags)

    where = f"trial {dict(values)!r} (round {round_index})"
    try:
        raw = target.call(func, values, round_index, args, kwargs or {}, on_config, extra)
        metric = as_metric(raw, where)
    except Exception as exc:
        return _failed(exc, values, round_index, mode, on_error, recorder, state, where)
    except BaseException:  # KeyboardInterrupt, SystemExit: close the run, then stop
        recorder.finish(state["logger"], None, round_index, failed=True, status=interrupt_status)
        raise
    recorder.finish(state["logger"], metric, round_index, failed=False)
    if math.isnan(metric):
        logger.warning("%s returned NaN; it ranks last", where)
    return TrialOutcome(config=state["config"], metric=metric, run_id=state["run_id"])


def _failed(
    exc: Exception,
    values: Mapping[str, Any],
    round_index: int,
    mode: str,
    on_error: str,
    recorder: TrialRecorder,
    state: dict[str, Any],
    where: str,
) -> TrialOutcome:
    """The outcome of a trial that raised; ``fatal`` unless ``on_error='continue'``."""
    fatal = on_error == "raise" or isinstance(exc, TrialResultError)
    if not fatal:
        logger.warning("%s failed; recorded with the worst metric", where, exc_info=exc)
    recorder.finish(state["logger"], None, round_index, failed=True)
    return TrialOutcome(
        config=state.get("config") or _values_only(values, round_index),
        metric=worst(mode),
        error=f"{type(exc).__name__}: {exc}",
        run_id=state["run_id"],
        fatal=fatal,
        exception=exc,
    )


def _values_only(values: Mapping[str, Any], round_index: int) -> ADict:
    config = ADict()
    for path, value in values.items():
        ADict.set_path(config, path, value)
    config[NUM_HALVED] = round_index
    return config
