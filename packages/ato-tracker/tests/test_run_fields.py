"""``Run.config`` and ``Run.provenance``: ADicts built from the stored JSON when first read."""

from __future__ import annotations

import dataclasses
import pickle
import threading
from datetime import datetime, timezone

import pytest

from ato.adict import ADict
from ato.tracker.read.results import ADictField, Run

START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def _run(config, **more) -> Run:
    return Run(1, 1, "p", config, "h", [], "completed", START, None, **more)


def test_a_plain_config_reads_as_one_adict_built_on_first_read():
    source = {"model": {"lr": 0.1}, "layers": [{"w": 2}]}
    run = _run(source)
    assert vars(run)["_config_adict"] is None  # nothing built yet
    config = run.config
    assert type(config) is ADict and config.model.lr == 0.1 and config.layers[0].w == 2
    assert run.config is config  # kept: later reads return the same ADict
    config.extra = 1
    assert run.config.extra == 1
    assert source == {"model": {"lr": 0.1}, "layers": [{"w": 2}]}  # the source is not changed


def test_an_adict_or_another_mapping_is_returned_as_given():
    config = ADict(a=1)
    assert _run(config).config is config
    proxy = dataclasses.make_dataclass("P", [])()  # any non-dict value is the caller's
    assert _run(proxy).config is proxy


def test_provenance_defaults_to_an_empty_adict_per_run():
    first, second = _run({}), _run({})
    assert type(first.provenance) is ADict and first.provenance == {}
    assert first.provenance is not second.provenance
    assert _run({}, provenance=None).provenance == {}
    assert _run({}, provenance={"host": "h"}).provenance.host == "h"


def test_runs_compare_copy_and_pickle_by_their_adicts():
    run = _run({"a": {"b": 1}}, provenance={"pid": 3})
    same = _run(ADict(a=ADict(b=1)), provenance=ADict(pid=3))
    assert run == same and repr(run) == repr(same)
    assert dataclasses.replace(run, status="failed").config == {"a": {"b": 1}}
    assert dataclasses.asdict(run)["config"] == {"a": {"b": 1}}
    loaded = pickle.loads(pickle.dumps(run))
    assert loaded == run and type(loaded.config.a) is ADict
    assert _run({"a": 1}) != _run({"a": 2})


def test_the_fields_keep_their_dataclass_shape():
    fields = {f.name: f for f in dataclasses.fields(Run)}
    assert fields["config"].default is dataclasses.MISSING
    assert fields["provenance"].default_factory is ADict
    with pytest.raises(TypeError):
        Run(1, 1, "p")  # type: ignore[call-arg]  # config and the rest are required


def test_runs_stay_frozen():
    run = _run({"a": 1})
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.config = ADict()  # type: ignore[misc]
    assert isinstance(Run.config, ADictField) and isinstance(Run.provenance, ADictField)


def test_threads_reading_a_config_at_once_get_the_same_adict():
    runs = [_run({"k": {"v": i}}) for i in range(200)]
    barrier = threading.Barrier(4)
    seen: list[list[int]] = []

    def read() -> None:
        barrier.wait()
        seen.append([id(run.config) for run in runs])

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 4 and all(ids == seen[0] for ids in seen)
