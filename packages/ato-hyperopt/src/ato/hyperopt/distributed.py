"""The seed's ``DistributedMixIn``: a search strategy spread over ``torch.distributed`` ranks.

The mix-in only turns ``rank``/``world_size``/``backend`` into a
[`TorchDistributedExecutor`][ato.hyperopt.TorchDistributedExecutor] that it hands to
[`HyperOpt`][ato.hyperopt.HyperOpt] as its ``executor``; the collectives themselves are the
executor's (``ato.hyperopt.executors``). The process group is created and destroyed by the
caller (``init_process_group`` / ``destroy_process_group``); nothing here ever tears it down.
With ``world_size=1`` no torch call is made, so a single process needs neither torch nor an
initialized group.
"""

from __future__ import annotations

from typing import Any

from .executors import BACKENDS, TorchDistributedExecutor

__all__ = ["BACKENDS", "DistributedMixIn"]


class DistributedMixIn:
    """Makes a [`HyperOpt`][ato.hyperopt.HyperOpt] strategy run on every rank of a
    ``torch.distributed`` process group (put it first among the bases).

    Args:
        *args: passed on to the strategy.
        rank: this process's rank, ``0 <= rank < world_size``.
        world_size: number of processes taking part (each runs the same search code).
        backend: ``'pytorch'`` (``torch.distributed``, any of its backends, e.g. gloo or nccl).
        **kwargs: passed on to the strategy.

    Raises:
        SearchSettingError: for a bad rank, world size or backend.
    """

    def __init__(
        self,
        *args: Any,
        rank: int = 0,
        world_size: int = 1,
        backend: str = "pytorch",
        **kwargs: Any,
    ) -> None:
        executor = TorchDistributedExecutor(rank, world_size, backend=backend)
        self.backend = backend
        kwargs["executor"] = executor
        super().__init__(*args, **kwargs)
