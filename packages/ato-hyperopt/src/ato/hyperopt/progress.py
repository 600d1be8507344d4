"""Progress reporting: one log line per round, a tqdm bar on an interactive terminal, and,
when stdout is not a terminal (a batch job, ``nohup``, a pipe) or tqdm is not installed, one
printed line per finished rung and one when the search ends, so a log file (or a terminal
without tqdm) shows how far a search got."""

from __future__ import annotations

import logging
import sys
from typing import Any

logger = logging.getLogger("ato.hyperopt")


class RoundProgress:
    """Reports trials finished in a round and the best metric so far.

    Args:
        enabled: ``True`` always shows a bar (if tqdm is installed), ``False`` never,
            ``None`` shows one only when stderr is a terminal. Log lines (logger
            ``ato.hyperopt``, level INFO) are emitted whenever ``enabled`` is not ``False``,
            and printed to stdout as well when stdout is not a terminal or tqdm is missing.
    """

    def __init__(self, enabled: bool | None) -> None:
        self._enabled = enabled is not False
        self._want_bar = enabled is True or (enabled is None and _is_tty(sys.stderr))
        self._print = self._enabled and (not _is_tty(sys.stdout) or _tqdm() is None)
        self._bar: Any = None

    def say(self, text: str) -> None:
        """Print ``ato.hyperopt: <text>`` to stdout when stdout is not a terminal or tqdm is
        not installed."""
        if self._print:
            print(f"ato.hyperopt: {text}", flush=True)

    def start_round(self, rung: int, num_rounds: int, num_trials: int) -> None:
        """Open a bar for round ``rung`` (0-based) of ``num_trials`` trials, if wanted."""
        tqdm = _tqdm() if self._want_bar else None
        if tqdm is not None:
            self._bar = tqdm(total=num_trials, desc=_label(rung, num_rounds), leave=False)

    def trial_done(self, count: int = 1) -> None:
        """Advance the bar by ``count`` trials (capped at the round size)."""
        if self._bar is not None:
            self._bar.update(min(count, self._bar.total - self._bar.n))

    def close(self) -> None:
        """Close the bar of the current round, if one is open (safe to call twice)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def end_round(
        self,
        rung: int,
        num_rounds: int,
        num_trials: int,
        num_failed: int,
        best: str,
        where: str | None = None,
    ) -> None:
        """Close the round's bar and log one INFO line (printed too, see `say`): the round
        (``where``, e.g. its bracket and rung, else ``round k/N``), trials evaluated, failures,
        and ``best`` (a description of the leading config)."""
        self.close()
        if self._enabled:
            failed = f", {num_failed} failed" if num_failed else ""
            trials = "1 trial" if num_trials == 1 else f"{num_trials} trials"
            text = (
                f"{where or _label(rung, num_rounds)}: {trials} evaluated"
                f"{failed}; best so far: {best}"
            )
            logger.info("%s", text)
            self.say(text)


def _label(rung: int, num_rounds: int) -> str:
    """``round k/N``, or ``round k`` when the number of rounds is not known (0)."""
    if num_rounds:
        return f"round {rung + 1}/{num_rounds}"
    return f"round {rung + 1}"


def _tqdm() -> Any:
    """``tqdm.auto.tqdm``, or None when tqdm is not installed."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
