"""A search shared by worker processes through a database (the
[`DatabaseExecutor`][ato.hyperopt.DatabaseExecutor]).

The database holds the search's jobs (see [`JobQueue`][ato.hyperopt.JobQueue]). Every job
created and every job finished gets the next stamp of the search under the search's lock, so
the events have one order. Each worker keeps a **replica** of the schedule and the sampler and
replays the events in that order: a ``created`` event makes the replica take the same
decision again (``next_job()`` of ASHA, the next rung batch of a synchronous schedule); the
trial's values are always the recorded ones: a sampler with ``adopt`` (Optuna's, BOHB) is
handed them instead of being asked, any other is asked as well, so a seeded one stays in step
and never proposes a point another worker already got (see ``ato.hyperopt.samplers``). A
``finished`` event reports the result (to the schedule and, through it, to the sampler): its
metric, or with several objectives or constraints its `Score`, which the job's result holds
as ``score`` (the objective then constraint values, as text). A
decision is made only while holding the lock and after replaying every earlier event, so all
replicas agree; a worker whose decision did not commit rebuilds its replica from the events.
Each replay step costs what the schedule's own step costs (ASHA: O(log n)), so a job's
overhead stays flat as the search grows.

A worker's loop: claim a queued job (``FOR UPDATE SKIP LOCKED``); if there is none, plan
under the lock: ASHA creates one job claimed by this worker (a promotion or a new trial,
Li et al., MLSys 2020, Algorithm 2); a synchronous schedule queues its next rung batch once
the previous one finished (the barrier), and a worker that would wait opens the next
Hyperband bracket instead (brackets are independent, Li et al., JMLR 2018). While a job runs a
thread heartbeats its claim; the result is recorded once (a worker that lost its claim
records nothing). SIGTERM/SIGUSR1 stop the trial at its next cooperative check (it saves a
checkpoint in ``trial_context().checkpoint_dir``, which every worker sees on a shared file
system) and the claim is released, so another worker continues the trial.
"""

from __future__ import annotations

import collections
import contextlib
import math
import statistics
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from ato.adict import ADict

from .ahead import STOP, PlanAhead
from .answer import Evaluation, find_answer, find_front, rank_trials
from .beats import ClaimBeats
from .checkpoints import prune_checkpoints
from .configs import to_adict
from .errors import NoAnswerError, SearchSettingError
from .executors import DatabaseExecutor
from .keys import BUDGET, ERROR, METRIC, NUM_HALVED, RUN_ID, TRIAL_ID
from .metric import worst
from .objectives import Metric, Objectives, Score
from .result import SearchResult
from .samplers import AdoptingSampler, ObjectivesSampler
from .schedules import WAIT, AsyncSchedule, HyperbandSchedule, Job
from .tagging import tag_answer

__all__ = ["SharedWorker"]

QUEUED_BATCH = "queued"


class _ReplayBook:
    """The trial table of a replica (around the search's own, ``book``): a trial created by
    another worker gets its recorded values, adopted by a ``sampler`` that can (else the
    sampler is asked all the same, to stay in step)."""

    def __init__(self, book: Any, sampler: Any) -> None:
        self._book, self._sampler = book, sampler
        self.values: dict[int, dict[str, Any]] = book.values
        self.recorded: dict[int, dict[str, Any]] = {}

    def new_trial(self) -> int | None:
        """The next trial id (values: the recorded ones, else the sampler's), or None."""
        trial_id = len(self.values)
        recorded = self.recorded.pop(trial_id, None)
        if recorded is not None and isinstance(self._sampler, AdoptingSampler):
            self._sampler.adopt(trial_id, recorded)
            self._book.adopt(trial_id, recorded)
            return trial_id
        asked: int | None = self._book.new_trial()
        if recorded is not None:
            self._book.adopt(trial_id, recorded)
            return trial_id
        return asked

    def report(self, job: Job, metric: Metric, state: str) -> None:
        """Pass a result on to the sampler."""
        self._book.report(job, metric, state)


