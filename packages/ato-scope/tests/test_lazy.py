"""Lazy views and ``with Scope.lazy():`` blocks run after the command-line overrides."""

from __future__ import annotations

import pytest

from ato.scope import LazyBlockError, Scope


def test_lazy_view_sees_cli_values() -> None:
    scope = Scope()

    @scope.observe()
    def base_config(config):
        config.model = "resnet50"
        config.dataset = "imagenet"

    @scope.observe(lazy=True)
    def computed_config(config):
        if config.dataset == "imagenet":
            config.num_classes = 1000
        elif config.dataset == "cifar10":
            config.num_classes = 10

    assert scope.build(["base_config", "computed_config"]).num_classes == 1000
    config = scope.build(["base_config", "dataset=%cifar10%", "computed_config"])
    assert config.num_classes == 10
    assert scope.applied_views == ["base_config", "(CLI Inputs)", "computed_config"]


def test_lazy_views_order_by_priority() -> None:
    scope = Scope()

    @scope.observe(lazy=True, default=True, priority=5)
    def late(config):
        config.trail = [*config.trail, "late"]

    @scope.observe(lazy=True, default=True, priority=1)
    def early(config):
        config.trail = ["early"]

    assert scope.build([]).trail == ["early", "late"]


def _block_scope() -> Scope:
    scope = Scope()

    @scope.observe(default=True)
    def my_config(config):
        config.model = "resnet50"
        config.num_layers = 50
        config.lr = 0.1
        factor = 2
        with Scope.lazy():
            if config.model == "resnet101":
                config.num_layers = 101
            config.lr = config.lr * factor
        config.after_block = config.num_layers

    return scope


def test_lazy_block_is_deferred_and_sees_cli() -> None:
    config = _block_scope().build(["model=%resnet101%"])
    assert config.num_layers == 101
    assert config.after_block == 50  # the rest of the view ran before the CLI, skipping the block


def test_lazy_block_runs_exactly_once() -> None:
    assert _block_scope().build([]).lr == 0.2
    assert _block_scope().build(["lr=1"]).lr == 2


def test_lazy_block_outside_a_build_runs_inline() -> None:
    ran = []
    with Scope.lazy():
        ran.append(1)
    assert ran == [1]


def test_lazy_block_provenance_points_at_block() -> None:
    scope = _block_scope()
    scope.build(["model=%resnet101%"])
    writes = scope.provenance["num_layers"]
    assert [w.value for w in writes] == [50, 101]
    assert writes[-1].source.kind == "lazy" and writes[-1].source.label == "my_config"
    assert "test_lazy.py:" in writes[-1].source.where


def test_exception_in_lazy_block_has_original_line() -> None:
    scope = Scope()

    @scope.observe(default=True)
    def broken(config):
        config.x = 1
        with Scope.lazy():
            raise RuntimeError("boom in block")

    with pytest.raises(RuntimeError, match="boom in block") as info:
        scope.build([])
    assert info.traceback[-1].path.name == "test_lazy.py"


def test_one_line_lazy_block_is_rejected_clearly() -> None:
    scope = Scope()

    @scope.observe(default=True)
    def oneliner(config):
        # fmt: off
        with Scope.lazy(): config.x = 1  # noqa: E701
        # fmt: on

    with pytest.raises(LazyBlockError, match="own lines"):
        scope.build([])


def test_block_whose_body_catches_exception_is_still_deferred() -> None:
    scope = Scope()
    runs = []

    @scope.observe(default=True)
    def guarded(config):
        config.x = 1
        with Scope.lazy():
            try:
                runs.append(config.x)
            except Exception:  # must not swallow the internal skip signal
                runs.append("caught")

    scope.build(["x=5"])
    assert runs == [5]


def test_block_inside_a_loop_captures_each_iteration() -> None:
    scope = Scope()

    @scope.observe(default=True)
    def loop(config):
        config.n = 3
        for i in range(2):
            with Scope.lazy():
                config[f"x{i}"] = i * config.n

    assert scope.build(["n=10"]).to_dict() == {"n": 10, "x0": 0, "x1": 10}


def test_break_out_of_a_block_is_rejected() -> None:
    scope = Scope()

    @scope.observe(default=True)
    def looping(config):
        for _ in range(1):
            with Scope.lazy():
                break
        config.x = 1

    with pytest.raises(LazyBlockError, match=r"test_lazy.py:\d+: .*'break' outside loop"):
        scope.build([])


def test_yield_in_a_block_is_rejected() -> None:
    scope = Scope()

    def generator_view(config):
        config.x = 1
        with Scope.lazy():
            yield

    scope.observe("gen", default=True)(lambda config: list(generator_view(config)))
    with pytest.raises(LazyBlockError, match=r"test_lazy.py:\d+: .*cannot contain 'yield'"):
        scope.build([])


def _tracing_scope() -> Scope:
    scope = Scope()

    @scope.observe(default=True)
    def traced_view(config):
        config.a = 1
        with Scope.lazy():
            config.b = config.a * 2
        config.c = 3

    return scope


