"""The stored form of a metric value, ``(value, value_class)`` (see ``ato.tracker.storage.values``):
every logged float maps to its documented pair and reads back as itself, and rows written
before ``value_class`` existed (NULL class) read back as the value, or NaN for NULL. These
are the pairs the PostgreSQL and MariaDB writers send; SQLite computes the same ones in SQL."""

from __future__ import annotations

import math
import sys

import pytest

from ato.tracker.storage.values import (
    DBL_MAX,
    FINITE,
    NAN,
    NEG_INF,
    POS_INF,
    load_value,
    store_value,
)

FINITE_VALUES = [0.0, -0.0, 1.5, -2.25, 5e-324, -5e-324, DBL_MAX, -DBL_MAX, 1e308]


def test_the_value_classes_are_the_documented_codes() -> None:
    # stored in the database: changing a code would misread every row written before
    assert (FINITE, NAN, POS_INF, NEG_INF) == (0, 1, 2, 3)
    assert sys.float_info.max == DBL_MAX


@pytest.mark.parametrize("value", FINITE_VALUES)
def test_a_finite_value_is_stored_as_itself_with_the_finite_class(value: float) -> None:
    stored = store_value(value)
    assert stored == (value, FINITE)
    assert math.copysign(1.0, stored[0]) == math.copysign(1.0, value)  # -0.0 keeps its sign
    assert type(stored[1]) is int


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (math.nan, (None, NAN)),
        (-math.nan, (None, NAN)),
        (math.inf, (DBL_MAX, POS_INF)),
        (-math.inf, (-DBL_MAX, NEG_INF)),
    ],
)
def test_nan_and_infinities_are_stored_as_their_stand_in_and_class(
    value: float, expected: tuple[float | None, int]
) -> None:
    assert store_value(value) == expected


@pytest.mark.parametrize("value", [*FINITE_VALUES, math.inf, -math.inf])
def test_every_stored_pair_reads_back_as_the_logged_value(value: float) -> None:
    back = load_value(*store_value(value))
    assert back == value and math.copysign(1.0, back) == math.copysign(1.0, value)


def test_nan_reads_back_as_nan() -> None:
    assert math.isnan(load_value(*store_value(math.nan)))


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ((DBL_MAX, POS_INF), math.inf),
        ((-DBL_MAX, NEG_INF), -math.inf),
        ((None, POS_INF), math.inf),  # the class alone decides, whatever the value column holds
        ((None, NEG_INF), -math.inf),
        ((DBL_MAX, FINITE), DBL_MAX),  # a finite DBL_MAX is not an infinity
        ((-DBL_MAX, FINITE), -DBL_MAX),
        ((2.5, None), 2.5),  # a row from before value_class existed
        ((0.0, None), 0.0),
        ((-1.0, FINITE), -1.0),
    ],
)
def test_a_stored_pair_reads_back_by_its_class(
    stored: tuple[float | None, int | None], expected: float
) -> None:
    assert load_value(*stored) == expected


@pytest.mark.parametrize("stored", [(None, None), (None, NAN), (None, FINITE), (3.0, NAN)])
def test_a_null_value_or_the_nan_class_reads_back_as_nan(
    stored: tuple[float | None, int | None],
) -> None:
    assert math.isnan(load_value(*stored))
