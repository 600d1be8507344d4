"""ato.hyperopt: successive-halving (Hyperband-style) hyperparameter search over a grid.

Works on an ato-scope ``Scope`` or on a config object (ADict, dict, OmegaConf ``DictConfig``,
dataclass instance), in one process or spread over ``torch.distributed`` ranks, optionally
recording every trial as a tracker run. See [`HyperBand`][ato.hyperopt.HyperBand] and the module
`ato.hyperopt.hyperband` for the algorithm and its sources.
"""

from __future__ import annotations

from .base import DistributedMixIn, GridSpaceMixIn, HyperOpt
from .errors import (
    ConfigPathError,
    ConfigTypeError,
    DistributedSetupError,
    NewKeyWarning,
    OverriddenBySearchWarning,
    SearchSettingError,
    SearchSpaceError,
    TrialFailedError,
    TrialResultError,
)
from .hyperband import DistributedHyperBand, HyperBand
from .tracking import current_logger

__all__ = [
    "ConfigPathError",
    "ConfigTypeError",
    "DistributedHyperBand",
    "DistributedMixIn",
    "DistributedSetupError",
    "GridSpaceMixIn",
    "HyperBand",
    "HyperOpt",
    "NewKeyWarning",
    "OverriddenBySearchWarning",
    "SearchSettingError",
    "SearchSpaceError",
    "TrialFailedError",
    "TrialResultError",
    "current_logger",
]

__version__ = "3.0.0"
