"""What a search returns: an ADict whose ``repr`` is one short line."""

from __future__ import annotations

from typing import Any

from ato.adict import ADict

__all__ = ["SearchResult"]


class SearchResult(ADict):
    """The ADict a search returns (``config``, ``metric``, ``logs``, ``search_id``, ``run_id``,
    and for [`Search`][ato.hyperopt.Search] ``trial_id``, ``budget``, ``timed_out``).
    ``repr()`` names the answer, its metric and budget, and counts the evaluations instead of
    printing every log entry; the keys are those of a plain ADict."""

    def __repr__(self) -> str:
        config: Any = dict.get(self, "config") or {}
        entries = [entry for log in dict.get(self, "logs") or [] for entry in log]
        failed = sum("__error__" in entry for entry in entries)
        trial = dict.get(self, "trial_id", config.get("__trial_id__"))
        budget = dict.get(self, "budget", config.get("__budget__"))
        where = f"budget {budget}" if budget is not None else f"rung {config.get('__num_halved__')}"
        answer = f"trial {trial} at {where}" if trial is not None else where
        metric = dict.get(self, "metric")
        shown = f"{metric:.6g}" if isinstance(metric, float) else repr(metric)
        return (
            f"SearchResult(search_id={dict.get(self, 'search_id')!r}, answer: {answer}, "
            f"metric={shown}, run_id={dict.get(self, 'run_id')!r}, "
            f"{len(entries)} evaluations, {failed} failed)"
        )