@dataclass
class _Stream:
    """One generator of rung batches (a successive-halving bracket) and its current batch."""

    batches: Generator[list[Job], list[Metric], Any]
    number: int
    batch: int = -1
    jobs: list[Job] = field(default_factory=list)
    metrics: dict[tuple[int, int], Metric] = field(default_factory=dict)
    over: bool = False

    def ready(self) -> bool:
        """True when every job of the current batch finished (or none was handed out)."""
        return all((j.trial_id, j.rung) in self.metrics for j in self.jobs)

    def advance(self) -> list[Job] | None:
        """The next batch (None when the bracket is over); call when `ready`."""
        try:
            if self.batch < 0:
                jobs = next(self.batches)
            else:
                jobs = self.batches.send([self.metrics[(j.trial_id, j.rung)] for j in self.jobs])
        except StopIteration:
            self.over, self.jobs = True, []
            return None
        self.batch += 1
        self.jobs = jobs
        return jobs


class _Replica:
    """This worker's copy of the schedule and sampler, kept in step with the event log."""

    def __init__(self, search: Any, make_book: Callable[[], Any]) -> None:
        self.search, self.mode = search, search.mode
        self.book = _ReplayBook(make_book(), search.sampler)
        if isinstance(search.sampler, ObjectivesSampler):
            search.sampler.use_objectives(search.objectives)
        search.sampler.setup(search.space, search.mode)
        self.seq = 0
        self.values: dict[int, dict[str, Any]] = {}
        self.finished: dict[tuple[int, int], dict[str, Any]] = {}
        self.created: dict[tuple[int, int], dict[str, Any]] = {}
        schedule = search.schedule
        self.asha = isinstance(schedule, AsyncSchedule)
        self.streams: list[_Stream] = []
        self._factories: list[Callable[[], Generator[list[Job], list[Metric], Any]]] = []
        if self.asha:
            schedule.start(self.book, self.mode)
        elif isinstance(schedule, HyperbandSchedule):
            self._factories = [
                _bracket(schedule, s, self.book, self.mode) for s in range(schedule.s_max, -1, -1)
            ]
        else:
            self._factories = [lambda: schedule.batches(self.book, self.mode)]

    # -- replaying --------------------------------------------------------------------------
    def replay(self, events: list[tuple[int, str, dict[str, Any]]]) -> None:
        """Apply the events after ``self.seq``, in order.

        Raises:
            SearchSettingError: the events disagree with this replica's decisions (workers
                run different search settings).
        """
        for _, kind, job in events:
            if kind == "created" and job["rung"] == 0:
                self.book.recorded[job["trial_id"]] = job["payload"]["values"]
        for seq, kind, job in events:
            if kind == "created":
                self._replay_created(job)
            else:
                self._replay_finished(job)
            self.seq = seq

    def _replay_created(self, job: dict[str, Any]) -> None:
        key = (job["trial_id"], job["rung"])
        self.created[key] = job
        self.values.setdefault(job["trial_id"], job["payload"]["values"])
        if self.asha:
            mine = self.search.schedule.next_job()
            _check_same(mine, job)
            return
        where = job["payload"]["stream"], job["payload"]["batch"]
        if where[0] == len(self.streams):
            self._open_stream()
        stream = self.streams[where[0]]
        if stream.batch < where[1]:
            stream.advance()
        mine = next((j for j in stream.jobs if (j.trial_id, j.rung) == key), None)
        _check_same(mine, job)

    def _replay_finished(self, job: dict[str, Any]) -> None:
        key = (job["trial_id"], job["rung"])
        self.finished[key] = job
        metric = ranked_of(job, self.search.objectives)
        if self.asha:
            self.search.schedule.report(job_of(job), metric)
        else:
            self.streams[job["payload"]["stream"]].metrics[key] = metric

    def _open_stream(self) -> _Stream:
        stream = _Stream(self._factories[len(self.streams)](), len(self.streams))
        self.streams.append(stream)
        return stream

    # -- deciding ---------------------------------------------------------------------------
    def decide(self, plan: Any) -> Any:
        """The next step for this worker: a claimed job dict, ``QUEUED_BATCH``, ``WAIT`` or
        ``STOP`` (nothing left: every job finished)."""
        if self.asha:
            job = self.search.schedule.next_job()
            if job is None:
                return STOP
            if isinstance(job, str):
                return WAIT
            (row,) = plan.add([self._row(job, 0, 0)], claim=True)
            self.created[(job.trial_id, job.rung)] = row
            return row
        return self._decide_batches(plan)

    def _decide_batches(self, plan: Any) -> Any:
        waiting = False
        for stream in self.streams:
            if stream.over:
                continue
            if not stream.ready():
                waiting = True
                continue
            jobs = stream.advance()
            if jobs:
                return self._queue(plan, stream, jobs)
        while len(self.streams) < len(self._factories):  # a worker that would wait
            stream = self._open_stream()
            jobs = stream.advance()
            if jobs:
                return self._queue(plan, stream, jobs)
        return WAIT if waiting else STOP

    def _queue(self, plan: Any, stream: _Stream, jobs: list[Job]) -> str:
        rows = plan.add([self._row(j, stream.number, stream.batch) for j in jobs], claim=False)
        for job, row in zip(jobs, rows, strict=True):
            self.created[(job.trial_id, job.rung)] = row
        return QUEUED_BATCH

    def _row(self, job: Job, stream: int, batch: int) -> dict[str, Any]:
        values = self.book.values[job.trial_id]
        self.values.setdefault(job.trial_id, values)
        payload = {
            "values": values,
            "budget": job.budget,
            "previous_budget": job.previous_budget,
            "stream": stream,
            "batch": batch,
        }
        return {
            "job_key": f"trial-{job.trial_id}/rung-{job.rung}",
            "trial_id": job.trial_id,
            "rung": job.rung,
            "bracket": job.bracket,
            "payload": payload,
        }


