"""ato.hyperopt: multi-fidelity hyperparameter search.

[`Search`][ato.hyperopt.Search] composes a sampler (grid, random, BOHB, any Optuna sampler, or
your own), a schedule (one successive-halving bracket, Hyperband, ASHA) and an executor
(in-process, ``torch.distributed``, the shared database, or Ray tasks; ``ato.hyperopt.slurm``
submits workers to SLURM). [`HyperBand`][ato.hyperopt.HyperBand] and
[`DistributedHyperBand`][ato.hyperopt.DistributedHyperBand] are presets with the seed's
behaviour. Works on an ato-scope ``Scope`` or on a config object (ADict, dict, OmegaConf
``DictConfig``, dataclass instance), optionally recording every trial as a tracker run.
"""

from __future__ import annotations

from .base import DistributedMixIn, GridSpaceMixIn, HyperOpt
from .bohb import BOHBSampler
from .checkpoints import remove_old_searches
from .context import TrialContext, trial_context
from .errors import (
    ConfigPathError,
    ConfigTypeError,
    DistributedSetupError,
    HyperoptError,
    NewKeyWarning,
    NoAnswerError,
    OutsideTrialError,
    OverriddenBySearchWarning,
    SearchInterrupted,
    SearchLockedError,
    SearchSettingError,
    SearchSpaceError,
    TrialFailedError,
    TrialResultError,
    TrialTimeout,
)
from .executors import DatabaseExecutor, Executor, InProcessExecutor, TorchDistributedExecutor
from .facts import SearchRunFacts
from .hyperband import DistributedHyperBand, HyperBand
from .objectives import Objectives, Score
from .protocols import JobPlan, JobQueue, ScopeLike, SearchRunLogger, TrialLogger
from .ray_executor import RayExecutor
from .recording import Records
from .result import SearchResult
from .samplers import (
    AdoptingSampler,
    GridSampler,
    ObjectivesSampler,
    OptunaSampler,
    RandomSampler,
    Sampler,
    optuna_constraints,
)
from .schedules import (
    ASHASchedule,
    AsyncSchedule,
    HyperbandSchedule,
    Schedule,
    SuccessiveHalvingSchedule,
    SyncSchedule,
)
from .search import ANSWER_TAG, Search
from .searchspace import MAX_GRID_SIZE, SearchSpace
from .timeouts import check_trial_time
from .tracking import current_logger

__all__ = [
    "AdoptingSampler",
    "ANSWER_TAG",
    "ASHASchedule",
    "AsyncSchedule",
    "BOHBSampler",
    "ConfigPathError",
    "ConfigTypeError",
    "DatabaseExecutor",
    "DistributedHyperBand",
    "DistributedMixIn",
    "DistributedSetupError",
    "Executor",
    "GridSampler",
    "GridSpaceMixIn",
    "HyperBand",
    "HyperOpt",
    "HyperoptError",
    "HyperbandSchedule",
    "InProcessExecutor",
    "JobPlan",
    "JobQueue",
    "MAX_GRID_SIZE",
    "NewKeyWarning",
    "NoAnswerError",
    "Objectives",
    "ObjectivesSampler",
    "OptunaSampler",
    "OutsideTrialError",
    "OverriddenBySearchWarning",
    "RandomSampler",
    "RayExecutor",
    "Records",
    "Sampler",
    "Schedule",
    "ScopeLike",
    "Score",
    "Search",
    "SearchRunFacts",
    "SearchRunLogger",
    "SearchInterrupted",
    "SearchLockedError",
    "SearchResult",
    "SearchSettingError",
    "SearchSpace",
    "SearchSpaceError",
    "SuccessiveHalvingSchedule",
    "SyncSchedule",
    "TorchDistributedExecutor",
    "TrialContext",
    "TrialFailedError",
    "TrialLogger",
    "TrialResultError",
    "TrialTimeout",
    "check_trial_time",
    "current_logger",
    "optuna_constraints",
    "remove_old_searches",
    "trial_context",
]

__version__ = "3.0.0"
