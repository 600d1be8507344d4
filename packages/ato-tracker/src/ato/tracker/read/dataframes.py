"""pandas, imported only when a DataFrame is asked for (it is an optional dependency)."""

from __future__ import annotations

from typing import Any

from ..errors import MissingDependencyError


def import_pandas(feature: str) -> Any:
    """The ``pandas`` module.

    Raises:
        MissingDependencyError: pandas is not installed (an ``ImportError``).
    """
    try:
        import pandas
    except ImportError:
        raise MissingDependencyError("pandas", "pandas", feature) from None
    return pandas
