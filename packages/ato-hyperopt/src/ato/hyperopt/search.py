"""The search engine: a sampler, a schedule and an executor composed by [`Search`][ato.hyperopt.Search].

One execution of a search:

1. every rank agrees on the search id and checks that all built the same search space;
2. with ``resume=True``, the finished (trial, rung) runs of that search id are read back from
   the tracker (see ``ato.hyperopt.history``);
3. the schedule runs on rank 0, drawing configurations from the sampler: a synchronous
   schedule hands out one rung at a time (split over the ranks, outcomes all-gathered), ASHA
   one job per free worker (a work queue);
4. the answer is chosen by one rule (``ato.hyperopt.answer``): the best completed evaluation
   at the largest budget reached. No evaluation is run to produce it (unless
   ``final_evaluation=True`` asks for one more): the run that holds it is tagged ``final``
   afterwards, and the other trials' checkpoint folders are deleted (``keep_checkpoints``).

One process at a time runs a search id (a lock file in its checkpoint folder, see
``ato.hyperopt.lock``).

A (trial, rung) found in the history is not run: its recorded metric is used, so a seeded
sampler and a deterministic trial function make the resumed search take exactly the decisions
of an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import pathlib
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from ato.adict import ADict

from .answer import Evaluation, find_answer, find_front, rank_trials
from .base import HyperOpt
from .checkpoints import check_keep, prune_checkpoints
from .configs import to_adict
from .context import TrialContext, reset_context, set_context
from .errors import (
    DistributedSetupError,
    NoAnswerError,
    SearchInterrupted,
    SearchLockedError,
    SearchSettingError,
    TrialFailedError,
)
from .executors import QUEUE_STOP, QUEUE_WAIT, DatabaseExecutor, Executor
from .facts import ANSWER_TAG, SEARCH_KEY_PREFIX, SearchRunFacts
from .history import PastRun, load_history
from .interrupts import Interrupts
from .keys import BUDGET, TRIAL_ID
from .lock import SearchLock
from .metric import rank_key, worst
from .objectives import Metric, Objectives, Score, pareto_front
from .progress import RoundProgress
from .recording import FULL_RECORDS, Records
from .result import SearchResult
from .samplers import (
    CONTINUE,
    STOPPED,
    ObjectivesSampler,
    ReplicableSampler,
    Sampler,
    SequentialSampler,
)
from .schedules import AsyncSchedule, Job, Schedule, SyncSchedule
from .tagging import tag_answer
from .timeouts import Deadline, TimeLimit, check_seconds
from .tracking import TrialRecorder
from .trials import TrialOutcome, TrialRunner

__all__ = ["ANSWER_TAG", "Search"]

_log = logging.getLogger("ato.hyperopt")
_SHARED_HINT = (
    "ato.hyperopt: this worker of shared search {search_id} stopped; its running job went back "
    "to the queue. Start the script again (same search_id) to add a worker."
)


class Search(HyperOpt):
    """A hyperparameter search: ``sampler`` proposes configurations, ``schedule`` decides
    budgets and promotions, ``executor`` runs the trials.

    Args:
        config_or_scope: an ato-scope ``Scope`` or a config object (ADict, dict, OmegaConf
            ``DictConfig``, dataclass instance); each trial gets a copy with its values set.
        search_spaces: parameter name (dotted path) -> spec; see ``ato.hyperopt.space``
            (``condition=`` for conditional parameters, see ``ato.hyperopt.searchspace``).
        sampler: a [`GridSampler`][ato.hyperopt.GridSampler],
            [`RandomSampler`][ato.hyperopt.RandomSampler],
            [`OptunaSampler`][ato.hyperopt.OptunaSampler] or any object following
            [`Sampler`][ato.hyperopt.Sampler].
        schedule: a [`SuccessiveHalvingSchedule`][ato.hyperopt.SuccessiveHalvingSchedule],
            [`HyperbandSchedule`][ato.hyperopt.HyperbandSchedule] or
            [`ASHASchedule`][ato.hyperopt.ASHASchedule].
        tracker: None, a logger (``run(tags=)``, ``log_metric``, ``finish``) or a logger factory
            such as the ato-tracker ``SQLLogger`` class. Each (trial, rung) is one run with the
            facts of a [`SearchRunFacts`][ato.hyperopt.SearchRunFacts] (search id, rung, trial
            id, budget when the schedule has budgets, bracket, mode and metric key), stored as
            the tags ``search:<id>``, ``round:<rung>``, ``trial:<trial id>``, ``rung:<rung>``,
            ``budget:<budget>``, ``bracket:<s>``, ``mode:<mode>`` and
            ``metric_key:<metric_key>``; the returned metric is logged under
            ``search/<metric_key>`` at ``step=rung`` (never under ``metric_key`` itself, which
            stays the trial's own). The answer's run is marked (tagged ``final``) when the
            search ends (see ``ato.hyperopt.tagging``).
        mode: ``'max'`` or ``'min'``; for several objectives one per ``metric_key`` (a
            sequence), or ``{key: mode}`` naming the objectives (see
            `ato.hyperopt.objectives`: the answer is then a Pareto front).
        constraint_keys: keys of constraint values each trial returns next to its
            objectives (``{key: number}``); a trial is feasible when every one is ``<= 0``,
            infeasible trials are never the answer and rank below feasible ones.
        executor: None (in-process), a
            [`TorchDistributedExecutor`][ato.hyperopt.TorchDistributedExecutor] or any
            [`Executor`][ato.hyperopt.Executor].
        search_id: names the search in the tracker and the checkpoint folder (random 12 hex
            digits if None); required with ``resume=True``.
        resume: read the finished runs of ``search_id`` from ``tracker`` and do not run them
            again.
        **options: ``checkpoint_root`` (folder for per-trial checkpoint directories, default
            ``"searches"``: ``<checkpoint_root>/<search_id>/trial-<id>``),
            ``keep_checkpoints`` (default 1: when the search ends with an answer, the
            ``trial-<id>`` folders of all but that many best trials, the answer's first, are
            deleted; ``"all"`` keeps them; see ``ato.hyperopt.checkpoints``),
            ``final_evaluation`` (default False; True evaluates the answer's trial once more
            at the final budget, as ato-hyperopt 3.0 always did, and answers with that evaluation
            when it completes), ``on_error``, ``progress`` as for
            [`HyperOpt`][ato.hyperopt.HyperOpt], ``metric_key`` (a key, or a sequence of keys
            for several objectives).
        trial_timeout: seconds one evaluation (a trial at one rung) may run; a trial running
            longer is stopped, recorded as failed (``__error__`` ``TrialTimeout: ...``; its
            tracker run ``failed`` with the metric ``timeout``) and the search goes on.
            The trial runs in a worker thread and stops at its next cooperative check (see
            `ato.hyperopt.timeouts`).
        timeout: seconds the whole search may take, as Optuna's ``optimize(timeout=)``: no
            job (new trial or promotion) starts after it (at least one runs); running ones
            finish, and the answer of what was recorded so far is returned with
            ``timed_out=True`` (``final_evaluation`` is then skipped).
        records: what the search records besides metrics (a
            [`Records`][ato.hyperopt.Records]); the default records everything,
            the ``HyperBand`` presets pass the seed's ``SEED_RECORDS``.

    Raises:
        SearchSettingError: a bad setting (mode, on_error, resume without search_id, a sampler
            or schedule of the wrong kind, a grid above its size limit, a timeout that is not
            positive seconds).
        SearchSpaceError: the search space is invalid.
        ConfigTypeError, ConfigPathError: the config cannot carry the searched values.
    """

    def __init__(
        self,
        config_or_scope: Any,
        search_spaces: Mapping[str, Any],
        *,
        sampler: Sampler,
        schedule: Schedule,
        tracker: Any = None,
        mode: str | Sequence[str] | Mapping[str, str] = "max",
        constraint_keys: Sequence[str] = (),
        executor: Executor | None = None,
        search_id: str | None = None,
        resume: bool = False,
        checkpoint_root: str | pathlib.Path = "searches",
        final_evaluation: bool = False,
        keep_checkpoints: int | str = 1,
        trial_timeout: float | None = None,
        timeout: float | None = None,
        records: Records = FULL_RECORDS,
        **options: Any,
    ) -> None:
        _check_parts(sampler, schedule)
        #: The search's objectives and constraint keys (see `ato.hyperopt.objectives`).
        self.objectives = Objectives.parse(
            options.pop("metric_key", "metric"), mode, constraint_keys
        )
        self.trial_timeout = check_seconds("trial_timeout", trial_timeout)
        self.timeout = check_seconds("timeout", timeout)
        if resume and not search_id:
            raise SearchSettingError(
                "resume=True needs the search_id of the search to resume (printed when it was "
                "interrupted, and in the tracker tags search:<id>)"
            )
        self.sampler = sampler
        self.schedule = schedule
        self.records = records
        self.resume = bool(resume)
        self.checkpoint_root = pathlib.Path(checkpoint_root)
        self.final_evaluation = bool(final_evaluation)
        self.keep_checkpoints = check_keep(keep_checkpoints)
        super().__init__(
            config_or_scope,
            search_spaces,
            tracker,
            self.objectives.modes[0],
            search_id=search_id,
            executor=executor,
            metric_key=self.objectives.keys[0],
            **options,
        )

    def planned_rounds(self) -> int:
        """Number of rung batches the search will run, when known before it starts (for the
        progress lines ``round k/N``); 0 when it depends on the results."""
        return 0

    # -- the search -----------------------------------------------------------------------
    def main(self, func: Callable[..., Any]) -> Callable[..., ADict]:
        """Turn ``func(config, *args, **kwargs) -> metric`` into a launcher running the search.

        The launcher passes its arguments on to every trial and returns a
        [`SearchResult`][ato.hyperopt.SearchResult] (an ADict) with ``config``, ``metric``,
        ``logs``, ``search_id``, ``run_id``, ``trial_id``, ``budget`` and ``timed_out``: the
        answer's config and metric (the answer rule of ``ato.hyperopt.answer``: the best
        completed evaluation at the largest budget reached), ``logs`` one list per executed
        rung batch (ASHA: per rung) of trial configs with ``__metric__`` (and ``__error__``,
        ``__run_id__``), ``run_id`` the answer's tracker run.

        Raises:
            NoAnswerError: no evaluation completed with a finite metric.
            SearchLockedError: another running process runs the same search id (with the
                same ``checkpoint_root``).
            TrialResultError: a trial returned a non-number.
            Exception: whatever a trial raised, with ``on_error='raise'``.
            TrialFailedError: in a distributed search, a trial on another rank was fatal.
            SearchInterrupted: SIGTERM/SIGINT (a ``KeyboardInterrupt``, raised with a short
                traceback); the running trial stops at its next cooperative check (see
                `ato.hyperopt.interrupts`), its run is closed ``killed`` and the resume hint is
                printed to stderr.
        """

        @functools.wraps(func)
        def launch(*args: Any, **kwargs: Any) -> ADict:
            return self._search(func, args, kwargs)

        return launch

    def _search(
        self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> ADict:
        deadline = Deadline(self.timeout)
        self._target.prepare(list(self.space.names))
        search_id = self._agree_on_search()
        shared = isinstance(self.executor, DatabaseExecutor)
        with self._locked(search_id, shared):
            recorder = TrialRecorder(
                self.tracker,
                search_id,
                SEARCH_KEY_PREFIX + self.metric_key,
                self._target.fingerprint_source(),
                self._score_keys(),
            )
            history = {} if shared else self._history(search_id)
            interrupts = Interrupts(preemption=shared)
            execution = _Execution(
                self, func, args, kwargs, search_id, recorder, history, deadline, interrupts
            )
            run = execution.run
            if shared:
                from .shared import SharedWorker

                run = SharedWorker(execution, functools.partial(_Book, self)).run
            try:
                with interrupts.installed():
                    return run()
            except KeyboardInterrupt as exc:
                if shared:
                    print(_SHARED_HINT.format(search_id=search_id), file=sys.stderr)
                elif self.is_root:
                    print(self._resume_hint(search_id), file=sys.stderr)
                reason = str(exc) or type(exc).__name__
                raise SearchInterrupted(f"search {search_id} stopped: {reason}") from None

    @contextlib.contextmanager
    def _locked(self, search_id: str, shared: bool = False) -> Iterator[None]:
        """Hold the search's lock (rank 0 takes it) while the search runs; a shared search
        (``DatabaseExecutor``) is coordinated by its database instead."""
        if shared:
            yield
            return
        lock = SearchLock(self.checkpoint_root / search_id)
        refused = None
        if self.is_root:
            try:
                lock.acquire()
            except SearchLockedError as exc:
                refused = str(exc)
            except OSError as exc:  # a read-only disk: the search runs, unguarded
                _log.warning(
                    "could not lock search %s (%s); a second process could run it at once",
                    search_id,
                    exc,
                )
        refused = self.share_from_root(refused)
        if refused:
            raise SearchLockedError(refused)
        try:
            yield
        finally:
            lock.release()

    def _agree_on_search(self) -> str:
        """A search id shared by all ranks; also checks every rank has the same search space."""
        mine = (self.search_id or uuid.uuid4().hex[:12], _portable(dict(self.space.specs)))
        gathered = self.all_gather_object(mine)
        if any(space != gathered[0][1] for _, space in gathered):
            raise DistributedSetupError(
                "ranks disagree on the search grid (search space); every rank must build the "
                "same search_spaces"
            )
        return str(gathered[0][0])

    def _score_keys(self) -> tuple[str, ...]:
        """The keys a search with several objectives or constraints logs each value under."""
        if not self.objectives.several:
            return ()
        return tuple(SEARCH_KEY_PREFIX + key for key in self.objectives.stored_keys)

    def _history(self, search_id: str) -> dict[tuple[int, int], PastRun]:
        if not self.resume:
            return {}
        history = None
        if self.is_root:
            history = load_history(
                self.tracker,
                self.config,
                search_id,
                self.metric_key,
                worst(self.mode),
                self._score_keys(),
            )
        return dict(self.share_from_root(history))

    def _resume_hint(self, search_id: str) -> str:
        if not self.records.engine_messages or self.tracker is None:
            return (
                f"ato.hyperopt: search {search_id} interrupted. To make a search resumable, "
                f"run it with Search(..., tracker=...) and resume with search_id and resume=True."
            )
        return (
            f"ato.hyperopt: search {search_id} interrupted; its finished trials are kept in the "
            f"tracker. Resume it with Search(..., search_id={search_id!r}, resume=True) and the "
            f"same tracker, search space, sampler (and seed) and schedule."
        )

    def _best_text(self, outcomes: list[TrialOutcome]) -> str:
        if self.objectives.several:
            scored = [(o, o.score) for o in outcomes if o.score is not None]
            return f"{len(pareto_front(scored))} non-dominated of {len(outcomes)}"
        best = min(outcomes, key=lambda o: rank_key(o.metric, self.mode))
        point = {k: ADict.get_path(best.config, k, None) for k in self.space.names}
        return f"metric={best.metric:.6g} {point}"


class _Book:
    """Rank 0's table of trials: asks the sampler for new ones, passes results on to it.

    With ``deferred`` (one process, a sampler whose ``sequential`` is True and that has
    ``observe``), ``new_trial`` only reserves an id: the sampler is asked in `config` when the
    trial's first job starts, and told each result at once through `observe`, so a rung's
    later configurations come from a model of its earlier results (BOHB, Falkner et al. 2018,
    section 4.2; HpBandSter's ``BaseIteration.get_next_run`` fills a rung as workers free up).
    """

    def __init__(self, search: Search, deferred: bool = False) -> None:
        self._sampler, self._names = search.sampler, set(search.space.names)
        self._ordered = search.space.ordered
        self.values: dict[int, dict[str, Any]] = {}
        self._open: dict[int, tuple[Job, Metric]] = {}
        self.deferred = deferred
        self._next_id = 0
        self._reserved: set[int] = set()

    def new_trial(self) -> int | None:
        trial_id = self._next_id
        if self.deferred:
            self._reserved.add(trial_id)
            self._next_id += 1
            return trial_id
        point = self._sampler.ask(trial_id)
        if point is None:
            return None
        self._next_id += 1
        self._keep(trial_id, point)
        return trial_id

    def adopt(self, trial_id: int, point: dict[str, Any]) -> None:
        """Keep ``point`` as the values of ``trial_id``, proposed elsewhere (another worker of
        a shared search); the next new trial comes after it."""
        self.values[trial_id] = point
        self._next_id = max(self._next_id, trial_id + 1)

    def config(self, trial_id: int) -> dict[str, Any]:
        """The values of ``trial_id``, asking the sampler now if the trial was reserved.

        Raises:
            SearchSettingError: the sampler returned no configuration for a reserved trial
                (a sampler that is ``sequential`` must always have one).
        """
        if trial_id in self._reserved:
            point = self._sampler.ask(trial_id)
            if point is None:
                raise SearchSettingError(
                    f"the sampler returned no configuration for trial {trial_id}, which the "
                    f"schedule had already planned: a sampler with sequential=True must "
                    f"always propose one (set sequential=False to ask a rung at once)"
                )
            self._reserved.discard(trial_id)
            self._keep(trial_id, point)
        return self.values[trial_id]

    def observe(self, job: Job, metric: Metric) -> None:
        """Pass a result on to the sampler as soon as it exists (deferred books only)."""
        if self.deferred and isinstance(self._sampler, SequentialSampler):
            self._sampler.observe(job.trial_id, job.rung, job.budget, metric)

    def _keep(self, trial_id: int, point: dict[str, Any]) -> None:
        unknown = set(point) - self._names
        if unknown:
            raise SearchSettingError(
                f"the sampler proposed parameters that are not in the search space: "
                f"{sorted(unknown)}"
            )
        self.values[trial_id] = self._ordered(point)

    def report(self, job: Job, metric: Metric, state: str) -> None:
        self._sampler.tell(job.trial_id, job.rung, job.budget, metric, state)
        if state == CONTINUE:
            self._open[job.trial_id] = (job, metric)
        else:
            self._open.pop(job.trial_id, None)

    def close_open_trials(self) -> None:
        """Tell the sampler that trials still open when the search ends were stopped."""
        for job, metric in list(self._open.values()):
            self.report(job, metric, STOPPED)


class _Execution:
    """One run of a search (all ranks)."""

    def __init__(
        self,
        search: Search,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        search_id: str,
        recorder: TrialRecorder,
        history: dict[tuple[int, int], PastRun],
        deadline: Deadline | None = None,
        interrupts: Interrupts | None = None,
    ) -> None:
        self.search, self.func, self.args, self.kwargs = search, func, args, kwargs
        self.deadline = deadline or Deadline(None)
        self.time_limit = TimeLimit(search.trial_timeout, interrupts=interrupts)
        self.timed_out = False
        self.num_run = 0
        self.search_id, self.recorder, self.history = search_id, recorder, history
        # a sampler that proposes the same points on every rank (the grid, a seeded random
        # sampler) lets every rank run the schedule itself: no broadcast per rung
        self.replicated = isinstance(search.sampler, ReplicableSampler) and bool(
            search.sampler.replicable and isinstance(search.schedule, SyncSchedule)
        )
        self.book = (
            _Book(search, deferred=self._defers(search))
            if search.is_root or self.replicated
            else None
        )
        self.values: dict[int, dict[str, Any]] = {}
        self.logs: list[list[ADict]] = []
        self.outcomes: dict[tuple[int, int], TrialOutcome] = {}
        self.jobs: dict[tuple[int, int], Job] = {}
        self.progress = RoundProgress(search.progress if search.is_root else False)
        self.num_rounds = search.planned_rounds()
        self.runner = TrialRunner(
            search._target,
            func,
            search.mode,
            search.on_error,
            recorder,
            args,
            kwargs,
            interrupt_status=search.records.interrupt_status,
            time_limit=self.time_limit,
            objectives=search.objectives,
        )

    @staticmethod
    def _defers(search: Search) -> bool:
        """Whether new trials are asked for one at a time, when they start (see `_Book`): a
        synchronous schedule in one process, no batch executor, a sampler that wants it."""
        sampler = search.sampler
        return (
            isinstance(sampler, SequentialSampler)
            and sampler.sequential is True
            and isinstance(search.schedule, SyncSchedule)
            and search.world_size == 1
            and not isinstance(search.executor, DatabaseExecutor)
            and getattr(search.executor, "run_batch", None) is None
        )

    def run(self) -> ADict:
        search = self.search
        if self.book is not None:
            if isinstance(search.sampler, ObjectivesSampler):
                search.sampler.use_objectives(search.objectives)
            search.sampler.setup(search.space, search.mode)
        try:
            if isinstance(search.schedule, SyncSchedule):
                self._run_synchronous(search.schedule)
            else:
                self._run_asynchronous(search.schedule)
            if self.book is not None:
                self.book.close_open_trials()
            return self._finish()
        finally:
            self.progress.close()

    # -- synchronous schedules: one rung batch at a time -----------------------------------
    def _run_synchronous(self, schedule: SyncSchedule) -> None:
        search = self.search
        batches = schedule.batches(self.book, search.mode) if self.book else None
        jobs = _next(batches, None)
        while True:
            payload = self._payload(jobs) if self.book is not None else None
            if not self.replicated:
                payload = search.share_from_root(payload)
            if payload is None:
                return
            jobs, values = payload
            self.values.update(values)
            outcomes = self._run_batch(jobs)
            if batches is not None:
                jobs = _next(batches, [self._ranked(o) for o in outcomes])

    def _payload(self, jobs: list[Job] | None) -> tuple[list[Job], dict[int, Any]] | None:
        if jobs is None or self.timed_out:
            return None
        assert self.book is not None  # noqa: S101 - invariant, narrows the type
        known = self.book.values  # a deferred trial's values exist once its job starts
        return jobs, {j.trial_id: known[j.trial_id] for j in jobs if j.trial_id in known}

    def _run_batch(self, jobs: list[Job], is_answer: bool = False) -> list[TrialOutcome]:
        search = self.search
        k = len(self.logs)
        self.progress.start_round(k, self.num_rounds, len(jobs))
        mine = self._run_mine(jobs, is_answer)
        outcomes = _merge(search.all_gather_object(mine), len(jobs), mine)
        if self.deadline.seconds is not None and not is_answer:
            self._agree_on_timeout(any(o.skipped for o in outcomes))
        self._record(list(zip(jobs, outcomes, strict=True)))
        failed = sum(o.error is not None for o in outcomes)
        self.progress.end_round(
            k,
            self.num_rounds,
            len(outcomes),
            failed,
            search._best_text(outcomes),
            where=_where(jobs[0]) if search.records.engine_messages else None,
        )
        return outcomes

    def _run_mine(self, jobs: list[Job], is_answer: bool) -> dict[int, TrialOutcome]:
        """This process's share of a rung batch: one job after another, or all at once
        through an executor that runs many (``run_batch``, e.g. the ``RayExecutor``)."""
        search = self.search

        def one(pos: int) -> TrialOutcome:
            outcome = self._run_job(jobs[pos], is_answer)
            if self.book is not None and not outcome.skipped and not is_answer:
                self.book.observe(jobs[pos], self._ranked(outcome))
            self.progress.trial_done(search.world_size)
            return outcome

        run_batch = getattr(search.executor, "run_batch", None)
        if run_batch is not None:
            return dict(run_batch(len(jobs), one))
        mine: dict[int, TrialOutcome] = {}
        for pos in search.shard(len(jobs)):
            mine[pos] = outcome = one(pos)
            if outcome.fatal:
                break
        return mine

    def _out_of_time(self) -> bool:
        """True (and remembered) once the search's ``timeout`` passed, by this rank's clock,
        after at least one job ran here."""
        if not self.timed_out and self.num_run and self.deadline.passed():
            self.timed_out = True
        return self.timed_out

    def _agree_on_timeout(self, skipped: bool) -> None:
        """After a rung batch: every rank stops if any rank skipped a job or saw the deadline
        pass (one collective per batch, only when a ``timeout`` is set)."""
        passed = self.search.all_gather_object(self._out_of_time())
        self.timed_out = skipped or any(passed)

    def _record(self, done: list[tuple[Job, TrialOutcome]]) -> None:
        done = [(job, outcome) for job, outcome in done if not outcome.skipped]
        if not done:
            return
        self.logs.append([o.log_entry() for _, o in done])
        for job, outcome in done:
            self.outcomes[(job.trial_id, job.rung)] = outcome
            self.jobs[(job.trial_id, job.rung)] = job

    # -- asynchronous schedules: a work queue ---------------------------------------------
    def _run_asynchronous(self, schedule: AsyncSchedule) -> None:
        search = self.search
        if self.book is not None:
            schedule.start(self.book, search.mode)

        def next_item() -> Any:
            if self._out_of_time():
                return QUEUE_STOP
            job = schedule.next_job()
            if job is None:
                return QUEUE_STOP
            if isinstance(job, str):  # WAIT
                return QUEUE_WAIT
            assert self.book is not None  # noqa: S101 - invariant, narrows the type
            return job, self.book.values[job.trial_id]

        top = [-1]

        def done(item: Any, outcome: TrialOutcome) -> None:
            schedule.report(item[0], self._ranked(outcome))
            if item[0].rung > top[0]:  # one line per rung reached (there is no rung barrier)
                top[0] = item[0].rung
                self.progress.say(
                    f"{_where(item[0])}: first result, {search._best_text([outcome])}"
                )

        def work(item: Any) -> tuple[TrialOutcome, bool]:
            job, values = item
            self.values[job.trial_id] = values
            outcome = self._run_job(job)
            return outcome, outcome.fatal

        self.progress.start_round(0, 0, schedule.max_trials)
        mine = search.executor.run_queue(self.search_id, next_item, done, work)
        for _, outcome in mine:
            if outcome.fatal and outcome.exception is not None:
                raise outcome.exception
        gathered = search.all_gather_object([(job, values, o) for (job, values), o in mine])
        everything = sorted(
            (entry for part in gathered for entry in part), key=lambda e: (e[0].rung, e[0].trial_id)
        )
        for job, values, _ in everything:
            self.values.setdefault(job.trial_id, values)
        for rung in sorted({job.rung for job, _, _ in everything}):
            self._record([(job, o) for job, _, o in everything if job.rung == rung])
        self.progress.close()

    def _ranked(self, outcome: TrialOutcome) -> Metric:
        """What the schedule ranks ``outcome`` by: its metric, or with several objectives or
        constraints its `Score` (NaN everywhere when it failed)."""
        score = self._score(outcome)
        return outcome.metric if score is None else score

    def _score(self, outcome: TrialOutcome) -> Score | None:
        """``outcome``'s `Score` in a search with several objectives or constraints (NaN
        everywhere when it failed); None otherwise."""
        objectives = self.search.objectives
        if not objectives.several:
            return None
        if outcome.score is None or outcome.error is not None:
            return objectives.failed()
        return outcome.score

    # -- one job ---------------------------------------------------------------------------
    def _run_job(self, job: Job, is_answer: bool = False) -> TrialOutcome:
        search = self.search
        values = self.values.get(job.trial_id)
        if values is None and self.book is not None:  # a deferred trial: ask the sampler now
            values = self.values[job.trial_id] = self.book.config(job.trial_id)
        assert values is not None  # noqa: S101 - every job's values came from rank 0
        records = search.records
        extra = {BUDGET: job.budget, TRIAL_ID: job.trial_id} if records.trial_keys else None
        past = self.history.get((job.trial_id, job.rung))
        if past is not None:
            config = to_adict(search._target.build(values, job.rung, extra))
            error = "failed in an earlier execution of this search" if past.failed else None
            score = None
            if search.objectives.several and not past.failed:
                score = search.objectives.from_values(past.values)
            return TrialOutcome(
                config=config, metric=past.metric, error=error, run_id=past.run_id, score=score
            )
        if self.num_run and not is_answer and self.deadline.passed():
            config = to_adict(search._target.build(values, job.rung, extra))
            error = "not run: the search timeout had passed"
            return TrialOutcome(config=config, metric=worst(search.mode), error=error, skipped=True)
        self.num_run += 1
        context = TrialContext(
            search_id=self.search_id,
            trial_id=job.trial_id,
            rung=job.rung,
            budget=job.budget,
            previous_budget=job.previous_budget,
            bracket=job.bracket,
            is_answer=is_answer,
            search_dir=search.checkpoint_root / self.search_id,
        )
        evaluate = getattr(search.executor, "evaluate", None)
        if evaluate is not None:  # elsewhere (e.g. a Ray task)
            outcome: TrialOutcome = evaluate(self.runner, context, values, self._facts(job), extra)
            return outcome
        token = set_context(context)
        try:
            return self.runner.run(values, self._facts(job), extra)
        finally:
            reset_context(token)

    def _facts(self, job: Job) -> SearchRunFacts:
        """What the tracker records about ``job``'s run (the search-run contract)."""
        objectives = self.search.objectives
        several = len(objectives.keys) > 1
        return SearchRunFacts(
            self.search_id,
            job.rung,
            trial_id=job.trial_id,
            bracket=job.bracket,
            budget=job.budget,
            mode=None if several else objectives.modes[0],
            metric_key=None if several else objectives.keys[0],
            objectives=tuple(zip(objectives.modes, objectives.keys, strict=True))
            if several
            else (),
            constraint_keys=objectives.constraint_keys,
        )

    # -- the answer ------------------------------------------------------------------------
    def _finish(self) -> SearchResult:
        search = self.search
        evaluations = [
            Evaluation(
                key[0],
                key[1],
                self.jobs[key].budget,
                o.metric,
                o.error is not None,
                o.run_id,
                self._score(o),
            )
            for key, o in self.outcomes.items()
        ]
        if not evaluations:
            raise SearchSettingError(
                "the search ran no trial: the sampler proposed no configuration"
            )
        answer = find_answer(evaluations, search.mode)
        if answer is None:
            raise self._no_answer()
        if search.final_evaluation and not self.timed_out:
            answer = self._evaluate_again(answer)
        outcome = self.outcomes[(answer.trial_id, answer.rung)]
        if search.is_root:
            tag_answer(search.tracker, outcome.config, outcome.run_id)
        ranked = rank_trials(evaluations, search.mode)
        ranked.remove(answer.trial_id)
        search_dir = search.checkpoint_root / self.search_id
        prune_checkpoints(search_dir, [answer.trial_id, *ranked], search.keep_checkpoints)
        result = SearchResult(
            config=outcome.config,
            metric=outcome.metric,
            logs=self.logs,
            search_id=self.search_id,
            run_id=outcome.run_id,
        )
        if search.objectives.several:
            result.metric = self._named(answer.score)
            result.front = [self._front_entry(e) for e in find_front(evaluations)]
        if search.records.result_facts:
            result.trial_id = answer.trial_id
            result.budget = answer.budget
            result.timed_out = self.timed_out
        front = f" (picked from a Pareto front of {len(result.front)})" if "front" in result else ""
        self.progress.say(_summary(self.search_id, answer, self.outcomes.values()) + front)
        return result

    def _named(self, score: Score | None) -> ADict:
        """``{key: value}`` of every objective and constraint of ``score``."""
        assert score is not None  # noqa: S101 - evaluations of such searches carry scores
        keys = self.search.objectives.stored_keys
        return ADict(zip(keys, (*score.values, *score.constraints), strict=True))

    def _front_entry(self, evaluation: Evaluation) -> ADict:
        outcome = self.outcomes[(evaluation.trial_id, evaluation.rung)]
        return ADict(
            trial_id=evaluation.trial_id,
            budget=evaluation.budget,
            run_id=evaluation.run_id,
            metric=self._named(evaluation.score),
            config=outcome.config,
        )

    def _evaluate_again(self, answer: Evaluation) -> Evaluation:
        """``final_evaluation=True``: the answer's trial once more at the final budget; that
        evaluation is the answer if it completed, else the rule's answer stands."""
        bracket = self.jobs[(answer.trial_id, answer.rung)].bracket
        job = Job(
            answer.trial_id,
            answer.rung + 1,
            self.search.schedule.final_budget,
            answer.budget,
            bracket,
        )
        outcome = self._run_batch([job], is_answer=True)[0]
        again = Evaluation(
            job.trial_id,
            job.rung,
            job.budget,
            outcome.metric,
            outcome.error is not None,
            outcome.run_id,
            self._score(outcome),
        )
        return again if again.completed else answer

    def _no_answer(self) -> NoAnswerError:
        outcomes = list(self.outcomes.values())
        failed = [o.error for o in outcomes if o.error is not None]
        first = f"; the first error: {failed[0]}" if failed else ""
        if self.search.objectives.several:
            what, other = "feasible with finite values", "were infeasible or returned NaN/inf"
        else:
            what, other = "with a finite metric", "returned NaN or an infinite value"
        return NoAnswerError(
            f"search {self.search_id} has no answer: none of its {len(outcomes)} evaluations "
            f"completed {what} ({len(failed)} failed, "
            f"{len(outcomes) - len(failed)} {other}{first})",
            self.search_id,
            list(self.logs),
        )


