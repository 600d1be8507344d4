"""The top-level keys a search writes into trial configs and result logs.

Trials read them as attributes (``config.__num_halved__``, ``entry.__metric__``): importing
this module registers them with ato-adict (``ato.adict.core.register_attribute_keys``), which
otherwise treats every ``__x__`` name as a Python protocol name. ato-adict itself knows nothing
about searches.

- ``__num_halved__``: the rung of the evaluation (the seed's name: rounds survived).
- ``__budget__``, ``__trial_id__``: the evaluation's budget and its trial's id
  ([`Search`][ato.hyperopt.Search]; the ``HyperBand`` presets do not set them).
- ``__metric__``, ``__error__``, ``__run_id__``: in the result's ``logs``, what the trial
  returned, why it failed, and its tracker run.
"""

from __future__ import annotations

from ato.adict.core import register_attribute_keys

__all__ = ["BUDGET", "ERROR", "METRIC", "NUM_HALVED", "RUN_ID", "RUN_KEYS", "TRIAL_ID"]

NUM_HALVED = "__num_halved__"
BUDGET = "__budget__"
TRIAL_ID = "__trial_id__"
METRIC = "__metric__"
ERROR = "__error__"
RUN_ID = "__run_id__"

#: Every key a search writes into configs and log entries.
RUN_KEYS = frozenset({NUM_HALVED, BUDGET, TRIAL_ID, METRIC, ERROR, RUN_ID})

register_attribute_keys(RUN_KEYS)
