"""Static and runtime fingerprints."""

from __future__ import annotations

import pytest

from ato.scope import Fingerprint, Scope, TraceError
from ato.scope.fingerprint import normalized_dump, runtime_fingerprint

BASE = '''
def forward(x):
    """Doc."""
    import os
    import json
    table = {"b": 1, "a": 2}
    return x * 2  # double
'''

SAME = """
def forward(x):
    # reordered imports, no docstring, other dict order, other spacing
    import json
    import os
    table = {"a": 2,
             "b": 1}
    return x*2
"""

CHANGED = [
    BASE.replace("x * 2", "x * 3"),
    BASE.replace("return x", "return -x"),
    BASE.replace('"a": 2', '"a": 3'),
    BASE.replace("table", "tables"),
]


def test_normalization_ignores_cosmetics() -> None:
    assert normalized_dump(BASE) == normalized_dump(SAME)


@pytest.mark.parametrize("source", CHANGED)
def test_code_changes_change_the_dump(source: str) -> None:
    assert normalized_dump(source) != normalized_dump(BASE)


def test_trace_records_static_fingerprint() -> None:
    scope = Scope()

    @scope.trace(trace_id="model_forward")
    def forward(x):
        return x * 2

    assert forward(2) == 4
    kind, digest = scope.fingerprints["model_forward"]
    assert kind == "static" and len(digest) == 64
    assert isinstance(scope.fingerprints["model_forward"], Fingerprint)


def test_trace_id_defaults_to_qualname_and_decorators_are_ignored() -> None:
    a, b = Scope(), Scope()

    @a.trace()
    def f(x):
        return x

    @b.trace(trace_id="other")
    def f2(x):
        return x

    assert list(a.fingerprints) == [f.__qualname__]


def test_trace_without_source() -> None:
    with pytest.raises(TraceError, match="source"):
        Scope().trace()(len)


def test_runtime_trace_hashes_inspected_output() -> None:
    scope = Scope()
    calls = []

    @scope.runtime_trace(init_fn=lambda: calls.append("init"), inspect_fn=lambda out: out["y"])
    def step(x):
        return {"y": x, "noise": object()}

    step(1)
    first = scope.fingerprints[step.__qualname__]
    step(1)
    assert scope.fingerprints[step.__qualname__] == first and first.kind == "runtime"
    step(2)
    assert scope.fingerprints[step.__qualname__] != first
    assert calls == ["init"] * 3


def test_runtime_fingerprint_of_unpicklable_output_uses_repr() -> None:
    assert runtime_fingerprint(lambda: 0) != runtime_fingerprint([1])
    assert runtime_fingerprint([1, 2.5]) == runtime_fingerprint([1, 2.5])
