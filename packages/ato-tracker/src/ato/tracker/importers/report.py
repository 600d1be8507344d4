"""What an import did: counts of runs, metric values and artifacts; runs skipped, with why."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ImportReport:
    """Counts of one ``from_optuna``/``from_mlflow``/``from_tensorboard`` call.

    Attributes:
        source: ``'optuna'``, ``'mlflow'`` or ``'tensorboard'``.
        runs: runs written.
        metrics: metric values written (every step of every series).
        artifacts: artifact references written.
        run_ids: the ids of the runs written, in writing order.
        skipped: ``(source id, reason)`` of each source run not written, e.g. one imported
            before (``'already imported as run 12'``) or one still running.
    """

    source: str
    runs: int = 0
    metrics: int = 0
    artifacts: int = 0
    run_ids: list[int] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One line for people, e.g. ``'mlflow: 3 runs, 1,500 metric values, 2 artifacts
        imported; 1 skipped'``."""
        return (
            f"{self.source}: {self.runs:,} runs, {self.metrics:,} metric values, "
            f"{self.artifacts:,} artifacts imported; {len(self.skipped):,} skipped"
        )
