"""Config parameters as run tables show them: which dotted keys are ato's own bookkeeping.

A run's config holds, besides the user's parameters, the tracker's settings (``experiment.*``:
project name, database URL) and the keys a search sets on each trial (``__budget__``,
``__num_halved__``, ``__trial_id__``...). Tables of runs (``ato runs list``/``compare``, the
dashboard) leave those out of the parameter columns they choose by themselves.
"""

from __future__ import annotations


def is_bookkeeping(key: str) -> bool:
    """Whether the dotted config ``key`` is ato's bookkeeping rather than a parameter: under
    ``experiment`` or with a part starting with ``__`` (``'__budget__'``,
    ``'model.__rung__'``)."""
    return key.startswith("experiment.") or any(part.startswith("__") for part in key.split("."))
