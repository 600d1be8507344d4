from __future__ import annotations

import logging

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
    assert lines[0].startswith(
        "round 1/4: 8 trials evaluated, 1 failed; best of the round: metric=1 "
    )
    assert "{'x': 4}" in lines[0]
    assert lines[-1].startswith("round 4/4: 1 trials evaluated;")


def test_progress_false_is_silent(caplog) -> None:
    caplog.set_level(logging.INFO, logger="ato.hyperopt")
    hb = HyperBand(ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2, progress=False)
    hb.main(lambda config: config.x)()
    assert not [r for r in caplog.records if r.levelno == logging.INFO]


def test_no_bar_when_stderr_is_not_a_terminal(capsys) -> None:
    hb = HyperBand(ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2)
    hb.main(lambda config: config.x)()
    assert capsys.readouterr().err == ""
