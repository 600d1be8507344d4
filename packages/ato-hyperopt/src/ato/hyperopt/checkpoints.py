"""Where trial checkpoints live and when they are deleted.

A trial that saves state writes it to
[`trial_context().checkpoint_dir`][ato.hyperopt.TrialContext.checkpoint_dir]:
``<checkpoint_root>/<search_id>/trial-<trial_id>/`` (``checkpoint_root`` defaults to
``searches`` in the working directory). When a search ends with an answer, it keeps the
folders of the ``keep_checkpoints`` best trials (ranked by the answer rule, so the answer's
trial first; see `ato.hyperopt.answer`) and deletes the other ``trial-*`` folders.
An interrupted or failed search deletes nothing, so it can be resumed.
[`remove_old_searches`][ato.hyperopt.remove_old_searches] deletes whole search folders
that have not changed for a while.
"""

from __future__ import annotations

import math
import pathlib
import shutil
import time
from typing import Any

from .errors import SearchSettingError
from .lock import is_locked

__all__ = ["KEEP_ALL", "check_keep", "prune_checkpoints", "remove_old_searches", "trial_dir"]

#: ``keep_checkpoints=KEEP_ALL`` keeps every trial's folder.
KEEP_ALL = "all"
_PREFIX = "trial-"


def trial_dir(search_dir: pathlib.Path, trial_id: int) -> pathlib.Path:
    """``<search_dir>/trial-<trial_id>``."""
    return search_dir / f"{_PREFIX}{trial_id}"


def check_keep(value: Any) -> int | None:
    """``keep_checkpoints`` as a count, or None for ``"all"``.

    Raises:
        SearchSettingError: not an int >= 0 nor ``"all"``.
    """
    if value == KEEP_ALL:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SearchSettingError(
            f"keep_checkpoints must be an int >= 0 (how many of the best trials keep their "
            f"checkpoint folder) or 'all', got {value!r}"
        )
    return value


def prune_checkpoints(
    search_dir: pathlib.Path, ranked_trials: list[int], keep: int | None
) -> list[pathlib.Path]:
    """Delete the ``trial-<id>`` folders of ``search_dir`` except those of the first ``keep``
    trials of ``ranked_trials`` (best first); ``keep=None`` deletes nothing. Folders that
    vanish meanwhile (another rank on a shared disk), or ``search_dir`` itself, are skipped.

    Returns:
        The folders deleted.
    """
    if keep is None:
        return []
    try:  # the folder itself may vanish meanwhile: another rank released the search's lock
        folders = sorted(search_dir.glob(f"{_PREFIX}*"))
    except FileNotFoundError:
        return []
    kept = {trial_dir(search_dir, t).name for t in ranked_trials[:keep]}
    removed = []
    for folder in folders:
        if folder.is_dir() and folder.name not in kept:
            _remove(folder)
            removed.append(folder)
    return removed


def remove_old_searches(
    checkpoint_root: str | pathlib.Path = "searches",
    *,
    older_than_days: float,
    dry_run: bool = False,
) -> list[pathlib.Path]:
    """Delete the folders of searches under ``checkpoint_root`` in which no file changed for
    ``older_than_days`` days. A search running now (holding its lock) is never deleted.

    Args:
        checkpoint_root: the ``checkpoint_root`` the searches used (default ``"searches"``).
        older_than_days: age in days (float >= 0) of the newest file of a search folder
            above which the folder is deleted; 0 deletes every finished search's folder.
        dry_run: only list what would be deleted.

    Returns:
        The search folders deleted (or that would be, with ``dry_run``), sorted.

    Raises:
        SearchSettingError: ``older_than_days`` is not a finite number >= 0.
    """
    if (
        isinstance(older_than_days, bool)
        or not isinstance(older_than_days, (int, float))
        or not 0 <= older_than_days < math.inf
    ):
        raise SearchSettingError(
            f"older_than_days must be a finite number of days >= 0, got {older_than_days!r}"
        )
    root = pathlib.Path(checkpoint_root)
    if not root.is_dir():
        return []
    cutoff = time.time() - older_than_days * 86400
    old = [
        folder
        for folder in sorted(root.iterdir())
        if folder.is_dir() and not is_locked(folder) and _newest_change(folder) <= cutoff
    ]
    if not dry_run:
        for folder in old:
            _remove(folder)
    return old


def _newest_change(folder: pathlib.Path) -> float:
    newest = folder.stat().st_mtime
    for path in folder.rglob("*"):
        try:
            newest = max(newest, path.stat().st_mtime)
        except FileNotFoundError:
            continue
    return newest


def _remove(folder: pathlib.Path) -> None:
    """``rmtree`` that tolerates files another process deletes meanwhile."""
    while folder.exists():
        try:
            shutil.rmtree(folder)
        except FileNotFoundError:
            continue
