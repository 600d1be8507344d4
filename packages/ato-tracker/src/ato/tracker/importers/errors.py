"""The error every importer raises for a source it cannot read."""

from __future__ import annotations

from ..errors import TrackerError


class ImportSourceError(TrackerError, ValueError):
    """The source of an import (an Optuna storage or study, an MLflow store or experiment, a
    TensorBoard log directory or event file) is missing, is not of that kind, or is corrupt.

    Raised before anything is written, or after the runs this import wrote were removed
    again: the target database is left as it was.
    """
