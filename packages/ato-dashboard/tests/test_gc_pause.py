"""The collector pause around JSON requests: off inside, back as it was after, also when
requests overlap or fail."""

from __future__ import annotations

import gc
import threading

import pytest

from ato.dashboard.gc_pause import collection_paused


@pytest.fixture(autouse=True)
def _restore_gc():  # type: ignore[no-untyped-def]
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_paused_inside_and_enabled_again_after_even_when_the_block_fails():
    gc.enable()
    with collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(KeyError), collection_paused():
        raise KeyError("boom")
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled():
    gc.disable()
    with collection_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_overlapping_requests_resume_the_collector_only_when_the_last_one_leaves():
    gc.enable()
    inside, leave = threading.Event(), threading.Event()

    def slow_request() -> None:
        with collection_paused():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=slow_request)
    thread.start()
    assert inside.wait(10)
    with collection_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()  # the slow request is still running
    leave.set()
    thread.join(10)
    assert gc.isenabled()