def _where(job: Job) -> str:
    budget = "" if job.budget is None else f" (budget {job.budget})"
    return f"bracket {job.bracket}, rung {job.rung}{budget}"


def _summary(search_id: str, answer: Evaluation, outcomes: Any) -> str:
    outcomes = list(outcomes)
    failed = sum(o.error is not None for o in outcomes)
    budget = "" if answer.budget is None else f" at budget {answer.budget}"
    return (
        f"search {search_id} done: answer trial {answer.trial_id}{budget} (rung {answer.rung}), "
        f"metric={answer.metric:.6g}; {len(outcomes)} evaluations, {failed} failed"
    )


def _next(batches: Any, metrics: list[Metric] | None) -> list[Job] | None:
    if batches is None:
        return None
    try:
        jobs: list[Job] = next(batches) if metrics is None else batches.send(metrics)
        return jobs
    except StopIteration:
        return None


def _merge(
    gathered: list[dict[int, TrialOutcome]], size: int, mine: dict[int, TrialOutcome]
) -> list[TrialOutcome]:
    for outcome in mine.values():
        if outcome.fatal and outcome.exception is not None:
            raise outcome.exception
    merged: dict[int, TrialOutcome] = {}
    for rank, part in enumerate(gathered):
        for pos, outcome in part.items():
            if outcome.fatal:
                raise TrialFailedError(
                    f"a trial on rank {rank} stopped the search: {outcome.error}"
                )
            merged[pos] = outcome
    return [merged[pos] for pos in range(size)]


