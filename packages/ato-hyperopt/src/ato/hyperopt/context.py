"""The running trial's context: budget, rung, stable trial id and checkpoint directory.

Inside a trial function, [`trial_context()`][ato.hyperopt.trial_context] returns a
[`TrialContext`][ato.hyperopt.context.TrialContext]. A promoted trial finds its previous
checkpoint in ``checkpoint_dir`` and trains only ``budget - previous_budget`` more units::

    ctx = trial_context()
    state = load(ctx.checkpoint_dir / "model.pt") if ctx.previous_budget else init()
    train(state, epochs=ctx.budget - (ctx.previous_budget or 0))
    save(state, ctx.checkpoint_dir / "model.pt")
"""

from __future__ import annotations

import contextvars
import pathlib
from dataclasses import dataclass
from typing import Any

from .errors import OutsideTrialError

_CONTEXT: contextvars.ContextVar[TrialContext | None] = contextvars.ContextVar(
    "ato_hyperopt_trial", default=None
)


@dataclass(frozen=True)
class TrialContext:
    """Where a trial stands.

    Attributes:
        search_id: id of the search.
        trial_id: the configuration's id, stable across rungs (0, 1, 2, ... in sampling order).
        rung: rung index (``config.__num_halved__``); with ``final_evaluation=True`` the extra
            evaluation of the answer is one rung above
            the rung its trial reached.
        budget: budget of this evaluation (``config.__budget__``; None when the schedule has
            no budgets).
        previous_budget: budget the trial had reached on its previous rung (None on its first).
        bracket: Hyperband bracket ``s`` (0 for other schedules).
        is_answer: True for the extra evaluation of the answer's trial that
            ``final_evaluation=True`` asks for (never otherwise: no evaluation is run only to
            produce the answer).
        search_dir: folder of the search (``<checkpoint_root>/<search_id>``).
    """

    search_id: str
    trial_id: int
    rung: int
    budget: Any
    previous_budget: Any
    bracket: int
    is_answer: bool
    search_dir: pathlib.Path

    @property
    def checkpoint_dir(self) -> pathlib.Path:
        """``<search_dir>/trial-<trial_id>``, created on first access; the same folder on every
        rung of the trial (and on every rank of a distributed search with a shared disk)."""
        path = self.search_dir / f"trial-{self.trial_id}"
        path.mkdir(parents=True, exist_ok=True)
        return path


def trial_context() -> TrialContext:
    """The context of the trial running in this thread.

    Raises:
        OutsideTrialError: called outside a trial function run by a search.
    """
    context = _CONTEXT.get()
    if context is None:
        raise OutsideTrialError(
            "trial_context() was called outside a trial; call it inside the function "
            "decorated with search.main while the search runs it"
        )
    return context


def set_context(context: TrialContext | None) -> contextvars.Token[TrialContext | None]:
    """Make ``context`` current (the search does this around each trial)."""
    return _CONTEXT.set(context)


def reset_context(token: contextvars.Token[TrialContext | None]) -> None:
    """Restore the context that was current before ``set_context``."""
    _CONTEXT.reset(token)
