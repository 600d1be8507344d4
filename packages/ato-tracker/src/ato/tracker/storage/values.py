"""Metric values as stored: a ``value`` column plus a ``value_class`` telling NaN and +-inf apart.

MariaDB cannot store NaN or infinities in a ``DOUBLE`` and PostgreSQL and SQLite treat NaN
differently in comparisons, so a logged value is stored as a pair ``(value, value_class)``:

=============  ==============  ============================================
logged         ``value``       ``value_class``
=============  ==============  ============================================
finite ``x``   ``x``           `FINITE` (0)
NaN            NULL            `NAN` (1)
+inf           ``+DBL_MAX``    `POS_INF` (2)
-inf           ``-DBL_MAX``    `NEG_INF` (3)
=============  ==============  ============================================

``SQL MAX/MIN/ORDER BY value`` then rank +inf above and -inf below every finite value and skip
NaN, which is the order ato.hyperopt ranks trial results in (NaN last, infinities by value).
`load_value` turns a stored pair back into the exact float.
"""

from __future__ import annotations

import sys

FINITE = 0
NAN = 1
POS_INF = 2
NEG_INF = 3

DBL_MAX = sys.float_info.max
_INF = float("inf")
_NAN = float("nan")


def store_value(value: float) -> tuple[float | None, int]:
    """``(value column, value_class)`` for a logged float (see the module table)."""
    if value - value == 0:  # finite: the common case, one subtraction
        return value, FINITE
    if value != value:
        return None, NAN
    return (DBL_MAX, POS_INF) if value > 0 else (-DBL_MAX, NEG_INF)


def load_value(value: float | None, value_class: int | None) -> float:
    """The logged float back from a stored ``(value, value_class)`` pair.

    Rows written before ``value_class`` existed hold NULL for every non-finite value; they
    read back as NaN.
    """
    if value_class == POS_INF:
        return _INF
    if value_class == NEG_INF:
        return -_INF
    if value is None or value_class == NAN:
        return _NAN
    return value