def _bracket(
    schedule: HyperbandSchedule, s: int, book: _ReplayBook, mode: str
) -> Callable[[], Generator[list[Job], list[Metric], Any]]:
    return lambda: schedule.bracket_batches(s, book, mode)


def _check_same(mine: Any, job: dict[str, Any]) -> None:
    recorded = (job["trial_id"], job["rung"], job["payload"]["budget"])
    if isinstance(mine, Job) and (mine.trial_id, mine.rung, mine.budget) == recorded:
        return
    raise SearchSettingError(
        f"this worker's schedule would not have created job {job['job_key']} (it decided "
        f"{mine!r}): every worker of a shared search must run the same search space, sampler "
        f"(and seed) and schedule settings"
    )


def metric_of(job: dict[str, Any], mode: str) -> float:
    """The metric of a finished job (the worst value for ``mode`` when it has none)."""
    text = (job.get("result") or {}).get("metric")
    return worst(mode) if text is None else float(text)


def ranked_of(job: dict[str, Any], objectives: Objectives) -> Metric:
    """What a finished job is ranked by: its metric, or in a search with several objectives
    or constraints its `Score` (see `score_of`)."""
    if not objectives.several:
        return metric_of(job, objectives.modes[0])
    return score_of(job, objectives)


def score_of(job: dict[str, Any], objectives: Objectives) -> Score:
    """The `Score` of a finished job of a search with several objectives or constraints
    (its result's ``score`` texts; NaN everywhere when it failed or has none)."""
    result = job.get("result") or {}
    texts = result.get("score")
    if result.get("error") is not None or not texts:
        return objectives.failed()
    return objectives.from_values(dict(zip(objectives.stored_keys, map(float, texts), strict=True)))


def score_texts(score: Score) -> list[str]:
    """A `Score` as a job's result stores it: the objective then constraint values, as
    ``repr`` text (JSON has no NaN or infinity)."""
    return [repr(float(v)) for v in (*score.values, *score.constraints)]


