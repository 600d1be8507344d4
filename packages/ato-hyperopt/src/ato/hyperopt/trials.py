"""Running one trial: build its config, call the trial function, record the outcome."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ato.adict import ADict

from .configs import to_adict
from .errors import TrialResultError, TrialTimeout
from .facts import SearchRunFacts
from .keys import ERROR, METRIC, NUM_HALVED, RUN_ID
from .metric import as_metric, worst
from .objectives import Objectives, Score
from .targets import ConfigTarget, ScopeTarget, TrialFn
from .timeouts import TimeLimit, check_trial_time
from .tracking import TrialRecorder

logger = logging.getLogger("ato.hyperopt")

ON_ERROR = ("continue", "raise")
#: Metric a timed-out trial's tracker run gets (value: the limit in seconds) next to ``failed``.
TIMEOUT_METRIC = "timeout"


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
        skipped: True if the job was not run because the search's ``timeout`` had passed.
        score: every objective and constraint value, in a search with several objectives or
            constraints (``metric`` is then the first objective); None otherwise or if failed.
    """

    config: ADict
    metric: float
    error: str | None = None
    run_id: Any = None
    fatal: bool = False
    exception: BaseException | None = field(default=None, repr=False, compare=False)
    skipped: bool = False
    score: Score | None = None

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


@dataclass(frozen=True)
class TrialRunner:
    """How the trials of one search are run and recorded: what `run` needs besides the trial's
    values and facts.

    Attributes:
        target: builds each trial's config and calls the trial function
            (see `ato.hyperopt.targets`).
        func: the trial function ``func(config, *args, **kwargs) -> metric``.
        mode: ``'max'`` or ``'min'`` (a failed trial gets the worst metric for it).
        on_error: ``'continue'`` records a trial that raises as failed; ``'raise'`` makes
            its outcome fatal.
        recorder: opens and closes the tracker run of each evaluation.
        args, kwargs: passed on to every call of ``func``.
        interrupt_status: the status a run gets when KeyboardInterrupt/SystemExit stops its
            trial (``'killed'``; the seed's presets: ``'failed'``).
        time_limit: a per-evaluation time limit (see `ato.hyperopt.timeouts`), or None.
        objectives: the search's objectives; with several objectives or constraints a trial
            returns ``{key: number}`` (see `ato.hyperopt.objectives`). None: one metric.
    """

    target: ConfigTarget | ScopeTarget
    func: TrialFn
    mode: str
    on_error: str
    recorder: TrialRecorder
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    interrupt_status: str = "failed"
    time_limit: TimeLimit | None = None
    objectives: Objectives | None = None

    def run(
        self,
        values: Mapping[str, Any],
        facts: SearchRunFacts,
        extra: Mapping[str, Any] | None = None,
    ) -> TrialOutcome:
        """Evaluate the trial function on the config for ``values`` at rung ``facts.rung``.

        ``__num_halved__`` of the trial config is the rung; ``extra`` holds more top-level
        keys; ``facts`` describe the tracker run. Exceptions from the trial are caught and
        recorded (the search goes on) unless ``on_error='raise'``; a non-number result is always
        fatal. A fatal outcome carries the exception; the caller re-raises it. On
        KeyboardInterrupt/SystemExit the run is closed with ``interrupt_status`` and the
        exception propagates. With ``time_limit`` (the trial then runs in a worker thread) a
        trial running past it is stopped and recorded as failed (``__error__`` starts with
        ``TrialTimeout``; its run gets status ``failed`` and the metric ``timeout`` = the limit
        in seconds); this is never fatal.
        """
        rung, recorder = facts.rung, self.recorder
        state: dict[str, Any] = {"logger": None, "run_id": None}
        opening = threading.Lock()  # see TimeLimit.close

        def on_config(config: Any) -> None:
            with opening:
                check_trial_time()  # a trial stopped before its run opened opens none
                state["config"] = to_adict(config)
                state["logger"], state["run_id"] = recorder.start(config, facts)

        def call() -> Any:
            return self.target.call(
                self.func, values, rung, self.args, dict(self.kwargs), on_config, extra
            )

        where = f"trial {dict(values)!r} (round {rung})"
        limit = self.time_limit or TimeLimit(None)
        score = None
        try:
            returned = limit.call(call)
            if self.objectives is not None and self.objectives.several:
                score = self.objectives.score_of(returned, where)
                metric = score.values[0]
            else:
                metric = as_metric(returned, where)
        except TrialTimeout as exc:
            logger.warning("%s stopped: %s; recorded with the worst metric", where, exc)
            limit.close(
                lambda: recorder.finish_timed_out(state["logger"], rung, limit.seconds or 0.0),
                opening,
            )
            return _timed_out(exc, values, rung, self.mode, state)
        except Exception as exc:
            return _failed(exc, values, rung, self, state, where)
        except BaseException:  # KeyboardInterrupt, SystemExit: close the run, then stop
            limit.close(
                lambda: recorder.finish(
                    state["logger"], None, rung, failed=True, status=self.interrupt_status
                ),
                opening,
            )
            raise
        recorder.finish(state["logger"], metric, rung, failed=False, score=score)
        if math.isnan(metric):
            logger.warning("%s returned NaN; it ranks last", where)
        return TrialOutcome(
            config=state["config"], metric=metric, run_id=state["run_id"], score=score
        )


def _failed(
    exc: Exception,
    values: Mapping[str, Any],
    rung: int,
    runner: TrialRunner,
    state: dict[str, Any],
    where: str,
) -> TrialOutcome:
    """The outcome of a trial that raised; ``fatal`` unless ``on_error='continue'``."""
    fatal = runner.on_error == "raise" or isinstance(exc, TrialResultError)
    if not fatal:
        logger.warning("%s failed; recorded with the worst metric", where, exc_info=exc)
    runner.recorder.finish(state["logger"], None, rung, failed=True)
    return TrialOutcome(
        config=state.get("config") or _values_only(values, rung),
        metric=worst(runner.mode),
        error=f"{type(exc).__name__}: {exc}",
        run_id=state["run_id"],
        fatal=fatal,
        exception=exc,
    )


def _timed_out(
    exc: TrialTimeout,
    values: Mapping[str, Any],
    rung: int,
    mode: str,
    state: dict[str, Any],
) -> TrialOutcome:
    """The outcome of a trial stopped by its time limit (failed, never fatal)."""
    return TrialOutcome(
        config=state.get("config") or _values_only(values, rung),
        metric=worst(mode),
        error=f"TrialTimeout: {exc}",
        run_id=state["run_id"],
    )


def _values_only(values: Mapping[str, Any], rung: int) -> ADict:
    config = ADict()
    for path, value in values.items():
        ADict.set_path(config, path, value)
    config[NUM_HALVED] = rung
    return config
