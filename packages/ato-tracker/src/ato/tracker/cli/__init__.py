"""The ``ato`` command line: inspect runs recorded by [`ato.tracker`][ato.tracker].

::

    ato runs list [--status S] [--tag T] [--metric KEY] [--limit N]
    ato runs show ID
    ato runs best --metric KEY [--mode max|min]
    ato runs compare ID ID [ID ...] [--mode max|min]
    ato sync [--spool-dir DIR]      # write metrics saved while the database was unreachable

Global options: ``--db URL`` (default ``$ATO_DB``, else ``sqlite:///experiments.db``),
``--project NAME`` and ``--json``. Also runnable as ``python -m ato.tracker.cli``.
`render_runs_table` builds the same table ``ato runs list`` prints, for use in scripts.
"""

from .app import build_parser, main
from .tables import render_comparison, render_run, render_runs_table

__all__ = ["build_parser", "main", "render_comparison", "render_run", "render_runs_table"]