def test_previous_trace_function_is_restored_and_keeps_tracing() -> None:
    """A debugger's or coverage's Python tracer survives a skipped block."""
    import sys

    scope = _tracing_scope()
    lines: list[str] = []

    def tracer(frame, event, arg):
        if frame.f_code.co_name not in ("traced_view", "__ato_lazy_block__"):
            return None
        if event == "line":
            import linecache

            lines.append(linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip())
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        config = scope.build(["a=10"])
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(previous)
    assert config.to_dict() == {"a": 10, "c": 3, "b": 20}
    assert "config.c = 3" in lines  # traced after the skipped block
    assert lines.count("config.b = config.a * 2") == 1  # only the replay, never the skip


_AUDIT = {"installed": False, "on": False}


def _audit(event: str, args: tuple) -> None:
    if _AUDIT["on"] and event == "sys.settrace":
        sum(range(20))  # Python code inside sys.settrace: the GIL may change hands here


@pytest.fixture
def thread_switches_everywhere():
    """Make the races of CPython 3.10/3.11 likely: the GIL changes hands after 1 µs; every
    young garbage collection (one per few allocations) runs Python code, so another thread can
    run while one is inside ``ast.parse`` building its syntax tree (gh-106905); and an audit
    hook runs Python code inside every ``sys.settrace`` call. Audit hooks cannot be removed,
    so this one does nothing outside the fixture."""
    import gc
    import sys

    if not _AUDIT["installed"]:
        sys.addaudithook(_audit)
        _AUDIT["installed"] = True
    interval, thresholds = sys.getswitchinterval(), gc.get_threshold()

    def busy(phase: str, info: dict) -> None:
        sum(range(20))

    sys.setswitchinterval(1e-6)
    gc.set_threshold(5, 1000, 1000)  # young collections only: full ones are slow
    gc.callbacks.append(busy)
    _AUDIT["on"] = True
    try:
        yield
    finally:
        _AUDIT["on"] = False
        gc.callbacks.remove(busy)
        gc.set_threshold(*thresholds)
        sys.setswitchinterval(interval)


def test_builds_in_parallel_threads_do_not_interfere(monkeypatch, thread_switches_everywhere):
    """200 rounds of 4 threads building at once (lazy blocks parsed anew each round, command-line
    values with nested literals). Unguarded, CPython 3.11 raised ``SystemError('AST constructor
    recursion depth mismatch')`` in ``ast.parse`` (gh-106905), and 3.10/3.11 raised
    ``RuntimeError('Cannot install a trace function while another trace function is being
    installed')`` when two lazy blocks were skipped at once."""
    import threading

    from ato.scope import lazy

    scope = _tracing_scope()
    wrong: list[tuple[int, dict]] = []

    def worker(offset: int) -> None:
        for j in range(5):
            value = offset + j
            argv = [f"a={value}", f"+nested=[[{value}, {{'k': ({value}, [1, 2])}}], [[3]]]"]
            try:
                config = scope.build(argv).to_dict()
            except BaseException as exc:  # a thread's exception would otherwise be lost
                config = {"error": repr(exc)}
            nested = [[value, {"k": (value, [1, 2])}], [[3]]]
            if config != {"a": value, "c": 3, "b": 2 * value, "nested": nested}:
                wrong.append((value, config))

    for round_ in range(200):
        monkeypatch.setattr(lazy, "_withs", {})  # make the threads parse the file concurrently
        monkeypatch.setattr(lazy, "_compiled", {})
        threads = [threading.Thread(target=worker, args=(i * 1000,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert wrong == [], f"round {round_}: {wrong[:3]}"


BODY_FORMS = {
    "try_except": "try:\n    runs.append(config.x)\nexcept Exception:\n    runs.append('caught')",
    "try_finally": "try:\n    runs.append(config.x)\nfinally:\n    pass",
    "for": "for _ in range(1):\n    runs.append(config.x)",
    "while": "while True:\n    runs.append(config.x)\n    break",
    "if": "if True:\n    runs.append(config.x)",
    "with": "with open(os.devnull):\n    runs.append(config.x)",
    "pass_first": "pass\nruns.append(config.x)",
    "constant_first": "'text'\nruns.append(config.x)",
    "nested_lazy": "with Scope.lazy():\n    runs.append(config.x)",
    "match": "match config.x:\n    case _:\n        runs.append(config.x)",
    "def_first": "def f():\n    return config.x\nruns.append(f())",
    "import_first": "import json\nruns.append(config.x)",
    "global_first": "global COUNT\nruns.append(config.x)",
    "del_first": "del helper\nruns.append(config.x)",
}


@pytest.mark.parametrize("form", sorted(BODY_FORMS))
def test_every_kind_of_first_statement_is_deferred(form: str, tmp_path, monkeypatch) -> None:
    """The skip must hold whatever the body starts with (CPython lays out each differently)."""
    import importlib.util
    import textwrap

    body = textwrap.indent(BODY_FORMS[form], " " * 8)
    path = tmp_path / f"views_{form}.py"
    path.write_text(
        "import os\nfrom ato.scope import Scope\nruns = []\nCOUNT = 0\n\n\n"
        f"def view(config):\n    config.x = 1\n    helper = 1\n    with Scope.lazy():\n{body}\n"
        "    config.after = 1\n",
        encoding="utf-8",
    )
    spec = importlib.util.spec_from_file_location(f"views_{form}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    scope = Scope()
    scope.observe("view", default=True)(module.view)
    config = scope.build(["x=5"])
    assert module.runs == [5]
    assert config.to_dict() == {"x": 5, "after": 1}
