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
    from math import pi, tau
    table = {"b": 1, "a": 2}
    return x * 2  # double
'''

SAME = """
def forward(x):
    # reordered imports, no docstring, other dict order, other spacing
    import json
    from math import tau, pi
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
    BASE.replace("import json", "import pickle"),
    BASE.replace("x * 2", "x * 2.0"),
    BASE.replace("    table", "    x = abs(x)\n    table"),
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


def test_trace_id_defaults_to_qualname() -> None:
    scope = Scope()

    @scope.trace()
    def f(x):
        return x

    assert list(scope.fingerprints) == [f.__qualname__]


TRACED_A = """
from ato.scope import Scope

scope = Scope()


@scope.trace(trace_id="step")
def step(batch, lr):
    import math
    import json

    scale = {"b": 2, "a": 1}  # weights
    return math.fsum(batch) * lr * scale["a"]
"""

TRACED_B = """
from ato.scope import Scope
scope = Scope()
def unrelated():
    pass
@scope.trace(trace_id="step")
@staticmethod
def step(batch, lr):
    '''Docstring added later.'''
    import json
    import math
    scale = {
        "a": 1,
        "b": 2,
    }
    return math.fsum( batch )*lr*scale["a"]
"""


def _fingerprint_of(tmp_path, name: str, source: str) -> Fingerprint:
    import importlib.util

    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.scope.fingerprints["step"]


def test_trace_of_real_files_ignores_cosmetics_and_sees_changes(tmp_path) -> None:
    """Moved, re-decorated, re-formatted, commented code keeps its fingerprint."""
    a = _fingerprint_of(tmp_path, "traced_a", TRACED_A)
    assert a == _fingerprint_of(tmp_path, "traced_b", TRACED_B)
    changed = TRACED_A.replace("* lr *", "/ lr *")
    assert _fingerprint_of(tmp_path, "traced_c", changed).digest != a.digest


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