def _check_parts(sampler: object, schedule: object) -> None:
    """The run-time check of what mypy checks statically: ``sampler`` follows ``Sampler`` and
    ``schedule`` one of ``SyncSchedule``/``AsyncSchedule``."""
    if not isinstance(sampler, Sampler):
        missing = [m for m in ("setup", "ask", "tell") if not hasattr(sampler, m)]
        raise SearchSettingError(
            f"sampler {type(sampler).__name__} lacks {', '.join(missing)}; use GridSampler(), "
            f"RandomSampler(seed), OptunaSampler(...) or an object with setup/ask/tell"
        )
    sync = isinstance(schedule, SyncSchedule) and schedule.synchronous is True
    if not sync and not (isinstance(schedule, AsyncSchedule) and schedule.synchronous is False):
        raise SearchSettingError(
            f"schedule {type(schedule).__name__} is not a schedule; use "
            f"SuccessiveHalvingSchedule, HyperbandSchedule or ASHASchedule"
        )


def _portable(value: Any) -> Any:
    """``value`` in a form that compares equal across processes (no memory addresses)."""
    if isinstance(value, (str, int, float, bool, type(None))):
        return repr(value)
    if isinstance(value, (set, frozenset)):
        return [type(value).__name__, *sorted(str(_portable(v)) for v in value)]
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, *(_portable(v) for v in value)]
    if isinstance(value, Mapping):
        return [type(value).__name__, *((str(k), _portable(v)) for k, v in value.items())]
    name = getattr(value, "__qualname__", None) or type(value).__qualname__
    return f"<{getattr(value, '__module__', '')}.{name}>"
