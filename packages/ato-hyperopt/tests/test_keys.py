"""The trial keys a search writes (``ato.hyperopt.keys``) are read as attributes: importing
ato-hyperopt registers them with ato-adict, which otherwise treats ``__x__`` names as Python
protocol names (moved here from ato-adict's tests with the keys themselves)."""

from __future__ import annotations

import pickle

from ato.adict import ADict
from ato.adict.core import attribute_keys
from ato.hyperopt.keys import RUN_KEYS


def test_run_keys_are_readable_as_attributes() -> None:
    cfg = ADict({key: i for i, key in enumerate(sorted(RUN_KEYS))})
    assert [getattr(cfg, key) for key in sorted(RUN_KEYS)] == list(range(len(RUN_KEYS)))
    cfg.__num_halved__ = 7
    assert cfg.__num_halved__ == 7 and pickle.loads(pickle.dumps(cfg)).__num_halved__ == 7


def test_plain_configs_stay_on_the_fast_class() -> None:
    cfg = ADict(lr=0.1, model={"depth": 50}, __num_halved__=2)
    assert type(cfg) is ADict and type(cfg.model) is ADict


def test_importing_ato_hyperopt_registers_the_run_keys() -> None:
    assert attribute_keys() >= RUN_KEYS
    assert {
        "__num_halved__",
        "__budget__",
        "__trial_id__",
        "__metric__",
        "__error__",
        "__run_id__",
    } == RUN_KEYS
