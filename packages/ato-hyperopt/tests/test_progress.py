from __future__ import annotations

import logging
import sys
import types

import pytest
import tqdm  # noqa: F401 - the real-bar test needs tqdm installed (noxfile TEST_PEERS)
from helpers import FakeStream

from ato.adict import ADict
from ato.hyperopt import HyperBand

X = dict(param_type="INTEGER", param_range=(0, 7), num_samples=8)


def test_one_log_line_per_round(caplog) -> None:
    caplog.set_level(logging.INFO, logger="ato.hyperopt")
    hb = HyperBand(ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2)
    hb.main(lambda config: 1 / (config.x - 3) if config.x != 3 else config.undefined)()
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name == "ato.hyperopt" and r.levelno == logging.INFO
    ]
    assert len(lines) == hb.num_generations() == 4
    assert lines[0].startswith("round 1/4: 8 trials evaluated, 1 failed; best so far: metric=1 ")
    assert "{'x': 4}" in lines[0]
    assert lines[-1].startswith("round 4/4: 1 trial evaluated;")  # singular


def test_progress_false_is_silent(caplog) -> None:
    caplog.set_level(logging.INFO, logger="ato.hyperopt")
    hb = HyperBand(ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2, progress=False)
    hb.main(lambda config: config.x)()
    assert not [r for r in caplog.records if r.levelno == logging.INFO]


@pytest.mark.parametrize(("is_tty", "expected_bars"), [(False, 0), (True, 4)])
def test_default_bar_only_on_a_terminal(monkeypatch, is_tty: bool, expected_bars: int) -> None:
    bars = _install_fake_tqdm(monkeypatch)
    monkeypatch.setattr(sys, "stderr", FakeStream(is_tty))
    hb = HyperBand(ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2)
    hb.main(lambda config: config.x)()
    assert len(bars) == expected_bars
    assert all(bar.closed and bar.n == bar.total for bar in bars)


def test_progress_true_shows_a_tqdm_bar_per_round(capsys) -> None:
    hb = HyperBand(ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2, progress=True)
    hb.main(lambda config: config.x)()
    err = capsys.readouterr().err
    assert "round 1/4" in err and "round 4/4" in err and "0/8" in err


def _install_fake_tqdm(monkeypatch) -> list:
    """Replace tqdm with a recorder; returns the list of bars created."""
    bars: list = []

    class RecordingBar:
        def __init__(self, total, desc, leave):
            self.total, self.n, self.closed = total, 0, False
            bars.append(self)

        def update(self, count):
            self.n += count

        def close(self):
            self.closed = True

    fake = types.ModuleType("tqdm")
    fake.auto = types.ModuleType("tqdm.auto")  # type: ignore[attr-defined]
    fake.auto.tqdm = RecordingBar  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tqdm", fake)
    monkeypatch.setitem(sys.modules, "tqdm.auto", fake.auto)
    return bars


def test_bar_is_closed_when_the_search_raises(monkeypatch) -> None:
    bars = _install_fake_tqdm(monkeypatch)
    hb = HyperBand(
        ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2, progress=True, on_error="raise"
    )
    with pytest.raises(ZeroDivisionError):
        hb.main(lambda config: 1 / (config.x - 2))()
    assert len(bars) == 1 and bars[0].closed and bars[0].n == 3


@pytest.mark.parametrize(("progress", "stderr_tty"), [(None, True), (None, False), (True, True)])
def test_on_a_terminal_without_tqdm_each_round_and_the_end_print_a_line(
    monkeypatch, progress: bool | None, stderr_tty: bool
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm raises ImportError
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    stdout = FakeStream(True)
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", FakeStream(stderr_tty))
    hb = HyperBand(ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2, progress=progress)
    hb.main(lambda config: config.x)()
    lines = stdout.text.splitlines()
    assert [line.split(":")[1].strip() for line in lines[:4]] == [
        f"round {k}/4" for k in range(1, 5)
    ]
    assert "8 trials evaluated" in lines[0] and "1 trial evaluated;" in lines[3]
    assert len(lines) == 5 and " done: " in lines[-1]
    assert all(line.startswith("ato.hyperopt: ") for line in lines)
