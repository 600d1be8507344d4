"""Sharing work and results between processes with ``torch.distributed`` (imported lazily).

The process group is created and destroyed by the caller (``init_process_group`` /
``destroy_process_group``); nothing here ever tears it down. With ``world_size=1`` no torch
call is made, so a single process needs neither torch nor an initialized group.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from .checks import check_positive_int
from .errors import DistributedSetupError, SearchSettingError

BACKENDS = ("pytorch",)


class DistributedMixIn:
    """Rank bookkeeping and object collectives for a search spread over processes.

    Args:
        rank: this process's rank, ``0 <= rank < world_size``.
        world_size: number of processes taking part (each runs the same search code).
        backend: ``'pytorch'`` (``torch.distributed``, any of its backends, e.g. gloo or nccl).

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
        check_positive_int("world_size", world_size)
        if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank < world_size:
            raise SearchSettingError(f"rank must be an int in [0, {world_size}), got {rank!r}")
        if backend not in BACKENDS:
            raise SearchSettingError(
                f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}"
            )
        self.rank = rank
        self.world_size = world_size
        self.backend = backend
        super().__init__(*args, **kwargs)

    @property
    def is_root(self) -> bool:
        """True on rank 0."""
        return self.rank == 0

    def shard(self, num_items: int) -> range:
        """Positions ``0..num_items-1`` this rank handles: every ``world_size``-th one,
        starting at ``rank`` (sizes differ by at most one between ranks)."""
        return range(self.rank, num_items, self.world_size)

    def all_gather_object(self, obj: Any) -> list[Any]:
        """Every rank's ``obj``, indexed by rank (picklable objects; a collective call).

        Raises:
            DistributedSetupError: torch is missing, or the process group is not
                initialized or disagrees with ``rank``/``world_size``.
        """
        if self.world_size == 1:
            return [obj]
        dist = self._process_group()
        gathered: list[Any] = [None] * self.world_size
        dist.all_gather_object(gathered, obj)
        return gathered

    def broadcast_object_from_root(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every rank (a collective call)."""
        if self.world_size == 1:
            return obj
        dist = self._process_group()
        box = [obj if self.is_root else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def _process_group(self) -> Any:
        try:
            import torch.distributed as dist
        except ImportError as exc:
            raise DistributedSetupError(
                f"world_size={self.world_size} needs torch.distributed; install it with "
                f"`pip install ato-hyperopt[distributed]`"
            ) from exc
        if importlib.util.find_spec("numpy") is None:
            raise DistributedSetupError(
                "torch.distributed's object collectives need numpy; install it with "
                "`pip install ato-hyperopt[distributed]`"
            )
        if not dist.is_available() or not dist.is_initialized():
            raise DistributedSetupError(
                "torch.distributed is not initialized; call torch.distributed.init_process_group"
                "(...) in every process before the search starts"
            )
        if (dist.get_rank(), dist.get_world_size()) != (self.rank, self.world_size):
            raise DistributedSetupError(
                f"the search was given rank={self.rank}, world_size={self.world_size} but the "
                f"process group has rank={dist.get_rank()}, world_size={dist.get_world_size()}"
            )
        return dist