def job_of(job: dict[str, Any]) -> Job:
    """The schedule's `Job` of a job dict."""
    payload = job["payload"]
    return Job(
        job["trial_id"], job["rung"], payload["budget"], payload["previous_budget"], job["bracket"]
    )


class SharedWorker:
    """One worker of a shared search (see the module docstring), running the jobs through
    ``execution`` (the search's one-process execution: trial runner, progress, deadline) and
    making replicas with books from ``make_book``."""

    def __init__(self, execution: Any, make_book: Callable[[], Any]) -> None:
        self.execution, self.make_book = execution, make_book
        self.search, self.search_id = execution.search, execution.search_id
        executor = self.search.executor
        if not isinstance(executor, DatabaseExecutor):
            raise SearchSettingError("a shared search needs a DatabaseExecutor")
        self.executor, self.queue = executor, executor.queue
        self.dirty = False
        self.mine = 0
        #: seconds of this worker's latest jobs (how long a waiting worker pauses at most)
        self._job_seconds: collections.deque[float] = collections.deque(maxlen=16)
        #: ASHA: (job, result) of finished jobs, recorded with the next decision
        self.pending: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def run(self) -> ADict:
        """Work until the search has no job left; the search's answer.

        Raises:
            NoAnswerError: no evaluation completed with a finite metric.
            SearchInterrupted: SIGINT/SIGTERM/SIGUSR1 (the running job went back to the queue).
        """
        self.queue.open_search(self.search_id)
        self.replica = _Replica(self.search, self.make_book)
        self._beats = ClaimBeats(self._beat, self.queue.heartbeat_interval)
        try:
            try:
                self._work()
            finally:
                self._beats.close()
            if self.execution.timed_out:  # stopped early: answer with every result so far
                self.queue.plan(self.search_id, self._catch_up)
            return self._answer()
        finally:
            self.execution.progress.close()

    def _work(self) -> None:
        if self.replica.asha and self.executor.plan_ahead:
            self._work_ahead()
            return
        while True:
            if self._stopping():
                self._flush()
                self.execution.time_limit.interrupts.check()
                return
            # ASHA decides a job for each free worker; a synchronous schedule queues whole
            # rungs, which workers claim without the search's lock (SKIP LOCKED)
            job = None if self.replica.asha else self.queue.claim(self.search_id)
            if job is None:
                step = self.queue.plan(self.search_id, self._decide)
                self.dirty, self.pending = False, []
                if step == STOP:
                    return
                if step == WAIT:
                    self._wait()
                if step in (WAIT, QUEUED_BATCH):
                    continue
                job = step
            done = self._run_claimed(job)
            if done is not None:
                self.pending = [done]

    def _work_ahead(self) -> None:
        """ASHA, deciding the next job while the current one runs (see `ato.hyperopt.ahead`)."""
        interrupts = self.execution.time_limit.interrupts
        ahead = PlanAhead(self._decide_ahead, self._wait, self._beat, self.queue.heartbeat_interval)
        ahead.start()
        try:
            while not self._stopping():
                job = ahead.take(lambda: interrupts.received is not None)
                if job == STOP:
                    return
                if job is None:
                    continue
                if self._stopping():
                    self.queue.release(self.search_id, job["job_key"])
                    break
                done = self._run_claimed(job)
                if done is not None:
                    ahead.done(*done)
        finally:
            left, self.pending = ahead.close()
            if left is not None:
                self.queue.release(self.search_id, left["job_key"])
            self._flush()
        interrupts.check()

    def _decide_ahead(self, results: list[tuple[dict[str, Any], dict[str, Any]]]) -> Any:
        """One decision of the planner thread, recording ``results`` first."""
        self.pending = results
        step = self.queue.plan(self.search_id, self._decide)
        self.dirty, self.pending = False, []
        return step

    def _stopping(self) -> bool:
        """True once a signal came or the search's time is up: no new job starts."""
        return bool(self.execution.time_limit.interrupts.received) or self.execution._out_of_time()

    def _wait(self, pause: Callable[[float], bool] | None = None) -> None:
        """Wait until the search changed since this worker's last decision (a job finished,
        was created or queued again), looking again after ``poll_interval`` seconds, then
        twice as long each time up to the longest pause (``max_poll_interval``, or a quarter
        of this worker's typical job when that is shorter: a short job's result is awaited
        only briefly). A look is one small read without the search's lock (the queue's
        ``changed_since``); a queue without it, and every ``heartbeat_interval`` (claims of
        dead workers are taken back by a decision), end the wait at the first pause.
        ``pause(seconds)`` (default: sleep) returns True to end the wait at once."""
        executor, interrupts = self.executor, self.execution.time_limit.interrupts
        changed = getattr(self.queue, "changed_since", None)
        typical = statistics.median(self._job_seconds) / 4 if self._job_seconds else math.inf
        longest = max(executor.poll_interval, min(executor.max_poll_interval, typical))
        step = executor.poll_interval
        until = time.monotonic() + self.queue.heartbeat_interval
        while True:
            if pause is not None and pause(step):
                return
            if pause is None:
                time.sleep(step)
            if changed is None or interrupts.received or time.monotonic() >= until:
                return
            if self.execution._out_of_time() or changed(self.search_id, self.replica.seq):
                return
            step = min(step * 2, longest)

    def _flush(self) -> None:
        """Record the results still held back for the next decision."""
        for row, result in self.pending:
            self.queue.complete(self.search_id, row["job_key"], result)
        self.pending = []

    def _decide(self, plan: Any) -> Any:
        if self.dirty:  # an earlier attempt decided but did not commit
            self.replica = _Replica(self.search, self.make_book)
        self.dirty = True
        replica = self.replica
        elsewhere = plan.seq != replica.seq  # events of other workers since the last decision
        mine = []  # ASHA: the results held back, recorded in the same transaction
        for row, result in self.pending:
            if plan.complete(row["job_key"], result):
                state = "failed" if result.get("error") is not None else "done"
                mine.append((plan.seq, "finished", {**row, "state": state, "result": result}))
        if mine and not elsewhere:  # no query needed: the replica saw every other event
            replica.replay([(seq, kind, {**job, "done_seq": seq}) for seq, kind, job in mine])
        if replica.asha:
            queued = plan.claim()  # released, or taken back from a dead worker
            if queued is not None:
                return queued
        if elsewhere:  # read only the events after this replica's last one
            replica.replay(plan.events(replica.seq))
        step = replica.decide(plan)
        replica.seq = plan.seq
        return step

    def _catch_up(self, plan: Any) -> None:
        """Replay the events this worker has not seen yet (no decision)."""
        self.replica.replay(plan.events(self.replica.seq))

    def _run_claimed(self, row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Run a claimed job; its ``(job, result)`` when the result is held back for the next
        decision (ASHA), None when it was recorded now or the job was put back."""
        job = job_of(row)
        self.execution.values[job.trial_id] = row["payload"]["values"]
        key = row["job_key"]
        started = time.monotonic()
        with self._beats.running(key):
            try:
                outcome = self.execution._run_job(job)
            except BaseException:  # SIGTERM/SIGUSR1/Ctrl-C: another worker continues it
                self.queue.release(self.search_id, key)
                raise
        self._job_seconds.append(time.monotonic() - started)
        if outcome.skipped:
            self.queue.release(self.search_id, key)
            return None
        result: dict[str, Any] = {
            "metric": repr(float(outcome.metric)),
            "error": outcome.error,
            "run_id": outcome.run_id,
        }
        if outcome.score is not None and outcome.error is None:
            result["score"] = score_texts(outcome.score)
        self.mine += 1
        self.execution.progress.trial_done(1)
        if self.replica.asha and not outcome.fatal:
            return row, result
        self.queue.complete(self.search_id, key, result)
        if outcome.fatal and outcome.exception is not None:
            raise outcome.exception
        return None

    def _beat(self, key: str) -> None:
        """Refresh the claim of ``key`` (a missed beat: the next one tries again)."""
        with contextlib.suppress(Exception):
            self.queue.heartbeat(self.search_id, key)

    # -- the answer -------------------------------------------------------------------------
    def _answer(self) -> SearchResult:
        search, replica = self.search, self.replica
        finished = replica.finished
        several = search.objectives.several
        evaluations = [
            Evaluation(
                t,
                r,
                job["payload"]["budget"],
                metric_of(job, search.mode),
                job["result"].get("error") is not None,
                job["result"].get("run_id"),
                score_of(job, search.objectives) if several else None,
            )
            for (t, r), job in sorted(finished.items())
        ]
        if not evaluations:
            raise SearchSettingError(
                "the search ran no trial: the sampler proposed no configuration"
            )
        logs = self._logs()
        answer = find_answer(evaluations, search.mode)
        if answer is None:
            raise NoAnswerError(
                f"search {self.search_id} has no answer: none of its {len(evaluations)} "
                f"evaluations completed with a finite metric",
                self.search_id,
                logs,
            )
        config = self._config(answer)
        timed_out = self.execution.timed_out
        if not timed_out and self.queue.finish_search(self.search_id, answer.run_id):
            tag_answer(search.tracker, config, answer.run_id)
            ranked = rank_trials(evaluations, search.mode)
            ranked.remove(answer.trial_id)
            search_dir = search.checkpoint_root / self.search_id
            prune_checkpoints(search_dir, [answer.trial_id, *ranked], search.keep_checkpoints)
        result = SearchResult(
            config=config,
            metric=answer.metric,
            logs=logs,
            search_id=self.search_id,
            run_id=answer.run_id,
        )
        if several:  # as a one-process search answers (search._Execution._finish)
            result.metric = self.execution._named(answer.score)
            result.front = [
                ADict(
                    trial_id=e.trial_id,
                    budget=e.budget,
                    run_id=e.run_id,
                    metric=self.execution._named(e.score),
                    config=self._config(e),
                )
                for e in find_front(evaluations)
            ]
        if search.records.result_facts:
            result.trial_id = answer.trial_id
            result.budget = answer.budget
            result.timed_out = timed_out
        self.execution.progress.say(
            f"search {self.search_id}: this worker ran {self.mine} of {len(evaluations)} "
            f"evaluations; answer trial {answer.trial_id} (rung {answer.rung}), "
            f"metric={answer.metric:.6g}"
        )
        return result

    def _config(self, evaluation: Evaluation) -> ADict:
        """The config of a finished evaluation, as its trial got it."""
        job = self.replica.finished[(evaluation.trial_id, evaluation.rung)]
        values = self.replica.values[evaluation.trial_id]
        return to_adict(
            self.search._target.build(values, evaluation.rung, self._extra(job_of(job)))
        )

    def _extra(self, job: Job) -> dict[str, Any] | None:
        if not self.search.records.trial_keys:
            return None
        return {BUDGET: job.budget, TRIAL_ID: job.trial_id}

    def _logs(self) -> list[list[ADict]]:
        """Per rung, every finished job's values with ``__metric__`` (and ``__error__``,
        ``__run_id__``), in trial order."""
        rungs: dict[int, list[ADict]] = {}
        for (trial, rung), job in sorted(self.replica.finished.items(), key=lambda e: e[0][::-1]):
            entry = ADict()
            for path, value in self.replica.values[trial].items():
                ADict.set_path(entry, path, value)
            entry[NUM_HALVED] = rung
            entry[TRIAL_ID] = trial
            entry[METRIC] = metric_of(job, self.search.mode)
            if job["result"].get("error") is not None:
                entry[ERROR] = job["result"]["error"]
            if job["result"].get("run_id") is not None:
                entry[RUN_ID] = job["result"]["run_id"]
            rungs.setdefault(rung, []).append(entry)
        return [rungs[r] for r in sorted(rungs)]
