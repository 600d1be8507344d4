"""The answer of a hyperparameter search, read back from its trials' runs.

One rule, shared by ``ato runs best --search``, the dashboard's search page and ato-hyperopt's
own result: **the answer is the best completed evaluation at the largest budget that any
completed evaluation reached**; ties go to the earlier trial (lower ``trial_id``, then lower
run id). An evaluation is *completed* when its run's status is ``completed`` and its ranked
value is finite: failed, killed, crashed, timed-out or NaN evaluations are never the answer,
and a search without a completed evaluation has no answer (`SearchAnswer.run_id` is
``None`` and `SearchAnswer.reason` says why). For ASHA the budget is that of the rung.

Two layouts of runs are read (the tags are parsed by `ato.tracker.search_runs`, which owns
the search-run contract):

- **contract** (ato-hyperopt with ``bracket:`` / ``mode:`` tags): each evaluation is a run
  tagged ``search:<id>``, ``trial:<n>``, ``rung:<k>``, ``budget:<b>``, ``bracket:<i>``,
  ``mode:max|min`` and ``metric_key:<key>``; the value ranked is the one logged under
  ``search/<key>``. The run holding the answer carries the ``final`` tag, which is shown but
  not needed: the rule decides.
- **older searches** (no ``bracket:``/``mode:`` tags): the value is the one logged under the
  metric key itself (given, or guessed: the key most trials logged once at the step of their
  round); the budget is the ``budget:`` tag, else the config's ``__budget__``, else the
  round. Their ``final`` run (a re-evaluation of the best configuration) is the answer when
  it completed with a finite value; otherwise the rule above picks one.
"""

from .read import answers as _rule
from .read.answers import *  # noqa: F403 - every public name of the rule

__all__ = _rule.__all__
