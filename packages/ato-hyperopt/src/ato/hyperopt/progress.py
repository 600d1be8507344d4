"""Progress reporting: one log line per round, plus a tqdm bar on an interactive terminal."""

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
            ``ato.hyperopt``, level INFO) are emitted whenever ``enabled`` is not ``False``.
    """

    def __init__(self, enabled: bool | None) -> None:
        self._enabled = enabled is not False
        self._want_bar = enabled is True or (enabled is None and _stderr_is_tty())
        self._bar: Any = None

    def start_round(self, round_index: int, num_rounds: int, num_trials: int) -> None:
        """Open a bar for round ``round_index`` (0-based) of ``num_trials`` trials, if wanted."""
        if not self._want_bar:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        self._bar = tqdm(total=num_trials, desc=_label(round_index, num_rounds), leave=False)

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
        self, round_index: int, num_rounds: int, num_trials: int, num_failed: int, best: str
    ) -> None:
        """Close the round's bar and log one INFO line: trials evaluated, failures, and
        ``best`` (a description of the leading config)."""
        self.close()
        if self._enabled:
            failed = f", {num_failed} failed" if num_failed else ""
            logger.info(
                "%s: %d trials evaluated%s; best so far: %s",
                _label(round_index, num_rounds),
                num_trials,
                failed,
                best,
            )


def _label(round_index: int, num_rounds: int) -> str:
    """``round k/N``, or ``round k`` when the number of rounds is not known (0)."""
    if num_rounds:
        return f"round {round_index + 1}/{num_rounds}"
    return f"round {round_index + 1}"


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
