"""Test doubles and a small search shared by the ato-hyperopt tests (imported by name: the
pytest ``pythonpath`` of pyproject.toml names this folder; importlib mode cannot import
conftest)."""

from __future__ import annotations

import copy
import itertools
import math
import threading
from types import SimpleNamespace
from typing import Any

from ato.adict import ADict
from ato.hyperopt import RandomSampler, Search

#: One log-scaled learning rate.
LR_SPACE = {"lr": dict(param_type="FLOAT", param_range=(1e-4, 1e-1), space_type="LOG")}


def quality(config: Any) -> float:
    """Deterministic: better with lr near 1e-2 and with more budget."""
    return -abs(math.log10(config.lr) + 2) + 0.01 * math.log(config.__budget__ or 1)


def lr_search(schedule: Any, seed: int = 3, **options: Any) -> Search:
    """A random search over `LR_SPACE` (no progress output unless asked)."""
    options.setdefault("progress", False)
    sampler = RandomSampler(seed=seed)
    return Search(ADict(lr=0.1), LR_SPACE, sampler=sampler, schedule=schedule, **options)


class FakeLogger:
    """Records calls the way ato-tracker's SQLLogger would receive them: ``run``,
    ``log_metric``, ``finish``, ``add_tags`` (also after a run finished) and ``search_runs``
    (what a resumed search reads back). Run ids are unique across instances."""

    _ids = itertools.count(1)

    def __init__(self, config: Any = None, accept_config: bool = True) -> None:
        self.config = config
        self.runs: dict[int, dict[str, Any]] = {}
        self.current: int | None = None
        self.tagged: list[tuple[list[str], int | None, int | None]] = []  # (tags, run, open run)
        if not accept_config:
            self.run = self._run_without_config  # type: ignore[method-assign]

    def run(self, tags: list[str] | None = None, config: Any = None) -> int:
        return self._open(tags, config)

    def _run_without_config(self, tags: list[str] | None = None) -> int:
        return self._open(tags, None)

    def _open(self, tags: list[str] | None, config: Any) -> int:
        run_id = next(self._ids)
        self.runs[run_id] = {
            "tags": list(tags or []),
            "config": config,
            "metrics": [],
            "status": "running",
        }
        self.current = run_id
        return run_id

    def log_metric(self, key: str, value: float, step: int) -> None:
        assert self.current is not None, "log_metric before run()"
        self.runs[self.current]["metrics"].append((key, value, step))

    def finish(self, status: str = "completed") -> None:
        assert self.current is not None, "finish() before run()"
        self.runs[self.current]["status"] = status
        self.current = None

    def add_tags(self, tags: list[str], run_id: int | None = None) -> list[str]:
        """ato-tracker's SQLLogger.add_tags: tag a run, also after it finished."""
        self.tagged.append((list(tags), run_id, self.current))
        run = self.runs[run_id if run_id is not None else max(self.runs)]
        run["tags"] += [tag for tag in tags if tag not in run["tags"]]
        return list(run["tags"])

    def search_runs(self, search_id: str) -> list[SimpleNamespace]:
        return [
            SimpleNamespace(id=i, tags=r["tags"], status=r["status"], metrics=r["metrics"])
            for i, r in self.runs.items()
            if f"search:{search_id}" in r["tags"]
        ]


class FakeStream:
    """A text stream that says whether it is a terminal and keeps what is written to it."""

    def __init__(self, is_tty: bool) -> None:
        self.is_tty, self.text = is_tty, ""

    def isatty(self) -> bool:
        return self.is_tty

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


class ThreadGroup:
    """An all-gather between threads, standing in for torch.distributed: every rank receives
    its own copy of each object, as torch's object collectives send pickles, so no two ranks
    share (and race on) one mutable object."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.barrier = threading.Barrier(size)
        self.slots: list[Any] = [None] * size

    def gather(self, rank: int, obj: Any) -> list[Any]:
        self.barrier.wait()
        self.slots[rank] = obj
        self.barrier.wait()
        out = copy.deepcopy(self.slots)
        self.barrier.wait()
        return out


class MemoryStore:
    """The part of a ``torch.distributed.Store`` the ASHA work queue uses (``add``, ``set``,
    ``check``, ``get``), in memory and thread-safe: ranks simulated by threads share one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, bytes] = {}

    def add(self, key: str, amount: int) -> int:
        with self._lock:
            value = int(self._values.get(key, b"0")) + amount
            self._values[key] = str(value).encode()
            return value

    def set(self, key: str, value: bytes) -> None:
        with self._lock:
            self._values[key] = bytes(value)

    def check(self, keys: list[str]) -> bool:
        with self._lock:
            return all(key in self._values for key in keys)

    def get(self, key: str) -> bytes:
        with self._lock:
            return self._values[key]
